/**
 * rls-audit's rules for the project's pgTAP database tests (`supabase/tests`, input `db-tests`),
 * which run on the shadow database in PR mode (see db-tests.ts).
 */
import { findingOf, type Rule } from '../../findings/rules.ts';

export const DB_TEST_RULES = [
  {
    id: 'db_test_failed',
    gate: 'rls',
    severity: 'error',
    category: 'tests',
    title: 'A pgTAP database test failed',
    doc: "An assertion of a pgTAP test file (`supabase/tests/*.sql` or `*.pg`, or the folder input `db-tests` names) printed `not ok` on the shadow database built from the pull request's migrations and seed, the way `supabase test db` would have on the local stack. The finding sits on the test file's line that ran the assertion and carries its description and pgTAP's diagnostics (`# Failed test`, `have:`, `want:`). Tests marked TODO are counted, never reported. Each file runs in its own transaction, rolled back afterwards, as the role the migrations ran as. Fix the schema or policy the test exercises, or the test if its expectation is wrong. The key is the file and the assertion's description (with its number when it has none or shares it with another), so an allowlist entry survives tests added above it.",
  },
  {
    id: 'db_test_plan_mismatch',
    gate: 'rls',
    severity: 'error',
    category: 'tests',
    title: 'A pgTAP test file ran a different number of tests than it planned',
    doc: "The file declared `select plan(N)` but ran another number of assertions (pgTAP's `# Looks like you planned N tests but ran M`), or printed no plan at all. `pg_prove`, which `supabase test db` runs, fails such a file even when every assertion passed: usually an assertion was added or removed without updating the plan, or a branch of the file skipped some. Update the plan, or use `select * from no_plan()` with `select * from finish()`.",
  },
  {
    id: 'db_test_file_died',
    gate: 'rls',
    severity: 'error',
    category: 'tests',
    title: 'A pgTAP test file stopped on an SQL error',
    doc: "A statement of the test file failed on the shadow database (the finding gives its line and the server's message), so the rest of the file did not run, as `pg_prove` stops a file at its first error. Common causes: a table or function the test uses no longer exists, a role lacks a grant it needs (42501 under `set local role`), a psql meta-command (`\\set`, `\\i`): postgate runs each statement over the PostgreSQL protocol, never through psql, so meta-commands are syntax errors; or the file ran past its time limit. Transaction control in the file (`begin`, `commit`, `rollback`) is taken as the file's own wrapper: postgate runs the whole file in one transaction that it rolls back, so no file changes what the next one sees.",
  },
] as const satisfies readonly Rule[];

/** A finding of one of the pgTAP rules, at the rule's severity. */
export const dbTestFinding = findingOf(DB_TEST_RULES);
