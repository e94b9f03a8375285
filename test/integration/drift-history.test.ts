/**
 * Migration history drift for every format, on real PostgreSQL, with history rows
 * written exactly as each tool writes them (see drift-writers.ts for the sources).
 * First end to end through the gate (auto-detection, pending, zero schema drift), then
 * edited / missing / out-of-order / failed against the same history.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS, type DriftOptions } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { compareHistory } from '../../src/gates/drift/history.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { findHistoryTables, readHistory } from '../../src/migrations/history.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { Migration, MigrationTool } from '../../src/migrations/types.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';
import { FAILED_ROW, WRITERS } from './drift-writers.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');
const DIRS: Record<MigrationTool, string> = {
  supabase: 'supabase/migrations',
  sqlx: 'migrations',
  prisma: 'prisma/migrations',
  drizzle: 'drizzle',
  flyway: 'sql',
  dbmate: 'db/migrations',
  'golang-migrate': 'migrations',
  'node-pg-migrate': 'migrations',
  'graphile-migrate': 'migrations',
  goose: 'migrations',
  plain: 'sql',
};
const TOOLS = Object.keys(DIRS) as MigrationTool[];
const CHECKSUM_TOOLS: MigrationTool[] = ['supabase', 'sqlx', 'prisma', 'drizzle', 'flyway', 'graphile-migrate'];

let cluster: Cluster;
const temps: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function copyFixture(tool: MigrationTool): { root: string; dir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), `drift-${tool}-`));
  temps.push(root);
  cpSync(path.join(FIXTURES, tool), root, { recursive: true });
  return { root, dir: path.join(root, DIRS[tool]) };
}

async function withLive<T>(supabase: boolean, fn: (client: pg.Client, url: string) => Promise<T>): Promise<T> {
  const url = await cluster.createDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (supabase) await applySupabaseBaseline(client);
    return await fn(client, url);
  } finally {
    await client.end();
  }
}

function gateOptions(databaseUrl: string, dir: string): DriftOptions {
  const inputs: Record<string, string> = { 'database-url': databaseUrl, 'migrations-dir': dir, shadow: 'url', 'shadow-database-url': cluster.url };
  return parseInputs(DRIFT_INPUTS, (name) => inputs[name], 'cli');
}

/** Everything but the last versioned migration (repeatables included). */
function firstApplied(migrations: Migration[]): Migration[] {
  const versioned = migrations.filter((m) => m.kind === 'versioned');
  return migrations.filter((m) => m !== versioned.at(-1));
}

