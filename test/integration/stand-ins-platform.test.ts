/**
 * The platform stand-ins (pg_net, supabase_vault, pgsodium, pgjwt, pg_graphql, pg_cron) on real
 * PostgreSQL, for every major in TEST_MAJORS. Until the private installation serves them as
 * real extensions, each install script runs directly as the superuser in its own fresh
 * database, the way CREATE EXTENSION would run it: search_path set to the extension's schema
 * (and the schema of the pgcrypto it requires), @extschema@ replaced, in one transaction. Once
 * they are wired into STAND_INS, the last test also creates them with CREATE EXTENSION.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_CRON } from '../../src/postgres/extensions/stand-ins/pg-cron.ts';
import { PG_GRAPHQL } from '../../src/postgres/extensions/stand-ins/pg-graphql.ts';
import { PG_NET } from '../../src/postgres/extensions/stand-ins/pg-net.ts';
import { PGJWT } from '../../src/postgres/extensions/stand-ins/pgjwt.ts';
import { PGSODIUM } from '../../src/postgres/extensions/stand-ins/pgsodium.ts';
import { SUPABASE_VAULT } from '../../src/postgres/extensions/stand-ins/supabase-vault.ts';
import { standInNamed } from '../../src/postgres/extensions/stand-ins/index.ts';
import type { StandIn } from '../../src/postgres/extensions/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, TEST_MAJORS, withClient } from '../support/pg.ts';

const PLATFORM_STAND_INS: readonly StandIn[] = [PG_NET, SUPABASE_VAULT, PGSODIUM, PGJWT, PG_GRAPHQL, PG_CRON];

/** The schema CREATE EXTENSION would put each in, as a Supabase migration asks. */
const TARGET_SCHEMA: Record<string, string> = {
  pg_net: 'extensions',
  supabase_vault: 'vault',
  pgsodium: 'pgsodium',
  pgjwt: 'extensions',
  pg_graphql: 'graphql',
  pg_cron: 'pg_catalog',
};

const PLATFORM_ROLES = ['anon', 'authenticated', 'service_role', 'supabase_functions_admin'];

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Runs a stand-in's script as CREATE EXTENSION would: in its schema (created first when the
 * control file fixes it, as PostgreSQL does), with the required extensions' schemas on the
 * path. pg_extension_config_dump only works inside CREATE EXTENSION, so those calls are left out.
 */
async function runScript(client: pg.Client, standIn: StandIn): Promise<void> {
  const schema = TARGET_SCHEMA[standIn.name]!;
  const sql = standIn.sql.replaceAll('@extschema@', quoteIdent(schema)).replace(/select pg_catalog\.pg_extension_config_dump\('[^']*', ''\);/g, '');
  if (standIn.schema) await client.query(`create schema if not exists ${quoteIdent(standIn.schema)}`);
  const path = [schema, ...(standIn.requires?.length ? ['extensions'] : [])].map(quoteIdent).join(', ');
  await client.query('begin');
  try {
    await client.query(`set local search_path = ${path}`);
    await client.query(sql);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    const { message, position } = error as { message: string; position?: string };
    const at = position ? Number(position) : undefined;
    const context = at === undefined ? '' : `, near: ${sql.slice(Math.max(0, at - 120), at + 40)}`;
    throw new Error(`the ${standIn.name} script failed: ${message}${context}`, { cause: error });
  }
}

async function scalar<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const result = await client.query(sql, params);
  return Object.values(result.rows[0] ?? {})[0] as T;
}

/** The error a statement raises (autocommit: the failed statement leaves the session usable). */
async function errorOf(client: pg.Client, sql: string, params: unknown[] = []): Promise<{ message: string; hint?: string; code?: string }> {
  try {
    await client.query(sql, params);
  } catch (error) {
    const e = error as { message: string; hint?: string; code?: string };
    return { message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.code ? { code: e.code } : {}) };
  }
  throw new Error(`expected an error from: ${sql}`);
}

