/**
 * Which schemas the Data API exposes, and which roles it uses. Exposure comes from (first
 * that says): the `schemas` input, the repo config's `rls.exposed-schemas`,
 * `supabase/config.toml` `[api]`, or the database's own `pgrst.db_schemas` setting (on
 * role authenticator, the database, or the session). When none says, that is an error: an
 * audit that assumed "nothing exposed" would be a silent all-clear.
 *
 * config.toml is read the way the Supabase CLI serves it: PostgREST's `db-schemas` is
 * `[api] schemas` joined with commas (`extra_search_path` only goes to the request
 * search_path and exposes nothing); PostgREST reads an empty `db-schemas` as unset and
 * serves its default, `public`. `[api] enabled = false` starts no PostgREST (and `config
 * push` empties the hosted project's list): nothing is exposed. Both are reported in a
 * notice, so a list that was not taken as written never passes silently.
 *
 * What can be known before a database exists is checked first (`preflight`), so that a run
 * that cannot succeed says so before a shadow database is built.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientBase } from 'pg';
import { parse as parseToml } from 'smol-toml';
import { givenLabel } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import { findingOf, type Rule } from '../../findings/rules.ts';
import type { Finding } from '../../findings/types.ts';
import { findSupabaseConfig } from '../../migrations/sources.ts';
import { SUPABASE_BASELINE_SQL, SUPABASE_MANAGED_SCHEMAS } from '../../postgres/baseline/supabase.ts';

export interface Exposure {
  schemas: string[];
  /** Where the list came from, for the report. */
  source: string;
  /** Set when the list is not the one written (empty, or the Data API disabled): the report carries it. */
  notice?: Finding;
}

export interface ApiRoles {
  roles: string[];
  /** Where the list came from, for the report. */
  source: string;
  /** The input that sets them, as the user names it (flag `--api-roles`, input `api-roles`). */
  input: string;
}

export const EXPOSURE_RULES = [
  {
    id: 'api_schemas_empty',
    gate: 'rls',
    severity: 'notice',
    category: 'exposure',
    title: '[api] schemas in supabase/config.toml is empty: PostgREST serves public',
    doc: 'supabase/config.toml sets `[api] schemas = []`. The Supabase CLI passes the list to PostgREST as its `db-schemas`, and PostgREST reads an empty value as unset and serves its default schema, `public`; so rls-audit audits `public` instead of nothing. (Older CLI versions always added `public`, `storage` and `graphql_public`, as the comment of older config.toml templates still says; `supabase config push` leaves the hosted project\'s list unchanged when the list is empty.) Fix: list the schemas the API exposes, e.g. `schemas = ["public", "graphql_public"]`, or set `[api] enabled = false` if the project does not use the Data API.',
  },
  {
    id: 'data_api_disabled',
    gate: 'rls',
    severity: 'notice',
    category: 'exposure',
    title: 'The Data API is disabled in supabase/config.toml',
    doc: "supabase/config.toml sets `[api] enabled = false`: the Supabase CLI starts no PostgREST and `supabase config push` turns the hosted Data API off, so no schema is exposed and no table, view or function was checked for exposure (the access matrix is empty too). The policy, function and Storage rules and the repo config's RLS tests still ran. If the hosted project does serve the Data API, pass the `schemas` input or set `rls.exposed-schemas` in the repo config.",
  },
] as const satisfies readonly Rule[];

const exposureFinding = findingOf(EXPOSURE_RULES);

/** PostgREST's `db-schemas` when it is unset or empty. */
const POSTGREST_DEFAULT_SCHEMAS = ['public'];
/** The CLI's `[api] schemas` when config.toml does not set it (its template's value). */
const SUPABASE_DEFAULT_SCHEMAS = ['public', 'graphql_public'];
/** PostgREST refuses to expose these. */
const NEVER_EXPOSED = ['pg_catalog', 'information_schema'];
/** Roles every shadow server has before the baseline: the bootstrap superuser and the migration role. */
const SERVER_ROLES = ['postgres', 'supabase_admin'];

