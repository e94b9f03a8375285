/**
 * Prisma Migrate: `<timestamp>_<name>/migration.sql` (prisma-engines migration directory),
 * history in _prisma_migrations (schema-engine postgres connector: id, checksum, finished_at,
 * migration_name, logs, rolled_back_at, started_at, applied_steps_count), checksum SHA-256.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { prismaChecksumMatches } from '../checksums.ts';
import type { HistoryEntry, Migration } from '../types.ts';
import { build, cellText, type FileProblem, follow, list, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';

export const prisma: MigrationToolAdapter = {
  id: 'prisma',
  title: 'Prisma Migrate',
  defaultDirs: ['prisma/migrations'],
  detect: (folder) =>
    folder.listing.files.includes('migration_lock.toml') || folder.listing.dirs.some((d) => existsSync(path.join(folder.dir, d, 'migration.sql')))
      ? { tool: 'prisma', detection: 'strong' }
      : undefined,
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const dir of list(ctx.dir, ctx.guard).dirs) {
      const relative = `${dir}/migration.sql`;
      const kind = follow(ctx.guard, path.join(ctx.dir, relative));
      if (kind === 'refused') continue;
      if (kind !== 'file') {
        problems.push(
          problem(ctx, dir, `Folder \`${dir}\` has no migration.sql, which \`prisma migrate\` reports as an error; add the file or delete the folder.`),
        );
        continue;
      }
      const match = /^(\d+)_(.*)$/.exec(dir);
      migrations.push(build('prisma', ctx, relative, { id: dir, version: match?.[1] ?? dir, name: match?.[2] ?? dir }));
    }
    return { migrations, problems };
  },
  compareVersions: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  // Folder names are their own ids, so two cannot collide.
  duplicateEffect: () => 'Prisma Migrate cannot tell them apart',
  history: {
    table: '_prisma_migrations',
    columns: ['migration_name', 'checksum', 'finished_at', 'rolled_back_at'],
    async read(query) {
      const rows = await query((t) => `select migration_name, checksum, finished_at, rolled_back_at, started_at from ${t} order by started_at, migration_name`);
      // A rolled-back row is history Prisma ignores; a row neither finished nor rolled back is a failed migration.
      const entries = new Map<string, HistoryEntry>();
      for (const r of rows) {
        if (r.rolled_back_at) continue;
        const name = String(r.migration_name);
        const entry: HistoryEntry = {
          id: name,
          version: /^\d+/.exec(name)?.[0] ?? name,
          name,
          checksum: cellText(r.checksum),
          success: r.finished_at !== null,
          appliedAt: cellText(r.finished_at ?? r.started_at),
          kind: 'versioned',
        };
        const previous = entries.get(name);
        if (!previous || !previous.success) entries.set(name, entry);
      }
      return { entries: [...entries.values()] };
    },
  },
  advisoryLock: { keys: () => [72707369n], source: 'prisma-engines, the PostgreSQL connector: pg_advisory_lock(72707369) around migrate deploy' },
  matchesHistory(m, entry) {
    if (!entry.checksum) return undefined;
    return {
      same: prismaChecksumMatches(m.raw, entry.checksum),
      why: `SHA-256 of migration.sql does not match the checksum ${entry.checksum.slice(0, 16)}... (line endings tolerated)`,
    };
  },
};
