/**
 * What a drill compares between the source (in the dump's own snapshot, or from a manifest)
 * and the restored copy: exact row counts per table, key checksums of configured tables,
 * extensions, RLS flags, policy and trigger counts, the latest migration version and the
 * names of database-level settings. The same queries run on both sides, in sessions whose
 * TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output are pinned, so a
 * row's text (and so its checksum) does not depend on either server's defaults.
 *
 * Values never leave the database: only counts, names and hashes do.
 */
import type { ClientBase } from 'pg';
import { SUPABASE_MANAGED_SCHEMAS } from '../../postgres/baseline/supabase.ts';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';

export interface TableFacts {
  schema: string;
  name: string;
  rows: number;
  rls: boolean;
  forceRls: boolean;
}

export interface DatabaseFacts {
  serverVersion: string;
  tables: TableFacts[];
  /** "schema.table" -> "<rows>/<sum of per-row md5 prefixes>". */
  checksums: Record<string, string>;
  extensions: Record<string, string>;
  policyCount: number;
  triggerCount: number;
  migrationVersion?: { table: string; version: string };
  /** Names of settings attached to the database (ALTER DATABASE / ALTER ROLE ... IN DATABASE ... SET). */
  databaseSettings: string[];
  /** Schemas the facts leave out (system schemas are always left out). */
  excludedSchemas: string[];
}

/** Pinned so that row text, and so checksums, are identical on both sides. */
export const PINNED_SETTINGS_SQL = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
  "SET lc_monetary = 'C'",
].join('; ');

/**
 * Schemas the Supabase platform owns. A Supabase source is dumped and compared without them
 * (as `supabase db dump` does); the restore target gets them from the baseline or the image.
 * `supabase_migrations` stays in: it holds the migration history the drill checks.
 */
export const SUPABASE_PLATFORM_SCHEMAS: readonly string[] = [...SUPABASE_MANAGED_SCHEMAS.filter((schema) => schema !== 'supabase_migrations'), '_supavisor'];

/** Migration history tables, most specific first: the first that exists gives the latest version. */
export const MIGRATION_HISTORY = [
  { table: 'supabase_migrations.schema_migrations', column: 'version', latest: 'select max(version)::text as v from supabase_migrations.schema_migrations' },
  { table: 'public.flyway_schema_history', column: 'success', latest: 'select max(version)::text as v from public.flyway_schema_history where success' },
  {
    table: 'public._prisma_migrations',
    column: 'finished_at',
    latest: 'select max(migration_name)::text as v from public._prisma_migrations where finished_at is not null',
  },
  { table: 'drizzle.__drizzle_migrations', column: 'created_at', latest: 'select max(created_at)::text as v from drizzle.__drizzle_migrations' },
  { table: 'public.schema_migrations', column: 'version', latest: 'select max(version)::text as v from public.schema_migrations' },
  { table: 'public.pgmigrations', column: 'name', latest: 'select max(name)::text as v from public.pgmigrations' },
  { table: 'graphile_migrate.migrations', column: 'hash', latest: 'select max(hash)::text as v from graphile_migrate.migrations' },
] as const;

const SYSTEM_SCHEMA_FILTER = `n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`;

