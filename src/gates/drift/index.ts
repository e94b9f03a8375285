/**
 * drift-gate: do the repository's migrations, the database's migration history and the
 * live schema agree?
 *
 * PR mode (no `database-url`): files the tool would skip, merged history that the pull
 * request rewrites (against `base-ref`, else the run's base branch; a notice says when there
 * is none), and the migrations applied from scratch on a shadow database (a failing statement
 * is a finding at its file and line).
 *
 * Deploy mode (`database-url`, read-only): the history table against the files
 * (pending, applied-but-missing, edited, out of order, failed), then the live schema
 * against a shadow built from exactly the migrations the history says were applied,
 * through the catalog model, with remediation SQL both ways.
 */
import path from 'node:path';
import { diffSnapshots, type CatalogProfile, type CatalogSnapshot } from '../../catalog/index.ts';
import { readSnapshot } from '../../catalog/snapshot.ts';
import type { DriftOptions } from '../../config/gates.ts';
import { givenName } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import type { Finding, GateResult } from '../../findings/types.ts';
import { checkoutRoot, readMigrationsAtRef } from '../../migrations/git.ts';
import { describeHistoryTables, findHistoryTables, isHistoryObject, readHistory } from '../../migrations/history.ts';
import { type BuildShadowOptions, buildShadow, type Shadow } from '../../migrations/shadow.ts';
import { assertFormat, findSupabaseConfig, readMigrations, resolveMigrationsDir, TOOL_TITLES } from '../../migrations/sources.ts';
import { TOOLS } from '../../migrations/tools/index.ts';
import type { History, Migration, MigrationFormat, MigrationSource } from '../../migrations/types.ts';
import { missingExtensionFindings, missingProjectExtensions, standInFindings } from '../../migrations/rules.ts';
import { beginSharedSnapshot, type Session, withSession, withTwinSession } from '../../postgres/connect.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import { compareDeclaredSchemas, findDeclaredSchemas } from './declarative.ts';
import { compareHistory } from './history.ts';
import { type InFlight, inFlightFindings, readInFlight } from './in-flight.ts';
import { downMigrationFindings } from './down-migrations.ts';
import { DEFAULT_MAX_LOCK_TIMEOUT_MS, migrationSafetyFindings, SAFETY_SKIPPED } from './migration-safety.ts';
import { rehearsalSource, rehearse } from './rehearsal.ts';
import { checkLegacyGrants } from './legacy-grants.ts';
import { chainFindings, mergedHistoryFindings, namingFindings } from './integrity.ts';
import { checkRoles } from './roles.ts';
import { type DriftRuleId, driftFinding } from './rules.ts';
import { schemaFindings } from './schema.ts';
import { assertSchemaFilter, readSchemaNames, type SchemaNames } from './schema-filter.ts';

export { DRIFT_RULES } from './rules.ts';

interface Plan {
  source: MigrationSource;
  format: MigrationFormat;
  supabase: boolean | undefined;
  snapshotOptions: { schemas?: string[]; excludeSchemas: string[] };
}

function plan(options: DriftOptions, context: GateContext): Plan {
  const project = context.config.project;
  const format =
    options.migrationsFormat !== 'auto'
      ? options.migrationsFormat
      : project['migrations-format']
        ? assertFormat(project['migrations-format'], 'project.migrations-format')
        : 'auto';
  const dirInput = options.migrationsDir ?? project['migrations-dir'];
  const dir = resolveMigrationsDir(dirInput, context.cwd);
  const source = readMigrations(dir, { cwd: context.cwd, format });
  const schemas = options.schemas.length ? options.schemas : context.config.drift.schemas;
  const excludeSchemas = [...options.excludeSchemas, ...context.config.drift['exclude-schemas']];
  return {
    source,
    format,
    supabase: project.kind ? project.kind === 'supabase' : undefined,
    snapshotOptions: { ...(schemas?.length ? { schemas } : {}), excludeSchemas },
  };
}

/**
 * Extensions the shadow lacks, split into the project's own (the migrations create them; also
 * findings) and the platform's: those the Supabase baseline could not install (pg_graphql,
 * pg_net, ...) are listed in the report's details only, since the baseline has stand-ins and
 * warning on every run would be noise.
 */
function extensionDetails(shadow: Shadow): Record<string, string[]> {
  const project = missingProjectExtensions(shadow);
  const platform = shadow.missingExtensions.filter((name) => !project.includes(name));
  return {
    ...(project.length ? { missingExtensions: project } : {}),
    ...(platform.length ? { platformExtensionsNotInShadow: platform } : {}),
    ...(shadow.standInsUsed.length ? { standInExtensions: shadow.standInsUsed } : {}),
  };
}

