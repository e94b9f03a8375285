/**
 * parity-check's inputs, checked before any connection: the two URLs (not the same database),
 * the tables, the business keys (`schema.table: column [column ...]`) and the documented deltas
 * (`schema.table: column >= timestamp`). Pure: unit-tested without a database.
 */
import type { ParityOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import { type DatabaseTarget, parseDatabaseUrl } from '../../postgres/url.ts';

export interface TableName {
  schema: string;
  name: string;
}

export interface ExpectedDelta {
  column: string;
  since: string;
}

export interface Plan {
  source: DatabaseTarget;
  target: DatabaseTarget;
  /** Tables the user named (empty: every user table of the source). */
  tables: TableName[];
  /** "schema.table" -> key columns. */
  keys: Map<string, string[]>;
  /** "schema.table" -> rows left out on both sides. */
  expected: Map<string, ExpectedDelta>;
  jobs: number;
}

export function tableLabel(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

const IDENT = String.raw`[A-Za-z_][A-Za-z0-9_$]*`;
const TABLE = new RegExp(`^(?:(${IDENT})\\.)?(${IDENT})$`);

function parseTable(text: string, input: string, example: string): TableName {
  const match = TABLE.exec(text.trim());
  if (!match) throw new UserError(`Input \`${input}\` names "${shown(text)}", which is not a table name; write it as schema.table, such as ${example}.`);
  return { schema: match[1] ?? 'public', name: match[2]! };
}

function shown(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

function splitEntry(entry: string, input: string, example: string): [table: TableName, rest: string] {
  const colon = entry.indexOf(':');
  if (colon < 0) throw new UserError(`Input \`${input}\` has the entry "${shown(entry)}" without a colon; write it as ${example}.`);
  return [parseTable(entry.slice(0, colon), input, example.split(':')[0]!), entry.slice(colon + 1).trim()];
}

const KEYS_EXAMPLE = 'public.memberships: user_id team_id';
const EXPECTED_EXAMPLE = 'public.events: created_at >= 2026-12-06T00:00:00Z';

export function parseKeys(entries: readonly string[]): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const entry of entries) {
    const [table, rest] = splitEntry(entry, 'keys', KEYS_EXAMPLE);
    const columns = rest.split(/\s+/).filter(Boolean);
    const bad = columns.find((column) => !new RegExp(`^${IDENT}$`).test(column));
    if (!columns.length || bad !== undefined) {
      throw new UserError(
        `Input \`keys\` gives ${tableLabel(table)} ${columns.length ? `the column "${shown(bad!)}", which is not a column name` : 'no column'}; write it as ${KEYS_EXAMPLE}.`,
      );
    }
    if (keys.has(tableLabel(table))) throw new UserError(`Input \`keys\` names ${tableLabel(table)} twice; keep one entry per table.`);
    keys.set(tableLabel(table), columns);
  }
  return keys;
}

const EXPECTED_FORM = new RegExp(`^(${IDENT})\\s*>=\\s*(\\S+)$`);

export function parseExpected(entries: readonly string[]): Map<string, ExpectedDelta> {
  const expected = new Map<string, ExpectedDelta>();
  for (const entry of entries) {
    const [table, rest] = splitEntry(entry, 'expected', EXPECTED_EXAMPLE);
    const match = EXPECTED_FORM.exec(rest);
    const since = match?.[2];
    if (!match || !since || Number.isNaN(Date.parse(since)) || !/^\d{4}-\d{2}-\d{2}/.test(since)) {
      throw new UserError(
        `Input \`expected\` has "${shown(entry)}", which is not \`schema.table: column >= timestamp\`; write it as ${EXPECTED_EXAMPLE} (an ISO 8601 time).`,
      );
    }
    if (expected.has(tableLabel(table))) throw new UserError(`Input \`expected\` names ${tableLabel(table)} twice; keep one entry per table.`);
    expected.set(tableLabel(table), { column: match[1]!, since });
  }
  return expected;
}

function sameDatabase(a: DatabaseTarget, b: DatabaseTarget): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port && a.database === b.database;
}

export function buildPlan(options: ParityOptions): Plan {
  const source = parseDatabaseUrl(options.sourceDatabaseUrl, 'source-database-url');
  const target = parseDatabaseUrl(options.targetDatabaseUrl, 'target-database-url');
  if (sameDatabase(source, target)) {
    throw new UserError(
      `Inputs \`source-database-url\` and \`target-database-url\` point at the same database (${target.host}:${target.port}/${target.database}); give the target the new database's URL.`,
    );
  }
  const tables = options.tables.map((text) => parseTable(text, 'tables', 'public.users'));
  const seen = new Set<string>();
  for (const table of tables) {
    if (seen.has(tableLabel(table))) throw new UserError(`Input \`tables\` names ${tableLabel(table)} twice; list each table once.`);
    seen.add(tableLabel(table));
  }
  if (options.jobs < 1) throw new UserError('Input `jobs` is 0; use at least 1 connection per side.');
  return { source, target, tables, keys: parseKeys(options.keys), expected: parseExpected(options.expected), jobs: options.jobs };
}
