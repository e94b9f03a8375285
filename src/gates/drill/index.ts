import type { DrillOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import type { GateResult } from '../../findings/types.ts';
import { type GateContext, runGate } from '../gate.ts';

export async function run(options: DrillOptions, context: GateContext): Promise<GateResult> {
  return runGate('drill', options, context, async () => {
    throw new UserError('restore-drill is not built yet in this version of postgate; see issue #7.');
  });
}
