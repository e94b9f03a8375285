/**
 * A rehearsal: pending migrations applied statement by statement to a restored copy of
 * production, each statement measured (duration, ACCESS EXCLUSIVE locks and how long they were
 * held, rows rewritten or changed), and a statement that fails on the copy's data explained by a
 * count of the offending rows. The statements are run and read by the shadow's StatementMeter
 * (statement-effects.ts: the tool's transaction mode, locks, rewrites, durations); this module
 * adds what only a copy with production's rows can tell.
 *
 * Row contents never leave this module: PostgreSQL's DETAIL for these failures quotes row values
 * ("Key (email)=(a@b.c) is duplicated", "Failing row contains (...)"), so neither it nor any
 * message of a data error is kept; the offending rows are counted with a query instead.
 *
 * A migration runs as its tool runs it: in one transaction or, for a tool's non-transactional
 * migration or one PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY), statement
 * by statement. A lock taken inside a transaction is held until its commit: its time is that of
 * the statement that took it and of every later one in the transaction. After a failure the
 * migration's earlier statements are replayed in a transaction that is rolled back, so the
 * offending rows are counted on what the failing statement saw.
 */
import type { ClientBase } from 'pg';
import { findingOf, type Rule } from '../findings/rules.ts';
import type { Finding } from '../findings/types.ts';
import { quoteIdent, type Session } from '../postgres/connect.ts';
import { firstTokenIndex, lineAt, statementsOf } from './apply.ts';
import { type StatementEffect, type StatementFailure, StatementMeter } from './statement-effects.ts';
import type { Migration } from './types.ts';

export const REHEARSAL_RULES = [
  {
    id: 'migration_fails_on_data',
    gate: 'all',
    severity: 'error',
    category: 'history',
    title: 'Migration fails on the data of a production copy',
    doc: "A pending migration failed when postgate applied it to a restored copy of production (drift-gate's `rehearse-from`, or restore-drill with `drill.rehearse-migrations`), although it applies on an empty shadow database: a `not null` over rows that hold NULL, a unique index or constraint over duplicated keys, a foreign key over rows that reference nothing, a check over rows that violate it. The deploy would fail the same way, halfway through the migrations. The finding gives the statement's file and line, the constraint and the number of offending rows, counted with a query after the failure; it never shows a row (PostgreSQL's own message quotes row values, so it is not kept). Fix the data first, in an earlier migration (update or delete the offending rows), or add the constraint as `not valid`, clean up, then `validate constraint`. To accept it, allowlist `{ rule: migration_fails_on_data, object: { kind: constraint, name: <schema.table.constraint> }, reason }`.",
  },
  {
    id: 'migration_lock_duration',
    gate: 'all',
    severity: 'warning',
    category: 'performance',
    title: 'Migration holds an ACCESS EXCLUSIVE lock too long on a table with rows',
    doc: "Applied to a restored copy of production, a pending migration held an ACCESS EXCLUSIVE lock on a table that has rows for longer than the threshold (1 s by default; `drift.rehearsal.lock-threshold` in the repo config, e.g. `500ms` or `5s`). While that lock is held every read and write of the table waits, and so does every query queued behind them: the site stalls for the time shown. A lock taken inside a migration's transaction is held until the transaction commits, so the time counts from the statement that took it to the commit. Typical causes are a table rewrite (`alter column ... type`, a volatile default), a full validation scan (`set not null`, a foreign key or check without `not valid`), an index built without `concurrently`, or a slow backfill after a lock-taking statement in the same transaction. Use the online pattern: `create index concurrently` in its own non-transactional migration, `add constraint ... not valid` then `validate constraint` in a later one, backfills in batches outside the schema change, and `set lock_timeout` so a blocked migration gives up instead of queueing the site behind it. To accept it, allowlist `{ rule: migration_lock_duration, object: { kind: table, name: <schema.table> }, reason }`.",
  },
] as const satisfies readonly Rule[];

const rehearsalFinding = findingOf(REHEARSAL_RULES);

/** One statement of a pending migration, as it ran on the copy. */
export interface StatementMeasure {
  /** `file:line` of the statement's first token. */
  statement: string;
  status: 'applied' | 'failed';
  duration_ms: number;
  /** ACCESS EXCLUSIVE locks the statement took on tables, views or materialized views, with how long each was held. */
  locks: Array<{ relation: string; held_ms: number }>;
  /** Rows of the tables it rewrote, plus the rows an INSERT, UPDATE, DELETE or MERGE changed; null when it touched none. */
  rows: number | null;
  /** Tables whose storage was rewritten (their relfilenode changed). */
  rewritten: string[];
}

