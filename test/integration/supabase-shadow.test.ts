/**
 * The shadow is Supabase (issue 12): migrations run as the platform's non-superuser
 * `postgres` on a server whose environment holds nothing of the job's; the legacy Data API
 * grants follow `[api] auto_expose_new_tables` and the migrations' dates; pg_cron lives in
 * pg_catalog whatever `with schema` says; stand-in index options are stored as on Supabase.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { legacyDefaultGrantsSql } from '../../src/migrations/data-api-grants.ts';
import { buildShadow, type Shadow } from '../../src/migrations/shadow.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import { STAND_INS } from '../../src/postgres/extensions/stand-ins/index.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { TEST_MAJORS, withClient } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A Supabase project: supabase/config.toml (with `api` lines) and migrations by file name. */
function project(migrations: Record<string, string>, api = ''): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'supabase-shadow-'));
  roots.push(root);
  mkdirSync(path.join(root, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(path.join(root, 'supabase', 'config.toml'), `project_id = "t"\n[api]\nenabled = true\nschemas = ["public"]\n${api}\n`);
  for (const [file, sql] of Object.entries(migrations)) writeFileSync(path.join(root, 'supabase', 'migrations', file), sql);
  return root;
}

async function withShadow<T>(cwd: string, cluster: Cluster, fn: (shadow: Shadow) => Promise<T>): Promise<T> {
  const shadow = await buildShadow({ migrationsDir: 'supabase/migrations', cwd, cluster });
  try {
    return await fn(shadow);
  } finally {
    await shadow.stop();
  }
}

describe.each(TEST_MAJORS)('a Supabase shadow on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  beforeAll(async () => {
    process.env.POSTGATE_TEST_JOB_SECRET = 'job-secret-value-4711';
    try {
      cluster = await startCluster({ shadow: 'local', major, profile: 'supabase' });
    } finally {
      delete process.env.POSTGATE_TEST_JOB_SECRET;
    }
  });
  afterAll(() => cluster?.stop());

  it('applies migrations as the non-superuser postgres, the baseline as supabase_admin', async () => {
    const cwd = project({
      '20250101000000_t.sql': 'create table public.t (id int); create function public.who() returns text language sql as $$ select current_user::text $$;',
    });
    await withShadow(cwd, cluster, async (shadow) => {
      expect(shadow.failure).toBeUndefined();
      expect(shadow.migrationRole).toEqual({ name: 'postgres', superuser: false });
      await withClient(shadow.url, async (client) => {
        const { rows } = await client.query(
          `select (select r.rolname from pg_roles r where r.oid = c.relowner) as owner,
                  (select rolsuper from pg_roles where rolname = current_user) as reader_is_super,
                  (select rolsuper from pg_roles where rolname = 'postgres') as postgres_is_super,
                  (select rolsuper from pg_roles where rolname = 'supabase_admin') as admin_is_super,
                  (select r.rolname from pg_roles r join pg_namespace n on n.nspowner = r.oid where n.nspname = 'auth') as auth_owner
             from pg_class c where c.oid = 'public.t'::regclass`,
        );
        expect(rows[0]).toEqual({
          owner: 'postgres',
          reader_is_super: true,
          postgres_is_super: false,
          admin_is_super: true,
          auth_owner: 'supabase_auth_admin',
        });
      });
    });
  });

  it('a migration that needs a superuser fails as on Supabase, and runs nothing on the machine', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'marker-')), 'ran');
    roots.push(path.dirname(marker));
    const cwd = project({
      '20250101000000_ok.sql': 'create table public.a (id int);\n',
      '20250102000000_hostile.sql': `-- reads the runner\ncreate table public.loot (line text);\n\ncopy public.loot from program 'env; touch ${marker}';\n`,
    });
    await withShadow(cwd, cluster, async (shadow) => {
      expect(shadow.applied.map((m) => m.file)).toEqual(['supabase/migrations/20250101000000_ok.sql']);
      expect(shadow.failure?.rule).toBe('migration_apply_failed');
      expect(shadow.failure?.location).toEqual({ file: 'supabase/migrations/20250102000000_hostile.sql', line: 4 });
      expect(shadow.failure?.message).toMatch(/`postgres`, which is not a superuser/);
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('starts the server with none of the job environment', async () => {
    await withClient(cluster.adminUrl, async (client) => {
      // what a program the server runs sees (a superuser here, to look from the inside)
      await client.query("create temp table server_env (line text); copy server_env from program 'env'");
      const { rows } = await client.query<{ line: string }>('select line from server_env');
      const names = rows.map((r) => r.line.split('=')[0]);
      expect(rows.some((r) => r.line.includes('job-secret-value-4711'))).toBe(false);
      expect(names).toContain('PATH');
      // PATH and TMPDIR from postgate, LC_* and PG* from the server itself, PWD/SHLVL/_ from the shell COPY starts
      expect(names.filter((name) => !/^(PATH|TMPDIR|TZ|LC_[A-Z]+|PG[A-Z]+|PWD|OLDPWD|SHLVL|_)$/.test(name ?? ''))).toEqual([]);
    });
  });

  it('applies the statement forms real projects use with Supabase extensions', async () => {
    const cwd = project({
      '20250101000000_remote_schema.sql': [
        // straight out of `supabase db dump`: no-ops on Supabase
        'create extension if not exists "pg_net" with schema "extensions";',
        'create extension if not exists "supabase_vault" with schema "vault";',
        'create extension if not exists "pgsodium" with schema "pgsodium";',
        'create extension if not exists "pgjwt" with schema "extensions";',
        'create extension if not exists "pg_graphql" with schema "graphql";',
        '',
      ].join('\n'),
      '20250102000000_vector.sql': [
        'create extension vector with schema public;',
        'alter extension vector set schema extensions;',
        'create table public.documents (id bigint primary key, content text, embedding extensions.vector(3));',
        'create index documents_hnsw on public.documents using hnsw (embedding extensions.vector_cosine_ops)',
        '  with (m = 16, ef_construction = 64);',
        'create index on public.documents using ivfflat (embedding extensions.vector_l2_ops) with (lists = 100);',
        'create or replace function public.match_documents(query_embedding extensions.vector(3), match_count int)',
        'returns table (id bigint, similarity float) language sql stable as $$',
        '  select d.id, 1 - (d.embedding operator(extensions.<=>) query_embedding) from public.documents d',
        '  order by d.embedding operator(extensions.<=>) query_embedding limit match_count',
        '$$;',
        "insert into public.documents values (1, 'a', '[1,0,0]'), (2, 'b', '[0,1,0]');",
        '',
      ].join('\n'),
      '20250103000000_jobs.sql': [
        'create extension pg_cron with schema extensions;',
        "select cron.schedule('nightly', '0 3 * * *', $$delete from public.documents where id < 0$$);",
        "select net.http_post(url := 'http://127.0.0.1:9/hook', body := '{\"a\": 1}'::jsonb);",
        "select vault.create_secret('s3cret', 'webhook_secret');",
        'select extensions.sign(\'{"sub": "1"}\'::json, \'k\');',
        'create extension http with schema extensions;',
        'create extension plv8;',
        'create function public.twice(x int) returns int language plv8 as $$ return x * 2 $$;',
        '',
      ].join('\n'),
    });
    await withShadow(cwd, cluster, async (shadow) => {
      expect(shadow.failure).toBeUndefined();
      expect(shadow.standInsUsed).toEqual(
        expect.arrayContaining(['vector', 'pg_net', 'supabase_vault', 'pgsodium', 'pgjwt', 'pg_graphql', 'pg_cron', 'http', 'plv8']),
      );
      await withClient(shadow.url, async (client) => {
        const extensions = await client.query(
          `select extname, extnamespace::regnamespace::text as schema from pg_extension where extname in ('vector', 'pg_cron', 'pg_net', 'supabase_vault') order by 1`,
        );
        expect(extensions.rows).toEqual([
          { extname: 'pg_cron', schema: 'pg_catalog' },
          { extname: 'pg_net', schema: 'extensions' },
          { extname: 'supabase_vault', schema: 'vault' },
          { extname: 'vector', schema: 'extensions' },
        ]);
        const indexes = await client.query(
          `select indexname, indexdef from pg_indexes where tablename = 'documents' and indexname <> 'documents_pkey' order by 1`,
        );
        expect(indexes.rows.map((r) => r.indexdef)).toEqual([
          // vector_l2_ops is ivfflat's default class, as in pgvector; extensions is on the search path
          "CREATE INDEX documents_embedding_idx ON public.documents USING ivfflat (embedding) WITH (lists='100')",
          "CREATE INDEX documents_hnsw ON public.documents USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')",
        ]);
        const matches = await client.query(`select id, round(similarity::numeric, 6) as similarity from public.match_documents('[1,0,0]', 2)`);
        expect(matches.rows).toEqual([
          { id: '1', similarity: '1.000000' },
          { id: '2', similarity: '0.000000' },
        ]);
        expect((await client.query(`select jobname, schedule from cron.job`)).rows).toEqual([{ jobname: 'nightly', schedule: '0 3 * * *' }]);
        expect((await client.query(`select url from net.http_request_queue`)).rows).toEqual([{ url: 'http://127.0.0.1:9/hook' }]);
        // nothing of the platform machinery is left in the shadow
        expect((await client.query(`select count(*)::int as n from pg_event_trigger where evtname like 'postgate%'`)).rows[0].n).toBe(0);
        expect((await client.query(`select count(*)::int as n from pg_namespace where nspname like 'postgate%'`)).rows[0].n).toBe(0);
      });
    });
  });

  describe('Data API grants follow [api] auto_expose_new_tables and the migration dates', () => {
    const migrations = {
      '20250301000000_old.sql': 'create table public.old_t (id int);\n',
      '20261101000000_new.sql': 'create table public.new_t (id int);\n',
    };
    const cases = [
      { api: '', old: true, new: false, assumption: /dated before 2026-10-30/ },
      { api: 'auto_expose_new_tables = false', old: true, new: false, assumption: /dated before 2026-10-30/ },
      { api: 'auto_expose_new_tables = true', old: true, new: true, assumption: /auto_expose_new_tables = true/ },
    ];
    for (const c of cases) {
      it(`${c.api || 'unset'}: old table granted ${c.old}, new table granted ${c.new}`, async () => {
        await withShadow(project(migrations, c.api), cluster, async (shadow) => {
          expect(shadow.failure).toBeUndefined();
          expect(shadow.grantAssumption).toMatch(c.assumption);
          await withClient(shadow.url, async (client) => {
            const { rows } = await client.query(
              `select has_table_privilege('anon', 'public.old_t', 'select') as old, has_table_privilege('anon', 'public.new_t', 'select') as new`,
            );
            expect(rows[0]).toEqual({ old: c.old, new: c.new });
          });
        });
      });
    }

    it('a project whose first migration is dated after 2026-05-30 never had them', async () => {
      await withShadow(project({ '20260601000000_t.sql': 'create table public.t (id int);\n' }), cluster, async (shadow) => {
        expect(shadow.grantAssumption).toMatch(/never had the legacy/);
        await withClient(shadow.url, async (client) => {
          const { rows } = await client.query(`select has_table_privilege('anon', 'public.t', 'select') as granted`);
          expect(rows[0].granted).toBe(false);
        });
      });
    });

    it('a value of the wrong type is bad input naming the file and key', async () => {
      await expect(buildShadow({ migrationsDir: 'supabase/migrations', cwd: project(migrations, 'auto_expose_new_tables = "yes"'), cluster })).rejects.toThrow(
        /config\.toml: `\[api\] auto_expose_new_tables` is "yes"; set it to true or false/,
      );
    });
  });
});

