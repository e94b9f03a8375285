/**
 * Declarative schemas: do the migrations build the schema the project declares in SQL files?
 *
 * The files are the ones the Supabase CLI reads for `supabase db diff`: the patterns of
 * `[db.migrations] schema_paths` in supabase/config.toml (relative to the supabase/ folder, in
 * the listed order, each pattern's matches sorted, a file matched twice taken once, a pattern
 * matching nothing an error), else every `.sql` file under supabase/schemas (walked in name
 * order, symbolic links skipped). They are applied, like migrations, to a second database on
 * the cluster of the migrations' shadow, both built with the grants the local stack gives; the
 * two catalogs are compared with the catalog diff engine, and each difference is a
 * `declarative_schema_drift` finding at the schema file's line and the migration's, minus the
 * blind spots of declarative diffing (./declarative-blind-spots.ts).
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { diffSnapshots, type CatalogSnapshot, type SchemaDifference, type SnapshotOptions } from '../../catalog/index.ts';
import { readSnapshot } from '../../catalog/snapshot.ts';
import { realPathOf } from '../../config/paths.ts';
import type { Logger } from '../../core/context.ts';
import { UserError } from '../../errors.ts';
import type { Finding, SourceLocation } from '../../findings/types.ts';
import { findOrigin } from '../../migrations/origins.ts';
import { buildShadow, readSupabaseConfig, type Shadow } from '../../migrations/shadow.ts';
import { diskReader, findSupabaseConfig, toRepoPath } from '../../migrations/sources.ts';
import { isInside } from '../../migrations/tools/read.ts';
import type { Migration, MigrationSource } from '../../migrations/types.ts';
import { withSession, withTwinSession } from '../../postgres/connect.ts';
import { inertInline } from '../../report/inert.ts';
import { isBlindSpot } from './declarative-blind-spots.ts';
import { driftFinding } from './rules.ts';

export interface DeclaredSchemas {
  /** Where the list came from, for the report: `[db.migrations] schema_paths` or the default folder. */
  from: string;
  /** The schema files in the CLI's order, as migrations (file repo-relative). */
  files: Migration[];
}

const SETTING = '`[db.migrations] schema_paths`';

/** The supabase/ folder of a migrations folder: where config.toml is, else the parent of supabase/migrations. */
function supabaseFolder(source: MigrationSource): string | undefined {
  const config = findSupabaseConfig(source.dir);
  if (config) return path.dirname(config);
  return path.basename(source.dir) === 'migrations' && path.basename(path.dirname(source.dir)) === 'supabase' ? path.dirname(source.dir) : undefined;
}

/**
 * The declared schema files of the project, in the Supabase CLI's order; undefined when the
 * project declares none (no schema_paths and no supabase/schemas folder with `.sql` files).
 * Throws UserError for a pattern that matches nothing or leads outside the repository.
 */
export function findDeclaredSchemas(source: MigrationSource, cwd: string): DeclaredSchemas | undefined {
  const folder = supabaseFolder(source);
  if (!folder) return undefined;
  const configPath = path.join(folder, 'config.toml');
  const configured = readSupabaseConfig(configPath)?.db?.migrations?.schema_paths;
  const where = toRepoPath(cwd, configPath);
  let files: string[];
  let from: string;
  if (configured !== undefined && !(Array.isArray(configured) && configured.every((p) => typeof p === 'string'))) {
    throw new UserError(`${where}: ${SETTING} must be a list of paths or globs (relative to the supabase/ folder); fix the value or remove it.`);
  }
  if (configured?.length) {
    from = `${SETTING} in ${where}`;
    files = [...new Set((configured as string[]).flatMap((pattern) => matchPattern(pattern, folder, cwd, where)))];
  } else {
    const dir = path.join(folder, 'schemas');
    if (!isDirectory(dir)) return undefined;
    if (!isInside(realPathOf(dir) ?? dir, realPathOf(cwd) ?? cwd)) {
      throw new UserError(
        `${toRepoPath(cwd, dir)} is a symbolic link that leads outside the repository, so postgate does not read it; replace the link with the folder.`,
      );
    }
    from = toRepoPath(cwd, dir);
    files = walkSqlFiles(dir);
  }
  if (files.length === 0) return undefined;
  return { from, files: files.map((file, index) => schemaMigration(file, index, cwd)) };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Every regular `.sql` file under `dir`, in the order a walk in name order meets them (links are not followed). */
function walkSqlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const file = path.join(dir, name);
      const stat = lstatSync(file);
      if (stat.isDirectory()) return walkSqlFiles(file);
      return stat.isFile() && name.endsWith('.sql') ? [file] : [];
    });
}

