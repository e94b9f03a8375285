/**
 * Loading a backup into the restore target: pg_restore (parallel for custom and directory
 * archives) or postgate's SQL script runner (plain SQL, streamed through gunzip for .sql.gz,
 * and the three files of `supabase db dump` in the documented order; never psql, which would
 * act on any meta-command a backup holds: see sql-script.ts). Errors do not stop the restore:
 * every failed statement is collected and grouped (missing role, missing extension, missing
 * schema, corruption, other), so one drill names everything that is wrong.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatDuration } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import type { Finding } from '../../findings/types.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../../postgres/baseline/apply.ts';
import { connect } from '../../postgres/connect.ts';
import { resolveClientTool, type ResolvedTool, runClientTool } from '../../postgres/tools.ts';
import type { DatabaseTarget } from '../../postgres/url.ts';
import { formatBytes } from '../../report/format.ts';
import type { Logger } from '../gate.ts';
import { ARCHIVE_FORMATS, type Artifact, FORMAT_LABELS, majorOfVersion, sourceIsSupabase, textHead } from './artifact.ts';
import { SUPABASE_PLATFORM_SCHEMAS } from './facts.ts';
import { openScript, SCRIPT_RUNNER, ScriptRunner } from './sql-runner.ts';
import { scanScript } from './sql-script.ts';
import type { Fetched, Targeted } from './state.ts';
import { CLEAR_DEFAULT_PRIVILEGES_SQL, loadsAsPlatformRole, wantsBaseline } from './target.ts';
import { drillFinding } from './rules.ts';

export type ProblemKind = 'role' | 'extension' | 'schema' | 'corrupt' | 'other';

export interface RestoreProblem {
  kind: ProblemKind;
  /** The missing role, extension or schema. */
  name?: string;
  /** The server's (or tool's) message, first line only; values in it are hidden. */
  message: string;
  /** How many statements failed this way. */
  count: number;
  /** The first failing command (pg_restore) or script line (psql). */
  example?: string;
}

export interface TocSummary {
  tables: Array<{ id: number; schema: string; name: string }>;
  extensions: string[];
  schemas: string[];
  owners: string[];
}

export interface RestoreOutcome {
  problems: RestoreProblem[];
  /** Statements that failed but are harmless (e.g. PostgreSQL 17's SET transaction_timeout on an older server). */
  ignored: number;
  /** Statements that failed only because an earlier COPY failed (psql's "invalid command \N"). */
  cascaded: number;
  tools: string[];
  bytes: number;
  tables: number;
  /** psql commands pg_dump never writes, met while running a script (the restore stopped there). */
  untrusted?: UntrustedLine[];
}

/**
 * Harmless on a restore target: PostgreSQL 17's setting on an older server, roles.sql re-creating a
 * role, and the publication the Supabase baseline and image already have.
 */
const IGNORABLE = [
  /unrecognized configuration parameter "transaction_timeout"/,
  /role "[^"]+" already exists/,
  /publication "supabase_realtime" already exists/,
];

const CLASSIFIERS: Array<{ kind: Exclude<ProblemKind, 'other'>; pattern: RegExp }> = [
  { kind: 'role', pattern: /role "([^"]+)" does not exist/ },
  { kind: 'extension', pattern: /could not open extension control file "(?:[^"]*\/)?([^/"]+)\.control"/ },
  { kind: 'extension', pattern: /extension "([^"]+)" is not available/ },
  { kind: 'schema', pattern: /schema "([^"]+)" does not exist/ },
  {
    kind: 'corrupt',
    pattern:
      /(could not read from input file|did not find magic string|unexpected end of file|could not uncompress data|invalid compressed data|unsupported version|could not find block ID|corrupt|could not open input file|end of COPY data not found|incomplete gzip|gzip stream)/i,
  },
];

/** Hides values the server quotes back (invalid input syntax ...: "<value>"). */
function scrub(message: string): string {
  return message
    .replace(/(invalid input (?:syntax|value) for [^:]+):.*$/i, '$1: (value hidden)')
    .replace(/(malformed [a-z ]+ literal):.*$/i, '$1: (value hidden)')
    .slice(0, 300);
}

