/**
 * restore-drill: restore a backup into throwaway PostgreSQL, make the copy inert, prove it is
 * complete, measure RTO and RPO against targets, and keep a drill log.
 *
 *   fetch       take the backup now (live: pg_dump --snapshot) or inspect the file
 *   checksum    SHA-256 against checksum-path / sha256 / the manifest; archive TOC readable
 *   create target   ephemeral cluster or a scratch database on target-database-url
 *   restore     Supabase baseline when needed, then pg_restore -j / psql
 *   neutralise  pg_cron jobs off, pg_net queue emptied, webhook triggers disabled
 *   verify      schema, row counts, key checksums, extensions, RLS, triggers, migration
 *               version, expected settings, smoke queries
 *
 * Then RTO/RPO against the targets, optional masking and export, the drill log and
 * `max-days-since-green`. The target is always cleaned up. `--write-manifest` is the backup
 * mode: dump the source into dump-path and write the manifest, without a restore.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillOptions } from '../../config/gates.ts';
import { formatDuration } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import { applyAllowlist } from '../../findings/allowlist.ts';
import { rulesOfGate } from '../../findings/rules.ts';
import { countBySeverity, type Finding, finding, type GateResult, type GateStatus, verdict } from '../../findings/types.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../../postgres/baseline/apply.ts';
import { connect, type Session } from '../../postgres/connect.ts';
import type { ClusterProfile } from '../../postgres/ephemeral/index.ts';
import { reapOrphans, trackTempDir } from '../../postgres/ephemeral/registry.ts';
import { resolveClientTool, runClientTool } from '../../postgres/tools.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import type { StepFailure } from '../step.ts';
import { ARCHIVE_FORMATS, type Artifact, type ArtifactDigest, compareChecksums, digestArtifact, FORMAT_LABELS, inspectArtifact, majorOfVersion, textHead } from './artifact.ts';
import { collectFacts, type DatabaseFacts, PINNED_SETTINGS_SQL, SUPABASE_PLATFORM_SCHEMAS } from './facts.ts';
import { appendDrillLog, daysSinceGreen, type DrillLogEntry, historyRows, readDrillLog, runContext } from './log.ts';
import { type Manifest, readManifest, writeManifest } from './manifest.ts';
import { applyMasks, exportFormatArgs, type MaskResult, parseMaskRules } from './mask.ts';
import { makeInert } from './neutralise.ts';
import {
  backupScripts,
  formatBytes,
  readToc,
  restoreArchive,
  restorePlain,
  restorePlatformData,
  restoreRolesFile,
  type RestoreOutcome,
  type RestoreProblem,
  restoreSupabaseFiles,
  scanBackupScripts,
  type TocSummary,
  type UntrustedLine,
} from './restore.ts';
import { type BackupTime, supabaseBackupTime, validateSupabaseApiInputs } from './rpo.ts';
import './rules.ts';
import { CLEAR_DEFAULT_PRIVILEGES_SQL } from './target.ts';
import { asRestored, compareSchemas, type ExpectedSchema, readSchema } from './schema.ts';
import { type LiveBackup, takeLiveBackup } from './source.ts';
import { createRestoreTarget, type RestoreTarget } from './target.ts';
import { type Check, checkExpectedSettings, compareFacts, runSmokeQueries } from './verify.ts';

export const PHASES = ['fetch', 'checksum', 'create target', 'restore', 'neutralise', 'verify'] as const;
export type Phase = (typeof PHASES)[number];

/** Environment variable overriding the Supabase Management API base URL (tests, proxies). */
export const SUPABASE_API_URL_ENV = 'POSTGATE_SUPABASE_API_URL';

export async function run(options: DrillOptions, context: GateContext): Promise<GateResult> {
  return runGate('drill', options, context, () => (options.writeManifest ? backupWithManifest(options, context) : drill(options, context)));
}

type Mode = { kind: 'live'; url: string } | { kind: 'file'; path: string; manifest?: string };

function chooseMode(options: DrillOptions, cwd: string): Mode {
  const live = options.sourceDatabaseUrl;
  const file = options.dumpPath;
  if (live && file) {
    throw new UserError(
      'Inputs `source-database-url` and `dump-path` were both given; use `source-database-url` to take the backup now, or `dump-path` to restore an existing backup (with both, add `--write-manifest` to write a backup and its manifest).',
    );
  }
  if (!live && !file) throw new UserError('Nothing to restore: set `source-database-url` (take the backup now) or `dump-path` (an existing backup).');
  if (live) {
    for (const [name, value] of [['checksum-path', options.checksumPath], ['sha256', options.sha256], ['manifest', options.manifest]] as const) {
      if (value) throw new UserError(`Input \`${name}\` applies to \`dump-path\` drills; drop it, since a live drill computes everything from the source itself.`);
    }
    return { kind: 'live', url: live };
  }
  return { kind: 'file', path: path.resolve(cwd, file!), ...(options.manifest ? { manifest: path.resolve(cwd, options.manifest) } : {}) };
}

interface PhaseTiming {
  phase: Phase;
  duration_ms: number;
  status: 'done' | 'failed' | 'skipped';
  /** Set when the phase ran alongside another one (the restore target starts while the backup is fetched). */
  note?: string;
}

