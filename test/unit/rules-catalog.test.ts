/**
 * Rules as an explicit catalog (issue 15, item 3): the catalog is assembled from each owner's
 * exported list and passed to whatever needs rules (no global registry), a gate's finding builder
 * takes the severity from the rule, and a rule id that is not in the list does not compile.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { findingOf, type Rule } from '../../src/findings/rules.ts';
import { finding, type GateResult } from '../../src/findings/types.ts';
import { drillFinding } from '../../src/gates/drill/rules.ts';
import { driftFinding } from '../../src/gates/drift/rules.ts';
import { rlsFinding } from '../../src/gates/rls/rules.ts';
import { RULE_CATALOG, ruleIdsOf, type RuleId } from '../../src/gates/rules-catalog.ts';
import { webhookFinding } from '../../src/gates/webhooks/rules.ts';
import { migrationFinding } from '../../src/migrations/rules.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderSarif } from '../../src/report/sarif.ts';
import { renderText } from '../../src/report/text.ts';

const src = path.resolve(import.meta.dirname, '../../src');
const sources = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file: file.split(path.sep).join('/'), text: readFileSync(path.join(src, file), 'utf8') }));

describe('the rule catalog', () => {
  it('holds every rule once, in docs order (by gate, then id)', () => {
    const ids = RULE_CATALOG.map((rule) => rule.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const order = RULE_CATALOG.map((rule) => `${rule.gate} ${rule.id}`);
    expect(order).toEqual([...order].sort((a, b) => a.localeCompare(b)));
  });

  it('holds every rule a gate can emit', () => {
    // Every finding is built by a findingOf() builder: finding() itself is called only inside findingOf ...
    const untyped = sources.filter(({ file, text }) => file !== 'findings/rules.ts' && /\bfinding\(\{/.test(text)).map(({ file }) => file);
    expect(untyped).toEqual([]);
    // ... a builder accepts only the ids of its lists (a typo does not compile), and each list it is built from is in the catalog.
    const catalogued = /const RULE_LISTS = \[([^\]]*)\]/
      .exec(sources.find(({ file }) => file === 'gates/rules-catalog.ts')!.text)![1]!
      .split(',')
      .map((name) => name.trim());
    const built = sources.flatMap(({ text }) =>
      [...text.matchAll(/\bfindingOf\(([^)]*)\)/g)].flatMap((match) => match[1]!.split(',').map((name) => name.trim())),
    );
    expect(built.length).toBeGreaterThan(8);
    expect(built.filter((name) => !catalogued.includes(name))).toEqual([]);
    type BuiltId<Builder extends (input: never) => unknown> = Parameters<Builder>[0]['rule'];
    expectTypeOf<
      | BuiltId<typeof driftFinding>
      | BuiltId<typeof rlsFinding>
      | BuiltId<typeof webhookFinding>
      | BuiltId<typeof drillFinding>
      | BuiltId<typeof migrationFinding>
    >().toExtend<RuleId>();
  });

  it('names its rules with a union of literal ids, not string', () => {
    const known: RuleId = 'rls_disabled_in_public';
    // @ts-expect-error: a typo is not a rule id
    const typo: RuleId = 'rls_disabled_in_publik';
    expectTypeOf<string>().not.toExtend<RuleId>();
    expect(RULE_CATALOG.map((rule) => rule.id)).toContain(known);
    expect(RULE_CATALOG.map((rule) => rule.id)).not.toContain(typo);
  });

  it('gives a gate its own rules and the shared ones, for the allowlist', () => {
    const drift = ruleIdsOf('drift');
    for (const id of ['migration_pending', 'migration_symlink_outside', 'allowlist_stale', 'allowlist_expired'] as const) expect(drift.has(id), id).toBe(true);
    expect(drift.has('rls_disabled_in_public')).toBe(false);
  });
});

describe('findingOf', () => {
  const rules = [
    { id: 'demo_error', gate: 'drift', severity: 'error', category: 'test', title: 'Demo', doc: 'Demo.' },
    { id: 'demo_notice', gate: 'drift', severity: 'notice', category: 'test', title: 'Demo', doc: 'Demo.' },
  ] as const;
  const demoFinding = findingOf(rules);
  const object = { kind: 'table', schema: 'public', name: 't' };

  it('takes the severity from the rule, and builds what finding() builds', () => {
    const built = demoFinding({ rule: 'demo_notice', object, message: 'm' });
    expect(built).toEqual(finding({ rule: 'demo_notice', severity: 'notice', object, message: 'm' }));
    expect(JSON.stringify(built)).toBe(JSON.stringify(finding({ rule: 'demo_notice', severity: 'notice', object, message: 'm' })));
  });

  it('keeps a severity given for the case', () => {
    expect(demoFinding({ rule: 'demo_error', severity: 'warning', object, message: 'm' }).severity).toBe('warning');
  });

  it('refuses a rule id that is not in its lists (at compile time)', () => {
    // @ts-expect-error: not a restore-drill rule
    const typo = () => drillFinding({ rule: 'drill_typo', object, message: 'm' });
    expect(typeof typo).toBe('function');
  });
});

describe('renderers take the catalog they are given', () => {
  const result: GateResult = {
    gate: 'rls',
    status: 'fail',
    findings: [
      finding({
        rule: 'rls_disabled_in_public',
        severity: 'error',
        object: { kind: 'table', schema: 'public', name: 'notes' },
        message: 'Exposed.',
        location: { file: 'm.sql', line: 1 },
      }),
    ],
    metrics: {},
  };
  const title = RULE_CATALOG.find((rule) => rule.id === 'rls_disabled_in_public')!.title;
  const without: readonly Rule[] = RULE_CATALOG.filter((rule) => rule.id !== 'rls_disabled_in_public');

  it('show the title and doc link of a rule in the catalog', () => {
    expect(renderText(result, { color: false, rules: RULE_CATALOG })).toContain(`rls_disabled_in_public  ${title}`);
    expect(renderMarkdown(result, { rules: RULE_CATALOG })).toContain(`#### 🔴 \`rls_disabled_in_public\` ${title}`);
    expect(renderMarkdown(result, { rules: RULE_CATALOG })).toContain('[how to fix and allowlist](');
  });

  it('still render a rule the catalog lacks, by its id alone (SARIF: a rule titled with its id)', () => {
    const text = renderText(result, { color: false, rules: without });
    expect(text).toContain('rls_disabled_in_public\n');
    expect(text).not.toContain(title);
    const markdown = renderMarkdown(result, { rules: without });
    expect(markdown).toContain('#### 🔴 `rls_disabled_in_public`\n');
    expect(markdown).not.toContain('[how to fix and allowlist](');
    const run = JSON.parse(renderSarif(result, { rules: without }).text).runs[0];
    const rule = run.tool.driver.rules[run.results[0].ruleIndex];
    expect(rule).toMatchObject({
      id: 'rls_disabled_in_public',
      shortDescription: { text: 'rls_disabled_in_public' },
      defaultConfiguration: { level: 'error' },
    });
    // the gate's and the shared rules in catalog order, then the one the catalog lacks
    const others = [...ruleIdsOf('rls')].filter((id) => id !== 'rls_disabled_in_public');
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual([...others, 'rls_disabled_in_public']);
  });
});
