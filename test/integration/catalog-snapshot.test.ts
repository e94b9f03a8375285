/**
 * The snapshot reads the catalog with a fixed number of queries, however large the
 * schema (the benchmark measures the time; this test guards the count), and leaves the
 * session as it found it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_QUERY_COUNT } from '../../src/catalog/index.ts';
import { TWIN_QUERY_COUNT } from '../../src/catalog/snapshot.ts';
import { type QueryCounter, readSnapshot } from '../../src/catalog/snapshot.ts';
import { beginSharedSnapshot, openTwinSession } from '../../src/postgres/connect.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

function schemaOf(tables: number): string {
  const out: string[] = ['create schema app;'];
  for (let i = 0; i < tables; i++) {
    out.push(`create table app.t${i} (id bigint generated always as identity primary key, owner uuid, note text default 'x' check (length(note) < 100));`);
    out.push(`create index t${i}_owner on app.t${i} (owner);`);
    out.push(`alter table app.t${i} enable row level security;`);
    out.push(`create policy p${i} on app.t${i} for select using (owner is not null);`);
    out.push(`create function app.f${i}(x int) returns int language sql immutable as $$ select x + ${i} $$;`);
    out.push(`create trigger tr${i} before update on app.t${i} for each row execute function suppress_redundant_updates_trigger();`);
    out.push(`comment on table app.t${i} is 'table ${i}';`);
  }
  return out.join('\n');
}

describe('snapshot', () => {
  it('runs the same number of catalog queries for 5 and for 300 tables, with or without a twin session, and reads the same snapshot both ways', async () => {
    const counts: number[] = [];
    const twinCounts: number[] = [];
    const sizes: number[] = [];
    for (const tables of [5, 300]) {
      const url = await cluster.createDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(schemaOf(tables));
      const counter: QueryCounter = { queries: 0 };
      const alone = await readSnapshot(client, {}, { counter });
      counts.push(counter.queries);
      sizes.push(alone.objects.length);

      const twin = await openTwinSession(url, { gate: 'test', readOnly: true });
      expect(twin).toBeDefined();
      await twin!.query('set search_path = app');
      const twinCounter: QueryCounter = { queries: 0 };
      const together = await readSnapshot(client, {}, { counter: twinCounter, twin });
      twinCounts.push(twinCounter.queries);
      expect(together).toEqual(alone);
      // the twin's settings are put back too
      expect((await twin!.query(`select current_setting('search_path') as s, current_setting('jit') as j`)).rows[0]).toEqual({ s: 'app', j: 'on' });
      await twin!.end();
      await client.end();
    }
    expect(sizes[1]!).toBeGreaterThan(sizes[0]! * 30);
    expect(counts).toEqual([SNAPSHOT_QUERY_COUNT, SNAPSHOT_QUERY_COUNT]);
    expect(twinCounts).toEqual([SNAPSHOT_QUERY_COUNT + TWIN_QUERY_COUNT, SNAPSHOT_QUERY_COUNT + TWIN_QUERY_COUNT]);
  });

  it("a twin session shares the first session's snapshot: a table created after the export is seen by neither", async () => {
    const url = await cluster.createDatabase();
    const client = new pg.Client({ connectionString: url });
    const writer = new pg.Client({ connectionString: url });
    await Promise.all([client.connect(), writer.connect()]);
    await writer.query(`${schemaOf(1)} alter table app.t0 add constraint t0_note_min check (length(note) > 0)`);
    const snapshotId = await beginSharedSnapshot(client);
    expect(snapshotId).toMatch(/^[0-9A-F-]+$/);
    const twin = await openTwinSession(url, { gate: 'test', readOnly: true }, snapshotId);
    expect(twin).toBeDefined();
    // after the export: a new table with a policy, index and constraint (read by the twin), and one dropped
    await writer.query(`create table app.late (id int primary key, owner uuid); create index late_owner on app.late (owner);
      create policy late_read on app.late for select using (true); alter table app.t0 drop constraint t0_note_min;`);
    const snap = await readSnapshot(client, {}, { twin });
    const names = snap.objects.map((o) => `${o.kind} ${o.name}`);
    expect(names).toContain('constraint t0.t0_note_min');
    expect(names.filter((n) => n.includes('late'))).toEqual([]);
    await client.query('commit');
    await Promise.all([twin!.end(), client.end(), writer.end()]);
  });

  it('reads on one session when no twin can be had (a role limited to one connection)', async () => {
    const url = await cluster.createDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`${schemaOf(3)} create role one_conn login password 'pw' connection limit 1; grant usage on schema app to one_conn`);
    const limited = new URL(url);
    limited.username = 'one_conn';
    limited.password = 'pw';
    const client = new pg.Client({ connectionString: limited.toString() });
    await client.connect();
    const snapshotId = await beginSharedSnapshot(client);
    const twin = await openTwinSession(limited.toString(), { gate: 'test', readOnly: true }, snapshotId);
    expect(twin).toBeUndefined();
    const counter: QueryCounter = { queries: 0 };
    const snap = await readSnapshot(client, {}, { counter, twin });
    expect(counter.queries).toBe(SNAPSHOT_QUERY_COUNT);
    expect(snap.objects.filter((o) => o.kind === 'policy')).toHaveLength(3);
    await client.query('commit');
    await client.end();
    await admin.query('drop owned by one_conn; drop role one_conn');
    await admin.end();
  });

  it('restores the session search_path and reads only what it was asked for', async () => {
    const client = new pg.Client({ connectionString: await cluster.createDatabase() });
    await client.connect();
    await client.query(`${schemaOf(2)} create schema other; create table other.x (id int); set search_path = app, public;`);
    const snap = await readSnapshot(client, { schemas: ['other'] });
    expect(snap.schemas).toEqual(['other']);
    expect(new Set(snap.objects.map((o) => o.schema ?? o.name))).toEqual(new Set(['other']));
    expect((await client.query('show search_path')).rows[0].search_path).toBe('app, public');
    const excluded = await readSnapshot(client, { excludeSchemas: ['other'] });
    expect(excluded.schemas).toEqual(['app', 'public']);
    await client.end();
  });
});
