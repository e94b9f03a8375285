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
import { rmSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { connect } from '../../postgres/connect.ts';
import { type DatabaseTarget, parseDatabaseUrl } from '../../postgres/url.ts';
import { resolveClientTool, type ResolvedTool, runClientTool, versionMismatchError } from '../../postgres/tools.ts';
import { type Artifact, inspectArtifact } from './artifact.ts';
import { collectFacts, type DatabaseFacts, isSupabaseDatabase, PINNED_SETTINGS_SQL, SUPABASE_PLATFORM_SCHEMAS } from './facts.ts';
import { readSchema, type SchemaState } from './schema.ts';

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
  /** The dump is throwaway: skip pg_dump's fsync. */
  noSync: boolean;
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
        ...(options.noSync ? ['--no-sync'] : []),
        ...excludeSchemas.map((schema) => `--exclude-schema=${schema}`),
        '-f', options.output,
        '-d', target.database,
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
        ['-Fc', '--data-only', `--snapshot=${row.snapshot}`, '--no-password', '--no-sync', ...PLATFORM_DATA_ARGS, '-f', options.platformDataFile, '-d', target.database],
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
  const line = stderr.split('\n').find((l) => /error:/.test(l))?.replace(/^pg_dump: error: /, '') ?? stderr.trim().split('\n').pop() ?? 'no output';
  return new UserError(`pg_dump could not dump ${label}: ${line.replace(/\.$/, '')}; give the role in \`${SOURCE_INPUT}\` read access to every table (or use the database owner).`);
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
