/**
 * The bad-input matrix: one table of inputs a user gets wrong, across the four gates, each
 * with its exit code and the exact sentence postgate answers with (so a change in wording or
 * exit code is a visible, reviewed change). Every case runs the real CLI (a few the committed
 * action bundles) against real PostgreSQL where a database is involved, and every answer is
 * checked for being one sentence, with no stack trace and no secret.
 *
 * Tokens in args, env and messages are filled in at run time: {dir} (the fixtures folder),
 * {app} (the drift fixture project, the default working directory), {live} (a migrated database with its history), {bare} (a database without one), {port}
 * (the cluster's port), {closed} (a port nothing listens on).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATES } from '../../src/config/gates.ts';
import type { GateId } from '../../src/findings/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { dockerUnavailableReason } from '../../src/postgres/ephemeral/docker.ts';
import { freePort } from '../../src/postgres/ephemeral/local.ts';
import { leftovers, NOTHING_LEFT, printed, runCli, scratchDir, sentenceProblems, sql, STACK_TRACE } from '../support/faults.ts';
import { startTestCluster } from '../support/pg.ts';
import { ROOT, runActionBundle } from '../support/runner.ts';

/** Secrets the cases use: none may be printed, raw or URL-encoded. */
const DB_PASSWORD = 'Bad-Input-Db-Pa55word!';
const HMAC = 'whsec_BadInputMatrixSecret0123456789';
const PASTED = 'sk_live_9fQ2bZtT4xWm1LpR8sNc3vYh';
const PASTED_B64 = 'q8Zt3+Yw1/VmR0pLk2s9dA==';
const TOKEN = 'sbp_0123456789abcdef0123456789abcdef01234567';
const SECRETS = [DB_PASSWORD, encodeURIComponent(DB_PASSWORD), HMAC, PASTED, PASTED_B64, TOKEN];

/** Every migration tool postgate reads, as the messages list them. */
const FORMATS = 'auto, supabase, sqlx, prisma, drizzle, flyway, dbmate, golang-migrate, node-pg-migrate, graphile-migrate, goose, plain';

interface Case {
  name: string;
  gate: GateId | 'none';
  /** CLI: flags after the command. Action: inputs. */
  args?: string[];
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** Working directory (relative to {dir}); default: the drift fixture project. */
  cwd?: string;
  /** Where the sentence appears: the JSON report's `error` (default), stderr (CLI usage errors), or the action's ::error:: line. */
  via?: 'json' | 'stderr' | 'action';
  /** Exit code; 2 (could not run) unless stated. */
  code?: number;
  message: string;
  /** A machine condition the case can only be made under (else it is skipped, saying why). */
  needs?: 'no docker';
}

const unreachable = `postgresql://app:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:{closed}/app`;

