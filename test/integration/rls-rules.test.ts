/**
 * Every rls-audit rule on real PostgreSQL with the Supabase baseline: it fires on a
 * minimal unsafe fixture and stays silent on the safe twin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRules } from '../../src/gates/rls/audit.ts';
import { RLS_RULES } from '../../src/gates/rls/rules.ts';
import { TEST_MAJORS } from '../support/pg.ts';
import { type RlsCluster, startRlsCluster, withRlsClient } from './rls-support.ts';

interface Case {
  rule: string;
  /** Label of the object the finding must name (schema.name). */
  object: string;
  unsafe: string;
  safe: string;
  exposed?: string[];
  forceRls?: boolean;
  /** Other (unsafe, safe) pairs for the same rule. */
  variant?: string;
}

const TABLE = 'create table public.t (id int primary key, owner_id uuid);';
const RLS = 'alter table public.t enable row level security;';

const CASES: Case[] = (
  [
    { rule: 'rls_disabled_in_public', object: 'public.t', unsafe: TABLE, safe: `${TABLE} ${RLS}` },
    {
      rule: 'rls_disabled_in_public',
      variant: 'write-only grant',
      object: 'public.t',
      unsafe: `${TABLE} revoke all on public.t from anon, authenticated; grant insert on public.t to anon;`,
      safe: `${TABLE} revoke all on public.t from anon, authenticated;`,
    },
    {
      rule: 'rls_disabled_in_public',
      variant: 'partitioned parent, RLS only on the partition',
      object: 'public.p',
      unsafe: `create table public.p (id int) partition by range (id); create table public.p1 partition of public.p for values from (0) to (10);
             alter table public.p1 enable row level security;`,
      safe: `create table public.p (id int) partition by range (id); create table public.p1 partition of public.p for values from (0) to (10);
           alter table public.p enable row level security; alter table public.p1 enable row level security;`,
    },
    {
      rule: 'rls_disabled_in_public',
      variant: 'schema USAGE',
      object: 'api.t',
      exposed: ['public', 'api'],
      unsafe: 'create schema api; create table api.t (id int); grant select on api.t to anon; grant usage on schema api to anon;',
      safe: 'create schema api; create table api.t (id int); grant select on api.t to anon;',
    },
    {
      rule: 'extension_table_exposed',
      object: 'public.spatial_ref_sys',
      unsafe: 'create table public.spatial_ref_sys (srid int primary key); alter extension pgcrypto add table public.spatial_ref_sys;',
      safe: 'create table public.spatial_ref_sys (srid int primary key); alter extension pgcrypto add table public.spatial_ref_sys; revoke all on public.spatial_ref_sys from anon, authenticated;',
    },
    {
      rule: 'policy_exists_rls_disabled',
      object: 'public.t',
      unsafe: `${TABLE} create policy p on public.t using (true);`,
      safe: `${TABLE} ${RLS} create policy p on public.t using (true);`,
    },
    {
      rule: 'rls_enabled_no_policy',
      object: 'public.t',
      unsafe: `${TABLE} ${RLS}`,
      safe: `${TABLE} ${RLS} create policy p on public.t for select using (owner_id = (select auth.uid()));`,
    },
    {
      rule: 'security_definer_view',
      object: 'public.v',
      unsafe: `${TABLE} ${RLS} create view public.v as select * from public.t;`,
      safe: `${TABLE} ${RLS} create view public.v with (security_invoker = on) as select * from public.t;`,
    },
    {
      rule: 'auth_users_exposed',
      object: 'public.user_emails',
      unsafe: 'create view public.user_emails as select id, email from auth.users;',
      safe: 'create view public.user_emails as select id, email from auth.users; revoke all on public.user_emails from anon, authenticated;',
    },
    {
      rule: 'materialized_view_in_api',
      object: 'public.mv',
      unsafe: 'create materialized view public.mv as select 1 as x;',
      safe: 'create materialized view public.mv as select 1 as x; revoke all on public.mv from anon, authenticated;',
    },
    {
      rule: 'foreign_table_in_api',
      object: 'public.ft',
      unsafe: 'create foreign data wrapper dummy; create server remote foreign data wrapper dummy; create foreign table public.ft (id int) server remote;',
      safe: 'create foreign data wrapper dummy; create server remote foreign data wrapper dummy; create foreign table public.ft (id int) server remote; revoke all on public.ft from anon, authenticated;',
    },
    {
      rule: 'sensitive_columns_exposed',
      object: 'public.accounts',
      unsafe: 'create table public.accounts (id int, email text, password text);',
      safe: 'create table public.accounts (id int, email text, password text); alter table public.accounts enable row level security;',
    },
    {
      rule: 'insecure_queue_exposed_in_api',
      object: 'pgmq.q_jobs',
      exposed: ['public', 'pgmq_public'],
      unsafe:
        'create schema pgmq; create schema pgmq_public; create table pgmq.q_jobs (msg_id bigint); grant usage on schema pgmq to anon; grant select on pgmq.q_jobs to anon;',
      safe: 'create schema pgmq; create schema pgmq_public; create table pgmq.q_jobs (msg_id bigint); grant usage on schema pgmq to anon; grant select on pgmq.q_jobs to anon; alter table pgmq.q_jobs enable row level security;',
    },
    { rule: 'storage_rls_disabled', object: 'storage.objects', unsafe: 'alter table storage.objects disable row level security;', safe: 'select 1;' },
    {
      rule: 'storage_policy_unscoped',
      object: 'storage.objects.read everything',
      unsafe: `create policy "read everything" on storage.objects for select to authenticated using (true);`,
      safe: `create policy "read everything" on storage.objects for select to authenticated using (bucket_id = 'docs' and owner_id = (select auth.uid())::text);`,
    },
    {
      rule: 'public_bucket_allows_listing',
      object: 'storage.pub',
      unsafe: `insert into storage.buckets (id, name, public) values ('pub', 'pub', true); create policy "list pub" on storage.objects for select using (bucket_id = 'pub');`,
      safe: `insert into storage.buckets (id, name, public) values ('pub', 'pub', true);
           create policy "list pub" on storage.objects for select using (bucket_id = 'pub' and (storage.foldername(name))[1] = (select auth.uid())::text);`,
    },
    {
      rule: 'rls_policy_always_true',
      object: 'public.t.anyone updates',
      unsafe: `${TABLE} ${RLS} create policy "anyone updates" on public.t for update to authenticated using (true); create policy "anyone reads" on public.t for select using (true);`,
      safe: `${TABLE} ${RLS} create policy "anyone updates" on public.t for update to authenticated using (owner_id = (select auth.uid())); create policy "anyone reads" on public.t for select using (true);`,
    },
    {
      rule: 'rls_references_user_metadata',
      object: 'public.t.staff',
      unsafe: `${TABLE} ${RLS} create policy staff on public.t for delete to authenticated using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'staff');`,
      safe: `${TABLE} ${RLS} create policy staff on public.t for delete to authenticated using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'staff');`,
    },
    {
      rule: 'policy_role_missing_grant',
      object: 'public.t.own rows',
      unsafe: `${TABLE} ${RLS} revoke all on public.t from authenticated; create policy "own rows" on public.t for select to authenticated using (owner_id = (select auth.uid()));`,
      safe: `${TABLE} ${RLS} create policy "own rows" on public.t for select to authenticated using (owner_id = (select auth.uid()));`,
    },
    {
      rule: 'rls_not_forced',
      object: 'public.t',
      forceRls: true,
      unsafe: `${TABLE} ${RLS}`,
      safe: `${TABLE} ${RLS} alter table public.t force row level security;`,
    },
    {
      rule: 'anon_security_definer_function_executable',
      object: 'public.f',
      unsafe: `create function public.f() returns int language sql security definer set search_path = '' as 'select 1';`,
      safe: `create function public.f() returns int language sql security definer set search_path = '' as 'select 1'; revoke execute on function public.f() from public, anon;
           create function public.tg() returns trigger language plpgsql security definer set search_path = '' as 'begin return new; end';`,
    },
    {
      rule: 'authenticated_security_definer_function_executable',
      object: 'public.f',
      unsafe: `create function public.f() returns int language sql security definer set search_path = '' as 'select 1'; revoke execute on function public.f() from public, anon;`,
      safe: `create function public.f() returns int language sql security invoker set search_path = '' as 'select 1';`,
    },
    {
      rule: 'function_search_path_mutable',
      object: 'public.g',
      unsafe: `create function public.g() returns int language sql as 'select 1';`,
      safe: `create function public.g() returns int language sql set search_path = '' as 'select 1';`,
    },
    {
      rule: 'extension_in_public',
      object: 'public.citext',
      unsafe: 'create extension citext with schema public;',
      safe: 'create extension citext with schema extensions;',
    },
    {
      rule: 'extension_versions_outdated',
      object: 'extensions.hstore',
      unsafe: `create extension hstore with schema extensions version '1.4';`,
      safe: 'create extension hstore with schema extensions;',
    },
    { rule: 'unsupported_reg_types', object: 'public.r.fn', unsafe: 'create table public.r (fn regproc);', safe: 'create table public.r (fn regclass);' },
    {
      rule: 'fkey_to_auth_unique',
      object: 'public.contacts.contacts_phone_fkey',
      unsafe: 'create table public.contacts (phone text references auth.users (phone));',
      safe: 'create table public.contacts (user_id uuid references auth.users (id));',
    },
    {
      // pg_graphql is not packaged for vanilla PostgreSQL: register the name in pg_extension.
      rule: 'pg_graphql_anon_table_exposed',
      object: 'public.t',
      unsafe: `${TABLE} ${RLS} insert into pg_catalog.pg_extension (oid, extname, extowner, extnamespace, extrelocatable, extversion)
             values (999999, 'pg_graphql', 10, 'extensions'::regnamespace, false, '1.5');`,
      safe: `${TABLE} ${RLS} revoke select on public.t from anon; insert into pg_catalog.pg_extension (oid, extname, extowner, extnamespace, extrelocatable, extversion)
           values (999999, 'pg_graphql', 10, 'extensions'::regnamespace, false, '1.5');`,
    },
    {
      rule: 'pg_graphql_authenticated_table_exposed',
      object: 'public.t',
      unsafe: `${TABLE} ${RLS} insert into pg_catalog.pg_extension (oid, extname, extowner, extnamespace, extrelocatable, extversion)
             values (999999, 'pg_graphql', 10, 'extensions'::regnamespace, false, '1.5');`,
      safe: `${TABLE} ${RLS}`,
    },
    {
      rule: 'auth_rls_initplan',
      object: 'public.t.own',
      unsafe: `${TABLE} ${RLS} create policy own on public.t for select to authenticated using (owner_id = auth.uid());`,
      safe: `${TABLE} ${RLS} create policy own on public.t for select to authenticated using (owner_id = (select auth.uid()));`,
    },
    {
      rule: 'multiple_permissive_policies',
      object: 'public.t',
      unsafe: `${TABLE} ${RLS} create policy a on public.t for select to authenticated using (owner_id = (select auth.uid()));
             create policy b on public.t for all to authenticated using (id = 1);`,
      safe: `${TABLE} ${RLS} create policy a on public.t for select to authenticated using (owner_id = (select auth.uid()) or id = 1);`,
    },
  ] as Case[]
).map((c) => ({ ...c, variant: c.variant ?? '' }));