export interface RehearsalOutcome {
  statements: StatementMeasure[];
  findings: Finding[];
  /** Whole rehearsal, every migration with its commits. */
  total_ms: number;
  /** Migrations applied in full. */
  applied: string[];
  /** Migrations that failed (rolled back; the later ones still ran, to report every failure at once). */
  failed: string[];
}

export interface RehearsalOptions {
  /** An ACCESS EXCLUSIVE lock held longer than this on a table with rows is a finding. */
  lockThresholdMs: number;
}

interface PgError {
  code?: string;
  message?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  detail?: string;
}

/** SQLSTATE classes whose messages name objects only, never values: shown as PostgreSQL words them. */
const MESSAGE_IS_SAFE = ['0A', '25', '2B', '42', '53', '55', '57'];

const elapsed = (since: number) => Math.round((performance.now() - since) * 10) / 10;
const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

function locationOf(migration: Migration, start: number, text: string): { line: number; label: string } {
  const line = lineAt(migration.raw, migration.sqlOffset + start + firstTokenIndex(text));
  return { line, label: `${migration.file}:${line}` };
}

async function countRows(client: ClientBase, relation: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${relation}`);
  return Number(rows[0]?.n ?? 0);
}

async function hasRows(client: ClientBase, relation: string): Promise<boolean> {
  const { rows } = await client.query<{ any: boolean }>(`select exists (select 1 from ${relation}) as any`);
  return Boolean(rows[0]?.any);
}

/** The offending rows of a failed statement, counted on the copy (inside the migration's savepoint, or after it). */
interface Offence {
  object: { kind: string; name: string };
  what: string;
  rows?: number;
  /** How the rows offend: "hold NULL", "share a key", ... */
  offence: string;
}

/** A constraint the statement adds, added again as NOT VALID (same name, PostgreSQL's own parse) to read its definition. */
async function withNotValidTwin<T>(client: ClientBase, statement: string, read: () => Promise<T>): Promise<T | undefined> {
  const twin = `${statement.trim().replace(/;\s*$/, '')} not valid`;
  await client.query('savepoint postgate_twin');
  try {
    await client.query(twin);
    return await read();
  } catch {
    return undefined;
  } finally {
    await client.query('rollback to savepoint postgate_twin').catch(() => undefined);
  }
}

const OFFENCES: Record<string, (client: ClientBase, e: PgError, statement: string) => Promise<Offence | undefined>> = {
  // NOT NULL: SET NOT NULL, ADD COLUMN ... NOT NULL without a default, a primary key over NULLs.
  async '23502'(client, e) {
    if (!e.schema || !e.table || !e.column) return undefined;
    const table = qualified(e.schema, e.table);
    const exists = await client.query(`select 1 from pg_catalog.pg_attribute where attrelid = $1::regclass and attname = $2 and not attisdropped`, [
      table,
      e.column,
    ]);
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}${exists.rowCount ? ` where ${quoteIdent(e.column)} is null` : ''}`);
    return {
      object: { kind: 'column', name: `${e.schema}.${e.table}.${e.column}` },
      what: `NOT NULL on ${e.schema}.${e.table}.${e.column}`,
      rows: Number(rows[0]?.n ?? 0),
      offence: 'hold NULL there',
    };
  },
  // A unique index or constraint over duplicated keys. The key columns are read from the DETAIL's
  // "Key (<columns>)=" part only, used in the counting query and never printed.
  async '23505'(client, e) {
    const columns = /^Key \((.+?)\)=\(/.exec(e.detail ?? '')?.[1];
    if (!e.schema || !e.table || !e.constraint) return undefined;
    const object = { kind: 'constraint', name: `${e.schema}.${e.table}.${e.constraint}` };
    const what = `the unique index ${e.constraint} on ${e.schema}.${e.table}`;
    if (!columns) return { object, what, offence: 'share a key' };
    const rows = await client
      .query<{ n: string }>(
        `select coalesce(sum(n), 0) as n from (select count(*) as n from ${qualified(e.schema, e.table)} where (${columns}) is not null group by ${columns} having count(*) > 1) d`,
      )
      .then((r) => Number(r.rows[0]?.n ?? 0))
      .catch(() => undefined);
    return { object, what, ...(rows !== undefined ? { rows } : {}), offence: 'share a key with another row' };
  },
  // A foreign key over rows that reference nothing.
  async '23503'(client, e, statement) {
    if (!e.schema || !e.table || !e.constraint) return undefined;
    const table = qualified(e.schema, e.table);
    const rows = await withNotValidTwin(client, statement, async () => {
      const { rows: defs } = await client.query<{ referenced: string; columns: string[]; keys: string[] }>(
        `select c.confrelid::regclass::text as referenced,
                array(select quote_ident(attname) from unnest(c.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by i) as columns,
                array(select quote_ident(attname) from unnest(c.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by i) as keys
           from pg_catalog.pg_constraint c where c.conrelid = $1::regclass and c.conname = $2 and c.contype = 'f'`,
        [table, e.constraint],
      );
      const def = defs[0];
      if (!def) return undefined;
      const matches = def.columns.map((column, i) => `r.${def.keys[i]} = t.${column}`).join(' and ');
      const present = def.columns.map((column) => `t.${column} is not null`).join(' and ');
      const counted = await client.query<{ n: string }>(
        `select count(*) as n from ${table} t where ${present} and not exists (select 1 from ${def.referenced} r where ${matches})`,
      );
      return Number(counted.rows[0]?.n ?? 0);
    });
    return {
      object: { kind: 'constraint', name: `${e.schema}.${e.table}.${e.constraint}` },
      what: `the foreign key ${e.constraint} on ${e.schema}.${e.table}`,
      ...(rows !== undefined ? { rows } : {}),
      offence: 'reference no row of the referenced table',
    };
  },
  // A check constraint over rows that violate it.
  async '23514'(client, e, statement) {
    if (!e.schema || !e.table || !e.constraint) return undefined;
    const table = qualified(e.schema, e.table);
    const rows = await withNotValidTwin(client, statement, async () => {
      const { rows: defs } = await client.query<{ expr: string }>(
        `select pg_get_expr(conbin, conrelid) as expr from pg_catalog.pg_constraint where conrelid = $1::regclass and conname = $2 and contype = 'c'`,
        [table, e.constraint],
      );
      if (!defs[0]) return undefined;
      const counted = await client.query<{ n: string }>(`select count(*) as n from ${table} where (${defs[0].expr}) is false`);
      return Number(counted.rows[0]?.n ?? 0);
    });
    return {
      object: { kind: 'constraint', name: `${e.schema}.${e.table}.${e.constraint}` },
      what: `the check constraint ${e.constraint} on ${e.schema}.${e.table}`,
      ...(rows !== undefined ? { rows } : {}),
      offence: 'violate it',
    };
  },
};

