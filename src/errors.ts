import { describeServerError } from './postgres/server-errors.ts';

/**
 * Errors a user can fix (bad input, unreachable database, missing binaries).
 * The message is one sentence naming the input and the fix; it becomes the
 * GateResult's `error`, exit code 2, and is printed without a stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * One sentence for any thrown value; internal errors say so without a stack. What the
 * database does to a session mid-run (timeouts, a terminated backend, a missing privilege,
 * a lost connection) is not internal: it gets its own sentence with the fix.
 */
export function describeError(error: unknown): string {
  if (error instanceof UserError) return error.message;
  const server = describeServerError(error);
  if (server) return server;
  if (error instanceof Error) return `postgate hit an internal error: ${error.message}`;
  return `postgate hit an internal error: ${String(error)}`;
}
