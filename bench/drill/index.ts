/**
 * restore-drill against the raw baseline, on the same generated data in the same run:
 *
 *   raw       pg_dump -Fd -j2 (of the source) + pg_restore -j2 (into a fresh database of an
 *             already running cluster)
 *   raw -Z1   the same with the live drill's dump options (--compress=1): what the drill adds
 *             beyond its choice of compression (reported, no goal)
 *   postgate  the whole live drill with jobs 2: snapshot + pg_dump, counts and keyed digests
 *             (drill.checksum-tables: two of the tables) in the snapshot, a new throwaway
 *             cluster, pg_restore, inert step, verify, cleanup
 *
 * Goals (issue #18): drill / raw <= 1.05, and verification <= 10 % of the restore time.
 * Data: 50 tables with keys, an index, text, numeric, jsonb and time stamps; about 2 GB in
 * full mode, about 100 MB with --light. The three are interleaved, 3 rounds each (every round
 * is printed), each starting with no dirty pages left by the one before (settle), and the
 * medians compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { resolveClientTool, runClientTool } from '../../src/postgres/tools.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { type Bench, median, result, settle } from '../types.ts';

export const TABLES = 50;
/** About 200 bytes per row on disk with its indexes (measured: 286k rows x 50 tables = 2.7 GB). */
export const BYTES_PER_ROW = 200;
const MAJOR = 15;

function tableSql(index: number, rows: number): string {
  const name = `bench_${String(index).padStart(2, '0')}`;
  return `
    create table ${name} (id bigint primary key, account bigint not null, name text not null, amount numeric(12,2),
                          created_at timestamptz not null, payload jsonb, flag boolean);
    insert into ${name}
      select g, g % 1000, md5(g::text), (g % 100000) / 100.0, timestamptz '2024-01-01 00:00+00' + g * interval '1 second',
             jsonb_build_object('k', g, 'v', md5((g * ${index})::text)), g % 2 = 0
      from generate_series(1, ${rows}) g;
    create index on ${name} (account);`;
}

export async function generate(url: string, rows: number): Promise<void> {
  const worker = async (start: number) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let i = start; i < TABLES; i += 2) await client.query(tableSql(i, rows));
    } finally {
      await client.end();
    }
  };
  await Promise.all([worker(0), worker(1)]);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('vacuum analyze');
  await client.end();
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