describe('platform stand-ins as data', () => {
  it('describe themselves as StandIn requires', () => {
    for (const standIn of PLATFORM_STAND_INS) {
      expect(standIn.name).toMatch(/^[a-z_]+$/);
      expect(standIn.defaultVersion).toMatch(/^\d+\.\d+(\.\d+)?$/);
      expect(standIn.olderVersions ?? []).not.toContain(standIn.defaultVersion);
      expect(standIn.relocatable).toBe(false);
      // limits and replacesReal are one sentence each.
      expect(standIn.limits).toMatch(/^[A-Z][^\n]*\.$/);
      expect(standIn.limits.split(/\.\s/).length).toBe(1);
      expect(standIn.comment.length).toBeGreaterThan(0);
      // A fixed schema is made by CREATE EXTENSION, never by the script.
      if (standIn.schema) expect(standIn.sql).not.toMatch(new RegExp(`create schema[^;]*\\b${standIn.schema}\\b`, 'i'));
      // Scripts never reach the outside: no COPY ... PROGRAM, no dblink, no untrusted language.
      expect(standIn.sql).not.toMatch(/\bprogram\b|dblink|plpython|plperlu/i);
    }
    expect(PG_NET.replacesReal).toMatch(/shared_preload_libraries/);
    expect(PG_CRON.replacesReal).toMatch(/shared_preload_libraries/);
    expect(PG_NET.schema).toBeUndefined();
    expect(PG_CRON.schema).toBeUndefined();
    expect(PGJWT.schema).toBeUndefined();
    expect(PGJWT.requires).toEqual(['pgcrypto']);
    expect(SUPABASE_VAULT.schema).toBe('vault');
    expect(PGSODIUM.schema).toBe('pgsodium');
    expect(PG_GRAPHQL.schema).toBe('graphql');
    expect(PG_GRAPHQL.sql).not.toMatch(/graphql_public/);
    // The Vault stand-in says loudly that it does not encrypt.
    expect(SUPABASE_VAULT.sql).toMatch(/NOT ciphertext/);
  });
});