export function classifyMessage(message: string): { kind: ProblemKind; name?: string } | 'ignore' {
  if (IGNORABLE.some((pattern) => pattern.test(message))) return 'ignore';
  for (const { kind, pattern } of CLASSIFIERS) {
    const match = pattern.exec(message);
    if (match) return kind === 'corrupt' ? { kind } : { kind, name: match[1]! };
  }
  return { kind: 'other' };
}

/**
 * pg_restore's progress and context lines: never an error, whatever level word ended up
 * in front of them (see restoreError).
 */
const RESTORE_INFO =
  /^(?:connecting to |creating |processing |entering |launching item|finished |executing |implied data-only|dropping |disabling triggers|enabling triggers|transferring dependency|reducing dependencies|skipping item|while (?:PROCESSING TOC|INITIALIZING|FINALIZING)|from TOC entry|errors ignored on restore|restoring large object|restored \d+ large objects?|implied no-schema restore|table "[^"]+" could not be created)/;

/**
 * The failed statement's message in a line of pg_restore's stderr, if it holds one.
 * With `-j`, the workers share stderr and pg_restore writes a message's program name,
 * level and text as separate writes, so lines arrive interleaved (seen in every parallel
 * restore with --verbose: "pg_restore:pg_restore: error: finished item 3757 ...", with the
 * error's own text on a line of its own). A failed statement is therefore recognised by
 * its text ("could not execute query: ...", "COPY failed for table ..."), wherever it is;
 * any other text counts only behind an "error:" and when it is not a progress line.
 */
export function restoreError(line: string): string | undefined {
  const query = /could not execute query: (?:(?:ERROR|FATAL):\s+)?(.*)$/.exec(line);
  if (query) return query[1]!;
  const copy = /(COPY failed for table .*)$/.exec(line);
  if (copy) return copy[1]!;
  const prefix = /^(?:\s*pg_restore:|\s*(?:error|warning|detail|hint):(?=\s))+\s*/.exec(line);
  if (!prefix || !/\berror:/.test(prefix[0])) return undefined;
  const text = line.slice(prefix[0].length);
  return RESTORE_INFO.test(text) ? undefined : text.replace(/^(?:ERROR|FATAL):\s+/, '');
}

/** Collects failed statements from pg_restore's or psql's stderr. */
export class ErrorCollector {
  readonly groups = new Map<string, RestoreProblem>();
  ignored = 0;
  cascaded = 0;
  private last: RestoreProblem | undefined;

  add(message: string, example?: string): void {
    const classified = classifyMessage(message);
    if (classified === 'ignore') {
      this.ignored += 1;
      this.last = undefined;
      return;
    }
    const text = scrub(message.trim());
    const key = classified.name !== undefined ? `${classified.kind}:${classified.name}` : `${classified.kind}:${text}`;
    const group = this.groups.get(key);
    if (group) {
      group.count += 1;
      this.last = undefined;
    } else {
      const problem: RestoreProblem = { kind: classified.kind, message: text, count: 1, ...(classified.name ? { name: classified.name } : {}) };
      if (example) problem.example = example;
      this.groups.set(key, problem);
      this.last = problem;
    }
  }

  /** A line of pg_restore's or psql's stderr. */
  line(line: string): void {
    const command = /^Command was: (.*)$/.exec(line);
    if (command) {
      if (this.last && !this.last.example) this.last.example = command[1]!.slice(0, 200);
      return;
    }
    const psql = /^psql:(.*?):(\d+): (?:(ERROR|FATAL|error):\s+)?(.*)$/.exec(line);
    if (psql) {
      const [, file, lineNo, level, message] = psql;
      if (/^invalid command \\/.test(message!)) this.cascaded += 1;
      else if (level) this.add(message!, `${path.basename(file!)} line ${lineNo}`);
      return;
    }
    const error = restoreError(line);
    if (error !== undefined) this.add(error);
  }

