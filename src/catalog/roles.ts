/**
 * Roles and memberships in the catalog model (cluster-wide objects), shared by drift-gate and
 * the parity gate:
 *   readRoles(session)              role attributes, memberships, role-level settings (hashed)
 *   diffRoles(expected, actual)     differences with the SQL that brings `actual` to `expected`
 *   canSetRole / checkRequiredRoles can a login role `set role` to a runtime role?
 *
 * Passwords are never read: attributes come from the `pg_roles` view by named columns, never
 * from `pg_authid`. Role-level settings (`ALTER ROLE ... SET`) may hold secrets, so their values
 * are hashed (SHA-256) on the server and only the hash leaves it.
 *
 * What is left out, on purpose: the predefined roles (`pg_*`, the same on every server of a
 * major version) and the memberships among them; a membership of another role in a predefined
 * one (`grant pg_read_all_data to auditor`) is kept. The bootstrap superuser is read like any
 * other role, and so are the memberships it granted: which of them a caller ignores is the
 * caller's decision (`bootstrapSuperuser` names it).
 *
 * Memberships: PostgreSQL 16 gave each grant its own `INHERIT` and `SET` options. Before 16, a
 * membership is inherited when the member role has `INHERIT`, and `SET ROLE` to any role one is a
 * member of is always allowed, so `inherit` is the member's `rolinherit` and `set` is true.
 * PostgreSQL 16+ may hold several grants of one role to one member (one per grantor): they are
 * compared as one membership whose options are those any of the grants gives, as the server
 * checks them.
 */
import type { ClientBase } from 'pg';
import type { RequiredRole } from '../config/repo-config.ts';
import { quoteIdent, quoteLiteral } from '../postgres/connect.ts';

export interface RoleAttributes {
  superuser: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  login: boolean;
  replication: boolean;
  bypassRls: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** ISO 8601 in UTC, `infinity`, or null (no expiry). */
  validUntil: string | null;
}

export interface RoleFacts {
  name: string;
  attributes: RoleAttributes;
  /**
   * Role-level settings (ALTER ROLE ... SET, for all databases or for the database read), name ->
   * SHA-256 (hex) of the value: values may be secrets and are never kept. Key `<setting>` for all
   * databases, `<setting>@this-database` for `IN DATABASE` the database read (a fixed suffix, not
   * its name, so that two databases of different names compare).
   */
  settings: Record<string, string>;
}

export interface MembershipFacts {
  role: string;
  member: string;
  admin: boolean;
  inherit: boolean;
  set: boolean;
  grantor?: string;
}

export interface RoleSnapshot {
  serverMajor: number;
  /** The database read (for `ALTER ROLE ... IN DATABASE` in restore SQL). */
  database: string;
  /** The role that initialised the cluster (oid 10): `postgres`, or `supabase_admin` on Supabase. */
  bootstrapSuperuser: string;
  roles: RoleFacts[];
  memberships: MembershipFacts[];
}

/** Suffix of a setting key made with `ALTER ROLE ... IN DATABASE <the database read> SET`. */
export const IN_THIS_DATABASE = '@this-database';

// Named columns of pg_roles only (its password column is masked anyway); never the table behind it.
const ROLES_SQL = `
select r.rolname::text as name, r.rolsuper as superuser, r.rolinherit as inherit, r.rolcreaterole as create_role,
       r.rolcreatedb as create_db, r.rolcanlogin as login, r.rolreplication as replication, r.rolbypassrls as bypass_rls,
       r.rolconnlimit as connection_limit,
       case when r.rolvaliduntil is null then null
            when pg_catalog.isfinite(r.rolvaliduntil) then pg_catalog.to_char(r.rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            else r.rolvaliduntil::text end as valid_until
  from pg_catalog.pg_roles r
 where r.rolname !~ '^pg_' and ($1::text[] is null or r.rolname = any($1::text[]))
 order by 1`;

