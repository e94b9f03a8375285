/**
 * Parsing database URLs, in one place. Supported query parameters:
 *
 * - `sslmode`: `disable` (no TLS), `prefer` (the default, as in libpq: TLS when the
 *   server offers it, no certificate check, plain otherwise), `require` (TLS, no
 *   certificate check), `verify-ca` (TLS, certificate must chain to `sslrootcert`
 *   or the system CAs, host name not checked), `verify-full` (TLS, chain and host
 *   name checked). `allow` is treated as `prefer`.
 * - `sslrootcert`, `sslcert`, `sslkey`: PEM file paths.
 * - `host` (a socket directory such as `/var/run/postgresql`), `port`, `user`,
 *   `password`, `dbname`, `connect_timeout` (seconds), `pgbouncer=true`.
 *
 * The password never leaves this module except inside the pg client config:
 * `label` is what messages print.
 */
import { UserError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';

export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Supabase's connection poolers: transaction mode (6543, or `pgbouncer=true`) cannot hold a session. */
export type PoolerMode = 'none' | 'session' | 'transaction';

export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  connectTimeoutSeconds?: number;
  pooler: PoolerMode;
  /** `user@host:port/database`: safe to print. */
  label: string;
}

const SCHEMES = new Set(['postgres:', 'postgresql:']);

function describeScheme(raw: string): string {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw.trim());
  return match ? `a URL with scheme "${match[1]}:"` : 'a value that is not a URL';
}

/** The parts of a database URL, as messages name them (never with their text). */
function partAt(text: string, index: number): string {
  const rest = text.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
  const offset = text.length - rest.length;
  if (index < offset) return 'scheme';
  const at = index - offset;
  const query = rest.indexOf('?');
  if (query >= 0 && at > query) return 'query parameters';
  const authorityEnd = [rest.indexOf('/'), query].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), rest.length);
  if (at >= authorityEnd) return 'database name';
  const authority = rest.slice(0, authorityEnd);
  const userinfoEnd = authority.lastIndexOf('@');
  if (at > userinfoEnd) return 'host';
  const colon = authority.indexOf(':');
  return colon >= 0 && colon < userinfoEnd && at > colon ? 'password' : 'user name';
}

/**
 * Percent-encoding libpq would refuse: a `%` not followed by two hex digits, or bytes that
 * are not UTF-8 text once decoded. One sentence naming the input and the part, never the text.
 */
function checkPercentEncoding(text: string, inputName: string): void {
  const bare = /%(?![0-9a-fA-F]{2})/.exec(text);
  if (bare) {
    throw new UserError(
      `\`${inputName}\` has a % in its ${partAt(text, bare.index)} that does not start a percent-encoded byte (%XX); write a literal % as %25.`,
    );
  }
  for (const match of text.matchAll(/(?:%[0-9a-fA-F]{2})+/g)) {
    try {
      decodeURIComponent(match[0]);
    } catch {
      throw new UserError(
        `\`${inputName}\` has percent-encoded bytes in its ${partAt(text, match.index)} that are not UTF-8 text; encode the text as UTF-8 before percent-encoding it (a literal % is %25).`,
      );
    }
  }
}

/** A postgres:// or postgresql:// URL (an input that takes a path or a URL tells them apart so). */
export function isDatabaseUrl(text: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(text.trim());
}

export function parseDatabaseUrl(raw: string, inputName = 'database-url'): DatabaseTarget {
  const text = raw.trim();
  let url: URL;
  try {
    // libpq allows an empty host (postgresql://user@/db?host=/socket/dir); WHATWG URL does not.
    url = new URL(text.replace(/^(postgres(?:ql)?:\/\/(?:[^@/]*@)?)(?=[/?]|$)/, '$1localhost'));
  } catch {
    throw new UserError(`\`${inputName}\` is not a valid URL (got ${describeScheme(text)}); use postgresql://user:password@host:5432/database.`);
  }
  if (!SCHEMES.has(url.protocol)) {
    throw new UserError(
      `\`${inputName}\` must start with postgresql:// or postgres:// (got ${describeScheme(text)}); use the PostgreSQL connection string, not an HTTP or other URL.`,
    );
  }
  const params = url.searchParams;
  // Masked before anything can fail, in the form it was written.
  registerSecret(url.password);
  registerSecret(params.get('password') ?? undefined);
  // WHATWG URL keeps a stray % as it is; decoding it later would throw "URI malformed".
  checkPercentEncoding(text, inputName);
  const password = params.get('password') ?? (url.password ? decodeURIComponent(url.password) : undefined);
  registerSecret(password);

  const socketHost = params.get('host');
  const host = socketHost ?? (decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost');
  const portText = params.get('port') ?? url.port;
  const port = portText ? Number(portText) : 5432;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new UserError(`\`${inputName}\` has an invalid port "${portText}"; use a number such as 5432.`);
  }
  const user = params.get('user') ?? (url.username ? decodeURIComponent(url.username) : 'postgres');
  const database = params.get('dbname') ?? (decodeURIComponent(url.pathname.replace(/^\//, '')) || user);

  const sslParam = (params.get('sslmode') ?? 'prefer').toLowerCase();
  const sslmode = (sslParam === 'allow' ? 'prefer' : sslParam) as SslMode;
  if (!SSL_MODES.includes(sslmode)) {
    throw new UserError(`\`${inputName}\` has sslmode "${sslParam}", which postgate does not know; use one of ${SSL_MODES.join(', ')}.`);
  }
  const timeoutText = params.get('connect_timeout');
  const connectTimeoutSeconds = timeoutText ? Number(timeoutText) : undefined;
  if (connectTimeoutSeconds !== undefined && !(connectTimeoutSeconds >= 0)) {
    throw new UserError(`\`${inputName}\` has an invalid connect_timeout "${timeoutText}"; use a number of seconds.`);
  }

  const target: DatabaseTarget = {
    host,
    port,
    database,
    user,
    sslmode: host.startsWith('/') ? 'disable' : sslmode,
    pooler: detectPooler(host, port, params),
    label: `${user}@${host.startsWith('/') ? `[socket ${host}]` : host}:${port}/${database}`,
  };
  if (password !== undefined) target.password = password;
  if (connectTimeoutSeconds !== undefined) target.connectTimeoutSeconds = connectTimeoutSeconds;
  for (const key of ['sslrootcert', 'sslcert', 'sslkey'] as const) {
    const value = params.get(key);
    if (value) target[key] = value;
  }
  return target;
}

function detectPooler(host: string, port: number, params: URLSearchParams): PoolerMode {
  if ((params.get('pgbouncer') ?? '').toLowerCase() === 'true') return 'transaction';
  const supabaseHost = /\.supabase\.(co|com)$/i.test(host);
  const poolerHost = /\.pooler\.supabase\.com$/i.test(host);
  if ((supabaseHost || poolerHost) && port === 6543) return 'transaction';
  if (poolerHost) return 'session';
  return 'none';
}

/** A URL for the same server with another database (used for scratch databases). */
export function withDatabase(raw: string, database: string): string {
  const url = new URL(raw.trim());
  url.searchParams.delete('dbname');
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** A URL that is safe to print. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw.trim());
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return '[unparseable URL]';
  }
}
