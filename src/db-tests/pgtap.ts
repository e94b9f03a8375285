/**
 * pgTAP database tests (`supabase test db`'s `supabase/tests`): finding the files, running them
 * on a database, reading their TAP. rls-audit runs them on its shadow database, restore-drill
 * on the restored copy; each turns the problems found here into findings of its own rules.
 *
 * `supabase test db` runs `pg_prove --ext .pg --ext .sql -r supabase/tests`: every `.sql` and
 * `.pg` file under the folder, in the byte order of their paths, each through psql. A pull
 * request's test file is hostile, and psql would run its `\!` meta-commands on the runner, so
 * here each file is split into statements (the migrations' splitter, which keeps their lines)
 * and each statement is sent alone over the PostgreSQL protocol (the extended protocol, which
 * refuses a second statement hidden in the text):
 *
 * - every file gets a fresh session as the role given (the one the migrations ran as, or the one
 *   that loaded the backup), and one transaction that is rolled back afterwards; the file's own
 *   transaction control (`begin`, `commit`, `rollback`, `end`, `abort`, ...) is its wrapper and
 *   is not sent, so a file can neither commit nor leave anything behind for the next file
 *   (savepoints are sent as written);
 * - the text each statement returns is read as TAP and attributed to the statement's line;
 *   like pg_prove, a file stops at its first SQL error;
 * - a file gets FILE_TIMEOUT_MS in all: past it, its running statement is cancelled.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { UserError } from '../errors.ts';
import { codePointPositionToIndex, firstTokenIndex, lineAt } from '../migrations/apply.ts';
import { splitSupabaseStatements, type SplitStatement } from '../migrations/supabase-split.ts';
import { type ConnectOptions, connect, quoteIdent, type Session } from '../postgres/connect.ts';
import { describeServerError } from '../postgres/server-errors.ts';
import { inertBlock, inertInline } from '../report/inert.ts';

/** How long one test file may run, all statements together. */
export const FILE_TIMEOUT_MS = 60_000;

/** The extensions pg_prove runs with `supabase test db`. */
const TEST_EXTENSIONS = ['.sql', '.pg'];

export interface DbTests {
  /** Absolute folder. */
  dir: string;
  /** Absolute paths, in pg_prove's order. */
  files: string[];
}

/**
 * The test folder: the input when given (it must be a folder), else `tests` beside the
 * Supabase folder (the one holding config.toml) when it exists. Undefined: no tests to run.
 * Seed and fixture files kept there (`rls.fixtures: [supabase/tests/fixtures.sql]`) are loaded, not tested.
 */
export function resolveDbTests(input: {
  given: string | undefined;
  label: string;
  cwd: string;
  supabaseConfig: string | undefined;
  /** Absolute paths of the seed and fixture files. */
  loaded: readonly string[];
}): DbTests | undefined {
  const dir = input.given ? path.resolve(input.cwd, input.given) : input.supabaseConfig ? path.join(path.dirname(input.supabaseConfig), 'tests') : undefined;
  if (!dir) return undefined;
  if (!existsSync(dir)) {
    if (!input.given) return undefined;
    throw new UserError(`${input.label} names ${input.given}, which does not exist; give the folder holding the pgTAP test files (such as supabase/tests).`);
  }
  if (!statSync(dir).isDirectory()) {
    throw new UserError(`${input.label} names ${input.given ?? dir}, which is a file; give the folder holding the pgTAP test files (such as supabase/tests).`);
  }
  return { dir, files: listTestFiles(dir).filter((file) => !input.loaded.includes(file)) };
}

/**
 * Every `.sql` and `.pg` file under `dir`, sorted as pg_prove sorts them (byte order of the
 * path). Symbolic links are not followed: a pull request's link could lead to the runner's files.
 */
export function listTestFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }) as Dirent[]) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && TEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) found.push(full);
    }
  };
  walk(dir);
  return found.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** One line of TAP and the test file's line of the statement that printed it. */
