/**
 * Migration files as the tool reads them (issue 12, section 4), on real PostgreSQL:
 * files the Supabase CLI skips are warnings that say so, two files with one version are
 * a finding naming both (exit 1, the rest still applied and checked), and a failing
 * statement is reported at the line of its first SQL token, not at the comment above it.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { buildShadow } from '../../src/migrations/shadow.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { Migration } from '../../src/migrations/types.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, withClient } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/migrations');

let cluster: Cluster;
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function gate(cwd: string, inputs: Record<string, string>): Promise<GateResult> {
  const all: Record<string, string> = { shadow: 'url', 'shadow-database-url': cluster.url, ...inputs };
  return run(
    parseInputs(DRIFT_INPUTS, (name) => all[name], 'cli'),
    createContext({ cwd, env: {} }),
  );
}

/** The supabase fixture (users, posts, posts index) in a temporary repository. */
function supabaseRepo(prefix: string): { root: string; dir: string } {
  const root = temp(prefix);
  cpSync(path.join(FIXTURES, 'supabase'), root, { recursive: true });
  return { root, dir: path.join(root, 'supabase/migrations') };
}

const summary = (result: GateResult) =>
  result.findings.map((f) => `${f.severity} ${f.rule} ${f.object.name} ${f.location?.file ?? ''}:${f.location?.line ?? ''}`);

describe('files the Supabase CLI skips', () => {
  it('are warnings that say `supabase db push` skips them too, and are not applied', async () => {
    const { root, dir } = supabaseRepo('files-skip-');
    // Both would fail if they were applied: the shadow skips them as the CLI does.
    writeFileSync(path.join(dir, 'seed.sql'), 'insert into nowhere values (1);\n');
    writeFileSync(path.join(dir, 'add_column.sql'), 'alter table nowhere add column x int;\n');
    const result = await gate(root, { 'migrations-dir': 'supabase/migrations' });
    expect(result.error).toBeUndefined();
    expect(summary(result)).toEqual([
      'warning migration_name_invalid supabase/migrations/add_column.sql supabase/migrations/add_column.sql:1',
      'warning migration_name_invalid supabase/migrations/seed.sql supabase/migrations/seed.sql:1',
    ]);
    const [addColumn, seed] = result.findings as [GateResult['findings'][number], GateResult['findings'][number]];
    for (const item of [addColumn, seed]) {
      expect(item.message).toMatch(/the Supabase CLI skips it too/);
      expect(item.message).toMatch(/`supabase db push`/);
    }
    expect(addColumn.message).toMatch(/does not match <timestamp>_<name>\.sql/);
    expect(seed.message).toMatch(/supabase\/seed\.sql/);
    expect(result.status).toBe('pass');
    expect(result.metrics.applied).toBe(3);
  });
});

