/**
 * Walks a repository and records the Supabase Data API calls its code makes (see calls.ts for what
 * counts). The walk prunes excluded directories before reading them, never leaves the repository
 * (a symbolic link pointing outside it is not followed), visits each real directory and file once
 * (symbolic link loops end), and never fails on one file: an unreadable one is listed in
 * `skipped` with the reason.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import type { RepoConfig } from '../config/repo-config.ts';
import { globToRegExp } from '../core/glob.ts';
import { callPattern, findCalls, lineStartsOf } from './calls.ts';
import { lex } from './lex.ts';
import type { ApiLanguage, ApiUsage, ScanOptions } from './types.ts';

/** The language of each supported file extension; `.vue`, `.svelte` and `.astro` are read in their script parts. */
const LANGUAGES: Record<string, ApiLanguage> = {
  ts: 'js',
  tsx: 'js',
  js: 'js',
  jsx: 'js',
  mjs: 'js',
  cjs: 'js',
  mts: 'js',
  cts: 'js',
  vue: 'js',
  svelte: 'js',
  astro: 'js',
  py: 'python',
  dart: 'dart',
  swift: 'swift',
  kt: 'kotlin',
  kts: 'kotlin',
};

/** The call shapes per language, tried on the raw text first: most files have none and are not lexed. */
const CANDIDATE = Object.fromEntries([...new Set(Object.values(LANGUAGES))].map((language) => [language, callPattern(language)])) as Record<
  ApiLanguage,
  RegExp
>;

/**
 * Hand-written source rarely exceeds a few hundred kilobytes; a larger file is generated or bundled
 * code (API clients, vendored libraries, compiled output), whose calls are not the app's own and
 * which would dominate the scan time. Such a file is listed in `skipped`, not read.
 */
export const MAX_FILE_BYTES = 1024 * 1024;

export const DEFAULT_SCAN: ScanOptions = {
  include: [`**/*.{${Object.keys(LANGUAGES).join(',')}}`],
  exclude: [
    // dependencies and tool state
    'node_modules',
    '.git',
    'vendor',
    'Pods',
    '.dart_tool',
    '.venv',
    'venv',
    '__pycache__',
    '.gradle',
    // build output
    'dist',
    'build',
    'out',
    '.next',
    '.nuxt',
    '.svelte-kit',
    '.output',
    '.vercel',
    'target',
    'coverage',
    // generated code: type declarations (database.types.ts from `supabase gen types`), Dart codegen, minified bundles
    '*.d.ts',
    '*.d.mts',
    '*.d.cts',
    'database.types.ts',
    '*.g.dart',
    '*.freezed.dart',
    '*.min.js',
    '*.min.mjs',
  ],
  maxFileBytes: MAX_FILE_BYTES,
};

/** The repo config's `rls.app-code`: `include` replaces the default list, `exclude` adds to the default exclusions. */
export function scanOptionsFromConfig(appCode: RepoConfig['rls']['app-code']): ScanOptions {
  return {
    ...DEFAULT_SCAN,
    include: appCode?.include ?? DEFAULT_SCAN.include,
    exclude: [...DEFAULT_SCAN.exclude, ...(appCode?.exclude ?? [])],
  };
}

const matcher = (globs: readonly string[]): ((relative: string) => boolean) => {
  const patterns = globs.map(globToRegExp);
  return (relative) => patterns.some((pattern) => pattern.test(relative));
};