  problems(): RestoreProblem[] {
    return [...this.groups.values()];
  }
}

/** Reads an archive's table of contents (`pg_restore -l`); unreadable means corrupt. */
export function parseTocList(listing: string): TocSummary {
  const toc: TocSummary = { tables: [], extensions: [], schemas: [], owners: [] };
  const owners = new Set<string>();
  for (const line of listing.split('\n')) {
    const entry = /^(\d+);\s+\d+\s+\d+\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!entry) continue;
    const [, id, desc, schema, name, owner] = entry;
    if (owner && owner !== '-') owners.add(owner);
    if (desc === 'TABLE DATA') toc.tables.push({ id: Number(id), schema: schema!, name: name! });
    else if (desc === 'EXTENSION') toc.extensions.push(name!);
    else if (desc === 'SCHEMA') toc.schemas.push(name!);
  }
  toc.owners = [...owners].sort();
  return toc;
}

export interface RestoreContext {
  target: DatabaseTarget;
  targetMajor: number;
  jobs: number;
  log: Logger;
}

function readerTool(artifact: Artifact, targetMajor: number): Promise<ResolvedTool> {
  const dumpMajor = majorOfVersion(artifact.header.dumpVersion);
  return resolveClientTool('pg_restore', { minMajor: dumpMajor ?? 0, serverMajor: targetMajor, purpose: `restore ${path.basename(artifact.path)}` });
}

/** `pg_restore -l`: the archive's TOC, or a corruption problem when it cannot be read. */
export async function readToc(artifact: Artifact, targetMajor: number): Promise<{ toc?: TocSummary; problem?: RestoreProblem; tool: ResolvedTool }> {
  const tool = await readerTool(artifact, targetMajor);
  const result = await runClientTool(tool, ['-l', artifact.path], { paths: [artifact.path] });
  if (result.exitCode !== 0) {
    const first =
      result.stderr
        .split('\n')
        .find((l) => l.trim())
        ?.replace(/^pg_restore: (error: )?/, '') ?? `exit code ${result.exitCode}`;
    return { tool, problem: { kind: 'corrupt', message: `the archive's table of contents cannot be read: ${first}`, count: 1 } };
  }
  return { tool, toc: parseTocList(result.stdout) };
}

/** "restoring: 12/50 tables, 1.2 GB of 2.0 GB (40 s)" on the log, at most every 5 s, as pg_restore --verbose reports tables. */
export class Progress {
  private lastReport = performance.now();
  private readonly started = performance.now();
  private tables = 0;
  private bytes = 0;
  private readonly log: Logger;
  private readonly totalTables: number;
  private readonly totalBytes: number;

  constructor(log: Logger, totalTables: number, totalBytes: number) {
    this.log = log;
    this.totalTables = totalTables;
    this.totalBytes = totalBytes;
  }

  table(bytes = 0): void {
    this.tables += 1;
    this.add(bytes);
  }

  add(bytes: number): void {
    this.bytes += bytes;
    const now = performance.now();
    if (now - this.lastReport < 5000) return;
    this.lastReport = now;
    const parts: string[] = [];
    if (this.totalTables) parts.push(`${this.tables}/${this.totalTables} tables`);
    if (this.totalBytes) parts.push(`${formatBytes(this.bytes, 'short')} of ${formatBytes(this.totalBytes, 'short')}`);
    this.log.info(`restoring: ${parts.join(', ')} (${formatDuration(now - this.started)})`);
  }

  get done(): { tables: number; bytes: number } {
    return { tables: this.tables, bytes: this.bytes };
  }
}

/** Sizes of a directory archive's data files by TOC id (3001.dat.gz -> 3001). */
function dataFileSizes(dir: string): Map<number, number> {
  const sizes = new Map<number, number>();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return sizes;
  for (const name of readdirSync(dir)) {
    const id = /^(\d+)\.dat/.exec(name)?.[1];
    if (id) sizes.set(Number(id), statSync(path.join(dir, name)).size);
  }
  return sizes;
}

