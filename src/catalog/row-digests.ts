/**
 * Exact, keyed row checksums of tables, for comparing two databases (parity-check, restore-drill):
 *
 *   tableKey / digestColumns    which columns identify a row and which are hashed
 *   digestTable / digestTables  exact row count and SHA-256 of the rows' COPY text in key order
 *   locateDifferences           after two digests differ: which key ranges hold the differences
 *   planRanges / digestInRanges one pass that also cuts the digest into ranges of rows, for a side
 *                               that cannot be read again (restore-drill's source snapshot)
 *
 * A digest streams `copy (select <columns> from <table> order by <key>) to stdout` into SHA-256
 * (the row count is the server's "COPY n"), so it is exact (a pair of values swapped between two
 * rows changes it) and independent of the physical layout (row order on disk, column order in
 * the table, dead tuples). The row text depends on session settings: every session passed here
 * must have run PINNED_SETTINGS_SQL, so that PostgreSQL 15 and 17, or two servers with different
 * defaults, print identical text.
 *
 * Values never leave the database except as hashes: results and errors carry table names,
 * counts and hashes, and key values only when they are integers (see RangeComparison).
 */
import { createHash, type Hash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteIdent, quoteLiteral } from '../postgres/connect.ts';

/** Pinned so that row text, and so checksums, are identical on both sides (run it on every session first). */
export const PINNED_SETTINGS_SQL = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
  "SET lc_monetary = 'C'",
].join('; ');

export interface DigestTable {
  schema: string;
  name: string;
  /**
   * Key columns, in key order (the primary key unless the user gave a business key). They must
   * identify a row (unique and not null) on both sides, or the order of the rows, and so the
   * digest, is not determined.
   */
  key: readonly string[];
  /** Every column hashed: key columns first (key order), then the rest sorted by name. Build with digestColumns(). */
  columns: readonly string[];
  /** Rows whose `column >= since` are left out on both sides (documented deltas: rows written since a timestamp). */
  excludeSince?: { column: string; since: string };
}

export interface TableDigest {
  /** "schema.name" */
  table: string;
  rows: number;
  sha256: string;
}

export interface RangeComparison {
  /**
   * The source's key order cut into ranges. Range i holds the keys from its first key up to
   * (not including) the first key of range i + 1; the first range also holds every key below
   * its first, the last every key above its last, so rows only on the target are counted too.
   */
  ranges: Array<{
    index: number;
    sourceRows: number;
    targetRows: number;
    same: boolean;
    /** First key of the range on the source, as text, ONLY when keysPrintable (composite keys: values joined by ", "). */
    from?: string;
    /** Last key of the range on the source, as text, ONLY when keysPrintable. */
    to?: string;
  }>;
  /**
   * True only when every key column is an integer type (int2/int4/int8): then key values may be
   * printed ("keys 10,000–20,000"); otherwise ranges are named by ordinal and row positions.
   * Other key types are never printed (emails are row content).
   */
  keysPrintable: boolean;
}

type TableName = { schema: string; name: string };

