/**
 * Hostile inputs on real PostgreSQL (issue 13, items 4, 8 and 11):
 * - drift-gate's schema filter: a filter that names a schema neither database has, or that
 *   excludes everything, is a bad input (exit 2), not a pass that compared nothing;
 * - database URLs with a bare `%`: one sentence naming the input as it was given;
 * - output paths outside the workspace and the temporary directories: refused, nothing written;
 * - migrations folders: links out of the repository are not followed (a finding names them,
 *   the target's content reaches no output), byte order marks as each tool treats them.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs, type Surface } from '../../src/config/input-spec.ts';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run as runDrift } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';
import { suiteCacheEnv } from '../support/runner.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/migrations');
const CLI = path.join(ROOT, 'scripts/postgate.ts');
const runFile = promisify(execFile);
const SECRET = 'RUNNER-ONLY-SECRET-5f3a9c';

let cluster: Cluster;
let base: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  base = mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
});
afterAll(async () => {
  await cluster?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  result?: GateResult;
}

/** The CLI from source, with a clean environment (no GITHUB_*, RUNNER_* or POSTGATE_* of the caller's). */
async function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...suiteCacheEnv(),
    TMPDIR: os.tmpdir(),
    NO_COLOR: '1',
    ...options.env,
  };
  let out: { code: number; stdout: string; stderr: string };
  try {
    const { stdout, stderr } = await runFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env });
    out = { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    out = { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
  try {
    return { ...out, result: JSON.parse(out.stdout) as GateResult };
  } catch {
    return out;
  }
}

function expectOneSentence(text: string | undefined): void {
  expect(text).toBeTruthy();
  expect(text!.split(/\.\s/).length, text).toBe(1);
  expect(text).not.toMatch(/internal error|URI malformed|\n\s+at /);
}

describe('drift-gate: a schema filter that matches nothing is a bad input', () => {
  let project: string;
  let url: string;
  const shadow = () => ['--shadow', 'url', '--shadow-database-url', cluster.url];

  beforeAll(async () => {
    project = path.join(base, 'dbmate-project');
    cpSync(path.join(FIXTURES, 'dbmate'), project, { recursive: true });
    url = await cluster.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await WRITERS.dbmate(client, readMigrations('db/migrations', { cwd: project }).migrations);
    // a hotfix made by hand in production
    await client.query('alter table public.users add column hotfix text');
    await client.end();
  });

  async function drift(inputs: Record<string, string>, surface: Surface = 'cli', config = ''): Promise<GateResult> {
    const all: Record<string, string> = {
      shadow: 'url',
      'shadow-database-url': cluster.url,
      'database-url': url,
      'migrations-dir': 'db/migrations',
      ...inputs,
    };
    return runDrift(
      parseInputs(DRIFT_INPUTS, (name) => all[name], surface),
      createContext({ cwd: project, env: {}, config: parseRepoConfig(config, 'postgate.yml') }),
    );
  }

  it('without a filter the hotfix fails the gate', async () => {
    const result = await drift({});
    expect(result.status).toBe('fail');
    expect(result.findings.map((f) => [f.rule, f.object.name])).toContainEqual(['schema_drift_unexpected', 'users.hotfix']);
  });

  it('--schemas nosuchschema / Public: exit 2, one sentence naming the flag and listing the schemas there are', async () => {
    const missing = await cli(
      ['drift', '--database-url', url, '--migrations-dir', 'db/migrations', '--schemas', 'nosuchschema', ...shadow(), '--format', 'json'],
      { cwd: project },
    );
    expect(missing.code).toBe(2);
    expect(missing.result?.status).toBe('error');
    expect(missing.result?.error).toBe(
      'Flag `--schemas` names schema "nosuchschema", which neither the live database nor the shadow database built from the migrations has; the schemas there are public.',
    );
    expectOneSentence(missing.result?.error);

    const cased = await cli(['drift', '--migrations-dir', 'db/migrations', '--schemas', 'Public', ...shadow(), '--format', 'json'], {
      cwd: project,
      env: { POSTGATE_DATABASE_URL: url },
    });
    expect(cased.code).toBe(2);
    expect(cased.result?.error).toBe(
      'Flag `--schemas` names schema "Public", which neither the live database nor the shadow database built from the migrations has (schema names are case-sensitive: "public", not "Public"); the schemas there are public.',
    );
    // from the environment, it is named as such
    const fromEnv = await cli(['drift', '--migrations-dir', 'db/migrations', ...shadow(), '--format', 'json'], {
      cwd: project,
      env: { POSTGATE_DATABASE_URL: url, POSTGATE_SCHEMAS: 'nosuchschema' },
    });
    expect(fromEnv.result?.error).toMatch(/^Environment variable `POSTGATE_SCHEMAS` names schema "nosuchschema"/);
  });

  it('names the action input and the repo config key as such', async () => {
    expect((await drift({ schemas: 'public, nosuchschema' }, 'action')).error).toMatch(
      /^Input `schemas` names schema "nosuchschema", which neither the live database/,
    );
    const fromConfig = await drift({}, 'action', 'drift:\n  schemas: [nosuchschema]\n');
    expect(fromConfig.status).toBe('error');
    expect(fromConfig.error).toMatch(/^Repo config key `drift\.schemas` names schema "nosuchschema"/);
    // a schema that exists only on one side is a real filter: the comparison runs
    const existing = await drift({ schemas: 'public' });
    expect(existing.status).toBe('fail');
  });

  it('--exclude-schemas that leaves nothing to compare: exit 2', async () => {
    const result = await cli(
      ['drift', '--database-url', url, '--migrations-dir', 'db/migrations', '--exclude-schemas', 'public', ...shadow(), '--format', 'json'],
      { cwd: project },
    );
    expect(result.code).toBe(2);
    expect(result.result?.error).toBe(
      'Flag `--exclude-schemas` leaves nothing to compare: without public, neither the live database nor the shadow database built from the migrations has an object to compare; exclude fewer schemas (the schemas there are public).',
    );
    const fromConfig = await drift({}, 'action', "drift:\n  exclude-schemas: ['public']\n");
    expect(fromConfig.error).toMatch(/^Repo config key `drift\.exclude-schemas` leaves nothing to compare/);
  });
});

describe('database URLs with a bare %', () => {
  const PASSWORD = 'hunter%2-secret-pw';
  const bad = (port = 5432) => `postgresql://app:${PASSWORD}@127.0.0.1:${port}/app`;

  it.each([
    ['drift', ['--database-url', bad()], {}, '`--database-url`'],
    ['drift', [], { POSTGATE_DATABASE_URL: bad() }, '`POSTGATE_DATABASE_URL`'],
    ['drift', ['--shadow', 'url', '--shadow-database-url', bad()], {}, '`--shadow-database-url`'],
    ['rls', ['--database-url', bad()], {}, '`--database-url`'],
    ['webhooks', [], { POSTGATE_DATABASE_URL: bad() }, '`POSTGATE_DATABASE_URL`'],
    ['drill', ['--source-database-url', bad()], {}, '`--source-database-url`'],
    ['drill', ['--dump-path', 'x.dump'], { POSTGATE_TARGET_DATABASE_URL: bad() }, '`POSTGATE_TARGET_DATABASE_URL`'],
  ] as const)('postgate %s %j %j names %s, exit 2, no value echoed', async (gate, args, env, name) => {
    const project = mkdtempSync(path.join(base, 'url-'));
    cpSync(path.join(FIXTURES, 'plain'), project, { recursive: true });
    const run = await cli([gate, ...args, '--format', 'json'], { cwd: project, env: { ...env, HMAC_SECRET: 'x'.repeat(32) } });
    expect(run.code).toBe(2);
    expect(run.result?.error).toBe(`${name} has a % in its password that does not start a percent-encoded byte (%XX); write a literal % as %25.`);
    expectOneSentence(run.result?.error);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(run.stdout + run.stderr).not.toContain('hunter');
  });
});

describe('paths postgate writes', () => {
  it('a report path that leaves the working directory and the temp directory is refused: exit 2, nothing written', async () => {
    const home = mkdtempSync(path.join(base, 'home-'));
    const project = path.join(home, 'project');
    mkdirSync(project);
    cpSync(path.join(FIXTURES, 'plain'), project, { recursive: true });
    const tmp = path.join(home, 'tmp');
    mkdirSync(tmp);
    const env = { TMPDIR: tmp };
    const shadow = ['--shadow', 'url', '--shadow-database-url', cluster.url, '--migrations-dir', 'sql'];

    const escaped = await cli(['drift', ...shadow, '--report-path', '../stolen.json', '--format', 'json'], { cwd: project, env });
    expect(escaped.code).toBe(2);
    expect(escaped.result?.error).toBe(
      `Flag \`--report-path\` is ../stolen.json (${path.join(home, 'stolen.json')}), which is outside the workspace (${project}) and the temporary directory (${tmp}); write it inside one of them.`,
    );
    expect(escaped.stderr.trim()).toBe(`postgate: ${escaped.result?.error}`);
    expect(existsSync(path.join(home, 'stolen.json'))).toBe(false);

    // a folder of the project that is a link to somewhere else
    const elsewhere = path.join(home, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(project, 'out'));
    const linked = await cli(['drift', ...shadow, '--sarif-path', 'out/drift.sarif', '--format', 'json'], { cwd: project, env });
    expect(linked.code).toBe(2);
    expect(linked.result?.error).toMatch(
      /^Flag `--sarif-path` is out\/drift\.sarif \(through a symbolic link: .*\/elsewhere\/drift\.sarif\), which is outside/,
    );
    expect(existsSync(path.join(elsewhere, 'drift.sarif'))).toBe(false);

    // inside: written, the verdict is the gate's
    const fine = await cli(['drift', ...shadow, '--report-path', 'reports/drift.json', '--sarif-path', path.join(tmp, 'drift.sarif'), '--format', 'json'], {
      cwd: project,
      env,
    });
    expect(fine.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(project, 'reports/drift.json'), 'utf8')).status).toBe('pass');
    expect(existsSync(path.join(tmp, 'drift.sarif'))).toBe(true);
  });
});

