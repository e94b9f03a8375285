/**
 * Taking the backup now from `source-database-url`, with exact parity: one read-only
 * REPEATABLE READ transaction exports its snapshot, `pg_dump --snapshot` dumps exactly that
 * state (directory format, parallel jobs), and the row counts, key checksums and catalog
 * snapshot are read in the same transaction while pg_dump runs. Every number then describes
 * the dumped state, whatever writes the source takes meanwhile.
 *
 * A Supabase source is dumped without the platform's schemas (as `supabase db dump` does);
 * the restore target gets those from the Supabase baseline or image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import { isSupabaseDatabase } from '../../postgres/baseline/supabase.ts';
import { connect } from '../../postgres/connect.ts';
import { trackTempDir } from '../../postgres/ephemeral/registry.ts';
import { type DatabaseTarget, parseDatabaseUrl } from '../../postgres/url.ts';
import { resolveClientTool, type ResolvedTool, runClientTool, versionMismatchError } from '../../postgres/tools.ts';
import { ARCHIVE_FORMATS, type Artifact, FORMAT_LABELS, inspectArtifact, majorOfVersion, sourceIsSupabase } from './artifact.ts';
import { PINNED_SETTINGS_SQL } from '../../catalog/row-digests.ts';
import { collectFacts, type DatabaseFacts, SUPABASE_PLATFORM_SCHEMAS } from './facts.ts';
import { readManifest } from './manifest.ts';
import { readToc } from './restore.ts';
import { readSchema, type SchemaState } from './schema.ts';
import type { DrillState, Fetched, Mode } from './state.ts';
import { startTarget } from './target.ts';

export const SOURCE_INPUT = 'source-database-url';

export interface LiveBackup {
  artifact: Artifact;
  facts: DatabaseFacts;
  schema?: SchemaState;
  /** The snapshot's time (its transaction's start): the backup time. */
  takenAt: string;
  snapshot: string;
  serverVersion: string;
  serverMajor: number;
  supabase: boolean;
  label: string;
  tool: string;
  /** `pg_dumpall --roles-only --no-role-passwords` output, for a target where roles may be created. */
  rolesFile?: string;
  /** Supabase source: the data of auth, storage and supabase_functions (same snapshot), loaded before the dump. */
  platformDataFile?: string;
}

export interface LiveBackupOptions {
  url: string;
  /** Where the dump goes: a directory path (must not exist), or a file for custom/tar format. */
  output: string;
  format: 'directory' | 'custom' | 'tar' | 'plain' | 'plain-gzip';
  jobs: number;
  checksumTables: readonly string[];
  /** Also dump the roles (to this file). */
  rolesFile?: string;
  /**
   * The dump is deleted once restored (a live drill): pg_dump skips its fsync and compresses with
   * gzip level 1, which takes about 40 % less time than the default level 6 for files about 6 %
   * larger (bench/drill). A backup that is kept (`--write-manifest`) gets pg_dump's defaults.
   */
  throwaway: boolean;
  /** For a Supabase source, also dump the platform schemas' data here (as `supabase db dump --data-only` keeps it). */
  platformDataFile?: string;
  /** Called once the source's major and kind are known and pg_dump is found (the drill starts its restore target then). */
  onDumpStarting?: (source: { serverMajor: number; supabase: boolean }) => void;
}

/** The platform data `supabase db dump --data-only` keeps (users, buckets, objects, webhooks), without migration tables. */
const PLATFORM_DATA_ARGS = [
  '--schema=auth',
  '--schema=storage',
  '--schema=supabase_functions',
  '--exclude-table=auth.schema_migrations',
  '--exclude-table=storage.migrations',
  '--exclude-table=supabase_functions.migrations',
];

/** pg_dump's options for a dump that is restored at once and deleted (see `throwaway`). */
const THROWAWAY_DUMP_ARGS = ['--no-sync', '--compress=1'];

const FORMAT_FLAGS = { directory: ['-Fd'], custom: ['-Fc'], tar: ['-Ft'], plain: ['-Fp'], 'plain-gzip': ['-Fp', '-Z', '6'] } as const;

