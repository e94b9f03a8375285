/**
 * The `docker` provider: a PostgreSQL container through testcontainers, loaded lazily
 * (it is heavy and most runs never need it). `postgres:<major>` by default, or any
 * image such as `supabase/postgres:<tag>` for full Supabase fidelity.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { UserError } from '../../errors.ts';
import { registerSecret } from '../../secrets.ts';
import { standInFiles, standInsFor } from './private-install.ts';
import { track, untrack } from './registry.ts';
import type { Cluster } from './types.ts';

export const NO_DOCKER_REASON = 'testcontainers could not reach a container runtime (DOCKER_HOST, /var/run/docker.sock)';
export const NO_DOCKER_MESSAGE = `No Docker engine found: ${NO_DOCKER_REASON}; start Docker or use \`shadow: local\` with PostgreSQL binaries installed.`;

type Testcontainers = typeof import('testcontainers');

async function loadTestcontainers(): Promise<Testcontainers> {
  return import('testcontainers');
}

/** Resolves to undefined when a container runtime is reachable, else why not. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await loadTestcontainers();
    await getContainerRuntimeClient();
    return undefined;
  } catch {
    return NO_DOCKER_REASON;
  }
}

export async function startDockerCluster(options: { major?: number; image?: string; settings?: Record<string, string> }): Promise<Cluster> {
  if (await dockerUnavailableReason()) throw new UserError(NO_DOCKER_MESSAGE);
  const { GenericContainer, Wait } = await loadTestcontainers();
  const image = options.image ?? `postgres:${options.major ?? 17}`;
  const supabaseImage = image.startsWith('supabase/postgres');
  const user = supabaseImage ? 'supabase_admin' : 'postgres';
  const password = randomBytes(18).toString('base64url');
  registerSecret(password);
  const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...options.settings };
  const command = ['postgres', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];

  let container: Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>;
  try {
    container = await new GenericContainer(image)
      .withEnvironment({ POSTGRES_PASSWORD: password, POSTGRES_USER: user, POSTGRES_DB: 'postgres' })
      .withCommand(command)
      .withExposedPorts(5432)
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withStartupTimeout(180_000)
      .start();
  } catch (error) {
    throw new UserError(`Could not start container ${image}: ${(error as Error).message.split('\n')[0]}; check the image name and that Docker can pull it.`);
  }
  const id = `docker-${randomUUID()}`;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= container
      .stop({ remove: true, removeVolumes: true })
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => untrack(id));
    return stopping;
  };
  track({
    record: { id, ownerPid: process.pid, containerId: container.getId(), createdAt: new Date().toISOString() },
    stop,
    stopSync: () => undefined,
  });
  const standIns = supabaseImage ? [] : await addStandIns(container);
  const host = container.getHost();
  const port = container.getMappedPort(5432);
  const base = `postgresql://${user}:${encodeURIComponent(password)}@${host}:${port}`;
  const url = `${base}/postgres?sslmode=disable`;
  const client = new pg.Client({ connectionString: url });
  // A shutdown (SIGTERM) can end the session between statements: that must reject, not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  const version = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '';
  await client.end();
  let created = 0;
  return {
    provider: 'docker',
    url,
    adminUrl: url,
    asAdmin: (database: string) => database,
    profile: 'postgres',
    standIns,
    major: Number(version.split('.')[0]),
    version: version.split(' ')[0] ?? version,
    async createDatabase(name?: string) {
      const database = name ?? `scratch_${++created}`;
      const admin = new pg.Client({ connectionString: url });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      } finally {
        await admin.end();
      }
      return `${base}/${encodeURIComponent(database)}?sslmode=disable`;
    },
    stop,
  };
}

interface StartedContainer {
  exec(command: string[]): Promise<{ exitCode: number; output: string }>;
  copyContentToContainer(files: Array<{ content: string; target: string }>): Promise<void>;
}

/**
 * The stand-ins the image lacks, written into the container's own share/extension (the
 * container is throwaway; nothing outside it is touched). supabase/postgres images have the
 * real extensions and get none.
 */
async function addStandIns(container: StartedContainer): Promise<string[]> {
  const share = await container.exec(['pg_config', '--sharedir']);
  const dir = share.exitCode === 0 ? `${share.output.trim()}/extension` : undefined;
  if (!dir) return [];
  const listing = await container.exec(['ls', dir]);
  if (listing.exitCode !== 0) return [];
  const wanted = standInsFor(new Set(listing.output.split('\n').map((name) => name.trim())));
  const files = wanted.flatMap((standIn) => [...standInFiles(standIn)].map(([name, content]) => ({ content, target: `${dir}/${name}` })));
  if (files.length) await container.copyContentToContainer(files);
  return wanted.map((standIn) => standIn.name);
}
