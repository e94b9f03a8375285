/**
 * The app's Data API calls against what the database grants (src/gates/rls/api-usage.ts), on
 * hand-built scans and facts; and the renderers' related locations (annotations, SARIF, text, markdown).
 */
import { describe, expect, it } from 'vitest';
import type { ApiCall, ApiUsage } from '../../src/api-usage/types.ts';
import { finding, type GateResult } from '../../src/findings/types.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import {
  type ApiFacts,
  apiUsageDetails,
  apiUsageFindings,
  apiUsageMetrics,
  groupCalls,
  neededPrivileges,
  type RelationFacts,
  type TablePrivilege,
} from '../../src/gates/rls/api-usage.ts';
import { matrixTable } from '../../src/gates/rls/render.ts';
import { annotationsOf, RELATED_ANNOTATIONS_MAX } from '../../src/report/annotations.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderSarif } from '../../src/report/sarif.ts';
import { renderText } from '../../src/report/text.ts';

function call(name: string, file: string, line: number, extra: Partial<ApiCall> = {}): ApiCall {
  return { target: 'table', name, operations: ['select'], site: { file, line, column: 5 }, language: 'js', ...extra };
}

function usage(calls: ApiCall[], extra: Partial<ApiUsage> = {}): ApiUsage {
  return { calls, unresolved: [], filesScanned: 3, skipped: [], ...extra };
}