export async function scanApiUsage(root: string, options: ScanOptions): Promise<ApiUsage> {
  const usage: ApiUsage = { calls: [], unresolved: [], filesScanned: 0, skipped: [] };
  const included = matcher(options.include);
  const excluded = matcher(options.exclude);
  const maxBytes = options.maxFileBytes ?? MAX_FILE_BYTES;
  const realRoot = realpathSync(root);
  const seen = new Set<string>([realRoot]);
  const skip = (file: string, reason: string): void => void usage.skipped.push({ file, reason });

  const scanFile = (relative: string, absolute: string, language: ApiLanguage): void => {
    let buffer: Buffer;
    let fd: number | undefined;
    try {
      // one open, one fstat, one read: the size is checked on the file being read
      fd = openSync(absolute, 'r');
      const size = fstatSync(fd).size;
      if (size > maxBytes) return skip(relative, `larger than ${Math.round(maxBytes / 1024)} KiB (generated or bundled code), not read`);
      buffer = readFileSync(fd);
    } catch (error) {
      return skip(relative, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    usage.filesScanned += 1;
    // invalid UTF-8 is read with replacement characters; a byte order mark is not part of line 1
    const decoded = buffer.toString('utf8').replace(/^\uFEFF/, '');
    const candidate = CANDIDATE[language];
    candidate.lastIndex = 0;
    if (!candidate.test(decoded)) return;
    const text = scriptParts(decoded, relative);
    const found = findCalls(relative, language, lex(text, language), lineStartsOf(text));
    usage.calls.push(...found.calls);
    usage.unresolved.push(...found.unresolved);
  };

  /** Symbolic links are followed after the tree itself, so a file is listed under its own path rather than a link's. */
  const links: Array<{ relative: string; absolute: string; wanted: boolean; language?: ApiLanguage }> = [];

  const visit = async (
    relative: string,
    real: string,
    kind: 'directory' | 'file' | 'other',
    language: ApiLanguage | undefined,
    wanted: boolean,
  ): Promise<void> => {
    if (seen.has(real)) return;
    seen.add(real);
    if (kind === 'directory') await walk(relative, real);
    else if (!wanted || !language) return;
    else if (kind === 'file') {
      scanFile(relative, real, language);
      // the scan reads synchronously (fastest for many small files); it yields now and then so that a caller's database work proceeds meanwhile
      if (usage.filesScanned % 100 === 0) await setImmediate();
    } else skip(relative, 'not a regular file');
  };

  const walk = async (relativeDir: string, realDir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(realDir, { withFileTypes: true });
    } catch (error) {
      return skip(relativeDir || '.', `folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (excluded(relative)) continue;
      const absolute = path.join(realDir, entry.name);
      const extension = path.extname(entry.name).slice(1).toLowerCase();
      // own keys only: a file named x.constructor must not find Object.prototype's
      const language = Object.hasOwn(LANGUAGES, extension) ? LANGUAGES[extension] : undefined;
      const wanted = language !== undefined && included(relative);
      if (entry.isSymbolicLink()) links.push({ relative, absolute, wanted, ...(language ? { language } : {}) });
      else if (entry.isDirectory()) await visit(relative, absolute, 'directory', language, wanted);
      else if (wanted) await visit(relative, absolute, entry.isFile() ? 'file' : 'other', language, wanted);
    }
  };

  const follow = async ({ relative, absolute, wanted, language }: (typeof links)[number]): Promise<void> => {
    let real: string;
    let kind: 'directory' | 'file' | 'other';
    try {
      real = realpathSync(absolute);
      const stat = statSync(real);
      kind = stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (wanted) skip(relative, code === 'ENOENT' ? 'broken symbolic link' : `symbolic link cannot be followed (${code ?? 'unknown error'})`);
      return;
    }
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) {
      if (wanted) skip(relative, 'symbolic link to outside the repository, not followed');
      return;
    }
    // a file or folder already read under its own path (or through another link) is read once; a link loop ends here
    await visit(relative, real, kind, language, wanted);
  };

  await walk('', realRoot);
  for (let next = links.shift(); next; next = links.shift()) await follow(next);
  return usage;
}

/** Vue and Svelte single-file components and Astro pages: only their scripts are code; the rest is blanked (offsets kept). */
function scriptParts(text: string, file: string): string {
  if (!/\.(vue|svelte|astro)$/i.test(file)) return text;
  const keep: Array<[number, number]> = [];
  for (const match of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    const start = match.index + match[0].indexOf('>') + 1;
    keep.push([start, start + match[1]!.length]);
  }
  // Astro's frontmatter: the code fence at the top of the file
  const frontmatter = /^(\s*---\r?\n)([\s\S]*?)\r?\n---/.exec(text);
  if (file.toLowerCase().endsWith('.astro') && frontmatter) keep.push([frontmatter[1]!.length, frontmatter[1]!.length + frontmatter[2]!.length]);
  keep.sort((a, b) => a[0] - b[0]);
  const blank = (from: number, to: number): string => text.slice(from, to).replace(/[^\r\n]/g, ' ');
  const parts: string[] = [];
  let at = 0;
  for (const [from, to] of keep) {
    if (from < at) continue;
    parts.push(blank(at, from), text.slice(from, to));
    at = to;
  }
  parts.push(blank(at, text.length));
  return parts.join('');
}