describe.each(TEST_MAJORS)('rls-audit rules on PostgreSQL %i', (major) => {
  let rls: RlsCluster;
  beforeAll(async () => {
    rls = await startRlsCluster(major);
  });
  afterAll(async () => {
    await rls?.stop();
  });

  // As the gate runs them: a twin session takes a share of the policies and the other rules.
  const twinOf = (url: string) => ({ url, options: { gate: 'test', readOnly: true } });

  async function audit(sql: string, c: Case) {
    const url = await rls.fresh(sql);
    return withRlsClient(url, (client) =>
      runRules(client, { exposedSchemas: c.exposed ?? ['public'], apiRoles: ['anon', 'authenticated'], forceRls: c.forceRls ?? false }, twinOf(url)),
    );
  }

  it('prints policies alike once, but never across tables whose column names, or names where the text may name the table, differ', async () => {
    const url = await rls.fresh(`
      create table public.a (id int primary key, owner_id uuid); create table public.b (id int primary key, user_id uuid);
      create table public.c (id int primary key, owner_id uuid); create table public.d (id int primary key, owner_id uuid);
      alter table public.a enable row level security; alter table public.b enable row level security;
      alter table public.c enable row level security; alter table public.d enable row level security;
      create policy p on public.a for select to authenticated using (owner_id = auth.uid());
      create policy p on public.b for select to authenticated using (user_id = auth.uid());
      create policy p on public.c for select to authenticated using (owner_id = auth.uid() and num_nonnulls(c.*) > 0);
      create policy p on public.d for select to authenticated using (owner_id = auth.uid() and num_nonnulls(d.*) > 0);
      create table public.m (owner_id uuid);
      create table public.e (id int primary key, owner_id uuid); create table public.f (id int primary key, owner_id uuid);
      alter table public.e enable row level security; alter table public.f enable row level security;
      create policy p on public.e for select to authenticated using (id = 1 and auth.uid() is not null and exists (select 1 from public.m where m.owner_id = e.owner_id));
      create policy p on public.f for select to authenticated using (id = 1 and auth.uid() is not null and exists (select 1 from public.m where m.owner_id = f.owner_id));`);
    const findings = await withRlsClient(url, (client) =>
      runRules(client, { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: false }),
    );
    const using = Object.fromEntries(
      findings
        .filter((f) => f.rule === 'auth_rls_initplan')
        .map((f) => [f.object.name.split('.')[0], /using: ([\s\S]*?)\nwith check:/.exec(f.detail ?? '')?.[1]]),
    );
    expect(using.a).toMatch(/\bowner_id = auth\.uid\(\)/);
    expect(using.b).toMatch(/\buser_id = auth\.uid\(\)/);
    expect(using.c).toMatch(/num_nonnulls\(c\.\*\)/);
    expect(using.d).toMatch(/num_nonnulls\(d\.\*\)/);
    // in a sub-select the policy's own columns are written table.column
    expect(using.e).toMatch(/m\.owner_id = e\.owner_id/);
    expect(using.f).toMatch(/m\.owner_id = f\.owner_id/);
  });

  it('finds the same with a twin session as with one session, with policy findings from both shards', async () => {
    const tables = Array.from({ length: 24 }, (_, i) => {
      const t = `public.s${i}`;
      return `create table ${t} (id int primary key, owner_id uuid); alter table ${t} enable row level security;
        create policy w on ${t} for update to authenticated using (true);
        create policy r on ${t} for select to authenticated using (owner_id = auth.uid());
        create policy r2 on ${t} for select to authenticated using (id > 0);
        ${i % 2 ? `revoke delete on ${t} from authenticated; create policy d on ${t} for delete to authenticated using (id = 0);` : ''}`;
    });
    const url = await rls.fresh(`${tables.join('\n')} create table public.open (id int);`);
    const options = { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: false };
    const alone = await withRlsClient(url, (client) => runRules(client, options));
    const together = await withRlsClient(url, (client) => runRules(client, options, twinOf(url)));
    expect(together).toEqual(alone);
    const rules = new Set(alone.map((f) => f.rule));
    for (const rule of ['rls_policy_always_true', 'auth_rls_initplan', 'multiple_permissive_policies', 'policy_role_missing_grant', 'rls_disabled_in_public'])
      expect(rules).toContain(rule);
    // the tables' policies fall in both shards (the twin's: oid hash modulo 5 in 0 and 4)
    const shards = await withRlsClient(url, async (client) =>
      (
        await client.query<{ twin: boolean }>(
          `select distinct (hashoid(c.oid) & 2147483647) % 5 in (0, 4) as twin from pg_class c where c.relname ~ '^s[0-9]+$'`,
        )
      ).rows
        .map((r) => r.twin)
        .sort(),
    );
    expect(shards).toEqual([false, true]);
  });

  it('a fresh Supabase baseline gives no finding at all', async () => {
    expect(await audit('select 1', { rule: '', object: '', unsafe: '', safe: '' })).toEqual([]);
  });

  it('covers every catalog rule with a case', () => {
    expect(new Set(CASES.map((c) => c.rule))).toEqual(new Set(RLS_RULES.map((r) => r.id)));
  });

  it.each(CASES)('$rule $variant: fires on the unsafe fixture, silent on the safe twin', async (c) => {
    const unsafe = await audit(c.unsafe, c);
    const hits = unsafe.filter((f) => f.rule === c.rule);
    expect(
      hits.map((f) => `${f.object.schema}.${f.object.name}`),
      JSON.stringify(unsafe.map((f) => f.key)),
    ).toContain(c.object);
    for (const hit of hits) expect(hit.message.length).toBeGreaterThan(20);
    const safe = await audit(c.safe, c);
    expect(safe.filter((f) => f.rule === c.rule).map((f) => f.key)).toEqual([]);
  });

  it('keeps extension-owned tables out of rls_disabled_in_public and the partition out of everything', async () => {
    const findings = await audit(CASES.find((c) => c.rule === 'extension_table_exposed')!.unsafe, CASES[0]!);
    expect(findings.filter((f) => f.rule === 'rls_disabled_in_public')).toEqual([]);
    const partitioned = await audit(CASES.find((c) => c.variant?.startsWith('partitioned'))!.unsafe, CASES[0]!);
    expect(partitioned.some((f) => f.object.name === 'p1')).toBe(false);
  });

  it('reports rls_not_forced only when the repo config opts in', async () => {
    const findings = await audit(`${TABLE} ${RLS}`, { ...CASES[0]!, forceRls: false });
    expect(findings.filter((f) => f.rule === 'rls_not_forced')).toEqual([]);
  });

  it('reads the database read-only: works in a read-only session', async () => {
    const url = await rls.fresh(TABLE);
    const findings = await withRlsClient(url, async (client) => {
      await client.query('set default_transaction_read_only = on');
      return runRules(client, { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: false }, twinOf(url));
    });
    expect(findings.map((f) => f.rule)).toContain('rls_disabled_in_public');
  });
});
