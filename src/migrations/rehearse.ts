/**
 * A rehearsal: pending migrations applied statement by statement to a restored copy of
 * production, each statement measured (duration, ACCESS EXCLUSIVE locks and how long they were
 * held, rows rewritten or changed), and a statement that fails on the copy's data explained by a
 * count of the offending rows.
 *
 * Row contents never leave this module: PostgreSQL's DETAIL for these failures quotes row values
 * ("Key (email)=(a@b.c) is duplicated", "Failing row contains (...)"), so neither it nor any
 * message of a data error is kept; the offending rows are counted with a query instead.
 *
 * A migration runs as its tool runs it: in one transaction (each statement under a savepoint, so
 * the copy can be queried after a failure) or, for a tool's non-transactional migration or one
 * PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY), statement by statement.
 * A lock taken inside a transaction is held until its commit: its time runs from the start of
 * the statement that took it to the commit.
 */
import type { ClientBase, QueryResult } from 'pg';
import { findingOf, type Rule } from '../findings/rules.ts';
import type { Finding } from '../findings/types.ts';
import { quoteIdent } from '../postgres/connect.ts';
import { firstTokenIndex, lineAt, statementsOf } from './apply.ts';
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

/** Transaction control in a migration file: the rehearsal opens and commits the migration's transaction itself. */
const TRANSACTION_CONTROL =
  /^(?:begin(?:\s+(?:work|transaction))?|start\s+transaction|commit(?:\s+(?:work|transaction))?|end(?:\s+(?:work|transaction))?)\s*;?\s*$/i;

/** SQLSTATE classes whose messages name objects only, never values: shown as PostgreSQL words them. */
const MESSAGE_IS_SAFE = ['0A', '25', '2B', '42', '53', '55', '57'];

const RELFILENODES_SQL = `
select c.oid::int8::text as oid, c.relfilenode::text as node
  from pg_catalog.pg_class c
 where c.relkind in ('r', 'm') and c.relnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   and c.relpersistence <> 't'`;

const OWN_EXCLUSIVE_LOCKS_SQL = `
select l.relation::int8::text as oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) as relation,
       c.relkind in ('r', 'p', 'm') as is_table
  from pg_catalog.pg_locks l
  join pg_catalog.pg_class c on c.oid = l.relation
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where l.pid = pg_catalog.pg_backend_pid() and l.locktype = 'relation' and l.mode = 'AccessExclusiveLock' and l.granted
   and n.nspname not in ('pg_catalog', 'information_schema') and c.relkind in ('r', 'p', 'm', 'v')`;

const RELATION_NAME_SQL = `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = $1::int8::oid`;

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

interface HeldLock {
  relation: string;
  /** Index in the pass's measures of the statement that took it, and its line. */
  statement: number;
  line: number;
  startedAt: number;
  /** The pass's measuring time when it was taken: measuring is not counted as holding. */
  overheadAt: number;
  hasRows: boolean;
}

interface Pass {
  client: ClientBase;
  migration: Migration;
  /** One transaction for the whole migration, or one per statement. */
  inTransaction: boolean;
  measures: StatementMeasure[];
  held: Map<string, HeldLock>;
  finished: Array<HeldLock & { heldMs: number }>;
  /** Time spent in postgate's own measuring queries, so far. */
  overheadMs: number;
}

const elapsed = (since: number) => Math.round((performance.now() - since) * 10) / 10;
const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

function locationOf(migration: Migration, start: number, text: string): { line: number; label: string } {
  const line = lineAt(migration.raw, migration.sqlOffset + start + firstTokenIndex(text));
  return { line, label: `${migration.file}:${line}` };
}

async function relfilenodes(client: ClientBase): Promise<Map<string, string>> {
  const { rows } = await client.query<{ oid: string; node: string }>(RELFILENODES_SQL);
  return new Map(rows.map((r) => [r.oid, r.node]));
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

async function failureFinding(pass: Pass, e: PgError, statement: string, label: string, line: number): Promise<Finding> {
  const explain = OFFENCES[e.code ?? ''];
  const offence = explain ? await explain(pass.client, e, statement).catch(() => undefined) : undefined;
  const location = { file: pass.migration.file, line };
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
    object: { kind: 'migration', name: pass.migration.file },
    message: `${label} fails on the restored copy of production (SQLSTATE ${code}${said}), although it applies on an empty database.`,
    remediation: 'Make the migration work with the data and schema production has (the restored copy shows them), then rehearse again.',
    location,
  });
}

/** postgate's own queries between the migration's statements: their time is not the migration's. */
async function measuring<T>(pass: Pass, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    pass.overheadMs += performance.now() - started;
  }
}

