import { runAction } from '../../src/action/run-action.ts';

await runAction('parity');
