/**
 * What every migration tool's reader shares: reading files as UTF-8, following symbolic
 * links only while they stay inside the repository, listing a folder, and turning a file
 * into a `Migration`. The tool adapters (`./<tool>.ts`) say which files are migrations and
 * what SQL runs; this module says how a file of the pull request is read safely.
 *
 * The folder is input a pull request shapes, so:
 * - symbolic links are followed only while they stay inside the repository (or the folder):
 *   one that leads elsewhere (`/proc/self/environ`, the runner's home) is never read, and
 *   is a problem of rule `migration_symlink_outside`;
 * - a file that is not UTF-8 is rejected in one sentence (PostgreSQL would refuse it too);
 * - a UTF-8 byte order mark is dropped for the tools that drop it (`dropsBom`) and rejected
 *   in one sentence for the others, which pass it on. Both are checked while reading,
 *   before anything is applied.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { realPathOf } from '../../config/paths.ts';
import { UserError } from '../../errors.ts';
import type { Migration, MigrationFileProblem, MigrationTool } from '../types.ts';

/** A file problem as the readers report it (every entry of `MigrationSource.problems` read here is one). */
export interface FileProblem extends MigrationFileProblem {
  /**
   * `warning` where the tool itself says it skips the file and goes on (the Supabase CLI
   * prints "Skipping migration ..."), so nobody is surprised that it never runs; `error`
   * where the tool skips it without a word or refuses it.
   */
  severity: 'warning' | 'error';
  /**
   * Set when the file shares its version (the id the tool's history records) with an
   * earlier file: every file of that version, in the tool's order. The first is kept as
   * the migration; `file` is one of the others, left out of `migrations`.
   */
  duplicate?: { id: string; files: string[] };
  /** Set for a path that leads outside the repository, which postgate does not follow (rule `migration_symlink_outside`). */
  outside?: true;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface FileReader {
  /** Reads a file as UTF-8; throws UserError (one sentence) when unreadable or not UTF-8. */
  text(absolutePath: string): string;
}

export const diskReader: FileReader = {
  text(absolutePath) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(absolutePath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new UserError(`Migration file ${absolutePath} cannot be read (${code}); check that it exists and is readable.`);
    }
    return decodeUtf8(bytes, absolutePath);
  },
};

export function decodeUtf8(bytes: Buffer, label: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    const lossy = bytes.toString('utf8');
    const bad = lossy.indexOf('\uFFFD');
    const line = bad < 0 ? undefined : lossy.slice(0, bad).split('\n').length;
    throw new UserError(`Migration file ${label} is not valid UTF-8${line ? ` (first bad byte on line ${line})` : ''}; re-save it as UTF-8.`);
  }
}

export interface Listing {
  /** Names (not paths) of the files directly in the folder. */
  files: string[];
  dirs: string[];
}

/**
 * Where the folder's paths may lead once symbolic links are followed: the repository (the
 * working directory) and the migrations folder itself. Links and paths that lead elsewhere
 * are not followed; they are collected as problems (rule `migration_symlink_outside`).
 */
export interface PathGuard {
  cwd: string;
  /** Real paths. */
  roots: string[];
  /** Problems of paths not followed, by repository path. */
  refused: Map<string, FileProblem>;
}

export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

export function pathGuard(cwd: string, dir: string): PathGuard {
  const roots = [cwd, dir].map((root) => realPathOf(path.resolve(cwd, root)) ?? path.resolve(cwd, root));
  return { cwd, roots, refused: new Map() };
}

type PathKind = 'file' | 'dir' | 'missing' | 'other' | 'refused';

/**
 * What `absolute` is, following symbolic links only while they stay inside the guard's roots;
 * 'refused' (and a problem recorded) when it leads outside them or links loop, 'missing' when
 * nothing is there.
 */
