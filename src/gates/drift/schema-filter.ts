/**
 * drift-gate's schema filter (`schemas`, `exclude-schemas` and the repo config's
 * `drift.schemas` / `drift.exclude-schemas`) against the schemas the live database and the
 * shadow really have: see src/config/schema-filter.ts for the rule and the sentence.
 */
import type { ClientBase } from 'pg';
import { PROFILES } from '../../catalog/snapshot.ts';
import type { CatalogProfile } from '../../catalog/types.ts';
import type { DriftOptions } from '../../config/gates.ts';
import { givenLabel } from '../../config/input-spec.ts';
import type { RepoConfig } from '../../config/repo-config.ts';
import { type SchemaFilterInput, schemaFilterError } from '../../config/schema-filter.ts';

export interface SchemaNames {
  /** Every schema a catalog snapshot can read (what SCHEMAS_QUERY lists). */
  all: string[];
  /** Of those, the ones that are no extension's and not pg_*. */
  own: string[];
}

/** The same schemas the snapshot's SCHEMAS_QUERY reads, with whether each is the project's own. */
const SCHEMA_NAMES_SQL = `
select n.nspname::text as name,
       n.nspname !~ '^pg_' and not exists (
         select 1 from pg_catalog.pg_depend d
          where d.classid = 'pg_catalog.pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e') as own
from pg_catalog.pg_namespace n
where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
order by 1`;

export async function readSchemaNames(session: ClientBase): Promise<SchemaNames> {
  const { rows } = await session.query<{ name: string; own: boolean }>(SCHEMA_NAMES_SQL);
  return { all: rows.map((r) => r.name), own: rows.filter((r) => r.own).map((r) => r.name) };
}

/** The filters as given: the inputs when set (named as the user wrote them), else the repo config. */
export function schemaFilters(options: DriftOptions, config: RepoConfig): { schemas?: SchemaFilterInput; exclude?: SchemaFilterInput } {
  const schemas: SchemaFilterInput | undefined = options.schemas.length
    ? { names: options.schemas, label: givenLabel(options, 'schemas') }
    : config.drift.schemas?.length
      ? { names: config.drift.schemas, label: 'Repo config key `drift.schemas`' }
      : undefined;
  const fromInput = options.excludeSchemas.length > 0;
  const fromConfig = config.drift['exclude-schemas'].length > 0;
  const exclude: SchemaFilterInput | undefined =
    fromInput || fromConfig
      ? {
          names: [...options.excludeSchemas, ...config.drift['exclude-schemas']],
          label:
            fromInput && fromConfig
              ? `${givenLabel(options, 'exclude-schemas')} with repo config key \`drift.exclude-schemas\``
              : fromInput
                ? givenLabel(options, 'exclude-schemas')
                : 'Repo config key `drift.exclude-schemas`',
        }
      : undefined;
  return { ...(schemas ? { schemas } : {}), ...(exclude ? { exclude } : {}) };
}

/**
 * Throws the bad-input error when the filter names a schema neither database has, or
 * excludes everything there is to compare; `objectsLeft` counts both snapshots' objects
 * (the history table's left out).
 */
export function assertSchemaFilter(
  options: DriftOptions,
  config: RepoConfig,
  profile: CatalogProfile,
  found: { live: SchemaNames; shadow: SchemaNames; objectsLeft: number },
): void {
  const filters = schemaFilters(options, config);
  if (!filters.schemas && !filters.exclude) return;
  const platform = new Set(PROFILES[profile].excludedSchemas);
  const error = schemaFilterError({
    ...filters,
    databases: [
      { name: 'the live database', schemas: found.live.all },
      { name: 'the shadow database built from the migrations', schemas: found.shadow.all },
    ],
    shown: [...found.live.own, ...found.shadow.own].filter((name) => !platform.has(name)),
    objectsLeft: found.objectsLeft,
  });
  if (error) throw error;
}
