/**
 * rls-audit runs the project's pgTAP tests (`supabase/tests`, input `db-tests`) on its shadow
 * database, on real PostgreSQL 15 with Debian's pgTAP: a passing file, a failing assertion (at
 * its line, with have/want), a plan mismatch, a file that dies, files that try to commit or run
 * psql meta-commands and cannot affect the next file, the counts; the bad inputs (one sentence,
 * exit 2); and the export of the repo config's RLS tests as a pgTAP file that passes and fails
 * where they do.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, GateResult } from '../../src/findings/types.ts';
import { runDbTests } from '../../src/gates/rls/db-tests.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, withClient } from '../support/pg.ts';

const temp = mkdtempSync(path.join(os.tmpdir(), 'rls-db-tests-'));
const marker = path.join(temp, 'shell-ran');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const MIGRATION = `create table public.notes (id int primary key, owner uuid not null, body text not null);
alter table public.notes enable row level security;
create policy owner_reads on public.notes for select to authenticated using (owner = auth.uid());
grant select on public.notes to authenticated;
revoke all on public.notes from anon;
`;

const SEED = `insert into public.notes values
  (1, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'a'),
  (2, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'a2'),
  (3, 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'b');
`;

const FILES: Record<string, string> = {
  '01_pass.sql': `begin;
select plan(4);
select has_table('public', 'notes', 'notes exists');
select is(current_user::text, 'postgres', 'runs as the role the migrations ran as');
select ok(not (select rolsuper from pg_roles where rolname = current_user), 'not a superuser');
select is((select count(*)::int from public.notes), 3, 'the seed is there');
select * from finish();
rollback;
`,
  '02_fail.sql': `begin;
select plan(4);
set local role authenticated;
set local request.jwt.claims = '{"sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "role": "authenticated"}';
select is((select count(*)::int from public.notes), 3, 'user A sees every note');
select ok(true, 'fine');
select skip('not today', 1);
select todo('later', 1);
select ok(false, 'unfinished');
select * from finish();
rollback;
`,
  '03_plan.sql': `begin;
select plan(3);
select ok(true, 'one');
select ok(true, 'two');
select * from finish();
rollback;
`,
  '04_dies.sql': `begin;
select plan(2);
select ok(true, 'first');

select count(*) from public.missing_table;
select ok(true, 'never');
select * from finish();
rollback;
`,
  '05_commit.sql': `begin;
select plan(1);
insert into public.notes values (99, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'leaked');
create table public.leftover (id int);
commit;
/* a comment first */ COMMIT AND CHAIN;
end;
set role anon;
select ok(true, 'after the commit attempts');
select * from finish();
rollback;
`,
  '06_do_commit.sql': `select plan(1);
insert into public.notes values (98, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'leaked');
do $$ begin commit; end $$;
select ok(true);
`,
  '07_shell.sql': `select plan(1);
\\! touch ${marker}
select ok(true);
`,
  '08_after.sql': `begin;
select plan(3);
select is((select count(*)::int from public.notes), 3, 'no row leaked from an earlier file');
select hasnt_table('public', 'leftover', 'no table leaked from an earlier file');
select is(current_user::text, 'postgres', 'no role leaked');
select * from finish();
rollback;
`,
  'sub/09_nested.pg': `select plan(1);
