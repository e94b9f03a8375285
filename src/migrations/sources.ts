/**
 * Reading a migrations folder as each tool reads it: which files are migrations, their
 * versions and names, the SQL the tool runs, and in which order. Files that break the
 * tool's naming rules are returned as problems (the tools skip most of them silently,
 * which is how a migration "never runs").
 *
 * Naming rules, from each tool's source (see docs/adr/0001-schema-diff-engine.md):
 *   supabase        supabase/migrations/<digits>_<name>.sql        (supabase/cli pkg/migration/file.go)
 *   sqlx            <i64>_<description>.sql | .up.sql | .down.sql  (sqlx-core migrate/source.rs)
 *   prisma          <timestamp>_<name>/migration.sql               (prisma-engines migration directory)
 *   drizzle         <NNNN>_<tag>.sql listed in meta/_journal.json  (drizzle-orm src/migrator.ts)
 *   flyway          V<version>__<desc>.sql, R__<desc>.sql, U...     (flyway resource naming)
 *   dbmate          <digits>...sql with -- migrate:up / -- migrate:down
 *   golang-migrate  <uint>_<title>.up.sql / .down.sql              (golang-migrate source/parse.go)
 *   node-pg-migrate <timestamp>_<name>.{js,cjs,mjs,ts,sql}         (node-pg-migrate src/migration.ts)
 *   graphile        committed/<000001>[-message].sql with --! headers (graphile/migrate src/migration.ts)
 *   plain           <digits>[_-]<name>.sql, applied in numeric order
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATION_FORMATS } from '../config/gates.ts';
import { UserError } from '../errors.ts';
import { graphileHash } from './checksums.ts';
import type { Migration, MigrationFileProblem, MigrationFormat, MigrationSource, MigrationTool } from './types.ts';

export const MIGRATION_TOOLS = MIGRATION_FORMATS.filter((f): f is MigrationTool => f !== 'auto');

export const TOOL_TITLES: Record<MigrationTool, string> = {
  supabase: 'Supabase CLI',
  sqlx: 'sqlx',
  prisma: 'Prisma Migrate',
  drizzle: 'drizzle-kit',
  flyway: 'Flyway',
  dbmate: 'dbmate',
  'golang-migrate': 'golang-migrate',
  'node-pg-migrate': 'node-pg-migrate',
  'graphile-migrate': 'graphile-migrate',
  plain: 'plain numbered SQL files',
};

/** Folders looked at, in order, when `migrations-dir` is not given. */
export const DEFAULT_MIGRATION_DIRS = [
  'supabase/migrations',
  'prisma/migrations',
  'drizzle',
  'migrations',
  'db/migrations',
  'db/migration',
  'src/main/resources/db/migration',
  'sql/migrations',
];

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

interface Listing {
  /** Names (not paths) of the files directly in the folder. */
  files: string[];
  dirs: string[];
}

function list(dir: string): Listing {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) dirs.push(entry.name);
    else if (entry.isFile()) files.push(entry.name);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

function listRecursive(dir: string, prefix = ''): string[] {
  const { files, dirs } = list(dir);
  return [
    ...files.map((f) => prefix + f),
    ...dirs.flatMap((d) => listRecursive(path.join(dir, d), `${prefix}${d}/`)),
  ].sort();
}

interface ReadContext {
  dir: string;
  cwd: string;
  reader: FileReader;
}

type Draft = Omit<Migration, 'tool' | 'file' | 'absolutePath' | 'raw' | 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'> &
  Partial<Pick<Migration, 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'>>;

