/**
 * Everything an ephemeral cluster leaves running (server processes, containers,
 * scratch databases, temp directories) is tracked here and cleaned up on success,
 * failure, exception, process exit and SIGTERM/SIGINT/SIGHUP. Each resource also
 * has a state file under `<RUNNER_TEMP or tmpdir>/postgate-state/`, so a later
 * process (the action's `post` step, the next run, the test suite's teardown)
 * can reap what a killed process left behind.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StateRecord {
  id: string;
  ownerPid: number;
  /** A local server's postmaster pid. */
  pid?: number;
  /** A temp directory to delete. */
  dir?: string;
  /** A container id (docker provider; testcontainers' reaper also removes it). */
  containerId?: string;
  createdAt: string;
}

export interface TrackedResource {
  record: StateRecord;
  /** Graceful async cleanup. */
  stop(): Promise<void>;
  /** Last-resort synchronous cleanup (process 'exit'). */
  stopSync(): void;
}

const live = new Map<string, TrackedResource>();
let signalHandlersInstalled = false;

export function stateDir(): string {
  return path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'postgate-state');
}

function recordPath(id: string): string {
  return path.join(stateDir(), `${id}.json`);
}

export function track(resource: TrackedResource): void {
  installSignalHandlers();
  live.set(resource.record.id, resource);
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(recordPath(resource.record.id), JSON.stringify(resource.record));
}

export function untrack(id: string): void {
  live.delete(id);
  try {
    unlinkSync(recordPath(id));
  } catch {
    // already gone
  }
}

export function liveResourceCount(): number {
  return live.size;
}

/** Stops every resource this process started. */
export async function cleanupAll(): Promise<void> {
  const resources = [...live.values()];
  await Promise.allSettled(resources.map((resource) => resource.stop()));
}

function cleanupAllSync(): void {
  for (const resource of [...live.values()]) {
    try {
      resource.stopSync();
    } catch {
      // keep going: every resource gets its chance
    }
    untrack(resource.record.id);
  }
}

/** A gate stopped by a signal did not run to its verdict: exit 2 ("could not run"), as DESIGN.md says. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let gateEntryPoint = false;

/**
 * For the CLI and the actions: a signal during a gate, even one that started nothing, ends with
 * one sentence and exit 2 rather than a bare signal.
 */
export function stopCleanlyOnSignals(): void {
  gateEntryPoint = true;
  installSignalHandlers();
}

/**
 * On SIGINT/SIGTERM/SIGHUP: stop every tracked cluster and remove every tracked directory, say so
 * in one sentence, exit 2. Installed by the first tracked resource and by the entry points. A
 * library user (a test worker) stopped with nothing running is not told about a gate.
 */
function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  process.on('exit', cleanupAllSync);
  let stopping = false;
  for (const signal of STOP_SIGNALS) {
    // `on`, not `once`: execa's child cleanup (signal-exit) re-raises a signal it finds no other
    // listener for, which would kill this process before the clusters are stopped.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      // Say what was cleaned up (a killed CI step otherwise ends without a word).
      const running = live.size;
      const stopped = () => {
        cleanupAllSync();
        if (running) {
          process.stderr.write(`postgate: stopped by ${signal} before the gate finished; the throwaway PostgreSQL it started was stopped and its files removed.\n`);
        } else if (gateEntryPoint) {
          process.stderr.write(`postgate: stopped by ${signal} before the gate finished.\n`);
        }
        process.exit(2);
      };
      const timer = setTimeout(stopped, 8000);
      timer.unref();
      void cleanupAll().finally(stopped);
    });
  }
}

/**
 * A temp directory that lives as long as an async job (e.g. a drill's backup): removed on exit,
 * SIGTERM/SIGINT/SIGHUP, or by a later `reapOrphans` after a kill. Returns the remover.
 */
export function trackTempDir(dir: string): () => void {
  const id = `dir-${randomUUID()}`;
  const remove = () => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    untrack(id);
  };
  track({ record: { id, ownerPid: process.pid, dir, createdAt: new Date().toISOString() }, stop: async () => remove(), stopSync: remove });
  return remove;
}

/** True when `pid` runs (a zombie left unreaped by a container's init counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Immediate shutdown (SIGQUIT), then SIGKILL if it lingers; waits so that deleting the
 * data directory afterwards does not race a server still writing into it.
 */
export function killAndWaitSync(pid: number): void {
  for (const [signal, waitMs] of [['SIGQUIT', 5000], ['SIGKILL', 2000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < waitMs && isAlive(pid); waited += 20) sleepSync(20);
    if (!isAlive(pid)) return;
  }
}

/** True when `pid` is a postgres process serving `dir` (guards against recycled pids). */
function isOurPostgres(pid: number, dir: string | undefined): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres') && (!dir || cmdline.includes(dir));
  } catch {
    return process.platform !== 'linux' && isAlive(pid);
  }
}

export function readRecords(): StateRecord[] {
  const dir = stateDir();
  if (!existsSync(dir)) return [];
  const records: StateRecord[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      records.push(JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
    } catch {
      // a half-written file from a killed process: ignore
    }
  }
  return records;
}

/**
 * Removes what dead processes (or `ownerPid`, e.g. the action's main step) left behind.
 * Returns the number of resources reaped.
 */
export function reapOrphans(options: { ownerPid?: number } = {}): number {
  let reaped = 0;
  for (const record of readRecords()) {
    const orphan = record.ownerPid === options.ownerPid || !isAlive(record.ownerPid);
    if (!orphan || live.has(record.id)) continue;
    if (record.pid && isOurPostgres(record.pid, record.dir)) killAndWaitSync(record.pid);
    if (record.containerId) {
      try {
        execFileSync('docker', ['rm', '-f', record.containerId], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // no docker CLI or already removed; testcontainers' reaper removes it too
      }
    }
    if (record.dir) rmSync(record.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    untrack(record.id);
    reaped += 1;
  }
  return reaped;
}
