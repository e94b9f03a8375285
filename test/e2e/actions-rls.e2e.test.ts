/**
 * rls-audit's committed bundle (actions/rls-audit/dist/index.js) run as the runner runs it, on
 * examples/supabase-app (shadow databases built from its migrations) and the GitHub API test
 * server:
 *
 * - a pull request on the example as it is: the deliberate problems (README) fail the gate, with
 *   check run annotations at their migration lines, a sticky comment and a SARIF file; the same
 *   pull request with an allowlist covering them (a temp copy of the repo config) passes and
 *   the comment turns green;
 * - from a fork (read-only token): workflow-command annotations instead, one warning, same verdict;
 * - a pull request against its base branch (git checkout): only what it adds counts, the
 *   problems already on `main` are listed apart; fixing the new table in the next push passes;
 * - a push to main opens a tracking issue; the scheduled run with the allowlist closes it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EXAMPLE_APP } from '../fixtures/e2e/production.ts';
import { copyExample, gitExample, leaks, postedToGitHub, PR_REFS } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { type ActionRun, EVENTS, everythingWritten, HEAD_SHA, REPO, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eRlsWriteToken0001';
const FORK_TOKEN = 'ghs_e2eRlsForkReadOnly0002';
const PR = 42;
const FORK_PR = 43;
const BASE_PR = 44;

/**
 * The example's deliberate problems (its README), in the order the gate reports them (most severe
 * first, then by rule), annotated where the object is created: the statement's first line.
 */
const DELIBERATE = [
  {
    rule: 'rls_disabled_in_public',
    level: 'failure',
    path: 'supabase/migrations/20250120143000_audit_events.sql',
    line: 2,
    object: { kind: 'table', schema: 'public', name: 'audit_events' },
  },
  {
    rule: 'rls_references_user_metadata',
    level: 'failure',
    path: 'supabase/migrations/20250122090000_trip_admin_override.sql',
    line: 4,
    object: { kind: 'policy', schema: 'public', name: 'trips.Owners and staff can delete trips' },
  },
  {
    rule: 'security_definer_view',
    level: 'failure',
    path: 'supabase/migrations/20250121100000_trip_views.sql',
    line: 11,
    object: { kind: 'view', schema: 'public', name: 'trip_overview' },
  },
  {
    rule: 'function_search_path_mutable',
    level: 'warning',
    path: 'supabase/migrations/20250121100000_trip_views.sql',
    line: 2,
    object: { kind: 'function', schema: 'public', name: 'trip_length_days' },
  },
  {
    rule: 'public_bucket_allows_listing',
    level: 'warning',
    path: 'supabase/migrations/20250116094500_avatars_bucket.sql',
    line: 6,
    object: { kind: 'bucket', schema: 'storage', name: 'avatars' },
  },
  {
    rule: 'rls_policy_always_true',
    level: 'warning',
    path: 'supabase/migrations/20250112121000_trip_collaborators.sql',
    line: 24,
    object: { kind: 'policy', schema: 'public', name: 'trip_collaborators.Collaborator settings can be updated' },
  },
] as const;
const deliberateKey = (item: (typeof DELIBERATE)[number]) => `${item.rule}:${item.object.kind}:${item.object.schema}.${item.object.name}`;

const EXPENSES = 'supabase/migrations/20250201090000_trip_expenses.sql';
const expensesTable = `-- Expenses of a trip, split between its collaborators.
create table public.trip_expenses (
  id bigint generated always as identity primary key,
  trip_id uuid not null references public.trips (id) on delete cascade,
  amount_cents integer not null check (amount_cents > 0),
  paid_by uuid not null default auth.uid() references auth.users (id)
);
`;
const expensesSecured = `${expensesTable}
alter table public.trip_expenses enable row level security;

create policy "Payers see their expenses"
  on public.trip_expenses for select
  to authenticated
  using (paid_by = (select auth.uid()));
`;

let server: GitHubServer;
let parent: string;
let allowlisted: string;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addToken(FORK_TOKEN, { issues: 'read', pullRequests: 'read', checks: 'read' });
  for (const number of [PR, FORK_PR, BASE_PR]) server.addPullRequest(REPO, number, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-rls-'));
  // The repo config with every deliberate problem accepted, outside the example.
  const config = parse(readFileSync(path.join(EXAMPLE_APP, '.github', 'postgate.yml'), 'utf8'));
  config.allowlist.push(
    ...DELIBERATE.map((item) => ({ rule: item.rule, object: item.object, reason: 'Kept on purpose in the demo app (see its README).', expires: '2099-12-31' })),
  );
  allowlisted = path.join(parent, 'postgate-allowlisted.yml');
  writeFileSync(allowlisted, stringify(config));
});

