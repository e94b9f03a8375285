/**
 * Each action's source driven through GitHub's own local harness, @github/local-action (v7),
 * as an outside check of the adapter: it reads action.yml, loads a .env file, replaces
 * @actions/core and @actions/github with its stubs (quibble's ESM loader; this works for the
 * ESM-only @actions/core 3 and @actions/github 9 postgate uses), imports the entrypoint, calls
 * its exported `run()` and then the `--post` entrypoint's, in one process.
 *
 * What differs from the runner, and how the test deals with it (docs/local-action.md):
 * - actions/<name>/main.ts runs at import time and exports nothing, so the entrypoint is
 *   test/fixtures/e2e/local-action/entry.ts, which exports `run()` = `runAction(<gate>)`;
 * - the package's `local-action` bin starts `npm exec tsx`, which resolves tsx from the
 *   project under test (not a postgate dependency); the test starts the harness the way the bin
 *   does, with the tsx next to it (TARGET_ACTION_PATH, NODE_PACKAGE_MANAGER=npm);
 * - the @actions/github stub reads GITHUB_API_URL when it is imported, before the .env file
 *   is loaded, so it is given in the process environment;
 * - the @actions/core stub's setFailed does not set the exit code, so a failing gate exits 0
 *   (postgate's own exit code 2 for "could not run" does come through); the verdict is read
 *   from the printed outputs and the ::error:: line.
 *
 * Skipped when the package is not installed: `npm install --save-dev @github/local-action@7`, or
 * point POSTGATE_LOCAL_ACTION_DIR at an installed copy (its folder inside node_modules).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATES } from '../../src/config/gates.ts';
import type { GateId } from '../../src/findings/types.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { APP_HOST, createProduction, EXAMPLE_APP, type Production } from '../fixtures/e2e/production.ts';
import { copyExample, leaks, postedToGitHub } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { EVENTS, type EventName, HEAD_SHA, MERGE_SHA, REPO, ROOT, suiteCacheEnv } from '../support/runner.ts';

const PACKAGE_DIR = process.env.POSTGATE_LOCAL_ACTION_DIR || path.join(ROOT, 'node_modules', '@github', 'local-action');
/** The tsx the package depends on, in the node_modules/.bin that holds the package. */
const TSX = path.resolve(PACKAGE_DIR, '..', '..', '.bin', 'tsx');
const INSTALLED = existsSync(path.join(PACKAGE_DIR, 'src', 'index.ts')) && existsSync(TSX);
const HARNESS = INSTALLED
  ? `@github/local-action ${(JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version}`
  : `@github/local-action (not installed: no package with tsx at ${PACKAGE_DIR}; npm install --save-dev @github/local-action@7, or set POSTGATE_LOCAL_ACTION_DIR)`;
const ENTRY = path.join(ROOT, 'test', 'fixtures', 'e2e', 'local-action', 'entry.ts');
if (!INSTALLED) console.warn(`Skipped: each action's source through ${HARNESS}.`);

const TOKEN = 'ghs_e2eLocalActionToken0001';
const HMAC_SECRET = 'whsec_la_Ts5Gm8Qw2Kd7Np4Xr9Bv';
const PR = 42;

interface LocalRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The outputs the stubbed core.setOutput printed (`::set-output name=<name>::<value>`). */
  outputs: Record<string, string>;
  summary: string;
}

let server: GitHubServer;
let parent: string;
let cluster: Cluster;
let production: Production;