/** Restores a custom, directory or tar archive with pg_restore. */
export async function restoreArchive(artifact: Artifact, toc: TocSummary, tool: ResolvedTool, context: RestoreContext): Promise<RestoreOutcome> {
  const collector = new ErrorCollector();
  const sizes = artifact.format === 'directory' ? dataFileSizes(artifact.path) : new Map<number, number>();
  const progress = new Progress(
    context.log,
    toc.tables.length,
    [...sizes.values()].reduce((a, b) => a + b, 0),
  );
  const parallel = artifact.format !== 'tar' && context.jobs > 1;
  const args = ['--verbose', '--no-password', '-d', context.target.database, ...(parallel ? ['-j', String(context.jobs)] : []), artifact.path];
  const result = await runClientTool(tool, args, {
    connection: context.target,
    paths: [artifact.path],
    onStderrLine: (line) => {
      const finished = /^pg_restore: finished item (\d+) TABLE DATA /.exec(line) ?? /^pg_restore: processing data for table "/.exec(line);
      if (finished) progress.table(finished[1] ? (sizes.get(Number(finished[1])) ?? 0) : 0);
      collector.line(line);
    },
  });
  if (result.exitCode !== 0 && collector.groups.size === 0 && collector.ignored === 0) {
    // Failed, and no message could be read: fail closed with what pg_restore said last.
    const last = result.stderr.trim().split('\n').pop() || `exit code ${result.exitCode}`;
    collector.add(
      /errors ignored on restore/.test(last)
        ? `pg_restore reported failed statements (${last.replace(/^.*warning: /, '')}) but their messages could not be read from its output`
        : last.replace(/^pg_restore: (error: )?/, ''),
    );
  }
  return outcome(collector, [`${tool.name} ${tool.version}`], progress);
}

/**
 * Loads a Supabase source's platform data (auth users, storage buckets and objects) into the
 * tables the baseline or image provides, triggers off, before the dump that references it.
 */
export async function restorePlatformData(file: string, tool: ResolvedTool, context: RestoreContext): Promise<RestoreOutcome> {
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, 0);
  const result = await runClientTool(tool, ['--data-only', '--disable-triggers', '--no-password', '-d', context.target.database, file], {
    connection: context.target,
    paths: [file],
    onStderrLine: (line) => collector.line(line),
  });
  if (result.exitCode !== 0 && collector.groups.size === 0)
    collector.add(result.stderr.trim().split('\n').pop() || `pg_restore exited with code ${result.exitCode}`);
  return outcome(collector, [`${tool.name} ${tool.version}`], progress);
}

function outcome(collector: ErrorCollector, tools: string[], progress: Progress): RestoreOutcome {
  return {
    problems: collector.problems(),
    ignored: collector.ignored,
    cascaded: collector.cascaded,
    tools,
    bytes: progress.done.bytes,
    tables: progress.done.tables,
  };
}

const DUMP_COMPLETE = '-- PostgreSQL database dump complete';

/** One SQL script of a plain backup: the file, and the name findings use for it. */
export interface BackupScript {
  file: string;
  gzip: boolean;
  label: string;
  /** pg_dump wrote it (its header says so): it must end with pg_dump's closing line. */
  expectTrailer?: boolean;
}

/** The SQL scripts a plain or supabase backup is made of, in restore order; none for archives. */
export function backupScripts(artifact: Artifact): BackupScript[] {
  if (artifact.format === 'plain' || artifact.format === 'plain-gzip') {
    return [
      { file: artifact.path, gzip: artifact.format === 'plain-gzip', label: path.basename(artifact.path), expectTrailer: Boolean(artifact.header.dumpVersion) },
    ];
  }
  if (artifact.format === 'supabase' && artifact.supabase) {
    const { roles, schema, data } = artifact.supabase;
    return [roles, schema, data].filter((f): f is string => Boolean(f)).map((file) => ({ file, gzip: false, label: path.basename(file) }));
  }
  return [];
}

