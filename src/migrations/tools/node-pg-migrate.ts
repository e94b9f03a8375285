/**
 * node-pg-migrate: `<timestamp>_<name>.{js,cjs,mjs,ts,sql}` (src/migration.ts), history in
 * pgmigrations (src/runner.ts: id serial, name varchar(255), run_on timestamp) keyed by the
 * file name without extension. JavaScript/TypeScript migrations are listed, not run.
 */
import path from 'node:path';
import type { Migration } from '../types.ts';
import { build, cellText, compareNumeric, type Draft, type FileProblem, list, problem, textOf } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { sectionAfter } from './rollback.ts';

/** A `down` export in a JavaScript/TypeScript migration (`exports.down = false` declares it irreversible). */
const CODE_DOWN = /(\bexports\.down|\bexport\s+(?:async\s+)?(?:const|let|var|function)\s+down)\b(?!\s*=\s*false\b)/;

export const nodePgMigrate: MigrationToolAdapter = {
  id: 'node-pg-migrate',
  title: 'node-pg-migrate',
  defaultDirs: ['migrations'],
  detect: (folder) =>
    folder.listing.files.some((f) => /^\d+.*\.(js|cjs|mjs|ts)$/.test(f) && !f.endsWith('.d.ts')) ||
    folder.sql.some((f) => /^--\s*Up Migration\b/im.test(folder.peek(f)))
      ? { tool: 'node-pg-migrate', detection: 'strong' }
      : undefined,
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      const ext = /\.(js|cjs|mjs|ts|cts|mts|sql)$/.exec(file)?.[1];
      if (!ext || file.endsWith('.d.ts')) continue;
      const name = file.slice(0, -(ext.length + 1));
      const match = /^(\d+)[_-]?(.*)$/.exec(name);
      if (!match) {
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` does not start with a numeric timestamp, so node-pg-migrate cannot order it; rename it (\`node-pg-migrate create <name>\`).`,
          ),
        );
        continue;
      }
      const draft: Draft = { id: name, version: match[1]!, name: match[2]! };
      if (ext !== 'sql') {
        migrations.push(build('node-pg-migrate', ctx, file, { ...draft, sql: '', executable: false }));
        continue;
      }
      const raw = textOf(ctx, path.join(ctx.dir, file));
      const up = /^--\s*Up Migration\b[^\n]*\n?/im.exec(raw);
      const start = up ? up.index + up[0].length : 0;
      const down = /^--\s*Down Migration\b/im.exec(raw.slice(start));
      const end = down ? start + down.index : raw.length;
      migrations.push(build('node-pg-migrate', ctx, file, { ...draft, sql: raw.slice(start, end), sqlOffset: start }, raw));
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.version, b.version) || (a.id < b.id ? -1 : 1)), problems };
  },
  codeMigrations: 'JavaScript/TypeScript',
  rollback: {
    form: 'a `-- Down Migration` section in a SQL migration, a `down` export (not `false`) in a JavaScript/TypeScript one',
    downOf: (m) => (m.executable ? sectionAfter(m.raw, /^--\s*Down Migration\b/im) : CODE_DOWN.test(m.raw) ? m.raw : undefined),
  },
  advisoryLock: { keys: () => [7241865325823964n], source: 'src/runner.ts PG_MIGRATE_LOCK_ID (pg_try_advisory_lock), unless run with --no-lock' },
  compareVersions: compareNumeric,
  sharedKey: (m) => `name ${m.id}`,
  duplicateEffect: () => 'node-pg-migrate records both under one name, so once one has run the other never runs',
  history: {
    table: 'pgmigrations',
    columns: ['name', 'run_on'],
    async read(query, has) {
      const rows = await query((t) => `select name, run_on from ${t} order by run_on, ${has('id') ? 'id' : 'name'}`);
      return {
        entries: rows.map((r) => ({
          id: String(r.name),
          version: /^\d+/.exec(String(r.name))?.[0] ?? String(r.name),
          name: String(r.name),
          success: true,
          appliedAt: cellText(r.run_on),
          kind: 'versioned',
        })),
      };
    },
  },
};