const cases: Case[] = [
  // --- foundation (#2): every gate shares these
  { name: 'unknown shadow value', gate: 'drift', args: ['--shadow', 'dockr'], message: 'Flag `--shadow` is "dockr"; use one of auto, local, docker, url.' },
  {
    name: 'PG major that is not a number',
    gate: 'drift',
    args: ['--postgres-version', 'latest'],
    message: 'Flag `--postgres-version` is "latest"; use a PostgreSQL major version such as 15 or 17.',
  },
  {
    name: 'PG major postgate does not support',
    gate: 'drift',
    args: ['--postgres-version', '11'],
    message: 'Input `postgres-version` is 11, which is not a PostgreSQL major postgate supports; use one of 13, 14, 15, 16, 17, 18.',
  },
  {
    name: 'PG_BIN pointing at an empty folder (shadow: local)',
    gate: 'drift',
    args: ['--shadow', 'local'],
    env: { PG_BIN: '{dir}/empty-bin' },
    message: 'PG_BIN={dir}/empty-bin holds no PostgreSQL server binaries (initdb and postgres); point PG_BIN at a PostgreSQL bin directory or unset it.',
  },
  {
    name: 'no binaries and no Docker (shadow: auto)',
    gate: 'drift',
    env: { PG_BIN: '{dir}/empty-bin' },
    needs: 'no docker',
    message: 'No PostgreSQL server binaries and no Docker engine were found; install PostgreSQL (or set PG_BIN), start Docker, or pass `shadow-database-url`.',
  },
  {
    name: 'config file that does not exist',
    gate: 'rls',
    args: ['--config', '{dir}/missing.yml'],
    message: 'Config file {dir}/missing.yml does not exist; fix input `config` or create the file.',
  },
  {
    name: 'config file that is a folder',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--config', '{dir}/empty'],
    message: 'Config file {dir}/empty is a directory; point input `config` at a YAML file.',
  },
  {
    name: 'config file that is not YAML',
    gate: 'drift',
    args: ['--config', '{dir}/broken.yml'],
    message: '{dir}/broken.yml: invalid YAML at line 2: Nested mappings are not allowed in compact mappings; fix the syntax.',
  },
  {
    name: 'config key with the wrong type',
    gate: 'rls',
    args: ['--config', '{dir}/wrong-type.yml'],
    message: '{dir}/wrong-type.yml: key `rls.exposed-schemas` expected a list, got number 42.',
  },
  {
    name: 'config key that does not exist (a typo)',
    gate: 'rls',
    args: ['--config', '{dir}/typo.yml'],
    message: '{dir}/typo.yml: key `rls` has unknown key `exposed-schema`.',
  },
  {
    name: 'database URL with a bad scheme',
    gate: 'rls',
    args: ['--database-url', `mysql://root:${DB_PASSWORD}@db.example.com/app`],
    message:
      '`--database-url` must start with postgresql:// or postgres:// (got a URL with scheme "mysql:"); use the PostgreSQL connection string, not an HTTP or other URL.',
  },
  {
    name: 'database URL with an unknown sslmode',
    gate: 'drift',
    args: ['--database-url', `postgresql://app:${DB_PASSWORD}@db.example.com/app?sslmode=always`],
    message: '`--database-url` has sslmode "always", which postgate does not know; use one of disable, prefer, require, verify-ca, verify-full.',
  },
  {
    name: 'unreachable host: the host is named, the password is not',
    gate: 'drift',
    args: ['--database-url', unreachable],
    message:
      'Could not connect to 127.0.0.1:{closed} from `database-url`: connection refused; check the host and port and that the server is running and accepts TCP connections.',
  },
  {
    name: 'fail-on that is not a severity',
    gate: 'rls',
    args: ['--fail-on', 'critical'],
    message: 'Flag `--fail-on` is "critical"; use one of error, warning, notice.',
  },
  {
    name: 'unknown flag',
    gate: 'drift',
    args: ['--database', '{live}'],
    via: 'stderr',
    message: 'postgate: `--database` is not a flag of `postgate drift`; did you mean `--database-url`?',
  },
  {
    name: 'unknown command',
    gate: 'none',
    args: ['deploy'],
    via: 'stderr',
    message: 'postgate: Unknown command `deploy`; use one of drift, rls, webhooks, drill, parity or doctor.',
  },

  // --- drift-gate (#4)
  {
    name: 'migrations dir that does not exist',
    gate: 'drift',
    args: ['--migrations-dir', 'db/migrate'],
    message: 'Input `migrations-dir` is {app}/db/migrate, which does not exist; point it at the folder holding your migrations.',
  },
  {
    name: 'migrations dir that is empty',
    gate: 'drift',
    args: ['--migrations-dir', '{dir}/empty'],
    message:
      'Input `migrations-dir` is {dir}/empty, which holds no numbered .sql migrations; point it at the folder holding your migrations or set `migrations-format`.',
  },
  {
    name: 'no migrations folder anywhere',
    gate: 'drift',
    cwd: 'no-migrations',
    message:
      'No migrations folder was found in {dir}/no-migrations (looked for supabase/migrations, prisma/migrations, drizzle, migrations, db/migrations, db/migration, src/main/resources/db/migration, sql/migrations); pass input `migrations-dir`.',
  },
  {
    name: 'a migration file that is not UTF-8',
    gate: 'drift',
    cwd: 'latin1',
    message: 'Migration file {dir}/latin1/supabase/migrations/20250101000000_init.sql is not valid UTF-8 (first bad byte on line 2); re-save it as UTF-8.',
  },
  {
    name: 'unknown migrations format (flag)',
    gate: 'drift',
    args: ['--migrations-format', 'liquibase'],
    message: `Flag \`--migrations-format\` is "liquibase"; use one of ${FORMATS}.`,
  },
  {
    name: 'unknown migrations format (repo config)',
    gate: 'drift',
    args: ['--config', '{dir}/liquibase.yml'],
    message: `\`project.migrations-format\` is "liquibase", which is not a migration tool postgate reads; use one of ${FORMATS}.`,
  },
  {
    name: 'database without a migration history table',
    gate: 'drift',
    args: ['--database-url', '{bare}'],
    message:
      'The database at `database-url` has no migration history table (looked for: supabase_migrations.schema_migrations (supabase), _sqlx_migrations (sqlx), _prisma_migrations (prisma), __drizzle_migrations (drizzle), flyway_schema_history (flyway), schema_migrations (golang-migrate), schema_migrations (dbmate), pgmigrations (node-pg-migrate), graphile_migrate.migrations (graphile-migrate), goose_db_version (goose)); point `database-url` at the migrated database or set `migrations-format`.',
  },
  {
    name: 'transaction-mode pooler URL',
    gate: 'drift',
    args: ['--database-url', `postgresql://postgres.abcdefghijklmnopqrst:${DB_PASSWORD}@aws-0-us-east-1.pooler.supabase.com:6543/postgres`],
    message:
      'Input `database-url` points at a transaction-mode connection pooler (aws-0-us-east-1.pooler.supabase.com:6543), which cannot hold the session postgate needs; use the session pooler on port 5432 or the direct database URL.',
  },
  {
    name: 'base-ref outside a git checkout',
    gate: 'drift',
    args: ['--base-ref', 'main'],
    cwd: 'not-a-checkout',
    message:
      'Input `base-ref` needs a git checkout, but {dir}/not-a-checkout is not inside one; run the gate in the repository (actions/checkout) or leave `base-ref` empty.',
  },

  // --- rls-audit (#5)
  {
    name: 'exposed schema that does not exist',
    gate: 'rls',
    args: ['--database-url', '{live}', '--schemas', 'public,api'],
    message:
      'The schema list from flag `--schemas` names schema "api", which the database does not have; fix the schema list or create the schema in a migration.',
  },
  {
    name: 'a schema PostgREST never exposes',
    gate: 'rls',
    args: ['--database-url', '{live}', '--schemas', 'public,pg_catalog'],
    message: 'The schema list from flag `--schemas` includes pg_catalog, which PostgREST never exposes; remove it.',
  },
  {
    name: 'no exposed schemas known anywhere',
    gate: 'rls',
    args: ['--database-url', '{live}'],
    cwd: 'no-migrations',
    message:
      'No exposed schemas are known, and rls-audit never assumes that nothing is exposed: pass flag `--schemas` (e.g. public), set rls.exposed-schemas in the repo config, add [api] schemas to supabase/config.toml, or set pgrst.db_schemas on role authenticator.',
  },
  {
    name: 'API role that does not exist',
    gate: 'rls',
    args: ['--database-url', '{live}', '--schemas', 'public', '--api-roles', 'anon,web_user'],
    message: 'API role "web_user" from flag `--api-roles` does not exist in the database; create it or set flag `--api-roles` to the roles your API uses.',
  },
  {
    name: 'allowlist entry without a reason',
    gate: 'rls',
    args: ['--config', '{dir}/allowlist-no-reason.yml'],
    message: '{dir}/allowlist-no-reason.yml: key `allowlist[0].reason` expected a reason (why this finding is acceptable), got nothing.',
  },
  {
    name: 'allowlist entry with an impossible expiry date',
    gate: 'rls',
    args: ['--config', '{dir}/allowlist-bad-date.yml'],
    message: '{dir}/allowlist-bad-date.yml: key `allowlist[0].expires` expected a date such as 2027-06-30, got the string "next spring".',
  },
  {
    name: 'both a live database and a migrations folder',
    gate: 'rls',
    args: ['--database-url', '{live}', '--migrations-dir', 'supabase/migrations'],
    message:
      'Inputs `database-url` and `migrations-dir` were both given; pass `database-url` to audit a live database, or `migrations-dir` to audit the migrations in a shadow database.',
  },

  // --- webhook-secret-check (#6)
  {
    name: 'database-url missing',
    gate: 'webhooks',
    env: { HMAC_SECRET: HMAC },
    message: 'Flag `--database-url` is required: Live database to check, read-only (postgresql://...).',
  },
  {
    name: 'secret setting that is not a custom setting name',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--secret-setting', 'webhook_secret'],
    env: { HMAC_SECRET: HMAC },
    message: 'Input `secret-setting` names "webhook_secret", which is not a custom setting name; use the form prefix.name, such as app.webhook_hmac_secret.',
  },
  {
    name: 'URL setting that is not a custom setting name',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--url-settings', 'app.hook_url,hook-url'],
    env: { HMAC_SECRET: HMAC },
    message: 'Input `url-settings` names "hook-url", which is not a custom setting name; use the form prefix.name, such as app.webhook_hmac_secret.',
  },
  {
    name: 'the secret environment variable is not set',
    gate: 'webhooks',
    args: ['--database-url', '{live}'],
    message:
      'Environment variable HMAC_SECRET (named by input `secret-env`) is not set; pass the deploy secret to the job (for example `env: HMAC_SECRET: ${{ secrets.HMAC_SECRET }}`) and name that variable.',
  },
  {
    name: 'the secret pasted where its variable name belongs (never echoed)',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--secret-env', PASTED_B64],
    message:
      'Input `secret-env` is not an environment variable name; give the name of the variable that holds the value (letters, digits and underscores, such as HMAC_SECRET), not the value itself.',
  },
  {
    name: 'a secret that looks like a variable name, pasted as one (never echoed)',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--secret-env', PASTED],
    message:
      'The environment variable named by input `secret-env` (a name that looks like a secret value, not shown) is not set; pass the deploy secret to the job (for example `env: HMAC_SECRET: ${{ secrets.HMAC_SECRET }}`) and name that variable.',
  },
  {
    name: 'a switch given a value',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--canary', 'true'],
    via: 'stderr',
    message: 'postgate: Flag `--canary` is a switch and takes no value, but got `true`; write `--canary` alone to turn it on, or leave it out.',
  },
  {
    name: 'unreachable database',
    gate: 'webhooks',
    args: ['--database-url', unreachable],
    env: { HMAC_SECRET: HMAC },
    message:
      'Could not connect to 127.0.0.1:{closed} from `database-url`: connection refused; check the host and port and that the server is running and accepts TCP connections.',
  },
  {
    name: 'canary URL that is not http(s)',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--canary', '--canary-url', 'ftp://hooks.example.com/in'],
    env: { HMAC_SECRET: HMAC },
    message: 'Input `canary-url` must be an http:// or https:// URL (got a URL with scheme "ftp:"); give the endpoint\'s full URL.',
  },
  {
    name: 'login role to check that does not exist',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--as-roles', 'postgres,edge_fn'],
    env: { HMAC_SECRET: HMAC },
    message: 'Input `as-roles` names role "edge_fn", which does not exist; list login roles of this database, such as postgres,authenticator.',
  },
  {
    name: 'deliveries window that is not a duration',
    gate: 'webhooks',
    args: ['--database-url', '{live}', '--deliveries-window', 'a day'],
    message: 'Flag `--deliveries-window` is "a day"; use a duration such as 90s, 15m, 24h or 7d.',
  },

  // --- restore-drill (#7)
  {
    name: 'backup file that does not exist',
    gate: 'drill',
    args: ['--dump-path', '{dir}/nightly.dump'],
    message: 'Input `dump-path` names {dir}/nightly.dump, which does not exist; fix the path.',
  },
  {
    name: 'backup file that is empty',
    gate: 'drill',
    args: ['--dump-path', '{dir}/empty.dump'],
    message: 'Input `dump-path` names {dir}/empty.dump, which is empty; point it at a backup file.',
  },
  {
    name: 'backup in a format postgate does not know',
    gate: 'drill',
    args: ['--dump-path', '{dir}/backup.bin'],
    message:
      'Input `dump-path` names {dir}/backup.bin, which is not a PostgreSQL backup postgate recognises (plain SQL, .sql.gz, custom, directory or tar archive, or supabase db dump files); check the path.',
  },
  {
    name: 'conflicting sources: a live database and a backup file',
    gate: 'drill',
    args: ['--source-database-url', '{live}', '--dump-path', '{dir}/nightly.dump'],
    message:
      'Inputs `source-database-url` and `dump-path` were both given; use `source-database-url` to take the backup now, or `dump-path` to restore an existing backup (with both, add `--write-manifest` to write a backup and its manifest).',
  },
  {
    name: 'nothing to restore',
    gate: 'drill',
    message: 'Nothing to restore: set `source-database-url` (take the backup now) or `dump-path` (an existing backup).',
  },
  {
    name: 'RTO target that is not a duration',
    gate: 'drill',
    args: ['--dump-path', '{dir}/empty.dump', '--rto-target', '15 minutes'],
    message: 'Flag `--rto-target` is "15 minutes"; use a duration such as 90s, 15m, 24h or 7d.',
  },
  {
    name: 'RPO target that is not a duration',
    gate: 'drill',
    args: ['--dump-path', '{dir}/empty.dump', '--rpo-target', '1w'],
    message: 'Flag `--rpo-target` is "1w"; use a duration such as 90s, 15m, 24h or 7d.',
  },
  { name: 'parallel jobs that are not a number', gate: 'drill', args: ['--jobs', 'four'], message: 'Flag `--jobs` is "four"; use a whole number.' },
  {
    name: 'checksum input on a live drill',
    gate: 'drill',
    args: ['--source-database-url', '{live}', '--checksum-path', '{dir}/nightly.dump.sha256'],
    message: 'Input `checksum-path` applies to `dump-path` drills; drop it, since a live drill computes everything from the source itself.',
  },
  {
    name: 'a sha256 that is not one',
    gate: 'drill',
    args: ['--dump-path', '{dir}/backup.sql', '--sha256', 'abc123'],
    message: 'Input `sha256` is not a SHA-256 (64 hexadecimal characters); paste the value from `sha256sum <file>`.',
  },
  {
    name: 'manifest that is not JSON',
    gate: 'drill',
    args: ['--dump-path', '{dir}/backup.sql', '--manifest', '{dir}/manifest.json'],
    message: 'Input `manifest` names {dir}/manifest.json, which is not valid JSON; write it again with `postgate drill --write-manifest`.',
  },
  {
    name: 'Supabase access token without a project ref (secret not echoed)',
    gate: 'drill',
    args: ['--dump-path', '{dir}/backup.sql', '--supabase-access-token', TOKEN],
    message: "Inputs `supabase-access-token` and `project-ref` go together (the RPO comes from the project's backups list); set both or neither.",
  },
  {
    name: 'a project ref that is not one, caught before the restore',
    gate: 'drill',
    args: ['--dump-path', '{dir}/backup.sql', '--supabase-access-token', TOKEN, '--project-ref', 'my project'],
    message:
      'Input `project-ref` is "my project", which is not a Supabase project ref; use the id from the project URL (https://supabase.com/dashboard/project/<ref>).',
  },
  {
    name: 'write-manifest without a source',
    gate: 'drill',
    args: ['--dump-path', '{dir}/new.dump', '--write-manifest', '{dir}/new.manifest.json'],
    message: '`--write-manifest` writes a new backup and its manifest: give `--source-database-url` (the database) and `--dump-path` (where the backup goes).',
  },

  // --- the same validation through the committed action bundles
  {
    name: 'action: unknown shadow value',
    gate: 'drift',
    via: 'action',
    inputs: { shadow: 'dockr' },
    message: 'Input `shadow` is "dockr"; use one of auto, local, docker, url.',
  },
  {
    name: 'action: the secret environment variable is not set',
    gate: 'webhooks',
    via: 'action',
    inputs: { 'database-url': '{live}' },
    message:
      'Environment variable HMAC_SECRET (named by input `secret-env`) is not set; pass the deploy secret to the job (for example `env: HMAC_SECRET: ${{ secrets.HMAC_SECRET }}`) and name that variable.',
  },
  {
    name: 'the same database on both sides',
    gate: 'parity',
    args: ['--source-database-url', unreachable, '--target-database-url', unreachable],
    message:
      "Inputs `source-database-url` and `target-database-url` point at the same database (127.0.0.1:{closed}/app); give the target the new database's URL.",
  },
  {
    name: 'unreachable target (the side is named)',
    gate: 'parity',
    args: ['--source-database-url', '{live}', '--target-database-url', unreachable],
    message:
      'Could not connect to 127.0.0.1:{closed} from `target-database-url`: connection refused; check the host and port and that the server is running and accepts TCP connections.',
  },
  {
    name: 'neither side reachable (both are named)',
    gate: 'parity',
    args: ['--source-database-url', unreachable, '--target-database-url', unreachable.replace(/\/app$/, '/app_new')],
    message:
      'Could not connect to 127.0.0.1:{closed} from `source-database-url`: connection refused; check the host and port and that the server is running and accepts TCP connections; and could not connect to 127.0.0.1:{closed} from `target-database-url`: connection refused; check the host and port and that the server is running and accepts TCP connections.',
  },
  {
    name: 'a keys entry without its columns',
    gate: 'parity',
    args: ['--source-database-url', '{live}', '--target-database-url', '{bare}', '--keys', 'public.notes'],
    message: 'Input `keys` has the entry "public.notes" without a colon; write it as public.memberships: user_id team_id.',
  },
  {
    name: 'action: conflicting drill sources',
    gate: 'drill',
    via: 'action',
    inputs: { 'source-database-url': '{live}', 'dump-path': '{dir}/nightly.dump' },
    message:
      'Inputs `source-database-url` and `dump-path` were both given; use `source-database-url` to take the backup now, or `dump-path` to restore an existing backup (with both, add `--write-manifest` to write a backup and its manifest).',
  },
];