afterAll(async () => {
  await server?.close();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

function expectNothingLeaked(run: ActionRun): void {
  expect(leaks(everythingWritten(run) + postedToGitHub(server, REPO), [TOKEN, FORK_TOKEN])).toEqual([]);
}

function expectPostStepClean(run: ActionRun): void {
  expect(run.post?.code, run.post?.stderr).toBe(0);
  expect(run.post?.stdout).not.toContain('cleaned up');
}

const report = (run: ActionRun) => JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));

// The pull request that adds the whole app: a copy outside git, so nothing of it is on a base branch
// (in this repository's checkout the run's base, main, already has every deliberate problem).
describe('rls-audit bundle on a pull request of the example app', () => {
  it('fails on the deliberate problems, annotated at their migration lines, with a comment and SARIF', async () => {
    const sarifPath = path.join(parent, 'rls.sarif');
    const run = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      workspace: copyExample(parent),
      parent,
      inputs: { 'sarif-path': sarifPath },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '3', warnings: '3', notices: '0', 'sarif-path': sarifPath });
    expect(run.outputs['report-path']).toBe(path.join(run.runnerTemp, 'postgate-rls.json'));
    const result = report(run);
    expect(result.suppressed.map((f: { rule: string }) => f.rule).sort()).toEqual([
      'authenticated_security_definer_function_executable',
      'rls_enabled_no_policy',
    ]);
    expect(result.details.tests.every((t: { result: string }) => t.result === 'pass')).toBe(true);

    const [check] = server.checkRuns(REPO);
    expect(check).toMatchObject({ name: 'postgate rls-audit', headSha: HEAD_SHA, conclusion: 'failure', title: 'Failed: 3 errors, 3 warnings, 0 notices' });
    const annotations = check!.annotations.map((a) => ({ path: a.path, line: a.start_line, level: a.annotation_level, rule: a.title?.split(':')[0] }));
    expect(annotations).toEqual(DELIBERATE.map((item) => ({ path: item.path, line: item.line, level: item.level, rule: item.rule })));

    // SARIF: every finding at its line; the allowlisted ones as accepted suppressions (code scanning hides them).
    type SarifResult = {
      ruleId: string;
      suppressions?: unknown[];
      locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
    };
    const sarif = JSON.parse(readFileSync(sarifPath, 'utf8')) as { runs: Array<{ results: SarifResult[] }> };
    const where = (r: SarifResult) => ({
      rule: r.ruleId,
      path: r.locations[0]!.physicalLocation.artifactLocation.uri,
      line: r.locations[0]!.physicalLocation.region.startLine,
    });
    const byRule = (a: { rule: string }, b: { rule: string }) => a.rule.localeCompare(b.rule);
    const sarifResults = sarif.runs[0]!.results;
    expect(
      sarifResults
        .filter((r) => !r.suppressions)
        .map(where)
        .sort(byRule),
    ).toEqual(DELIBERATE.map((item) => ({ rule: item.rule, path: item.path, line: item.line })).sort(byRule));
    expect(
      sarifResults
        .filter((r) => r.suppressions)
        .map(where)
        .sort(byRule),
    ).toEqual([
      { rule: 'authenticated_security_definer_function_executable', path: 'supabase/migrations/20250111101000_team_helpers.sql', line: 4 },
      { rule: 'rls_enabled_no_policy', path: 'supabase/migrations/20250114083000_api_keys.sql', line: 70 },
    ]);

    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/^<!-- postgate:comment gate=rls -->\n### ❌ postgate rls-audit failed/);
    expect(comments[0]!.body).toContain(`(https://github.com/${REPO}/blob/${HEAD_SHA}/supabase/migrations/20250120143000_audit_events.sql#L2)`);
    expect(run.summary).toContain('❌ postgate rls-audit failed');
    expect(run.summary).toContain('public.audit');
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('from a fork (read-only token): no comment or check run, annotations through workflow commands, one warning', async () => {
    const before = server.checkRuns(REPO).length;
    const run = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      payload: EVENTS.pull_request(true, FORK_PR),
      apiUrl: server.url,
      token: FORK_TOKEN,
      workspace: copyExample(parent),
      parent,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'fail', errors: '3', warnings: '3' });
    expect(server.comments(REPO, FORK_PR)).toEqual([]);
    expect(server.checkRuns(REPO)).toHaveLength(before);
    for (const item of DELIBERATE) {
      const command = item.level === 'failure' ? 'error' : 'warning';
      expect(run.stdout).toMatch(new RegExp(`^::${command} title=${item.rule}%3A [^\\n]*,file=${item.path.replace(/\./g, '\\.')},line=${item.line}::`, 'm'));
    }
    const warnings = run.stdout.split('\n').filter((line) => line.includes('could not post'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^::warning::.*this pull request comes from a fork.*verdict \(fail\) is unchanged\.$/);
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });

  it('passes once an allowlist (a temp copy of the repo config) covers them, and the same comment turns green', async () => {
    const run = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      workspace: copyExample(parent),
      parent,
      inputs: { config: allowlisted },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '0', notices: '0' });
    expect(report(run).suppressed).toHaveLength(DELIBERATE.length + 2);
    const comments = server.comments(REPO, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/^<!-- postgate:comment gate=rls -->\n### ✅ postgate rls-audit passed/);
    expect(comments[0]!.body).toContain('8 allowlisted');
    expect(server.checkRuns(REPO).at(-1)).toMatchObject({ conclusion: 'success', annotations: [] });
    expectPostStepClean(run);
    expectNothingLeaked(run);
  });
});