/** The files one schema_paths entry matches (Go's path.Match per path segment), sorted. */
function matchPattern(pattern: string, folder: string, cwd: string, where: string): string[] {
  const shown = inertInline(pattern);
  const absolute = path.resolve(folder, pattern);
  const realCwd = realPathOf(cwd) ?? cwd;
  if (!isInside(absolute, path.resolve(cwd))) {
    throw new UserError(
      `${where}: ${SETTING} entry "${shown}" leads outside the repository (paths are relative to the supabase/ folder); point it at schema files inside the repository.`,
    );
  }
  const { root } = path.parse(absolute);
  let matches = [root];
  for (const segment of absolute.slice(root.length).split(path.sep)) {
    const test = segmentMatcher(segment, () => {
      throw new UserError(`${where}: ${SETTING} entry "${shown}" is not a valid glob; fix the pattern (paths are relative to the supabase/ folder).`);
    });
    matches = matches.flatMap((dir) => {
      if (!test) return isPresent(path.join(dir, segment)) ? [path.join(dir, segment)] : [];
      try {
        return readdirSync(dir)
          .filter((name) => test(name))
          .map((name) => path.join(dir, name));
      } catch {
        return [];
      }
    });
  }
  const files = matches.filter((file) => isFile(file)).sort();
  if (files.length === 0) {
    throw new UserError(
      `${where}: ${SETTING} entry "${shown}" matches no file (paths are relative to the supabase/ folder, ${toRepoPath(cwd, folder)}); fix the path or remove the entry.`,
    );
  }
  const outside = files.find((file) => !isInside(realPathOf(file) ?? file, realCwd));
  if (outside) {
    throw new UserError(
      `${where}: ${SETTING} entry "${shown}" matches ${inertInline(toRepoPath(cwd, outside))}, which a symbolic link takes outside the repository, so postgate does not read it; replace the link with the file.`,
    );
  }
  return files;
}

function isPresent(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * A test for one path segment of a glob, with Go's path.Match syntax (`*`, `?`, `[a-z]`, `[^x]`,
 * `\` escapes); undefined for a segment without any (a plain name). `bad` is called for a
 * malformed one.
 */
function segmentMatcher(segment: string, bad: () => never): ((name: string) => boolean) | undefined {
  if (!/[*?[\\]/.test(segment)) return undefined;
  const escape = (ch: string) => ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '\\') {
      if (i + 1 >= segment.length) bad();
      source += escape(segment[++i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (segment[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      while (j < segment.length && (segment[j] !== ']' || first)) {
        const c = segment[j]!;
        if (c === '\\') {
          if (j + 1 >= segment.length) bad();
          cls += escape(segment[++j]!);
        } else cls += c === '-' ? '-' : escape(c);
        first = false;
        j++;
      }
      if (j >= segment.length || cls === '' || cls === '^') bad();
      source += `[${cls}]`;
      i = j;
    } else source += escape(ch);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^${source}$`, 'su');
  } catch {
    bad();
  }
  return (name) => pattern.test(name);
}

function schemaMigration(absolutePath: string, index: number, cwd: string): Migration {
  const text = diskReader.text(absolutePath);
  const file = toRepoPath(cwd, absolutePath);
  return {
    tool: 'supabase',
    id: file,
    version: String(index + 1),
    name: path.basename(file, '.sql'),
    file,
    absolutePath,
    raw: text,
    sql: text,
    sqlOffset: 0,
    noTransaction: false,
    executable: true,
    kind: 'versioned',
  };
}

export interface DeclarativeOutcome {
  findings: Finding[];
  metrics: Record<string, number>;
  details: Record<string, unknown>;
}

export interface CompareOptions {
  cwd: string;
  snapshotOptions: SnapshotOptions;
  log: Logger;
}

const SNAPSHOT_SESSION = { gate: 'drift', readOnly: true, inputName: 'shadow-database-url' };

async function snapshotOf(shadow: Shadow, options: SnapshotOptions): Promise<CatalogSnapshot> {
  // Nothing else writes to a shadow: its twin needs no shared snapshot.
  return withSession(shadow.url, SNAPSHOT_SESSION, (session) =>
    withTwinSession(shadow.url, SNAPSHOT_SESSION, undefined, (twin) => readSnapshot(session, options, { twin })),
  );
}

/**
 * Builds the declared schema on the cluster of `migrationsShadow` (itself built with
 * `grantsAsConfigured`) and compares the two. A schema file that fails is its own finding and
 * nothing is compared; so is a migrations shadow that failed (its failure is reported already).
 */
