/** rls-audit's pure parts: policy expressions, exposure sources, the PR diff of matrices and policies. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffMatrices, diffPolicies, type PolicySnapshot, splitPreexisting } from '../../src/gates/rls/access-diff.ts';
import { auditStatement } from '../../src/gates/rls/audit.ts';
import { resolveApiRoles, staticExposure } from '../../src/gates/rls/exposure.ts';
import type { AccessMatrix } from '../../src/gates/rls/matrix.ts';
import { normaliseExpression, unwrappedClaimCalls } from '../../src/gates/rls/policy-text.ts';
import { RLS_RULES } from '../../src/gates/rls/rules.ts';
import { finding } from '../../src/findings/types.ts';

describe('policy expressions as pg_get_expr prints them', () => {
  it.each([
    ['(owner_id = auth.uid())', ['auth.uid()']],
    ['(owner_id = ( SELECT auth.uid() AS uid))', []],
    ["((( SELECT auth.jwt() AS jwt) -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text", []],
    ["(( SELECT ((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text)) = (user_id)::text)", []],
    ["((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text) = (user_id)::text", ['current_setting(...)']],
    ['(EXISTS ( SELECT 1 FROM memberships m WHERE ((m.team_id = t.team_id) AND (m.user_id = auth.uid()))))', ['auth.uid()']],
    ['(EXISTS ( SELECT 1 FROM memberships m WHERE ((m.team_id = t.team_id) AND (m.user_id = ( SELECT auth.uid() AS uid)))))', []],
    ["(auth.role() = 'authenticated'::text)", ['auth.role()']],
  ])('unwrappedClaimCalls(%s)', (expr, expected) => {
    expect(unwrappedClaimCalls(expr)).toEqual(expected);
  });

  it('normalises expressions for comparing versions', () => {
    expect(normaliseExpression('((owner_id = ( SELECT auth.uid() AS uid)))')).toBe(normaliseExpression('(owner_id = ( SELECT auth.uid()  AS uid))'));
    expect(normaliseExpression(null)).toBe('');
  });
});

describe('exposure sources', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rls-exposure-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const project = (toml: string | undefined) => {
    const root = mkdtempSync(path.join(dir, 'p-'));
    mkdirSync(path.join(root, 'supabase', 'migrations'), { recursive: true });
    if (toml !== undefined) writeFileSync(path.join(root, 'supabase', 'config.toml'), toml);
    return root;
  };

  it('takes the input first, then the repo config, then config.toml', () => {
    const root = project('[api]\nschemas = ["public", "api"]\n');
    expect(staticExposure({ options: { schemas: ['x'] }, configSchemas: ['y'], cwd: root, migrationsDir: undefined })).toEqual({
      schemas: ['x'],
      source: 'input `schemas`',
    });
    expect(staticExposure({ options: { schemas: [] }, configSchemas: ['y'], cwd: root, migrationsDir: undefined })?.source).toBe(
      'repo config rls.exposed-schemas',
    );
    expect(staticExposure({ options: { schemas: [] }, configSchemas: undefined, cwd: root, migrationsDir: undefined })).toEqual({
      schemas: ['public', 'api'],
      source: 'supabase/config.toml [api] schemas',
    });
  });

  it("uses Supabase's default when config.toml has no [api] schemas, and finds it next to the migrations", () => {
    const root = project('project_id = "x"\n');
    const found = staticExposure({
      options: { schemas: [] },
      configSchemas: undefined,
      cwd: os.tmpdir(),
      migrationsDir: path.join(root, 'supabase', 'migrations'),
    });
    expect(found?.schemas).toEqual(['public', 'graphql_public']);
  });

  it('knows nothing without any source (the caller then asks the database, and errors)', () => {
    expect(staticExposure({ options: { schemas: [] }, configSchemas: undefined, cwd: project(undefined), migrationsDir: undefined })).toBeUndefined();
  });

  it('rejects a config.toml whose [api] schemas is not a list of names', () => {
    const root = project('[api]\nschemas = "public"\n');
    expect(() => staticExposure({ options: { schemas: [] }, configSchemas: undefined, cwd: root, migrationsDir: undefined })).toThrow(
      /\[api\] schemas must be a list/,
    );
  });

  it('api roles: input, else repo config, else anon and authenticated', () => {
    expect(resolveApiRoles({ apiRoles: ['web_anon'] }, ['x']).roles).toEqual(['web_anon']);
    expect(resolveApiRoles({ apiRoles: [] }, ['web_anon', 'web_user']).roles).toEqual(['web_anon', 'web_user']);
    expect(resolveApiRoles({ apiRoles: [] }, undefined)).toEqual({
      roles: ['anon', 'authenticated'],
      source: 'the default api-roles',
      input: 'input `api-roles`',
    });
  });
});

describe('the audit statement', () => {
  it('joins every rule into one statement over the shared CTEs, with seven parameters (the last two: the policy shard, all when null)', () => {
    const statement = auditStatement(RLS_RULES, { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: true });
    expect(statement.values).toHaveLength(7);
    expect(statement.values.slice(5)).toEqual([null, null]);
    expect(
      auditStatement(RLS_RULES, { exposedSchemas: ['public'], apiRoles: ['anon'], forceRls: false }, { modulus: 5, remainders: [0, 4] }).values.slice(5),
    ).toEqual([5, [0, 4]]);
    expect(statement.text.match(/union all/g)).toHaveLength(RLS_RULES.length - 1);
    for (const rule of RLS_RULES) expect(statement.text).toContain(`'${rule.id}'::text as rule`);
  });

  it('gives every rule a doc paragraph of substance', () => {
    for (const rule of RLS_RULES) expect(rule.doc.length, rule.id).toBeGreaterThan(150);
  });
});

const actors = [
  { id: 'anon', label: 'anon', role: 'anon' },
  { id: 'user_a', label: 'authenticated (A)', role: 'authenticated', user: 'A' as const },
];
const matrix = (rows: AccessMatrix['rows']): AccessMatrix => ({ actors, commands: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], users: { A: 'a', B: 'b' }, rows });
const row = (name: string, anon: string, user: string): AccessMatrix['rows'][number] => ({
  object: { kind: 'table', schema: 'public', name },
  cells: { anon: { SELECT: { access: anon as never } }, user_a: { SELECT: { access: user as never } } },
});

describe('PR access diff', () => {
  it('turns widened access into one finding per object: error for anon, warning for signed-in users', () => {
    const { findings, changes } = diffMatrices(
      matrix([row('profiles', 'none', 'own'), row('trips', 'none', 'own'), row('keys', 'all', 'all')]),
      matrix([row('profiles', 'all', 'own'), row('trips', 'none', 'all'), row('keys', 'none', 'own'), row('fresh', 'none', 'own')]),
    );
    expect(findings.map((f) => [f.object.name, f.severity, f.message])).toEqual([
      ['profiles', 'error', 'table public.profiles: anon can now SELECT every row (was: denied).'],
      ['trips', 'warning', 'table public.trips: authenticated (A) can now SELECT every row (was: own rows only).'],
    ]);
    expect(changes.filter((c) => c.direction === 'narrower').map((c) => `${c.object} ${c.actor}`)).toEqual([
      'public.keys anon',
      'public.keys authenticated (A)',
    ]);
    expect(changes.find((c) => c.object === 'public.fresh')).toMatchObject({ before: 'new table', after: 'own rows only', direction: 'wider' });
  });

  it('says when a policy stops restricting by the caller', () => {
    const base: PolicySnapshot = {
      schema: 'public',
      table: 'trips',
      name: 'trips_select',
      command: 'SELECT',
      permissive: true,
      roles: ['authenticated'],
      using: '(owner_id = ( SELECT auth.uid() AS uid))',
      check: null,
      rls: true,
    };
    const head = { ...base, using: 'true' };
    const [changed] = diffPolicies([base], [head]);
    expect(changed?.message).toBe('Policy "trips_select" on public.trips: USING no longer restricts by the caller (auth.uid()/auth.jwt()).');
    expect(diffPolicies([base], [base])).toEqual([]);
    expect(diffPolicies([base], []).map((f) => f.message)).toEqual(['Policy "trips_select" on public.trips was dropped.']);
  });

  it('sets apart findings that the base branch already had', () => {
    const f = (name: string) =>
      finding({ rule: 'rls_disabled_in_public', severity: 'error', object: { kind: 'table', schema: 'public', name }, message: name });
    const { fresh, preexisting } = splitPreexisting([f('old'), f('new')], [f('old'), f('gone')]);
    expect(fresh.map((x) => x.object.name)).toEqual(['new']);
    expect(preexisting.map((x) => x.object.name)).toEqual(['old']);
  });
});

describe('security_definer_view on every supported major', () => {
  const rule = RLS_RULES.find((r) => r.id === 'security_definer_view')!;
  const row = { schema: 'public', name: 'trip_overview', roles: ['anon', 'authenticated'] };

  it('is not skipped on PostgreSQL 13 and 14, where no view can be security_invoker', () => {
    expect(rule).not.toHaveProperty('minMajor');
    expect(rule.query).toMatch(/server_version_num/);
  });

  it('proposes security_invoker where the server has it, and a revoke where it does not', () => {
    expect(rule.describe({ ...row, invoker_supported: true }).remediation).toBe('alter view public.trip_overview set (security_invoker = on);');
    expect(rule.describe({ ...row, invoker_supported: false }).remediation).toMatch(
      /^revoke select on public\.trip_overview from anon, authenticated; {2}-- PostgreSQL < 15 has no security_invoker/,
    );
  });
});
