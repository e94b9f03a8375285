/**
 * drift-gate end to end on real PostgreSQL: PR mode (apply from scratch with file:line
 * errors; merged history against a base branch in real git repositories, shallow
 * clones included), deploy mode on examples/supabase-app (zero drift, grants included),
 * and the CLI with its bad inputs (one sentence, exit 2).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const APP = path.join(ROOT, 'examples/supabase-app');
const FIXTURES = path.join(ROOT, 'test/fixtures/migrations');
const runFile = promisify(execFile);

let cluster: Cluster;
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function gate(cwd: string, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<GateResult> {
  const all: Record<string, string> = { shadow: 'url', 'shadow-database-url': cluster.url, ...inputs };
  const options = parseInputs(DRIFT_INPUTS, (name) => all[name], 'cli');
  return run(options, createContext({ cwd, env }));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
}

describe('PR mode', () => {
  it('applies the migrations from scratch and reports a failing statement at its file and line', async () => {
    const root = temp('drift-pr-');
    cpSync(path.join(FIXTURES, 'plain'), root, { recursive: true });
    writeFileSync(path.join(root, 'sql/004_broken.sql'), 'create table ok (id int);\n\ncreate table broken (\n  id int,\n  owner bigintt\n);\n');
    const result = await gate(root, { 'migrations-dir': 'sql' });
    expect(result.status).toBe('fail');
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.location).toEqual({ file: 'sql/004_broken.sql', line: 5 });
    expect(failure.message).toBe('sql/004_broken.sql:5 fails on a fresh database: type "bigintt" does not exist.');
    expect(failure.detail).toMatch(/SQLSTATE 42704/);

    // An error PostgreSQL gives no position for points at the start of the failing statement.
    writeFileSync(
      path.join(root, 'sql/004_broken.sql'),
      'create table ok (id int);\n\ncreate table broken (\n  id int,\n  owner bigint references nowhere (id)\n);\n',
    );
    const again = await gate(root, { 'migrations-dir': 'sql' });
    expect(again.findings.find((f) => f.rule === 'migration_apply_failed')!.location).toEqual({ file: 'sql/004_broken.sql', line: 3 });
  });

  it('maps an error inside a PL/pgSQL body to the line of the body', async () => {
    const root = temp('drift-plpgsql-');
    mkdirSync(path.join(root, 'sql'));
    writeFileSync(
      path.join(root, 'sql/001_fn.sql'),
      'create table t (id int);\n\ncreate function f() returns int\nlanguage plpgsql as $$\nbegin\n  retrun 1;\nend\n$$;\n',
    );
    const result = await gate(root, { 'migrations-dir': 'sql' });
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.message).toMatch(/syntax error at or near "retrun"/);
    expect(failure.location).toEqual({ file: 'sql/001_fn.sql', line: 6 });
  });

  it('runs statements that refuse a transaction one by one (CREATE INDEX CONCURRENTLY)', async () => {
    const root = temp('drift-concurrently-');
    mkdirSync(path.join(root, 'sql'));
    writeFileSync(path.join(root, 'sql/001_t.sql'), 'create table t (id int);\ncreate index concurrently t_id on t (id);\n');
    const result = await gate(root, { 'migrations-dir': 'sql' });
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
  });

  it('reports files the tool would skip', async () => {
    const root = temp('drift-names-');
    cpSync(path.join(FIXTURES, 'supabase'), root, { recursive: true });
    writeFileSync(path.join(root, 'supabase/migrations/fix.sql'), 'select 1;');
    const result = await gate(root, { 'migrations-dir': 'supabase/migrations' });
    expect(result.findings.map((f) => `${f.rule} ${f.object.name}`)).toContain('migration_name_invalid supabase/migrations/fix.sql');
  });
});

describe('merged history against base-ref', () => {
  /** The supabase fixture committed on main, and a feature branch that makes `change` to it. */
  function repoWithFeature(change: (repo: string) => void): string {
    const repo = temp('drift-git-');
    git(repo, 'init', '-q', '-b', 'main');
    cpSync(path.join(FIXTURES, 'supabase'), repo, { recursive: true });
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'base');
    git(repo, 'checkout', '-q', '-b', 'feature');
    change(repo);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'feature');
    return repo;
  }

  const makeRepo = () =>
    repoWithFeature((repo) => {
      const dir = path.join(repo, 'supabase/migrations');
      writeFileSync(
        path.join(dir, '20240101000001_users.sql'),
        'create table users (\n  id bigint primary key,\n  email text not null unique,\n  name text\n);\n',
      );
      renameSync(path.join(dir, '20240101000002_posts.sql'), path.join(dir, '20240301000000_posts.sql'));
      writeFileSync(path.join(dir, '20231201000000_old_branch.sql'), 'create table old_branch (id int);\n');
      writeFileSync(path.join(dir, '20240401000000_new.sql'), 'create table fresh (id int);\n');
    });

  const expected = [
    'merged_migration_edited supabase/migrations/20240101000001_users.sql line 3',
    'merged_migration_removed supabase/migrations/20240101000002_posts.sql line 1',
    'migration_version_not_newer supabase/migrations/20231201000000_old_branch.sql line 1',
  ];
  const summary = (result: GateResult) =>
    result.findings
      .filter((f) => f.rule.startsWith('merged_') || f.rule === 'migration_version_not_newer')
      .map((f) => `${f.rule} ${f.object.name} line ${f.location?.line}`)
      .sort();

  it('reports edited, renamed and not-newer migrations', async () => {
    const repo = makeRepo();
    const result = await gate(repo, { 'migrations-dir': 'supabase/migrations', 'base-ref': 'main' });
    expect(summary(result)).toEqual(expected);
    expect(result.findings.find((f) => f.rule === 'merged_migration_removed')!.message).toMatch(
      /renames it to supabase\/migrations\/20240301000000_posts\.sql/,
    );
  });

  it('reports a merged migration the pull request deletes', async () => {
    const repo = repoWithFeature((r) => git(r, 'rm', '-q', 'supabase/migrations/20240101000003_posts_index.sql'));
    const result = await gate(repo, { 'migrations-dir': 'supabase/migrations', 'base-ref': 'main' });
    expect(result.status).toBe('fail');
    expect(summary(result)).toEqual(['merged_migration_removed supabase/migrations/20240101000003_posts_index.sql line 1']);
    expect(result.findings.find((f) => f.rule === 'merged_migration_removed')!.message).toMatch(
      /^supabase\/migrations\/20240101000003_posts_index\.sql exists on \S*main\S* but the pull request deletes it; databases that applied it will report a migration missing from the repository\.$/,
    );
  });

  it('fetches the base branch in a shallow clone (GITHUB_BASE_REF)', async () => {
    const origin = makeRepo();
    const clone = temp('drift-shallow-');
    git(clone, 'clone', '-q', '--depth', '1', '--branch', 'feature', `file://${origin}`, 'repo');
    const repo = path.join(clone, 'repo');
    expect(() => git(repo, 'rev-parse', '--verify', '--quiet', 'origin/main')).toThrow();
    const result = await gate(repo, { 'migrations-dir': 'supabase/migrations' }, { GITHUB_BASE_REF: 'main' });
    expect(summary(result)).toEqual(expected);
  });

  const SKIPPED_NOTICE =
    "No base branch is known, so the checks against it (merged_migration_edited, merged_migration_removed, migration_version_not_newer) did not run; set `--base-ref` to the pull request's base branch.";

  it('says which checks it skipped, and the flag that runs them, when no base branch is known', async () => {
    const repo = makeRepo();
    const result = await gate(repo, { 'migrations-dir': 'supabase/migrations' }, { GITHUB_BASE_REF: '' });
    expect(summary(result)).toEqual([]);
    expect(result.details).toMatchObject({ mode: 'pr' });
    expect(result.findings.filter((f) => f.rule === 'base_checks_skipped').map((f) => [f.severity, f.object, f.message])).toEqual([
      ['notice', { kind: 'migrations', name: 'supabase/migrations' }, SKIPPED_NOTICE],
    ]);

    // The run knows the base branch, but there is no checkout to read it from.
    const copy = temp('drift-no-git-');
    cpSync(path.join(FIXTURES, 'supabase'), copy, { recursive: true });
    const outside = await gate(copy, { 'migrations-dir': 'supabase/migrations' }, { GITHUB_BASE_REF: 'main' });
    expect(outside.status).toBe('pass');
    expect(outside.findings.map((f) => [f.rule, f.severity, f.message])).toEqual([
      [
        'base_checks_skipped',
        'notice',
        "The pull request's base branch is main, but the working directory is not a git checkout, so the checks against it (merged_migration_edited, merged_migration_removed, migration_version_not_newer) did not run; run the gate in a checkout of the repository (actions/checkout).",
      ],
    ]);
  });

  it('reads the base branch from the pull request event when GITHUB_BASE_REF is empty', async () => {
    const repo = makeRepo();
    const event = (payload: unknown) => {
      const file = path.join(temp('drift-event-'), 'event.json');
      writeFileSync(file, JSON.stringify(payload));
      return file;
    };
    const pullRequest = event({ pull_request: { number: 7, head: { sha: 'a'.repeat(40) }, base: { ref: 'main', sha: 'b'.repeat(40) } } });
    const result = await gate(
      repo,
      { 'migrations-dir': 'supabase/migrations' },
      { GITHUB_BASE_REF: '', GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: pullRequest },
    );
    expect(summary(result)).toEqual(expected);
    expect(result.findings.map((f) => f.rule)).not.toContain('base_checks_skipped');
    expect(result.details).toMatchObject({ mode: 'pr', baseRef: expect.stringMatching(/^main \([0-9a-f]{12}\)$/) });

    const mergeQueue = event({ merge_group: { head_sha: 'a'.repeat(40), base_ref: 'refs/heads/main' } });
    const queued = await gate(repo, { 'migrations-dir': 'supabase/migrations' }, { GITHUB_EVENT_NAME: 'merge_group', GITHUB_EVENT_PATH: mergeQueue });
    expect(summary(queued)).toEqual(expected);
  });

  it('asks for fetch-depth: 0 in one sentence (exit 2) when a shallow checkout cannot get the base commit', async () => {
    const origin = makeRepo();
    const clone = temp('drift-shallow-gone-');
    git(clone, 'clone', '-q', '--depth', '1', '--branch', 'feature', `file://${origin}`, 'repo');
    const repo = path.join(clone, 'repo');
    // the remote cannot be fetched from (as with `persist-credentials: false`, or an unreachable origin)
    git(repo, 'remote', 'set-url', 'origin', `file://${path.join(clone, 'gone')}`);
    const env = { ...process.env, NO_COLOR: '1', GITHUB_BASE_REF: 'main', GITHUB_EVENT_PATH: '' };
    const args = ['drift', '--migrations-dir', 'supabase/migrations', '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json'];
    const run = await runFile(process.execPath, [path.join(ROOT, 'scripts/postgate.ts'), ...args], { cwd: repo, env }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(run.code).toBe(2);
    const result = JSON.parse(run.stdout) as GateResult;
    expect(result.error).toBe(
      'This checkout is shallow and lacks the base branch "main", which could not be fetched from origin either; set `fetch-depth: 0` on actions/checkout so that the base branch is in the checkout.',
    );
  });

  it('says in one sentence when the base branch does not exist', async () => {
    const repo = makeRepo();
    const result = await gate(repo, { 'migrations-dir': 'supabase/migrations', 'base-ref': 'no-such-branch' });
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      'Input `base-ref` is "no-such-branch", which is neither in this checkout nor fetchable from origin; check the branch name, or check out with `fetch-depth: 0`.',
    );
  });
});