export async function compareDeclaredSchemas(
  migrationsShadow: Shadow,
  source: MigrationSource,
  declared: DeclaredSchemas,
  options: CompareOptions,
): Promise<DeclarativeOutcome> {
  const started = performance.now();
  const schemas = await buildShadow({
    migrationsDir: source.dir,
    cwd: options.cwd,
    migrations: { tool: migrationsShadow.tool, migrations: declared.files, problems: [] },
    cluster: migrationsShadow.cluster,
    supabase: migrationsShadow.supabase,
    grantsAsConfigured: true,
    log: options.log,
  });
  const details = { declaredSchemas: { from: declared.from, files: declared.files.length } };
  try {
    if (schemas.failure) return { findings: [schemaFileFailure(schemas.failure)], metrics: { declared_schema_files: declared.files.length }, details };
    if (migrationsShadow.failure) return { findings: [], metrics: { declared_schema_files: declared.files.length }, details };
    const snapshotOptions = { ...options.snapshotOptions, profile: migrationsShadow.supabase ? 'supabase' : 'postgres' } as const;
    const [declaredSnapshot, migratedSnapshot] = await options.log.step('comparing the declared schema with the migrations', () =>
      Promise.all([snapshotOf(schemas, snapshotOptions), snapshotOf(migrationsShadow, snapshotOptions)]),
    );
    const differences = diffSnapshots(declaredSnapshot, migratedSnapshot);
    const drift = differences.filter((d) => !isBlindSpot(d));
    return {
      findings: drift.map((d) => declarativeFinding(d, schemas.origins, migrationsShadow.origins)),
      metrics: {
        declared_schema_files: declared.files.length,
        declarative_differences: drift.length,
        declarative_blind_spots: differences.length - drift.length,
        declarative_ms: Math.round(performance.now() - started),
      },
      details,
    };
  } finally {
    await schemas.stop();
  }
}

function schemaFileFailure(failure: Finding): Finding {
  return {
    ...failure,
    remediation:
      'Fix the statement so that the schema files apply in order (the order `[db.migrations] schema_paths` gives, else supabase/schemas in name order) on a fresh database, as `supabase db diff` applies them.',
  };
}

const describe = (d: SchemaDifference) => `${d.kind.replace(/_/g, ' ')} ${d.schema ? `${d.schema}.` : ''}${d.name}`;
const at = (location: SourceLocation) => `${location.file}${location.line ? `:${location.line}` : ''}`;
const show = (value: unknown) => (value === undefined || value === null ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));
const GENERATE = '-- Generate the migration from the schema files and review it:\n--   supabase db diff -f <name>\n-- It should contain:';

/** One difference (expected: the declared schema; actual: the migrations) as a finding. */
export function declarativeFinding(
  d: SchemaDifference,
  declaredOrigins: ReadonlyMap<string, SourceLocation>,
  migrationOrigins: ReadonlyMap<string, SourceLocation>,
): Finding {
  const object = { kind: d.kind, ...(d.schema ? { schema: d.schema } : {}), name: d.name };
  const declaredAt = d.change === 'unexpected' ? undefined : findOrigin(declaredOrigins, object);
  const migratedAt = d.change === 'missing' ? undefined : findOrigin(migrationOrigins, object);
  const [location, other] = d.change === 'unexpected' ? [migratedAt, declaredAt] : [declaredAt, migratedAt];
  const what = describe(d);
  const message = {
    missing: `${what} is declared in ${declaredAt ? at(declaredAt) : 'the schema files'} but no migration creates it.`,
    unexpected: `${what} is created by ${migratedAt ? at(migratedAt) : 'the migrations'} but the schema files do not declare it.`,
    changed: `${what} differs between the schema files and the migrations: ${d.changes.map((c) => c.property).join(', ')}.`,
  }[d.change];
  const detail = [
    ...d.changes.map((c) => `${c.property}:\n  schema files: ${show(c.expected)}\n  migrations:   ${show(c.actual)}`),
    ...(declaredAt && d.change !== 'missing' ? [`Declared at ${at(declaredAt)}.`] : []),
    ...(migratedAt && d.change !== 'unexpected' ? [`Last changed by ${at(migratedAt)}.`] : []),
  ].join('\n');
  const remediation = [
    GENERATE,
    d.restoreSql || '-- (nothing to run)',
    ...(d.change === 'unexpected'
      ? ['', '-- Or, if the migration is right, declare the object in the schema files:', d.captureSql || '-- (nothing to add)']
      : []),
  ].join('\n');
  const located = location ?? other;
  const related =
    location && other ? [{ ...other, message: other === declaredAt ? 'the schema file that declares it' : 'the migration that last changed it' }] : [];
  return driftFinding({
    rule: 'declarative_schema_drift',
    object,
    message: `${message[0]!.toUpperCase()}${message.slice(1)}`,
    ...(detail ? { detail } : {}),
    remediation,
    ...(located ? { location: located } : {}),
    ...(related.length ? { related } : {}),
  });
}
