/**
 * What postgate knows about one migration tool, in one place: `src/migrations/tools/<tool>.ts`
 * exports one `MigrationToolAdapter`, and `./index.ts` lists them. Adding a tool is one such
 * file (plus its name in `MIGRATION_FORMATS`, fixtures and tests).
 */
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
  /** An advisory lock the tool holds while it migrates (pg_locks objid), a sign that a deploy is running. */
  advisoryLock?: number;
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