export function follow(guard: PathGuard, absolute: string, entry?: Dirent): PathKind {
  if (entry && !entry.isSymbolicLink()) return entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
  const real = realPathOf(absolute);
  const file = toRepoPath(guard.cwd, absolute);
  let link: string | undefined;
  try {
    link = readlinkSync(absolute);
  } catch {
    link = undefined;
  }
  if (real === undefined || !guard.roots.some((root) => isInside(real, root))) {
    const problem =
      real === undefined
        ? `\`${file}\` is a symbolic link in a loop of links, so no migration tool can read it and postgate does not follow it; replace it with the file itself.`
        : link !== undefined
          ? `\`${file}\` is a symbolic link to ${link}, outside the repository, so postgate does not follow it (the migration tool would apply whatever that path holds on the machine it runs on); replace the link with the file itself.`
          : `\`${file}\` leads outside the repository (to ${real}), so postgate does not read it; keep migrations inside the repository.`;
    if (!guard.refused.has(file)) guard.refused.set(file, { file, problem, severity: 'error', outside: true });
    return 'refused';
  }
  try {
    const stat = statSync(real);
    return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

export function list(dir: string, guard: PathGuard): Listing {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const kind = follow(guard, path.join(dir, entry.name), entry);
    if (kind === 'dir') dirs.push(entry.name);
    else if (kind === 'file') files.push(entry.name);
    else if (kind === 'missing' && entry.isSymbolicLink() && entry.name.endsWith('.sql')) {
      const file = toRepoPath(guard.cwd, path.join(dir, entry.name));
      guard.refused.set(file, {
        file,
        problem: `\`${file}\` is a symbolic link to ${readlinkSync(path.join(dir, entry.name))}, which does not exist, so the migration tool cannot read it; fix the link or delete it.`,
        severity: 'error',
      });
    }
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

export function listRecursive(dir: string, guard: PathGuard, prefix = ''): string[] {
  const { files, dirs } = list(dir, guard);
  return [...files.map((f) => prefix + f), ...dirs.flatMap((d) => listRecursive(path.join(dir, d), guard, `${prefix}${d}/`))].sort();
}

export interface ReadContext {
  dir: string;
  cwd: string;
  reader: FileReader;
  tool: MigrationTool;
  /** The tool's name in messages. */
  title: string;
  /** Whether the tool drops a UTF-8 byte order mark at the start of a file (else a BOM is rejected). */
  dropsBom: boolean;
  guard: PathGuard;
}

export interface ReadResult {
  migrations: Migration[];
  problems: FileProblem[];
}

const BOM = '\uFEFF';

/**
 * A migration file's text, as the tool reads it: not UTF-8 or (for a tool that keeps it) a
 * byte order mark is a bad input, rejected in one sentence before anything is applied.
 */
export function textOf(ctx: ReadContext, absolutePath: string): string {
  const text = ctx.reader.text(absolutePath);
  if (text.startsWith(BOM) && !ctx.dropsBom) {
    throw new UserError(
      `Migration file ${toRepoPath(ctx.cwd, absolutePath)} starts with a UTF-8 byte order mark, which ${ctx.tool === 'supabase' ? 'the ' : ''}${ctx.title} does not remove, so the file fails to apply; re-save it as UTF-8 without a BOM.`,
    );
  }
  return text;
}

export type Draft = Omit<Migration, 'tool' | 'file' | 'absolutePath' | 'raw' | 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'> &
  Partial<Pick<Migration, 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'>>;

export function build(tool: MigrationTool, ctx: ReadContext, relative: string, draft: Draft, raw?: string): Migration {
  const absolutePath = path.join(ctx.dir, relative);
  // JavaScript migrations are not run by postgate (and Node.js drops a BOM itself).
  const text = raw ?? (draft.executable === false ? ctx.reader.text(absolutePath) : textOf(ctx, absolutePath));
  // `raw` keeps the mark (checksums are over the file as it is); the SQL run drops it, as the tool does.
  const bom = draft.sql === undefined && text.startsWith(BOM) ? 1 : 0;
  return {
    ...draft,
    tool,
    file: toRepoPath(ctx.cwd, absolutePath),
    absolutePath,
    raw: text,
    sql: draft.sql ?? text.slice(bom),
    sqlOffset: draft.sqlOffset ?? bom,
    noTransaction: draft.noTransaction ?? false,
    executable: draft.executable ?? true,
    kind: draft.kind ?? 'versioned',
  };
}

export function toRepoPath(cwd: string, absolutePath: string): string {
  const relative = path.relative(cwd, absolutePath);
  return (relative.startsWith('..') ? absolutePath : relative).split(path.sep).join('/');
}

/** Compares digit strings numerically (no precision limit), other strings as text. */
export function compareNumeric(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function problem(ctx: ReadContext, relative: string, text: string, severity: FileProblem['severity'] = 'error'): FileProblem {
  return { file: toRepoPath(ctx.cwd, path.join(ctx.dir, relative)), problem: text, severity };
}

/** The first of `names` found in `start` or up to `levels` folders above it. */
export function findUp(start: string, names: string[], levels = 3): string | undefined {
  let dir = start;
  for (let i = 0; i <= levels; i++) {
    for (const name of names) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The first `bytes` of a file as text ('' when unreadable), for detection. */
export function peek(absolutePath: string, bytes = 4096): string {
  try {
    return readFileSync(absolutePath).subarray(0, bytes).toString('utf8');
  } catch {
    return '';
  }
}

/** A history table cell as text (timestamps as ISO strings), null when empty. */
export const cellText = (value: unknown): string | null =>
  value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : String(value);
