/**
 * The action as the runner starts it: a child process running run-action.ts with INPUT_*,
 * GITHUB_EVENT_NAME/GITHUB_EVENT_PATH (realistic pull_request and schedule payloads),
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE, RUNNER_TEMP and GITHUB_API_URL pointing at
 * the local GitHub API. The webhooks gate fails fast on a bad input, so no database is needed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GATES } from '../../src/config/gates.ts';
import { appliesTo } from '../../src/config/input-spec.ts';
import { commentMarker, issueMarker } from '../../src/github/publish.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { suiteCacheEnv } from '../support/runner.ts';

const root = path.resolve(import.meta.dirname, '../..');
const REPO = 'acme/trip-planner';
const HEAD = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const MERGE = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const PASSWORD = 'pw-9f8e7d6c5b4a';
const TOKEN = 'ghs_writeTokenForTheActionTest123';
const FORK_TOKEN = 'ghs_readOnlyForkToken456';

let server: GitHubServer;
let dir: string;

function pullRequestEvent(fork: boolean) {
  const base = { full_name: REPO, name: 'trip-planner', owner: { login: 'acme' }, default_branch: 'main' };
  const headRepo = fork ? { full_name: 'contributor/trip-planner', name: 'trip-planner', owner: { login: 'contributor' }, fork: true } : base;
  return {
    action: 'synchronize',
    number: 42,
    pull_request: {
      number: 42,
      state: 'open',
      title: 'Add audit events',
      head: { ref: 'feature/audit', sha: HEAD, repo: headRepo },
      base: { ref: 'main', sha: 'cccccccccccccccccccccccccccccccccccccccc', repo: base },
    },
    repository: base,
    sender: { login: fork ? 'contributor' : 'ada' },
  };
}

const scheduleEvent = { schedule: '17 3 * * *', repository: { full_name: REPO, default_branch: 'main' } };

interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  state: string;
  files: string;
}

/** Parses GITHUB_OUTPUT's `name<<delimiter` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const value: string[] = [];
    for (i += 1; i < lines.length && lines[i] !== match[2]; i += 1) value.push(lines[i]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

async function runAction(event: string, payload: unknown, env: Record<string, string>): Promise<ActionRun> {
  const runDir = mkdtempSync(path.join(dir, 'run-'));
  const files = {
    GITHUB_EVENT_PATH: path.join(runDir, 'event.json'),
    GITHUB_OUTPUT: path.join(runDir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runDir, 'summary.md'),
    GITHUB_STATE: path.join(runDir, 'state'),
  };
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(payload));
  for (const file of [files.GITHUB_OUTPUT, files.GITHUB_STEP_SUMMARY, files.GITHUB_STATE]) writeFileSync(file, '');
  const runnerTemp = path.join(runDir, 'temp');
  mkdirSync(runnerTemp);
  const workspace = path.join(runDir, 'workspace');
  mkdirSync(workspace);
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...suiteCacheEnv(),
    TMPDIR: process.env.TMPDIR ?? os.tmpdir(),
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_REPOSITORY: REPO,
    GITHUB_SHA: MERGE,
    GITHUB_RUN_ID: '123456',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'postgate',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: server.url,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    ...files,
    // the runner passes every input's action.yml default
    ...Object.fromEntries(
      Object.entries(GATES.webhooks.inputs)
        .filter(([name, spec]) => appliesTo(spec, 'action') && 'default' in spec && name !== 'github-token')
        .map(([name, spec]) => [`INPUT_${name.toUpperCase()}`, (spec as { default: string }).default]),
    ),
    'INPUT_DATABASE-URL': `postgresql://app:${PASSWORD}@127.0.0.1:5432/app`,
    'INPUT_FAIL-ON': 'sometimes',
    'INPUT_SARIF-PATH': 'postgate.sarif',
    ...env,
  };
  const script = "import('./src/action/run-action.ts').then((m) => m.runAction('webhooks'))";
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: childEnv }, (error, out, err) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err });
    });
  });
  const read = (file: string) => readFileSync(file, 'utf8');
  const outputs = parseOutputs(read(files.GITHUB_OUTPUT));
  const written = [outputs['report-path'], outputs['sarif-path']]
    .filter(Boolean)
    .map((file) => read(file!))
    .join('\n');
  return { code, stdout, stderr, outputs, summary: read(files.GITHUB_STEP_SUMMARY), state: read(files.GITHUB_STATE), files: written };
}

/** Everything a run leaves anywhere, minus the runner's own add-mask commands (they carry secrets by design). */
function everything(run: ActionRun): string {
  const sent = JSON.stringify(server.requests.map((r) => r.body));
  const stdout = run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return [stdout, run.stderr, JSON.stringify(run.outputs), run.summary, run.files, sent].join('\n');
}

