/**
 * PostgreSQL client tools (`pg_dump`, `pg_dumpall`, `pg_restore`, `psql`), found and run in one place.
 *
 * The rule is the server's: `pg_dump` refuses a server of a newer major ("aborting because of
 * server version mismatch"), and a `pg_restore` cannot read an archive written by a newer
 * `pg_dump`. So every caller says which major it needs at least, and gets, in this order:
 *
 * 1. an installed tool of that major or newer (PG_BIN, `pg_config --bindir`, Debian/Ubuntu's
 *    /usr/lib/postgresql/<major>/bin, RHEL's /usr/pgsql-<major>/bin, Homebrew, then PATH),
 *    preferring the server's own major, else the newest;
 * 2. the tool run inside a `postgres:<major>` container when a Docker engine is there
 *    (host network, the files it touches bind-mounted at the same paths);
 * 3. otherwise a UserError with the exact fix.
 *
 * Tools run through execa. Connection details go in libpq environment variables
 * (PGHOST, PGPASSWORD, ...), never on the command line, so no password shows in `ps`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { childEnv } from './child-env.ts';
import { dockerUnavailableReason } from './ephemeral/docker.ts';
import { trackProcessGroup } from './ephemeral/registry.ts';
import type { DatabaseTarget } from './url.ts';

export const CLIENT_TOOL_NAMES = ['pg_dump', 'pg_dumpall', 'pg_restore', 'psql'] as const;
export type ClientToolName = (typeof CLIENT_TOOL_NAMES)[number];

export interface ClientTool {
  name: ClientToolName;
  major: number;
  /** e.g. "15.18" (for a container: the image's major only, e.g. "17"). */
  version: string;
  /** `local`: a binary on this machine; `docker`: run from a postgres:<major> image. */
  runner: 'local' | 'docker';
  /** The binary (local) or the image (docker): for reports. */
  where: string;
}

export interface ToolRequirement {
  /** The lowest major that will do (pg_dump: the source server's; pg_restore: the archive's pg_dump). */
  minMajor: number;
  /** The server the tool talks to: an installed tool of exactly this major is preferred. */
  serverMajor?: number;
  /** What the tool is for, in messages ("dump the source database"). */
  purpose: string;
}

const VERSION_LINE = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/;

/** A regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function subdirs(parent: string, match: RegExp, bin: (entry: string) => string): string[] {
  if (!existsSync(parent)) return [];
  try {
    return readdirSync(parent)
      .filter((entry) => match.test(entry))
      .map(bin);
  } catch {
    return [];
  }
}

function pgConfigBindir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

/** Where client tools may live, most specific first. */
function candidateDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.PG_BIN) dirs.push(process.env.PG_BIN);
  const bindir = pgConfigBindir();
  if (bindir) dirs.push(bindir);
  dirs.push(...subdirs('/usr/lib/postgresql', /^\d+$/, (e) => `/usr/lib/postgresql/${e}/bin`));
  dirs.push(...subdirs('/usr', /^pgsql-\d+$/, (e) => `/usr/${e}/bin`));
  for (const prefix of ['/opt/homebrew/opt', '/usr/local/opt']) {
    dirs.push(...subdirs(prefix, /^(postgresql(@\d+)?|libpq)$/, (e) => `${prefix}/${e}/bin`));
  }
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  return dirs;
}

/** `pg_dump --version` prints e.g. "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
export function parseToolVersion(output: string): { major: number; version: string } | undefined {
  const match = VERSION_LINE.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  // Before PostgreSQL 10 the major had two parts (9.6); postgate supports 13 and newer anyway.
  return { major, version: match[2] !== undefined ? `${match[1]}.${match[2]}` : String(major) };
}

export interface LocalTool extends ClientTool {
  runner: 'local';
  /** Absolute path of the binary. */
  file: string;
}

const localCache = new Map<string, LocalTool[]>();

/** Every distinct installed copy of `name`, newest major first. */
export function findLocalTools(name: ClientToolName): LocalTool[] {
  const key = `${name}\0${process.env.PG_BIN ?? ''}\0${process.env.PATH ?? ''}`;
  const cached = localCache.get(key);
  if (cached) return cached;
  const seen = new Set<string>();
  const found: LocalTool[] = [];
  for (const dir of candidateDirs()) {
    const file = path.join(dir, name);
    if (!isExecutable(file)) continue;
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      continue;
    }
    // Debian's /usr/bin/pg_dump is pg_wrapper, which picks a version per cluster; the
    // versioned directories are scanned directly instead.
    if (seen.has(real) || real.endsWith('/pg_wrapper')) continue;
    seen.add(real);
    let output = '';
    try {
      output = execFileSync(file, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    } catch {
      continue;
    }
    const parsed = parseToolVersion(output);
    if (parsed) found.push({ name, ...parsed, runner: 'local', where: file, file });
  }
  found.sort((a, b) => b.major - a.major);
  localCache.set(key, found);
  return found;
}

/** The exact fix when no suitable tool exists: install commands per platform. */
export function installHint(major: number): string {
  return (
    `install the PostgreSQL ${major} client tools (GitHub runners, Debian and Ubuntu: ` +
    `\`sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y && sudo apt-get install -y postgresql-client-${major}\`; ` +
    `macOS: \`brew install postgresql@${major}\`), or set PG_BIN to a PostgreSQL ${major} bin directory`
  );
}

export interface DockerTool extends ClientTool {
  runner: 'docker';
  image: string;
}

export type ResolvedTool = LocalTool | DockerTool;

/**
 * Picks a tool that satisfies the requirement: installed, else in a container, else a
 * UserError naming what was found and the fix.
 */