/** Runs one statement (inside a transaction) and measures it; the failure's finding when it fails. */
async function runStatement(pass: Pass, text: string, start: number): Promise<Finding | undefined | 'needs autocommit'> {
  const { client, migration } = pass;
  const { line, label } = locationOf(migration, start, text);
  const before = await measuring(pass, async () => {
    const nodes = await relfilenodes(client);
    await client.query('savepoint postgate_statement');
    return nodes;
  });
  const started = performance.now();
  let result: QueryResult | QueryResult[];
  try {
    result = await client.query(text);
  } catch (error) {
    const e = error as PgError;
    const duration = elapsed(started);
    // CREATE INDEX CONCURRENTLY and the like run outside a transaction, as applyMigration runs them.
    if (e.code === '25001') return 'needs autocommit';
    await client.query('rollback to savepoint postgate_statement');
    pass.measures.push({ statement: label, status: 'failed', duration_ms: duration, locks: [], rows: null, rewritten: [] });
    return failureFinding(pass, e, text, label, line);
  }
  const duration = elapsed(started);
  const index = pass.measures.length;
  const measure: StatementMeasure = { statement: label, status: 'applied', duration_ms: duration, locks: [], rows: null, rewritten: [] };
  pass.measures.push(measure);
  await measuring(pass, async () => {
    for (const one of Array.isArray(result) ? result : [result]) if (DML.has(one.command)) measure.rows = (measure.rows ?? 0) + (one.rowCount ?? 0);
    const after = await relfilenodes(client);
    for (const [oid, node] of after) {
      if (!before.has(oid) || before.get(oid) === node) continue;
      const name = (await client.query<{ name: string }>(RELATION_NAME_SQL, [oid])).rows[0]?.name;
      if (!name) continue;
      measure.rewritten.push(name);
      measure.rows = (measure.rows ?? 0) + (await countRows(client, name));
    }
    const { rows: locks } = await client.query<{ oid: string; relation: string; is_table: boolean }>(OWN_EXCLUSIVE_LOCKS_SQL);
    for (const lock of locks) {
      if (pass.held.has(lock.oid)) continue;
      const rows = lock.is_table && (await hasRows(client, lock.relation));
      pass.held.set(lock.oid, { relation: lock.relation, statement: index, line, startedAt: started, overheadAt: pass.overheadMs, hasRows: rows });
    }
    await client.query('release savepoint postgate_statement');
  });
  return undefined;
}

/** The transaction ended: every lock held is released now (measuring time left out). */
function releaseLocks(pass: Pass): void {
  const now = performance.now();
  for (const lock of pass.held.values()) {
    const heldMs = Math.max(0, Math.round((now - lock.startedAt - (pass.overheadMs - lock.overheadAt)) * 10) / 10);
    pass.measures[lock.statement]!.locks.push({ relation: lock.relation, held_ms: heldMs });
    pass.finished.push({ ...lock, heldMs });
  }
  pass.held.clear();
}

/** A statement PostgreSQL runs only outside a transaction block: timed, without lock measures (it takes no ACCESS EXCLUSIVE lock). */
async function runBare(pass: Pass, text: string, start: number): Promise<Finding | undefined> {
  const { line, label } = locationOf(pass.migration, start, text);
  const started = performance.now();
  try {
    await pass.client.query(text);
    pass.measures.push({ statement: label, status: 'applied', duration_ms: elapsed(started), locks: [], rows: null, rewritten: [] });
    return undefined;
  } catch (error) {
    pass.measures.push({ statement: label, status: 'failed', duration_ms: elapsed(started), locks: [], rows: null, rewritten: [] });
    return failureFinding(pass, error as PgError, text, label, line);
  }
}

/** One migration, the way its tool applies it. The failure's finding when a statement fails. */
async function runMigration(pass: Pass): Promise<Finding | undefined> {
  const { client, migration } = pass;
  const statements = statementsOf(migration).filter((s) => !TRANSACTION_CONTROL.test(s.text.slice(firstTokenIndex(s.text))));
  if (pass.inTransaction) await client.query('begin');
  for (const { text, start } of statements) {
    if (!pass.inTransaction) await client.query('begin');
    const outcome = await runStatement(pass, text, start);
    if (outcome === 'needs autocommit') {
      await client.query('rollback');
      pass.held.clear();
      if (pass.inTransaction) {
        // The whole migration again, one statement at a time.
        pass.measures.length = 0;
        pass.inTransaction = false;
        return runMigration(pass);
      }
      const failure = await runBare(pass, text, start);
      if (failure) return failure;
      continue;
    }
    if (outcome) {
      await client.query('rollback');
      pass.held.clear();
      return outcome;
    }
    if (!pass.inTransaction) {
      await client.query('commit');
      releaseLocks(pass);
    }
  }
  if (pass.inTransaction) {
    await client.query('commit');
    releaseLocks(pass);
  }
  return undefined;
}

/**
 * Applies `migrations` (pending, in order) to the copy behind `client`, statement by statement,
 * in order. A migration that fails is rolled back and the next ones still run, so one rehearsal
 * reports every failure (a later failure may then follow from an earlier one). The copy is
 * changed: give it a throwaway database.
 */
export async function rehearseMigrations(client: ClientBase, migrations: readonly Migration[], options: RehearsalOptions): Promise<RehearsalOutcome> {
  const started = performance.now();
  const statements: StatementMeasure[] = [];
  const findings: Finding[] = [];
  const applied: string[] = [];
  const failed: string[] = [];
  for (const migration of migrations) {
    const pass: Pass = { client, migration, inTransaction: !migration.noTransaction, measures: [], held: new Map(), finished: [], overheadMs: 0 };
    const failure = await runMigration(pass);
    statements.push(...pass.measures);
    for (const lock of pass.finished) {
      if (!lock.hasRows || lock.heldMs <= options.lockThresholdMs) continue;
      const measure = pass.measures[lock.statement]!;
      findings.push(
        rehearsalFinding({
          rule: 'migration_lock_duration',
          object: { kind: 'table', name: lock.relation },
          message: `${measure.statement} holds an ACCESS EXCLUSIVE lock on ${lock.relation} for ${formatMs(lock.heldMs)} on the restored copy of production (threshold ${formatMs(options.lockThresholdMs)}): every read and write of the table waits that long.`,
          remediation:
            "Take the lock for less time: `create index concurrently` in its own non-transactional migration, `add constraint ... not valid` then `validate constraint`, backfills in batches in their own migrations, and `set lock_timeout = '3s'` first.",
          location: { file: migration.file, line: lock.line },
        }),
      );
    }
    if (failure) {
      findings.push(failure);
      failed.push(migration.file);
    } else applied.push(migration.file);
  }
  return { statements, findings, total_ms: elapsed(started), applied, failed };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