export interface UntrustedLine {
  /** The script's name (e.g. app.sql, schema.sql). */
  file: string;
  line: number;
  /** The line from its backslash, printable ASCII only, shortened. */
  text: string;
  /** Not a meta-command but a layout pg_dump never writes (e.g. SQL after COPY ... FROM stdin; on its line). */
  why?: string;
}

export interface ScriptScanResult {
  untrusted: UntrustedLine[];
  /** Lines holding a NUL byte: not SQL text at all. */
  nul: Array<{ file: string; line: number }>;
}

/**
 * Reads every script of a plain backup before anything is restored and lists the psql
 * commands in it that pg_dump does not write (sql-script.ts). A read error ends the scan of that
 * file; the restore reports it.
 */
export async function scanBackupScripts(scripts: readonly BackupScript[]): Promise<ScriptScanResult> {
  const result: ScriptScanResult = { untrusted: [], nul: [] };
  for (const script of scripts) {
    const scan = await scanScript(openScript(script.file, { gzip: script.gzip }).chunks);
    result.untrusted.push(...scan.untrusted.map((u) => ({ file: script.label, ...u })));
    result.nul.push(...scan.nul.map((line) => ({ file: script.label, line })));
  }
  return result;
}

/**
 * Runs scripts in one session of the restore target with postgate's script runner (never
 * psql: see sql-script.ts), collecting failed statements. `between` runs before each script
 * after the first (e.g. `SET session_replication_role = replica` before data.sql).
 */
async function runScripts(
  target: DatabaseTarget,
  scripts: ReadonlyArray<BackupScript & { before?: string }>,
  collector: ErrorCollector,
  progress: Progress,
  untrusted: UntrustedLine[],
): Promise<void> {
  const runner = await ScriptRunner.open(target);
  try {
    for (const script of scripts) {
      const onError = (message: string, where: string) => collector.add(message, where);
      if (script.before) await runner.exec(script.before, onError, `before ${script.label}`);
      const source = openScript(script.file, { gzip: script.gzip, onBytes: (bytes) => progress.add(bytes) });
      const ran = await runner.run(source.chunks, script.label, onError);
      untrusted.push(...ran.untrusted.map((u) => ({ file: script.label, ...u })));
      const status = source.status();
      if (status.error) collector.add(status.error);
      else if (!ran.stopped && script.expectTrailer && !status.tail.includes(DUMP_COMPLETE)) {
        collector.add(`the dump ends without pg_dump's closing "${DUMP_COMPLETE}" line: it is truncated (unexpected end of file)`);
      }
      if (ran.stopped) {
        // untrusted content is reported as its own finding; anything else is a failed restore
        if (!ran.untrusted.length) collector.add(ran.stopped);
        break;
      }
    }
  } finally {
    await runner.close();
  }
}

function scriptOutcome(collector: ErrorCollector, progress: Progress, untrusted: UntrustedLine[]): RestoreOutcome {
  return { ...outcome(collector, [SCRIPT_RUNNER], progress), ...(untrusted.length ? { untrusted } : {}) };
}

/** Restores plain SQL (optionally gzip-compressed). */
export async function restorePlain(artifact: Artifact, context: RestoreContext): Promise<RestoreOutcome> {
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, artifact.sizeBytes);
  const untrusted: UntrustedLine[] = [];
  await runScripts(context.target, backupScripts(artifact), collector, progress, untrusted);
  return scriptOutcome(collector, progress, untrusted);
}

/**
 * Restores `supabase db dump` files as Supabase documents it: roles.sql, then schema.sql, then
 * data.sql with `session_replication_role = replica` (triggers and foreign keys off while loading).
 */
