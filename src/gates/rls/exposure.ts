/**
 * Which schemas the Data API exposes, and which roles it uses. Exposure comes from (first
 * that says): the `schemas` input, the repo config's `rls.exposed-schemas`,
 * `supabase/config.toml` `[api] schemas`, or the database's own `pgrst.db_schemas`
 * setting (on role authenticator, the database, or the session). When none says, that is
 * an error: an audit that assumed "nothing exposed" would be a silent all-clear.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientBase } from 'pg';
import { parse as parseToml } from 'smol-toml';
import { UserError } from '../../errors.ts';
import { findSupabaseConfig } from '../../migrations/sources.ts';

export interface Exposure {
  schemas: string[];
  /** Where the list came from, for the report. */
  source: string;
}

/** PostgREST's defaults when `[api] schemas` is absent from config.toml. */
const SUPABASE_DEFAULT_SCHEMAS = ['public', 'graphql_public'];
/** PostgREST refuses to expose these. */
const NEVER_EXPOSED = ['pg_catalog', 'information_schema'];

/** supabase/config.toml next to the migrations folder, or under the repository root. */
export function supabaseConfigFor(cwd: string, migrationsDir: string | undefined): string | undefined {
  return findSupabaseConfig(path.resolve(cwd, migrationsDir ?? '.'));
}

function fromConfigToml(file: string, cwd: string): Exposure {
  const label = path.relative(cwd, file) || file;
  let data: { api?: { schemas?: unknown } };
  try {
    data = parseToml(readFileSync(file, 'utf8')) as typeof data;
  } catch (error) {
    throw new UserError(`${label} is not valid TOML (${(error as Error).message.split('\n')[0]}); fix it or pass input \`schemas\`.`);
  }
  const schemas = data.api?.schemas;
  if (schemas === undefined) return { schemas: SUPABASE_DEFAULT_SCHEMAS, source: `${label} (no [api] schemas: Supabase's default)` };
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string')) {
    throw new UserError(`${label}: [api] schemas must be a list of schema names; fix it or pass input \`schemas\`.`);
  }
  return { schemas: schemas as string[], source: `${label} [api] schemas` };
}

/** Exposure known without a database: input, repo config, config.toml. */
export function staticExposure(input: {
  schemas: string[];
  configSchemas: string[] | undefined;
  cwd: string;
  migrationsDir: string | undefined;
}): Exposure | undefined {
  if (input.schemas.length) return { schemas: input.schemas, source: 'input `schemas`' };
  if (input.configSchemas?.length) return { schemas: input.configSchemas, source: 'repo config rls.exposed-schemas' };
  const toml = supabaseConfigFor(input.cwd, input.migrationsDir);
  return toml ? fromConfigToml(toml, input.cwd) : undefined;
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

export function noExposureError(): UserError {
  return new UserError(
    'No exposed schemas are known, and rls-audit never assumes that nothing is exposed: pass input `schemas` (e.g. public), set rls.exposed-schemas in the repo config, add [api] schemas to supabase/config.toml, or set pgrst.db_schemas on role authenticator.',
  );
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
  apiRoles: { roles: string[]; source: string },
  lenient = false,
): Promise<{ schemas: string[]; roles: string[] }> {
  const forbidden = exposure.schemas.filter((schema) => NEVER_EXPOSED.includes(schema));
  if (forbidden.length) {
    throw new UserError(`The schema list from ${exposure.source} includes ${forbidden.join(', ')}, which PostgREST never exposes; remove ${forbidden.length === 1 ? 'it' : 'them'}.`);
  }
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
      `The schema list from ${exposure.source} names schema${missingSchemas.length === 1 ? '' : 's'} ${missingSchemas.map((s) => `"${s}"`).join(', ')}, which the database does not have; fix the schema list or create the schema in a migration.`,
    );
  }
  const missingRoles = apiRoles.roles.filter((role) => !roles.has(role));
  if (missingRoles.length) {
    throw new UserError(
      `API role${missingRoles.length === 1 ? '' : 's'} ${missingRoles.map((r) => `"${r}"`).join(', ')} from ${apiRoles.source} ${missingRoles.length === 1 ? 'does' : 'do'} not exist in the database; create ${missingRoles.length === 1 ? 'it' : 'them'} or set input \`api-roles\` to the roles your API uses.`,
    );
  }
  return { schemas: exposure.schemas, roles: apiRoles.roles };
}

/** API roles: the input, else the repo config, else anon and authenticated. */
export function resolveApiRoles(input: string[], configRoles: string[] | undefined): { roles: string[]; source: string } {
  if (input.length) return { roles: input, source: 'input `api-roles`' };
  if (configRoles?.length) return { roles: configRoles, source: 'repo config rls.api-roles' };
  return { roles: ['anon', 'authenticated'], source: 'the default api-roles' };
}
