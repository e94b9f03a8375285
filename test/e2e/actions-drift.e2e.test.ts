/**
 * drift-gate's committed bundle (actions/drift-gate/dist/index.js) run as the runner runs it,
 * against real PostgreSQL and the GitHub API test server:
 *
 * - pull request (git checkout of the example with `main` as the base branch): a pushed
 *   migration that fails to apply fails the gate with an annotation at its file and line and a
 *   sticky comment; the next push fixes it and the same comment turns green;
 * - the same broken migration from a fork (read-only token): nothing can be posted, so the
 *   results go to workflow-command annotations with one warning, and the verdict is unchanged;
 * - deploy mode on a push to main against a "production" database with a dashboard hotfix:
 *   a tracking issue is opened, a manual run updates it, the scheduled run after the hotfix is
 *   reverted closes it; a run that cannot log in exits 2 and says so without the password;
 * - a main step killed with SIGKILL while its shadow cluster runs: the post step reaps it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { isAlive, type StateRecord } from '../../src/postgres/ephemeral/registry.ts';
import { createProduction, EXAMPLE_APP, type Production } from '../fixtures/e2e/production.ts';
import { type GitWorkspace, gitExample, leaks, postedToGitHub, PR_REFS } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { type ActionRun, EVENTS, everythingWritten, HEAD_SHA, REPO, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eDriftWriteToken0001';
const FORK_TOKEN = 'ghs_e2eDriftForkReadOnly0002';
const WRONG_PASSWORD = 'not-the-password-4f1c9a';
const PR = 42;
const FORK_PR = 43;

const BROKEN = 'supabase/migrations/20250201090000_team_budgets.sql';
const brokenMigration = `set lock_timeout = '3s'; -- Budgets per trip, summed per team on the team page.
alter table public.trips add column budget_cents integer;

create view public.team_budgets with (security_invoker = on) as
select team_id,
       sum(budget_cents) as budget_cents,
       sum(spent_cents) as spent_cents
  from public.trips
 group by team_id;
`;
const fixedMigration = brokenMigration.replace(
  'sum(budget_cents) as budget_cents,\n       sum(spent_cents) as spent_cents',
  'sum(budget_cents) as budget_cents',
);

let server: GitHubServer;
let parent: string;
let cluster: Cluster;
let production: Production;
let pr: GitWorkspace;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addToken(FORK_TOKEN, { issues: 'read', pullRequests: 'read', checks: 'read' });
  server.addPullRequest(REPO, PR, HEAD_SHA);
  server.addPullRequest(REPO, FORK_PR, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-drift-'));
  pr = gitExample(parent, { [BROKEN]: brokenMigration });
  cluster = await startCluster({ shadow: 'local', major: 15 });
  production = await createProduction(cluster);
});

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

function expectNothingLeaked(run: ActionRun): void {
  expect(leaks(everythingWritten(run) + postedToGitHub(server, REPO), [TOKEN, FORK_TOKEN, production.password, WRONG_PASSWORD])).toEqual([]);
}

function expectPostStepClean(run: ActionRun): void {
  expect(run.post?.code, run.post?.stderr).toBe(0);
  expect(run.post?.stdout).not.toContain('cleaned up');
}

describe('drift-gate bundle on a pull request', () => {
  it('fails a pushed migration that does not apply, with a sticky comment and an annotation at its file and line', async () => {
    const run = await runActionBundle({ gate: 'drift', event: 'pull_request', apiUrl: server.url, token: TOKEN, workspace: pr.dir, parent, env: PR_REFS });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    // the warning: adding the column locks public.trips (ACCESS EXCLUSIVE), bounded by the migration's lock_timeout
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '1', warnings: '1', notices: '0' });
    expect(run.outputs['report-path']).toBe(path.join(run.runnerTemp, 'postgate-drift.json'));
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    expect(report).toMatchObject({ gate: 'drift', status: 'fail', details: { mode: 'pr', tool: 'supabase' } });
    expect(report.findings).toHaveLength(2);
    expect(report.findings[1]).toMatchObject({ rule: 'migration_lock_exclusive', severity: 'warning', location: { file: BROKEN, line: 2 } });
    expect(report.findings[0]).toMatchObject({ rule: 'migration_apply_failed', severity: 'error', location: { file: BROKEN, line: 7 } });
    expect(report.findings[0].message).toContain('spent_cents');

    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/^<!-- postgate:comment gate=drift -->/);
    expect(comments[0]!.body).toContain('❌ postgate drift-gate failed');
    expect(comments[0]!.body).toContain(`(https://github.com/${REPO}/blob/${HEAD_SHA}/${BROKEN}#L7)`);
    const [check] = server.checkRuns(REPO);
    expect(check).toMatchObject({ name: 'postgate drift-gate', headSha: HEAD_SHA, status: 'completed', conclusion: 'failure' });
    expect(check!.annotations).toEqual([
      expect.objectContaining({ path: BROKEN, start_line: 7, end_line: 7, annotation_level: 'failure' }),
      expect.objectContaining({ path: BROKEN, start_line: 2, end_line: 2, annotation_level: 'warning' }),
    ]);
    expect(run.summary).toContain('❌ postgate drift-gate failed');
    expect(run.stdout).toContain('::error::postgate drift-gate failed: 1 error');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('from a fork (read-only token): posts nothing, annotates through workflow commands, warns once, same verdict', async () => {
    const before = server.checkRuns(REPO).length;
    const run = await runActionBundle({
      gate: 'drift',
      event: 'pull_request',
      payload: EVENTS.pull_request(true, FORK_PR),
      apiUrl: server.url,
      token: FORK_TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '1' });
    expect(server.comments(REPO, FORK_PR)).toEqual([]);
    expect(server.checkRuns(REPO)).toHaveLength(before);
    expect(run.stdout).toContain(
      `::error title=migration_apply_failed%3A migration ${BROKEN},file=${BROKEN},line=7::${BROKEN}:7 fails on a fresh database: column "spent_cents" does not exist.%0ASQLSTATE 42703\n`,
    );
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning') && line.includes('could not post'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('this pull request comes from a fork');
    expect(warnings[0]).toContain('verdict (fail) is unchanged');
    expect(run.summary).toContain('this pull request comes from a fork');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('passes once the next push fixes the migration, and the same comment turns green', async () => {
    pr.push({ [BROKEN]: fixedMigration }, 'drop spent_cents');
    const run = await runActionBundle({ gate: 'drift', event: 'pull_request', apiUrl: server.url, token: TOKEN, workspace: pr.dir, parent, env: PR_REFS });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '1', notices: '0' });
    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('✅ postgate drift-gate passed');
    expect(comments[0]!.body).not.toContain('spent_cents');
    const checks = server.checkRuns(REPO);
    expect(checks.at(-1)).toMatchObject({
      headSha: HEAD_SHA,
      conclusion: 'success',
      annotations: [expect.objectContaining({ path: BROKEN, start_line: 2, annotation_level: 'warning' })],
    });
    expect(run.summary).toContain('✅ postgate drift-gate passed');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });
});

describe('drift-gate bundle in deploy mode', () => {
  const target = () => `127.0.0.1:${new URL(production.url).port}/${production.database}`;
  const openIssues = () => server.issues(REPO).filter((issue) => issue.state === 'open');

  it('on a push to main finds the dashboard hotfix and opens a tracking issue', async () => {
    await production.admin('alter table public.trips add column budget_cents integer', 'create index trips_budget_idx on public.trips (budget_cents)');
    const run = await runActionBundle({
      gate: 'drift',
      event: 'push',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    // the warning: the example app's 2024 migrations ran with the legacy Data API grants, which a new environment would not get
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '2', warnings: '1', notices: '0' });
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    expect(report.details).toMatchObject({ mode: 'deploy', tool: 'supabase' });
    expect(report.findings.map((f: { key: string }) => f.key).sort()).toEqual([
      'grant_only_from_legacy_default:schema:public',
      'schema_drift_unexpected:column:public.trips.budget_cents',
      'schema_drift_unexpected:index:public.trips_budget_idx',
    ]);
    expect(report.findings[0].remediation).toContain('drop');

    const issues = openIssues();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ title: `postgate drift-gate (${target()}) is failing`, labels: ['postgate'] });
    expect(issues[0]!.body).toContain(`<!-- postgate:issue gate=drift target=${target()} -->`);
    expect(issues[0]!.body).toContain('budget_cents');
    expect(server.checkRuns(REPO).filter((check) => check.headSha !== HEAD_SHA)).toEqual([]);
    expect(run.summary).toContain('budget_cents');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('a manual run while it still fails updates the same issue', async () => {
    const run = await runActionBundle({
      gate: 'drift',
      event: 'workflow_dispatch',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const issues = server.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.state).toBe('open');
    expect(server.comments(REPO, issues[0]!.number).map((c) => c.body)).toEqual([
      expect.stringMatching(/^❌ Still failing: \[run\]\(.*\) at bbbbbbb: 2 errors/),
    ]);
    expectNothingLeaked(run);
  });

  it('the scheduled run after the hotfix is reverted passes and closes the issue', async () => {
    await production.admin('drop index public.trips_budget_idx', 'alter table public.trips drop column budget_cents');
    const run = await runActionBundle({
      gate: 'drift',
      event: 'schedule',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0' });
    const issues = server.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(server.comments(REPO, issues[0]!.number).at(-1)?.body).toMatch(/^✅ Passing again: .*\. Closing\.$/);
    expect(run.summary).toContain('✅ postgate drift-gate passed');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('a scheduled run that cannot log in exits 2, opens a "could not run" issue, and never shows the password', async () => {
    const wrong = new URL(production.url);
    wrong.password = WRONG_PASSWORD;
    const run = await runActionBundle({
      gate: 'drift',
      event: 'schedule',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': wrong.href },
    });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.outputs.status).toBe('error');
    const failure = run.stdout.split('\n').filter((line) => line.startsWith('::error::'));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain('postgate drift-gate could not run:');
    expect(failure[0]).toContain(target().split('/')[0]);
    const open = openIssues();
    expect(open).toHaveLength(1);
    expect(open[0]!.title).toBe(`postgate drift-gate (${target()}) could not run`);
    expect(run.summary).toContain('⚠️ postgate drift-gate could not run');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });
});

/** postmaster.pid's last line says "ready" once the server accepts connections. */
function serverReady(dir: string | undefined): boolean {
  try {
    return dir !== undefined && /ready/.test(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8'));
  } catch {
    return false;
  }
}

describe('drift-gate post step', () => {
  it('reaps the shadow cluster of a main step killed with SIGKILL', async () => {
    let killed: StateRecord | undefined;
    let leftRunning = false;
    const run = await runActionBundle({
      gate: 'drift',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
      onStart: (child, { runnerTemp }) => {
        const stateDir = path.join(runnerTemp, 'postgate-state');
        const poll = setInterval(() => {
          if (child.exitCode !== null || child.signalCode !== null) return clearInterval(poll);
          const records = existsSync(stateDir) ? readdirSync(stateDir).map((name) => readState(path.join(stateDir, name))) : [];
          // a server that accepts connections: the record names the postmaster from its spawn on,
          // and one killed with its parent before it is up may not outlive it
          const running = records.find((record) => record?.pid && serverReady(record.dir));
          if (!running) return;
          clearInterval(poll);
          killed = running;
          // what the main step leaves behind, seen before the post step starts
          child.once('exit', () => (leftRunning = isAlive(running.pid!) && existsSync(running.dir!)));
          child.kill('SIGKILL');
        }, 10);
      },
    });
    expect(killed, 'the main step finished before its shadow cluster was seen running').toBeDefined();
    expect(run.signal).toBe('SIGKILL');
    expect(leftRunning).toBe(true);
    expect(run.state['postgate-main-pid']).toMatch(/^\d+$/);

    expect(run.post?.code, run.post?.stderr).toBe(0);
    expect(run.post?.stdout).toContain('postgate: cleaned up 1 leftover resource(s) from the main step.');
    expect(isAlive(killed!.pid!)).toBe(false);
    expect(existsSync(killed!.dir!)).toBe(false);
    expect(readdirSync(path.join(run.runnerTemp, 'postgate-state'))).toEqual([]);
  });
});

describe('drift-gate post step, shadow on a given server', () => {
  it('drops the scratch database a main step killed with SIGKILL left on shadow-database-url', async () => {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    const scratch = async () =>
      (
        await admin.query<{ name: string; signed: boolean }>(
          `select datname as name, shobj_description(oid, 'pg_database') is not null as signed from pg_database where datname like 'postgate\\_scratch\\_%'`,
        )
      ).rows;
    try {
      let killedWith: string[] = [];
      const run = await runActionBundle({
        gate: 'drift',
        event: 'pull_request',
        apiUrl: server.url,
        token: TOKEN,
        workspace: pr.dir,
        parent,
        env: PR_REFS,
        inputs: { shadow: 'url', 'shadow-database-url': cluster.url },
        onStart: (child) => {
          let busy = false;
          const poll = setInterval(() => {
            if (child.exitCode !== null || child.signalCode !== null) return clearInterval(poll);
            if (busy) return;
            busy = true;
            void scratch()
              .then((rows) => {
                // signed by its maker: a database killed before its comment is written cannot be told from another's
                if (!rows.length || !rows.every((r) => r.signed) || child.exitCode !== null) return;
                clearInterval(poll);
                killedWith = rows.map((r) => r.name);
                child.kill('SIGKILL');
              })
              .finally(() => (busy = false));
          }, 10);
        },
      });
      expect(killedWith.length, 'the main step finished before its scratch database was seen').toBeGreaterThan(0);
      expect(run.signal).toBe('SIGKILL');
      expect(run.post?.code, run.post?.stderr).toBe(0);
      expect(run.post?.stdout).toMatch(/postgate: cleaned up [2-9] leftover resource\(s\) from the main step\./);
      expect(await scratch()).toEqual([]);
      expect(`${run.post?.stdout ?? ''}${run.post?.stderr ?? ''}`).not.toContain(production.password);
    } finally {
      await admin.end();
    }
  });
});

function readState(file: string): StateRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StateRecord;
  } catch {
    return undefined;
  }
}