export const bench: Bench = async ({ light, log }) => {
  const targetBytes = light ? 100 * 1024 ** 2 : 2 * 1024 ** 3;
  const rows = Math.round(targetBytes / BYTES_PER_ROW / TABLES);
  const rounds = 3;
  const source = await startCluster({ shadow: 'local', major: MAJOR });
  const restoreCluster = await startCluster({ shadow: 'local', major: MAJOR });
  const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-drill-'));
  try {
    const sourceUrl = await source.createDatabase('bench');
    log(`generating ${TABLES} tables x ${rows} rows`);
    await generate(sourceUrl, rows);
    const size = await (async () => {
      const client = new pg.Client({ connectionString: sourceUrl });
      await client.connect();
      const r = await client.query<{ size: string }>('select pg_database_size(current_database())::text as size');
      await client.end();
      return Number(r.rows[0]?.size ?? 0);
    })();
    log(`source database: ${(size / 1024 ** 2).toFixed(0)} MB`);

    const pgDump = await resolveClientTool('pg_dump', { minMajor: MAJOR, serverMajor: MAJOR, purpose: 'bench' });
    const pgRestore = await resolveClientTool('pg_restore', { minMajor: MAJOR, serverMajor: MAJOR, purpose: 'bench' });
    const sourceTarget = parseDatabaseUrl(sourceUrl);

    const raw = async (round: number, dumpOptions: readonly string[]): Promise<{ total: number; dump: number }> => {
      const dir = path.join(work, `raw-${round}`);
      const database = `raw_${round}_${dumpOptions.length}`;
      await settle();
      const [ms, dumpMs] = await timed(async () => {
        const [dumpMs, dump] = await timed(() =>
          runClientTool(pgDump, ['-Fd', '-j2', '--no-sync', ...dumpOptions, '-f', dir, '-d', sourceTarget.database], { connection: sourceTarget }),
        );
        if (dump.exitCode !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
        const targetUrl = await restoreCluster.createDatabase(database);
        const target = parseDatabaseUrl(targetUrl);
        const restore = await runClientTool(pgRestore, ['-j2', '-d', target.database, dir], { connection: target });
        if (restore.exitCode !== 0) throw new Error(`pg_restore failed: ${restore.stderr}`);
        return dumpMs;
      });
      // The drill deletes its dump and its copy within its time; the baseline's are deleted untimed.
      rmSync(dir, { recursive: true, force: true });
      await settle(restoreCluster.url, [database]);
      return { total: ms, dump: dumpMs };
    };

    const config = repoConfigSchema.parse({ drill: { 'checksum-tables': ['public.bench_00', 'public.bench_01'] } });
    const drill = async (): Promise<{ total: number; fetch: number; restore: number; verify: number }> => {
      const options = parseInputs(
        DRILL_INPUTS,
        (name) => ({ 'source-database-url': sourceUrl, jobs: '2', shadow: 'local', 'postgres-version': String(MAJOR) })[name],
        'cli',
      );
      await settle();
      const [ms, outcome] = await timed(() => run(options, createContext({ config })));
      if (outcome.status !== 'pass') throw new Error(`the drill did not pass: ${outcome.error ?? JSON.stringify(outcome.findings)}`);
      return { total: ms, fetch: outcome.metrics.fetch_ms ?? 0, restore: outcome.metrics.restore_ms ?? 0, verify: outcome.metrics.verify_ms ?? 0 };
    };

    const rawTimes: number[] = [];
    const rawZ1Times: number[] = [];
    const drills: Array<Awaited<ReturnType<typeof drill>>> = [];
    for (let round = 0; round < rounds; round += 1) {
      const baseline = await raw(round, []);
      rawTimes.push(baseline.total);
      log(`raw dump+restore ${round + 1}: ${(baseline.total / 1000).toFixed(1)} s (dump ${(baseline.dump / 1000).toFixed(1)} s)`);
      const sameDump = await raw(round, ['--compress=1']);
      rawZ1Times.push(sameDump.total);
      log(`raw -Z1 dump+restore ${round + 1}: ${(sameDump.total / 1000).toFixed(1)} s (dump ${(sameDump.dump / 1000).toFixed(1)} s)`);
      drills.push(await drill());
      const d = drills.at(-1)!;
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      log(
        `drill ${round + 1}: ${s(d.total)} = ${(d.total / rawTimes.at(-1)!).toFixed(3)}x raw, ${(d.total / rawZ1Times.at(-1)!).toFixed(3)}x raw -Z1 (fetch ${s(d.fetch)}, restore ${s(d.restore)}, verify ${s(d.verify)} = ${((100 * d.verify) / d.restore).toFixed(1)} % of restore)`,
      );
    }
    const note = `${TABLES} tables, ${(size / 1024 ** 2).toFixed(0)} MB, median of ${rounds}`;
    return [
      result('drill: live drill vs raw pg_dump -Fd -j2 + pg_restore -j2', median(drills.map((d) => d.total)), median(rawTimes), 'ms', 1.05, note),
      result(
        'drill: live drill vs raw with its dump options (pg_dump -Fd -j2 --compress=1 + pg_restore -j2)',
        median(drills.map((d) => d.total)),
        median(rawZ1Times),
        'ms',
        undefined,
        `${note}; what the drill adds beyond its choice of compression`,
      ),
      result('drill: verification vs restore time', median(drills.map((d) => d.verify)), median(drills.map((d) => d.restore)), 'ms', 0.1, note),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
    await source.stop();
    await restoreCluster.stop();
  }
};