function shadowFindings(shadow: Shadow): Finding[] {
  return [
    ...(shadow.failure ? [shadow.failure] : []),
    ...missingExtensionFindings(shadow),
    ...standInFindings(shadow),
    ...shadow.skipped.map((m) =>
      driftFinding({
        rule: 'migration_not_verifiable',
        object: { kind: 'migration', name: m.file },
        message: `${m.file} is ${TOOLS[m.tool].codeMigrations ?? 'code'}, which postgate does not run; its schema changes are not in the expected schema.`,
        location: { file: m.file, line: 1 },
      }),
    ),
  ];
}

/** The checks that compare the migrations with the base branch's (integrity.ts). */
const BASE_CHECKS: readonly DriftRuleId[] = ['merged_migration_edited', 'merged_migration_removed', 'migration_version_not_newer'];

interface BaseCheck {
  findings: Finding[];
  /** The base branch and the commit compared with, for the report's details. */
  baseRef?: string;
  /** The ids of the base branch's migrations: the others are the pull request's, measured (migration-safety.ts). */
  baseIds?: ReadonlySet<string>;
}

/**
 * The migrations against the base branch: `base-ref`, else the one the run knows (a pull request's).
 * In a git checkout without a base branch, or with only the run's and no git checkout, the checks
 * do not run and, in PR mode, a notice says so (deploy mode has no pull request to check). A folder
 * outside git with no base branch anywhere has no history to compare: nothing is said.
 */
async function checkBase(options: DriftOptions, context: GateContext, source: MigrationSource, mode: 'pr' | 'deploy'): Promise<BaseCheck> {
  const ref = options.baseRef ?? context.baseRef;
  // A base-ref the user gave must work (readMigrationsAtRef says why not); the run's is used where there is a checkout.
  const inCheckout = options.baseRef !== undefined || (await checkoutRoot(context.cwd)) !== undefined;
  if (ref && inCheckout) {
    const base = await context.log.step(`reading the migrations at ${ref}`, () => readMigrationsAtRef(context.cwd, source.dir, ref, source.tool));
    return {
      findings: base.source ? mergedHistoryFindings(base.source, source, ref) : [],
      baseRef: `${ref} (${base.commit.slice(0, 12)})`,
      baseIds: new Set(base.source?.migrations.map((m) => m.id)),
    };
  }
  if (mode === 'deploy' || (!ref && !inCheckout)) return { findings: [] };
  const [reason, fix] = ref
    ? [
        `The pull request's base branch is ${ref}, but the working directory is not a git checkout`,
        'run the gate in a checkout of the repository (actions/checkout)',
      ]
    : ['No base branch is known', `set \`${givenName(options, 'base-ref')}\` to the pull request's base branch`];
  return {
    findings: [
      driftFinding({
        rule: 'base_checks_skipped',
        object: { kind: 'migrations', name: path.relative(context.cwd, source.dir) || '.' },
        message: `${reason}, so the checks against it (${BASE_CHECKS.join(', ')}) did not run; ${fix}.`,
        detail: `${SAFETY_SKIPPED}.`,
      }),
    ],
  };
}

const LIVE_MAJOR_SQL = `select current_setting('server_version_num')::int / 10000 as major, current_user as role`;

const LIVE_SESSION = { gate: 'drift', readOnly: true, needsSession: true, inputName: 'database-url' };

interface LiveState {
  major: number;
  history?: History;
  source: MigrationSource;
  snapshot: CatalogSnapshot;
  inFlight: InFlight;
  /** The schemas there, to check the schema filter against. */
  schemaNames: SchemaNames;
}

