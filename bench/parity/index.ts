/**
 * Keyed row digests of two databases against a raw baseline, on the same data in the same run:
 *
 *   raw       per table, one after another on ONE side, in one psql session:
 *             \copy (select <key>, <other columns> from t order by <key>) to program 'sha256sum'
 *             (the copy to stdout piped into sha256sum, without a psql start per table), and as a
 *             second figure the key-only copy: (select <key> from t order by <key>)
 *   postgate  the whole parity-check gate (`run` of src/gates/parity): both sides opened with 2
 *             sessions each in one repeatable-read snapshot, schema snapshots and diff, keys and
 *             columns from the catalog, digests of every table on both sides at once, sequences,
 *             settings and extensions
 *
 * Goal (issue #18): postgate / raw <= 1.5. Data: bench/drill's generate() (50 tables, about
 * 2 GB in full mode, about 100 MB with --light) loaded into two PostgreSQL 15 clusters. The
 * variants are interleaved and the medians of 5 rounds compared.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { digestColumns, type DigestTable, tableKey } from '../../src/catalog/row-digests.ts';
import { PARITY_INPUTS, type ParityOptions } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { createContext } from '../../src/gates/gate.ts';
import { run as runParity } from '../../src/gates/parity/index.ts';
import { quoteIdent, type Session } from '../../src/postgres/connect.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { connectionEnv, resolveClientTool } from '../../src/postgres/tools.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { BYTES_PER_ROW, generate, TABLES } from '../drill/index.ts';
import { type Bench, median, result } from '../types.ts';

const MAJOR = 15;
/** Rounds are noisy on a shared two-core machine (one raw round took 11.7 s, another 16.8 s): five give a stable median. */
const ROUNDS = 5;
const run = promisify(execFile);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

async function describeTables(session: Session): Promise<DigestTable[]> {
  const { rows } = await session.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r' order by 1`,
  );
  const tables: DigestTable[] = [];
  for (const { name } of rows) {
    const table = { schema: 'public', name };
    const key = await tableKey(session, table);
    if (!key) throw new Error(`no key on ${name}`);
    tables.push({ ...table, key, columns: await digestColumns(session, table, key) });
  }
  return tables;
}

export const bench: Bench = async ({ light, log }) => {
  const targetBytes = light ? 100 * 1024 ** 2 : 2 * 1024 ** 3;
  const rows = Math.round(targetBytes / BYTES_PER_ROW / TABLES);
  const [sourceCluster, targetCluster] = await Promise.all([startCluster({ shadow: 'local', major: MAJOR }), startCluster({ shadow: 'local', major: MAJOR })]);
  try {
    const [sourceUrl, targetUrl] = await Promise.all([sourceCluster.createDatabase('bench'), targetCluster.createDatabase('bench')]);
    log(`generating ${TABLES} tables x ${rows} rows on both clusters`);
    await Promise.all([generate(sourceUrl, rows), generate(targetUrl, rows)]);

    const reader = new pg.Client({ connectionString: sourceUrl });
    await reader.connect();
    const size = Number((await reader.query<{ size: string }>('select pg_database_size(current_database())::text as size')).rows[0]?.size ?? 0);
    const tables = await describeTables(reader);
    await reader.end();
    log(`each database: ${(size / 1024 ** 2).toFixed(0)} MB`);

    const psql = await resolveClientTool('psql', { minMajor: MAJOR, serverMajor: MAJOR, purpose: 'bench' });
    if (psql.runner !== 'local') throw new Error('the parity bench needs a local psql');
    // One psql session, each table's copy piped into a sha256sum of its own, one table after another, on the source.
    const script = (columns: (table: DigestTable) => readonly string[]) =>
      tables.flatMap((table) => [
        '-c',
        `\\copy (select ${columns(table).map(quoteIdent).join(', ')} from ${quoteIdent(table.schema)}.${quoteIdent(table.name)} order by ${table.key.map(quoteIdent).join(', ')}) to program 'sha256sum'`,
      ]);
    const env = { ...process.env, ...connectionEnv(parseDatabaseUrl(sourceUrl), 'bench/parity') };
    const raw = async (commands: string[]): Promise<number> => {
      const [ms, { stdout }] = await timed(() => run(psql.file, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...commands], { env, maxBuffer: 1024 ** 2 }));
      if (stdout.trim().split('\n').length !== tables.length) throw new Error(`psql printed no hash for some tables: ${stdout}`);
      return ms;
    };
    const wholeRows = script((table) => table.columns);
    const keysOnly = script((table) => table.key);

    const postgate = async (): Promise<number> => {
      const options = parseInputs(PARITY_INPUTS, (name) => ({ 'source-database-url': sourceUrl, 'target-database-url': targetUrl })[name], 'cli');
      const [ms, outcome] = await timed(() => runParity(options as ParityOptions, createContext()));
      if (outcome.status !== 'pass' || outcome.metrics.tables_checksummed !== tables.length) {
        throw new Error(`parity-check on identical databases: ${outcome.status} ${outcome.error ?? outcome.findings.map((f) => f.message).join('; ')}`);
      }
      return ms;
    };

    const rawTimes: number[] = [];
    const keyTimes: number[] = [];
    const postgateTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      rawTimes.push(await raw(wholeRows));
      keyTimes.push(await raw(keysOnly));
      postgateTimes.push(await postgate());
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      log(`round ${round + 1}: raw ${seconds(rawTimes.at(-1)!)}, raw key-only ${seconds(keyTimes.at(-1)!)}, postgate ${seconds(postgateTimes.at(-1)!)}`);
    }
    const note = `${TABLES} tables, ${(size / 1024 ** 2).toFixed(0)} MB per side, median of ${ROUNDS}`;
    return [
      result(
        'parity-check (both sides, 2 sessions each) vs raw copy of whole rows | sha256sum on one side',
        median(postgateTimes),
        median(rawTimes),
        'ms',
        1.5,
        note,
      ),
      result('parity-check (both sides) vs raw key-only copy | sha256sum on one side', median(postgateTimes), median(keyTimes), 'ms', undefined, note),
    ];
  } finally {
    await Promise.all([sourceCluster.stop(), targetCluster.stop()]);
  }
};
