/**
 * Checks of a webhook URL against what the deployment expects: scheme, host, path prefix,
 * no credentials, and in production no localhost, private address, tunnel or preview
 * deployment. Pure: the caller has registered the URL as a secret (some webhook URLs carry
 * their secret in the path or query), and messages name only the host, never the path.
 */
import type { WebhookRuleId } from './rules.ts';

export type Environment = 'production' | 'preview' | 'development';

export interface UrlExpectation {
  scheme: 'https' | 'http';
  /** host or host:port; compared case-insensitively. */
  host?: string;
  /** Where the host came from, for messages ("url-host", "APP_HOST"). */
  hostSource?: string;
  pathPrefix?: string;
}

export interface UrlProblem {
  rule: WebhookRuleId;
  message: string;
}

interface HostPattern {
  label: string;
  test(host: string): boolean;
}

function ipv4(host: string): number[] | undefined {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

const inIpv4 = (host: string, check: (octets: number[]) => boolean) => {
  const octets = ipv4(host);
  return octets !== undefined && check(octets);
};

/** Hosts that are never a production endpoint. Data, not branches: add a pattern here. */
export const NON_PRODUCTION_HOSTS: readonly HostPattern[] = [
  { label: 'localhost', test: (h) => h === 'localhost' || h.endsWith('.localhost') },
  { label: 'a loopback address', test: (h) => h === '[::1]' || inIpv4(h, ([a]) => a === 127) },
  { label: 'an unspecified address', test: (h) => h === '[::]' || h === '0.0.0.0' },
  {
    label: 'a private network address',
    test: (h) =>
      inIpv4(h, ([a = 0, b = 0]) => a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)) ||
      /^\[f[cd][0-9a-f]{2}:/i.test(h) ||
      /^\[fe80:/i.test(h),
  },
  { label: 'a container-internal host name', test: (h) => ['host.docker.internal', 'host.containers.internal', 'gateway.docker.internal', 'kong'].includes(h) },
  {
    label: 'a single-label, .local or .internal host name',
    test: (h) => h.endsWith('.local') || h.endsWith('.internal') || (!h.includes('.') && !h.startsWith('[')),
  },
  {
    label: 'a tunnel (ngrok, Cloudflare quick tunnel, localtunnel)',
    test: (h) => /\.(?:ngrok\.io|ngrok-free\.app|ngrok\.app|ngrok-free\.dev|trycloudflare\.com|loca\.lt)$/.test(h),
  },
  // <project>-<9-character deployment id>-<scope>.vercel.app and <project>-git-<branch>-<scope>.vercel.app
  { label: 'a Vercel preview deployment', test: (h) => /^[a-z0-9-]+-(?:git-[a-z0-9-]+|(?=[a-z]*\d)[a-z0-9]{9})-[a-z0-9-]+\.vercel\.app$/.test(h) },
  { label: 'a Netlify deploy preview or branch deploy', test: (h) => /^[a-z0-9-]+--[a-z0-9-]+\.netlify\.app$/.test(h) },
  { label: 'a Cloudflare Pages preview', test: (h) => /^[a-z0-9-]+\.[a-z0-9-]+\.pages\.dev$/.test(h) },
  { label: 'a Render pull-request preview', test: (h) => /-pr-\d+\.onrender\.com$/.test(h) },
];

export function nonProductionHost(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return NON_PRODUCTION_HOSTS.find((pattern) => pattern.test(host))?.label;
}

function sameHost(url: URL, expected: string): boolean {
  const wanted = expected.toLowerCase().replace(/\.$/, '');
  const actual = (wanted.includes(':') && !wanted.startsWith('[') ? url.host : url.hostname).toLowerCase().replace(/\.$/, '');
  return actual === wanted;
}

/** Parses a URL the way the HTTP client will; undefined when it is not absolute. */
export function parseWebhookUrl(raw: string): URL | undefined {
  try {
    return new URL(raw.trim());
  } catch {
    return undefined;
  }
}

export function checkUrl(setting: string, raw: string, expected: UrlExpectation, environment: Environment): UrlProblem[] {
  const url = parseWebhookUrl(raw);
  if (!url || !url.host) {
    return [{ rule: 'webhook_url_invalid', message: `${setting} is not an absolute URL (expected ${expected.scheme}://<host>/...).` }];
  }
  const problems: UrlProblem[] = [];
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== expected.scheme) {
    problems.push({ rule: 'webhook_url_scheme', message: `${setting} uses ${scheme}:// instead of ${expected.scheme}://.` });
  }
  if (url.username || url.password) {
    problems.push({
      rule: 'webhook_url_credentials',
      message: `${setting} contains ${url.password ? 'a user name and password' : 'a user name'} before the host; remove them and rotate the credential.`,
    });
  }
  const hostMatches = expected.host !== undefined && sameHost(url, expected.host);
  if (expected.host !== undefined && !hostMatches) {
    problems.push({
      rule: 'webhook_url_host',
      message: `${setting} points at ${url.host}, not ${expected.host}${expected.hostSource ? ` (from ${expected.hostSource})` : ''}.`,
    });
  }
  if (expected.pathPrefix !== undefined && !url.pathname.startsWith(expected.pathPrefix)) {
    problems.push({
      rule: 'webhook_url_path',
      message: `${setting}'s path does not start with ${expected.pathPrefix} (the path is not shown: some webhook URLs carry their secret in it).`,
    });
  }
  const kind = environment === 'production' ? nonProductionHost(url.hostname) : undefined;
  const namedOnPurpose = hostMatches && kind !== undefined && /preview|tunnel/.test(kind);
  if (kind && !namedOnPurpose) {
    problems.push({ rule: 'webhook_url_not_production', message: `${setting} points at ${url.host}, ${kind}, in the production environment.` });
  }
  return problems;
}
