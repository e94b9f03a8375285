/**
 * Runs the suite in a private temp directory (TMPDIR, inherited by the test workers; each test
 * file then works in a folder of its own inside it, per-file-tmp.ts) and proves the suite leaks
 * nothing: afterwards no PostgreSQL server started by postgate and no postgate temp directory or
 * state record may remain in any of them. Fails the run otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
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

const TMPFS_MAGIC = 0x01021994;
/** What the suite writes at most at once (clusters, restored copies, backups), with room to spare. */
const SUITE_BYTES = 6 * 1024 ** 3;

/**
 * Where the private temp directory goes: POSTGATE_TEST_TMPDIR when set, else /dev/shm when it is
 * a tmpfs with room for the suite, else the system's temp directory. The suite's clusters create
 * and delete tens of thousands of files (a CREATE DATABASE from a Supabase-baseline template is
 * about a thousand); on tmpfs that takes about a third of the kernel time it takes on ext4, and
 * kernel time was 45 % of the suite's CPU.
 */
function suiteTmpBase(): string {
  if (process.env.POSTGATE_TEST_TMPDIR) return process.env.POSTGATE_TEST_TMPDIR;
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= SUITE_BYTES) return '/dev/shm';
  } catch {
    // no /dev/shm here
  }
  return os.tmpdir();
}

export function setup(): void {
  privateTmp = mkdtempSync(path.join(suiteTmpBase(), 'postgate-test-'));
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
