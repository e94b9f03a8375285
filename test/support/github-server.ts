/**
 * A local GitHub REST API for tests: the endpoints postgate uses (issue comments, issues, check
 * runs), with GitHub's answers and limits:
 *
 * - 401 "Bad credentials" for unknown tokens; 403 "Resource not accessible by integration" when a
 *   token's permission for the scope is not `write` (fork pull requests get read-only tokens);
 * - 422 for comment and issue bodies over 65,536 characters, check run summaries over 65,535,
 *   more than 50 annotations in one request, and missing annotation fields;
 * - pagination with `per_page` (at most 100) and `Link` headers;
 * - labels created on first use (as GitHub does when an issue is created with a new label);
 * - failures on demand: 5xx, secondary rate limits (403 + retry-after), anything else;
 * - a record of every request (method, path, query, body, token, status);
 * - identities: every token writes as its login (`github-actions[bot]` unless `addToken` names
 *   another, e.g. an app's `<slug>[bot]` or a user's login for a PAT); comments and issues record
 *   their author and are served with `user: { login, id, type }`; check runs with the `app` (the
 *   bot's slug) that created them, and GitHub's refusal when another app's token updates one;
 *   GraphQL `viewer { login databaseId }` answers every token, REST `GET /user` only user
 *   tokens (403 "Resource not accessible by integration" for bots, as GitHub does);
 * - what a release needs (scripts/release.ts): a linear commit history (`addCommits`), git refs
 *   (lightweight and annotated tags, GitHub's 422 for an existing ref or a move that is not a
 *   fast forward without `force`), compare and commit lists, and releases (422 `already_exists`
 *   for a second release of a tag; a release of a missing tag creates it, as GitHub does).
 *
 * Drive it with the real octokit: `github.getOctokit(token, { baseUrl: server.url })`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Access = 'none' | 'read' | 'write';

export interface TokenPermissions {
  issues?: Access;
  pullRequests?: Access;
  checks?: Access;
  contents?: Access;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  token?: string;
  status: number;
}

export interface StoredComment {
  id: number;
  issueNumber: number;
  body: string;
  user: string;
}

export interface StoredIssue {
  number: number;
  title: string;
  body: string;
  /** The author's login (issues opened through the API: the token's login). */
  user?: string;
  state: 'open' | 'closed';
  stateReason?: string | null;
  labels: string[];
  isPullRequest: boolean;
  headSha?: string;
}

export interface StoredAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  title?: string;
  raw_details?: string;
}

export interface StoredCheckRun {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion?: string;
  title?: string;
  summary?: string;
  annotations: StoredAnnotation[];
  /** Slug of the app that created it (a bot token's login without `[bot]`). */
  app?: string;
}

export interface StoredRelease {
  id: number;
  tagName: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  /** `make_latest` as sent ('true', 'false' or 'legacy'). */
  makeLatest: string;
}

export interface InjectedFailure {
  /** How many matching requests fail (default 1). */
  times?: number;
  status: number;
  message?: string;
  headers?: Record<string, string>;
  method?: string;
  path?: RegExp;
}

interface RepoState {
  issues: StoredIssue[];
  comments: StoredComment[];
  checkRuns: StoredCheckRun[];
  labels: Set<string>;
  /** Oldest first; each commit's parent is the one before it. */
  commits: Array<{ sha: string; message: string }>;
  /** Full ref name (`refs/tags/v1`) to the object it points at. */
  refs: Map<string, { sha: string; type: 'commit' | 'tag' }>;
  /** Annotated tag objects: their sha to the commit they tag. */
  tagObjects: Map<string, { tag: string; commit: string }>;
  releases: StoredRelease[];
}

