import type { DriftOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import type { GateResult } from '../../findings/types.ts';
import { type GateContext, runGate } from '../gate.ts';

export async function run(options: DriftOptions, context: GateContext): Promise<GateResult> {
  return runGate('drift', options, context, async () => {
    throw new UserError('drift-gate is not built yet in this version of postgate; see issue #4.');
  });
}
