/**
 * The run contract every layer below the gates may use: the logger a run writes to and the
 * context a gate runs in. Types and one constant only; `createContext` and `runGate` (which
 * read the environment and judge findings) live in src/gates/gate.ts.
 */
import type { RepoConfig } from '../config/repo-config.ts';
import type { Finding } from '../findings/types.ts';

/** Finds a failure in what a step returned (a migration that fails is a finding, not a throw). */
export type StepFailure<T> = (value: T) => string | undefined;

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

/** What a gate's body returns; `runGate` turns it into a GateResult. */
export interface GateOutput {
  findings: Finding[];
  metrics?: Record<string, number>;
  preexisting?: Finding[];
  details?: Record<string, unknown>;
}
