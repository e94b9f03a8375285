/**
 * What a drill compares between the source (in the dump's own snapshot, or from a manifest)
 * and the restored copy: exact row counts per table, key checksums of configured tables,
 * extensions, RLS flags, policy and trigger counts, the latest migration version and the
 * names of database-level settings. The same queries run on both sides, in sessions whose
 * TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output are pinned
 * (PINNED_SETTINGS_SQL, src/catalog/row-digests.ts), so a row's text (and so its checksum)
 * does not depend on either server's defaults.
 *
 * Values never leave the database: only counts, names and hashes do.
 */
import type { ClientBase } from 'pg';
import { type DigestTable, digestColumns, digestInRanges, planRanges, type RangeDigest, type RangePlan, tableKey } from '../../catalog/row-digests.ts';
import { SUPABASE_MANAGED_SCHEMAS } from '../../postgres/baseline/supabase.ts';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';
import { type BucketFacts, collectStorage } from './storage.ts';

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
  /** "schema.table" -> the keyed digest of each drill.checksum-tables table that has a key. */
  keyedChecksums: Record<string, KeyedChecksum>;
  /** drill.checksum-tables tables with neither a primary key nor a unique index on NOT NULL columns: not checksummed. */
  checksumTablesWithoutKey: string[];
  /** Manifests written before the keyed digest: "<rows>/<sum of per-row md5 prefixes>". Read, never compared. */
  checksums?: Record<string, string>;
  extensions: Record<string, string>;
  policyCount: number;
  triggerCount: number;
  migrationVersion?: { table: string; version: string };
  /** Names of settings attached to the database (ALTER DATABASE / ALTER ROLE ... IN DATABASE ... SET). */
  databaseSettings: string[];
  /** Schemas the facts leave out (system schemas are always left out). */
  excludedSchemas: string[];
  /** A Supabase project's storage buckets (storage.ts); absent without a readable storage.objects, and in manifests written before it was recorded. */
  storage?: BucketFacts[];
}

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

/**
 * A table's exact keyed digest (src/catalog/range-digests.ts): its key and the columns hashed,
 * as found on the source, the row count and SHA-256 of its rows' COPY text in key order, and
 * the same per range of `rangeRows` rows, so that a difference can be located.
 */
export interface KeyedChecksum {
  key: string[];
  columns: string[];
  rows: number;
  sha256: string;
  rangeRows: number;
  ranges: RangeDigest[];
}

/** Runs the jobs over the sessions, each session taking the next job when it is free. */
async function runConcurrent(jobs: ReadonlyArray<(session: ClientBase) => Promise<void>>, workers: readonly ClientBase[]): Promise<void> {
  let next = 0;
  await Promise.all(
    workers.map(async (session) => {
      while (next < jobs.length) await jobs[next++]!(session);
    }),
  );
}

export interface CollectOptions {
  excludeSchemas: readonly string[];
  /** Tables to checksum ("schema.table"). Missing ones are reported by the comparison, not here. */
  checksumTables: readonly string[];
  /**
   * The copy's side: digest each table exactly as the source's facts did (same key, columns and
   * range size) instead of looking up keys. A table the copy cannot read so is left out.
   */
  digestsLike?: Readonly<Record<string, KeyedChecksum>>;
}

/**
 * Collects the facts. `sessions[0]` reads the catalog; row counts and digests are spread over
 * all sessions, largest table first (for a source, every session must already be in the same
 * snapshot), each of which is set to plan without parallel workers. A digested table's row
 * count is the digest's: it is read once.
 */
