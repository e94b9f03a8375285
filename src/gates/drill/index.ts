/**
 * restore-drill: restore a backup into throwaway PostgreSQL, make the copy inert, prove it is
 * complete, measure RTO and RPO against targets, and keep a drill log.
 *
 *   fetch       take the backup now (live: pg_dump --snapshot) or inspect the file   source.ts
 *   checksum    a file: SHA-256 against checksum-path / sha256 / the manifest; psql   artifact.ts, restore.ts
 *               in a plain backup's SQL; archive TOC readable
 *   create target   ephemeral cluster or a scratch database on target-database-url  target.ts
 *   restore     Supabase baseline when needed, then pg_restore -j / the script runner restore.ts
 *   neutralise  pg_cron jobs off, pg_net queue emptied, webhook triggers disabled     neutralise.ts
 *   verify      schema, row counts, key checksums, extensions, RLS, triggers, migration  verify.ts
 *               version, expected settings, smoke queries
 *
 * Then RTO/RPO against the targets (rpo.ts), the repo config's RLS tests and the pgTAP files on
 * the copy (tests.ts), the storage files behind the copy's objects (storage-files.ts), optional masking and export (mask.ts), the drill
 * log and `max-days-since-green` (log.ts). The phases share one state (state.ts); the target is
 * always cleaned up. `--write-manifest` is the backup mode: dump the source into dump-path and
 * write the manifest, without a restore.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DrillOptions } from '../../config/gates.ts';
import { formatDuration } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import type { Finding, GateResult } from '../../findings/types.ts';
import { reapOrphans } from '../../postgres/ephemeral/registry.ts';
import { formatBytes } from '../../report/format.ts';
import { assertFormat, readMigrations, resolveMigrationsDir } from '../../migrations/sources.ts';
import { lockThresholdMs, rehearsePending } from '../drift/rehearse-pending.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import { digestArtifact, FORMAT_LABELS, sha256File, verifyChecksums } from './artifact.ts';
import { recordDrill, recordFailedDrill } from './log.ts';
import { writeManifest } from './manifest.ts';
import { exportMasked } from './mask.ts';
import { type InertCopy, neutraliseCopy } from './neutralise.ts';
import { backupScripts, restoreBackup, scanScripts } from './restore.ts';
import { validatePitrInputs } from './pitr.ts';
import { measureObjectives, validateSupabaseApiInputs } from './rpo.ts';
import { chooseMode, fetchSource, takeLiveBackup } from './source.ts';
import { checkStorageFiles, readStorageEndpoint } from './storage-files.ts';
import { cleanupStack, createState, type DrillState, type Fetched, type Targeted } from './state.ts';
import { awaitTarget } from './target.ts';
import { findCopyTests, testCopy } from './tests.ts';
import { verifyCopy } from './verify.ts';

export { PHASES, type Phase } from './state.ts';
export { SUPABASE_API_URL_ENV } from './rpo.ts';

export async function run(options: DrillOptions, context: GateContext): Promise<GateResult> {
  return runGate('drill', options, context, () => (options.writeManifest ? backupWithManifest(options, context) : drill(options, context)));
}

async function drill(options: DrillOptions, context: GateContext): Promise<GateOutput> {
  const mode = chooseMode(options, context.cwd);
  // what a killed earlier run left (a pg_dump still running, its dump directory) goes first
  reapOrphans();
  validateSupabaseApiInputs(options.supabaseAccessToken, options.projectRef);
  validatePitrInputs(context.config.drill.pitr, options.supabaseAccessToken);
  const storageEndpoint = readStorageEndpoint(context.config.drill.storage?.s3, context.env);
  const copyTests = findCopyTests(options, context.cwd, context.config);
  await using cleanup = cleanupStack();
  const state = createState(options, context, mode, cleanup);
  try {
    const { fetched, targeted, inert } = await restoreCopy(state);
    if (targeted && inert) await verifyCopy(targeted, inert);
    state.phases.skipRest();
    await measureObjectives(state);
    if (targeted && inert) await testCopy(targeted, copyTests);
    if (targeted && inert) await checkStorageFiles(targeted, storageEndpoint);
    await exportMasked(state);
    if (targeted && inert && state.config['rehearse-migrations']) await rehearseOnCopy(state, targeted.target.url);
    summarise(state);
    recordDrill(state);
    context.log.info(
      `restore-drill: RTO ${formatDuration(state.rtoMs!)}${state.rpoMs !== undefined ? `, RPO ${formatDuration(state.rpoMs)}` : ''}, ${formatBytes(fetched.artifact.sizeBytes, 'short')} ${FORMAT_LABELS[fetched.artifact.format]}`,
    );
    // Summary, phases and checks first: the report shows details in this order.
    const { summary, ...details } = state.details;
    return { findings: dedupe(state.findings), metrics: state.metrics, details: { summary, phases: state.phases.timings, checks: state.checks, ...details } };
  } catch (error) {
    recordFailedDrill(state, error);
    throw error;
  }
}

export interface RestoredCopy {
  fetched: Fetched;
  /** Set when the checksum phase passed (the backup was restored into it, if `restoreRan`). */
  targeted?: Targeted;
  /** Set when the backup was restored and the copy made inert: only then may anything run on it. */
  inert?: InertCopy;
}