export interface GitHubServer {
  /** Base URL for octokit (`baseUrl`) or GITHUB_API_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Registers a token; every permission defaults to write. */
  addToken(token: string, permissions?: TokenPermissions, login?: string): void;
  addPullRequest(repository: string, number: number, headSha: string): void;
  addComment(repository: string, issueNumber: number, body: string, user?: string): StoredComment;
  /** An issue opened by `issue.user` (default `github-actions[bot]`, the default token's identity). */
  addIssue(repository: string, issue: Partial<StoredIssue> & { title: string; body: string }): StoredIssue;
  /** A check run some app (`app`, its slug) already created. */
  addCheckRun(repository: string, run: Partial<StoredCheckRun> & { name: string; headSha: string; app: string }): StoredCheckRun;
  /** The account id the server gives a login (`github-actions[bot]` is 41898282, as on GitHub). */
  userId(login: string): number;
  comments(repository: string, issueNumber?: number): StoredComment[];
  issues(repository: string): StoredIssue[];
  checkRuns(repository: string): StoredCheckRun[];
  /** Appends commits (oldest first) to the repository's linear history; returns their shas. */
  addCommits(repository: string, messages: string[]): string[];
  /** Points a ref (`refs/tags/v1.0.0`) at a commit, as a push would; `annotated` makes a tag object in between. */
  setRef(repository: string, ref: string, commitSha: string, options?: { annotated?: boolean }): void;
  /** The commit a ref points at (annotated tags dereferenced), or undefined. */
  ref(repository: string, ref: string): string | undefined;
  releases(repository: string): StoredRelease[];
  /** The next matching requests fail with this answer. */
  fail(failure: InjectedFailure): void;
  /** A secondary rate limit answer (403 with retry-after), `times` times. */
  rateLimit(times?: number, retryAfterSeconds?: number): void;
  reset(): void;
  close(): Promise<void>;
}

/** The login every token writes as unless `addToken` names another. */
const DEFAULT_LOGIN = 'github-actions[bot]';
const COMMENT_MAX = 65_536;
const SUMMARY_MAX = 65_535;
const ANNOTATIONS_MAX = 50;

