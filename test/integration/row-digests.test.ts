/**
 * Exact keyed row digests on real PostgreSQL: identical data gives the same digest whatever the
 * physical row and column order and whatever the major (15 and 17); every kind of difference
 * (a changed value, a missing row, an extra row, a pair of values swapped between two rows)
 * changes it, and locateDifferences marks exactly the ranges that hold it, with the right row
 * counts, and never returns key text unless the key is an integer.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestColumns,
  type DigestTable,
  digestTable,
  digestTables,
  locateDifferences,
  PINNED_SETTINGS_SQL,
  type RangeComparison,
  tableKey,
} from '../../src/catalog/row-digests.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const ROWS = 1000;

/** Every value kind whose text could differ between servers or settings, nulls and escapes included. */
const VALUES = `g, 'user' || g || '@example.com', g * 1.25, g / 3.0::float8,
  timestamptz '2024-01-01 00:00+00' + g * interval '1 hour 7 seconds',
  jsonb_build_object('k', g, 'nested', jsonb_build_array(g, 'x', 1.5e300)),
  decode(md5(g::text), 'hex'),
  case when g % 7 = 0 then null else E'tab\\there\\nnewline \\\\ back ' || g end,
  array['a' || g, null, E'q"\\\\'],
  timestamptz '2024-01-01 00:00+00' + g * interval '1 minute',
  interval '1 day 2 hours' * g`;
const COLUMNS = 'id, email, amount, score, at, doc, blob, note, tags, created_at, span';

/** The same rows; `reordered` has its columns in another physical order, a dropped column and its rows inserted backwards. */
function itemsSql(reordered: boolean): string {
  return reordered
    ? `create table items (note text, created_at timestamptz, gone int, tags text[], span interval, blob bytea, doc jsonb,
                           at timestamptz, score float8, amount numeric(12,2), email text not null, id int primary key);
       alter table items drop column gone;
       insert into items (${COLUMNS}) select ${VALUES} from generate_series(1, ${ROWS}) g order by g desc;`
    : `create table items (id int primary key, email text not null, amount numeric(12,2), score float8, at timestamptz,
                           doc jsonb, blob bytea, note text, tags text[], created_at timestamptz, span interval);
       insert into items (${COLUMNS}) select ${VALUES} from generate_series(1, ${ROWS}) g;`;
}

let cluster: Cluster;
const sessions: pg.Client[] = [];
let serial = 0;

async function open(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a cluster stopped under an open session
  await client.connect();
  await client.query(PINNED_SETTINGS_SQL);
  sessions.push(client);
  return client;
}

async function database(on: Cluster, sql: string): Promise<pg.Client> {
  serial += 1;
  const session = await open(await on.createDatabase(`digests_${serial}`));
  await session.query(sql);
  return session;
}

/** A source and a target holding the same items (the target's columns and rows in another order). */
async function pair(extraSql = ''): Promise<{ source: pg.Client; target: pg.Client; table: DigestTable }> {
  const source = await database(cluster, itemsSql(false) + extraSql);
  const target = await database(cluster, itemsSql(true) + extraSql);
  return { source, target, table: await describeTable(source, 'items') };
}

async function describeTable(session: pg.ClientBase, name: string, schema = 'public'): Promise<DigestTable> {
  const key = await tableKey(session, { schema, name });
  if (!key) throw new Error(`no key on ${name}`);
  return { schema, name, key, columns: await digestColumns(session, { schema, name }, key) };
}

function differing(comparison: RangeComparison) {
  return comparison.ranges.filter((range) => !range.same).map(({ index, sourceRows, targetRows, from, to }) => ({ index, sourceRows, targetRows, from, to }));
}

beforeAll(async () => {
  cluster = await startTestCluster(15);
});
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.end().catch(() => undefined)));
  await cluster?.stop();
});

