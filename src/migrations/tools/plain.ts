/**
 * Plain numbered SQL files: `<digits>[_-]<name>.sql`, applied in numeric order (by psql or a
 * script), with no history table.
 */
import type { Migration } from '../types.ts';
import { build, compareNumeric, type FileProblem, list, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';

export const plain: MigrationToolAdapter = {
  id: 'plain',
  title: 'plain numbered SQL files',
  defaultDirs: ['migrations', 'sql/migrations'],
  // psql ignores a byte order mark on the first line.
  dropsBom: true,
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (!file.endsWith('.sql') || file.endsWith('.down.sql')) continue;
      const match = /^(\d+)(?:[_.-](.*?))?(\.up)?\.sql$/.exec(file);
      if (!match) {
        problems.push(problem(ctx, file, `\`${file}\` does not start with a number, so its place in the order is unknown; rename it <number>_<name>.sql.`));
        continue;
      }
      migrations.push(build('plain', ctx, file, { id: BigInt(match[1]!).toString(), version: match[1]!, name: match[2] ?? '' }));
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id) || (a.file < b.file ? -1 : 1)), problems };
  },
  compareVersions: compareNumeric,
  duplicateEffect: () => 'their order is unknown to whatever runs them',
};
