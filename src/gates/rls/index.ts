import type { RlsOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import type { GateResult } from '../../findings/types.ts';
import { type GateContext, runGate } from '../gate.ts';

export async function run(options: RlsOptions, context: GateContext): Promise<GateResult> {
  return runGate('rls', options, context, async () => {
    throw new UserError('rls-audit is not built yet in this version of postgate; see issue #5.');
  });
}
