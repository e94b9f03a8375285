/** Renderers: terminal text, markdown (with size limits), SARIF 2.1.0, annotations. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/findings/rules.ts';
import { finding, type Finding, type GateResult } from '../../src/findings/types.ts';
import { annotationsOf } from '../../src/report/annotations.ts';
import { detailBlock, detailBlocks } from '../../src/report/details.ts';
import { measure, renderMarkdown, RULES_DOC_URL } from '../../src/report/markdown.ts';
import { renderSarif } from '../../src/report/sarif.ts';
import { renderJson, renderText, shouldColor } from '../../src/report/text.ts';
import { forgetSecretsForTests, registerSecret } from '../../src/secrets.ts';

/** The tests' own rule catalog, passed to the renderers as RULE_CATALOG is in a run. */
const RULES: readonly Rule[] = [
  {
    id: 'report_test_exposed',
    gate: 'rls',
    severity: 'error',
    category: 'security',
    title: 'Exposed table without RLS',
    doc: 'Anyone with the anon key can read the table.\n\nEnable RLS and add policies.',
  },
  { id: 'report_test_slow', gate: 'rls', severity: 'warning', category: 'performance', title: 'Slow policy', doc: 'The policy calls a function per row.' },
];

const links = { serverUrl: 'https://github.com', repository: 'acme/app', sha: 'f00dfeed' };

function exposed(name: string, extra: Partial<Finding> = {}): Finding {
  return finding({
    rule: 'report_test_exposed',
    severity: 'error',
    object: { kind: 'table', schema: 'public', name },
    message: `Table public.${name} is exposed without RLS.`,
    remediation: `alter table public.${name} enable row level security;`,
    location: { file: 'supabase/migrations/20250120143000_audit_events.sql', line: 2 },
    ...extra,
  });
}

const result: GateResult = {
  gate: 'rls',
  status: 'fail',
  findings: [
    finding({
      rule: 'report_test_slow',
      severity: 'warning',
      object: { kind: 'policy', schema: 'public', name: 'trips.select' },
      message: 'Calls auth.uid() per row.',
    }),
    exposed('audit_events'),
  ],
  metrics: { duration_ms: 4210, tables: 12 },
  suppressed: [{ ...exposed('api_key_usage'), reason: 'Service role only.', expires: '2027-06-30' }],
  preexisting: [exposed('legacy')],
  details: {
    access_matrix: { 'public.trips': { anon: 'denied', service_role: 'allowed' } },
    phases: [{ phase: 'restore', duration_ms: 1500, ok: true }],
  },
};

beforeEach(() => forgetSecretsForTests());

describe('terminal text', () => {
  it('colours on a TTY, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(renderText(result, { color: true, rules: RULES })).toContain('\u001b[31m');
    expect(renderText(result, { color: false, rules: RULES })).not.toContain('\u001b[');
  });

  it('groups by rule, most severe first, with the accepted, pre-existing and details apart', () => {
    const text = renderText(result, { color: false, rules: RULES });
    expect(text.split('\n')[0]).toBe('postgate rls-audit: FAIL  1 error, 1 warning, 0 notices · 1 allowlisted · 1 already on the base branch · 4.2 s');
    expect(text.indexOf('report_test_exposed')).toBeLessThan(text.indexOf('report_test_slow'));
    expect(text).toContain('Exposed table without RLS');
    expect(text).toContain('at supabase/migrations/20250120143000_audit_events.sql:2');
    expect(text).toContain('Accepted by the allowlist (1 finding, not counted):');
    expect(text).toContain('Already on the base branch (1 finding, not failing this change):');
    expect(text).toMatch(/Access matrix:\n\s+anon\s+service_role\n\s+public\.trips\s+denied\s+allowed/);
    expect(text).toMatch(/Phases:\n\s+phase\s+duration\s+ok\n\s+restore\s+1\.5 s\s+yes/);
  });
});

