/** drift-gate's rules. `migration_apply_failed` (shared by every gate that builds a shadow) is in src/migrations/rules.ts. */
import { findingOf, type Rule } from '../../findings/rules.ts';
import { MIGRATION_RULES } from '../../migrations/rules.ts';
import { BLIND_SPOTS_SENTENCE } from './declarative-blind-spots.ts';

const ALLOW = 'To accept it, add `{ rule, object, reason, expires }` to the allowlist in `.github/postgate.yml` with the object named in the finding.';

export const DRIFT_RULES = [
  {
    id: 'migration_pending',
    gate: 'drift',
    severity: 'warning',
    category: 'history',
    title: 'Migration not applied to the database',
    doc: `A migration file in the repository has no row in the database's migration history: it has not been applied. Before a deploy this is expected (the deploy applies it); after a deploy it means the deploy skipped it, and code that needs its tables or columns will fail at run time (one team's worker died on a table that existed in the migrations but not in production). Apply it with your migration tool (e.g. \`supabase db push\`, \`prisma migrate deploy\`). Its schema changes are not reported as drift: the expected schema is built only from the migrations the history says were applied. ${ALLOW}`,
  },
  {
    id: 'migration_missing_locally',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Applied migration missing from the repository',
    doc: `The database's history records a migration for which the repository has no file: it was applied from another branch, from a tool that writes its own versions (Supabase Studio, the MCP server, Lovable), or its file was deleted or renamed. Nobody can rebuild this database from the repository. Restore the file with the recorded version (for Supabase, \`supabase migration fetch\` rebuilds it from the stored statements), or, if the change was undone, remove the row with the tool's repair command (e.g. \`supabase migration repair --status reverted <version>\`). ${ALLOW}`,
  },
  {
    id: 'migration_edited',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Migration edited after it was applied',
    doc: `A migration's file no longer matches what the database's history recorded when it was applied, by the tool's own rule: sqlx SHA-384 of the bytes, Prisma SHA-256 (line-ending tolerant), Flyway CRC32 per line, drizzle SHA-256, graphile-migrate's hash chain, and for Supabase the statements the CLI stored, compared after splitting the file the way the CLI does. Databases created before and after the edit now differ. Revert the edit and put the change in a new migration; if the edit is harmless (a comment), use the tool's repair command to record the new checksum. ${ALLOW}`,
  },
  {
    id: 'migration_out_of_order',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Unapplied migration older than the newest applied one',
    doc: `A migration that is not applied has a version older than the newest applied migration, usually because two branches added migrations and the older one merged second. Some tools refuse it (Supabase CLI without \`--include-all\`, Flyway without \`outOfOrder\`), some apply it silently out of order (sqlx) and some never run it at all (drizzle skips anything older than its last applied migration). Give the migration a new version newer than every applied one (rename the file) unless it is meant to run out of order. ${ALLOW}`,
  },
  {
    id: 'migration_failed',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Failed or dirty migration in the history',
    doc: `The history table records a migration that did not finish: sqlx and Flyway \`success = false\`, Prisma \`finished_at\` empty without \`rolled_back_at\`, golang-migrate \`dirty = true\`. The tool refuses to continue until someone looks, and the schema may be half-changed. Inspect the database, finish or undo the migration by hand, then mark it resolved with the tool (\`prisma migrate resolve\`, \`migrate force <version>\`, \`flyway repair\`). ${ALLOW}`,
  },
  {
    id: 'migration_name_invalid',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Migration file the tool will not run',
    doc: `A file in the migrations folder breaks the tool's naming or format rules, so the tool skips it (often without a word) or refuses the whole folder: a Supabase migration without the \`<timestamp>_<name>.sql\` pattern, a drizzle file missing from \`meta/_journal.json\`, a dbmate file without \`-- migrate:up\`, a graphile-migrate file without its hash header. postgate does not apply it either. For Supabase it is a warning: the CLI prints "Skipping migration <file>..." for every \`.sql\` file off its \`<digits>_<name>.sql\` pattern (\`seed.sql\` in the migrations folder included, whose place is \`supabase/seed.sql\`) and for a pre-2021-12-09 \`<timestamp>_init.sql\` that comes first, and goes on. Rename or regenerate the file with the tool, or move it out of the folder if it is not a migration. ${ALLOW}`,
  },
  {
    id: 'merged_migration_edited',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Pull request edits a migration that is already merged',
    doc: `The pull request changes a migration that already exists on the base branch. Environments that applied the merged version will never run the edit (most tools apply a version once), so they silently differ from new ones; checksum-keeping tools will refuse to deploy. Revert the edit and add a new migration with the change. ${ALLOW}`,
  },
  {
    id: 'merged_migration_removed',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'Pull request deletes or renames a merged migration',
    doc: `A migration that exists on the base branch is gone in the pull request, or was renamed (its content now sits under another version). Databases that applied it will report it as applied but missing, and the tool may apply the renamed copy a second time. Restore the original file; undo its effect with a new migration instead. ${ALLOW}`,
  },
  {
    id: 'migration_version_not_newer',
    gate: 'drift',
    severity: 'error',
    category: 'history',
    title: 'New migration is not newer than the base branch',
    doc: `A migration added by the pull request has a version that is not newer than the newest migration on the base branch. Databases already at the base branch's newest version treat it as out of order: the Supabase CLI refuses to push it, drizzle never runs it, others apply it after newer ones. Regenerate it with a current timestamp (e.g. \`supabase migration new\`) or rename it with a version newer than the base's newest. ${ALLOW}`,
  },
  {
    id: 'base_checks_skipped',
    gate: 'drift',
    severity: 'notice',
    category: 'history',
    title: 'Checks against the base branch skipped',
    doc: `PR mode compares the migrations with the base branch's to catch \`merged_migration_edited\`, \`merged_migration_removed\` and \`migration_version_not_newer\`, and it needs to know that branch: the \`base-ref\` input (\`--base-ref\` on the CLI), else the pull request's base from the run (\`GITHUB_BASE_REF\`, or the event's \`pull_request.base.ref\` / \`merge_group.base_ref\`). In a git checkout without one (a local run, a workflow not triggered by a pull request), or when only the run knows it and the working directory is not a git checkout, those checks did not run and this notice says so instead of passing silently. The lock and rewrite analysis of the pull request's new migrations (\`migration_table_rewrite\` and the other \`migration-safety\` rules) needs the base branch too, to know which migrations are new; the notice's detail says it did not run either. Set \`base-ref\` (e.g. \`--base-ref main\`), or run the gate in the repository's checkout on a \`pull_request\` event. In a shallow checkout the base branch is fetched on demand; where that fails, check out with \`fetch-depth: 0\`. ${ALLOW}`,
  },
  {
    id: 'schema_drift_missing',
    gate: 'drift',
    severity: 'error',
    category: 'schema',
    title: 'Object from the migrations is missing in the database',
    doc: `The applied migrations create this object (table, column, index, policy, function, grant, ...) but the live database does not have it: someone dropped it by hand, or a migration was recorded as applied without running. The finding names the migration that creates it and gives SQL both ways: the statement that restores it, and the statement for a new migration if the removal was intended. ${ALLOW}`,
  },
  {
    id: 'schema_drift_unexpected',
    gate: 'drift',
    severity: 'error',
    category: 'schema',
    title: 'Object in the database that no migration creates',
    doc: `The live database has an object that the applied migrations do not create: a hotfix made in the dashboard or psql. Rebuilding the database from the repository (a new environment, a restore, a preview branch) loses it. Capture it in a new migration with the SQL in the finding, or drop it if it was a mistake. ${ALLOW}`,
  },
  {
    id: 'schema_drift_changed',
    gate: 'drift',
    severity: 'error',
    category: 'schema',
    title: 'Object differs between the migrations and the database',
    doc: `An object exists in both the applied migrations and the live database, with different definitions: a column type, default or nullability, a policy's roles or USING clause, a function body or \`search_path\`, a view's \`security_invoker\`, a grant, a comment, ... The finding lists each property with both values and gives SQL both ways (restore the migrations' definition, or capture the database's in a new migration). ${ALLOW}`,
  },
  {
    id: 'extension_version_differs',
    gate: 'drift',
    severity: 'notice',
    category: 'schema',
    title: 'Extension version differs',
    doc: `An extension is installed in both, at different versions. Platforms upgrade extensions on their own schedule, so this is a notice, never drift by itself. Run \`alter extension <name> update\` where you want the newer version. ${ALLOW}`,
  },
  {
    id: 'unmodeled_object_differs',
    gate: 'drift',
    severity: 'warning',
    category: 'schema',
    title: 'Object of a kind postgate does not model differs',
    doc: `An object of a kind postgate compares by presence only (operators, collations, aggregates, text search configurations, rules, casts, event triggers, foreign tables, ...) exists on one side only. It is reported rather than silently ignored; write the SQL to reconcile it by hand. ${ALLOW}`,
  },
  {
    id: 'declarative_schema_drift',
    gate: 'drift',
    severity: 'error',
    category: 'schema',
    title: 'Migrations do not build the declared schema',
    doc: `The project declares its schema in SQL files (Supabase's declarative workflow: \`supabase/schemas/*.sql\`, or the files \`[db.migrations] schema_paths\` in \`supabase/config.toml\` lists, relative to the \`supabase/\` folder, in the listed order with each glob's matches sorted), and the migrations do not build the same schema: a change to a schema file has no migration yet, or a migration was edited by hand away from the schema files. In PR mode drift-gate builds one shadow database from the schema files and one from the migrations, both with the Data API grants \`[api] auto_expose_new_tables\` gives, as the CLI's local database does, and compares the two catalogs. The finding points at the schema file's line (a difference only the migrations have points at the migration's line; the other side, where there is one, is a related location) and gives the SQL of the missing migration: generate it with \`supabase db diff -f <name>\` and review it. A schema file that fails to apply is a \`migration_apply_failed\` finding at its line. What declarative diffing cannot express, and teams therefore write in migrations by hand, is never reported: ${BLIND_SPOTS_SENTENCE}. ${ALLOW}`,
  },
  {
    id: 'grant_only_from_legacy_default',
    gate: 'drift',
    severity: 'warning',
    category: 'schema',
    title: 'Data API grants a new environment would lose',
    doc: `Until 2026 Supabase's default privileges gave every table, view, sequence and function created in \`public\` to \`anon\`, \`authenticated\` and \`service_role\` (new projects stopped on 2026-05-30, every project on 2026-10-30; existing objects kept their grants). The live database still has such grants, but a database built from the migrations today (\`supabase db reset\`, a preview branch, a restore from the migrations) gets only the grants the migrations give, because the Supabase CLI no longer adds them unless \`[api] auto_expose_new_tables = true\`: there the Data API answers 42501 \`permission denied\`. In deploy mode drift-gate replays the applied migrations a second time with the grants \`auto_expose_new_tables\` gives today, and lists, per schema in one finding, every privilege of those roles that the live database and the expected schema have and that replay lacks (never also as schema drift). The remediation is the capture migration: the exact \`grant\` statements, per object, with the migration it comes from; add it as a new migration and apply it, and new environments match production. Revoke instead what the app should not expose. Not raised for projects that are not Supabase projects or set \`auto_expose_new_tables = true\`. ${ALLOW}`,
  },
  {
    id: 'migration_not_verifiable',
    gate: 'drift',
    severity: 'notice',
    category: 'history',
    title: 'Migration postgate cannot run',
    doc: `A migration written in code (a node-pg-migrate migration in JavaScript or TypeScript, a goose migration in Go) cannot be applied to the shadow database without running your code, so its schema changes are not part of the expected schema. Its history is still checked. Write new migrations in SQL to have them verified. ${ALLOW}`,
  },
  {
    id: 'migration_in_progress',
    gate: 'drift',
    severity: 'warning',
    category: 'history',
    title: 'A migration is running right now',
    doc: `Another session holds a lock on the migration history table (or the migration tool's advisory lock), so a deploy is probably applying migrations at this moment. The schema comparison may show the half-applied state. Run the gate again after the deploy finishes. ${ALLOW}`,
  },
  {
    id: 'history_not_recorded',
    gate: 'drift',
    severity: 'notice',
    category: 'history',
    title: 'No migration history to compare',
    doc: `The migrations are plain numbered SQL files and the database has no history table, so postgate cannot tell which ones were applied: it compares the live schema with all of them. Adopt a migration tool that records its history to get pending, edited and out-of-order checks. ${ALLOW}`,
  },
] as const satisfies readonly Rule[];

/** A finding of a drift-gate rule (or a shared migration rule), at the rule's severity. */
export const driftFinding = findingOf(DRIFT_RULES, MIGRATION_RULES);

export type DriftRuleId = (typeof DRIFT_RULES)[number]['id'];
