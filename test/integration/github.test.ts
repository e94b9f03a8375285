/**
 * The GitHub channels through the real @actions/github octokit against the local GitHub API
 * (test/support/github-server.ts): sticky comment, check run, tracking issue, fallbacks.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as github from '@actions/github';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { finding, type Finding, type GateResult, type Severity } from '../../src/findings/types.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import { classify, DEFAULT_RETRY, retryDelay, type RetryPolicy } from '../../src/github/api.ts';
import { ANNOTATIONS_PER_REQUEST } from '../../src/github/check-run.ts';
import { readRunContext, type RunContext } from '../../src/github/context.ts';
import { ISSUE_LABEL } from '../../src/github/issue.ts';
import { type ActionsIO, commentMarker, issueMarker, publish, type PublishRequest } from '../../src/github/publish.ts';
import type { Annotation } from '../../src/report/annotations.ts';
import { forgetSecretsForTests, registerSecret } from '../../src/secrets.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';

const REPO = 'acme/trip-planner';
const HEAD = '0123456789abcdef0123456789abcdef01234567';
const PR = 7;
const FAST: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 2, timeoutMs: 5000 };

let server: GitHubServer;

beforeAll(async () => {
  server = await startGitHubServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.addToken('write-token');
  server.addToken('fork-token', { issues: 'read', pullRequests: 'read', checks: 'read' });
  server.addPullRequest(REPO, PR, HEAD);
  forgetSecretsForTests();
});

function recorder() {
  const io = {
    summaries: [] as string[],
    annotations: [] as Annotation[],
    infos: [] as string[],
    warnings: [] as string[],
    async summary(markdown: string) {
      io.summaries.push(markdown);
    },
    annotate(annotation: Annotation) {
      io.annotations.push(annotation);
    },
    info(message: string) {
      io.infos.push(message);
    },
    warning(message: string) {
      io.warnings.push(message);
    },
  };
  return io satisfies ActionsIO;
}

function prRun(fromFork = false): RunContext {
  return {
    eventName: 'pull_request',
    serverUrl: 'https://github.com',
    owner: 'acme',
    repo: 'trip-planner',
    sha: HEAD,
    runUrl: 'https://github.com/acme/trip-planner/actions/runs/99',
    pullRequest: { number: PR, headSha: HEAD, fromFork },
    tracksIssue: false,
  };
}

const scheduleRun: RunContext = {
  eventName: 'schedule',
  serverUrl: 'https://github.com',
  owner: 'acme',
  repo: 'trip-planner',
  sha: HEAD,
  runUrl: 'https://github.com/acme/trip-planner/actions/runs/100',
  workflow: 'nightly drill',
  tracksIssue: true,
};

function rlsFinding(i: number, severity: Severity = 'error', message = 'Table is exposed through the Data API without row level security.'): Finding {
  return finding({
    rule: severity === 'error' ? 'rls_disabled_in_public' : 'function_search_path_mutable',
    severity,
    object: { kind: 'table', schema: 'public', name: `table_${String(i).padStart(4, '0')}` },
    message,
    remediation: `alter table public.table_${i} enable row level security;`,
    location: { file: `supabase/migrations/2025011${i % 10}000000_t${i}.sql`, line: (i % 40) + 1 },
  });
}

function failing(findings: Finding[] = [rlsFinding(1), rlsFinding(2, 'warning')]): GateResult {
  return { gate: 'rls', status: 'fail', findings, metrics: { duration_ms: 1234 } };
}
const passing: GateResult = { gate: 'rls', status: 'pass', findings: [], metrics: { duration_ms: 800 } };

function octokit(token = 'write-token') {
  return github.getOctokit(token, { baseUrl: server.url });
}

async function run(result: GateResult, overrides: Partial<PublishRequest> = {}, io = recorder()) {
  const outcome = await publish({ result, rules: RULE_CATALOG, run: prRun(), octokit: octokit(), comment: 'auto', retry: FAST, ...overrides }, io);
  return { outcome, io };
}

describe('sticky PR comment', () => {
  it('posts the first comment with the marker, findings linked at the PR head, and the run', async () => {
    const { outcome } = await run(failing());
    expect(outcome.comment).toMatchObject({ state: 'created' });
    const [comment] = server.comments(REPO, PR);
    expect(comment!.body.startsWith(commentMarker('rls'))).toBe(true);
    expect(comment!.body).toContain('❌ postgate rls-audit failed');
    expect(comment!.body).toContain(`https://github.com/acme/trip-planner/blob/${HEAD}/supabase/migrations/20250111000000_t1.sql#L2`);
    expect(comment!.body).toContain('<details><summary>Remediation (1)</summary>');
    expect(comment!.body).toContain('alter table public.table_1 enable row level security;');
    expect(comment!.body).toContain('[run](https://github.com/acme/trip-planner/actions/runs/99)');
  });

  it('updates its own comment in place, found past the first page of 100', async () => {
    for (let i = 0; i < 130; i += 1) server.addComment(REPO, PR, `chatter ${i}`);
    await run(failing());
    for (let i = 0; i < 20; i += 1) server.addComment(REPO, PR, `more chatter ${i}`);
    const { outcome } = await run(failing([rlsFinding(1)]));
    expect(outcome.comment).toMatchObject({ state: 'updated' });
    const ours = server.comments(REPO, PR).filter((c) => c.body.startsWith(commentMarker('rls')));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toContain('**1 error** · 0 warnings');
    const lists = server.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/issues/${PR}/comments`));
    expect(lists.every((r) => r.query.per_page === '100')).toBe(true);
    expect(lists.some((r) => r.query.page === '2')).toBe(true);
    expect(server.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/issues/comments/'))).toHaveLength(1);
  });

  it('ignores a comment that only quotes the marker, and keeps one comment per gate and target', async () => {
    server.addComment(REPO, PR, `> ${commentMarker('rls')}\n> quoted`);
    await run(failing());
    await run(failing(), { target: 'db.example.com:5432/postgres' });
    await run(failing());
    const ours = server.comments(REPO, PR).filter((c) => c.body.startsWith('<!-- postgate:comment'));
    expect(ours.map((c) => c.body.split('\n')[0])).toEqual([commentMarker('rls'), commentMarker('rls', 'db.example.com:5432/postgres')]);
  });

  it('turns a failing comment green when the gate passes (auto and on-failure)', async () => {
    for (const mode of ['auto', 'on-failure'] as const) {
      server.reset();
      server.addToken('write-token');
      server.addPullRequest(REPO, PR, HEAD);
      await run(failing(), { comment: mode });
      const { outcome } = await run(passing, { comment: mode });
      expect(outcome.comment).toMatchObject({ state: 'updated' });
      const comments = server.comments(REPO, PR);
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body).toContain('✅ postgate rls-audit passed');
      expect(comments[0]!.body).not.toContain('❌');
    }
  });

  it('follows the comment mode when there is no earlier comment', async () => {
    const warningOnly: GateResult = { ...passing, findings: [rlsFinding(3, 'warning')] };
    expect((await run(passing, { comment: 'auto' })).outcome.comment).toMatchObject({ state: 'skipped' });
    expect((await run(warningOnly, { comment: 'on-failure' })).outcome.comment).toMatchObject({ state: 'skipped' });
    expect(server.comments(REPO, PR)).toHaveLength(0);
    expect((await run(warningOnly, { comment: 'auto' })).outcome.comment).toMatchObject({ state: 'created' });
    server.reset();
    server.addToken('write-token');
    server.addPullRequest(REPO, PR, HEAD);
    expect((await run(passing, { comment: 'always' })).outcome.comment).toMatchObject({ state: 'created' });
    server.requests.length = 0;
    const { outcome } = await run(failing(), { comment: 'never' });
    expect(outcome.comment).toBeUndefined();
    expect(server.requests.filter((r) => r.path.includes('/comments'))).toHaveLength(0);
  });

  it("keeps the job summary under GitHub's 1 MiB per step, cutting detail before rows, and points to the JSON report", async () => {
    const long = 'Table is exposed through the Data API without row level security; anon can read and write every row. '.repeat(10);
    const rows = (summary: string) => summary.split('\n').filter((line) => line.startsWith('| table `public.table_')).length;
    // 2,000 long findings: remediation and the ends of long messages go, every finding keeps its row
    const some = (await run(failing(Array.from({ length: 2000 }, (_, i) => rlsFinding(i, 'error', long))), { reportPath: '/runner/temp/postgate-rls.json' })).io
      .summaries[0]!;
    expect(Buffer.byteLength(some)).toBeLessThanOrEqual(1024 * 1024);
    expect(rows(some)).toBe(2000);
    expect(some).toContain(
      "> Shortened to fit GitHub's 1 MiB limit for a step's job summary. Not shown here: remediation for 2,000 findings; details and the end of long messages. The full report: the JSON report (`/runner/temp/postgate-rls.json`, output `report-path`; keep it with actions/upload-artifact).",
    );
    // 8,000: rows go too, and the note counts them
    server.reset();
    server.addToken('write-token');
    server.addPullRequest(REPO, PR, HEAD);
    const all = (await run(failing(Array.from({ length: 8000 }, (_, i) => rlsFinding(i, 'error', long))), { reportPath: '/runner/temp/postgate-rls.json' })).io
      .summaries[0]!;
    expect(Buffer.byteLength(all)).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(all)).toBeGreaterThan(900 * 1024);
    const hidden = /\*\*([\d,]+) findings\*\*/.exec(all);
    expect(
      hidden,
      all
        .split('\n')
        .filter((l) => l.startsWith('>'))
        .join('\n'),
    ).not.toBeNull();
    expect(rows(all) + Number(hidden![1]!.replace(/,/g, ''))).toBe(8000);
    expect(all).toContain('/runner/temp/postgate-rls.json');
  });

  it('shortens a huge report under 65,536 characters and says what was cut and where the rest is', async () => {
    const long = 'Table is exposed through the Data API without row level security; anon can read and write every row. '.repeat(4);
    const findings = Array.from({ length: 1500 }, (_, i) => rlsFinding(i, i % 3 ? 'error' : 'warning', long));
    const { outcome, io } = await run(failing(findings));
    expect(outcome.comment).toMatchObject({ state: 'created' });
    const body = server.comments(REPO, PR)[0]!.body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toMatch(/Shortened to fit GitHub's 65,536-character limit for comments/);
    const hidden = /\*\*([\d,]+) findings\*\* \(([\d,]+) errors, ([\d,]+) warnings\)/.exec(body);
    expect(hidden).not.toBeNull();
    const shownRows = body.split('\n').filter((line) => line.startsWith('| table `public.table_')).length;
    expect(shownRows + Number(hidden![1]!.replace(/,/g, ''))).toBe(1500);
    expect(body).toContain('The full report: [the job summary](https://github.com/acme/trip-planner/actions/runs/99)');
    // the check run summary is budgeted too, and the job summary holds every finding
    const check = server.checkRuns(REPO)[0]!;
    expect(check.summary!.length).toBeLessThanOrEqual(65_535);
    expect(check.annotations).toHaveLength(1000);
    expect(check.summary).toContain('500 more findings not annotated');
    expect(io.summaries[0]!.split('\n').filter((line) => line.startsWith('| table `public.table_'))).toHaveLength(1500);
    expect(server.requests.every((r) => r.status < 400)).toBe(true);
  });
});

