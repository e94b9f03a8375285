/**
 * Opening database sessions, in one place: read-only where the gate promises it,
 * bounded by timeouts, named `postgate/<gate>`, and never echoing a password.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import pg from 'pg';
import { UserError } from '../errors.ts';
import { redact } from '../secrets.ts';
import { type DatabaseTarget, parseDatabaseUrl } from './url.ts';

export interface ConnectOptions {
  /** Becomes application_name `postgate/<gate>`. */
  gate: string;
  /** Every transaction read-only (`default_transaction_read_only = on`). */
  readOnly: boolean;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * The caller needs a real session (SET, snapshots, temp objects, several
   * statements seeing one another). A transaction-mode pooler cannot give one.
   */
  needsSession?: boolean;
  /** Name of the input the URL came from, for messages. */
  inputName?: string;
}

export type Session = pg.Client;

const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function assertSessionCapable(target: DatabaseTarget, inputName: string): void {
  if (target.pooler === 'transaction') {
    throw new UserError(
      `Input \`${inputName}\` points at a transaction-mode connection pooler (${target.host}:${target.port}), which cannot hold the session postgate needs; use the session pooler on port 5432 or the direct database URL.`,
    );
  }
}

function sslConfig(target: DatabaseTarget, inputName: string): pg.ClientConfig['ssl'] {
  const readPem = (path: string | undefined, key: string): string | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new UserError(`Input \`${inputName}\` names ${key}=${path}, which cannot be read; fix the path or drop the parameter.`);
    }
  };
  const ca = readPem(target.sslrootcert, 'sslrootcert');
  const cert = readPem(target.sslcert, 'sslcert');
  const key = readPem(target.sslkey, 'sslkey');
  const files = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  switch (target.sslmode) {
    case 'disable':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false, ...files };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...files };
    case 'verify-full':
      // an IP address is checked against the certificate's IP entries; TLS SNI carries names only
      return { rejectUnauthorized: true, ...(isIP(target.host) ? {} : { servername: target.host }), ...files };
  }
}

function clientConfig(target: DatabaseTarget, options: ConnectOptions, ssl: pg.ClientConfig['ssl']): pg.ClientConfig {
  const connectTimeoutMs = options.connectTimeoutMs ?? (target.connectTimeoutSeconds ? target.connectTimeoutSeconds * 1000 : DEFAULT_CONNECT_TIMEOUT_MS);
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    ...(target.password !== undefined ? { password: target.password } : {}),
    ssl,
    application_name: `postgate/${options.gate}`,
    connectionTimeoutMillis: connectTimeoutMs,
  };
}

/** Opens a session; throws UserError with one sentence (host, never password) on failure. */
export async function connect(urlOrTarget: string | DatabaseTarget, options: ConnectOptions): Promise<Session> {
  const inputName = options.inputName ?? 'database-url';
  const target = typeof urlOrTarget === 'string' ? parseDatabaseUrl(urlOrTarget, inputName) : urlOrTarget;
  if (options.needsSession !== false) assertSessionCapable(target, inputName);

  const ssl = sslConfig(target, inputName);
  // A dropped connection must not crash the process with an unhandled 'error' event; the next
  // query rejects and is reported through the gate. Listening from the start: a server shutting
  // down can send its FATAL in the same read as the ReadyForQuery that completes the connection,
  // before the code after `await client.connect()` runs.
  const quiet = (client: pg.Client) => client.on('error', () => undefined);
  let client = quiet(new pg.Client(clientConfig(target, options, ssl)));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    if (target.sslmode === 'prefer' && isNoSslError(error)) {
      client = quiet(new pg.Client(clientConfig(target, options, false)));
      try {
        await client.connect();
      } catch (retryError) {
        await client.end().catch(() => undefined);
        throw connectionError(retryError, target, inputName);
      }
    } else {
      throw connectionError(error, target, inputName);
    }
  }
  const statementTimeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const settings = [
    `SET statement_timeout = ${Math.max(0, Math.floor(statementTimeout))}`,
    `SET lock_timeout = ${Math.min(Math.max(0, Math.floor(statementTimeout)), 10_000)}`,
    `SET idle_in_transaction_session_timeout = ${Math.max(statementTimeout * 2, 60_000)}`,
  ];
  if (options.readOnly) settings.unshift('SET default_transaction_read_only = on');
  try {
    await client.query(settings.join('; '));
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, target, inputName);
  }
  return client;
}

function isNoSslError(error: unknown): boolean {
  return error instanceof Error && /does not support SSL/i.test(error.message);
}

interface ErrorWithCode {
  code?: string;
  message?: string;
}