describe('tableKey and digestColumns', () => {
  it('takes the primary key, else the first all-NOT-NULL unique index by name, else nothing', async () => {
    const session = await database(
      cluster,
      `create table pk (a int, b text, c int, primary key (b, a), unique (c));
       create table uniq (a int not null, b int not null, c int, d int not null);
       create unique index uniq_c on uniq (c);                      -- a nullable column
       create unique index uniq_a_partial on uniq (a) where a > 0;  -- not every row
       create unique index uniq_expr on uniq ((a + b));             -- an expression
       create unique index uniq_z on uniq (d);
       create unique index uniq_m on uniq (b, a) include (c);       -- first by name; INCLUDE columns are no key
       create table nokey (a int, b int not null);
       create unique index nokey_a on nokey (a);
       create table "Odd ""name""" ("Key col" int primary key, "x y" text);`,
    );
    expect(await tableKey(session, { schema: 'public', name: 'pk' })).toEqual(['b', 'a']);
    expect(await tableKey(session, { schema: 'public', name: 'uniq' })).toEqual(['b', 'a']);
    expect(await tableKey(session, { schema: 'public', name: 'nokey' })).toBeUndefined();
    expect(await tableKey(session, { schema: 'public', name: 'missing' })).toBeUndefined();
    expect(await tableKey(session, { schema: 'public', name: 'Odd "name"' })).toEqual(['Key col']);
  });

  it('lists the key first, then every other column by name, without dropped or virtual columns, whatever the physical order', async () => {
    const { source, target } = await pair(`alter table items add column total numeric generated always as (amount * 2) stored;`);
    const expected = ['id', 'amount', 'at', 'blob', 'created_at', 'doc', 'email', 'note', 'score', 'span', 'tags', 'total'];
    expect(await digestColumns(source, { schema: 'public', name: 'items' }, ['id'])).toEqual(expected);
    expect(await digestColumns(target, { schema: 'public', name: 'items' }, ['id'])).toEqual(expected);
  });
});

