/**
 * drift-gate's rehearsal (`rehearse-from`) against the raw baseline, on restore-drill's bench
 * data in the same run:
 *
 *   raw       pg_restore -j2 of the backup into a fresh database of a running cluster, then
 *             psql --single-transaction -f of each pending migration
 *   postgate  the rehearsal alone (drift/rehearsal.ts, its input checks included): the
 *             backup's table of contents (no SHA-256: none is given to compare with), a scratch
 *             database on the same cluster (shadow: url), pg_restore -j2, the inert step, the
 *             copy's history, then every pending statement measured by StatementMeter (locks,
 *             rewrites, durations, rows)
 *
 * Goal (issue #17): rehearsal / raw <= 1.1. Data: bench/drill's generator (about 2 GB in full
 * mode, 100 MB with --light); the migrations add columns, build an index, add a check, change a
 * type (a rewrite) and backfill rows. The two are interleaved, 3 rounds each, each starting with no
 * dirty pages left by the one before (settle), and the medians compared.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import { rehearsalSource, rehearse } from '../../src/gates/drift/rehearsal.ts';
import { createContext } from '../../src/gates/gate.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { resolveClientTool, runClientTool } from '../../src/postgres/tools.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { BYTES_PER_ROW, generate, TABLES } from '../drill/index.ts';
import { type Bench, median, result, settle } from '../types.ts';

const MAJOR = 15;

const PENDING: Record<string, string> = {
  '20250101000000_add_columns.sql': Array.from({ length: TABLES }, (_, i) => `alter table bench_${String(i).padStart(2, '0')} add column note text;`).join(
    '\n',
  ),
  '20250102000000_index.sql': 'create index bench_00_created_at on bench_00 (created_at);',
  '20250103000000_check.sql': 'alter table bench_01 add constraint bench_01_amount check (amount >= 0);',
  '20250104000000_retype.sql': 'alter table bench_02 alter column account type numeric;',
  '20250105000000_backfill.sql': 'update bench_03 set flag = not flag where id % 10 = 0;',
};

const up = (sql: string) => `-- migrate:up\n${sql}\n-- migrate:down\n`;

export const bench: Bench = async ({ light, log }) => {
  const rows = Math.round((light ? 100 * 1024 ** 2 : 2 * 1024 ** 3) / BYTES_PER_ROW / TABLES);
  const rounds = 3;
  const cluster = await startCluster({ shadow: 'local', major: MAJOR });
  const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-rehearsal-'));
  try {
    const sourceUrl = await cluster.createDatabase('bench');
    log(`generating ${TABLES} tables x ${rows} rows`);
    await generate(sourceUrl, rows);
    // The applied history: dbmate's table with one applied migration.
    const migrationsDir = path.join(work, 'db/migrations');
    mkdirSync(migrationsDir, { recursive: true });
    writeFileSync(path.join(migrationsDir, '20240101000000_init.sql'), up('select 1;'));
    const client = new pg.Client({ connectionString: sourceUrl });
    await client.connect();
    await client.query(`create table schema_migrations (version varchar(255) primary key); insert into schema_migrations values ('20240101000000')`);
    await client.end();
    for (const [name, sql] of Object.entries(PENDING)) writeFileSync(path.join(migrationsDir, name), up(sql));

    const tool = async (name: 'pg_dump' | 'pg_restore' | 'psql') => resolveClientTool(name, { minMajor: MAJOR, serverMajor: MAJOR, purpose: 'bench' });
    const [pgDump, pgRestore, psql] = [await tool('pg_dump'), await tool('pg_restore'), await tool('psql')];
    const source = parseDatabaseUrl(sourceUrl);
    const backup = path.join(work, 'backup');
    const dumped = await runClientTool(pgDump, ['-Fd', '-j2', '--no-sync', '-f', backup, '-d', source.database], { connection: source });
    if (dumped.exitCode !== 0) throw new Error(`pg_dump failed: ${dumped.stderr}`);

    const raw = async (round: number): Promise<number> => {
      await settle();
      const started = performance.now();
      const target = parseDatabaseUrl(await cluster.createDatabase(`raw_${round}`));
      const restored = await runClientTool(pgRestore, ['-j2', '-d', target.database, backup], { connection: target });
      if (restored.exitCode !== 0) throw new Error(`pg_restore failed: ${restored.stderr}`);
      for (const name of Object.keys(PENDING)) {
        const applied = await runClientTool(
          psql,
          ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', path.join(migrationsDir, name), '-d', target.database],
          {
            connection: target,
          },
        );
        if (applied.exitCode !== 0) throw new Error(`psql failed: ${applied.stderr}`);
      }
      const ms = performance.now() - started;
      // The rehearsal drops its scratch database within its time; the baseline's is dropped untimed.
      await settle(cluster.url, [target.database]);
      return ms;
    };

    const migrations = readMigrations(migrationsDir, { cwd: work, format: 'dbmate' });
    const rehearsal = async (): Promise<{ ms: number; restore: number; statements: number }> => {
      const options = parseInputs(
        DRIFT_INPUTS,
        (name) => ({ 'rehearse-from': backup, shadow: 'url', 'shadow-database-url': cluster.url, 'migrations-format': 'dbmate' })[name],
        'cli',
      );
      await settle();
      const started = performance.now();
      const context = createContext({ cwd: work, config: repoConfigSchema.parse({}) });
      const outcome = await rehearse(options, context, migrations, rehearsalSource(options, context));
      const ms = performance.now() - started;
      const failed = outcome.findings.filter((f) => f.rule !== 'migration_lock_duration');
      if (failed.length || outcome.metrics?.rehearsal_pending !== Object.keys(PENDING).length)
        throw new Error(`the rehearsal did not apply: ${JSON.stringify(outcome)}`);
      return { ms, restore: outcome.metrics?.rehearsal_restore_ms ?? 0, statements: outcome.metrics?.rehearsal_ms ?? 0 };
    };

    const rawTimes: number[] = [];
    const rehearsals: Array<{ ms: number; restore: number; statements: number }> = [];
    for (let round = 0; round < rounds; round += 1) {
      rawTimes.push(await raw(round));
      log(`raw pg_restore -j2 + psql -f ${round + 1}: ${(rawTimes.at(-1)! / 1000).toFixed(1)} s`);
      rehearsals.push(await rehearsal());
      const r = rehearsals.at(-1)!;
      log(
        `rehearsal ${round + 1}: ${(r.ms / 1000).toFixed(1)} s (restore ${(r.restore / 1000).toFixed(1)} s, migrations measured ${(r.statements / 1000).toFixed(1)} s)`,
      );
    }
    const note = `${TABLES} tables, ${rows} rows each, ${Object.keys(PENDING).length} pending migrations, median of ${rounds}`;
    return [result('rehearsal: rehearse-from vs raw pg_restore -j2 + psql -f', median(rehearsals.map((r) => r.ms)), median(rawTimes), 'ms', 1.1, note)];
  } finally {
    rmSync(work, { recursive: true, force: true });
    await cluster.stop();
  }
};