/** Runs the phases, records their times, and remembers what was skipped and why. */
function phaseRunner(context: GateContext) {
  const timings: PhaseTiming[] = [];
  return {
    timings,
    /** A phase failed when `fn` throws or `failure` finds a failure in what it returned (progress and timings say so). */
    async run<T>(phase: Phase, title: string, fn: () => Promise<T>, failure?: StepFailure<T>): Promise<T> {
      const started = performance.now();
      let status: PhaseTiming['status'] = 'failed';
      try {
        const result = await context.log.step(`${phase}: ${title}`, fn, failure);
        status = failure?.(result) === undefined ? 'done' : 'failed';
        return result;
      } finally {
        timings.push({ phase, duration_ms: Math.round(performance.now() - started), status });
      }
    },
    skip(phase: Phase): void {
      timings.push({ phase, duration_ms: 0, status: 'skipped' });
    },
    /** A phase that ran in the background: its own duration, recorded when it is awaited. */
    async background<T>(phase: Phase, title: string, work: { promise: Promise<T>; durationMs: () => number }, note: string): Promise<T> {
      let status: PhaseTiming['status'] = 'failed';
      try {
        const result = await context.log.step(`${phase}: ${title} (${note})`, () => work.promise);
        status = 'done';
        return result;
      } finally {
        timings.push({ phase, duration_ms: Math.round(work.durationMs()), status, note });
      }
    },
  };
}

/** The restore phase failed when a statement of the backup failed or the backup held psql commands. */
function restoreFailure(outcome: RestoreOutcome): string | undefined {
  const failed = outcome.problems.reduce((sum, p) => sum + p.count, 0);
  if (outcome.untrusted?.length) return `${outcome.untrusted.length} line(s) with psql commands pg_dump never writes`;
  return failed ? `${failed} statement(s) of the backup failed` : undefined;
}

/** Messages of statements only a superuser may run (SQLSTATE 42501 as PostgreSQL words it). */
const NEEDS_SUPERUSER = /must be superuser|permission denied|must be owner|must have privileges of|must be able to SET ROLE/i;

function problemFinding(problem: RestoreProblem, context: { artifact: Artifact; supabase: boolean; baselineApplied: boolean; server: string; restoredAsPlatformRole?: boolean }): Finding {
  const counted = problem.count > 1 ? ` (${problem.count} statements failed this way)` : '';
  const example = problem.example ? `first failure: ${problem.example}` : undefined;
  switch (problem.kind) {
    case 'role':
      return finding({
        rule: 'drill_role_missing',
        severity: 'error',
        object: { kind: 'role', name: problem.name! },
        message: `Role ${problem.name} does not exist on the restore target, so statements that need it failed${counted}.`,
        ...(example ? { detail: example } : {}),
        remediation: context.supabase
          ? context.baselineApplied
            ? `Restore the roles file (supabase db dump --role-only > roles.sql) with the backup, or restore into a supabase/postgres image.`
            : `Set \`drill.baseline: auto\` in the repo config so postgate creates Supabase's roles first, or restore into a supabase/postgres image (shadow: docker, image: supabase/postgres:<tag>).`
          : 'Keep a roles file with the backup (pg_dumpall --roles-only --no-role-passwords) and restore it first, or create the role on the restore target.',
      });
    case 'extension':
      return finding({
        rule: 'drill_extension_missing',
        severity: 'error',
        object: { kind: 'extension', name: problem.name! },
        message: `Extension ${problem.name} is not available on the restore target (${context.server}), so it and everything that depends on it failed to restore${counted}.`,
        remediation: context.supabase
          ? `Restore into a supabase/postgres image that ships ${problem.name} (shadow: docker, image: supabase/postgres:<tag>), or install it on the restore server.`
          : `Install ${problem.name} on the restore server (e.g. apt-get install postgresql-<major>-${problem.name}), or restore with shadow: docker and an image that has it.`,
      });
    case 'schema':
      return finding({
        rule: 'drill_restore_error',
        severity: 'error',
        object: { kind: 'schema', name: problem.name! },
        message: `Schema ${problem.name} does not exist on the restore target, so statements that use it failed${counted}.`,
        ...(example ? { detail: example } : {}),
        remediation: SUPABASE_PLATFORM_SCHEMAS.includes(problem.name!)
          ? `${problem.name} is a Supabase platform schema: set \`drill.baseline: auto\` (or supabase) so postgate applies its Supabase baseline first, or restore into a supabase/postgres image.`
          : `Make sure the backup creates schema ${problem.name} (pg_dump --schema options) before the objects in it.`,
      });
    case 'corrupt':
      return finding({
        rule: 'drill_artifact_corrupt',
        severity: 'error',
        object: { kind: 'file', name: path.basename(context.artifact.path) },
        message: `${path.basename(context.artifact.path)} is truncated or unreadable: ${problem.message}.`,
        remediation: 'Take a new backup and record its SHA-256 at creation (sha256sum), so the next drill catches this before the restore; check the backup job for a full disk or an interrupted upload.',
      });
    case 'other': {
      const platformRefused = context.restoredAsPlatformRole && NEEDS_SUPERUSER.test(problem.message);
      return finding({
        rule: 'drill_restore_error',
        severity: 'error',
        object: { kind: 'statement', name: problem.message.slice(0, 120) },
        message: `A statement of the backup failed during the restore: ${problem.message}${counted}.${
          platformRefused ? ' The backup was loaded as a restore into Supabase loads it, by `postgres`, which is not a superuser (the superuser is `supabase_admin`), so this statement fails there too.' : ''
        }`,
        ...(example ? { detail: example } : {}),
        remediation: platformRefused
          ? 'Find out how a statement that needs a superuser came into the backup (an object owned by a platform role, a tampered file) and take the backup again with supabase db dump; if the platform restores it another way, allowlist this finding with the reason.'
          : 'Fix the cause in the restore target or the backup; if it is known and harmless, allowlist this finding with the reason.',
      });
    }
  }
}

/** At most this many lines are named one by one; the rest are counted in one more finding. */
const UNTRUSTED_NAMED = 20;

/** The meta-command's name as psql reads it (the backslash and what follows up to a space or backslash). */
function commandName(text: string): string {
  return /^\\[^\s\\]{0,24}/.exec(text)?.[0] ?? text.slice(0, 24);
}

