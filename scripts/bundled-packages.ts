/**
 * The npm packages ncc puts into dist/postgate (index.js and every chunk it loads lazily), read
 * from the webpack stats ncc writes with `--stats-out`, and the two files `npm run build` writes
 * from them: licenses.txt (each package's licence and the full text of its licence and notice
 * files: MIT, ISC and BSD ask for the notice to ship with the code) and bundled-packages.json (name,
 * version and declared licence of each, what scripts/check-licenses.ts checks on a fresh clone,
 * before anything is built). ncc's own `--license` file leaves out the packages webpack
 * concatenates into one module, so it is not used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The part of webpack's stats JSON read here: every module, and the modules concatenated into one. */
export interface BundleStats {
  modules: Array<{ identifier: string; chunks: unknown[]; modules?: Array<{ identifier: string }> }>;
}

export interface PackageLicence {
  name: string;
  version: string;
  /** The SPDX expression declared, or undefined when the package declares none. */
  license: string | undefined;
}

export interface LicenceFile {
  file: string;
  text: string;
}

export interface PackageNotices extends PackageLicence {
  /** The package's LICENSE, LICENCE, COPYING and NOTICE files, by file name; empty when it has none. */
  files: LicenceFile[];
}

export const LICENSES_TXT = 'licenses.txt';
export const PACKAGE_LIST = 'bundled-packages.json';

/**
 * The identifiers of the modules in the output: those in a chunk, and the modules webpack
 * concatenated into them (which the stats list again as orphans, in no chunk).
 */
export function emittedModuleIdentifiers(stats: BundleStats): string[] {
  return stats.modules
    .filter((module) => module.chunks.length > 0)
    .flatMap((module) => [module.identifier, ...(module.modules ?? []).map((inner) => inner.identifier)]);
}

/**
 * The package directories the modules' files are in, sorted, each once. An identifier is the
 * module type (`javascript/esm|`, `json|`), the loaders, each ending in `!`, the file, and a hash
 * after `|`; the package is the one under the file's last `node_modules/` (`@scope/name` or
 * `name`), so a copy nested in another package's node_modules counts as its own. Identifiers
 * without a file under node_modules (postgate's sources, Node.js built-ins, webpack's runtime) add none.
 */
export function bundledPackageDirs(identifiers: Iterable<string>): string[] {
  const dirs = new Set<string>();
  for (const identifier of identifiers) {
    const file = identifier
      .slice(identifier.lastIndexOf('!') + 1)
      .split('|')
      .find((part) => part.includes('node_modules'));
    const dir = file && /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/?]+)[\\/]/.exec(file)?.[1];
    if (dir) dirs.add(dir);
  }
  return [...dirs].sort();
}

/** The fields of a package.json (or a package-lock.json entry) read here. */
export interface Manifest {
  name?: string;
  version?: string;
  license?: string | { type?: string };
  licenses?: Array<{ type?: string }>;
}

/** `license` as a string or `{ type }`, or the old `licenses` array (every one of them applies). */
export function declaredLicence(manifest: Manifest): string | undefined {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license?.type) return manifest.license.type;
  const types = (manifest.licenses ?? []).map((entry) => entry.type).filter((type): type is string => Boolean(type));
  return types.length ? types.join(' AND ') : undefined;
}

/** LICENSE, LICENCE, LICENSES, COPYING, NOTICE in any case, bare or with any extension or suffix (LICENSE-MIT.txt). */
const LICENCE_FILE = /^(licen[cs]es?|copying|notice)([-._].*)?$/i;

/** A package's name, version, declared licence and the text of its licence and notice files (line ends made `\n`, blank lines around dropped). */
export function readPackageNotices(dir: string): PackageNotices {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && LICENCE_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((file) => ({
      file,
      text: readFileSync(path.join(dir, file), 'utf8')
        .replace(/\r\n?/g, '\n')
        .replace(/^\s*\n/, '')
        .trimEnd(),
    }));
  return { name: manifest.name ?? path.basename(dir), version: manifest.version ?? '?', license: declaredLicence(manifest), files };
}

/** By name, then version; one entry per name and version (copies of one version in several node_modules are one package). */
export function uniquePackages<T extends PackageLicence>(packages: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const pkg of packages) if (!byKey.has(`${pkg.name}@${pkg.version}`)) byKey.set(`${pkg.name}@${pkg.version}`, pkg);
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byKey.values()].sort((a, b) => order(a.name, b.name) || order(a.version, b.version));
}

const RULE = '='.repeat(80);

/** dist/postgate/licenses.txt: a heading, then per package its name, version, licence and notice files. */
export function renderLicensesTxt(packages: PackageNotices[]): string {
  const sections = uniquePackages(packages).map((pkg) => {
    const head = `${RULE}\n${pkg.name} ${pkg.version}\nLicense: ${pkg.license ?? 'none declared'}\n`;
    if (!pkg.files.length) return `${head}\nThe package contains no licence file.\n`;
    return head + pkg.files.map(({ file, text }) => `\n--- ${file} ---\n\n${text}\n`).join('');
  });
  const intro =
    'Third-party software in postgate: the npm packages bundled into this directory (index.js and its chunks),\n' +
    'each with its licence and the text of its licence and notice files. Written by `npm run build`.\n';
  return `${intro}\n${sections.join('\n')}`;
}

/** dist/postgate/bundled-packages.json: name, version and licence of each package, one line per name and version. */
export function renderPackageList(packages: PackageLicence[]): string {
  const lines = uniquePackages(packages).map(({ name, version, license }) => `  ${JSON.stringify({ name, version, license: license ?? null })}`);
  return `[\n${lines.join(',\n')}\n]\n`;
}

/** The list renderPackageList wrote into `dir`. */
export function readPackageList(dir: string): PackageLicence[] {
  const entries = JSON.parse(readFileSync(path.join(dir, PACKAGE_LIST), 'utf8')) as Array<{ name: string; version: string; license: string | null }>;
  return entries.map(({ name, version, license }) => ({ name, version, license: license ?? undefined }));
}
