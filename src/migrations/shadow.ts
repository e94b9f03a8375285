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
import { silentLogger, type Logger } from '../core/context.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../postgres/baseline/apply.ts';
import { connect, type Session } from '../postgres/connect.ts';
import { type Cluster, type ShadowMode, startCluster } from '../postgres/ephemeral/index.ts';
import { applyMigration, type ApplyOutcome } from './apply.ts';
import { type StatementEffect, StatementMeter } from './statement-effects.ts';
import { autoExposeSetting, configuredGrantModel, dataApiGrantModel, legacyDefaultGrantsSql } from './data-api-grants.ts';
import { blankStandInIndexOptions } from '../postgres/extensions/index-options.ts';
import {
  clearPendingIndexOptionsSql,
  PLATFORM_SCHEMA,
  PLATFORM_TRIGGERS_SQL,
  queueIndexOptionsSql,
  REMOVE_PLATFORM_TRIGGERS_SQL,
  STAND_IN_INDEX_METHODS,
} from '../postgres/extensions/platform-triggers.ts';
import { INSTALL_TRACKER_SQL, markMigration, readOrigins, REMOVE_TRACKER_SQL } from './origins.ts';
import { readRoles, type RoleSnapshot } from '../catalog/roles.ts';
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
  /** Supabase projects: the day the project switched to explicit Data API grants (repo config `project.explicit-grants-since`). */
  explicitGrantsSince?: string;
  /**
   * Supabase projects: every object gets the Data API grants `[api] auto_expose_new_tables` gives
   * today, whatever its migration's date, as `supabase db reset` and `supabase db diff` build their
   * databases (the declarative comparison builds both of its databases this way).
   */
  grantsAsConfigured?: boolean;
  /** Read the migrations from here instead of `migrationsDir` (e.g. files at a git ref); paths in findings stay repo-relative. */
  migrations?: { tool: MigrationTool; migrations: Migration[]; problems: MigrationFileProblem[] };
  /** Apply these statement by statement and measure what each does (locks, rewrites, ...): the pull request's new migrations. */
  measure?: (m: Migration) => boolean;
}

export interface Shadow {
  cluster: Cluster;
  /** Superuser URL of the shadow database. */
  url: string;
  /** The same database as `migrationRole` (the role the migrations ran as). */
  migrationUrl: string;
  /**
   * The role the migrations ran as: `postgres`, Supabase's non-superuser, for Supabase
   * projects on a local cluster; else the cluster's superuser.
   */
  migrationRole: { name: string; superuser: boolean };
  /** postgate stand-in extensions installed in the shadow (see src/postgres/extensions). */
  standInsUsed: string[];
  /** Supabase projects: which objects the shadow gave the legacy Data API grants, in one sentence. */
  grantAssumption?: string;
  /**
   * Supabase projects: an applied migration got the legacy Data API grants that a database built
   * from the migrations today would not give it, so a `grantsAsConfigured` replay differs.
   */
  configuredGrantsDiffer?: boolean;
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
  /** With `measure`: what each statement of the measured migrations did, in order. */
  statementEffects: StatementEffect[];
  /**
   * The cluster's roles just before the first migration (after the Supabase baseline): roles are
   * cluster-wide, so what the migrations created is what the cluster has beyond these.
   */
  rolesBefore: RoleSnapshot;
  stop(): Promise<void>;
}

export interface SupabaseConfig {
  db?: { major_version?: unknown; migrations?: { schema_paths?: unknown } };
  api?: Record<string, unknown>;
}

/** supabase/config.toml, parsed; undefined when there is none. */
export function readSupabaseConfig(configPath: string | undefined): SupabaseConfig | undefined {
  if (!configPath || !existsSync(configPath)) return undefined;
  try {
    return parseToml(readFileSync(configPath, 'utf8')) as SupabaseConfig;
  } catch {
    throw new UserError(`${configPath} is not valid TOML; fix the file (supabase init writes a valid one).`);
  }
}

/** `[db] major_version` from supabase/config.toml, if any. */
export function supabaseMajor(configPath: string | undefined): number | undefined {
  const major = Number(readSupabaseConfig(configPath)?.db?.major_version);
  return Number.isInteger(major) ? major : undefined;
}

async function availableExtensions(session: Session, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await session.query<{ name: string }>('select name from pg_catalog.pg_available_extensions where name = any($1::text[])', [names]);
  const available = new Set(rows.map((r) => r.name));
  return names.filter((name) => !available.has(name));
}

/** A migration version dated far in the future: the grant model's answer for objects made today. */
const TODAY_VERSION = '99991231000000';

