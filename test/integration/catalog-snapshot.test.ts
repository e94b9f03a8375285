/**
 * The snapshot reads the catalog with a fixed number of queries, however large the
 * schema (the benchmark measures the time; this test guards the count), and leaves the
 * session as it found it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_QUERY_COUNT } from '../../src/catalog/index.ts';
import { type QueryCounter, readSnapshot } from '../../src/catalog/snapshot.ts';
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
  it('runs the same number of catalog queries for 5 and for 300 tables', async () => {
    const counts: number[] = [];
    const sizes: number[] = [];
    for (const tables of [5, 300]) {
      const client = new pg.Client({ connectionString: await cluster.createDatabase() });
      await client.connect();
      await client.query(schemaOf(tables));
      const counter: QueryCounter = { queries: 0 };
      const snap = await readSnapshot(client, {}, counter);
      counts.push(counter.queries);
      sizes.push(snap.objects.length);
      await client.end();
    }
    expect(sizes[1]!).toBeGreaterThan(sizes[0]! * 30);
    expect(counts).toEqual([SNAPSHOT_QUERY_COUNT, SNAPSHOT_QUERY_COUNT]);
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
