/**
 * A pull request's migrations are hostile input (issue 13, item 2): on the shadow they run as a
 * non-superuser `postgres` on a server started with none of the job's environment, so a
 * migration set that tries every known way out (COPY TO/FROM PROGRAM, server files, large
 * objects, dblink and postgres_fdw to the live database, ALTER SYSTEM, untrusted languages, C
 * functions, psql's `\!`) gets nothing, for every migration tool postgate reads. The job here
 * holds secrets in its environment (HMAC_SECRET, a live database URL, PGPASSWORD, a token) the
 * way a deploy job does; none of them reaches the shadow or the report, and no command runs.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildShadow } from '../../src/migrations/shadow.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { MigrationFormat } from '../../src/migrations/types.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { withClient } from '../support/pg.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/migrations');

/** Where each tool's fixture keeps its migrations. */
const TOOLS: Array<{ format: MigrationFormat; dir: string }> = [
  { format: 'supabase', dir: 'supabase/migrations' },
  { format: 'sqlx', dir: 'migrations' },
  { format: 'prisma', dir: 'prisma/migrations' },
  { format: 'drizzle', dir: 'drizzle' },
  { format: 'flyway', dir: 'sql' },
  { format: 'dbmate', dir: 'db/migrations' },
  { format: 'golang-migrate', dir: 'migrations' },
  { format: 'node-pg-migrate', dir: 'migrations' },
  { format: 'graphile-migrate', dir: 'migrations' },
  { format: 'plain', dir: 'sql' },
];

const HMAC_SECRET = 'hmac-Secret-of-the-job-5d8e';
const LIVE_PASSWORD = 'Live-Db-Passw0rd-77aa';
const TOKEN = 'ghs_hostileMigrationToken0042';

