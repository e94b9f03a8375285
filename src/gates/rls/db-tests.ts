/**
 * The project's pgTAP database tests (`supabase test db`'s `supabase/tests`, input `db-tests`),
 * run on rls-audit's shadow database after the migrations and the seed, by src/db-tests/pgtap.ts
 * (which says how a file runs), as the role the migrations ran as.
 *
 * pgTAP itself is created in schema `extensions` (as the Supabase CLI does) when the shadow
 * lacks it; a server without it is a UserError naming what provides it.
 */
import { UserError } from '../../errors.ts';
import type { Finding } from '../../findings/types.ts';
import type { Shadow } from '../../migrations/shadow.ts';
import { type DbTests, ensurePgtap, FILE_TIMEOUT_MS, type FileCounts, runTestFiles, type TestProblem, testMetrics } from '../../db-tests/pgtap.ts';
import { connect } from '../../postgres/connect.ts';
import { dbTestFinding } from './db-test-rules.ts';

export { type DbTests, FILE_TIMEOUT_MS, resolveDbTests } from '../../db-tests/pgtap.ts';

export interface DbTestsOutcome {
  findings: Finding[];
  files: FileCounts[];
  metrics: Record<string, number>;
}

const RULE_OF = { failed: 'db_test_failed', plan_mismatch: 'db_test_plan_mismatch', died: 'db_test_file_died' } as const;

/** Runs every test file on the shadow (after its migrations and seed) and turns the TAP into findings. */
export async function runDbTests(
  shadow: Pick<Shadow, 'url' | 'migrationUrl' | 'migrationRole'>,
  tests: DbTests,
  cwd: string,
  timeoutMs = FILE_TIMEOUT_MS,
): Promise<DbTestsOutcome> {
  if (tests.files.length === 0) return { findings: [], files: [], metrics: {} };
  const connectOptions = { gate: 'rls', readOnly: false, inputName: 'shadow-database-url', statementTimeoutMs: timeoutMs } as const;
  const admin = await connect(shadow.url, connectOptions);
  try {
    const pgtap = await ensurePgtap(admin, shadow.migrationRole.name);
    if ('missing' in pgtap) {
      const major = pgtap.missing;
      throw new UserError(
        `The shadow PostgreSQL ${major} has no pgTAP extension, which the database tests in db-tests need; install the Debian package postgresql-${major}-pgtap on the runner, or use shadow: docker with a supabase/postgres image, which has it.`,
      );
    }
    const run = await runTestFiles(admin, shadow.migrationUrl, pgtap.schema, tests, { cwd, timeoutMs, connectOptions, where: 'the shadow database' });
    return { findings: run.problems.map(problemFinding), files: run.files, metrics: testMetrics(run.files) };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function problemFinding({ kind, ...problem }: TestProblem): Finding {
  return dbTestFinding({ rule: RULE_OF[kind], ...problem });
}
