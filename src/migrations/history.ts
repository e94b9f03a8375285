/**
 * Finding and reading a migration tool's history table, as each tool writes it.
 * Several tools call their table `schema_migrations`, and Supabase itself owns
 * `auth.schema_migrations`, `realtime.schema_migrations` and
 * `_realtime.schema_migrations`: tables are matched on schema plus column set, never on
 * the name alone.
 *
 * Where each layout comes from (the tool's own source):
 *   supabase        supabase/cli pkg/migration/history.go: version text PK, statements text[], name text
 *   sqlx            sqlx-postgres/src/migrate.rs: version bigint PK, description, installed_on, success, checksum bytea, execution_time
 *   prisma          prisma-engines schema-engine (postgres): id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
 *   drizzle         drizzle-orm src/pg-core/dialect.ts: drizzle.__drizzle_migrations(id serial, hash text, created_at bigint)
 *   flyway          flyway-core JdbcTableSchemaHistory / createMetaDataTable.sql: installed_rank ... success
 *   golang-migrate  database/postgres/postgres.go: schema_migrations(version bigint, dirty boolean), one row
 *   dbmate          pkg/driver/postgres/postgres.go: schema_migrations(version varchar(255) primary key)
 *   node-pg-migrate src/runner.ts / migration.ts: pgmigrations(id serial, name varchar(255), run_on timestamp)
 *   graphile        src/migration.ts: graphile_migrate.migrations(hash PK, previous_hash, filename, date)
 */
import type { ClientBase } from 'pg';
import { UserError } from '../errors.ts';
import { quoteIdent } from '../postgres/connect.ts';
import { normalizeFlywayVersion } from './sources.ts';
import type { History, HistoryEntry, HistoryTable, MigrationTool } from './types.ts';

/** Schemas whose `schema_migrations` belong to the Supabase platform, not to the project. */
const PLATFORM_SCHEMAS = ['auth', 'realtime', '_realtime', 'storage', 'supabase_functions', 'extensions', 'net', 'vault', 'graphql', 'cron', 'pgsodium'];

interface TableSpec {
  tool: MigrationTool;
  table: string;
  /** Required schema, when the tool fixes it. */
  schema?: string;
  /** Columns that must be present. */
  columns: string[];
  /** When set, the column set must be exactly `columns` (dbmate's one-column table). */
  exact?: boolean;
}

export const HISTORY_TABLES: TableSpec[] = [
  { tool: 'supabase', schema: 'supabase_migrations', table: 'schema_migrations', columns: ['version'] },
  { tool: 'sqlx', table: '_sqlx_migrations', columns: ['version', 'description', 'success', 'checksum'] },
  { tool: 'prisma', table: '_prisma_migrations', columns: ['migration_name', 'checksum', 'finished_at', 'rolled_back_at'] },
  { tool: 'drizzle', table: '__drizzle_migrations', columns: ['hash', 'created_at'] },
  { tool: 'flyway', table: 'flyway_schema_history', columns: ['installed_rank', 'version', 'type', 'script', 'checksum', 'success'] },
  { tool: 'golang-migrate', table: 'schema_migrations', columns: ['version', 'dirty'], exact: true },
  { tool: 'dbmate', table: 'schema_migrations', columns: ['version'], exact: true },
  { tool: 'node-pg-migrate', table: 'pgmigrations', columns: ['name', 'run_on'] },
  { tool: 'graphile-migrate', schema: 'graphile_migrate', table: 'migrations', columns: ['hash', 'previous_hash', 'filename'] },
];

/** "schema.table (tool)" list for messages. */
export function describeHistoryTables(tools?: MigrationTool[]): string {
  return HISTORY_TABLES.filter((spec) => !tools || tools.includes(spec.tool))
    .map((spec) => `${spec.schema ? `${spec.schema}.` : ''}${spec.table} (${spec.tool})`)
    .join(', ');
}

interface FoundTable {
  schema: string;
  table: string;
  columns: string[];
}

