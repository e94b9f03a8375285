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

/** A fresh process with an empty template cache: its first cluster runs initdb. */
async function firstClusterOfProcess(major: number): Promise<number> {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-cache-'));
  try {
    const { stdout } = await execa(process.execPath, [path.join(import.meta.dirname, 'first-cluster.ts'), String(major)], {
      env: { ...process.env, POSTGATE_CACHE_DIR: cache },
    });
    return Number(stdout.trim());
  } finally {
    rmSync(cache, { recursive: true, force: true });
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
    await execa(path.join(installation.binDir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { env, ...as });
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
    const raw: number[] = [];
    await postgateReady(major); // warms the page cache for both sides
    await postgateReady(major); // a process's second initdb fills the template cache
    for (let i = 0; i < rounds; i += 1) {
      raw.push(await rawReady(major));
      warm.push(await postgateReady(major));
      cold.push(await firstClusterOfProcess(major));
    }
    log(`PG ${major}: warm ${warm.map((v) => v.toFixed(0)).join(', ')} ms; cold ${cold.map((v) => v.toFixed(0)).join(', ')} ms; raw ${raw.map((v) => v.toFixed(0)).join(', ')} ms`);
    results.push(
      result(`ephemeral: cluster ready, PG ${major} (template cached)`, median(warm), median(raw), 'ms', 1.2, 'copy of the cached initdb + start + first query vs initdb + pg_ctl start -w + first query'),
      result(`ephemeral: cluster ready, PG ${major} (fresh process, empty cache: initdb)`, median(cold), median(raw), 'ms', 1.2, 'initdb + start + first query vs initdb + pg_ctl start -w + first query'),
    );
  }
  return results;
};
