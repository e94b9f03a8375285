/**
 * Reading a migration's rollback (down) SQL, for the adapters whose tool has down migrations:
 * a file next to the migration (golang-migrate, sqlx, Flyway undo) or a section after a marker
 * in the migration itself (dbmate, goose, node-pg-migrate). Only whether it is there and whether
 * it holds SQL is used; its text is never printed.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Migration } from '../types.ts';

/** The text of the regular file `name` in the migration's folder, or undefined when there is none. */
export function siblingText(m: Migration, name: string): string | undefined {
  const file = path.join(path.dirname(m.absolutePath), name);
  try {
    return statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** What follows the first line `marker` matches (to the end of the file), or undefined when no line does. */
export function sectionAfter(raw: string, marker: RegExp): string | undefined {
  const found = marker.exec(raw);
  if (!found) return undefined;
  const lineEnd = raw.indexOf('\n', found.index);
  return lineEnd === -1 ? '' : raw.slice(lineEnd + 1);
}

/** True when the SQL is nothing but whitespace and comments: a rollback that rolls nothing back. */
export function isEmptySql(sql: string): boolean {
  return (
    sql
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/--[^\n]*/g, '')
      .trim() === ''
  );
}
