import type { WebhooksOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import type { GateResult } from '../../findings/types.ts';
import { type GateContext, runGate } from '../gate.ts';

export async function run(options: WebhooksOptions, context: GateContext): Promise<GateResult> {
  return runGate('webhooks', options, context, async () => {
    throw new UserError('webhook-secret-check is not built yet in this version of postgate; see issue #6.');
  });
}