describe('two files with one version', () => {
  it('are one finding naming both files; the shadow applies the first and every later migration', async () => {
    const { root, dir } = supabaseRepo('files-dup-');
    writeFileSync(path.join(dir, '20240101000002_tags.sql'), 'create table tags (id bigint primary key);\n');
    writeFileSync(path.join(dir, '20240101000004_likes.sql'), 'create table likes (post_id bigint references posts (id));\n');
    const result = await gate(root, { 'migrations-dir': 'supabase/migrations' });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('fail');
    expect(summary(result)).toEqual(['error migration_version_duplicate 20240101000002 supabase/migrations/20240101000002_tags.sql:1']);
    const duplicate = result.findings[0]!;
    expect(duplicate.message).toContain('supabase/migrations/20240101000002_tags.sql');
    expect(duplicate.message).toContain('supabase/migrations/20240101000002_posts.sql');
    expect(duplicate.message).toMatch(/schema_migrations/);
    expect(result.metrics).toMatchObject({ migrations: 4, applied: 4 });

    // What was applied: the first file of the version in the CLI's order (file name), and everything after it.
    const shadow = await buildShadow({ migrationsDir: 'supabase/migrations', cwd: root, cluster });
    try {
      expect(shadow.failure).toBeUndefined();
      expect(shadow.applied.map((m) => path.basename(m.file))).toEqual([
        '20240101000001_users.sql',
        '20240101000002_posts.sql',
        '20240101000003_posts_index.sql',
        '20240101000004_likes.sql',
      ]);
      const tables = await withClient(
        shadow.url,
        async (client) =>
          (
            await client.query<{ posts: string | null; tags: string | null }>(
              `select to_regclass('public.posts')::text as posts, to_regclass('public.tags')::text as tags`,
            )
          ).rows[0],
      );
      expect(tables).toEqual({ posts: 'posts', tags: null });
    } finally {
      await shadow.stop();
    }
  });

  it('do not hide the findings of later migrations', async () => {
    const { root, dir } = supabaseRepo('files-dup-later-');
    writeFileSync(path.join(dir, '20240101000003_tags.sql'), 'create table tags (id bigint primary key);\n');
    writeFileSync(path.join(dir, '20240101000009_broken.sql'), 'create table broken (owner bigintt);\n');
    const result = await gate(root, { 'migrations-dir': 'supabase/migrations' });
    expect(result.status).toBe('fail');
    expect(summary(result)).toEqual([
      'error migration_version_duplicate 20240101000003 supabase/migrations/20240101000003_tags.sql:1',
      'error migration_apply_failed supabase/migrations/20240101000009_broken.sql supabase/migrations/20240101000009_broken.sql:1',
    ]);
  });

  it('in deploy mode: a database migrated like the CLI (stopped at the duplicate) compares clean, the duplicate still reported', async () => {
    const { root, dir } = supabaseRepo('files-dup-deploy-');
    const read = readMigrations('supabase/migrations', { cwd: root }).migrations;
    writeFileSync(path.join(dir, '20240101000002_tags.sql'), 'create table tags (id bigint primary key);\n');
    const [users, posts, postsIndex] = read as [Migration, Migration, Migration];
    const tags: Migration = {
      ...posts,
      name: 'tags',
      file: 'supabase/migrations/20240101000002_tags.sql',
      raw: 'create table tags (id bigint primary key);\n',
      sql: 'create table tags (id bigint primary key);\n',
    };
    const url = await cluster.createDatabase();
    await withClient(url, async (client) => {
      await applySupabaseBaseline(client);
      // The CLI's batch (statements + history row, one transaction): the second file of the version fails and is rolled back.
      await expect(WRITERS.supabase(client, [users, posts, tags, postsIndex])).rejects.toMatchObject({ code: '23505', constraint: 'schema_migrations_pkey' });
      expect((await client.query(`select to_regclass('public.tags') as t`)).rows[0]).toEqual({ t: null });
    });
    const result = await gate(root, { 'migrations-dir': 'supabase/migrations', 'database-url': url });
    expect(result.error).toBeUndefined();
    expect(summary(result)).toEqual([
      'error migration_version_duplicate 20240101000002 supabase/migrations/20240101000002_tags.sql:1',
      'warning migration_pending supabase/migrations/20240101000003_posts_index.sql supabase/migrations/20240101000003_posts_index.sql:1',
      // the 2024 tables' Data API grants come from the legacy default privileges only (issue 16)
      'warning grant_only_from_legacy_default public :',
    ]);
    expect(result.metrics.differences).toBe(0);
    expect(result.status).toBe('fail');
  });
});

describe('a failing statement after comments', () => {
  const COMMENTED = [
    'create table ok (id int);',
    '',
    '-- The broken table: its foreign key points nowhere.',
    '/* a block comment',
    '   /* nested */ still the comment */',
    '',
    'create table broken (',
    '  id int,',
    '  owner bigint references nowhere (id)',
    ');',
    '',
  ].join('\n');

  it('is reported at the line of its first SQL token (the file run as one script)', async () => {
    const root = temp('files-line-');
    mkdirSync(path.join(root, 'sql'));
    writeFileSync(path.join(root, 'sql/001_broken.sql'), COMMENTED);
    const result = await gate(root, { 'migrations-dir': 'sql' });
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.message).toBe('sql/001_broken.sql:7 fails on a fresh database: relation "nowhere" does not exist.');
    expect(failure.location).toEqual({ file: 'sql/001_broken.sql', line: 7 });
  });

  it('is reported at the line of its first SQL token (statement by statement, up section of a dbmate file)', async () => {
    const root = temp('files-line-dbmate-');
    mkdirSync(path.join(root, 'db/migrations'), { recursive: true });
    writeFileSync(
      path.join(root, 'db/migrations/20240101000001_broken.sql'),
      `-- migrate:up transaction:false\n${COMMENTED}\n-- migrate:down\ndrop table ok;\n`,
    );
    const result = await gate(root, { 'migrations-dir': 'db/migrations' });
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.location).toEqual({ file: 'db/migrations/20240101000001_broken.sql', line: 8 });
  });

  it('keeps the exact line PostgreSQL points at when it reports a position', async () => {
    const root = temp('files-line-position-');
    mkdirSync(path.join(root, 'sql'));
    writeFileSync(path.join(root, 'sql/001_typo.sql'), '-- a typo in a type\ncreate table typo (\n  id int,\n  owner bigintt\n);\n');
    const result = await gate(root, { 'migrations-dir': 'sql' });
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.location).toEqual({ file: 'sql/001_typo.sql', line: 4 });
  });

  it('(PostgreSQL gives no position for the missing relation of a foreign key, so the line comes from the statement)', async () => {
    await withClient(cluster.url, async (client) => {
      await expect(client.query('create table broken (owner bigint references nowhere (id))')).rejects.toMatchObject({ code: '42P01', position: undefined });
    });
  });
});
