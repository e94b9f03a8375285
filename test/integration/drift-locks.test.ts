/**
 * migration_in_progress for every tool that takes a migration lock: a real session holds
 * exactly the tool's advisory lock (the key computed as the tool computes it, from the
 * database and its history table) and drift-gate in deploy mode names the tool; without the
 * lock, or with it held in another database, nothing.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { findHistoryTables } from '../../src/migrations/history.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import { migrationLockKeys, TOOLS } from '../../src/migrations/tools/index.ts';
import type { MigrationTool } from '../../src/migrations/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');
const DIRS: Partial<Record<MigrationTool, string>> = {
  sqlx: 'migrations',
  prisma: 'prisma/migrations',
  flyway: 'sql',
  'golang-migrate': 'migrations',
  'node-pg-migrate': 'migrations',
  'graphile-migrate': 'migrations',
  goose: 'migrations',
};
const LOCKING = Object.keys(TOOLS).filter((tool) => TOOLS[tool as MigrationTool].advisoryLock) as MigrationTool[];

let cluster: Cluster;
const temps: string[] = [];
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** A database migrated by the tool, and the key its lock has there. */
async function migrated(tool: MigrationTool) {
  const root = mkdtempSync(path.join(os.tmpdir(), `drift-lock-${tool}-`));
  temps.push(root);
  cpSync(path.join(FIXTURES, tool), root, { recursive: true });
  const dir = path.join(root, DIRS[tool]!);
  const url = await cluster.createDatabase();
  const client = await connect(url);
  try {
    await WRITERS[tool](client, readMigrations(dir, { cwd: root }).migrations);
    const table = (await findHistoryTables(client)).find((t) => t.tool === tool)!;
    const { rows } = await client.query<{ database: string }>('select current_database() as database');
    const key = migrationLockKeys(rows[0]!.database, 'public', table).find((k) => k.tool === tool)!.key;
    return { root, dir, url, key };
  } finally {
    await client.end();
  }
}

function gate(root: string, dir: string, url: string): Promise<GateResult> {
  const inputs: Record<string, string> = { 'database-url': url, 'migrations-dir': dir, shadow: 'url', 'shadow-database-url': cluster.url };
  return run(
    parseInputs(DRIFT_INPUTS, (name) => inputs[name], 'cli'),
    createContext({ cwd: root }),
  );
}

/** Runs `fn` while a session connected to `url` holds the advisory lock `key`. */
async function holding<T>(url: string, key: bigint, fn: () => Promise<T>): Promise<T> {
  const deployer = await connect(url);
  try {
    await deployer.query('select pg_advisory_lock($1::bigint)', [key.toString()]);
    return await fn();
  } finally {
    await deployer.end();
  }
}

it('covers every tool with a lock', () => {
  expect(LOCKING.sort()).toEqual(Object.keys(DIRS).sort());
});

describe.each(LOCKING)('%s', (tool) => {
  it('reports migration_in_progress naming the tool while its lock is held, nothing once it is released', async () => {
    const { root, dir, url, key } = await migrated(tool);
    const locked = await holding(url, key, () => gate(root, dir, url));
    expect(locked.error).toBeUndefined();
    const inProgress = locked.findings.filter((f) => f.rule === 'migration_in_progress');
    expect(inProgress.map((f) => f.message)).toEqual([
      `Another session holds ${TOOLS[tool].title}'s migration lock (advisory lock ${key}): a deploy is probably running, so the comparison may see a half-applied state.`,
    ]);
    const released = await gate(root, dir, url);
    expect(released.findings.map((f) => f.rule)).not.toContain('migration_in_progress');
  });
});

it('ignores the same key held in another database (advisory locks are per database)', async () => {
  const { root, dir, url, key } = await migrated('golang-migrate');
  const other = await cluster.createDatabase();
  const result = await holding(other, key, () => gate(root, dir, url));
  expect(result.findings.map((f) => f.rule)).not.toContain('migration_in_progress');
});