function build(tool: MigrationTool, ctx: ReadContext, relative: string, draft: Draft, raw?: string): Migration {
  const absolutePath = path.join(ctx.dir, relative);
  const text = raw ?? ctx.reader.text(absolutePath);
  return {
    ...draft,
    tool,
    file: toRepoPath(ctx.cwd, absolutePath),
    absolutePath,
    raw: text,
    sql: draft.sql ?? text,
    sqlOffset: draft.sqlOffset ?? 0,
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

/** Flyway versions: dot- or underscore-separated numbers, compared part by part; trailing zero parts do not count. */
export function normalizeFlywayVersion(version: string): string {
  const parts = version.split(/[._]/).map((part) => (/^\d+$/.test(part) ? BigInt(part).toString() : part));
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  return parts.join('.');
}

export function compareFlywayVersions(a: string, b: string): number {
  const x = normalizeFlywayVersion(a).split('.');
  const y = normalizeFlywayVersion(b).split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = compareNumeric(x[i] ?? '0', y[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

/** Orders two versions the way the tool does. */
export function compareVersions(tool: MigrationTool, a: string, b: string): number {
  if (tool === 'flyway') return compareFlywayVersions(a, b);
  // The Supabase CLI compares versions as strings when it looks for pending migrations.
  if (tool === 'prisma' || tool === 'graphile-migrate' || tool === 'supabase') return a < b ? -1 : a > b ? 1 : 0;
  return compareNumeric(a, b);
}

// ---------------------------------------------------------------- the ten readers

interface ReadResult {
  migrations: Migration[];
  problems: MigrationFileProblem[];
}

type Reader = (ctx: ReadContext) => ReadResult;

function problem(ctx: ReadContext, relative: string, text: string): MigrationFileProblem {
  return { file: toRepoPath(ctx.cwd, path.join(ctx.dir, relative)), problem: text };
}

const readSupabase: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    if (!file.endsWith('.sql')) continue;
    const match = /^([0-9]+)_(.*)\.sql$/.exec(file);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not match <timestamp>_<name>.sql, so \`supabase db push\` skips it; rename it (e.g. \`supabase migration new <name>\`).`));
      continue;
    }
    migrations.push(build('supabase', ctx, file, { id: match[1]!, version: match[1]!, name: match[2]! }));
  }
  return { migrations: migrations.sort((a, b) => (a.file < b.file ? -1 : 1)), problems };
};

const readSqlx: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    if (!file.endsWith('.sql') || file.endsWith('.down.sql')) continue;
    const match = /^(\d+)_(.+?)(\.up)?\.sql$/.exec(file);
    if (!match || BigInt(match[1]!) > 9223372036854775807n) {
      problems.push(problem(ctx, file, `\`${file}\` does not match <version>_<description>.sql with a 64-bit version, so \`sqlx migrate\` rejects it; rename it (\`sqlx migrate add\`).`));
      continue;
    }
    const raw = ctx.reader.text(path.join(ctx.dir, file));
    migrations.push(
      build('sqlx', ctx, file, {
        id: BigInt(match[1]!).toString(),
        version: match[1]!,
        name: match[2]!.replace(/_/g, ' '),
        noTransaction: raw.startsWith('-- no-transaction'),
      }, raw),
    );
  }
  return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
};

const readPrisma: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const dir of list(ctx.dir).dirs) {
    const relative = `${dir}/migration.sql`;
    if (!existsSync(path.join(ctx.dir, relative))) {
      problems.push(problem(ctx, dir, `Folder \`${dir}\` has no migration.sql, which \`prisma migrate\` reports as an error; add the file or delete the folder.`));
      continue;
    }
    const match = /^(\d+)_(.*)$/.exec(dir);
    migrations.push(build('prisma', ctx, relative, { id: dir, version: match?.[1] ?? dir, name: match?.[2] ?? dir }));
  }
  return { migrations, problems };
};

interface DrizzleJournal {
  entries?: Array<{ idx?: number; when?: number; tag?: string }>;
}

