/**
 * Entry of the one shared bundle (dist/postgate/index.js): the CLI (bin/postgate.js) and
 * every action's dist/index.js import from it, so the engine ships once, not four times.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Some CommonJS code inside testcontainers' dependency tree (an emscripten module) reads the
// free variables __dirname/__filename, which do not exist in an ES module bundle.
const globals = globalThis as { __dirname?: string; __filename?: string };
globals.__filename ??= fileURLToPath(import.meta.url);
globals.__dirname ??= path.dirname(globals.__filename);

export { runAction } from './action/run-action.ts';
export { runCli } from './cli.ts';