const membershipsSql = (major: number) => `
select r.rolname::text as role, m.rolname::text as member, am.admin_option as admin,
       ${major >= 16 ? 'am.inherit_option' : 'm.rolinherit'} as inherit, ${major >= 16 ? 'am.set_option' : 'true'} as set,
       g.rolname::text as grantor
  from pg_catalog.pg_auth_members am
  join pg_catalog.pg_roles r on r.oid = am.roleid
  join pg_catalog.pg_roles m on m.oid = am.member
  left join pg_catalog.pg_roles g on g.oid = am.grantor
 where not (r.rolname ~ '^pg_' and m.rolname ~ '^pg_')
   and ($1::text[] is null or r.rolname = any($1::text[]) or m.rolname = any($1::text[]))
 order by 1, 2, 6`;

// The value is hashed here, on the server: it never reaches postgate.
const SETTINGS_SQL = `
select r.rolname::text as role, s.setdatabase <> 0 as in_database, pg_catalog.split_part(c, '=', 1) as name,
       pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1), 'UTF8')), 'hex') as hash
  from pg_catalog.pg_db_role_setting s
  join pg_catalog.pg_roles r on r.oid = s.setrole
  cross join lateral pg_catalog.unnest(s.setconfig) c
 where s.setrole <> 0
   and s.setdatabase in (0, (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))
   and r.rolname !~ '^pg_' and ($1::text[] is null or r.rolname = any($1::text[]))`;

const SERVER_SQL = `
select pg_catalog.current_setting('server_version_num')::int / 10000 as major, pg_catalog.current_database()::text as database,
       (select rolname::text from pg_catalog.pg_roles where oid = 10) as bootstrap`;

interface RoleRow {
  name: string;
  superuser: boolean;
  inherit: boolean;
  create_role: boolean;
  create_db: boolean;
  login: boolean;
  replication: boolean;
  bypass_rls: boolean;
  connection_limit: number;
  valid_until: string | null;
}

/** Reads the roles (all but `pg_*`, or only `names`), the memberships touching them and their settings. Read-only. */
export async function readRoles(session: ClientBase, options: { names?: readonly string[] } = {}): Promise<RoleSnapshot> {
  const names = options.names ? [...options.names] : null;
  const server = (await session.query<{ major: number; database: string; bootstrap: string }>(SERVER_SQL)).rows[0]!;
  const roleRows = (await session.query<RoleRow>(ROLES_SQL, [names])).rows;
  const memberships = (await session.query<MembershipFacts & { grantor: string | null }>(membershipsSql(server.major), [names])).rows;
  const settingRows = (await session.query<{ role: string; in_database: boolean; name: string; hash: string }>(SETTINGS_SQL, [names])).rows;
  const settings = new Map<string, Record<string, string>>();
  for (const row of settingRows) {
    const of = settings.get(row.role) ?? {};
    of[row.in_database ? `${row.name}${IN_THIS_DATABASE}` : row.name] = row.hash;
    settings.set(row.role, of);
  }
  return {
    serverMajor: server.major,
    database: server.database,
    bootstrapSuperuser: server.bootstrap,
    roles: roleRows.map((r) => ({
      name: r.name,
      attributes: {
        superuser: r.superuser,
        inherit: r.inherit,
        createRole: r.create_role,
        createDb: r.create_db,
        login: r.login,
        replication: r.replication,
        bypassRls: r.bypass_rls,
        connectionLimit: r.connection_limit,
        validUntil: r.valid_until,
      },
      settings: sortedRecord(settings.get(r.name) ?? {}),
    })),
    memberships: memberships.map(({ grantor, ...m }) => ({ ...m, ...(grantor ? { grantor } : {}) })),
  };
}

const sortedRecord = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

export type RoleDifferenceKind =
  'role_missing' | 'role_unexpected' | 'role_attributes' | 'role_setting' | 'membership_missing' | 'membership_unexpected' | 'membership_options';

export interface RoleDifference {
  kind: RoleDifferenceKind;
  role: string;
  member?: string;
  /** One line; never a setting's value. */
  summary: string;
  /** Brings `actual` to `expected`. */
  restoreSql: string;
}