let cluster: Cluster;
let parent: string;
/** Why Docker is unavailable here, or undefined when a container runtime answers. */
let noDocker: string | undefined;
let dir: string;
let tokens: Record<string, string>;

function fill(text: string): string {
  return text.replace(/\{(dir|app|live|bare|port|closed)\}/g, (_, name: string) => tokens[name]!);
}

/** The fixture files the cases point at, written fresh (some cannot live in git: empty folders, bad bytes). */
function writeFixtures(root: string): void {
  const put = (file: string, content: string | Buffer) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  };
  mkdirSync(path.join(root, 'empty-bin'), { recursive: true });
  mkdirSync(path.join(root, 'empty'), { recursive: true });
  mkdirSync(path.join(root, 'no-migrations'), { recursive: true });
  put('broken.yml', 'rls:\n  exposed-schemas: public: api\n');
  put('wrong-type.yml', 'rls:\n  exposed-schemas: 42\n');
  put('typo.yml', 'rls:\n  exposed-schema: [public]\n');
  put('liquibase.yml', 'project:\n  migrations-format: liquibase\n');
  put('allowlist-no-reason.yml', 'allowlist:\n  - rule: rls_disabled_exposed\n    object: public.notes\n');
  put(
    'allowlist-bad-date.yml',
    'allowlist:\n  - rule: rls_disabled_exposed\n    object: public.notes\n    reason: read-only reference data\n    expires: next spring\n',
  );
  put(
    'latin1/supabase/migrations/20250101000000_init.sql',
    Buffer.concat([Buffer.from('create table cafes (id int primary key);\n-- caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]),
  );
  put('not-a-checkout/supabase/migrations/20250101000000_init.sql', 'create table a (id int);\n');
  put('empty.dump', '');
  put('backup.bin', Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x07, 0x03, ...Array.from({ length: 200 }, (_, i) => i % 7)]));
  put('backup.sql', '--\n-- PostgreSQL database dump\n--\ncreate table t (id int);\n');
  put('manifest.json', '{ "version": 1, ');
  put('nightly.dump.sha256', `${'0'.repeat(64)}  nightly.dump\n`);
}

