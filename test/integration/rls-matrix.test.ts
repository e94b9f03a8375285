/**
 * The behavioural access matrix on real PostgreSQL with the Supabase baseline: owner-only
 * policies, public-read tables, insert-only tables, a view without security_invoker over
 * an RLS table, a partitioned table, and service_role's bypass. Users A and B are created
 * by the matrix itself (no seed), rows are generated, and everything is rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessMatrix, buildAccessMatrix } from '../../src/gates/rls/matrix.ts';
import { matrixTable } from '../../src/gates/rls/render.ts';
import { TEST_MAJORS } from '../support/pg.ts';
import { type RlsCluster, startRlsCluster, withRlsClient } from './rls-support.ts';

const SCHEMA = `
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id),
  body text not null check (char_length(body) between 1 and 200)
);
alter table public.notes enable row level security;
create policy "own select" on public.notes for select to authenticated using (owner_id = (select auth.uid()));
create policy "own insert" on public.notes for insert to authenticated with check (owner_id = (select auth.uid()));
create policy "own update" on public.notes for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy "own delete" on public.notes for delete to authenticated using (owner_id = (select auth.uid()));

create table public.countries (code text primary key check (code ~ '^[a-z0-9]+$'), name text not null);
alter table public.countries enable row level security;
create policy "anyone reads" on public.countries for select to anon, authenticated using (true);
insert into public.countries values ('at', 'Austria'), ('pt', 'Portugal');

create table public.feedback (id bigint generated always as identity primary key, message text not null);
alter table public.feedback enable row level security;
revoke all on public.feedback from anon, authenticated;
grant insert on public.feedback to anon;
create policy "anyone sends feedback" on public.feedback for insert to anon with check (true);

create view public.notes_overview as select id, owner_id, body from public.notes;

create table public.events (id int not null, owner_id uuid references auth.users (id), at date not null) partition by range (at);
create table public.events_2030 partition of public.events for values from ('2030-01-01') to ('2031-01-01');
alter table public.events_2030 enable row level security;

create table public.unexposed_ok (id int);
revoke all on public.unexposed_ok from anon, authenticated;
`;

const cell = (matrix: AccessMatrix, table: string, actor: string) =>
  Object.fromEntries(Object.entries(matrix.rows.find((r) => r.object.name === table)?.cells[actor] ?? {}).map(([k, v]) => [k, v?.access]));

describe.each(TEST_MAJORS)('access matrix on PostgreSQL %i', (major) => {
  let rls: RlsCluster;
  let url: string;
  let matrix: AccessMatrix;

  beforeAll(async () => {
    rls = await startRlsCluster(major);
    url = await rls.fresh(SCHEMA);
    matrix = (await withRlsClient(url, (client) => buildAccessMatrix(client, { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'] }))).matrix;
  });
  afterAll(async () => {
    await rls?.stop();
  });

  it('has the four actors and every exposed table and view, but no partition', () => {
    expect(matrix.actors.map((a) => a.label)).toEqual(['anon', 'authenticated (A)', 'authenticated (B)', 'service_role']);
    expect(matrix.rows.map((r) => r.object.name)).toEqual(['countries', 'events', 'feedback', 'notes', 'notes_overview', 'unexposed_ok']);
  });

  it('owner-only policies: each user reaches only their own rows, anon nothing', () => {
    const own = { SELECT: 'own', INSERT: 'own', UPDATE: 'own', DELETE: 'own' };
    expect(cell(matrix, 'notes', 'user_a')).toEqual(own);
    expect(cell(matrix, 'notes', 'user_b')).toEqual(own);
    expect(cell(matrix, 'notes', 'anon')).toEqual({ SELECT: 'none', INSERT: 'none', UPDATE: 'none', DELETE: 'none' });
  });

  it('public-read table: everyone reads everything, nobody writes', () => {
    for (const actor of ['anon', 'user_a']) {
      expect(cell(matrix, 'countries', actor)).toEqual({ SELECT: 'all', INSERT: 'none', UPDATE: 'none', DELETE: 'none' });
    }
  });

  it('insert-only table: anon may insert, but has no grant to read, change or delete', () => {
    expect(cell(matrix, 'feedback', 'anon')).toEqual({ SELECT: 'no-grant', INSERT: 'all', UPDATE: 'no-grant', DELETE: 'no-grant' });
    expect(cell(matrix, 'feedback', 'user_a')).toEqual({ SELECT: 'no-grant', INSERT: 'no-grant', UPDATE: 'no-grant', DELETE: 'no-grant' });
  });

  it('a view without security_invoker hands every row of an RLS table to anon', () => {
    expect(cell(matrix, 'notes_overview', 'anon')).toEqual({ SELECT: 'all' });
    expect(cell(matrix, 'notes_overview', 'user_a')).toEqual({ SELECT: 'all' });
  });

  it('a partitioned parent without RLS exposes the rows of a partition that has RLS', () => {
    expect(cell(matrix, 'events', 'anon')).toMatchObject({ SELECT: 'all', DELETE: 'all' });
  });

  it('service_role bypasses row level security everywhere it has grants', () => {
    expect(cell(matrix, 'notes', 'service_role')).toEqual({ SELECT: 'all', INSERT: 'all', UPDATE: 'all', DELETE: 'all' });
    expect(cell(matrix, 'unexposed_ok', 'anon')).toEqual({ SELECT: 'no-grant', INSERT: 'no-grant', UPDATE: 'no-grant', DELETE: 'no-grant' });
  });

  it('rolls everything back: no users, rows or roles are left behind', async () => {
    await withRlsClient(url, async (client) => {
      expect((await client.query('select count(*)::int as n from auth.users')).rows[0].n).toBe(0);
      expect((await client.query('select count(*)::int as n from public.notes')).rows[0].n).toBe(0);
      expect((await client.query('select count(*)::int as n from public.countries')).rows[0].n).toBe(2);
    });
  });

  it('renders as a table with one row per object and actor', () => {
    const table = matrixTable(matrix);
    expect(table.columns).toEqual(['object', 'role', 'SELECT', 'INSERT', 'UPDATE', 'DELETE']);
    expect(table.rows).toContainEqual({ object: 'public.notes_overview (view)', role: 'anon', SELECT: 'allowed', INSERT: 'n/a', UPDATE: 'n/a', DELETE: 'n/a' });
    expect(table.rows).toContainEqual({
      object: 'public.notes',
      role: 'authenticated (A)',
      SELECT: 'own rows only',
      INSERT: 'own rows only',
      UPDATE: 'own rows only',
      DELETE: 'own rows only',
    });
  });
});
