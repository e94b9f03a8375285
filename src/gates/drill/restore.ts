/**
 * Loading a backup into the restore target: pg_restore (parallel for custom and directory
 * archives) or psql (plain SQL, streamed through gunzip for .sql.gz, and the three files of
 * `supabase db dump` in the documented order). Errors do not stop the restore: every failed
 * statement is collected and grouped (missing role, missing extension, missing schema,
 * corruption, other), so one drill names everything that is wrong.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { formatDuration } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import { resolveClientTool, type ResolvedTool, runClientTool } from '../../postgres/tools.ts';
import type { DatabaseTarget } from '../../postgres/url.ts';
import type { Logger } from '../gate.ts';
import { type Artifact, majorOfVersion } from './artifact.ts';

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
}

/**
 * Harmless on a restore target: PostgreSQL 17's setting on an older server, roles.sql re-creating a
 * role, and the publication the Supabase baseline and image already have.
 */
const IGNORABLE = [/unrecognized configuration parameter "transaction_timeout"/, /role "[^"]+" already exists/, /publication "supabase_realtime" already exists/];

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

function readerTool(artifact: Artifact, name: 'pg_restore' | 'psql', targetMajor: number): Promise<ResolvedTool> {
  const dumpMajor = majorOfVersion(artifact.header.dumpVersion);
  const needed = name === 'pg_restore' ? (dumpMajor ?? 0) : 0;
  return resolveClientTool(name, { minMajor: needed, serverMajor: targetMajor, purpose: `restore ${path.basename(artifact.path)}` });
}

/** `pg_restore -l`: the archive's TOC, or a corruption problem when it cannot be read. */
export async function readToc(artifact: Artifact, targetMajor: number): Promise<{ toc?: TocSummary; problem?: RestoreProblem; tool: ResolvedTool }> {
  const tool = await readerTool(artifact, 'pg_restore', targetMajor);
  const result = await runClientTool(tool, ['-l', artifact.path], { paths: [artifact.path] });
  if (result.exitCode !== 0) {
    const first = result.stderr.split('\n').find((l) => l.trim())?.replace(/^pg_restore: (error: )?/, '') ?? `exit code ${result.exitCode}`;
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
    if (this.totalBytes) parts.push(`${formatBytes(this.bytes)} of ${formatBytes(this.totalBytes)}`);
    this.log.info(`restoring: ${parts.join(', ')} (${formatDuration(now - this.started)})`);
  }

  get done(): { tables: number; bytes: number } {
    return { tables: this.tables, bytes: this.bytes };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
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
  const progress = new Progress(context.log, toc.tables.length, [...sizes.values()].reduce((a, b) => a + b, 0));
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
    collector.add(/errors ignored on restore/.test(last) ? `pg_restore reported failed statements (${last.replace(/^.*warning: /, '')}) but their messages could not be read from its output` : last.replace(/^pg_restore: (error: )?/, ''));
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
  if (result.exitCode !== 0 && collector.groups.size === 0) collector.add(result.stderr.trim().split('\n').pop() || `pg_restore exited with code ${result.exitCode}`);
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

/**
 * Streams a file (gunzipped when `gzip`) into psql's stdin, counting bytes for progress and
 * watching for a broken gzip stream and pg_dump's closing line.
 */
function sqlStream(file: string, gzip: boolean, progress: Progress): { input: Readable; status: () => { error?: string; tail: string } } {
  const tap = new PassThrough();
  let error: string | undefined;
  let tail = '';
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  source.on('data', (chunk) => progress.add((chunk as Buffer).length));
  const stop = (message: string) => {
    error ??= message;
    tap.end();
  };
  source.on('error', (e) => stop(`cannot read the file: ${e.message}`));
  let upstream: Readable = source;
  if (gzip) {
    const gunzip = createGunzip();
    gunzip.on('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      stop(code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message) ? 'gzip stream ended early (unexpected end of file): the file is truncated' : `gzip stream is corrupt (${e.message})`);
    });
    source.pipe(gunzip);
    upstream = gunzip;
  }
  upstream.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.subarray(Math.max(0, chunk.length - 256)).toString('utf8')).slice(-256);
  });
  upstream.pipe(tap);
  return { input: tap, status: () => ({ ...(error ? { error } : {}), tail }) };
}

const PSQL_ARGS = ['-X', '-q', '--no-password', '-v', 'ON_ERROR_STOP=0'];

/** Restores plain SQL (optionally gzip-compressed) with psql. */
export async function restorePlain(artifact: Artifact, context: RestoreContext): Promise<RestoreOutcome> {
  const tool = await readerTool(artifact, 'psql', context.targetMajor);
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, artifact.sizeBytes);
  const stream = sqlStream(artifact.path, artifact.format === 'plain-gzip', progress);
  const result = await runClientTool(tool, [...PSQL_ARGS, '-d', context.target.database, '-f', '-'], {
    connection: context.target,
    input: stream.input,
    paths: [artifact.path],
    onStderrLine: (line) => collector.line(line),
  });
  const status = stream.status();
  if (status.error) collector.add(status.error);
  else if (artifact.header.dumpVersion && !status.tail.includes(DUMP_COMPLETE)) {
    collector.add(`the dump ends without pg_dump's closing "${DUMP_COMPLETE}" line: it is truncated (unexpected end of file)`);
  }
  if (result.exitCode !== 0 && collector.groups.size === 0) {
    collector.add(result.stderr.trim().split('\n').pop() || `psql exited with code ${result.exitCode}`);
  }
  return outcome(collector, [`${tool.name} ${tool.version}`], progress);
}

/**
 * Restores `supabase db dump` files as Supabase documents it: roles.sql, then schema.sql, then
 * data.sql with `session_replication_role = replica` (triggers and foreign keys off while loading).
 */
export async function restoreSupabaseFiles(artifact: Artifact, context: RestoreContext): Promise<RestoreOutcome> {
  const files = artifact.supabase;
  if (!files) throw new UserError(`${artifact.path} holds no schema.sql; point \`dump-path\` at the folder with the supabase db dump files.`);
  const tool = await readerTool(artifact, 'psql', context.targetMajor);
  const collector = new ErrorCollector();
  const progress = new Progress(context.log, 0, artifact.sizeBytes);
  const run = async (args: string[]) => {
    const result = await runClientTool(tool, [...PSQL_ARGS, '-d', context.target.database, ...args], {
      connection: context.target,
      paths: [artifact.path],
      onStderrLine: (line) => collector.line(line),
    });
    if (result.exitCode !== 0 && collector.groups.size === 0) collector.add(result.stderr.trim().split('\n').pop() || `psql exited with code ${result.exitCode}`);
  };
  if (files.roles) {
    await run(['-f', files.roles]);
    progress.add(statSync(files.roles).size);
  }
  const rest = ['-f', files.schema, ...(files.data ? ['-c', 'SET session_replication_role = replica', '-f', files.data] : [])];
  await run(rest);
  progress.add(statSync(files.schema).size + (files.data ? statSync(files.data).size : 0));
  return outcome(collector, [`${tool.name} ${tool.version}`], progress);
}