/** Every history table in the database, identified by schema and columns. One query. */
export async function findHistoryTables(client: ClientBase): Promise<Array<HistoryTable & { columns: string[] }>> {
  const names = [...new Set(HISTORY_TABLES.map((spec) => spec.table))];
  const { rows } = await client.query<FoundTable>(
    `select n.nspname as schema, c.relname as table, array_agg(a.attname::text order by a.attnum) as columns
       from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relkind in ('r', 'p') and c.relname = any($1::text[])
      group by 1, 2
      order by 1, 2`,
    [names],
  );
  const found: Array<HistoryTable & { columns: string[] }> = [];
  for (const row of rows) {
    for (const spec of HISTORY_TABLES) {
      if (spec.table !== row.table) continue;
      if (spec.schema ? spec.schema !== row.schema : PLATFORM_SCHEMAS.includes(row.schema) || row.schema === 'supabase_migrations') continue;
      const has = spec.columns.every((column) => row.columns.includes(column));
      if (!has || (spec.exact && row.columns.length !== spec.columns.length)) continue;
      found.push({ tool: spec.tool, schema: row.schema, table: row.table, columns: row.columns });
      break;
    }
  }
  return found;
}

type Row = Record<string, unknown>;
const text = (value: unknown): string | null => (value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : String(value));

async function select(client: ClientBase, table: HistoryTable, sql: (qualified: string) => string): Promise<Row[]> {
  const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
  try {
    return (await client.query(sql(qualified))).rows as Row[];
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === '42501') {
      throw new UserError(
        `The database role cannot read the migration history table ${table.schema}.${table.table} (permission denied); grant it SELECT on that table and USAGE on schema ${table.schema}.`,
      );
    }
    throw error;
  }
}

