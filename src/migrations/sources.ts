/**
 * Reading a migrations folder as each tool reads it: which files are migrations, their
 * versions and names, the SQL the tool runs, and in which order. Files that break the
 * tool's naming rules are returned as problems (the tools skip most of them silently,
 * which is how a migration "never runs"), and so are two files with one version.
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
 *
 * The folder is input a pull request shapes, so:
 * - symbolic links are followed only while they stay inside the repository (or the folder):
 *   one that leads elsewhere (`/proc/self/environ`, the runner's home) is never read, and
 *   is a problem of rule `migration_symlink_outside`; so is a drizzle journal tag with `..`;
 * - a file that is not UTF-8 is rejected in one sentence (PostgreSQL would refuse it too);
 * - a UTF-8 byte order mark is dropped for the tools that drop it (psql, which runs plain
 *   files, ignores one on the first line; Flyway's reader strips it) and rejected in one
 *   sentence for the others, which pass it on: PostgreSQL reads it as part of the first
 *   token (a syntax error), and dbmate's, graphile-migrate's and node-pg-migrate's markers
 *   stop matching. Both are checked while reading, before anything is applied.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATION_FORMATS } from '../config/gates.ts';
import { realPathOf } from '../config/paths.ts';
import { UserError } from '../errors.ts';
import { defineRules, type Rule } from '../findings/rules.ts';
import { type Finding, finding } from '../findings/types.ts';
import { graphileHash } from './checksums.ts';
import type { Migration, MigrationFileProblem, MigrationFormat, MigrationSource, MigrationTool } from './types.ts';

export const MIGRATION_TOOLS = MIGRATION_FORMATS.filter((f): f is MigrationTool => f !== 'auto');

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

export const MIGRATION_SOURCE_RULES = [
  {
    id: 'migration_symlink_outside',
    gate: 'all',
    severity: 'error',
    category: 'security',
    title: 'Migration path leads outside the repository',
    doc:
      'A symbolic link in the migrations folder (or a path the folder\'s files name, such as a drizzle journal entry) leads outside the repository. postgate does not follow it: on a CI runner it could read the runner\'s own files (`/proc/self/environ`, `~/.ssh`, another job\'s checkout) into the shadow database and from there into error messages, and the migration tool would apply whatever the link points to on the machine it runs on, not what the repository holds. The file is left out of the migrations, so the finding is an error: replace the link with the file itself (or a link that stays inside the repository). Links inside the repository are followed, as the migration tools follow them. To accept it, allowlist `{ rule: migration_symlink_outside, object: { kind: migration, name: <path of the link> }, reason }`.',
  },
] as const satisfies readonly Rule[];

defineRules(MIGRATION_SOURCE_RULES);

/** One error finding per path of the migrations folder that leads outside the repository. */
export function outsidePathFindings(problems: readonly MigrationFileProblem[]): Finding[] {
  return (problems as Array<MigrationFileProblem & Partial<FileProblem>>)
    .filter((p) => p.outside)
    .map((p) =>
      finding({
        rule: 'migration_symlink_outside',
        severity: 'error',
        object: { kind: 'migration', name: p.file },
        message: p.problem,
        remediation: 'Replace the link with the file itself (git stores a symbolic link as the path it points to), or point it at a file inside the repository.',
        location: { file: p.file, line: 1 },
      }),
    );
}

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