/** The attribute keywords of CREATE/ALTER ROLE, in the order PostgreSQL documents them. */
const FLAGS: ReadonlyArray<[keyof RoleAttributes, string]> = [
  ['superuser', 'superuser'],
  ['createDb', 'createdb'],
  ['createRole', 'createrole'],
  ['inherit', 'inherit'],
  ['login', 'login'],
  ['replication', 'replication'],
  ['bypassRls', 'bypassrls'],
];

type Clause = (a: RoleAttributes) => string;
const attributeClause = {
  ...Object.fromEntries(FLAGS.map(([key, word]): [string, Clause] => [key, (a) => (a[key] ? word : `no${word}`)])),
  connectionLimit: (a: RoleAttributes) => `connection limit ${a.connectionLimit}`,
  validUntil: (a: RoleAttributes) => `valid until ${quoteLiteral(a.validUntil ?? 'infinity')}`,
} as Record<keyof RoleAttributes, Clause>;

const ATTRIBUTE_KEYS = Object.keys(attributeClause) as Array<keyof RoleAttributes>;

/** `alter role x in database y` for a key with IN_THIS_DATABASE, else `alter role x`. */
function alterSetting(role: string, key: string, database: string): { target: string; setting: string } {
  const inDatabase = key.endsWith(IN_THIS_DATABASE);
  const setting = inDatabase ? key.slice(0, -IN_THIS_DATABASE.length) : key;
  return { target: `alter role ${quoteIdent(role)}${inDatabase ? ` in database ${quoteIdent(database)}` : ''}`, setting };
}

/** An SQL comment line: a line break inside a quoted name must not end it. */
const comment = (text: string) => `-- ${text.replace(/[\r\n\u2028\u2029]/g, ' ')}`;

function settingDifferences(role: string, expected: Record<string, string>, actual: Record<string, string>, database: string): RoleDifference[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return keys.flatMap((key): RoleDifference[] => {
    if (expected[key] === actual[key]) return [];
    const { target, setting } = alterSetting(role, key, database);
    const state = actual[key] === undefined ? 'is not set' : expected[key] === undefined ? 'is set but not expected' : 'has a different value';
    return [
      {
        kind: 'role_setting',
        role,
        summary: `setting ${setting}${setting === key ? '' : ' (in this database)'} of role ${role} ${state}`,
        // the expected value is known only by its hash: the statement says where to take it from
        restoreSql:
          expected[key] === undefined
            ? `${target} reset ${quoteIdent(setting)};`
            : comment(`${target} set ${quoteIdent(setting)} = <the value the expected side sets>;`),
      },
    ];
  });
}

function createRoleSql(role: RoleFacts, database: string): string {
  const a = role.attributes;
  const clauses = ATTRIBUTE_KEYS.filter((key) => key !== 'login' && (key !== 'validUntil' || a.validUntil !== null)).map((key) => attributeClause[key](a));
  const lines = [`create role ${quoteIdent(role.name)} nologin ${clauses.join(' ')};`];
  if (a.login)
    lines.push(
      comment(`${quoteIdent(role.name)} logs in: set its password from your secret store, then: alter role ${quoteIdent(role.name)} login password '...';`),
    );
  for (const key of Object.keys(role.settings)) {
    const { target, setting } = alterSetting(role.name, key, database);
    lines.push(comment(`${target} set ${quoteIdent(setting)} = <the value the expected side sets>;`));
  }
  return lines.join('\n');
}

interface Membership {
  role: string;
  member: string;
  admin: boolean;
  inherit: boolean;
  set: boolean;
}

/** One membership per role and member: the options any of its grants gives. */
function mergeMemberships(memberships: readonly MembershipFacts[]): Map<string, Membership> {
  const merged = new Map<string, Membership>();
  for (const m of memberships) {
    const key = JSON.stringify([m.role, m.member]);
    const seen = merged.get(key);
    merged.set(
      key,
      seen
        ? { ...seen, admin: seen.admin || m.admin, inherit: seen.inherit || m.inherit, set: seen.set || m.set }
        : { role: m.role, member: m.member, admin: m.admin, inherit: m.inherit, set: m.set },
    );
  }
  return merged;
}