select ok(true, 'nested .pg file');
select * from finish();
`,
  'README.md': 'not a test',
};

function writeProject(dir: string, files: Record<string, string>, config = ''): void {
  mkdirSync(path.join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(path.join(dir, 'supabase', 'config.toml'), '[db]\nmajor_version = 15\n\n[api]\nschemas = ["public"]\n');
  writeFileSync(path.join(dir, 'supabase', 'migrations', '20250101000000_notes.sql'), MIGRATION);
  writeFileSync(path.join(dir, 'supabase', 'seed.sql'), SEED);
  writeFileSync(path.join(dir, 'postgate.yml'), config);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'supabase', 'tests', name)), { recursive: true });
    writeFileSync(path.join(dir, 'supabase', 'tests', name), text);
  }
}

async function gate(dir: string, flags: Record<string, string> = {}): Promise<GateResult> {
  const given: Record<string, string> = { 'migrations-dir': 'supabase/migrations', config: 'postgate.yml', ...flags };
  return (await invokeGate('rls', (name) => given[name], 'cli', { cwd: dir, env: {} })).result;
}

const ofRule = (result: GateResult, rule: string): Finding[] => result.findings.filter((f) => f.rule === rule);

describe('pgTAP tests on the shadow database', () => {
  const dir = path.join(temp, 'project');
  let result: GateResult;
  beforeAll(async () => {
    writeProject(dir, FILES);
    // a link out of the repository is not followed
    symlinkSync('/etc/hostname', path.join(dir, 'supabase', 'tests', '00_link.sql'));
    result = await gate(dir);
  });

  it('runs every .sql and .pg file in pg_prove order and counts the results', () => {
    const files = result.details?.dbTests as Array<Record<string, unknown>>;
    expect(files.map((f) => f.file)).toEqual([
      'supabase/tests/01_pass.sql',
      'supabase/tests/02_fail.sql',
      'supabase/tests/03_plan.sql',
      'supabase/tests/04_dies.sql',
      'supabase/tests/05_commit.sql',
      'supabase/tests/06_do_commit.sql',
      'supabase/tests/07_shell.sql',
      'supabase/tests/08_after.sql',
      'supabase/tests/sub/09_nested.pg',
    ]);
    expect(files[0]).toEqual({ file: 'supabase/tests/01_pass.sql', planned: 4, ran: 4, passed: 4, failed: 0, skipped: 0, todo: 0 });
    expect(files[1]).toEqual({ file: 'supabase/tests/02_fail.sql', planned: 4, ran: 4, passed: 1, failed: 1, skipped: 1, todo: 1 });
    expect(files[2]).toMatchObject({ planned: 3, ran: 2, passed: 2 });
    expect(files[8]).toMatchObject({ planned: 1, ran: 1, passed: 1 });
    expect(result.metrics).toMatchObject({ db_test_files: 9, db_tests_failed: 1, db_tests_skipped: 1, db_tests_todo: 1 });
    expect(result.metrics.db_tests_passed).toBe(4 + 1 + 2 + 1 + 1 + 3 + 1);
    expect(result.status).toBe('fail');
  });

  it('reports a failing assertion at its line with the diagnostics', () => {
    const failed = ofRule(result, 'db_test_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      severity: 'error',
      location: { file: 'supabase/tests/02_fail.sql', line: 5 },
      object: { kind: 'db-test', name: 'supabase/tests/02_fail.sql: user A sees every note' },
      key: 'db_test_failed:db-test:supabase/tests/02_fail.sql: user A sees every note',
    });
    expect(failed[0]!.message).toContain('"user A sees every note"');
    expect(failed[0]!.detail).toMatch(/# +Failed test 1: "user A sees every note"\n# +have: 2\n# +want: 3/);
  });

  it('reports a plan mismatch', () => {
    const mismatch = ofRule(result, 'db_test_plan_mismatch');
    expect(mismatch.map((f) => f.location)).toEqual([{ file: 'supabase/tests/03_plan.sql', line: 2 }]);
    expect(mismatch[0]!.message).toMatch(/planned 3 test\(s\) but ran 2 \(Looks like you planned 3 tests but ran 2\)/);
  });

  it('reports a file that dies at the statement and with the server message', () => {
    const died = ofRule(result, 'db_test_file_died');
    const byFile = Object.fromEntries(died.map((f) => [f.location!.file, f]));
    expect(byFile['supabase/tests/04_dies.sql']).toMatchObject({ location: { line: 5 } });
    expect(byFile['supabase/tests/04_dies.sql']!.message).toMatch(/stopped at line 5: relation "public.missing_table" does not exist \(SQLSTATE 42P01\)/);
    expect(byFile['supabase/tests/06_do_commit.sql']!.message).toMatch(/line 3: invalid transaction termination/);
    expect(byFile['supabase/tests/07_shell.sql']).toMatchObject({ location: { line: 2 } });
    expect(Object.keys(byFile).sort()).toEqual(['supabase/tests/04_dies.sql', 'supabase/tests/06_do_commit.sql', 'supabase/tests/07_shell.sql']);
  });

  it('never runs psql meta-commands, and a file that tries to commit leaves nothing for the next one', () => {
    expect(existsSync(marker)).toBe(false);
    const files = result.details?.dbTests as Array<Record<string, unknown>>;
    expect(files[4]).toMatchObject({ file: 'supabase/tests/05_commit.sql', ran: 1, passed: 1 });
    expect(files[7]).toMatchObject({ file: 'supabase/tests/08_after.sql', ran: 3, passed: 3, failed: 0 });
    expect(result.findings.filter((f) => f.location?.file === 'supabase/tests/05_commit.sql' || f.location?.file === 'supabase/tests/08_after.sql')).toEqual(
      [],
    );
  });
});

describe('db-tests bad inputs: one sentence, exit 2', () => {
  const dir = path.join(temp, 'bad');
  beforeAll(() => writeProject(dir, { 'a.sql': 'select plan(1);\nselect ok(true);\n' }));

  it('a file instead of a folder', async () => {
    const result = await gate(dir, { 'db-tests': 'supabase/tests/a.sql' });
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      'Flag `--db-tests` names supabase/tests/a.sql, which is a file; give the folder holding the pgTAP test files (such as supabase/tests).',
    );
  });

  it('a folder that does not exist', async () => {
    const result = await gate(dir, { 'db-tests': 'tests/db' });
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/^Flag `--db-tests` names tests\/db, which does not exist; give the folder/);
  });

  it('a server without pgTAP (the embedded PostgreSQL 17) when there are test files', async () => {
    const result = await gate(dir, { 'postgres-version': '17' });
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/^The shadow PostgreSQL 17 has no pgTAP extension, .*postgresql-17-pgtap.*supabase\/postgres image/);
    expect(result.error!.split(/\.\s/)).toHaveLength(1);
  });

  it('no test files: nothing runs and no pgTAP is needed', async () => {
    const empty = path.join(temp, 'empty');
    writeProject(empty, {});
    mkdirSync(path.join(empty, 'supabase', 'tests'), { recursive: true });
    const result = await gate(empty, { 'postgres-version': '17' });
    expect(result.error).toBeUndefined();
    expect(result.details?.dbTests).toBeUndefined();
    expect(result.metrics.db_test_files).toBeUndefined();
  });
});

describe('a file that runs past its time limit', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startTestCluster(15);
  });
  afterAll(() => cluster?.stop());

  it('is cancelled and reported, and the next file still runs', async () => {
    const dir = path.join(temp, 'slow');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.sql'), "select plan(1);\nselect pg_sleep(3600);\nselect ok(true, 'late');\n");
    writeFileSync(path.join(dir, 'b.sql'), "select plan(1);\nselect ok(true, 'next');\n");
    const role = await withClient(cluster.url, async (c) => (await c.query<{ u: string }>('select current_user as u')).rows[0]!.u);
    // the sleep alone would take an hour: the run ends because the file was cancelled, not waited out
    const outcome = await runDbTests(
      { url: cluster.adminUrl, migrationUrl: cluster.url, migrationRole: { name: role, superuser: true } },
      { dir, files: [path.join(dir, 'a.sql'), path.join(dir, 'b.sql')] },
      temp,
      2000,
    );
    expect(outcome.findings.map((f) => [f.rule, f.location?.line])).toEqual([['db_test_file_died', 2]]);
    expect(outcome.findings[0]!.message).toMatch(/ran past its 2 s limit/);
    expect(outcome.files[1]).toMatchObject({ ran: 1, passed: 1 });
  });
});

describe('--export-pgtap: the repo config RLS tests as a pgTAP file', () => {
  const dir = path.join(temp, 'export');
  const CONFIG = `rls:
  tests:
    - name: user A sees own notes
      as: { role: authenticated, claims: { sub: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa } }
      sql: select * from public.notes
      expect: { rows: 2 }
    - name: user B sees at least one note
      as: { role: authenticated, claims: { sub: bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb } }
      sql: select * from public.notes
      expect: { rows-at-least: 1 }
    - name: anon is denied
      as: { role: anon }
      sql: select * from public.notes
      expect: { denied: true }
    - name: a delete is undone before the next test
      as: { role: postgres }
      sql: delete from public.notes
      expect: { rows: 3 }
    - name: "wrong: user A sees three"
      as: { role: authenticated, claims: { sub: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa } }
      sql: select * from public.notes
      expect: { rows: 3 }
    - name: "wrong: authenticated is denied"
      as: { role: authenticated }
      sql: select * from public.notes
      expect: { denied: true }
    - name: "wrong: anon reads at least one"
      as: { role: anon }
      sql: select * from public.notes
      expect: { rows-at-least: 1 }
    - name: a missing table is 42P01
      as: { role: authenticated }
      sql: select * from public.nothing_here
      expect: { error: 42P01 }
