/**
 * From raw inputs (action inputs or CLI flags) to a GateResult: validate the inputs,
 * load the repo config, run the gate. Bad input becomes status "error", never a throw.
 */
import path from 'node:path';
import { GATES, type GateOptionsById } from '../config/gates.ts';
import { parseInputs, type Surface } from '../config/input-spec.ts';
import { loadRepoConfig } from '../config/repo-config.ts';
import { describeError } from '../errors.ts';
import type { GateId, GateResult } from '../findings/types.ts';
import { redact } from '../secrets.ts';
import { createContext, type GateContext } from './gate.ts';
import { GATE_RUNNERS } from './index.ts';

export interface Invocation<G extends GateId = GateId> {
  result: GateResult;
  /** Undefined when the inputs themselves were invalid. */
  options?: GateOptionsById[G];
}

export async function invokeGate<G extends GateId>(
  gate: G,
  read: (name: string) => string | undefined,
  surface: Surface,
  base: Partial<GateContext> = {},
): Promise<Invocation<G>> {
  const started = performance.now();
  let options: GateOptionsById[G];
  let context: GateContext;
  try {
    options = parseInputs(GATES[gate].inputs, read, surface) as unknown as GateOptionsById[G];
    const cwd = base.cwd ?? process.cwd();
    const configPath = path.resolve(cwd, (options as { config: string }).config);
    const config = loadRepoConfig(configPath, { explicit: Boolean(read('config')?.trim()) });
    context = createContext({ ...base, cwd, config });
  } catch (error) {
    return {
      result: {
        gate,
        status: 'error',
        findings: [],
        metrics: { duration_ms: Math.round(performance.now() - started) },
        error: redact(describeError(error)),
      },
    };
  }
  const runner = GATE_RUNNERS[gate] as (o: GateOptionsById[G], c: GateContext) => Promise<GateResult>;
  return { result: await runner(options, context), options };
}