describe('migrations folders: links out of the repository, encodings', () => {
  async function prMode(project: string, gate: 'drift' | 'rls', dir: string): Promise<CliRun> {
    return cli([gate, '--migrations-dir', dir, '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json'], { cwd: project });
  }

  function projectWithLinks(): string {
    const project = mkdtempSync(path.join(base, 'links-'));
    const outside = mkdtempSync(path.join(base, 'runner-files-'));
    writeFileSync(path.join(outside, 'secret.sql'), `select '${SECRET}'::int;\n`);
    mkdirSync(path.join(project, 'sql'));
    mkdirSync(path.join(project, 'shared'));
    writeFileSync(path.join(project, 'sql/001_users.sql'), 'create table users (id bigint primary key);\n');
    writeFileSync(path.join(project, 'shared/posts.sql'), 'create table posts (id bigint primary key, user_id bigint references users);\n');
    symlinkSync('../shared/posts.sql', path.join(project, 'sql/002_posts.sql'));
    symlinkSync(path.join(outside, 'secret.sql'), path.join(project, 'sql/003_secret.sql'));
    symlinkSync('/proc/self/environ', path.join(project, 'sql/004_environ.sql'));
    return project;
  }

  it('drift: a link inside the repository is applied, links out of it are findings and never read', async () => {
    const project = projectWithLinks();
    const run = await prMode(project, 'drift', 'sql');
    expect(run.code).toBe(1);
    expect(run.result?.findings.map((f) => [f.rule, f.severity, f.object.name, f.location?.file])).toEqual([
      ['migration_symlink_outside', 'error', 'sql/003_secret.sql', 'sql/003_secret.sql'],
      ['migration_symlink_outside', 'error', 'sql/004_environ.sql', 'sql/004_environ.sql'],
    ]);
    expect(run.result?.metrics).toMatchObject({ migrations: 2, applied: 2 });
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(run.stdout + run.stderr).not.toMatch(/PATH=|HOME=/);
  });

  it('rls: links out of the repository are not followed either', async () => {
    const project = projectWithLinks();
    writeFileSync(
      path.join(project, 'sql/000_roles.sql'),
      "do $$ begin if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if; if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if; end $$;\n",
    );
    const run = await cli(
      ['rls', '--migrations-dir', 'sql', '--schemas', 'public', '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json'],
      { cwd: project },
    );
    expect(run.result?.error).toBeUndefined();
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(run.stdout + run.stderr).not.toMatch(/PATH=|HOME=/);
  });

  it('PostgreSQL itself rejects a byte order mark, which is why only psql (plain files) and Flyway, which drop it, get it dropped', async () => {
    const db = await cluster.createDatabase();
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await expect(client.query('\uFEFFcreate table t (id int)')).rejects.toThrow(/syntax error/);
    } finally {
      await client.end();
    }

    const plain = mkdtempSync(path.join(base, 'bom-plain-'));
    mkdirSync(path.join(plain, 'sql'));
    writeFileSync(path.join(plain, 'sql/001_users.sql'), '\uFEFFcreate table users (id bigint primary key);\n');
    writeFileSync(path.join(plain, 'sql/002_posts.sql'), 'create table posts (id bigint primary key, user_id bigint references users);\n');
    const applied = await prMode(plain, 'drift', 'sql');
    expect(applied.result?.findings).toEqual([]);
    expect(applied.code).toBe(0);

    const supabase = mkdtempSync(path.join(base, 'bom-supabase-'));
    mkdirSync(path.join(supabase, 'supabase/migrations'), { recursive: true });
    writeFileSync(path.join(supabase, 'supabase/migrations/20250101000000_users.sql'), 'create table users (id bigint primary key);\n');
    writeFileSync(path.join(supabase, 'supabase/migrations/20250102000000_posts.sql'), '\uFEFFcreate table posts (id bigint primary key);\n');
    const rejected = await prMode(supabase, 'drift', 'supabase/migrations');
    expect(rejected.code).toBe(2);
    expect(rejected.result?.error).toBe(
      'Migration file supabase/migrations/20250102000000_posts.sql starts with a UTF-8 byte order mark, which the Supabase CLI does not remove, so the file fails to apply; re-save it as UTF-8 without a BOM.',
    );
    // the shadow was never started: nothing of the set was applied
    expect(rejected.result?.metrics).toEqual({ duration_ms: expect.any(Number) });

    const latin1 = mkdtempSync(path.join(base, 'latin1-'));
    mkdirSync(path.join(latin1, 'sql'));
    writeFileSync(path.join(latin1, 'sql/001_users.sql'), 'create table users (id bigint primary key);\n');
    writeFileSync(path.join(latin1, 'sql/002_name.sql'), Buffer.from('insert into users values (1); -- caf\xe9\n', 'latin1'));
    const notUtf8 = await prMode(latin1, 'drift', 'sql');
    expect(notUtf8.code).toBe(2);
    expect(notUtf8.result?.error).toMatch(/^Migration file .*sql\/002_name\.sql is not valid UTF-8 \(first bad byte on line 1\); re-save it as UTF-8\.$/);
    expect(notUtf8.result?.metrics).toEqual({ duration_ms: expect.any(Number) });
  });
});