async function failureFinding(client: ClientBase, migration: Migration, e: PgError, statement: string, label: string, line: number): Promise<Finding> {
  const explain = OFFENCES[e.code ?? ''];
  const offence = explain ? await explain(client, e, statement).catch(() => undefined) : undefined;
  const location = { file: migration.file, line };
  if (offence) {
    const counted = offence.rows === undefined ? `rows ${offence.offence} (postgate could not count them)` : `${offence.rows} row(s) ${offence.offence}`;
    return rehearsalFinding({
      rule: 'migration_fails_on_data',
      object: offence.object,
      message: `${label} fails on the restored copy of production: ${offence.what} cannot be added because ${counted}.`,
      remediation:
        'Fix the data first in an earlier migration (update or delete the offending rows), or add the constraint as `not valid`, clean up the rows, then `alter table ... validate constraint ...` in a later migration.',
      location,
    });
  }
  // Other failures: a data error's message may quote a value, so only object-naming classes are shown.
  const code = e.code ?? 'unknown';
  const said = MESSAGE_IS_SAFE.includes(code.slice(0, 2)) && e.message ? `: ${e.message.split('\n')[0]!.replace(/\.$/, '')}` : '';
  return rehearsalFinding({
    rule: 'migration_fails_on_data',
    object: { kind: 'migration', name: migration.file },
    message: `${label} fails on the restored copy of production (SQLSTATE ${code}${said}), although it applies on an empty database.`,
    remediation: 'Make the migration work with the data and schema production has (the restored copy shows them), then rehearse again.',
    location,
  });
}

/** Tables, views and materialized views: the relations whose ACCESS EXCLUSIVE lock stops the site's reads. */
const LOCKED_KINDS = new Set(['r', 'p', 'm', 'v']);
/** Relations that hold rows (a rewrite of an index is counted with its table). */
const ROW_KINDS = new Set(['r', 'p', 'm']);

interface HeldLock {
  relation: { schema: string; name: string };
  /** Index in the migration's measures of the statement that took it, and its line. */
  statement: number;
  line: number;
  heldMs: number;
}

/** `schema.table` as PostgreSQL's quote_ident writes it (quoted only where needed), for the report and for SQL. */
async function relationName(client: ClientBase, relation: { schema: string; name: string }): Promise<string> {
  const { rows } = await client.query<{ name: string }>("select quote_ident($1) || '.' || quote_ident($2) as name", [relation.schema, relation.name]);
  return rows[0]!.name;
}

