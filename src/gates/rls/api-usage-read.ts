/**
 * The app's Data API calls checked on a database: starts the code scan, then reads what the calls
 * need to be judged (src/gates/rls/api-usage.ts): the
 * relations and functions with the names it calls, in any schema, with each API role's and
 * service_role's privileges (has_*_privilege, USAGE on the schema included) and the roles the
 * policies name; the Storage buckets that exist; the buckets supabase/config.toml declares.
 * Catalog reads only: runs on a read-only session.
 */
import { readFileSync } from 'node:fs';
import type { ClientBase } from 'pg';
import { parse as parseToml } from 'smol-toml';
import { scanApiUsage, scanOptionsFromConfig } from '../../api-usage/scan.ts';
import type { ApiUsage } from '../../api-usage/types.ts';
import type { RepoConfig } from '../../config/repo-config.ts';
import type { Finding, SourceLocation } from '../../findings/types.ts';
import { type ApiFacts, apiUsageDetails, callSummary, apiUsageFindings, apiUsageMetrics, type FunctionFacts, type RelationFacts } from './api-usage.ts';

/** The server-side role of Supabase, checked besides the API roles. */
const SERVER_ROLE = 'service_role';

const FACTS_SQL = `
with role as (
  select r.oid, r.rolname::text as role from pg_catalog.pg_roles r where r.rolname = any($2::text[])
), relation as (
  select c.oid, n.oid as schema_oid, n.nspname::text as schema, c.relname::text as name, c.relrowsecurity as rls,
         case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'f' then 'foreign table' else 'table' end as kind
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where c.relname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
)
select 'relation' as what, rel.schema, rel.name, rel.kind, rel.rls, null::text as args,
       coalesce((select pg_catalog.jsonb_object_agg(r.role, array(
                   select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
                    where pg_catalog.has_schema_privilege(r.oid, rel.schema_oid, 'USAGE')
                      and case when p = 'DELETE' then pg_catalog.has_table_privilege(r.oid, rel.oid, p)
                               else pg_catalog.has_any_column_privilege(r.oid, rel.oid, p) end))
                   from role r), '{}') as privileges,
       array(select r.role from role r where pg_catalog.has_schema_privilege(r.oid, rel.schema_oid, 'USAGE')) as schema_usage,
       coalesce((select pg_catalog.jsonb_object_agg(cmd, roles) from (
                   select cmd, array_agg(distinct r.role) as roles
                     from pg_catalog.pg_policy pol
                     cross join lateral unnest(case pol.polcmd when 'r' then array['SELECT'] when 'a' then array['INSERT'] when 'w' then array['UPDATE']
                                                 when 'd' then array['DELETE'] else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) cmd
                     join role r on r.oid = any(pol.polroles)
                    where pol.polrelid = rel.oid
                    group by cmd) named), '{}') as policy_roles,
       null::text[] as executable,
       coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('schema', sn.nspname, 'name', s.relname,
                   'usable', array(select r.role from role r
                                    where pg_catalog.has_schema_privilege(r.oid, s.relnamespace, 'USAGE')
                                      and (pg_catalog.has_sequence_privilege(r.oid, s.oid, 'USAGE') or pg_catalog.has_sequence_privilege(r.oid, s.oid, 'UPDATE'))))
                   order by sn.nspname, s.relname)
                   from (select distinct d.refobjid
                           from pg_catalog.pg_attrdef ad
                           join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass and d.objid = ad.oid
                                                      and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          where ad.adrelid = rel.oid) used
                   join pg_catalog.pg_class s on s.oid = used.refobjid and s.relkind = 'S'
                   join pg_catalog.pg_namespace sn on sn.oid = s.relnamespace), '[]') as sequences
  from relation rel
union all
select 'function', n.nspname::text, p.proname::text, 'function', false, pg_catalog.pg_get_function_identity_arguments(p.oid),
       null,
       array(select r.role from role r where pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')),
       null,
       array(select r.role from role r where pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
                                        and pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')),
       null
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where p.proname = any($3::text[]) and p.prokind = 'f'`;

/** Bucket ids, when storage.buckets exists and this session may read all of it. */
const BUCKETS_SQL = `
select case when c.oid is null then null
            when pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE') and pg_catalog.has_table_privilege(c.oid, 'SELECT')
                 and not pg_catalog.row_security_active(c.oid) then true else false end as readable
  from (select 1) one
  left join pg_catalog.pg_class c on c.relname = 'buckets' and c.relnamespace = (select oid from pg_catalog.pg_namespace where nspname = 'storage')`;

interface FactRow {
  what: 'relation' | 'function';
  schema: string;
  name: string;
  kind: string;
  rls: boolean;
  args: string | null;
  privileges: RelationFacts['privileges'] | null;
  schema_usage: string[];
  policy_roles: RelationFacts['policyRoles'] | null;
  executable: string[] | null;
  sequences: RelationFacts['sequences'] | null;
}

