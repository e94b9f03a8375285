/**
 * Opt-in (`drift.require-down-migrations`): every migration a pull request adds has a rollback,
 * as its tool writes one (the adapter's `rollback`). Tools without down migrations get one notice.
 */
import path from 'node:path';
import type { Finding } from '../../findings/types.ts';
import { isEmptySql } from '../../migrations/tools/rollback.ts';
import { TOOLS } from '../../migrations/tools/index.ts';
import type { MigrationSource } from '../../migrations/types.ts';
import { inertInline } from '../../report/inert.ts';
import { driftFinding } from './rules.ts';

/**
 * `migration_down_missing` for each added versioned migration (ids not in `baseIds`; every one
 * when there is no base branch) whose rollback is absent or empty.
 */
export function downMigrationFindings(source: MigrationSource, cwd: string, baseIds: ReadonlySet<string> | undefined): Finding[] {
  const adapter = TOOLS[source.tool];
  if (!adapter.rollback) {
    return [
      driftFinding({
        rule: 'migration_down_unsupported',
        object: { kind: 'migrations', name: path.relative(cwd, source.dir) || '.' },
        message: `\`drift.require-down-migrations\` is on, but ${adapter.title} has no down migrations, so there is nothing to require.`,
        remediation: 'Roll back with a new forward migration, or remove `drift.require-down-migrations` from the repo config.',
      }),
    ];
  }
  const { rollback } = adapter;
  return source.migrations
    .filter((m) => m.kind === 'versioned' && !baseIds?.has(m.id))
    .flatMap((m) => {
      const down = rollback.downOf(m);
      if (down !== undefined && !isEmptySql(down)) return [];
      const file = inertInline(m.file);
      return [
        driftFinding({
          rule: 'migration_down_missing',
          object: { kind: 'migration', name: m.file },
          message:
            down === undefined
              ? `${file} has no rollback: ${adapter.title} expects ${rollback.form}.`
              : `${file} has an empty rollback (only whitespace or comments), which rolls nothing back.`,
          remediation: `Write the SQL that undoes this migration as ${rollback.form}, or allowlist the migration if it cannot be undone.`,
          location: { file: m.file, line: 1 },
        }),
      ];
    });
}
