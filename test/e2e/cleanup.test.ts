/**
 * Cleanup proof: gate runs that start throwaway PostgreSQL (drift-gate PR mode, rls-audit on
 * the migrations, restore-drill from a live source), from the committed bundles as the runner
 * runs them (main step, then the post step with the saved state) and from the CLI bundle, two at
 * a time, some killed mid-way:
 *
 * - SIGTERM (or SIGINT, the CLI's Ctrl-C) during the cluster's start (initdb running), the
 *   Supabase baseline, the migrations, pg_dump and pg_restore: the process must clean up itself
 *   and exit 128 + signal, leaving the post step nothing to do (the CLI has no post step);
 * - SIGKILL (no handler runs) during the cluster's start, the migrations and the restore: the
 *   action's post step (`reapOrphans` with the main step's pid) must reap what was left.
 *
 * After every run: no process refers to the run's TMPDIR or run directory (`ps`: servers,
 * initdb, pg_dump, pg_restore, psql), nothing listens on any port its clusters used (sampled from
 * the servers' command lines while they ran, checked in /proc/net/tcp and tcp6), TMPDIR is empty
 * and RUNNER_TEMP holds at most the JSON report (an empty postgate-state/ is allowed in both), no
 * state record names a container and, with a Docker engine, no testcontainers container is left.
 *
 * POSTGATE_CLEANUP_RUNS sets the number of runs: by default two rounds of the modes below (each
 * mode twice, so a second run meets whatever the first left), about a minute on two busy cores;
 * the scheduled CI job (.github/workflows/ci.yml, `stress`) runs 50.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/config/input-spec.ts';
import type { GateId } from '../../src/findings/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { EXAMPLE_APP } from '../../scripts/example-app.ts';
import { startTestCluster } from '../support/pg.ts';
import { ROOT, runActionBundle, type StepRun, suiteCacheEnv } from '../support/runner.ts';

interface Kill {
  signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL';
  /** The step during which to kill: its line, `::group::<step>` from the action, `… <step>` from the CLI. */
  during: RegExp;
  /** Wait until the step has tracked a resource (its state record exists): the cluster is being set up. */
  afterRecord?: boolean;
}

interface Mode {
  name: string;
  gate: GateId;
  inputs: () => Record<string, string>;
  kill?: Kill;
  /** Run `postgate <gate>` (the CLI bundle, no post step to fall back on) instead of the action. */
  cli?: boolean;
}

let cluster: Cluster;
let sourceUrl: string;
let root: string;

const MIGRATIONS = { 'migrations-dir': 'supabase/migrations' };
const drift = (kill?: Kill): Mode => ({ name: 'drift-gate PR mode', gate: 'drift', inputs: () => MIGRATIONS, ...(kill ? { kill } : {}) });
const rls = (kill?: Kill): Mode => ({ name: 'rls-audit on the migrations', gate: 'rls', inputs: () => MIGRATIONS, ...(kill ? { kill } : {}) });
const drill = (kill?: Kill): Mode => ({
  name: 'restore-drill from a live source',
  gate: 'drill',
  inputs: () => ({ 'source-database-url': sourceUrl, jobs: '2' }),
  ...(kill ? { kill } : {}),
});

const CLUSTER_START = /(::group::|… )starting a shadow PostgreSQL/;
const BASELINE = /(::group::|… )applying the Supabase baseline/;
const MIGRATING = /(::group::|… )applying \d+ migration/;
const DUMPING = /(::group::|… )fetch: /;
const RESTORING = /(::group::|… )restore: /;
const cli = (mode: Mode): Mode => ({ ...mode, name: `postgate ${mode.gate} (CLI)`, cli: true });

/** One round; the runs go through it in order, two at a time. */
const ROUND: Mode[] = [
  drift(),
  rls(),
  drill(),
  drift({ signal: 'SIGTERM', during: CLUSTER_START, afterRecord: true }),
  rls({ signal: 'SIGTERM', during: MIGRATING }),
  drill({ signal: 'SIGTERM', during: RESTORING }),
  drift({ signal: 'SIGKILL', during: MIGRATING }),
  drill({ signal: 'SIGTERM', during: DUMPING }),
  rls({ signal: 'SIGTERM', during: BASELINE }),
  drill({ signal: 'SIGKILL', during: RESTORING }),
  drift({ signal: 'SIGKILL', during: CLUSTER_START, afterRecord: true }),
  cli(drill({ signal: 'SIGINT', during: RESTORING })),
  cli(rls({ signal: 'SIGTERM', during: MIGRATING })),
  cli(drift()),
];
const RUNS = Number(process.env.POSTGATE_CLEANUP_RUNS ?? 2 * ROUND.length);

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'postgate-cleanup-'));
  // the unprivileged server user must reach the clusters' directories in each run's TMPDIR
  chmodSync(root, 0o755);
  cluster = await startTestCluster();
  sourceUrl = await cluster.createDatabase('shop');
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  await client.query(`
    create table public.orders (id bigint primary key, customer text not null, total numeric(10,2), placed_at timestamptz default now());
    insert into public.orders select g, 'customer ' || (g % 500), g * 0.25, now() - g * interval '1 minute' from generate_series(1, 60000) g;
    create index orders_customer_idx on public.orders (customer);
    create table public.customers as select distinct customer as name from public.orders;`);
  await client.end();
});

afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// What a run may leave behind

interface ProcessLine {
  pid: number;
  args: string;
}

/** Processes (by `ps`) whose command line mentions a path inside `dir`. */
function processesUsing(dir: string): ProcessLine[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => Boolean(match) && match![2]!.includes(`${dir}/`) && Number(match![1]) !== process.pid)
    .map((match) => ({ pid: Number(match[1]), args: match[2]! }));
}

/** The ports PostgreSQL servers under `dir` listen on, read from /proc (cheap enough to poll). */
function serverPorts(dir: string): number[] {
  const ports: number[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const port = args.indexOf('-p');
    if (args.some((arg) => arg.startsWith(`${dir}/`)) && port >= 0 && /^\d+$/.test(args[port + 1] ?? '')) ports.push(Number(args[port + 1]));
  }
  return ports;
}

/** Ports in LISTEN state, from /proc/net/tcp and tcp6 (state 0A). */
function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A') ports.add(parseInt(fields[1]!.split(':').at(-1)!, 16));
    }
  }
  return ports;
}

function dockerContainers(): string[] | undefined {
  try {
    return execFileSync('docker', ['ps', '-aq', '--filter', 'label=org.testcontainers=true'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined; // no Docker engine: the local provider is all there is
  }
}

interface RunDirs {
  tmp: string;
  runDir: string;
  /** The action's RUNNER_TEMP (none for the CLI). */
  runnerTemp?: string;
}

function stateRecords(parent: string): Array<{ containerId?: string }> {
  const dir = path.join(parent, 'postgate-state');
  if (!existsSync(dir)) return [];
  const records: Array<{ containerId?: string }> = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      records.push(JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
    } catch (error) {
      // removed between the listing and the read: the run stopped that resource
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return records;
}

async function eventually<T>(read: () => T, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  let value = read();
  for (let waited = 0; !done(value) && waited < ms; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = read();
  }
  return value;
}

/** What a finished run (main and post step) left behind; empty means clean. */
async function leftovers(dirs: RunDirs, ports: ReadonlySet<number>, gate: GateId): Promise<string[]> {
  const problems: string[] = [];
  // a process killed with its parent may take a moment to notice its server is gone
  const processes = await eventually(
    () => [...processesUsing(dirs.tmp), ...processesUsing(dirs.runDir)],
    (list) => list.length === 0,
  );
  for (const p of processes) problems.push(`process ${p.pid}: ${p.args}`);
  const listening = listeningPorts();
  for (const port of ports) if (listening.has(port)) problems.push(`port ${port} still listening`);
  const unexpected = (dir: string, label: string, allowed: string[]) => {
    for (const name of readdirSync(dir)) {
      if (allowed.includes(name)) continue;
      const records = name === 'postgate-state' ? readdirSync(path.join(dir, name)) : [];
      if (name === 'postgate-state' && records.length === 0) continue;
      problems.push(`${label}/${name}${records.length ? ` (${records.join(', ')})` : ''}`);
    }
  };
  // the CLI keeps its state records in TMPDIR, the action in RUNNER_TEMP; the JSON report is the action's output
  unexpected(dirs.tmp, 'TMPDIR', []);
  if (dirs.runnerTemp) unexpected(dirs.runnerTemp, 'RUNNER_TEMP', [`postgate-${gate}.json`]);
  for (const record of [...stateRecords(dirs.tmp), ...(dirs.runnerTemp ? stateRecords(dirs.runnerTemp) : [])]) {
    if (record.containerId) problems.push(`container ${record.containerId}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

interface Outcome {
  index: number;
  mode: Mode;
  run: StepRun & { post?: StepRun };
  killed: boolean;
  ports: Set<number>;
  problems: string[];
}

/** `postgate <gate>` from the CLI bundle, flags as POSTGATE_* variables, like a developer's shell or a plain CI script. */
function runCli(mode: Mode, tmp: string, onStart: (child: ChildProcess) => void): Promise<StepRun> {
  return new Promise((resolve) => {
    const flags = Object.fromEntries(Object.entries(mode.inputs()).map(([name, value]) => [envName(name), value]));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'postgate.js'), mode.gate], {
      cwd: EXAMPLE_APP,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TMPDIR: tmp,
        // the suite's code cache (global-setup.ts), outside every run's TMPDIR
        ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
        ...suiteCacheEnv(),
        ...flags,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    onStart(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function runOne(index: number, mode: Mode): Promise<Outcome> {
  const tmp = path.join(root, `tmp-${index}`);
  mkdirSync(tmp, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  const parent = mkdtempSync(path.join(root, `run-${index}-`));
  const ports = new Set<number>();
  const sampler = setInterval(() => {
    for (const port of serverPorts(tmp)) ports.add(port);
  }, 100);
  let killed = false;
  const dirs: RunDirs = { tmp, runDir: parent };
  const watch = (child: ChildProcess, runDirs?: { runDir: string; runnerTemp: string }) => {
    Object.assign(dirs, runDirs);
    const kill = mode.kill;
    if (!kill) return;
    let seen = '';
    let armed = false;
    // the action logs its steps on stdout, the CLI on stderr
    (mode.cli ? child.stderr : child.stdout)?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (armed || !kill.during.test(seen)) return;
      armed = true;
      void (async () => {
        if (kill.afterRecord)
          await eventually(
            () => stateRecords(dirs.runnerTemp ?? tmp).length,
            (n) => n > 0,
            20_000,
          );
        for (const port of serverPorts(tmp)) ports.add(port);
        killed = child.kill(kill.signal);
      })();
    });
  };
  try {
    const run = mode.cli
      ? await runCli(mode, tmp, watch)
      : await runActionBundle({
          gate: mode.gate,
          event: 'push',
          workspace: EXAMPLE_APP,
          parent,
          inputs: { ...mode.inputs(), comment: 'never' },
          env: { TMPDIR: tmp },
          onStart: watch,
          timeoutMs: 150_000,
        });
    clearInterval(sampler);
    return { index, mode, run, killed, ports, problems: await leftovers(dirs, ports, mode.gate) };
  } finally {
    clearInterval(sampler);
  }
}

function describeOutcome(o: Outcome): string {
  const kill = o.mode.kill ? ` (${o.mode.kill.signal} during ${o.mode.kill.during.source.replace('::group::', '')})` : '';
  return `run #${o.index} ${o.mode.name}${kill}: exit ${o.run.code ?? o.run.signal}, post exit ${o.run.post?.code ?? '-'}\n${o.run.stderr.slice(-1500)}\n${o.run.stdout.slice(-1500)}\npost: ${o.run.post?.stdout.slice(-500)}${o.run.post?.stderr}`;
}

describe('cleanup after many gate runs, some killed mid-way', () => {
  it(`${RUNS} runs, two at a time, leave no process, port, temp dir, state record or container`, async () => {
    const containersBefore = dockerContainers();
    const outcomes: Outcome[] = [];
    for (let index = 0; index < RUNS; index += 2) {
      const pair = [index, index + 1].filter((i) => i < RUNS);
      outcomes.push(...(await Promise.all(pair.map((i) => runOne(i, ROUND[i % ROUND.length]!)))));
      for (const outcome of outcomes.slice(-pair.length)) {
        const context = describeOutcome(outcome);
        expect(outcome.problems, context).toEqual([]);
        if (!outcome.mode.cli) expect(outcome.run.post?.code, context).toBe(0);
        const kill = outcome.mode.kill;
        if (!kill) {
          expect([0, 1], context).toContain(outcome.run.code);
          // its clusters were seen listening, so the port check above had ports to check
          expect(outcome.ports.size, context).toBeGreaterThan(0);
          continue;
        }
        // the kill happened while the step ran, not after the gate had finished
        expect(outcome.killed, `${context}\nnever reached the step to kill in`).toBe(true);
        if (kill.signal === 'SIGKILL') {
          expect(outcome.run.signal, context).toBe('SIGKILL');
          // the main step left resources behind, and the post step reaped them
          expect(outcome.run.post?.stdout, context).toMatch(/cleaned up [1-9]\d* leftover resource/);
        } else {
          // SIGTERM/SIGINT: the process cleaned up itself (its handler ran to the end and exited
          // 2, "could not run") and left the post step nothing, as the CLI, which has no post step, needs
          expect(outcome.run.code, context).toBe(2);
          if (outcome.run.post) expect(outcome.run.post.stdout, context).not.toMatch(/cleaned up/);
        }
      }
    }
    expect(outcomes).toHaveLength(RUNS);
    expect(outcomes.filter((o) => o.mode.kill?.signal === 'SIGKILL').length).toBeGreaterThanOrEqual(Math.min(1, RUNS));
    if (containersBefore) expect(dockerContainers()).toEqual(containersBefore);
  }, 1_800_000);
});
