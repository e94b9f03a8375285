/**
 * restore-drill runs the project's own tests on the restored copy (issue 18 part 3): the repo
 * config's RLS tests and the pgTAP files pass on an intact backup and fail the drill on a copy
 * that lost a policy or a grant; a restore server without pgTAP skips the files with a warning;
 * a bad `db-tests` stops the drill before anything is restored. And storage: a Supabase
 * source's buckets (object count, total size) are compared with the copy's.
 *
 * The pgTAP cases need Debian's postgresql-15-pgtap on the runner and are skipped (their titles
 * say so) without it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';
import { pgDump, seedSupabaseApp, sql } from '../fixtures/drill/source.ts';

/** pgTAP for the PostgreSQL 15 this suite's cluster runs (Debian's postgresql-15-pgtap). */
const hasPgtap = (() => {
  try {
    return existsSync(path.join(execFileSync('pg_config', ['--sharedir'], { encoding: 'utf8' }).trim(), 'extension', 'pgtap.control'));
  } catch {
    return false;
  }
})();

const root = path.resolve(import.meta.dirname, '../..');
let cluster: Cluster;
let work: string;
const dumps = { intact: '', noPolicy: '', noGrant: '' };

const SOURCE_SQL = `
do $$ begin create role drill_reader nologin; exception when duplicate_object then null; end $$;
create table public.notes (id int primary key, owner text not null, body text not null);
alter table public.notes enable row level security;
create policy owner_reads on public.notes for select to drill_reader
  using (owner = (current_setting('request.jwt.claims', true)::json ->> 'sub'));
grant select on public.notes to drill_reader;
insert into public.notes values (1, 'a', 'first'), (2, 'a', 'second'), (3, 'b', 'third');
`;

const RLS_CONFIG = {
  rls: {
    tests: [
      { name: 'reader a sees own notes', as: { role: 'drill_reader', claims: { sub: 'a' } }, sql: 'select * from public.notes', expect: { rows: 2 } },
      { name: 'reader b sees one', as: { role: 'drill_reader', claims: { sub: 'b' } }, sql: 'select * from public.notes', expect: { rows: 1 } },
    ],
  },
};

const PGTAP_FILE = `begin;
select plan(2);
set local role drill_reader;
set local request.jwt.claims = '{"sub": "a"}';
select is((select count(*)::int from public.notes), 2, 'reader a sees own notes');
select ok(true, 'the copy answers');
select * from finish();
rollback;
`;

async function drill(inputs: Record<string, string>, config: object = {}): Promise<GateResult> {
  const options = parseInputs(DRILL_INPUTS, (name) => inputs[name], 'cli');
  return run(options, createContext({ cwd: work, config: repoConfigSchema.parse(config), env: {} }));
}

function onShared(inputs: Record<string, string>): Record<string, string> {
  return { shadow: 'url', 'shadow-database-url': cluster.url, ...inputs };
}