const readDrizzle: Reader = (ctx) => {
  const journalPath = path.join(ctx.dir, 'meta', '_journal.json');
  let journal: DrizzleJournal;
  try {
    journal = JSON.parse(ctx.reader.text(journalPath)) as DrizzleJournal;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`drizzle journal ${journalPath} is not valid JSON; regenerate it with drizzle-kit generate.`);
  }
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  const listed = new Set<string>();
  for (const entry of [...(journal.entries ?? [])].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0))) {
    if (!entry.tag || typeof entry.when !== 'number') {
      problems.push(problem(ctx, 'meta/_journal.json', `A journal entry (idx ${entry.idx ?? '?'}) has no tag or when, so drizzle cannot run it; regenerate the journal.`));
      continue;
    }
    const file = `${entry.tag}.sql`;
    listed.add(file);
    if (!existsSync(path.join(ctx.dir, file))) {
      problems.push(problem(ctx, file, `The journal lists \`${file}\` but the file is missing, so drizzle's migrate() fails; restore the file or regenerate the journal.`));
      continue;
    }
    migrations.push(build('drizzle', ctx, file, { id: String(entry.when), version: entry.tag.split('_')[0] ?? entry.tag, name: entry.tag, when: entry.when }));
  }
  for (const file of list(ctx.dir).files) {
    if (file.endsWith('.sql') && !listed.has(file)) {
      problems.push(problem(ctx, file, `\`${file}\` is not listed in meta/_journal.json, so drizzle never runs it; generate migrations with drizzle-kit instead of adding files by hand.`));
    }
  }
  return { migrations, problems };
};

const readFlyway: Reader = (ctx) => {
  const versioned: Migration[] = [];
  const repeatable: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of listRecursive(ctx.dir)) {
    if (!file.endsWith('.sql')) continue;
    const base = path.posix.basename(file);
    const match = /^([VUR])([^_]*(?:_(?!_)[^_]*)*)__(.+)\.sql$/.exec(base);
    if (!match || (match[1] === 'V' && !/^\d+([._]\d+)*$/.test(match[2]!)) || (match[1] === 'R' && match[2] !== '')) {
      problems.push(problem(ctx, file, `\`${base}\` does not match V<version>__<description>.sql or R__<description>.sql, so Flyway ignores it; rename it.`));
      continue;
    }
    if (match[1] === 'U') continue; // undo migrations (Teams edition) are not part of the forward history
    const description = match[3]!.replace(/_/g, ' ');
    if (match[1] === 'R') {
      repeatable.push(build('flyway', ctx, file, { id: `R:${description}`, version: '', name: description, kind: 'repeatable' }));
    } else {
      versioned.push(build('flyway', ctx, file, { id: normalizeFlywayVersion(match[2]!), version: match[2]!.replace(/_/g, '.'), name: description }));
    }
  }
  versioned.sort((a, b) => compareFlywayVersions(a.version, b.version));
  repeatable.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { migrations: [...versioned, ...repeatable], problems };
};

const readDbmate: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    if (!file.endsWith('.sql')) continue;
    const match = /^(\d+)_?(.*)\.sql$/.exec(file);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not start with a numeric version, so dbmate ignores it; rename it (\`dbmate new <name>\`).`));
      continue;
    }
    const raw = ctx.reader.text(path.join(ctx.dir, file));
    const up = /^--\s*migrate:up\b([^\n]*)\n?/m.exec(raw);
    if (!up) {
      problems.push(problem(ctx, file, `\`${file}\` has no \`-- migrate:up\` line, so dbmate refuses to run it; add the marker above the SQL.`));
      continue;
    }
    const start = up.index + up[0].length;
    const down = /^--\s*migrate:down\b/m.exec(raw.slice(start));
    const end = down ? start + down.index : raw.length;
    migrations.push(
      build('dbmate', ctx, file, {
        id: match[1]!,
        version: match[1]!,
        name: match[2]!,
        sql: raw.slice(start, end),
        sqlOffset: start,
        noTransaction: /\btransaction:false\b/.test(up[1] ?? ''),
      }, raw),
    );
  }
  return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
};

const readGolangMigrate: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    if (!file.endsWith('.sql')) continue;
    const match = /^([0-9]+)_(.*)\.(down|up)\.sql$/.exec(file);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not match <version>_<title>.up.sql or .down.sql, so golang-migrate skips it; rename it (\`migrate create -ext sql\`).`));
      continue;
    }
    if (match[3] === 'down') continue;
    migrations.push(build('golang-migrate', ctx, file, { id: BigInt(match[1]!).toString(), version: match[1]!, name: match[2]! }));
  }
  return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id)), problems };
};

