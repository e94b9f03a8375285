/**
 * golang-migrate: `<uint>_<title>.up.sql` / `.down.sql` (source/parse.go), history in
 * schema_migrations (database/postgres/postgres.go: version bigint, dirty boolean), one row:
 * the current version, so every file at or below it counts as applied.
 */
import path from 'node:path';
import type { Migration } from '../types.ts';
import { build, compareNumeric, type FileProblem, list, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { golangMigrateLockKey } from './lock-keys.ts';
import { siblingText } from './rollback.ts';

export const golangMigrate: MigrationToolAdapter = {
  id: 'golang-migrate',
  title: 'golang-migrate',
  defaultDirs: ['migrations'],
  // sqlx writes up/down pairs too: in a Rust project they are sqlx's.
  detect(folder) {
    if (!folder.sql.some((f) => /\.(up|down)\.sql$/.test(f))) return undefined;
    return folder.rust() ? { tool: 'sqlx', detection: 'strong' } : { tool: 'golang-migrate', detection: 'weak' };
  },
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (!file.endsWith('.sql')) continue;
      const match = /^([0-9]+)_(.*)\.(down|up)\.sql$/.exec(file);
      if (!match) {
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` does not match <version>_<title>.up.sql or .down.sql, so golang-migrate skips it; rename it (\`migrate create -ext sql\`).`,
          ),
        );
        continue;
      }
      if (match[3] === 'down') continue;
      migrations.push(build('golang-migrate', ctx, file, { id: BigInt(match[1]!).toString(), version: match[1]!, name: match[2]! }));
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
  },
  compareVersions: compareNumeric,
  duplicateEffect: () => 'golang-migrate refuses the whole folder (duplicate migration file)',
  history: {
    table: 'schema_migrations',
    columns: ['version', 'dirty'],
    exact: true,
    async read(query) {
      const rows = await query((t) => `select version::text as version, dirty from ${t} limit 1`);
      const row = rows[0];
      if (!row) return { entries: [] };
      const version = String(row.version);
      return { highWaterMark: version, entries: [{ id: BigInt(version).toString(), version, success: !row.dirty, kind: 'versioned' }] };
    },
  },
  failedNote: ' (dirty)',
  rollback: {
    form: 'a `<version>_<title>.down.sql` file next to the `.up.sql` (`migrate create -ext sql`)',
    downOf: (m) => siblingText(m, path.posix.basename(m.file).replace(/\.up\.sql$/, '.down.sql')),
  },
  // Current releases hash the database, schema and table; releases before x-migrations-table was hashed used the database name alone.
  advisoryLock: {
    keys: ({ database, schema, table }) => [golangMigrateLockKey(database, schema, table), golangMigrateLockKey(database)],
    source: 'database/util.go GenerateAdvisoryLockId, called by database/postgres/postgres.go Lock (pg_advisory_lock)',
  },
};
