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
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
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
  /** A client tool's process group (pg_dump, pg_restore, ...): its leader's pid. */
  processGroup?: number;
  /** The tool's process name: a reaper kills only processes of that name. */
  command?: string;
  /** The group leader's start time (Linux), so that a reused pid is never taken for it. */
  startTime?: string;
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
  // written whole then renamed, so a reaper (or anyone) never reads half a record
  const file = recordPath(resource.record.id);
  writeFileSync(`${file}.partial`, JSON.stringify(resource.record));
  renameSync(`${file}.partial`, file);
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

/** Client tools first: a pg_dump still writing must be gone before its directory is removed. */
function processesFirst<T>(items: readonly T[], record: (item: T) => StateRecord): T[][] {
  return [items.filter((item) => record(item).processGroup !== undefined), items.filter((item) => record(item).processGroup === undefined)];
}

/** Stops every resource this process started. */
export async function cleanupAll(): Promise<void> {
  for (const resources of processesFirst([...live.values()], (resource) => resource.record)) {
    await Promise.allSettled(resources.map((resource) => resource.stop()));
  }
}

function cleanupAllSync(): void {
  for (const resource of processesFirst([...live.values()], (resource) => resource.record).flat()) {
    try {
      resource.stopSync();
    } catch {
      // keep going: every resource gets its chance
    }
    untrack(resource.record.id);
  }
}

/** A gate stopped by a signal did not run to its verdict: exit 2 ("could not run"), as the README says. */
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
          process.stderr.write(
            `postgate: stopped by ${signal} before the gate finished; the throwaway PostgreSQL it started was stopped and its files removed.\n`,
          );
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
  for (const [signal, waitMs] of [
    ['SIGQUIT', 5000],
    ['SIGKILL', 2000],
  ] as const) {
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
  for (const record of processesFirst(readRecords(), (record) => record).flat()) {
    const orphan = record.ownerPid === options.ownerPid || !isAlive(record.ownerPid);
    if (!orphan || live.has(record.id)) continue;
    if (record.processGroup !== undefined) killProcessGroupSync(record);
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

// ---------------------------------------------------------------------------------------------
// Client tools (pg_dump, pg_restore, ...) run in a process group of their own: a stop or a signal
// ends the whole group (pg_dump -j's workers too), and a run killed with SIGKILL leaves a record
// that the action's post step or the next run uses to end them.

interface Member {
  pid: number;
  /** The process name (at most 15 characters on Linux). */
  comm: string;
  start?: string;
}

/** `/proc/<pid>/stat`: process group, name and start time (Linux). */
function procStat(pid: number): { pgrp: number; comm: string; start: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0]!, pgrp: Number(fields[2]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** The live processes of a process group. */
function groupMembers(pgid: number): Member[] {
  if (process.platform === 'linux') {
    const members: Member[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = procStat(Number(name));
      if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push({ pid: Number(name), comm: stat.comm, start: stat.start });
    }
    return members;
  }
  try {
    return execFileSync('ps', ['-A', '-o', 'pid=,pgid=,comm='], { encoding: 'utf8', timeout: 10_000 })
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => Boolean(m) && Number(m![2]) === pgid)
      .map((m) => ({ pid: Number(m[1]), comm: path.basename(m[3]!.trim()) }));
  } catch {
    return [];
  }
}

/** The members of the recorded group that are the recorded tool (never a process that reused the ids). */
function recordedMembers(record: Pick<StateRecord, 'processGroup' | 'command' | 'startTime'>): Member[] {
  const pgid = record.processGroup!;
  const members = groupMembers(pgid);
  const leader = members.find((m) => m.pid === pgid);
  if (leader && record.startTime && leader.start && leader.start !== record.startTime) return [];
  return members.filter((m) => !record.command || m.comm === record.command.slice(0, 15));
}

function signalAll(members: readonly Member[], signal: NodeJS.Signals): void {
  for (const member of members) {
    try {
      process.kill(member.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM (pg_dump then cancels its queries on the server), then SIGKILL; waits until the group is gone. */
function killProcessGroupSync(record: Pick<StateRecord, 'processGroup' | 'command' | 'startTime'>, graceMs = 3000): void {
  for (const [signal, waitMs] of [
    ['SIGTERM', graceMs],
    ['SIGKILL', 3000],
  ] as const) {
    const members = recordedMembers(record);
    if (!members.length) return;
    signalAll(members, signal);
    for (let waited = 0; waited < waitMs && members.some((m) => isAlive(m.pid)); waited += 20) sleepSync(20);
  }
}

export interface ToolProcess {
  /** The tool's name as the process list shows it (pg_dump, ..., or docker for a containerised tool). */
  command: string;
  /** The container the tool runs in (`docker run --name`), removed with it. */
  container?: string;
}

function removeContainerSync(name: string | undefined): void {
  if (!name) return;
  try {
    execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // no docker CLI, or already removed
  }
}

/**
 * Tracks a client tool started as the leader of its own process group (`detached`): until the
 * returned release is called (after the tool exited), a stop, a signal or the process's exit
 * ends the group, and a state record lets a later process end it after a SIGKILL. The release
 * also ends members the leader left behind.
 */
export function trackProcessGroup(pid: number, tool: ToolProcess): () => void {
  const id = `proc-${randomUUID()}`;
  const startTime = process.platform === 'linux' ? procStat(pid)?.start : undefined;
  const record: StateRecord = {
    id,
    ownerPid: process.pid,
    processGroup: pid,
    command: tool.command,
    ...(startTime ? { startTime } : {}),
    ...(tool.container ? { containerId: tool.container } : {}),
    createdAt: new Date().toISOString(),
  };
  const stopSync = () => {
    killProcessGroupSync(record, 0);
    removeContainerSync(tool.container);
  };
  track({
    record,
    stop: async () => {
      killProcessGroupSync(record);
      removeContainerSync(tool.container);
    },
    stopSync,
  });
  return () => {
    // the leader has exited and was reaped: what is left of its group (workers) goes too
    if (isGroupAlive(pid)) killProcessGroupSync(record, 0);
    untrack(id);
  };
}

function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
