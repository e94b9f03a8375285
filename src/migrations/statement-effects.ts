/**
 * What each statement of a migration does to the database, measured rather than guessed from its
 * text: the statement runs on a real PostgreSQL, in the tool's transaction mode, and after it, in
 * the same transaction (before the locks are released), one query reads
 *
 * - the relation locks the applying backend holds (`pg_locks`, its own pid), so the locks this
 *   statement added are the difference with the previous reading;
 * - `lock_timeout` and `statement_timeout` as the statement ran;
 * - the catalog facts of every locked relation (file node, columns, constraints), compared with the
 *   facts before the statement (the committed state, or the last reading in this transaction):
 *   a new file node is a rewrite, a new validated constraint or NOT NULL on an existing column is a
 *   validation scan, a new index on an existing table is an index build, ... (`changesOf`).
 *
 * A relation "existed" when it was there before the first measured migration (the shadow applies
 * the base branch's migrations first), and was not created by a measured one. Statements that
 * PostgreSQL refuses inside a transaction (`create index concurrently`, ...) run on their own and
 * are reported as not measured: their locks are released before anything can read them.
 */
import type { QueryResult } from 'pg';
import type { Session } from '../postgres/connect.ts';
import { type ApplyOutcome, failureFinding, firstTokenIndex, lineAt, type PgError, statementsOf } from './apply.ts';
import type { SplitStatement } from './supabase-split.ts';
import type { Migration } from './types.ts';

/** PostgreSQL's table lock modes, weakest first (as `pg_locks.mode` spells them). */
export const LOCK_MODES = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** The weakest mode that blocks writes (it conflicts with RowExclusiveLock, which INSERT/UPDATE/DELETE take). */
export const FIRST_STRONG_MODE: LockMode = 'ShareLock';

export const isStrong = (mode: LockMode) => LOCK_MODES.indexOf(mode) >= LOCK_MODES.indexOf(FIRST_STRONG_MODE);