export async function collectFacts(sessions: readonly ClientBase[], options: CollectOptions): Promise<DatabaseFacts> {
  const main = sessions[0]!;
  const excluded = [...new Set(options.excludeSchemas)];
  const notExcluded = excluded.length ? `and n.nspname <> all(array[${excluded.map(quoteLiteral).join(', ')}]::text[])` : '';

  // The sessions are the parallelism (one table each at a time): a parallel plan's workers would
  // only crowd the same cores, and starting them costs more than they save on most tables.
  await Promise.all(sessions.map((session) => session.query('SET max_parallel_workers_per_gather = 0')));
  const version = await main.query<{ v: string }>("select current_setting('server_version') as v");
  const tableRows = await main.query<{ schema: string; name: string; kind: string; rls: boolean; force: boolean; pages: number }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relrowsecurity as rls, c.relforcerowsecurity as force, c.relpages as pages
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and ${SYSTEM_SCHEMA_FILTER} ${notExcluded}
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1, 2`,
  );
  const byName = new Map(tableRows.rows.map((t) => [tableLabel(t), t]));
  const toDigest = await digestPlans(main, options, byName);
  const keyedChecksums: Record<string, KeyedChecksum> = {};
  const countByTable = new Map<string, number>();
  const count = async (session: ClientBase, name: string) => {
    const result = await session.query<{ n: string }>(`select count(*)::text as n from ${qualified(byName.get(name)!)}`);
    countByTable.set(name, Number(result.rows[0]?.n ?? 0));
  };
  const jobs = [
    ...toDigest.plans.map((plan) => ({
      pages: byName.get(plan.name)!.pages,
      run: async (session: ClientBase) => {
        const digest = await digestInRanges(session, plan.table, plan.ranges).catch((error: unknown) => {
          if (!options.digestsLike) throw error;
        });
        if (digest) {
          keyedChecksums[plan.name] = {
            key: [...plan.table.key],
            columns: [...plan.table.columns],
            rows: digest.rows,
            sha256: digest.sha256,
            rangeRows: digest.rangeRows,
            ranges: digest.ranges,
          };
          countByTable.set(plan.name, digest.rows);
        } else if (byName.get(plan.name)!.kind === 'r') await count(session, plan.name);
      },
    })),
    ...tableRows.rows
      .filter((t) => t.kind === 'r' && !toDigest.plans.some((plan) => plan.name === tableLabel(t)))
      .map((t) => ({ pages: t.pages, run: (session: ClientBase) => count(session, tableLabel(t)) })),
  ].sort((a, b) => b.pages - a.pages);
  await runConcurrent(
    jobs.map((job) => job.run),
    sessions,
  );
  const tables: TableFacts[] = tableRows.rows.map((t) => ({
    schema: t.schema,
    name: t.name,
    // A partitioned parent holds no rows itself; its partitions are counted.
    rows: t.kind === 'r' ? (countByTable.get(tableLabel(t)) ?? 0) : 0,
    rls: t.rls,
    forceRls: t.force,
  }));

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
    keyedChecksums: Object.fromEntries(
      Object.keys(keyedChecksums)
        .sort()
        .map((name) => [name, keyedChecksums[name]!]),
    ),
    checksumTablesWithoutKey: toDigest.withoutKey,
    extensions: Object.fromEntries(extensions.rows.map((e) => [e.name, e.version])),
    policyCount: Number(policies.rows[0]?.n ?? 0),
    triggerCount: Number(triggers.rows[0]?.n ?? 0),
    databaseSettings: settings.rows.map((s) => s.name),
    excludedSchemas: excluded,
  };
  const storage = await collectStorage(main);
  if (storage) facts.storage = storage;
  const migration = await latestMigration(main, excluded);
  if (migration) facts.migrationVersion = migration;
  return facts;
}

interface DigestPlan {
  name: string;
  table: DigestTable;
  ranges: RangePlan;
}

/**
 * What to digest. The source: each configured table that exists, by its primary key (or unique
 * index on NOT NULL columns; without one it is listed as keyless), cut into about 64 ranges.
 * The copy: each table the source digested, the same way.
 */
async function digestPlans(
  session: ClientBase,
  options: CollectOptions,
  tables: ReadonlyMap<string, { schema: string; name: string }>,
): Promise<{ plans: DigestPlan[]; withoutKey: string[] }> {
  const plans: DigestPlan[] = [];
  const withoutKey: string[] = [];
  if (options.digestsLike) {
    for (const [name, like] of Object.entries(options.digestsLike)) {
      const found = tables.get(name);
      if (!found) continue;
      const table: DigestTable = { schema: found.schema, name: found.name, key: like.key, columns: like.columns };
      plans.push({ name, table, ranges: { rangeRows: like.rangeRows, keysPrintable: false } });
    }
    return { plans, withoutKey };
  }
  const wanted = [...new Set(options.checksumTables.map((name) => tableLabel(splitTableName(name))))].filter((name) => tables.has(name));
  for (const name of wanted) {
    const found = tables.get(name)!;
    const key = await tableKey(session, found);
    if (!key) {
      withoutKey.push(name);
      continue;
    }
    const table: DigestTable = { schema: found.schema, name: found.name, key, columns: await digestColumns(session, found, key) };
    plans.push({ name, table, ranges: await planRanges(session, table) });
  }
  return { plans, withoutKey };
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