describe('deploy mode on examples/supabase-app', () => {
  it('finds zero drift on a database migrated like `supabase db push` (grants, policies, storage policies included)', async () => {
    const url = await cluster.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await applySupabaseBaseline(client);
    const source = readMigrations('supabase/migrations', { cwd: APP });
    await WRITERS.supabase(client, source.migrations);
    await client.end();
    const result = await gate(APP, { 'database-url': url });
    expect(result.error).toBeUndefined();
    // a 2025 project: its Data API grants come from the legacy default privileges, which a new environment lacks (issue 16)
    const legacy = (r: GateResult) => r.findings.filter((f) => f.rule === 'grant_only_from_legacy_default');
    expect(legacy(result).map((f) => f.object.name)).toEqual(['public']);
    expect(legacy(result)[0]!.remediation).toContain('grant all on table "public"."trips" to "anon", "authenticated", "service_role";');
    // the migrations revoke anon's grants on the API keys: not captured
    expect(legacy(result)[0]!.remediation).toContain('grant all on table "public"."api_keys" to "authenticated", "service_role";');
    const drift = (r: GateResult) => r.findings.filter((f) => f.rule !== 'grant_only_from_legacy_default');
    expect(drift(result)).toEqual([]);
    expect(result.metrics.differences).toBe(0);
    expect(result.metrics.catalog_objects).toBeGreaterThan(100);
    expect(result.details?.profile).toBe('supabase');
    expect(result.status).toBe('pass');

    // A dashboard hotfix: a dropped policy and an added column, reported on the migration that made the policy.
    const live = new pg.Client({ connectionString: url });
    await live.connect();
    await live.query('drop policy "Members can view their teams" on public.teams; alter table public.trips add column hotfix text');
    await live.end();
    const drifted = await gate(APP, { 'database-url': url });
    expect(drifted.status).toBe('fail');
    expect(drift(drifted).map((f) => [f.rule, f.object.kind, f.object.name, f.location?.file])).toEqual([
      ['schema_drift_unexpected', 'column', 'trips.hotfix', undefined],
      ['schema_drift_missing', 'policy', 'teams.Members can view their teams', 'supabase/migrations/20250111101000_team_helpers.sql'],
    ]);
    const missing = drift(drifted)[1]!;
    expect(missing.remediation).toContain('create policy "Members can view their teams" on "public"."teams"');
    expect(missing.remediation).toContain('drop policy "Members can view their teams" on "public"."teams";');

    // the schema inputs narrow the comparison, through the gate
    const onlyPublic = await gate(APP, { 'database-url': url, schemas: 'public' });
    expect(drift(onlyPublic).map((f) => f.rule)).toEqual(['schema_drift_unexpected', 'schema_drift_missing']);
    const withoutPublic = await gate(APP, { 'database-url': url, 'exclude-schemas': 'public' });
    expect(withoutPublic.error).toBeUndefined();
    expect(withoutPublic.findings).toEqual([]);
    expect(withoutPublic.status).toBe('pass');
  });
});

