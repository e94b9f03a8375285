/**
 * goose (pressly/goose): `<version>_<name>.sql`, the version a timestamp (YYYYMMDDHHMMSS) or a
 * sequential number, with `-- +goose Up` / `-- +goose Down` sections (only Up is applied;
 * `-- +goose StatementBegin` / `StatementEnd` are comments to PostgreSQL and stay in the SQL;
 * `-- +goose NO TRANSACTION` runs the file outside a transaction). Go migrations
 * (`<version>_<name>.go`) are compiled into the goose binary: listed, not run.
 *
 * History: goose_db_version (id serial, version_id bigint, is_applied boolean, tstamp
 * timestamp). The row with version_id 0 is the marker goose writes when it creates the table;
 * for every other version the latest row (highest id) decides whether it is applied (older
 * goose inserted `is_applied = false` on down, newer goose deletes the row). goose stores no
 * checksum, so an edit after apply cannot be told from the history; a failed migration leaves
 * no row (its transaction rolls back), so there is no failed state to read either.
 */
import path from 'node:path';
import type { Migration } from '../types.ts';
import { build, cellText, compareNumeric, type FileProblem, list, problem, textOf } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { sectionAfter } from './rollback.ts';

/** An annotation: at the start of its line (goose rejects leading whitespace). */
const annotation = (name: string) => new RegExp(`^--\\s*\\+goose\\s+${name}\\b[^\\n]*\\n?`, 'im');
const UP = annotation('Up');
const DOWN = annotation('Down');
const NO_TRANSACTION = annotation('NO TRANSACTION');
/** A Go migration registered without a down function: goose.AddMigration(up, nil) and its variants. */
const GO_WITHOUT_DOWN = /\bAddMigration\w*\(\s*[\w.]+\s*,\s*nil\s*\)/;

export const goose: MigrationToolAdapter = {
  id: 'goose',
  title: 'goose',
  defaultDirs: ['migrations', 'db/migrations'],
  detect: (folder) => (folder.sql.some((f) => UP.test(folder.peek(f))) ? { tool: 'goose', detection: 'strong' } : undefined),
  read(ctx) {
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of list(ctx.dir, ctx.guard).files) {
      const ext = /\.(sql|go)$/.exec(file)?.[1];
      if (!ext || file.endsWith('_test.go')) continue;
      const match = /^(\d+)_(.+)\.(?:sql|go)$/.exec(file);
      if (!match || BigInt(match[1]!) === 0n || BigInt(match[1]!) > 9223372036854775807n) {
        if (ext === 'go') continue; // other Go source (the main package that registers migrations)
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` does not match <version>_<name>.sql with a version above 0, so goose cannot place it in its order; rename it (\`goose create <name> sql\`).`,
          ),
        );
        continue;
      }
      const draft = { id: BigInt(match[1]!).toString(), version: match[1]!, name: match[2]! };
      if (ext === 'go') {
        migrations.push(build('goose', ctx, file, { ...draft, sql: '', executable: false }));
        continue;
      }
      const raw = textOf(ctx, path.join(ctx.dir, file));
      const up = UP.exec(raw);
      if (!up) {
        problems.push(problem(ctx, file, `\`${file}\` has no \`-- +goose Up\` line, so goose refuses to run it; add the annotation above the SQL.`));
        continue;
      }
      const start = up.index + up[0].length;
      const down = DOWN.exec(raw.slice(start));
      const end = down ? start + down.index : raw.length;
      migrations.push(build('goose', ctx, file, { ...draft, sql: raw.slice(start, end), sqlOffset: start, noTransaction: NO_TRANSACTION.test(raw) }, raw));
    }
    return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
  },
  codeMigrations: 'a Go migration',
  rollback: {
    form: 'a `-- +goose Down` section (for a Go migration, a down function instead of nil in goose.AddMigration)',
    downOf: (m) => (m.executable ? sectionAfter(m.raw, DOWN) : GO_WITHOUT_DOWN.test(m.raw) ? undefined : m.raw),
  },
  advisoryLock: {
    keys: () => [5887940537704921958n],
    source: 'lock/postgres.go NewPostgresSessionLocker, DefaultLockID (crc64 of "goose"), pg_try_advisory_lock',
    optIn: 'only when the goose Provider is given a session locker (WithSessionLocker); the goose CLI takes no lock',
  },
  compareVersions: compareNumeric,
  duplicateEffect: () => 'goose refuses the whole folder (duplicate version)',
  history: {
    table: 'goose_db_version',
    columns: ['version_id', 'is_applied', 'tstamp'],
    async read(query) {
      const rows = await query(
        (t) =>
          `select distinct on (version_id) version_id::text as version_id, is_applied, tstamp from ${t} where version_id <> 0 order by version_id, id desc`,
      );
      return {
        entries: rows
          .filter((r) => r.is_applied === true)
          .map((r) => ({ id: String(r.version_id), version: String(r.version_id), success: true, appliedAt: cellText(r.tstamp), kind: 'versioned' })),
      };
    },
  },
  outOfOrderConsequence: '`goose up` refuses it unless run with -allow-missing',
  repairHint: (entry) =>
    `Restore the migration file with this version, or delete the rows of version ${entry.version} from goose_db_version if the change was undone (goose has no repair command).`,
};
