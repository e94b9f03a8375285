/**
 * restore-drill's committed bundle (actions/restore-drill/dist/index.js) run as the runner runs
 * it: a nightly drill of a live "production" database of examples/supabase-app (backup taken
 * now, restored into a throwaway cluster, verified), with the drill log kept in the repository
 * checkout (a temp copy of the example) and the GitHub API test server:
 *
 * - the scheduled drill fails: the restored copy lacks the database settings the repo config
 *   expects (restores drop ALTER DATABASE ... SET); a tracking issue is opened, the outputs carry
 *   RTO and RPO in seconds, the drill log gets a line;
 * - the next scheduled drill updates the same issue;
 * - once the runbook re-applies the settings (the finding allowlisted with that reason in the
 *   checkout's repo config), a manual drill passes and closes the issue; the log has all three.
 */
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DrillLogEntry } from '../../src/gates/drill/log.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { APP_HOST, createProduction, type Production } from '../fixtures/e2e/production.ts';
import { copyExample, jsonLines, leaks, postedToGitHub } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { type ActionRun, everythingWritten, REPO, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eDrillWriteToken0001';
const HMAC_SECRET = 'whsec_drill_Vb8Kq2Lx5Np9Rt3Wz7Hc';
const LOG = 'ops/restore-drills.jsonl';

let server: GitHubServer;
let parent: string;
let workspace: string;
let cluster: Cluster;
let production: Production;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-drill-'));
  workspace = copyExample(parent);
  cluster = await startCluster({ shadow: 'local', major: 15 });
  production = await createProduction(cluster);
  await production.admin(
    `alter database ${production.database} set app.webhook_hmac_secret = ${quoteLiteral(HMAC_SECRET)}`,
    `alter database ${production.database} set app.vercel_webhook_trips = 'https://${APP_HOST}/api/hooks/trips'`,
  );
});

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

const drill = (event: 'schedule' | 'workflow_dispatch') =>
  runActionBundle({
    gate: 'drill',
    event,
    apiUrl: server.url,
    token: TOKEN,
    workspace,
    parent,
    inputs: { 'source-database-url': production.url, 'log-path': LOG },
  });
const target = () => `127.0.0.1:${new URL(production.url).port}/${production.database}`;
const report = (run: ActionRun) => JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
const drillLog = () => jsonLines<DrillLogEntry>(path.join(workspace, LOG));

function expectNothingLeaked(run: ActionRun): void {
  const written = everythingWritten(run, [readFileSync(path.join(workspace, LOG), 'utf8')]) + postedToGitHub(server, REPO);
  expect(leaks(written, [TOKEN, HMAC_SECRET, production.password])).toEqual([]);
}

function expectPostStepClean(run: ActionRun): void {
  expect(run.post?.code, run.post?.stderr).toBe(0);
  expect(run.post?.stdout).not.toContain('cleaned up');
}

function expectTimes(run: ActionRun): void {
  // whole seconds, from the report's metrics
  const metrics = report(run).metrics;
  expect(run.outputs['rto-seconds']).toBe(String(Math.round(metrics.rto_ms / 1000)));
  expect(run.outputs['rpo-seconds']).toBe(String(Math.round(metrics.rpo_ms / 1000)));
  expect(metrics.rto_ms).toBeGreaterThan(0);
}

describe('restore-drill bundle on a schedule', () => {
  it('fails when the restored copy lacks the expected settings, opens an issue, reports RTO/RPO, logs the drill', async () => {
    const run = await drill('schedule');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '2', warnings: '0', notices: '1' });
    expectTimes(run);
    const result = report(run);
    expect(result.findings.map((f: { key: string }) => f.key).sort()).toEqual(
      [
        'drill_setting_missing:setting:app.webhook_hmac_secret',
        'drill_setting_missing:setting:app.vercel_webhook_trips',
        'drill_settings_not_restored:database:settings',
      ].sort(),
    );
    expect(result.details.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { check: string }) => c.check)).toEqual(['expected settings']);

    const [issue] = server.issues(REPO);
    expect(issue).toMatchObject({ title: `postgate restore-drill (${target()}) is failing`, state: 'open', labels: ['postgate'] });
    expect(issue!.body).toContain(`<!-- postgate:issue gate=drill target=${target()} -->`);
    expect(issue!.body).toContain('app.webhook_hmac_secret');

    const log = drillLog();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      status: 'fail',
      trigger: 'schedule',
      actor: 'ada',
      run_url: `https://github.com/${REPO}/actions/runs/123456`,
      source: { kind: 'live' },
    });
    expect(log[0]!.rto_ms).toBe(result.metrics.rto_ms);
    expect(run.summary).toContain('❌ postgate restore-drill failed');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('the next scheduled drill, still failing, updates the same issue and appends to the log', async () => {
    const run = await drill('schedule');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectTimes(run);
    const issues = server.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.state).toBe('open');
    expect(server.comments(REPO, issues[0]!.number).map((c) => c.body)).toEqual([
      expect.stringMatching(/^❌ Still failing: \[run\]\(.*\) at bbbbbbb: 2 errors, 0 warnings, 1 notice\.$/),
    ]);
    expect(drillLog().map((entry) => entry.status)).toEqual(['fail', 'fail']);
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('passes once the runbook re-applies the settings (allowlisted in the repo config), closes the issue, logs a green drill', async () => {
    const configFile = path.join(workspace, '.github', 'postgate.yml');
    const config = parse(readFileSync(configFile, 'utf8'));
    for (const setting of ['app.webhook_hmac_secret', 'app.vercel_webhook_trips']) {
      config.allowlist.push({
        rule: 'drill_setting_missing',
        object: { kind: 'setting', name: setting },
        reason: 'The restore runbook re-applies it from the secret store (docs/runbooks/restore.md, step 4).',
        expires: '2099-12-31',
      });
    }
    writeFileSync(configFile, stringify(config));

    const run = await drill('workflow_dispatch');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '0', notices: '1' });
    expectTimes(run);
    expect(report(run).suppressed).toHaveLength(2);
    const [issue] = server.issues(REPO);
    expect(issue).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(server.comments(REPO, issue!.number).at(-1)?.body).toMatch(/^✅ Passing again: .* at bbbbbbb: 0 errors, 0 warnings, 1 notice\. Closing\.$/);
    expect(drillLog().map((entry) => [entry.status, entry.trigger])).toEqual([
      ['fail', 'schedule'],
      ['fail', 'schedule'],
      ['pass', 'workflow_dispatch'],
    ]);
    expect(run.summary).toContain('✅ postgate restore-drill passed');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });
});