function label(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

function qualified(table: TableName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const TABLE_OID = `(select c.oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2)`;

/** The primary key's columns, else the columns of the first unique index whose columns are all NOT NULL (by index name), else undefined. */
export async function tableKey(session: ClientBase, table: TableName): Promise<string[] | undefined> {
  // Only key columns of plain (no expression), total (no predicate), valid unique indexes; INCLUDE columns are not part of a key.
  const { rows } = await session.query<{ primary: boolean; columns: string[]; not_null: boolean; plain: boolean }>(
    `select i.indisprimary as primary,
            array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(attnum, n)
                  join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                  where k.n <= i.indnkeyatts order by k.n) as columns,
            coalesce((select bool_and(a.attnotnull) from unnest(i.indkey::int2[]) with ordinality k(attnum, n)
                      join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                      where k.n <= i.indnkeyatts), false) as not_null,
            not exists (select from unnest(i.indkey::int2[]) with ordinality k(attnum, n) where k.n <= i.indnkeyatts and k.attnum = 0) as plain
       from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid
      where i.indrelid = ${TABLE_OID} and i.indisunique and i.indisvalid and i.indpred is null
      order by i.indisprimary desc, ic.relname collate "C"`,
    [table.schema, table.name],
  );
  const key = rows.find((row) => row.primary) ?? rows.find((row) => row.plain && row.not_null);
  return key?.columns;
}

/** The table's non-dropped, non-generated-virtual columns, key first then by name. */
export async function digestColumns(session: ClientBase, table: TableName, key: readonly string[]): Promise<string[]> {
  const { rows } = await session.query<{ name: string }>(
    `select a.attname::text as name from pg_catalog.pg_attribute a
      where a.attrelid = ${TABLE_OID} and a.attnum > 0 and not a.attisdropped and a.attgenerated <> 'v'`,
    [table.schema, table.name],
  );
  const keyed = new Set(key);
  return [
    ...key,
    ...rows
      .map((row) => row.name)
      .filter((name) => !keyed.has(name))
      .sort(byCodePoint),
  ];
}

interface KeyColumn {
  name: string;
  /** format_type() of the column: usable as a cast target. */
  type: string;
  collatable: boolean;
  integer: boolean;
}

/** The key columns' types on this side, in key order. */
async function keyColumns(session: ClientBase, table: DigestTable): Promise<KeyColumn[]> {
  const { rows } = await session.query<KeyColumn & { attname: string }>(
    `select a.attname::text as attname, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
            t.typcollation <> 0 as collatable, a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) as integer
       from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
      where a.attrelid = ${TABLE_OID} and a.attnum > 0 and not a.attisdropped`,
    [table.schema, table.name],
  );
  const byName = new Map(rows.map((row) => [row.attname, row]));
  return table.key.map((name) => {
    const column = byName.get(name);
    return column ? { name, type: column.type, collatable: column.collatable, integer: column.integer } : { name, type: '', collatable: false, integer: false };
  });
}

/**
 * A key column in ORDER BY and row comparisons: text-like columns in the "C" collation, so that
 * the order is the same on two servers whatever their collations (or their C library) are.
 */
function orderTerm(column: KeyColumn): string {
  return column.collatable ? `${quoteIdent(column.name)} collate "C"` : quoteIdent(column.name);
}

function keyRow(columns: readonly KeyColumn[]): string {
  return `(${columns.map(orderTerm).join(', ')})`;
}

/** A boundary (key values as text, from the source) as a row of typed literals. */
function boundaryRow(columns: readonly KeyColumn[], values: readonly string[]): string {
  return `(${columns.map((column, i) => `${quoteLiteral(values[i]!)}::${column.type}${column.collatable ? ' collate "C"' : ''}`).join(', ')})`;
}

/** `where` predicates of a table: the rows that are not excluded as documented deltas. */
function basePredicates(table: DigestTable): string[] {
  if (!table.excludeSince) return [];
  const column = quoteIdent(table.excludeSince.column);
  return [`(${column} < ${quoteLiteral(table.excludeSince.since)} or ${column} is null)`];
}

function whereClause(predicates: readonly string[]): string {
  return predicates.length ? ` where ${predicates.join(' and ')}` : '';
}

function copySql(table: DigestTable, keys: readonly KeyColumn[], predicates: readonly string[]): string {
  const columns = table.columns.map(quoteIdent).join(', ');
  return `copy (select ${columns} from ${qualified(table)}${whereClause(predicates)} order by ${keys.map(orderTerm).join(', ')}) to stdout`;
}

/** An error that names the table only: a server message can quote values. */
function readError(table: TableName, error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  return new Error(`Could not read the rows of table ${label(table)}${typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}.`);
}

/** How much COPY text may wait for the hash before the socket is paused (the stream default is 16 KiB). */
const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Streams a COPY's text to `onChunk` and returns the server's own row count ("COPY n"), read when
 * the command is complete: the session is ready for its next query when this returns.
 */
async function streamCopy(session: ClientBase, table: TableName, sql: string, onChunk: (chunk: Buffer) => void): Promise<number> {
  const copy = copyTo(sql, { highWaterMark: COPY_CHUNK_BYTES });
  // pg calls handleReadyForQuery once the command is over, after CommandComplete (or the error)
  const ready = new Promise<void>((resolve) => {
    (copy as unknown as { handleReadyForQuery: () => void }).handleReadyForQuery = resolve;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      session.query(copy);
      copy.on('data', onChunk);
      copy.on('end', resolve);
      copy.on('error', reject);
    });
    await ready;
  } catch (error) {
    throw readError(table, error);
  }
  return copy.rowCount;
}

/** Streams the COPY text into SHA-256. */
async function digestCopy(session: ClientBase, table: DigestTable, sql: string): Promise<TableDigest> {
  const hash = createHash('sha256');
  const rows = await streamCopy(session, table, sql, (chunk) => hash.update(chunk));
  return { table: label(table), rows, sha256: hash.digest('hex') };
}

/**
 * One table: exact row count and SHA-256 of its rows in key order. The session must have run
 * PINNED_SETTINGS_SQL; for a consistent result run it inside a repeatable-read transaction.
 */
export async function digestTable(session: ClientBase, table: DigestTable): Promise<TableDigest> {
  const keys = await keyColumns(session, table).catch((error: unknown) => {
    throw readError(table, error);
  });
  return digestCopy(session, table, copySql(table, keys, basePredicates(table)));
}

/**
 * Many tables spread over the sessions (largest first by pg_class.relpages of the first
 * session), results in input order. The sessions belong to one database; each must have run
 * PINNED_SETTINGS_SQL, and for one consistent view they share one snapshot (beginSharedSnapshot
 * and openTwinSession in src/postgres/connect.ts).
 */
export async function digestTables(sessions: readonly ClientBase[], tables: readonly DigestTable[]): Promise<TableDigest[]> {
  const first = sessions[0];
  if (!first) throw new Error('digestTables needs at least one session.');
  const { rows: sizes } = await first.query<{ pages: number }>(
    `select coalesce(c.relpages, 0)::int as pages
       from unnest($1::text[], $2::text[]) with ordinality t(schema, name, i)
       left join pg_catalog.pg_namespace n on n.nspname = t.schema
       left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = t.name
      order by t.i`,
    [tables.map((table) => table.schema), tables.map((table) => table.name)],
  );
  const order = tables.map((_, index) => index).sort((a, b) => (sizes[b]?.pages ?? 0) - (sizes[a]?.pages ?? 0) || a - b);
  const results: TableDigest[] = new Array(tables.length);
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < order.length) {
        const index = order[next++]!;
        results[index] = await digestTable(session, tables[index]!);
      }
    }),
  );
  return results;
}

