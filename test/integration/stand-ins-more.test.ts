/**
 * The stand-ins for http, plv8, pg_jsonschema, pg_hashids, index_advisor, pg_stat_monitor, pgmq,
 * wrappers, pgroonga, timescaledb and pg_tle on real PostgreSQL (each major of TEST_MAJORS, one
 * cluster per major). Each install script runs as the superuser in a fresh database, with
 * @extschema@ replaced by `extensions` and that schema first on the search path: what CREATE
 * EXTENSION does, until postgate's private installation serves these scripts as extensions.
 * Every test does what a migration typically does with the extension.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { HTTP } from '../../src/postgres/extensions/stand-ins/http.ts';
import { INDEX_ADVISOR } from '../../src/postgres/extensions/stand-ins/index-advisor.ts';
import { PG_HASHIDS } from '../../src/postgres/extensions/stand-ins/pg-hashids.ts';
import { PG_JSONSCHEMA } from '../../src/postgres/extensions/stand-ins/pg-jsonschema.ts';
import { PG_STAT_MONITOR } from '../../src/postgres/extensions/stand-ins/pg-stat-monitor.ts';
import { PG_TLE } from '../../src/postgres/extensions/stand-ins/pg-tle.ts';
import { PGMQ } from '../../src/postgres/extensions/stand-ins/pgmq.ts';
import { PGROONGA } from '../../src/postgres/extensions/stand-ins/pgroonga.ts';
import { PLV8 } from '../../src/postgres/extensions/stand-ins/plv8.ts';
import { TIMESCALEDB } from '../../src/postgres/extensions/stand-ins/timescaledb.ts';
import { WRAPPERS } from '../../src/postgres/extensions/stand-ins/wrappers.ts';
import type { StandIn } from '../../src/postgres/extensions/types.ts';
import { startTestCluster, TEST_MAJORS, withClient } from '../support/pg.ts';

const ALL: StandIn[] = [HTTP, PLV8, PG_JSONSCHEMA, PG_HASHIDS, INDEX_ADVISOR, PG_STAT_MONITOR, PGMQ, WRAPPERS, PGROONGA, TIMESCALEDB, PG_TLE];

/** Runs a stand-in's install script as CREATE EXTENSION would, into schema `extensions`. */
async function install(client: pg.Client, standIn: StandIn): Promise<void> {
  await client.query('create schema if not exists extensions');
  await client.query('set search_path = extensions');
  await client.query(standIn.sql.replaceAll('@extschema@', 'extensions'));
  await client.query('set search_path = public, extensions');
}

async function scalar<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const result = await client.query(sql, params);
  return Object.values(result.rows[0] ?? {})[0] as T;
}

