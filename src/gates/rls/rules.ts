/**
 * rls-audit's rules. Each is a record: id, default severity, category, doc, and one SQL
 * query returning the offending objects (`kind, schema, name` plus the facts its message
 * needs). All queries run together as one statement over shared CTEs (see audit.ts), so
 * the catalog and privileges are read once (with a twin session, the policies are split
 * between two such statements by table).
 *
 * Written from the documented conditions of Supabase's splinter lints (ids kept so that
 * splinter users recognise them) and from its verified gaps; no splinter SQL is used.
 *
 * Shared CTEs available to every query (parameters: $1 exposed schemas, $2 API roles,
 * the first being the anonymous one, $3 system schemas):
 *   api_role(oid, role, anonymous)              the API roles that exist
 *   user_schema(oid, schema)                    schemas that are the project's
 *   relation(oid, schema, name, relkind, rls, forced, exposed, extension_owned, invoker, owner)
 *                                               tables, views, matviews, foreign tables (no partitions)
 *   exposure(relation columns..., role, anonymous, privileges)
 *                                               one row per exposed relation and API role that has
 *                                               USAGE on its schema and at least one privilege on it
 *   policy(oid, table_oid, schema, table_name, name, command, permissive, roles, using_expr, check_expr,
 *          using_squeezed, check_squeezed, exprs, exprs_unwrapped)
 *                                               policies on project tables, storage and realtime; the
 *                                               expressions also lower-cased without blanks and parentheses
 *                                               (`squeezed`), both in one string (`exprs`), and that string
 *                                               without Supabase's wrapped claim calls such as
 *                                               `( SELECT auth.uid() AS uid)` (`exprs_unwrapped`), each
 *                                               computed once per distinct text
 */
import { findingOf, type Rule } from '../../findings/rules.ts';
import type { Severity } from '../../findings/types.ts';
import { unwrappedClaimCalls } from './policy-text.ts';

export type Row = Record<string, unknown>;

export interface RlsRule extends Rule {
  gate: 'rls';
  /** SELECT returning `kind, schema, name` and rule-specific columns, one row per offending object. */
  query: string;
  /** Relations the query reads that may not exist (e.g. storage.buckets); the rule is skipped without them. */
  needs?: readonly string[];
  /** Only when the repo config switches it on. */
  optIn?: 'force-rls';
  /** Keeps only the rows that offend, for conditions easier to state in TypeScript. */
  keep?: (row: Row) => boolean;
  /** Keys of the shadow's origins map (`kind:schema.name`) that locate the finding, when not the object itself. */
  origin?: (row: Row) => string[];
  describe: (row: Row) => { message: string; detail?: string; remediation?: string };
}

const q = (schema: unknown, name: unknown) => `${String(schema)}.${String(name)}`;
const ident = (name: unknown) => (/^[a-z_][a-z0-9_]*$/.test(String(name)) ? String(name) : `"${String(name).replace(/"/g, '""')}"`);
const qi = (schema: unknown, name: unknown) => `${ident(schema)}.${ident(name)}`;
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const accessText = (value: unknown): string =>
  Object.entries((value ?? {}) as Record<string, string[]>)
    .map(([role, privileges]) => `${role} can ${privileges.join(', ')}`)
    .join('; ');

/** Column names that hold secrets or personal data (matched exactly, case-insensitively). */
export const SENSITIVE_COLUMN_NAMES: readonly string[] = [
  'password',
  'passwd',
  'password_hash',
  'hashed_password',
  'encrypted_password',
  'pass_hash',
  'pin',
  'pin_code',
  'secret',
  'secret_key',
  'client_secret',
  'api_key',
  'apikey',
  'api_secret',
  'access_key',
  'secret_access_key',
  'token',
  'access_token',
  'refresh_token',
  'auth_token',
  'session_token',
  'id_token',
  'bearer_token',
  'jwt',
  'private_key',
  'ssh_key',
  'signing_key',
  'otp',
  'otp_secret',
  'totp_secret',
  'mfa_secret',
  'recovery_code',
  'recovery_codes',
  'ssn',
  'social_security_number',
  'tax_id',
  'national_id',
  'passport',
  'passport_number',
  'drivers_license',
  'driver_license_number',
  'credit_card',
  'credit_card_number',
  'card_number',
  'cc_number',
  'cvv',
  'cvc',
  'card_cvv',
  'iban',
  'bic',
  'swift',
  'account_number',
  'bank_account',
  'bank_account_number',
  'routing_number',
  'date_of_birth',
  'dob',
  'birth_date',
  'birthdate',
  'medical_record',
  'health_record',
  'diagnosis',
];

/** reg* types stored in user tables that pg_upgrade cannot carry over (their OIDs change). */
export const UPGRADE_BLOCKING_REG_TYPES: readonly string[] = [
  'regcollation',
  'regconfig',
  'regdictionary',
  'regnamespace',
  'regoper',
  'regoperator',
  'regproc',
  'regprocedure',
];

/** A query rule of rls-audit, keeping its literal id (so that the catalog's rule ids stay a union). */
function rule<const Id extends string>(record: Omit<RlsRule, 'gate'> & { id: Id }): RlsRule & { id: Id } {
  return { gate: 'rls', ...record };
}

function policyKey(row: Row): string {
  return `policy "${String(row.policy)}" on ${q(row.schema, row.table_name)}`;
}

/** Policy rules report the policy as `<table>.<policy>` in the table's schema. */
const POLICY_OBJECT = `'policy' as kind, p.schema, p.table_name || '.' || p.name as name, p.table_name, p.name as policy`;

const severityOf = (level: 'ERROR' | 'WARN' | 'INFO'): Severity => (level === 'ERROR' ? 'error' : level === 'WARN' ? 'warning' : 'notice');