interface Boundary {
  /** Row number in the source's key order, from 1. */
  position: number;
  keys: string[];
}

/**
 * Only after the two whole-table digests differ: cuts the source's key order into `ranges`
 * (default 64) ranges by key boundaries read on the source, digests each range on both sides
 * (both sides in parallel), and says which differ. Both sessions must have run
 * PINNED_SETTINGS_SQL (the boundaries travel as text from one server to the other).
 */
export async function locateDifferences(
  source: ClientBase,
  target: ClientBase,
  table: DigestTable,
  options: { ranges?: number } = {},
): Promise<RangeComparison> {
  const wanted = Math.max(1, Math.floor(options.ranges ?? 64));
  const [sourceKeys, targetKeys] = await Promise.all([keyColumns(source, table), keyColumns(target, table)]).catch((error: unknown) => {
    throw readError(table, error);
  });
  const keysPrintable = sourceKeys.every((column) => column.integer);
  const base = basePredicates(table);

  // The first and the last key of every range, on the source, from one key-only pass.
  let boundaries: Boundary[];
  let step: number;
  try {
    const counted = await source.query<{ n: string }>(`select count(*)::text as n from ${qualified(table)}${whereClause(base)}`);
    const total = Number(counted.rows[0]?.n ?? 0);
    step = Math.max(1, Math.ceil(total / wanted));
    const texts = sourceKeys.map((column, i) => `${quoteIdent(column.name)}::text as k${i}`).join(', ');
    const { rows } = await source.query<Record<string, string>>(
      `select rn::text as position, ${sourceKeys.map((_, i) => `k${i}`).join(', ')}
         from (select ${texts}, row_number() over (order by ${sourceKeys.map(orderTerm).join(', ')}) as rn
                 from ${qualified(table)}${whereClause(base)}) s
        where (rn - 1) % ${step} = 0 or rn % ${step} = 0 or rn = ${total}
        order by rn`,
    );
    boundaries = rows.map((row) => ({ position: Number(row.position), keys: sourceKeys.map((_, i) => row[`k${i}`]!) }));
  } catch (error) {
    throw readError(table, error);
  }

  const firsts = boundaries.filter((boundary) => (boundary.position - 1) % step === 0);
  const lasts = new Map(boundaries.map((boundary) => [Math.floor((boundary.position - 1) / step), boundary]));
  const count = Math.max(1, firsts.length);
  const ranges: RangeComparison['ranges'] = [];
  for (let index = 0; index < count; index += 1) {
    const lower = index > 0 ? firsts[index] : undefined;
    const upper = firsts[index + 1];
    const side = (session: ClientBase, keys: readonly KeyColumn[]) => {
      const predicates = [
        ...(lower ? [`${keyRow(keys)} >= ${boundaryRow(keys, lower.keys)}`] : []),
        ...(upper ? [`${keyRow(keys)} < ${boundaryRow(keys, upper.keys)}`] : []),
        ...base,
      ];
      return digestCopy(session, table, copySql(table, keys, predicates));
    };
    const [onSource, onTarget] = await Promise.all([side(source, sourceKeys), side(target, targetKeys)]);
    const first = firsts[index];
    const last = lasts.get(index);
    ranges.push({
      index,
      sourceRows: onSource.rows,
      targetRows: onTarget.rows,
      same: onSource.rows === onTarget.rows && onSource.sha256 === onTarget.sha256,
      ...(keysPrintable && first && last ? { from: first.keys.join(', '), to: last.keys.join(', ') } : {}),
    });
  }
  return { ranges, keysPrintable };
}

