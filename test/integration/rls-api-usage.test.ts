/**
 * rls-audit and the app's Data API calls, end to end through the real scanner: a Supabase
 * project with the 2026 default (first migration after 2026-05-30: no legacy grants) whose
 * TypeScript calls a table with RLS and a policy but no grant, a function without EXECUTE, a
 * table no migration creates, a bucket nothing creates, and a table by a computed name. In PR
 * mode (shadow) and live mode (read-only) on the same database.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, GateResult } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import { annotationsOf } from '../../src/report/annotations.ts';
import { type RlsCluster, startRlsCluster } from './rls-support.ts';

const temp = mkdtempSync(path.join(os.tmpdir(), 'rls-api-usage-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const MIGRATION = `-- Invoices, readable by their owner.
create table public.invoices (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid(),
  total numeric not null
);
alter table public.invoices enable row level security;
create policy "Owners read their invoices" on public.invoices for select to authenticated using (owner = (select auth.uid()));

create function public.invoice_total(p_id bigint) returns numeric
language sql stable as $$ select total from public.invoices where id = p_id $$;
revoke execute on function public.invoice_total(bigint) from public;
`;

const GRANTS = `grant select on table public.invoices to authenticated;
grant execute on function public.invoice_total(bigint) to authenticated;
`;

const APP = `import { createClient } from '@supabase/supabase-js';

const supabase = createClient('https://example.supabase.co', 'anon-key');

export async function load(table: string) {
  const { data } = await supabase.from('invoices').select('id, total');
  const total = await supabase.rpc('invoice_total', { p_id: 1 });
  await supabase.from('ledger').insert({ amount: 1 });
  await supabase.from(table).select();
  await supabase.storage.from('avatars').upload('a.png', new Blob());
  await supabase.storage.from('docs').download('b.pdf');
  return { data, total, again: await supabase.from('invoices').select('id') };
}
`;

const CONFIG_TOML = `project_id = "invoices"

[api]
schemas = ["public", "graphql_public"]

[storage.buckets.avatars]
public = false
`;

function project(name: string, migrations: Record<string, string>): string {
  const dir = path.join(temp, name);
  mkdirSync(path.join(dir, 'supabase/migrations'), { recursive: true });
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'supabase/config.toml'), CONFIG_TOML);
  for (const [file, sql] of Object.entries(migrations)) writeFileSync(path.join(dir, 'supabase/migrations', file), sql);
  writeFileSync(path.join(dir, 'src/app.ts'), APP);
  return dir;
}

async function gate(flags: Record<string, string>, cwd: string): Promise<GateResult> {
  return (await invokeGate('rls', (name) => flags[name], 'cli', { cwd, env: {} })).result;
}

const byRule = (result: GateResult, rule: string): Finding[] => result.findings.filter((f) => f.rule === rule);

describe('rls-audit checks the Data API calls the app makes (PR mode, 2026 default)', () => {
  let result: GateResult;
  let dir: string;
  beforeAll(async () => {
    dir = project('no-grants', { '20260601090000_invoices.sql': MIGRATION });
    result = await gate({}, dir);
  });

  it('api_privilege_missing names the table, the call sites, the grant, and the migration that created it', () => {
    expect(result.status, result.error).toBe('fail');
    const [missing, ...others] = byRule(result, 'api_privilege_missing');
    expect(others).toEqual([]);
    expect(missing).toMatchObject({
      severity: 'error',
      object: { kind: 'table', schema: 'public', name: 'invoices' },
      location: { file: 'src/app.ts', line: 6 },
      remediation: 'grant select on table public.invoices to authenticated;',
    });
    expect(missing!.message).toMatch(/^Neither anon nor authenticated may SELECT on table public\.invoices: .*42501/);
    expect(missing!.detail).toMatch(/^Call sites \(2\): src\/app\.ts:6 \(select\), src\/app\.ts:12 \(select\)$/m);
    expect(missing!.detail).toMatch(/Data API grants in the shadow: The first migration is dated 2026-06-01/);
    expect(missing!.related).toEqual([
      { file: 'supabase/migrations/20260601090000_invoices.sql', line: 7, message: 'Where the migrations define public.invoices' },
      { file: 'src/app.ts', line: 12, message: 'Also called here (js)' },
    ]);
    // annotated on the call site, the migration and the second call site
    const annotations = annotationsOf({ ...result, findings: [missing!] });
    expect(annotations.map((a) => `${a.file}:${a.line}`)).toEqual(['src/app.ts:6', 'supabase/migrations/20260601090000_invoices.sql:7', 'src/app.ts:12']);
  });

  it('an .rpc to a function without EXECUTE, a table no migration creates, a bucket nothing creates', () => {
    expect(byRule(result, 'api_function_not_executable')).toEqual([
      expect.objectContaining({
        object: { kind: 'function', schema: 'public', name: 'invoice_total' },
        location: { file: 'src/app.ts', line: 7 },
        remediation: 'grant execute on function public.invoice_total(p_id bigint) to authenticated;',
      }),
    ]);
    expect(byRule(result, 'api_object_missing').map((f) => [f.object.schema, f.object.name, f.location?.line])).toEqual([['public', 'ledger', 8]]);
    expect(byRule(result, 'api_object_missing')[0]!.message).toMatch(/no migration creates table or view public\.ledger: the call returns 404 \(PGRST205\)/);
    // avatars is declared in config.toml, docs nowhere
    expect(byRule(result, 'api_bucket_missing').map((f) => [f.object.name, f.severity])).toEqual([['docs', 'warning']]);
  });

  it('lists the unresolved dynamic name, and reports the surface and metrics', () => {
    const [unresolved] = byRule(result, 'api_call_unresolved');
    expect(unresolved).toMatchObject({ severity: 'notice', location: { file: 'src/app.ts', line: 9 } });
    expect(unresolved!.detail).toBe('src/app.ts:9 table: table');
    expect(result.metrics).toMatchObject({ api_calls: 6, api_calls_unresolved: 1, api_files_scanned: 1 });
    expect(result.details?.appCode).toBe('7 Data API calls in 1 file scanned (1 with computed names, not checked)');
    const matrix = result.details?.accessMatrix as { columns: string[]; rows: Array<Record<string, string>> };
    expect(matrix.columns.at(-1)).toBe('app calls');
    expect(matrix.rows.find((row) => row.object === 'public.invoices')).toMatchObject({ role: 'anon', 'app calls': '2 · src/app.ts:6' });
    const outside = result.details?.appCalls as { rows: Array<Record<string, string>> };
    expect(outside.rows.map((row) => row.object)).toEqual([
      'bucket storage.avatars',
      'bucket storage.docs',
      'function public.invoice_total',
      'table public.ledger',
    ]);
  });

  it('with the grants the calls pass', async () => {
    const granted = project('grants', { '20260601090000_invoices.sql': MIGRATION, '20260602090000_grants.sql': GRANTS });
    const passed = await gate({}, granted);
    expect(passed.status, passed.error).toBe('fail'); // the missing table and bucket remain
    expect(byRule(passed, 'api_privilege_missing')).toEqual([]);
    expect(byRule(passed, 'api_function_not_executable')).toEqual([]);
    expect(byRule(passed, 'api_privilege_service_role_only')).toEqual([]);
    expect(byRule(passed, 'api_object_missing').map((f) => f.object.name)).toEqual(['ledger']);
  });

  it('an app without Data API calls: no findings and no app-calls column', async () => {
    const quiet = project('quiet', { '20260601090000_invoices.sql': MIGRATION });
    writeFileSync(path.join(quiet, 'src/app.ts'), 'export const answer = 42;\n');
    const passed = await gate({}, quiet);
    expect(passed.findings.filter((f) => f.rule.startsWith('api_'))).toEqual([]);
    expect(passed.details?.appCode).toBe('0 Data API calls in 1 file scanned');
    expect((passed.details?.accessMatrix as { columns: string[] }).columns).not.toContain('app calls');
    expect(passed.details?.appCalls).toBeUndefined();
  });
});

describe('rls-audit: an insert also needs the sequence behind a serial column', () => {
  const SERIAL = `create table public.notes (
  id bigserial primary key,
  body text not null
);
alter table public.notes enable row level security;
create policy "Signed-in users add notes" on public.notes for insert to authenticated with check (true);
grant insert on table public.notes to authenticated;
`;
  const APP_INSERT = `import { createClient } from '@supabase/supabase-js';
const supabase = createClient('https://example.supabase.co', 'anon-key');
export const add = () => supabase.from('notes').insert({ body: 'hi' });
`;
  function serialProject(name: string, migrations: Record<string, string>): string {
    const dir = project(name, migrations);
    writeFileSync(path.join(dir, 'src/app.ts'), APP_INSERT);
    return dir;
  }

  it('without USAGE on the sequence the insert fails for every user: api_privilege_missing with the sequence grant', async () => {
    const result = await gate({}, serialProject('serial-no-usage', { '20260601090000_notes.sql': SERIAL }));
    const [missing, ...others] = byRule(result, 'api_privilege_missing');
    expect(others).toEqual([]);
    expect(missing).toMatchObject({
      object: { kind: 'table', schema: 'public', name: 'notes' },
      location: { file: 'src/app.ts', line: 3 },
      remediation: 'grant usage on sequence public.notes_id_seq to authenticated;',
    });
    expect(missing!.message).toMatch(/sequence public\.notes_id_seq.*42501 permission denied for sequence/);
  });

  it('with USAGE on the sequence (or an identity column) there is nothing to report', async () => {
    const granted = serialProject('serial-usage', {
      '20260601090000_notes.sql': `${SERIAL}grant usage on sequence public.notes_id_seq to authenticated;\n`,
    });
    expect(byRule(await gate({}, granted), 'api_privilege_missing')).toEqual([]);
  });
});

describe('rls-audit Data API findings in PR mode against a base branch', () => {
  it('a finding already on the base is listed apart; the scan notices stay with the head', async () => {
    const repo = project('pr', { '20260601090000_invoices.sql': MIGRATION });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    writeFileSync(path.join(repo, 'supabase/migrations/20260603090000_notes.sql'), 'create table public.notes (id int primary key);\n');
    const result = await gate({ 'base-ref': 'main' }, repo);
    expect(result.preexisting?.map((f) => f.key)).toEqual(
      expect.arrayContaining(['api_privilege_missing:table:public.invoices', 'api_function_not_executable:function:public.invoice_total']),
    );
    expect(result.findings.filter((f) => f.rule === 'api_privilege_missing')).toEqual([]);
    expect(byRule(result, 'api_call_unresolved')).toHaveLength(1);
  });
});

describe('rls-audit checks the Data API calls on a live database (read-only)', () => {
  let rls: RlsCluster;
  beforeAll(async () => {
    rls = await startRlsCluster();
  });
  afterAll(async () => {
    await rls?.stop();
  });

  it('gives the same findings as the shadow', async () => {
    // The same migration on a live database, with no Data API grants (as the 2026 default leaves it).
    const url = await rls.fresh(
      `${MIGRATION}
       revoke all on table public.invoices from anon, authenticated, service_role;
       revoke all on function public.invoice_total(bigint) from anon, authenticated, service_role;
       insert into storage.buckets (id, name) values ('avatars', 'avatars');`,
    );
    const dir = path.join(temp, 'live');
    cpSync(path.join(temp, 'no-grants'), dir, { recursive: true });
    const result = await gate({ 'database-url': url, schemas: 'public' }, dir);
    expect(result.status, result.error).toBe('fail');
    const missing = byRule(result, 'api_privilege_missing');
    expect(missing.map((f) => [f.key, f.location, f.remediation])).toEqual([
      ['api_privilege_missing:table:public.invoices', { file: 'src/app.ts', line: 6 }, 'grant select on table public.invoices to authenticated;'],
    ]);
    expect(missing[0]!.related).toEqual([{ file: 'src/app.ts', line: 12, message: 'Also called here (js)' }]);
    expect(byRule(result, 'api_function_not_executable').map((f) => f.key)).toEqual(['api_function_not_executable:function:public.invoice_total']);
    expect(byRule(result, 'api_object_missing')[0]!.message).toMatch(/the database has no table or view public\.ledger/);
    // live, the database is the truth: a missing bucket is an error
    expect(byRule(result, 'api_bucket_missing').map((f) => [f.object.name, f.severity])).toEqual([['docs', 'error']]);
    expect(byRule(result, 'api_call_unresolved')).toHaveLength(1);
    expect(result.metrics).toMatchObject({ api_calls: 6, api_calls_unresolved: 1, api_files_scanned: 1 });
  });
});