export async function restoreSupabaseFiles(artifact: Artifact, context: RestoreContext): Promise<RestoreOutcome> {
  const files = artifact.supabase;
  if (!files) throw new UserError(`${artifact.path} holds no schema.sql; point \`dump-path\` at the folder with the supabase db dump files.`);
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, artifact.sizeBytes);
  const untrusted: UntrustedLine[] = [];
  const script = (file: string) => ({ file, gzip: false, label: path.basename(file) });
  if (files.roles) await runScripts(context.target, [script(files.roles)], collector, progress, untrusted);
  if (!untrusted.length) {
    const rest = [script(files.schema), ...(files.data ? [{ ...script(files.data), before: 'SET session_replication_role = replica' }] : [])];
    await runScripts(context.target, rest, collector, progress, untrusted);
  }
  return scriptOutcome(collector, progress, untrusted);
}

/** A roles file postgate wrote itself (pg_dumpall --roles-only of a live source), loaded before the dump. */
export async function restoreRolesFile(file: string, context: RestoreContext): Promise<RestoreOutcome> {
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, 0);
  const untrusted: UntrustedLine[] = [];
  await runScripts(context.target, [{ file, gzip: false, label: path.basename(file) }], collector, progress, untrusted);
  return scriptOutcome(collector, progress, untrusted);
}

/**
 * The checksum phase's second half, for a plain backup whose checksum matched: a plain backup is
 * untrusted input even then, since psql would run any meta-command in it on the runner, so every
 * script is read before anything is restored. `ok` when nothing but what pg_dump writes was found.
 */
export async function scanScripts(state: Fetched, scripts: readonly BackupScript[]): Promise<{ ok: boolean; summary: string }> {
  const scan = await scanBackupScripts(scripts);
  state.findings.push(...untrustedFindings(scan.untrusted));
  const [nul] = scan.nul;
  if (nul) {
    const more = scan.nul.length > 1 ? ` (and ${scan.nul.length - 1} more line(s))` : '';
    state.findings.push(
      problemFinding(
        { kind: 'corrupt', message: `line ${nul.line} of ${nul.file} holds a NUL byte, which no SQL text has${more}`, count: 1 },
        { artifact: state.artifact, supabase: false, baselineApplied: false, server: '' },
      ),
    );
  }
  return {
    ok: scan.untrusted.length === 0 && scan.nul.length === 0,
    summary: scan.untrusted.length ? `${scan.untrusted.length} line(s) with psql commands pg_dump never writes: not restored` : 'only what pg_dump writes',
  };
}

/**
 * restore: the Supabase baseline when needed, then pg_restore or the script runner; every failed
 * statement becomes a finding. Nothing is restored into an older major than the backup's, nor
 * from an archive whose table of contents is unreadable (`restoreRan` stays false).
 */
export async function restoreBackup(state: Targeted): Promise<void> {
  const { artifact, target, findings } = state;
  const dumpMajor = Math.max(state.sourceMajor ?? 0, 0);
  if (dumpMajor > target.major) {
    findings.push(
      drillFinding({
        rule: 'drill_dump_newer_than_target',
        object: { kind: 'file', name: path.basename(artifact.path) },
        message: `The backup comes from PostgreSQL ${state.sourceVersion ?? dumpMajor} but the restore target runs PostgreSQL ${target.version}; a dump only loads into the same or a newer major, so it was not restored.`,
        remediation: `Restore into PostgreSQL ${dumpMajor} or newer: set \`postgres-version: ${dumpMajor}\` (with its binaries installed), or use \`shadow: docker\`.`,
      }),
    );
    return;
  }
  if (!(await readArchiveToc(state))) return;
  state.restoreRan = true;
  const supabase = sourceIsSupabase(state);
  state.supabase = supabase;
  let baselineApplied = false;
  const outcome = await state.phases.run(
    'restore',
    `${FORMAT_LABELS[artifact.format]} into PostgreSQL ${target.version}${state.jobs > 1 ? ` (${state.jobs} jobs)` : ''}`,
    async () => {
      baselineApplied = await applyBaseline(state, supabase);
      return load(state, supabase, baselineApplied);
    },
    restoreFailure,
  );
  const server = `PostgreSQL ${target.version} (${target.provider})`;
  for (const problem of outcome.problems) {
    findings.push(problemFinding(problem, { artifact, supabase, baselineApplied, server, restoredAsPlatformRole: loadsAsPlatformRole(artifact, target) }));
  }
  if (outcome.untrusted) findings.push(...untrustedFindings(outcome.untrusted));
  state.details.restore = {
    tools: outcome.tools,
    failed_statements: outcome.problems.reduce((sum, p) => sum + p.count, 0),
    ...(outcome.ignored ? { harmless_errors: outcome.ignored } : {}),
    ...(outcome.cascaded ? { follow_on_errors: outcome.cascaded } : {}),
  };
  state.metrics.restore_ms = state.phases.lastMs();
}