export async function takeLiveBackup(options: LiveBackupOptions): Promise<LiveBackup> {
  // connect() refuses a transaction-mode pooler: it cannot hold the snapshot's session.
  const target = parseDatabaseUrl(options.url, SOURCE_INPUT);
  const session = await connect(options.url, { gate: 'drill', readOnly: true, needsSession: true, inputName: SOURCE_INPUT, statementTimeoutMs: 0 });
  try {
    // The snapshot must outlive pg_dump's start, however long counting takes.
    await session.query(`SET idle_in_transaction_session_timeout = 0; SET lock_timeout = '60s'; ${PINNED_SETTINGS_SQL}`);
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const opened = await session.query<{ snapshot: string; taken_at: Date; version: string; num: string }>(
      `select pg_export_snapshot() as snapshot, now() as taken_at, current_setting('server_version') as version, current_setting('server_version_num') as num`,
    );
    const row = opened.rows[0]!;
    const serverMajor = Math.floor(Number(row.num) / 10_000);
    const serverVersion = row.version.split(' ')[0] ?? row.version;
    const supabase = await isSupabaseDatabase(session);
    const excludeSchemas = supabase ? [...SUPABASE_PLATFORM_SCHEMAS] : [];
    const purpose = `dump ${target.label} (PostgreSQL ${serverVersion})`;
    const pgDump = await resolveClientTool('pg_dump', { minMajor: serverMajor, serverMajor, purpose });
    options.onDumpStarting?.({ serverMajor, supabase });

    const dump = runClientTool(
      pgDump,
      [
        ...FORMAT_FLAGS[options.format],
        ...(options.format === 'directory' ? ['-j', String(Math.max(1, options.jobs))] : []),
        `--snapshot=${row.snapshot}`,
        '--no-password',
        ...(options.throwaway ? THROWAWAY_DUMP_ARGS : []),
        ...excludeSchemas.map((schema) => `--exclude-schema=${schema}`),
        '-f',
        options.output,
        '-d',
        target.database,
      ],
      { connection: target, paths: [path.dirname(options.output)] },
    );
    // Counted in the exporting transaction while pg_dump runs: same snapshot, same numbers.
    const [result, facts, schema] = await Promise.all([
      dump,
      collectFacts([session], { excludeSchemas, checksumTables: options.checksumTables }),
      readSchema(session, { excludeSchemas, supabase }),
    ]);
    if (result.exitCode !== 0) {
      rmSync(options.output, { recursive: true, force: true });
      throw versionMismatchError(result.stderr, 'pg_dump', purpose) ?? dumpFailed(result.stderr, target.label);
    }
    if (supabase && options.platformDataFile) {
      const platform = await runClientTool(
        pgDump,
        [
          '-Fc',
          '--data-only',
          `--snapshot=${row.snapshot}`,
          '--no-password',
          '--no-sync',
          ...PLATFORM_DATA_ARGS,
          '-f',
          options.platformDataFile,
          '-d',
          target.database,
        ],
        { connection: target, paths: [path.dirname(options.platformDataFile)] },
      );
      if (platform.exitCode !== 0) throw dumpFailed(platform.stderr, target.label);
    }
    const rolesFile = options.rolesFile ? await dumpRoles(options.rolesFile, target, serverMajor, purpose) : undefined;
    await session.query('COMMIT');
    return {
      artifact: inspectArtifact(options.output, SOURCE_INPUT),
      facts,
      ...(schema ? { schema } : {}),
      takenAt: row.taken_at.toISOString(),
      snapshot: row.snapshot,
      serverVersion,
      serverMajor,
      supabase,
      label: target.label,
      tool: `${pgDump.name} ${pgDump.version}`,
      ...(rolesFile ? { rolesFile } : {}),
      ...(supabase && options.platformDataFile ? { platformDataFile: options.platformDataFile } : {}),
    };
  } finally {
    await session.end().catch(() => undefined);
  }
}

function dumpFailed(stderr: string, label: string): UserError {
  const line =
    stderr
      .split('\n')
      .find((l) => /error:/.test(l))
      ?.replace(/^pg_dump: error: /, '') ??
    stderr.trim().split('\n').pop() ??
    'no output';
  return new UserError(
    `pg_dump could not dump ${label}: ${line.replace(/\.$/, '')}; give the role in \`${SOURCE_INPUT}\` read access to every table (or use the database owner).`,
  );
}

async function dumpRoles(file: string, target: DatabaseTarget, serverMajor: number, purpose: string): Promise<string | undefined> {
  let tool: ResolvedTool;
  try {
    tool = await resolveClientTool('pg_dumpall', { minMajor: serverMajor, serverMajor, purpose });
  } catch {
    // Roles are a help for the restore, not part of the database dump: without pg_dumpall the
    // restore reports missing roles by name instead.
    return undefined;
  }
  const result = await runClientTool(tool, ['--roles-only', '--no-role-passwords', '--no-password', '-f', file, '-l', target.database], {
    connection: target,
    paths: [path.dirname(file)],
  });
  return result.exitCode === 0 ? file : undefined;
}

