/**
 * The project's own tests on the restored copy, after the verification and the RTO: the repo
 * config's RLS tests (`rls.tests`) and the pgTAP files (`db-tests`, default `supabase/tests`),
 * the same tests rls-audit runs on its shadow database (src/db-tests/). A restore that loses a
 * policy or a grant brings every row back and still fails here.
 *
 * The copy is inert and throwaway, and every test runs in a transaction that is rolled back.
 * pgTAP, when the copy lacks it, is created for the tests and dropped afterwards, so the masked
 * export and the migration rehearsal that follow see the copy as restored. A restore server
 * without pgTAP skips the files with a warning (drill_db_tests_not_run) rather than stopping
 * the drill: a nightly drill keeps its restore verdict, and the warning says what to install.
 */
import path from 'node:path';
import type { DrillOptions } from '../../config/gates.ts';
import type { RepoConfig } from '../../config/repo-config.ts';
import { type DbTests, ensurePgtap, FILE_TIMEOUT_MS, resolveDbTests, runTestFiles, testMetrics } from '../../db-tests/pgtap.ts';
import { runRlsTests } from '../../db-tests/rls-tests.ts';
import type { Finding } from '../../findings/types.ts';
import { findSupabaseConfig } from '../../migrations/tools/supabase.ts';
import { connect, type Session } from '../../postgres/connect.ts';
import { inertInline } from '../../report/inert.ts';
import { drillFinding } from './rules.ts';
import type { Targeted } from './state.ts';
import type { Check } from './verify.ts';

export interface CopyTests {
  rls: RepoConfig['rls']['tests'];
  /** Undefined: no test folder (none given, no supabase/tests). */
  db?: DbTests;
}

/**
 * The tests to run, found before anything is restored so a bad `db-tests` stops the drill at
 * once: the folder the input names, else `tests` beside the Supabase folder of
 * `project.migrations-dir` (or of the working directory). The RLS fixture files kept there are
 * loaded by rls-audit, not tested.
 */
export function findCopyTests(options: DrillOptions, cwd: string, config: RepoConfig): CopyTests {
  const db = resolveDbTests({
    given: options.dbTests,
    label: 'Input `db-tests`',
    cwd,
    supabaseConfig: findSupabaseConfig(path.resolve(cwd, config.project['migrations-dir'] ?? '.')),
    loaded: config.rls.fixtures.map((file) => path.resolve(cwd, file)),
  });
  return { rls: config.rls.tests, ...(db ? { db } : {}) };
}

const STATEMENT_TIMEOUT_MS = 60_000;

/** tests: both kinds on the copy, each a check line; failures are findings. */
export async function testCopy(state: Targeted, tests: CopyTests): Promise<void> {
  const { target, context } = state;
  if (tests.rls.length === 0 && !tests.db?.files.length) {
    state.checks.push(NO_RLS_TESTS, noDbTests(tests.db, context.cwd));
    return;
  }
  const started = performance.now();
  await context.log.step('tests: the repo config RLS tests and the pgTAP files on the copy', async () => {
    const session = await connect(target.url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: STATEMENT_TIMEOUT_MS });
    try {
      const rls = await rlsTestsOnCopy(session, tests.rls);
      const db = await dbTestsOnCopy(session, state, tests.db);
      state.findings.push(...rls.findings, ...db.findings);
      state.checks.push(rls.check, db.check);
      Object.assign(state.metrics, db.metrics);
    } finally {
      await session.end().catch(() => undefined);
    }
  });
  state.metrics.tests_ms = Math.round(performance.now() - started);
}

interface Tested {
  findings: Finding[];
  check: Check;
  metrics?: Record<string, number>;
}

const NO_RLS_TESTS: Check = { check: 'rls tests', status: 'skipped', detail: 'no rls.tests in the repo config' };

function noDbTests(tests: DbTests | undefined, cwd: string): Check {
  const detail = tests ? `no .sql or .pg file in ${path.relative(cwd, tests.dir) || '.'}` : 'no db-tests folder and no supabase/tests';
  return { check: 'database tests', status: 'skipped', detail };
}

async function rlsTestsOnCopy(session: Session, tests: CopyTests['rls']): Promise<Tested> {
  if (tests.length === 0) return { findings: [], check: NO_RLS_TESTS };
  const failed = (await runRlsTests(session, tests)).filter((o) => !o.passed);
  const findings = failed.map((o) =>
    drillFinding({
      rule: 'drill_rls_test_failed',
      object: { kind: 'rls-test', name: inertInline(o.name) },
      message: `RLS test "${inertInline(o.name)}" (as ${inertInline(o.role)}) expected ${o.expected} but got ${inertInline(o.got)} on the restored copy.`,
      remediation:
        'Look at the restore errors for the policy or grant the test exercises (a role or function it names may be missing on the restore server), and fix the backup job or the restore runbook.',
    }),
  );
  return { findings, check: { check: 'rls tests', status: findings.length ? 'fail' : 'pass', detail: `${tests.length} run; ${findings.length} failed` } };
}

async function dbTestsOnCopy(admin: Session, state: Targeted, tests: DbTests | undefined): Promise<Tested> {
  if (!tests?.files.length) return { findings: [], check: noDbTests(tests, state.context.cwd) };
  const { target, context } = state;
  const pgtap = await ensurePgtap(admin, target.restoreAs.user);
  if ('missing' in pgtap) {
    const major = pgtap.missing;
    return {
      findings: [
        drillFinding({
          rule: 'drill_db_tests_not_run',
          object: { kind: 'database', name: 'pgtap' },
          message: `The restore server (PostgreSQL ${major}) has no pgTAP extension, so the ${tests.files.length} pgTAP test file(s) did not run on the copy.`,
          remediation: `Install the Debian package postgresql-${major}-pgtap on the runner, or restore into a supabase/postgres image (shadow: docker), which has it.`,
        }),
      ],
      check: { check: 'database tests', status: 'skipped', detail: `${tests.files.length} file(s) not run: no pgTAP on the restore server` },
    };
  }
  try {
    const run = await runTestFiles(admin, target.restoreAs, pgtap.schema, tests, {
      cwd: context.cwd,
      timeoutMs: FILE_TIMEOUT_MS,
      connectOptions: { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: FILE_TIMEOUT_MS },
      where: 'the restored copy',
    });
    const findings = run.problems.map(({ kind: _kind, ...problem }) =>
      drillFinding({
        rule: 'drill_db_test_failed',
        ...problem,
        remediation:
          'Look at the restore errors for what the test exercises (a policy, grant, function or row the restore lost), and fix the backup job or the restore runbook; if the test fails on the source as well, fix the test.',
      }),
    );
    const metrics = testMetrics(run.files);
    return {
      findings,
      check: {
        check: 'database tests',
        status: findings.length ? 'fail' : 'pass',
        detail: `${run.files.length} file(s), ${metrics.db_tests_passed} passed, ${metrics.db_tests_failed} failed`,
      },
      metrics,
    };
  } finally {
    if (pgtap.created) await admin.query(`drop extension if exists pgtap${pgtap.createdSchema ? '; drop schema if exists extensions' : ''}`);
  }
}