export function tableLabel(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`;
}

/** "schema.table" or "table" (public) -> parts; quoted names are not supported in config. */
export function splitTableName(text: string): { schema: string; name: string } {
  const dot = text.indexOf('.');
  return dot > 0 ? { schema: text.slice(0, dot), name: text.slice(dot + 1) } : { schema: 'public', name: text };
}

function qualified(table: { schema: string; name: string }): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** Order-independent checksum of every row's text: count and the sum of 64-bit md5 prefixes. */
export function checksumSql(table: { schema: string; name: string }): string {
  return `select count(*)::text || '/' || coalesce(sum(('x' || substr(md5(row(r.*)::text), 1, 16))::bit(64)::bigint::numeric), 0)::text as checksum from ${qualified(table)} r`;
}

async function mapConcurrent<T, R>(items: readonly T[], workers: readonly ClientBase[], fn: (item: T, session: ClientBase) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    workers.map(async (session) => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!, session);
      }
    }),
  );
  return results;
}

export interface CollectOptions {
  excludeSchemas: readonly string[];
  /** Tables to checksum ("schema.table"). Missing ones are reported by the comparison, not here. */
  checksumTables: readonly string[];
}

/**
 * Collects the facts. `sessions[0]` reads the catalog; row counts and checksums are spread
 * over all sessions (for a source, every session must already be in the same snapshot).
 */
export async function collectFacts(sessions: readonly ClientBase[], options: CollectOptions): Promise<DatabaseFacts> {
  const main = sessions[0]!;
  const excluded = [...new Set(options.excludeSchemas)];
  const notExcluded = excluded.length ? `and n.nspname <> all(array[${excluded.map(quoteLiteral).join(', ')}]::text[])` : '';

  const version = await main.query<{ v: string }>("select current_setting('server_version') as v");
  const tableRows = await main.query<{ schema: string; name: string; kind: string; rls: boolean; force: boolean }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relrowsecurity as rls, c.relforcerowsecurity as force
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and ${SYSTEM_SCHEMA_FILTER} ${notExcluded}
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1, 2`,
  );
  const leafTables = tableRows.rows.filter((t) => t.kind === 'r');
  const counts = await mapConcurrent(leafTables, sessions, async (table, session) => {
    const result = await session.query<{ n: string }>(`select count(*)::text as n from ${qualified(table)}`);
    return Number(result.rows[0]?.n ?? 0);
  });
  const countByTable = new Map(leafTables.map((t, i) => [tableLabel(t), counts[i]!]));
  const tables: TableFacts[] = tableRows.rows.map((t) => ({
    schema: t.schema,
    name: t.name,
    // A partitioned parent holds no rows itself; its partitions are counted.
    rows: countByTable.get(tableLabel(t)) ?? 0,
    rls: t.rls,
    forceRls: t.force,
  }));

  const known = new Set(tables.map(tableLabel));
  const toChecksum = [...new Set(options.checksumTables.map((name) => tableLabel(splitTableName(name))))].filter((name) => known.has(name));
  const sums = await mapConcurrent(toChecksum, sessions, async (name, session) => {
    const result = await session.query<{ checksum: string }>(checksumSql(splitTableName(name)));
    return result.rows[0]?.checksum ?? '';
  });
  const checksums = Object.fromEntries(toChecksum.map((name, i) => [name, sums[i]!]));

  const extensions = await main.query<{ name: string; version: string }>('select extname::text as name, extversion as version from pg_extension order by 1');
  const policies = await main.query<{ n: string }>(
    `select count(*)::text as n from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace where ${SYSTEM_SCHEMA_FILTER} ${notExcluded}`,
  );
  const triggers = await main.query<{ n: string }>(
    `select count(*)::text as n from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and ${SYSTEM_SCHEMA_FILTER} ${notExcluded}`,
  );
  const settings = await main.query<{ name: string }>(
    `select distinct split_part(c, '=', 1) as name
       from pg_db_role_setting s, unnest(s.setconfig) c
      where s.setdatabase = (select oid from pg_database where datname = current_database())
      order by 1`,
  );

  const facts: DatabaseFacts = {
    serverVersion: version.rows[0]?.v.split(' ')[0] ?? '',
    tables,
    checksums,
    extensions: Object.fromEntries(extensions.rows.map((e) => [e.name, e.version])),
    policyCount: Number(policies.rows[0]?.n ?? 0),
    triggerCount: Number(triggers.rows[0]?.n ?? 0),
    databaseSettings: settings.rows.map((s) => s.name),
    excludedSchemas: excluded,
  };
  const migration = await latestMigration(main, excluded);
  if (migration) facts.migrationVersion = migration;
  return facts;
}

async function latestMigration(session: ClientBase, excluded: readonly string[]): Promise<{ table: string; version: string } | undefined> {
  for (const history of MIGRATION_HISTORY) {
    const { schema, name } = splitTableName(history.table);
    if (excluded.includes(schema)) continue;
    // Checked first rather than caught: on a source, a failed query would end the snapshot's transaction.
    const exists = await session.query<{ ok: boolean }>(
      `select exists (select 1 from pg_attribute where attrelid = to_regclass($1) and attname = $2 and not attisdropped) as ok`,
      [qualified({ schema, name }), history.column],
    );
    if (!exists.rows[0]?.ok) continue;
    const result = await session.query<{ v: string | null }>(history.latest);
    return { table: history.table, version: result.rows[0]?.v ?? '' };
  }
  return undefined;
}

/** True when the database looks like a Supabase project (platform roles and the auth schema). */
export async function isSupabaseDatabase(session: ClientBase): Promise<boolean> {
  const result = await session.query<{ ok: boolean }>(
    `select exists (select 1 from pg_roles where rolname = 'supabase_admin')
        and exists (select 1 from pg_namespace where nspname = 'auth') as ok`,
  );
  return Boolean(result.rows[0]?.ok);
}
