/**
 * Helpers for the fault and bad-input matrices: the CLI run as a user runs it (its own
 * TMPDIR, so what it leaves behind can be checked), a TCP proxy that can be cut or that
 * swallows packets, a small filesystem, and the checks every fault shares (one sentence,
 * no stack trace, nothing left running).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { GateResult } from '../../src/findings/types.ts';
import { ROOT } from './runner.ts';

export const CLI = path.join(ROOT, 'scripts', 'postgate.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as the JSON GateResult, when it is one. */
  result?: GateResult;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** TMPDIR of the run (where its throwaway clusters live). */
  tmpdir: string;
  /** Called once the process started (e.g. to send it SIGTERM). */
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/** The parent's environment without anything that would configure postgate behind the test's back. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(INPUT_|GITHUB_|RUNNER_|PG_BIN$|PG[A-Z]+$|HMAC_SECRET$)/.test(key)) continue;
    if (key.startsWith('POSTGATE_') && key !== 'POSTGATE_CACHE_DIR') continue;
    env[key] = value;
  }
  return env;
}

/** `node scripts/postgate.ts <args>`: the CLI from source, as `npm run postgate` runs it. */
export function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  const env: Record<string, string> = { ...cleanEnv(), NO_COLOR: '1', TMPDIR: options.tmpdir };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
    options.onSpawn?.(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let result: GateResult | undefined;
      try {
        result = JSON.parse(stdout) as GateResult;
      } catch {
        result = undefined;
      }
      resolve({ code, signal, stdout, stderr, ...(result ? { result } : {}) });
    });
  });
}

/** A fresh directory for one run's TMPDIR; the unprivileged server user must be able to enter it. */
export function scratchDir(parent: string, prefix: string): string {
  const dir = mkdtempSync(path.join(parent, `${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Postmaster processes whose data directory is under `dir`. */
export function serversUnder(dir: string): string[] {
  try {
    return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`-D ${dir}/`))
      .map((line) => line.trim());
  } catch {
    return [];
  }
}

export interface Leftovers {
  servers: string[];
  /** postgate-pg-* and postgate-drill-* directories. */
  dirs: string[];
  /** State records of resources not cleaned up. */
  records: string[];
}

/** What a run left in its TMPDIR (state records also under RUNNER_TEMP when given); waits briefly for servers to exit. */
export async function leftovers(tmpdir: string, runnerTemp?: string): Promise<Leftovers> {
  for (let i = 0; i < 50 && serversUnder(tmpdir).length; i += 1) await sleep(100);
  const records = [tmpdir, ...(runnerTemp ? [runnerTemp] : [])].flatMap((dir) => {
    const state = path.join(dir, 'postgate-state');
    return existsSync(state) ? readdirSync(state).map((name) => path.join(state, name)) : [];
  });
  return {
    servers: serversUnder(tmpdir),
    dirs: existsSync(tmpdir) ? readdirSync(tmpdir).filter((name) => /^postgate-(pg|drill)-/.test(name)) : [],
    records,
  };
}

export const NOTHING_LEFT: Leftovers = { servers: [], dirs: [], records: [] };

/** Problems with "one sentence": a line break, a missing full stop, or a second sentence. */
export function sentenceProblems(text: string | undefined): string[] {
  if (!text) return ['no message'];
  const problems: string[] = [];
  if (/\n/.test(text)) problems.push('contains a line break');
  // a question is a sentence too: "...; did you mean `--database-url`?"
  if (!/[.?]$/.test(text)) problems.push('does not end with a full stop');
  // ". X" starts a second sentence, except after common abbreviations (e.g., i.e., etc.)
  const second = /(?<!\b(?:e\.g|i\.e|etc|vs))[.!?]\s+[A-Z]/.exec(text);
  if (second) problems.push(`second sentence at "${text.slice(second.index, second.index + 30)}"`);
  return problems;
}

/** A Node stack frame ("    at fn (file:1:2)") or an uncaught-error banner. */
export const STACK_TRACE = /\n\s+at (?:\S+ \()?\S+:\d+:\d+\)?|Uncaught|UnhandledPromiseRejection|node:internal/;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 60_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A URL for the same server with another user and password. */
export function asUser(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

export interface TcpProxy {
  port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Drops every open connection at once (both sides reset), as a network failure would. */
  cut(): void;
  close(): Promise<void>;
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Forwards 127.0.0.1:<port> to the target; `cut()` severs every connection mid-stream. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    for (const socket of pair) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        pairs.delete(pair);
        for (const other of pair) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return pairs.size;
    },
    cut() {
      for (const socket of [...sockets]) socket.resetAndDestroy();
    },
    close: () => closeServer(server, sockets),
  };
}

/** A host that accepts TCP connections and never answers, like a firewall that drops packets after the handshake. */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void>; connected: Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let onConnection: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnection = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onConnection();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => closeServer(server, sockets), connected };
}

export type SmallFs = { dir: string; how: string; unmount(): void } | { skip: string };

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function errorText(error: unknown): string {
  const e = error as { stderr?: Buffer | string; message?: string };
  return (e.stderr ? String(e.stderr) : (e.message ?? String(error))).trim().split('\n')[0] ?? '';
}

/**
 * A real filesystem of `sizeMb` under `parent`: tmpfs when mounting is allowed (root, or
 * CAP_SYS_ADMIN), else a loop-mounted ext2 image. When neither works, says exactly why.
 */
export function smallFilesystem(parent: string, sizeMb: number): SmallFs {
  const dir = mkdtempSync(path.join(parent, 'smallfs-'));
  const attempts: string[] = [];
  const unmount = (image?: string) => () => {
    try {
      run('umount', [dir]);
    } catch {
      run('umount', ['-l', dir]);
    }
    rmSync(dir, { recursive: true, force: true });
    if (image) rmSync(image, { force: true });
  };
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
    return { dir, how: `tmpfs of ${sizeMb} MB`, unmount: unmount() };
  } catch (error) {
    attempts.push(`mount -t tmpfs: ${errorText(error)}`);
  }
  const image = path.join(parent, `smallfs-${process.pid}-${Date.now()}.img`);
  try {
    run('truncate', ['-s', `${sizeMb}M`, image]);
    run('mkfs.ext2', ['-q', '-F', image]);
    run('mount', ['-o', 'loop', image, dir]);
    chmodSync(dir, 0o755);
    return { dir, how: `loop-mounted ext2 image of ${sizeMb} MB`, unmount: unmount(image) };
  } catch (error) {
    attempts.push(`loop-mounted ext2: ${errorText(error)}`);
    rmSync(image, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  return { skip: `no small filesystem could be made here (${attempts.join('; ')})` };
}

/** Ensures a directory exists (mode 0755, enterable by the server user). */
export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/** Everything a run printed, for secret and stack-trace checks. */
export function printed(run: { stdout: string; stderr: string }): string {
  return `${run.stdout}\n${run.stderr}`;
}

export function tmpRoot(): string {
  return os.tmpdir();
}
