/**
 * How a logger's step ended, one mechanism for every logger (the CLI's progress lines, the
 * action's log groups): a step failed when its body threw, or when the step's `failure` check
 * finds a failure in what the body returned.
 */
import type { StepFailure } from '../core/context.ts';

/** What went wrong, when the value a step returned means the step failed; undefined when it did not (declared in src/core/context.ts). */
export type { StepFailure };

export interface StepEnd {
  failed: boolean;
  /** What went wrong, when a returned value said so (a thrown error is the run's error, reported apart). */
  reason?: string;
  seconds: number;
}

/** Runs a step's body and tells `ended` how it went, whether the body returned or threw. */
export async function runStep<T>(fn: () => Promise<T>, failure: StepFailure<T> | undefined, ended: (end: StepEnd) => void): Promise<T> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let value: T;
  try {
    value = await fn();
  } catch (error) {
    ended({ failed: true, seconds: seconds() });
    throw error;
  }
  const reason = failure?.(value);
  ended(reason === undefined ? { failed: false, seconds: seconds() } : { failed: true, reason, seconds: seconds() });
  return value;
}

/** "done: applying 3 migration(s) (0.4 s)", "failed: applying 3 migration(s) (0.2 s): 001_init.sql failed". */
export function stepEndLine(name: string, end: StepEnd): string {
  return `${end.failed ? 'failed' : 'done'}: ${name} (${end.seconds.toFixed(1)} s)${end.reason ? `: ${end.reason}` : ''}`;
}