describe('markdown', () => {
  const markdown = renderMarkdown(result, { rules: RULES, links, marker: '<!-- m -->', context: ['commit `f00dfee`'] });

  it('has the status line, counts, findings by rule with a link at the commit, and remediation folded', () => {
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('<!-- m -->');
    expect(lines[1]).toBe('### ❌ postgate rls-audit failed');
    expect(markdown).toContain('**1 error** · **1 warning** · 0 notices · 1 allowlisted · 1 already on the base branch');
    expect(markdown).toContain('#### 🔴 `report_test_exposed` Exposed table without RLS');
    expect(markdown).toContain(`[how to fix and allowlist](${RULES_DOC_URL}#report_test_exposed)`);
    expect(markdown).toContain(
      '| table `public.audit_events` | [20250120143000\\_audit\\_events.sql:2](https://github.com/acme/app/blob/f00dfeed/supabase/migrations/20250120143000_audit_events.sql#L2) | Table public.audit\\_events is exposed without RLS. |',
    );
    expect(markdown).toContain(
      '<details><summary>Remediation (1)</summary>\n\n**`public.audit_events`**\n\n```sql\nalter table public.audit_events enable row level security;\n```',
    );
    expect(markdown.indexOf('report_test_exposed')).toBeLessThan(markdown.indexOf('report_test_slow'));
  });

  it('lists allowlisted and pre-existing findings apart, and renders details generically', () => {
    expect(markdown).toContain('<details><summary>1 finding accepted by the allowlist (not counted)</summary>');
    expect(markdown).toContain('| `report_test_exposed` | table `public.api_key_usage` | Service role only. | 2027-06-30 |');
    expect(markdown).toContain('<details><summary>1 finding already on the base branch (not counted)</summary>');
    expect(markdown).toContain('#### Access matrix\n\n|   | anon | service\\_role |\n|---|---|---|\n| **public.trips** | denied | allowed |');
    expect(markdown).toContain('#### Phases\n\n| phase | duration | ok |\n|---|---|---|\n| restore | 1.5 s | yes |');
    expect(markdown).toContain('| tables | 12 |');
  });

  it('escapes what a gate writes: no raw HTML, no broken tables, code spans kept', () => {
    const nasty = renderMarkdown(
      {
        ...result,
        findings: [exposed('x', { message: 'a | b <script>alert(1)</script> `a | b` *not bold*', detail: 'line 1\nline 2' })],
      },
      { rules: RULES },
    );
    expect(nasty).toContain('a \\| b &lt;script&gt;alert(1)&lt;/script&gt; `a \\| b` \\*not bold\\*<br><sub>line 1<br>line 2</sub>');
    expect(nasty).not.toContain('<script>');
  });

  it('redacts secrets', () => {
    registerSecret('s3cr3t-password');
    const leaky = renderMarkdown({ ...result, findings: [exposed('x', { message: 'postgresql://u:s3cr3t-password@h/db refused' })] }, { rules: RULES });
    expect(leaky).not.toContain('s3cr3t-password');
    // a code span: `@h/db` outside one would be a live team mention on GitHub
    expect(leaky).toContain('`postgresql://u:***@h/db`');
  });

  it('shortens step by step under a limit and says how many findings were cut and where the rest is', () => {
    const many: GateResult = { ...result, findings: Array.from({ length: 400 }, (_, i) => exposed(`t${i}`, i % 4 ? {} : { severity: 'warning' })) };
    const limit = { max: 20_000, unit: 'bytes' as const, reason: 'the test limit', fullReport: '[the job summary](https://x)' };
    const text = renderMarkdown(many, { rules: RULES, links, limit });
    expect(measure(text, 'bytes')).toBeLessThanOrEqual(20_000);
    expect(text).toMatch(
      /> \[!NOTE\]\n> Shortened to fit the test limit\. Not shown here: remediation for [\d,]+ findings; access matrix, phases; the list of 2 allowlisted or pre-existing findings; \*\*([\d,]+) findings\*\* \(([\d,]+ errors, )?[\d,]+ warnings\)\. The full report: \[the job summary\]\(https:\/\/x\)\./,
    );
    const cut = Number(/\*\*([\d,]+) findings\*\*/.exec(text)![1]!.replace(/,/g, ''));
    const row = /^\| (🔴 |🟡 )?table `public\.t/;
    const rows = text.split('\n').filter((line) => row.test(line)).length;
    expect(rows + cut).toBe(400);
    // most severe first: every error is shown before any warning is
    const shownWarnings = text.split('\n').filter((line) => line.startsWith('#### 🟡')).length;
    if (shownWarnings) expect(cut).toBeLessThan(100);
    // the same report without a limit is complete
    expect(
      renderMarkdown(many, { rules: RULES, links })
        .split('\n')
        .filter((line) => row.test(line)),
    ).toHaveLength(400);
  });

  it('drops only what it must: remediation first', () => {
    const limit = { max: measure(markdown, 'characters') - 10, unit: 'characters' as const, reason: 'x', fullReport: 'y' };
    const text = renderMarkdown(result, { rules: RULES, links, marker: '<!-- m -->', context: ['commit `f00dfee`'], limit });
    expect(text).toContain('Not shown here: remediation for 1 finding.');
    expect(text).toContain('#### Access matrix');
    expect(text).not.toContain('```sql');
  });

  it('cuts even the header when the limit is tiny, and says so', () => {
    const text = renderMarkdown(result, { rules: RULES, limit: { max: 200, unit: 'characters', reason: 'a tiny limit', fullReport: 'the report' } });
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text).toContain('**Cut off** at a tiny limit. The full report: the report.');
  });
});