const readNodePgMigrate: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    const ext = /\.(js|cjs|mjs|ts|cts|mts|sql)$/.exec(file)?.[1];
    if (!ext || file.endsWith('.d.ts')) continue;
    const name = file.slice(0, -(ext.length + 1));
    const match = /^(\d+)[_-]?(.*)$/.exec(name);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not start with a numeric timestamp, so node-pg-migrate cannot order it; rename it (\`node-pg-migrate create <name>\`).`));
      continue;
    }
    const draft: Draft = { id: name, version: match[1]!, name: match[2]! };
    if (ext !== 'sql') {
      migrations.push(build('node-pg-migrate', ctx, file, { ...draft, sql: '', executable: false }));
      continue;
    }
    const raw = ctx.reader.text(path.join(ctx.dir, file));
    const up = /^--\s*Up Migration\b[^\n]*\n?/im.exec(raw);
    const start = up ? up.index + up[0].length : 0;
    const down = /^--\s*Down Migration\b/im.exec(raw.slice(start));
    const end = down ? start + down.index : raw.length;
    migrations.push(build('node-pg-migrate', ctx, file, { ...draft, sql: raw.slice(start, end), sqlOffset: start }, raw));
  }
  return { migrations: migrations.sort((a, b) => compareNumeric(a.version, b.version) || (a.id < b.id ? -1 : 1)), problems };
};

/** graphile-migrate committed files: `--! Key: value` header lines, a blank line, then the body. */
export function parseGraphileFile(raw: string): { headers: Record<string, string>; body: string; bodyOffset: number } | undefined {
  const headers: Record<string, string> = {};
  let offset = 0;
  while (raw.startsWith('--! ', offset)) {
    const end = raw.indexOf('\n', offset);
    if (end === -1) return undefined;
    const line = raw.slice(offset + 4, end);
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    offset = end + 1;
  }
  if (raw[offset] !== '\n') return undefined;
  return { headers, body: raw.slice(offset + 1), bodyOffset: offset + 1 };
}

const readGraphile: Reader = (ctx) => {
  const committed = path.basename(ctx.dir) === 'committed' ? ctx.dir : path.join(ctx.dir, 'committed');
  const inner: ReadContext = { ...ctx, dir: committed };
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  if (!existsSync(committed)) return { migrations, problems };
  for (const file of list(committed).files) {
    if (!file.endsWith('.sql')) continue;
    if (!/^[0-9]{6,}(-[-_a-zA-Z0-9]*)?\.sql$/.test(file)) {
      problems.push(problem(inner, file, `\`${file}\` does not match 000001[-message].sql, so graphile-migrate ignores it; commit migrations with \`graphile-migrate commit\`.`));
      continue;
    }
    const raw = ctx.reader.text(path.join(committed, file));
    const parsed = parseGraphileFile(raw);
    const hash = parsed?.headers.Hash;
    if (!parsed || !hash || parsed.headers.Previous === undefined) {
      problems.push(problem(inner, file, `\`${file}\` lacks the \`--! Previous:\` / \`--! Hash:\` header, so graphile-migrate refuses it; re-commit it with \`graphile-migrate commit\`.`));
      continue;
    }
    const previous = parsed.headers.Previous;
    migrations.push(
      build('graphile-migrate', inner, file, {
        id: file,
        version: /^\d+/.exec(file)![0],
        name: parsed.headers.Message ?? '',
        sql: parsed.body,
        sqlOffset: parsed.bodyOffset,
        noTransaction: /^--!\s*no-transaction\b/.test(parsed.body),
        header: { hash, previousHash: previous && previous !== '-' ? previous : null },
      }, raw),
    );
  }
  return { migrations: migrations.sort((a, b) => a.id.localeCompare(b.id)), problems };
};

