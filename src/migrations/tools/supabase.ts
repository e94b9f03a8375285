/**
 * Supabase CLI: `supabase/migrations/<digits>_<name>.sql` (supabase/cli pkg/migration/file.go),
 * history in supabase_migrations.schema_migrations (pkg/migration/history.go: version text
 * PK, statements text[], name text), compared statement by statement.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { splitSupabaseStatements } from '../supabase-split.ts';
import type { Migration } from '../types.ts';
import { build, cellText, findUp, type FileProblem, list, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';

/** The Supabase CLI's pattern (supabase/cli pkg/migration/file.go `migrateFilePattern`). */
const SUPABASE_FILE = /^([0-9]+)_(.*)\.sql$/;
/** A first `<timestamp>_init.sql` older than this is skipped (supabase/cli pkg/migration/list.go `shouldSkip`). */
const SUPABASE_INIT = /([0-9]{14})_init\.sql/;
const SUPABASE_INIT_BEFORE = 20211209000000n;
const SUPABASE_SKIPS = (file: string) =>
  `the Supabase CLI skips it too (\`supabase db push\` and \`supabase db reset\` print "Skipping migration ${file}..." and never run it) and postgate does not apply it`;

/** The Supabase project config (supabase/config.toml) for a migrations folder, if any. */
export function findSupabaseConfig(dir: string): string | undefined {
  const direct = [path.join(dir, '..', 'config.toml'), path.join(dir, 'supabase', 'config.toml')];
  const found = direct.find((file) => existsSync(file) && path.basename(path.dirname(file)) === 'supabase');
  return found ?? findUp(dir, ['supabase/config.toml'], 2);
}

export const supabase: MigrationToolAdapter = {
  id: 'supabase',
  title: 'Supabase CLI',
  defaultDirs: ['supabase/migrations'],
  /**
   * The Supabase CLI lists the folder (every entry, sorted by name), skips the first entry
   * when it is a pre-2021-12-09 `<timestamp>_init.sql`, and skips every name off its pattern,
   * each with a "Skipping migration" line on stderr: those are warnings here, since the CLI
   * says so itself and goes on. Entries that are not `.sql` files (README.md, .gitkeep,
   * folders) are skipped too, and not reported.
   */
  detect: (folder) =>
    findSupabaseConfig(folder.dir) || folder.dir.split(path.sep).slice(-2).join('/') === 'supabase/migrations'
      ? { tool: 'supabase', detection: 'strong' }
      : undefined,
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    const firstEntry = readdirSync(ctx.dir).sort()[0];
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (!file.endsWith('.sql')) continue;
      const init = file === firstEntry ? SUPABASE_INIT.exec(file) : null;
      if (init && BigInt(init[1]!) < SUPABASE_INIT_BEFORE) {
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` is the first file and an \`<timestamp>_init.sql\` from before 2021-12-09, so ${SUPABASE_SKIPS(file)}; if it is a migration, rename it so that its name does not end in _init.sql.`,
            'warning',
          ),
        );
        continue;
      }
      const match = SUPABASE_FILE.exec(file);
      if (!match) {
        problems.push(
          problem(
            ctx,
            file,
            file === 'seed.sql'
              ? `\`${file}\` sits in the migrations folder, where ${SUPABASE_SKIPS(file)}; move it to supabase/seed.sql, where \`supabase db reset\` seeds from.`
              : `\`${file}\` does not match <timestamp>_<name>.sql, so ${SUPABASE_SKIPS(file)}; if it is a migration, rename it to <timestamp>_<name>.sql (e.g. with \`supabase migration new <name>\`).`,
            'warning',
          ),
        );
        continue;
      }
      migrations.push(build('supabase', ctx, file, { id: match[1]!, version: match[1]!, name: match[2]! }));
    }
    return { migrations: migrations.sort((a, b) => (a.file < b.file ? -1 : 1)), problems };
  },
  // The Supabase CLI compares versions as strings when it looks for pending migrations.
  compareVersions: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  duplicateEffect: () =>
    'the Supabase CLI applies the first and then fails on the next (its version is the primary key of supabase_migrations.schema_migrations), so `supabase db push` and `supabase db reset` stop there',
  history: {
    schema: 'supabase_migrations',
    table: 'schema_migrations',
    columns: ['version'],
    privateSchema: 'supabase_migrations',
    async read(query, has) {
      const rows = await query(
        (t) =>
          `select version, ${has('name') ? 'name' : 'null::text as name'}, ${has('statements') ? 'statements' : 'null::text[] as statements'} from ${t} order by version`,
      );
      return {
        entries: rows.map((r) => ({
          id: String(r.version),
          version: String(r.version),
          name: cellText(r.name) ?? '',
          statements: (r.statements as string[] | null) ?? null,
          success: true,
          kind: 'versioned',
        })),
      };
    },
  },
  matchesHistory(m, entry) {
    if (!entry.statements) return undefined;
    const local = splitSupabaseStatements(m.raw).map((s) => s.text);
    const stored = entry.statements;
    if (local.length === stored.length && local.every((s, i) => s === stored[i])) return { same: true, why: '' };
    const at = local.findIndex((s, i) => s !== stored[i]);
    const index = at < 0 ? Math.min(local.length, stored.length) : at;
    return {
      same: false,
      why: `statement ${index + 1} of ${Math.max(local.length, stored.length)} differs from what \`supabase db push\` stored (the file has ${local.length} statements, the history ${stored.length})`,
    };
  },
  outOfOrderConsequence: '`supabase db push` refuses it unless run with --include-all',
  repairHint: (entry) =>
    `Restore the file (\`supabase migration fetch\` rebuilds it from the stored statements), or remove the row with \`supabase migration repair --status reverted ${entry.version}\` if the change was undone.`,
};