/**
 * One finding per line of a plain backup that holds a psql command pg_dump never writes (or a
 * layout it never produces). The backup is not restored: psql would have run them on the runner.
 */
function untrustedFindings(lines: readonly UntrustedLine[]): Finding[] {
  const remediation =
    'Do not load this file with psql. Find out how it came to hold psql commands (a tampered file, or a backup job that is not pg_dump), take a new backup with pg_dump or supabase db dump, and record its SHA-256 when it is made.';
  const named = lines.slice(0, UNTRUSTED_NAMED).map((u) =>
    finding({
      rule: 'drill_backup_untrusted_command',
      severity: 'error',
      object: { kind: 'file', name: `${u.file}:${u.line}` },
      message: u.why
        ? `Line ${u.line} of ${u.file} holds ${u.why}, which pg_dump never writes, so the backup was not restored.`
        : `Line ${u.line} of ${u.file} holds the psql command ${commandName(u.text)}, which pg_dump never writes and psql would run on the runner, so the backup was not restored.`,
      detail: u.text,
      remediation,
    }),
  );
  if (lines.length > named.length) {
    const rest = lines.slice(named.length);
    named.push(
      finding({
        rule: 'drill_backup_untrusted_command',
        severity: 'error',
        object: { kind: 'file', name: `${rest[0]!.file}:more` },
        message: `${rest.length} more line(s) hold psql commands pg_dump never writes (first: line ${rest[0]!.line} of ${rest[0]!.file}).`,
        remediation,
      }),
    );
  }
  return named;
}

/** Does a plain dump or archive come from a Supabase project? (Its roles, schemas or migration table.) */
function looksLikeSupabase(artifact: Artifact, toc: TocSummary | undefined): boolean {
  if (artifact.format === 'supabase') return true;
  const marker = /\b(supabase_admin|supabase_migrations|service_role|authenticated)\b/;
  if (toc) return toc.owners.some((o) => o.startsWith('supabase_')) || toc.schemas.includes('supabase_migrations') || toc.schemas.includes('auth');
  return marker.test(textHead(artifact, 4 * 1024 * 1024));
}

/**
 * The restore target's role model: a Supabase backup that gets the Supabase baseline in a cluster
 * of postgate's own is loaded as Supabase loads it, by the non-superuser `postgres` (the
 * baseline itself by the superuser `supabase_admin`), so a statement that needs a superuser fails
 * here as it fails on the platform. An image or a given server keeps its own roles.
 */
function restoreProfile(baseline: 'auto' | 'supabase' | 'none', supabase: boolean, options: DrillOptions): ClusterProfile {
  const wantsBaseline = baseline === 'supabase' || (baseline === 'auto' && supabase);
  return wantsBaseline && !options.image && !options.targetDatabaseUrl ? 'supabase' : 'postgres';
}

/**
 * `supabase db dump` files are loaded the way Supabase documents restoring them, with psql as the
 * project's `postgres`, which is not a superuser. Archives and pg_dump SQL are restored as the
 * platform restores its own backups, by the superuser.
 */
function loadsAsPlatformRole(artifact: Artifact, target: RestoreTarget): boolean {
  return artifact.format === 'supabase' && target.profile === 'supabase';
}

/** Extensions the backup creates (for the baseline's report of what this server lacks). */
function createdExtensions(artifact: Artifact, toc: TocSummary | undefined): string[] {
  if (toc) return toc.extensions;
  return findCreatedExtensions(textHead(artifact, 8 * 1024 * 1024));
}

async function openSessions(url: string, count: number): Promise<Session[]> {
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const session = await connect(url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
      sessions.push(session);
      await session.query(PINNED_SETTINGS_SQL);
    }
    return sessions;
  } catch (error) {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    throw error;
  }
}

function provisionalStatus(findings: readonly Finding[], options: DrillOptions, context: GateContext): GateStatus {
  const { findings: kept } = applyAllowlist(findings, context.config.allowlist, {
    knownRules: new Set(rulesOfGate('drill').map((rule) => rule.id)),
    today: context.now().toISOString().slice(0, 10),
  });
  return verdict(kept, options.failOn);
}