export const RLS_RULES = [
  rule({
    id: 'rls_disabled_in_public',
    severity: severityOf('ERROR'),
    category: 'security',
    title: 'Exposed table without row level security',
    doc: "A table (or partitioned table) in a schema the Data API exposes has row level security off, and an API role (`anon`, `authenticated`, ...) has USAGE on its schema and a privilege on it. Anyone with the project's public anon key can then read or change every row. Unlike splinter's lint of the same name, every privilege counts (a table anon can only INSERT into is still writable by anyone), the schema USAGE privilege is taken into account, and the partitioned parent is checked: PostgREST exposes the parent and hides its partitions, and RLS enabled on a partition does not protect rows read through the parent. Tables owned by an extension are reported separately (`extension_table_exposed`). Fix: `alter table <table> enable row level security;` and add policies for what each role may do; or revoke the API roles' privileges (`revoke all on <table> from anon, authenticated;`); or move the table to a schema that is not exposed. Allowlist a table that is public on purpose (reference data) with a reason. One cause, one finding: in a pull request the access diff's `rls_matrix_access_changed` for the table is folded into this finding as detail, and this finding is folded into `sensitive_columns_exposed` or `policy_exists_rls_disabled` when one of those reports the table.",
    query: `
      select 'table' as kind, e.schema, e.name, e.relkind, jsonb_object_agg(e.role, e.privileges order by e.role) as access
      from exposure e
      where e.relkind in ('r', 'p') and not e.rls and not e.extension_owned
      group by e.schema, e.name, e.relkind`,
    describe: (row) => ({
      message: `${row.relkind === 'p' ? 'Partitioned table' : 'Table'} ${q(row.schema, row.name)} is exposed through the Data API without row level security: ${accessText(row.access)}.`,
      ...(row.relkind === 'p'
        ? { detail: 'PostgREST exposes the partitioned parent; RLS enabled on its partitions does not apply to rows read or written through the parent.' }
        : {}),
      remediation: `alter table ${qi(row.schema, row.name)} enable row level security;  -- then create policies for each role, or revoke the API roles' privileges`,
    }),
  }),
  rule({
    id: 'extension_table_exposed',
    severity: 'notice',
    category: 'security',
    title: 'Extension-owned table exposed without row level security',
    doc: "A table created by an extension (for example PostGIS's `spatial_ref_sys`) sits in an exposed schema without row level security and an API role can reach it. It is reported as a notice rather than an error because the project usually cannot alter an extension's table (`must be owner`). Check that its contents are public; otherwise install the extension in the `extensions` schema (`create extension ... with schema extensions`) or revoke the API roles' privileges on the table. Allowlist it when the data is public reference data.",
    query: `
      select 'table' as kind, e.schema, e.name, jsonb_object_agg(e.role, e.privileges order by e.role) as access
      from exposure e
      where e.relkind in ('r', 'p') and not e.rls and e.extension_owned
      group by e.schema, e.name`,
    describe: (row) => ({
      message: `Extension-owned table ${q(row.schema, row.name)} is exposed without row level security (${accessText(row.access)}); it was left out of rls_disabled_in_public because the project cannot change it.`,
      remediation: `revoke all on ${qi(row.schema, row.name)} from anon, authenticated;  -- or install the extension in schema extensions`,
    }),
  }),
  rule({
    id: 'policy_exists_rls_disabled',
    severity: 'error',
    category: 'security',
    title: 'Policies exist but row level security is disabled',
    doc: "The table has policies, but row level security is not enabled on it, so PostgreSQL ignores every policy and the grants alone decide. This is almost always a forgotten `enable row level security` (or one dropped by a later migration). Fix: `alter table <table> enable row level security;`. Allowlisting this is rarely right; drop the unused policies instead. On an exposed table, `rls_disabled_in_public` and the pull request's `rls_matrix_access_changed` are folded into this finding as detail (one cause, one finding), and this finding is folded into `sensitive_columns_exposed` when that reports the table.",
    query: `
      select 'table' as kind, n.schema, c.relname::text as name, array_agg(pol.polname::text order by pol.polname) as policies
      from pg_catalog.pg_class c
      join user_schema n on n.oid = c.relnamespace
      join pg_catalog.pg_policy pol on pol.polrelid = c.oid
      where c.relkind in ('r', 'p') and not c.relrowsecurity
      group by n.schema, c.relname`,
    describe: (row) => ({
      message: `Table ${q(row.schema, row.name)} has ${list(row.policies).length} polic${list(row.policies).length === 1 ? 'y' : 'ies'} (${list(row.policies).join(', ')}) but row level security is disabled, so they are ignored.`,
      remediation: `alter table ${qi(row.schema, row.name)} enable row level security;`,
    }),
  }),
  rule({
    id: 'rls_enabled_no_policy',
    severity: 'notice',
    category: 'security',
    title: 'Row level security enabled with no policy (deny-all)',
    doc: 'Row level security is on and the table has no policy, so the API roles see and change nothing (only the owner and roles with BYPASSRLS such as `service_role` can). That is safe, and often intended for tables written by the service role; it is also a common reason for "my query returns nothing". Add policies for what the API roles should do, or allowlist the table with the reason it is service-role only.',
    query: `
      select 'table' as kind, r.schema, r.name
      from relation r
      where r.exposed and r.relkind in ('r', 'p') and r.rls and not r.extension_owned
        and not exists (select 1 from pg_catalog.pg_policy pol where pol.polrelid = r.oid)`,
    describe: (row) => ({
      message: `Table ${q(row.schema, row.name)} has row level security enabled and no policy: the API roles can neither read nor change any row.`,
      remediation: `create policy "..." on ${qi(row.schema, row.name)} for select to authenticated using (...);  -- or allowlist it if only the service role uses it`,
    }),
  }),
  rule({
    id: 'security_definer_view',
    severity: 'error',
    category: 'security',
    title: 'View bypasses row level security (no security_invoker)',
    doc: "A view in an exposed schema that API roles can SELECT runs with its owner's privileges unless it was created `with (security_invoker = on)` (PostgreSQL 15+). The owner is usually the migration role, which owns the underlying tables and so bypasses their row level security: the view hands every row to anyone. Fix: `alter view <view> set (security_invoker = on);` (the caller then needs SELECT on the underlying tables and passes through their policies), or revoke the API roles' SELECT on the view, or move it to a schema that is not exposed. Allowlist a view that deliberately publishes aggregate or public data. PostgreSQL 13 and 14 have no `security_invoker`: every view there runs with its owner's rights, so every view the API roles can read is reported, with the fixes those versions allow (revoke, move, or upgrade). In a pull request the access diff's `rls_matrix_access_changed` for the view is folded into this finding as detail; when the view reads `auth.users`, this finding is folded into `auth_users_exposed`.",
    query: `
      select 'view' as kind, e.schema, e.name, array_agg(e.role order by e.role) as roles,
             pg_catalog.current_setting('server_version_num')::int >= 150000 as invoker_supported
      from exposure e
      where e.relkind = 'v' and not e.invoker and not e.extension_owned and 'SELECT' = any(e.privileges)
      group by e.schema, e.name`,
    describe: (row) => ({
      message: `View ${q(row.schema, row.name)} runs with its owner's rights (no security_invoker), so ${list(row.roles).join(' and ')} read${list(row.roles).length === 1 ? 's' : ''} through it without the underlying tables' row level security.`,
      remediation: row.invoker_supported
        ? `alter view ${qi(row.schema, row.name)} set (security_invoker = on);`
        : `revoke select on ${qi(row.schema, row.name)} from ${list(row.roles).join(', ')};  -- PostgreSQL < 15 has no security_invoker: revoke, move the view out of the exposed schemas, or upgrade`,
    }),
  }),
  rule({
    id: 'auth_users_exposed',
    severity: 'error',
    category: 'security',
    title: 'View or materialized view exposes auth.users',
    doc: "A view or materialized view in an exposed schema reads `auth.users`, and API roles can SELECT it, while nothing protects the rows: it is a materialized view (no RLS at all), a view without `security_invoker`, or `auth.users` has row level security off. Every user's email, phone and metadata become readable through the API. Fix: select only what is needed from a `security_invoker` view over a table of your own (e.g. `public.profiles`), or revoke the API roles' SELECT, or move it out of the exposed schemas. `security_definer_view` or `materialized_view_in_api` for the same view, and a pull request's `rls_matrix_access_changed` for it, are folded into this finding as detail (one cause, one finding).",
    query: `
      select distinct case when e.relkind = 'm' then 'materialized view' else 'view' end as kind, e.schema, e.name, e.relkind
      from exposure e
      join pg_catalog.pg_rewrite rw on rw.ev_class = e.oid
      join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = rw.oid and d.refclassid = 'pg_catalog.pg_class'::regclass
      join pg_catalog.pg_class u on u.oid = d.refobjid and u.relname = 'users'
      join pg_catalog.pg_namespace un on un.oid = u.relnamespace and un.nspname = 'auth'
      where e.relkind in ('v', 'm') and 'SELECT' = any(e.privileges)
        and (e.relkind = 'm' or not e.invoker or not u.relrowsecurity)`,
    describe: (row) => ({
      message: `${row.relkind === 'm' ? 'Materialized view' : 'View'} ${q(row.schema, row.name)} exposes auth.users to the API roles.`,
      remediation:
        row.relkind === 'm'
          ? `revoke select on ${qi(row.schema, row.name)} from anon, authenticated;`
          : `alter view ${qi(row.schema, row.name)} set (security_invoker = on);  -- or revoke select from the API roles`,
    }),
  }),
  rule({
    id: 'materialized_view_in_api',
    severity: 'warning',
    category: 'security',
    title: 'Materialized view readable through the API',
    doc: "Materialized views have no row level security: an API role that can SELECT one reads all of its rows. Fix: revoke SELECT from the API roles, or move the materialized view to a schema that is not exposed and read it through a function that checks the caller. Allowlist it when its contents are public. In a pull request the access diff's `rls_matrix_access_changed` for it is folded into this finding as detail; when it reads `auth.users`, this finding is folded into `auth_users_exposed`.",
    query: `
      select 'materialized view' as kind, e.schema, e.name, array_agg(e.role order by e.role) as roles
      from exposure e
      where e.relkind = 'm' and not e.extension_owned and 'SELECT' = any(e.privileges)
      group by e.schema, e.name`,
    describe: (row) => ({
      message: `Materialized view ${q(row.schema, row.name)} is readable by ${list(row.roles).join(', ')} through the API; materialized views have no row level security.`,
      remediation: `revoke select on ${qi(row.schema, row.name)} from ${list(row.roles).join(', ')};`,
    }),
  }),
  rule({
    id: 'foreign_table_in_api',
    severity: 'warning',
    category: 'security',
    title: 'Foreign table readable through the API',
    doc: "Foreign tables cannot have row level security: an API role that can SELECT one reads whatever the remote server returns. Fix: revoke the API roles' privileges or move the foreign table to a schema that is not exposed. Allowlist it when that is intended. In a pull request the access diff's `rls_matrix_access_changed` for it is folded into this finding as detail.",
    query: `
      select 'foreign table' as kind, e.schema, e.name, array_agg(e.role order by e.role) as roles
      from exposure e
      where e.relkind = 'f' and not e.extension_owned and 'SELECT' = any(e.privileges)
      group by e.schema, e.name`,
    describe: (row) => ({
      message: `Foreign table ${q(row.schema, row.name)} is readable by ${list(row.roles).join(', ')} through the API; foreign tables have no row level security.`,
      remediation: `revoke all on ${qi(row.schema, row.name)} from ${list(row.roles).join(', ')};`,
    }),
  }),
  rule({
    id: 'sensitive_columns_exposed',
    severity: 'error',
    category: 'security',
    title: 'Sensitive columns in an exposed table without row level security',
    doc: "An exposed table without row level security that an API role can SELECT has columns whose names suggest secrets or personal data (password, token, api_key, ssn, iban, cvv, date_of_birth, ...). It takes the place of `rls_disabled_in_public` for the table because the impact is worse: that finding, `policy_exists_rls_disabled` and a pull request's `rls_matrix_access_changed` for the table are folded into it as detail (one cause, one finding), so an allowlist entry for `rls_disabled_in_public` does not accept exposed secrets. Fix: enable row level security with policies, revoke the column (`revoke select (col) on ... from anon, authenticated`), or move the data to a private schema.",
    query: `
      select 'table' as kind, e.schema, e.name, array_agg(distinct a.attname::text order by a.attname::text) as columns,
             array_agg(distinct e.role order by e.role) as roles
      from exposure e
      join pg_catalog.pg_attribute a on a.attrelid = e.oid and a.attnum > 0 and not a.attisdropped
      cross join ctx
      where e.relkind in ('r', 'p') and not e.rls and not e.extension_owned and 'SELECT' = any(e.privileges)
        and lower(a.attname) = any(ctx.sensitive_names)
        and pg_catalog.has_column_privilege((select r.oid from api_role r where r.role = e.role), e.oid, a.attnum, 'SELECT')
      group by e.schema, e.name`,
    describe: (row) => ({
      message: `Table ${q(row.schema, row.name)} has no row level security and ${list(row.roles).join(', ')} can read its sensitive column${list(row.columns).length === 1 ? '' : 's'} ${list(row.columns).join(', ')}.`,
      remediation: `alter table ${qi(row.schema, row.name)} enable row level security;  -- and add policies`,
    }),
  }),
  rule({
    id: 'insecure_queue_exposed_in_api',
    severity: 'error',
    category: 'security',
    title: 'pgmq queue table readable through the exposed pgmq_public schema',
    doc: "Schema `pgmq_public` is exposed (Supabase Queues' API) and a queue table `pgmq.q_<queue>` has row level security off while an API role can read it, so anyone with the anon key can read or pop messages. Fix: `alter table pgmq.q_<queue> enable row level security;` with policies, or revoke the API roles' privileges on the queue.",
    query: `
      select 'table' as kind, n.nspname::text as schema, c.relname::text as name, array_agg(r.role order by r.role) as roles
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace and n.nspname = 'pgmq'
      join api_role r on pg_catalog.has_any_column_privilege(r.oid, c.oid, 'SELECT') and pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
      cross join ctx
      where c.relkind in ('r', 'p') and c.relname like 'q\\_%' and not c.relrowsecurity and 'pgmq_public' = any(ctx.exposed)
      group by n.nspname, c.relname`,
    describe: (row) => ({
      message: `Queue table ${q(row.schema, row.name)} has no row level security and is readable by ${list(row.roles).join(', ')} while pgmq_public is exposed.`,
      remediation: `alter table ${qi(row.schema, row.name)} enable row level security;`,
    }),
  }),
  rule({
    id: 'storage_rls_disabled',
    severity: 'error',
    category: 'security',
    title: 'Row level security off on a Storage table',
    doc: "Supabase Storage runs every request as the caller's API role against `storage.objects` and `storage.buckets`; their row level security is what keeps private files private. With it off (a migration disabled it, or a self-hosted setup never enabled it), anyone can list, download, overwrite or delete every file. Fix: `alter table storage.objects enable row level security;` (the same for `storage.buckets`).",
    query: `
      select 'table' as kind, n.nspname::text as schema, c.relname::text as name, array_agg(r.role order by r.role) as roles
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace and n.nspname = 'storage'
      join api_role r on pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
      where c.relname in ('objects', 'buckets') and c.relkind = 'r' and not c.relrowsecurity
      group by n.nspname, c.relname`,
    describe: (row) => ({
      message: `${q(row.schema, row.name)} has row level security disabled, so ${list(row.roles).join(', ')} can reach every Storage ${row.name === 'objects' ? 'file' : 'bucket'}.`,
      remediation: `alter table ${qi(row.schema, row.name)} enable row level security;`,
    }),
  }),
  rule({
    id: 'storage_policy_unscoped',
    severity: 'warning',
    category: 'security',
    title: 'Storage policy not limited to a bucket',
    doc: "A permissive policy on `storage.objects` for the API roles does not mention `bucket_id`, so it applies to every bucket, private ones included: a policy written for one bucket lets its users read or change files in all the others (policies are combined with OR). Fix: add `bucket_id = '<bucket>'` to the policy's USING and WITH CHECK. Allowlist a policy that is meant to span buckets.",
    query: `
      select ${POLICY_OBJECT}, p.command, p.using_expr, p.check_expr
      from policy p
      where p.schema = 'storage' and p.table_name = 'objects' and p.permissive and p.for_api_roles`,
    keep: (row) => {
      const scoped = (expr: unknown) => typeof expr === 'string' && /\bbucket_id\b/.test(expr);
      return row.command === 'INSERT' ? !scoped(row.check_expr) : !scoped(row.using_expr);
    },
    describe: (row) => ({
      message: `Storage ${policyKey(row)} (${String(row.command)}) does not restrict bucket_id, so it applies to every bucket.`,
      remediation: `alter policy "${String(row.policy)}" on storage.objects using (bucket_id = '<bucket>' and ...);`,
    }),
  }),
  rule({
    id: 'public_bucket_allows_listing',
    severity: 'warning',
    category: 'security',
    title: 'Public bucket allows listing every file',
    doc: "Files in a public bucket can be fetched by URL without any policy. A SELECT policy on `storage.objects` that lets anyone (PUBLIC, anon or authenticated) read the bucket's rows without further conditions (`bucket_id = '<bucket>'` alone, `true`, or no condition) additionally lets clients list every file name, which is rarely intended. Fix: drop the SELECT policy (public URLs keep working), or add a condition such as the owner's folder. Allowlist the bucket when listing is a feature.",
    needs: ['storage.buckets'],
    query: `
      select 'bucket' as kind, 'storage' as schema, b.id::text as name, array_agg(p.name order by p.name) as policies
      from storage.buckets b
      join policy p on p.schema = 'storage' and p.table_name = 'objects' and p.permissive and p.for_api_roles
        and p.command in ('SELECT', 'ALL')
      where b.public
        and (p.using_expr is null
             or lower(translate(p.using_expr, E' \\n\\t()', '')) in ('true', '1=1')
             or translate(p.using_expr, E' \\n\\t()', '') in ('bucket_id=''' || b.id || '''::text', 'bucket_id=''' || b.id || ''''))
      group by b.id`,
    origin: (row) => list(row.policies).map((policy) => `policy:storage.objects.${policy}`),
    describe: (row) => ({
      message: `Public bucket ${String(row.name)} can be listed by anyone: policy ${list(row.policies)
        .map((p) => `"${p}"`)
        .join(', ')} on storage.objects allows SELECT of all its files.`,
      remediation: `drop policy "${list(row.policies)[0] ?? '...'}" on storage.objects;  -- public URLs keep working without it`,
    }),
  }),
  rule({
    id: 'rls_policy_always_true',
    severity: 'warning',
    category: 'security',
    title: 'Always-true policy for writes',
    doc: "A permissive UPDATE, DELETE, INSERT or ALL policy for PUBLIC or an API role has a condition that is always true (`using (true)`, `with check (true)`, `1 = 1`, or no WITH CHECK on INSERT), so every caller with the role may change or delete every row, or write rows on anyone's behalf. Always-true SELECT policies are left alone: public read is a common, deliberate choice (in a pull request the access diff lists it as a notice, or as an error on a table in `rls.private-tables`). Fix: restrict the condition, e.g. `using (owner_id = (select auth.uid()))`. Allowlist policies that are deliberately open.",
    query: `
      select ${POLICY_OBJECT}, p.command, p.using_expr, p.check_expr
      from policy p
      where p.permissive and p.for_api_roles and p.command <> 'SELECT'
        and (coalesce(case when p.command = 'INSERT' then p.check_squeezed else p.using_squeezed end, 'true') in ('true', '1=1')
             or (p.command <> 'INSERT' and p.check_squeezed in ('true', '1=1')))`,
    describe: (row) => ({
      message: `${policyKey(row)[0]!.toUpperCase()}${policyKey(row).slice(1)} lets every caller ${String(row.command) === 'ALL' ? 'read and change' : String(row.command).toLowerCase()} any row: its condition is always true.`,
      detail: `using: ${String(row.using_expr ?? '(none)')}\nwith check: ${String(row.check_expr ?? '(none)')}`,
      remediation: `alter policy "${String(row.policy)}" on ${qi(row.schema, row.table_name)} using (<owner column> = (select auth.uid())) with check (<owner column> = (select auth.uid()));`,
    }),
  }),
  rule({
    id: 'rls_references_user_metadata',
    severity: 'error',
    category: 'security',
    title: 'Policy trusts user_metadata from the JWT',
    doc: 'The policy reads `user_metadata` from the JWT (`auth.jwt()` or `request.jwt.claims`). Users can change their own `user_metadata` at any time (`supabase.auth.updateUser({ data })`), so a policy that decides roles or ownership from it can be bypassed by anyone. Fix: use `app_metadata` (only the service role can set it), or a table of roles maintained by the server.',
    query: `
      select ${POLICY_OBJECT}, p.command, p.using_expr, p.check_expr
      from policy p
      where p.exprs ~* '(auth\\.jwt\\(\\)|request\\.jwt\\.claims).*user_metadata'`,
    describe: (row) => ({
      message: `${policyKey(row)[0]!.toUpperCase()}${policyKey(row).slice(1)} decides access from user_metadata in the JWT, which every user can edit for themselves.`,
      detail: `using: ${String(row.using_expr ?? '(none)')}\nwith check: ${String(row.check_expr ?? '(none)')}`,
      remediation: "Read the role from app_metadata instead: (select auth.jwt()) -> 'app_metadata' ->> 'role', or from a table the server maintains.",
    }),
  }),
  rule({
    id: 'policy_role_missing_grant',
    severity: 'notice',
    category: 'security',
    title: 'Policy for an API role that lacks the privilege',
    doc: 'A policy names an API role for a command, but the role has no privilege for that command on the table (or no USAGE on its schema), so requests fail with "permission denied" before the policy is even consulted. Not a hole, a broken feature: either grant the privilege (`grant select on <table> to authenticated;`) or drop the policy if the command should not be allowed.',
    query: `
      select ${POLICY_OBJECT}, p.command, array_agg(r.role order by r.role) as roles
      from policy p
      join api_role r on r.oid = any(p.roles)
      cross join lateral unnest(case when p.command = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] else array[p.command] end) as cmd(name)
      where not (pg_catalog.has_schema_privilege(r.oid, p.schema_oid, 'USAGE')
                 and case when cmd.name = 'DELETE' then pg_catalog.has_table_privilege(r.oid, p.table_oid, 'DELETE')
                          else pg_catalog.has_any_column_privilege(r.oid, p.table_oid, cmd.name) end)
        and p.schema <> 'storage' and p.schema <> 'realtime'
      group by p.schema, p.table_name, p.name, p.command`,
    describe: (row) => ({
      message: `${policyKey(row)[0]!.toUpperCase()}${policyKey(row).slice(1)} applies to ${list(row.roles).join(', ')} for ${String(row.command)}, but ${list(row.roles).length === 1 ? 'that role lacks' : 'those roles lack'} the privilege, so the policy never takes effect.`,
      remediation: `grant ${row.command === 'ALL' ? 'select, insert, update, delete' : String(row.command).toLowerCase()} on ${qi(row.schema, row.table_name)} to ${list(row.roles).join(', ')};  -- or drop the policy`,
    }),
  }),
  rule({
    id: 'rls_not_forced',
    severity: 'warning',
    category: 'security',
    title: 'Row level security not forced (opt-in)',
    doc: "Opt-in with `rls: { force-rls: true }` in the repo config. Row level security does not apply to a table's owner, so SECURITY DEFINER functions and views owned by the migration role read and write past every policy. `alter table <table> force row level security;` makes the owner subject to the policies too (roles with BYPASSRLS, such as `service_role` and superusers, still bypass them). Allowlist tables whose owner-run code must see every row.",
    optIn: 'force-rls',
    query: `
      select 'table' as kind, r.schema, r.name
      from relation r
      where r.exposed and r.relkind in ('r', 'p') and r.rls and not r.forced and not r.extension_owned`,
    describe: (row) => ({
      message: `Table ${q(row.schema, row.name)} has row level security but not FORCE ROW LEVEL SECURITY, so its owner (and code running as the owner) bypasses the policies.`,
      remediation: `alter table ${qi(row.schema, row.name)} force row level security;`,
    }),
  }),
  rule({
    id: 'anon_security_definer_function_executable',
    severity: 'warning',
    category: 'security',
    title: 'SECURITY DEFINER function callable by the anonymous role',
    doc: "A SECURITY DEFINER function in an exposed schema can be called by the anonymous API role (`anon`, or the first of `api-roles`) as `POST /rest/v1/rpc/<name>`. It runs with its owner's rights, past row level security, so anyone with the anon key can run it with any arguments. Supabase grants EXECUTE on new functions in `public` to anon by name, and `revoke ... from public` does not remove that grant. Fix: `revoke execute on function <fn> from public, anon;`, make it SECURITY INVOKER, or move it to a schema that is not exposed. Trigger functions are skipped (they cannot be called through the API). Allowlist functions meant to be public, with a reason.",
    query: `
      select 'function' as kind, f.schema, f.name, array_agg(f.signature order by f.signature) as signatures
      from exposed_definer_function f
      where f.anonymous
      group by f.schema, f.name`,
    describe: (row) => ({
      message: `SECURITY DEFINER function ${q(row.schema, row.name)} can be called by the anonymous role through the API and runs with its owner's rights.`,
      detail: `signature: ${list(row.signatures).join('; ')}`,
      remediation: `revoke execute on function ${list(row.signatures)[0] ?? qi(row.schema, row.name)} from public, anon;`,
    }),
  }),
  rule({
    id: 'authenticated_security_definer_function_executable',
    severity: 'warning',
    category: 'security',
    title: 'SECURITY DEFINER function callable by signed-in users',
    doc: "A SECURITY DEFINER function in an exposed schema can be called by a signed-in API role (`authenticated`, or any of `api-roles` after the first) as `POST /rest/v1/rpc/<name>`. It runs with its owner's rights, past row level security, so every signed-in user can run it with any arguments. That is right for helpers that only answer for the caller (e.g. a membership check used by policies) and wrong for anything else. Fix: revoke EXECUTE from the role, make it SECURITY INVOKER, or move it to a private schema. Trigger functions are skipped. Allowlist deliberate helpers with a reason.",
    query: `
      select 'function' as kind, f.schema, f.name, array_agg(distinct f.role order by f.role) as roles, array_agg(distinct f.signature order by f.signature) as signatures
      from exposed_definer_function f
      where not f.anonymous
      group by f.schema, f.name`,
    describe: (row) => ({
      message: `SECURITY DEFINER function ${q(row.schema, row.name)} can be called by ${list(row.roles).join(', ')} through the API and runs with its owner's rights.`,
      detail: `signature: ${list(row.signatures).join('; ')}`,
      remediation: `revoke execute on function ${list(row.signatures)[0] ?? qi(row.schema, row.name)} from ${list(row.roles).join(', ')};  -- if signed-in users must not call it`,
    }),
  }),
  rule({
    id: 'function_search_path_mutable',
    severity: 'warning',
    category: 'security',
    title: 'Function without a fixed search_path',
    doc: "The function does not set `search_path`, so the names in its body resolve through the caller's search_path. For a SECURITY DEFINER function that lets a caller shadow a table or operator and run code with the owner's rights; for any function it makes behaviour depend on who calls it. Fix: `alter function <fn> set search_path = '';` and schema-qualify the names in the body (or `set search_path = pg_catalog, public`).",
    query: `
      select 'function' as kind, n.schema, pr.proname::text as name,
             array_agg(pr.oid::regprocedure::text order by pr.oid::regprocedure::text) as signatures, bool_or(pr.prosecdef) as definer
      from pg_catalog.pg_proc pr
      join user_schema n on n.oid = pr.pronamespace
      where pr.prokind in ('f', 'p')
        and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = pr.oid and d.deptype = 'e')
        and not exists (select 1 from unnest(coalesce(pr.proconfig, '{}')) as cfg(setting) where cfg.setting like 'search\\_path=%')
      group by n.schema, pr.proname`,
    describe: (row) => ({
      message: `Function ${q(row.schema, row.name)}${row.definer ? ' (SECURITY DEFINER)' : ''} has no fixed search_path, so it resolves names through the caller's.`,
      detail: `signature: ${list(row.signatures).join('; ')}`,
      remediation: `alter function ${list(row.signatures)[0] ?? qi(row.schema, row.name)} set search_path = '';  -- and schema-qualify names in its body`,
    }),
  }),
  rule({
    id: 'extension_in_public',
    severity: 'warning',
    category: 'security',
    title: 'Extension installed in an exposed schema',
    doc: 'An extension (other than plpgsql) is installed in `public` or another exposed schema, so its functions and tables appear in the API and are executable by the API roles. Fix: install extensions in schema `extensions` (`create extension <name> with schema extensions;`; relocatable ones can be moved with `alter extension <name> set schema extensions;`).',
    query: `
      select 'extension' as kind, n.nspname::text as schema, e.extname::text as name
      from pg_catalog.pg_extension e
      join pg_catalog.pg_namespace n on n.oid = e.extnamespace
      cross join ctx
      where e.extname <> 'plpgsql' and (n.nspname = 'public' or n.nspname = any(ctx.exposed))`,
    describe: (row) => ({
      message: `Extension ${String(row.name)} is installed in schema ${String(row.schema)}, where the API exposes its objects.`,
      remediation: `alter extension ${ident(row.name)} set schema extensions;  -- or drop and recreate it with schema extensions`,
    }),
  }),
  rule({
    id: 'extension_versions_outdated',
    severity: 'warning',
    category: 'security',
    title: 'Extension not at its default version',
    doc: "An installed extension's version differs from the default version the server ships, usually because the server was upgraded and `alter extension ... update` was never run; fixes (including security fixes) in the newer version are then missing. Fix: `alter extension <name> update;` after reading its release notes.",
    query: `
      select 'extension' as kind, n.nspname::text as schema, e.extname::text as name, e.extversion::text as installed, a.default_version::text as available
      from pg_catalog.pg_extension e
      join pg_catalog.pg_namespace n on n.oid = e.extnamespace
      join pg_catalog.pg_available_extensions a on a.name = e.extname
      where a.default_version is distinct from e.extversion`,
    describe: (row) => ({
      message: `Extension ${String(row.name)} is at version ${String(row.installed)}; the server's default is ${String(row.available)}.`,
      remediation: `alter extension ${ident(row.name)} update;`,
    }),
  }),
  rule({
    id: 'unsupported_reg_types',
    severity: 'warning',
    category: 'security',
    title: 'Column of a reg* type that blocks upgrades',
    doc: 'A column uses a reg* type that stores object OIDs (regproc, regprocedure, regoper, regoperator, regconfig, regdictionary, regnamespace, regcollation). `pg_upgrade` refuses databases with such columns because OIDs change across clusters, so the project cannot be upgraded in place. Fix: store the name as `text` (or use regclass/regtype/regrole, which pg_upgrade supports).',
    query: `
      select 'column' as kind, n.schema, c.relname::text || '.' || a.attname::text as name, t.typname::text as type
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p', 'm')
      join user_schema n on n.oid = c.relnamespace
      join pg_catalog.pg_type t on t.oid = a.atttypid
      cross join ctx
      where a.attnum > 0 and not a.attisdropped and t.typname::text = any(ctx.reg_types)`,
    describe: (row) => ({
      message: `Column ${q(row.schema, row.name)} has type ${String(row.type)}, which pg_upgrade cannot carry over.`,
      remediation: `alter table ... alter column ... type text using ...::text;`,
    }),
  }),
  rule({
    id: 'fkey_to_auth_unique',
    severity: 'error',
    category: 'security',
    title: 'Foreign key to a non-primary unique key in auth',
    doc: 'A foreign key references a unique constraint or index of a table in schema `auth` other than its primary key (for example `auth.users(email)` or `auth.users(phone)`). Supabase Auth may change or drop those constraints in an upgrade, which then fails or breaks sign-ups. Fix: reference the primary key, `auth.users(id)`.',
    query: `
      select 'constraint' as kind, n.schema, c.relname::text || '.' || con.conname::text as name,
             tn.nspname::text || '.' || t.relname::text as referenced, i.relname::text as referenced_index
      from pg_catalog.pg_constraint con
      join pg_catalog.pg_class c on c.oid = con.conrelid
      join user_schema n on n.oid = c.relnamespace
      join pg_catalog.pg_class t on t.oid = con.confrelid
      join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace and tn.nspname = 'auth'
      join pg_catalog.pg_index ix on ix.indexrelid = con.conindid
      join pg_catalog.pg_class i on i.oid = ix.indexrelid
      where con.contype = 'f' and not ix.indisprimary`,
    describe: (row) => ({
      message: `Foreign key ${q(row.schema, row.name)} references ${String(row.referenced)} through its unique key ${String(row.referenced_index)}, not its primary key.`,
      remediation: `Reference ${String(row.referenced)}(id) instead.`,
    }),
  }),
  rule({
    id: 'pg_graphql_anon_table_exposed',
    severity: 'warning',
    category: 'security',
    title: 'Table visible to the anonymous role through GraphQL',
    doc: "pg_graphql is installed and the anonymous API role can SELECT this table or view, so its name, columns and relationships appear in the public GraphQL schema (`/graphql/v1`) for anyone with the anon key, whatever the exposed REST schemas are. Rows are still subject to row level security. Fix: revoke the anonymous role's SELECT where it is not needed, or disable pg_graphql if the project does not use GraphQL (`drop extension pg_graphql;`). Allowlist tables that are public on purpose.",
    query: `
      select 'table' as kind, n.schema, c.relname::text as name
      from pg_catalog.pg_class c
      join user_schema n on n.oid = c.relnamespace
      join api_role r on r.anonymous
      where exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_graphql')
        and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
        and pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE') and pg_catalog.has_any_column_privilege(r.oid, c.oid, 'SELECT')`,
    describe: (row) => ({
      message: `${q(row.schema, row.name)} is visible to the anonymous role in the GraphQL schema.`,
      remediation: `revoke select on ${qi(row.schema, row.name)} from anon;`,
    }),
  }),
  rule({
    id: 'pg_graphql_authenticated_table_exposed',
    severity: 'warning',
    category: 'security',
    title: 'Table visible to signed-in users through GraphQL',
    doc: 'pg_graphql is installed and a signed-in API role can SELECT this table or view, so its structure appears in the GraphQL schema of every signed-in user. Rows are still subject to row level security. Fix: revoke SELECT where it is not needed, or disable pg_graphql if unused. Allowlist tables signed-in users are meant to query.',
    query: `
      select 'table' as kind, n.schema, c.relname::text as name, array_agg(r.role order by r.role) as roles
      from pg_catalog.pg_class c
      join user_schema n on n.oid = c.relnamespace
      join api_role r on not r.anonymous
      where exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_graphql')
        and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
        and pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE') and pg_catalog.has_any_column_privilege(r.oid, c.oid, 'SELECT')
      group by n.schema, c.relname`,
    describe: (row) => ({
      message: `${q(row.schema, row.name)} is visible to ${list(row.roles).join(', ')} in the GraphQL schema.`,
      remediation: `revoke select on ${qi(row.schema, row.name)} from ${list(row.roles).join(', ')};`,
    }),
  }),
  // ---------------------------------------------------------------- performance
  rule({
    id: 'auth_rls_initplan',
    severity: 'warning',
    category: 'performance',
    title: 'Policy calls auth functions once per row',
    doc: 'The policy calls `auth.uid()`, `auth.jwt()`, `auth.role()`, `auth.email()` or `current_setting()` directly, so PostgreSQL evaluates the call for every row it checks. Wrapped in a sub-select, `(select auth.uid())`, the value is computed once per statement (an InitPlan); on large tables that is the difference between milliseconds and seconds. Fix: write `owner_id = (select auth.uid())`. The result is the same, since these functions return one value per request.',
    query: `
      select ${POLICY_OBJECT}, p.command, p.using_expr, p.check_expr
      from policy p
      where p.exprs_unwrapped like '%auth.uid()%' or p.exprs_unwrapped like '%auth.jwt()%' or p.exprs_unwrapped like '%auth.role()%'
         or p.exprs_unwrapped like '%auth.email()%' or p.exprs_unwrapped like '%current\\_setting(%'`,
    keep: (row) => [...unwrappedClaimCalls(row.using_expr as string), ...unwrappedClaimCalls(row.check_expr as string)].length > 0,
    describe: (row) => {
      const calls = [...new Set([...unwrappedClaimCalls(row.using_expr as string), ...unwrappedClaimCalls(row.check_expr as string)])];
      return {
        message: `${policyKey(row)[0]!.toUpperCase()}${policyKey(row).slice(1)} calls ${calls.join(', ')} for every row; wrap ${calls.length === 1 ? 'it' : 'them'} as (select ...) to compute once per statement.`,
        detail: `using: ${String(row.using_expr ?? '(none)')}\nwith check: ${String(row.check_expr ?? '(none)')}`,
        remediation: `Rewrite e.g. owner_id = auth.uid() as owner_id = (select auth.uid()).`,
      };
    },
  }),
  rule({
    id: 'multiple_permissive_policies',
    severity: 'warning',
    category: 'performance',
    title: 'Several permissive policies for one role and command',
    doc: "The table has more than one permissive policy for the same API role and command (a FOR ALL policy counts for every command). PostgreSQL evaluates every one of them for every row and ORs the results, which gets slow, and it makes the effective rule hard to read. Fix: merge them into one policy per role and command with `or`. Storage policies are left out: one policy per bucket is Supabase's documented pattern.",
    query: `
      select 'table' as kind, x.schema, x.table_name as name,
             jsonb_object_agg(x.role || ' ' || x.cmd, x.policies order by x.role, x.cmd) as overlaps
      from (
        select min(p.schema) as schema, min(p.table_name) as table_name, r.role, cmd.name as cmd, array_agg(p.name order by p.name) as policies
        from policy p
        join api_role r on (0::oid = any(p.roles) or r.oid = any(p.roles))
        join pg_catalog.pg_roles rr on rr.oid = r.oid and not rr.rolbypassrls
        cross join lateral unnest(case when p.command = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] else array[p.command] end) as cmd(name)
        where p.permissive and p.schema <> 'storage'
        group by p.table_oid, r.role, cmd.name
        having count(*) > 1
      ) x
      group by x.schema, x.table_name`,
    describe: (row) => ({
      message: `Table ${q(row.schema, row.name)} has several permissive policies for the same role and command: ${Object.entries(
        (row.overlaps ?? {}) as Record<string, string[]>,
      )
        .map(([key, policies]) => `${key} (${policies.join(', ')})`)
        .join('; ')}.`,
      remediation: 'Merge the policies for each role and command into one, combining their conditions with OR.',
    }),
  }),
] as const satisfies readonly RlsRule[];