/** How the user gave input `name`, mid-sentence: "flag `--schemas`", "input `schemas`", "environment variable `POSTGATE_SCHEMAS`". */
export function inputRef(options: object, name: string): string {
  const label = givenLabel(options, name);
  return `${label[0]!.toLowerCase()}${label.slice(1)}`;
}

/** supabase/config.toml next to the migrations folder, or under the repository root. */
export function supabaseConfigFor(cwd: string, migrationsDir: string | undefined): string | undefined {
  return findSupabaseConfig(path.resolve(cwd, migrationsDir ?? '.'));
}

/** 1-based line of `key = ...` in TOML table `[table]`, if written there. */
function lineOfKey(text: string, table: string, key: string): number | undefined {
  let current = '';
  for (const [index, line] of text.split('\n').entries()) {
    const header = /^\s*\[([^\]]+)\]\s*(?:#.*)?$/.exec(line);
    if (header) current = header[1]!.trim();
    else if (current === table && new RegExp(`^\\s*${key}\\s*=`).test(line)) return index + 1;
  }
  return undefined;
}

function configNotice(rule: (typeof EXPOSURE_RULES)[number]['id'], label: string, line: number | undefined, message: string): Finding {
  return exposureFinding({ rule, object: { kind: 'file', name: label }, message, location: { file: label, ...(line ? { line } : {}) } });
}

function fromConfigToml(file: string, cwd: string, schemasInput: string): Exposure {
  const label = path.relative(cwd, file) || file;
  const text = readFileSync(file, 'utf8');
  let data: { api?: { enabled?: unknown; schemas?: unknown } };
  try {
    data = parseToml(text) as typeof data;
  } catch (error) {
    throw new UserError(`${label} is not valid TOML (${(error as Error).message.split('\n')[0]}); fix it or pass ${schemasInput}.`);
  }
  if (data.api?.enabled === false) {
    return {
      schemas: [],
      source: `${label} [api] enabled = false (the Data API is disabled: nothing is exposed)`,
      notice: configNotice(
        'data_api_disabled',
        label,
        lineOfKey(text, 'api', 'enabled'),
        `${label} sets [api] enabled = false: the Data API serves no schema, so no table, view or function was checked for exposure; the policy, function and Storage rules and the RLS tests still ran.`,
      ),
    };
  }
  const schemas = data.api?.schemas;
  if (schemas === undefined) return { schemas: SUPABASE_DEFAULT_SCHEMAS, source: `${label} (no [api] schemas: Supabase's default)` };
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string')) {
    throw new UserError(`${label}: [api] schemas must be a list of schema names; fix it or pass ${schemasInput}.`);
  }
  const named = schemas.map((s) => s.trim()).filter(Boolean);
  if (named.length) return { schemas: named, source: `${label} [api] schemas` };
  return {
    schemas: POSTGREST_DEFAULT_SCHEMAS,
    source: `${label} [api] schemas = [] (PostgREST serves its default, public, for an empty list)`,
    notice: configNotice(
      'api_schemas_empty',
      label,
      lineOfKey(text, 'api', 'schemas'),
      `${label} sets [api] schemas = []: the Supabase CLI passes PostgREST an empty db-schemas, which PostgREST replaces with its default, so audited: public; list the exposed schemas there, or set [api] enabled = false if the Data API is off.`,
    ),
  };
}

function assertExposable(exposure: Exposure): Exposure {
  const forbidden = exposure.schemas.filter((schema) => NEVER_EXPOSED.includes(schema));
  if (forbidden.length) {
    throw new UserError(
      `The schema list from ${exposure.source} includes ${forbidden.join(', ')}, which PostgREST never exposes; remove ${forbidden.length === 1 ? 'it' : 'them'}.`,
    );
  }
  return exposure;
}