describe('details blocks', () => {
  it('pick a layout from the value shape', () => {
    expect(detailBlock('drill_log', { title: 'Last drills', rows: [{ at: '2026-01-01', rto_ms: 60_000 }], note: 'newest first' })).toEqual({
      kind: 'table',
      title: 'Last drills',
      columns: ['at', 'rto'],
      rows: [['2026-01-01', '1 min 0 s']],
      note: 'newest first',
    });
    expect(detailBlock('source', { host: 'db', size_bytes: 2048, ok: false })).toEqual({
      kind: 'fields',
      title: 'Source',
      fields: [
        ['host', 'db'],
        ['size', '2.0 KiB'],
        ['ok', 'no'],
      ],
    });
    expect(detailBlock('missing_extensions', ['vector', 'pg_graphql'])).toEqual({ kind: 'list', title: 'Missing extensions', items: ['vector', 'pg_graphql'] });
    expect(detailBlock('fingerprint', 'abc')).toEqual({ kind: 'value', title: 'Fingerprint', value: 'abc' });
    expect(detailBlock('nested', { a: { b: { c: 1 } } })).toMatchObject({ kind: 'json', title: 'Nested' });
    expect(detailBlock('settings', [{ name: 'app.x', scopes: [{ scope: 'database', empty: false }] }])).toMatchObject({
      rows: [['app.x', 'scope: database, empty: no']],
    });
  });

  it('gather top-level scalars into one Details block', () => {
    const blocks = detailBlocks({ mode: 'pr', shadowMajor: 15, missingExtensions: ['pgjwt', 'pg_net'], phases: [{ phase: 'restore', duration_ms: 10 }] });
    expect(blocks.map((block) => block.title)).toEqual(['Details', 'Phases']);
    expect(blocks[0]).toEqual({
      kind: 'fields',
      title: 'Details',
      fields: [
        ['mode', 'pr'],
        ['shadow major', '15'],
        ['missing extensions', 'pgjwt, pg_net'],
      ],
    });
  });
});

describe('SARIF', () => {
  const sarif = renderSarif(
    { ...result, findings: [...result.findings, exposed('abs', { location: { file: '/work/repo/db/m.sql', line: 9 } })] },
    { rules: RULES, workspace: '/work/repo', target: 'db.example.com:5432/postgres' },
  );
  const log = JSON.parse(sarif.text);
  const run = log.runs[0];

  it('is SARIF 2.1.0 with catalog rules and their help text', () => {
    expect(log).toMatchObject({ version: '2.1.0', $schema: expect.stringContaining('sarif-2.1.0') });
    expect(run.tool.driver.name).toBe('postgate');
    const rule = run.tool.driver.rules.find((r: { id: string }) => r.id === 'report_test_exposed');
    expect(rule).toMatchObject({
      shortDescription: { text: 'Exposed table without RLS' },
      fullDescription: { text: 'Anyone with the anon key can read the table.' },
      help: { text: expect.stringContaining('Enable RLS and add policies.') },
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '8.0' },
    });
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    expect(run.automationDetails.id).toBe('postgate-rls-audit-db.example.com-5432-postgres/');
  });

  it('puts located findings at their file and line, suppressed ones as suppressions, base-branch ones as unchanged', () => {
    const byObject = (name: string) =>
      run.results.find((r: { locations: Array<{ logicalLocations: Array<{ name: string }> }> }) => r.locations[0]!.logicalLocations[0]!.name === name);
    expect(byObject('audit_events')).toMatchObject({
      ruleId: 'report_test_exposed',
      level: 'error',
      baselineState: 'new',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'supabase/migrations/20250120143000_audit_events.sql' }, region: { startLine: 2 } } }],
      partialFingerprints: { 'postgateKey/v1': 'report_test_exposed:table:public.audit_events' },
    });
    expect(byObject('abs').locations[0].physicalLocation.artifactLocation.uri).toBe('db/m.sql');
    expect(byObject('legacy')).toMatchObject({ baselineState: 'unchanged' });
    expect(byObject('api_key_usage')).toMatchObject({ suppressions: [{ kind: 'external', justification: 'Service role only.' }] });
  });

  it('leaves out findings without a file and says how many', () => {
    expect(sarif).toMatchObject({ results: 4, unlocated: 1 });
    expect(run.properties.unlocatedFindings).toBe(1);
    expect(run.invocations[0].toolExecutionNotifications[0].message.text).toMatch(/^1 finding\(s\) have no file location/);
    for (const r of run.results) expect(r.locations[0].physicalLocation.artifactLocation.uri).toBeTruthy();
  });
});

describe('annotations and JSON', () => {
  it('annotations are most severe first, with file, line, title and remediation', () => {
    const annotations = annotationsOf(result);
    expect(annotations.map((a) => a.severity)).toEqual(['error', 'warning']);
    expect(annotations[0]).toEqual({
      severity: 'error',
      file: 'supabase/migrations/20250120143000_audit_events.sql',
      line: 2,
      title: 'report_test_exposed: table public.audit_events',
      message: 'Table public.audit_events is exposed without RLS.',
      details: 'alter table public.audit_events enable row level security;',
    });
    expect(annotations[1]).not.toHaveProperty('file');
  });

  it('JSON is the GateResult, redacted', () => {
    registerSecret('another-secret');
    const json = renderJson({ ...result, error: 'bad another-secret' });
    expect(JSON.parse(json)).toMatchObject({ gate: 'rls', status: 'fail', error: 'bad ***' });
  });
});
