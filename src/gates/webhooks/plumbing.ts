/**
 * The plumbing that turns settings into deliveries: functions that call an HTTP client,
 * their privileges, and the triggers that run them. Read-only catalog queries.
 */
import type { Session } from '../../postgres/connect.ts';

/** HTTP clients a webhook function can call. Data, not branches: add one here. */
export const HTTP_CLIENTS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'net.http_post (pg_net)', pattern: /\bnet\s*\.\s*http_(?:post|get|delete)\s*\(/i },
  { name: 'supabase_functions.http_request', pattern: /\bsupabase_functions\s*\.\s*http_request\s*\(/i },
  { name: 'the http extension', pattern: /(?<!\bnet\s*\.\s*)(?<![\w$])(?:extensions\s*\.\s*)?http(?:_post|_get|_put|_patch|_delete|_head)?\s*\(/i },
];

/** Schemas whose functions are the platform's or PostgreSQL's, not the project's. */
const SYSTEM_SCHEMAS = [
  'pg_catalog',
  'information_schema',
  'pg_toast',
  'net',
  'vault',
  'pgsodium',
  'extensions',
  'graphql',
  'graphql_public',
  'supabase_functions',
  'realtime',
  'cron',
  'pgbouncer',
  'storage',
  'auth',
];

/** The API roles that must not execute webhook functions. */
export const API_ROLES = ['anon', 'authenticated'] as const;

export interface FunctionInfo {
  oid: number;
  schema: string;
  name: string;
  /** Identity arguments, for messages and remediation SQL. */
  args: string;
  securityDefiner: boolean;
  searchPathPinned: boolean;
  isTrigger: boolean;
  source: string;
  /** HTTP clients the body calls. */
  httpClients: string[];
}

export interface TriggerInfo {
  name: string;
  tableSchema: string;
  table: string;
  /** pg_trigger.tgenabled: O (origin, the default), A (always), R (replica only), D (disabled). */
  enabled: 'O' | 'A' | 'R' | 'D';
  functionOid: number;
  functionSchema: string;
  functionName: string;
  args: string[];
}

export interface Plumbing {
  functions: FunctionInfo[];
  triggers: TriggerInfo[];
}

interface FunctionRow {
  oid: number;
  schema: string;
  name: string;
  args: string;
  security_definer: boolean;
  config: string[] | null;
  is_trigger: boolean;
  source: string;
}

interface TriggerRow {
  name: string;
  table_schema: string;
  table_name: string;
  enabled: TriggerInfo['enabled'];
  function_oid: number;
  function_schema: string;
  function_name: string;
  args: Buffer;
}

/** Splits pg_trigger.tgargs: each argument is NUL-terminated. */
export function triggerArguments(raw: Buffer): string[] {
  const text = raw.toString('utf8');
  if (!text) return [];
  return text.split('\0').slice(0, -1);
}

export async function readPlumbing(session: Session): Promise<Plumbing> {
  const functions = await session.query<FunctionRow>(
    `select p.oid::int as oid, n.nspname as schema, p.proname as name,
            pg_catalog.pg_get_function_identity_arguments(p.oid) as args,
            p.prosecdef as security_definer, p.proconfig as config,
            p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype as is_trigger, p.prosrc as source
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       join pg_catalog.pg_language l on l.oid = p.prolang
      where n.nspname <> all($1::text[]) and n.nspname not like 'pg\\_%'
        and l.lanname not in ('c', 'internal') and p.prokind in ('f', 'p')
        and not exists (select 1 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid and d.deptype = 'e')`,
    [SYSTEM_SCHEMAS],
  );
  const triggers = await session.query<TriggerRow>(
    `select t.tgname as name, cn.nspname as table_schema, c.relname as table_name, t.tgenabled as enabled,
            p.oid::int as function_oid, pn.nspname as function_schema, p.proname as function_name, t.tgargs as args
       from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid
       join pg_catalog.pg_namespace cn on cn.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid
       join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
      where not t.tgisinternal and cn.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`,
  );
  return {
    functions: functions.rows.map((row) => ({
      oid: row.oid,
      schema: row.schema,
      name: row.name,
      args: row.args,
      securityDefiner: row.security_definer,
      searchPathPinned: (row.config ?? []).some((entry) => entry.toLowerCase().startsWith('search_path=')),
      isTrigger: row.is_trigger,
      source: row.source,
      httpClients: HTTP_CLIENTS.filter((client) => client.pattern.test(row.source)).map((client) => client.name),
    })),
    triggers: triggers.rows.map((row) => ({
      name: row.name,
      tableSchema: row.table_schema,
      table: row.table_name,
      enabled: row.enabled,
      functionOid: row.function_oid,
      functionSchema: row.function_schema,
      functionName: row.function_name,
      args: triggerArguments(row.args),
    })),
  };
}

/** Which of the API roles (those that exist) may execute each function. */
export async function apiRolesExecuting(session: Session, oids: readonly number[]): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  if (!oids.length) return result;
  const rows = await session.query<{ oid: number; role: string }>(
    `select f.oid::int as oid, r.rolname as role
       from unnest($1::oid[]) as f(oid)
       cross join pg_catalog.pg_roles r
      where r.rolname = any($2::text[]) and pg_catalog.has_function_privilege(r.oid, f.oid, 'execute')
      order by r.rolname`,
    [oids, API_ROLES],
  );
  for (const row of rows.rows) result.set(row.oid, [...(result.get(row.oid) ?? []), row.role]);
  return result;
}

/** Does the table exist (for a clearer "trigger missing" message)? */
export async function tableExists(session: Session, schema: string, table: string): Promise<boolean> {
  const rows = await session.query(
    `select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'v', 'f')`,
    [schema, table],
  );
  return rows.rowCount !== 0;
}