const invoices = (extra: Partial<RelationFacts> = {}): RelationFacts => ({
  schema: 'public',
  name: 'invoices',
  kind: 'table',
  rls: true,
  privileges: { anon: [], authenticated: [], service_role: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
  schemaUsage: ['anon', 'authenticated', 'service_role'],
  policyRoles: { SELECT: ['authenticated'], INSERT: ['authenticated'] },
  sequences: [],
  ...extra,
});

const facts = (extra: Partial<ApiFacts> = {}): ApiFacts => ({
  mode: 'shadow',
  exposedSchemas: ['public', 'graphql_public'],
  apiRoles: ['anon', 'authenticated'],
  relations: [invoices({ privileges: { anon: [], authenticated: [] } })],
  functions: [],
  buckets: new Set(['avatars']),
  origins: new Map([['table:public.invoices', { file: 'supabase/migrations/20260601000000_invoices.sql', line: 3 }]]),
  ...extra,
});

describe('Data API calls judged against the grants', () => {
  it('one api_privilege_missing per table: every call site, the grant to the roles the policies name, at the first call site, the migration related', () => {
    const calls = [call('invoices', 'src/b.ts', 9, { operations: ['insert'] }), call('invoices', 'src/a.ts', 3), call('invoices', 'src/a.ts', 12)];
    const findings = apiUsageFindings(usage(calls), facts());
    expect(findings).toHaveLength(1);
    const [only] = findings;
    expect(only).toMatchObject({
      rule: 'api_privilege_missing',
      severity: 'error',
      object: { kind: 'table', schema: 'public', name: 'invoices' },
      key: 'api_privilege_missing:table:public.invoices',
      location: { file: 'src/a.ts', line: 3 },
      remediation: 'grant select, insert on table public.invoices to authenticated;',
    });
    expect(only!.message).toBe(
      "Neither anon nor authenticated may SELECT and INSERT on table public.invoices: the app's calls fail for every user with 42501 permission denied.",
    );
    expect(only!.detail).toBe('Call sites (3): src/a.ts:3 (select), src/a.ts:12 (select), src/b.ts:9 (insert)');
    expect(only!.related).toEqual([
      { file: 'supabase/migrations/20260601000000_invoices.sql', line: 3, message: 'Where the migrations define public.invoices' },
      { file: 'src/a.ts', line: 12, message: 'Also called here (js)' },
      { file: 'src/b.ts', line: 9, message: 'Also called here (js)' },
    ]);
  });

  it('maps operations to privileges: upsert needs INSERT and UPDATE, an unknown operation is a read', () => {
    expect(neededPrivileges([call('t', 'a.ts', 1, { operations: ['upsert'] })])).toEqual(['INSERT', 'UPDATE']);
    expect(neededPrivileges([call('t', 'a.ts', 1, { operations: [] })])).toEqual(['SELECT']);
    expect(neededPrivileges([call('t', 'a.ts', 1, { operations: ['delete', 'update'] })])).toEqual(['UPDATE', 'DELETE']);
  });

  it('passes when either API role has the privilege; a privilege only service_role has is a notice', () => {
    const granted = invoices({ privileges: { anon: [], authenticated: ['SELECT'], service_role: ['SELECT', 'DELETE'] } });
    const findings = apiUsageFindings(usage([call('invoices', 'a.ts', 1), call('invoices', 'a.ts', 2, { operations: ['delete'] })]), {
      ...facts({ relations: [granted] }),
      serverRole: 'service_role',
    });
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['api_privilege_service_role_only', 'notice']]);
    expect(findings[0]!.message).toMatch(/^Only service_role may DELETE on table public\.invoices/);
    expect(findings[0]!.remediation).toBe(
      '-- only if these calls run as a user (browser, app); server code needs nothing\ngrant delete on table public.invoices to authenticated;',
    );
  });

  it('an insert needs the sequence a serial column calls: missing for everyone is an error, for all but service_role a notice; reads never need it', () => {
    const sequence = (usable: string[]) => [{ schema: 'public', name: 'invoices_id_seq', usable }];
    const granted = { anon: [], authenticated: ['SELECT', 'INSERT'] as TablePrivilege[], service_role: ['SELECT', 'INSERT'] as TablePrivilege[] };
    const inserts = usage([call('invoices', 'a.ts', 1, { operations: ['insert'] })]);
    const [missing, ...none] = apiUsageFindings(inserts, facts({ relations: [invoices({ privileges: granted, sequences: sequence([]) })] }));
    expect(none).toEqual([]);
    expect(missing).toMatchObject({ rule: 'api_privilege_missing', remediation: 'grant usage on sequence public.invoices_id_seq to authenticated;' });
    expect(missing!.message).toBe(
      "Neither anon nor authenticated may use sequence public.invoices_id_seq, which inserts into table public.invoices call: the app's calls fail for every user with 42501 permission denied for sequence.",
    );
    const [notice] = apiUsageFindings(
      inserts,
      facts({ relations: [invoices({ privileges: granted, sequences: sequence(['service_role']) })], serverRole: 'service_role' }),
    );
    expect(notice).toMatchObject({ rule: 'api_privilege_service_role_only', severity: 'notice' });
    expect(notice!.remediation).toMatch(/grant usage on sequence public\.invoices_id_seq to authenticated;$/);
    expect(apiUsageFindings(inserts, facts({ relations: [invoices({ privileges: granted, sequences: sequence(['authenticated']) })] }))).toEqual([]);
    expect(apiUsageFindings(usage([call('invoices', 'a.ts', 1)]), facts({ relations: [invoices({ privileges: granted, sequences: sequence([]) })] }))).toEqual(
      [],
    );
  });

  it('grants to the roles the policies name per privilege, and USAGE on the schema when missing', () => {
    const table = invoices({
      schema: 'app',
      privileges: { anon: [], authenticated: [] },
      schemaUsage: [],
      policyRoles: { SELECT: ['anon', 'authenticated'], DELETE: ['authenticated'] },
    });
    const [only] = apiUsageFindings(usage([call('invoices', 'a.ts', 1, { schema: 'app', operations: ['select', 'delete'] })]), {
      ...facts({ relations: [table], exposedSchemas: ['public', 'app'] }),
    });
    expect(only!.remediation).toBe(
      'grant usage on schema app to anon, authenticated;\ngrant select on table app.invoices to anon, authenticated;\ngrant delete on table app.invoices to authenticated;',
    );
  });

  it('api_object_missing: no such table, a table in a schema that is not exposed, the client default schema', () => {
    const relations = [invoices({ schema: 'private' })];
    const findings = apiUsageFindings(
      usage([call('invoices', 'a.ts', 1), call('ledger', 'a.ts', 2), call('invoices', 'b.ts', 1, { schema: 'private' })]),
      facts({ relations }),
    );
    expect(findings.map((f) => `${f.rule} ${f.object.schema}.${f.object.name}`)).toEqual([
      'api_object_missing private.invoices',
      'api_object_missing public.invoices',
      'api_object_missing public.ledger',
    ]);
    const [privateOne, publicOne, ledger] = findings;
    expect(privateOne!.message).toBe(
      'The app calls table or view private.invoices, but schema private is not exposed through the Data API: the call returns an error (PGRST106).',
    );
    expect(publicOne!.message).toBe(
      'The app calls table or view public.invoices, but no migration creates table or view public.invoices: the call returns 404 (PGRST205).',
    );
    expect(publicOne!.detail).toMatch(/^Found instead: private\.invoices \(exposed schemas: public, graphql_public\)\./);
    expect(ledger!.location).toEqual({ file: 'a.ts', line: 2 });
    // the first exposed schema is the default
    const other = apiUsageFindings(usage([call('invoices', 'a.ts', 1)]), facts({ relations, exposedSchemas: ['private', 'public'] }));
    expect(other.map((f) => `${f.rule} ${f.object.schema}.${f.object.name}`)).toEqual(['api_privilege_missing private.invoices']);
  });

  it('live mode says the database lacks the object', () => {
    const [only] = apiUsageFindings(usage([call('ledger', 'a.ts', 2)]), facts({ mode: 'live', origins: undefined }));
    expect(only!.message).toMatch(/but the database has no table or view public\.ledger/);
    expect(only!.related).toBeUndefined();
  });

  it('functions: executable if any overload is; otherwise api_function_not_executable with a grant per overload', () => {
    const overload = (args: string, executable: string[]) => ({ schema: 'public', name: 'total', args, executable, schemaUsage: ['anon', 'authenticated'] });
    const rpc = [call('total', 'src/rpc.ts', 4, { target: 'function', operations: ['execute'] })];
    expect(apiUsageFindings(usage(rpc), facts({ functions: [overload('a integer', []), overload('a text', ['authenticated'])] }))).toEqual([]);
    const [only] = apiUsageFindings(usage(rpc), facts({ functions: [overload('a integer', []), overload('a text', [])] }));
    expect(only).toMatchObject({ rule: 'api_function_not_executable', severity: 'error', object: { kind: 'function', schema: 'public', name: 'total' } });
    expect(only!.remediation).toBe(
      'grant execute on function public.total(a integer) to authenticated;\ngrant execute on function public.total(a text) to authenticated;',
    );
    const [missing] = apiUsageFindings(usage([call('nope', 'src/rpc.ts', 4, { target: 'function', operations: ['execute'] })]), facts());
    expect(missing).toMatchObject({ rule: 'api_object_missing', object: { kind: 'function' } });
    expect(missing!.message).toMatch(/PGRST202/);
  });

  it('buckets: missing is a warning in PR mode and an error live; unknown buckets are not judged', () => {
    const uses = usage([
      call('avatars', 'a.ts', 1, { target: 'bucket', operations: ['storage'] }),
      call('docs', 'a.ts', 2, { target: 'bucket', operations: ['storage'] }),
    ]);
    expect(apiUsageFindings(uses, facts()).map((f) => [f.rule, f.severity, f.object.name])).toEqual([['api_bucket_missing', 'warning', 'docs']]);
    expect(apiUsageFindings(uses, facts({ mode: 'live' }))[0]!.severity).toBe('error');
    expect(apiUsageFindings(uses, facts({ buckets: undefined }))).toEqual([]);
  });

  it('lists unresolved calls and unreadable files as one notice each (the scan notices can be left out)', () => {
    const scan = usage([], {
      unresolved: [
        { target: 'table', expression: 'tableName', site: { file: 'src/z.ts', line: 7, column: 1 }, language: 'js' },
        { target: 'function', expression: '`fn_${x}`\n::error::x', site: { file: 'src/a.ts', line: 1, column: 1 }, language: 'js' },
      ],
      skipped: [{ file: 'src/big.js', reason: 'larger than 1024 KiB' }],
    });
    const findings = apiUsageFindings(scan, facts());
    expect(findings.map((f) => `${f.rule}:${f.severity}`)).toEqual(['api_call_unresolved:notice', 'api_files_skipped:notice']);
    expect(findings[0]!.message).toBe(
      '2 Data API calls name their table, function or bucket with an expression the scan cannot read, so they were not checked.',
    );
    expect(findings[0]!.detail).toBe('src/a.ts:1 function: `fn_${x}`\\n::error::x\nsrc/z.ts:7 table: tableName');
    expect(findings[0]!.location).toEqual({ file: 'src/a.ts', line: 1 });
    expect(findings[1]!.detail).toBe('src/big.js: larger than 1024 KiB');
    expect(apiUsageFindings(scan, facts(), false)).toEqual([]);
  });

  it('no calls: no findings, and only a line in the report', () => {
    const none = usage([], { filesScanned: 40 });
    expect(apiUsageFindings(none, facts())).toEqual([]);
    expect(apiUsageDetails(none, ['public'], new Set())).toEqual({ appCode: '0 Data API calls in 40 files scanned' });
    expect(apiUsageMetrics(none)).toEqual({ api_calls: 0, api_calls_unresolved: 0, api_files_scanned: 40 });
  });

  it('the surface: calls per object, the ones outside the matrix listed apart', () => {
    const calls = [
      call('invoices', 'src/a.ts', 3),
      call('invoices', 'src/a.ts', 1),
      call('total', 'src/r.ts', 2, { target: 'function', operations: ['execute'] }),
      call('avatars', 'src/s.ts', 5, { target: 'bucket', operations: ['storage'] }),
    ];
    expect(groupCalls(usage(calls), ['public']).map((g) => `${g.target} ${g.schema}.${g.name} ${g.calls.length}`)).toEqual([
      'bucket storage.avatars 1',
      'function public.total 1',
      'table public.invoices 2',
    ]);
    expect(apiUsageDetails(usage(calls), ['public'], new Set(['public.invoices']))).toEqual({
      appCode: '4 Data API calls in 3 files scanned',
      appCalls: {
        title: 'App calls to objects outside the access matrix',
        columns: ['object', 'calls'],
        rows: [
          { object: 'bucket storage.avatars', calls: '1 · src/s.ts:5' },
          { object: 'function public.total', calls: '1 · src/r.ts:2' },
        ],
      },
    });
    const matrix = {
      actors: [
        { id: 'anon', label: 'anon', role: 'anon' },
        { id: 'a', label: 'authenticated (A)', role: 'authenticated', user: 'A' as const },
      ],
      commands: ['SELECT'] as const,
      users: { A: 'a', B: 'b' },
      rows: [{ object: { kind: 'table', schema: 'public', name: 'invoices' }, cells: { anon: { SELECT: { access: 'none' as const } } } }],
    };
    const table = matrixTable(matrix, new Map([['public.invoices', '2 · src/a.ts:1']]));
    expect(table.columns).toEqual(['object', 'role', 'SELECT', 'app calls']);
    expect(table.rows.map((row) => row['app calls'])).toEqual(['2 · src/a.ts:1', '']);
    expect(matrixTable(matrix).columns).toEqual(['object', 'role', 'SELECT']);
  });
});

