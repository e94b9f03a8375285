/**
 * The octokit every GitHub channel uses, made safe in one place:
 *
 * - every request's parameters pass through `redact` (no secret reaches a comment, check run or issue);
 * - each attempt has a timeout; 5xx answers, network errors and rate limits (secondary or primary,
 *   403/429 with `retry-after` or the "secondary rate limit" message) are retried with exponential
 *   backoff, honouring `retry-after`, within a total wait budget;
 * - what finally went wrong is classified (`denied`, `unavailable`, `rejected`, `failed`) so the
 *   caller can fall back and say why in one sentence.
 *
 * The octokit itself is created by the adapter (`github.getOctokit`) and passed in.
 */
import type { getOctokit } from '@actions/github';
import { redactDeep } from '../secrets.ts';

export type Octokit = ReturnType<typeof getOctokit>;

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  /** First backoff; doubled for each further attempt. */
  baseDelayMs: number;
  /** Longest single wait (also caps `retry-after`); a longer rate-limit reset is not waited for. */
  maxDelayMs: number;
  /** Total waiting allowed across all requests of one octokit. */
  budgetMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 60_000, budgetMs: 90_000, timeoutMs: 30_000 };

/** Parameters that are not request content (and the auth header must stay intact). */
const NOT_CONTENT = new Set(['method', 'url', 'headers', 'request', 'baseUrl', 'mediaType']);

interface ErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function headerOf(error: ErrorLike, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

export function isRateLimited(error: ErrorLike): boolean {
  if (error.status !== 403 && error.status !== 429) return false;
  return (
    error.status === 429 ||
    headerOf(error, 'retry-after') !== undefined ||
    headerOf(error, 'x-ratelimit-remaining') === '0' ||
    /rate limit/i.test(error.message ?? '')
  );
}

/** A request that cannot be sent at all (fetch refuses a header, e.g. a token with a newline): no retry helps. */
const UNSENDABLE = /invalid header (?:value|name)/i;

/** Milliseconds to wait before the next attempt, or undefined when the error is final. */
export function retryDelay(error: ErrorLike, attempt: number, policy: RetryPolicy, now = Date.now()): number | undefined {
  if (UNSENDABLE.test(error.message ?? '')) return undefined;
  const status = error.status;
  const transient = status === undefined || status >= 500 || isRateLimited(error);
  if (!transient) return undefined;
  const retryAfter = headerOf(error, 'retry-after');
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) {
    const wait = Number(retryAfter) * 1000;
    return wait <= policy.maxDelayMs ? wait : undefined;
  }
  const reset = headerOf(error, 'x-ratelimit-reset');
  if (headerOf(error, 'x-ratelimit-remaining') === '0' && reset && /^\d+$/.test(reset)) {
    const wait = Math.max(0, Number(reset) * 1000 - now);
    return wait <= policy.maxDelayMs ? wait : undefined;
  }
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

const prepared = new WeakSet<object>();

/** Installs redaction, timeouts and retries on the octokit (once) and returns it. */
export function prepareOctokit(octokit: Octokit, policy: RetryPolicy = DEFAULT_RETRY): Octokit {
  if (prepared.has(octokit)) return octokit;
  prepared.add(octokit);
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let waited = 0;
  octokit.hook.wrap('request', async (request, options) => {
    const content: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) content[key] = NOT_CONTENT.has(key) ? value : redactDeep(value);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await request({ ...content, request: { ...options.request, signal: AbortSignal.timeout(policy.timeoutMs) } } as typeof options);
      } catch (error) {
        const delay = attempt < policy.attempts ? retryDelay(error as ErrorLike, attempt, policy) : undefined;
        if (delay === undefined || waited + delay > policy.budgetMs) {
          throw Object.assign(error as object, { attempts: attempt });
        }
        waited += delay;
        await sleep(delay);
      }
    }
  });
  return octokit;
}

export type FailureKind = 'denied' | 'unavailable' | 'rejected' | 'failed';

export interface Failure {
  kind: FailureKind;
  status?: number;
  attempts: number;
  /** GitHub's message, redacted and on one line. */
  message: string;
}

export function classify(error: unknown): Failure {
  const e = error as ErrorLike & { attempts?: number };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const attempts = e?.attempts ?? 1;
  const raw = (e?.message ?? String(error)).split('\n')[0]!.replace(/\s+-\s+https:\/\/docs\.github\.com\S*/, '');
  const message = redactDeep(raw).slice(0, 300);
  let kind: FailureKind;
  if (status === undefined || status >= 500 || isRateLimited(e)) kind = 'unavailable';
  else if (status === 401 || status === 403 || status === 404) kind = 'denied';
  else if (status === 422) kind = 'rejected';
  else kind = 'failed';
  return { kind, ...(status !== undefined ? { status } : {}), attempts, message };
}