const readPlain: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: MigrationFileProblem[] = [];
  for (const file of list(ctx.dir).files) {
    if (!file.endsWith('.sql') || file.endsWith('.down.sql')) continue;
    const match = /^(\d+)(?:[_.-](.*?))?(\.up)?\.sql$/.exec(file);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not start with a number, so its place in the order is unknown; rename it <number>_<name>.sql.`));
      continue;
    }
    migrations.push(build('plain', ctx, file, { id: BigInt(match[1]!).toString(), version: match[1]!, name: match[2] ?? '' }));
  }
  return { migrations: migrations.sort((a, b) => compareNumeric(a.id, b.id) || (a.file < b.file ? -1 : 1)), problems };
};

const READERS: Record<MigrationTool, Reader> = {
  supabase: readSupabase,
  sqlx: readSqlx,
  prisma: readPrisma,
  drizzle: readDrizzle,
  flyway: readFlyway,
  dbmate: readDbmate,
  'golang-migrate': readGolangMigrate,
  'node-pg-migrate': readNodePgMigrate,
  'graphile-migrate': readGraphile,
  plain: readPlain,
};

// ---------------------------------------------------------------- detection

function findUp(start: string, names: string[], levels = 3): string | undefined {
  let dir = start;
  for (let i = 0; i <= levels; i++) {
    for (const name of names) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The Supabase project config (supabase/config.toml) for a migrations folder, if any. */
export function findSupabaseConfig(dir: string): string | undefined {
  const direct = [path.join(dir, '..', 'config.toml'), path.join(dir, 'supabase', 'config.toml')];
  const found = direct.find((file) => existsSync(file) && path.basename(path.dirname(file)) === 'supabase');
  return found ?? findUp(dir, ['supabase/config.toml'], 2);
}

/** Guesses the tool from the files alone. */
export function detectTool(dir: string): { tool: MigrationTool; detection: 'strong' | 'weak' } {
  const { files, dirs } = list(dir);
  const sql = files.filter((f) => f.endsWith('.sql'));
  const peek = (file: string, bytes = 4096): string => {
    try {
      return readFileSync(path.join(dir, file)).subarray(0, bytes).toString('utf8');
    } catch {
      return '';
    }
  };
  if (existsSync(path.join(dir, 'meta', '_journal.json'))) return { tool: 'drizzle', detection: 'strong' };
  if (files.includes('migration_lock.toml') || dirs.some((d) => existsSync(path.join(dir, d, 'migration.sql')))) {
    return { tool: 'prisma', detection: 'strong' };
  }
  if (path.basename(dir) === 'committed' || dirs.includes('committed')) return { tool: 'graphile-migrate', detection: 'strong' };
  const flywayish = listRecursive(dir).filter((f) => /(^|\/)[VR][^/]*__[^/]*\.sql$/.test(f));
  if (flywayish.length && flywayish.length * 2 >= sql.length) return { tool: 'flyway', detection: 'strong' };
  if (sql.some((f) => /^--\s*migrate:up\b/m.test(peek(f)))) return { tool: 'dbmate', detection: 'strong' };
  if (files.some((f) => /^\d+.*\.(js|cjs|mjs|ts)$/.test(f) && !f.endsWith('.d.ts')) || sql.some((f) => /^--\s*Up Migration\b/im.test(peek(f)))) {
    return { tool: 'node-pg-migrate', detection: 'strong' };
  }
  const rust = findUp(dir, ['Cargo.toml', '.sqlx'], 3) !== undefined;
  if (sql.some((f) => /\.(up|down)\.sql$/.test(f))) return { tool: rust ? 'sqlx' : 'golang-migrate', detection: rust ? 'strong' : 'weak' };
  if (findSupabaseConfig(dir) || dir.split(path.sep).slice(-2).join('/') === 'supabase/migrations') return { tool: 'supabase', detection: 'strong' };
  if (rust) return { tool: 'sqlx', detection: 'strong' };
  return { tool: 'plain', detection: 'weak' };
}

export interface ReadMigrationsOptions {
  cwd: string;
  format?: MigrationFormat;
  reader?: FileReader;
  /** Name of the input for messages. */
  inputName?: string;
}

export function resolveMigrationsDir(dir: string | undefined, cwd: string, inputName = 'migrations-dir'): string {
  if (dir) return path.resolve(cwd, dir);
  const found = DEFAULT_MIGRATION_DIRS.map((d) => path.join(cwd, d)).find((d) => existsSync(d) && statSync(d).isDirectory());
  if (!found) {
    throw new UserError(
      `No migrations folder was found in ${cwd} (looked for ${DEFAULT_MIGRATION_DIRS.join(', ')}); pass input \`${inputName}\`.`,
    );
  }
  return found;
}

