import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { applyAllowlist, judge } from '../../src/findings/allowlist.ts';
import { finding } from '../../src/findings/types.ts';
import { ruleIdsOf } from '../../src/gates/rules-catalog.ts';

const f = (rule: string, name: string) =>
  finding({ rule, severity: 'error', object: { kind: 'table', schema: 'public', name }, message: `${rule} on ${name}` });

const entries = parseRepoConfig(
  `allowlist:
  - { rule: rls_disabled_exposed, object: { kind: table, schema: public, name: countries }, reason: reference data }
  - { rule: rls_disabled_exposed, object: public.legacy, reason: migrating, expires: 2020-01-01 }
  - { rule: rls_disabled_exposed, object: public.gone, reason: fixed long ago }
  - { rule: some_drift_rule, object: public.x, reason: belongs to another gate }
`,
  'c.yml',
).allowlist;

describe('applyAllowlist', () => {
  const known = new Set(['rls_disabled_exposed', 'allowlist_stale', 'allowlist_expired']);
  const outcome = applyAllowlist([f('rls_disabled_exposed', 'countries'), f('rls_disabled_exposed', 'legacy'), f('rls_disabled_exposed', 'trips')], entries, {
    knownRules: known,
    today: '2026-11-23',
  });

  it('suppresses a matching entry with its reason', () => {
    expect(outcome.suppressed.map((s) => [s.object.name, s.reason])).toEqual([['countries', 'reference data']]);
  });

  it('lets an expired entry count again and says so', () => {
    expect(outcome.findings.find((x) => x.object.name === 'legacy')?.detail).toMatch(/expired on 2020-01-01/);
    expect(outcome.findings.some((x) => x.rule === 'allowlist_expired')).toBe(true);
  });

  it('reports stale entries of this gate only', () => {
    const stale = outcome.findings.filter((x) => x.rule === 'allowlist_stale');
    expect(stale.map((x) => x.object.name)).toEqual(['rls_disabled_exposed on public.gone']);
    expect(stale[0]?.severity).toBe('notice');
  });

  it('keeps unmatched findings', () => {
    expect(outcome.findings.some((x) => x.object.name === 'trips')).toBe(true);
  });
});

describe('judge: the allowlist, then fail-on', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const rlsEntries = parseRepoConfig(
    `allowlist:
  - { rule: rls_disabled_in_public, object: public.countries, reason: reference data }
  - { rule: some_drift_rule, object: public.x, reason: belongs to another gate }
`,
    'c.yml',
  ).allowlist;
  const judged = (failOn: 'error' | 'warning', names: string[]) =>
    judge(
      names.map((name) => f('rls_disabled_in_public', name)),
      { knownRules: ruleIdsOf('rls'), allowlist: rlsEntries, now, failOn },
    );

  it("splits kept from suppressed as applyAllowlist does, with only the gate's own entries", () => {
    const result = judged('error', ['countries', 'trips']);
    expect(result.suppressed.map((s) => s.object.name)).toEqual(['countries']);
    expect(result.kept.map((k) => k.object.name)).toEqual(['trips']);
  });

  it('fails when a kept finding is at or above fail-on, passes when the allowlist accepts them all', () => {
    expect(judged('error', ['countries', 'trips']).status).toBe('fail');
    expect(judged('warning', ['countries']).status).toBe('pass');
  });
});