describe('deploy in flight', () => {
  it('warns when another session is writing the history table', async () => {
    const root = temp('drift-inflight-');
    cpSync(path.join(FIXTURES, 'dbmate'), root, { recursive: true });
    const source = readMigrations('db/migrations', { cwd: root });
    const url = await cluster.createDatabase();
    const deployer = new pg.Client({ connectionString: url });
    await deployer.connect();
    try {
      await WRITERS.dbmate(deployer, source.migrations);
      await deployer.query("begin; create table half_done (id int); insert into schema_migrations (version) values ('20240101000004')");
      const result = await gate(root, { 'database-url': url, 'migrations-dir': 'db/migrations' });
      expect(result.findings.map((f) => f.rule)).toEqual(['migration_in_progress']);
      expect(result.metrics.differences).toBe(0);
    } finally {
      await deployer.query('rollback');
      await deployer.end();
    }
  });
});

describe('CLI', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await runFile(process.execPath, [path.join(ROOT, 'scripts/postgate.ts'), 'drift', ...args], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('prints the GateResult as JSON', async () => {
    const { code, stdout } = await cli([
      '--migrations-dir',
      path.join(FIXTURES, 'plain/sql'),
      '--shadow',
      'url',
      '--shadow-database-url',
      cluster.url,
      '--format',
      'json',
    ]);
    const result = JSON.parse(stdout) as GateResult;
    // run in this repository's checkout, which has no base branch given: the notice says what did not run
    expect(result).toMatchObject({
      gate: 'drift',
      status: 'pass',
      findings: [{ rule: 'base_checks_skipped', severity: 'notice' }],
      details: { mode: 'pr', tool: 'plain' },
    });
    expect(code).toBe(0);
  });

  it('prints findings with their rule and exits 1 when the gate fails', async () => {
    const root = temp('drift-cli-');
    cpSync(path.join(FIXTURES, 'plain/sql'), root, { recursive: true });
    writeFileSync(path.join(root, '004_bad.sql'), 'alter table nope add column x int;\n');
    const { code, stdout } = await cli(['--migrations-dir', root, '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json']);
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as GateResult).findings[0]).toMatchObject({ rule: 'migration_apply_failed', location: { line: 1 } });
  });

  it('reports two files with one version as a finding naming both and exits 1, not 2', async () => {
    const root = temp('drift-cli-dup-');
    writeFileSync(path.join(root, '001_a.sql'), 'create table a (id int);\n');
    writeFileSync(path.join(root, '1_b.sql'), 'create table b (id int);\n');
    writeFileSync(path.join(root, '2_c.sql'), 'create table c (id int);\n');
    const { code, stdout } = await cli(['--migrations-dir', root, '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json']);
    const result = JSON.parse(stdout) as GateResult;
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('fail');
    expect(result.findings.filter((f) => f.rule !== 'base_checks_skipped').map((f) => [f.rule, f.severity, f.object])).toEqual([
      ['migration_version_duplicate', 'error', { kind: 'migration_version', name: '1' }],
    ]);
    expect(result.findings[0]!.message).toMatch(/^Migration files \S*001_a\.sql and \S*1_b\.sql both have version 1, /);
    expect(result.metrics).toMatchObject({ migrations: 2, applied: 2 });
    expect(code).toBe(1);
  });

  describe('bad inputs: one sentence, exit 2', () => {
    let noHistoryUrl: string;
    let restrictedUrl: string;
    const dirs: Record<string, string> = {};

    beforeAll(async () => {
      const root = temp('drift-bad-');
      for (const name of ['empty', 'latin1', 'dup']) mkdirSync(path.join(root, name));
      writeFileSync(path.join(root, 'latin1/001_bad.sql'), Buffer.from([0x73, 0x65, 0x6c, 0xe9, 0x3b]));
      writeFileSync(path.join(root, 'dup/001_a.sql'), 'select 1;');
      writeFileSync(path.join(root, 'dup/1_b.sql'), 'select 2;');
      Object.assign(dirs, { root, empty: path.join(root, 'empty'), latin1: path.join(root, 'latin1'), dup: path.join(root, 'dup') });

      noHistoryUrl = await cluster.createDatabase();
      restrictedUrl = await cluster.createDatabase();
      const client = new pg.Client({ connectionString: restrictedUrl });
      await client.connect();
      await client.query(
        `do $$ begin if not exists (select 1 from pg_roles where rolname = 'drift_limited') then create role drift_limited login password 'limited-pass'; end if; end $$`,
      );
      await client.query('create table schema_migrations (version varchar(255) primary key); grant select on schema_migrations to drift_limited');
      await client.query('revoke select on pg_catalog.pg_policy from public');
      await client.end();
      const limited = new URL(restrictedUrl);
      limited.username = 'drift_limited';
      limited.password = 'limited-pass';
      restrictedUrl = limited.toString();
    });

    const cases: Array<[string, () => string[], RegExp]> = [
      [
        'missing migrations dir',
        () => ['--migrations-dir', path.join(dirs.root!, 'nope')],
        /^Input `migrations-dir` is .*nope, which does not exist; point it at the folder holding your migrations\.$/,
      ],
      [
        'empty migrations dir',
        () => ['--migrations-dir', dirs.empty!],
        /^Input `migrations-dir` is .*empty, which holds no numbered \.sql migrations; point it at the folder holding your migrations or set `migrations-format`\.$/,
      ],
      [
        'non-UTF-8 file',
        () => ['--migrations-dir', dirs.latin1!],
        /^Migration file .*001_bad\.sql is not valid UTF-8 \(first bad byte on line 1\); re-save it as UTF-8\.$/,
      ],
      [
        'unknown format',
        () => ['--migrations-dir', dirs.dup!, '--migrations-format', 'liquibase'],
        /^Flag `--migrations-format` is "liquibase"; use one of auto, supabase, sqlx, prisma, drizzle, flyway, dbmate, golang-migrate, node-pg-migrate, graphile-migrate, goose, plain\.$/,
      ],
      [
        'no history table',
        () => ['--migrations-dir', path.join(FIXTURES, 'sqlx/migrations'), '--database-url', noHistoryUrl],
        /^The database at `database-url` has no migration history table \(looked for: supabase_migrations\.schema_migrations \(supabase\), _sqlx_migrations \(sqlx\), .*\); point `database-url` at the migrated database or set `migrations-format`\.$/,
      ],
      [
        'catalog permission denied',
        () => ['--migrations-dir', path.join(FIXTURES, 'dbmate/db/migrations'), '--database-url', restrictedUrl],
        /^Role "drift_limited" cannot read the system catalog \(permission denied for table pg_policy\); grant it SELECT on that catalog table/,
      ],
      [
        'transaction-mode pooler',
        () => [
          '--migrations-dir',
          path.join(FIXTURES, 'plain/sql'),
          '--database-url',
          'postgresql://postgres.abc:secret-pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres',
        ],
        /^Input `database-url` points at a transaction-mode connection pooler \(aws-0-eu-central-1\.pooler\.supabase\.com:6543\), which cannot hold the session postgate needs; use the session pooler on port 5432 or the direct database URL\.$/,
      ],
    ];
    it.each(cases)('%s', async (_name, args, message) => {
      const { code, stdout, stderr } = await cli([...args(), '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json']);
      const result = JSON.parse(stdout) as GateResult;
      expect(result.status).toBe('error');
      expect(result.error).toMatch(message);
      expect(result.error!.split(/\.\s/).length, 'one sentence').toBe(1);
      expect(stdout + stderr).not.toMatch(/secret-pw|limited-pass|\n\s+at /);
      expect(code).toBe(2);
    });
  });
});
