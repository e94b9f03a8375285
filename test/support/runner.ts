/**
 * Runs an action the way the GitHub runner does: `node actions/<name>/dist/index.js` (the
 * committed bundle) with INPUT_* (every action.yml default, as the runner passes them),
 * GITHUB_EVENT_NAME/GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE,
 * RUNNER_TEMP and GITHUB_API_URL; then, like the runner, the `post` step with the STATE_*
 * values the main step saved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { GATES } from '../../src/config/gates.ts';
import type { GateId } from '../../src/findings/types.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const REPO = 'acme/trip-planner';
export const HEAD_SHA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
export const BASE_SHA = 'cccccccccccccccccccccccccccccccccccccccc';
export const MERGE_SHA = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

const baseRepo = { full_name: REPO, name: 'trip-planner', owner: { login: 'acme' }, default_branch: 'main' };

export const EVENTS = {
  pull_request: (fork = false, number = 42) => ({
    action: 'synchronize',
    number,
    pull_request: {
      number,
      state: 'open',
      title: 'Add audit events',
      head: {
        ref: 'feature/audit',
        sha: HEAD_SHA,
        repo: fork ? { full_name: 'contributor/trip-planner', name: 'trip-planner', owner: { login: 'contributor' }, fork: true } : baseRepo,
      },
      base: { ref: 'main', sha: BASE_SHA, repo: baseRepo },
    },
    repository: baseRepo,
    sender: { login: fork ? 'contributor' : 'ada' },
  }),
  push: () => ({ ref: 'refs/heads/main', before: BASE_SHA, after: MERGE_SHA, repository: baseRepo, pusher: { name: 'ada' } }),
  schedule: () => ({ schedule: '17 3 * * *', repository: baseRepo }),
  workflow_dispatch: () => ({ ref: 'refs/heads/main', inputs: {}, repository: baseRepo, sender: { login: 'ada' } }),
} as const;

export type EventName = keyof typeof EVENTS;

export interface StepRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ActionRun extends StepRun {
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
  post?: StepRun;
  runDir: string;
  workspace: string;
  runnerTemp: string;
}

/** Parses the `name<<delimiter` blocks (and plain name=value lines) of GITHUB_OUTPUT / GITHUB_STATE. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const block = /^([^<=]+)<<(.+)$/.exec(line);
    if (block) {
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== block[2]; i += 1) value.push(lines[i]!);
      out[block[1]!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/** The action.yml defaults, as the runner passes them (`${{ github.token }}` becomes the token). */
function defaultInputs(gate: GateId, token: string | undefined): Record<string, string> {
  const manifest = parse(readFileSync(path.join(ROOT, 'actions', GATES[gate].action, 'action.yml'), 'utf8'));
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.inputs as Record<string, { default?: string }>)) {
    if (spec.default === undefined) continue;
    env[`INPUT_${name.toUpperCase()}`] = spec.default === '${{ github.token }}' ? (token ?? '') : String(spec.default);
  }
  return env;
}

export interface RunOptions {
  gate: GateId;
  event: EventName;
  /** The event payload (default `EVENTS[event]()`), e.g. `EVENTS.pull_request(true, 43)` for a fork's pull request. */
  payload?: object;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** GITHUB_API_URL (the test GitHub server). */
  apiUrl?: string;
  token?: string;
  /** The repository checked out in GITHUB_WORKSPACE (copied or pointed at). */
  workspace?: string;
  /** Directory for the run's files (a temp dir by default). */
  parent: string;
  /** Called with the main step's process once it started (e.g. to send SIGTERM), and the run's directories. */
  onStart?: (child: ChildProcess, dirs: RunDirs) => void;
  /** Run the post step too (default true). */
  post?: boolean;
  timeoutMs?: number;
}

/** Where a run keeps its files: RUNNER_TEMP holds postgate-state/, the records the post step reaps from. */
export interface RunDirs {
  runDir: string;
  runnerTemp: string;
  workspace: string;
}

function runStep(script: string, env: Record<string, string>, cwd: string, timeoutMs: number, onStart?: (child: ChildProcess) => void): Promise<StepRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    onStart?.(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function runActionBundle(options: RunOptions): Promise<ActionRun> {
  const runDir = mkdtempSync(path.join(options.parent, 'run-'));
  const files = {
    GITHUB_EVENT_PATH: path.join(runDir, 'event.json'),
    GITHUB_OUTPUT: path.join(runDir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runDir, 'summary.md'),
    GITHUB_STATE: path.join(runDir, 'state'),
  };
  const payload = options.payload ?? EVENTS[options.event]();
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(payload));
  for (const file of [files.GITHUB_OUTPUT, files.GITHUB_STEP_SUMMARY, files.GITHUB_STATE]) writeFileSync(file, '');
  const runnerTemp = path.join(runDir, 'temp');
  mkdirSync(runnerTemp);
  const workspace = options.workspace ?? path.join(runDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const inputs = Object.fromEntries(Object.entries(options.inputs ?? {}).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    // the suite's code cache (global-setup.ts): the bundle compiles once, not in every step
    ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
    // the suite's own template cache and no registry fetch (global-setup.ts): nothing in ~/.cache
    ...suiteCacheEnv(),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: options.event,
    GITHUB_REPOSITORY: REPO,
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SHA: options.event === 'pull_request' ? MERGE_SHA : MERGE_SHA,
    GITHUB_REF: options.event === 'pull_request' ? `refs/pull/${(payload as { number?: number }).number ?? 42}/merge` : 'refs/heads/main',
    GITHUB_RUN_ID: '123456',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'postgate',
    GITHUB_JOB: 'gates',
    GITHUB_ACTOR: 'ada',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    ...files,
    ...defaultInputs(options.gate, options.token),
    ...inputs,
    ...options.env,
  };
  const script = path.join(ROOT, 'actions', GATES[options.gate].action, 'dist', 'index.js');
  const timeoutMs = options.timeoutMs ?? 180_000;
  const main = await runStep(script, env, workspace, timeoutMs, options.onStart && ((child) => options.onStart!(child, { runDir, runnerTemp, workspace })));
  const state = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
  const run: ActionRun = {
    ...main,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    state,
    runDir,
    workspace,
    runnerTemp,
  };
  if (options.post !== false) {
    const stateEnv = Object.fromEntries(Object.entries(state).map(([key, value]) => [`STATE_${key}`, value]));
    run.post = await runStep(script, { ...env, ...stateEnv }, workspace, timeoutMs);
  }
  return run;
}

/** Every place a run can leave text, minus the runner's add-mask commands (they carry secrets by design). */
export function everythingWritten(run: ActionRun, extra: string[] = []): string {
  const withoutMasks = (text: string) =>
    text
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
  const files = [run.outputs['report-path'], run.outputs['sarif-path']].filter(Boolean).map((file) => {
    try {
      return readFileSync(file!, 'utf8');
    } catch {
      return '';
    }
  });
  return [
    withoutMasks(run.stdout),
    run.stderr,
    JSON.stringify(run.outputs),
    run.summary,
    ...files,
    run.post ? withoutMasks(run.post.stdout) + run.post.stderr : '',
    ...extra,
  ].join('\n');
}

/** The suite's template cache and its no-fetch rule (global-setup.ts), for processes started with a minimal environment. */
export function suiteCacheEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['POSTGATE_CACHE_DIR', 'POSTGATE_NO_FETCH']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}