async function readLive(session: Session, databaseUrl: string, planned: Plan, profile: CatalogProfile, cwd: string): Promise<LiveState> {
  const { rows } = await session.query<{ major: number; role: string }>(LIVE_MAJOR_SQL);
  const { major, role } = rows[0]!;
  let source = planned.source;
  // One read-only transaction: history and catalog are read from the same state, which a
  // twin session shares to read part of the catalog in parallel.
  const snapshotId = await beginSharedSnapshot(session);
  const read = (twin: Session | undefined) => readSnapshot(session, { ...planned.snapshotOptions, profile }, { twin });
  try {
    const tables = await findHistoryTables(session);
    let table = tables.find((t) => t.tool === source.tool);
    if (!table && planned.format === 'auto' && source.detection === 'weak' && tables[0]) {
      table = tables[0];
      source = readMigrations(source.dir, { cwd, format: table.tool });
    }
    if (!table && source.tool !== 'plain') {
      const looked = planned.format === 'auto' ? describeHistoryTables() : describeHistoryTables([source.tool]);
      throw new UserError(
        `The database at \`database-url\` has no ${planned.format === 'auto' ? 'migration history' : TOOL_TITLES[source.tool]} table (looked for: ${looked}); point \`database-url\` at the migrated database or set \`migrations-format\`.`,
      );
    }
    const history = table ? await readHistory(session, table) : undefined;
    const inFlight = await readInFlight(session, table);
    const schemaNames = await readSchemaNames(session);
    let snapshot: CatalogSnapshot;
    try {
      snapshot = snapshotId ? await withTwinSession(databaseUrl, LIVE_SESSION, snapshotId, read) : await read(undefined);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (e.code === '42501') {
        throw new UserError(
          `Role "${role}" cannot read the system catalog (${e.message}); grant it SELECT on that catalog table (PostgreSQL grants it to PUBLIC by default) or use a role that can read pg_catalog.`,
        );
      }
      throw error;
    }
    return { major, ...(history ? { history } : {}), source, snapshot, inFlight, schemaNames };
  } finally {
    await session.query('commit').catch(() => undefined);
  }
}

async function prMode(options: DriftOptions, context: GateContext, planned: Plan): Promise<GateOutput> {
  const { source } = planned;
  const base = await checkBase(options, context, source, 'pr');
  const findings = [...namingFindings(source), ...chainFindings(source)];
  if (context.config.drift['require-down-migrations']) findings.push(...downMigrationFindings(source, context.cwd, base.baseIds));
  // Declared schema files (supabase/schemas): both databases get the grants the local stack gives.
  const declared = findDeclaredSchemas(source, context.cwd);
  const started = performance.now();
  const baseIds = base.baseIds;
  const shadow = await buildShadow({
    ...shadowOptions(options, context, planned, source),
    ...(declared ? { grantsAsConfigured: true } : {}),
    ...(baseIds ? { measure: (m: Migration) => !baseIds.has(m.id) } : {}),
  });
  try {
    findings.push(...shadowFindings(shadow), ...base.findings, ...safetyFindings(shadow, context, base));
    const shadowMs = Math.round(performance.now() - started);
    const declarative = declared
      ? await compareDeclaredSchemas(shadow, source, declared, { cwd: context.cwd, snapshotOptions: planned.snapshotOptions, log: context.log })
      : undefined;
    findings.push(...(declarative?.findings ?? []));
    return {
      findings,
      metrics: {
        migrations: source.migrations.length,
        applied: shadow.applied.length,
        shadow_ms: shadowMs,
        ...(baseIds ? { measured_statements: shadow.statementEffects.length } : {}),
        ...declarative?.metrics,
      },
      details: {
        mode: 'pr',
        tool: source.tool,
        migrationsDir: path.relative(context.cwd, source.dir) || '.',
        ...(base.baseRef ? { baseRef: base.baseRef } : {}),
        shadowMajor: shadow.major,
        ...extensionDetails(shadow),
        ...declarative?.details,
      },
    };
  } finally {
    await shadow.stop();
  }
}

/** The lock and rewrite analysis of the pull request's new migrations (none without a base branch: `base_checks_skipped` says so). */
function safetyFindings(shadow: Shadow, context: GateContext, base: BaseCheck): Finding[] {
  if (!base.baseIds) return [];
  const config = context.config.drift['migration-safety'];
  return migrationSafetyFindings(shadow.statementEffects, {
    exceptions: config.exceptions,
    maxLockTimeoutMs: config['max-lock-timeout'] ?? DEFAULT_MAX_LOCK_TIMEOUT_MS,
  });
}

function shadowOptions(options: DriftOptions, context: GateContext, planned: Plan, source: MigrationSource, major?: number) {
  const wantedMajor = options.postgresVersion ?? context.config.project['postgres-version'] ?? major;
  return {
    migrationsDir: source.dir,
    cwd: context.cwd,
    migrations: source,
    shadow: options.shadow,
    ...(wantedMajor !== undefined ? { major: wantedMajor } : {}),
    ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
    ...(planned.supabase !== undefined ? { supabase: planned.supabase } : {}),
    ...(context.config.project['explicit-grants-since'] ? { explicitGrantsSince: context.config.project['explicit-grants-since'] } : {}),
    log: context.log,
  };
}