describe('digestTable', () => {
  it('gives identical data the same digest and exact count, whatever the physical row and column order', async () => {
    const { source, target, table } = await pair();
    const [a, b] = await Promise.all([digestTable(source, table), digestTable(target, table)]);
    expect(a).toEqual({ table: 'public.items', rows: ROWS, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(b).toEqual(a);
    // dead tuples and a rewritten layout change nothing either
    await target.query('update items set email = email');
    await target.query('vacuum full items');
    expect(await digestTable(target, table)).toEqual(a);
  });

  it('counts rows with newlines, tabs and backslashes in their values as one row each', async () => {
    const session = await database(
      cluster,
      `create table t (id int primary key, v text); insert into t values (1, E'a\\nb\\n\\n'), (2, E'\\\\n\\t'), (3, null);`,
    );
    expect((await digestTable(session, await describeTable(session, 't'))).rows).toBe(3);
  });

  it('changes with one changed value, one missing row, one extra row or a pair of values swapped between two rows', async () => {
    const { source, target, table } = await pair();
    const same = await digestTable(source, table);
    const changes = [
      `update items set amount = amount + 0.01 where id = 500`,
      `delete from items where id = 500`,
      `insert into items (id, email) values (${ROWS + 1}, 'new@example.com')`,
      `update items set email = case id when 10 then 'user20@example.com' else 'user10@example.com' end where id in (10, 20)`,
    ];
    for (const change of changes) {
      await target.query(`begin; ${change}`);
      const digest = await digestTable(target, table);
      await target.query('rollback');
      expect(digest.sha256, change).not.toBe(same.sha256);
    }
    expect(await digestTable(target, table)).toEqual(same);
  });

  it('leaves out exactly the rows written since excludeSince on both sides, keeping rows where the column is null', async () => {
    const { source, target, table } = await pair(`update items set created_at = null where id % 100 = 0;`);
    // rows 901.. were written since 2024-01-01 15:00 (created_at = start + id minutes); the target also has newer ones
    const since = { column: 'created_at', since: '2024-01-01 15:00:00+00' };
    await target.query(`insert into items (id, email, created_at) values (5000, 'late@example.com', '2024-06-01 00:00+00')`);
    await source.query(`update items set email = 'changed' where id = 950`);
    const [a, b] = await Promise.all([digestTable(source, { ...table, excludeSince: since }), digestTable(target, { ...table, excludeSince: since })]);
    // 900 rows before 15:00 and the null ones among 901..1000 (900 and 1000: 900 is already counted)
    expect(a.rows).toBe(901);
    expect(b).toEqual(a);
    expect((await digestTable(target, table)).sha256).not.toBe((await digestTable(source, table)).sha256);
  });

  it('needs the pinned settings: another TimeZone prints other text', async () => {
    const { source, target, table } = await pair();
    await target.query(`set TimeZone = 'America/New_York'`);
    expect((await digestTable(target, table)).sha256).not.toBe((await digestTable(source, table)).sha256);
    await target.query(PINNED_SETTINGS_SQL);
  });

  it('fails with an error naming only the table', async () => {
    const session = await database(cluster, `create table t (id int primary key, secret text); insert into t values (1, 'hunter2');`);
    const table = await describeTable(session, 't');
    await expect(digestTable(session, { ...table, columns: [...table.columns, 'nope'] })).rejects.toThrow(
      /^Could not read the rows of table public\.t \(SQLSTATE 42703\)\.$/,
    );
    await expect(digestTable(session, { ...table, name: 'gone' })).rejects.toThrow(/^Could not read the rows of table public\.gone \(SQLSTATE 42P01\)\.$/);
    // the session is usable afterwards
    expect((await digestTable(session, table)).rows).toBe(1);
  });
});

describe('digestTables', () => {
  it('spreads tables over the sessions and returns them in input order, as digestTable does', async () => {
    serial += 1;
    const url = await cluster.createDatabase(`digests_${serial}`);
    const first = await open(url);
    await first.query(
      `create table small (id int primary key, v text); insert into small select g, g::text from generate_series(1, 10) g;
       create table big (id int primary key, v text); insert into big select g, repeat('x', 100) from generate_series(1, 20000) g;
       create table mid (k text primary key); insert into mid select g::text from generate_series(1, 500) g;
       analyze;`,
    );
    const second = await open(url);
    const tables: DigestTable[] = [];
    for (const name of ['small', 'big', 'mid']) tables.push(await describeTable(first, name));
    const digests = await digestTables([first, second], tables);
    expect(digests.map((digest) => [digest.table, digest.rows])).toEqual([
      ['public.small', 10],
      ['public.big', 20000],
      ['public.mid', 500],
    ]);
    for (const [i, table] of tables.entries()) expect(digests[i]).toEqual(await digestTable(first, table));
  });
});

describe('locateDifferences', () => {
  it('marks exactly the range of a changed value, a missing row, a swapped pair and rows only on the target below the first or above the last key', async () => {
    const { source, target, table } = await pair();
    const locate = async (change: string) => {
      await target.query(`begin; ${change}`);
      try {
        return await locateDifferences(source, target, table, { ranges: 10 });
      } finally {
        await target.query('rollback');
      }
    };
    const unchanged = await locate('select 1');
    expect(unchanged.keysPrintable).toBe(true);
    expect(unchanged.ranges.map(({ from, to, sourceRows, targetRows, same }) => [from, to, sourceRows, targetRows, same])).toEqual(
      Array.from({ length: 10 }, (_, i) => [String(i * 100 + 1), String(i * 100 + 100), 100, 100, true]),
    );
    expect(differing(await locate('update items set amount = amount + 0.01 where id = 450'))).toEqual([
      { index: 4, sourceRows: 100, targetRows: 100, from: '401', to: '500' },
    ]);
    expect(differing(await locate('delete from items where id = 701'))).toEqual([{ index: 7, sourceRows: 100, targetRows: 99, from: '701', to: '800' }]);
    expect(differing(await locate(`insert into items (id, email) values (-5, 'x'), (${ROWS + 7}, 'y')`))).toEqual([
      { index: 0, sourceRows: 100, targetRows: 101, from: '1', to: '100' },
      { index: 9, sourceRows: 100, targetRows: 101, from: '901', to: '1000' },
    ]);
    // one pair within a range, one across two ranges: the counts stay, the digests do not
    const swap = (a: number, b: number) =>
      `update items set score = case id when ${a} then ${b} / 3.0::float8 else ${a} / 3.0::float8 end where id in (${a}, ${b});`;
    expect(differing(await locate(swap(210, 220)))).toEqual([{ index: 2, sourceRows: 100, targetRows: 100, from: '201', to: '300' }]);
    expect(differing(await locate(swap(150, 850))).map((range) => range.index)).toEqual([1, 8]);
  });

  it('names ranges by ordinal only when the key is not an integer, and never returns key text', async () => {
    const sql = `create table accounts (email text, region text, n int, primary key (email, region));
                 insert into accounts select 'person' || g || '@example.com', 'r' || (g % 3), g from generate_series(1, 300) g;`;
    const source = await database(cluster, sql);
    const target = await database(cluster, sql);
    const table = await describeTable(source, 'accounts');
    expect(table.key).toEqual(['email', 'region']);
    await target.query(`update accounts set n = -1 where email = 'person120@example.com'`);
    await target.query(`delete from accounts where email = 'person99@example.com'`);
    const comparison = await locateDifferences(source, target, table, { ranges: 4 });
    expect(comparison.keysPrintable).toBe(false);
    expect(comparison.ranges).toHaveLength(4);
    expect(comparison.ranges.every((range) => range.from === undefined && range.to === undefined)).toBe(true);
    expect(JSON.stringify(comparison)).not.toMatch(/person|example|r[0-2]/);
    // in "C" order (person1.. < person10.. < person100@ < person2..) person120 is in the first quarter, person99 in the last
    const sorted = Array.from({ length: 300 }, (_, i) => `person${i + 1}@example.com`).sort((a, b) => (a < b ? -1 : 1));
    const quarter = (email: string) => Math.floor(sorted.indexOf(email) / 75);
    expect(differing(comparison)).toEqual([
      { index: quarter('person120@example.com'), sourceRows: 75, targetRows: 75, from: undefined, to: undefined },
      { index: quarter('person99@example.com'), sourceRows: 75, targetRows: 74, from: undefined, to: undefined },
    ]);
  });

  it('cuts composite integer keys on row-value boundaries and respects excludeSince', async () => {
    const sql = `create table lines (order_id int, line int, qty int, created_at timestamptz,
                                     primary key (order_id, line));
                 insert into lines select o, l, o * l, timestamptz '2024-01-01 00:00+00' + (o * 10 + l) * interval '1 second'
                   from generate_series(1, 50) o, generate_series(1, 4) l;`;
    const source = await database(cluster, sql);
    const target = await database(cluster, sql);
    const table = { ...(await describeTable(source, 'lines')), excludeSince: { column: 'created_at', since: '2024-01-01 00:08:00+00' } };
    // 00:08:00 = 480 s: orders 1..47 count (o * 10 + l < 480), 48..50 are left out
    await target.query(`update lines set qty = 0 where order_id = 13 and line = 2; update lines set qty = 0 where order_id = 49`);
    const comparison = await locateDifferences(source, target, table, { ranges: 4 });
    expect(comparison.ranges.map((range) => range.sourceRows)).toEqual([47, 47, 47, 47]);
    expect(comparison.ranges.map((range) => [range.from, range.to])).toEqual([
      ['1, 1', '12, 3'],
      ['12, 4', '24, 2'],
      ['24, 3', '36, 1'],
      ['36, 2', '47, 4'],
    ]);
    expect(differing(comparison)).toEqual([{ index: 1, sourceRows: 47, targetRows: 47, from: '12, 4', to: '24, 2' }]);
  });

  it('on an empty source, compares the whole table as one range', async () => {
    const source = await database(cluster, `create table t (id int primary key)`);
    const target = await database(cluster, `create table t (id int primary key); insert into t values (1), (2)`);
    const comparison = await locateDifferences(source, target, await describeTable(source, 't'));
    expect(comparison.ranges).toEqual([{ index: 0, sourceRows: 0, targetRows: 2, same: false }]);
  });
});

describe.runIf(TEST_MAJORS.includes(17))('PostgreSQL 15 and 17', () => {
  let seventeen: Cluster;
  beforeAll(async () => {
    seventeen = await startTestCluster(17);
  });
  afterAll(async () => {
    await seventeen?.stop();
  });

  it('give identical data identical digests, and a 15 -> 17 copy locates its difference', async () => {
    const source = await database(cluster, itemsSql(false));
    const target = await database(seventeen, itemsSql(true));
    expect((await target.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]!.v).toMatch(/^17/);
    const table = await describeTable(source, 'items');
    expect(await digestTable(target, table)).toEqual(await digestTable(source, table));
    expect((await locateDifferences(source, target, table, { ranges: 8 })).ranges.every((range) => range.same)).toBe(true);
    await target.query(`update items set doc = doc || '{"k": 0}' where id = 333`);
    expect(differing(await locateDifferences(source, target, table, { ranges: 8 })).map((range) => range.index)).toEqual([2]);
  });
});
