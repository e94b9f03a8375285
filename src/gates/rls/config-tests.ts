/**
 * rls-audit's findings of the repo config's declarative RLS tests (`rls.tests`), which
 * src/db-tests/rls-tests.ts runs.
 */
import type { ClientBase } from 'pg';
import { runRlsTests, type RlsTest, type TestOutcome } from '../../db-tests/rls-tests.ts';
import type { Finding } from '../../findings/types.ts';
import { rlsFinding } from './rules.ts';

export type { RlsTest, TestOutcome } from '../../db-tests/rls-tests.ts';

export async function runTests(session: ClientBase, tests: readonly RlsTest[]): Promise<{ outcomes: TestOutcome[]; findings: Finding[] }> {
  const outcomes = await runRlsTests(session, tests);
  const findings = outcomes
    .filter((o) => !o.passed)
    .map((o) =>
      rlsFinding({
        rule: 'rls_test_failed',
        object: { kind: 'rls-test', name: o.name },
        message: `RLS test "${o.name}" (as ${o.role}) expected ${o.expected} but got ${o.got}.`,
        remediation: 'Fix the policy or grant it exercises, or the test in the repo config if its expectation is wrong.',
      }),
    );
  return { outcomes, findings };
}
