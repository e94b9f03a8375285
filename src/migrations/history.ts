/**
 * Finding and reading a migration tool's history table, as each tool writes it.
 * Several tools call their table `schema_migrations`, and Supabase itself owns
 * `auth.schema_migrations`, `realtime.schema_migrations` and
 * `_realtime.schema_migrations`: tables are matched on schema plus column set, never on
 * the name alone.
 *
 * Each tool's table and how to read it are in its adapter (`./tools/<tool>.ts`, `history`),
 * with the tool's source named there.
 */
import type { ClientBase } from 'pg';
import { UserError } from '../errors.ts';
import { quoteIdent } from '../postgres/connect.ts';
import { HISTORY_ORDER, TOOLS } from './tools/index.ts';
import type { HistoryTableSpec } from './tools/types.ts';
import type { History, HistoryTable, MigrationTool } from './types.ts';

/** Schemas whose `schema_migrations` belong to the Supabase platform, not to the project. */
const PLATFORM_SCHEMAS = ['auth', 'realtime', '_realtime', 'storage', 'supabase_functions', 'extensions', 'net', 'vault', 'graphql', 'cron', 'pgsodium'];

/** Every tool's history table, in the order tables are matched and listed. */
export const HISTORY_TABLES: Array<HistoryTableSpec & { tool: MigrationTool }> = HISTORY_ORDER.flatMap((adapter) =>
  adapter.history ? [{ ...adapter.history, tool: adapter.id }] : [],
);

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

async function select(client: ClientBase, table: HistoryTable, sql: (qualified: string) => string): Promise<Array<Record<string, unknown>>> {
  const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
  try {
    return (await client.query(sql(qualified))).rows as Array<Record<string, unknown>>;
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

/** Reads the rows of a history table into the common shape, as the tool's adapter says. */
export async function readHistory(client: ClientBase, table: HistoryTable & { columns?: string[] }): Promise<History> {
  const spec = TOOLS[table.tool].history;
  if (!spec) return { ...table, entries: [] };
  const has = (column: string) => table.columns?.includes(column) ?? true;
  return { ...table, ...(await spec.read((sql) => select(client, table, sql), has)) };
}

/**
 * Whether a catalog object is the migration tool's own bookkeeping (its history table
 * with its columns, keys, indexes and sequence, or its private schema): never schema
 * drift, since the migrations do not create it.
 */
export function isHistoryObject(
  table: HistoryTable,
  object: { kind: string; schema?: string | undefined; name: string; table?: string | undefined; props?: Record<string, unknown> },
): boolean {
  const toolSchema = TOOLS[table.tool].history?.privateSchema;
  if (toolSchema && (object.schema === toolSchema || (object.kind === 'schema' && object.name === toolSchema))) return true;
  if (object.schema !== table.schema) return false;
  if (object.name === table.table || object.table === table.table) return true;
  return object.kind === 'sequence' && String(object.props?.ownedBy ?? '').startsWith(`${table.schema}.${table.table}.`);
}