async function deployMode(options: DriftOptions, context: GateContext, planned: Plan, databaseUrl: string): Promise<GateOutput> {
  const supabase = planned.supabase ?? (planned.source.tool === 'supabase' || findSupabaseConfig(planned.source.dir) !== undefined);
  const profile: CatalogProfile = supabase ? 'supabase' : 'postgres';
  const live = await context.log.step('reading the live history and schema (read-only)', () =>
    withSession(databaseUrl, LIVE_SESSION, (session) => readLive(session, databaseUrl, planned, profile, context.cwd)),
  );
  const { source } = live;
  const base = await checkBase(options, context, source, 'deploy');
  const findings: Finding[] = [...namingFindings(source), ...base.findings];
  let applied: Set<string> | undefined;
  if (live.history) {
    const comparison = compareHistory(source, live.history);
    findings.push(...comparison.findings);
    applied = comparison.applied;
  } else {
    findings.push(
      driftFinding({
        rule: 'history_not_recorded',
        object: { kind: 'database', name: 'history' },
        message: 'The database has no migration history table, so every migration is assumed applied and only the schema is compared.',
      }),
    );
  }
  findings.push(...inFlightFindings(live.inFlight, live.history));

  const started = performance.now();
  const replay: BuildShadowOptions = {
    ...shadowOptions(options, context, { ...planned, supabase }, source, live.major),
    ...(applied ? { only: (m) => applied.has(m.id) } : {}),
  };
  const shadow = await buildShadow(replay);
  try {
    findings.push(...shadowFindings(shadow));
    const metrics: Record<string, number> = {
      migrations: source.migrations.length,
      applied: shadow.applied.length,
      catalog_objects: live.snapshot.objects.length,
    };
    if (!shadow.failure) {
      const shadowSession = { gate: 'drift', readOnly: true, inputName: 'shadow-database-url' };
      // Nothing else writes to the shadow: its twin needs no shared snapshot.
      const { expected, shadowSchemas } = await withSession(shadow.url, shadowSession, async (session) => ({
        expected: await withTwinSession(shadow.url, shadowSession, undefined, (twin) =>
          readSnapshot(session, { ...planned.snapshotOptions, profile }, { twin }),
        ),
        shadowSchemas: await readSchemaNames(session),
      }));
      const history = live.history;
      // A filter that names no schema there is, or leaves nothing to compare, must not pass by comparing nothing.
      const liveObjects = history ? live.snapshot.objects.filter((o) => !isHistoryObject(history, o)) : live.snapshot.objects;
      assertSchemaFilter(options, context.config, profile, {
        live: live.schemaNames,
        shadow: shadowSchemas,
        objectsLeft: expected.objects.length + liveObjects.length,
      });
      const differences = diffSnapshots(expected, live.snapshot, history ? { ignore: (o) => isHistoryObject(history, o) } : {});
      findings.push(...schemaFindings(differences, shadow.origins));
      metrics.differences = differences.length;
      // Grants only Supabase's legacy default privileges gave: a second replay, as configured today (legacy-grants.ts).
      if (shadow.configuredGrantsDiffer) {
        const migrationsDir = path.relative(context.cwd, source.dir) || '.';
        const legacy = await context.log.step('replaying the migrations with the Data API grants configured today', () =>
          checkLegacyGrants(replay, { shadow, snapshot: expected }, live.snapshot, { ...planned.snapshotOptions, profile }, migrationsDir),
        );
        findings.push(...legacy.findings);
        metrics.configured_replay_ms = legacy.ms;
      }
    }
    findings.push(...(await context.log.step('comparing roles (read-only)', () => checkRoles(shadow, databaseUrl, context.config.roles))));
    metrics.shadow_ms = Math.round(performance.now() - started);
    return {
      findings,
      metrics,
      details: {
        mode: 'deploy',
        tool: source.tool,
        migrationsDir: path.relative(context.cwd, source.dir) || '.',
        ...(base.baseRef ? { baseRef: base.baseRef } : {}),
        historyTable: live.history ? `${live.history.schema}.${live.history.table}` : null,
        profile,
        liveMajor: live.major,
        shadowMajor: shadow.major,
        ...extensionDetails(shadow),
        schemaCompared: !shadow.failure,
      },
    };
  } finally {
    await shadow.stop();
  }
}

export async function run(options: DriftOptions, context: GateContext): Promise<GateResult> {
  return runGate('drift', options, context, async () => {
    const planned = plan(options, context);
    const rehearsalFrom = options.rehearseFrom ? rehearsalSource(options, context) : undefined;
    const checked = await (options.databaseUrl ? deployMode(options, context, planned, options.databaseUrl) : prMode(options, context, planned));
    if (!rehearsalFrom) return checked;
    const rehearsed = await rehearse(options, context, planned.source, rehearsalFrom);
    return {
      findings: [...checked.findings, ...rehearsed.findings],
      metrics: { ...checked.metrics, ...rehearsed.metrics },
      details: { ...checked.details, ...rehearsed.details },
    };
  });
}