function checkOf(result: GateResult, name: string) {
  return (result.details?.checks as Array<{ check: string; status: string; detail: string }>).find((c) => c.check === name);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-tests-'));
  cluster = await startTestCluster(15);
  const url = await cluster.createDatabase('notes');
  await sql(url, SOURCE_SQL);
  const dump = await pgDump(url, ['-Fp']);
  const noPolicy = dump.replace(/^CREATE POLICY [\s\S]*?;\n/m, '');
  const noGrant = dump.replace(/^GRANT SELECT ON TABLE public\.notes TO drill_reader;\n/m, '');
  expect(noPolicy).not.toBe(dump);
  expect(noGrant).not.toBe(dump);
  for (const [name, text] of [
    ['intact', dump],
    ['noPolicy', noPolicy],
    ['noGrant', noGrant],
  ] as const) {
    dumps[name] = path.join(work, `${name}.sql`);
    writeFileSync(dumps[name], text);
  }
  mkdirSync(path.join(work, 'tests', 'db'), { recursive: true });
  writeFileSync(path.join(work, 'tests', 'db', 'rls.sql'), PGTAP_FILE);
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the repo config RLS tests on the restored copy', () => {
  it('pass on an intact backup, each a check line', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.intact }), RLS_CONFIG);
    expect(result.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    expect(result.status).toBe('pass');
    expect(checkOf(result, 'rls tests')).toEqual({ check: 'rls tests', status: 'pass', detail: '2 run; 0 failed' });
    expect(checkOf(result, 'database tests')).toEqual({ check: 'database tests', status: 'skipped', detail: 'no db-tests folder and no supabase/tests' });
    expect(result.metrics.tests_ms).toBeGreaterThanOrEqual(0);
  });

  it('fail the drill on a copy that lost the policy', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.noPolicy }), RLS_CONFIG);
    expect(result.status).toBe('fail');
    const failed = result.findings.filter((f) => f.rule === 'drill_rls_test_failed');
    expect(failed.map((f) => f.object)).toEqual([
      { kind: 'rls-test', name: 'reader a sees own notes' },
      { kind: 'rls-test', name: 'reader b sees one' },
    ]);
    expect(failed[0]!.severity).toBe('error');
    expect(failed[0]!.message).toBe('RLS test "reader a sees own notes" (as drill_reader) expected 2 row(s) but got 0 row(s) on the restored copy.');
    expect(checkOf(result, 'rls tests')).toMatchObject({ status: 'fail', detail: '2 run; 2 failed' });
  });

  it('fail the drill on a copy that lost the grant', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.noGrant }), RLS_CONFIG);
    expect(result.status).toBe('fail');
    const failed = result.findings.filter((f) => f.rule === 'drill_rls_test_failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]!.message).toMatch(/expected 2 row\(s\) but got error 42501: permission denied for table notes on the restored copy\.$/);
  });

  it('are skipped with the reason when the repo config has none', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.intact }));
    expect(checkOf(result, 'rls tests')).toEqual({ check: 'rls tests', status: 'skipped', detail: 'no rls.tests in the repo config' });
  });
});

describe('the pgTAP files on the restored copy', () => {
  it.skipIf(!hasPgtap)('pass on an intact backup (skipped without postgresql-15-pgtap)', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.intact, 'db-tests': 'tests/db' }));
    expect(result.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    expect(checkOf(result, 'database tests')).toEqual({ check: 'database tests', status: 'pass', detail: '1 file(s), 2 passed, 0 failed' });
    expect(result.metrics).toMatchObject({ db_test_files: 1, db_tests_passed: 2, db_tests_failed: 0 });
  });

  it.skipIf(!hasPgtap)('fail the drill at the assertion line on a copy that lost the policy (skipped without postgresql-15-pgtap)', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.noPolicy, 'db-tests': 'tests/db' }));
    expect(result.status).toBe('fail');
    const failed = result.findings.filter((f) => f.rule === 'drill_db_test_failed');
    expect(failed.map((f) => [f.object.name, f.location])).toEqual([['tests/db/rls.sql: reader a sees own notes', { file: 'tests/db/rls.sql', line: 5 }]]);
    expect(failed[0]!.message).toBe('pgTAP test 1 "reader a sees own notes" in tests/db/rls.sql:5 failed on the restored copy.');
    expect(failed[0]!.detail).toMatch(/have: 0\s+#\s+want: 2/);
    expect(checkOf(result, 'database tests')).toMatchObject({ status: 'fail', detail: '1 file(s), 1 passed, 1 failed' });
  });

  it('a restore server without pgTAP (the embedded PostgreSQL 17): the files are skipped with a warning, the drill still gives its verdict', async () => {
    const result = await drill({ 'dump-path': dumps.intact, 'db-tests': 'tests/db', shadow: 'local', 'postgres-version': '17' }, RLS_CONFIG);
    const warning = result.findings.filter((f) => f.rule === 'drill_db_tests_not_run');
    expect(warning).toHaveLength(1);
    expect(warning[0]!.severity).toBe('warning');
    expect(warning[0]!.message).toBe('The restore server (PostgreSQL 17) has no pgTAP extension, so the 1 pgTAP test file(s) did not run on the copy.');
    expect(warning[0]!.remediation).toMatch(/postgresql-17-pgtap/);
    expect(checkOf(result, 'database tests')).toEqual({
      check: 'database tests',
      status: 'skipped',
      detail: '1 file(s) not run: no pgTAP on the restore server',
    });
    expect(checkOf(result, 'row counts')).toBeDefined();
  });

  it('a db-tests folder that does not exist stops the drill at once: one sentence, exit 2', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.intact, 'db-tests': 'tests/missing' }));
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      'Input `db-tests` names tests/missing, which does not exist; give the folder holding the pgTAP test files (such as supabase/tests).',
    );
    expect(result.details?.phases).toBeUndefined();
  });
});

