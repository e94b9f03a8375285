/**
 * The opt-in canary: post a payload marked as a test, signed the way the receiver expects,
 * and one signed with a random key. One request each, no retries (a retry could duplicate
 * a side effect), no redirects followed, a bounded timeout, and the response body is
 * never read: only the status code leaves this module.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export type CanaryScheme = 'hex-hmac-sha256' | 'standard-webhooks' | 'github-sha256';

interface SchemeDefinition {
  /** Header carrying the signature unless the config names another. */
  defaultHeader: string;
  sign(input: { secret: string; body: string; id: string; timestamp: number; header: string }): Record<string, string>;
}

/** Standard Webhooks keys are the base64 bytes after `whsec_`. */
function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** The signing conventions. Data, not branches: add one here. */
export const SCHEMES: Record<CanaryScheme, SchemeDefinition> = {
  // HMAC-SHA256 of the exact body, lowercase hex, the raw secret as key (the pg_net + pgcrypto pattern).
  'hex-hmac-sha256': {
    defaultHeader: 'X-Signature-HMAC',
    sign: ({ secret, body, header }) => ({ [header]: createHmac('sha256', secret).update(body, 'utf8').digest('hex') }),
  },
  // webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC of "id.timestamp.body">.
  'standard-webhooks': {
    defaultHeader: 'webhook-signature',
    sign: ({ secret, body, id, timestamp, header }) => ({
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      [header]: `v1,${createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`,
    }),
  },
  // GitHub: sha256=<hex HMAC of the raw body>.
  'github-sha256': {
    defaultHeader: 'X-Hub-Signature-256',
    sign: ({ secret, body, header }) => ({ [header]: `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}` }),
  },
};

export interface CanaryOptions {
  scheme: CanaryScheme;
  header: string;
  timeoutMs: number;
}

/** What one request got: a status code, or why there was none. Never the body. */
export type Attempt = { status: number } | { error: string };

export interface CanaryOutcome {
  signed: Attempt;
  badlySigned: Attempt;
}

/** A secret of the same shape as the real one, for the badly signed request. */
function wrongSecret(scheme: CanaryScheme): string {
  const bytes = randomBytes(32);
  return scheme === 'standard-webhooks' ? `whsec_${bytes.toString('base64')}` : bytes.toString('hex');
}

function canaryBody(id: string, now: Date): string {
  return JSON.stringify({ type: 'postgate.canary', test: true, id, sent_at: now.toISOString(), record: null, old_record: null });
}

async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Attempt> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'postgate-canary', 'X-Postgate-Canary': '1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status };
  } catch (error) {
    return { error: describeFetchError(error, timeoutMs) };
  }
}

/** One phrase, without the URL (fetch errors can echo it). */
function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return `no response within ${timeoutMs} ms`;
  const code = e.cause?.code ?? '';
  const phrases: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found (DNS)',
    EAI_AGAIN: 'host name lookup failed (DNS)',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_SOCKET: 'connection closed by the server',
    UND_ERR_HEADERS_TIMEOUT: `no response within ${timeoutMs} ms`,
  };
  if (phrases[code]) return phrases[code];
  if (/CERT|TLS|SSL/i.test(code)) return `TLS failure (${code})`;
  return code ? `request failed (${code})` : 'request failed';
}

/** Sends the signed canary, then the badly signed one (its own id, so no receiver dedupes it), to one endpoint. */
export async function runCanary(url: string, secret: string, options: CanaryOptions, now: Date): Promise<CanaryOutcome> {
  const scheme = SCHEMES[options.scheme];
  const timestamp = Math.floor(now.getTime() / 1000);
  const send = (key: string) => {
    const id = `msg_postgate_canary_${randomUUID().replace(/-/g, '')}`;
    const body = canaryBody(id, now);
    return post(url, scheme.sign({ secret: key, body, id, timestamp, header: options.header }), body, options.timeoutMs);
  };
  const signed = await send(secret);
  const badlySigned = await send(wrongSecret(options.scheme));
  return { signed, badlySigned };
}
