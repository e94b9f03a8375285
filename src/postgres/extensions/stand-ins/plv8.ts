/**
 * plv8 stand-in: the trusted language `plv8` (PL/JavaScript), whose functions can be created,
 * replaced, commented on, granted, dumped and dropped like real plv8 functions, with their
 * JavaScript bodies stored verbatim in pg_proc (pg_get_functiondef shows them), and never run.
 * plls and plcoffee are not provided.
 *
 * A language needs a call handler, a C function returning language_handler, and no C can be
 * compiled here, so the handler is one PostgreSQL already ships. The language has no validator,
 * so `create function ... language plv8` accepts any body without parsing it (what a
 * JavaScript-aware validator would check is out of reach), and no inline handler, so
 * `do language plv8 $$...$$` fails with PostgreSQL's own "does not support inline code
 * execution" error.
 *
 * Why plpgsql's call handler. Whatever the handler is, PostgreSQL calls it with the plv8
 * function's own arguments, so a builtin that reads its arguments as something else (a cstring,
 * an oid, an internal pointer) could crash the backend, and one that ignores them and returns
 * would make the function silently return a made-up value. $libdir/plpgsql's
 * plpgsql_call_handler is built for exactly this call (any function, any arguments): it compiles
 * the function's stored body as PL/pgSQL, and a JavaScript body is not PL/pgSQL (PL/pgSQL needs a
 * BEGIN ... END block), so the call fails with a syntax error whose context names the function:
 * an ordinary error, never a crash, and nothing is executed. A body that happened to be valid
 * PL/pgSQL would run as PL/pgSQL with the caller's rights, which grants nothing a migration could
 * not already do with plpgsql.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PLV8: StandIn = {
  name: 'plv8',
  defaultVersion: '3.1.10',
  olderVersions: ['3.1.5', '3.0.0', '2.3.15'],
  relocatable: false,
  comment: 'PL/JavaScript (v8) trusted procedural language',
  limits: 'plv8 functions are created and stored but never run: calling one fails (its JavaScript body is not compiled), and DO blocks in plv8 are refused.',
  sql: readSqlAsset(new URL('./plv8.sql', import.meta.url)),
};