class HttpError extends Error {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(String(body.message));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

function validation(resource: string, field: string, message: string): HttpError {
  return new HttpError(422, {
    message: 'Validation Failed',
    errors: [{ resource, code: 'custom', field, message }],
    documentation_url: 'https://docs.github.com/rest',
  });
}

const FORBIDDEN = {
  message: 'Resource not accessible by integration',
  documentation_url: 'https://docs.github.com/rest',
  status: '403',
};

export async function startGitHubServer(): Promise<GitHubServer> {
  const repos = new Map<string, RepoState>();
  const tokens = new Map<string, { permissions: Required<TokenPermissions>; login: string }>();
  const requests: RecordedRequest[] = [];
  let failures: Array<InjectedFailure & { left: number }> = [];
  let nextId = 1000;
  const userIds = new Map<string, number>([[DEFAULT_LOGIN, 41898282]]);
  const userId = (login: string): number => {
    const key = login.toLowerCase();
    let id = userIds.get(key);
    if (id === undefined) {
      id = 5_000_000 + userIds.size;
      userIds.set(key, id);
    }
    return id;
  };
  const isBot = (login: string) => login.endsWith('[bot]');
  const userJson = (login: string) => ({ login, id: userId(login), type: isBot(login) ? 'Bot' : 'User' });
  const appOf = (login: string) => login.replace(/\[bot\]$/, '');

  const repoState = (name: string): RepoState => {
    let state = repos.get(name);
    if (!state) {
      state = { issues: [], comments: [], checkRuns: [], labels: new Set(), commits: [], refs: new Map(), tagObjects: new Map(), releases: [] };
      repos.set(name, state);
    }
    return state;
  };
  let baseUrl = '';
  const htmlBase = 'https://github.test';

  const issueJson = (repo: string, issue: StoredIssue) => ({
    id: issue.number + 500_000,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    state_reason: issue.stateReason ?? null,
    labels: issue.labels.map((name) => ({ name })),
    user: userJson(issue.user ?? DEFAULT_LOGIN),
    html_url: `${htmlBase}/${repo}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`,
    ...(issue.isPullRequest ? { pull_request: { url: `${baseUrl}/repos/${repo}/pulls/${issue.number}` } } : {}),
  });
  const commentJson = (repo: string, comment: StoredComment) => ({
    id: comment.id,
    body: comment.body,
    user: userJson(comment.user),
    html_url: `${htmlBase}/${repo}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
  });
  const checkRunJson = (repo: string, run: StoredCheckRun) => ({
    id: run.id,
    name: run.name,
    head_sha: run.headSha,
    status: run.status,
    conclusion: run.conclusion ?? null,
    output: { title: run.title ?? null, summary: run.summary ?? null, annotations_count: run.annotations.length },
    app: { slug: run.app ?? appOf(DEFAULT_LOGIN), name: run.app ?? appOf(DEFAULT_LOGIN) },
    html_url: `${htmlBase}/${repo}/runs/${run.id}`,
  });

  const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' };
  const commitJson = (repo: string, commit: { sha: string; message: string }) => ({
    sha: commit.sha,
    commit: { message: commit.message },
    html_url: `${htmlBase}/${repo}/commit/${commit.sha}`,
  });
  const refJson = (repo: string, ref: string, target: { sha: string; type: string }) => ({
    ref,
    url: `${baseUrl}/repos/${repo}/git/${ref}`,
    object: { sha: target.sha, type: target.type },
  });
  const releaseJson = (repo: string, release: StoredRelease) => ({
    id: release.id,
    tag_name: release.tagName,
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    html_url: `${htmlBase}/${repo}/releases/tag/${release.tagName}`,
  });
  /** The commit a ref points at, annotated tags dereferenced. */
  const refCommit = (state: RepoState, ref: string): string | undefined => {
    const target = state.refs.get(ref);
    return target?.type === 'tag' ? state.tagObjects.get(target.sha)?.commit : target?.sha;
  };
  /** Index in the history of a sha, tag or branch name (as compare and `?sha=` accept them). */
  const commitIndex = (state: RepoState, name: string): number => {
    const sha = /^[0-9a-f]{40}$/.test(name) ? name : (refCommit(state, `refs/tags/${name}`) ?? refCommit(state, `refs/heads/${name}`));
    const index = state.commits.findIndex((commit) => commit.sha === sha);
    if (index < 0) throw new HttpError(404, NOT_FOUND);
    return index;
  };
  const knownCommit = (state: RepoState, sha: unknown): string => {
    if (typeof sha !== 'string' || !state.commits.some((commit) => commit.sha === sha)) throw validation('Reference', 'sha', 'Object does not exist');
    return sha;
  };

  function paginate<T>(items: T[], query: Record<string, string>, path: string, res: ServerResponse): T[] {
    const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30)));
    const page = Math.max(1, Number(query.page ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => {
      const params = new URLSearchParams({ ...query, per_page: String(perPage), page: String(p) });
      return `<${baseUrl}${path}?${params}>`;
    };
    const links: string[] = [];
    if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
    if (links.length) res.setHeader('link', links.join(', '));
    return items.slice((page - 1) * perPage, page * perPage);
  }

  function need(token: string | undefined, scope: keyof TokenPermissions, access: 'read' | 'write'): void {
    const entry = token ? tokens.get(token) : undefined;
    if (!entry) throw new HttpError(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const granted = entry.permissions[scope];
    if (granted === 'write' || (access === 'read' && granted === 'read')) return;
    throw new HttpError(403, FORBIDDEN);
  }

  function findIssue(state: RepoState, number: number): StoredIssue {
    const issue = state.issues.find((candidate) => candidate.number === number);
    if (!issue) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    return issue;
  }

  function checkAnnotations(annotations: unknown): StoredAnnotation[] {
    if (annotations === undefined) return [];
    if (!Array.isArray(annotations)) throw validation('CheckRun', 'annotations', 'annotations must be an array');
    if (annotations.length > ANNOTATIONS_MAX) {
      throw new HttpError(422, {
        message: `Invalid request.\n\nOnly ${ANNOTATIONS_MAX} annotations are allowed per request.`,
        documentation_url: 'https://docs.github.com/rest/checks/runs',
      });
    }
    for (const a of annotations as StoredAnnotation[]) {
      for (const field of ['path', 'start_line', 'end_line', 'annotation_level', 'message'] as const) {
        if (a[field] === undefined || a[field] === '') throw validation('CheckRun', `annotations.${field}`, `${field} is missing`);
      }
      if (!['notice', 'warning', 'failure'].includes(a.annotation_level)) throw validation('CheckRun', 'annotation_level', 'is not included in the list');
      if ((a.title?.length ?? 0) > 255) throw validation('CheckRun', 'annotations.title', 'title is too long (maximum is 255 characters)');
    }
    return annotations as StoredAnnotation[];
  }

  function checkOutput(output: { title?: string; summary?: string; annotations?: unknown } | undefined): StoredAnnotation[] {
    if (!output) return [];
    if (!output.title || !output.summary) throw validation('CheckRun', 'output', 'title and summary are required');
    if (output.summary.length > SUMMARY_MAX) throw validation('CheckRun', 'summary', `summary is too long (maximum is ${SUMMARY_MAX} characters)`);
    return checkAnnotations(output.annotations);
  }

  function checkBody(resource: string, body: unknown): string {
    if (typeof body !== 'string') throw validation(resource, 'body', 'body is missing');
    if ([...body].length > COMMENT_MAX) throw validation(resource, 'body', `body is too long (maximum is ${COMMENT_MAX} characters)`);
    return body;
  }

  type Handler = (
    m: string[],
    ctx: { token?: string; query: Record<string, string>; body: Record<string, unknown>; res: ServerResponse; path: string },
  ) => [number, unknown];
  const routes: Array<[string, RegExp, Handler]> = [
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      ([repo, n], { token, query, res, path }) => {
        need(token, 'issues', 'read');
        const state = repoState(repo!);
        findIssue(state, Number(n));
        const list = state.comments.filter((c) => c.issueNumber === Number(n));
        return [200, paginate(list, query, path, res).map((c) => commentJson(repo!, c))];
      },
    ],
    [
      'POST',
      /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      ([repo, n], { token, body }) => {
        const state = repoState(repo!);
        const issue = findIssue(state, Number(n));
        need(token, issue.isPullRequest ? 'pullRequests' : 'issues', 'write');
        const comment = { id: nextId++, issueNumber: Number(n), body: checkBody('IssueComment', body.body), user: tokens.get(token!)!.login };
        state.comments.push(comment);
        return [201, commentJson(repo!, comment)];
      },
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/,
      ([repo, id], { token, body }) => {
        const state = repoState(repo!);
        const comment = state.comments.find((c) => c.id === Number(id));
        if (!comment) throw new HttpError(404, { message: 'Not Found' });
        need(token, findIssue(state, comment.issueNumber).isPullRequest ? 'pullRequests' : 'issues', 'write');
        comment.body = checkBody('IssueComment', body.body);
        return [200, commentJson(repo!, comment)];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/issues$/,
      ([repo], { token, query, res, path }) => {
        need(token, 'issues', 'read');
        const wanted = (query.labels ?? '').split(',').filter(Boolean);
        const stateFilter = query.state ?? 'open';
        const list = repoState(repo!)
          .issues.filter((issue) => stateFilter === 'all' || issue.state === stateFilter)
          .filter((issue) => wanted.every((label) => issue.labels.includes(label)))
          .sort((a, b) => b.number - a.number);
        return [200, paginate(list, query, path, res).map((issue) => issueJson(repo!, issue))];
      },
    ],
    [
      'POST',
      /^\/repos\/([^/]+\/[^/]+)\/issues$/,
      ([repo], { token, body }) => {
        need(token, 'issues', 'write');
        const state = repoState(repo!);
        if (typeof body.title !== 'string' || !body.title) throw validation('Issue', 'title', 'title is missing');
        const labels = Array.isArray(body.labels) ? (body.labels as string[]) : [];
        for (const label of labels) state.labels.add(label);
        const issue: StoredIssue = {
          number: Math.max(0, ...state.issues.map((i) => i.number)) + 1,
          title: body.title,
          body: checkBody('Issue', body.body ?? ''),
          state: 'open',
          labels,
          isPullRequest: false,
          user: tokens.get(token!)!.login,
        };
        state.issues.push(issue);
        return [201, issueJson(repo!, issue)];
      },
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)$/,
      ([repo, n], { token, body }) => {
        need(token, 'issues', 'write');
        const issue = findIssue(repoState(repo!), Number(n));
        if (body.title !== undefined) issue.title = String(body.title);
        if (body.body !== undefined) issue.body = checkBody('Issue', body.body);
        if (body.state === 'open' || body.state === 'closed') issue.state = body.state;
        if (body.state_reason !== undefined) issue.stateReason = body.state_reason as string;
        return [200, issueJson(repo!, issue)];
      },
    ],
    [
      'POST',
      /^\/repos\/([^/]+\/[^/]+)\/check-runs$/,
      ([repo], { token, body }) => {
        need(token, 'checks', 'write');
        if (typeof body.name !== 'string' || typeof body.head_sha !== 'string') throw validation('CheckRun', 'name', 'name and head_sha are required');
        const output = body.output as { title?: string; summary?: string; annotations?: unknown } | undefined;
        const annotations = checkOutput(output);
        const run: StoredCheckRun = {
          id: nextId++,
          name: body.name,
          headSha: body.head_sha,
          status: String(body.status ?? 'queued'),
          ...(body.conclusion ? { conclusion: String(body.conclusion) } : {}),
          ...(output ? { title: output.title!, summary: output.summary! } : {}),
          annotations: [...annotations],
          app: appOf(tokens.get(token!)!.login),
        };
        repoState(repo!).checkRuns.push(run);
        return [201, checkRunJson(repo!, run)];
      },
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+\/[^/]+)\/check-runs\/(\d+)$/,
      ([repo, id], { token, body }) => {
        need(token, 'checks', 'write');
        const run = repoState(repo!).checkRuns.find((r) => r.id === Number(id));
        if (!run) throw new HttpError(404, { message: 'Not Found' });
        // only the app that created a check run may update it
        if ((run.app ?? appOf(DEFAULT_LOGIN)) !== appOf(tokens.get(token!)!.login)) throw new HttpError(403, FORBIDDEN);
        const output = body.output as { title?: string; summary?: string; annotations?: unknown } | undefined;
        const annotations = checkOutput(output);
        if (output) Object.assign(run, { title: output.title, summary: output.summary });
        run.annotations.push(...annotations);
        if (body.status) run.status = String(body.status);
        if (body.conclusion) run.conclusion = String(body.conclusion);
        return [200, checkRunJson(repo!, run)];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/git\/ref\/(.+)$/,
      ([repo, ref], { token }) => {
        need(token, 'contents', 'read');
        const target = repoState(repo!).refs.get(`refs/${ref}`);
        if (!target) throw new HttpError(404, NOT_FOUND);
        return [200, refJson(repo!, `refs/${ref}`, target)];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/git\/matching-refs\/(.+)$/,
      ([repo, prefix], { token }) => {
        need(token, 'contents', 'read');
        const matching = [...repoState(repo!).refs].filter(([ref]) => ref.startsWith(`refs/${prefix}`)).sort(([a], [b]) => a.localeCompare(b));
        return [200, matching.map(([ref, target]) => refJson(repo!, ref, target))];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/git\/tags\/([0-9a-f]{40})$/,
      ([repo, sha], { token }) => {
        need(token, 'contents', 'read');
        const tag = repoState(repo!).tagObjects.get(sha!);
        if (!tag) throw new HttpError(404, NOT_FOUND);
        return [200, { sha, tag: tag.tag, object: { sha: tag.commit, type: 'commit' } }];
      },
    ],
    [
      'POST',
      /^\/repos\/([^/]+\/[^/]+)\/git\/refs$/,
      ([repo], { token, body }) => {
        need(token, 'contents', 'write');
        const state = repoState(repo!);
        if (typeof body.ref !== 'string' || !/^refs\/.+\/.+/.test(body.ref))
          throw validation('Reference', 'ref', 'ref must be fully qualified, e.g. refs/tags/v1');
        const sha = knownCommit(state, body.sha);
        if (state.refs.has(body.ref)) throw validation('Reference', 'ref', 'Reference already exists');
        state.refs.set(body.ref, { sha, type: 'commit' });
        return [201, refJson(repo!, body.ref, { sha, type: 'commit' })];
      },
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+\/[^/]+)\/git\/refs\/(.+)$/,
      ([repo, ref], { token, body }) => {
        need(token, 'contents', 'write');
        const state = repoState(repo!);
        const full = `refs/${ref}`;
        const current = refCommit(state, full);
        if (current === undefined) throw validation('Reference', 'ref', 'Reference does not exist');
        const sha = knownCommit(state, body.sha);
        if (body.force !== true && commitIndex(state, sha) < commitIndex(state, current)) throw validation('Reference', 'sha', 'Update is not a fast forward');
        state.refs.set(full, { sha, type: 'commit' });
        return [200, refJson(repo!, full, { sha, type: 'commit' })];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/compare\/(.+)\.\.\.(.+)$/,
      ([repo, base, head], { token, query, res, path }) => {
        need(token, 'contents', 'read');
        const state = repoState(repo!);
        const from = commitIndex(state, base!);
        const to = commitIndex(state, head!);
        const commits = from < to ? state.commits.slice(from + 1, to + 1) : [];
        const status = from === to ? 'identical' : from < to ? 'ahead' : 'behind';
        return [200, { status, total_commits: commits.length, commits: paginate(commits, query, path, res).map((commit) => commitJson(repo!, commit)) }];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/commits$/,
      ([repo], { token, query, res, path }) => {
        need(token, 'contents', 'read');
        const state = repoState(repo!);
        const upTo = query.sha ? commitIndex(state, query.sha) : state.commits.length - 1;
        const newestFirst = state.commits.slice(0, upTo + 1).reverse();
        return [200, paginate(newestFirst, query, path, res).map((commit) => commitJson(repo!, commit))];
      },
    ],
    [
      'GET',
      /^\/repos\/([^/]+\/[^/]+)\/releases\/tags\/(.+)$/,
      ([repo, tag], { token }) => {
        need(token, 'contents', 'read');
        const release = repoState(repo!).releases.find((candidate) => candidate.tagName === tag);
        if (!release) throw new HttpError(404, NOT_FOUND);
        return [200, releaseJson(repo!, release)];
      },
    ],
    [
      'POST',
      /^\/repos\/([^/]+\/[^/]+)\/releases$/,
      ([repo], { token, body }) => {
        need(token, 'contents', 'write');
        const state = repoState(repo!);
        if (typeof body.tag_name !== 'string' || !body.tag_name) throw validation('Release', 'tag_name', 'tag_name is missing');
        if (state.releases.some((release) => release.tagName === body.tag_name)) {
          throw new HttpError(422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
        }
        const ref = `refs/tags/${body.tag_name}`;
        if (!state.refs.has(ref)) {
          const target = typeof body.target_commitish === 'string' ? body.target_commitish : state.commits.at(-1)?.sha;
          state.refs.set(ref, { sha: knownCommit(state, target), type: 'commit' });
        }
        const release: StoredRelease = {
          id: nextId++,
          tagName: body.tag_name,
          name: typeof body.name === 'string' ? body.name : body.tag_name,
          body: checkBody('Release', body.body ?? ''),
          draft: body.draft === true,
          prerelease: body.prerelease === true,
          makeLatest: typeof body.make_latest === 'string' ? body.make_latest : 'true',
        };
        state.releases.push(release);
        return [201, releaseJson(repo!, release)];
      },
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+\/[^/]+)\/releases\/(\d+)$/,
      ([repo, id], { token, body }) => {
        need(token, 'contents', 'write');
        const release = repoState(repo!).releases.find((candidate) => candidate.id === Number(id));
        if (!release) throw new HttpError(404, NOT_FOUND);
        if (typeof body.name === 'string') release.name = body.name;
        if (body.body !== undefined) release.body = checkBody('Release', body.body);
        if (typeof body.prerelease === 'boolean') release.prerelease = body.prerelease;
        if (typeof body.make_latest === 'string') release.makeLatest = body.make_latest;
        return [200, releaseJson(repo!, release)];
      },
    ],
    [
      'POST',
      /^\/graphql$/,
      (_m, { token, body }) => {
        const entry = token ? tokens.get(token) : undefined;
        if (!entry) throw new HttpError(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' });
        const query = typeof body.query === 'string' ? body.query : '';
        if (/\bviewer\s*\{/.test(query)) return [200, { data: { viewer: { login: entry.login, databaseId: userId(entry.login) } } }];
        return [200, { data: null, errors: [{ type: 'NOT_SUPPORTED', message: 'The test server answers only `viewer { login databaseId }`.' }] }];
      },
    ],
    [
      'GET',
      /^\/user$/,
      (_m, { token }) => {
        const entry = token ? tokens.get(token) : undefined;
        if (!entry) throw new HttpError(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
        if (isBot(entry.login)) throw new HttpError(403, FORBIDDEN);
        return [200, userJson(entry.login)];
      },
    ],
  ];

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(status === 204 ? undefined : JSON.stringify(payload));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const query = Object.fromEntries(url.searchParams);
      const auth = req.headers.authorization ?? '';
      const token = /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1];
      const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, body: undefined, ...(token ? { token } : {}), status: 0 };
      requests.push(record);
      try {
        const body = await readBody(req);
        record.body = Object.keys(body).length ? body : undefined;
        const failure = failures.find((f) => f.left > 0 && (!f.method || f.method === record.method) && (!f.path || f.path.test(record.path)));
        if (failure) {
          failure.left -= 1;
          throw new HttpError(
            failure.status,
            { message: failure.message ?? 'Server Error', documentation_url: 'https://docs.github.com/rest' },
            failure.headers,
          );
        }
        for (const [method, pattern, handler] of routes) {
          const match = pattern.exec(url.pathname);
          if (method !== record.method || !match) continue;
          const [status, payload] = handler(match.slice(1).map(decodeURIComponent), { ...(token ? { token } : {}), query, body, res, path: url.pathname });
          record.status = status;
          send(res, status, payload);
          return;
        }
        throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      } catch (error) {
        const e = error instanceof HttpError ? error : new HttpError(500, { message: String(error) });
        record.status = e.status;
        send(res, e.status, e.body, e.headers);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    addToken(token, permissions = {}, login = DEFAULT_LOGIN) {
      tokens.set(token, { permissions: { issues: 'write', pullRequests: 'write', checks: 'write', contents: 'write', ...permissions }, login });
    },
    addPullRequest(repository, number, headSha) {
      repoState(repository).issues.push({ number, title: `PR ${number}`, body: '', state: 'open', labels: [], isPullRequest: true, headSha });
    },
    addComment(repository, issueNumber, body, user = 'someone') {
      const comment = { id: nextId++, issueNumber, body, user };
      repoState(repository).comments.push(comment);
      return comment;
    },
    addIssue(repository, issue) {
      const state = repoState(repository);
      const stored: StoredIssue = {
        number: Math.max(0, ...state.issues.map((i) => i.number)) + 1,
        state: 'open',
        labels: [],
        isPullRequest: false,
        user: DEFAULT_LOGIN,
        ...issue,
      };
      state.issues.push(stored);
      return stored;
    },
    addCheckRun(repository, run) {
      const stored: StoredCheckRun = { id: nextId++, status: 'completed', annotations: [], ...run };
      repoState(repository).checkRuns.push(stored);
      return stored;
    },
    addCommits(repository, messages) {
      const state = repoState(repository);
      return messages.map((message) => {
        const parent = state.commits.at(-1)?.sha ?? '';
        const sha = createHash('sha1').update(`${repository}\n${parent}\n${message}`).digest('hex');
        state.commits.push({ sha, message });
        return sha;
      });
    },
    setRef(repository, ref, commitSha, options = {}) {
      const state = repoState(repository);
      if (!options.annotated) {
        state.refs.set(ref, { sha: commitSha, type: 'commit' });
        return;
      }
      const tagSha = createHash('sha1').update(`tag\n${ref}\n${commitSha}`).digest('hex');
      state.tagObjects.set(tagSha, { tag: ref.replace(/^refs\/tags\//, ''), commit: commitSha });
      state.refs.set(ref, { sha: tagSha, type: 'tag' });
    },
    ref: (repository, ref) => refCommit(repoState(repository), ref),
    releases: (repository) => repoState(repository).releases,
    userId,
    comments: (repository, issueNumber) => repoState(repository).comments.filter((c) => issueNumber === undefined || c.issueNumber === issueNumber),
    issues: (repository) => repoState(repository).issues.filter((issue) => !issue.isPullRequest),
    checkRuns: (repository) => repoState(repository).checkRuns,
    fail(failure) {
      failures.push({ ...failure, left: failure.times ?? 1 });
    },
    rateLimit(times = 1, retryAfterSeconds = 0) {
      failures.push({
        status: 403,
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        headers: { 'retry-after': String(retryAfterSeconds) },
        left: times,
      });
    },
    reset() {
      repos.clear();
      requests.length = 0;
      failures = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