describe.each(TEST_MAJORS)('platform stand-ins on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  /** One fresh database per stand-in, with Supabase's pgcrypto in schema extensions. */
  const databases = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startTestCluster(major);
    await withClient(cluster.url, async (client) => {
      await client.query(`
        do $roles$
        declare
          role_name text;
        begin
          foreach role_name in array array[${PLATFORM_ROLES.map((r) => `'${r}'`).join(', ')}] loop
            if not exists (select 1 from pg_roles where rolname = role_name) then
              execute format('create role %I nologin', role_name);
            end if;
          end loop;
          if not exists (select 1 from pg_roles where rolname = 'postgres') then
            create role postgres login;
          end if;
        end
        $roles$`);
    });
    for (const standIn of PLATFORM_STAND_INS) {
      const url = await cluster.createDatabase(`standin_${standIn.name}`);
      await withClient(url, async (client) => {
        await client.query('create schema extensions; create extension pgcrypto with schema extensions;');
        await client.query(`grant usage on schema extensions to ${PLATFORM_ROLES.map(quoteIdent).join(', ')}`);
        await runScript(client, standIn);
      });
      databases.set(standIn.name, url);
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const inDatabase = <T>(name: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(databases.get(name)!, fn);

  it('pgjwt signs and verifies HS256/HS384/HS512 tokens byte-identical to a JWT made with node:crypto', async () => {
    await inDatabase('pgjwt', async (client) => {
      const payload = '{"sub":"7b1c5f3e-0000-4000-8000-000000000001","role":"authenticated","exp":4102444800}';
      const secret = 'super-secret-jwt-token-with-at-least-32-characters';

      const header = base64url('{"alg":"HS256","typ":"JWT"}');
      const body = base64url(payload);
      const expected = `${header}.${body}.${createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')}`;
      expect(await scalar(client, 'select extensions.sign($1::json, $2)', [payload, secret])).toBe(expected);

      for (const [algorithm, hash] of [
        ['HS384', 'sha384'],
        ['HS512', 'sha512'],
      ] as const) {
        const h = base64url(`{"alg":"${algorithm}","typ":"JWT"}`);
        const token = `${h}.${body}.${createHmac(hash, secret).update(`${h}.${body}`).digest('base64url')}`;
        expect(await scalar(client, 'select extensions.sign($1::json, $2, $3)', [payload, secret, algorithm])).toBe(token);
        const checked = await client.query('select valid from extensions.verify($1, $2, $3)', [token, secret, algorithm]);
        expect(checked.rows).toEqual([{ valid: true }]);
      }

      // Round trip, then the wrong secret.
      const roundTrip = await client.query(`select header, payload, valid from extensions.verify(extensions.sign($1::json, $2), $2)`, [payload, secret]);
      expect(roundTrip.rows).toEqual([{ header: { alg: 'HS256', typ: 'JWT' }, payload: JSON.parse(payload), valid: true }]);
      const wrong = await client.query('select valid from extensions.verify($1, $2)', [expected, 'not-the-secret']);
      expect(wrong.rows).toEqual([{ valid: false }]);
      // A token signed with another algorithm does not verify as HS256.
      const other = await scalar<string>(client, `select extensions.sign($1::json, $2, 'HS512')`, [payload, secret]);
      expect(await scalar(client, 'select valid from extensions.verify($1, $2)', [other, secret])).toBe(false);

      // exp in the past and nbf in the future make a correctly signed token invalid.
      const expired = await scalar<boolean>(
        client,
        `select valid from extensions.verify(extensions.sign(json_build_object('exp', extract(epoch from now()) - 60), 's'), 's')`,
      );
      expect(expired).toBe(false);
      const notYet = await scalar<boolean>(
        client,
        `select valid from extensions.verify(extensions.sign(json_build_object('nbf', extract(epoch from now()) + 60), 's'), 's')`,
      );
      expect(notYet).toBe(false);
      const open = await scalar<boolean>(
        client,
        `select valid from extensions.verify(extensions.sign(json_build_object('nbf', 'soon', 'exp', 'later'), 's'), 's')`,
      );
      expect(open).toBe(true);

      // url_encode is base64url without padding; url_decode inverts it at every length.
      for (let length = 0; length <= 6; length += 1) {
        const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 97 + 251) % 256));
        const encoded = await scalar<string>(client, 'select extensions.url_encode($1)', [bytes]);
        expect(encoded).toBe(bytes.toString('base64url'));
        expect(await scalar<Buffer>(client, 'select extensions.url_decode($1)', [encoded])).toEqual(bytes);
      }
      expect(await scalar(client, `select extensions.try_cast_double('1.5e3')`)).toBe(1500);
      expect(await scalar(client, `select extensions.try_cast_double('nope')`)).toBeNull();
      expect((await errorOf(client, `select extensions.sign('{}'::json, 's', 'RS256')`)).message).toMatch(/hash algorithm/i);
    });
  });

  it("pgjwt binds hmac to the schema pgcrypto is installed in, whatever the caller's search_path", async () => {
    await inDatabase('pgjwt', async (client) => {
      const definition = await scalar<string>(client, `select prosrc from pg_proc where proname = 'algorithm_sign'`);
      expect(definition).toMatch(/\bextensions\.hmac\(/);
      await client.query('set search_path = public');
      expect(await scalar<string>(client, `select extensions.sign('{"a":1}'::json, 'k')`)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    });
  });

  it('vault: create_secret stores a secret that vault.decrypted_secrets returns; only postgres and service_role reach it', async () => {
    await inDatabase('supabase_vault', async (client) => {
      const id = await scalar<string>(client, `select vault.create_secret('s3cr3t ✓', 'webhook_secret', 'the hook key')`);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const row = await client.query(
        `select name, description, secret, decrypted_secret, nonce is not null as has_nonce from vault.decrypted_secrets where id = $1`,
        [id],
      );
      expect(row.rows).toEqual([
        {
          name: 'webhook_secret',
          description: 'the hook key',
          secret: Buffer.from('s3cr3t ✓').toString('base64'),
          decrypted_secret: 's3cr3t ✓',
          has_nonce: true,
        },
      ]);

      await client.query(`select vault.update_secret($1, 'rotated', 'webhook_secret_v2')`, [id]);
      const updated = await client.query(`select name, description, decrypted_secret from vault.decrypted_secrets where id = $1`, [id]);
      expect(updated.rows).toEqual([{ name: 'webhook_secret_v2', description: 'the hook key', decrypted_secret: 'rotated' }]);

      // Names are unique; an explicit null description is refused, as on Supabase.
      expect((await errorOf(client, `select vault.create_secret('x', 'webhook_secret_v2')`)).code).toBe('23505');
      expect((await errorOf(client, `select vault.create_secret('x', 'other', null)`)).code).toBe('23502');

      for (const role of ['anon', 'authenticated']) {
        await client.query(`set role ${role}`);
        expect((await errorOf(client, 'select decrypted_secret from vault.decrypted_secrets')).code).toBe('42501');
        expect((await errorOf(client, `select vault.create_secret('x')`)).code).toBe('42501');
        await client.query('reset role');
      }
      await client.query('set role service_role');
      expect(await scalar(client, `select decrypted_secret from vault.decrypted_secrets where name = 'webhook_secret_v2'`)).toBe('rotated');
      const created = await scalar<string>(client, `select vault.create_secret('from service_role')`);
      expect(await scalar(client, 'select decrypted_secret from vault.decrypted_secrets where id = $1', [created])).toBe('from service_role');
      await client.query('reset role');
    });
  });

  describe('pg_net', () => {
    let server: Server;
    let hits = 0;
    let port = 0;

    beforeAll(async () => {
      server = createServer((_request, response) => {
        hits += 1;
        response.end('{}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('records net.http_post in net.http_request_queue with its body and headers, and never sends it', async () => {
      await inDatabase('pg_net', async (client) => {
        const url = `http://127.0.0.1:${port}/functions/v1/hook`;
        const id = await scalar<string>(client, `select net.http_post(url := $1, body := $2::jsonb, headers := $3::jsonb, params := $4::jsonb)`, [
          url,
          '{"type":"INSERT","record":{"id":1,"note":"é"}}',
          '{"Authorization":"Bearer abc"}',
          '{"q":"a b&c"}',
        ]);
        const queued = await client.query(
          `select method, url, headers, convert_from(body, 'UTF8') as body, timeout_milliseconds from net.http_request_queue where id = $1`,
          [id],
        );
        expect(queued.rows).toEqual([
          {
            method: 'POST',
            url: `${url}?q=a%20b%26c`,
            headers: { Authorization: 'Bearer abc', 'Content-Type': 'application/json' },
            // pg_net sends the canonical jsonb text of the body.
            body: '{"type": "INSERT", "record": {"id": 1, "note": "é"}}',
            timeout_milliseconds: 5000,
          },
        ]);

        const getId = await scalar<string>(client, `select net.http_get($1, '{"page":"2"}')`, [url]);
        const deleteId = await scalar<string>(client, `select net.http_delete($1, body := '{"id":3}')`, [url]);
        const others = await client.query(
          `select method, url, convert_from(body, 'UTF8') as body from net.http_request_queue where id in ($1, $2) order by id`,
          [getId, deleteId],
        );
        expect(others.rows).toEqual([
          { method: 'GET', url: `${url}?page=2`, body: null },
          { method: 'DELETE', url, body: '{"id": 3}' },
        ]);

        expect((await errorOf(client, `select net.http_post($1, '{}', headers := '{"content-type":"text/plain"}')`, [url])).message).toBe(
          'Content-Type header must be "application/json"',
        );

        // Nothing sends: no worker process, no response, no request reached the listener.
        await client.query('select pg_sleep(0.5)');
        expect(hits).toBe(0);
        expect(await scalar(client, `select count(*)::int from pg_stat_activity where backend_type ilike '%pg_net%'`)).toBe(0);
        expect(await scalar(client, 'select count(*)::int from net._http_response')).toBe(0);
        expect(await scalar(client, 'select count(*)::int from net.http_request_queue')).toBe(3);
        const collected = await client.query(`select (r).status, (r).message from net._http_collect_response($1) r`, [id]);
        expect(collected.rows).toEqual([{ status: 'ERROR', message: 'request matching request_id not found' }]);
        const waiting = await errorOf(client, 'select net._http_collect_response($1, async := false)', [id]);
        expect(waiting.message).toMatch(/never get a response/);
        expect(waiting.code).toBe('0A000');
      });
    });

    it("keeps Supabase's locked-down grants: anon and authenticated cannot queue requests", async () => {
      await inDatabase('pg_net', async (client) => {
        for (const role of ['anon', 'authenticated']) {
          await client.query(`set role ${role}`);
          expect((await errorOf(client, `select net.http_get('http://127.0.0.1:9/')`)).code).toBe('42501');
          await client.query('reset role');
        }
        await client.query('set role service_role');
        expect(Number(await scalar(client, `select net.http_get('http://127.0.0.1:9/')`))).toBeGreaterThan(0);
        await client.query('reset role');
        expect(hits).toBe(0);
      });
    });
  });

  it('pg_cron: schedule returns an id and records the job; invalid schedules are refused as pg_cron refuses them', async () => {
    await inDatabase('pg_cron', async (client) => {
      const database = await scalar<string>(client, 'select current_database()');
      const user = await scalar<string>(client, 'select current_user');
      const first = Number(await scalar(client, `select cron.schedule('30 3 * * 6', $$delete from events$$)`));
      expect(first).toBeGreaterThan(0);
      const job = await client.query('select schedule, command, database, username, active, jobname, nodename from cron.job where jobid = $1', [first]);
      expect(job.rows).toEqual([
        { schedule: '30 3 * * 6', command: 'delete from events', database, username: user, active: true, jobname: null, nodename: 'localhost' },
      ]);

      // A named job is updated in place.
      const named = Number(await scalar(client, `select cron.schedule('nightly-vacuum', '0 10 * * *', 'vacuum')`));
      expect(Number(await scalar(client, `select cron.schedule('nightly-vacuum', '0 3 * * *', 'vacuum full')`))).toBe(named);
      expect((await client.query('select schedule, command from cron.job where jobid = $1', [named])).rows).toEqual([
        { schedule: '0 3 * * *', command: 'vacuum full' },
      ]);

      for (const valid of [
        '* * * * *',
        '*/5 * * * *',
        '0 0 1,15 * *',
        '5-10/2 0-23 * jan-MAR mon-fri',
        '0 9 * * 7',
        '0 0 $ * *',
        '30 seconds',
        ' 30 sEcOnDs ',
        '1 second',
        '59 seconds',
        '@daily',
        '@restart',
      ]) {
        expect(Number(await scalar(client, 'select cron.schedule($1, $2)', [valid, 'select 1']))).toBeGreaterThan(0);
      }
      for (const invalid of [
        '* * * *',
        '* * * * * *',
        '60 * * * *',
        '* 24 * * *',
        '* * 0 * *',
        '* * * 13 *',
        '* * * * 8',
        '1/20 * * * *',
        '*/0 * * * *',
        '* * * foo *',
        '0 seconds',
        '60 seconds',
        '-1 seconds',
        '5 secondc',
        '50 seconds c',
        '10000000000 seconds',
        '@restar',
        '',
        'a'.repeat(1000),
      ]) {
        const error = await errorOf(client, 'select cron.schedule($1, $2)', [invalid, 'select 1']);
        expect(error.message).toBe(`invalid schedule: ${invalid}`);
        expect(error.hint).toBe("Use cron format (e.g. 5 4 * * *), or interval format '[1-59] seconds'");
      }

      expect(await scalar(client, `select cron.unschedule('nightly-vacuum')`)).toBe(true);
      expect(await scalar(client, 'select cron.unschedule($1::bigint)', [first])).toBe(true);
      expect((await errorOf(client, 'select cron.unschedule($1::bigint)', [first])).message).toBe(`could not find valid entry for job ${first}`);
      expect((await errorOf(client, `select cron.unschedule('nightly-vacuum')`)).message).toBe("could not find valid entry for job 'nightly-vacuum'");

      const altered = Number(await scalar(client, `select cron.schedule('0 0 * * *', 'select 1')`));
      const noChange = await errorOf(client, 'select cron.alter_job($1)', [altered]);
      expect(noChange.message).toBe('no updates specified');
      await client.query(`select cron.alter_job($1, schedule := '15 * * * *', active := false)`, [altered]);
      expect((await client.query('select schedule, active from cron.job where jobid = $1', [altered])).rows).toEqual([
        { schedule: '15 * * * *', active: false },
      ]);
      expect((await errorOf(client, `select cron.alter_job($1, schedule := 'never')`, [altered])).message).toBe('invalid schedule: never');
      expect((await errorOf(client, `select cron.alter_job($1, database := 'no_such_db')`, [altered])).message).toBe('database "no_such_db" does not exist');
      expect((await errorOf(client, 'select cron.alter_job(999999, active := false)')).message).toBe("Job 999999 does not exist or you don't own it");

      const elsewhere = Number(await scalar(client, `select cron.schedule_in_database('other-db', '@hourly', 'select 1', 'postgres')`));
      expect((await client.query('select database, jobname from cron.job where jobid = $1', [elsewhere])).rows).toEqual([
        { database: 'postgres', jobname: 'other-db' },
      ]);
    });
  });

  it('pg_cron never runs a job, and users see and change only their own jobs', async () => {
    await inDatabase('pg_cron', async (client) => {
      await client.query('create table public.cron_probe (ran_at timestamptz default now())');
      await client.query(`select cron.schedule('probe', '1 second', 'insert into public.cron_probe default values')`);
      await client.query(`select cron.schedule('* * * * *', 'insert into public.cron_probe default values')`);
      await client.query('select pg_sleep(1.5)');
      expect(await scalar(client, 'select count(*)::int from public.cron_probe')).toBe(0);
      expect(await scalar(client, 'select count(*)::int from cron.job_run_details')).toBe(0);
      expect(await scalar(client, `select count(*)::int from pg_stat_activity where backend_type ilike '%cron%'`)).toBe(0);

      // Supabase's grants: postgres may read cron.job and call the functions; row level security
      // shows each user their own jobs only.
      await client.query(
        'grant usage on schema cron to service_role; grant execute on function cron.schedule(text, text, text), cron.unschedule(text) to service_role',
      );
      await client.query('set role service_role');
      const own = Number(await scalar(client, `select cron.schedule('mine', '@weekly', 'select 1')`));
      expect((await client.query('select jobid, username from cron.job')).rows).toEqual([{ jobid: String(own), username: 'service_role' }]);
      expect((await errorOf(client, `select cron.unschedule('probe')`)).message).toBe("could not find valid entry for job 'probe'");
      expect((await errorOf(client, `insert into cron.job (schedule, command) values ('* * * * *', 'select 1')`)).code).toBe('42501');
      await client.query('reset role');
      // Supabase's after-create grants: postgres may only read cron.job (with grant option), and
      // has everything on cron.job_run_details.
      const grants = await client.query(
        `select c.relname, a.privilege_type, a.is_grantable
           from pg_class c, aclexplode(c.relacl) a
          where c.relnamespace = 'cron'::regnamespace and c.relkind = 'r' and a.grantee = 'postgres'::regrole
          order by 1, 2`,
      );
      expect(grants.rows.filter((r) => r.relname === 'job')).toEqual([{ relname: 'job', privilege_type: 'SELECT', is_grantable: true }]);
      expect(grants.rows.filter((r) => r.relname === 'job_run_details').map((r) => r.privilege_type)).toEqual(
        expect.arrayContaining(['DELETE', 'INSERT', 'SELECT', 'UPDATE']),
      );
    });
  });

  it('pgsodium: hashes, HMACs, base64 and randomness match libsodium; AEAD and secretbox round-trip; the rest says it is unavailable', async () => {
    await inDatabase('pgsodium', async (client) => {
      const message = Buffer.from('the quick brown fox');
      const key = Buffer.alloc(32, 7);
      expect(await scalar(client, 'select pgsodium.crypto_hash_sha256($1)', [message])).toEqual(createHash('sha256').update(message).digest());
      expect(await scalar(client, 'select pgsodium.crypto_hash_sha512($1)', [message])).toEqual(createHash('sha512').update(message).digest());
      expect(await scalar(client, 'select pgsodium.crypto_auth_hmacsha256($1::bytea, $2::bytea)', [message, key])).toEqual(
        createHmac('sha256', key).update(message).digest(),
      );
      expect(await scalar(client, 'select pgsodium.crypto_auth_hmacsha512($1::bytea, $2::bytea)', [message, key])).toEqual(
        createHmac('sha512', key).update(message).digest(),
      );
      const mac = createHmac('sha512', key).update(message).digest().subarray(0, 32);
      expect(await scalar(client, 'select pgsodium.crypto_auth($1::bytea, $2::bytea)', [message, key])).toEqual(mac);
      expect(await scalar(client, 'select pgsodium.crypto_auth_verify($1::bytea, $2::bytea, $3::bytea)', [mac, message, key])).toBe(true);
      expect(await scalar(client, 'select pgsodium.crypto_auth_verify($1::bytea, $2::bytea, $3::bytea)', [mac, Buffer.from('tampered'), key])).toBe(false);
      expect((await errorOf(client, 'select pgsodium.crypto_auth($1::bytea, $2::bytea)', [message, Buffer.alloc(16)])).message).toBe(
        'crypto_auth: invalid key',
      );
      expect(await scalar(client, 'select pgsodium.sodium_bin2base64($1)', [Buffer.from([251, 255, 0, 1])])).toBe('-_8AAQ');
      expect(await scalar(client, `select pgsodium.sodium_base642bin('-_8AAQ')`)).toEqual(Buffer.from([251, 255, 0, 1]));
      expect(await scalar(client, 'select length(pgsodium.randombytes_buf(3000))')).toBe(3000);
      expect(await scalar(client, 'select pgsodium.randombytes_buf(16) <> pgsodium.randombytes_buf(16)')).toBe(true);
      expect(await scalar(client, 'select bool_and(pgsodium.randombytes_uniform(10) between 0 and 9) from generate_series(1, 200)')).toBe(true);
      expect(await scalar(client, `select pgsodium.randombytes_buf_deterministic(40, $1) = pgsodium.randombytes_buf_deterministic(40, $1)`, [key])).toBe(true);
      expect(await scalar(client, 'select length(pgsodium.crypto_secretbox_noncegen())')).toBe(24);
      expect(await scalar(client, 'select length(pgsodium.crypto_aead_det_keygen())')).toBe(32);

      // Deterministic AEAD with a raw key: same input, same ciphertext; wrong additional data fails.
      const sealed = await scalar<Buffer>(client, `select pgsodium.crypto_aead_det_encrypt($1::bytea, 'ad'::bytea, $2::bytea)`, [message, key]);
      expect(await scalar(client, `select pgsodium.crypto_aead_det_encrypt($1::bytea, 'ad'::bytea, $2::bytea)`, [message, key])).toEqual(sealed);
      expect(await scalar(client, `select pgsodium.crypto_aead_det_decrypt($1::bytea, 'ad'::bytea, $2::bytea)`, [sealed, key])).toEqual(message);
      expect((await errorOf(client, `select pgsodium.crypto_aead_det_decrypt($1::bytea, 'other'::bytea, $2::bytea)`, [sealed, key])).message).toBe(
        'crypto_aead_det_decrypt: invalid message',
      );
      const tampered = Buffer.from(sealed);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
      expect((await errorOf(client, `select pgsodium.crypto_aead_det_decrypt($1::bytea, 'ad'::bytea, $2::bytea)`, [tampered, key])).message).toBe(
        'crypto_aead_det_decrypt: invalid message',
      );

      // Keys from the key table, by uuid (derived from the root key) and with a stored raw key.
      const keyId = await scalar<string>(client, `select (pgsodium.create_key(name := 'app key')).id`);
      const byUuid = await client.query(
        `select convert_from(pgsodium.crypto_aead_det_decrypt(pgsodium.crypto_aead_det_encrypt(convert_to('card 4242', 'utf8'), 'row-1'::bytea, $1::uuid), 'row-1'::bytea, $1::uuid), 'utf8') as plain`,
        [keyId],
      );
      expect(byUuid.rows).toEqual([{ plain: 'card 4242' }]);
      const raw = Buffer.alloc(32, 9);
      const rawKeyId = await scalar<string>(client, `select (pgsodium.create_key('hmacsha256', 'raw one', raw_key := $1)).id`, [raw]);
      expect(await scalar(client, 'select decrypted_raw_key from pgsodium.decrypted_key where id = $1', [rawKeyId])).toEqual(raw);
      expect(await scalar(client, 'select raw_key <> $2 from pgsodium.key where id = $1', [rawKeyId, raw])).toBe(true);
      expect(await scalar(client, 'select pgsodium.crypto_auth_hmacsha256($1::bytea, $2::uuid)', [message, rawKeyId])).toEqual(
        createHmac('sha256', raw).update(message).digest(),
      );
      expect((await client.query(`select name, key_type from pgsodium.valid_key order by name`)).rows).toEqual([
        { name: 'app key', key_type: 'aead-det' },
        { name: 'raw one', key_type: 'hmacsha256' },
        { name: null, key_type: 'aead-det' },
      ]);

      // secretbox and IETF AEAD round-trip, nonces checked.
      const nonce = await scalar<Buffer>(client, 'select pgsodium.crypto_secretbox_noncegen()');
      const box = await scalar<Buffer>(client, 'select pgsodium.crypto_secretbox($1::bytea, $2::bytea, $3::bytea)', [message, nonce, key]);
      expect(await scalar(client, 'select pgsodium.crypto_secretbox_open($1::bytea, $2::bytea, $3::bytea)', [box, nonce, key])).toEqual(message);
      expect((await errorOf(client, 'select pgsodium.crypto_secretbox($1::bytea, $2::bytea, $3::bytea)', [message, Buffer.alloc(12), key])).message).toBe(
        'crypto_secretbox: invalid nonce',
      );
      const ietf = await scalar<Buffer>(client, `select pgsodium.crypto_aead_ietf_encrypt($1::bytea, 'ad'::bytea, $2::bytea, 42::bigint)`, [
        message,
        Buffer.alloc(12, 1),
      ]);
      expect(
        await scalar(client, `select pgsodium.crypto_aead_ietf_decrypt($1::bytea, 'ad'::bytea, $2::bytea, 42::bigint)`, [ietf, Buffer.alloc(12, 1)]),
      ).toEqual(message);

      const unavailable = await errorOf(client, `select pgsodium.crypto_box_new_keypair()`);
      expect(unavailable.code).toBe('0A000');
      expect(unavailable.message).toBe(
        "pgsodium.crypto_box_new_keypair() is not available in postgate's pgsodium stand-in: it needs libsodium, which this server does not have",
      );

      // The root key is the superuser's alone; key makers use keys without seeing it.
      await client.query('grant pgsodium_keymaker to service_role');
      await client.query('set role service_role');
      expect((await errorOf(client, 'select * from pgsodium._postgate_root_key')).code).toBe('42501');
      expect(await scalar(client, `select length(pgsodium.crypto_aead_det_encrypt('x'::bytea, 'y'::bytea, $1::uuid))`, [keyId])).toBeGreaterThan(0);
      await client.query('reset role');
      await client.query('revoke pgsodium_keymaker from service_role');
      await client.query('set role anon');
      expect((await errorOf(client, `select pgsodium.crypto_aead_det_encrypt('x'::bytea, 'y'::bytea, $1::uuid)`, [keyId])).code).toBe('42501');
      await client.query('reset role');
    });
  });

  it('pg_graphql answers with a GraphQL error object and keeps the schema version; graphql_public is left alone', async () => {
    await inDatabase('pg_graphql', async (client) => {
      const answer = await scalar<{ data: null; errors: { message: string }[] }>(
        client,
        `select graphql.resolve('{ accountCollection { edges { node { id } } } }')`,
      );
      expect(answer.data).toBeNull();
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors[0]!.message).toMatch(/does not run GraphQL|GraphQL is not available/);
      expect(await scalar(client, `select graphql.comment_directive('@graphql({"name": "Account"})')`)).toEqual({ name: 'Account' });
      expect(await scalar(client, `select graphql.comment_directive('no directive')`)).toEqual({});
      const failed = await errorOf(client, `select graphql.exception('boom')`);
      expect(failed).toMatchObject({ message: 'boom', code: '22000' });

      await client.query('create table public.graphql_probe_1 (id int)');
      const before = await scalar<number>(client, 'select graphql.get_schema_version()');
      await client.query('create table public.graphql_probe_2 (id int)');
      expect(await scalar<number>(client, 'select graphql.get_schema_version()')).toBeGreaterThan(before);
      expect(await scalar(client, `select count(*)::int from pg_namespace where nspname = 'graphql_public'`)).toBe(0);
      await client.query('set role anon');
      expect(await scalar<{ errors: unknown[] }>(client, `select graphql.resolve('{ __typename }')`)).toHaveProperty('errors');
      await client.query('reset role');
    });
  });

  const wired = PLATFORM_STAND_INS.filter((s) => standInNamed(s.name));
  it.skipIf(wired.length === 0)('CREATE EXTENSION by a non-superuser installs every wired stand-in as a trusted extension with member objects', async () => {
    const url = await cluster.createDatabase('standin_create_extension');
    await withClient(url, async (client) => {
      await client.query('create schema extensions; create extension pgcrypto with schema extensions');
      await client.query(`
        do $creator$
        begin
          if not exists (select 1 from pg_roles where rolname = 'standin_creator') then
            create role standin_creator nologin;
          end if;
        end
        $creator$`);
      await client.query('grant create on database standin_create_extension to standin_creator');
      await client.query('grant usage, create on schema extensions, public to standin_creator');
      await client.query('set role standin_creator');
      for (const standIn of wired) {
        const target = TARGET_SCHEMA[standIn.name]!;
        const clause = standIn.schema || target === 'pg_catalog' ? '' : ` with schema ${target}`;
        await client.query(`create extension ${quoteIdent(standIn.name)}${clause}`);
        const row = await client.query(
          `select e.extversion, e.extowner::regrole::text as owner,
                  (select count(*)::int from pg_depend d where d.refclassid = 'pg_extension'::regclass and d.refobjid = e.oid and d.deptype = 'e') as members
             from pg_extension e where e.extname = $1`,
          [standIn.name],
        );
        expect(row.rows).toEqual([{ extversion: standIn.defaultVersion, owner: 'standin_creator', members: expect.any(Number) }]);
        expect(row.rows[0].members).toBeGreaterThan(2);
      }
      await client.query('reset role');
    });
  });
});
