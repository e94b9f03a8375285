/**
 * Running migration SQL on a shadow database and turning a failure into a finding at
 * the exact file and line: PostgreSQL's error position (a character offset into the
 * statement) is mapped back to the line of the migration file.
 */
import type { ClientBase } from 'pg';
import type { Finding } from '../findings/types.ts';
import { splitSupabaseStatements, type SplitStatement } from './supabase-split.ts';
import type { Migration } from './types.ts';
import { migrationFinding } from './rules.ts';

export interface PgError {
  message?: string;
  code?: string;
  position?: string;
  internalPosition?: string;
  where?: string;
  detail?: string;
  hint?: string;
}

/** 1-based line of a UTF-16 index in `text`. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** PostgreSQL positions count characters (code points), 1-based; JavaScript indexes count UTF-16 units. */
export function codePointPositionToIndex(text: string, position: number): number {
  let index = 0;
  for (let seen = 1; seen < position && index < text.length; seen++) {
    const code = text.codePointAt(index) ?? 0;
    index += code > 0xffff ? 2 : 1;
  }
  return index;
}

/**
 * Index of the first SQL token at or after `from`: white space, `-- ...` line comments and
 * (nested) `/* ... *\/` block comments are skipped. `from` itself when there is none (only
 * comments, or a comment that never closes), so the caller keeps pointing at the statement.
 */
export function firstTokenIndex(text: string, from = 0): number {
  let index = from;
  while (index < text.length) {
    const ch = text[index]!;
    if (/\s/.test(ch)) {
      index++;
    } else if (ch === '-' && text[index + 1] === '-') {
      const end = text.indexOf('\n', index);
      if (end < 0) return from;
      index = end + 1;
    } else if (ch === '/' && text[index + 1] === '*') {
      let depth = 1;
      index += 2;
      while (depth > 0 && index < text.length) {
        if (text.startsWith('/*', index)) {
          depth++;
          index += 2;
        } else if (text.startsWith('*/', index)) {
          depth--;
          index += 2;
        } else {
          index++;
        }
      }
      if (depth > 0) return from;
    } else {
      return index;
    }
  }
  return from;
}

const statementsCache = new WeakMap<Migration, SplitStatement[]>();

/** The migration's statements (split with the Supabase CLI's rules, which every tool's SQL survives). */
export function statementsOf(migration: Migration): SplitStatement[] {
  let statements = statementsCache.get(migration);
  if (!statements) {
    statements = splitSupabaseStatements(migration.sql);
    statementsCache.set(migration, statements);
  }
  return statements;
}

export interface ApplyOutcome {
  ok: boolean;
  failure?: Finding;
}

/**
 * Applies one migration the way its tool does: the file as one script in one
 * transaction, or statement by statement when the tool runs it outside a transaction
 * (or PostgreSQL refuses a statement inside one, e.g. CREATE INDEX CONCURRENTLY).
 */
export async function applyMigration(client: ClientBase, migration: Migration): Promise<ApplyOutcome> {
  if (!migration.noTransaction) {
    try {
      await client.query(migration.sql);
      return { ok: true };
    } catch (error) {
      const e = error as PgError;
      if (e.code !== '25001') return { ok: false, failure: await failureFinding(client, migration, e, undefined) };
    }
  }
  for (const statement of statementsOf(migration)) {
    try {
      await client.query(statement.text);
    } catch (error) {
      return { ok: false, failure: await failureFinding(client, migration, error as PgError, statement) };
    }
  }
  return { ok: true };
}

/** Runs the statements one by one inside a transaction that is rolled back, to find the one that fails. */
async function findFailingStatement(client: ClientBase, migration: Migration): Promise<SplitStatement | undefined> {
  try {
    await client.query('begin');
    for (const statement of statementsOf(migration)) {
      try {
        await client.query(statement.text);
      } catch {
        return statement;
      }
    }
    return undefined;
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}

/** The finding for a failing migration, at the file and line of the failing statement (found by re-running it when the server gave no position). */
export async function failureFinding(client: ClientBase, migration: Migration, error: PgError, statement: SplitStatement | undefined): Promise<Finding> {
  const raw = migration.raw;
  let index: number | undefined;
  let failing = statement;
  if (error.position) {
    const base = failing ? failing.start : 0;
    const text = failing ? failing.text : migration.sql;
    index = migration.sqlOffset + base + codePointPositionToIndex(text, Number(error.position));
  } else {
    failing ??= await findFailingStatement(client, migration);
    if (failing) {
      // The statement as split starts at the comments above it, if any: point at its first token.
      index = migration.sqlOffset + failing.start + firstTokenIndex(failing.text);
      const bodyLine = /\bline (\d+)\b/.exec(error.where ?? '')?.[1];
      const body = /\$[A-Za-z_0-9]*\$/.exec(failing.text);
      if (bodyLine && body) index = migration.sqlOffset + failing.start + body.index + lineOffset(failing.text.slice(body.index), Number(bodyLine) - 1);
    }
  }
  const line = index === undefined ? undefined : lineAt(raw, index);
  const message = (error.message ?? String(error)).replace(/\.$/, '');
  const detail = [
    error.detail && `Detail: ${error.detail}`,
    error.hint && `Hint: ${error.hint}`,
    error.where && `Where: ${error.where}`,
    error.code && `SQLSTATE ${error.code}`,
  ]
    .filter(Boolean)
    .join('\n');
  return migrationFinding({
    rule: 'migration_apply_failed',
    object: { kind: 'migration', name: migration.file },
    message: `${migration.file}${line ? `:${line}` : ''} fails on a fresh database: ${message}.`,
    ...(detail ? { detail } : {}),
    remediation:
      'Fix the statement so that the migrations apply in order on an empty database (the same way they run on a new environment or a branch database).',
    location: { file: migration.file, ...(line ? { line } : {}) },
  });
}

/** Index just after the `lines`-th newline of `text` (0 lines: 0). */
function lineOffset(text: string, lines: number): number {
  let index = 0;
  for (let n = 0; n < lines; n++) {
    const next = text.indexOf('\n', index);
    if (next < 0) break;
    index = next + 1;
  }
  return index;
}