describe.each(TOOLS)('%s history', (tool) => {
  it('is detected, reports the unapplied migration as pending and finds no schema drift', async () => {
    const { root, dir } = copyFixture(tool);
    const source = readMigrations(dir, { cwd: root });
    expect(source.tool).toBe(tool);
    const applied = tool === 'plain' ? source.migrations : firstApplied(source.migrations);
    const result = await withLive(tool === 'supabase', async (client, url) => {
      await WRITERS[tool](client, applied);
      return run(gateOptions(url, dir), createContext({ cwd: root }));
    });
    expect(result.error).toBeUndefined();
    const rules = result.findings.map((f) => `${f.rule} ${f.object.name}`);
    if (tool === 'plain') {
      expect(rules).toEqual(['history_not_recorded history']);
    } else {
      const last = source.migrations.filter((m) => m.kind === 'versioned').at(-1)!;
      // a Supabase database with the legacy default privileges: its tables' Data API grants come from them only (issue 16)
      expect(rules).toEqual([`migration_pending ${last.file}`, ...(tool === 'supabase' ? ['grant_only_from_legacy_default public'] : [])]);
      expect(result.details?.historyTable).toBeTruthy();
    }
    expect(result.metrics.differences).toBe(0);
    expect(result.status).toBe('pass');
  });

  it.skipIf(tool === 'plain')("reports edited, missing and out-of-order migrations by the tool's rules", async () => {
    const { root, dir } = copyFixture(tool);
    const before = readMigrations(dir, { cwd: root, format: tool });
    const [first, second] = before.migrations;
    await withLive(tool === 'supabase', async (client) => {
      await WRITERS[tool](client, firstApplied(before.migrations));
      // Mutate the repository after the apply.
      writeFileSync(first!.absolutePath, `${first!.raw}-- edited after it was applied\n`);
      unlinkSync(second!.absolutePath);
      if (tool === 'drizzle') {
        const journalPath = path.join(dir, 'meta/_journal.json');
        const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
        journal.entries = journal.entries.filter((e: { tag: string }) => e.tag !== '0001_posts');
        journal.entries.push({ idx: 3, version: '7', when: 1704067201500, tag: '0003_early', breakpoints: true });
        writeFileSync(journalPath, JSON.stringify(journal));
      }
      const early: Partial<Record<MigrationTool, string>> = {
        supabase: '20231231000000_early.sql',
        sqlx: '20231231000000_early.sql',
        prisma: '20231231000000_early/migration.sql',
        drizzle: '0003_early.sql',
        flyway: 'V1_0_5__early.sql',
        dbmate: '20231231000000_early.sql',
        'node-pg-migrate': '1704067200000_early.sql',
      };
      const earlyFile = early[tool];
      if (earlyFile) {
        const body = tool === 'dbmate' ? '-- migrate:up\ncreate table early (id int);\n' : 'create table early (id int);\n';
        cpSync(path.join(FIXTURES, 'plain/sql/001_create_users.sql'), path.join(dir, earlyFile)); // creates parent folders
        writeFileSync(path.join(dir, earlyFile), body);
      }

      const after = readMigrations(dir, { cwd: root, format: tool });
      const [table] = (await findHistoryTables(client)).filter((t) => t.tool === tool);
      const history = await readHistory(client, table!);
      const { findings } = compareHistory(after, history);
      const has = (rule: string, file?: string) => findings.some((f) => f.rule === rule && (!file || f.object.name === file || f.location?.file === file));

      if (CHECKSUM_TOOLS.includes(tool)) expect(has('migration_edited', first!.file)).toBe(true);
      else expect(has('migration_edited')).toBe(false);
      expect(has('migration_missing_locally')).toBe(true);
      if (earlyFile) expect(has('migration_out_of_order')).toBe(true);
      expect(findings.every((f) => f.message.length > 0)).toBe(true);
    });
  });

  it.skipIf(!FAILED_ROW[tool])('reports a failed or dirty row', async () => {
    const { root, dir } = copyFixture(tool);
    const source = readMigrations(dir, { cwd: root, format: tool });
    await withLive(false, async (client) => {
      const applied = firstApplied(source.migrations);
      await WRITERS[tool](client, applied);
      const failing = source.migrations.filter((m) => m.kind === 'versioned').at(-1)!;
      await FAILED_ROW[tool]!(client, failing);
      const [table] = (await findHistoryTables(client)).filter((t) => t.tool === tool);
      const { findings } = compareHistory(source, await readHistory(client, table!));
      expect(findings.map((f) => `${f.rule} ${f.object.name}`)).toContain(`migration_failed ${failing.file}`);
    });
  });
});

describe('line endings', () => {
  it('Prisma and Flyway tolerate a CRLF checkout of an applied migration; sqlx does not', async () => {
    for (const tool of ['prisma', 'flyway', 'sqlx'] as const) {
      const { root, dir } = copyFixture(tool);
      const source = readMigrations(dir, { cwd: root, format: tool });
      await withLive(false, async (client) => {
        await WRITERS[tool](client, source.migrations);
        for (const m of source.migrations) writeFileSync(m.absolutePath, m.raw.replace(/\n/g, '\r\n'));
        const [table] = (await findHistoryTables(client)).filter((t) => t.tool === tool);
        const { findings } = compareHistory(readMigrations(dir, { cwd: root, format: tool }), await readHistory(client, table!));
        const edited = findings.filter((f) => f.rule === 'migration_edited').length;
        expect(edited, tool).toBe(tool === 'sqlx' ? source.migrations.length : 0);
      });
    }
  });
});

describe('history table identification', () => {
  it("never mistakes Supabase's own auth/realtime schema_migrations for the project's", async () => {
    await withLive(true, async (client) => {
      await client.query('create table if not exists auth.schema_migrations (version varchar(255) primary key)');
      await client.query('create schema if not exists _realtime; create table _realtime.schema_migrations (version bigint primary key, inserted_at timestamp)');
      await client.query('create table public.schema_migrations (version bigint not null primary key, dirty boolean not null)');
      const found = await findHistoryTables(client);
      expect(found.map((t) => `${t.tool} ${t.schema}.${t.table}`)).toEqual(['golang-migrate public.schema_migrations']);
    });
  });
});

