/**
 * webhook-secret-check's committed bundle (actions/webhook-secret-check/dist/index.js) run as the
 * runner runs it, against a "production" database of examples/supabase-app whose webhook
 * secret was pasted with a trailing newline, and the GitHub API test server:
 *
 * - a push to main: the mismatch (described, never shown) and the example's literal token in a
 *   Database Webhook fail the gate and open a tracking issue; the secret, the token and the
 *   database password appear nowhere;
 * - a pull request: one sticky comment for this database, a check run annotated at the
 *   Database Webhook's migration line;
 * - from a fork, where GitHub passes no secrets: exit 2, one sentence naming HMAC_SECRET;
 * - a manual run after the secret is fixed, with the literal token allowlisted in a temp copy
 *   of the repo config: passes, the issue is closed and the comment turns green.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { APP_HOST, createProduction, EXAMPLE_APP, type Production } from '../fixtures/e2e/production.ts';
import { leaks, postedToGitHub } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { type ActionRun, EVENTS, everythingWritten, HEAD_SHA, REPO, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eWebhooksWriteToken0001';
const FORK_TOKEN = 'ghs_e2eWebhooksForkReadOnly0002';
const HMAC_SECRET = 'whsec_tp_7Qm2vX9kLp4RzT8nWc3Yb6Hd';
/** The example's deliberate literal token (README problem #7): fake, but the gate must not repeat it. */
const LITERAL_TOKEN = 'demo-not-a-real-token-4f8e2c1a9b7d6e5f';
const SLACK_WEBHOOK = { path: 'supabase/migrations/20250126100000_team_slack_webhook.sql', line: 8 };
const PR = 42;
const FORK_PR = 43;

let server: GitHubServer;
let parent: string;
let cluster: Cluster;
let production: Production;
let allowlisted: string;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addToken(FORK_TOKEN, { issues: 'read', pullRequests: 'read', checks: 'read' });
  server.addPullRequest(REPO, PR, HEAD_SHA);
  server.addPullRequest(REPO, FORK_PR, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-webhooks-'));
  cluster = await startCluster({ shadow: 'local', major: 15 });
  production = await createProduction(cluster);
  // The app's runbook, with the secret pasted from a password manager, newline included.
  await production.admin(
    `alter database ${production.database} set app.webhook_hmac_secret = ${quoteLiteral(`${HMAC_SECRET}\n`)}`,
    `alter database ${production.database} set app.vercel_webhook_trips = 'https://${APP_HOST}/api/hooks/trips'`,
    `alter database ${production.database} set app.vercel_webhook_cache = 'https://${APP_HOST}/api/hooks/revalidate'`,
  );
  const config = parse(readFileSync(path.join(EXAMPLE_APP, '.github', 'postgate.yml'), 'utf8'));
  config.allowlist.push({
    rule: 'webhook_literal_secret',
    object: { kind: 'trigger', schema: 'public', name: 'teams.notify-slack-new-team' },
    reason: 'Fake token of the demo app; the real Slack hook reads its token from Vault.',
    expires: '2099-12-31',
  });
  allowlisted = path.join(parent, 'postgate-allowlisted.yml');
  writeFileSync(allowlisted, stringify(config));
});

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

/** The deploy environment's variables, as a workflow passes them: `env: HMAC_SECRET: ${{ secrets.HMAC_SECRET }}`. */
const deployEnv = { HMAC_SECRET, APP_HOST };
const target = () => `127.0.0.1:${new URL(production.url).port}/${production.database}`;
const report = (run: ActionRun) => JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));

function expectNothingLeaked(run: ActionRun): void {
  const written = everythingWritten(run) + postedToGitHub(server, REPO);
  expect(leaks(written, [TOKEN, FORK_TOKEN, HMAC_SECRET, LITERAL_TOKEN, production.password])).toEqual([]);
}

function expectPostStepClean(run: ActionRun): void {
  expect(run.post?.code, run.post?.stderr).toBe(0);
  expect(run.post?.stdout).not.toContain('cleaned up');
}

