/**
 * The rehearsal's second half, shared by drift-gate (`rehearse-from`) and restore-drill
 * (`drill.rehearse-migrations`): on a restored, inert copy of production, the migrations its
 * history table has not applied yet are applied statement by statement and measured
 * (src/migrations/rehearse.ts). The copy's history is read with the tool's adapter and compared
 * with the files by the tool's own rule (history.ts), as deploy mode compares the live history.
 */
import type { RepoConfig } from '../../config/repo-config.ts';
import { UserError } from '../../errors.ts';
import type { Finding } from '../../findings/types.ts';
import { describeHistoryTables, findHistoryTables, readHistory } from '../../migrations/history.ts';
import { rehearseMigrations } from '../../migrations/rehearse.ts';
import { TOOL_TITLES } from '../../migrations/sources.ts';
import type { MigrationSource } from '../../migrations/types.ts';
import { connect } from '../../postgres/connect.ts';
import type { Logger } from '../gate.ts';
import { compareHistory } from './history.ts';

/** An ACCESS EXCLUSIVE lock held longer than this on a table with rows is a finding, unless the repo config says otherwise. */
export const DEFAULT_LOCK_THRESHOLD_MS = 1000;

export interface PendingRehearsal {
  findings: Finding[];
  metrics: Record<string, number>;
  /** The report's per-statement table and what was rehearsed. */
  details: Record<string, unknown>;
}

export function lockThresholdMs(config: RepoConfig): number {
  return config.drift.rehearsal?.['lock-threshold'] ?? DEFAULT_LOCK_THRESHOLD_MS;
}

/**
 * Applies the copy's pending migrations on `url` (a throwaway database: it is changed) and
 * measures them. `inputName` names where the copy came from, for the message when it has no
 * history table.
 */
export async function rehearsePending(
  url: string,
  source: MigrationSource,
  options: { lockThresholdMs: number; log: Logger; inputName: string },
): Promise<PendingRehearsal> {
  const client = await connect(url, { gate: 'drift', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
  try {
    const tables = await findHistoryTables(client);
    const table = tables.find((t) => t.tool === source.tool);
    if (!table) {
      throw new UserError(
        `The copy restored from \`${options.inputName}\` has no ${TOOL_TITLES[source.tool]} history table (looked for: ${describeHistoryTables([source.tool])}), so postgate cannot tell which migrations it lacks; point \`${options.inputName}\` at a backup of the migrated database or set \`migrations-format\`.`,
      );
    }
    const history = await readHistory(client, table);
    const { applied } = compareHistory(source, history);
    const pending = source.migrations.filter((m) => m.executable && !applied.has(m.id));
    const outcome = await options.log.step(`rehearsal: ${pending.length} pending migration(s) on the restored copy, statement by statement`, () =>
      rehearseMigrations(client, pending, { lockThresholdMs: options.lockThresholdMs }),
    );
    const longestLock = Math.max(0, ...outcome.statements.flatMap((s) => s.locks.map((l) => l.held_ms)));
    return {
      findings: outcome.findings,
      metrics: { rehearsal_ms: Math.round(outcome.total_ms), rehearsal_pending: pending.length, rehearsal_longest_lock_ms: Math.round(longestLock) },
      details: {
        rehearsal: {
          title: 'Rehearsal on the restored copy',
          rows: outcome.statements.map((s) => ({
            statement: s.statement,
            status: s.status,
            duration_ms: s.duration_ms,
            lock: s.locks.map((l) => `ACCESS EXCLUSIVE ${l.relation} ${formatHeld(l.held_ms)}`),
            rows: s.rows,
            rewritten: s.rewritten,
          })),
          note: `${pending.length} pending migration(s) against ${history.schema}.${history.table}, ${outcome.statements.length} statement(s), total ${formatHeld(outcome.total_ms)}${outcome.failed.length ? `; ${outcome.failed.length} failed and were rolled back (the later ones ran without them)` : ''}`,
        },
        rehearsal_total_ms: Math.round(outcome.total_ms),
      },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function formatHeld(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