/** Which drill the inputs ask for: take the backup now (live) or restore an existing one (file). */
export function chooseMode(options: DrillOptions, cwd: string): Mode {
  const live = options.sourceDatabaseUrl;
  const file = options.dumpPath;
  if (live && file) {
    throw new UserError(
      'Inputs `source-database-url` and `dump-path` were both given; use `source-database-url` to take the backup now, or `dump-path` to restore an existing backup (with both, add `--write-manifest` to write a backup and its manifest).',
    );
  }
  if (!live && !file) throw new UserError('Nothing to restore: set `source-database-url` (take the backup now) or `dump-path` (an existing backup).');
  if (live) {
    for (const [name, value] of [
      ['checksum-path', options.checksumPath],
      ['sha256', options.sha256],
      ['manifest', options.manifest],
    ] as const) {
      if (value)
        throw new UserError(`Input \`${name}\` applies to \`dump-path\` drills; drop it, since a live drill computes everything from the source itself.`);
    }
    return { kind: 'live', url: live };
  }
  return { kind: 'file', path: path.resolve(cwd, file!), ...(options.manifest ? { manifest: path.resolve(cwd, options.manifest) } : {}) };
}

/**
 * fetch: take the backup now (live) or inspect the file and its manifest. The restore target
 * starts here, in the background, as a real recovery provisions the server while the backup
 * downloads (live: once pg_dump starts; file: before the checksum).
 */
export async function fetchSource(state: DrillState): Promise<Fetched> {
  if (state.mode.kind === 'live') await fetchLive(state, state.mode.url);
  else await readBackupFile(state, state.mode);
  const fetched = state as Fetched;
  const { artifact, live } = fetched;
  state.details.source = {
    kind: state.mode.kind,
    label: state.sourceLabel,
    format: FORMAT_LABELS[artifact.format],
    size_bytes: artifact.sizeBytes,
    server_version: state.sourceVersion ?? null,
    dumped_by: live?.tool ?? (artifact.header.dumpVersion ? `pg_dump ${artifact.header.dumpVersion}` : null),
  };
  state.metrics.size_bytes = artifact.sizeBytes;
  state.sourceMajor = live?.serverMajor ?? majorOfVersion(state.sourceVersion);
  // An archive says whether it is a Supabase one in its table of contents (read again, and
  // reported if unreadable, once the target's major is known).
  if (!live && !state.manifest && state.config.baseline === 'auto' && ARCHIVE_FORMATS.includes(artifact.format)) {
    state.toc = (await readToc(artifact, state.sourceMajor ?? 0).catch(() => undefined))?.toc;
  }
  startTarget(state, state.sourceMajor, sourceIsSupabase(fetched));
  return fetched;
}

async function fetchLive(state: DrillState, url: string): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-drill-'));
  // tracked like a cluster, so a SIGTERM or a later reap removes the backup too
  state.cleanup.defer(trackTempDir(work));
  const live = await state.phases.run('fetch', 'take the backup now (pg_dump --snapshot, directory format)', () =>
    takeLiveBackup({
      url,
      output: path.join(work, 'dump'),
      format: 'directory',
      jobs: state.jobs,
      checksumTables: state.config['checksum-tables'],
      rolesFile: path.join(work, 'roles.sql'),
      platformDataFile: path.join(work, 'platform-data.dump'),
      throwaway: true,
      onDumpStarting: (source) => startTarget(state, source.serverMajor, source.supabase),
    }),
  );
  state.live = live;
  state.artifact = live.artifact;
  state.sourceLabel = live.label;
  state.sourceVersion = live.serverVersion;
  state.backupTime = { takenAt: live.takenAt, source: 'live snapshot (taken by this drill: says nothing about your scheduled backups)' };
}

async function readBackupFile(state: DrillState, file: Extract<Mode, { kind: 'file' }>): Promise<void> {
  const { artifact, manifest } = await state.phases.run('fetch', `read ${path.basename(file.path)}`, async () => ({
    artifact: inspectArtifact(file.path),
    manifest: file.manifest ? readManifest(file.manifest) : undefined,
  }));
  state.artifact = artifact;
  if (manifest) state.manifest = manifest;
  // Only the file name counts (a manifest is as hostile as the backup): it must sit beside the backup.
  if (manifest?.platform_data) state.platformDataFile = path.join(path.dirname(artifact.path), path.basename(manifest.platform_data.file));
  if (artifact.header.clusterDump) {
    throw new UserError(
      `Input \`dump-path\` names ${artifact.path}, a pg_dumpall cluster dump (several databases, with \\connect between them); restore-drill restores one database: dump it with pg_dump (or supabase db dump) and drill that file.`,
    );
  }
  const version = artifact.header.sourceVersion ?? manifest?.source.server_version;
  if (version) state.sourceVersion = version;
  if (manifest) state.backupTime = { takenAt: manifest.backup_taken_at, source: 'manifest' };
  else if (artifact.header.createdAt) {
    state.backupTime = {
      takenAt: artifact.header.createdAt,
      source: artifact.header.createdAtAssumedUtc ? "dump header (dumping machine's local time, read as UTC)" : 'dump header',
    };
  }
}
