/**
 * rls-audit: can anyone reach data through the Data API that they should not?
 *
 * - `database-url`: audits a live database read-only (rules only; the matrix writes, so it
 *   never runs there).
 * - `migrations-dir` (or a detected folder): builds a shadow database from the migrations,
 *   seeds it, runs the rules, the behavioural access matrix and the repo config's RLS tests.
 *   With a base ref (`base-ref`, or the pull request's base branch) it builds the base
 *   branch too and reports what the PR changes; findings already on the base are listed
 *   apart and do not fail the PR (`baseline: base-branch`).
 */
import { missingExtensionFindings, standInFindings } from '../../migrations/rules.ts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { ApiUsage } from '../../api-usage/types.ts';
import type { RlsOptions } from '../../config/gates.ts';
import { givenLabel } from '../../config/input-spec.ts';
import type { MigrationFormat } from '../../migrations/types.ts';
import { UserError } from '../../errors.ts';
import { judge } from '../../findings/allowlist.ts';
import type { Finding, GateResult, SourceLocation } from '../../findings/types.ts';
import { SUPABASE_EXTENSIONS } from '../../postgres/baseline/supabase.ts';
import { connect, withSession } from '../../postgres/connect.ts';
import { checkoutRoot, readMigrationsAtRef } from '../../migrations/git.ts';
import { findOrigin } from '../../migrations/origins.ts';
import { buildShadow, type Shadow } from '../../migrations/shadow.ts';
import { outsidePathFindings, readMigrations, resolveMigrationsDir } from '../../migrations/sources.ts';
import type { MigrationSource } from '../../migrations/types.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import { diffMatrices, diffPolicies, publicReadPolicies, readPolicies, splitPreexisting } from './access-diff.ts';
import { isPlatformSchema, runRules } from './audit.ts';
import { runTests, type TestOutcome } from './config-tests.ts';
import { type DbTests, type DbTestsOutcome, resolveDbTests, runDbTests } from './db-tests.ts';
import { writePgtapExport } from './pgtap-export.ts';
import { apiUsageReport, type ApiUsageOutcome, checkApiUsage, configBuckets, matrixAppCalls, startApiScan } from './api-usage-read.ts';
import { foldByCause } from './fold.ts';
import {
  type ApiRoles,
  databaseExposure,
  type Exposure,
  noExposureError,
  preflight,
  resolveApiRoles,
  staticExposure,
  supabaseConfigFor,
  validateAgainstDatabase,
} from './exposure.ts';
import { type AccessMatrix, buildAccessMatrix } from './matrix.ts';
import { matrixTable } from './render.ts';
import { rlsFinding } from './rules.ts';
import { ruleIdsOf } from '../rules-catalog.ts';

interface Settings {
  options: RlsOptions;
  context: GateContext;
  apiRoles: ApiRoles;
  /** The scan of the app's code for Data API calls, started at once. */
  apiUsage: Promise<ApiUsage>;
}

export async function run(options: RlsOptions, context: GateContext): Promise<GateResult> {
  return runGate('rls', options, context, async () => {
    if (options.databaseUrl && options.migrationsDir) {
      throw new UserError(
        'Inputs `database-url` and `migrations-dir` were both given; pass `database-url` to audit a live database, or `migrations-dir` to audit the migrations in a shadow database.',
      );
    }
    if (options.exportPgtap) return writePgtapExport(options.exportPgtap, context);
    const settings: Settings = {
      options,
      context,
      apiRoles: resolveApiRoles(options, context.config.rls['api-roles']),
      apiUsage: startApiScan(context.cwd, context.config.rls['app-code']),
    };
    return options.databaseUrl ? auditLive(settings, options.databaseUrl) : auditMigrations(settings);
  });
}

function exposureDetails(exposure: Exposure, apiRoles: ApiRoles, mode: string): Record<string, string> {
  const platform = exposure.schemas.filter(isPlatformSchema);
  return {
    mode,
    exposed_schemas: exposure.schemas.join(', ') || 'none (the Data API is disabled)',
    exposure_source: exposure.source,
    ...(platform.length
      ? { platform_schemas: `${platform.join(', ')} (managed by Supabase: judged by the Storage rules, not the table and function rules)` }
      : {}),
    api_roles: `${apiRoles.roles.join(', ')} (${apiRoles.source})`,
  };
}

