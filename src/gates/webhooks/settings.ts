/**
 * Where a custom setting lives and what each login role gets. PostgreSQL applies
 * settings at login, for the session user only, in this order of precedence (ALTER ROLE
 * docs): database and role > role > database (= ALTER ROLE ALL IN DATABASE) > all roles
 * (ALTER ROLE ALL SET) > server (postgresql.conf, ALTER SYSTEM, command line). SET ROLE
 * loads nothing, so only roles that can log in matter. The catalog is
 * `pg_db_role_setting` (cluster-wide, readable by everyone); the server level is read
 * from `pg_file_settings` when the role may, otherwise inferred from the session's own
 * value when nothing more specific applies to it.
 */
import { registerSecret } from '../../secrets.ts';
import type { Session } from '../../postgres/connect.ts';

export const SCOPES = ['database+role', 'role', 'database', 'all-roles', 'server'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ScopedValue {
  scope: Scope;
  /** For role scopes: the role the value belongs to. */
  role?: string;
  value: string;
}

/** How a scope is written in SQL, for messages and remediation. */
export function scopeStatement(scope: Scope, database: string, role?: string): string {
  const statements: Record<Scope, string> = {
    'database+role': `ALTER ROLE ${role} IN DATABASE ${database} SET`,
    role: `ALTER ROLE ${role} SET`,
    database: `ALTER DATABASE ${database} SET`,
    'all-roles': 'ALTER ROLE ALL SET',
    server: 'the server configuration (postgresql.conf, ALTER SYSTEM or the command line)',
  };
  return statements[scope];
}

function appliesTo(value: ScopedValue, role: string): boolean {
  return value.role === undefined || value.role === role;
}

/** The values of one setting that apply to a login role, most specific first. */
export function applicableValues(values: readonly ScopedValue[], role: string): ScopedValue[] {
  return values.filter((value) => appliesTo(value, role)).sort((a, b) => SCOPES.indexOf(a.scope) - SCOPES.indexOf(b.scope));
}

/** The value a session of `role` starts with, or undefined when nothing sets it. */
export function effectiveValue(values: readonly ScopedValue[], role: string): ScopedValue | undefined {
  return applicableValues(values, role)[0];
}

export interface LoginRole {
  name: string;
}

export interface SettingsSnapshot {
  database: string;
  sessionUser: string;
  /** Values per lower-case setting name, at every scope that applies to this database. */
  values: Map<string, ScopedValue[]>;
  /** Role-level values on roles that cannot log in (never applied). */
  nologin: Array<{ name: string; role: string; scope: Scope }>;
  /** Whether the server level could be read for every setting (pg_file_settings or inference). */
  serverLevelKnown: Map<string, boolean>;
}

interface CatalogRow {
  in_database: boolean;
  role_name: string | null;
  can_login: boolean | null;
  name: string;
  value: string;
}

/**
 * Reads every scope of the given settings. Every value is registered with the masker the
 * moment it is read (URLs too: some carry their secret in the path or query).
 */
export async function readSettings(session: Session, names: readonly string[]): Promise<SettingsSnapshot> {
  const wanted = [...new Set(names.map((name) => name.toLowerCase()))];
  const who = await session.query<{ database: string; session_user: string }>('select current_database() as database, session_user as session_user');
  const { database, session_user: sessionUser } = who.rows[0]!;
  const catalog = await session.query<CatalogRow>(
    `select s.setdatabase <> 0 as in_database, r.rolname as role_name, r.rolcanlogin as can_login,
            lower(split_part(c.entry, '=', 1)) as name, substr(c.entry, strpos(c.entry, '=') + 1) as value
       from pg_catalog.pg_db_role_setting s
       left join pg_catalog.pg_roles r on r.oid = s.setrole
       cross join lateral unnest(s.setconfig) as c(entry)
      where s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
        and lower(split_part(c.entry, '=', 1)) = any($1::text[])`,
    [wanted],
  );
  for (const row of catalog.rows) registerSecret(row.value);
  const current = await session.query<{ name: string; value: string | null }>(
    'select n.name, current_setting(n.name, true) as value from unnest($1::text[]) as n(name)',
    [wanted],
  );
  for (const row of current.rows) registerSecret(row.value);
  const files = await readFileSettings(session, wanted);
  for (const value of files.values.values()) registerSecret(value);

  const values = new Map<string, ScopedValue[]>(wanted.map((name) => [name, []]));
  const nologin: SettingsSnapshot['nologin'] = [];
  for (const row of catalog.rows) {
    const scope: Scope = row.role_name === null ? (row.in_database ? 'database' : 'all-roles') : row.in_database ? 'database+role' : 'role';
    if (row.role_name !== null && row.can_login === false) {
      nologin.push({ name: row.name, role: row.role_name, scope });
      continue;
    }
    values.get(row.name)!.push({ scope, ...(row.role_name !== null ? { role: row.role_name } : {}), value: row.value });
  }

  const serverLevelKnown = new Map<string, boolean>();
  for (const name of wanted) {
    const list = values.get(name)!;
    const sessionValue = current.rows.find((row) => row.name === name)?.value ?? null;
    if (effectiveValue(list, sessionUser) === undefined) {
      // nothing more specific applies to this session, so its value is the server's
      if (sessionValue !== null) list.push({ scope: 'server', value: sessionValue });
      serverLevelKnown.set(name, true);
    } else if (files.readable) {
      const fromFile = files.values.get(name);
      if (fromFile !== undefined) list.push({ scope: 'server', value: fromFile });
      serverLevelKnown.set(name, true);
    } else {
      serverLevelKnown.set(name, false);
    }
  }
  return { database, sessionUser, values, nologin, serverLevelKnown };
}

/** postgresql.conf and postgresql.auto.conf values, when this role may read them (superusers, pg_read_all_settings). */
async function readFileSettings(session: Session, names: readonly string[]): Promise<{ readable: boolean; values: Map<string, string> }> {
  const allowed = await session.query<{ allowed: boolean }>(
    `select pg_catalog.has_table_privilege('pg_catalog.pg_file_settings', 'select')
        and pg_catalog.has_function_privilege('pg_catalog.pg_show_all_file_settings()', 'execute') as allowed`,
  );
  if (!allowed.rows[0]?.allowed) return { readable: false, values: new Map() };
  const rows = await session.query<{ name: string; value: string }>(
    `select lower(name) as name, setting as value from pg_catalog.pg_file_settings
      where lower(name) = any($1::text[]) and applied order by seqno`,
    [names],
  );
  return { readable: true, values: new Map(rows.rows.map((row) => [row.name, row.value])) };
}

/** Which roles to evaluate: the ones asked for, else the connected role and `authenticator`. */
export async function resolveLoginRoles(
  session: Session,
  sessionUser: string,
  asked: readonly string[],
): Promise<{ roles: LoginRole[]; unknown: string[]; nologin: string[] }> {
  const names = asked.length ? [...new Set(asked)] : [sessionUser, 'authenticator'];
  const rows = await session.query<{ rolname: string; rolcanlogin: boolean }>(
    'select rolname, rolcanlogin from pg_catalog.pg_roles where rolname = any($1::text[])',
    [names],
  );
  const found = new Map(rows.rows.map((row) => [row.rolname, row.rolcanlogin]));
  const unknown = names.filter((name) => !found.has(name));
  const nologin = names.filter((name) => found.get(name) === false);
  const roles = names.filter((name) => found.get(name) === true).map((name) => ({ name }));
  return { roles, unknown: asked.length ? unknown : [], nologin: asked.length ? nologin : [] };
}