beforeAll(async () => {
  cluster = await startTestCluster();
  parent = scratchDir(os.tmpdir(), 'bad-inputs');
  dir = path.join(parent, 'fixtures');
  writeFixtures(dir);
  await sql(cluster.url, `create role anon nologin; create role authenticated nologin; create role app login password '${DB_PASSWORD.replace(/'/g, "''")}';`);
  const admin = await cluster.createDatabase('live');
  await sql(
    admin,
    `create table public.notes (id bigint primary key, body text);
     create schema supabase_migrations;
     create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
     insert into supabase_migrations.schema_migrations (version, name) values ('20250101000000', 'notes');
     grant select on all tables in schema public, supabase_migrations to app;
     grant usage on schema supabase_migrations to app;`,
  );
  const bare = await cluster.createDatabase('bare');
  const asApp = (url: string) => {
    const parsed = new URL(url);
    parsed.username = 'app';
    parsed.password = encodeURIComponent(DB_PASSWORD);
    return parsed.toString();
  };
  noDocker = await dockerUnavailableReason();
  tokens = { dir, app: DRIFT_APP, live: asApp(admin), bare: asApp(bare), port: new URL(cluster.url).port, closed: String(await freePort()) };
});

afterAll(async () => {
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

const DRIFT_APP = path.join(ROOT, 'test/fixtures/faults/drift-app');

interface Outcome {
  code: number | null;
  message: string | undefined;
  /** Every channel the case wrote to, for the secret and stack-trace checks. */
  text: string;
  tmpdir: string;
}

async function runCase(c: Case): Promise<Outcome> {
  const tmpdir = scratchDir(parent, 'case');
  const env = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)]));
  const cwd = c.cwd ? path.join(dir, c.cwd) : DRIFT_APP;
  if (c.via === 'action') {
    const run = await runActionBundle({
      gate: c.gate as GateId,
      event: 'workflow_dispatch',
      parent: tmpdir,
      workspace: cwd,
      inputs: Object.fromEntries(Object.entries(c.inputs ?? {}).map(([k, v]) => [k, fill(v)])),
      env: { ...env, TMPDIR: tmpdir },
      post: false,
    });
    const prefix = `::error::${GATES[c.gate as GateId].title} could not run: `;
    const line = run.stdout.split('\n').find((l) => l.startsWith(prefix));
    const shown = [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)]
      .join('\n')
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'));
    expect(run.outputs.status).toBe('error');
    return { code: run.code, message: line?.slice(prefix.length), text: shown.join('\n'), tmpdir };
  }
  const args = [
    ...(c.gate === 'none' ? [] : [GATES[c.gate].command]),
    ...(c.args ?? []).map(fill),
    ...(c.via === 'stderr' || c.gate === 'none' ? [] : ['--format', 'json']),
  ];
  const run = await runCli(args, { tmpdir, cwd, env });
  if (c.via === 'stderr') {
    // a usage problem: its sentence, then the usage line
    const [message, usage, ...more] = run.stderr.trim().split('\n');
    expect(usage).toMatch(/^Usage: postgate (<command>|\S+) \[flags\] \(`postgate (\S+ )?--help` lists (them|the commands)\)$/);
    expect(more).toEqual([]);
    return { code: run.code, message, text: printed(run), tmpdir };
  }
  expect(run.result?.status, printed(run)).toBe('error');
  expect(run.stderr, 'nothing on stderr besides the report').toBe('');
  return { code: run.code, message: run.result?.error, text: printed(run), tmpdir };
}

