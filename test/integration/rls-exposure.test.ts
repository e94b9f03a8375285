/**
 * rls-audit's exposed schemas, as the Supabase CLI serves them from supabase/config.toml:
 * platform tables in an exposed `storage` schema are judged by the storage rules only, an
 * empty `[api] schemas` audits what PostgREST then serves (public) and says so, `[api]
 * enabled = false` exposes nothing and says so, and checks that cannot succeed fail before
 * any database is started, naming the input as the user gave it.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GateResult } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import type { Surface } from '../../src/config/input-spec.ts';
import { runCli, scratchDir, STACK_TRACE } from '../support/faults.ts';

const temp = mkdtempSync(path.join(os.tmpdir(), 'rls-exposure-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const label = (f: { rule: string; object: { schema?: string; name: string } }) => `${f.rule} ${f.object.schema ?? ''}.${f.object.name}`;

/** A Supabase project: supabase/config.toml and one migration (dated 2025: the legacy Data API grants). */
function supabaseProject(name: string, toml: string, sql: string): string {
  const dir = path.join(temp, name);
  mkdirSync(path.join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(path.join(dir, 'supabase', 'config.toml'), `project_id = "${name}"\n\n${toml}`);
  writeFileSync(path.join(dir, 'supabase', 'migrations', '20250101000000_init.sql'), sql);
  return dir;
}

async function gate(flags: Record<string, string>, cwd: string, surface: Surface = 'cli'): Promise<GateResult> {
  return (await invokeGate('rls', (name) => flags[name], surface, { cwd, env: {} })).result;
}

const LEAKY = 'create table public.leaky (id int primary key, note text);\n';

describe('rls-audit: exposed schemas from supabase/config.toml', () => {
  it('judges the platform tables of an exposed storage schema by the storage rules only', async () => {
    const dir = supabaseProject(
      'storage-exposed',
      '[api]\nenabled = true\n# the CLI template before 2023\nschemas = ["public", "storage", "graphql_public"]\n',
      'create table public.notes (id int primary key, owner uuid default auth.uid());\nalter table public.notes enable row level security;\ncreate policy "own notes" on public.notes for select to authenticated using (owner = (select auth.uid()));\n',
    );
    const result = await gate({ 'migrations-dir': 'supabase/migrations' }, dir);
    expect(result.status, result.error).toBe('pass');
    const onStorage = result.findings.filter((f) => f.object.schema === 'storage').map(label);
    expect(onStorage).toEqual([]);
    const exposure = result.details?.exposure as Record<string, string>;
    expect(exposure.exposed_schemas).toBe('public, storage, graphql_public');
    expect(exposure.platform_schemas).toMatch(/^storage, graphql_public \(managed by Supabase: judged by the Storage rules/);
  });

  it("[api] schemas = [] audits what the CLI serves (PostgREST's default, public) and says so in a notice", async () => {
    const dir = supabaseProject('schemas-empty', '[api]\nenabled = true\n# `public` and `storage` are always included.\nschemas = []\n', LEAKY);
    const result = await gate({ 'migrations-dir': 'supabase/migrations' }, dir);
    expect(result.status, result.error).toBe('fail');
    expect(result.findings.map(label)).toContain('rls_disabled_in_public public.leaky');
    const notice = result.findings.find((f) => f.rule === 'api_schemas_empty');
    expect(notice?.severity).toBe('notice');
    expect(notice?.message).toMatch(/supabase\/config\.toml sets \[api\] schemas = \[\].*audited: public/);
    expect(notice?.location).toEqual({ file: 'supabase/config.toml', line: 6 });
    const exposure = result.details?.exposure as Record<string, string>;
    expect(exposure.exposed_schemas).toBe('public');
    expect(exposure.exposure_source).toMatch(/\[api\] schemas = \[\]/);
  });

  it('[api] enabled = false exposes nothing: a notice says so, and the exposure rules checked no table', async () => {
    const dir = supabaseProject('api-disabled', '[api]\nenabled = false\nschemas = ["public"]\n', LEAKY);
    const result = await gate({ 'migrations-dir': 'supabase/migrations' }, dir);
    expect(result.status, result.error).toBe('pass');
    expect(result.findings.map(label)).not.toContain('rls_disabled_in_public public.leaky');
    const notice = result.findings.find((f) => f.rule === 'data_api_disabled');
    expect(notice?.severity).toBe('notice');
    expect(notice?.message).toMatch(/\[api\] enabled = false.*no schema/);
    expect(notice?.location).toEqual({ file: 'supabase/config.toml', line: 4 });
    expect((result.details?.exposure as Record<string, string>).exposed_schemas).toBe('none (the Data API is disabled)');
  });
});

describe('rls-audit: checks that cannot succeed fail before any database is started', () => {
  const plain = path.join(temp, 'plain');
  mkdirSync(path.join(plain, 'migrations'), { recursive: true });
  writeFileSync(path.join(plain, 'migrations', '001_init.sql'), 'create table public.t (id int);\n');
  /** A shadow server postgate cannot reach: the run fails on it if it gets that far. */
  const UNREACHABLE = ['--shadow', 'url', '--shadow-database-url', 'postgresql://postgate@127.0.0.1:1/never'];
  const emptyBin = path.join(temp, 'no-binaries');
  mkdirSync(emptyBin, { recursive: true });
  /** A local shadow that cannot start (no server binaries, no fetching): the run fails on it if it gets that far. */
  const NO_LOCAL_SERVER = { PG_BIN: emptyBin, POSTGATE_NO_FETCH: '1' };

  it('no exposed schemas known: exit 2 naming `--schemas` on the CLI', async () => {
    const tmpdir = scratchDir(temp, 'cli');
    const run = await runCli(['rls', '--migrations-dir', 'migrations', '--migrations-format', 'plain', ...UNREACHABLE, '--format', 'json'], {
      cwd: plain,
      tmpdir,
    });
    expect(run.code).toBe(2);
    expect(run.result?.error).toMatch(
      /^No exposed schemas are known, and rls-audit never assumes that nothing is exposed: pass flag `--schemas` \(e\.g\. public\)/,
    );
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(readdirSync(tmpdir)).toEqual([]);
  });

  it('no exposed schemas known: the action names its input `schemas`', async () => {
    const result = await gate(
      { 'migrations-dir': 'migrations', 'migrations-format': 'plain', shadow: 'url', 'shadow-database-url': 'postgresql://postgate@127.0.0.1:1/never' },
      plain,
      'action',
    );
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/pass input `schemas` \(e\.g\. public\)/);
    expect(result.error).not.toMatch(/--schemas/);
  });

  it('an empty rls.exposed-schemas in the repo config is bad input, not "nothing exposed"', async () => {
    writeFileSync(path.join(plain, 'empty.yml'), 'rls:\n  exposed-schemas: []\n');
    const result = await gate({ 'migrations-dir': 'migrations', 'migrations-format': 'plain', config: 'empty.yml' }, plain, 'action');
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/empty\.yml: key `rls\.exposed-schemas` expected at least one schema \(leave the key out/);
  });

  it('an unusable toml schema list names the flag as given', async () => {
    const dir = supabaseProject('schemas-not-a-list', '[api]\nschemas = "public"\n', LEAKY);
    const tmpdir = scratchDir(temp, 'cli');
    const run = await runCli(['rls', '--migrations-dir', 'supabase/migrations', ...UNREACHABLE, '--format', 'json'], { cwd: dir, tmpdir });
    expect(run.code).toBe(2);
    expect(run.result?.error).toMatch(/supabase\/config\.toml: \[api\] schemas must be a list of schema names; fix it or pass flag `--schemas`/);
  });

  it('API roles that neither the Supabase baseline nor a migration creates: exit 2 naming `--api-roles`', async () => {
    const dir = supabaseProject('roles-missing', '[api]\nschemas = ["public"]\n', LEAKY);
    const tmpdir = scratchDir(temp, 'cli');
    const run = await runCli(['rls', '--migrations-dir', 'supabase/migrations', '--shadow', 'local', '--api-roles', 'anon,web_user', '--format', 'json'], {
      cwd: dir,
      tmpdir,
      env: NO_LOCAL_SERVER,
    });
    expect(run.code).toBe(2);
    expect(run.result?.error).toMatch(/API role "web_user" from flag `--api-roles` does not exist/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it('a plain project without the default API roles: exit 2 before starting a server', async () => {
    const tmpdir = scratchDir(temp, 'cli');
    const run = await runCli(
      ['rls', '--migrations-dir', 'migrations', '--migrations-format', 'plain', '--schemas', 'public', '--shadow', 'local', '--format', 'json'],
      {
        cwd: plain,
        tmpdir,
        env: NO_LOCAL_SERVER,
      },
    );
    expect(run.code).toBe(2);
    expect(run.result?.error).toMatch(/API roles "anon", "authenticated" from the default api-roles do not exist .*set flag `--api-roles`/);
  });

  it('a schema that nothing creates: exit 2 naming `--schemas`', async () => {
    const dir = supabaseProject('schema-missing', '[api]\nschemas = ["public"]\n', LEAKY);
    const tmpdir = scratchDir(temp, 'cli');
    const run = await runCli(['rls', '--migrations-dir', 'supabase/migrations', '--shadow', 'local', '--schemas', 'public,nosuch', '--format', 'json'], {
      cwd: dir,
      tmpdir,
      env: NO_LOCAL_SERVER,
    });
    expect(run.code).toBe(2);
    expect(run.result?.error).toMatch(
      /^The schema list from flag `--schemas` names schema "nosuch", which neither the Supabase baseline nor any migration creates/,
    );
  });
});
