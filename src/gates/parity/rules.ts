/**
 * parity-check's rule catalog: one record per finding the gate can produce (docs/rules.md is
 * generated from these). Findings name tables, key ranges (integer keys only), sequences, roles,
 * settings and extensions: never a row's content and never a setting's value.
 */
import { findingOf, type Rule } from '../../findings/rules.ts';

const ALLOWLIST_HOW =
  'To accept a difference for a while (say, during dual-write), add an allowlist entry to the repo config with this rule id, the object shown in the finding, a reason and an `expires` date.';

export const PARITY_RULES = [
  {
    id: 'parity_schema_difference',
    gate: 'parity',
    severity: 'error',
    category: 'schema',
    title: 'The two databases have different schemas',
    doc: `The source and the target differ in an object of the catalog model drift-gate uses (tables, columns, constraints, indexes, views, functions, triggers, policies, privileges, default privileges, publications, ...). Platform objects are not compared: when either side is a Supabase project, the schemas, roles and extensions the platform manages (\`auth\`, \`storage\`, \`realtime\`, ...) are left out on both sides, as \`supabase db dump\` does. The finding names the object and the properties that differ; its detail carries the SQL that brings the target to the source. A missing table is reported here once, and its rows are not compared. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'parity_row_count_mismatch',
    gate: 'parity',
    severity: 'error',
    category: 'data',
    title: 'A table has a different number of rows on the two sides',
    doc: `The exact row count of a table differs between source and target, each counted inside its own side's repeatable-read snapshot (so a count is consistent with that side's checksums). The finding says by how much, and for a table with a key, which key ranges hold the difference: ranges are cut in the source's key order, and key values are printed only for integer keys; other keys (emails, names) are row content, so their ranges are named by position ("range 3 of 64, rows 129–192 in key order"). Rows written on purpose since a point in time (dual-write, the +24 h re-run) are declared with the \`expected\` input (\`schema.table: column >= timestamp\`) and left out on both sides. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'parity_rows_differ',
    gate: 'parity',
    severity: 'error',
    category: 'data',
    title: 'A table has the same number of rows but different contents',
    doc: `The two sides have the same row count but a different checksum. The checksum is exact and keyed: SHA-256 of every row's text (the key columns first, then the other columns in name order, so a different physical column order does not matter), in the order of the table's key (the primary key, else a unique index on NOT NULL columns, or the \`keys\` input), read with COPY in sessions whose TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output are pinned, so that PostgreSQL 15 and 17 print the same text. One changed value, a swapped pair of values or a row replaced by another with the same count all change it. The finding locates the difference in key ranges (see parity_row_count_mismatch); no row content is printed. Text keys are ordered by their collation on each side: if the two servers' collations order them differently, every range from the first reordered key differs. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'parity_table_no_key',
    gate: 'parity',
    severity: 'warning',
    category: 'data',
    title: 'A table has no key, so only its row count is compared',
    doc: 'A table without a primary key or a unique index on NOT NULL columns has no order to checksum its rows in, so only its exact row count is compared: duplicated or changed rows with the same count go unseen. Give it a primary key, or name its business key in the `keys` input (`schema.table: column [column ...]`). A table named in `tables` without a key and without a `keys` entry is an input error instead.',
  },
  {
    id: 'parity_sequence_behind',
    gate: 'parity',
    severity: 'error',
    category: 'data',
    title: 'A sequence on the target would hand out values its column already has',
    doc: "The next value of a sequence on the target is at or below the largest value already in the column it feeds (through a column default, `serial` or an identity column). This is the classic forgotten step after copying data with triggers off (`session_replication_role = replica`) or with COPY: the first insert after cutover fails with a duplicate key, or worse, succeeds on a column without a unique index. Fix it on the target with the `setval` in the finding's remediation, taken after the last write to the source.",
  },
  {
    id: 'parity_sequence_not_checked',
    gate: 'parity',
    severity: 'warning',
    category: 'data',
    title: 'A sequence on the target could not be checked',
    doc: 'The role in `target-database-url` may not read a sequence that feeds a column (SELECT or USAGE on the sequence, SELECT on the column), so whether it is behind its column is unknown. Grant `select on all sequences in schema ...` to the role parity connects as, or connect as the owner.',
  },
  {
    id: 'parity_setting_lost',
    gate: 'parity',
    severity: 'error',
    category: 'settings',
    title: 'A database- or role-level setting of the source is missing on the target',
    doc: "`ALTER DATABASE ... SET` and `ALTER ROLE ... [IN DATABASE ...] SET` values live outside the database's schema: `pg_dump` without `--create` and `supabase db dump` leave them out, and a logical copy never carries them. Application settings such as `app.webhook_hmac_secret`, `search_path` or `statement_timeout` then silently fall back to the server's defaults after cutover. Values are compared by SHA-256 inside each server and never printed. Re-apply the setting on the target from your secret store.",
  },
  {
    id: 'parity_setting_differs',
    gate: 'parity',
    severity: 'error',
    category: 'settings',
    title: 'A database- or role-level setting has a different value on the target',
    doc: "The same setting is attached to the database (or the role) on both sides, with different values. The values are compared by SHA-256 inside each server and never printed, so the finding says only which setting, at which scope. Set the target's value from your secret store or your runbook.",
  },
  {
    id: 'parity_extension_missing',
    gate: 'parity',
    severity: 'error',
    category: 'schema',
    title: 'An extension of the source is not installed on the target',
    doc: 'An extension installed in the source database is not installed in the target. Objects that depend on it (columns of its types, functions calling it, cron jobs, ...) cannot have been copied either. Install it on the target (`create extension ... with schema ...`), in the version the source has. Extensions are compared in full here, including the ones a Supabase project has pre-installed: a cutover away from Supabase loses them.',
  },
  {
    id: 'parity_extension_version',
    gate: 'parity',
    severity: 'warning',
    category: 'schema',
    title: 'An extension has a different version on the target',
    doc: 'Both sides have the extension, in different versions. Functions, operators and types can behave differently between versions (and `pg_dump` records no version), so the difference is worth a deliberate decision: `alter extension ... update to` the version you mean to run, on whichever side is behind.',
  },
  {
    id: 'parity_role_missing',
    gate: 'parity',
    severity: 'error',
    category: 'roles',
    title: 'A role the repo config requires is missing on the target',
    doc: 'A role listed under `roles` in the repo config does not exist on the target. Roles are global objects: a database dump does not carry them (`pg_dumpall --globals-only` does, without passwords on managed platforms), so they must be created on the new server before cutover. The remediation creates it without a password: set the password from your secret store.',
  },
  {
    id: 'parity_role_differs',
    gate: 'parity',
    severity: 'error',
    category: 'roles',
    title: 'A role has different attributes or memberships on the target',
    doc: 'A role the repo config lists has other attributes on the target than on the source (LOGIN, INHERIT, BYPASSRLS, CREATEROLE, connection limit, ...) or other memberships (including their ADMIN, INHERIT and SET options on PostgreSQL 16 and later). Passwords are never read. The remediation gives the statements that bring the target to the source.',
  },
  {
    id: 'parity_role_not_assumable',
    gate: 'parity',
    severity: 'error',
    category: 'roles',
    title: 'A login role cannot `set role` to a role it must assume',
    doc: 'A role under `roles` in the repo config lists login roles in `assumed-by` that must be able to `set role` to it (the runtime role pattern: a login role connects, then switches to `app_worker`). On the target, one of them cannot: it is not a member, or (PostgreSQL 16 and later) its membership was granted `with set false`, or it does not exist. `set role` fails at the first request after cutover. Grant the membership `with set true` (16+) or plainly (15 and earlier).',
  },
] as const satisfies readonly Rule[];

export const parityFinding = findingOf(PARITY_RULES);

export type ParityRuleId = (typeof PARITY_RULES)[number]['id'];
