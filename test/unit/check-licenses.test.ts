/**
 * The licence policy of scripts/check-licenses.ts: which declared licences pass, and what a
 * violation says.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED, licenceViolations, type Policy, productionPackages, spdxAllows } from '../../scripts/check-licenses.ts';

const policy: Policy = {
  allowed: new Set(['MIT', 'Apache-2.0', 'ISC']),
  exceptions: { tweetnacl: { license: 'Unlicense', reason: 'public domain' } },
};
const pkg = (name: string, license: string | undefined) => ({ name, version: '1.0.0', license });

describe('licence policy', () => {
  it('passes allowed licences and SPDX expressions whose choice or every part is allowed', () => {
    const packages = [
      pkg('a', 'MIT'),
      pkg('b', '(MIT OR Apache-2.0)'),
      pkg('c', 'MIT OR GPL-3.0-only'),
      pkg('d', 'MIT AND ISC'),
      pkg('e', '(GPL-2.0-only OR (MIT AND Apache-2.0))'),
    ];
    expect(licenceViolations(packages, policy)).toEqual([]);
  });

  it('names each package outside the policy and why: copyleft, a copyleft part, no licence, not SPDX', () => {
    const packages = [
      pkg('left', 'GPL-3.0-only'),
      pkg('both', 'MIT AND GPL-2.0-only'),
      pkg('bare', undefined),
      pkg('blank', ' '),
      pkg('custom', 'SEE LICENSE IN LICENSE.md'),
      pkg('unbalanced', '(MIT OR ISC'),
    ];
    expect(licenceViolations(packages, policy)).toEqual([
      { ...pkg('left', 'GPL-3.0-only'), reason: 'GPL-3.0-only is not in the allowed licences' },
      { ...pkg('both', 'MIT AND GPL-2.0-only'), reason: 'MIT AND GPL-2.0-only is not in the allowed licences' },
      { ...pkg('bare', undefined), reason: 'declares no licence' },
      { ...pkg('blank', ' '), reason: 'declares no licence' },
      { ...pkg('custom', 'SEE LICENSE IN LICENSE.md'), reason: 'not an SPDX expression: SEE LICENSE IN LICENSE.md' },
      { ...pkg('unbalanced', '(MIT OR ISC'), reason: 'not an SPDX expression: (MIT OR ISC' },
    ]);
  });

  it('an exception holds for its package and licence only', () => {
    expect(licenceViolations([pkg('tweetnacl', 'Unlicense')], policy)).toEqual([]);
    expect(licenceViolations([pkg('other', 'Unlicense')], policy)).toEqual([
      { ...pkg('other', 'Unlicense'), reason: 'Unlicense is not in the allowed licences' },
    ]);
    expect(licenceViolations([pkg('tweetnacl', 'GPL-3.0-only')], policy)).toEqual([
      { ...pkg('tweetnacl', 'GPL-3.0-only'), reason: 'GPL-3.0-only is not in the allowed licences; its exception is for Unlicense' },
    ]);
  });

  it('AND binds tighter than OR; a licence WITH an exception counts only when allowed as a whole', () => {
    expect(spdxAllows('GPL-3.0-only OR MIT AND ISC', policy.allowed)).toBe(true);
    expect(spdxAllows('MIT OR GPL-3.0-only AND ISC', policy.allowed)).toBe(true);
    expect(spdxAllows('GPL-3.0-only OR MIT AND GPL-2.0-only', policy.allowed)).toBe(false);
    expect(spdxAllows('Apache-2.0 WITH LLVM-exception', policy.allowed)).toBe(false);
    expect(spdxAllows('Apache-2.0 WITH LLVM-exception', new Set(['Apache-2.0 WITH LLVM-exception']))).toBe(true);
    expect(() => spdxAllows('MIT OR', policy.allowed)).toThrow('not an SPDX expression');
    expect(() => spdxAllows('', policy.allowed)).toThrow('not an SPDX expression');
  });

  it("this repository's production tree is within the policy", () => {
    const packages = productionPackages(path.resolve(import.meta.dirname, '../..'));
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.map((p) => p.name)).not.toContain('vitest');
    expect(licenceViolations(packages)).toEqual([]);
    expect(ALLOWED.has('GPL-3.0-only')).toBe(false);
  });
});