/** Shared CTEs the rule queries build on; parameters as described at the top of this file. */
export const RULE_CONTEXT_SQL = `
with ctx as (
  select $1::text[] as exposed, $2::text[] as api_roles, $3::text[] as system_schemas,
         $4::text[] as sensitive_names, $5::text[] as reg_types
),
api_role as (
  select r.oid, r.rolname::text as role, r.rolname = ctx.api_roles[1] as anonymous
  from pg_catalog.pg_roles r, ctx
  where r.rolname = any(ctx.api_roles)
),
user_schema as (
  select n.oid, n.nspname::text as schema
  from pg_catalog.pg_namespace n, ctx
  where not n.nspname = any(ctx.system_schemas) and n.nspname !~ '^pg_(toast|temp_)'
),
extension_member as materialized (
  select d.objid from pg_catalog.pg_depend d
  where d.classid = 'pg_catalog.pg_class'::regclass and d.deptype = 'e'
),
relation as materialized (
  select c.oid, n.nspname::text as schema, c.relname::text as name, c.relkind::text as relkind,
         c.relrowsecurity as rls, c.relforcerowsecurity as forced, n.nspname = any(ctx.exposed) as exposed, n.oid as schema_oid,
         c.oid in (select objid from extension_member) as extension_owned,
         coalesce(c.reloptions::text[], '{}') && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes'] as invoker
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join ctx
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
),
exposure as materialized (
  select x.* from (
    select rel.*, r.role, r.anonymous,
      array_remove(array[
        case when pg_catalog.has_any_column_privilege(r.oid, rel.oid, 'SELECT') then 'SELECT' end,
        case when rel.relkind <> 'm' and pg_catalog.has_any_column_privilege(r.oid, rel.oid, 'INSERT') then 'INSERT' end,
        case when rel.relkind <> 'm' and pg_catalog.has_any_column_privilege(r.oid, rel.oid, 'UPDATE') then 'UPDATE' end,
        case when rel.relkind <> 'm' and pg_catalog.has_table_privilege(r.oid, rel.oid, 'DELETE') then 'DELETE' end
      ], null) as privileges
    from relation rel
    join api_role r on pg_catalog.has_schema_privilege(r.oid, rel.schema_oid, 'USAGE')
    where rel.exposed
  ) x
  where cardinality(x.privileges) > 0
),
-- What a policy's text depends on: its expression trees (PostgreSQL 16 and later store them
-- without source positions), the names of its table's columns, and the table's name when the
-- printer may write it: for a whole-row reference, and in a sub-select that reads a relation or
-- refers to the policy's table (there columns are written table.column, and a relation of the
-- same name is renamed). Printing an expression opens its table (~0.2 ms each, cold), so
-- policies that agree on all of that are printed once: tables made from one template (schemas
-- per tenant) share their policies' text. The trees are compared by 64-bit hash (two trees that
-- differ collide with odds of about 1 in 10^11 on a database of 20,000 policies).
policy_source as materialized (
  select pol.oid, pol.polrelid as table_oid, n.oid as schema_oid, n.nspname::text as schema, c.relname::text as table_name, pol.polname::text as name,
         case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end as command,
         pol.polpermissive as permissive, pol.polroles as roles,
         (0::oid = any(pol.polroles) or exists (select 1 from api_role r where r.oid = any(pol.polroles))) as for_api_roles,
         pg_catalog.hashtextextended(tree.using_tree, 0) as using_hash, pg_catalog.hashtextextended(tree.check_tree, 0) as check_hash,
         case when strpos(tree.trees, ':varattno 0 ') > 0 or strpos(tree.trees, '{RANGETBLENTRY') > 0
                or strpos(tree.trees, ':varlevelsup 1 ') > 0 or strpos(tree.trees, ':varlevelsup 2 ') > 0 or strpos(tree.trees, ':varlevelsup 3 ') > 0 or strpos(tree.trees, ':varlevelsup 4 ') > 0 or strpos(tree.trees, ':varlevelsup 5 ') > 0 or strpos(tree.trees, ':varlevelsup 6 ') > 0 or strpos(tree.trees, ':varlevelsup 7 ') > 0 or strpos(tree.trees, ':varlevelsup 8 ') > 0 or strpos(tree.trees, ':varlevelsup 9 ') > 0
           then c.relname::text else '' end as named_as
  from pg_catalog.pg_policy pol
  join pg_catalog.pg_class c on c.oid = pol.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join lateral (select t.using_tree, t.check_tree, t.using_tree || t.check_tree as trees
                       from (select coalesce(pol.polqual::text, '') as using_tree, coalesce(pol.polwithcheck::text, '') as check_tree offset 0) t offset 0) tree
  cross join ctx
  where ((not n.nspname = any(ctx.system_schemas) and n.nspname !~ '^pg_(toast|temp_)') or n.nspname in ('storage', 'realtime'))
    and ($6::int is null or (pg_catalog.hashoid(pol.polrelid) & 2147483647) % $6::int = any($7::int[]))
),
policy_text as materialized (
  select t.*, lower(translate(t.using_expr, E' \\n\\t()', '')) as using_squeezed, lower(translate(t.check_expr, E' \\n\\t()', '')) as check_squeezed,
         concat_ws(' ', t.using_expr, t.check_expr) as exprs,
         replace(replace(replace(replace(concat_ws(' ', t.using_expr, t.check_expr),
           '( SELECT auth.uid() AS uid)', ''), '( SELECT auth.jwt() AS jwt)', ''), '( SELECT auth.role() AS role)', ''), '( SELECT auth.email() AS email)', '') as exprs_unwrapped
  from (
  select g.members, pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) as using_expr, pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) as check_expr
  from (select array_agg(s.oid) as members, min(s.oid) as sample
          from policy_source s
          left join (select a.attrelid, string_agg(a.attname::text, ',' order by a.attnum) as names
                       from pg_catalog.pg_attribute a
                      where a.attnum > 0 and a.attrelid in (select table_oid from policy_source)
                      group by a.attrelid) cols on cols.attrelid = s.table_oid
         group by s.using_hash, s.check_hash, coalesce(cols.names, ''), s.named_as) g
  join pg_catalog.pg_policy pol on pol.oid = g.sample
  offset 0 -- printed once per row, not once per use below
  ) t
),
policy as materialized (
  select s.oid, s.table_oid, s.schema_oid, s.schema, s.table_name, s.name, s.command, s.permissive, s.roles, s.for_api_roles,
         t.using_expr, t.check_expr, t.using_squeezed, t.check_squeezed, t.exprs, t.exprs_unwrapped
  from policy_text t
  cross join lateral unnest(t.members) as member(oid)
  join policy_source s on s.oid = member.oid
),
exposed_definer_function as (
  select n.nspname::text as schema, pr.proname::text as name, pr.oid::regprocedure::text as signature, r.role, r.anonymous
  from pg_catalog.pg_proc pr
  join pg_catalog.pg_namespace n on n.oid = pr.pronamespace
  cross join ctx
  join api_role r on pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE') and pg_catalog.has_function_privilege(r.oid, pr.oid, 'EXECUTE')
  where pr.prosecdef and pr.prokind = 'f' and n.nspname = any(ctx.exposed)
    and pr.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
    and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = pr.oid and d.deptype = 'e')
)`;

