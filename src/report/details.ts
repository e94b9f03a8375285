/**
 * A gate's structured `details` (rls-audit's access matrix, restore-drill's phases and drill log,
 * ...) turned into neutral blocks that the text and markdown renderers both draw. No gate has to
 * register a layout: the shape of the value decides.
 *
 * | value                                         | block                                   |
 * |-----------------------------------------------|-----------------------------------------|
 * | array of objects                              | table, one row per item                 |
 * | `{ rows: [...], columns?, title?, note? }`    | table with those columns, title, note   |
 * | object of objects (`{ "public.trips": {anon: "denied"} }`) | matrix: row per key       |
 * | object of scalars                             | fields (label: value)                   |
 * | array of scalars                              | list                                    |
 * | scalar                                        | one line                                |
 *
 * At the top level, scalars and lists of scalars are gathered into one "Details" block of fields.
 * | anything else                                 | JSON                                    |
 *
 * Numbers are formatted by their key (`*_ms` durations, `*_bytes` sizes).
 */
import { columnLabel, formatMeasure, humanize } from './format.ts';

export type DetailBlock =
  | { kind: 'table'; title: string; columns: string[]; rows: string[][]; note?: string }
  | { kind: 'fields'; title: string; fields: Array<[label: string, value: string]> }
  | { kind: 'list'; title: string; items: string[] }
  | { kind: 'value'; title: string; value: string }
  | { kind: 'json'; title: string; json: string };

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value);
}

/** One cell: scalars as text, lists joined, objects as `label: value` pairs. */
export function formatCell(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') return formatMeasure(key, value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (!value.length) return '—';
    return value.map((item) => formatCell(key, item)).join(value.every((item) => isScalar(item)) ? ', ' : '; ');
  }
  if (isPlainObject(value))
    return Object.entries(value)
      .map(([k, v]) => `${columnLabel(k)}: ${formatCell(k, v)}`)
      .join(', ');
  return String(value);
}

function columnsOf(rows: readonly Plain[]): string[] {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return columns;
}

function recordTable(title: string, rows: readonly Plain[], columns = columnsOf(rows), note?: string): DetailBlock {
  return {
    kind: 'table',
    title,
    columns: columns.map(columnLabel),
    rows: rows.map((row) => columns.map((column) => formatCell(column, row[column]))),
    ...(note ? { note } : {}),
  };
}

export function detailBlock(key: string, value: unknown): DetailBlock {
  const title = humanize(key);
  if (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) return recordTable(title, value);
  if (Array.isArray(value) && value.every((item) => isScalar(item))) {
    return { kind: 'list', title, items: value.map((item) => formatCell(key, item)) };
  }
  if (isPlainObject(value)) {
    if (Array.isArray(value.rows) && value.rows.every(isPlainObject)) {
      const columns = Array.isArray(value.columns) && value.columns.every((c) => typeof c === 'string') ? (value.columns as string[]) : undefined;
      return recordTable(typeof value.title === 'string' ? value.title : title, value.rows, columns, typeof value.note === 'string' ? value.note : undefined);
    }
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, inner]) => isPlainObject(inner) && Object.values(inner).every(isScalar))) {
      const inner = entries.map(([, row]) => row as Plain);
      const columns = columnsOf(inner);
      return {
        kind: 'table',
        title,
        // matrix columns are data (role names, commands): kept as they are
        columns: ['', ...columns],
        rows: entries.map(([rowKey, row]) => [rowKey, ...columns.map((column) => formatCell(column, (row as Plain)[column]))]),
      };
    }
    if (entries.every(([, inner]) => isScalar(inner) || (Array.isArray(inner) && inner.every(isScalar)))) {
      return { kind: 'fields', title, fields: entries.map(([k, v]) => [columnLabel(k), formatCell(k, v)]) };
    }
  }
  if (isScalar(value)) return { kind: 'value', title, value: formatCell(key, value) };
  return { kind: 'json', title, json: JSON.stringify(value, null, 2) };
}

/** Top-level scalars and lists of scalars share one "Details" block; everything else gets its own. */
export function detailBlocks(details: Record<string, unknown> | undefined): DetailBlock[] {
  const entries = Object.entries(details ?? {});
  const simple = (value: unknown) => isScalar(value) || (Array.isArray(value) && value.every((item) => isScalar(item)));
  const fields: Array<[string, string]> = entries.filter(([, value]) => simple(value)).map(([key, value]) => [columnLabel(key), formatCell(key, value)]);
  const blocks = entries.filter(([, value]) => !simple(value)).map(([key, value]) => detailBlock(key, value));
  return fields.length ? [{ kind: 'fields', title: 'Details', fields }, ...blocks] : blocks;
}

/** How many rows or items a block shows (for "N rows not shown" notes). */
export function blockSize(block: DetailBlock): number {
  if (block.kind === 'table') return block.rows.length;
  if (block.kind === 'list') return block.items.length;
  if (block.kind === 'fields') return block.fields.length;
  return 1;
}
