/**
 * Entry of the one shared bundle (dist/postgate/index.js): the CLI (bin/postgate.js) and
 * every action's dist/index.js import from it, so the engine ships once, not four times.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateId } from './findings/types.ts';

// Some CommonJS code inside testcontainers' dependency tree (an emscripten module) reads the
// free variables __dirname/__filename, which do not exist in an ES module bundle.
const globals = globalThis as { __dirname?: string; __filename?: string };
globals.__filename ??= fileURLToPath(import.meta.url);
globals.__dirname ??= path.dirname(globals.__filename);

export { runCli } from './cli.ts';

/**
 * The action runner is imported when an action starts, so that ncc puts it in a chunk of its own
 * with @actions/core, @actions/github and their HTTP client (undici, 0.9 MB): the CLI never loads them.
 */
export async function runAction(gate: GateId): Promise<void> {
  const { runAction: run } = await import('./action/run-action.ts');
  await run(gate);
}