describe('detection from the history table', () => {
  it('reads numbered files as the tool whose history table the database has (sqlx files without Cargo.toml)', async () => {
    const { root, dir } = copyFixture('sqlx');
    unlinkSync(path.join(root, 'Cargo.toml'));
    expect(readMigrations(dir, { cwd: root })).toMatchObject({ tool: 'plain', detection: 'weak' });
    const asSqlx = readMigrations(dir, { cwd: root, format: 'sqlx' });
    const result = await withLive(false, async (client, url) => {
      await WRITERS.sqlx(client, firstApplied(asSqlx.migrations));
      return run(gateOptions(url, dir), createContext({ cwd: root }));
    });
    expect(result.error).toBeUndefined();
    expect(result.details?.tool).toBe('sqlx');
    expect(result.findings.map((f) => `${f.rule} ${f.object.name}`)).toEqual([`migration_pending ${asSqlx.migrations.at(-1)!.file}`]);
  });
});

describe('goose history table', () => {
  it('skips the version 0 marker, lets the latest row of a version decide, and reports an older unapplied file as out of order', async () => {
    const { root, dir } = copyFixture('goose');
    const source = readMigrations(dir, { cwd: root });
    const [first, second, third] = source.migrations;
    await withLive(false, async (client) => {
      await WRITERS.goose(client, [first!]);
      // An older goose rolled version 1 back by inserting is_applied = false; then it was applied again.
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, false), ($1, true)', [first!.id]);
      // Version 3 applied, then rolled back: its latest row says it is not applied.
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true), ($1, false)', [third!.id]);
      const [table] = await findHistoryTables(client);
      expect(table).toMatchObject({ tool: 'goose', schema: 'public', table: 'goose_db_version' });
      const history = await readHistory(client, table!);
      expect(history.entries.map((e) => e.id)).toEqual([first!.id]);

      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)', [third!.id]);
      const { findings, counts } = compareHistory(source, await readHistory(client, table!));
      expect(findings.map((f) => `${f.rule} ${f.object.name}`)).toEqual([`migration_out_of_order ${second!.file}`]);
      expect(findings[0]!.message).toMatch(/`goose up` refuses it unless run with -allow-missing\.$/);
      expect(counts).toMatchObject({ applied: 2, outOfOrder: 1, missing: 0, edited: 0 });
    });
  });

  it('lists a Go migration with a notice that postgate does not run it, and counts it applied by its row', async () => {
    const { root, dir } = copyFixture('goose');
    writeFileSync(path.join(dir, '20240101000004_backfill.go'), 'package migrations\n');
    const source = readMigrations(dir, { cwd: root });
    const result = await withLive(false, async (client, url) => {
      await WRITERS.goose(
        client,
        source.migrations.filter((m) => m.executable),
      );
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES (20240101000004, true)');
      return run(gateOptions(url, dir), createContext({ cwd: root }));
    });
    expect(result.error).toBeUndefined();
    expect(result.findings.map((f) => `${f.rule} ${f.message}`)).toEqual([
      'migration_not_verifiable migrations/20240101000004_backfill.go is a Go migration, which postgate does not run; its schema changes are not in the expected schema.',
    ]);
    expect(result.metrics.differences).toBe(0);
  });

  it('names the goose way to deal with a row whose file is gone', async () => {
    const { root, dir } = copyFixture('goose');
    const source = readMigrations(dir, { cwd: root });
    await withLive(false, async (client) => {
      await WRITERS.goose(client, source.migrations);
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES (20240101000009, true)');
      const [table] = await findHistoryTables(client);
      const { findings } = compareHistory(source, await readHistory(client, table!));
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        rule: 'migration_missing_locally',
        message: 'public.goose_db_version records version 20240101000009 as applied, but the repository has no such migration.',
      });
      expect(findings[0]!.remediation).toMatch(/delete the rows of version 20240101000009 from goose_db_version/);
    });
  });
});