describe.each(TEST_MAJORS)('drift deploy mode on live databases built like 2024 and 2026 projects (PostgreSQL %i)', (major) => {
  const migrations = (year: string) => ({
    [`${year}0601000000_schema.sql`]: [
      'create table public.notes (id bigint generated always as identity primary key, owner uuid default auth.uid(), body text);',
      'alter table public.notes enable row level security;',
      'create policy "own notes" on public.notes for all to authenticated using (owner = auth.uid());',
      'create view public.note_count with (security_invoker = true) as select count(*) as n from public.notes;',
      'create function public.add_note(body text) returns bigint language sql as $$ insert into public.notes (body) values (body) returning id $$;',
      '',
    ].join('\n'),
    [`${year}0602000000_grants.sql`]:
      'grant select, insert on public.notes to authenticated;\ngrant execute on function public.add_note(text) to authenticated;\n',
  });
  let live: Cluster;
  beforeAll(async () => {
    live = await startCluster({ shadow: 'local', major, profile: 'supabase' });
  });
  afterAll(() => live?.stop());

  for (const year of ['2024', '2026']) {
    it(`${year}: an unchanged replay shows zero drift`, async () => {
      const cwd = project(migrations(year));
      const url = await live.createDatabase(`live_${year}`);
      await withClient(live.asAdmin(url), async (admin) => {
        await applySupabaseBaseline(admin);
        // a 2026 project never had the legacy default grants
        if (year === '2026') await admin.query(legacyDefaultGrantsSql(false));
      });
      await withClient(url, async (client) => {
        await WRITERS.supabase(client, readMigrations('supabase/migrations', { cwd }).migrations);
      });
      // on 2026-10-30 the platform revoked the legacy default grants of every project
      if (year === '2024') await withClient(live.asAdmin(url), (admin) => admin.query(legacyDefaultGrantsSql(false)));
      await withClient(url, async (client) => {
        const { rows } = await client.query(`select has_table_privilege('anon', 'public.notes', 'select') as anon_reads`);
        expect(rows[0].anon_reads).toBe(year === '2024');
      });
      const inputs: Record<string, string> = { 'database-url': url, shadow: 'local', 'postgres-version': String(major) };
      const result = await run(
        parseInputs(DRIFT_INPUTS, (name) => inputs[name], 'cli'),
        createContext({ cwd, env: {} }),
      );
      expect(result.error).toBeUndefined();
      // the 2024 project's grants come from the legacy default privileges only (issue 16): one warning, no drift
      expect(result.findings.filter((f) => f.rule !== 'shadow_stand_in_used').map((f) => f.rule)).toEqual(
        year === '2024' ? ['grant_only_from_legacy_default'] : [],
      );
      expect(result.metrics.differences).toBe(0);
      expect(result.status).toBe('pass');
    });
  }
});

