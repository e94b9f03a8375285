import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { applyAllowlist } from '../../src/findings/allowlist.ts';
import { finding } from '../../src/findings/types.ts';

const f = (rule: string, name: string) => finding({ rule, severity: 'error', object: { kind: 'table', schema: 'public', name }, message: `${rule} on ${name}` });

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