/**
 * The drill's first phases, which drift-gate's rehearsal reuses: fetch (which also starts the
 * restore target in the background), checksum, create target, restore, neutralise.
 */
export async function restoreCopy(state: DrillState): Promise<RestoredCopy> {
  const fetched = await fetchSource(state);
  if (!(await checksum(fetched))) return { fetched };
  const targeted = await awaitTarget(fetched);
  await restoreBackup(targeted);
  const inert = targeted.restoreRan ? await neutraliseCopy(targeted) : undefined;
  return { fetched, targeted, ...(inert ? { inert } : {}) };
}

/**
 * `drill.rehearse-migrations`: after the verification and the export, the repository's
 * migrations that the copy's history lacks are applied to it and measured, as drift-gate's
 * `rehearse-from` does (rehearse-pending.ts).
 */
async function rehearseOnCopy(state: DrillState, url: string): Promise<void> {
  const { context } = state;
  const project = context.config.project;
  const format = project['migrations-format'] ? assertFormat(project['migrations-format'], 'project.migrations-format') : 'auto';
  const source = readMigrations(resolveMigrationsDir(project['migrations-dir'], context.cwd, 'project.migrations-dir'), { cwd: context.cwd, format });
  const rehearsal = await rehearsePending(url, source, {
    lockThresholdMs: lockThresholdMs(context.config),
    log: context.log,
    inputName: state.mode.kind === 'live' ? 'source-database-url' : 'dump-path',
  });
  state.findings.push(...rehearsal.findings);
  Object.assign(state.metrics, rehearsal.metrics);
  Object.assign(state.details, rehearsal.details);
}

/**
 * checksum: the recorded SHA-256 (artifact.ts), then, for a plain backup that matches, the psql
 * commands in its SQL (restore.ts). True when the backup may be restored.
 */
async function checksum(state: Fetched): Promise<boolean> {
  const { options, manifest } = state;
  if (state.mode.kind === 'live') {
    // The backup goes straight from this drill's pg_dump to its pg_restore and is deleted after:
    // there is no recorded checksum to compare with, and hashing it would prove nothing.
    state.phases.skip('checksum');
    state.details.artifact = { sha256: null, checksum: 'not needed: the backup was taken by this drill, restored at once and then deleted' };
    return true;
  }
  const scripts = backupScripts(state.artifact);
  let scanned: { ok: boolean; summary: string } | undefined;
  const checksumOk = await state.phases.run(
    'checksum',
    `SHA-256 of the backup${scripts.length ? ', psql commands in its SQL' : ''}`,
    async () => {
      const matches = await verifyChecksums(state);
      if (matches && scripts.length) scanned = await scanScripts(state, scripts);
      return matches;
    },
    (ok) => (ok ? undefined : 'the backup does not match its recorded checksum'),
  );
  state.details.artifact = {
    sha256: state.digest?.sha256 ?? null,
    checksum: options.checksumPath || options.sha256 || manifest ? (checksumOk ? 'verified' : 'MISMATCH') : 'recorded (nothing to compare with)',
    ...(scanned ? { psql_commands: scanned.summary } : {}),
  };
  return checksumOk && (scanned?.ok ?? true);
}

