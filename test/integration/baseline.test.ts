/**
 * The Supabase baseline on real, throwaway PostgreSQL clusters (every installed
 * major among 15 and 17): it applies, applies again, and gives Supabase's semantics.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../../src/postgres/baseline/apply.ts';
import {
  BASELINE_SECTIONS,
  SUPABASE_BASELINE_SQL,
  SUPABASE_EXTENSIONS,
  SUPABASE_MANAGED_ROLES,
  SUPABASE_MANAGED_SCHEMAS,
} from '../../src/postgres/baseline/supabase.ts';
import { findInstallations } from '../../src/postgres/ephemeral/binaries.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';

const USER_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const USER_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
/** Platform extensions no stock server has: postgate's stand-ins provide them. */
const PLATFORM_ONLY = ['pgjwt', 'pg_graphql', 'pg_net', 'pgsodium', 'supabase_vault'];

const installedMajors = new Set(findInstallations().map((i) => i.major));
const MAJORS = [15, 17];

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Runs fn inside a transaction that is always rolled back. */
async function inRollback<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    return await fn();
  } finally {
    await client.query('rollback');
  }
}

async function scalar<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const result = await client.query(sql, params);
  return Object.values(result.rows[0] ?? {})[0] as T;
}

describe('SUPABASE_BASELINE_SQL', () => {
  it('is static SQL with every section in order', () => {
    expect(SUPABASE_BASELINE_SQL).not.toContain('${');
    expect(SUPABASE_BASELINE_SQL).not.toContain('`');
    expect(BASELINE_SECTIONS.map((s) => s.name)).toEqual([
      'roles',
      'extensions',
      'auth',
      'storage',
      'vault',
      'net',
      'supabase_functions',
      'graphql_public',
      'platform',
      'session',
    ]);
    expect(SUPABASE_BASELINE_SQL).not.toMatch(/\bpassword\s+'/i);
  });

  it('lists the platform schemas, roles and extensions', () => {
    for (const schema of [
      'auth',
      'storage',
      'extensions',
      'vault',
      'net',
      'supabase_functions',
      'graphql_public',
      'realtime',
      'supabase_migrations',
      'cron',
      'pgsodium',
      'pgbouncer',
    ]) {
      expect(SUPABASE_MANAGED_SCHEMAS).toContain(schema);
    }
    expect(SUPABASE_MANAGED_SCHEMAS).not.toContain('public');
    for (const role of ['anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin']) {
      expect(SUPABASE_MANAGED_ROLES).toContain(role);
    }
    expect(SUPABASE_EXTENSIONS.filter((e) => e.createdByBaseline).map((e) => e.name)).toEqual(['uuid-ossp', 'pgcrypto', 'pg_stat_statements']);
  });
});

describe('findCreatedExtensions', () => {
  it('finds extensions created by a migration, ignoring comments and strings', () => {
    const sql = `
      -- create extension ignored_in_comment;
      /* create extension "also_ignored" */
      create extension if not exists vector with schema extensions;
      CREATE EXTENSION "uuid-ossp";
      create extension pg_cron;
      select 'create extension in_a_string';
      create extension if not exists vector;
    `;
    expect(findCreatedExtensions(sql)).toEqual(['vector', 'uuid-ossp', 'pg_cron']);
  });
});

describe.each(MAJORS)('Supabase baseline on PostgreSQL %i', (major) => {
  const available = installedMajors.has(major);
  let cluster: Cluster | undefined;
  let client: pg.Client;

  beforeAll(async () => {
    if (!available) return;
    cluster = await startCluster({ major, shadow: 'local' });
    client = await connect(cluster.url);
  });

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cluster?.stop();
  });

  it.skipIf(!available)('applies on a fresh cluster, pre-installing Vault and pg_net as extensions (stand-ins here)', async () => {
    const result = await applySupabaseBaseline(client);
    expect(result.installedExtensions).toEqual(['uuid-ossp', 'pgcrypto', 'pg_stat_statements']);
    // every platform extension is the real one or a stand-in: none is missing
    for (const name of PLATFORM_ONLY) expect(result.missingExtensions).not.toContain(name);
    expect(result.missingExtensions).toEqual([]);
    expect(result.standIns).toEqual(['graphql_public']);

    const extensions = await client.query<{ extname: string; schema: string }>(
      `select e.extname, n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
        where e.extname <> 'plpgsql' order by 1`,
    );
    expect(extensions.rows).toEqual([
      { extname: 'pg_net', schema: 'extensions' },
      { extname: 'pg_stat_statements', schema: 'extensions' },
      { extname: 'pgcrypto', schema: 'extensions' },
      { extname: 'supabase_vault', schema: 'vault' },
      { extname: 'uuid-ossp', schema: 'extensions' },
    ]);
  });

  it.skipIf(!available)('is idempotent: a second run succeeds and changes nothing', async () => {
    const snapshot = `
      select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')) as relations,
             (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname not in ('pg_catalog', 'information_schema')) as functions,
             (select count(*) from pg_policy) as policies,
             (select count(*) from pg_roles) as roles,
             (select count(*) from pg_auth_members) as memberships,
             (select count(*) from pg_default_acl) as default_acls`;
    const before = (await client.query(snapshot)).rows[0];
    const again = await applySupabaseBaseline(client);
    expect(again.installedExtensions).toEqual(['uuid-ossp', 'pgcrypto', 'pg_stat_statements']);
    expect((await client.query(snapshot)).rows[0]).toEqual(before);
  });

  it.skipIf(!available)('applies to a second database of the same cluster (roles already exist)', async () => {
    const url = await cluster!.createDatabase();
    const other = await connect(url);
    try {
      await applySupabaseBaseline(other);
      expect(await scalar(other, `select count(*)::int from pg_publication where pubname = 'supabase_realtime'`)).toBe(1);
      expect(await scalar(other, `select to_regclass('auth.users') is not null`)).toBe(true);
    } finally {
      await other.end();
    }
  });

  it.skipIf(!available)('creates the Supabase roles with their attributes and no passwords', async () => {
    const roles = await client.query<{ rolname: string; rolcanlogin: boolean; rolinherit: boolean; rolbypassrls: boolean; has_password: boolean }>(
      `select rolname, rolcanlogin, rolinherit, rolbypassrls, rolpassword is not null as has_password
         from pg_authid
        where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
        order by rolname`,
    );
    expect(roles.rows).toEqual([
      { rolname: 'anon', rolcanlogin: false, rolinherit: false, rolbypassrls: false, has_password: false },
      { rolname: 'authenticated', rolcanlogin: false, rolinherit: false, rolbypassrls: false, has_password: false },
      { rolname: 'authenticator', rolcanlogin: true, rolinherit: false, rolbypassrls: false, has_password: false },
      { rolname: 'service_role', rolcanlogin: false, rolinherit: false, rolbypassrls: true, has_password: false },
    ]);
    for (const role of [
      'supabase_admin',
      'supabase_auth_admin',
      'supabase_storage_admin',
      'dashboard_user',
      'supabase_replication_admin',
      'supabase_read_only_user',
      'pgbouncer',
      'supabase_functions_admin',
    ]) {
      expect(await scalar(client, 'select count(*)::int from pg_roles where rolname = $1', [role])).toBe(1);
    }
    // the cluster's own superuser may have one (the ephemeral provider's choice); the baseline's roles never do
    expect(await scalar(client, `select count(*)::int from pg_authid where rolpassword is not null and rolname = any($1)`, [SUPABASE_MANAGED_ROLES])).toBe(0);
    for (const role of ['anon', 'authenticated', 'service_role']) {
      expect(await scalar(client, `select pg_has_role('authenticator', $1, 'member')`, [role])).toBe(true);
    }
  });

  it.skipIf(!available)('sets the database search_path for new sessions', async () => {
    const fresh = await connect(cluster!.url);
    try {
      expect(await scalar(fresh, 'show search_path')).toBe('"$user", public, extensions');
      // uuid-ossp resolves unqualified, as on Supabase
      expect(await scalar(fresh, 'select uuid_generate_v4() is not null')).toBe(true);
    } finally {
      await fresh.end();
    }
  });

  describe('auth helpers', () => {
    it.skipIf(!available)('read request.jwt.claims', async () => {
      await inRollback(client, async () => {
        await client.query(`select set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify({ sub: USER_A, role: 'authenticated', email: 'ada@example.com', app_metadata: { provider: 'email' } }),
        ]);
        const row = (await client.query('select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt')).rows[0];
        expect(row).toEqual({
          uid: USER_A,
          role: 'authenticated',
          email: 'ada@example.com',
          jwt: { sub: USER_A, role: 'authenticated', email: 'ada@example.com', app_metadata: { provider: 'email' } },
        });
      });
    });

    it.skipIf(!available)('read the legacy request.jwt.claim.* settings, which win over request.jwt.claims', async () => {
      await inRollback(client, async () => {
        await client.query(`select set_config('request.jwt.claim.sub', $1, true), set_config('request.jwt.claim.role', 'service_role', true)`, [USER_B]);
        expect(await scalar(client, 'select auth.uid()')).toBe(USER_B);
        await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: USER_A, role: 'authenticated', email: 'a@x.io' })]);
        expect(await scalar(client, 'select auth.uid()')).toBe(USER_B);
        expect(await scalar(client, 'select auth.role()')).toBe('service_role');
        expect(await scalar(client, 'select auth.email()')).toBe('a@x.io');
        // auth.jwt(): the legacy whole-token setting request.jwt.claim wins too
        expect(await scalar(client, 'select auth.jwt()')).toEqual({ sub: USER_A, role: 'authenticated', email: 'a@x.io' });
        await client.query(`select set_config('request.jwt.claim', '{"sub":"legacy"}', true)`);
        expect(await scalar(client, 'select auth.jwt()')).toEqual({ sub: 'legacy' });
      });
    });

    it.skipIf(!available)('return null without claims, and treat empty settings as unset', async () => {
      await inRollback(client, async () => {
        expect(await scalar(client, 'select auth.uid()')).toBeNull();
        await client.query(`select set_config('request.jwt.claim.sub', '', true), set_config('request.jwt.claims', '', true)`);
        const row = (await client.query('select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt')).rows[0];
        expect(row).toEqual({ uid: null, role: null, email: null, jwt: null });
      });
    });

    it.skipIf(!available)('are stable SQL functions callable by authenticated inside policies', async () => {
      const fns = await client.query<{ proname: string; provolatile: string; lang: string }>(
        `select p.proname, p.provolatile, l.lanname as lang from pg_proc p join pg_language l on l.oid = p.prolang
          where p.pronamespace = 'auth'::regnamespace order by 1`,
      );
      expect(fns.rows).toEqual(['email', 'jwt', 'role', 'uid'].map((proname) => ({ proname, provolatile: 's', lang: 'sql' })));
      await inRollback(client, async () => {
        await client.query('create table public.notes (id int primary key, owner uuid)');
        await client.query('alter table public.notes enable row level security');
        await client.query('create policy own on public.notes for select to authenticated using (owner = (select auth.uid()))');
        await client.query(`insert into public.notes values (1, $1), (2, $2)`, [USER_A, USER_B]);
        await client.query('set local role authenticated');
        await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: USER_A })]);
        expect((await client.query('select id from public.notes')).rows).toEqual([{ id: 1 }]);
      });
    });
  });

  describe('privileges', () => {
    it.skipIf(!available)('keep anon and authenticated out of vault.decrypted_secrets; service_role may read it', async () => {
      await inRollback(client, async () => {
        const id = await scalar<string>(client, `select vault.create_secret('s3cret-value', 'webhook_hmac_secret', 'test')`);
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        // stored encoded, not as plain text (and not encrypted: see supabase.ts)
        expect(await scalar(client, `select secret from vault.secrets where id = $1`, [id])).not.toBe('s3cret-value');
        expect(await scalar(client, `select decrypted_secret from vault.decrypted_secrets where name = 'webhook_hmac_secret'`)).toBe('s3cret-value');

        await client.query('savepoint before_roles');
        for (const role of ['anon', 'authenticated']) {
          await client.query(`set local role ${role}`);
          await expect(client.query('select * from vault.decrypted_secrets')).rejects.toMatchObject({ code: '42501' });
          await client.query('rollback to savepoint before_roles');
          await client.query(`set local role ${role}`);
          await expect(client.query(`select vault.create_secret('x')`)).rejects.toMatchObject({ code: '42501' });
          await client.query('rollback to savepoint before_roles');
        }
        await client.query('set local role service_role');
        expect(await scalar(client, `select decrypted_secret from vault.decrypted_secrets where name = 'webhook_hmac_secret'`)).toBe('s3cret-value');
        await client.query(`select vault.update_secret($1, 'rotated')`, [id]);
        expect(await scalar(client, `select decrypted_secret from vault.decrypted_secrets where id = $1`, [id])).toBe('rotated');
      });
    });

    it.skipIf(!available)('do not let anon or authenticated call net.http_post / http_get', async () => {
      for (const role of ['anon', 'authenticated']) {
        for (const fn of ['net.http_post(text, jsonb, jsonb, jsonb, integer)', 'net.http_get(text, jsonb, jsonb, integer)']) {
          expect(await scalar(client, 'select has_function_privilege($1, $2, $3)', [role, fn, 'execute'])).toBe(false);
        }
        await inRollback(client, async () => {
          await client.query(`set local role ${role}`);
          await expect(client.query(`select net.http_post('https://example.com/hook')`)).rejects.toMatchObject({ code: '42501' });
        });
      }
      expect(await scalar(client, `select has_function_privilege('service_role', 'net.http_post(text, jsonb, jsonb, jsonb, integer)', 'execute')`)).toBe(true);
    });

    it.skipIf(!available)('enable RLS on storage.objects and storage.buckets, so API roles see nothing without a policy', async () => {
      const rls = await client.query<{ relname: string; relrowsecurity: boolean }>(
        `select relname, relrowsecurity from pg_class where relnamespace = 'storage'::regnamespace and relkind = 'r' order by 1`,
      );
      expect(rls.rows).toEqual([
        { relname: 'buckets', relrowsecurity: true },
        { relname: 'objects', relrowsecurity: true },
      ]);
      await inRollback(client, async () => {
        await client.query(`insert into storage.buckets (id, name) values ('b', 'b')`);
        await client.query(`insert into storage.objects (bucket_id, name) values ('b', 'x/y/photo.final.png')`);
        expect(
          (
            await client.query(
              `select path_tokens, storage.foldername(name) as folders, storage.filename(name) as file, storage.extension(name) as ext from storage.objects`,
            )
          ).rows[0],
        ).toEqual({ path_tokens: ['x', 'y', 'photo.final.png'], folders: ['x', 'y'], file: 'photo.final.png', ext: 'png' });
        for (const role of ['anon', 'authenticated']) {
          await client.query(`set local role ${role}`);
          expect(await scalar(client, 'select count(*)::int from storage.objects')).toBe(0);
          expect(await scalar(client, 'select count(*)::int from storage.buckets')).toBe(0);
          await client.query('reset role');
        }
        await client.query('set local role service_role');
        expect(await scalar(client, 'select count(*)::int from storage.objects')).toBe(1);
      });
    });

    it.skipIf(!available)('default privileges give the API roles full grants on new tables, sequences and functions in public', async () => {
      await inRollback(client, async () => {
        await client.query('create table public.things (id bigserial primary key, label text)');
        await client.query(`create function public.things_count() returns bigint language sql as 'select count(*) from public.things'`);
        for (const role of ['anon', 'authenticated', 'service_role']) {
          for (const privilege of ['select', 'insert', 'update', 'delete']) {
            expect(await scalar(client, 'select has_table_privilege($1, $2, $3)', [role, 'public.things', privilege])).toBe(true);
          }
          expect(await scalar(client, 'select has_sequence_privilege($1, $2, $3)', [role, 'public.things_id_seq', 'usage'])).toBe(true);
          expect(await scalar(client, 'select has_function_privilege($1, $2, $3)', [role, 'public.things_count()', 'execute'])).toBe(true);
          expect(await scalar(client, `select has_schema_privilege($1, 'public', 'usage')`, [role])).toBe(true);
        }
        // ...and RLS is what protects them
        await client.query('alter table public.things enable row level security');
        await client.query(`insert into public.things (label) values ('x')`);
        await client.query('set local role anon');
        expect(await scalar(client, 'select count(*)::int from public.things')).toBe(0);
      });
    });

    it.skipIf(!available)('give the API roles usage on the auth, storage and graphql_public schemas only where Supabase does', async () => {
      for (const role of ['anon', 'authenticated', 'service_role']) {
        for (const schema of ['auth', 'storage', 'extensions', 'graphql_public', 'public']) {
          expect(await scalar(client, 'select has_schema_privilege($1, $2, $3)', [role, schema, 'usage'])).toBe(true);
        }
        expect(await scalar(client, `select has_table_privilege($1, 'auth.users', 'select')`, [role])).toBe(false);
      }
      for (const role of ['anon', 'authenticated']) {
        expect(await scalar(client, `select has_schema_privilege($1, 'vault', 'usage')`, [role])).toBe(false);
      }
    });
  });

  describe('pg_net and Database Webhook stand-ins', () => {
    it.skipIf(!available)('net.http_post records the request (canonical jsonb body, default headers) and sends nothing', async () => {
      await inRollback(client, async () => {
        const id = await scalar<string>(
          client,
          `select net.http_post('https://example.com/hook', '{"b": 2, "a": "é"}'::jsonb, params => '{"q": "a b"}'::jsonb)`,
        );
        const row = (
          await client.query(
            `select method, url, headers, convert_from(body, 'UTF8') as body, timeout_milliseconds from net.http_request_queue where id = $1`,
            [id],
          )
        ).rows[0];
        expect(row).toEqual({
          method: 'POST',
          url: 'https://example.com/hook?q=a%20b',
          headers: { 'Content-Type': 'application/json' },
          body: '{"a": "é", "b": 2}',
          timeout_milliseconds: 5000,
        });
        const getId = await scalar<string>(client, `select net.http_get('https://example.com/ping')`);
        expect(Number(getId)).toBeGreaterThan(Number(id));
        await expect(client.query(`select net.http_post('https://example.com', '{}', headers => '{"Content-Type": "text/plain"}')`)).rejects.toThrow(
          /Content-Type header must be "application\/json"/,
        );
      });
    });

    it.skipIf(!available)('supabase_functions.http_request queues the webhook payload and logs the hook', async () => {
      await inRollback(client, async () => {
        await client.query('create table public.orders (id int primary key, total int)');
        await client.query(`
          create trigger orders_webhook after insert or update on public.orders
          for each row execute function supabase_functions.http_request(
            'https://example.com/orders', 'POST', '{"Content-Type":"application/json","X-Test":"1"}', '{}', '2500')`);
        await client.query('insert into public.orders values (1, 10)');
        await client.query('update public.orders set total = 20');
        const requests = (
          await client.query(
            `select url, headers, convert_from(body, 'UTF8')::jsonb as body, timeout_milliseconds from net.http_request_queue
              where url = 'https://example.com/orders' order by id`,
          )
        ).rows;
        expect(requests).toEqual([
          {
            url: 'https://example.com/orders',
            headers: { 'Content-Type': 'application/json', 'X-Test': '1' },
            body: { type: 'INSERT', table: 'orders', schema: 'public', record: { id: 1, total: 10 }, old_record: null },
            timeout_milliseconds: 2500,
          },
          {
            url: 'https://example.com/orders',
            headers: { 'Content-Type': 'application/json', 'X-Test': '1' },
            body: { type: 'UPDATE', table: 'orders', schema: 'public', record: { id: 1, total: 20 }, old_record: { id: 1, total: 10 } },
            timeout_milliseconds: 2500,
          },
        ]);
        expect(await scalar(client, `select count(*)::int from supabase_functions.hooks where hook_name = 'orders_webhook'`)).toBe(2);
      });
    });
  });

  it.skipIf(!available)('provides graphql_public.graphql and the supabase_realtime publication', async () => {
    expect(await scalar(client, `select graphql_public.graphql(query => '{ __typename }')`)).toEqual({
      errors: [{ message: 'pg_graphql extension is not enabled.' }],
    });
    await inRollback(client, async () => {
      await client.query('create table public.live (id int primary key)');
      await client.query('alter publication supabase_realtime add table public.live');
      expect(await scalar(client, `select count(*)::int from pg_publication_tables where pubname = 'supabase_realtime'`)).toBe(1);
    });
  });

  it.skipIf(!available)('reports extensions the project needs but the server lacks, by name', async () => {
    const result = await applySupabaseBaseline(client, { requiredExtensions: ['vector', 'orioledb', 'citext', 'pljava', 'orioledb'] });
    // no server here has these two, and postgate has no stand-in for them
    expect(result.missingExtensions).toEqual(['orioledb', 'pljava']);
  });

  it.skipIf(!available)('refuses to run as a non-superuser, with one sentence naming the role', async () => {
    await client.query('set role authenticator');
    try {
      await expect(applySupabaseBaseline(client)).rejects.toThrow(UserError);
      await expect(applySupabaseBaseline(client)).rejects.toThrow(/superuser.*"authenticator"/);
    } finally {
      await client.query('reset role');
    }
  });
});

describe.skipIf(!installedMajors.has(15))('Supabase baseline after a restored roles.sql', () => {
  let cluster: Cluster | undefined;
  let client: pg.Client;

  beforeAll(async () => {
    cluster = await startCluster({ major: 15, shadow: 'local' });
    client = await connect(cluster.url);
  });

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cluster?.stop();
  });

  it('keeps existing roles and fills in the rest', async () => {
    // What `supabase db dump --role-only` leaves after its reserved roles are
    // commented out, plus a restore into a server that already had some of them.
    await client.query(`
      create role anon nologin noinherit;
      create role authenticator login noinherit;
      grant anon to authenticator;
      create role app_reporting nologin;
      grant app_reporting to authenticator;
    `);
    const result = await applySupabaseBaseline(client);
    expect(result.installedExtensions).toContain('pgcrypto');
    expect(
      await scalar(client, `select count(*)::int from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'app_reporting')`),
    ).toBe(5);
    expect(await scalar(client, `select pg_has_role('authenticator', 'service_role', 'member')`)).toBe(true);
    expect(await scalar(client, `select pg_has_role('authenticator', 'app_reporting', 'member')`)).toBe(true);
    await applySupabaseBaseline(client);
  });
});