/** Live database: read-only session, rules only. */
async function auditLive(settings: Settings, url: string): Promise<GateOutput> {
  const { options, context, apiRoles } = settings;
  const sessionOptions = { gate: 'rls', readOnly: true, inputName: 'database-url' };
  return withSession(url, sessionOptions, async (session) => {
    const exposure =
      staticExposure({ options, configSchemas: context.config.rls['exposed-schemas'], cwd: context.cwd, migrationsDir: options.migrationsDir }) ??
      (await databaseExposure(session));
    if (!exposure) throw noExposureError(options);
    await validateAgainstDatabase(session, exposure, apiRoles);
    const started = performance.now();
    const findings = await context.log.step('Running the RLS rules', () =>
      runRules(
        session,
        { exposedSchemas: exposure.schemas, apiRoles: apiRoles.roles, forceRls: context.config.rls['force-rls'] },
        { url, options: sessionOptions },
      ),
    );
    if (exposure.notice) findings.unshift(exposure.notice);
    const rulesMs = Math.round(performance.now() - started);
    const api = await checkApiUsage(session, {
      usage: await settings.apiUsage,
      mode: 'live',
      exposedSchemas: exposure.schemas,
      apiRoles: apiRoles.roles,
      scanNotices: true,
    });
    return {
      findings: foldByCause([...findings, ...api.findings]),
      metrics: { rules_ms: rulesMs, ...api.metrics },
      details: {
        exposure: exposureDetails(exposure, apiRoles, 'live database, read-only: rules only (the access matrix runs on shadow databases only)'),
        ...apiUsageReport(api),
      },
    };
  });
}

interface Analysis {
  findings: Finding[];
  matrix: AccessMatrix;
  policies: Awaited<ReturnType<typeof readPolicies>>;
  tests: TestOutcome[];
  dbTests?: DbTestsOutcome;
  api: ApiUsageOutcome;
  exposure: Exposure;
  metrics: Record<string, number>;
}

/** Seed files: supabase/config.toml [db.seed] sql_paths (default seed.sql), then the repo config's fixtures. */
function seedFiles(cwd: string, migrationsDir: string, fixtures: string[]): string[] {
  const toml = supabaseConfigFor(cwd, migrationsDir);
  const files: string[] = [];
  if (toml) {
    const seed = ((parseToml(readFileSync(toml, 'utf8')) as { db?: { seed?: { enabled?: boolean; sql_paths?: unknown } } }).db?.seed ?? {}) as {
      enabled?: boolean;
      sql_paths?: unknown;
    };
    const paths = Array.isArray(seed.sql_paths) ? seed.sql_paths.map(String) : ['./seed.sql'];
    if (seed.enabled !== false) files.push(...paths.map((p) => path.resolve(path.dirname(toml), p)).filter((file) => !file.includes('*') && existsSync(file)));
  }
  for (const fixture of fixtures) {
    const file = path.resolve(cwd, fixture);
    if (!existsSync(file)) throw new UserError(`Repo config rls.fixtures names ${fixture}, which does not exist; fix the path.`);
    files.push(file);
  }
  return files;
}