/** A .env file line: double-quoted, so '#', spaces and newlines survive dotenv. */
const dotenvLine = (name: string, value: string) => `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;

function localAction(gate: GateId, event: EventName, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<LocalRun> {
  const dir = mkdtempSync(path.join(parent, `${gate}-`));
  const files = { event: path.join(dir, 'event.json'), summary: path.join(dir, 'summary.md'), dotenv: path.join(dir, '.env'), temp: path.join(dir, 'temp') };
  mkdirSync(files.temp);
  writeFileSync(files.event, JSON.stringify(EVENTS[event]()));
  const variables: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REPOSITORY: REPO,
    GITHUB_SHA: MERGE_SHA,
    GITHUB_RUN_ID: '777',
    GITHUB_WORKFLOW: 'postgate',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKSPACE: EXAMPLE_APP,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: files.temp,
    'INPUT_GITHUB-TOKEN': TOKEN,
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...env,
  };
  writeFileSync(
    files.dotenv,
    `${Object.entries(variables)
      .map(([name, value]) => dotenvLine(name, value))
      .join('\n')}\n`,
  );
  const actionDir = path.join(ROOT, 'actions', GATES[gate].action);
  return new Promise((resolve) => {
    // What bin/local-action.js sets before it runs `npm exec tsx src/index.ts -- <args>`.
    const child = spawn(TSX, [path.join(PACKAGE_DIR, 'src', 'index.ts'), actionDir, ENTRY, files.dotenv, '--post', ENTRY], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...suiteCacheEnv(),
        TMPDIR: process.env.TMPDIR ?? '/tmp',
        TARGET_ACTION_PATH: actionDir,
        NODE_PACKAGE_MANAGER: 'npm',
        NODE_NO_WARNINGS: '1',
        FORCE_COLOR: '0',
        GITHUB_API_URL: server.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      const outputs = Object.fromEntries([...stdout.matchAll(/^::set-output name=([^:]+)::(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
      resolve({ code, stdout, stderr, outputs, summary: existsSync(files.summary) ? readFileSync(files.summary, 'utf8') : '' });
    });
  });
}

function expectRanMainAndPost(run: LocalRun): void {
  expect(run.stdout).toContain('Running Action');
  expect(run.stdout).toContain('Running Post Step');
  expect(run.stdout).toContain('Action Outputs');
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

function expectNothingLeaked(run: LocalRun): void {
  expect(leaks(run.stdout + run.stderr + run.summary + postedToGitHub(server, REPO), [TOKEN, HMAC_SECRET, production.password])).toEqual([]);
}

// Each run compiles the action's TypeScript sources with tsx (seconds of CPU on an idle machine):
// a failure guard that a machine running several suites at once does not trip, not a wait.
describe.skipIf(!INSTALLED)(`each action's source through ${HARNESS}`, () => {
  beforeAll(async () => {
    server = await startGitHubServer();
    server.addToken(TOKEN);
    server.addPullRequest(REPO, PR, HEAD_SHA);
    parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-local-action-'));
    cluster = await startCluster({ shadow: 'local', major: 15 });
    production = await createProduction(cluster);
    await production.admin(
      `alter database ${production.database} set app.webhook_hmac_secret = ${quoteLiteral(`${HMAC_SECRET} `)}`,
      `alter database ${production.database} set app.vercel_webhook_trips = 'https://${APP_HOST}/api/hooks/trips'`,
      `alter database ${production.database} set app.vercel_webhook_cache = 'https://${APP_HOST}/api/hooks/revalidate'`,
    );
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('drift-gate: PR mode passes, the stubbed octokit reaches the test server (comment, check run)', async () => {
    const run = await localAction('drift', 'pull_request', { comment: 'always' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expectRanMainAndPost(run);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '0', notices: '0' });
    expect(run.summary).toContain('✅ postgate drift-gate passed');
    expect(server.comments(REPO, PR)).toEqual([
      expect.objectContaining({ body: expect.stringMatching(/^<!-- postgate:comment gate=drift -->\n### ✅ postgate drift-gate passed/) }),
    ]);
    expect(server.checkRuns(REPO).at(-1)).toMatchObject({ name: 'postgate drift-gate', headSha: HEAD_SHA, conclusion: 'success' });
    expectNothingLeaked(run);
  });

  it('rls-audit: the deliberate problems fail it (printed, not in the exit code), annotated at their migration lines', async () => {
    // the pull request that adds the app: a copy outside git (this checkout's main already has it all)
    const run = await localAction('rls', 'pull_request', {}, { GITHUB_WORKSPACE: copyExample(parent) });
    expect(run.code, run.stdout + run.stderr).toBe(0); // the stubbed setFailed does not set an exit code
    expectRanMainAndPost(run);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '3', warnings: '3', notices: '0' });
    expect(run.stdout).toContain('::error::postgate rls-audit failed: 3 errors, 3 warnings, 0 notices.');
    const check = server.checkRuns(REPO).at(-1)!;
    expect(check).toMatchObject({ name: 'postgate rls-audit', conclusion: 'failure' });
    expect(check.annotations.map((a) => `${a.path}:${a.start_line}`)).toContain('supabase/migrations/20250120143000_audit_events.sql:2');
    expect(server.comments(REPO, PR).map((c) => c.body.split('\n')[0])).toEqual(['<!-- postgate:comment gate=drift -->', '<!-- postgate:comment gate=rls -->']);
    expectNothingLeaked(run);
  });

  it('webhook-secret-check: a secret with a trailing space is a mismatch, described without the secret', async () => {
    const run = await localAction('webhooks', 'push', { 'database-url': production.url }, { HMAC_SECRET, APP_HOST });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expectRanMainAndPost(run);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '2' });
    expect(run.summary).toContain('The database value has trailing whitespace');
    expect(server.issues(REPO)).toEqual([
      expect.objectContaining({ title: expect.stringMatching(/^postgate webhook-secret-check \(127\.0\.0\.1:\d+\/trip_planner\) is failing$/) }),
    ]);
    expectNothingLeaked(run);
  });

  it('restore-drill: a live drill restores and verifies the copy, outputs RTO/RPO; "could not run" keeps exit code 2', async () => {
    const run = await localAction('drill', 'schedule', { 'source-database-url': production.url });
    expectRanMainAndPost(run);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '2', notices: '1' });
    expect(run.outputs['rto-seconds']).toMatch(/^\d+$/);
    expect(run.outputs['rpo-seconds']).toBe('0');
    expect(run.summary).toContain('expected settings');
    expectNothingLeaked(run);

    const unreachable = await localAction('drill', 'schedule', { 'source-database-url': 'postgresql://postgres:pw-not-shown-8812@127.0.0.1:9/trip_planner' });
    expect(unreachable.code, unreachable.stdout + unreachable.stderr).toBe(2);
    expect(unreachable.outputs.status).toBe('error');
    expect(unreachable.stdout + unreachable.summary).not.toContain('pw-not-shown-8812');
  });
});