/** Exposure known without a database: input, repo config, config.toml. */
export function staticExposure(input: {
  /** The parsed options: `schemas`, and how the user named the inputs. */
  options: { schemas: string[] };
  configSchemas: string[] | undefined;
  cwd: string;
  migrationsDir: string | undefined;
}): Exposure | undefined {
  const schemasInput = inputRef(input.options, 'schemas');
  if (input.options.schemas.length) return assertExposable({ schemas: input.options.schemas, source: schemasInput });
  if (input.configSchemas?.length) return assertExposable({ schemas: input.configSchemas, source: 'repo config rls.exposed-schemas' });
  const toml = supabaseConfigFor(input.cwd, input.migrationsDir);
  return toml ? assertExposable(fromConfigToml(toml, input.cwd, schemasInput)) : undefined;
}

/** `pgrst.db_schemas` as PostgREST would read it: role authenticator, then the database, then the session. */
export async function databaseExposure(session: ClientBase): Promise<Exposure | undefined> {
  const result = await session.query<{ value: string | null; origin: string }>(`
    select split_part(cfg.setting, '=', 2) as value,
           case when s.setrole = 0 then 'database setting' else 'role ' || r.rolname || ' setting' end as origin
    from pg_catalog.pg_db_role_setting s
    left join pg_catalog.pg_roles r on r.oid = s.setrole
    cross join lateral unnest(s.setconfig) as cfg(setting)
    where cfg.setting like 'pgrst.db\\_schemas=%'
      and (s.setdatabase = 0 or s.setdatabase = (select oid from pg_catalog.pg_database where datname = current_database()))
      and (s.setrole = 0 or r.rolname = 'authenticator')
    union all
    select current_setting('pgrst.db_schemas', true), 'session setting'`);
  const byOrigin = result.rows.filter((row) => row.value && row.value.trim());
  const chosen = byOrigin.find((row) => row.origin.startsWith('role')) ?? byOrigin.find((row) => row.origin === 'database setting') ?? byOrigin[0];
  if (!chosen?.value) return undefined;
  const schemas = chosen.value
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
  return schemas.length ? { schemas, source: `pgrst.db_schemas (${chosen.origin})` } : undefined;
}

export function noExposureError(options: object): UserError {
  return new UserError(
    `No exposed schemas are known, and rls-audit never assumes that nothing is exposed: pass ${inputRef(options, 'schemas')} (e.g. public), set rls.exposed-schemas in the repo config, add [api] schemas to supabase/config.toml, or set pgrst.db_schemas on role authenticator.`,
  );
}

const quotedList = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

function missingRolesError(missing: readonly string[], apiRoles: ApiRoles, why: string): UserError {
  const one = missing.length === 1;
  return new UserError(
    `API role${one ? '' : 's'} ${quotedList(missing)} from ${apiRoles.source} ${one ? 'does' : 'do'} not exist ${why}; create ${one ? 'it' : 'them'} or set ${apiRoles.input} to the roles your API uses.`,
  );
}

/** What the shadow database will start from, and the SQL that may add to it, known before it is built. */
export interface ShadowPlan {
  /** The Supabase baseline is applied first. */
  supabase: boolean;
  /** The migrations' and seed files' SQL. */
  sql: readonly string[];
  /** False when the server is the user's (`shadow-database-url`): it may hold roles postgate cannot know of. */
  freshServer: boolean;
}

/** Whether `name` appears in the SQL as a word (any case: quoted names are a subset). */
function mentions(sql: readonly string[], name: string): boolean {
  const word = new RegExp(`(?<![\\w$])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w$])`, 'i');
  return sql.some((text) => word.test(text));
}

/**
 * Fails before the shadow database is built when the audit cannot succeed on it: no exposed
 * schemas are known and nothing in the SQL sets `pgrst.db_schemas`, or an exposed schema or
 * API role is created neither by the server, the Supabase baseline nor the SQL. Names that
 * the SQL mentions are left to the check against the database.
 */
