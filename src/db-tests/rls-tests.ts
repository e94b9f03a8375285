/**
 * Declarative RLS tests from the repo config (`rls.tests`): run `sql` as a role with JWT
 * claims, set the way PostgREST sets them, each in its own transaction that is rolled
 * back, and compare with `expect` (`rows`, `rows-at-least`, `denied`, `error`).
 *
 * Shared by rls-audit (on its shadow database) and restore-drill (on the restored copy); each
 * turns a failed outcome into a finding of its own rule.
 */
import type { ClientBase } from 'pg';
import type { RepoConfig } from '../config/repo-config.ts';
import { quoteIdent } from '../postgres/connect.ts';

export type RlsTest = RepoConfig['rls']['tests'][number];

export interface TestOutcome {
  name: string;
  role: string;
  passed: boolean;
  /** What happened: "3 rows", "error 42501: ...". */
  got: string;
  expected: string;
}

function expectationText(test: RlsTest): string {
  const e = test.expect;
  if ('rows' in e) return `${e.rows} row(s)`;
  if ('rows-at-least' in e) return `at least ${e['rows-at-least']} row(s)`;
  if ('denied' in e) return 'denied (42501)';
  return `error ${e.error}`;
}

/** Runs one test; the session must be allowed to `set role` to the test's role. */
export async function runTest(session: ClientBase, test: RlsTest): Promise<TestOutcome> {
  const expected = expectationText(test);
  const claims = JSON.stringify({ role: test.as.role, ...(test.as.claims ?? {}) });
  let got: string;
  let passed: boolean;
  await session.query('begin');
  try {
    try {
      await session.query(`set local role ${quoteIdent(test.as.role)}`);
      await session.query(`select pg_catalog.set_config('request.jwt.claims', $1, true)`, [claims]);
      const result = await session.query(test.sql);
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      const count = last.command === 'SELECT' ? last.rows.length : (last.rowCount ?? 0);
      got = `${count} row(s)`;
      const e = test.expect;
      passed = 'rows' in e ? count === e.rows : 'rows-at-least' in e ? count >= e['rows-at-least'] : false;
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      got = `error ${code ?? '?'}: ${message}`;
      const e = test.expect;
      passed = 'denied' in e ? code === '42501' : 'error' in e ? code === e.error : false;
    }
  } finally {
    await session.query('rollback').catch(() => undefined);
  }
  return { name: test.name, role: test.as.role, passed, got, expected };
}

/** Runs the tests in order, in one session. */
export async function runRlsTests(session: ClientBase, tests: readonly RlsTest[]): Promise<TestOutcome[]> {
  const outcomes: TestOutcome[] = [];
  for (const test of tests) outcomes.push(await runTest(session, test));
  return outcomes;
}