// ---------------------------------------------------------------------------------------------
// One pass, cut into ranges: for a side that cannot be read again when the other is
// (restore-drill digests the source inside pg_dump's snapshot, gone by the time the restored
// copy can be read). Every `rangeRows` rows in key order close a range with its own SHA-256,
// while the whole stream also goes into the table's SHA-256 (identical to digestTable's). The
// other side streams the same columns with the same `rangeRows`, so equal tables give equal
// ranges, a changed row changes exactly its range, and a lost or extra row changes its range and
// shifts the ones after it.

export interface RangeDigest {
  rows: number;
  sha256: string;
  /** First and last key of the range (composite keys: values joined by ", "), only for integer keys. */
  from?: string;
  to?: string;
}

export interface RangedDigest extends TableDigest {
  /** Rows per range (the last range may hold fewer). */
  rangeRows: number;
  ranges: RangeDigest[];
}

export interface RangePlan {
  rangeRows: number;
  /** True when every key column is int2/int4/int8: key values are then printed. */
  keysPrintable: boolean;
}

/** About this many ranges per table, from the planner's row estimate. */
const PLANNED_RANGES = 64;
/** Rows per range when the table was never analysed (no estimate). */
const UNKNOWN_SIZE_RANGE_ROWS = 10_000;

/** How to cut a table into ranges: rows per range from the planner's estimate, and whether its key may be printed. */
export async function planRanges(session: ClientBase, table: DigestTable): Promise<RangePlan> {
  const read = async () => {
    const estimate = await session.query<{ estimate: number }>(`select reltuples::float8 as estimate from pg_catalog.pg_class where oid = ${TABLE_OID}`, [
      table.schema,
      table.name,
    ]);
    return [estimate, await keyColumns(session, table)] as const;
  };
  const [estimate, keys] = await read().catch((error: unknown) => {
    throw readError(table, error);
  });
  const rows = estimate.rows[0]?.estimate ?? -1;
  return {
    rangeRows: rows > 0 ? Math.max(1, Math.ceil(rows / PLANNED_RANGES)) : UNKNOWN_SIZE_RANGE_ROWS,
    keysPrintable: keys.length > 0 && keys.every((column) => column.integer),
  };
}

const NEWLINE = 0x0a;
const TAB = 0x09;

/** The key text of one COPY line (integer keys: no escapes), from the pieces of the line. */
function keyText(pieces: readonly Buffer[], keyColumns: number): string {
  const line = Buffer.concat(pieces);
  let end = -1;
  for (let i = 0; i < keyColumns; i += 1) {
    const tab = line.indexOf(TAB, end + 1);
    end = tab === -1 ? line.length : tab;
  }
  return line.subarray(0, end).toString('utf8').replace(/\n$/, '').split('\t').join(', ');
}

/**
 * Streams the table's rows in key order once: the whole table's SHA-256 and row count (as
 * digestTable), and one SHA-256 per `plan.rangeRows` rows. The session must have run
 * PINNED_SETTINGS_SQL.
 */
export async function digestInRanges(session: ClientBase, table: DigestTable, plan: RangePlan): Promise<RangedDigest> {
  const keys = await keyColumns(session, table).catch((error: unknown) => {
    throw readError(table, error);
  });
  const whole = createHash('sha256');
  const ranges: RangeDigest[] = [];
  let range: Hash = createHash('sha256');
  let inRange = 0;
  let line: Buffer[] = [];
  let previous: Buffer[] = [];
  let first: string | undefined;
  const close = (last: string | undefined) => {
    ranges.push({ rows: inRange, sha256: range.digest('hex'), ...(first !== undefined && last !== undefined ? { from: first, to: last } : {}) });
    range = createHash('sha256');
    inRange = 0;
  };
  const rows = await streamCopy(session, table, copySql(table, keys, basePredicates(table)), (chunk) => {
    whole.update(chunk);
    let start = 0;
    let hashedTo = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      line.push(chunk.subarray(start, end + 1));
      inRange += 1;
      const key = plan.keysPrintable && (inRange === 1 || inRange === plan.rangeRows) ? keyText(line, table.key.length) : undefined;
      if (inRange === 1) first = key;
      if (inRange === plan.rangeRows) {
        range.update(chunk.subarray(hashedTo, end + 1));
        hashedTo = end + 1;
        close(key);
      }
      previous = line;
      line = [];
      start = end + 1;
    }
    range.update(chunk.subarray(hashedTo));
    if (start < chunk.length) line.push(chunk.subarray(start));
  });
  if (inRange > 0) close(plan.keysPrintable ? keyText(previous, table.key.length) : undefined);
  return { table: label(table), rows, sha256: whole.digest('hex'), rangeRows: plan.rangeRows, ranges };
}