/** Rule ids the gate itself reports besides the catalog rules. */
export const RLS_GATE_RULES = [
  {
    id: 'rls_matrix_access_changed',
    gate: 'rls',
    severity: 'error',
    category: 'access',
    title: 'The pull request widens what an API role can do',
    doc: 'In PR mode postgate builds the base branch and the pull request in two throwaway databases and probes both with the behavioural access matrix. This finding says that an API role can now do more on a table or view than on the base branch (for example "anon can now SELECT every row"). It is an error when the anonymous role gains access and a warning for signed-in roles, except public read through an explicit policy (a permissive SELECT policy whose USING is always true, on a table with row level security on): a notice, unless the repo config lists the table in `rls.private-tables`. Narrowing access is listed but never fails. When a rule reports the cause on the same object (`rls_disabled_in_public`, `sensitive_columns_exposed`, `policy_exists_rls_disabled`, `security_definer_view`, `auth_users_exposed`, `materialized_view_in_api`, `foreign_table_in_api`), this finding is folded into that one as detail, which keeps the higher severity of the two. Fix the policy or grant, or allowlist the table with a reason when the new access is intended.',
  },
  {
    id: 'rls_policy_changed',
    gate: 'rls',
    severity: 'notice',
    category: 'access',
    title: 'The pull request changes a policy',
    doc: 'A policy was added, dropped or rewritten by the pull request (its command, roles, USING or WITH CHECK differ from the base branch). Listed so reviewers see every access rule that changed, for example "policy trips_select no longer restricts by owner"; the access matrix and the other rules decide whether it is a problem.',
  },
  {
    id: 'rls_test_failed',
    gate: 'rls',
    severity: 'error',
    category: 'tests',
    title: 'A declarative RLS test from the repo config failed',
    doc: "One of the `rls.tests` in the repo config did not get what it expects (`rows: N`, `rows-at-least: N`, `denied: true` or `error: <SQLSTATE>`), or its SQL is invalid (the server's message is shown). Each test runs on the shadow database in its own transaction, as the given role with the given JWT claims set the way PostgREST sets them, and is rolled back. Fix the policy, or the test if the expectation was wrong.",
  },
  {
    id: 'rls_seed_failed',
    gate: 'rls',
    severity: 'notice',
    category: 'shadow',
    title: 'A seed file failed in the shadow database',
    doc: "Before probing the access matrix, rls-audit loads `supabase/seed.sql` (or `[db.seed] sql_paths` from config.toml) and the repo config's `rls.fixtures` into the shadow database. This one failed, so the matrix relies on the rows postgate generates itself, which may not cover shared data such as teams. Fix the seed file (it should also work with `supabase db reset`).",
  },
] as const satisfies readonly Rule[];

/** A finding of one of rls-audit's own (non-query) rules, at the rule's severity. */
export const rlsFinding = findingOf(RLS_GATE_RULES);

export const SYSTEM_SCHEMA_EXTRAS: readonly string[] = [
  'pg_catalog',
  'information_schema',
  'pgmq',
  'pgmq_public',
  'tiger',
  'tiger_data',
  'topology',
  'repack',
  'pgroonga',
  '_timescaledb_cache',
  '_timescaledb_catalog',
  '_timescaledb_config',
  '_timescaledb_internal',
  'timescaledb_information',
  'timescaledb_experimental',
  'supabase_functions',
  'supabase_migrations',
];
