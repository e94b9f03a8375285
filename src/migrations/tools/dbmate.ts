/**
 * dbmate: `<digits>...sql` with `-- migrate:up` / `-- migrate:down` sections, history in
 * schema_migrations (pkg/driver/postgres/postgres.go: version varchar(255) primary key).
 */
import path from 'node:path';
import type { Migration } from '../types.ts';
import { build, compareNumeric, type FileProblem, list, problem, textOf } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { sectionAfter } from './rollback.ts';

export const dbmate: MigrationToolAdapter = {
  id: 'dbmate',
  title: 'dbmate',
  defaultDirs: ['db/migrations'],
  detect: (folder) => (folder.sql.some((f) => /^--\s*migrate:up\b/m.test(folder.peek(f))) ? { tool: 'dbmate', detection: 'strong' } : undefined),
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (!file.endsWith('.sql')) continue;
      const match = /^(\d+)_?(.*)\.sql$/.exec(file);
      if (!match) {
        problems.push(problem(ctx, file, `\`${file}\` does not start with a numeric version, so dbmate ignores it; rename it (\`dbmate new <name>\`).`));
        continue;
      }
      const raw = textOf(ctx, path.join(ctx.dir, file));
      const up = /^--\s*migrate:up\b([^\n]*)\n?/m.exec(raw);
      if (!up) {
        problems.push(problem(ctx, file, `\`${file}\` has no \`-- migrate:up\` line, so dbmate refuses to run it; add the marker above the SQL.`));
        continue;
      }
      const start = up.index + up[0].length;
      const down = /^--\s*migrate:down\b/m.exec(raw.slice(start));
      const end = down ? start + down.index : raw.length;
      migrations.push(
        build(
          'dbmate',
          ctx,
          file,
          {
            id: match[1]!,
            version: match[1]!,
            name: match[2]!,
            sql: raw.slice(start, end),
            sqlOffset: start,
            noTransaction: /\btransaction:false\b/.test(up[1] ?? ''),
          },
          raw,
        ),
      );
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
  },
  compareVersions: compareNumeric,
  rollback: { form: 'a `-- migrate:down` section after the up section', downOf: (m) => sectionAfter(m.raw, /^--\s*migrate:down\b/m) },
  duplicateEffect: () => 'dbmate fails on the second (version is the primary key of schema_migrations)',
  history: {
    table: 'schema_migrations',
    columns: ['version'],
    exact: true,
    async read(query) {
      const rows = await query((t) => `select version::text as version from ${t} order by version`);
      return { entries: rows.map((r) => ({ id: String(r.version), version: String(r.version), success: true, kind: 'versioned' })) };
    },
  },
};