/** Reads the rows of a history table into the common shape. */
export async function readHistory(client: ClientBase, table: HistoryTable & { columns?: string[] }): Promise<History> {
  const has = (column: string) => table.columns?.includes(column) ?? true;
  switch (table.tool) {
    case 'supabase': {
      const rows = await select(
        client,
        table,
        (t) => `select version, ${has('name') ? 'name' : 'null::text as name'}, ${has('statements') ? 'statements' : 'null::text[] as statements'} from ${t} order by version`,
      );
      return {
        ...table,
        entries: rows.map((r) => ({ id: String(r.version), version: String(r.version), name: text(r.name) ?? '', statements: (r.statements as string[] | null) ?? null, success: true, kind: 'versioned' })),
      };
    }
    case 'sqlx': {
      const rows = await select(client, table, (t) => `select version::text as version, description, success, encode(checksum, 'hex') as checksum, installed_on from ${t} order by version`);
      return {
        ...table,
        entries: rows.map((r) => ({ id: String(r.version), version: String(r.version), name: text(r.description) ?? '', checksum: text(r.checksum), success: Boolean(r.success), appliedAt: text(r.installed_on), kind: 'versioned' })),
      };
    }
    case 'prisma': {
      const rows = await select(client, table, (t) => `select migration_name, checksum, finished_at, rolled_back_at, started_at from ${t} order by started_at, migration_name`);
      // A rolled-back row is history Prisma ignores; a row neither finished nor rolled back is a failed migration.
      const entries = new Map<string, HistoryEntry>();
      for (const r of rows) {
        if (r.rolled_back_at) continue;
        const name = String(r.migration_name);
        const entry: HistoryEntry = {
          id: name,
          version: /^\d+/.exec(name)?.[0] ?? name,
          name,
          checksum: text(r.checksum),
          success: r.finished_at !== null,
          appliedAt: text(r.finished_at ?? r.started_at),
          kind: 'versioned',
        };
        const previous = entries.get(name);
        if (!previous || !previous.success) entries.set(name, entry);
      }
      return { ...table, entries: [...entries.values()] };
    }
    case 'drizzle': {
      const rows = await select(client, table, (t) => `select hash, created_at::text as created_at from ${t} order by created_at, id`);
      return { ...table, entries: rows.map((r) => ({ id: String(r.created_at), version: String(r.created_at), checksum: text(r.hash), success: true, kind: 'versioned' })) };
    }
    case 'flyway': {
      const rows = await select(client, table, (t) => `select installed_rank, version, description, type, script, checksum, success, installed_on from ${t} order by installed_rank`);
      const entries = new Map<string, HistoryEntry>();
      let baselineVersion: string | undefined;
      for (const r of rows) {
        const type = String(r.type);
        if (type === 'SCHEMA') continue;
        if (type === 'BASELINE' || type === 'JDBC_BASELINE' || type === 'SQL_BASELINE') {
          if (r.version !== null) baselineVersion = String(r.version);
          continue;
        }
        const repeatable = r.version === null;
        const id = repeatable ? `R:${String(r.description)}` : normalizeFlywayVersion(String(r.version));
        if (type === 'DELETE' || type.startsWith('UNDO')) {
          entries.delete(id);
          continue;
        }
        entries.set(id, {
          id,
          version: repeatable ? '' : String(r.version),
          name: String(r.description),
          checksum: r.checksum === null ? null : String(r.checksum),
          success: Boolean(r.success),
          appliedAt: text(r.installed_on),
          kind: repeatable ? 'repeatable' : 'versioned',
        });
      }
      return { ...table, entries: [...entries.values()], ...(baselineVersion ? { baselineVersion } : {}) };
    }
    case 'golang-migrate': {
      const rows = await select(client, table, (t) => `select version::text as version, dirty from ${t} limit 1`);
      const row = rows[0];
      if (!row) return { ...table, entries: [] };
      const version = String(row.version);
      return {
        ...table,
        highWaterMark: version,
        entries: [{ id: BigInt(version).toString(), version, success: !row.dirty, kind: 'versioned' }],
      };
    }
    case 'dbmate': {
      const rows = await select(client, table, (t) => `select version::text as version from ${t} order by version`);
      return { ...table, entries: rows.map((r) => ({ id: String(r.version), version: String(r.version), success: true, kind: 'versioned' })) };
    }
    case 'node-pg-migrate': {
      const rows = await select(client, table, (t) => `select name, run_on from ${t} order by run_on, ${has('id') ? 'id' : 'name'}`);
      return { ...table, entries: rows.map((r) => ({ id: String(r.name), version: /^\d+/.exec(String(r.name))?.[0] ?? String(r.name), name: String(r.name), success: true, appliedAt: text(r.run_on), kind: 'versioned' })) };
    }
    case 'graphile-migrate': {
      const rows = await select(client, table, (t) => `select filename, hash, previous_hash, date from ${t} order by filename`);
      return {
        ...table,
        entries: rows.map((r) => ({ id: String(r.filename), version: /^\d+/.exec(String(r.filename))?.[0] ?? String(r.filename), checksum: text(r.hash), previousHash: text(r.previous_hash), success: true, appliedAt: text(r.date), kind: 'versioned' })),
      };
    }
    case 'plain':
      return { ...table, entries: [] };
  }
}

/** Schemas a tool keeps only for its own bookkeeping. */
const TOOL_SCHEMAS: Partial<Record<MigrationTool, string>> = { supabase: 'supabase_migrations', drizzle: 'drizzle', 'graphile-migrate': 'graphile_migrate' };

/**
 * Whether a catalog object is the migration tool's own bookkeeping (its history table
 * with its columns, keys, indexes and sequence, or its private schema): never schema
 * drift, since the migrations do not create it.
 */
export function isHistoryObject(table: HistoryTable, object: { kind: string; schema?: string | undefined; name: string; table?: string | undefined; props?: Record<string, unknown> }): boolean {
  const toolSchema = TOOL_SCHEMAS[table.tool];
  if (toolSchema && (object.schema === toolSchema || (object.kind === 'schema' && object.name === toolSchema))) return true;
  if (object.schema !== table.schema) return false;
  if (object.name === table.table || object.table === table.table) return true;
  return object.kind === 'sequence' && String(object.props?.ownedBy ?? '').startsWith(`${table.schema}.${table.table}.`);
}
