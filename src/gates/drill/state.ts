/**
 * The drill's state: one object the phases (index.ts runs them in order) read and extend. Each
 * phase is a function in the module that owns its subject: source.ts (fetch), artifact.ts
 * (checksum), target.ts (create target), restore.ts (restore), neutralise.ts, verify.ts,
 * rpo.ts (RTO/RPO), mask.ts (export) and log.ts (the drill log).
 */
import path from 'node:path';
import type { DrillOptions } from '../../config/gates.ts';
import type { RepoConfig } from '../../config/repo-config.ts';
import type { Finding } from '../../findings/types.ts';
import type { GateContext } from '../gate.ts';
import type { StepFailure } from '../step.ts';
import type { Artifact, ArtifactDigest } from './artifact.ts';
import { type DrillLog, readDrillLog } from './log.ts';
import type { Manifest } from './manifest.ts';
import type { TocSummary } from './restore.ts';
import type { BackupTime } from './rpo.ts';
import type { LiveBackup } from './source.ts';
import type { RestoreTarget } from './target.ts';
import type { Check } from './verify.ts';

export const PHASES = ['fetch', 'checksum', 'create target', 'restore', 'neutralise', 'verify'] as const;
export type Phase = (typeof PHASES)[number];

/** A live drill takes the backup now; a file drill restores an existing one. */
export type Mode = { kind: 'live'; url: string } | { kind: 'file'; path: string; manifest?: string };

export interface PhaseTiming {
  phase: Phase;
  duration_ms: number;
  status: 'done' | 'failed' | 'skipped';
  /** Set when the phase ran alongside another one (the restore target starts while the backup is fetched). */
  note?: string;
}

/** Runs the phases, records their times, and remembers what was skipped and why. */
export function phaseRunner(context: GateContext) {
  const timings: PhaseTiming[] = [];
  return {
    timings,
    /** A phase failed when `fn` throws or `failure` finds a failure in what it returned (progress and timings say so). */
    async run<T>(phase: Phase, title: string, fn: () => Promise<T>, failure?: StepFailure<T>): Promise<T> {
      const started = performance.now();
      let status: PhaseTiming['status'] = 'failed';
      try {
        const result = await context.log.step(`${phase}: ${title}`, fn, failure);
        status = failure?.(result) === undefined ? 'done' : 'failed';
        return result;
      } finally {
        timings.push({ phase, duration_ms: Math.round(performance.now() - started), status });
      }
    },
    skip(phase: Phase): void {
      timings.push({ phase, duration_ms: 0, status: 'skipped' });
    },
    /** Every phase that neither ran nor was skipped yet is recorded as skipped. */
    skipRest(): void {
      for (const phase of PHASES) if (!timings.some((t) => t.phase === phase)) this.skip(phase);
    },
    /** The duration of the phase that ran last. */
    lastMs(): number {
      return timings.at(-1)?.duration_ms ?? 0;
    },
    /** A phase that ran in the background: its own duration, recorded when it is awaited. */
    async background<T>(phase: Phase, title: string, work: BackgroundWork<T>, note: string): Promise<T> {
      let status: PhaseTiming['status'] = 'failed';
      try {
        const result = await context.log.step(`${phase}: ${title} (${note})`, () => work.promise);
        status = 'done';
        return result;
      } finally {
        timings.push({ phase, duration_ms: Math.round(work.durationMs()), status, note });
      }
    },
  };
}

export type PhaseRunner = ReturnType<typeof phaseRunner>;

export interface BackgroundWork<T> {
  promise: Promise<T>;
  durationMs: () => number;
}

export interface DrillState {
  readonly options: DrillOptions;
  readonly context: GateContext;
  readonly config: RepoConfig['drill'];
  readonly mode: Mode;
  readonly jobs: number;
  readonly startedAt: Date;
  /** performance.now() at the start: the RTO clock. */
  readonly clockStart: number;
  readonly phases: PhaseRunner;
  /** What the drill must undo (temporary files, the target, sessions), undone in reverse order whatever happens. */
  readonly cleanup: AsyncDisposableStack;
  readonly findings: Finding[];
  readonly checks: Check[];
  readonly details: Record<string, unknown>;
  readonly metrics: Record<string, number>;
  readonly log?: { path: string; read: DrillLog };

  // fetch
  sourceLabel: string;
  sourceVersion?: string;
  sourceMajor?: number;
  artifact?: Artifact;
  live?: LiveBackup;
  manifest?: Manifest;
  /** A file drill's Supabase platform data (auth users, storage objects) beside the backup, as its manifest names it. */
  platformDataFile?: string;
  backupTime?: BackupTime;
  /** The archive's table of contents, once read. */
  toc?: TocSummary;
  /** The restore target, started in the background while the backup is fetched or checksummed. */
  targetWork?: BackgroundWork<RestoreTarget>;
  // checksum
  digest?: ArtifactDigest;
  /** Hash the backup only when a checksum is there to compare with (drift-gate's rehearsal reports no digest). */
  digestOnlyToCompare?: boolean;
  // create target, restore, neutralise
  target?: RestoreTarget;
  restoreRan: boolean;
  /** Restored as a Supabase project's backup (the source says so, or the backup looks like one). */
  supabase?: boolean;
  inert: boolean;
  // RTO / RPO
  rtoMs?: number;
  rpoMs?: number;
  rtoTarget?: number;
  rpoTarget?: number;
}

/** After the fetch: the backup is known. */
export type Fetched = DrillState & { artifact: Artifact };
/** After the create-target phase: the backup and where it is restored. */
export type Targeted = Fetched & { target: RestoreTarget };

export function createState(options: DrillOptions, context: GateContext, mode: Mode, cleanup: AsyncDisposableStack): DrillState {
  const logPath = options.logPath ? path.resolve(context.cwd, options.logPath) : undefined;
  return {
    options,
    context,
    config: context.config.drill,
    mode,
    jobs: Math.max(1, options.jobs),
    startedAt: context.now(),
    clockStart: performance.now(),
    phases: phaseRunner(context),
    cleanup,
    findings: [],
    checks: [],
    details: {},
    metrics: {},
    ...(logPath ? { log: { path: logPath, read: readDrillLog(logPath) } } : {}),
    sourceLabel: mode.kind === 'live' ? 'live database' : path.basename(mode.path),
    restoreRan: false,
    inert: false,
  };
}

/**
 * The stack the drill's cleanup goes on: the runtime's AsyncDisposableStack (Node 24), or on
 * Node 22 (which the CLI supports and which lacks it) the same last-in-first-out cleanup.
 */
export function cleanupStack(): AsyncDisposableStack {
  if (typeof globalThis.AsyncDisposableStack === 'function') return new AsyncDisposableStack();
  const undo: Array<() => PromiseLike<void> | void> = [];
  const stack = {
    defer(fn: () => PromiseLike<void> | void) {
      undo.push(fn);
    },
    async [Symbol.asyncDispose]() {
      for (const fn of undo.splice(0).reverse()) await fn();
    },
  };
  return stack as unknown as AsyncDisposableStack;
}