/** Bucket ids that exist in the database; undefined when storage.buckets is missing or not fully readable. */
async function readBuckets(session: ClientBase): Promise<string[] | undefined> {
  const { rows } = await session.query<{ readable: boolean | null }>(BUCKETS_SQL);
  if (!rows[0]?.readable) return undefined;
  return (await session.query<{ id: string }>('select id::text from storage.buckets')).rows.map((row) => row.id);
}

/** Bucket names supabase/config.toml declares (`[storage.buckets.<name>]`); the file was parsed before, so a broken one reads as none. */
export function configBuckets(configToml: string | undefined): string[] {
  if (!configToml) return [];
  try {
    const data = parseToml(readFileSync(configToml, 'utf8')) as { storage?: { buckets?: Record<string, unknown> } };
    return Object.keys(data.storage?.buckets ?? {});
  } catch {
    return [];
  }
}

export interface ApiUsageInput {
  usage: ApiUsage;
  mode: ApiFacts['mode'];
  exposedSchemas: readonly string[];
  apiRoles: readonly string[];
  origins?: ReadonlyMap<string, SourceLocation>;
  /** Buckets declared outside the database (supabase/config.toml), PR mode. */
  declaredBuckets?: readonly string[];
  /** Also the notices about the scan itself (unresolved calls, unreadable files): not on the base branch. */
  scanNotices: boolean;
}

export interface ApiUsageOutcome {
  findings: Finding[];
  metrics: Record<string, number>;
  /** The calls for the report's Data API surface. */
  usage: ApiUsage;
  exposedSchemas: readonly string[];
}

/** The facts for every object the app calls, read in one statement (and one for the buckets). */
export async function readApiFacts(session: ClientBase, input: ApiUsageInput): Promise<ApiFacts> {
  const names = (target: string) => [...new Set(input.usage.calls.filter((call) => call.target === target).map((call) => call.name))];
  const { rows } = await session.query<FactRow>(FACTS_SQL, [names('table'), [...input.apiRoles, SERVER_ROLE], names('function')]);
  const serverRoleExists = (await session.query('select 1 from pg_catalog.pg_roles where rolname = $1', [SERVER_ROLE])).rowCount === 1;
  const relations: RelationFacts[] = rows
    .filter((row) => row.what === 'relation')
    .map((row) => ({
      schema: row.schema,
      name: row.name,
      kind: row.kind,
      rls: row.rls,
      privileges: row.privileges ?? {},
      schemaUsage: row.schema_usage,
      policyRoles: row.policy_roles ?? {},
      sequences: row.sequences ?? [],
    }));
  const functions: FunctionFacts[] = rows
    .filter((row) => row.what === 'function')
    .map((row) => ({ schema: row.schema, name: row.name, args: row.args ?? '', executable: row.executable ?? [], schemaUsage: row.schema_usage }));
  const buckets = names('bucket').length ? await readBuckets(session) : [];
  return {
    mode: input.mode,
    exposedSchemas: input.exposedSchemas,
    apiRoles: input.apiRoles,
    ...(serverRoleExists && !input.apiRoles.includes(SERVER_ROLE) ? { serverRole: SERVER_ROLE } : {}),
    relations,
    functions,
    ...(buckets ? { buckets: new Set([...buckets, ...(input.declaredBuckets ?? [])]) } : {}),
    ...(input.origins ? { origins: input.origins } : {}),
  };
}

/** Findings and metrics for the app's calls on one database; nothing to read when it makes none. */
export async function checkApiUsage(session: ClientBase, input: ApiUsageInput): Promise<ApiUsageOutcome> {
  const base = { metrics: apiUsageMetrics(input.usage), usage: input.usage, exposedSchemas: input.exposedSchemas };
  if (!input.usage.calls.length && !(input.scanNotices && (input.usage.unresolved.length || input.usage.skipped.length))) return { findings: [], ...base };
  const facts = await readApiFacts(session, input);
  return { findings: apiUsageFindings(input.usage, facts, input.scanNotices), ...base };
}

/** The report's lines on the app's calls, given the objects the access matrix shows (`schema.name`). */
export function apiUsageReport(outcome: ApiUsageOutcome, inMatrix: ReadonlySet<string> = new Set()): Record<string, unknown> {
  return apiUsageDetails(outcome.usage, outcome.exposedSchemas, inMatrix);
}

/** Starts scanning the repository's code (the repo config's `rls.app-code`); awaited where the calls are checked. */
export function startApiScan(cwd: string, appCode: RepoConfig['rls']['app-code']): Promise<ApiUsage> {
  const scan = scanApiUsage(cwd, scanOptionsFromConfig(appCode));
  // Awaited later: a failure before then (the shadow failed first) must not be an unhandled rejection.
  scan.catch(() => undefined);
  return scan;
}

/** For the access matrix's "app calls" column: `schema.name` -> count and first call site, tables and views only. */
export function matrixAppCalls(outcome: ApiUsageOutcome): Map<string, string> {
  return new Map(
    callSummary(outcome.usage, outcome.exposedSchemas)
      .filter((entry) => entry.target === 'table')
      .map((entry) => [entry.object, entry.calls]),
  );
}
