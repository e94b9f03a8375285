/**
 * rls-audit end to end: the example app through the CLI (every deliberate RLS problem
 * found, allowlist applied, RLS tests run), live-database mode (read-only, rules only),
 * PR mode against a base branch in git, and bad inputs (one sentence, exit 2).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateResult } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, withClient } from '../support/pg.ts';

const root = path.resolve(import.meta.dirname, '../..');
const APP = path.join(root, 'examples/supabase-app');
const run = promisify(execFile);

async function cli(args: string[], cwd = root): Promise<{ code: number; result: GateResult; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'scripts/postgate.ts'), 'rls', ...args, '--format', 'json'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', GITHUB_BASE_REF: '' },
    });
    return { code: 0, result: JSON.parse(stdout), stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, result: JSON.parse(e.stdout), stderr: e.stderr };
  }
}

/** The gate in-process, as the CLI calls it. */
async function gate(flags: Record<string, string>, cwd: string): Promise<GateResult> {
  return (await invokeGate('rls', (name) => flags[name], 'cli', { cwd, env: {} })).result;
}

const DELIBERATE = [
  ['rls_disabled_in_public', 'public.audit_events', 'error'],
  ['security_definer_view', 'public.trip_overview', 'error'],
  ['function_search_path_mutable', 'public.trip_length_days', 'warning'],
  ['rls_references_user_metadata', 'public.trips.Owners and staff can delete trips', 'error'],
  ['rls_policy_always_true', 'public.trip_collaborators.Collaborator settings can be updated', 'warning'],
  ['public_bucket_allows_listing', 'storage.avatars', 'warning'],
] as const;

const label = (f: { object: { schema?: string; name: string } }) => `${f.object.schema}.${f.object.name}`;

const temp = mkdtempSync(path.join(os.tmpdir(), 'rls-gate-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('rls-audit on examples/supabase-app through the CLI', () => {
  it('from the repository root finds every deliberate RLS problem, located on its migration', async () => {
    const { code, result } = await cli(['--migrations-dir', 'examples/supabase-app/supabase/migrations']);
    expect(code).toBe(1);
    expect(result.status).toBe('fail');
    for (const [rule, object, severity] of DELIBERATE) {
      const hit = result.findings.find((f) => f.rule === rule && label(f) === object);
      expect(hit, `${rule} on ${object}`).toMatchObject({ severity });
    }
    expect(result.findings.find((f) => f.rule === 'rls_disabled_in_public')?.location).toMatchObject({
      file: 'examples/supabase-app/supabase/migrations/20250120143000_audit_events.sql',
      line: expect.any(Number),
    });
    // an exposure finding says which Data API grant model it rests on (2025 migrations: the legacy grants)
    expect(result.findings.find((f) => f.rule === 'rls_disabled_in_public')?.detail).toMatch(
      /Data API grants in the shadow: Objects created by migrations dated before 2026-10-30 have the legacy Data API grants/,
    );
    expect(result.findings.find((f) => f.rule === 'rls_references_user_metadata')?.detail ?? '').not.toMatch(/Data API grants in the shadow/);
    expect(result.findings.find((f) => f.rule === 'rls_references_user_metadata')?.location).toEqual({
      file: 'examples/supabase-app/supabase/migrations/20250122090000_trip_admin_override.sql',
      line: 4,
    });
    // no repo config at the root: exposure comes from config.toml, nothing is allowlisted
    expect((result.details?.exposure as Record<string, string>).exposure_source).toMatch(/config\.toml \[api\] schemas/);
    expect(result.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['rls_enabled_no_policy', 'authenticated_security_definer_function_executable']));
  });

  it("from the app's folder applies its allowlist, runs its RLS tests and prints the matrix", async () => {
    const reportPath = path.join(temp, 'app-report.json');
    let stdout = '';
    let code = 0;
    try {
      ({ stdout } = await run(process.execPath, [path.join(root, 'scripts/postgate.ts'), 'rls', '--report-path', reportPath], {
        cwd: APP,
        env: { ...process.env, NO_COLOR: '1', GITHUB_BASE_REF: '' },
      }));
    } catch (error) {
      ({ stdout, code } = error as { stdout: string; code: number });
    }
    expect(code).toBe(1);
    expect(stdout).toMatch(/Access matrix/);
    expect(stdout).toMatch(/public\.trip_overview \(view\)\s+anon\s+allowed/);
    const result = JSON.parse(readFileSync(reportPath, 'utf8')) as GateResult;
    expect(result.suppressed?.map((s) => s.rule).sort()).toEqual(['authenticated_security_definer_function_executable', 'rls_enabled_no_policy']);
    expect(result.findings.filter((f) => f.rule.startsWith('allowlist_'))).toEqual([]);
    const tests = result.details?.tests as Array<{ result: string }>;
    expect(tests).toHaveLength(5);
    expect(tests.every((t) => t.result === 'pass')).toBe(true);
    const matrix = result.details?.accessMatrix as { rows: Array<Record<string, string>> };
    expect(matrix.rows).toContainEqual(expect.objectContaining({ object: 'public.trip_overview (view)', role: 'anon', SELECT: 'allowed' }));
    expect(matrix.rows).toContainEqual(expect.objectContaining({ object: 'public.audit_events', role: 'anon', SELECT: 'allowed', DELETE: 'allowed' }));
    expect(matrix.rows).toContainEqual(expect.objectContaining({ object: 'public.api_keys', role: 'authenticated (A)', SELECT: 'own rows only' }));
    expect(matrix.rows).toContainEqual(expect.objectContaining({ object: 'public.trips', role: 'anon', SELECT: 'denied' }));
  });
});