let live: Cluster;
let shadowCluster: Cluster;
let work: string;
let liveUrl: string;
const secrets = () => [HMAC_SECRET, LIVE_PASSWORD, TOKEN, new URL(live.adminUrl).password];

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'hostile-migrations-'));
  live = await startCluster({ shadow: 'local', major: 15 });
  liveUrl = await live.createDatabase('live');
  await withClient(live.adminUrl, (client) => client.query(`alter role postgres password '${LIVE_PASSWORD}'`));
  // the job's environment, as a deploy job has it, when postgate starts its shadow server
  const saved = { ...process.env };
  Object.assign(process.env, {
    HMAC_SECRET,
    DATABASE_URL: liveUrl.replace(/:[^:@/]+@/, `:${LIVE_PASSWORD}@`),
    PGPASSWORD: LIVE_PASSWORD,
    PGHOST: '127.0.0.1',
    PGPORT: new URL(liveUrl).port,
    GITHUB_TOKEN: TOKEN,
  });
  try {
    shadowCluster = await startCluster({ shadow: 'local', major: 15, profile: 'supabase' });
  } finally {
    for (const key of ['HMAC_SECRET', 'DATABASE_URL', 'PGPASSWORD', 'PGHOST', 'PGPORT', 'GITHUB_TOKEN']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

afterAll(async () => {
  await shadowCluster?.stop();
  await live?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every way out, each caught, its outcome recorded; the last statement raises the record into the report. */
function hostileSql(marker: string, livePort: string): string {
  const attempts: Array<[string, string]> = [
    [
      'copy from program',
      `create temp table out_env (line text); copy out_env from program 'env; touch ${marker}-copy'; insert into loot select 'copy from program', string_agg(line, ' ') from out_env;`,
    ],
    ['copy to program', `copy (select 1) to program 'touch ${marker}-copy-to'; insert into loot values ('copy to program', 'ran');`],
    [
      'copy server file',
      `create temp table out_file (line text); copy out_file from '/proc/self/environ'; insert into loot select 'copy server file', string_agg(line, ' ') from out_file;`,
    ],
    ['pg_read_file', `insert into loot values ('pg_read_file', pg_read_file('/proc/1/environ'));`],
    ['pg_ls_dir', `insert into loot select 'pg_ls_dir', string_agg(f, ' ') from pg_ls_dir('/proc') f;`],
    ['lo_import', `insert into loot values ('lo_import', lo_import('/proc/self/environ')::text);`],
    ['alter system', `alter system set archive_command = 'touch ${marker}-archive'; insert into loot values ('alter system', 'ran');`],
    ['untrusted language', `create extension plperlu; insert into loot values ('untrusted language', 'created');`],
    [
      'c function',
      `create function pg_temp.sh(cstring) returns int language c as '/lib/x86_64-linux-gnu/libc.so.6', 'system'; insert into loot values ('c function', 'created');`,
    ],
    [
      'dblink',
      `create extension if not exists dblink; insert into loot select 'dblink', x from dblink('host=127.0.0.1 port=${livePort} dbname=live user=postgres', 'select current_user') as t(x text);`,
    ],
    [
      'postgres_fdw',
      `create extension if not exists postgres_fdw; create server live_srv foreign data wrapper postgres_fdw options (host '127.0.0.1', port '${livePort}', dbname 'live'); create user mapping for current_user server live_srv options (user 'postgres'); create foreign table live_roles (rolname text) server live_srv options (schema_name 'pg_catalog', table_name 'pg_roles'); insert into loot select 'postgres_fdw', string_agg(rolname, ' ') from live_roles;`,
    ],
    ['set role superuser', `set role supabase_admin; insert into loot values ('set role superuser', current_user);`],
  ];
  const blocks = attempts.map(
    ([name, body]) => `do $hostile$ begin ${body} exception when others then insert into loot values ('${name}', 'refused: ' || sqlerrm); end $hostile$;`,
  );
  return [
    '',
    'create table loot (attempt text, got text);',
    ...blocks,
    `do $hostile$ begin raise exception 'LOOT %', (select string_agg(attempt || ' => ' || coalesce(got, ''), ' || ' order by attempt) from loot); end $hostile$;`,
    '',
  ].join('\n');
}

/** Appends to the tool's last migration (before dbmate's or node-pg-migrate's down section), as a pull request would. */
function plant(root: string, tool: (typeof TOOLS)[number], sql: string): string {
  const { migrations } = readMigrations(tool.dir, { cwd: root, format: tool.format });
  const last = migrations.filter((m) => m.executable).at(-1)!;
  const text = readFileSync(last.absolutePath, 'utf8');
  const down = text.search(/^-- (migrate:down|Down Migration)/m);
  writeFileSync(last.absolutePath, down >= 0 ? `${text.slice(0, down)}${sql}\n${text.slice(down)}` : `${text}\n${sql}`);
  return last.file;
}

describe('a hostile migration set gets nothing out, for every migration tool', () => {
  it.each(TOOLS)('$format', async (tool) => {
    const root = path.join(work, tool.format);
    cpSync(path.join(FIXTURES, tool.format), root, { recursive: true });
    const marker = path.join(work, `${tool.format}-marker`);
    const file = plant(root, tool, hostileSql(marker, new URL(liveUrl).port));
    const shadow = await buildShadow({ migrationsDir: tool.dir, cwd: root, format: tool.format, cluster: shadowCluster });
    try {
      expect(shadow.migrationRole).toEqual({ name: 'postgres', superuser: false });
      const failure = shadow.failure;
      expect(failure?.location?.file, JSON.stringify(failure)).toBe(file);
      const report = JSON.stringify(failure);
      const loot = Object.fromEntries(
        /LOOT (.*)\./s
          .exec(failure!.message)![1]!
          .split(' || ')
          .map((entry) => entry.split(' => ') as [string, string]),
      );
      expect(Object.keys(loot)).toHaveLength(12);
      // every attempt was refused by PostgreSQL: nothing ran, nothing was read
      for (const [attempt, outcome] of Object.entries(loot)) expect(outcome, attempt).toMatch(/^refused: /);
      for (const secret of secrets()) expect(report).not.toContain(secret);
      for (const suffix of ['copy', 'copy-to', 'archive']) expect(existsSync(`${marker}-${suffix}`)).toBe(false);
    } finally {
      await shadow.stop();
    }
  });

  it("psql's meta-commands are not SQL: `\\!` in a migration is a syntax error, and runs nothing", async () => {
    const root = path.join(work, 'meta');
    cpSync(path.join(FIXTURES, 'supabase'), root, { recursive: true });
    const marker = path.join(work, 'meta-marker');
    const file = plant(root, TOOLS[0]!, `\\! touch ${marker}\nselect 1;\n`);
    const shadow = await buildShadow({ migrationsDir: 'supabase/migrations', cwd: root, cluster: shadowCluster });
    try {
      expect(shadow.failure?.message).toMatch(/syntax error at or near "\\"/);
      expect(shadow.failure?.location?.file).toBe(file);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await shadow.stop();
    }
  });
});
