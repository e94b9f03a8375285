/**
 * The licence policy of scripts/check-licenses.ts: which declared licences pass, and what a
 * violation says; and scripts/bundled-packages.ts: which packages ncc bundled, and the notices
 * and list written for them.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bundledPackageDirs,
  emittedModuleIdentifiers,
  readPackageList,
  readPackageNotices,
  renderLicensesTxt,
  renderPackageList,
} from '../../scripts/bundled-packages.ts';
import { ALLOWED, licenceViolations, type Policy, shippedPackages, spdxAllows } from '../../scripts/check-licenses.ts';

const root = path.resolve(import.meta.dirname, '../..');

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

  it('what this repository ships is within the policy', () => {
    const packages = shippedPackages(root);
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.map((p) => p.name)).not.toContain('vitest');
    expect(licenceViolations(packages)).toEqual([]);
    expect(ALLOWED.has('GPL-3.0-only')).toBe(false);
  });
});

describe('packages bundled into dist/postgate', () => {
  const loaders =
    '/r/node_modules/@vercel/ncc/dist/ncc/loaders/empty-loader.js!/r/node_modules/@vercel/ncc/dist/ncc/loaders/relocate-loader.js??ruleSet[1].rules[1].use[1]!';

  it('reads the package of each module file from its last node_modules: scoped, nested, json, ncc stubs; sources, built-ins and the runtime add none', () => {
    const identifiers = [
      `${loaders}/r/node_modules/@vercel/ncc/dist/ncc/loaders/ts-loader.js!/r/src/cli.ts`,
      `javascript/esm|${loaders}/r/node_modules/@actions/core/lib/core.js|a5e8722ea0aed9022afbd3949a60ca97`,
      `javascript/esm|${loaders}/r/node_modules/@actions/core/lib/command.js`,
      `${loaders}/r/node_modules/@actions/github/node_modules/@actions/http-client/lib/index.js`,
      `${loaders}/r/node_modules/dockerode/node_modules/tar-fs/index.js|0123`,
      'json|/r/node_modules/ssh2/package.json',
      '/r/node_modules/@vercel/ncc/dist/ncc/@@notfound.js?pg-native',
      'external node-commonjs "node:fs"',
      'webpack/runtime/asset-relocator-loader',
      'json|/r/package.json',
    ];
    expect(bundledPackageDirs(identifiers)).toEqual([
      '/r/node_modules/@actions/core',
      '/r/node_modules/@actions/github/node_modules/@actions/http-client',
      '/r/node_modules/@vercel/ncc',
      '/r/node_modules/dockerode/node_modules/tar-fs',
      '/r/node_modules/ssh2',
    ]);
  });

  it('counts the modules in a chunk and those concatenated into them, not a module left out of every chunk', () => {
    const stats = {
      modules: [
        { identifier: '/r/src/bundle.ts|1', chunks: [792], modules: [{ identifier: '/r/src/bundle.ts' }, { identifier: '/r/node_modules/zod/index.js' }] },
        { identifier: '/r/node_modules/zod/index.js', chunks: [] },
        { identifier: '/r/node_modules/pg/lib/index.js', chunks: [491] },
        { identifier: '/r/node_modules/unused/index.js', chunks: [] },
      ],
    };
    expect(emittedModuleIdentifiers(stats)).toEqual([
      '/r/src/bundle.ts|1',
      '/r/src/bundle.ts',
      '/r/node_modules/zod/index.js',
      '/r/node_modules/pg/lib/index.js',
    ]);
  });

  it('reads every licence and notice file of a package, in any case and with any extension; none is said so', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundled-package-'));
    const write = (file: string, text: string) => writeFileSync(path.join(dir, file), text);
    write('package.json', JSON.stringify({ name: '@scope/both', version: '2.0.0', licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }));
    write('LICENSE-MIT.txt', '\nMIT text\r\nsecond line\r\n\n');
    write('licence', '   Apache License\n');
    write('NOTICE.md', 'notice');
    write('Copying', 'copying');
    write('README.md', 'not a licence');
    mkdirSync(path.join(dir, 'licenses'));
    const notices = readPackageNotices(dir);
    expect(notices).toEqual({
      name: '@scope/both',
      version: '2.0.0',
      license: 'MIT AND Apache-2.0',
      files: [
        { file: 'Copying', text: 'copying' },
        { file: 'LICENSE-MIT.txt', text: 'MIT text\nsecond line' },
        { file: 'NOTICE.md', text: 'notice' },
        { file: 'licence', text: '   Apache License' },
      ],
    });

    const bare = { name: 'bare', version: '1.0.0', license: 'ISC', files: [] };
    const older = { name: 'bare', version: '0.9.0', license: undefined, files: [] };
    expect(renderLicensesTxt([bare, notices, older, { ...bare }])).toBe(
      [
        'Third-party software in postgate: the npm packages bundled into this directory (index.js and its chunks),',
        'each with its licence and the text of its licence and notice files. Written by `npm run build`.',
        '',
        '='.repeat(80),
        '@scope/both 2.0.0',
        'License: MIT AND Apache-2.0',
        '',
        '--- Copying ---',
        '',
        'copying',
        '',
        '--- LICENSE-MIT.txt ---',
        '',
        'MIT text',
        'second line',
        '',
        '--- NOTICE.md ---',
        '',
        'notice',
        '',
        '--- licence ---',
        '',
        '   Apache License',
        '',
        '='.repeat(80),
        'bare 0.9.0',
        'License: none declared',
        '',
        'The package contains no licence file.',
        '',
        '='.repeat(80),
        'bare 1.0.0',
        'License: ISC',
        '',
        'The package contains no licence file.',
        '',
      ].join('\n'),
    );

    const listed = renderPackageList([bare, notices, older, { ...bare }]);
    expect(listed).toBe(
      [
        '[',
        '  {"name":"@scope/both","version":"2.0.0","license":"MIT AND Apache-2.0"},',
        '  {"name":"bare","version":"0.9.0","license":null},',
        '  {"name":"bare","version":"1.0.0","license":"ISC"}',
        ']',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'bundled-packages.json'), listed);
    expect(readPackageList(dir)).toEqual([
      { name: '@scope/both', version: '2.0.0', license: 'MIT AND Apache-2.0' },
      { name: 'bare', version: '0.9.0', license: undefined },
      { name: 'bare', version: '1.0.0', license: 'ISC' },
    ]);
  });

  it("the committed licenses.txt has a section for every package in the committed list, those ncc's own file left out included", () => {
    const dist = path.join(root, 'dist', 'postgate');
    const listed = readPackageList(dist);
    const headings = new Set(readFileSync(path.join(dist, 'licenses.txt'), 'utf8').split('\n'));
    expect(listed.filter(({ name, version }) => !headings.has(`${name} ${version}`))).toEqual([]);
    expect(listed.map(({ name }) => name)).toEqual(expect.arrayContaining(['zod', 'pg', 'yaml', 'execa', 'smol-toml', 'testcontainers', '@actions/core']));
  });
});
