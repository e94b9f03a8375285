/**
 * Reading a migrations folder as each tool reads it: which files are migrations, their
 * versions and names, the SQL the tool runs, and in which order. Files that break the
 * tool's naming rules are returned as problems (the tools skip most of them silently,
 * which is how a migration "never runs"), and so are two files with one version.
 *
 * What each tool does is in its adapter, `./tools/<tool>.ts` (with the tool's source named
 * there; see docs/adr/0001-schema-diff-engine.md); how a file of the pull request is read
 * safely (symbolic links, UTF-8, byte order marks) is in `./tools/read.ts`. This module picks
 * the folder and the tool and reports what the tools share: duplicate versions and paths
 * that lead outside the repository.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATION_FORMATS } from '../config/gates.ts';
import { realPathOf } from '../config/paths.ts';
import { UserError } from '../errors.ts';
import { findingOf, type Rule } from '../findings/rules.ts';
import type { Finding } from '../findings/types.ts';
import { DEFAULT_MIGRATION_DIRS, detectTool, TOOLS } from './tools/index.ts';
import { diskReader, type FileProblem, type FileReader, isInside, pathGuard, type ReadContext } from './tools/read.ts';
import type { Migration, MigrationFileProblem, MigrationFormat, MigrationSource, MigrationTool } from './types.ts';

export { DEFAULT_MIGRATION_DIRS, detectTool } from './tools/index.ts';
export { graphileChainProblems } from './tools/graphile-migrate.ts';
export { diskReader, type FileProblem, type FileReader, toRepoPath } from './tools/read.ts';
export { findSupabaseConfig } from './tools/supabase.ts';

export const MIGRATION_SOURCE_RULES = [
  {
    id: 'migration_symlink_outside',
    gate: 'all',
    severity: 'error',
    category: 'security',
    title: 'Migration path leads outside the repository',
    doc: "A symbolic link in the migrations folder (or a path the folder's files name, such as a drizzle journal entry) leads outside the repository. postgate does not follow it: on a CI runner it could read the runner's own files (`/proc/self/environ`, `~/.ssh`, another job's checkout) into the shadow database and from there into error messages, and the migration tool would apply whatever the link points to on the machine it runs on, not what the repository holds. The file is left out of the migrations, so the finding is an error: replace the link with the file itself (or a link that stays inside the repository). Links inside the repository are followed, as the migration tools follow them. To accept it, allowlist `{ rule: migration_symlink_outside, object: { kind: migration, name: <path of the link> }, reason }`.",
  },
] as const satisfies readonly Rule[];

const sourceFinding = findingOf(MIGRATION_SOURCE_RULES);

/** One error finding per path of the migrations folder that leads outside the repository. */
export function outsidePathFindings(problems: readonly MigrationFileProblem[]): Finding[] {
  return (problems as Array<MigrationFileProblem & Partial<FileProblem>>)
    .filter((p) => p.outside)
    .map((p) =>
      sourceFinding({
        rule: 'migration_symlink_outside',
        object: { kind: 'migration', name: p.file },
        message: p.problem,
        remediation:
          'Replace the link with the file itself (git stores a symbolic link as the path it points to), or point it at a file inside the repository.',
        location: { file: p.file, line: 1 },
      }),
    );
}

/** Each tool's name in messages. */
export const TOOL_TITLES = Object.fromEntries(Object.values(TOOLS).map((tool) => [tool.id, tool.title])) as Record<MigrationTool, string>;

/** Orders two versions the way the tool does. */
export function compareVersions(tool: MigrationTool, a: string, b: string): number {
  return TOOLS[tool].compareVersions(a, b);
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
    throw new UserError(`No migrations folder was found in ${cwd} (looked for ${DEFAULT_MIGRATION_DIRS.join(', ')}); pass input \`${inputName}\`.`);
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
  const adapter = TOOLS[detected.tool];
  const ctx: ReadContext = {
    dir: absolute,
    cwd: options.cwd,
    reader: options.reader ?? diskReader,
    tool: detected.tool,
    title: adapter.title,
    dropsBom: adapter.dropsBom ?? false,
    guard,
  };
  const read = adapter.read(ctx);
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
 * Two files of one version (the id its history records): in practice every tool rejects
 * them, on the spot or as soon as one of them is applied (each adapter's `duplicateEffect`
 * says how). Prisma folders and graphile-migrate files are their own ids, so they cannot
 * collide (graphile-migrate's hash chain catches two files claiming one place).
 *
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
        `Migration files ${named} ${files.length === 2 ? 'both' : 'all'} have ${sharedKey(tool, first)}, so ${TOOLS[tool].duplicateEffect(repeatable)}; ` +
        `postgate applies ${first.file} only, so give ${others.map((m) => m.file).join(' and ')} ${repeatable ? 'another description' : 'a new, later version'}.`,
    });
    for (const other of others) dropped.add(other);
  }
  return { migrations: migrations.filter((m) => !dropped.has(m)), problems };
}

/** What the files share, in the tool's terms: the id its history records. */
function sharedKey(tool: MigrationTool, migration: Migration): string {
  return TOOLS[tool].sharedKey?.(migration) ?? `version ${migration.id}`;
}
