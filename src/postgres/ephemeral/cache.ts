/**
 * Where postgate keeps what it builds once per machine and reuses: initdb'd templates and
 * private installations. POSTGATE_CACHE_DIR, else $XDG_CACHE_HOME/postgate, else
 * ~/.cache/postgate. On GitHub's runners, cache this path with actions/cache to keep it
 * across runs.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function cacheRoot(): string {
  return process.env.POSTGATE_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'postgate');
}

/** True when every existing ancestor of `dir` can be traversed by users other than its owner. */
export function traversableByOthers(dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const stat = statSync(current);
      if (stat.isDirectory() && (stat.mode & 0o001) === 0) return false;
    } catch {
      // a directory not made yet is made world-traversable by us
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}