async function failure(client: pg.Client, sql: string, params: unknown[] = []): Promise<{ code?: string; message: string }> {
  try {
    await client.query(sql, params);
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error(`expected an error from: ${sql}`);
}

describe('stand-in definitions', () => {
  it.each(ALL.map((s) => [s.name, s] as const))('%s: control-file fields are well formed', (_name, standIn) => {
    expect(standIn.limits).not.toMatch(/\n/);
    expect(standIn.limits.trim().endsWith('.')).toBe(true);
    expect(standIn.comment).not.toContain('\n');
    expect(standIn.defaultVersion).not.toContain('--');
    // @extschema@ is not substituted in relocatable extensions: they must not use it
    if (standIn.relocatable) expect(standIn.sql).not.toContain('@extschema@');
    expect(standIn.sql).not.toMatch(/^\s*\\/m); // no psql meta-commands
  });
});

describe.each(TEST_MAJORS)('more stand-ins, PostgreSQL %i', (major) => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startTestCluster(major);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  async function withStandIns<T>(standIns: StandIn[], fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const url = await cluster.createDatabase();
    return withClient(url, async (client) => {
      for (const standIn of standIns) await install(client, standIn);
      return fn(client);
    });
  }

  it('installs every one of them side by side in one database', async () => {
    await withStandIns(ALL, async (client) => {
      const schemas = await client.query<{ nspname: string }>(
        "select nspname from pg_namespace where nspname in ('pgmq', 'pgtle', '_timescaledb_catalog', 'timescaledb_information') order by 1",
      );
      expect(schemas.rows.map((r) => r.nspname)).toEqual(['_timescaledb_catalog', 'pgmq', 'pgtle', 'timescaledb_information']);
      expect(await scalar(client, "select count(*)::int from pg_language where lanname = 'plv8'")).toBe(1);
      expect(await scalar(client, "select count(*)::int from pg_am where amname = 'pgroonga' and amtype = 'i'")).toBe(1);
    });
  });

  it('http: urlencode and http_header work, every request raises that the shadow never sends HTTP', async () => {
    await withStandIns([HTTP], async (client) => {
      // the README's examples
      expect(await scalar(client, "select urlencode('my special string''s & things?')")).toBe('my+special+string%27s+%26+things%3F');
      expect(await scalar(client, "select urlencode(jsonb_build_object('name','Colin & James','rate','50%'))")).toBe('name=Colin+%26+James&rate=50%25');
      expect(await scalar(client, "select urlencode('é~'::varchar)")).toBe('%C3%A9~');
      expect(await scalar(client, "select (http_header('Authorization', 'Bearer x')).value")).toBe('Bearer x');
      expect(await scalar(client, "select http_set_curlopt('CURLOPT_TIMEOUT', '10')")).toBe(true);
      expect((await client.query('select * from http_list_curlopt()')).rows).toEqual([{ curlopt: 'CURLOPT_TIMEOUT', value: '10' }]);

      // a migration that defines a webhook function applies: only calling it fails
      await client.query(`
        create function public.notify_slack(body text) returns integer language sql
        as $$ select status from extensions.http_post('https://hooks.example.com/x', body, 'application/json') $$`);
      for (const sql of [
        "select http_get('https://api.example.com/?token=secret')",
        "select notify_slack('{}')",
        "select http(('PATCH', 'https://example.com', null, null, null)::http_request)",
        "select http_get('https://example.com', '{\"a\": 1}'::jsonb)",
        "select http_delete('https://example.com')",
        "select http_head('https://example.com')",
      ]) {
        const error = await failure(client, sql);
        expect(error.code).toBe('0A000');
        expect(error.message).toMatch(/^http: the postgate shadow database never sends HTTP requests/);
        expect(error.message).not.toContain('secret');
      }
      expect(await scalar(client, 'select 1')).toBe(1);
    });
  });

  it('plv8: a function is created with its JavaScript body stored, and calling it fails without harming the server', async () => {
    await withStandIns([PLV8], async (client) => {
      await client.query('create function public.f(x int) returns int language plv8 as $$ return x * 2 $$');
      await client.query('create function public.g() returns trigger language plv8 as $$ NEW.updated = new Date(); return NEW; $$');
      const definition = await scalar<string>(client, "select pg_get_functiondef('public.f'::regproc)");
      expect(definition).toContain('LANGUAGE plv8');
      expect(definition).toContain('return x * 2');
      expect(await scalar(client, "select prosrc from pg_proc where oid = 'public.g'::regproc")).toContain('new Date()');

      const call = await failure(client, 'select public.f(21)');
      expect(call.message).toMatch(/syntax error/);
      const inline = await failure(client, 'do language plv8 $$ plv8.elog(NOTICE, 1) $$');
      expect(inline.message).toMatch(/does not support inline code execution/);
      // same session and a new one both still work: nothing crashed
      expect(await scalar(client, 'select 1')).toBe(1);
      expect(await withClient(await cluster.createDatabase(), (other) => scalar(other, 'select 2'))).toBe(2);
      expect(await scalar(client, 'select plv8_version()')).toBe('3.1.10');
    });
  });

  it('pg_jsonschema: a check constraint accepts a valid row and rejects an invalid one', async () => {
    await withStandIns([PG_JSONSCHEMA], async (client) => {
      const schema = JSON.stringify({
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 20 },
          age: { type: 'integer', minimum: 0, maximum: 150 },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          kind: { enum: ['a', 'b'] },
        },
        required: ['name'],
        additionalProperties: false,
      });
      await client.query(`create table public.profiles (id serial, data jsonb not null check (jsonb_matches_schema('${schema}', data)))`);
      await client.query(`insert into public.profiles (data) values ('{"name": "Ada", "age": 36, "tags": ["x", "y"], "kind": "a"}')`);
      for (const bad of [
        '{"age": 3}',
        '{"name": ""}',
        '{"name": "Ada", "age": 3.5}',
        '{"name": "Ada", "extra": 1}',
        '{"name": "Ada", "tags": ["x", "x"]}',
        '{"name": "Ada", "kind": "c"}',
      ]) {
        const error = await failure(client, 'insert into public.profiles (data) values ($1)', [bad]);
        expect(error.code).toBe('23514');
      }
      expect(await scalar(client, 'select count(*)::int from public.profiles')).toBe(1);

      expect(await scalar(client, `select jsonschema_validation_errors('${schema}', '{"age": -1, "extra": true}')`)).toEqual([
        '"name" is a required property',
        '-1 is less than the minimum of 0',
        "Additional properties are not allowed ('extra' was unexpected)",
      ]);
      expect(await scalar(client, `select json_matches_schema('{"type": "string", "pattern": "^[a-z]+$"}', '"abc"')`)).toBe(true);
      expect(await scalar(client, `select json_matches_schema('{"anyOf": [{"type": "string"}, {"type": "null"}]}', '5')`)).toBe(false);
      expect(
        await scalar(
          client,
          `select jsonb_matches_schema('{"$defs": {"p": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/$defs/p"}}', '[1, 2, 3]')`,
        ),
      ).toBe(true);
      expect(await scalar(client, `select jsonschema_is_valid('{"type": "object"}')`)).toBe(true);
      expect(await scalar(client, `select jsonschema_is_valid('{"type": 5}')`)).toBe(false);
      // check constraints are evaluated with any search_path (pg_restore uses an empty one)
      await client.query("set search_path = ''");
      await client.query(`insert into public.profiles (data) values ('{"name": "Grace"}')`);
      expect((await failure(client, `insert into public.profiles (data) values ('{}')`)).code).toBe('23514');
    });
  });

  it('pg_hashids: the README examples, the Hashids reference vector and round trips', async () => {
    await withStandIns([PG_HASHIDS], async (client) => {
      const row = (
        await client.query(`select
          id_encode(1001) as a,
          id_encode(1234567, 'This is my salt') as b,
          id_encode(1234567, 'This is my salt', 10) as c,
          id_encode(1234567, 'This is my salt', 10, 'abcdefghijABCDxFGHIJ1234567890') as d,
          id_decode('PlRPdzxpR7', 'This is my salt', 10) as e,
          id_decode('3GJ956J9B9', 'This is my salt', 10, 'abcdefghijABCDxFGHIJ1234567890') as f,
          id_encode(array[1, 2, 3]::bigint[]) as g,
          id_decode_once('jNl') as h,
          id_decode('jNl', 'another salt') as i`)
      ).rows[0];
      expect(row).toEqual({ a: 'jNl', b: 'Pdzxp', c: 'PlRPdzxpR7', d: '3GJ956J9B9', e: ['1234567'], f: ['1234567'], g: 'o2fXhV', h: '1001', i: [] });

      const mismatches = await scalar<number>(
        client,
        `select count(*)::int from generate_series(0, 300) as n
         where id_decode_once(id_encode(n * 7919, 'salt', 8), 'salt', 8) is distinct from n * 7919
            or length(id_encode(n * 7919, 'salt', 8)) < 8`,
      );
      expect(mismatches).toBe(0);
      expect(await scalar(client, "select id_decode(id_encode(array[9223372036854775807, 0, 42]::bigint[], 's'), 's')")).toEqual([
        '9223372036854775807',
        '0',
        '42',
      ]);
      // a generated column keeps working whatever the search_path
      await client.query("create table public.links (id bigint primary key, slug text generated always as (extensions.id_encode(id, 'links', 6)) stored)");
      await client.query("set search_path = ''");
      await client.query('insert into public.links (id) values (1), (2)');
      expect(await scalar(client, "select string_agg(slug, ',' order by id) from public.links")).toMatch(/^\w{6,},\w{6,}$/);
      expect((await failure(client, "select extensions.id_encode(1, 'x', 0, 'abc')")).message).toMatch(/at least 16 unique characters/);
    });
  });

  it('index_advisor: no suggestion, the costs of the plan, and an error entry saying it is a stand-in', async () => {
    await withStandIns([INDEX_ADVISOR], async (client) => {
      await client.query('create table public.book (id int primary key, title text not null)');
      const advice = (await client.query("select * from index_advisor('select id from public.book where title = $1')")).rows;
      expect(advice).toHaveLength(1);
      expect(advice[0].index_statements).toEqual([]);
      expect(advice[0].errors[0]).toMatch(/index_advisor stand-in/);
      expect(advice[0].total_cost_before).toEqual(advice[0].total_cost_after);
      const broken = (await client.query("select * from index_advisor('select nope from public.book')")).rows[0];
      expect(broken.errors[1]).toMatch(/column "nope" does not exist/);
      expect(await scalar(client, 'select count(*)::int from pg_prepared_statements')).toBe(0);
    });
  });

  it('pg_stat_monitor: the view has the 2.1 columns and no rows', async () => {
    await withStandIns([PG_STAT_MONITOR], async (client) => {
      const columns = (
        await client.query("select attname from pg_attribute where attrelid = 'extensions.pg_stat_monitor'::regclass and attnum > 0 order by attnum")
      ).rows.map((r) => r.attname as string);
      expect(columns.slice(0, 4)).toEqual(['bucket', 'bucket_start_time', 'userid', 'username']);
      expect(columns).toEqual(expect.arrayContaining(['pgsm_query_id', 'cmd_type_text', 'resp_calls', 'jit_emission_time', 'total_exec_time']));
      expect(columns).toContain(major >= 17 ? 'shared_blk_read_time' : 'blk_read_time');
      expect(await scalar(client, 'select count(*)::int from pg_stat_monitor')).toBe(0);
      expect(await scalar(client, 'select pg_stat_monitor_version()')).toBe('2.1.0');
      await client.query('select pg_stat_monitor_reset()');
      await client.query('create view public.slow_queries as select query, mean_exec_time from extensions.pg_stat_monitor where mean_exec_time > 100');
    });
  });

  it('pgmq: create, send, read, archive, pop, metrics and drop a queue', async () => {
    await withStandIns([PGMQ], async (client) => {
      await client.query("select pgmq.create('Jobs')");
      expect(await scalar(client, "select to_regclass('pgmq.q_jobs') is not null and to_regclass('pgmq.a_jobs') is not null")).toBe(true);
      const ids = (await client.query("select * from pgmq.send_batch('jobs', array['{\"n\": 1}', '{\"n\": 2}', '{\"n\": 3}']::jsonb[])")).rows.map(
        (r) => r.send_batch,
      );
      expect(ids).toEqual(['1', '2', '3']);
      expect(await scalar(client, "select * from pgmq.send('jobs', '{\"n\": 4}', 3600)")).toBe('4');

      const read = (await client.query("select msg_id, read_ct, message from pgmq.read('jobs', 30, 2)")).rows;
      expect(read).toEqual([
        { msg_id: '1', read_ct: 1, message: { n: 1 } },
        { msg_id: '2', read_ct: 1, message: { n: 2 } },
      ]);
      // invisible for 30 s, and message 4 is delayed an hour: only 3 is left to read
      expect((await client.query("select msg_id from pgmq.read('jobs', 30, 10)")).rows).toEqual([{ msg_id: '3' }]);
      expect(await scalar(client, "select pgmq.archive('jobs', 1::bigint)")).toBe(true);
      expect(await scalar(client, "select pgmq.archive('jobs', 99::bigint)")).toBe(false);
      expect(await scalar(client, "select pgmq.delete('jobs', 2::bigint)")).toBe(true);
      expect((await client.query('select msg_id, read_ct, message from pgmq.a_jobs')).rows).toEqual([{ msg_id: '1', read_ct: 1, message: { n: 1 } }]);
      await client.query("select * from pgmq.set_vt('jobs', 4, 0)");
      expect((await client.query("select msg_id, message from pgmq.pop('jobs')")).rows).toEqual([{ msg_id: '4', message: { n: 4 } }]);

      const metrics = (await client.query("select queue_length, total_messages from pgmq.metrics('jobs')")).rows[0];
      expect(metrics).toEqual({ queue_length: '1', total_messages: '4' });
      expect((await client.query('select queue_name, is_unlogged from pgmq.list_queues()')).rows).toEqual([{ queue_name: 'Jobs', is_unlogged: false }]);
      expect((await failure(client, "select pgmq.create('bad;name')")).message).toMatch(/invalid characters/);
      expect(await scalar(client, "select pgmq.purge_queue('jobs')")).toBe('1');
      // meta keeps the name as given (pgmq's own behaviour), so dropping by that name removes the row too
      expect(await scalar(client, "select pgmq.drop_queue('Jobs')")).toBe(true);
      expect(await scalar(client, "select to_regclass('pgmq.q_jobs')")).toBeNull();
      expect(await scalar(client, 'select count(*)::int from pgmq.meta')).toBe(0);
    });
  });

  it('wrappers: a Stripe wrapper, server and foreign table are created; querying it fails without any network access', async () => {
    await withStandIns([WRAPPERS], async (client) => {
      await client.query('create foreign data wrapper stripe_wrapper handler stripe_fdw_handler validator stripe_fdw_validator');
      await client.query(
        "create server stripe_server foreign data wrapper stripe_wrapper options (api_key_id 'd3b1c1c4-0000-0000-0000-000000000000', api_url 'https://api.stripe.com/v1')",
      );
      await client.query('create schema stripe');
      await client.query(
        "create foreign table stripe.customers (id text, email text, name text, created timestamp, attrs jsonb) server stripe_server options (object 'customers', rowid_column 'id')",
      );
      await client.query('create foreign data wrapper bigquery_wrapper handler big_query_fdw_handler validator big_query_fdw_validator');
      expect(await scalar(client, "select count(*)::int from pg_foreign_table where ftrelid = 'stripe.customers'::regclass")).toBe(1);
      expect((await client.query('select name from stripe_fdw_meta()')).rows).toEqual([{ name: 'Stripe' }]);

      const error = await failure(client, 'select * from stripe.customers');
      expect(error.message).toMatch(/did not return an FdwRoutine struct/);
      expect((await failure(client, 'import foreign schema stripe from server stripe_server into public')).message).toMatch(/FdwRoutine/);
      expect(await scalar(client, 'select count(*)::int from wrappers_fdw_stats')).toBe(0);
      expect(await scalar(client, 'select 1')).toBe(1);
    });
  });

  it('pgroonga: an index on a non-empty text table, and &@ / &@~ searches', async () => {
    await withStandIns([PGROONGA], async (client) => {
      await client.query('create table public.memos (id int primary key, content text, title varchar(80), tags text[], doc jsonb)');
      await client.query(`insert into public.memos values
        (1, 'PostgreSQL is a relational database management system.', 'Postgres', '{db,sql}', '{"body": "Relational"}'),
        (2, 'Groonga is a fast full text search engine that supports all languages.', 'Groonga', '{search}', '{"body": "fast"}'),
        (3, 'PGroonga is a PostgreSQL extension that uses Groonga as index.', 'PGroonga', '{db,search}', '{"body": "index"}'),
        (4, 'There is groonga command.', 'command', '{}', '{}')`);
      await client.query('create index memos_content on public.memos using pgroonga (content)');
      await client.query('create index memos_all on public.memos using pgroonga (title, tags, doc)');
      await client.query('create index memos_term on public.memos using pgroonga (content pgroonga_text_term_search_ops_v2)');
      const ids = async (where: string) => (await client.query(`select id from public.memos where ${where} order by id`)).rows.map((r) => r.id as number);
      expect(await ids("content &@ 'engine'")).toEqual([2]);
      expect(await ids("content &@ 'POSTGRESQL'")).toEqual([1, 3]);
      expect(await ids("content &@~ 'groonga -command'")).toEqual([2, 3]);
      expect(await ids("content &@~ 'relational OR command'")).toEqual([1, 4]);
      expect(await ids("content &@| array['engine', 'command']")).toEqual([2, 4]);
      expect(await ids("content &^ 'there'")).toEqual([4]);
      expect(await ids("tags &@ 'search'")).toEqual([2, 3]);
      expect(await ids("doc &@ 'RELATIONAL'")).toEqual([1]);
      expect(await ids("title &@ 'groonga'")).toEqual([2, 3]);
      // the index is used (and correct) for ordinary comparisons
      await client.query('set enable_seqscan = off');
      expect(await ids("content = 'There is groonga command.'")).toEqual([4]);
      await client.query('insert into public.memos values (5, $1, null, null, null)', ['Another engine.']);
      expect(await ids("content &@ 'engine'")).toEqual([2, 5]);
      expect(await scalar(client, "select pgroonga_highlight_html('<b>Groonga</b> & PGroonga', array['groonga'])")).toBe(
        '&lt;b&gt;<span class="keyword">Groonga</span>&lt;/b&gt; &amp; P<span class="keyword">Groonga</span>',
      );
      expect(await scalar(client, 'select pgroonga_score(tableoid, ctid) from public.memos limit 1')).toBe(0);
      expect((await failure(client, "select pgroonga_command('status')")).code).toBe('0A000');
    });
  });

  it('timescaledb: create_hypertable (old and new signatures), policies recorded, time_bucket works', async () => {
    await withStandIns([TIMESCALEDB], async (client) => {
      await client.query("set timezone = 'UTC'");
      await client.query('create table public.conditions (time timestamptz, location text, temperature double precision)');
      expect(await scalar(client, "select create_hypertable('conditions', 'time')")).toBe('(1,public,conditions,t)');
      expect(await scalar(client, "select attnotnull from pg_attribute where attrelid = 'conditions'::regclass and attname = 'time'")).toBe(true);
      expect(await scalar(client, "select pg_get_indexdef('public.conditions_time_idx'::regclass)")).toMatch(/\(\s*"?time"? DESC\)/);
      expect((await client.query("select * from create_hypertable('conditions', 'time', if_not_exists => true)")).rows).toEqual([
        { hypertable_id: 1, schema_name: 'public', table_name: 'conditions', created: false },
      ]);
      expect((await failure(client, "select create_hypertable('conditions', 'time')")).message).toBe('table "conditions" is already a hypertable');

      await client.query('create table public.metrics (ts timestamptz not null, device int not null, value float, primary key (device, ts))');
      expect((await client.query("select * from create_hypertable('metrics', by_range('ts', interval '1 day'))")).rows).toEqual([
        { hypertable_id: 2, created: true },
      ]);
      await client.query("select add_dimension('metrics', by_hash('device', 4))");
      await client.query('create table public.readings (id bigint primary key, at timestamptz not null)');
      expect((await failure(client, "select create_hypertable('readings', 'at')")).message).toMatch(/cannot create a unique index without the column "at"/);
      await client.query('create table public.full_table (at timestamptz not null)');
      await client.query('insert into public.full_table values (now())');
      expect((await failure(client, "select create_hypertable('full_table', 'at')")).message).toBe('table "full_table" is not empty');
      await client.query("select create_hypertable('full_table', 'at', migrate_data => true, chunk_time_interval => interval '1 hour')");

      const retention = await scalar<number>(client, "select add_retention_policy('conditions', interval '30 days')");
      expect(retention).toBe(1000);
      await client.query("select add_compression_policy('metrics', compress_after => interval '7 days')");
      await client.query("select set_chunk_time_interval('conditions', interval '12 hours')");
      expect((await client.query('select hypertable_name, num_dimensions from timescaledb_information.hypertables order by 1')).rows).toEqual([
        { hypertable_name: 'conditions', num_dimensions: 1 },
        { hypertable_name: 'full_table', num_dimensions: 1 },
        { hypertable_name: 'metrics', num_dimensions: 2 },
      ]);
      expect(await scalar(client, "select time_interval::text from timescaledb_information.dimensions where hypertable_name = 'conditions'")).toBe('12:00:00');
      expect((await client.query('select proc_name, hypertable_name, config from timescaledb_information.jobs order by job_id')).rows).toEqual([
        { proc_name: 'policy_retention', hypertable_name: 'conditions', config: { drop_after: '30 days', hypertable_id: 1 } },
        { proc_name: 'policy_compression', hypertable_name: 'metrics', config: { compress_after: '7 days', hypertable_id: 2 } },
      ]);

      const buckets = (
        await client.query(`select
          time_bucket('15 minutes', '2024-03-05 10:37:12+00'::timestamptz)::text as quarter,
          time_bucket('1 week', '2024-03-07'::date)::text as week,
          time_bucket('1 month', '2024-03-17 10:00'::timestamp)::text as month,
          time_bucket('1 day', '2024-03-05 01:00+00'::timestamptz, 'Europe/Berlin')::text as berlin_day,
          time_bucket('1 hour', '2024-03-05 10:37'::timestamp, '15 minutes'::interval)::text as offset_hour,
          time_bucket(10, 27) as ten, time_bucket(10, -3) as minus`)
      ).rows[0];
      expect(buckets).toEqual({
        quarter: '2024-03-05 10:30:00+00',
        week: '2024-03-04',
        month: '2024-03-01 00:00:00',
        berlin_day: '2024-03-04 23:00:00+00',
        offset_hour: '2024-03-05 10:15:00',
        ten: 20,
        minus: -10,
      });
    });
  });

  it('pg_tle: install_extension is recorded, pgtle_admin exists, CREATE EXTENSION of it is not supported', async () => {
    await withStandIns([PG_TLE], async (client) => {
      expect(await scalar(client, "select count(*)::int from pg_roles where rolname = 'pgtle_admin'")).toBe(1);
      expect(
        await scalar(
          client,
          `select pgtle.install_extension('pg_distance', '0.1', 'Distance functions for two points',
             $_pg_tle_$ create function dist(x1 float8, y1 float8, x2 float8, y2 float8) returns float8
                        as $$ select sqrt((x2 - x1) ^ 2 + (y2 - y1) ^ 2) $$ language sql; $_pg_tle_$)`,
        ),
      ).toBe(true);
      expect((await client.query('select * from pgtle.available_extensions()')).rows).toEqual([
        { name: 'pg_distance', default_version: '0.1', comment: 'Distance functions for two points' },
      ]);
      await client.query("select pgtle.install_update_path('pg_distance', '0.1', '0.2', 'select 1')");
      await client.query("select pgtle.set_default_version('pg_distance', '0.2')");
      expect(await scalar(client, "select default_version from pgtle.available_extensions() where name = 'pg_distance'")).toBe('0.2');
      expect((await failure(client, "select pgtle.install_extension('pg_distance', '0.1', 'again', 'select 1')")).message).toBe(
        'extension "pg_distance" already installed',
      );
      expect((await failure(client, 'create extension pg_distance')).message).toMatch(/is not available|could not open extension control file/);
      expect(await scalar(client, "select pgtle.uninstall_extension('pg_distance')")).toBe(true);
      expect(await scalar(client, "select pgtle.uninstall_extension_if_exists('pg_distance')")).toBe(false);
      expect(await scalar(client, "select has_function_privilege('public', 'pgtle.install_extension(text, text, text, text, text[])', 'execute')")).toBe(false);
    });
  });
});
