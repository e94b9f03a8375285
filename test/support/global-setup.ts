/**
 * Runs the suite in a private temp directory (TMPDIR, inherited by the test workers) and
 * proves the suite leaks nothing: afterwards no PostgreSQL server started by postgate and
 * no postgate temp directory may remain in it. Fails the run otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

let privateTmp = '';

function leftovers(): string[] {
  const stateDir = path.join(privateTmp, 'postgate-state');
  const records = existsSync(stateDir) ? readdirSync(stateDir).map((name) => `postgate-state/${name}`) : [];
  const dirs = readdirSync(privateTmp).filter((name) => name.startsWith('postgate-pg-'));
  return [...dirs, ...records];
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
