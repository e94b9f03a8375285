/**
 * What the application's code asks of the Supabase Data API: the tables and views it reads and
 * writes (`.from('t').select()`), the functions it calls (`.rpc('fn')`) and the Storage buckets
 * it uses (`storage.from('b')`), each with every call site. Names the scanner cannot read from
 * the source text (template literals, variables) are listed as unresolved, never guessed.
 */

/** What a call needs: a table privilege, EXECUTE on a function, or a Storage bucket. */
export type ApiOperation = 'select' | 'insert' | 'update' | 'upsert' | 'delete' | 'execute' | 'storage';

/** `.from()` reaches a table or view, `.rpc()` a function, `storage.from()` a bucket. */
export type ApiTarget = 'table' | 'function' | 'bucket';

export type ApiLanguage = 'js' | 'python' | 'dart' | 'swift' | 'kotlin';

/** Where the call's method name is written (`from`, `rpc`, `table`, or `postgrest` in `postgrest["t"]`). */
export interface CallSite {
  /** Repository-relative, with forward slashes. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (as editors and JavaScript count; a tab is one). */
  column: number;
}

export interface ApiCall {
  target: ApiTarget;
  /** From `.schema('s')` on the same chain; undefined means the client's default (the first exposed schema). */
  schema?: string;
  name: string;
  /** Empty when the chain's operation could not be read (checked as a read). */
  operations: ApiOperation[];
  site: CallSite;
  language: ApiLanguage;
}

export interface UnresolvedCall {
  target: ApiTarget;
  /**
   * The argument as written (a dynamic `.schema(x)`: that argument), runs of whitespace as one space,
   * at most 80 characters (repository text: print it through report/inert.ts).
   */
  expression: string;
  site: CallSite;
  language: ApiLanguage;
}

export interface ApiUsage {
  calls: ApiCall[];
  unresolved: UnresolvedCall[];
  filesScanned: number;
  /** Files that matched but could not be read (each becomes a notice, never a failure). */
  skipped: Array<{ file: string; reason: string }>;
}

export interface ScanOptions {
  /** Globs relative to the repository root (src/core/glob.ts); only files of the supported languages are read. */
  include: readonly string[];
  /** A file or folder matching one is not read (a folder is not entered). */
  exclude: readonly string[];
  /** Larger files are listed in `skipped`, not read (default: scan.ts MAX_FILE_BYTES). */
  maxFileBytes?: number;
}