describe('rls-audit bad inputs (one sentence, exit 2) and broken projects', () => {
  const plainDir = path.join(temp, 'plain');
  beforeAll(() => {
    mkdirSync(path.join(plainDir, 'migrations'), { recursive: true });
    writeFileSync(path.join(plainDir, 'migrations', '001_init.sql'), 'create table public.t (id int);\n');
  });

  const write = (name: string, text: string) => {
    const file = path.join(temp, name);
    writeFileSync(file, text);
    return file;
  };

  it.each([
    [
      'unknown schema',
      ['--migrations-dir', 'examples/supabase-app/supabase/migrations', '--schemas', 'public,nosuch'],
      /The schema list from flag `--schemas` names schema "nosuch", which neither the Supabase baseline nor any migration creates/,
    ],
    [
      'API role missing',
      ['--migrations-dir', 'examples/supabase-app/supabase/migrations', '--api-roles', 'anon,web_user'],
      /API role "web_user" from flag `--api-roles` does not exist/,
    ],
    ['both modes', ['--migrations-dir', 'x', '--database-url', 'postgresql://u@localhost:1/db'], /were both given/],
    [
      'allowlist entry without a reason',
      [
        '--migrations-dir',
        'examples/supabase-app/supabase/migrations',
        '--config',
        write('no-reason.yml', 'allowlist:\n  - { rule: rls_disabled_in_public, object: public.t }\n'),
      ],
      /key `allowlist\[0\]\.reason` expected a reason/,
    ],
  ])('%s', async (_name, args, expected) => {
    const { code, result, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(result.status).toBe('error');
    expect(result.error).toMatch(expected);
    expect(result.error!.split(/[.;] [A-Z]/).length).toBe(1);
    expect(stderr).not.toMatch(/\n\s+at \S+ \(/);
  });

  it('no exposed schemas known: an error, never a silent all-clear', async () => {
    const result = await gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain' }, plainDir);
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/^No exposed schemas are known, and rls-audit never assumes that nothing is exposed/);
  });

  it('a migration that fails in the shadow fails the gate at its file and line', async () => {
    const dir = path.join(temp, 'broken');
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(
      path.join(dir, 'migrations', '001_init.sql'),
      'create role anon; create role authenticated; create table public.t (id int);\ncreate tabel public.u (id int);\n',
    );
    const result = await gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', schemas: 'public' }, dir);
    expect(result.status).toBe('fail');
    expect(result.findings[0]).toMatchObject({ rule: 'migration_apply_failed', location: { file: 'migrations/001_init.sql', line: 2 } });
  });

  it('a config test with invalid SQL fails as that test, with the server message', async () => {
    const config = write('bad-test.yml', 'rls:\n  tests:\n    - { name: broken, as: { role: anon }, sql: "selec * from public.trips", expect: { rows: 0 } }\n');
    const result = await gate({ 'migrations-dir': path.join(APP, 'supabase/migrations'), config }, root);
    expect(result.status).toBe('fail');
    const failed = result.findings.find((f) => f.rule === 'rls_test_failed');
    expect(failed?.message).toMatch(/RLS test "broken" \(as anon\) expected 0 row\(s\) but got error 42601: syntax error at or near "selec"/);
  });
});

describe('rls-audit on plain PostgreSQL with PostgREST (no Supabase)', () => {
  it('uses the configured API roles, the first as the anonymous one', async () => {
    const dir = path.join(temp, 'postgrest');
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(
      path.join(dir, 'migrations', '001_api.sql'),
      `do $$ begin
         if not exists (select 1 from pg_roles where rolname = 'web_anon') then create role web_anon nologin; end if;
         if not exists (select 1 from pg_roles where rolname = 'web_user') then create role web_user nologin; end if;
       end $$;
       create schema api;
       grant usage on schema api to web_anon, web_user;
       create table api.todos (id serial primary key, task text not null);
       grant select on api.todos to web_anon;
       grant select, insert, update, delete on api.todos to web_user;
       grant usage on sequence api.todos_id_seq to web_user;
       create table api.secrets (id serial primary key, owner text not null default current_user);
       alter table api.secrets enable row level security;
       create policy own on api.secrets for all to web_user using (owner = current_user);
       grant select on api.secrets to web_user;
      `,
    );
    writeFileSync(path.join(dir, 'postgate.yml'), 'rls:\n  exposed-schemas: [api]\n  api-roles: [web_anon, web_user]\n');
    const result = await gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', config: 'postgate.yml' }, dir);
    expect(result.status, result.error).toBe('fail');
    const open = result.findings.find((f) => f.rule === 'rls_disabled_in_public');
    expect(open?.message).toMatch(/api\.todos .*web_anon can SELECT; web_user can SELECT, INSERT, UPDATE, DELETE/);
    const matrix = result.details?.accessMatrix as { rows: Array<Record<string, string>> };
    expect(matrix.rows.map((r) => r.role)).toEqual(expect.arrayContaining(['web_anon', 'web_user (A)', 'web_user (B)']));
    expect(matrix.rows).toContainEqual(expect.objectContaining({ object: 'api.todos', role: 'web_anon', SELECT: 'allowed', INSERT: 'denied (no grant)' }));
  });
});

describe('rls-audit repo config: fixtures, error expectations, fail-on', () => {
  const API_ROLES = `do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'web_anon') then create role web_anon nologin; end if;
      if not exists (select 1 from pg_roles where rolname = 'web_user') then create role web_user nologin; end if;
    end $$;
    create schema api;
    grant usage on schema api to web_anon, web_user;
  `;
  function project(name: string, migration: string, config: string, files: Record<string, string> = {}): string {
    const dir = path.join(temp, name);
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(path.join(dir, 'migrations', '001_api.sql'), API_ROLES + migration);
    writeFileSync(path.join(dir, 'postgate.yml'), `rls:\n  exposed-schemas: [api]\n  api-roles: [web_anon, web_user]\n${config}`);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    return dir;
  }
  const notes = `create table api.notes (id int primary key, body text not null);
    alter table api.notes enable row level security;
    create policy anyone_reads on api.notes for select to web_anon, web_user using (true);
    grant select on api.notes to web_anon, web_user;`;
  const run = (dir: string, extra: Record<string, string> = {}) =>
    gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', config: 'postgate.yml', ...extra }, dir);

  it('loads rls.fixtures before the tests, and checks an expected SQLSTATE (error: <code>)', async () => {
    const dir = project(
      'fixtures',
      notes,
      `  fixtures: [fixtures/notes.sql]
  tests:
    - { name: anon reads the seeded notes, as: { role: web_anon }, sql: "select * from api.notes", expect: { rows: 2 } }
    - { name: anon cannot write, as: { role: web_anon }, sql: "insert into api.notes values (3, 'c')", expect: { error: '42501' } }
    - { name: wrong code expected, as: { role: web_anon }, sql: "insert into api.notes values (3, 'c')", expect: { error: '23505' } }
`,
      { 'fixtures/notes.sql': "insert into api.notes values (1, 'a'), (2, 'b');\n" },
    );
    const result = await run(dir);
    expect(result.status, result.error).toBe('fail');
    const failed = result.findings.filter((f) => f.rule === 'rls_test_failed');
    expect(failed.map((f) => f.object.name)).toEqual(['wrong code expected']);
    expect(failed[0]?.message).toMatch(
      /^RLS test "wrong code expected" \(as web_anon\) expected error 23505 but got error 42501: permission denied for table notes\.$/,
    );
    expect(result.findings.filter((f) => f.rule === 'rls_seed_failed')).toEqual([]);
  });

  it('a fixture that fails is a notice naming the file and the server message; the tests that needed its rows fail', async () => {
    const dir = project(
      'broken-fixture',
      notes,
      `  fixtures: [fixtures/broken.sql]
  tests:
    - { name: anon reads the seeded notes, as: { role: web_anon }, sql: "select * from api.notes", expect: { rows: 2 } }
`,
      { 'fixtures/broken.sql': "insert into api.note values (1, 'a');\n" },
    );
    const result = await run(dir);
    const seed = result.findings.find((f) => f.rule === 'rls_seed_failed');
    expect(seed).toMatchObject({ severity: 'notice', object: { kind: 'file', name: 'fixtures/broken.sql' } });
    expect(seed?.message).toMatch(/^Seed file fixtures\/broken\.sql failed on the head shadow database \(relation "api\.note" does not exist\)/);
    expect(result.findings.find((f) => f.rule === 'rls_test_failed')?.message).toMatch(/expected 2 row\(s\) but got 0 row\(s\)/);
  });

  it('a fixture path that does not exist is bad input (exit 2)', async () => {
    const dir = project('missing-fixture', notes, '  fixtures: [fixtures/nope.sql]\n');
    const result = await run(dir);
    expect(result.status).toBe('error');
    expect(result.error).toBe('Repo config rls.fixtures names fixtures/nope.sql, which does not exist; fix the path.');
  });

  it('fail-on decides which severities fail: a deny-all table is a notice', async () => {
    const dir = project(
      'fail-on',
      'create table api.locked (id int primary key);\nalter table api.locked enable row level security;\ngrant select on api.locked to web_anon;\n',
      '',
    );
    const byDefault = await run(dir);
    expect(byDefault.status, byDefault.error).toBe('pass');
    expect(byDefault.findings.map((f) => `${f.rule}:${f.severity}`)).toEqual(['rls_enabled_no_policy:notice']);
    expect((await run(dir, { 'fail-on': 'warning' })).status).toBe('pass');
    const strict = await run(dir, { 'fail-on': 'notice' });
    expect(strict.status).toBe('fail');
    expect(strict.findings.map((f) => f.rule)).toEqual(['rls_enabled_no_policy']);
  });
});

describe('rls-audit on a live database', () => {
  let cluster: Cluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startTestCluster(15);
    url = await cluster.createDatabase('live');
    await withClient(url, async (client) => {
      await applySupabaseBaseline(client);
      await client.query(
        "create table public.leaky (id int, api_key text); create role auditor login password 'auditor-pw'; grant pg_read_all_data to auditor;",
      );
      await client.query(`alter role authenticator set pgrst.db_schemas = 'public, graphql_public'`);
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads pgrst.db_schemas, runs the rules read-only as a role without write privileges, and never probes', async () => {
    const auditor = new URL(url);
    auditor.username = 'auditor';
    auditor.password = 'auditor-pw';
    const result = await gate({ 'database-url': auditor.toString() }, temp);
    expect(result.status, result.error).toBe('fail');
    // one cause (no RLS on an exposed table), one finding: the most specific, the other folded in
    const leaky = result.findings.filter((f) => label(f) === 'public.leaky');
    expect(leaky.map((f) => f.rule)).toEqual(['sensitive_columns_exposed']);
    expect(leaky[0]?.detail).toMatch(
      /^Same cause, also reported as:\n- rls_disabled_in_public: Table public\.leaky is exposed through the Data API without row level security/m,
    );
    expect(result.details?.accessMatrix).toBeUndefined();
    expect((result.details?.exposure as Record<string, string>).exposure_source).toBe('pgrst.db_schemas (role authenticator setting)');
    await withClient(url, async (client) => {
      expect((await client.query('select count(*)::int as n from auth.users')).rows[0].n).toBe(0);
    });
  });
});

describe('rls-audit PR mode: the access diff against the base branch', () => {
  const repo = path.join(temp, 'repo');
  let result: GateResult;
  beforeAll(async () => {
    cpSync(APP, repo, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    writeFileSync(
      path.join(repo, 'supabase/migrations/20250201090000_public_trips.sql'),
      [
        '-- Share trips publicly.',
        'create policy "Anyone can read trips"',
        '  on public.trips for select',
        '  to anon',
        '  using (true);',
        'alter policy "Owners can update their trips" on public.trips using (true) with check (true);',
        '',
      ].join('\n'),
    );
    result = await gate({ 'base-ref': 'main' }, repo);
  });

  it('lists pre-existing findings apart and fails only on what the PR adds', () => {
    expect(result.status).toBe('fail');
    expect(result.preexisting?.map((f) => f.rule)).toEqual(expect.arrayContaining(['rls_disabled_in_public', 'security_definer_view']));
    expect(result.findings.some((f) => f.rule === 'rls_disabled_in_public')).toBe(false);
    // the app's allowlisted findings exist on the base too: still accepted, never stale
    expect(result.suppressed?.map((f) => f.rule).sort()).toEqual(['authenticated_security_definer_function_executable', 'rls_enabled_no_policy']);
    expect(result.findings.filter((f) => f.rule === 'allowlist_stale')).toEqual([]);
  });

  it('reports widened access from the two matrices, on the migration that made it (public read of a table the repo config lists as private: an error)', () => {
    const widened = result.findings.find((f) => f.rule === 'rls_matrix_access_changed' && label(f) === 'public.trips');
    expect(widened?.severity).toBe('error');
    expect(widened?.message).toMatch(/anon can now SELECT every row \(was: denied\)/);
    expect(widened?.location?.file).toBe('supabase/migrations/20250201090000_public_trips.sql');
    // the two shadows are probed alike: nothing else looks changed
    expect(result.findings.filter((f) => f.rule === 'rls_matrix_access_changed').map(label)).toEqual(['public.trips']);
    expect((result.details?.accessChanges as Array<{ object: string }>).every((c) => c.object === 'public.trips')).toBe(true);
    const alwaysTrue = result.findings.find((f) => f.rule === 'rls_policy_always_true' && f.object.name === 'trips.Owners can update their trips');
    expect(alwaysTrue?.location).toEqual({ file: 'supabase/migrations/20250201090000_public_trips.sql', line: 6 });
  });

  it('describes the policy changes', () => {
    const messages = result.findings.filter((f) => f.rule === 'rls_policy_changed').map((f) => f.message);
    expect(messages).toContain('New policy "Anyone can read trips" on public.trips: permissive SELECT to anon.');
    expect(messages.find((m) => m.startsWith('Policy "Owners can update their trips"'))).toMatch(/USING no longer restricts by the caller/);
  });

  it('counts everything when baseline is none', async () => {
    const all = await gate({ 'base-ref': 'main', baseline: 'none' }, repo);
    expect(all.preexisting).toBeUndefined();
    expect(all.findings.some((f) => f.rule === 'rls_disabled_in_public')).toBe(true);
  });

  it('copes with a base branch that lacks a schema and role the PR adds', async () => {
    const dir = path.join(temp, 'new-schema');
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });
    writeFileSync(path.join(dir, 'postgate.yml'), 'rls:\n  exposed-schemas: [api]\n  api-roles: [web_anon, web_user]\n');
    writeFileSync(path.join(dir, 'migrations', '001_init.sql'), 'create table public.notes (id int);\n');
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    writeFileSync(
      path.join(dir, 'migrations', '002_api.sql'),
      `do $$ begin
         if not exists (select 1 from pg_roles where rolname = 'web_anon') then create role web_anon nologin; end if;
         if not exists (select 1 from pg_roles where rolname = 'web_user') then create role web_user nologin; end if;
       end $$;
       create schema api;
       grant usage on schema api to web_anon;
       create table api.notes (id int);
       grant select on api.notes to web_anon;
      `,
    );
    const outcome = await gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', config: 'postgate.yml', 'base-ref': 'main' }, dir);
    expect(outcome.status, outcome.error).toBe('fail');
    const notes = outcome.findings.filter((f) => label(f) === 'api.notes');
    expect(notes.map((f) => f.rule)).toEqual(['rls_disabled_in_public']);
    expect(notes[0]?.detail).toMatch(/- rls_matrix_access_changed: New table api\.notes: web_anon can now SELECT every row\./);
  });

  it('leaves no copy of the base branch behind', () => {
    expect(readdirSync(os.tmpdir()).filter((name) => name.startsWith('postgate-base-'))).toEqual([]);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' }).trim()).toBe(
      '?? supabase/migrations/20250201090000_public_trips.sql',
    );
  });
});