/** `ACCESS EXCLUSIVE`, as the documentation and `lock table ... in <mode> mode` write it. */
export function lockModeName(mode: LockMode): string {
  return mode
    .replace(/Lock$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

export interface Column {
  num: number;
  name: string;
  notNull: boolean;
  typeOid: number;
  typmod: number;
  /** The base type (`character varying`), and with its modifier (`character varying(40)`). */
  baseType: string;
  type: string;
}

export interface Constraint {
  name: string;
  /** pg_constraint.contype: c check, f foreign key, p primary key, u unique, x exclusion, t trigger. */
  type: string;
  validated: boolean;
  /** Check constraints: `CHECK ((email IS NOT NULL))`. */
  definition?: string;
}

export interface RelationFacts {
  oid: number;
  schema: string;
  name: string;
  /** pg_class.relkind. */
  relkind: string;
  filenode: number;
  /** Indexes: their table. */
  tableOid?: number;
  columns: Column[];
  constraints: Constraint[];
}

export interface RelationRef {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  /** It was there before the measured migrations. */
  existed: boolean;
}

export interface LockTaken {
  relation: RelationRef;
  mode: LockMode;
}

/** What a statement changed on a relation that was there before it. */
export type Change =
  | { kind: 'rewrite'; relation: RelationRef; addedColumns: string[]; changedTypes: string[] }
  | { kind: 'truncate'; relation: RelationRef }
  | { kind: 'validation'; relation: RelationRef; check: 'check' | 'foreign key' | 'not null'; name: string }
  | { kind: 'index_build'; relation: RelationRef; index: string; unique: boolean }
  | { kind: 'drop_relation'; relation: RelationRef }
  | { kind: 'drop_column'; relation: RelationRef; column: string }
  | { kind: 'type_change'; relation: RelationRef; column: string; from: string; to: string; narrowing: boolean }
  | { kind: 'rename_column'; relation: RelationRef; from: string; to: string }
  | { kind: 'rename_relation'; relation: RelationRef; from: string }
  | { kind: 'drop_function'; signature: string };

export interface StatementEffect {
  file: string;
  /** The line of the statement's first token. */
  line: number;
  /** False for a statement PostgreSQL runs only outside a transaction: nothing could be read while it ran. */
  measured: boolean;
  /** Per relation that was there before the measured migrations, the strongest lock the statement took, where the transaction held no mode as strong before it (locks on relations they create block nobody and are not listed). */
  locks: LockTaken[];
  /** `current_setting` as the statement ran ('0' when unset). */
  lockTimeout: string;
  statementTimeout: string;
  changes: Change[];
  ms: number;
  /** Rows an INSERT, UPDATE, DELETE or MERGE changed (absent for other statements). */
  rows?: number;
}

/**
 * The statement that failed, with PostgreSQL's error (whose detail may quote row values: never
 * print it). `statement` is absent when the commit failed (a deferred constraint).
 */
export interface StatementFailure {
  error: PgError;
  statement: SplitStatement | undefined;
  ms: number;
  /** The migration ran statement by statement: the ones before the failure are committed. */
  committed: boolean;
}

/** What `StatementMeter.apply` returns: `failure` is the raw error behind `outcome.failure`, for callers that explain it. */
export interface MeterResult {
  outcome: ApplyOutcome;
  effects: StatementEffect[];
  failure?: StatementFailure;
}

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

interface Reading {
  locks: Array<[number, LockMode]> | null;
  lock_timeout: string;
  statement_timeout: string;
  facts: RelationFacts[] | null;
  function_locks: number[] | null;
  ms: number;
}

/** Relations of the database's own schemas (not the system catalogs), as JSON rows of `RelationFacts`. */
const FACTS_SQL = (where: string) => `
select json_build_object(
  'oid', c.oid::int8, 'schema', n.nspname, 'name', c.relname, 'relkind', c.relkind, 'filenode', c.relfilenode::int8,
  'tableOid', i.indrelid::int8,
  'columns', coalesce((select json_agg(json_build_object('num', a.attnum, 'name', a.attname, 'notNull', a.attnotnull,
      'typeOid', a.atttypid::int8, 'typmod', a.atttypmod, 'baseType', a.atttypid::regtype::text,
      'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) order by a.attnum)
    from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'm', 'f')), '[]'),
  'constraints', coalesce((select json_agg(json_build_object('name', k.conname, 'type', k.contype, 'validated', k.convalidated,
      'definition', case when k.contype = 'c' then pg_catalog.pg_get_constraintdef(k.oid) end))
    from pg_catalog.pg_constraint k where k.conrelid = c.oid), '[]'))
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_index i on i.indexrelid = c.oid
 where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname !~ '^pg_(toast_)?temp_' and ${where}`;

/** Every relation and function of the database's own schemas: the state before the measured migrations. */
const BASELINE_SQL = `
select (select coalesce(json_agg(f.json_build_object), '[]') from (${FACTS_SQL('true')}) f) as facts,
  (select coalesce(json_agg(json_build_array(p.oid::int8, p.oid::regprocedure::text)), '[]')
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.oid >= 16384 and n.nspname not in ('pg_catalog', 'information_schema')) as functions`;

/**
 * After a statement, in its transaction: the backend's relation locks (objects made by initdb, below
 * FirstNormalObjectId 16384, left out: the catalogs this query reads), the timeouts, the facts of
 * the locked relations that may have existed (oid at most `$1`, the highest at the last reading of
 * the committed state: what the measured migrations create comes later, and only what existed is
 * compared) and of new indexes on them, the functions it holds a lock on that are gone (DROP
 * FUNCTION locks the function), and the time since the query message began: the reading is sent
 * with the statement, in one round trip, so that is the statement's duration. Prepared once per
 * session (SQL PREPARE, which a simple-protocol query can EXECUTE): planning it for every statement
 * would cost more than the statement.
 */
const READING_NAME = 'postgate_statement_effects';
const PREPARE_READING_SQL = `prepare ${READING_NAME}(oid) as
with held as (
  select l.relation, l.mode from pg_catalog.pg_locks l
   where l.pid = pg_catalog.pg_backend_pid() and l.locktype = 'relation' and l.granted and l.relation >= 16384)
select (select json_agg(json_build_array(relation::int8, mode)) from held) as locks,
  pg_catalog.current_setting('lock_timeout') as lock_timeout,
  pg_catalog.current_setting('statement_timeout') as statement_timeout,
  (select json_agg(f.json_build_object) from (${FACTS_SQL("c.oid in (select relation from held) and (c.oid <= $1 or (c.relkind in ('i', 'I') and i.indrelid <= $1))")}) f) as facts,
  (select json_agg(l.objid::int8) from pg_catalog.pg_locks l
    where l.pid = pg_catalog.pg_backend_pid() and l.locktype = 'object' and l.classid = 'pg_catalog.pg_proc'::regclass and l.objid >= 16384
      and not exists (select from pg_catalog.pg_proc p where p.oid = l.objid)) as function_locks,
  extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.statement_timestamp())::float8 * 1000 as ms`;

/**
 * After each statement of a quiet run (`applyQuietly`): the time and the timeouts, and nothing that
 * scans pg_locks or the catalog. `postgate_mark_at` names its result among the statements' own.
 */
const MARK_NAME = 'postgate_statement_mark';
const PREPARE_MARK_SQL = `prepare ${MARK_NAME} as
select extract(epoch from pg_catalog.clock_timestamp())::float8 * 1000 as postgate_mark_at,
  extract(epoch from pg_catalog.statement_timestamp())::float8 * 1000 as message_at,
  pg_catalog.current_setting('lock_timeout') as lock_timeout,
  pg_catalog.current_setting('statement_timeout') as statement_timeout`;

interface Mark {
  postgate_mark_at: number;
  message_at: number;
  lock_timeout: string;
  statement_timeout: string;
}

/** Each measured migration starts with the timeouts unset: it must set its own. */
const UNSET_TIMEOUTS = 'set lock_timeout = 0; set statement_timeout = 0';

/**
 * Statements that end or split the transaction (`commit`, `rollback to savepoint`, ...): after one,
 * locks taken before it may be gone by the end of the migration, so only a reading after every
 * statement sees them.
 */
const TRANSACTION_CONTROL = /^(begin|start|commit|end|rollback|abort|savepoint|release|prepare)\b/i;
const controlsTransaction = (statement: SplitStatement) => TRANSACTION_CONTROL.test(statement.text.slice(firstTokenIndex(statement.text)));

const WIDTHS: Record<string, number> = { smallint: 2, integer: 4, bigint: 8, real: 4, 'double precision': 8 };
const UNBOUNDED_TEXT = new Set(['text', 'character varying', 'character', 'numeric']);

/**
 * A type change that can lose data or fail on existing values: a shorter length or precision,
 * a smaller integer or float, a length where there was none, a number into an integer.
 */
export function narrows(from: Column, to: Column): boolean {
  if (from.typeOid === to.typeOid) return to.typmod !== -1 && (from.typmod === -1 || to.typmod < from.typmod);
  const [a, b] = [WIDTHS[from.baseType], WIDTHS[to.baseType]];
  if (a !== undefined && b !== undefined) return b < a;
  if (from.baseType === 'numeric' && b !== undefined) return true;
  return UNBOUNDED_TEXT.has(from.baseType) && UNBOUNDED_TEXT.has(to.baseType) && to.typmod !== -1 && from.typmod === -1;
}

const TABLE_KINDS = new Set(['r', 'p', 'm', 'f']);

/** `CHECK ((email IS NOT NULL))`: a validated one lets SET NOT NULL skip its scan (PostgreSQL 12+). */
function provesNotNull(constraints: Constraint[], column: string): boolean {
  const quoted = `"${column.replace(/"/g, '""')}"`;
  return constraints.some(
    (k) => k.type === 'c' && k.validated && (k.definition === `CHECK ((${column} IS NOT NULL))` || k.definition === `CHECK ((${quoted} IS NOT NULL))`),
  );
}

/**
 * The changes a statement made, from the facts before and after it (pure). `before` has the
 * relations as they were; `after` the relations the statement locked, as they are now (a locked
 * relation missing from `after` was dropped). `truncate`: the statement is a TRUNCATE (its new
 * file node empties the table rather than rewriting it).
 */
export function changesOf(input: {
  before: ReadonlyMap<number, RelationFacts>;
  after: readonly RelationFacts[];
  lockedOids: readonly number[];
  existed: (oid: number) => boolean;
  truncate: boolean;
}): Change[] {
  const { before, existed } = input;
  const ref = (facts: RelationFacts): RelationRef => ({
    oid: facts.oid,
    schema: facts.schema,
    name: facts.name,
    relkind: facts.relkind,
    existed: existed(facts.oid),
  });
  const after = new Map(input.after.map((f) => [f.oid, f]));
  const changes: Change[] = [];
  const rewritten = new Set<number>();
  for (const now of input.after) {
    const was = before.get(now.oid);
    if (!was || !TABLE_KINDS.has(now.relkind)) continue;
    const relation = ref(now);
    if (was.name !== now.name || was.schema !== now.schema) changes.push({ kind: 'rename_relation', relation, from: `${was.schema}.${was.name}` });
    const columns = new Map(was.columns.map((c) => [c.num, c]));
    const changedTypes: string[] = [];
    for (const column of now.columns) {
      const old = columns.get(column.num);
      if (!old) continue;
      if (old.name !== column.name) changes.push({ kind: 'rename_column', relation, from: old.name, to: column.name });
      if (old.type !== column.type) {
        changedTypes.push(column.name);
        changes.push({ kind: 'type_change', relation, column: column.name, from: old.type, to: column.type, narrowing: narrows(old, column) });
      }
    }
    const kept = new Set(now.columns.map((c) => c.num));
    for (const old of was.columns) if (!kept.has(old.num)) changes.push({ kind: 'drop_column', relation, column: old.name });
    if (was.filenode !== now.filenode && now.filenode !== 0) {
      rewritten.add(now.oid);
      if (input.truncate) {
        changes.push({ kind: 'truncate', relation });
      } else {
        const added = now.columns.filter((c) => !columns.has(c.num)).map((c) => c.name);
        changes.push({ kind: 'rewrite', relation, addedColumns: added, changedTypes });
      }
      continue;
    }
    // Without a rewrite, these are checked by reading every row (with one, while rewriting).
    const oldConstraints = new Map(was.constraints.map((k) => [k.name, k]));
    for (const k of now.constraints) {
      const check = k.type === 'c' ? 'check' : k.type === 'f' ? 'foreign key' : undefined;
      if (check && k.validated && !oldConstraints.has(k.name)) changes.push({ kind: 'validation', relation, check, name: k.name });
    }
    for (const column of now.columns) {
      const old = columns.get(column.num);
      if (old && column.notNull && !old.notNull && !provesNotNull(was.constraints, old.name))
        changes.push({ kind: 'validation', relation, check: 'not null', name: column.name });
    }
  }
  for (const now of input.after) {
    if (now.relkind !== 'i' || now.tableOid === undefined) continue;
    const table = before.get(now.tableOid);
    if (!table || rewritten.has(now.tableOid)) continue;
    const tableRef = ref(after.get(now.tableOid) ?? table);
    const was = before.get(now.oid);
    const unique = (after.get(now.tableOid) ?? table).constraints.some((k) => k.name === now.name && (k.type === 'p' || k.type === 'u'));
    if (!was) changes.push({ kind: 'index_build', relation: tableRef, index: now.name, unique });
    else if (was.filenode !== now.filenode) changes.push({ kind: 'rewrite', relation: ref(now), addedColumns: [], changedTypes: [] });
  }
  for (const oid of new Set(input.lockedOids)) {
    const was = before.get(oid);
    if (was && !after.has(oid) && TABLE_KINDS.has(was.relkind)) changes.push({ kind: 'drop_relation', relation: ref(was) });
  }
  return changes;
}

/** The statement's keyword: `truncate` empties the table through a new file node, which is not a rewrite. */
const isTruncate = (text: string) => /^truncate\b/i.test(text.slice(firstTokenIndex(text)));

/**
 * Measures migrations on one session, in order. Create it when the first measured migration is
 * about to run (`readBaseline` reads what exists then); call `baseChanged` when an unmeasured
 * migration ran in between, so that what it created counts as existing.
 */
export class StatementMeter {
  /** Committed facts of every relation. */
  private relations = new Map<number, RelationFacts>();
  /** Relations and functions there before the measured migrations (minus what they created). */
  private existing = new Set<number>();
  private functions = new Map<number, string>();
  /** What measured migrations created: never "existing", even after a re-read. */
  private created = new Set<number>();
  /** The highest relation oid of the committed state last read: a shadow allocates oids in order, so anything above is new. */
  private highestOid = 0;
  private prepared = false;
  /** Why the committed facts must be read again: first use, an unmeasured migration ran, or a statement ran unmeasured. */
  private stale: 'first' | 'base' | 'unmeasured' | undefined = 'first';

  private readonly session: Session;

  /** Try the quiet run first (`applyQuietly`); off where most migrations touch existing tables, which it would run twice. */
  private readonly quietFirst: boolean;

  constructor(session: Session, options: { quietFirst?: boolean } = {}) {
    this.session = session;
    this.quietFirst = options.quietFirst ?? true;
  }

  baseChanged(): void {
    this.stale = 'base';
  }

  private async readBaseline(): Promise<void> {
    if (!this.prepared) {
      this.prepared = true;
      const { rows } = await this.session.query<{ name: string }>('select name from pg_catalog.pg_prepared_statements where name = any($1)', [
        [READING_NAME, MARK_NAME],
      ]);
      const prepared = new Set(rows.map((r) => r.name));
      if (!prepared.has(READING_NAME)) await this.session.query(PREPARE_READING_SQL);
      if (!prepared.has(MARK_NAME)) await this.session.query(PREPARE_MARK_SQL);
    }
    const { rows } = await this.session.query<{ facts: RelationFacts[]; functions: Array<[number, string]> }>(BASELINE_SQL);
    const row = rows[0]!;
    const known = this.relations;
    // What an unmeasured statement of a measured migration made is the pull request's, not existing.
    if (this.stale === 'unmeasured') for (const f of row.facts) if (!known.has(f.oid)) this.created.add(f.oid);
    this.relations = new Map(row.facts.map((f) => [f.oid, normalise(f)]));
    this.highestOid = Math.max(0, ...this.relations.keys());
    this.existing = new Set([...this.relations.keys()].filter((oid) => !this.created.has(oid)));
    if (this.stale !== 'unmeasured') this.functions = new Map(row.functions.filter(([oid]) => !this.created.has(oid)));
    this.stale = undefined;
  }

  /**
   * Applies one migration the way `applyMigration` does (one transaction, or statement by
   * statement when the tool runs it outside one or PostgreSQL refuses a statement inside one),
   * each statement followed by a reading. Timeouts start unset: each migration must set its own.
   *
   * A transactional migration is first run quietly (`applyQuietly`): most touch nothing that was
   * there before them, which one reading at the end shows, and then the per-statement readings
   * would all be empty. Otherwise it is rolled back and run again with a reading after each statement.
   */
  async apply(migration: Migration): Promise<MeterResult> {
    if (this.stale) await this.readBaseline();
    let inTransaction = !migration.noTransaction;
    if (this.quietFirst && inTransaction && !statementsOf(migration).some(controlsTransaction)) {
      const quiet = await this.applyQuietly(migration);
      if (quiet === 'refused') inTransaction = false;
      else if (quiet) return quiet;
    }
    return this.applyMeasured(migration, inTransaction);
  }

  /**
   * The whole migration in one transaction and one round trip, each statement followed by a mark
   * (time and timeouts), then one reading of everything the transaction holds: locks last until it
   * ends, so a relation or function of the committed state that no statement locked was touched by
   * none. When none was, the effects are what per-statement readings would give (no locks or
   * changes on them) and the migration commits; otherwise, or when a statement fails, it is rolled
   * back and `undefined` says to measure it statement by statement (a failure is then reported
   * exactly as that run finds it). `refused`: a statement PostgreSQL runs only outside a transaction.
   */
  private async applyQuietly(migration: Migration): Promise<MeterResult | 'refused' | undefined> {
    const statements = statementsOf(migration);
    const sql = [
      `${UNSET_TIMEOUTS}; begin`,
      ...statements.map((statement) => `${statement.text}\n;\nexecute ${MARK_NAME}`),
      `execute ${READING_NAME}(${this.highestOid})`,
    ].join(';\n');
    let results: Array<QueryResult<Mark | Reading>>;
    try {
      const answer = (await this.session.query(sql)) as unknown as QueryResult<Mark | Reading> | Array<QueryResult<Mark | Reading>>;
      results = Array.isArray(answer) ? answer : [answer];
    } catch (error) {
      await this.session.query('rollback');
      return (error as { code?: string }).code === '25001' ? 'refused' : undefined;
    }
    // Each statement's own results come before its mark: the rows its INSERT, UPDATE, ... changed.
    const marks: Array<Mark & { rows?: number }> = [];
    let rows: number | undefined;
    for (const result of results.slice(0, -1)) {
      if (result.fields[0]?.name === 'postgate_mark_at') {
        marks.push({ ...(result.rows[0] as Mark), ...(rows === undefined ? {} : { rows }) });
        rows = undefined;
      } else if (DML.has(result.command)) rows = (rows ?? 0) + (result.rowCount ?? 0);
    }
    const reading = results.at(-1)!.rows[0] as Reading;
    const touched =
      (reading.facts ?? []).length > 0 ||
      (reading.locks ?? []).some(([oid]) => this.relations.has(oid)) ||
      (reading.function_locks ?? []).some((oid) => this.functions.has(oid));
    if (touched || marks.length !== statements.length) {
      await this.session.query('rollback');
      return undefined;
    }
    let previous = marks[0]?.message_at ?? 0;
    const effects = statements.map((statement, i): StatementEffect => {
      const mark = marks[i]!;
      const ms = mark.postgate_mark_at - previous;
      previous = mark.postgate_mark_at;
      return {
        file: migration.file,
        line: lineOf(migration, statement),
        measured: true,
        locks: [],
        lockTimeout: mark.lock_timeout,
        statementTimeout: mark.statement_timeout,
        changes: [],
        ms,
        ...(mark.rows === undefined ? {} : { rows: mark.rows }),
      };
    });
    try {
      await this.session.query('commit');
      return { outcome: { ok: true }, effects };
    } catch (error) {
      const failure = { error: error as PgError, statement: undefined, ms: 0, committed: false };
      return { outcome: { ok: false, failure: await failureFinding(this.session, migration, failure.error, undefined) }, effects, failure };
    }
  }

  /** Each statement followed by a reading: in one transaction, or (`inTransaction` false) each in its own or bare. */
  private async applyMeasured(migration: Migration, inTransaction: boolean): Promise<MeterResult> {
    if (!inTransaction) await this.session.query(UNSET_TIMEOUTS);
    else {
      await this.session.query(`${UNSET_TIMEOUTS}; begin`);
      const run = await this.runStatements(migration, 'transaction');
      if (run.error === undefined) {
        try {
          await this.session.query('commit');
          this.commit(run.overlay);
          return { outcome: { ok: true }, effects: run.effects };
        } catch (error) {
          const failure = { error: error as PgError, statement: undefined, ms: 0, committed: false };
          return { outcome: { ok: false, failure: await failureFinding(this.session, migration, failure.error, undefined) }, effects: run.effects, failure };
        }
      }
      await this.session.query('rollback');
      if ((run.error as { code?: string }).code !== '25001')
        return {
          outcome: { ok: false, failure: await failureFinding(this.session, migration, run.error, run.failed) },
          effects: run.effects,
          failure: { error: run.error, statement: run.failed, ms: run.ms, committed: false },
        };
    }
    const run = await this.runStatements(migration, 'each');
    this.commit(run.overlay);
    if (run.error !== undefined)
      return {
        outcome: { ok: false, failure: await failureFinding(this.session, migration, run.error, run.failed) },
        effects: run.effects,
        failure: { error: run.error, statement: run.failed, ms: run.ms, committed: true },
      };
    return { outcome: { ok: true }, effects: run.effects };
  }

  private commit(overlay: Map<number, RelationFacts | undefined>): void {
    for (const [oid, facts] of overlay) {
      if (facts) this.relations.set(oid, facts);
      else this.relations.delete(oid);
      if (!this.existing.has(oid)) this.created.add(oid);
    }
  }

  /** `transaction`: inside the caller's; `each`: every statement in a transaction of its own, or bare when it refuses one. */
  private async runStatements(migration: Migration, mode: 'transaction' | 'each') {
    const overlay = new Map<number, RelationFacts | undefined>();
    const effects: StatementEffect[] = [];
    // the strongest mode held per relation, and the functions already reported dropped, in this transaction
    let held = new Map<number, LockMode>();
    const dropped = new Set<number>();
    const current = (oid: number) => (overlay.has(oid) ? overlay.get(oid) : this.relations.get(oid));
    for (const statement of statementsOf(migration)) {
      const line = lineOf(migration, statement);
      const started = performance.now();
      let reading: Reading;
      let rows: number | undefined;
      try {
        if (mode === 'each') await this.session.query('begin');
        // The statement first, so that the server's error positions point into it.
        const results = (await this.session.query(`${statement.text}\n;\nexecute ${READING_NAME}(${this.highestOid})`)) as unknown as
          QueryResult<Reading> | Array<QueryResult<Reading>>;
        reading = (Array.isArray(results) ? results.at(-1)! : results).rows[0]!;
        if (Array.isArray(results))
          rows = results.slice(0, -1).reduce<number | undefined>((n, r) => (DML.has(r.command) ? (n ?? 0) + (r.rowCount ?? 0) : n), undefined);
      } catch (error) {
        if (mode === 'each') await this.session.query('rollback');
        if (mode === 'transaction' || (error as { code?: string }).code !== '25001')
          return { overlay, effects, error: error as PgError, failed: statement, ms: performance.now() - started };
        try {
          await this.session.query(statement.text);
        } catch (bare) {
          return { overlay, effects, error: bare as PgError, failed: statement, ms: performance.now() - started };
        }
        this.stale ??= 'unmeasured';
        effects.push({
          file: migration.file,
          line,
          measured: false,
          locks: [],
          lockTimeout: '',
          statementTimeout: '',
          changes: [],
          ms: performance.now() - started,
        });
        continue;
      }
      if (mode === 'each') await this.session.query('commit');
      reading.function_locks = (reading.function_locks ?? []).filter((oid) => !dropped.has(oid));
      for (const oid of reading.function_locks) dropped.add(oid);
      const effect = this.effectOf(migration, statement, line, reading, held, current, overlay);
      effects.push(rows === undefined ? effect : { ...effect, rows });
      if (mode === 'each') held = new Map();
      else for (const { relation, mode } of effect.locks) held.set(relation.oid, mode);
    }
    return { overlay, effects, error: undefined, failed: undefined as SplitStatement | undefined, ms: 0 };
  }

  private effectOf(
    migration: Migration,
    statement: SplitStatement,
    line: number,
    reading: Reading,
    held: ReadonlyMap<number, LockMode>,
    current: (oid: number) => RelationFacts | undefined,
    overlay: Map<number, RelationFacts | undefined>,
  ): StatementEffect {
    const locks = reading.locks ?? [];
    const after = (reading.facts ?? []).map(normalise);
    const lockedOids = locks.map(([oid]) => oid);
    const before = new Map<number, RelationFacts>();
    for (const oid of new Set([...lockedOids, ...after.flatMap((f) => (f.tableOid !== undefined ? [f.tableOid] : []))])) {
      const facts = current(oid);
      if (facts) before.set(oid, facts);
    }
    const existed = (oid: number) => this.existing.has(oid);
    const changes = changesOf({ before, after, lockedOids, existed, truncate: isTruncate(statement.text) });
    for (const oid of reading.function_locks ?? []) {
      const signature = this.functions.get(oid);
      if (signature) changes.push({ kind: 'drop_function', signature });
    }
    const afterByOid = new Map(after.map((f) => [f.oid, f]));
    // a relation read now, or one that was there and is gone (dropped); new relations are not read
    for (const oid of lockedOids) if (afterByOid.has(oid) || before.has(oid)) overlay.set(oid, afterByOid.get(oid));
    // Per relation, the strongest mode the statement took, when stronger than what the transaction held.
    const strongest = new Map<number, LockMode>();
    for (const [oid, mode] of locks) {
      const previous = strongest.get(oid);
      if (!previous || LOCK_MODES.indexOf(mode) > LOCK_MODES.indexOf(previous)) strongest.set(oid, mode);
    }
    const taken: LockTaken[] = [];
    for (const [oid, mode] of strongest) {
      const heldBefore = held.get(oid);
      if (heldBefore && LOCK_MODES.indexOf(heldBefore) >= LOCK_MODES.indexOf(mode)) continue;
      const facts = afterByOid.get(oid) ?? before.get(oid);
      if (facts) taken.push({ relation: { oid, schema: facts.schema, name: facts.name, relkind: facts.relkind, existed: existed(oid) }, mode });
    }
    return {
      file: migration.file,
      line,
      measured: true,
      locks: taken,
      lockTimeout: reading.lock_timeout,
      statementTimeout: reading.statement_timeout,
      changes,
      ms: reading.ms,
    };
  }
}

/** The line of the statement's first token in the migration's file. */
const lineOf = (migration: Migration, statement: SplitStatement) =>
  lineAt(migration.raw, migration.sqlOffset + statement.start + firstTokenIndex(statement.text));

/** JSON null → undefined for the optional fields. */
function normalise(facts: RelationFacts): RelationFacts {
  const { tableOid, ...rest } = facts as RelationFacts & { tableOid: number | null };
  return {
    ...rest,
    ...(tableOid !== null && tableOid !== undefined ? { tableOid } : {}),
    constraints: rest.constraints.map(({ definition, ...k }) => ({ ...k, ...(definition ? { definition } : {}) })),
  };
}
