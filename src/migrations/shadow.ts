/**
 * The shadow database: a throwaway PostgreSQL (see src/postgres/ephemeral) on which
 * the repository's migrations are applied from scratch, in the tool's order and
 * transaction mode, after the Supabase baseline for Supabase projects. It is the
 * expected schema of drift-gate, the audited database of rls-audit in PR mode, and it
 * records which migration file and line created or last altered every object.
 *
 * A failing migration does not throw: `failure` holds a finding at the file and line
 * PostgreSQL points at, and the shadow keeps what applied before it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { UserError } from '../errors.ts';
import type { Finding, SourceLocation } from '../findings/types.ts';
import { silentLogger, type Logger } from '../gates/gate.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../postgres/baseline/apply.ts';
import { connect, quoteLiteral, type Session } from '../postgres/connect.ts';
import { type Cluster, type ShadowMode, startCluster } from '../postgres/ephemeral/index.ts';
import { applyMigration } from './apply.ts';
import { INSTALL_TRACKER_SQL, MIGRATION_SETTING, readOrigins, REMOVE_TRACKER_SQL } from './origins.ts';
import './rules.ts';
import { diskReader, findSupabaseConfig, readMigrations, toRepoPath } from './sources.ts';
import type { Migration, MigrationFileProblem, MigrationFormat, MigrationTool } from './types.ts';

export interface BuildShadowOptions {
  /** Absolute or relative to cwd. */
  migrationsDir: string;
  cwd: string;
  /** 'auto' by default. */
  format?: MigrationFormat;
  shadow?: ShadowMode;
  major?: number;
  shadowDatabaseUrl?: string;
  image?: string;
  /** Default: detected (supabase/config.toml near the folder). */
  supabase?: boolean;
  /** Only these migrations, e.g. the versions the live history applied. */
  only?: (m: Migration) => boolean;
  /** Optional seed file (relative to cwd) to run after the migrations. */
  seed?: string;
  log?: Logger;
  /** Build in a new database on this cluster instead of starting one (it is not stopped by `stop()`). */
  cluster?: Cluster;
  /** Read the migrations from here instead of `migrationsDir` (e.g. files at a git ref); paths in findings stay repo-relative. */
  migrations?: { tool: MigrationTool; migrations: Migration[]; problems: MigrationFileProblem[] };
}

export interface Shadow {
  cluster: Cluster;
  /** Superuser URL of the shadow database. */
  url: string;
  /** The tool whose migrations were read. */
  tool: MigrationTool;
  supabase: boolean;
  /** What was read (version, name, file (repo-relative), sql, ...). */
  migrations: Migration[];
  /** What applied, in order. */
  applied: Migration[];
  /** Migrations postgate cannot run (node-pg-migrate JavaScript files). */
  skipped: Migration[];
  /** Files breaking the tool's naming rules. */
  problems: MigrationFileProblem[];
  /** A failing statement: rule id, file + line mapped from PostgreSQL's error position, server message. */
  failure?: Finding;
  /** Which migration file + line created or last altered each object, key `${kind}:${schema}.${name}` (see src/catalog/types.ts for names). */
  origins: Map<string, SourceLocation>;
  /** Extensions the migrations (or the Supabase platform) need that this server lacks, by name. */
  missingExtensions: string[];
  /** Server major version of the shadow. */
  major: number;
  stop(): Promise<void>;
}

/** `[db] major_version` from supabase/config.toml, if any. */
export function supabaseMajor(configPath: string | undefined): number | undefined {
  if (!configPath || !existsSync(configPath)) return undefined;
  try {
    const config = parseToml(readFileSync(configPath, 'utf8')) as { db?: { major_version?: unknown } };
    const major = Number(config.db?.major_version);
    return Number.isInteger(major) ? major : undefined;
  } catch {
    throw new UserError(`${configPath} is not valid TOML; fix the file (supabase init writes a valid one).`);
  }
}

async function availableExtensions(session: Session, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await session.query<{ name: string }>('select name from pg_catalog.pg_available_extensions where name = any($1::text[])', [names]);
  const available = new Set(rows.map((r) => r.name));
  return names.filter((name) => !available.has(name));
}