describe('storage per bucket', () => {
  let supabaseUrl: string;
  beforeAll(async () => {
    supabaseUrl = await cluster.createDatabase('supa');
    await seedSupabaseApp(supabaseUrl);
    await sql(
      supabaseUrl,
      `insert into storage.objects (bucket_id, name, metadata) values
         ('avatars', 'u1/face.png', '{"size": 1200, "mimetype": "image/png"}'),
         ('avatars', 'u2/face.png', '{"size": 800}'),
         ('trip-photos', 't1/beach.jpg', '{"size": 50000}')`,
    );
  });

  it("a live drill restores the storage data with the backup: same objects and sizes per bucket; the example's RLS tests pass on the copy", async () => {
    const example = parse(readFileSync(path.join(root, 'examples/supabase-app/.github/postgate.yml'), 'utf8')) as { rls: { tests: unknown[] } };
    const result = await drill({ 'source-database-url': supabaseUrl, shadow: 'local' }, { rls: { tests: example.rls.tests } });
    expect(result.findings).toEqual([]);
    expect(checkOf(result, 'rls tests')).toEqual({ check: 'rls tests', status: 'pass', detail: `${example.rls.tests.length} run; 0 failed` });
    expect(checkOf(result, 'storage')).toEqual({
      check: 'storage',
      status: 'pass',
      detail: '2 buckets, 3 objects in the source (metadata only); 0 differ',
    });
  });

  it('a backup written with --write-manifest keeps the platform data beside it: the file drill restores auth and storage, checksummed', async () => {
    const dump = path.join(work, 'supa.dump');
    const manifest = path.join(work, 'supa.manifest.json');
    const written = await drill({ 'source-database-url': supabaseUrl, 'dump-path': dump, 'write-manifest': manifest });
    expect(written.status, JSON.stringify(written)).toBe('pass');
    expect((JSON.parse(readFileSync(manifest, 'utf8')) as { platform_data?: { file: string } }).platform_data?.file).toBe('supa.dump.platform.dump');
    const result = await drill({ 'dump-path': dump, manifest, shadow: 'local' });
    expect(result.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    expect(checkOf(result, 'storage')).toEqual({
      check: 'storage',
      status: 'pass',
      detail: '2 buckets, 3 objects in the source (metadata only); 0 differ',
    });
    // the platform data is part of the backup: changed after the manifest, the backup is not restored
    const platform = `${dump}.platform.dump`;
    writeFileSync(platform, Buffer.concat([readFileSync(platform), Buffer.from('tampered')]));
    const tampered = await drill({ 'dump-path': dump, manifest, shadow: 'local' });
    expect(tampered.findings.filter((f) => f.rule === 'drill_checksum_mismatch').map((f) => f.object.name)).toEqual(['supa.dump.platform.dump']);
    expect(tampered.status).toBe('fail');
  });

  it('a vanilla source has no storage to compare', async () => {
    const result = await drill(onShared({ 'dump-path': dumps.intact }));
    expect(checkOf(result, 'storage')).toMatchObject({ status: 'skipped' });
  });
});
