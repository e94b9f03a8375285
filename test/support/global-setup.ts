/**
 * Runs the suite in a private temp directory (TMPDIR, inherited by the test workers; each test
 * file then works in a folder of its own inside it, per-file-tmp.ts) and proves the suite leaks
 * nothing: afterwards no PostgreSQL server started by postgate and no postgate temp directory or
 * state record may remain in any of them. Fails the run otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

let privateTmp = '';

function leftoversIn(dir: string, prefix: string): string[] {
  const stateDir = path.join(dir, 'postgate-state');
  const records = existsSync(stateDir) ? readdirSync(stateDir).map((name) => `${prefix}postgate-state/${name}`) : [];
  const dirs = readdirSync(dir).filter((name) => /^postgate-(pg|drill|base)-/.test(name));
  return [...dirs.map((name) => `${prefix}${name}`), ...records];
}

function leftovers(): string[] {
  const fileDirs = readdirSync(privateTmp).filter((name) => name.startsWith('file-'));
  return [leftoversIn(privateTmp, ''), ...fileDirs.map((name) => leftoversIn(path.join(privateTmp, name), `${name}/`))].flat();
}

/** Postmasters whose data directory is inside the private temp directory. */
function servers(): string[] {
  try {
    return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`-D ${privateTmp}/`))
      .map((line) => line.trim());
  } catch {
    return [];
  }
}

export function setup(): void {
  privateTmp = mkdtempSync('/tmp/postgate-test-');
  // the unprivileged server user must be able to traverse into it
  chmodSync(privateTmp, 0o755);
  process.env.TMPDIR = privateTmp;
  process.env.POSTGATE_SUITE_TMPDIR = privateTmp;
  // the initdb template cache too: the suite leaves nothing in ~/.cache
  process.env.POSTGATE_CACHE_DIR = path.join(privateTmp, 'template-cache');
  // the suite never reaches the npm registry for a PostgreSQL major (fetch-embedded.test.ts serves its own)
  process.env.POSTGATE_NO_FETCH = '1';
  // Node's on-disk code cache, shared by the workers and every process started with their
  // environment: a `node scripts/postgate.ts` after the first compiles its TypeScript sources
  // from the cache, about half the CPU (it is removed with the rest of the private directory)
  process.env.NODE_COMPILE_CACHE = path.join(privateTmp, 'node-compile-cache');
}

export async function teardown(): Promise<void> {
  for (let i = 0; i < 50 && servers().length; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  const leakedServers = servers();
  const leaked = leftovers();
  if (leakedServers.length || leaked.length) {
    throw new Error(`postgate leaked resources after the suite: servers [${leakedServers.join('; ')}], files [${leaked.join(', ')}] in ${privateTmp}`);
  }
  rmSync(privateTmp, { recursive: true, force: true });
}