export async function resolveClientTool(name: ClientToolName, requirement: ToolRequirement): Promise<ResolvedTool> {
  const installed = findLocalTools(name);
  const usable = installed.filter((tool) => tool.major >= requirement.minMajor);
  const preferred = usable.find((tool) => tool.major === requirement.serverMajor) ?? usable[0];
  if (preferred) return preferred;

  const found = installed.length ? installed.map((tool) => `${tool.name} ${tool.version}`).join(', ') : `no ${name} at all`;
  const dockerMissing = await dockerUnavailableReason();
  const image = `postgres:${requirement.minMajor}`;
  if (!dockerMissing) {
    if (findOnPath('docker')) return { name, major: requirement.minMajor, version: String(requirement.minMajor), runner: 'docker', where: image, image };
    throw new UserError(
      `To ${requirement.purpose} postgate needs ${name} ${requirement.minMajor} or newer (found: ${found}); a Docker engine is reachable but the \`docker\` command is not on PATH, so ${installHint(requirement.minMajor)}.`,
    );
  }
  throw new UserError(
    `To ${requirement.purpose} postgate needs ${name} ${requirement.minMajor} or newer (found: ${found}) and no Docker engine is available to run it from ${image}; ${installHint(requirement.minMajor)}.`,
  );
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** libpq environment for a target: the password travels in PGPASSWORD, never in argv. */
export function connectionEnv(target: DatabaseTarget, application = 'postgate/drill'): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
    PGSSLMODE: target.sslmode,
    PGAPPNAME: application,
    PGCONNECT_TIMEOUT: String(target.connectTimeoutSeconds ?? 10),
  };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  if (target.sslrootcert) env.PGSSLROOTCERT = target.sslrootcert;
  if (target.sslcert) env.PGSSLCERT = target.sslcert;
  if (target.sslkey) env.PGSSLKEY = target.sslkey;
  return env;
}

const MISMATCH = /aborting because of server version mismatch[\s\S]*?server version:\s*([\d.]+)[\s\S]*?(?:pg_dump|pg_dumpall) version:\s*([\d.]+)/;

/** The server and tool versions from pg_dump's "aborting because of server version mismatch". */
export function parseVersionMismatch(stderr: string): { server: string; tool: string } | undefined {
  const match = MISMATCH.exec(stderr);
  return match ? { server: match[1]!, tool: match[2]! } : undefined;
}

export interface RunOptions {
  /** Database to connect to (through libpq environment variables). */
  connection?: DatabaseTarget;
  /** Piped to the tool's stdin. */
  input?: Readable;
  /** Called for each stderr line as it arrives (progress). */
  onStderrLine?: (line: string) => void;
  /** Paths the tool reads or writes (bind-mounted when it runs in a container). */
  paths?: string[];
  cancelSignal?: AbortSignal;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool to completion; never throws for a non-zero exit (the caller reads stderr).
 *
 * The tool leads a process group of its own, tracked like a cluster (registry.ts): when postgate
 * is stopped or signalled the whole group ends (pg_dump -j's workers too), and when postgate is
 * killed outright the action's post step, or the next run, ends it from the state record. A
 * pg_dump of a killed drill does not go on writing production data into a temp directory.
 */
export async function runClientTool(tool: ResolvedTool, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = options.connection ? connectionEnv(options.connection) : {};
  let file: string;
  let argv: string[];
  let container: string | undefined;
  if (tool.runner === 'local') {
    file = tool.file;
    argv = args;
  } else {
    file = 'docker';
    container = `postgate-tool-${randomUUID()}`;
    const mounts = [...new Set((options.paths ?? []).map((p) => (existsSync(p) && statSync(p).isDirectory() ? p : path.dirname(p))))];
    const user = process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : [];
    argv = [
      'run',
      '--rm',
      '-i',
      '--name',
      container,
      '--network',
      'host',
      ...user,
      ...mounts.flatMap((dir) => ['-v', `${dir}:${dir}`]),
      ...Object.keys(env).flatMap((name) => ['-e', name]),
      tool.image,
      tool.name,
      ...args,
    ];
  }
  const child = execa(file, argv, {
    env: childEnv({ ...env, LC_MESSAGES: 'C', PGCLIENTENCODING: 'UTF8' }, { docker: tool.runner !== 'local' }),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input ? { stdin: 'pipe' as const } : { stdin: 'ignore' as const }),
    ...(options.cancelSignal ? { cancelSignal: options.cancelSignal } : {}),
    maxBuffer: 256 * 1024 * 1024,
    // its own process group: stopped with it by postgate, not by a signal to postgate's group
    detached: true,
  });
  const release = child.pid
    ? trackProcessGroup(child.pid, { command: tool.runner === 'local' ? path.basename(tool.file) : 'docker', ...(container ? { container } : {}) })
    : () => undefined;
  if (options.input && child.stdin) {
    // The tool may exit before reading everything (a fatal error): that EPIPE is not ours to report.
    child.stdin.on('error', () => undefined);
    options.input.on('error', () => child.stdin?.destroy());
    options.input.pipe(child.stdin);
  }
  if (options.onStderrLine && child.stderr) {
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine?.(line);
    });
  }
  let result: Awaited<typeof child>;
  try {
    result = await child;
  } finally {
    release();
  }
  return {
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : 1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

/** Turns pg_dump's version-mismatch refusal into the same fix as the up-front check. */
export function versionMismatchError(stderr: string, name: ClientToolName, purpose: string): UserError | undefined {
  const mismatch = parseVersionMismatch(stderr);
  if (!mismatch) return undefined;
  const serverMajor = Number(mismatch.server.split('.')[0]);
  return new UserError(
    `To ${purpose} postgate needs ${name} ${serverMajor} or newer, but ${name} ${mismatch.tool} aborted because of server version mismatch (server ${mismatch.server}); ${installHint(serverMajor)}.`,
  );
}
