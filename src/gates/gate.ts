/**
 * What every gate shares: its context (repo config, environment, clock, logger) and
 * `runGate`, which turns a gate's findings into a GateResult: allowlist applied, verdict
 * from `fail-on`, duration measured, every string redacted, and any error turned into
 * status "error" (exit 2), never a pass.
 */
import type { RepoConfig } from '../config/repo-config.ts';
import { EMPTY_REPO_CONFIG } from '../config/repo-config.ts';
import { describeError } from '../errors.ts';
import { judge } from '../findings/allowlist.ts';
import type { Finding, GateId, GateResult, Severity } from '../findings/types.ts';
import { readRunContext } from '../github/context.ts';
import { redactDeep } from '../secrets.ts';
import type { StepFailure } from './step.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /**
   * Runs `fn` as a named, collapsible step (a log group in Actions, a progress line in the CLI).
   * The step failed when `fn` throws, or when `failure` finds a failure in what it returned (a
   * migration that fails is a finding, not a throw): the logger says so (src/gates/step.ts).
   */
  step<T>(name: string, fn: () => Promise<T>, failure?: StepFailure<T>): Promise<T>;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  step: (_name, fn) => fn(),
};

export interface GateContext {
  /** Repository root: relative paths in inputs and config are resolved from here. */
  cwd: string;
  config: RepoConfig;
  env: Record<string, string | undefined>;
  /** The pull request's base branch as the run knows it (src/github/context.ts); a gate's `base-ref` input overrides it. */
  baseRef?: string;
  now: () => Date;
  log: Logger;
}

export function createContext(overrides: Partial<GateContext> = {}): GateContext {
  const env = overrides.env ?? process.env;
  const { baseRef } = readRunContext(env);
  return {
    cwd: process.cwd(),
    config: EMPTY_REPO_CONFIG,
    env,
    ...(baseRef ? { baseRef } : {}),
    now: () => new Date(),
    log: silentLogger,
    ...overrides,
  };
}

export interface GateOutput {
  findings: Finding[];
  metrics?: Record<string, number>;
  preexisting?: Finding[];
  details?: Record<string, unknown>;
}

export async function runGate(
  gate: GateId,
  options: { failOn: Severity },
  context: GateContext,
  body: () => Promise<GateOutput>,
): Promise<GateResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const output = await body();
    const { kept, suppressed, status } = judge(output.findings, { gate, allowlist: context.config.allowlist, now: context.now(), failOn: options.failOn });
    const result: GateResult = {
      gate,
      status,
      findings: kept,
      metrics: { ...output.metrics, duration_ms: elapsed() },
      ...(suppressed.length ? { suppressed } : {}),
      ...(output.preexisting?.length ? { preexisting: output.preexisting } : {}),
      ...(output.details ? { details: output.details } : {}),
    };
    return redactDeep(result);
  } catch (error) {
    return redactDeep({ gate, status: 'error', findings: [], metrics: { duration_ms: elapsed() }, error: describeError(error) });
  }
}