const OPTIONS = ['admin', 'inherit', 'set'] as const;

/** `grant r to m` with the options clause the server in question accepts. */
function grantSql(m: Membership, major: number): string {
  const head = `grant ${quoteIdent(m.role)} to ${quoteIdent(m.member)}`;
  if (major >= 16) return `${head} with ${OPTIONS.map((o) => `${o} ${m[o]}`).join(', ')};`;
  return `${head}${m.admin ? ' with admin option' : ''};`;
}

function membershipOptionsSql(expected: Membership, actual: Membership, major: number): string {
  const who = `${quoteIdent(expected.role)} to ${quoteIdent(expected.member)}`;
  const changed = OPTIONS.filter((o) => expected[o] !== actual[o]);
  return changed
    .map((o) => {
      if (major < 16 && o === 'inherit')
        return `alter role ${quoteIdent(expected.member)} ${expected.inherit ? 'inherit' : 'noinherit'}; -- before PostgreSQL 16, inheritance is the member's attribute`;
      if (major < 16 && o === 'set') return `-- before PostgreSQL 16 every membership allows set role`;
      return expected[o]
        ? `grant ${who} with ${o} ${major >= 16 ? 'true' : 'option'};`
        : `revoke ${o} option for ${quoteIdent(expected.role)} from ${quoteIdent(expected.member)};`;
    })
    .join('\n');
}

const describeOptions = (m: Membership) => OPTIONS.map((o) => `${o} ${m[o]}`).join(', ');

/**
 * The differences that make `actual` differ from `expected`: roles (only `names`, default every
 * role of either side), their attributes and settings, and the memberships (those touching
 * `names` when given), with the SQL that brings `actual` to `expected`, for `actual`'s server.
 */
export function diffRoles(expected: RoleSnapshot, actual: RoleSnapshot, options: { names?: readonly string[] } = {}): RoleDifference[] {
  const wanted = options.names ? new Set(options.names) : undefined;
  const inScope = (name: string) => !wanted || wanted.has(name);
  const expectedRoles = new Map(expected.roles.filter((r) => inScope(r.name)).map((r) => [r.name, r]));
  const actualRoles = new Map(actual.roles.filter((r) => inScope(r.name)).map((r) => [r.name, r]));
  const differences: RoleDifference[] = [];
  for (const name of [...new Set([...expectedRoles.keys(), ...actualRoles.keys()])].sort()) {
    const e = expectedRoles.get(name);
    const a = actualRoles.get(name);
    if (e && !a) {
      differences.push({ kind: 'role_missing', role: name, summary: `role ${name} is missing`, restoreSql: createRoleSql(e, actual.database) });
      continue;
    }
    if (!e) {
      differences.push({ kind: 'role_unexpected', role: name, summary: `role ${name} is not expected`, restoreSql: `drop role ${quoteIdent(name)};` });
      continue;
    }
    const changed = ATTRIBUTE_KEYS.filter((key) => e.attributes[key] !== a!.attributes[key]);
    if (changed.length) {
      differences.push({
        kind: 'role_attributes',
        role: name,
        summary: `role ${name} differs in ${changed.map((key) => `${key} (expected ${attributeClause[key](e.attributes)}, found ${attributeClause[key](a!.attributes)})`).join(', ')}`,
        restoreSql: `alter role ${quoteIdent(name)} with ${changed.map((key) => attributeClause[key](e.attributes)).join(' ')};`,
      });
    }
    differences.push(...settingDifferences(name, e.settings, a!.settings, actual.database));
  }
  const touches = (m: MembershipFacts) => !wanted || wanted.has(m.role) || wanted.has(m.member);
  const expectedMemberships = mergeMemberships(expected.memberships.filter(touches));
  const actualMemberships = mergeMemberships(actual.memberships.filter(touches));
  for (const key of [...new Set([...expectedMemberships.keys(), ...actualMemberships.keys()])].sort()) {
    const e = expectedMemberships.get(key);
    const a = actualMemberships.get(key);
    const { role, member } = (e ?? a)!;
    const base = { role, member };
    if (e && !a) {
      differences.push({
        ...base,
        kind: 'membership_missing',
        summary: `${member} is not a member of ${role} (expected ${describeOptions(e)})`,
        restoreSql: grantSql(e, actual.serverMajor),
      });
    } else if (a && !e) {
      differences.push({
        ...base,
        kind: 'membership_unexpected',
        summary: `${member} is a member of ${role}, which is not expected`,
        restoreSql: `revoke ${quoteIdent(role)} from ${quoteIdent(member)};`,
      });
    } else if (e && a && OPTIONS.some((o) => e[o] !== a[o])) {
      differences.push({
        ...base,
        kind: 'membership_options',
        summary: `membership of ${member} in ${role} has ${describeOptions(a)} (expected ${describeOptions(e)})`,
        restoreSql: membershipOptionsSql(e, a, actual.serverMajor),
      });
    }
  }
  return differences;
}