export function connectionError(error: unknown, target: DatabaseTarget, inputName: string): UserError {
  const e = (error ?? {}) as ErrorWithCode;
  const code = e.code ?? '';
  const message = String(e.message ?? error);
  const where = `${target.host}:${target.port}`;
  let sentence: string;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    sentence = `Could not resolve host "${target.host}" from \`${inputName}\` (DNS lookup failed); check the host name and the runner's network.`;
  } else if (code === 'ECONNREFUSED') {
    sentence = `Could not connect to ${where} from \`${inputName}\`: connection refused; check the host and port and that the server is running and accepts TCP connections.`;
  } else if (code === 'ETIMEDOUT' || /timeout expired/i.test(message) || (/timeout/i.test(message) && /connect/i.test(message))) {
    // node-postgres says "timeout expired" when connect_timeout / connectionTimeoutMillis passes
    sentence = `Timed out connecting to ${where} from \`${inputName}\`; check firewalls and network access (GitHub runners have no IPv6: for Supabase use the session pooler on port 5432).`;
  } else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    sentence = `Host ${where} from \`${inputName}\` is unreachable from this machine; check the network route or use a reachable host (for Supabase, the session pooler).`;
  } else if (code === '28P01') {
    sentence = `Password authentication failed for user "${target.user}" at ${where}; check the password in \`${inputName}\`.`;
  } else if (code === '28000') {
    sentence = `The server at ${where} refused user "${target.user}" (${message}); allow this client in pg_hba.conf or use another role.`;
  } else if (code === '3D000') {
    sentence = `Database "${target.database}" does not exist at ${where}; fix the database name in \`${inputName}\`.`;
  } else if (isNoSslError(error)) {
    sentence = `The server at ${where} does not support SSL but \`${inputName}\` asks for sslmode=${target.sslmode}; enable SSL on the server, or use sslmode=disable only on a trusted network.`;
  } else if (/certificate|self[- ]signed|altname|CERT_/i.test(code + message)) {
    sentence = `The server certificate of ${where} failed verification (sslmode=${target.sslmode}: ${message}); pass the CA with sslrootcert=/path/ca.pem or use sslmode=require.`;
  } else if (code === '57P03') {
    sentence = `The server at ${where} is starting up or shutting down; retry when it accepts connections.`;
  } else if (code === '53300') {
    sentence = `The server at ${where} has no free connection slots; retry later or raise max_connections.`;
  } else {
    sentence = `Could not connect to ${target.label} from \`${inputName}\`: ${message.replace(/\.$/, '')}.`;
  }
  return new UserError(redact(sentence));
}

/** Runs `fn` with a session and always closes it. */
export async function withSession<T>(urlOrTarget: string | DatabaseTarget, options: ConnectOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = await connect(urlOrTarget, options);
  try {
    return await fn(session);
  } finally {
    await session.end().catch(() => undefined);
  }
}

const BEGIN_READ_ONLY_SNAPSHOT = 'begin isolation level repeatable read read only';

/**
 * Begins a read-only repeatable-read transaction on `session` and exports its snapshot,
 * so that a twin session can see the same state (as `pg_dump -j` does). Returns the
 * snapshot's id, or undefined when the server cannot export one; the transaction is open
 * either way.
 */
export async function beginSharedSnapshot(session: pg.ClientBase): Promise<string | undefined> {
  await session.query(BEGIN_READ_ONLY_SNAPSHOT);
  try {
    return (await session.query<{ id: string }>('select pg_catalog.pg_export_snapshot() as id')).rows[0]?.id;
  } catch {
    await session.query('rollback');
    await session.query(BEGIN_READ_ONLY_SNAPSHOT);
    return undefined;
  }
}

/**
 * A second session on the same database, for reading in parallel with a first one; with
 * `snapshotId` (from `beginSharedSnapshot`) it sees exactly what the first one sees. A twin
 * that cannot be had (no free connection slot, say) is not an error: the result is
 * undefined and the caller reads on one session. The caller ends the twin.
 */
export async function openTwinSession(urlOrTarget: string | DatabaseTarget, options: ConnectOptions, snapshotId?: string): Promise<Session | undefined> {
  let twin: Session | undefined;
  try {
    twin = await connect(urlOrTarget, options);
    if (snapshotId) {
      await twin.query(BEGIN_READ_ONLY_SNAPSHOT);
      await twin.query(`set transaction snapshot ${quoteLiteral(snapshotId)}`);
    }
    return twin;
  } catch {
    await twin?.end().catch(() => undefined);
    return undefined;
  }
}

/** Runs `fn` with a twin session (see openTwinSession), or with undefined when none can be had, and ends the twin. */
export async function withTwinSession<T>(
  urlOrTarget: string | DatabaseTarget,
  options: ConnectOptions,
  snapshotId: string | undefined,
  fn: (twin: Session | undefined) => Promise<T>,
): Promise<T> {
  const twin = await openTwinSession(urlOrTarget, options, snapshotId);
  try {
    return await fn(twin);
  } finally {
    await twin?.end().catch(() => undefined);
  }
}

/** Quotes an identifier for SQL (pg's own escaping). */
export function quoteIdent(name: string): string {
  return pg.escapeIdentifier(name);
}

/** Quotes a string literal for SQL. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
