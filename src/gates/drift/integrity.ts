/**
 * PR-mode integrity, without a database: files the tool would skip, two files with one
 * version, and merged history that must not change (compared with the base branch).
 */
import type { Finding } from '../../findings/types.ts';
import { compareVersions, type FileProblem, graphileChainProblems, outsidePathFindings } from '../../migrations/sources.ts';
import type { Migration, MigrationFileProblem, MigrationSource } from '../../migrations/types.ts';
import { driftFinding } from './rules.ts';

const normalizeNewlines = (text: string) => text.replace(/\r\n?/g, '\n');

/**
 * The folder's file problems: a file the tool will not run (`migration_name_invalid`, a
 * warning where the tool says itself that it skips the file, as the Supabase CLI does),
 * two files with one version (`migration_version_duplicate`, one finding per version,
 * at the file left out), and paths that lead outside the repository, which postgate does
 * not follow (`migration_symlink_outside`).
 */
export function namingFindings(source: MigrationSource): Finding[] {
  const problems = source.problems as Array<MigrationFileProblem & Partial<FileProblem>>;
  // Paths that lead outside the repository (not followed) have their own rule.
  const outside = outsidePathFindings(problems);
  return [
    ...outside,
    ...problems
      .filter((p) => !p.outside)
      .map((p) =>
        p.duplicate
          ? driftFinding({
              rule: 'migration_version_duplicate',
              object: { kind: 'migration_version', name: p.duplicate.id },
              message: p.problem,
              remediation:
                'Rename the file left out to a version newer than every other migration (for Supabase, `supabase migration new <name>` and move the SQL into it); if one of the files was already applied somewhere, keep that one under the version.',
              location: { file: p.file, line: 1 },
            })
          : driftFinding({
              rule: 'migration_name_invalid',
              // A warning where the tool itself skips the file (as the Supabase CLI does); otherwise an error.
              severity: p.severity ?? 'error',
              object: { kind: 'migration', name: p.file },
              message: p.problem,
              location: { file: p.file, line: 1 },
            }),
      ),
  ];
}

export function chainFindings(source: MigrationSource): Finding[] {
  return graphileChainProblems(source.migrations).map(({ migration, problem }) =>
    driftFinding({
      rule: 'migration_edited',
      object: { kind: 'migration', name: migration.file },
      message: `${migration.file} breaks graphile-migrate's hash chain: ${problem}.`,
      remediation: 'Revert the edit to the committed migration and make the change in current.sql, then commit it as a new migration.',
      location: { file: migration.file, line: 1 },
    }),
  );
}

/** The first line where two texts differ (1-based), for pointing at an edit. */
function firstDifferentLine(a: string, b: string): number {
  const x = normalizeNewlines(a).split('\n');
  const y = normalizeNewlines(b).split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i + 1;
  return 1;
}

/** Compares the pull request's migrations with the base branch's. */
export function mergedHistoryFindings(base: MigrationSource, head: MigrationSource, baseLabel: string): Finding[] {
  const findings: Finding[] = [];
  const headById = new Map(head.migrations.map((m) => [m.id, m]));
  const baseById = new Map(base.migrations.map((m) => [m.id, m]));
  const headByContent = new Map<string, Migration>();
  for (const m of head.migrations) if (!baseById.has(m.id)) headByContent.set(normalizeNewlines(m.raw), m);

  for (const old of base.migrations) {
    const now = headById.get(old.id);
    if (!now) {
      const renamed = headByContent.get(normalizeNewlines(old.raw));
      findings.push(
        driftFinding({
          rule: 'merged_migration_removed',
          object: { kind: 'migration', name: old.file },
          message: renamed
            ? `${old.file} exists on ${baseLabel} but the pull request renames it to ${renamed.file}; databases that applied it would apply it again under the new version.`
            : `${old.file} exists on ${baseLabel} but the pull request deletes it; databases that applied it will report a migration missing from the repository.`,
          remediation: 'Restore the original file; to undo its effect, add a new migration.',
          location: { file: (renamed ?? old).file, line: 1 },
        }),
      );
      continue;
    }
    if (normalizeNewlines(now.raw) !== normalizeNewlines(old.raw) || now.file !== old.file) {
      const contentChanged = normalizeNewlines(now.raw) !== normalizeNewlines(old.raw);
      findings.push(
        driftFinding({
          rule: contentChanged ? 'merged_migration_edited' : 'merged_migration_removed',
          object: { kind: 'migration', name: now.file },
          message: contentChanged
            ? `${now.file} is already on ${baseLabel} and the pull request edits it; environments that applied it will never run the change.`
            : `${old.file} exists on ${baseLabel} but the pull request renames it to ${now.file}.`,
          remediation: contentChanged ? 'Revert the edit and put the change in a new migration.' : 'Keep the merged file name.',
          location: { file: now.file, line: contentChanged ? firstDifferentLine(old.raw, now.raw) : 1 },
        }),
      );
    }
  }

  const baseVersioned = base.migrations.filter((m) => m.kind === 'versioned');
  const newest = baseVersioned
    .map((m) => m.version)
    .sort((a, b) => compareVersions(base.tool, a, b))
    .at(-1);
  if (newest !== undefined) {
    for (const m of head.migrations) {
      if (baseById.has(m.id) || m.kind !== 'versioned') continue;
      const renamedFrom = base.migrations.find((old) => !headById.has(old.id) && normalizeNewlines(old.raw) === normalizeNewlines(m.raw));
      if (renamedFrom) continue;
      if (compareVersions(head.tool, m.version, newest) <= 0) {
        findings.push(
          driftFinding({
            rule: 'migration_version_not_newer',
            object: { kind: 'migration', name: m.file },
            message: `${m.file} is new in the pull request but its version ${m.version} is not newer than the newest migration on ${baseLabel} (${newest}); databases already at ${newest} treat it as out of order.`,
            remediation: 'Give it a version newer than every merged migration (e.g. regenerate it with a current timestamp).',
            location: { file: m.file, line: 1 },
          }),
        );
      }
    }
  }
  return findings;
}
