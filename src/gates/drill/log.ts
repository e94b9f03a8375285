/**
 * The drill log: one JSON line per drill, appended to `log-path` (commit it, or keep it as a
 * release asset). It is the RTO/RPO record a runbook asks for, the source of the "last N
 * drills" table, and of `max-days-since-green`: a drill fails when no green drill happened
 * within the window, so a schedule that keeps failing (or erroring) is noticed.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { judge } from '../../findings/allowlist.ts';
import { countBySeverity, type GateStatus } from '../../findings/types.ts';
import { readRunContext } from '../../github/context.ts';
import { redactDeep } from '../../secrets.ts';
import { backupAgeMs } from './rpo.ts';
import type { DrillState } from './state.ts';
import { drillFinding } from './rules.ts';
import { ruleIdsOf } from '../rules-catalog.ts';

export interface DrillLogEntry {
  drill_id: string;
  started_at: string;
  finished_at: string;
  status: GateStatus;
  /** cli, schedule, workflow_dispatch, ... */
  trigger: string;
  runner: string;
  actor?: string;
  run_url?: string;
  commit?: string;
  source: { kind: 'live' | 'file'; label: string; format?: string; server_version?: string };
  /** sha256 only when it was computed: a live drill's own backup is restored at once and deleted, unhashed. */
  artifact?: { sha256?: string; size_bytes: number };
  backup_taken_at?: string;
  rpo_ms?: number;
  rpo_source?: string;
  rto_ms?: number;
  phases: Record<string, number>;
  checks: { passed: number; failed: number; skipped: number };
  findings: { error: number; warning: number; notice: number };
  error?: string;
}

export interface DrillLog {
  entries: DrillLogEntry[];
  /** Lines that were not valid JSON entries (reported, never fatal). */
  unreadable: number;
}

export function readDrillLog(file: string): DrillLog {
  if (!existsSync(file)) return { entries: [], unreadable: 0 };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `Input \`log-path\` names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); fix the path or its permissions.`,
    );
  }
  const entries: DrillLogEntry[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as DrillLogEntry;
      if (typeof entry.started_at === 'string' && typeof entry.status === 'string') entries.push(entry);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { entries, unreadable };
}

export function appendDrillLog(file: string, entry: DrillLogEntry): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // The log is committed or published: an error message may quote a secret (fetch quotes a bad header).
    appendFileSync(file, `${JSON.stringify(redactDeep(entry))}\n`);
  } catch (error) {
    throw new UserError(`Could not append to the drill log ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check \`log-path\`.`);
  }
}

/** Who ran the drill, from the GitHub Actions environment (or this machine). */
export function runContext(env: Record<string, string | undefined>): Pick<DrillLogEntry, 'trigger' | 'runner' | 'actor' | 'run_url' | 'commit'> {
  // The run's page as src/github/context.ts builds it (a re-run links its own attempt).
  const { runUrl } = readRunContext(env);
  return {
    trigger: env.GITHUB_EVENT_NAME ?? 'cli',
    runner: env.RUNNER_NAME ?? os.hostname(),
    ...(env.GITHUB_ACTOR ? { actor: env.GITHUB_ACTOR } : {}),
    ...(runUrl ? { run_url: runUrl } : {}),
    ...(env.GITHUB_SHA ? { commit: env.GITHUB_SHA } : {}),
  };
}

export const HISTORY_LENGTH = 10;

/** The last drills, newest first, as table rows for the report. */
export function historyRows(entries: readonly DrillLogEntry[], count = HISTORY_LENGTH): Array<Record<string, string | number | null>> {
  return entries
    .slice(-count)
    .reverse()
    .map((entry) => ({
      started_at: entry.started_at.replace(/\.\d{3}Z$/, 'Z'),
      status: entry.status,
      source: entry.source.format ? `${entry.source.kind} (${entry.source.format})` : entry.source.kind,
      rto_ms: entry.rto_ms ?? null,
      rpo_ms: entry.rpo_ms ?? null,
      size_bytes: entry.artifact?.size_bytes ?? null,
      failed_checks: entry.checks.failed,
    }));
}