/** A statement Supabase's `postgres` may not run: say so, since the same migration fails there. */
function explainNotSuperuser(failure: Finding, supabase: boolean): Finding {
  const why = supabase
    ? 'On Supabase, migrations run as `postgres`, which is not a superuser (the superuser is `supabase_admin`), so this statement fails there too; postgate applies them the same way.'
    : 'postgate applies migrations as `postgres` without superuser rights, so that a pull request cannot reach the machine or the job; a migration that needs a superuser cannot be checked here.';
  return {
    ...failure,
    message: `${failure.message} ${why}`,
    remediation: supabase
      ? 'Remove the statement, or do it the way Supabase allows: an extension from the dashboard or `create extension` (privileged extensions), Vault instead of server files, `ALTER DATABASE ... SET` for settings, a trusted language instead of an untrusted one.'
      : 'Run statements that need a superuser outside the migrations (a provisioning step), or allowlist this finding for the migration.',
  };
}

/**
 * Applies one migration; index options of stand-in access methods (`using hnsw ... with (m = 16)`)
 * are taken out of the text (same length, so lines and error positions stay) and queued for the
 * platform trigger, which stores them on the index as PostgreSQL stores the real ones.
 */
async function applyWithStandIns(
  session: Session,
  admin: Session,
  migration: Migration,
  apply: (m: Migration) => Promise<ApplyOutcome> = (m) => applyMigration(session, m),
): Promise<ApplyOutcome> {
  const adapted = blankStandInIndexOptions(migration.sql, STAND_IN_INDEX_METHODS);
  if (adapted.indexes.length === 0) return apply(migration);
  await admin.query(queueIndexOptionsSql(PLATFORM_SCHEMA), [JSON.stringify(adapted.indexes)]);
  try {
    return await apply({ ...migration, sql: adapted.sql });
  } finally {
    await admin.query(clearPendingIndexOptionsSql(PLATFORM_SCHEMA));
  }
}

