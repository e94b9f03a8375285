/**
 * Who the token postgate posts with is, so that only what that identity wrote is ever edited
 * (DESIGN safety promise 6). A marker is text anyone can type: a pull request's author who posts
 * `<!-- postgate:comment gate=rls -->` first must not get their comment filled with the report
 * (and then edit it to show a pass), and an issue someone else opened with the tracking marker
 * must not be updated or closed by postgate.
 *
 * How the identity is learned, whatever the kind of token:
 *
 * 1. GraphQL `viewer { login databaseId }`. It answers for every kind of token: a personal access
 *    token or OAuth token (the user), the workflow's `GITHUB_TOKEN` (`github-actions[bot]`) and a
 *    GitHub App installation token (the app's bot user, `<slug>[bot]`). It needs no permission.
 * 2. REST `GET /user`, when GraphQL refused (a 4xx or GraphQL errors, e.g. GraphQL turned off on
 *    a GitHub Enterprise Server). It answers for user tokens only: installation tokens, the
 *    workflow's `GITHUB_TOKEN` included, get 403 "Resource not accessible by integration" (and
 *    `GET /app` needs the app's JWT, so it is no way out either).
 * 3. When both refused and REST said "not accessible by integration", the token is an
 *    installation token whose bot cannot be named; it is taken to be the workflow's
 *    `GITHUB_TOKEN`, i.e. `github-actions[bot]`. Nobody outside the repository can write as that
 *    bot (fork pull requests get read-only tokens), so the worst case, an app token taken for
 *    it, is a new comment each run: never one taken over.
 *
 * A GitHub outage (5xx, rate limit, network) is not guessed around: the error is thrown, so the
 * channel falls back to the job summary like any other outage. The answer is kept per octokit.
 */
import type { Octokit } from './api.ts';
import { isRateLimited } from './api.ts';

/** The bot every workflow's `GITHUB_TOKEN` writes as. */
export const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282 } as const;

export interface TokenIdentity {
  /** `github-actions[bot]`, `<app-slug>[bot]`, or a user's login. */
  login: string;
  /** The account id (REST `user.id`, GraphQL `databaseId`), when known. */
  id?: number;
  kind: 'bot' | 'user';
  /** For a bot: the app whose check runs it may update (check run `app.slug`). */
  appSlug?: string;
  /** How it was learned: `assumed` is the GITHUB_TOKEN fallback of step 3. */
  source: 'graphql' | 'rest' | 'assumed';
}

/** The author of a comment, an issue (REST `user`), or the app of a check run. */
export interface Author {
  login?: string | null;
  id?: number | null;
  type?: string | null;
}

const BOT_SUFFIX = /\[bot\]$/i;

function identityOf(login: string, id: number | null | undefined, source: TokenIdentity['source'], type?: string): TokenIdentity {
  const bot = BOT_SUFFIX.test(login) || type === 'Bot';
  return {
    login,
    ...(typeof id === 'number' ? { id } : {}),
    kind: bot ? 'bot' : 'user',
    ...(bot ? { appSlug: login.replace(BOT_SUFFIX, '') } : {}),
    source,
  };
}

interface ErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/** An outage, not an answer: thrown on, never guessed around. */
function transient(error: unknown): boolean {
  const e = error as ErrorLike;
  if (e?.status === undefined) return (error as { name?: string })?.name !== 'GraphqlResponseError';
  return e.status >= 500 || isRateLimited(e);
}

async function resolve(octokit: Octokit): Promise<TokenIdentity> {
  try {
    const data = await octokit.graphql<{ viewer?: { login?: string; databaseId?: number | null } }>('query postgateViewer { viewer { login databaseId } }');
    if (data?.viewer?.login) return identityOf(data.viewer.login, data.viewer.databaseId, 'graphql');
  } catch (error) {
    if (transient(error)) throw error;
  }
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return identityOf(data.login, data.id, 'rest', data.type);
  } catch (error) {
    const e = error as ErrorLike;
    if (e?.status === 403 && /not accessible by integration/i.test(e.message ?? '')) {
      return identityOf(ACTIONS_BOT.login, ACTIONS_BOT.id, 'assumed', 'Bot');
    }
    throw error;
  }
}

const known = new WeakMap<Octokit, Promise<TokenIdentity>>();

/** The identity of the octokit's token, asked once per octokit (a failed answer is asked again next time). */
export function tokenIdentity(octokit: Octokit): Promise<TokenIdentity> {
  let answer = known.get(octokit);
  if (!answer) {
    answer = resolve(octokit);
    known.set(octokit, answer);
    answer.catch(() => known.delete(octokit));
  }
  return answer;
}

/**
 * Whether `author` is the token's identity. The account id decides when both sides have one (a
 * login can be renamed and taken by someone else; an id cannot); otherwise the login, compared
 * case-insensitively as GitHub does, and a bot identity only matches a bot account.
 */
export function writtenBy(identity: TokenIdentity, author: Author | null | undefined): boolean {
  if (!author?.login) return false;
  if (typeof identity.id === 'number' && typeof author.id === 'number') return identity.id === author.id;
  if (identity.kind === 'bot' && author.type && author.type !== 'Bot') return false;
  return author.login.toLowerCase() === identity.login.toLowerCase();
}