/** Rules, matrix and (for the head) tests on one shadow database. */
async function analyse(
  settings: Settings,
  shadow: Shadow,
  input: { migrationsDir: string; withTests: boolean; label: string; dbTests?: DbTests },
): Promise<Analysis> {
  const { options, context, apiRoles } = settings;
  const session = await connect(shadow.url, { gate: 'rls', readOnly: false, inputName: 'shadow-database-url', statementTimeoutMs: 120_000 });
  try {
    const findings: Finding[] = [];
    for (const file of seedFiles(context.cwd, input.migrationsDir, context.config.rls.fixtures)) {
      try {
        await session.query(readFileSync(file, 'utf8'));
      } catch (error) {
        findings.push(
          rlsFinding({
            rule: 'rls_seed_failed',
            object: { kind: 'file', name: path.relative(context.cwd, file) },
            message: `Seed file ${path.relative(context.cwd, file)} failed on the ${input.label} shadow database (${(error as Error).message}); the access matrix uses generated rows only.`,
          }),
        );
      }
    }
    const exposure =
      staticExposure({ options, configSchemas: context.config.rls['exposed-schemas'], cwd: context.cwd, migrationsDir: input.migrationsDir }) ??
      (await databaseExposure(session));
    if (!exposure) throw noExposureError(options);
    const valid = await validateAgainstDatabase(session, exposure, apiRoles, input.label === 'base');
    const audit = { exposedSchemas: valid.schemas, apiRoles: valid.roles, forceRls: context.config.rls['force-rls'], origins: shadow.origins };
    let started = performance.now();
    findings.push(
      ...(await context.log.step(`Running the RLS rules (${input.label})`, () =>
        runRules(session, audit, { url: shadow.url, options: { gate: 'rls', readOnly: true, inputName: 'shadow-database-url', statementTimeoutMs: 120_000 } }),
      )),
    );
    const rulesMs = performance.now() - started;
    started = performance.now();
    const { matrix, probes } = await context.log.step(`Probing the access matrix (${input.label})`, () => buildAccessMatrix(session, audit));
    const matrixMs = performance.now() - started;
    const tests = input.withTests ? await runTests(session, context.config.rls.tests) : { outcomes: [], findings: [] };
    findings.push(...tests.findings);
    const dbTests = input.dbTests?.files.length
      ? await context.log.step(`Running ${input.dbTests.files.length} pgTAP test file(s)`, () => runDbTests(shadow, input.dbTests!, context.cwd))
      : undefined;
    findings.push(...(dbTests?.findings ?? []));
    const policies = await readPolicies(session, valid.schemas);
    const api = await checkApiUsage(session, {
      usage: await settings.apiUsage,
      mode: 'shadow',
      exposedSchemas: valid.schemas,
      apiRoles: valid.roles,
      origins: shadow.origins,
      declaredBuckets: configBuckets(supabaseConfigFor(context.cwd, input.migrationsDir)),
      scanNotices: input.label === 'head',
    });
    findings.push(...api.findings);
    return {
      findings,
      matrix,
      policies,
      tests: tests.outcomes,
      ...(dbTests ? { dbTests } : {}),
      api,
      exposure,
      metrics: {
        rules_ms: Math.round(rulesMs),
        matrix_ms: Math.round(matrixMs),
        matrix_probes: probes,
        tables: matrix.rows.length,
        ...dbTests?.metrics,
        ...api.metrics,
      },
    };
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** The shadow's name for an object kind where the finding's differs. */
const ORIGIN_KINDS: Record<string, string> = { 'materialized view': 'materialized_view', 'foreign table': 'table' };

/** Where the object a finding names was created or last altered, from the shadow's origins. */
export function locate(item: Finding, origins: ReadonlyMap<string, SourceLocation>): Finding {
  if (item.location) return item;
  const { kind, schema, name } = item.object;
  const found =
    findOrigin(origins, { kind: ORIGIN_KINDS[kind] ?? kind, schema, name }) ??
    (kind === 'extension' ? findOrigin(origins, { kind, name }) : undefined) ??
    (kind === 'view' ? findOrigin(origins, { kind: 'materialized_view', schema, name }) : undefined);
  return found ? { ...item, location: found } : item;
}

/** Rules whose findings rest on who may reach the object through the Data API (grants), not only on RLS. */
const GRANT_DEPENDENT_RULES = new Set([
  'rls_disabled_in_public',
  'extension_table_exposed',
  'security_definer_view',
  'auth_users_exposed',
  'materialized_view_in_api',
  'foreign_table_in_api',
  'sensitive_columns_exposed',
  'insecure_queue_exposed_in_api',
  'anon_security_definer_function_executable',
  'authenticated_security_definer_function_executable',
  'pg_graphql_anon_table_exposed',
  'pg_graphql_authenticated_table_exposed',
  'policy_role_missing_grant',
  'rls_matrix_access_changed',
  'api_privilege_missing',
  'api_privilege_service_role_only',
  'api_function_not_executable',
]);

/** Says which Data API grant model the shadow used (src/migrations/data-api-grants.ts): the finding rests on it. */
function withGrantAssumption(item: Finding, assumption: string): Finding {
  const line = `Data API grants in the shadow: ${assumption}`;
  return { ...item, detail: item.detail ? `${item.detail}\n${line}` : line };
}

async function withShadow<T>(settings: Settings, migrationsDir: string, fn: (shadow: Shadow) => Promise<T>, migrations?: MigrationSource): Promise<T> {
  const { options, context } = settings;
  const major = options.postgresVersion ?? context.config.project['postgres-version'];
  const shadow = await buildShadow({
    migrationsDir,
    cwd: context.cwd,
    format: options.migrationsFormat as MigrationFormat,
    shadow: options.shadow,
    ...(major !== undefined ? { major } : {}),
    ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
    ...(migrations ? { migrations } : {}),
    ...(context.config.project['explicit-grants-since'] ? { explicitGrantsSince: context.config.project['explicit-grants-since'] } : {}),
    log: context.log,
  });
  try {
    return await fn(shadow);
  } finally {
    await shadow.stop();
  }
}

/**
 * The base branch to compare with: the input (which must work), else the pull request's base
 * the run knows, where the working directory is a git checkout to read it from.
 */
async function baseRefOf(settings: Settings): Promise<string | undefined> {
  if (settings.options.baseRef !== undefined) return settings.options.baseRef;
  const fromRun = settings.context.baseRef;
  return fromRun && (await checkoutRoot(settings.context.cwd)) !== undefined ? fromRun : undefined;
}

async function auditMigrations(settings: Settings): Promise<GateOutput> {
  const { options, context } = settings;
  const migrationsDir = resolveMigrationsDir(options.migrationsDir ?? context.config.project['migrations-dir'], context.cwd);
  // What needs no database is checked before one is started.
  const exposure = staticExposure({ options, configSchemas: context.config.rls['exposed-schemas'], cwd: context.cwd, migrationsDir });
  const source = readMigrations(migrationsDir, { cwd: context.cwd, format: options.migrationsFormat as MigrationFormat });
  const loaded = seedFiles(context.cwd, migrationsDir, context.config.rls.fixtures);
  const seeds = loaded.map((file) => readFileSync(file, 'utf8'));
  const dbTests = resolveDbTests({
    given: options.dbTests,
    label: givenLabel(options, 'db-tests'),
    cwd: context.cwd,
    supabaseConfig: supabaseConfigFor(context.cwd, migrationsDir),
    loaded,
  });
  const plan = {
    supabase: source.tool === 'supabase' || supabaseConfigFor(context.cwd, migrationsDir) !== undefined,
    sql: [...source.migrations.map((m) => m.sql), ...seeds],
    freshServer: options.shadow !== 'url' && !options.shadowDatabaseUrl,
  };
  preflight(exposure, settings.apiRoles, plan, options);

  const head = await context.log.step('Building the shadow database from the migrations', () =>
    withShadow(
      settings,
      migrationsDir,
      async (shadow) => ({
        failure: shadow.failure,
        origins: shadow.origins,
        tool: shadow.tool,
        missing: [...missingExtensionFindings(shadow), ...standInFindings(shadow), ...outsidePathFindings(shadow.problems)],
        missingAll: shadow.missingExtensions,
        grantAssumption: shadow.grantAssumption,
        analysis: shadow.failure
          ? undefined
          : await analyse(settings, shadow, { migrationsDir, withTests: true, label: 'head', ...(dbTests ? { dbTests } : {}) }),
      }),
      source,
    ),
  );
  if (head.failure || !head.analysis) return { findings: [head.failure!, ...head.missing] };
  const analysis = head.analysis;
  let findings = [...(analysis.exposure.notice ? [analysis.exposure.notice] : []), ...analysis.findings, ...head.missing];
  const assumption = head.grantAssumption;
  if (assumption) findings = findings.map((f) => (GRANT_DEPENDENT_RULES.has(f.rule) ? withGrantAssumption(f, assumption) : f));
  let preexisting: Finding[] = [];
  const details: Record<string, unknown> = {
    exposure: exposureDetails(analysis.exposure, settings.apiRoles, 'shadow database built from the migrations'),
    accessMatrix: matrixTable(analysis.matrix, matrixAppCalls(analysis.api)),
    ...apiUsageReport(analysis.api, new Set(analysis.matrix.rows.map((row) => `${row.object.schema}.${row.object.name}`))),
  };
  if (head.grantAssumption) (details.exposure as Record<string, string>).data_api_grants = head.grantAssumption;
  const platformMissing = head.missingAll.filter((name) => SUPABASE_EXTENSIONS.some((e) => e.name === name));
  if (platformMissing.length) {
    (details.exposure as Record<string, string>).shadow_without =
      `${platformMissing.join(', ')} (Supabase platform extensions this server lacks; stand-ins where the baseline has them)`;
  }
  if (analysis.tests.length) {
    details.tests = analysis.tests.map((t) => ({ test: t.name, role: t.role, expected: t.expected, got: t.got, result: t.passed ? 'pass' : 'FAIL' }));
  }
  if (analysis.dbTests) details.dbTests = analysis.dbTests.files;

  const baseRef = await baseRefOf(settings);
  if (baseRef) {
    const atRef = await readMigrationsAtRef(context.cwd, migrationsDir, baseRef, head.tool);
    const base = atRef.source
      ? await context.log.step(`Building the base branch (${baseRef}) shadow database`, () =>
          withShadow(
            settings,
            migrationsDir,
            async (shadow) => (shadow.failure ? undefined : analyse(settings, shadow, { migrationsDir, withTests: false, label: 'base' })),
            atRef.source,
          ),
        )
      : undefined;
    const baseMatrix: AccessMatrix = base?.matrix ?? { ...analysis.matrix, rows: [] };
    const access = diffMatrices(baseMatrix, analysis.matrix, publicReadPolicies(analysis.policies, context.config.rls['private-tables']));
    const policyChanges = diffPolicies(base?.policies ?? [], analysis.policies);
    if (options.baseline === 'base-branch' && base) {
      const split = splitPreexisting(findings, base.findings);
      // An allowlisted finding stays with the findings, where the allowlist accepts it (else its entry would look stale).
      const accepted = new Set(
        judge(split.preexisting, {
          knownRules: ruleIdsOf('rls'),
          allowlist: context.config.allowlist,
          now: context.now(),
          failOn: options.failOn,
        }).suppressed.map((f) => f.key),
      );
      findings = [...split.fresh, ...split.preexisting.filter((f) => accepted.has(f.key))];
      preexisting = split.preexisting.filter((f) => !accepted.has(f.key));
    }
    // Widened access is annotated where the PR changed a policy of that table, if it did.
    const changedPolicies = policyChanges.map((item) => locate(item, head.origins));
    const widened = access.findings.map((item) => {
      const cause = changedPolicies
        .filter((p) => p.location && p.object.schema === item.object.schema && p.object.name.startsWith(`${item.object.name}.`))
        .at(-1);
      return cause ? { ...item, location: cause.location! } : item;
    });
    findings.push(...widened, ...changedPolicies);
    details.baseRef = `${baseRef} (${atRef.commit.slice(0, 12)})${base ? '' : atRef.source ? ': its migrations failed to apply, so everything counts as new' : ': no migrations there yet, so everything counts as new'}`;
    if (access.changes.length) details.accessChanges = access.changes;
  }
  return {
    findings: foldByCause(findings.map((item) => locate(item, head.origins))),
    ...(preexisting.length ? { preexisting: foldByCause(preexisting.map((item) => locate(item, head.origins))) } : {}),
    metrics: analysis.metrics,
    details,
  };
}
