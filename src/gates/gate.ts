/**
 * What every gate shares: its context (repo config, environment, clock, logger) and
 * `runGate`, which turns a gate's findings into a GateResult: allowlist applied, verdict
 * from `fail-on`, duration measured, every string redacted, and any error turned into
 * status "error" (exit 2), never a pass.
 */
import { EMPTY_REPO_CONFIG } from '../config/repo-config.ts';
import { type GateContext, type GateOutput, silentLogger } from '../core/context.ts';
import { describeError } from '../errors.ts';
import { judge } from '../findings/allowlist.ts';
import type { GateId, GateResult, Severity } from '../findings/types.ts';
import { readRunContext } from '../github/context.ts';
import { redactDeep } from '../secrets.ts';
import { ruleIdsOf } from './rules-catalog.ts';

// The run contract lives in src/core/context.ts (below every layer that uses it); re-exported for the gates.
export { silentLogger };
export type { GateContext, GateOutput, Logger } from '../core/context.ts';

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

export async function runGate(gate: GateId, options: { failOn: Severity }, context: GateContext, body: () => Promise<GateOutput>): Promise<GateResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const output = await body();
    const { kept, suppressed, status } = judge(output.findings, {
      knownRules: ruleIdsOf(gate),
      allowlist: context.config.allowlist,
      now: context.now(),
      failOn: options.failOn,
    });
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
