/**
 * The migration tools postgate reads, one adapter each (`./<tool>.ts`). Everything that
 * depends on the tool (reading the folder, the history table, checksums, version order,
 * messages) asks the adapter found here; to add a tool, copy an adapter (goose.ts is the
 * smallest complete one), add its name to `MIGRATION_FORMATS` (src/config/gates.ts) and list
 * it below.
 */
import path from 'node:path';
import type { MigrationTool } from '../types.ts';
import { dbmate } from './dbmate.ts';
import { drizzle } from './drizzle.ts';
import { flyway } from './flyway.ts';
import { golangMigrate } from './golang-migrate.ts';
import { goose } from './goose.ts';
import { graphileMigrate } from './graphile-migrate.ts';
import { nodePgMigrate } from './node-pg-migrate.ts';
import { plain } from './plain.ts';
import { prisma } from './prisma.ts';
import { findUp, list, listRecursive, type PathGuard, pathGuard, peek } from './read.ts';
import { sqlx } from './sqlx.ts';
import { supabase } from './supabase.ts';
import type { Detection, FolderView, MigrationToolAdapter } from './types.ts';

export const TOOLS: Readonly<Record<MigrationTool, MigrationToolAdapter>> = {
  supabase,
  sqlx,
  prisma,
  drizzle,
  flyway,
  dbmate,
  'golang-migrate': golangMigrate,
  'node-pg-migrate': nodePgMigrate,
  'graphile-migrate': graphileMigrate,
  goose,
  plain,
};

/** The adapter of a tool. */
export const toolAdapter = (tool: MigrationTool): MigrationToolAdapter => TOOLS[tool];

/** The order history tables are matched and listed in (golang-migrate's two-column schema_migrations before dbmate's one). */
export const HISTORY_ORDER: readonly MigrationToolAdapter[] = [
  supabase,
  sqlx,
  prisma,
  drizzle,
  flyway,
  golangMigrate,
  dbmate,
  nodePgMigrate,
  graphileMigrate,
  goose,
];

/** One tool's advisory lock key: held by another session, a deploy is probably running. */
export interface MigrationLockKey {
  tool: MigrationTool;
  key: bigint;
}

/**
 * The advisory lock keys of every tool that takes one, in a database. A key derived from the
 * history table uses the tool's table found there (`found`), else the tool's default table in
 * `defaultSchema` (where the tool would create it).
 */
export function migrationLockKeys(database: string, defaultSchema: string, found?: { tool: MigrationTool; schema: string; table: string }): MigrationLockKey[] {
  return Object.values(TOOLS).flatMap((adapter) => {
    if (!adapter.advisoryLock) return [];
    const table =
      found?.tool === adapter.id
        ? { schema: found.schema, table: found.table }
        : { schema: adapter.history?.schema ?? defaultSchema, table: adapter.history?.table ?? '' };
    return adapter.advisoryLock.keys({ database, ...table }).map((key) => ({ tool: adapter.id, key }));
  });
}

/**
 * The order the adapters recognise a folder in: the most distinctive signs first (a drizzle
 * journal, Prisma's folders, graphile-migrate's committed/, Flyway's V..__ names, an
 * annotation in the files), then up/down pairs, a Supabase project, a Rust project.
 */
const DETECTION_ORDER: readonly MigrationToolAdapter[] = [
  drizzle,
  prisma,
  graphileMigrate,
  flyway,
  dbmate,
  goose,
  nodePgMigrate,
  golangMigrate,
  supabase,
  sqlx,
];

/**
 * Folders looked at, in order, when `migrations-dir` is not given: the tools' own folders
 * (`defaultDirs`), those named after a tool first, then the generic ones.
 */
export const DEFAULT_MIGRATION_DIRS = [
  'supabase/migrations',
  'prisma/migrations',
  'drizzle',
  'migrations',
  'db/migrations',
  'db/migration',
  'src/main/resources/db/migration',
  'sql/migrations',
];

/** Guesses the tool from the files alone (links that lead out of the folder's guard are not looked at). */
export function detectTool(dir: string, guard: PathGuard = pathGuard(dir, dir)): Detection {
  const listing = list(dir, guard);
  let rust: boolean | undefined;
  const folder: FolderView = {
    dir,
    listing,
    sql: listing.files.filter((f) => f.endsWith('.sql')),
    allFiles: () => listRecursive(dir, guard),
    peek: (file) => peek(path.join(dir, file)),
    rust: () => (rust ??= findUp(dir, ['Cargo.toml', '.sqlx'], 3) !== undefined),
  };
  for (const adapter of DETECTION_ORDER) {
    const found = adapter.detect?.(folder);
    if (found) return found;
  }
  return { tool: 'plain', detection: 'weak' };
}
