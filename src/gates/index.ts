/** The gates by id: each is `run(options, context) -> GateResult`. */
import type { GateOptionsById } from '../config/gates.ts';
import type { GateId, GateResult } from '../findings/types.ts';
import * as drill from './drill/index.ts';
import * as drift from './drift/index.ts';
import * as parity from './parity/index.ts';
import type { GateContext } from './gate.ts';
import * as rls from './rls/index.ts';
import * as webhooks from './webhooks/index.ts';

type Runners = { [G in GateId]: (options: GateOptionsById[G], context: GateContext) => Promise<GateResult> };

export const GATE_RUNNERS: Runners = {
  drift: drift.run,
  rls: rls.run,
  webhooks: webhooks.run,
  drill: drill.run,
  parity: parity.run,
};
