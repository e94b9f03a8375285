/**
 * Rules as an explicit catalog (issue 15, item 3): the catalog is assembled from each owner's
 * exported list, a gate's finding builder takes the severity from the rule, and a rule id
 * that is not in the list does not compile.
 */
import { describe, expect, it } from 'vitest';
import { allRules, findingOf } from '../../src/findings/rules.ts';
import { finding } from '../../src/findings/types.ts';
import { drillFinding } from '../../src/gates/drill/rules.ts';
import '../../src/gates/index.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';

describe('the rule catalog', () => {
  it('holds exactly the rules the gates define, once each, in docs order', () => {
    expect(RULE_CATALOG).toEqual(allRules());
    expect(new Set(RULE_CATALOG.map((rule) => rule.id)).size).toBe(RULE_CATALOG.length);
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
