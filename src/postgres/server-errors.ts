/**
 * What the database server (or the connection to it) can do to a gate mid-run, in one
 * sentence each: what happened and what to do. Failures to connect are described by
 * `connect.ts` (it knows the host and the input); these come later, from a query, and
 * would otherwise read as an internal error.
 */

/** The privilege a read-only gate needs on each kind of object PostgreSQL names in "permission denied for <kind> <name>". */
const PRIVILEGE_FOR: Record<string, string> = {
  table: 'SELECT',
  view: 'SELECT',
  'materialized view': 'SELECT',
  'foreign table': 'SELECT',
  sequence: 'SELECT',
  schema: 'USAGE',
  function: 'EXECUTE',
  procedure: 'EXECUTE',
  database: 'CONNECT',
  type: 'USAGE',
};

/** node-postgres's own words when the socket goes away (no SQLSTATE). */
const CONNECTION_LOST = /connection terminated|connection (?:lost|closed)|ECONNRESET|EPIPE|not queryable|terminated unexpectedly/i;

interface ServerErrorLike {
  code?: unknown;
  message?: unknown;
}

function privilegeSentence(message: string): string {
  const match = /permission denied for (materialized view|foreign table|table|view|sequence|schema|function|procedure|database|type) "?([^"]+?)"?$/.exec(
    message,
  );
  const privilege = match ? PRIVILEGE_FOR[match[1]!] : undefined;
  const fix = match && privilege ? `grant it ${privilege} on ${match[1]} ${match[2]}` : 'grant it the missing privilege';
  return `The database role postgate connects as lacks a privilege it needs (${message}); ${fix}, or connect as a role that has it.`;
}

/** One sentence for an error a database session raised mid-run, or undefined when it is not one of those. */
export function describeServerError(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as ServerErrorLike;
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const message = String(e.message ?? '')
    .split('\n')[0]!
    .trim()
    .replace(/\.$/, '');
  if (!code) {
    return CONNECTION_LOST.test(message)
      ? `The connection to the database was lost mid-run (${message}); check the network path and the server's health, then rerun the gate.`
      : undefined;
  }
  if (code === '57014') {
    return /statement timeout/i.test(message)
      ? `The database cancelled a postgate query that ran past the statement timeout (${message}); rerun when the database is less busy, or find the session holding up the query (pg_stat_activity).`
      : `The database cancelled a postgate query (${message}), probably through pg_cancel_backend; rerun the gate.`;
  }
  if (code === '55P03') {
    return `A postgate query waited too long for a lock another session holds (${message}), usually a running migration or a long transaction; rerun the gate when it has finished.`;
  }
  if (code === '57P01' || code === '57P02' || code === '57P05') {
    return `The database server ended postgate's session mid-run (${message}): an administrator, pg_terminate_backend, an idle-session limit or a restart stopped it; rerun the gate.`;
  }
  if (code === '42501') return privilegeSentence(message);
  if (code.startsWith('53')) {
    return `The database server ran out of resources (${message}); free disk space or memory on it, or raise its limits, then rerun the gate.`;
  }
  if (code.startsWith('08')) {
    return `The connection to the database failed mid-run (${message}); check the network path and the server's health, then rerun the gate.`;
  }
  return undefined;
}