/**
 * Can `login` run `set role <role>`? PostgreSQL 16+: `pg_has_role(login, role, 'SET')` (a chain of
 * memberships, each with the SET option); before 16: membership (`'MEMBER'`). Superusers always
 * can. A role that does not exist (either one) is false, with the reason.
 */
export async function canSetRole(session: ClientBase, login: string, role: string): Promise<{ ok: boolean; reason?: string }> {
  const facts = (
    await session.query<{ major: number; login_exists: boolean; role_exists: boolean }>(
      `select pg_catalog.current_setting('server_version_num')::int / 10000 as major,
              exists (select 1 from pg_catalog.pg_roles where rolname = $1) as login_exists,
              exists (select 1 from pg_catalog.pg_roles where rolname = $2) as role_exists`,
      [login, role],
    )
  ).rows[0]!;
  if (!facts.login_exists) return { ok: false, reason: `role \`${login}\` does not exist` };
  if (!facts.role_exists) return { ok: false, reason: `role \`${role}\` does not exist` };
  const { member, can } = (
    await session.query<{ member: boolean; can: boolean }>(
      `select pg_catalog.pg_has_role($1::name, $2::name, 'MEMBER') as member, pg_catalog.pg_has_role($1::name, $2::name, $3) as can`,
      [login, role, facts.major >= 16 ? 'SET' : 'MEMBER'],
    )
  ).rows[0]!;
  if (can) return { ok: true };
  return {
    ok: false,
    reason: member
      ? `\`${login}\` is a member of \`${role}\` only through a membership without the SET option (granted WITH SET FALSE); grant it with set true`
      : `\`${login}\` is not a member of \`${role}\` (no membership); grant ${role} to ${login}`,
  };
}

export interface RequiredRoleProblem {
  kind: 'missing' | 'not_assumable';
  role: string;
  /** The login role that cannot `set role` (not_assumable). */
  login?: string;
  reason: string;
}

/** The repo config's required roles against a database: each must exist, and each of its `assumed-by` roles must be able to `set role` to it. */
export async function checkRequiredRoles(session: ClientBase, required: readonly RequiredRole[]): Promise<RequiredRoleProblem[]> {
  const problems: RequiredRoleProblem[] = [];
  for (const entry of required) {
    const exists = (await session.query('select 1 from pg_catalog.pg_roles where rolname = $1', [entry.name])).rowCount! > 0;
    if (!exists) {
      problems.push({ kind: 'missing', role: entry.name, reason: `role \`${entry.name}\` does not exist` });
      continue;
    }
    for (const login of entry['assumed-by']) {
      const answer = await canSetRole(session, login, entry.name);
      if (!answer.ok) problems.push({ kind: 'not_assumable', role: entry.name, login, reason: answer.reason! });
    }
  }
  return problems;
}