describe.each(TEST_MAJORS)('every stand-in as a real extension on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ shadow: 'local', major, profile: 'supabase' });
  });
  afterAll(() => cluster?.stop());

  it('is created by the non-superuser postgres in every statement form, listed, commented on, updated and dropped', async () => {
    const url = await cluster.createDatabase('forms');
    await withClient(cluster.asAdmin(url), (admin) => applySupabaseBaseline(admin));
    const standIns = STAND_INS.filter((s) => cluster.standIns.includes(s.name));
    expect(standIns.map((s) => s.name)).toEqual(expect.arrayContaining(['vector', 'pg_net', 'supabase_vault', 'pgsodium', 'pgjwt', 'pg_cron', 'http', 'plv8']));
    await withClient(url, async (client) => {
      for (const standIn of standIns) {
        const name = `"${standIn.name}"`;
        const schema = standIn.schema ?? 'extensions';
        const older = standIn.olderVersions?.[0];
        // the baseline pre-installs these as supabase_admin: as on Supabase, postgres's statements are no-ops
        const preinstalled = ['supabase_vault', 'pg_net'].includes(standIn.name);
        if (preinstalled) {
          await client.query(`create extension if not exists ${name} with schema "${schema}"`);
          await client.query(`create extension if not exists ${name}`);
          continue;
        }
        // `with schema` names an existing schema: a fixed-schema extension makes its own the first time
        const forms = [
          ...(standIn.schema
            ? [`create extension if not exists ${name} cascade`, `create extension if not exists ${name} with schema "${schema}"`]
            : [`create extension if not exists ${name} with schema "${schema}" cascade`, `create extension if not exists ${name}`]),
          `comment on extension ${name} is 'used by the app'`,
          `alter extension ${name} update`,
          `drop extension ${name} cascade`,
          `create extension ${name}${standIn.schema ? '' : ' schema extensions'}${older ? ` version '${older}'` : ''}`,
          ...(older ? [`alter extension ${name} update`] : []),
        ];
        for (const sql of forms) {
          await expect(client.query(sql), `${standIn.name}: ${sql}`).resolves.toBeDefined();
        }
        const { rows } = await client.query<{ version: string; owner: string }>(
          'select e.extversion as version, e.extowner::regrole::text as owner from pg_extension e where e.extname = $1',
          [standIn.name],
        );
        expect(rows, standIn.name).toEqual([{ version: standIn.defaultVersion, owner: 'postgres' }]);
        const available = await client.query('select default_version from pg_available_extensions where name = $1', [standIn.name]);
        expect(available.rows, standIn.name).toEqual([{ default_version: standIn.defaultVersion }]);
        await client.query(`drop extension ${name} cascade`);
      }
    });
  });

  it('says in one sentence when the cache for the private installation cannot be written', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cache-file-')), 'not-a-directory');
    roots.push(path.dirname(file));
    // reachable by the server user, so that root uses it rather than its private fallback
    chmodSync(path.dirname(file), 0o755);
    writeFileSync(file, '');
    const saved = process.env.POSTGATE_CACHE_DIR;
    process.env.POSTGATE_CACHE_DIR = file;
    try {
      await expect(startCluster({ shadow: 'local', major })).rejects.toThrow(
        /^postgate could not build its private copy of PostgreSQL [\d.]+ in .*not-a-directory\/installs \(ENOTDIR\); make that directory writable, or set POSTGATE_CACHE_DIR to a writable directory\.$/,
      );
    } finally {
      process.env.POSTGATE_CACHE_DIR = saved;
    }
  });
});

describe('an installation whose share directory the private copy cannot link', () => {
  it('is one sentence naming the installation and the fix', async () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'fake-pg-'));
    roots.push(bin);
    for (const tool of ['postgres', 'initdb']) {
      writeFileSync(path.join(bin, tool), '#!/bin/sh\necho "postgres (PostgreSQL) 15.99"\n', { mode: 0o755 });
    }
    const saved = process.env.PG_BIN;
    process.env.PG_BIN = bin;
    try {
      await expect(startCluster({ shadow: 'local', major: 15 })).rejects.toThrow(
        new RegExp(
          `^The PostgreSQL installation in ${bin} has no share/extension directory \\(plpgsql\\.control\\) next to its binaries; reinstall it, or point PG_BIN at a complete installation\\.$`,
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.PG_BIN;
      else process.env.PG_BIN = saved;
    }
  });
});
