/**
 * Cluster ready (initdb + start + first query) through postgate's local provider, against
 * the raw floor in the same run: `initdb` + `pg_ctl start -w` + the same first query, with
 * the same binaries, as the same user. Interleaved runs, medians. Goal: <= 1.2x.
 */
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { chooseInstallation, freePort, runAsUser } from '../../src/postgres/ephemeral/local.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { type Bench, median, result } from '../types.ts';

async function firstQuery(config: pg.ClientConfig): Promise<void> {
  const client = new pg.Client(config);
  await client.connect();
  await client.query('select 1');
  await client.end();
}

/**
 * A fresh process whose cache has no initdb template (its first cluster runs initdb). With
 * `cache` it keeps that cache's private installation; without, the cache is empty and the
 * process first builds the private installation (first use on a machine).
 */
async function firstClusterOfProcess(major: number, cache?: string): Promise<number> {
  const dir = cache ?? mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-cache-'));
  rmSync(path.join(dir, 'templates'), { recursive: true, force: true });
  try {
    const { stdout } = await execa(process.execPath, [path.join(import.meta.dirname, 'first-cluster.ts'), String(major)], {
      env: { ...process.env, POSTGATE_CACHE_DIR: dir },
    });
    return Number(stdout.trim());
  } finally {
    if (!cache) rmSync(dir, { recursive: true, force: true });
  }
}

async function postgateReady(major: number): Promise<number> {
  const started = performance.now();
  const cluster = await startCluster({ shadow: 'local', major });
  await firstQuery({ connectionString: cluster.url });
  const elapsed = performance.now() - started;
  await cluster.stop();
  return elapsed;
}

async function rawReady(major: number): Promise<number> {
  const installation = chooseInstallation(major);
  const user = runAsUser();
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...installation.env, LC_ALL: 'C' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postgate-pg-bench-raw-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const started = performance.now();
  try {
    await execa(path.join(installation.binDir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      env,
      ...as,
    });
    await execa(
      path.join(installation.binDir, 'pg_ctl'),
      ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'],
      { env, ...as },
    );
    await firstQuery({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    return performance.now() - started;
  } finally {
    await execa(path.join(installation.binDir, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { env, ...as, reject: false });
    rmSync(dir, { recursive: true, force: true });
  }
}

export const bench: Bench = async ({ light, log }) => {
  const rounds = light ? 3 : 7;
  const majors = [15, 17];
  const results = [];
  for (const major of majors) {
    const warm: number[] = [];
    const cold: number[] = [];
    const firstUse: number[] = [];
    const raw: number[] = [];
    const coldCache = mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-cache-'));
    await postgateReady(major); // warms the page cache for both sides
    await postgateReady(major); // a process's second initdb fills the template cache
    await firstClusterOfProcess(major, coldCache); // builds coldCache's private installation
    try {
      for (let i = 0; i < rounds; i += 1) {
        raw.push(await rawReady(major));
        warm.push(await postgateReady(major));
        cold.push(await firstClusterOfProcess(major, coldCache));
        firstUse.push(await firstClusterOfProcess(major));
      }
    } finally {
      rmSync(coldCache, { recursive: true, force: true });
    }
    const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
    log(`PG ${major}: warm ${list(warm)} ms; cold ${list(cold)} ms; first use ${list(firstUse)} ms; raw ${list(raw)} ms`);
    results.push(
      result(
        `ephemeral: cluster ready, PG ${major} (template cached)`,
        median(warm),
        median(raw),
        'ms',
        1.2,
        'copy of the cached initdb + start + first query vs initdb + pg_ctl start -w + first query',
      ),
      result(
        `ephemeral: cluster ready, PG ${major} (fresh process, no template: initdb)`,
        median(cold),
        median(raw),
        'ms',
        1.2,
        'initdb + start + first query vs initdb + pg_ctl start -w + first query',
      ),
      // reported, no goal: once per machine (or per restored actions/cache)
      result(
        `ephemeral: first use, PG ${major} (empty cache: private installation with stand-ins + initdb)`,
        median(firstUse),
        median(raw),
        'ms',
        undefined,
        'build the private installation + initdb + start + first query vs initdb + pg_ctl start -w + first query',
      ),
    );
  }
  return results;
};