/** An archive's table of contents must be readable (pg_restore -l); unreadable is a corrupt backup. */
async function readArchiveToc(state: Targeted): Promise<boolean> {
  const { artifact, target } = state;
  if (state.toc || !ARCHIVE_FORMATS.includes(artifact.format)) return true;
  const read = await readToc(artifact, target.major);
  if (read.problem) {
    state.findings.push(problemFinding(read.problem, { artifact, supabase: false, baselineApplied: false, server: `PostgreSQL ${target.version}` }));
    return false;
  }
  state.toc = read.toc;
  return true;
}

/** The Supabase baseline (roles, schemas, extensions) for a Supabase backup in a plain PostgreSQL: true when applied. */
async function applyBaseline(state: Targeted, supabase: boolean): Promise<boolean> {
  const { target } = state;
  if (!wantsBaseline(state.config.baseline, supabase) || target.supabaseImage) return false;
  if (!target.mayCreateRoles) {
    state.details.baseline = {
      applied: false,
      reason: 'target-database-url is not disposable: roles are cluster-wide, so postgate does not create them there',
    };
    return false;
  }
  const admin = await connect(target.url, { gate: 'drill', readOnly: false, inputName: 'target' });
  try {
    const baseline = await applySupabaseBaseline(admin, { requiredExtensions: createdExtensions(state.artifact, state.toc) });
    // The baseline's default privileges would grant anon/authenticated on every
    // restored object, on top of the grants pg_dump recorded; the dump restores the
    // source's own default privileges at its end.
    await admin.query(CLEAR_DEFAULT_PRIVILEGES_SQL);
    state.details.baseline = { applied: true, missing_extensions: baseline.missingExtensions, stand_ins: baseline.standIns };
    return true;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Loads the backup itself (and its Supabase platform data, live or beside a file with a manifest; for a live drill, its roles file). */
async function load(state: Targeted, supabase: boolean, baselineApplied: boolean): Promise<RestoreOutcome> {
  const { artifact, target, live, toc } = state;
  const platformDataFile = live?.platformDataFile ?? state.platformDataFile;
  const asSuperuser = { target: target.target, targetMajor: target.major, jobs: state.jobs, log: state.context.log };
  const restoreContext = loadsAsPlatformRole(artifact, target) ? { ...asSuperuser, target: target.restoreAs } : asSuperuser;
  if (live?.rolesFile && !supabase && target.mayCreateRoles && existsSync(live.rolesFile)) {
    // A help, not part of the backup: its failures (roles that exist already) are not findings.
    await restoreRolesFile(live.rolesFile, asSuperuser);
  }
  if (toc) {
    const tool = await resolveClientTool('pg_restore', {
      minMajor: majorOfVersion(artifact.header.dumpVersion) ?? 0,
      serverMajor: target.major,
      purpose: `restore ${path.basename(artifact.path)}`,
    });
    const platform = platformDataFile && (baselineApplied || target.supabaseImage) ? await restorePlatformData(platformDataFile, tool, asSuperuser) : undefined;
    const main = await restoreArchive(artifact, toc, tool, restoreContext);
    return platform ? { ...main, problems: [...platform.problems, ...main.problems], ignored: main.ignored + platform.ignored } : main;
  }
  if (artifact.format === 'supabase') return restoreSupabaseFiles(artifact, restoreContext);
  return restorePlain(artifact, restoreContext);
}

/** The restore phase failed when a statement of the backup failed or the backup held psql commands. */
function restoreFailure(outcome: RestoreOutcome): string | undefined {
  const failed = outcome.problems.reduce((sum, p) => sum + p.count, 0);
  if (outcome.untrusted?.length) return `${outcome.untrusted.length} line(s) with psql commands pg_dump never writes`;
  return failed ? `${failed} statement(s) of the backup failed` : undefined;
}

/** Extensions the backup creates (for the baseline's report of what this server lacks). */
function createdExtensions(artifact: Artifact, toc: TocSummary | undefined): string[] {
  if (toc) return toc.extensions;
  return findCreatedExtensions(textHead(artifact, 8 * 1024 * 1024));
}

/** Messages of statements only a superuser may run (SQLSTATE 42501 as PostgreSQL words it). */
const NEEDS_SUPERUSER = /must be superuser|permission denied|must be owner|must have privileges of|must be able to SET ROLE/i;

function problemFinding(
  problem: RestoreProblem,
  context: { artifact: Artifact; supabase: boolean; baselineApplied: boolean; server: string; restoredAsPlatformRole?: boolean },
): Finding {
  const counted = problem.count > 1 ? ` (${problem.count} statements failed this way)` : '';
  const example = problem.example ? `first failure: ${problem.example}` : undefined;
  switch (problem.kind) {
    case 'role':
      return drillFinding({
        rule: 'drill_role_missing',
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
      return drillFinding({
        rule: 'drill_extension_missing',
        object: { kind: 'extension', name: problem.name! },
        message: `Extension ${problem.name} is not available on the restore target (${context.server}), so it and everything that depends on it failed to restore${counted}.`,
        remediation: context.supabase
          ? `Restore into a supabase/postgres image that ships ${problem.name} (shadow: docker, image: supabase/postgres:<tag>), or install it on the restore server.`
          : `Install ${problem.name} on the restore server (e.g. apt-get install postgresql-<major>-${problem.name}), or restore with shadow: docker and an image that has it.`,
      });
    case 'schema':
      return drillFinding({
        rule: 'drill_restore_error',
        object: { kind: 'schema', name: problem.name! },
        message: `Schema ${problem.name} does not exist on the restore target, so statements that use it failed${counted}.`,
        ...(example ? { detail: example } : {}),
        remediation: SUPABASE_PLATFORM_SCHEMAS.includes(problem.name!)
          ? `${problem.name} is a Supabase platform schema: set \`drill.baseline: auto\` (or supabase) so postgate applies its Supabase baseline first, or restore into a supabase/postgres image.`
          : `Make sure the backup creates schema ${problem.name} (pg_dump --schema options) before the objects in it.`,
      });
    case 'corrupt':
      return drillFinding({
        rule: 'drill_artifact_corrupt',
        object: { kind: 'file', name: path.basename(context.artifact.path) },
        message: `${path.basename(context.artifact.path)} is truncated or unreadable: ${problem.message}.`,
        remediation:
          'Take a new backup and record its SHA-256 at creation (sha256sum), so the next drill catches this before the restore; check the backup job for a full disk or an interrupted upload.',
      });
    case 'other': {
      const platformRefused = context.restoredAsPlatformRole && NEEDS_SUPERUSER.test(problem.message);
      return drillFinding({
        rule: 'drill_restore_error',
        object: { kind: 'statement', name: problem.message.slice(0, 120) },
        message: `A statement of the backup failed during the restore: ${problem.message}${counted}.${
          platformRefused
            ? ' The backup was loaded as a restore into Supabase loads it, by `postgres`, which is not a superuser (the superuser is `supabase_admin`), so this statement fails there too.'
            : ''
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
    drillFinding({
      rule: 'drill_backup_untrusted_command',
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
      drillFinding({
        rule: 'drill_backup_untrusted_command',
        object: { kind: 'file', name: `${rest[0]!.file}:more` },
        message: `${rest.length} more line(s) hold psql commands pg_dump never writes (first: line ${rest[0]!.line} of ${rest[0]!.file}).`,
        remediation,
      }),
    );
  }
  return named;
}
