/**
 * The catalog model on real PostgreSQL (15 and 17): for every object kind drift-gate
 * compares, a "live" copy of one schema is changed by hand and the diff must name that
 * object. Each remediation is then run: `restoreSql` on the changed copy, and
 * `captureSql` on the untouched one, must both bring the diff back to zero.
 * Unchanged copies give zero differences and identical fingerprints (the first test), so one
 * untouched copy's snapshot stands for the migrations' side in every test after it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogSnapshot, diffSnapshots, fingerprint, snapshot, type SchemaDifference } from '../../src/catalog/index.ts';
import { withDatabase } from '../../src/postgres/url.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { createFromTemplateSql, startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const BASE_SQL = `
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'drift_reader') then create role drift_reader nologin; end if;
end $$;
create schema app;
create extension pg_trgm with schema public version '1.6';
create type app.status as enum ('draft', 'live');
create domain app.email as text check (value ~ '@');
create type app.pair as (a int, b text);
create sequence app.counter start 10;
create table app.items (
  id bigint generated always as identity primary key,
  name text not null default 'x',
  status app.status not null default 'draft',
  price numeric(10, 2) constraint items_price_check check (price >= 0),
  total numeric generated always as (price * 2) stored,
  owner_email app.email,
  code text collate "C",
  unique (name)
);
create table app.tags (
  id serial primary key,
  item_id bigint references app.items (id) on delete cascade deferrable initially deferred,
  label text
);
create table app.zones (id int primary key, area circle, exclude using gist (area with &&));
create index items_name_lower on app.items (lower(name)) where status = 'live';
create view app.live_items with (security_invoker = true) as select id, name from app.items where status = 'live';
create materialized view app.item_counts as select status, count(*) as n from app.items group by status;
create function app.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create function app.add(a int, b int) returns int language sql immutable strict parallel safe set search_path = '' as $$ select a + b $$;
create procedure app.noop() language sql as $$ select 1 $$;
create trigger items_touch before update on app.items for each row execute function app.touch();
alter table app.items enable row level security;
create policy items_read on app.items for select to public using (status = 'live');
create policy items_write on app.items for insert to drift_reader with check (price > 0);
grant usage on schema app to drift_reader;
grant select on app.items to drift_reader;
grant select (label) on app.tags to drift_reader;
grant usage on sequence app.counter to drift_reader;
revoke execute on function app.add(int, int) from public;
alter default privileges in schema app grant select on tables to drift_reader;
comment on table app.items is 'items';
create publication drift_pub for table app.items;
`;

interface Mutation {
  name: string;
  sql: string;
  expect: { kind: string; schema?: string; name: string; change: SchemaDifference['change'] };
  /** The restore direction cannot be automated (PostgreSQL cannot remove an enum value). */
  noRestore?: boolean;
}