export function preflight(exposure: Exposure | undefined, apiRoles: ApiRoles, plan: ShadowPlan, options: object): void {
  if (!exposure && !plan.sql.some((text) => /pgrst\.db_schemas/i.test(text))) throw noExposureError(options);
  if (!plan.freshServer) return;
  const sql = plan.supabase ? [SUPABASE_BASELINE_SQL, ...plan.sql] : plan.sql;
  const creator = plan.supabase ? 'neither the Supabase baseline nor any migration creates' : 'no migration creates';
  const schemas = ['public', ...(plan.supabase ? SUPABASE_MANAGED_SCHEMAS : [])];
  const missingSchemas = (exposure?.schemas ?? []).filter((schema) => !schemas.includes(schema) && !mentions(sql, schema));
  if (exposure && missingSchemas.length) {
    throw new UserError(
      `The schema list from ${exposure.source} names schema${missingSchemas.length === 1 ? '' : 's'} ${quotedList(missingSchemas)}, which ${creator}; fix the schema list or create the schema in a migration.`,
    );
  }
  const missingRoles = apiRoles.roles.filter((role) => !SERVER_ROLES.includes(role) && !mentions(sql, role));
  if (missingRoles.length) throw missingRolesError(missingRoles, apiRoles, `in the shadow database: ${creator} ${missingRoles.length === 1 ? 'it' : 'them'}`);
}

/**
 * Checks the schemas and roles against the database; throws one sentence per problem.
 * `lenient` (the base branch in PR mode, which may predate a schema or role the PR adds)
 * drops missing schemas instead, and leaves missing roles to the rules and the matrix,
 * which skip them.
 */
export async function validateAgainstDatabase(
  session: ClientBase,
  exposure: Exposure,
  apiRoles: ApiRoles,
  lenient = false,
): Promise<{ schemas: string[]; roles: string[] }> {
  assertExposable(exposure);
  const known = await session.query<{ name: string; kind: string }>(
    `select nspname::text as name, 'schema' as kind from pg_catalog.pg_namespace where nspname = any($1::text[])
     union all
     select rolname::text, 'role' from pg_catalog.pg_roles where rolname = any($2::text[])`,
    [exposure.schemas, apiRoles.roles],
  );
  const schemas = new Set(known.rows.filter((r) => r.kind === 'schema').map((r) => r.name));
  const roles = new Set(known.rows.filter((r) => r.kind === 'role').map((r) => r.name));
  // Roles keep their positions (the first is the anonymous one); rules and matrix skip roles that do not exist.
  if (lenient) return { schemas: exposure.schemas.filter((schema) => schemas.has(schema)), roles: apiRoles.roles };
  const missingSchemas = exposure.schemas.filter((schema) => !schemas.has(schema));
  if (missingSchemas.length) {
    throw new UserError(
      `The schema list from ${exposure.source} names schema${missingSchemas.length === 1 ? '' : 's'} ${quotedList(missingSchemas)}, which the database does not have; fix the schema list or create the schema in a migration.`,
    );
  }
  const missingRoles = apiRoles.roles.filter((role) => !roles.has(role));
  if (missingRoles.length) throw missingRolesError(missingRoles, apiRoles, 'in the database');
  return { schemas: exposure.schemas, roles: apiRoles.roles };
}

/** API roles: the input, else the repo config, else anon and authenticated. */
export function resolveApiRoles(options: { apiRoles: string[] }, configRoles: string[] | undefined): ApiRoles {
  const input = inputRef(options, 'api-roles');
  if (options.apiRoles.length) return { roles: options.apiRoles, source: input, input };
  if (configRoles?.length) return { roles: configRoles, source: 'repo config rls.api-roles', input };
  return { roles: ['anon', 'authenticated'], source: 'the default api-roles', input };
}