`;

  it('writes the file, and on the shadow it passes and fails exactly where the config tests do', async () => {
    writeProject(dir, {}, CONFIG);
    const exported = await gate(dir, { 'export-pgtap': 'supabase/tests/rls_config.sql' });
    expect(exported.status).toBe('pass');
    expect(exported.metrics.exported_tests).toBe(8);
    const text = readFileSync(path.join(dir, 'supabase', 'tests', 'rls_config.sql'), 'utf8');
    expect(text).toMatch(/^begin;\nselect plan\(8\);/m);
    expect(text).toContain(`set local request.jwt.claims = '{"role":"authenticated","sub":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"}';`);
    expect(text).toContain(`select throws_ok('select * from public.notes', '42501'::char(5), null::text, 'anon is denied');`);
    expect(text.trimEnd().endsWith('select * from finish();\nrollback;')).toBe(true);

    const result = await gate(dir);
    const configTests = result.details?.tests as Array<{ test: string; result: string }>;
    const configFailed = configTests.filter((t) => t.result === 'FAIL').map((t) => t.test);
    expect(configFailed.sort()).toEqual(['wrong: anon reads at least one', 'wrong: authenticated is denied', 'wrong: user A sees three']);
    const pgtapFailed = ofRule(result, 'db_test_failed').map((f) => f.object.name.replace('supabase/tests/rls_config.sql: ', ''));
    expect(pgtapFailed.sort()).toEqual(configFailed.sort());
    expect(ofRule(result, 'db_test_plan_mismatch')).toEqual([]);
    expect(ofRule(result, 'db_test_file_died')).toEqual([]);
    expect(result.details?.dbTests).toEqual([{ file: 'supabase/tests/rls_config.sql', planned: 8, ran: 8, passed: 5, failed: 3, skipped: 0, todo: 0 }]);
    const wrongCount = ofRule(result, 'db_test_failed').find((f) => f.object.name.endsWith('user A sees three'));
    expect(wrongCount?.detail).toMatch(/have: 2 row\(s\)\n# +want: 3 row\(s\)/);
    const anonRows = ofRule(result, 'db_test_failed').find((f) => f.object.name.endsWith('anon reads at least one'));
    expect(anonRows?.detail).toMatch(/have: error 42501: permission denied for table notes/);
  });

  it('with no tests in the repo config is one sentence, exit 2', async () => {
    const none = path.join(temp, 'export-none');
    writeProject(none, {});
    const result = await gate(none, { 'export-pgtap': 'out.sql' });
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/^`--export-pgtap` exports the repo config's rls.tests, and it has none;/);
  });
});