const MUTATIONS: Mutation[] = [
  { name: 'new schema', sql: 'create schema extra', expect: { kind: 'schema', name: 'extra', change: 'unexpected' } },
  { name: 'extension dropped', sql: 'drop extension pg_trgm', expect: { kind: 'extension', name: 'pg_trgm', change: 'missing' } },
  {
    name: 'enum value added',
    sql: "alter type app.status add value 'archived'",
    expect: { kind: 'enum', schema: 'app', name: 'status', change: 'changed' },
    noRestore: true,
  },
  { name: 'domain not null', sql: 'alter domain app.email set not null', expect: { kind: 'domain', schema: 'app', name: 'email', change: 'changed' } },
  {
    name: 'domain check',
    sql: "alter domain app.email drop constraint email_check; alter domain app.email add constraint email_check check (value ~ '@.')",
    expect: { kind: 'domain', schema: 'app', name: 'email', change: 'changed' },
  },
  {
    name: 'composite attribute',
    sql: 'alter type app.pair add attribute c int',
    expect: { kind: 'composite_type', schema: 'app', name: 'pair', change: 'changed' },
  },
  {
    name: 'sequence increment',
    sql: 'alter sequence app.counter increment by 5',
    expect: { kind: 'sequence', schema: 'app', name: 'counter', change: 'changed' },
  },
  { name: 'RLS disabled', sql: 'alter table app.items disable row level security', expect: { kind: 'table', schema: 'app', name: 'items', change: 'changed' } },
  { name: 'RLS forced', sql: 'alter table app.items force row level security', expect: { kind: 'table', schema: 'app', name: 'items', change: 'changed' } },
  {
    name: 'new table',
    sql: 'create table app.hotfix (id int primary key, note text not null)',
    expect: { kind: 'table', schema: 'app', name: 'hotfix', change: 'unexpected' },
  },
  { name: 'dropped table', sql: 'drop table app.zones', expect: { kind: 'table', schema: 'app', name: 'zones', change: 'missing' } },
  {
    name: 'column type',
    sql: 'alter table app.tags alter column label type varchar(20)',
    expect: { kind: 'column', schema: 'app', name: 'tags.label', change: 'changed' },
  },
  {
    name: 'column nullability',
    sql: 'alter table app.tags alter column label set not null',
    expect: { kind: 'column', schema: 'app', name: 'tags.label', change: 'changed' },
  },
  {
    name: 'column default',
    sql: "alter table app.items alter column name set default 'y'",
    expect: { kind: 'column', schema: 'app', name: 'items.name', change: 'changed' },
  },
  {
    name: 'column identity',
    sql: 'alter table app.items alter column id set generated by default',
    expect: { kind: 'column', schema: 'app', name: 'items.id', change: 'changed' },
  },
  {
    name: 'generated column',
    sql: 'alter table app.items drop column total; alter table app.items add column total numeric generated always as (price * 3) stored',
    expect: { kind: 'column', schema: 'app', name: 'items.total', change: 'changed' },
  },
  {
    name: 'column collation',
    sql: 'alter table app.items alter column code type text collate "POSIX"',
    expect: { kind: 'column', schema: 'app', name: 'items.code', change: 'changed' },
  },
  {
    name: 'new column',
    sql: 'alter table app.items add column note text',
    expect: { kind: 'column', schema: 'app', name: 'items.note', change: 'unexpected' },
  },
  { name: 'dropped column', sql: 'alter table app.tags drop column label', expect: { kind: 'column', schema: 'app', name: 'tags.label', change: 'missing' } },
  {
    name: 'primary key dropped',
    sql: 'alter table app.zones drop constraint zones_pkey',
    expect: { kind: 'constraint', schema: 'app', name: 'zones.zones_pkey', change: 'missing' },
  },
  {
    name: 'foreign key deferrability',
    sql: 'alter table app.tags alter constraint tags_item_id_fkey not deferrable',
    expect: { kind: 'constraint', schema: 'app', name: 'tags.tags_item_id_fkey', change: 'changed' },
  },
  {
    name: 'check changed',
    sql: 'alter table app.items drop constraint items_price_check; alter table app.items add constraint items_price_check check (price > 0)',
    expect: { kind: 'constraint', schema: 'app', name: 'items.items_price_check', change: 'changed' },
  },
  {
    name: 'unique dropped',
    sql: 'alter table app.items drop constraint items_name_key',
    expect: { kind: 'constraint', schema: 'app', name: 'items.items_name_key', change: 'missing' },
  },
  {
    name: 'exclusion dropped',
    sql: 'alter table app.zones drop constraint zones_area_excl',
    expect: { kind: 'constraint', schema: 'app', name: 'zones.zones_area_excl', change: 'missing' },
  },
  {
    name: 'partial index made total',
    sql: 'drop index app.items_name_lower; create index items_name_lower on app.items (lower(name))',
    expect: { kind: 'index', schema: 'app', name: 'items_name_lower', change: 'changed' },
  },
  {
    name: 'unique index added',
    sql: 'create unique index items_code_key on app.items (code)',
    expect: { kind: 'index', schema: 'app', name: 'items_code_key', change: 'unexpected' },
  },
  {
    name: 'view definition',
    sql: "create or replace view app.live_items with (security_invoker = true) as select id, name from app.items where status = 'draft'",
    expect: { kind: 'view', schema: 'app', name: 'live_items', change: 'changed' },
  },
  {
    name: 'view security_invoker',
    sql: 'alter view app.live_items reset (security_invoker)',
    expect: { kind: 'view', schema: 'app', name: 'live_items', change: 'changed' },
  },
  {
    name: 'view security_barrier',
    sql: 'alter view app.live_items set (security_barrier = true)',
    expect: { kind: 'view', schema: 'app', name: 'live_items', change: 'changed' },
  },
  {
    name: 'materialized view',
    sql: 'drop materialized view app.item_counts; create materialized view app.item_counts as select status from app.items',
    expect: { kind: 'materialized_view', schema: 'app', name: 'item_counts', change: 'changed' },
  },
  {
    name: 'function body',
    sql: "create or replace function app.add(a int, b int) returns int language sql immutable strict parallel safe set search_path = '' as $$ select a + b + 0 $$",
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  {
    name: 'function volatility',
    sql: 'alter function app.add(int, int) stable',
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  {
    name: 'function security definer',
    sql: 'alter function app.touch() security definer',
    expect: { kind: 'function', schema: 'app', name: 'touch()', change: 'changed' },
  },
  {
    name: 'function search_path',
    sql: 'alter function app.add(int, int) set search_path = public',
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  {
    name: 'function strictness',
    sql: 'alter function app.add(int, int) called on null input',
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  {
    name: 'function parallel safety',
    sql: 'alter function app.add(int, int) parallel unsafe',
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  {
    name: 'function language',
    sql: 'create or replace function app.touch() returns trigger language plpgsql as $$ begin return old; end $$',
    expect: { kind: 'function', schema: 'app', name: 'touch()', change: 'changed' },
  },
  { name: 'procedure dropped', sql: 'drop procedure app.noop()', expect: { kind: 'procedure', schema: 'app', name: 'noop()', change: 'missing' } },
  {
    name: 'trigger timing',
    sql: 'drop trigger items_touch on app.items; create trigger items_touch after update on app.items for each row execute function app.touch()',
    expect: { kind: 'trigger', schema: 'app', name: 'items.items_touch', change: 'changed' },
  },
  {
    name: 'trigger disabled',
    sql: 'alter table app.items disable trigger items_touch',
    expect: { kind: 'trigger', schema: 'app', name: 'items.items_touch', change: 'changed' },
  },
  {
    name: 'policy command',
    sql: "drop policy items_read on app.items; create policy items_read on app.items for all using (status = 'live')",
    expect: { kind: 'policy', schema: 'app', name: 'items.items_read', change: 'changed' },
  },
  {
    name: 'policy restrictive',
    sql: "drop policy items_read on app.items; create policy items_read on app.items as restrictive for select using (status = 'live')",
    expect: { kind: 'policy', schema: 'app', name: 'items.items_read', change: 'changed' },
  },
  {
    name: 'policy roles',
    sql: 'alter policy items_read on app.items to drift_reader',
    expect: { kind: 'policy', schema: 'app', name: 'items.items_read', change: 'changed' },
  },
  {
    name: 'policy using',
    sql: 'alter policy items_read on app.items using (true)',
    expect: { kind: 'policy', schema: 'app', name: 'items.items_read', change: 'changed' },
  },
  {
    name: 'policy with check',
    sql: 'alter policy items_write on app.items with check (price >= 0)',
    expect: { kind: 'policy', schema: 'app', name: 'items.items_write', change: 'changed' },
  },
  { name: 'table privilege', sql: 'grant insert on app.items to drift_reader', expect: { kind: 'table', schema: 'app', name: 'items', change: 'changed' } },
  {
    name: 'column privilege',
    sql: 'revoke select (label) on app.tags from drift_reader',
    expect: { kind: 'column', schema: 'app', name: 'tags.label', change: 'changed' },
  },
  {
    name: 'sequence privilege',
    sql: 'revoke usage on sequence app.counter from drift_reader',
    expect: { kind: 'sequence', schema: 'app', name: 'counter', change: 'changed' },
  },
  {
    name: 'function privilege',
    sql: 'grant execute on function app.add(int, int) to public',
    expect: { kind: 'function', schema: 'app', name: 'add(integer, integer)', change: 'changed' },
  },
  { name: 'schema privilege', sql: 'grant create on schema app to drift_reader', expect: { kind: 'schema', name: 'app', change: 'changed' } },
  {
    name: 'default privileges',
    sql: 'alter default privileges in schema app grant insert on tables to drift_reader',
    expect: { kind: 'default_privileges', schema: 'app', name: 'postgres:tables', change: 'changed' },
  },
  { name: 'comment', sql: "comment on column app.items.name is 'the name'", expect: { kind: 'column', schema: 'app', name: 'items.name', change: 'changed' } },
  { name: 'publication', sql: 'alter publication drift_pub add table app.tags', expect: { kind: 'publication', name: 'drift_pub', change: 'changed' } },
  {
    name: 'unmodeled kind',
    sql: 'create text search configuration app.simple2 (copy = simple)',
    expect: { kind: 'unmodeled', schema: 'app', name: 'text search configuration simple2', change: 'unexpected' },
    noRestore: true,
  },
];

describe.each(TEST_MAJORS)('catalog drift on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  let admin: pg.Client;
  let counter = 0;
  /** The snapshot of an untouched copy of drift_base: what the migrations say. */
  let untouched: CatalogSnapshot;

  async function copyOfBase(): Promise<{ url: string; client: pg.Client }> {
    const name = `copy_${counter++}`;
    await admin.query(createFromTemplateSql(name, 'drift_base', major));
    const url = withDatabase(cluster.url, name);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return { url, client };
  }

  beforeAll(async () => {
    cluster = await startTestCluster(major);
    admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('create database drift_base');
    const base = new pg.Client({ connectionString: withDatabase(cluster.url, 'drift_base') });
    await base.connect();
    await base.query(BASE_SQL);
    await base.end();
    const copy = await copyOfBase();
    untouched = await snapshot(copy.client);
    await copy.client.end();
  });
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  it('gives zero differences and equal fingerprints for two untouched copies', async () => {
    const a = await copyOfBase();
    const b = await copyOfBase();
    const [x, y] = [await snapshot(a.client), await snapshot(b.client)];
    expect(diffSnapshots(x, y)).toEqual([]);
    expect(fingerprint(x)).toBe(fingerprint(y));
    // and equal to the snapshot the tests below compare with
    expect(diffSnapshots(untouched, x)).toEqual([]);
    expect(fingerprint(untouched)).toBe(fingerprint(x));
    expect(JSON.parse(JSON.stringify(x))).toEqual(x);
    const kinds = new Set(x.objects.map((o) => o.kind));
    for (const kind of [
      'schema',
      'extension',
      'enum',
      'domain',
      'composite_type',
      'sequence',
      'table',
      'column',
      'constraint',
      'index',
      'view',
      'materialized_view',
      'function',
      'procedure',
      'trigger',
      'policy',
      'default_privileges',
      'publication',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    await a.client.end();
    await b.client.end();
  });

  it('reports an extension version difference as minor', async () => {
    const expected = await copyOfBase();
    const actual = await copyOfBase();
    await actual.client.query("drop extension pg_trgm; create extension pg_trgm with schema public version '1.5'");
    const diff = diffSnapshots(await snapshot(expected.client), await snapshot(actual.client));
    expect(diff.map((d) => [d.kind, d.name, d.minor])).toEqual([['extension', 'pg_trgm', true]]);
    expect(diff[0]!.restoreSql).toBe(`alter extension "pg_trgm" update to '1.6';`);
    await expected.client.end();
    await actual.client.end();
  });

  it.each(MUTATIONS)('$name is reported on the object, and both remediations converge', async (mutation) => {
    const expected = await copyOfBase();
    const actual = await copyOfBase();
    try {
      await actual.client.query(mutation.sql);
      const mutated = await snapshot(actual.client);
      const diff = diffSnapshots(untouched, mutated);
      const match = diff.find((d) => d.kind === mutation.expect.kind && d.name === mutation.expect.name && (d.schema ?? undefined) === mutation.expect.schema);
      expect(match, `differences: ${diff.map((d) => d.summary).join(' | ')}`).toBeDefined();
      expect(match!.change).toBe(mutation.expect.change);
      expect(match!.summary).toContain(mutation.expect.name);

      // capture: the hotfix, written as a migration, brings the migrations' side (an untouched copy) to the database's.
      for (const d of diff) if (d.captureSql.trim()) await expected.client.query(d.captureSql);
      expect(diffSnapshots(await snapshot(expected.client), mutated).map((d) => d.summary)).toEqual(mutation.noRestore ? expect.any(Array) : []);
      if (mutation.noRestore) return;

      // restore: the changed database goes back to what the migrations say (the capture did not touch it).
      for (const d of diff) if (d.restoreSql.trim()) await actual.client.query(d.restoreSql);
      expect(diffSnapshots(untouched, await snapshot(actual.client)).map((d) => d.summary)).toEqual([]);
    } finally {
      await expected.client.end();
      await actual.client.end();
    }
  });
});