/** One measured statement as the rehearsal reports it: rewritten tables and the rows they hold. */
async function measureOf(client: ClientBase, effect: StatementEffect): Promise<StatementMeasure> {
  const measure: StatementMeasure = {
    statement: `${effect.file}:${effect.line}`,
    status: 'applied',
    duration_ms: Math.round(effect.ms * 10) / 10,
    locks: [],
    rows: effect.rows ?? null,
    rewritten: [],
  };
  for (const change of effect.changes) {
    if (change.kind !== 'rewrite' || !ROW_KINDS.has(change.relation.relkind)) continue;
    const name = await relationName(client, change.relation);
    measure.rewritten.push(name);
    measure.rows = (measure.rows ?? 0) + (await countRows(client, name));
  }
  return measure;
}

/**
 * The ACCESS EXCLUSIVE locks of a migration that committed, each with how long it was held: in
 * one transaction, from its statement to the commit; statement by statement, its statement.
 */
function heldLocks(effects: readonly StatementEffect[], oneTransaction: boolean): HeldLock[] {
  return effects.flatMap((effect, index) =>
    effect.locks
      .filter((lock) => lock.mode === 'AccessExclusiveLock' && LOCKED_KINDS.has(lock.relation.relkind))
      .map((lock) => ({
        relation: lock.relation,
        statement: index,
        line: effect.line,
        heldMs: Math.round((oneTransaction ? effects.slice(index) : [effect]).reduce((sum, e) => sum + e.ms, 0) * 10) / 10,
      })),
  );
}

/**
 * The failure explained on the copy: in a transaction rolled back afterwards, the migration's
 * earlier statements again (unless they were committed), then the offending rows counted.
 */
async function explainFailure(client: ClientBase, migration: Migration, failure: StatementFailure): Promise<Finding> {
  const statement = failure.statement;
  const { line, label } = statement ? locationOf(migration, statement.start, statement.text) : { line: 1, label: migration.file };
  await client.query('begin');
  try {
    if (statement && !failure.committed) {
      for (const earlier of statementsOf(migration)) {
        if (earlier === statement) break;
        await client.query(earlier.text);
      }
    }
  } catch {
    // The replay failed: the counting runs on the copy as it is.
    await client.query('rollback; begin');
  }
  try {
    return await failureFinding(client, migration, failure.error as PgError, statement?.text ?? '', label, line);
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}

/**
 * Applies `migrations` (pending, in order) to the copy behind `session`, statement by statement,
 * in order. A migration that fails is rolled back and the next ones still run, so one rehearsal
 * reports every failure (a later failure may then follow from an earlier one). The copy is
 * changed: give it a throwaway database.
 */
export async function rehearseMigrations(session: Session, migrations: readonly Migration[], options: RehearsalOptions): Promise<RehearsalOutcome> {
  const started = performance.now();
  // Pending migrations on production's copy nearly all touch existing tables: measured at once, not after a quiet run.
  const meter = new StatementMeter(session, { quietFirst: false });
  const statements: StatementMeasure[] = [];
  const findings: Finding[] = [];
  const applied: string[] = [];
  const failed: string[] = [];
  for (const migration of migrations) {
    const { effects, failure } = await meter.apply(migration);
    const measures: StatementMeasure[] = [];
    for (const effect of effects) measures.push(await measureOf(session, effect));
    // Locks are reported for what committed: all of a migration that applied, the statements before the failure when each committed on its own.
    const oneTransaction = !migration.noTransaction && effects.every((e) => e.measured) && !failure?.committed;
    const locks = failure && !failure.committed ? [] : heldLocks(effects, oneTransaction);
    for (const lock of locks) {
      const relation = await relationName(session, lock.relation);
      measures[lock.statement]!.locks.push({ relation, held_ms: lock.heldMs });
      if (lock.heldMs <= options.lockThresholdMs || !(await hasRows(session, relation))) continue;
      findings.push(
        rehearsalFinding({
          rule: 'migration_lock_duration',
          object: { kind: 'table', name: relation },
          message: `${measures[lock.statement]!.statement} holds an ACCESS EXCLUSIVE lock on ${relation} for ${formatMs(lock.heldMs)} on the restored copy of production (threshold ${formatMs(options.lockThresholdMs)}): every read and write of the table waits that long.`,
          remediation:
            "Take the lock for less time: `create index concurrently` in its own non-transactional migration, `add constraint ... not valid` then `validate constraint`, backfills in batches in their own migrations, and `set lock_timeout = '3s'` first.",
          location: { file: migration.file, line: lock.line },
        }),
      );
    }
    statements.push(...measures);
    if (failure) {
      const finding = await explainFailure(session, migration, failure);
      const label = failure.statement ? locationOf(migration, failure.statement.start, failure.statement.text).label : migration.file;
      statements.push({ statement: label, status: 'failed', duration_ms: Math.round(failure.ms * 10) / 10, locks: [], rows: null, rewritten: [] });
      findings.push(finding);
      failed.push(migration.file);
    } else applied.push(migration.file);
  }
  return { statements, findings, total_ms: elapsed(started), applied, failed };
}
function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