export interface TapLine {
  text: string;
  line: number;
}

export interface Assertion {
  number: number;
  ok: boolean;
  description: string;
  directive?: 'skip' | 'todo';
  /** The `#` lines that follow a failed assertion in its statement's output. */
  diagnostics: string[];
  line: number;
}

export interface Tap {
  planned?: number;
  /** The line of the statement that printed the plan. */
  planLine?: number;
  assertions: Assertion[];
  /** pgTAP's own word on a plan mismatch (`# Looks like you planned 3 tests but ran 2`). */
  planComment?: string;
}

const TEST_LINE = /^(not )?ok\b(?:\s+(\d+))?\s*(?:-\s*)?(.*)$/;
const DIRECTIVE = /(?<!\\)#\s*(skip|todo)\b\S*\s*(.*)$/i;

/** Reads pgTAP's output: plan, assertions with their directives and diagnostics. */
export function parseTap(lines: readonly TapLine[]): Tap {
  const tap: Tap = { assertions: [] };
  let last: Assertion | undefined;
  for (const { text, line } of lines) {
    const plan = /^1\.\.(\d+)/.exec(text);
    const test = TEST_LINE.exec(text);
    if (plan) {
      tap.planned = Number(plan[1]);
      tap.planLine = line;
    } else if (test) {
      const rest = test[3] ?? '';
      const directive = DIRECTIVE.exec(rest);
      const description = (directive ? rest.slice(0, directive.index) : rest).trim().replace(/\\#/g, '#');
      last = {
        number: test[2] ? Number(test[2]) : tap.assertions.length + 1,
        ok: !test[1],
        description,
        ...(directive ? { directive: directive[1]!.toLowerCase() as 'skip' | 'todo' } : {}),
        diagnostics: [],
        line,
      };
      tap.assertions.push(last);
    } else if (text.startsWith('#')) {
      if (/^#\s*Looks like you planned/.test(text)) tap.planComment = text.replace(/^#\s*/, '');
      // only from the failed assertion's own statement: finish()'s summary is not about it
      else if (last && !last.ok && last.line === line) last.diagnostics.push(text);
    }
  }
  return tap;
}

export interface FileCounts {
  file: string;
  planned?: number;
  ran: number;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
}

export function countTap(file: string, tap: Tap): FileCounts {
  const count = (keep: (a: Assertion) => boolean) => tap.assertions.filter(keep).length;
  return {
    file,
    ...(tap.planned !== undefined ? { planned: tap.planned } : {}),
    ran: tap.assertions.length,
    passed: count((a) => a.ok && !a.directive),
    failed: count((a) => !a.ok && !a.directive),
    skipped: count((a) => a.directive === 'skip'),
    todo: count((a) => a.directive === 'todo'),
  };
}

/** The first keyword of top-level transaction control, which the file's wrapper is made of. */
const TRANSACTION_CONTROL = /^(?:begin|start|commit|end|abort|rollback(?!\s+(?:work\s+|transaction\s+)?to\b)|prepare\s+transaction)\b/i;

export function isTransactionControl(statement: string): boolean {
  return TRANSACTION_CONTROL.test(statement.slice(firstTokenIndex(statement)));
}

interface ServerError {
  message?: string;
  code?: string;
  position?: string;
}

export interface FileRun {
  lines: TapLine[];
  died?: { line: number; message: string };
}

/** The text a statement returned, line by line, as psql prints it in pg_prove's tuples-only mode. */
function outputLines(result: pg.QueryResult, line: number): TapLine[] {
  const out: TapLine[] = [];
  for (const row of result.rows as Array<Record<string, unknown>>) {
    for (const value of Object.values(row)) {
      if (value === null || value === undefined) continue;
      for (const text of String(value).split('\n')) out.push({ text, line });
    }
  }
  return out;
}

/** Runs one file's statements in a transaction it cannot leave, then rolls it back. */
async function runFile(session: Session, cancel: () => Promise<void>, text: string, timeoutMs: number): Promise<FileRun> {
  const lines: TapLine[] = [];
  const timer = setTimeout(() => void cancel(), timeoutMs);
  let timedOut = false;
  timer.unref?.();
  const started = Date.now();
  await session.query('begin');
  try {
    for (const statement of splitSupabaseStatements(text)) {
      if (isTransactionControl(statement.text)) continue;
      try {
        const result = await session.query({ text: statement.text, queryMode: 'extended' } as pg.QueryConfig);
        lines.push(...outputLines(result, lineOf(text, statement)));
      } catch (error) {
        timedOut = Date.now() - started >= timeoutMs;
        return { lines, died: { line: lineOf(text, statement, error as ServerError), message: dyingWords(error, timedOut, timeoutMs) } };
      }
    }
    return { lines };
  } finally {
    clearTimeout(timer);
    await session.query('rollback').catch(() => undefined);
  }
}

/** The file line of a statement (its first token), or of the error position PostgreSQL gives. */
function lineOf(text: string, statement: SplitStatement, error?: ServerError): number {
  const offset = error?.position ? codePointPositionToIndex(statement.text, Number(error.position)) : firstTokenIndex(statement.text);
  return lineAt(text, statement.start + offset);
}

function dyingWords(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `the file ran past its ${Math.round(timeoutMs / 1000)} s limit and its statement was cancelled`;
  const e = error as ServerError;
  const message = describeServerError(error) ?? `${String(e.message ?? error).replace(/\.$/, '')}${e.code ? ` (SQLSTATE ${e.code})` : ''}`;
  return message;
}

/**
 * pgTAP in the database: already there (`created` false), or created in schema `extensions` (as
 * the Supabase CLI does) by the admin session (`createdSchema` when that schema is new too);
 * `missing` with the server's major when the server lacks it.
 */
export async function ensurePgtap(
  admin: Session,
  testRole: string,
): Promise<{ schema: string; created: false } | { schema: string; created: true; createdSchema: boolean } | { missing: number }> {
  const installed = await admin.query<{ schema: string }>(
    `select n.nspname as schema from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace where e.extname = 'pgtap'`,
  );
  if (installed.rows[0]) return { schema: installed.rows[0].schema, created: false };
  const available = await admin.query(`select 1 from pg_catalog.pg_available_extensions where name = 'pgtap'`);
  if (!available.rowCount) {
    const { rows } = await admin.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    return { missing: Math.floor(Number(rows[0]?.v ?? 0) / 10000) };
  }
  const schema = await admin.query(`select 1 from pg_catalog.pg_namespace where nspname = 'extensions'`);
  await admin.query('create schema if not exists extensions');
  await admin.query(`grant usage on schema extensions to public, ${quoteIdent(testRole)}`);
  await admin.query('create extension if not exists pgtap with schema extensions');
  return { schema: 'extensions', created: true, createdSchema: !schema.rowCount };
}

/** What went wrong in one file: a failing assertion, a plan mismatch, or a file that died. Each caller maps `kind` to its rule. */
export interface TestProblem {
  kind: 'failed' | 'plan_mismatch' | 'died';
  object: { kind: 'db-test'; name: string };
  message: string;
  detail?: string;
  remediation: string;
  location: { file: string; line: number };
}

export interface TestFilesRun {
  files: FileCounts[];
  problems: TestProblem[];
}

export interface TestFilesOptions {
  cwd: string;
  timeoutMs: number;
  /** For the file sessions (the admin session is the caller's). */
  connectOptions: ConnectOptions;
  /** Where the tests ran, for the messages: "the shadow database". */
  where: string;
}

/**
 * Runs every file, each in a fresh session to `testTarget` whose search path gets pgTAP's
 * schema; `admin` cancels a file that runs past its time.
 */
export async function runTestFiles(
  admin: Session,
  testTarget: Parameters<typeof connect>[0],
  schema: string,
  tests: DbTests,
  options: TestFilesOptions,
): Promise<TestFilesRun> {
  const outcome: TestFilesRun = { files: [], problems: [] };
  for (const file of tests.files) {
    const relative = path.relative(options.cwd, file).split(path.sep).join('/');
    const text = readFileSync(file, 'utf8');
    const session = await connect(testTarget, options.connectOptions);
    try {
      const { rows } = await session.query<{ pid: number }>(
        `select pg_catalog.pg_backend_pid() as pid, pg_catalog.set_config('search_path', case when $1 = any(pg_catalog.current_schemas(false)) then pg_catalog.current_setting('search_path') else pg_catalog.current_setting('search_path') || ', ' || $2 end, false)`,
        [schema, quoteIdent(schema)],
      );
      const cancel = async () => {
        await admin.query('select pg_catalog.pg_cancel_backend($1)', [rows[0]!.pid]).catch(() => undefined);
      };
      const run = await runFile(session, cancel, text, options.timeoutMs);
      const tap = parseTap(run.lines);
      outcome.files.push(countTap(relative, tap));
      outcome.problems.push(...fileProblems(relative, tap, run, options.where));
    } finally {
      await session.end().catch(() => undefined);
    }
  }
  return outcome;
}

/** The counts over every file, as metrics. */
export function testMetrics(files: readonly FileCounts[]): Record<string, number> {
  const total = (key: 'passed' | 'failed' | 'skipped' | 'todo') => files.reduce((sum, f) => sum + f[key], 0);
  return {
    db_test_files: files.length,
    db_tests_passed: total('passed'),
    db_tests_failed: total('failed'),
    db_tests_skipped: total('skipped'),
    db_tests_todo: total('todo'),
  };
}

/** Failing assertions, a plan mismatch, a file that died. */
export function fileProblems(file: string, tap: Tap, run: FileRun, where: string): TestProblem[] {
  const problems: TestProblem[] = [];
  const failing = tap.assertions.filter((a) => !a.ok && !a.directive);
  const descriptions = tap.assertions.map((a) => a.description);
  for (const assertion of failing) {
    const unique = assertion.description && descriptions.indexOf(assertion.description) === descriptions.lastIndexOf(assertion.description);
    const description = inertInline(assertion.description);
    problems.push({
      kind: 'failed',
      object: { kind: 'db-test', name: `${file}: ${unique ? description : `#${assertion.number}${description ? ` ${description}` : ''}`}` },
      message: `pgTAP test ${assertion.number}${description ? ` "${description}"` : ''} in ${file}:${assertion.line} failed on ${where}.`,
      ...(assertion.diagnostics.length ? { detail: inertBlock(assertion.diagnostics.join('\n')) } : {}),
      remediation: 'Fix the schema, policy or grant the test exercises, or the test if its expectation is wrong.',
      location: { file, line: assertion.line },
    });
  }
  if (run.died) {
    problems.push({
      kind: 'died',
      object: { kind: 'db-test', name: file },
      message: `Test file ${file} stopped at line ${run.died.line}: ${inertInline(run.died.message)}; the assertions after it did not run.`,
      remediation: 'Fix the statement (psql meta-commands such as \\set are not run: write plain SQL), or what it relies on in the migrations.',
      location: { file, line: run.died.line },
    });
  } else if (tap.planned === undefined || tap.planned !== tap.assertions.length) {
    const said = tap.planComment ? ` (${inertInline(tap.planComment)})` : '';
    problems.push({
      kind: 'plan_mismatch',
      object: { kind: 'db-test', name: file },
      message:
        tap.planned === undefined
          ? `Test file ${file} printed no plan; pg_prove fails a file without one.`
          : `Test file ${file} planned ${tap.planned} test(s) but ran ${tap.assertions.length}${said}.`,
      remediation: 'Make `select plan(N)` match the assertions the file runs, or use `select * from no_plan()` and end with `select * from finish()`.',
      location: { file, line: tap.planLine ?? tap.assertions[0]?.line ?? 1 },
    });
  }
  return problems;
}
