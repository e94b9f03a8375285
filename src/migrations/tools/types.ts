/**
 * What postgate knows about one migration tool, in one place: `src/migrations/tools/<tool>.ts`
 * exports one `MigrationToolAdapter`, and `./index.ts` lists them. Adding a tool is one such
 * file (plus its name in `MIGRATION_FORMATS`, fixtures and tests).
 */
import type { LockPlace } from './lock-keys.ts';
import type { Listing, ReadContext, ReadResult } from './read.ts';
import type { History, HistoryEntry, HistoryTable, Migration, MigrationTool } from '../types.ts';

/** Runs one query on the tool's history table: `sql` gets the quoted, schema-qualified table name. */
export type HistoryQuery = (sql: (qualified: string) => string) => Promise<Array<Record<string, unknown>>>;

export interface HistoryTableSpec {
  table: string;
  /** Required schema, when the tool fixes it. */
  schema?: string;
  /** Columns that must be present (a table is matched on schema plus columns, never on the name alone). */
  columns: string[];
  /** When set, the column set must be exactly `columns` (dbmate's one-column table). */
  exact?: boolean;
  /** A schema the tool keeps only for its own bookkeeping: nothing in it is schema drift. */
  privateSchema?: string;
  /**
   * Reads the rows into the common shape. `has(column)` says whether the table has a column
   * that older versions of the tool did not create.
   */
  read(query: HistoryQuery, has: (column: string) => boolean): Promise<Omit<History, keyof HistoryTable>>;
}

/** What the folder holds, for detection (links that lead out of the folder are not looked at). */
export interface FolderView {
  dir: string;
  listing: Listing;
  /** `.sql` file names directly in the folder. */
  sql: string[];
  /** Every file below the folder, as `a/b.sql`. */
  allFiles(): string[];
  /** The first bytes of a file of the folder, as text. */
  peek(file: string): string;
  /** A Cargo.toml or .sqlx folder in or up to three folders above the folder (a Rust project). */
  rust(): boolean;
}

export interface Detection {
  tool: MigrationTool;
  /** weak: plain numbered files that another tool could also have written. */
  detection: 'strong' | 'weak';
}

/** A tool's session advisory lock: the bigint key(s) it passes to pg_advisory_lock or pg_try_advisory_lock. */
export interface AdvisoryLock {
  /** The keys, from the database and the history table where the key is derived from them (several: releases that derived it differently). */
  keys(place: LockPlace): bigint[];
  /** Where the key comes from, in the tool's source. */
  source: string;
  /** Set when the tool takes the lock only if configured to: how. */
  optIn?: string;
}

/** How a tool writes a migration's rollback, and where to find it. */
export interface Rollback {
  /** Where the tool keeps it, as a phrase after "expected": "a `<version>_<title>.down.sql` file next to it". */
  form: string;
  /** The rollback SQL of a migration ('' or comments only when it is there but empty), undefined when it has none. */
  downOf(m: Migration): string | undefined;
}

export interface MigrationToolAdapter {
  id: MigrationTool;
  /** The tool's name in messages. */
  title: string;
  /** Folders where the tool keeps migrations by default (looked at when `migrations-dir` is not given). */
  defaultDirs: readonly string[];
  /** The tool drops a UTF-8 byte order mark at the start of a file; every other tool passes it on, where it breaks the file. */
  dropsBom?: boolean;
  /**
   * Recognises the tool's folder from its files: the adapters are asked in the registry's
   * detection order and the first answer wins.
   */
  detect?(folder: FolderView): Detection | undefined;
  /** Which files are migrations, their ids, versions and names, the SQL run, in the tool's order; files off its rules are problems. */
  read(ctx: ReadContext): ReadResult;
  /** What the tool's migrations written in code are (listed with `executable: false`, not run), for the notice that says so. */
  codeMigrations?: string;
  /** Orders two versions the way the tool does. */
  compareVersions(a: string, b: string): number;
  /** What two files of one id share, in the tool's terms (default `version <id>`). */
  sharedKey?(migration: Migration): string;
  /** What the tool does with two files of one id, as a clause after "so". */
  duplicateEffect(repeatable: boolean): string;
  /** The history table and how to read it; none for tools that keep no history. */
  history?: HistoryTableSpec;
  /** The tool's rollback (down) migrations; none for tools that have none. */
  rollback?: Rollback;
  /** The advisory lock the tool holds while it migrates, a sign that a deploy is running; none for tools that take no lock. */
  advisoryLock?: AdvisoryLock;
  /** Whether the file is what the history recorded, by the tool's checksum rule; undefined when there is nothing to compare. */
  matchesHistory?(m: Migration, entry: HistoryEntry): { same: boolean; why: string } | undefined;
  /**
   * Whether an unapplied migration is older than the newest applied one, and which one that
   * is; by default the newest versioned history version (or baseline) in the tool's order.
   */
  newestApplied?(history: History): string | undefined;
  isOlder?(m: Migration, newestApplied: string): boolean;
  /** What the tool does with an unapplied migration older than the newest applied one, as a clause after ";". */
  outOfOrderConsequence?: string;
  /** Said after "recorded in <table> as failed" (golang-migrate's " (dirty)"). */
  failedNote?: string;
  /** How to restore or remove a history row whose file is gone. */
  repairHint?(entry: HistoryEntry): string;
  /** The tool's own checks across files (graphile-migrate's hash chain), reported as edits. */
  chainProblems?(migrations: Migration[]): Array<{ migration: Migration; problem: string }>;
}