async function drill(options: DrillOptions, context: GateContext): Promise<GateOutput> {
  const config = context.config.drill;
  const mode = chooseMode(options, context.cwd);
  // what a killed earlier run left (a pg_dump still running, its dump directory) goes first
  reapOrphans();
  validateSupabaseApiInputs(options.supabaseAccessToken, options.projectRef);
  const startedAt = context.now();
  const clockStart = performance.now();
  const phases = phaseRunner(context);
  const findings: Finding[] = [];
  const checks: Check[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const details: Record<string, unknown> = {};
  const metrics: Record<string, number> = {};
  const logPath = options.logPath ? path.resolve(context.cwd, options.logPath) : undefined;
  const log = logPath ? readDrillLog(logPath) : undefined;
  const checksumTables = config['checksum-tables'];
  const jobs = Math.max(1, options.jobs);

  let artifact: Artifact | undefined;
  let digest: ArtifactDigest | undefined;
  let live: LiveBackup | undefined;
  let manifest: Manifest | undefined;
  let rtoMs: number | undefined;
  let backupTime: BackupTime | undefined;
  let sourceLabel = mode.kind === 'live' ? 'live database' : path.basename(mode.path);
  let sourceVersion: string | undefined;

  // The restore target starts while the backup is fetched (live) or checksummed (file), as a
  // real recovery provisions the server while the backup downloads; it is awaited after the
  // checksum and stopped in every case.
  let targetWork: { promise: Promise<RestoreTarget>; durationMs: () => number } | undefined;
  const startTarget = (sourceMajor: number | undefined, supabase: boolean) => {
    if (targetWork) return;
    const started = performance.now();
    let finished: number | undefined;
    const promise = createRestoreTarget({
      profile: restoreProfile(config.baseline, supabase, options),
      ...(options.targetDatabaseUrl ? { targetDatabaseUrl: options.targetDatabaseUrl } : {}),
      targetIsDisposable: options.targetIsDisposable,
      shadow: options.shadow,
      ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
      ...(options.image ? { image: options.image } : {}),
      ...(options.postgresVersion !== undefined ? { requestedMajor: options.postgresVersion } : {}),
      ...(sourceMajor !== undefined ? { sourceMajor } : {}),
    });
    promise.then(
      (target) => {
        finished = performance.now();
        cleanups.push(() => target.stop());
      },
      () => {
        finished = performance.now();
      },
    );
    targetWork = { promise, durationMs: () => (finished ?? performance.now()) - started };
  };

  const logEntry = (status: GateStatus, error?: string): DrillLogEntry => {
    const counts = countBySeverity(findings);
    const rpoMs = backupTime ? Math.max(0, startedAt.getTime() - Date.parse(backupTime.takenAt)) : undefined;
    return {
      drill_id: randomUUID(),
      started_at: startedAt.toISOString(),
      finished_at: context.now().toISOString(),
      status,
      ...runContext(context.env),
      source: { kind: mode.kind, label: sourceLabel, ...(artifact ? { format: artifact.format } : {}), ...(sourceVersion ? { server_version: sourceVersion } : {}) },
      ...(digest && artifact ? { artifact: { sha256: digest.sha256, size_bytes: artifact.sizeBytes } } : {}),
      ...(backupTime ? { backup_taken_at: backupTime.takenAt, rpo_ms: rpoMs, rpo_source: backupTime.source } : {}),
      ...(rtoMs !== undefined ? { rto_ms: rtoMs } : {}),
      phases: Object.fromEntries(phases.timings.filter((t) => t.status !== 'skipped').map((t) => [t.phase, t.duration_ms])),
      checks: {
        passed: checks.filter((c) => c.status === 'pass').length,
        failed: checks.filter((c) => c.status === 'fail').length,
        skipped: checks.filter((c) => c.status === 'skipped').length,
      },
      findings: counts,
      ...(error ? { error } : {}),
    };
  };

  try {
    // fetch
    if (mode.kind === 'live') {
      const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-drill-'));
      // tracked like a cluster, so a SIGTERM or a later reap removes the backup too
      cleanups.push(trackTempDir(work));
      live = await phases.run('fetch', 'take the backup now (pg_dump --snapshot, directory format)', () =>
        takeLiveBackup({
          url: mode.url,
          output: path.join(work, 'dump'),
          format: 'directory',
          jobs,
          checksumTables,
          rolesFile: path.join(work, 'roles.sql'),
          platformDataFile: path.join(work, 'platform-data.dump'),
          noSync: true,
          onDumpStarting: (source) => startTarget(source.serverMajor, source.supabase),
        }),
      );
      artifact = live.artifact;
      sourceLabel = live.label;
      sourceVersion = live.serverVersion;
      backupTime = { takenAt: live.takenAt, source: 'live snapshot (taken by this drill: says nothing about your scheduled backups)' };
    } else {
      const file = mode;
      ({ artifact, manifest } = await phases.run('fetch', `read ${path.basename(file.path)}`, async () => ({
        artifact: inspectArtifact(file.path),
        manifest: file.manifest ? readManifest(file.manifest) : undefined,
      })));
      if (artifact.header.clusterDump) {
        throw new UserError(
          `Input \`dump-path\` names ${artifact.path}, a pg_dumpall cluster dump (several databases, with \\connect between them); restore-drill restores one database: dump it with pg_dump (or supabase db dump) and drill that file.`,
        );
      }
      sourceVersion = artifact.header.sourceVersion ?? manifest?.source.server_version;
      if (manifest) backupTime = { takenAt: manifest.backup_taken_at, source: 'manifest' };
      else if (artifact.header.createdAt) {
        backupTime = { takenAt: artifact.header.createdAt, source: artifact.header.createdAtAssumedUtc ? 'dump header (dumping machine\'s local time, read as UTC)' : 'dump header' };
      }
    }
    const theArtifact = artifact;
    details.source = {
      kind: mode.kind,
      label: sourceLabel,
      format: FORMAT_LABELS[theArtifact.format],
      size_bytes: theArtifact.sizeBytes,
      server_version: sourceVersion ?? null,
      dumped_by: live?.tool ?? (theArtifact.header.dumpVersion ? `pg_dump ${theArtifact.header.dumpVersion}` : null),
    };
    metrics.size_bytes = theArtifact.sizeBytes;

    const sourceMajor = live?.serverMajor ?? majorOfVersion(sourceVersion);
    // An archive says whether it is a Supabase one in its table of contents (read again, and
    // reported if unreadable, once the target's major is known).
    let toc: TocSummary | undefined = !live && !manifest && config.baseline === 'auto' && ARCHIVE_FORMATS.includes(theArtifact.format)
      ? (await readToc(theArtifact, sourceMajor ?? 0).catch(() => undefined))?.toc
      : undefined;
    startTarget(sourceMajor, live?.supabase ?? manifest?.source.supabase ?? looksLikeSupabase(theArtifact, toc));

    // checksum
    // A plain backup is untrusted input even when its checksum matches: psql would run any
    // meta-command in it on the runner. Every script is read before anything is restored.
    const scripts = backupScripts(theArtifact);
    let scriptsOk = true;
    let scanned: string | undefined;
    const checksumOk = await phases.run('checksum', `SHA-256 of the backup${scripts.length ? ', psql commands in its SQL' : ''}`, async () => {
      digest = await digestArtifact(theArtifact);
      const mismatches = compareChecksums(theArtifact, digest, {
        ...(options.checksumPath ? { checksumPath: path.resolve(context.cwd, options.checksumPath) } : {}),
        ...(options.sha256 ? { sha256: options.sha256 } : {}),
      });
      if (manifest && manifest.artifact.sha256 !== digest.sha256) {
        const files = manifest.artifact.files && digest.files
          ? Object.keys({ ...manifest.artifact.files, ...digest.files }).filter((f) => manifest!.artifact.files![f] !== digest!.files![f])
          : [path.basename(theArtifact.path)];
        for (const file of files) mismatches.push({ file, expected: manifest.artifact.files?.[file] ?? manifest.artifact.sha256, actual: digest.files?.[file] ?? digest.sha256 });
      }
      for (const mismatch of mismatches) {
        findings.push(
          finding({
            rule: 'drill_checksum_mismatch',
            severity: 'error',
            object: { kind: 'file', name: mismatch.file },
            message: `${mismatch.file} does not match its recorded SHA-256 (expected ${mismatch.expected.slice(0, 12)}…, got ${mismatch.actual === 'missing' ? 'no such file' : `${mismatch.actual.slice(0, 12)}…`}), so the backup was changed or cut short after it was made; it was not restored.`,
            remediation: 'Find out how the file changed (interrupted upload, retention job, tampering) and take a new backup with its checksum recorded at creation.',
          }),
        );
      }
      if (mismatches.length === 0 && scripts.length) {
        const scan = await scanBackupScripts(scripts);
        findings.push(...untrustedFindings(scan.untrusted));
        const [nul] = scan.nul;
        if (nul) {
          const more = scan.nul.length > 1 ? ` (and ${scan.nul.length - 1} more line(s))` : '';
          findings.push(problemFinding({ kind: 'corrupt', message: `line ${nul.line} of ${nul.file} holds a NUL byte, which no SQL text has${more}`, count: 1 }, { artifact: theArtifact, supabase: false, baselineApplied: false, server: '' }));
        }
        scriptsOk = scan.untrusted.length === 0 && scan.nul.length === 0;
        scanned = scan.untrusted.length ? `${scan.untrusted.length} line(s) with psql commands pg_dump never writes: not restored` : 'only what pg_dump writes';
      }
      return mismatches.length === 0;
    }, (ok) => (ok ? undefined : 'the backup does not match its recorded checksum'));
    details.artifact = {
      sha256: digest?.sha256 ?? null,
      checksum: options.checksumPath || options.sha256 || manifest ? (checksumOk ? 'verified' : 'MISMATCH') : 'recorded (nothing to compare with)',
      ...(scanned ? { psql_commands: scanned } : {}),
    };

    let target: RestoreTarget | undefined;
    let restoreRan = false;
    let inert = false;
    if (checksumOk && scriptsOk) {
      target = await phases.background('create target', 'throwaway database', targetWork!, mode.kind === 'live' ? 'started while the backup was taken' : 'started while the backup was checksummed');
      const theTarget = target;
      details.target = {
        provider: theTarget.provider,
        server_version: theTarget.version,
        restored_as: loadsAsPlatformRole(theArtifact, theTarget) ? `${theTarget.restoreAs.user} (not a superuser, as on Supabase)` : theTarget.target.user,
        ...(theTarget.note ? { note: theTarget.note } : {}),
      };

      /** An archive's table of contents must be readable (pg_restore -l); unreadable is a corrupt backup. */
      const readArchiveToc = async (): Promise<boolean> => {
        if (toc || !ARCHIVE_FORMATS.includes(theArtifact.format)) return true;
        const read = await readToc(theArtifact, theTarget.major);
        if (read.problem) {
          findings.push(problemFinding(read.problem, { artifact: theArtifact, supabase: false, baselineApplied: false, server: `PostgreSQL ${theTarget.version}` }));
          return false;
        }
        toc = read.toc;
        return true;
      };
      const dumpMajor = Math.max(sourceMajor ?? 0, 0);
      if (dumpMajor > theTarget.major) {
        findings.push(
          finding({
            rule: 'drill_dump_newer_than_target',
            severity: 'error',
            object: { kind: 'file', name: path.basename(theArtifact.path) },
            message: `The backup comes from PostgreSQL ${sourceVersion ?? dumpMajor} but the restore target runs PostgreSQL ${theTarget.version}; a dump only loads into the same or a newer major, so it was not restored.`,
            remediation: `Restore into PostgreSQL ${dumpMajor} or newer: set \`postgres-version: ${dumpMajor}\` (with its binaries installed), or use \`shadow: docker\`.`,
          }),
        );
      } else if (await readArchiveToc()) {
        restoreRan = true;
        const supabase = live?.supabase ?? manifest?.source.supabase ?? looksLikeSupabase(theArtifact, toc);
        const baselineMode = config.baseline;
        let baselineApplied = false;
        const outcome: RestoreOutcome = await phases.run('restore', `${FORMAT_LABELS[theArtifact.format]} into PostgreSQL ${theTarget.version}${jobs > 1 ? ` (${jobs} jobs)` : ''}`, async () => {
          const wantsBaseline = baselineMode === 'supabase' || (baselineMode === 'auto' && supabase);
          if (wantsBaseline && !theTarget.supabaseImage) {
            if (theTarget.mayCreateRoles) {
              const admin = await connect(theTarget.url, { gate: 'drill', readOnly: false, inputName: 'target' });
              try {
                const baseline = await applySupabaseBaseline(admin, { requiredExtensions: createdExtensions(theArtifact, toc) });
                // The baseline's default privileges would grant anon/authenticated on every
                // restored object, on top of the grants pg_dump recorded; the dump restores the
                // source's own default privileges at its end.
                await admin.query(CLEAR_DEFAULT_PRIVILEGES_SQL);
                baselineApplied = true;
                details.baseline = { applied: true, missing_extensions: baseline.missingExtensions, stand_ins: baseline.standIns };
              } finally {
                await admin.end().catch(() => undefined);
              }
            } else {
              details.baseline = { applied: false, reason: 'target-database-url is not disposable: roles are cluster-wide, so postgate does not create them there' };
            }
          }
          const asSuperuser = { target: theTarget.target, targetMajor: theTarget.major, jobs, log: context.log };
          const restoreContext = loadsAsPlatformRole(theArtifact, theTarget) ? { ...asSuperuser, target: theTarget.restoreAs } : asSuperuser;
          if (live?.rolesFile && !supabase && theTarget.mayCreateRoles && existsSync(live.rolesFile)) {
            // A help, not part of the backup: its failures (roles that exist already) are not findings.
            await restoreRolesFile(live.rolesFile, asSuperuser);
          }
          if (toc) {
            const tool = await resolveClientTool('pg_restore', { minMajor: majorOfVersion(theArtifact.header.dumpVersion) ?? 0, serverMajor: theTarget.major, purpose: `restore ${path.basename(theArtifact.path)}` });
            const platform = live?.platformDataFile && (baselineApplied || theTarget.supabaseImage) ? await restorePlatformData(live.platformDataFile, tool, asSuperuser) : undefined;
            const main = await restoreArchive(theArtifact, toc, tool, restoreContext);
            return platform ? { ...main, problems: [...platform.problems, ...main.problems], ignored: main.ignored + platform.ignored } : main;
          }
          if (theArtifact.format === 'supabase') return restoreSupabaseFiles(theArtifact, restoreContext);
          return restorePlain(theArtifact, restoreContext);
        }, restoreFailure);
        for (const problem of outcome.problems) {
          findings.push(problemFinding(problem, { artifact: theArtifact, supabase, baselineApplied, server: `PostgreSQL ${theTarget.version} (${theTarget.provider})`, restoredAsPlatformRole: loadsAsPlatformRole(theArtifact, theTarget) }));
        }
        if (outcome.untrusted) findings.push(...untrustedFindings(outcome.untrusted));
        details.restore = {
          tools: outcome.tools,
          failed_statements: outcome.problems.reduce((sum, p) => sum + p.count, 0),
          ...(outcome.ignored ? { harmless_errors: outcome.ignored } : {}),
          ...(outcome.cascaded ? { follow_on_errors: outcome.cascaded } : {}),
        };
        metrics.restore_ms = phases.timings.at(-1)?.duration_ms ?? 0;

        // neutralise, before anything else touches the copy
        const copy = await connect(theTarget.url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
        cleanups.push(() => copy.end().catch(() => undefined));
        let disabled: Record<string, string> = {};
        let deleted: Record<string, number> = {};
        try {
          const made = await phases.run('neutralise', 'pg_cron jobs, pg_net queue, webhook triggers', () => makeInert(copy));
          disabled = made.disabled;
          deleted = made.deleted;
          details.inert = made.report;
          inert = true;
        } catch (error) {
          findings.push(
            finding({
              rule: 'drill_not_inert',
              severity: 'error',
              object: { kind: 'database', name: theTarget.target.database },
              message: `The restored copy could not be made inert (${(error as Error).message}), so no check ran on it.`,
              remediation: 'Fix the cause (permissions of the restore role on cron.job, net.http_request_queue and the tables with webhook triggers) and run the drill again.',
            }),
          );
        }

        if (inert) {
          await phases.run('verify', 'schema, row counts, checksums, RLS, settings, smoke queries', async () => {
            const excludeSchemas = live?.facts.excludedSchemas ?? manifest?.facts.excludedSchemas ?? (supabase ? [...SUPABASE_PLATFORM_SCHEMAS] : []);
            const sessions = [copy, ...(await openSessions(theTarget.url, Math.min(jobs, 4) - 1))];
            cleanups.push(() => Promise.all(sessions.slice(1).map((s) => s.end().catch(() => undefined))).then(() => undefined));
            await copy.query(PINNED_SETTINGS_SQL);
            const actual: DatabaseFacts = countBackIn(await collectFacts(sessions, { excludeSchemas, checksumTables }), deleted);
            const expected = live?.facts ?? manifest?.facts;
            const expectedSchema: ExpectedSchema | undefined = live?.schema
              ? live.schema
              : manifest?.schema
                ? { fingerprint: manifest.schema.fingerprint, ...(manifest.schema.snapshot ? { snapshot: manifest.schema.snapshot as ExpectedSchema['snapshot'] } : {}) }
                : undefined;
            const copySchema = asRestored(await readSchema(copy, { excludeSchemas, supabase }), disabled);
            if (expected) {
              const compared = compareFacts(expected, actual, { checksumTables, platformExtensionsExpectedMissing: supabase && !theTarget.supabaseImage });
              findings.push(...compared.findings);
              checks.push(...compared.checks);
            } else {
              findings.push(
                finding({
                  rule: 'drill_no_parity_source',
                  severity: 'notice',
                  object: { kind: 'file', name: path.basename(theArtifact.path) },
                  message: `No manifest for ${path.basename(theArtifact.path)}: the copy's ${actual.tables.length} tables and ${actual.tables.reduce((s, t) => s + t.rows, 0)} rows were recorded but not compared with the source.`,
                  remediation: 'Write a manifest at backup time (postgate drill --source-database-url ... --dump-path <backup> --write-manifest <backup>.manifest.json) and pass it as `manifest`.',
                }),
              );
              checks.push({ check: 'row counts', status: 'skipped', detail: `no source to compare with (${actual.tables.length} tables restored)` });
            }
            if (expectedSchema) {
              const schema = compareSchemas(expectedSchema, copySchema);
              findings.push(...schema.findings);
              checks.push({ check: 'schema', status: schema.differences ? 'fail' : 'pass', detail: `${copySchema.snapshot.objects.length} objects; ${schema.differences} differ` });
            } else {
              checks.push({ check: 'schema', status: 'skipped', detail: `no source schema to compare with (fingerprint ${copySchema.fingerprint.slice(0, 12)})` });
            }
            const settings = await checkExpectedSettings(copy, config['expected-settings']);
            findings.push(...settings.findings);
            checks.push(settings.check);
            const smoke = await runSmokeQueries(copy, config.smoke);
            findings.push(...smoke.findings);
            checks.push(smoke.check);
            metrics.tables = actual.tables.length;
            metrics.rows = actual.tables.reduce((sum, t) => sum + t.rows, 0);
            const empty = emptyBackup(actual, config['expect-empty'], mode.kind === 'live' ? { kind: 'database', name: sourceLabel } : { kind: 'file', name: path.basename(theArtifact.path) });
            findings.push(...empty.findings);
            checks.push(empty.check);
          });
          metrics.verify_ms = phases.timings.at(-1)?.duration_ms ?? 0;
        } else {
          phases.skip('verify');
        }
      }
    }
    for (const phase of PHASES) if (!phases.timings.some((t) => t.phase === phase)) phases.skip(phase);
    rtoMs = Math.round(performance.now() - clockStart);

    // RTO / RPO against the targets
    const rtoTarget = options.rtoTarget ?? config['rto-target'];
    const rpoTarget = options.rpoTarget ?? config['rpo-target'];
    if (options.supabaseAccessToken && options.projectRef) {
      const fromApi = await supabaseBackupTime({
        token: options.supabaseAccessToken,
        projectRef: options.projectRef,
        ...(context.env[SUPABASE_API_URL_ENV] ? { baseUrl: context.env[SUPABASE_API_URL_ENV] } : {}),
      });
      if (fromApi) backupTime = fromApi;
    }
    const rpoMs = backupTime ? Math.max(0, startedAt.getTime() - Date.parse(backupTime.takenAt)) : undefined;
    const restored = restoreRan && inert;
    if (rtoTarget !== undefined && restored && rtoMs > rtoTarget) {
      findings.push(
        finding({
          rule: 'drill_rto_exceeded',
          severity: 'error',
          object: { kind: 'objective', name: 'rto' },
          message: `The drill took ${formatDuration(rtoMs)}, more than the RTO target of ${formatDuration(rtoTarget)}.`,
          detail: phases.timings.filter((t) => t.status !== 'skipped').map((t) => `${t.phase}: ${formatDuration(t.duration_ms)}`).join('\n'),
          remediation: 'Speed up the slowest phase (more jobs, directory-format backups for a parallel restore, a faster restore machine) or renegotiate the target.',
        }),
      );
    }
    if (rpoTarget !== undefined) {
      if (rpoMs === undefined) {
        findings.push(
          finding({
            rule: 'drill_rpo_unknown',
            severity: 'error',
            object: { kind: 'objective', name: 'rpo' },
            message: `The backup's time is unknown, so the RPO target of ${formatDuration(rpoTarget)} cannot be checked.`,
            remediation: 'Pass a manifest (postgate drill --write-manifest at backup time), use a custom or directory archive (their header has the time), or pass supabase-access-token and project-ref.',
          }),
        );
      } else if (rpoMs > rpoTarget) {
        findings.push(
          finding({
            rule: 'drill_rpo_exceeded',
            severity: 'error',
            object: { kind: 'objective', name: 'rpo' },
            message: `The backup is ${formatDuration(rpoMs)} old (taken ${backupTime!.takenAt}, from the ${backupTime!.source}), more than the RPO target of ${formatDuration(rpoTarget)}.`,
            remediation: 'Check that backups still run on schedule and that the drill restores the newest one.',
          }),
        );
      }
    }

    // staging refresh: mask the verified copy and export it
    if (options.exportPath && target && inert) {
      const theTarget = target;
      const rules = parseMaskRules(config.mask);
      if (rules.length === 0) {
        throw new UserError('Input `export-path` writes a masked copy, but the repo config has no `drill.mask` rules; add them (table.column: email | hash | null | redact) so no unmasked production data is exported.');
      }
      const exportPath = path.resolve(context.cwd, options.exportPath);
      const masked: MaskResult[] = await context.log.step('export: mask the copy and dump it', async () => {
        const client = await connect(theTarget.url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
        let results: MaskResult[];
        try {
          results = await applyMasks(client, rules);
        } finally {
          await client.end().catch(() => undefined);
        }
        const pgDump = await resolveClientTool('pg_dump', { minMajor: theTarget.major, serverMajor: theTarget.major, purpose: 'export the masked copy' });
        const result = await runClientTool(pgDump, [...exportFormatArgs(options.exportPath!, jobs), '--no-password', '-f', exportPath.replace(/\/$/, ''), '-d', theTarget.target.database], {
          connection: theTarget.target,
          paths: [path.dirname(exportPath.replace(/\/$/, ''))],
        });
        if (result.exitCode !== 0) throw new UserError(`Exporting the masked copy to ${exportPath} failed: ${result.stderr.trim().split('\n').pop()}; check \`export-path\`.`);
        return results;
      });
      details.masked = masked;
    }

    // results, history and staleness
    const summary = {
      rto_ms: rtoMs,
      rto_target_ms: rtoTarget ?? null,
      rpo_ms: rpoMs ?? null,
      rpo_target_ms: rpoTarget ?? null,
      backup_taken_at: backupTime?.takenAt ?? null,
      rpo_source: backupTime?.source ?? 'unknown',
    };
    metrics.rto_ms = rtoMs;
    if (rpoMs !== undefined) metrics.rpo_ms = rpoMs;
    for (const timing of phases.timings) metrics[`${timing.phase.replace(/ /g, '_')}_ms`] = timing.duration_ms;
    metrics.checks_failed = checks.filter((c) => c.status === 'fail').length;

    if (logPath && log) {
      const status = provisionalStatus(findings, options, context);
      const entry = logEntry(status);
      const entries = [...log.entries, entry];
      if (options.maxDaysSinceGreen !== undefined) {
        const days = daysSinceGreen(entries, context.now());
        if (days === undefined || days > options.maxDaysSinceGreen) {
          findings.push(
            finding({
              rule: 'drill_stale',
              severity: 'error',
              object: { kind: 'objective', name: 'drill log' },
              message:
                days === undefined
                  ? `The drill log (${options.logPath}) has no green drill at all, and max-days-since-green is ${options.maxDaysSinceGreen}.`
                  : `The last green drill in ${options.logPath} was ${days.toFixed(1)} days ago, more than max-days-since-green (${options.maxDaysSinceGreen}).`,
              remediation: 'Fix the drill so it passes, and check the scheduled workflow still runs.',
            }),
          );
          entry.status = provisionalStatus(findings, options, context);
          entry.findings = countBySeverity(findings);
        }
        if (days !== undefined) metrics.days_since_green = Math.round(days * 10) / 10;
      }
      appendDrillLog(logPath, entry);
      details.history = {
        title: `Last ${Math.min(entries.length, 10)} drills (${options.logPath})`,
        rows: historyRows(entries),
        ...(log.unreadable ? { note: `${log.unreadable} line(s) of the log could not be read and were skipped.` } : {}),
      };
    }
    context.log.info(
      `restore-drill: RTO ${formatDuration(rtoMs)}${rpoMs !== undefined ? `, RPO ${formatDuration(rpoMs)}` : ''}, ${formatBytes(theArtifact.sizeBytes)} ${FORMAT_LABELS[theArtifact.format]}`,
    );
    // Summary, phases and checks first: the report shows details in this order.
    return { findings: dedupe(findings), metrics, details: { summary, phases: phases.timings, checks, ...details } };
  } catch (error) {
    if (logPath) {
      const message = error instanceof Error ? error.message : String(error);
      try {
        appendDrillLog(logPath, logEntry('error', message));
      } catch {
        // the original error is what the user needs to see
      }
    }
    throw error;
  } finally {
    // A target still starting (the drill failed before it was needed) is stopped too.
    await targetWork?.promise.catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/**
 * A backup that restores to no data at all (no tables, or not one row) proves nothing about
 * recovering the source: a dump of the wrong database, a schema-only run, a file cut down to
 * pg_dump's trailer. It fails the drill unless the repo config says the source is empty.
 */
export function emptyBackup(actual: DatabaseFacts, expectEmpty: boolean, object: { kind: string; name: string }): { findings: Finding[]; check: Check } {
  const rows = actual.tables.reduce((sum, t) => sum + t.rows, 0);
  const restored = `${actual.tables.length} table(s), ${rows} row(s) restored`;
  if (expectEmpty) return { findings: [], check: { check: 'backup not empty', status: 'skipped', detail: `drill.expect-empty is true (${restored})` } };
  if (rows > 0) return { findings: [], check: { check: 'backup not empty', status: 'pass', detail: restored } };
  const what = actual.tables.length === 0 ? 'no table at all' : `${actual.tables.length} table(s) and not one row`;
  return {
    findings: [
      finding({
        rule: 'drill_backup_empty',
        severity: 'error',
        object,
        message: `The backup restored to an empty database (${what}), so it would recover no data.`,
        remediation:
          'Check the backup job: a dump of the wrong database, a --schema-only run, or a file cut down to pg_dump\'s closing lines restores nothing. If the source database is meant to be empty, set `drill.expect-empty: true` in the repo config.',
      }),
    ],
    check: { check: 'backup not empty', status: 'fail', detail: restored },
  };
}

/** The copy's facts as restored: rows the inert step deleted are counted back in. */
function countBackIn(facts: DatabaseFacts, deleted: Readonly<Record<string, number>>): DatabaseFacts {
  return { ...facts, tables: facts.tables.map((t) => ({ ...t, rows: t.rows + (deleted[`${t.schema}.${t.name}`] ?? 0) })) };
}

/** One finding per rule and object (the restore's and the verification's views of one missing extension). */
function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => (seen.has(f.key) ? false : (seen.add(f.key), true)));
}

/** Backup mode (`--write-manifest`): dump the source into dump-path and write the manifest. */
async function backupWithManifest(options: DrillOptions, context: GateContext): Promise<GateOutput> {
  if (!options.sourceDatabaseUrl || !options.dumpPath) {
    throw new UserError('`--write-manifest` writes a new backup and its manifest: give `--source-database-url` (the database) and `--dump-path` (where the backup goes).');
  }
  const output = path.resolve(context.cwd, options.dumpPath);
  if (existsSync(output)) throw new UserError(`\`--dump-path\` ${output} already exists; with \`--write-manifest\` postgate writes a new backup there, so choose a new path.`);
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
    takeLiveBackup({ url: options.sourceDatabaseUrl!, output, format, jobs: Math.max(1, options.jobs), checksumTables: context.config.drill['checksum-tables'], noSync: false }),
  );
  const digest = await digestArtifact(backup.artifact);
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
        tables: backup.facts.tables.length,
        rows,
      },
    },
  };
}

