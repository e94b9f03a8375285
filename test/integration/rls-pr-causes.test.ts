/**
 * rls-audit in PR mode (base branch vs pull request, two shadow databases): one cause, one
 * finding. A table opened for reading on purpose by an explicit `using (true)` SELECT policy is
 * a notice in the access diff unless the repo config lists it in `rls.private-tables`; a table
 * without row level security is one error, with the access diff folded into it as detail; an
 * always-true write policy is still an error.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, GateResult } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';

const temp = mkdtempSync(path.join(os.tmpdir(), 'rls-pr-causes-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const ROLES = `do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'web_anon') then create role web_anon nologin; end if;
    if not exists (select 1 from pg_roles where rolname = 'web_user') then create role web_user nologin; end if;
  end $$;
  create schema api;
  grant usage on schema api to web_anon, web_user;
`;

/** Readable by everyone through an explicit policy; the second one is listed as private. */
const publicRead = (table: string) => `
  create table api.${table} (id int primary key, body text not null);
  alter table api.${table} enable row level security;
  create policy anyone_reads on api.${table} for select to web_anon, web_user using (true);
  grant select on api.${table} to web_anon, web_user;
`;

const PR_MIGRATION = `${publicRead('notes')}${publicRead('diary')}
  -- no row level security at all
  create table api.open_data (id int primary key, body text not null);
  grant select, insert on api.open_data to web_anon;

  -- anyone may change every row
  create table api.tasks (id int primary key, body text not null);
  alter table api.tasks enable row level security;
  create policy anyone_reads on api.tasks for select to web_anon using (true);
  create policy anyone_updates on api.tasks for update to web_anon using (true) with check (true);
  create policy anyone_inserts on api.tasks for insert to web_anon with check (true);
  grant select, insert, update on api.tasks to web_anon;
`;

const onTable = (findings: readonly Finding[], name: string) =>
  findings.filter((f) => f.object.kind === 'table' && f.object.schema === 'api' && f.object.name === name);

describe('rls-audit PR mode: one cause, one finding', () => {
  let result: GateResult;
  beforeAll(async () => {
    const dir = path.join(temp, 'repo');
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });
    writeFileSync(path.join(dir, 'postgate.yml'), 'rls:\n  exposed-schemas: [api]\n  api-roles: [web_anon, web_user]\n  private-tables: [api.diary]\n');
    writeFileSync(path.join(dir, 'migrations', '001_init.sql'), ROLES);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    writeFileSync(path.join(dir, 'migrations', '002_tables.sql'), PR_MIGRATION);
    result = (
      await invokeGate(
        'rls',
        (name) => ({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', config: 'postgate.yml', 'base-ref': 'main' })[name],
        'cli',
        { cwd: dir, env: {} },
      )
    ).result;
  });

  it('a new table readable by everyone through an explicit SELECT policy is one notice in the access diff', () => {
    expect(result.error).toBeUndefined();
    const notes = onTable(result.findings, 'notes');
    expect(notes.map((f) => `${f.rule}:${f.severity}`)).toEqual(['rls_matrix_access_changed:notice']);
    expect(notes[0]!.message).toMatch(
      /^New table api\.notes: web_anon, web_user \(A\), web_user \(B\) can now SELECT every row \(public read: policy "anyone_reads"\)\.$/,
    );
    expect(notes[0]!.detail).toMatch(/rls\.private-tables/);
  });

  it('the same table listed in rls.private-tables is an error', () => {
    const diary = onTable(result.findings, 'diary');
    expect(diary.map((f) => `${f.rule}:${f.severity}`)).toEqual(['rls_matrix_access_changed:error']);
    expect(diary[0]!.message).toMatch(/web_anon, web_user \(A\), web_user \(B\) can now SELECT every row\.$/);
  });

  it('a new table without row level security exposed to anon is exactly one error, the access diff folded in as detail', () => {
    const open = onTable(result.findings, 'open_data');
    expect(open.map((f) => `${f.rule}:${f.severity}`)).toEqual(['rls_disabled_in_public:error']);
    expect(open[0]!.detail).toMatch(/rls_matrix_access_changed: New table api\.open_data: web_anon can now SELECT, INSERT every row\./);
  });

  it('an always-true write policy is still an error', () => {
    const tasks = onTable(result.findings, 'tasks');
    expect(tasks.map((f) => `${f.rule}:${f.severity}`)).toEqual(['rls_matrix_access_changed:error']);
    expect(tasks[0]!.message).toMatch(/web_anon can now INSERT, UPDATE every row\.$/);
    expect(result.findings.find((f) => f.rule === 'rls_policy_always_true' && f.object.name === 'tasks.anyone_updates')).toBeDefined();
    expect(result.status).toBe('fail');
  });
});