describe('check run', () => {
  it('posts 120 annotations in batches of 50, most severe first, on the PR head', async () => {
    const findings = Array.from({ length: 120 }, (_, i) => rlsFinding(i, i < 100 ? 'warning' : 'error'));
    const { outcome, io } = await run(failing(findings));
    expect(outcome.checkRun).toMatchObject({ annotated: 120, requests: 3 });
    const writes = server.requests.filter((r) => r.path.includes('/check-runs'));
    expect(writes.map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    const sizes = writes.map((r) => ((r.body as { output: { annotations?: unknown[] } }).output.annotations ?? []).length);
    expect(sizes).toEqual([50, 50, 20]);
    expect(sizes.every((n) => n <= ANNOTATIONS_PER_REQUEST)).toBe(true);
    const [check] = server.checkRuns(REPO);
    expect(check).toMatchObject({ name: 'postgate rls-audit', headSha: HEAD, status: 'completed', conclusion: 'failure' });
    expect(check!.annotations).toHaveLength(120);
    expect(check!.annotations.slice(0, 20).every((a) => a.annotation_level === 'failure')).toBe(true);
    expect(check!.annotations.slice(20).every((a) => a.annotation_level === 'warning')).toBe(true);
    expect(check!.annotations[0]).toMatchObject({ path: expect.stringMatching(/^supabase\/migrations\//), start_line: expect.any(Number) });
    // checks were written, so no workflow-command annotations duplicate them
    expect(io.annotations).toHaveLength(0);
    expect(io.warnings).toHaveLength(0);
  });

  it('concludes success on a pass and failure on an error', async () => {
    await run(passing);
    await run({ gate: 'rls', status: 'error', findings: [], metrics: {}, error: 'Input `schemas` is "x"; use ...' });
    expect(server.checkRuns(REPO).map((c) => c.conclusion)).toEqual(['success', 'failure']);
  });
});

describe('fork pull requests and outages', () => {
  it('a 403 on a fork falls back to annotations and the summary with one warning; the verdict is unchanged', async () => {
    const findings = Array.from({ length: 25 }, (_, i) => rlsFinding(i, i < 15 ? 'error' : 'warning'));
    const result = failing(findings);
    const io = recorder();
    const { outcome } = await run(result, { run: prRun(true), octokit: octokit('fork-token'), annotationsUsed: { error: 1 } }, io);
    expect(result.status).toBe('fail');
    expect(outcome.comment).toMatchObject({ state: 'failed', failure: { kind: 'denied', status: 403 } });
    expect(outcome.checkRun).toMatchObject({ state: 'failed', failure: { kind: 'denied', status: 403 } });
    expect(io.warnings).toHaveLength(1);
    expect(io.warnings[0]).toMatch(
      /could not post the PR comment and the check run \(HTTP 403: Resource not accessible by integration\): this pull request comes from a fork/,
    );
    expect(io.warnings[0]).toMatch(/verdict \(fail\) is unchanged/);
    // 10 error annotations per step, one of them kept for the failure line: 8 findings + a note
    const errors = io.annotations.filter((a) => a.severity === 'error');
    expect(errors).toHaveLength(9);
    expect(errors[8]!.message).toMatch(
      /^7 more error findings not annotated here \(GitHub shows 10 error annotations per step\); every finding is in the job summary \(https:\/\/github.com\/acme\/trip-planner\/actions\/runs\/99\)/,
    );
    // 10 warnings per step, one is the fallback warning itself: 9 findings fit... 10 do not
    const warnings = io.annotations.filter((a) => a.severity === 'warning');
    expect(warnings).toHaveLength(9);
    expect(warnings[8]!.message).toMatch(/^2 more warning findings not annotated/);
    expect(outcome.annotations).toEqual({ written: 16, notWritten: 9 });
    expect(io.summaries[0]).toMatch(/^> \[!WARNING\]\n> postgate rls-audit: could not post/);
    expect(server.comments(REPO, PR)).toHaveLength(0);
  });

  it('a read-only token on a same-repo PR names the permissions to add', async () => {
    const io = recorder();
    await run(failing(), { octokit: octokit('fork-token') }, io);
    expect(io.warnings).toHaveLength(1);
    expect(io.warnings[0]).toMatch(/give the workflow `pull-requests: write` and `checks: write` in `permissions`/);
  });

  it('retries 5xx and secondary rate limits with backoff, then succeeds', async () => {
    server.fail({ status: 502, times: 2, method: 'POST' });
    server.rateLimit(1);
    const { outcome, io } = await run(failing());
    expect(outcome.comment).toMatchObject({ state: 'created' });
    expect(outcome.checkRun).toMatchObject({ annotated: 2 });
    expect(server.requests.filter((r) => r.status === 502)).toHaveLength(2);
    expect(server.requests.filter((r) => r.status === 403)).toHaveLength(1);
    expect(server.comments(REPO, PR)).toHaveLength(1);
    expect(io.warnings).toHaveLength(0);
  });

  it('after the retries runs out, degrades like a 403 and does not keep trying', async () => {
    server.fail({ status: 503, times: 1000 });
    const { outcome, io } = await run(failing());
    expect(outcome.comment).toMatchObject({ state: 'failed', failure: { kind: 'unavailable', status: 503, attempts: 4 } });
    expect(outcome.checkRun).toMatchObject({ state: 'failed', failure: { kind: 'unavailable', attempts: 0 } });
    expect(server.requests).toHaveLength(4);
    expect(io.warnings).toHaveLength(1);
    expect(io.warnings[0]).toMatch(/the PR comment and the check run: GitHub's API kept failing \(HTTP 503: Server Error, 4 attempts\)/);
    expect(io.annotations.map((a) => a.severity)).toEqual(['error', 'warning']);
    expect(io.summaries).toHaveLength(1);
  });

  it('without a token writes only the summary and annotations', async () => {
    const io = recorder();
    const outcome = await publish({ result: failing(), rules: RULE_CATALOG, run: prRun(), comment: 'auto' }, io);
    expect(outcome.comment).toBeUndefined();
    expect(io.annotations).toHaveLength(2);
    expect(io.infos[0]).toMatch(/no github-token/);
    expect(io.warnings).toHaveLength(0);
  });

  it('redacts every body it sends', async () => {
    registerSecret('hunter2-very-secret');
    const leaky = failing([
      { ...rlsFinding(1), message: 'connection to postgresql://app:hunter2-very-secret@db/x failed', remediation: 'set password hunter2-very-secret' },
    ]);
    await run(leaky);
    await publish({ result: leaky, rules: RULE_CATALOG, run: scheduleRun, octokit: octokit(), comment: 'auto', retry: FAST }, recorder());
    const sent = JSON.stringify(server.requests.map((r) => r.body));
    expect(sent).toContain('***');
    expect(sent).not.toContain('hunter2-very-secret');
  });
});

describe('tracking issue for scheduled and manual runs', () => {
  const drill = (status: 'pass' | 'fail'): GateResult => ({
    gate: 'drill',
    status,
    findings:
      status === 'fail'
        ? [
            finding({
              rule: 'drill_rto_exceeded',
              severity: 'error',
              object: { kind: 'drill', name: 'nightly' },
              message: 'The drill took 21 min; the RTO target is 15 min.',
            }),
          ]
        : [],
    metrics: { duration_ms: 1_260_000 },
    details: { phases: [{ phase: 'restore', duration_ms: 1_100_000, status: 'ok' }] },
  });
  const publishDrill = (status: 'pass' | 'fail', target = 'db.example.com:5432/postgres') =>
    publish({ result: drill(status), rules: RULE_CATALOG, run: scheduleRun, octokit: octokit(), comment: 'auto', target, retry: FAST }, recorder());

  // Issues and pull requests share numbers: PR #7 exists, so the first issue is #8.
  it('opens one issue on failure, updates it on the next failure, closes it on recovery, never duplicates', async () => {
    expect((await publishDrill('fail')).issue).toMatchObject({ state: 'opened', number: 8 });
    expect(server.issues(REPO)).toHaveLength(1);
    const [opened] = server.issues(REPO);
    expect(opened).toMatchObject({ state: 'open', labels: [ISSUE_LABEL], title: 'postgate restore-drill (db.example.com:5432/postgres) is failing' });
    expect(opened!.body).toContain(issueMarker('drill', 'db.example.com:5432/postgres'));
    expect(opened!.body).toContain('| restore | 18 min 20 s | ok |');

    expect((await publishDrill('fail')).issue).toMatchObject({ state: 'updated', number: 8 });
    expect(server.issues(REPO)).toHaveLength(1);
    expect(server.comments(REPO, 8).map((c) => c.body)).toEqual([
      expect.stringMatching(/^❌ Still failing: \[run\]\(https:\/\/github.com\/acme\/trip-planner\/actions\/runs\/100\) at 0123456: 1 error/),
    ]);

    expect((await publishDrill('pass')).issue).toMatchObject({ state: 'closed', number: 8 });
    expect(server.issues(REPO)[0]).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(server.comments(REPO, 8).at(-1)!.body).toMatch(/^✅ Passing again/);

    expect((await publishDrill('pass')).issue).toMatchObject({ state: 'none' });
    expect((await publishDrill('fail')).issue).toMatchObject({ state: 'opened', number: 9 });
    expect(server.issues(REPO).filter((i) => i.state === 'open')).toHaveLength(1);
  });

  it('keeps one issue per target and closes duplicates in favour of the oldest', async () => {
    await publishDrill('fail', 'staging.example.com:5432/postgres');
    const marker = issueMarker('drill', 'db.example.com:5432/postgres');
    server.addIssue(REPO, { title: 'old', body: `${marker}\nold`, labels: [ISSUE_LABEL] });
    server.addIssue(REPO, { title: 'racing duplicate', body: `${marker}\nnew`, labels: [ISSUE_LABEL] });
    const outcome = await publishDrill('fail');
    expect(outcome.issue).toMatchObject({ state: 'updated', number: 9, duplicatesClosed: 1 });
    expect(server.issues(REPO).map((i) => [i.number, i.state])).toEqual([
      [8, 'open'],
      [9, 'open'],
      [10, 'closed'],
    ]);
    expect(server.comments(REPO, 10)[0]!.body).toBe('Duplicate of #9: postgate tracks this gate there.');
  });

  it('a token without issues: write falls back with one warning', async () => {
    server.addToken('no-issues', { issues: 'read' });
    const io = recorder();
    const outcome = await publish(
      { result: drill('fail'), rules: RULE_CATALOG, run: scheduleRun, octokit: octokit('no-issues'), comment: 'auto', retry: FAST },
      io,
    );
    expect(outcome.issue).toMatchObject({ state: 'failed', failure: { kind: 'denied' } });
    expect(io.warnings).toEqual([
      expect.stringMatching(/the tracking issue \(HTTP 403: .*\): the token may not write there; give the workflow `issues: write`/),
    ]);
    expect(io.annotations).toHaveLength(1);
  });
});

describe('run context and retry policy', () => {
  const write = (payload: unknown) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'event-')), 'event.json');
    writeFileSync(file, JSON.stringify(payload));
    return file;
  };
  const base = { GITHUB_REPOSITORY: REPO, GITHUB_SHA: 'merge-sha', GITHUB_RUN_ID: '5', GITHUB_SERVER_URL: 'https://github.com' };

  it('reads the PR head (not the merge commit), fork or not, and the run page', () => {
    const pr = (headRepo: string | null) => ({
      pull_request: { number: 3, head: { sha: HEAD, repo: headRepo && { full_name: headRepo } } },
      repository: { full_name: REPO },
    });
    const own = readRunContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: write(pr(REPO)), GITHUB_RUN_ATTEMPT: '2' });
    expect(own).toMatchObject({
      owner: 'acme',
      repo: 'trip-planner',
      sha: HEAD,
      pullRequest: { number: 3, headSha: HEAD, fromFork: false },
      tracksIssue: false,
    });
    expect(own.runUrl).toBe('https://github.com/acme/trip-planner/actions/runs/5/attempts/2');
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: write(pr('someone/trip-planner')) }).pullRequest?.fromFork).toBe(
      true,
    );
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: write(pr(null)) }).pullRequest?.fromFork).toBe(true);
  });

  it('tracks an issue on schedule, manual runs and pushes to the default branch only', () => {
    const push = (ref: string) => write({ ref, repository: { full_name: REPO, default_branch: 'main' } });
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'schedule', GITHUB_EVENT_PATH: write({}) })).toMatchObject({ sha: 'merge-sha', tracksIssue: true });
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'workflow_dispatch' }).tracksIssue).toBe(true);
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: push('refs/heads/main') }).tracksIssue).toBe(true);
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: push('refs/heads/feature') }).tracksIssue).toBe(false);
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'merge_group' }).tracksIssue).toBe(false);
  });

  it('knows the base branch from GITHUB_BASE_REF, else from the pull request or merge queue event', () => {
    const pr = write({ pull_request: { number: 3, head: { sha: HEAD }, base: { ref: 'release/2' } } });
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_BASE_REF: 'main', GITHUB_EVENT_PATH: pr }).baseRef).toBe('main');
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_BASE_REF: '', GITHUB_EVENT_PATH: pr }).baseRef).toBe('release/2');
    const queue = write({ merge_group: { head_sha: HEAD, base_ref: 'refs/heads/main' } });
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'merge_group', GITHUB_EVENT_PATH: queue }).baseRef).toBe('main');
    expect(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: write({ ref: 'refs/heads/main' }) }).baseRef).toBeUndefined();
  });

  it('retries only what can succeed later, honouring retry-after and not waiting for a far reset', () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(retryDelay({ status: 502 }, 1, policy)).toBe(1000);
    expect(retryDelay({ status: 502 }, 3, policy)).toBe(4000);
    expect(retryDelay({ status: 403, message: 'You have exceeded a secondary rate limit', response: { headers: { 'retry-after': '7' } } }, 1, policy)).toBe(
      7000,
    );
    expect(retryDelay({ status: 403, response: { headers: { 'retry-after': '3600' } } }, 1, policy)).toBeUndefined();
    const now = 1_000_000_000_000;
    expect(
      retryDelay({ status: 403, response: { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 30) } } }, 1, policy, now),
    ).toBe(30_000);
    expect(
      retryDelay({ status: 403, response: { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 3000) } } }, 1, policy, now),
    ).toBeUndefined();
    expect(retryDelay({ status: 403, message: 'Resource not accessible by integration' }, 1, policy)).toBeUndefined();
    expect(retryDelay({ status: 422 }, 1, policy)).toBeUndefined();
    // fetch refused the request (octokit reports it as a 500): it would be refused again
    expect(retryDelay({ status: 500, message: 'Headers.append: "token a\nb" is an invalid header value.' }, 1, policy)).toBeUndefined();
    expect(classify({ status: 403, message: 'Resource not accessible by integration - https://docs.github.com/rest' })).toEqual({
      kind: 'denied',
      status: 403,
      attempts: 1,
      message: 'Resource not accessible by integration',
    });
    expect(classify({ status: 429 }).kind).toBe('unavailable');
    expect(classify(new Error('socket hang up'))).toMatchObject({ kind: 'unavailable', message: 'socket hang up' });
  });

  it('a body over 65,536 characters is refused by the server, as by GitHub', async () => {
    await expect(
      octokit().rest.issues.createComment({ owner: 'acme', repo: 'trip-planner', issue_number: PR, body: 'x'.repeat(65_537) }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(
      octokit().rest.checks.create({
        owner: 'acme',
        repo: 'trip-planner',
        name: 'x',
        head_sha: HEAD,
        output: {
          title: 't',
          summary: 's',
          annotations: Array.from({ length: 51 }, () => ({ path: 'a', start_line: 1, end_line: 1, annotation_level: 'notice' as const, message: 'm' })),
        },
      }),
    ).rejects.toMatchObject({ status: 422 });
  });
});