export async function buildShadow(options: BuildShadowOptions): Promise<Shadow> {
  const log = options.log ?? silentLogger;
  const dir = path.resolve(options.cwd, options.migrationsDir);
  const source = options.migrations ?? readMigrations(dir, { cwd: options.cwd, ...(options.format ? { format: options.format } : {}) });
  const supabaseConfig = findSupabaseConfig(dir);
  const supabase = options.supabase ?? (source.tool === 'supabase' || supabaseConfig !== undefined);
  const major = options.major ?? supabaseMajor(supabaseConfig);
  const wanted = options.only ? source.migrations.filter(options.only) : source.migrations;

  const ownCluster = !options.cluster;
  const cluster =
    options.cluster ??
    (await log.step('starting a shadow PostgreSQL', () =>
      startCluster({
        ...(options.shadow ? { shadow: options.shadow } : {}),
        ...(major !== undefined ? { major } : {}),
        ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
        ...(options.image ? { image: options.image } : {}),
      }),
    ));
  const stopCluster = async () => {
    if (ownCluster) await cluster.stop();
  };

  let session: Session | undefined;
  try {
    const url = ownCluster ? cluster.url : await cluster.createDatabase();
    session = await connect(url, { gate: 'shadow', readOnly: false, statementTimeoutMs: 0, inputName: 'shadow-database-url' });
    const required = [...new Set(wanted.flatMap((m) => findCreatedExtensions(m.sql)))];
    let missingExtensions: string[];
    if (supabase) {
      const baseline = await log.step('applying the Supabase baseline', () => applySupabaseBaseline(session!, { requiredExtensions: required }));
      missingExtensions = baseline.missingExtensions;
    } else {
      missingExtensions = await availableExtensions(session, required);
    }
    const projectMissing = missingExtensions.filter((name) => required.includes(name));
    const platformMissing = missingExtensions.filter((name) => !required.includes(name));
    if (projectMissing.length) log.warn(`the shadow PostgreSQL lacks extension(s) the migrations create: ${projectMissing.join(', ')}`);
    if (platformMissing.length) log.info(`platform extensions this PostgreSQL does not have (SQL stand-ins where the baseline has them): ${platformMissing.join(', ')}`);

    await session.query(INSTALL_TRACKER_SQL);
    const applied: Migration[] = [];
    const skipped: Migration[] = [];
    let failure: Finding | undefined;
    await log.step(`applying ${wanted.length} migration(s)`, async () => {
      for (const [index, migration] of wanted.entries()) {
        if (!migration.executable) {
          skipped.push(migration);
          continue;
        }
        await session!.query(`select pg_catalog.set_config(${quoteLiteral(MIGRATION_SETTING)}, ${quoteLiteral(String(index))}, false)`);
        const outcome = await applyMigration(session!, migration);
        if (!outcome.ok) {
          failure = outcome.failure;
          break;
        }
        applied.push(migration);
      }
    });
    await session.query(`select pg_catalog.set_config(${quoteLiteral(MIGRATION_SETTING)}, '', false)`);
    const origins = await readOrigins(session, wanted);
    await session.query(REMOVE_TRACKER_SQL);

    if (!failure && options.seed) {
      const seedPath = path.resolve(options.cwd, options.seed);
      if (!existsSync(seedPath)) throw new UserError(`Seed file ${options.seed} does not exist; fix the path or leave the seed out.`);
      const text = diskReader.text(seedPath);
      const seedMigration: Migration = {
        tool: source.tool,
        id: 'seed',
        version: 'seed',
        name: 'seed',
        file: toRepoPath(options.cwd, seedPath),
        absolutePath: seedPath,
        raw: text,
        sql: text,
        sqlOffset: 0,
        noTransaction: false,
        executable: true,
        kind: 'versioned',
      };
      const outcome = await applyMigration(session, seedMigration);
      if (!outcome.ok) failure = outcome.failure;
    }

    const { rows } = await session.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    const shadowMajor = Math.floor(Number(rows[0]?.v ?? 0) / 10000);
    await session.end();
    session = undefined;
    return {
      cluster,
      url,
      tool: source.tool,
      supabase,
      migrations: source.migrations,
      applied,
      skipped,
      problems: source.problems,
      ...(failure ? { failure } : {}),
      origins,
      missingExtensions,
      major: shadowMajor,
      stop: stopCluster,
    };
  } catch (error) {
    await session?.end().catch(() => undefined);
    await stopCluster();
    throw error;
  }
}