/** The report's summary of the objectives, and the metrics every drill reports. */
function summarise(state: DrillState): void {
  const { metrics, backupTime, rtoMs, rpoMs } = state;
  state.details.summary = {
    rto_ms: rtoMs,
    rto_target_ms: state.rtoTarget ?? null,
    rpo_ms: rpoMs ?? null,
    rpo_target_ms: state.rpoTarget ?? null,
    backup_taken_at: backupTime?.takenAt ?? null,
    rpo_source: backupTime?.source ?? 'unknown',
  };
  metrics.rto_ms = rtoMs!;
  if (rpoMs !== undefined) metrics.rpo_ms = rpoMs;
  for (const timing of state.phases.timings) metrics[`${timing.phase.replace(/ /g, '_')}_ms`] = timing.duration_ms;
  metrics.checks_failed = state.checks.filter((c) => c.status === 'fail').length;
}

/** One finding per rule and object (the restore's and the verification's views of one missing extension). */
function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => (seen.has(f.key) ? false : (seen.add(f.key), true)));
}

/** Backup mode (`--write-manifest`): dump the source into dump-path and write the manifest. */
async function backupWithManifest(options: DrillOptions, context: GateContext): Promise<GateOutput> {
  if (!options.sourceDatabaseUrl || !options.dumpPath) {
    throw new UserError(
      '`--write-manifest` writes a new backup and its manifest: give `--source-database-url` (the database) and `--dump-path` (where the backup goes).',
    );
  }
  const output = path.resolve(context.cwd, options.dumpPath);
  // A Supabase source's platform data (auth users, storage objects) goes beside the backup, as in a live drill.
  const platformDataFile = `${output}.platform.dump`;
  for (const file of [output, platformDataFile]) {
    if (existsSync(file))
      throw new UserError(
        `\`--dump-path\` ${output} (or ${path.basename(platformDataFile)} beside it) already exists; with \`--write-manifest\` postgate writes a new backup there, so choose a new path.`,
      );
  }
  const format = /\.(dump|backup|custom)$/.test(output)
    ? 'custom'
    : output.endsWith('.tar')
      ? 'tar'
      : output.endsWith('.sql.gz')
        ? 'plain-gzip'
        : output.endsWith('.sql')
          ? 'plain'
          : 'directory';
  const backup = await context.log.step(`backup: pg_dump --snapshot (${format}) into ${output}`, () =>
    takeLiveBackup({
      url: options.sourceDatabaseUrl!,
      output,
      format,
      jobs: Math.max(1, options.jobs),
      checksumTables: context.config.drill['checksum-tables'],
      platformDataFile,
      throwaway: false,
    }),
  );
  const digest = await digestArtifact(backup.artifact);
  const platformData = backup.platformDataFile
    ? { file: path.basename(backup.platformDataFile), sha256: await sha256File(backup.platformDataFile) }
    : undefined;
  const manifestPath = path.resolve(context.cwd, options.writeManifest!);
  writeManifest(manifestPath, {
    postgate_manifest: 1,
    created_at: context.now().toISOString(),
    backup_taken_at: backup.takenAt,
    snapshot: backup.snapshot,
    source: { label: backup.label, server_version: backup.serverVersion, supabase: backup.supabase },
    artifact: {
      file: path.basename(output),
      format: backup.artifact.format,
      size_bytes: backup.artifact.sizeBytes,
      sha256: digest.sha256,
      ...(digest.files ? { files: digest.files } : {}),
    },
    ...(platformData ? { platform_data: platformData } : {}),
    tool: backup.tool,
    facts: backup.facts,
    ...(backup.schema ? { schema: { fingerprint: backup.schema.fingerprint, snapshot: backup.schema.snapshot } } : {}),
  });
  const rows = backup.facts.tables.reduce((sum, t) => sum + t.rows, 0);
  return {
    findings: [],
    metrics: { size_bytes: backup.artifact.sizeBytes, tables: backup.facts.tables.length, rows },
    details: {
      backup: {
        path: output,
        format: FORMAT_LABELS[backup.artifact.format],
        size_bytes: backup.artifact.sizeBytes,
        sha256: digest.sha256,
        backup_taken_at: backup.takenAt,
        manifest: manifestPath,
        ...(platformData ? { platform_data: path.join(path.dirname(output), platformData.file) } : {}),
        tables: backup.facts.tables.length,
        rows,
      },
    },
  };
}