describe('webhook-secret-check bundle', () => {
  it('on a push to main: the secret mismatch and the literal token fail the gate and open an issue, and no secret is shown', async () => {
    const run = await runActionBundle({
      gate: 'webhooks',
      event: 'push',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
      env: deployEnv,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '2', warnings: '0', notices: '1' });
    const result = report(run);
    expect(result.findings.map((f: { key: string }) => f.key).sort()).toEqual([
      'webhook_literal_secret:trigger:public.teams.notify-slack-new-team',
      'webhook_secret_in_setting:setting:app.webhook_hmac_secret',
      'webhook_secret_mismatch:setting:app.webhook_hmac_secret',
    ]);
    const mismatch = result.findings.find((f: { rule: string }) => f.rule === 'webhook_secret_mismatch');
    expect(mismatch.detail).toContain('The database value has a trailing newline. Apart from that they are the same secret.');
    // No check run on a push: the located finding is a workflow-command annotation.
    expect(run.stdout).toContain(
      `::error title=webhook_literal_secret%3A trigger public.teams.notify-slack-new-team,file=${SLACK_WEBHOOK.path},line=${SLACK_WEBHOOK.line}::`,
    );
    expect(server.checkRuns(REPO)).toEqual([]);

    const [issue] = server.issues(REPO);
    expect(issue).toMatchObject({ title: `postgate webhook-secret-check (${target()}) is failing`, state: 'open', labels: ['postgate'] });
    expect(issue!.body).toContain('trailing newline');
    expect(run.summary).toContain('❌ postgate webhook-secret-check failed');
    expect(run.summary).toContain('trailing newline');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('on a pull request: one sticky comment for this database and a check run annotated at the Database Webhook', async () => {
    const run = await runActionBundle({
      gate: 'webhooks',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
      env: deployEnv,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(
      new RegExp(`^<!-- postgate:comment gate=webhooks target=${target().replace(/\./g, '\\.')} -->\\n### ❌ postgate webhook-secret-check failed`),
    );
    const [check] = server.checkRuns(REPO);
    expect(check).toMatchObject({ name: `postgate webhook-secret-check (${target()})`, headSha: HEAD_SHA, conclusion: 'failure' });
    expect(check!.annotations.map((a) => [a.path, a.start_line, a.annotation_level])).toEqual([[SLACK_WEBHOOK.path, SLACK_WEBHOOK.line, 'failure']]);
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('from a fork, where GitHub passes no secrets: exit 2 with one sentence naming HMAC_SECRET, nothing posted', async () => {
    const run = await runActionBundle({
      gate: 'webhooks',
      event: 'pull_request',
      payload: EVENTS.pull_request(true, FORK_PR),
      apiUrl: server.url,
      token: FORK_TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
      env: { APP_HOST },
    });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.outputs).toMatchObject({ status: 'error', errors: '0' });
    expect(report(run).error).toMatch(/^Environment variable HMAC_SECRET \(named by [^)]*\) is not set; pass the deploy secret to the job/);
    const failure = run.stdout.split('\n').filter((line) => line.startsWith('::error::'));
    expect(failure).toEqual([expect.stringMatching(/^::error::postgate webhook-secret-check could not run: Environment variable HMAC_SECRET .* is not set; /)]);
    expect(server.comments(REPO, FORK_PR)).toEqual([]);
    expect(run.stdout).toContain('this pull request comes from a fork');
    expect(run.summary).toContain('⚠️ postgate webhook-secret-check could not run');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('a manual run after the secret is fixed, with the literal token allowlisted: passes, closes the issue, the comment turns green', async () => {
    await production.admin(`alter database ${production.database} set app.webhook_hmac_secret = ${quoteLiteral(HMAC_SECRET)}`);
    const run = await runActionBundle({
      gate: 'webhooks',
      event: 'workflow_dispatch',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url, config: allowlisted },
      env: deployEnv,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '0', notices: '1' });
    expect(report(run).suppressed.map((f: { key: string }) => f.key)).toEqual(['webhook_literal_secret:trigger:public.teams.notify-slack-new-team']);
    const [issue] = server.issues(REPO);
    expect(issue).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(server.comments(REPO, issue!.number).at(-1)?.body).toMatch(/^✅ Passing again: /);
    expectPostStepClean(run);
    expectNothingLeaked(run);

    // The pull request's comment for this database turns green on its next run.
    const pr = await runActionBundle({
      gate: 'webhooks',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url, config: allowlisted },
      env: deployEnv,
    });
    expect(pr.code, pr.stdout + pr.stderr).toBe(0);
    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('✅ postgate webhook-secret-check passed');
    expect(server.checkRuns(REPO).at(-1)).toMatchObject({ conclusion: 'success', annotations: [] });
    expectNothingLeaked(pr);
  });
});
