import type { MIGRATION_FORMATS } from '../config/gates.ts';

/** The `migrations-format` input: a tool name, or `auto`. */
export type MigrationFormat = (typeof MIGRATION_FORMATS)[number];
/** A migration tool postgate reads. */
export type MigrationTool = Exclude<MigrationFormat, 'auto'>;

/** One migration file (or, for Prisma and drizzle v1, one migration folder's SQL file). */
export interface Migration {
  tool: MigrationTool;
  /**
   * What the tool's history table records for it: Supabase/sqlx/dbmate/golang-migrate/goose/plain
   * the version, Flyway the normalised version (or `R:<description>` for repeatables),
   * Prisma the folder name, drizzle the journal's `when`, node-pg-migrate the file name
   * without extension, graphile-migrate the file name.
   */
  id: string;
  /** Version as written in the file name (ordering and messages). */
  version: string;
  /** Name / description part. */
  name: string;
  /** Repository-relative path (forward slashes). */
  file: string;
  absolutePath: string;
  /** The whole file text. */
  raw: string;
  /** The SQL the tool executes (the up section for dbmate and node-pg-migrate, the body for graphile-migrate). */
  sql: string;
  /** Where `sql` starts inside `raw` (UTF-16 index), to map server error positions to lines. */
  sqlOffset: number;
  /** The tool runs it outside a transaction (sqlx `-- no-transaction`, dbmate `transaction:false`, ...). */
  noTransaction: boolean;
  /** False for migrations postgate cannot run (node-pg-migrate JavaScript/TypeScript files). */
  executable: boolean;
  /** Flyway: versioned (V), repeatable (R) or undo (U). Others: versioned. */
  kind: 'versioned' | 'repeatable';
  /** graphile-migrate: the header's hash and previous hash. */
  header?: { hash: string; previousHash: string | null };
  /** drizzle: the journal's `when` (ms), which the history stores as created_at. */
  when?: number;
}

/** A file that sits in the migrations folder but breaks the tool's naming rules. */
export interface MigrationFileProblem {
  file: string;
  /** One sentence: what is wrong and what the tool does with it. */
  problem: string;
}

export interface MigrationSource {
  tool: MigrationTool;
  /** Absolute migrations folder. */
  dir: string;
  /** In the tool's apply order. */
  migrations: Migration[];
  problems: MigrationFileProblem[];
  /** How sure the file-based detection is (weak: plain numbered files that another tool could also have written). */
  detection: 'explicit' | 'strong' | 'weak';
}

/** One row of a tool's history table, in a shape common to every tool. */
export interface HistoryEntry {
  /** Matches `Migration.id`. */
  id: string;
  /** Version for ordering and messages. */
  version: string;
  name?: string;
  /** The stored checksum in the tool's own form (hex, signed integer, `sha1:...`). */
  checksum?: string | null;
  /** Supabase: the statements the CLI stored. */
  statements?: string[] | null;
  /** graphile-migrate: the previous hash. */
  previousHash?: string | null;
  /** False when the row records a failed or dirty migration. */
  success: boolean;
  appliedAt?: string | null;
  /** Flyway: versioned or repeatable row. */
  kind: 'versioned' | 'repeatable';
}

export interface HistoryTable {
  tool: MigrationTool;
  schema: string;
  table: string;
}

export interface History extends HistoryTable {
  entries: HistoryEntry[];
  /**
   * golang-migrate keeps one row: the current version. Every file at or below it
   * counts as applied.
   */
  highWaterMark?: string;
  /** Flyway: versions at or below the baseline count as applied. */
  baselineVersion?: string;
}