export async function buildShadow(options: BuildShadowOptions): Promise<Shadow> {
  const log = options.log ?? silentLogger;
  const dir = path.resolve(options.cwd, options.migrationsDir);
  const source = options.migrations ?? readMigrations(dir, { cwd: options.cwd, ...(options.format ? { format: options.format } : {}) });
  const supabaseConfig = findSupabaseConfig(dir);
  const supabase = options.supabase ?? (source.tool === 'supabase' || supabaseConfig !== undefined);
  const major = options.major ?? supabaseMajor(supabaseConfig);
  const wanted = options.only ? source.migrations.filter(options.only) : source.migrations;
  const autoExposeNewTables = supabase ? autoExposeSetting(readSupabaseConfig(supabaseConfig), supabaseConfig ?? 'supabase/config.toml') : undefined;
  const grants = !supabase
    ? undefined
    : options.grantsAsConfigured
      ? configuredGrantModel(autoExposeNewTables)
      : dataApiGrantModel({ autoExposeNewTables, explicitGrantsSince: options.explicitGrantsSince, versions: source.migrations.map((m) => m.version) });

  const ownCluster = !options.cluster;
  const cluster =
    options.cluster ??
    (await log.step('starting a shadow PostgreSQL', () =>
      startCluster({
        // Every project's migrations run as a non-superuser: a pull request's SQL must not reach
        // the machine (COPY ... PROGRAM, server files) or the job's processes. For Supabase
        // projects this is also the platform's own model.
        profile: 'supabase',
        log: (line) => log.info(line),
        ...(options.shadow ? { shadow: options.shadow } : {}),
        ...(major !== undefined ? { major } : {}),
        ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
        ...(options.image ? { image: options.image } : {}),
      }),
    ));
  const stopCluster = async () => {
    if (ownCluster) await cluster.stop();
  };

  let admin: Session | undefined;
  let session: Session | undefined;
  try {
    const url = ownCluster ? cluster.url : await cluster.createDatabase();
    const adminUrl = cluster.asAdmin(url);
    const connectOptions = { gate: 'shadow', readOnly: false, statementTimeoutMs: 0, inputName: 'shadow-database-url' } as const;
    admin = await connect(adminUrl, connectOptions);
    const required = [...new Set(wanted.flatMap((m) => findCreatedExtensions(m.sql)))];
    let missingExtensions: string[];
    if (supabase) {
      const baseline = await log.step('applying the Supabase baseline', () => applySupabaseBaseline(admin!, { requiredExtensions: required }));
      missingExtensions = baseline.missingExtensions;
    } else {
      missingExtensions = await availableExtensions(admin, required);
    }
    // Supabase applies migrations as its non-superuser `postgres`; the baseline is the superuser's.
    session = adminUrl === url ? admin : await connect(url, connectOptions);
    const migrationRole = await session.query<{ name: string; superuser: boolean }>(
      'select current_user as name, rolsuper as superuser from pg_catalog.pg_roles where rolname = current_user',
    );
    const projectMissing = missingExtensions.filter((name) => required.includes(name));
    const platformMissing = missingExtensions.filter((name) => !required.includes(name));
    if (projectMissing.length) log.warn(`the shadow PostgreSQL lacks extension(s) the migrations create: ${projectMissing.join(', ')}`);
    if (platformMissing.length)
      log.info(`platform extensions this PostgreSQL does not have (SQL stand-ins where the baseline has them): ${platformMissing.join(', ')}`);

    const rolesBefore = await readRoles(admin);
    await admin.query(INSTALL_TRACKER_SQL);
    await admin.query(PLATFORM_TRIGGERS_SQL);
    const applied: Migration[] = [];
    const skipped: Migration[] = [];
    // the search path each migration starts with, where its unqualified names resolve
    const startPaths: string[] = [];
    let failure: Finding | undefined;
    const statementEffects: StatementEffect[] = [];
    const meter = options.measure ? new StatementMeter(session) : undefined;
    const measured = async (m: Migration) => {
      const { outcome, effects } = await meter!.apply(m);
      statementEffects.push(...effects);
      return outcome;
    };
    // the baseline leaves the legacy default privileges on
    let legacyGrants = true;
    // The step returns the migration that failed, if one did: the progress then says the step failed.
    await log.step(
      `applying ${wanted.length} migration(s)`,
      async () => {
        for (const [index, migration] of wanted.entries()) {
          if (!migration.executable) {
            skipped.push(migration);
            continue;
          }
          if (grants && grants.legacyFor(migration.version) !== legacyGrants) {
            legacyGrants = !legacyGrants;
            await admin!.query(legacyDefaultGrantsSql(legacyGrants));
          }
          startPaths[index] = await markMigration(session!, index);
          const measure = options.measure?.(migration) ?? false;
          if (!measure) meter?.baseChanged();
          const outcome = await applyWithStandIns(session!, admin!, migration, measure ? measured : undefined);
          if (!outcome.ok) {
            failure = outcome.failure;
            return migration;
          }
          applied.push(migration);
        }
        return undefined;
      },
      (stopped) => (stopped ? `${stopped.file} failed` : undefined),
    );
    await markMigration(session, undefined);
    // Default privileges as production has them today (the platform revoked the legacy ones on
    // 2026-10-30), so that the shadow's own default privileges compare with a live database's.
    if (grants && grants.legacyFor(TODAY_VERSION) !== legacyGrants) {
      legacyGrants = !legacyGrants;
      await admin.query(legacyDefaultGrantsSql(legacyGrants));
    }
    const origins = await readOrigins(admin, wanted, startPaths);

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
      const outcome = await applyWithStandIns(session, admin, seedMigration);
      if (!outcome.ok) failure = outcome.failure;
    }
    const role = migrationRole.rows[0] ?? { name: '?', superuser: true };
    if (failure && !role.superuser && /SQLSTATE 42501/.test(failure.detail ?? '')) failure = explainNotSuperuser(failure, supabase);
    await admin.query(REMOVE_PLATFORM_TRIGGERS_SQL);
    await admin.query(REMOVE_TRACKER_SQL);

    const { rows } = await admin.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    const shadowMajor = Math.floor(Number(rows[0]?.v ?? 0) / 10000);
    const installed = await admin.query<{ name: string }>('select extname::text as name from pg_catalog.pg_extension order by 1');
    const standInsUsed = installed.rows.map((r) => r.name).filter((name) => cluster.standIns.includes(name));
    if (session !== admin) await session.end();
    await admin.end();
    session = undefined;
    admin = undefined;
    return {
      cluster,
      url: adminUrl,
      migrationUrl: url,
      migrationRole: role,
      ...(grants ? { grantAssumption: grants.assumption } : {}),
      ...(grants && applied.some((m) => grants.legacyFor(m.version) !== configuredGrantModel(autoExposeNewTables).legacyFor(m.version))
        ? { configuredGrantsDiffer: true }
        : {}),
      standInsUsed,
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
      statementEffects,
      rolesBefore,
      stop: stopCluster,
    };
  } catch (error) {
    if (session !== admin) await session?.end().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await stopCluster();
    throw error;
  }
}