export function assertFormat(value: string, inputName = 'migrations-format'): MigrationFormat {
  if (!(MIGRATION_FORMATS as readonly string[]).includes(value)) {
    throw new UserError(`\`${inputName}\` is "${value}", which is not a migration tool postgate reads; use one of ${MIGRATION_FORMATS.join(', ')}.`);
  }
  return value as MigrationFormat;
}

/** Reads a migrations folder. Throws UserError for a missing/empty folder, unreadable files and duplicate versions. */
export function readMigrations(dir: string, options: ReadMigrationsOptions): MigrationSource {
  const inputName = options.inputName ?? 'migrations-dir';
  const absolute = path.resolve(options.cwd, dir);
  let isDir = false;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch {
    throw new UserError(`Input \`${inputName}\` is ${dir}, which does not exist; point it at the folder holding your migrations.`);
  }
  if (!isDir) throw new UserError(`Input \`${inputName}\` is ${dir}, which is a file, not a folder; point it at the folder holding your migrations.`);
  const format = options.format ?? 'auto';
  const detected = format === 'auto' ? detectTool(absolute) : { tool: format, detection: 'explicit' as const };
  const ctx: ReadContext = { dir: absolute, cwd: options.cwd, reader: options.reader ?? diskReader };
  const { migrations, problems } = READERS[detected.tool](ctx);
  if (migrations.length === 0 && problems.length === 0) {
    throw new UserError(
      `Input \`${inputName}\` is ${dir}, which holds no ${detected.tool === 'plain' ? 'numbered .sql' : TOOL_TITLES[detected.tool]} migrations; point it at the folder holding your migrations${format === 'auto' ? ' or set `migrations-format`' : ''}.`,
    );
  }
  assertUniqueIds(migrations, detected.tool);
  return { tool: detected.tool, dir: absolute, migrations, problems, detection: detected.detection };
}

function assertUniqueIds(migrations: Migration[], tool: MigrationTool): void {
  const seen = new Map<string, Migration>();
  for (const migration of migrations) {
    const other = seen.get(migration.id);
    if (other) {
      throw new UserError(
        `Migration files ${other.file} and ${migration.file} both have ${tool === 'flyway' && migration.kind === 'repeatable' ? 'description' : 'version'} ${migration.kind === 'repeatable' ? migration.name : migration.version}; give one of them a new, later version.`,
      );
    }
    seen.set(migration.id, migration);
  }
}

/** graphile-migrate's own checks on committed files: each hash matches its body and the chain is unbroken. */
export function graphileChainProblems(migrations: Migration[]): Array<{ migration: Migration; problem: string }> {
  const out: Array<{ migration: Migration; problem: string }> = [];
  let previous: Migration | undefined;
  for (const migration of migrations) {
    if (!migration.header) continue;
    const expected = graphileHash(migration.sql, migration.header.previousHash);
    if (expected !== migration.header.hash) {
      out.push({ migration, problem: `its body no longer matches its \`--! Hash:\` header (${migration.header.hash}, body hashes to ${expected})` });
    }
    const wantedPrevious = previous?.header?.hash ?? null;
    if (migration.header.previousHash !== wantedPrevious) {
      out.push({ migration, problem: `its \`--! Previous:\` is ${migration.header.previousHash ?? '-'} but the migration before it has hash ${wantedPrevious ?? '(none)'}` });
    }
    previous = migration;
  }
  return out;
}