beforeAll(async () => {
  server = await startGitHubServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'postgate-action-test-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset();
  server.addToken(TOKEN);
  server.addToken(FORK_TOKEN, { issues: 'read', pullRequests: 'read', checks: 'read' });
  server.addPullRequest(REPO, 42, HEAD);
});

describe('run-action.ts in a child process', () => {
  it('on a pull request: outputs, report, SARIF, job summary, sticky comment and check run at the PR head; exit 2', async () => {
    const run = await runAction('pull_request', pullRequestEvent(false), { 'INPUT_GITHUB-TOKEN': TOKEN });
    expect(run.code, run.stderr).toBe(2);
    expect(run.outputs).toMatchObject({ status: 'error', errors: '0', warnings: '0', notices: '0' });
    expect(run.outputs['report-path']).toMatch(/temp\/postgate-webhooks\.json$/);
    expect(run.outputs['sarif-path']).toMatch(/workspace\/postgate\.sarif$/);
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    expect(report).toMatchObject({ gate: 'webhooks', status: 'error', error: 'Input `fail-on` is "sometimes"; use one of error, warning, notice.' });
    const sarif = JSON.parse(readFileSync(run.outputs['sarif-path']!, 'utf8'));
    expect(sarif).toMatchObject({ version: '2.1.0', runs: [{ invocations: [{ executionSuccessful: false }], results: [] }] });
    expect(run.state).toContain('postgate-main-pid');
    expect(run.summary).toContain('### ⚠️ postgate webhook-secret-check could not run');
    expect(run.stdout).toMatch(/::error::postgate webhook-secret-check could not run: Input `fail-on` is "sometimes"; use one of error, warning, notice\./);

    const comments = server.comments(REPO, 42);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(commentMarker('webhooks', '127.0.0.1:5432/app'))).toBe(true);
    expect(comments[0]!.body).toContain('[run](https://github.com/acme/trip-planner/actions/runs/123456)');
    const [check] = server.checkRuns(REPO);
    expect(check).toMatchObject({ name: 'postgate webhook-secret-check (127.0.0.1:5432/app)', headSha: HEAD, conclusion: 'failure', title: 'Could not run' });
    expect(server.requests.every((r) => r.token === TOKEN)).toBe(true);
    expect(everything(run)).not.toContain(PASSWORD);
    expect(everything(run)).not.toContain(TOKEN);

    // the next push to the PR updates the same comment
    const again = await runAction('pull_request', pullRequestEvent(false), { 'INPUT_GITHUB-TOKEN': TOKEN });
    expect(again.code, again.stderr).toBe(2);
    expect(server.comments(REPO, 42)).toHaveLength(1);
    expect(server.checkRuns(REPO)).toHaveLength(2);
  });

  it('on a fork pull request: the 403 becomes one warning, the summary still has everything, the verdict is unchanged', async () => {
    const run = await runAction('pull_request', pullRequestEvent(true), { 'INPUT_GITHUB-TOKEN': FORK_TOKEN });
    expect(run.code, run.stderr).toBe(2);
    expect(run.outputs.status).toBe('error');
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /could not post the PR comment and the check run \(HTTP 403: Resource not accessible by integration\): this pull request comes from a fork/,
    );
    expect(run.summary).toMatch(/> \[!WARNING\]/);
    expect(run.summary).toContain('could not run');
    expect(server.comments(REPO, 42)).toHaveLength(0);
    expect(server.requests.filter((r) => r.status === 403).map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(everything(run)).not.toContain(PASSWORD);
  });

  it('on a schedule: opens one tracking issue and updates it on the next failure', async () => {
    const first = await runAction('schedule', scheduleEvent, { 'INPUT_GITHUB-TOKEN': TOKEN });
    expect(first.code, first.stderr).toBe(2);
    const second = await runAction('schedule', scheduleEvent, { 'INPUT_GITHUB-TOKEN': TOKEN });
    expect(second.code, second.stderr).toBe(2);
    const issues = server.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ state: 'open', labels: ['postgate'], title: 'postgate webhook-secret-check (127.0.0.1:5432/app) could not run' });
    expect(issues[0]!.body).toContain(issueMarker('webhooks', '127.0.0.1:5432/app'));
    expect(server.checkRuns(REPO)).toHaveLength(0);
    expect(everything(second)).not.toContain(PASSWORD);
  });

  it('as the post step: only cleans up', async () => {
    const run = await runAction('pull_request', pullRequestEvent(false), { 'INPUT_GITHUB-TOKEN': TOKEN, 'STATE_postgate-main-pid': '999999' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.outputs).toEqual({});
    expect(run.summary).toBe('');
    expect(server.requests).toHaveLength(0);
  });
});