/** Days since the newest green drill (undefined when there is none). */
export function daysSinceGreen(entries: readonly DrillLogEntry[], now: Date): number | undefined {
  const greens = entries
    .filter((entry) => entry.status === 'pass')
    .map((entry) => Date.parse(entry.started_at))
    .filter(Number.isFinite);
  if (greens.length === 0) return undefined;
  return (now.getTime() - Math.max(...greens)) / 86_400_000;
}

/** The drill's entry as far as it got: what it restored, how long each phase took, what it found. */
function logEntry(state: DrillState, status: GateStatus, error?: string): DrillLogEntry {
  const { artifact, digest, backupTime, checks } = state;
  const rpoMs = backupAgeMs(state);
  return {
    drill_id: randomUUID(),
    started_at: state.startedAt.toISOString(),
    finished_at: state.context.now().toISOString(),
    status,
    ...runContext(state.context.env),
    source: {
      kind: state.mode.kind,
      label: state.sourceLabel,
      ...(artifact ? { format: artifact.format } : {}),
      ...(state.sourceVersion ? { server_version: state.sourceVersion } : {}),
    },
    ...(artifact ? { artifact: { ...(digest ? { sha256: digest.sha256 } : {}), size_bytes: artifact.sizeBytes } } : {}),
    ...(backupTime ? { backup_taken_at: backupTime.takenAt, rpo_ms: rpoMs, rpo_source: backupTime.source } : {}),
    ...(state.rtoMs !== undefined ? { rto_ms: state.rtoMs } : {}),
    phases: Object.fromEntries(state.phases.timings.filter((t) => t.status !== 'skipped').map((t) => [t.phase, t.duration_ms])),
    checks: {
      passed: checks.filter((c) => c.status === 'pass').length,
      failed: checks.filter((c) => c.status === 'fail').length,
      skipped: checks.filter((c) => c.status === 'skipped').length,
    },
    findings: countBySeverity(state.findings),
    ...(error ? { error } : {}),
  };
}

/** The status the gate will report, as far as the findings so far decide it (allowlist, then fail-on). */
function provisionalStatus(state: DrillState): GateStatus {
  return judge(state.findings, {
    knownRules: ruleIdsOf('drill'),
    allowlist: state.context.config.allowlist,
    now: state.context.now(),
    failOn: state.options.failOn,
  }).status;
}

/**
 * The drill log, at the end of a drill that ran: `max-days-since-green` judged over the log with
 * this drill in it, the entry appended, and the last drills for the report.
 */
export function recordDrill(state: DrillState): void {
  if (!state.log) return;
  const { options, findings } = state;
  const entry = logEntry(state, provisionalStatus(state));
  const entries = [...state.log.read.entries, entry];
  if (options.maxDaysSinceGreen !== undefined) {
    const days = daysSinceGreen(entries, state.context.now());
    if (days === undefined || days > options.maxDaysSinceGreen) {
      findings.push(
        drillFinding({
          rule: 'drill_stale',
          object: { kind: 'objective', name: 'drill log' },
          message:
            days === undefined
              ? `The drill log (${options.logPath}) has no green drill at all, and max-days-since-green is ${options.maxDaysSinceGreen}.`
              : `The last green drill in ${options.logPath} was ${days.toFixed(1)} days ago, more than max-days-since-green (${options.maxDaysSinceGreen}).`,
          remediation: 'Fix the drill so it passes, and check the scheduled workflow still runs.',
        }),
      );
      entry.status = provisionalStatus(state);
      entry.findings = countBySeverity(findings);
    }
    if (days !== undefined) state.metrics.days_since_green = Math.round(days * 10) / 10;
  }
  appendDrillLog(state.log.path, entry);
  state.details.history = {
    title: `Last ${Math.min(entries.length, 10)} drills (${options.logPath})`,
    rows: historyRows(entries),
    ...(state.log.read.unreadable ? { note: `${state.log.read.unreadable} line(s) of the log could not be read and were skipped.` } : {}),
  };
}

/** A drill that could not run is logged too (status error), so the log shows the gap. */
export function recordFailedDrill(state: DrillState, error: unknown): void {
  if (!state.log) return;
  const message = error instanceof Error ? error.message : String(error);
  try {
    appendDrillLog(state.log.path, logEntry(state, 'error', message));
  } catch {
    // the original error is what the user needs to see
  }
}
