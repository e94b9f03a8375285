/**
 * Where postgate may write: files it writes (the JSON report, SARIF, the drill log, a
 * masked export, a new backup and its manifest) must resolve inside the workspace
 * (GITHUB_WORKSPACE, else the working directory) or a temporary directory (RUNNER_TEMP
 * when set, and the system's, os.tmpdir()). Symbolic links are resolved first, in every
 * component that exists (a dangling last link included, since writing follows it), so
 * neither `..` nor a symlinked folder can reach the runner's home, its SSH keys or another
 * job's files.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';

const MAX_LINKS = 40;

/**
 * The path the operating system reaches for `target` (absolute): each existing component's
 * symbolic links resolved, the components that do not exist yet appended as written.
 * `undefined` when the links loop.
 */
export function realPathOf(target: string): string | undefined {
  const absolute = path.resolve(target);
  const { root } = path.parse(absolute);
  const pending = absolute.slice(root.length).split(path.sep).filter(Boolean);
  let resolved = root;
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const next = path.join(resolved, part);
    let isLink: boolean;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch {
      // Nothing there yet: what follows is created as written (mkdir -p, then the file).
      return path.join(next, ...pending);
    }
    if (!isLink) {
      resolved = next;
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    const link = readlinkSync(next);
    if (path.isAbsolute(link)) resolved = path.parse(link).root;
    pending.unshift(...link.split(/[\\/]+/).filter(Boolean));
  }
  return resolved;
}

export interface WriteRoot {
  /** How messages name it: "the workspace", "RUNNER_TEMP", "the temporary directory". */
  name: string;
  dir: string;
}

/** The directories postgate may write into, for this environment and working directory. */
export function writeRoots(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): WriteRoot[] {
  const roots: WriteRoot[] = [{ name: 'the workspace', dir: path.resolve(cwd, env.GITHUB_WORKSPACE || cwd) }];
  if (env.RUNNER_TEMP) roots.push({ name: 'RUNNER_TEMP', dir: path.resolve(cwd, env.RUNNER_TEMP) });
  roots.push({ name: 'the temporary directory', dir: os.tmpdir() });
  return roots;
}

function inside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

export interface ConfineOptions {
  /** How the message names the input: "Flag `--report-path`", "Input `report-path`", ... */
  label: string;
  /** Relative paths resolve from here (the CLI's working directory, the action's workspace). */
  base: string;
  env?: Record<string, string | undefined>;
  /** The working directory, when it differs from `base` (the workspace falls back to it). */
  cwd?: string;
}

/**
 * The absolute path for `raw`, when it resolves inside one of the write roots; else a
 * UserError in one sentence naming the input, where it leads and where it may go.
 */
export function confinePath(raw: string, options: ConfineOptions): string {
  const lexical = path.resolve(options.base, raw);
  const roots = writeRoots(options.env ?? process.env, options.cwd ?? options.base);
  const real = realPathOf(lexical);
  const allowed =
    real !== undefined &&
    roots.some((root) => {
      const dir = realPathOf(root.dir) ?? root.dir;
      return inside(real, dir);
    });
  if (allowed) return lexical;
  const where =
    real === undefined ? ' (a loop of symbolic links)' : real !== lexical ? ` (through a symbolic link: ${real})` : lexical !== raw ? ` (${lexical})` : '';
  const places = roots.map((root) => `${root.name} (${root.dir})`);
  throw new UserError(
    `${options.label} is ${raw}${where}, which is outside ${places.slice(0, -1).join(', ')} and ${places.at(-1)}; write it inside one of them.`,
  );
}
