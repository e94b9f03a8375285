/**
 * Migration safety's per-statement measurement (src/migrations/statement-effects.ts) against the
 * plain apply of the same migrations, in the same run: 300 generated migrations (bench/drift's
 * project; light: 30), each applied in its own transaction.
 *
 * - raw: `psql -f` of the migrations, each wrapped in `begin; ... commit;` (how a tool applies them);
 * - postgate: every statement run on its own in the migration's transaction, followed by the
 *   reading of pg_locks, the timeouts and the catalog facts of the locked relations.
 * Each round creates two new databases on one running cluster; rounds interleave, medians reported.
 * Goal (issue 17): <= 1.3x.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { StatementMeter } from '../../src/migrations/statement-effects.ts';
import type { Migration } from '../../src/migrations/types.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { chooseInstallation } from '../../src/postgres/ephemeral/local.ts';
import { MAJOR } from '../drift/index.ts';
import { FULL, generateMigrations, LIGHT } from '../drift/project.ts';
import { type Bench, median, result } from '../types.ts';

const asMigration = ([name, sql]: [string, string]): Migration => ({
  tool: 'plain',
  id: name,
  version: name,
  name,
  file: `migrations/${name}`,
  absolutePath: name,
  raw: sql,
  sql,
  sqlOffset: 0,
  noTransaction: false,
  executable: true,
  kind: 'versioned',
});

export const bench: Bench = async ({ light, log }) => {
  const size = light ? LIGHT : FULL;
  const reps = light ? 3 : 5;
  const files = generateMigrations(size);
  const migrations = files.map(asMigration);
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-safety-'));
  const sqlFile = path.join(work, 'all.sql');
  writeFileSync(sqlFile, files.map(([, sql]) => `begin;\n${sql}\ncommit;\n`).join(''));
  const psql = path.join(chooseInstallation(MAJOR).binDir, 'psql');
  const cluster = await startCluster({ shadow: 'local', major: MAJOR });
  try {
    const raw: number[] = [];
    const ours: number[] = [];
    let statements = 0;
    for (let i = 0; i < reps; i++) {
      const rawUrl = await cluster.createDatabase();
      const rawStarted = performance.now();
      await execa(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', rawUrl, '-f', sqlFile]);
      raw.push(performance.now() - rawStarted);

      const url = await cluster.createDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const started = performance.now();
        const meter = new StatementMeter(client);
        statements = 0;
        for (const migration of migrations) {
          const { outcome, effects } = await meter.apply(migration);
          if (!outcome.ok) throw new Error(`measuring ${migration.file} failed: ${outcome.failure?.message}`);
          statements += effects.length;
        }
        ours.push(performance.now() - started);
      } finally {
        await client.end();
      }
      log(`round ${i + 1}: measured ${Math.round(ours.at(-1)!)} ms, psql -f ${Math.round(raw.at(-1)!)} ms (${statements} statements)`);
    }
    return [
      result(
        `migration safety: per-statement measurement (${size.migrations} migrations)`,
        median(ours),
        median(raw),
        'ms',
        1.3,
        `${statements} statements, each followed by a pg_locks and catalog reading; vs psql -f of the same migrations, one transaction each`,
      ),
    ];
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
};
