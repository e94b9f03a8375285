/**
 * Migration history drift: the repository's migrations against the history table,
 * with each tool's own notion of "applied" and its own checksum rule. Pure: no I/O.
 */
import type { Finding } from '../../findings/types.ts';
import { TOOLS } from '../../migrations/tools/index.ts';
import type { History, HistoryEntry, Migration, MigrationSource } from '../../migrations/types.ts';
import { type DriftRuleId, driftFinding } from './rules.ts';

export interface HistoryComparison {
  findings: Finding[];
  /** Ids of the migrations the history says were applied (what the expected schema is built from). */
  applied: Set<string>;
  counts: { pending: number; applied: number; missing: number; edited: number; outOfOrder: number; failed: number };
}

const migrationRef = (m: Migration) => ({ kind: 'migration', name: m.file });

function make(
  rule: DriftRuleId,
  m: Migration | undefined,
  entry: HistoryEntry | undefined,
  message: string,
  extra: Partial<Pick<Finding, 'detail' | 'remediation'>> = {},
): Finding {
  return driftFinding({
    rule,
    object: m ? migrationRef(m) : { kind: 'migration', name: entry?.version || entry?.id || '?' },
    message,
    ...(m ? { location: { file: m.file, line: 1 } } : {}),
    ...extra,
  });
}

/** Whether the file is what the history recorded, by the tool's rule; undefined when the tool keeps nothing to compare. */
export function matchesHistory(m: Migration, entry: HistoryEntry): { same: boolean; why: string } | undefined {
  return TOOLS[m.tool].matchesHistory?.(m, entry);
}

export function compareHistory(source: MigrationSource, history: History): HistoryComparison {
  const tool = source.tool;
  const adapter = TOOLS[tool];
  const title = adapter.title;
  const table = `${history.schema}.${history.table}`;
  const findings: Finding[] = [];
  const applied = new Set<string>();
  const counts = { pending: 0, applied: 0, missing: 0, edited: 0, outOfOrder: 0, failed: 0 };
  const byId = new Map(history.entries.map((e) => [e.id, e]));
  const local = new Map(source.migrations.map((m) => [m.id, m]));
  const versioned = source.migrations.filter((m) => m.kind === 'versioned');

  // What counts as applied, per tool.
  const isApplied = (m: Migration): HistoryEntry | 'implied' | undefined => {
    if (history.highWaterMark !== undefined) return adapter.compareVersions(m.version, history.highWaterMark) <= 0 ? (byId.get(m.id) ?? 'implied') : undefined;
    if (history.baselineVersion !== undefined && m.kind === 'versioned' && adapter.compareVersions(m.version, history.baselineVersion) <= 0)
      return byId.get(m.id) ?? 'implied';
    return byId.get(m.id);
  };
  const appliedLocal = versioned.filter((m) => isApplied(m) !== undefined);
  const newestApplied = (() => {
    if (adapter.newestApplied) return adapter.newestApplied(history);
    const versions = [
      ...history.entries.filter((e) => e.kind === 'versioned').map((e) => e.version),
      ...(history.baselineVersion ? [history.baselineVersion] : []),
    ];
    return versions.sort((a, b) => adapter.compareVersions(a, b)).at(-1);
  })();
  const lastCommon = appliedLocal.at(-1);

  for (const m of source.migrations) {
    const entry = isApplied(m);
    if (entry === undefined) {
      if (m.kind === 'repeatable') {
        counts.pending++;
        findings.push(make('migration_pending', m, undefined, `${m.file} (repeatable) has never been applied: ${title} runs it on the next deploy.`));
        continue;
      }
      const older =
        newestApplied !== undefined && (adapter.isOlder ? adapter.isOlder(m, newestApplied) : adapter.compareVersions(m.version, newestApplied) < 0);
      if (older) {
        counts.outOfOrder++;
        const consequence = adapter.outOfOrderConsequence ?? `${title} may skip it or apply it after newer migrations`;
        findings.push(
          make(
            'migration_out_of_order',
            m,
            undefined,
            `${m.file} is not applied but is older than the newest applied migration (${newestApplied}); ${consequence}.`,
            {
              remediation: "Rename the migration with a version newer than every applied one (or apply it deliberately out of order with the tool's option).",
            },
          ),
        );
      } else {
        counts.pending++;
        findings.push(
          make('migration_pending', m, undefined, `${m.file} is not applied to the database (no row in ${table}).`, {
            remediation: `Apply it with ${title} (the deploy normally does).`,
          }),
        );
      }
      continue;
    }
    if (entry === 'implied') {
      applied.add(m.id);
      counts.applied++;
      continue;
    }
    if (!entry.success) {
      counts.failed++;
      findings.push(
        make(
          'migration_failed',
          m,
          entry,
          `${m.file} is recorded in ${table} as failed${adapter.failedNote ?? ''}: ${title} will not continue until it is resolved.`,
          {
            remediation: 'Inspect the database, finish or undo the migration by hand, then mark it resolved with the tool.',
          },
        ),
      );
      continue;
    }
    applied.add(m.id);
    counts.applied++;
    const match = matchesHistory(m, entry);
    if (match && !match.same) {
      if (m.kind === 'repeatable') {
        counts.pending++;
        findings.push(
          make(
            'migration_pending',
            m,
            entry,
            `${m.file} (repeatable) changed since it was last applied (${match.why}); Flyway re-runs it on the next migrate.`,
          ),
        );
      } else {
        counts.edited++;
        findings.push(
          make('migration_edited', m, entry, `${m.file} was edited after it was applied: ${match.why}.`, {
            remediation: "Revert the edit and put the change in a new migration; if it is harmless, record the new checksum with the tool's repair command.",
          }),
        );
      }
    }
  }

  for (const entry of history.entries) {
    if (local.has(entry.id)) continue;
    if (history.highWaterMark !== undefined && source.migrations.some((m) => adapter.compareVersions(m.version, entry.version) === 0)) continue;
    counts.missing++;
    const twin = source.migrations.find((m) => entry.name && m.name && m.name === entry.name && !byId.has(m.id));
    const label =
      entry.kind === 'repeatable'
        ? `repeatable "${entry.name}"`
        : `version ${entry.version || entry.id}${entry.name && entry.name !== entry.version ? ` (${entry.name})` : ''}`;
    findings.push(
      make('migration_missing_locally', undefined, entry, `${table} records ${label} as applied, but the repository has no such migration.`, {
        detail: [
          lastCommon ? `Last migration both sides agree on: ${lastCommon.file}.` : 'No migration in the repository is recorded as applied.',
          twin
            ? `${twin.file} has the same name under another version: the migration was probably applied by a tool that stamps its own versions (Supabase Studio, MCP, Lovable).`
            : '',
          !entry.success ? 'The row also records a failed run.' : '',
        ]
          .filter(Boolean)
          .join(' '),
        remediation:
          adapter.repairHint?.(entry) ??
          "Restore the migration file with this version, or remove the row with the tool's repair command if the change was undone.",
      }),
    );
  }

  if (adapter.chainProblems) {
    const reported = new Set(findings.filter((f) => f.rule === 'migration_edited').map((f) => f.location?.file));
    for (const { migration, problem } of adapter.chainProblems(source.migrations)) {
      if (reported.has(migration.file)) continue;
      reported.add(migration.file);
      counts.edited++;
      findings.push(make('migration_edited', migration, undefined, `${migration.file} breaks ${title}'s hash chain: ${problem}.`));
    }
  }
  return { findings, applied, counts };
}