describe('related locations in the renderers', () => {
  const related = Array.from({ length: 12 }, (_, i) => ({ file: `src/f${i}.ts`, line: i + 1, message: 'Also called here (js)' }));
  const item = finding({
    rule: 'api_privilege_missing',
    severity: 'error',
    object: { kind: 'table', schema: 'public', name: 'invoices' },
    message: 'Neither anon nor authenticated may SELECT on table public.invoices.',
    remediation: 'grant select on table public.invoices to authenticated;',
    location: { file: 'src/a.ts', line: 3 },
    related: [{ file: 'supabase/migrations/1_init.sql', line: 2, message: 'Where the migrations define public.invoices' }, ...related],
  });
  const result: GateResult = { gate: 'rls', status: 'fail', findings: [item], metrics: {} };

  it('annotations: one per related location, capped per finding, each with the fix', () => {
    const annotations = annotationsOf(result);
    expect(annotations).toHaveLength(1 + RELATED_ANNOTATIONS_MAX);
    expect(annotations[1]).toMatchObject({
      file: 'supabase/migrations/1_init.sql',
      line: 2,
      severity: 'error',
      title: 'api_privilege_missing: table public.invoices',
      message: 'Where the migrations define public.invoices\nNeither anon nor authenticated may SELECT on table public.invoices.',
      details: 'grant select on table public.invoices to authenticated;',
    });
    expect(annotationsOf({ ...result, findings: [{ ...item, related: undefined }] })).toHaveLength(1);
  });

  it('SARIF: relatedLocations with ids and messages', () => {
    const run = JSON.parse(renderSarif(result, { rules: RULE_CATALOG }).text).runs[0];
    const locations = run.results[0].relatedLocations;
    expect(locations).toHaveLength(13);
    expect(locations[0]).toEqual({
      id: 1,
      physicalLocation: { artifactLocation: { uri: 'supabase/migrations/1_init.sql' }, region: { startLine: 2 } },
      message: { text: 'Where the migrations define public.invoices' },
    });
    const plain = JSON.parse(renderSarif({ ...result, findings: [{ ...item, related: undefined }] }, { rules: RULE_CATALOG }).text).runs[0];
    expect(plain.results[0]).not.toHaveProperty('relatedLocations');
  });

  it('text and markdown show them compactly', () => {
    expect(renderText(result, { color: false, rules: RULE_CATALOG })).toContain(
      '      also at supabase/migrations/1_init.sql:2, src/f0.ts:1, src/f1.ts:2, src/f2.ts:3, src/f3.ts:4 (+8 more)\n',
    );
    expect(renderMarkdown(result, { rules: RULE_CATALOG })).toContain(
      '| table `public.invoices` | `src/a.ts:3`<br><sub>also: `supabase/migrations/1_init.sql:2`, `src/f0.ts:1`, `src/f1.ts:2`, +10</sub> |',
    );
  });
});