function isInside(child: string, parent: string): boolean {
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
function follow(guard: PathGuard, absolute: string, entry?: Dirent): PathKind {
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

function list(dir: string, guard: PathGuard): Listing {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const kind = follow(guard, path.join(dir, entry.name), entry);
    if (kind === 'dir') dirs.push(entry.name);
    else if (kind === 'file') files.push(entry.name);
    else if (kind === 'missing' && entry.isSymbolicLink() && entry.name.endsWith('.sql')) {
      const file = toRepoPath(guard.cwd, path.join(dir, entry.name));
      guard.refused.set(file, { file, problem: `\`${file}\` is a symbolic link to ${readlinkSync(path.join(dir, entry.name))}, which does not exist, so the migration tool cannot read it; fix the link or delete it.`, severity: 'error' });
    }
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

function listRecursive(dir: string, guard: PathGuard, prefix = ''): string[] {
  const { files, dirs } = list(dir, guard);
  return [
    ...files.map((f) => prefix + f),
    ...dirs.flatMap((d) => listRecursive(path.join(dir, d), guard, `${prefix}${d}/`)),
  ].sort();
}

interface ReadContext {
  dir: string;
  cwd: string;
  reader: FileReader;
  tool: MigrationTool;
  guard: PathGuard;
}

/**
 * Tools that drop a UTF-8 byte order mark at the start of a file: Flyway (its resource reader
 * strips it) and psql, which runs plain SQL files (it ignores a BOM on the first line). Every
 * other tool passes it on, where it breaks the file: PostgreSQL reads the mark as part of the
 * first token (a syntax error), and dbmate's `-- migrate:up`, graphile-migrate's `--!` headers
 * and node-pg-migrate's markers are no longer at the start of their line.
 */
const DROPS_BOM: ReadonlySet<MigrationTool> = new Set(['flyway', 'plain']);
const BOM = '\uFEFF';

/**
 * A migration file's text, as the tool reads it: not UTF-8 or (for a tool that keeps it) a
 * byte order mark is a bad input, rejected in one sentence before anything is applied.
 */
function textOf(ctx: ReadContext, absolutePath: string): string {
  const text = ctx.reader.text(absolutePath);
  if (text.startsWith(BOM) && !DROPS_BOM.has(ctx.tool)) {
    throw new UserError(
      `Migration file ${toRepoPath(ctx.cwd, absolutePath)} starts with a UTF-8 byte order mark, which ${ctx.tool === 'supabase' ? 'the ' : ''}${TOOL_TITLES[ctx.tool]} does not remove, so the file fails to apply; re-save it as UTF-8 without a BOM.`,
    );
  }
  return text;
}

type Draft = Omit<Migration, 'tool' | 'file' | 'absolutePath' | 'raw' | 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'> &
  Partial<Pick<Migration, 'sql' | 'sqlOffset' | 'noTransaction' | 'executable' | 'kind'>>;

function build(tool: MigrationTool, ctx: ReadContext, relative: string, draft: Draft, raw?: string): Migration {
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
  problems: FileProblem[];
}

type Reader = (ctx: ReadContext) => ReadResult;

function problem(ctx: ReadContext, relative: string, text: string, severity: FileProblem['severity'] = 'error'): FileProblem {
  return { file: toRepoPath(ctx.cwd, path.join(ctx.dir, relative)), problem: text, severity };
}

/** The Supabase CLI's pattern (supabase/cli pkg/migration/file.go `migrateFilePattern`). */
const SUPABASE_FILE = /^([0-9]+)_(.*)\.sql$/;
/** A first `<timestamp>_init.sql` older than this is skipped (supabase/cli pkg/migration/list.go `shouldSkip`). */
const SUPABASE_INIT = /([0-9]{14})_init\.sql/;
const SUPABASE_INIT_BEFORE = 20211209000000n;
const SUPABASE_SKIPS = (file: string) =>
  `the Supabase CLI skips it too (\`supabase db push\` and \`supabase db reset\` print "Skipping migration ${file}..." and never run it) and postgate does not apply it`;

/**
 * The Supabase CLI lists the folder (every entry, sorted by name), skips the first entry
 * when it is a pre-2021-12-09 `<timestamp>_init.sql`, and skips every name off its pattern,
 * each with a "Skipping migration" line on stderr: those are warnings here, since the CLI
 * says so itself and goes on. Entries that are not `.sql` files (README.md, .gitkeep,
 * folders) are skipped too, and not reported.
 */
const readSupabase: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: FileProblem[] = [];
  const firstEntry = readdirSync(ctx.dir).sort()[0];
  for (const file of list(ctx.dir, ctx.guard).files) {
    if (!file.endsWith('.sql')) continue;
    const init = file === firstEntry ? SUPABASE_INIT.exec(file) : null;
    if (init && BigInt(init[1]!) < SUPABASE_INIT_BEFORE) {
      problems.push(problem(ctx, file, `\`${file}\` is the first file and an \`<timestamp>_init.sql\` from before 2021-12-09, so ${SUPABASE_SKIPS(file)}; if it is a migration, rename it so that its name does not end in _init.sql.`, 'warning'));
      continue;
    }
    const match = SUPABASE_FILE.exec(file);
    if (!match) {
      problems.push(
        problem(
          ctx,
          file,
          file === 'seed.sql'
            ? `\`${file}\` sits in the migrations folder, where ${SUPABASE_SKIPS(file)}; move it to supabase/seed.sql, where \`supabase db reset\` seeds from.`
            : `\`${file}\` does not match <timestamp>_<name>.sql, so ${SUPABASE_SKIPS(file)}; if it is a migration, rename it to <timestamp>_<name>.sql (e.g. with \`supabase migration new <name>\`).`,
          'warning',
        ),
      );
      continue;
    }
    migrations.push(build('supabase', ctx, file, { id: match[1]!, version: match[1]!, name: match[2]! }));
  }
  return { migrations: migrations.sort((a, b) => (a.file < b.file ? -1 : 1)), problems };
};

const readSqlx: Reader = (ctx) => {
  const migrations: Migration[] = [];
  const problems: FileProblem[] = [];
  for (const file of list(ctx.dir, ctx.guard).files) {
    if (!file.endsWith('.sql') || file.endsWith('.down.sql')) continue;
    const match = /^(\d+)_(.+?)(\.up)?\.sql$/.exec(file);
    if (!match || BigInt(match[1]!) > 9223372036854775807n) {
      problems.push(problem(ctx, file, `\`${file}\` does not match <version>_<description>.sql with a 64-bit version, so \`sqlx migrate\` rejects it; rename it (\`sqlx migrate add\`).`));
      continue;
    }
    const raw = textOf(ctx, path.join(ctx.dir, file));
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
  const problems: FileProblem[] = [];
  for (const dir of list(ctx.dir, ctx.guard).dirs) {
    const relative = `${dir}/migration.sql`;
    const kind = follow(ctx.guard, path.join(ctx.dir, relative));
    if (kind === 'refused') continue;
    if (kind !== 'file') {
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
  if (follow(ctx.guard, journalPath) === 'refused') return { migrations: [], problems: [] };
  let journal: DrizzleJournal;
  try {
    journal = JSON.parse(ctx.reader.text(journalPath)) as DrizzleJournal;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`drizzle journal ${journalPath} is not valid JSON; regenerate it with drizzle-kit generate.`);
  }
  const migrations: Migration[] = [];
  const problems: FileProblem[] = [];
  const listed = new Set<string>();
  for (const entry of [...(journal.entries ?? [])].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0))) {
    if (!entry.tag || typeof entry.when !== 'number') {
      problems.push(problem(ctx, 'meta/_journal.json', `A journal entry (idx ${entry.idx ?? '?'}) has no tag or when, so drizzle cannot run it; regenerate the journal.`));
      continue;
    }
    const file = `${entry.tag}.sql`;
    listed.add(file);
    // A tag is text in a file of the pull request: `../../x` must not lead out of the repository either.
    const kind = follow(ctx.guard, path.join(ctx.dir, file));
    if (kind === 'refused') continue;
    if (kind !== 'file') {
      problems.push(problem(ctx, file, `The journal lists \`${file}\` but the file is missing, so drizzle's migrate() fails; restore the file or regenerate the journal.`));
      continue;
    }
    migrations.push(build('drizzle', ctx, file, { id: String(entry.when), version: entry.tag.split('_')[0] ?? entry.tag, name: entry.tag, when: entry.when }));
  }
  for (const file of list(ctx.dir, ctx.guard).files) {
    if (file.endsWith('.sql') && !listed.has(file)) {
      problems.push(problem(ctx, file, `\`${file}\` is not listed in meta/_journal.json, so drizzle never runs it; generate migrations with drizzle-kit instead of adding files by hand.`));
    }
  }
  return { migrations, problems };
};

const readFlyway: Reader = (ctx) => {
  const versioned: Migration[] = [];
  const repeatable: Migration[] = [];
  const problems: FileProblem[] = [];
  for (const file of listRecursive(ctx.dir, ctx.guard)) {
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
  const problems: FileProblem[] = [];
  for (const file of list(ctx.dir, ctx.guard).files) {
    if (!file.endsWith('.sql')) continue;
    const match = /^(\d+)_?(.*)\.sql$/.exec(file);
    if (!match) {
      problems.push(problem(ctx, file, `\`${file}\` does not start with a numeric version, so dbmate ignores it; rename it (\`dbmate new <name>\`).`));
      continue;
    }
    const raw = textOf(ctx, path.join(ctx.dir, file));
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
  const problems: FileProblem[] = [];
  for (const file of list(ctx.dir, ctx.guard).files) {
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
  const problems: FileProblem[] = [];
  for (const file of list(ctx.dir, ctx.guard).files) {
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
    const raw = textOf(ctx, path.join(ctx.dir, file));
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
  const problems: FileProblem[] = [];
  if (!existsSync(committed) || follow(ctx.guard, committed) !== 'dir') return { migrations, problems };
  for (const file of list(committed, ctx.guard).files) {
    if (!file.endsWith('.sql')) continue;
    if (!/^[0-9]{6,}(-[-_a-zA-Z0-9]*)?\.sql$/.test(file)) {
      problems.push(problem(inner, file, `\`${file}\` does not match 000001[-message].sql, so graphile-migrate ignores it; commit migrations with \`graphile-migrate commit\`.`));
      continue;
    }
    const raw = textOf(ctx, path.join(committed, file));
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
  const problems: FileProblem[] = [];
  for (const file of list(ctx.dir, ctx.guard).files) {
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

/** Guesses the tool from the files alone (links that lead out of the folder's guard are not looked at). */
export function detectTool(dir: string, guard: PathGuard = pathGuard(dir, dir)): { tool: MigrationTool; detection: 'strong' | 'weak' } {
  const { files, dirs } = list(dir, guard);
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
  const flywayish = listRecursive(dir, guard).filter((f) => /(^|\/)[VR][^/]*__[^/]*\.sql$/.test(f));
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

/**
 * Reads a migrations folder. Throws UserError for a missing/empty folder and unreadable
 * files; two files with one version are a problem (see `withoutDuplicates`).
 */
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
  // A folder inside the repository that a symbolic link takes outside it is not followed (one given outside is the user's choice).
  const cwd = path.resolve(options.cwd);
  const real = realPathOf(absolute);
  const realCwd = realPathOf(cwd) ?? cwd;
  if (isInside(absolute, cwd) && (real === undefined || !isInside(real, realCwd))) {
    throw new UserError(
      `Input \`${inputName}\` is ${dir}, which a symbolic link takes outside the repository${real ? ` (to ${real})` : ''}, so postgate does not read it; replace the link with the folder, or name the real folder in \`${inputName}\`.`,
    );
  }
  const guard = pathGuard(options.cwd, absolute);
  const format = options.format ?? 'auto';
  const detected = format === 'auto' ? detectTool(absolute, guard) : { tool: format, detection: 'explicit' as const };
  const ctx: ReadContext = { dir: absolute, cwd: options.cwd, reader: options.reader ?? diskReader, tool: detected.tool, guard };
  const read = READERS[detected.tool](ctx);
  const migrations = read.migrations;
  const problems = [...guard.refused.values(), ...read.problems];
  if (migrations.length === 0 && problems.length === 0) {
    throw new UserError(
      `Input \`${inputName}\` is ${dir}, which holds no ${detected.tool === 'plain' ? 'numbered .sql' : TOOL_TITLES[detected.tool]} migrations; point it at the folder holding your migrations${format === 'auto' ? ' or set `migrations-format`' : ''}.`,
    );
  }
  const unique = withoutDuplicates(migrations, detected.tool);
  return { tool: detected.tool, dir: absolute, migrations: unique.migrations, problems: [...problems, ...unique.problems], detection: detected.detection };
}

/**
 * What each tool does with two files of one version (the id its history records), as a
 * clause after "so". In practice every tool rejects them, on the spot or as soon as one
 * of them is applied: the Supabase CLI, sqlx and dbmate key their history table by
 * version and fail with a duplicate key error on the second file (its SQL rolled back with
 * the history row); Flyway and golang-migrate refuse the whole folder before running
 * anything; drizzle (journal `when`) and node-pg-migrate (file name without extension)
 * run both on an empty database but, once one is applied, count the other as applied
 * and never run it. Prisma folders and graphile-migrate files are their own ids, so they
 * cannot collide (graphile-migrate's hash chain catches two files claiming one place).
 */
function duplicateEffect(tool: MigrationTool, repeatable: boolean): string {
  switch (tool) {
    case 'supabase':
      return 'the Supabase CLI applies the first and then fails on the next (its version is the primary key of supabase_migrations.schema_migrations), so `supabase db push` and `supabase db reset` stop there';
    case 'sqlx':
      return '`sqlx migrate run` fails on the second (version is the primary key of _sqlx_migrations), or reports it as modified once the first is applied';
    case 'flyway':
      return `Flyway refuses to migrate at all (it finds more than one ${repeatable ? 'repeatable migration with that description' : 'migration with that version'})`;
    case 'dbmate':
      return 'dbmate fails on the second (version is the primary key of schema_migrations)';
    case 'golang-migrate':
      return 'golang-migrate refuses the whole folder (duplicate migration file)';
    case 'drizzle':
      return "drizzle's migrate() runs only entries newer than the last applied one, so once one is applied the other never runs";
    case 'node-pg-migrate':
      return 'node-pg-migrate records both under one name, so once one has run the other never runs';
    case 'prisma':
    case 'graphile-migrate':
      return `${TOOL_TITLES[tool]} cannot tell them apart`;
    case 'plain':
      return 'their order is unknown to whatever runs them';
  }
}

/**
 * Keeps the first file of each version (in the tool's order) and turns the others into a
 * problem naming every file of that version. The shadow database is built from what is
 * kept, so it applies the first file and leaves the others out, then goes on with the
 * later migrations. That is what a database migrated by the tool holds where the tool
 * gets that far (the Supabase CLI, sqlx and dbmate roll the second file back with its
 * history row; drizzle and node-pg-migrate never run it once the first is applied), and
 * going on, where the tool itself would stop or refuse the folder, keeps every later
 * migration checked: a duplicate must not hide the findings behind it. The history
 * comparison (keyed by id) sees one file per version, as the history table does.
 */
function withoutDuplicates(migrations: Migration[], tool: MigrationTool): { migrations: Migration[]; problems: FileProblem[] } {
  const byId = new Map<string, Migration[]>();
  for (const migration of migrations) {
    const group = byId.get(migration.id);
    if (group) group.push(migration);
    else byId.set(migration.id, [migration]);
  }
  const problems: FileProblem[] = [];
  const dropped = new Set<Migration>();
  for (const [id, group] of byId) {
    if (group.length < 2) continue;
    const [first, ...others] = group as [Migration, ...Migration[]];
    const repeatable = first.kind === 'repeatable';
    const files = group.map((m) => m.file);
    const named = `${files.slice(0, -1).join(', ')} and ${files.at(-1)}`;
    problems.push({
      file: others[0]!.file,
      severity: 'error',
      duplicate: { id, files },
      problem:
        `Migration files ${named} ${files.length === 2 ? 'both' : 'all'} have ${sharedKey(tool, first)}, so ${duplicateEffect(tool, repeatable)}; ` +
        `postgate applies ${first.file} only, so give ${others.map((m) => m.file).join(' and ')} ${repeatable ? 'another description' : 'a new, later version'}.`,
    });
    for (const other of others) dropped.add(other);
  }
  return { migrations: migrations.filter((m) => !dropped.has(m)), problems };
}

/** What the files share, in the tool's terms: the id its history records. */
function sharedKey(tool: MigrationTool, migration: Migration): string {
  if (migration.kind === 'repeatable') return `description ${migration.name}`;
  if (tool === 'drizzle') return `journal \`when\` ${migration.id}`;
  if (tool === 'node-pg-migrate') return `name ${migration.id}`;
  return `version ${migration.id}`;
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