describe.concurrent('bad inputs: exit code and the exact sentence', () => {
  it('covers at least 30 cases across all four gates', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const gate of ['drift', 'rls', 'webhooks', 'drill'] as const) expect(cases.filter((c) => c.gate === gate).length).toBeGreaterThanOrEqual(5);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.for(cases.map((c) => [`${c.gate === 'none' ? 'cli' : c.gate}${c.via === 'action' ? ' (action)' : ''}: ${c.name}`, c] as const))(
    '%s',
    async ([, c], context) => {
      if (c.needs === 'no docker' && !noDocker) {
        context.skip('a container runtime answers on this machine, so "no binaries and no Docker" cannot be produced');
        return;
      }
      const outcome = await runCase(c);
      expect(outcome.code, outcome.text).toBe(c.code ?? 2);
      expect(outcome.message).toBe(fill(c.message));
      expect(sentenceProblems(outcome.message?.replace(/^postgate: /, ''))).toEqual([]);
      expect(outcome.text).not.toMatch(STACK_TRACE);
      for (const secret of SECRETS) expect(outcome.text).not.toContain(secret);
      expect(await leftovers(outcome.tmpdir)).toEqual(NOTHING_LEFT);
    },
  );
});

describe('a config test with invalid SQL is that test failing, not a crash', () => {
  it('rls-audit reports the test as failed with the server message (exit 1)', async () => {
    const project = mkdtempSync(path.join(parent, 'rls-tests-'));
    chmodSync(project, 0o755);
    mkdirSync(path.join(project, 'supabase/migrations'), { recursive: true });
    writeFileSync(path.join(project, 'supabase/config.toml'), 'project_id = "bad-inputs"\n[api]\nschemas = ["public"]\n');
    writeFileSync(
      path.join(project, 'supabase/migrations/20250101000000_notes.sql'),
      'create table public.notes (id bigint primary key, owner uuid not null default auth.uid(), body text);\nalter table public.notes enable row level security;\ncreate policy own on public.notes for select to authenticated using (owner = auth.uid());\n',
    );
    mkdirSync(path.join(project, '.github'));
    writeFileSync(
      path.join(project, '.github/postgate.yml'),
      'rls:\n  tests:\n    - name: anon reads nothing\n      as: { role: anon }\n      sql: selec * from public.notes\n      expect: { rows: 0 }\n',
    );
    const tmpdir = scratchDir(parent, 'case');
    const run = await runCli(['rls', '--format', 'json'], { tmpdir, cwd: project });
    expect(run.code, printed(run)).toBe(1);
    const failed = run.result?.findings.find((f) => f.rule === 'rls_test_failed');
    expect(failed?.message).toBe('RLS test "anon reads nothing" (as anon) expected 0 row(s) but got error 42601: syntax error at or near "selec".');
    expect(sentenceProblems(failed?.message)).toEqual([]);
    expect(printed(run)).not.toMatch(STACK_TRACE);
    expect(await leftovers(tmpdir)).toEqual(NOTHING_LEFT);
    expect(readFileSync(path.join(project, '.github/postgate.yml'), 'utf8')).toContain('selec');
  });
});
