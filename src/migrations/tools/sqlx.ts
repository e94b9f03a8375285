/**
 * sqlx: `<i64>_<description>.sql | .up.sql | .down.sql` (sqlx-core migrate/source.rs), history
 * in _sqlx_migrations (sqlx-postgres/src/migrate.rs: version bigint PK, description,
 * installed_on, success, checksum bytea, execution_time), checksum SHA-384 of the raw bytes.
 */
import path from 'node:path';
import { sqlxChecksum } from '../checksums.ts';
import type { Migration } from '../types.ts';
import { build, cellText, compareNumeric, type FileProblem, list, problem, textOf } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { sqlxLockKey } from './lock-keys.ts';
import { siblingText } from './rollback.ts';

export const sqlx: MigrationToolAdapter = {
  id: 'sqlx',
  title: 'sqlx',
  defaultDirs: ['migrations'],
  // Numbered files in a Rust project (up/down pairs are told apart in golang-migrate's probe).
  detect: (folder) => (folder.rust() ? { tool: 'sqlx', detection: 'strong' } : undefined),
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (!file.endsWith('.sql') || file.endsWith('.down.sql')) continue;
      const match = /^(\d+)_(.+?)(\.up)?\.sql$/.exec(file);
      if (!match || BigInt(match[1]!) > 9223372036854775807n) {
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` does not match <version>_<description>.sql with a 64-bit version, so \`sqlx migrate\` rejects it; rename it (\`sqlx migrate add\`).`,
          ),
        );
        continue;
      }
      const raw = textOf(ctx, path.join(ctx.dir, file));
      migrations.push(
        build(
          'sqlx',
          ctx,
          file,
          {
            id: BigInt(match[1]!).toString(),
            version: match[1]!,
            name: match[2]!.replace(/_/g, ' '),
            noTransaction: raw.startsWith('-- no-transaction'),
          },
          raw,
        ),
      );
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
  },
  compareVersions: compareNumeric,
  duplicateEffect: () =>
    '`sqlx migrate run` fails on the second (version is the primary key of _sqlx_migrations), or reports it as modified once the first is applied',
  history: {
    table: '_sqlx_migrations',
    columns: ['version', 'description', 'success', 'checksum'],
    async read(query) {
      const rows = await query(
        (t) => `select version::text as version, description, success, encode(checksum, 'hex') as checksum, installed_on from ${t} order by version`,
      );
      return {
        entries: rows.map((r) => ({
          id: String(r.version),
          version: String(r.version),
          name: cellText(r.description) ?? '',
          checksum: cellText(r.checksum),
          success: Boolean(r.success),
          appliedAt: cellText(r.installed_on),
          kind: 'versioned',
        })),
      };
    },
  },
  matchesHistory(m, entry) {
    if (!entry.checksum) return undefined;
    const local = sqlxChecksum(Buffer.from(m.raw, 'utf8')).toString('hex');
    return { same: local === entry.checksum, why: `SHA-384 of the file is ${local.slice(0, 16)}..., the history has ${entry.checksum.slice(0, 16)}...` };
  },
  outOfOrderConsequence: 'sqlx applies it after newer migrations, silently out of order',
  rollback: {
    form: 'a reversible migration: `<version>_<description>.up.sql` with a `.down.sql` next to it (`sqlx migrate add -r`)',
    downOf: (m) => siblingText(m, path.posix.basename(m.file).replace(/(\.up)?\.sql$/, '.down.sql')),
  },
  advisoryLock: { keys: ({ database }) => [sqlxLockKey(database)], source: 'sqlx-postgres/src/migrate.rs generate_lock_id (pg_advisory_lock)' },
};