describe('rls-audit bundle on a pull request against its base branch', () => {
  it('counts only what the pull request adds, lists the rest apart, and passes when the next push secures the new table', async () => {
    const pr = gitExample(parent, { [EXPENSES]: expensesTable });
    const payload = EVENTS.pull_request(false, BASE_PR);
    const first = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      payload,
      apiUrl: server.url,
      token: TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
    });
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.outputs).toMatchObject({ status: 'fail', errors: '1', warnings: '0', notices: '0' });
    const result = report(first);
    expect(result.details.baseRef).toMatch(/^main \([0-9a-f]{12}\)$/);
    // one cause (no RLS on the new table), one finding: the access diff is folded into it
    expect(result.findings.map((f: { key: string }) => f.key)).toEqual(['rls_disabled_in_public:table:public.trip_expenses']);
    expect(result.findings[0].detail).toMatch(/- rls_matrix_access_changed: New table public\.trip_expenses: anon\b.* can now SELECT\b.*every row/);
    expect(result.preexisting.map((f: { key: string }) => f.key).sort()).toEqual(DELIBERATE.map(deliberateKey).sort());
    expect(
      server
        .checkRuns(REPO)
        .at(-1)!
        .annotations.map((a) => [a.path, a.start_line, a.annotation_level]),
    ).toEqual([[EXPENSES, 2, 'failure']]);
    const [comment] = server.comments(REPO, BASE_PR);
    expect(comment!.body).toContain('❌ postgate rls-audit failed');
    expect(comment!.body).toContain('6 findings already on the base branch (not counted)');
    expectPostStepClean(first);
    expectNothingLeaked(first);

    pr.push({ [EXPENSES]: expensesSecured }, 'secure trip_expenses');
    const second = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      payload,
      apiUrl: server.url,
      token: TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
    });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.outputs).toMatchObject({ status: 'pass', errors: '0', warnings: '0' });
    expect(report(second).findings.map((f: { key: string; severity: string }) => [f.key, f.severity])).toEqual([
      ['rls_policy_changed:policy:public.trip_expenses.Payers see their expenses', 'notice'],
    ]);
    const comments = server.comments(REPO, BASE_PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('✅ postgate rls-audit passed');
    expect(server.checkRuns(REPO).at(-1)).toMatchObject({ conclusion: 'success' });
    expectPostStepClean(second);
    expectNothingLeaked(second);
  });
});

describe('rls-audit bundle on main', () => {
  it('a push to main opens a tracking issue; the scheduled run with the allowlist closes it', async () => {
    const push = await runActionBundle({ gate: 'rls', event: 'push', apiUrl: server.url, token: TOKEN, workspace: EXAMPLE_APP, parent });
    expect(push.code, push.stdout + push.stderr).toBe(1);
    const [issue] = server.issues(REPO);
    expect(issue).toMatchObject({ title: 'postgate rls-audit is failing', state: 'open', labels: ['postgate'] });
    expect(issue!.body).toMatch(/^<!-- postgate:issue gate=rls -->\n_This issue is kept up to date by postgate in the workflow \*\*postgate\*\*/);
    expect(issue!.body).toContain('3 errors');
    expectPostStepClean(push);
    expectNothingLeaked(push);

    const schedule = await runActionBundle({
      gate: 'rls',
      event: 'schedule',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { config: allowlisted },
    });
    expect(schedule.code, schedule.stdout + schedule.stderr).toBe(0);
    expect(server.issues(REPO)).toEqual([expect.objectContaining({ number: issue!.number, state: 'closed', stateReason: 'completed' })]);
    expect(server.comments(REPO, issue!.number).map((c) => c.body)).toEqual([
      expect.stringMatching(
        /^✅ Passing again: \[run\]\(https:\/\/github\.com\/acme\/trip-planner\/actions\/runs\/123456\) at bbbbbbb: 0 errors, 0 warnings, 0 notices\. Closing\.$/,
      ),
    ]);
    expectPostStepClean(schedule);
    expectNothingLeaked(schedule);
  });
});
