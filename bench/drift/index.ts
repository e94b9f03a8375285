/**
 * drift-gate benchmarks.
 *
 * 1. PR mode on a generated project (full: 300 migrations, 500 tables, 1,000 policies,
 *    300 functions; light: a tenth) against the raw floor measured in the same run:
 *    initdb + start + `psql -1 -f` of the same SQL + stop, with the same server
 *    settings as postgate's local clusters. Goal: <= 1.3x.
 * 2. Catalog snapshot of a 5,000-table database (light: 500), against `pg_dump
 *    --schema-only` of the same database (the raw floor for reading a whole catalog) and
 *    the issue's absolute goal of 2 s (light: scaled to 200 ms), with the number of catalog
 *    queries in the note (fixed; test/integration/catalog-snapshot.test.ts guards it).
 * The two measurements are interleaved and their medians reported.
 */
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { type QueryCounter, readSnapshot } from '../../src/catalog/snapshot.ts';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { withTwinSession } from '../../src/postgres/connect.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { chooseInstallation, freePort, runAsUser } from '../../src/postgres/ephemeral/local.ts';
import { type Bench, median, result } from '../types.ts';
import { FULL, generateMigrations, LIGHT, wideSchema, writeProject } from './project.ts';

export const MAJOR = 15;
const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'wal_level=minimal',
  'max_wal_senders=0',
  'autovacuum=off',
  "listen_addresses=''",
];

/**
 * The floor: a bare cluster and psql running the same SQL in one transaction, each file into a
 * database of its own (the first into `postgres`, the others into new ones).
 */
export async function rawFloor(...sqlFiles: string[]): Promise<number> {
  const installation = chooseInstallation(MAJOR);
  const user = runAsUser();
  const base = mkdtempSync(path.join(os.tmpdir(), 'bench-drift-raw-'));
  const dataDir = path.join(base, 'data');
  const as = { ...(user ? { uid: user.uid, gid: user.gid } : {}), env: { ...process.env, ...installation.env, LC_ALL: 'C' } };
  if (user) chownSync(base, user.uid, user.gid);
  const bin = (name: string) => path.join(installation.binDir, name);
  const port = await freePort();
  const started = performance.now();
  try {
    await execa(bin('initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-N'], as);
    await execa(
      bin('pg_ctl'),
      ['-D', dataDir, '-w', '-l', path.join(base, 'log'), '-o', `-p ${port} -k ${base} ${SERVER_SETTINGS.map((s) => `-c ${s}`).join(' ')}`, 'start'],
      as,
    );
    for (const [index, sqlFile] of sqlFiles.entries()) {
      const database = index === 0 ? 'postgres' : `build_${index}`;
      const connection = ['-h', base, '-p', String(port), '-U', 'postgres'];
      if (index > 0) await execa(bin('createdb'), [...connection, database], { env: as.env });
      // psql is a client: it runs as this user (who can read the SQL file), like postgate's own client.
      await execa(bin('psql'), ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', ...connection, '-d', database, '-f', sqlFile], { env: as.env });
    }
    return performance.now() - started;
  } finally {
    await execa(bin('pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop'], { ...as, reject: false });
    rmSync(base, { recursive: true, force: true });
  }
}

async function prMode(projectRoot: string): Promise<number> {
  const options = parseInputs(
    DRIFT_INPUTS,
    (name) => ({ 'migrations-dir': 'migrations', shadow: 'local', 'postgres-version': String(MAJOR), 'migrations-format': 'plain' })[name],
    'cli',
  );
  const started = performance.now();
  const outcome = await run(options, createContext({ cwd: projectRoot }));
  const elapsed = performance.now() - started;
  if (outcome.status !== 'pass')
    throw new Error(`PR mode did not pass on the generated project: ${outcome.error ?? outcome.findings.map((f) => f.message).join('; ')}`);
  return elapsed;
}

export const bench: Bench = async ({ light, log }) => {
  const size = light ? LIGHT : FULL;
  const reps = light ? 2 : 3;
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-drift-'));
  try {
    writeProject(path.join(work, 'migrations'), size);
    const sqlFile = path.join(work, 'all.sql');
    writeFileSync(
      sqlFile,
      generateMigrations(size)
        .map(([, sql]) => sql)
        .join('\n'),
    );

    const ours: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < reps; i++) {
      floor.push(await rawFloor(sqlFile));
      ours.push(await prMode(work));
      log(`PR mode round ${i + 1}: postgate ${Math.round(ours.at(-1)!)} ms, raw ${Math.round(floor.at(-1)!)} ms`);
    }
    const label = `${size.migrations} migrations, ${size.tables} tables, ${size.tables * 2} policies, ${size.functions} functions`;
    const results = [result('drift PR mode (apply from scratch)', median(ours), median(floor), 'ms', 1.3, label)];

    const tables = light ? 500 : 5000;
    const goal = light ? 200 : 2000;
    const cluster = await startCluster({ shadow: 'local', major: MAJOR });
    try {
      const setup = new pg.Client({ connectionString: cluster.url });
      await setup.connect();
      try {
        for (const script of wideSchema(tables)) await setup.query(script);
      } finally {
        await setup.end();
      }
      // Each sample on a new connection, as the gate reads a live database: its catalog caches start cold.
      const times: number[] = [];
      const dumps: number[] = [];
      let counter: QueryCounter = { queries: 0 };
      let objects = 0;
      const pgDump = path.join(chooseInstallation(MAJOR).binDir, 'pg_dump');
      for (let i = 0; i < 3; i++) {
        // the raw floor for reading a whole catalog: pg_dump --schema-only of the same database
        const dumpStarted = performance.now();
        await execa(pgDump, ['--schema-only', '--no-sync', '-f', '/dev/null', '-d', cluster.url]);
        dumps.push(performance.now() - dumpStarted);
        const client = new pg.Client({ connectionString: cluster.url });
        await client.connect();
        try {
          counter = { queries: 0 };
          // as the gate reads: a twin session (opened within the timing) takes part of the queries
          const started = performance.now();
          objects = (await withTwinSession(cluster.url, { gate: 'bench', readOnly: true }, undefined, (twin) => readSnapshot(client, {}, { counter, twin })))
            .objects.length;
          times.push(performance.now() - started);
        } finally {
          await client.end();
        }
      }
      log(
        `snapshot of ${tables} tables: ${times.map(Math.round).join(', ')} ms, ${objects} objects, ${counter.queries} queries; pg_dump --schema-only: ${dumps.map(Math.round).join(', ')} ms`,
      );
      results.push(
        result(
          `drift catalog snapshot (${tables} tables)`,
          median(times),
          median(dumps),
          'ms',
          undefined,
          `vs pg_dump --schema-only of the same database; ${counter.queries} catalog queries, ${objects} objects`,
        ),
        result(
          `drift catalog snapshot (${tables} tables) vs goal`,
          median(times),
          goal,
          'ms',
          1,
          `absolute goal ${goal} ms; new connections per sample (the session and its twin)`,
        ),
      );
    } finally {
      await cluster.stop();
    }
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
