/**
 * examples/supabase-app on a real PostgreSQL 15 shadow: the Supabase baseline, every
 * migration in file-name order (each file as one script, as `supabase db push`
 * sends them), then seed.sql. Checks the app's RLS, its signed webhook, and that its
 * repo config is valid and its own RLS tests hold.
 */
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepoConfig, type RepoConfig } from '../../src/config/repo-config.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../../src/postgres/baseline/apply.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';

const APP_DIR = fileURLToPath(new URL('../../examples/supabase-app/', import.meta.url));
const MIGRATIONS_DIR = path.join(APP_DIR, 'supabase/migrations');
const USER_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const USER_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const TRIP_OF_B = 'd0000000-0000-4000-8000-00000000000c';

const migrationFiles = readdirSync(MIGRATIONS_DIR)
  .filter((name) => name.endsWith('.sql'))
  .sort();

let cluster: Cluster | undefined;
let client: pg.Client;
let missingExtensions: string[] = [];

async function scalar<T>(sql: string, params: unknown[] = []): Promise<T> {
  const result = await client.query(sql, params);
  return Object.values(result.rows[0] ?? {})[0] as T;
}

/**
 * Runs fn as an API role inside a transaction that is always rolled back, the way
 * PostgREST does: `set local role`, then the request's claims as request.jwt.claims.
 */
async function asRole<T>(role: string, claims: Record<string, unknown> | undefined, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(`set local role ${pg.escapeIdentifier(role)}`);
    if (claims) await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role, ...claims })]);
    return await fn();
  } finally {
    await client.query('rollback');
  }
}

beforeAll(async () => {
  cluster = await startCluster({ major: 15 });
  client = new pg.Client({ connectionString: cluster.url });
  await client.connect();

  const required = migrationFiles.flatMap((file) => findCreatedExtensions(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8')));
  ({ missingExtensions } = await applySupabaseBaseline(client, { requiredExtensions: required }));

  for (const file of migrationFiles) {
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    try {
      await client.query(sql);
    } catch (error) {
      throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
    }
  }
  await client.query(readFileSync(path.join(APP_DIR, 'supabase/seed.sql'), 'utf8'));
});

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await cluster?.stop();
});

describe('examples/supabase-app layout', () => {
  it('has about 15 migrations named <14-digit UTC timestamp>_<name>.sql, in a strict order', () => {
    expect(migrationFiles.length).toBeGreaterThanOrEqual(12);
    for (const file of migrationFiles) expect(file).toMatch(/^\d{14}_[a-z0-9_]+\.sql$/);
    const versions = migrationFiles.map((file) => file.slice(0, 14));
    expect(new Set(versions).size).toBe(versions.length);
    for (const version of versions) {
      const iso = `${version.slice(0, 4)}-${version.slice(4, 6)}-${version.slice(6, 8)}T${version.slice(8, 10)}:${version.slice(10, 12)}:${version.slice(12, 14)}Z`;
      expect(Number.isNaN(Date.parse(iso)), version).toBe(false);
    }
  });

  it('has a supabase config.toml exposing public and graphql_public on PostgreSQL 15', () => {
    const config = parseToml(readFileSync(path.join(APP_DIR, 'supabase/config.toml'), 'utf8')) as {
      project_id: string;
      api: { schemas: string[]; extra_search_path: string[] };
      db: { major_version: number };
    };
    expect(config.project_id).toBe('trip-planner');
    expect(config.api.schemas).toEqual(['public', 'graphql_public']);
    expect(config.api.extra_search_path).toEqual(['public', 'extensions']);
    expect(config.db.major_version).toBe(15);
  });

  it('has a valid .github/postgate.yml', () => {
    const file = path.join(APP_DIR, '.github/postgate.yml');
    const config = parseRepoConfig(readFileSync(file, 'utf8'), file);
    expect(config.project.kind).toBe('supabase');
    expect(config.rls['exposed-schemas']).toEqual(['public']);
    expect(config.allowlist.length).toBeGreaterThanOrEqual(1);
    for (const entry of config.allowlist) expect(entry.reason.length).toBeGreaterThan(20);
    expect(config.webhooks.triggers).toContainEqual({ table: 'public.trips', function: 'public.notify_trip_webhook' });
  });

  it('README points every deliberate problem at an existing migration line', () => {
    const readme = readFileSync(path.join(APP_DIR, 'README.md'), 'utf8');
    const refs = [...readme.matchAll(/(supabase\/migrations\/\d{14}_[a-z0-9_]+\.sql):(\d+)/g)];
    expect(refs.length).toBeGreaterThanOrEqual(7);
    for (const [, file = '', line = '0'] of refs) {
      const full = path.join(APP_DIR, file);
      expect(existsSync(full), file).toBe(true);
      const lines = readFileSync(full, 'utf8').split('\n');
      expect(lines[Number(line) - 1]?.trim(), `${file}:${line}`).toBeTruthy();
    }
  });
});

describe('examples/supabase-app on the Supabase baseline', () => {
  it('needs no extension this server lacks beyond the platform ones the baseline stands in for', () => {
    expect(missingExtensions.filter((name) => !['pgjwt', 'pg_graphql', 'pg_net', 'pgsodium', 'supabase_vault'].includes(name))).toEqual([]);
  });

  it('seeds two users with profiles, a team, trips and api keys', async () => {
    expect(await scalar('select count(*)::int from auth.users')).toBe(2);
    expect(await scalar('select count(*)::int from public.profiles where username is not null')).toBe(2);
    expect(await scalar('select count(*)::int from public.memberships')).toBe(2);
    expect(await scalar('select count(*)::int from public.trips')).toBe(3);
    expect(await scalar('select count(*)::int from public.api_keys')).toBe(3);
  });

  it('enables RLS on every table in public except the deliberate audit_events', async () => {
    const withoutRls = await client.query<{ relname: string }>(
      `select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and not c.relrowsecurity order by 1`,
    );
    expect(withoutRls.rows.map((r) => r.relname)).toEqual(['audit_events']);
  });

  it('user A sees only their own api keys', async () => {
    await asRole('authenticated', { sub: USER_A }, async () => {
      const keys = await client.query<{ user_id: string; name: string }>('select user_id, name from public.api_keys');
      expect(keys.rows).toEqual([{ user_id: USER_A, name: 'CLI' }]);
    });
    await asRole('authenticated', { sub: USER_B }, async () => {
      expect(await scalar('select count(*)::int from public.api_keys')).toBe(2);
    });
  });

  it('anon sees no trips, and cannot touch api keys at all', async () => {
    await asRole('anon', undefined, async () => {
      expect(await scalar('select count(*)::int from public.trips')).toBe(0);
      await expect(client.query('select * from public.api_keys')).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('trips are visible to their owner, team members and collaborators only', async () => {
    await asRole('authenticated', { sub: USER_A }, async () => {
      expect(await scalar('select count(*)::int from public.trips')).toBe(2);
      expect(await scalar('select count(*)::int from public.trips where id = $1', [TRIP_OF_B])).toBe(0);
    });
    await asRole('authenticated', { sub: USER_B }, async () => {
      expect(await scalar('select count(*)::int from public.trips')).toBe(3);
      // B may not invite himself to A's team trip
      await expect(
        client.query(`insert into public.trip_collaborators (trip_id, user_id) values ('d0000000-0000-4000-8000-00000000000b', $1)`, [USER_B]),
      ).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('create_api_key returns a key once and stores only its hash', async () => {
    await asRole('authenticated', { sub: USER_A }, async () => {
      const key = await scalar<string>(`select public.create_api_key('deploy')`);
      expect(key).toMatch(/^tp_live_[0-9a-f]{48}$/);
      const stored = (await client.query(`select prefix, key_hash from public.api_keys where name = 'deploy'`)).rows[0];
      expect(stored).toEqual({ prefix: key.slice(0, 12), key_hash: sha256Hex(key) });
    });
  });

  it('the trips webhook trigger posts the trip with an X-Signature-HMAC of the exact body', async () => {
    const secret = 'test-hmac-secret-2f1d';
    const url = 'https://trip-planner.example.com/api/hooks/trips';
    await client.query('begin');
    try {
      await client.query(`select set_config('app.webhook_hmac_secret', $1, false), set_config('app.vercel_webhook_trips', $2, false)`, [secret, url]);
      const before = await scalar<string>('select coalesce(max(id), 0) from net.http_request_queue');
      await client.query('set local role authenticated');
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: USER_A, role: 'authenticated' })]);
      await client.query(`insert into public.trips (title, destination, starts_on, ends_on) values ('Porto, ünicode ✓', 'Porto', '2025-10-01', '2025-10-03')`);
      await client.query('reset role');

      const requests = (
        await client.query<{ url: string; headers: Record<string, string>; body: string }>(
          `select url, headers, convert_from(body, 'UTF8') as body from net.http_request_queue where id > $1 order by id`,
          [before],
        )
      ).rows;
      expect(requests).toHaveLength(1);
      const [request] = requests;
      expect(request?.url).toBe(url);
      expect(request?.headers['Content-Type']).toBe('application/json');
      const expected = createHmac('sha256', secret)
        .update(request?.body ?? '', 'utf8')
        .digest('hex');
      expect(request?.headers['X-Signature-HMAC']).toBe(expected);
      const body = JSON.parse(request?.body ?? '{}');
      expect(body).toMatchObject({ type: 'INSERT', table: 'trips', schema: 'public', old_record: null });
      expect(body.record).toMatchObject({ title: 'Porto, ünicode ✓', owner_id: USER_A });
    } finally {
      await client.query('rollback');
      await client.query(`select set_config('app.webhook_hmac_secret', '', false), set_config('app.vercel_webhook_trips', '', false)`);
    }
  });

  it('the webhook trigger sends nothing while its settings are missing', async () => {
    await client.query('begin');
    try {
      const before = await scalar<string>('select count(*) from net.http_request_queue');
      await client.query(`update public.trips set notes = 'changed' where id = $1`, [TRIP_OF_B]);
      expect(await scalar<string>('select count(*) from net.http_request_queue')).toBe(before);
    } finally {
      await client.query('rollback');
    }
  });

  it('webhook functions are executable only by their owner', async () => {
    for (const role of ['anon', 'authenticated', 'service_role']) {
      for (const fn of ['public.notify_trip_webhook()', 'public.notify_cache_webhook()']) {
        expect(await scalar('select has_function_privilege($1, $2, $3)', [role, fn, 'execute'])).toBe(false);
      }
    }
  });

  it('the Database Webhook on teams queued its request with the literal Authorization header', async () => {
    const row = (
      await client.query<{ headers: Record<string, string> }>(
        `select q.headers from net.http_request_queue q join supabase_functions.hooks h on h.request_id = q.id
          where h.hook_name = 'notify-slack-new-team'`,
      )
    ).rows[0];
    expect(row?.headers.Authorization).toMatch(/^Bearer demo-not-a-real-token-/);
  });

  it("the repo config's RLS tests hold against the seed", async () => {
    const file = path.join(APP_DIR, '.github/postgate.yml');
    const config: RepoConfig = parseRepoConfig(readFileSync(file, 'utf8'), file);
    for (const test of config.rls.tests) {
      await asRole(test.as.role, test.as.claims, async () => {
        const run = client.query(test.sql);
        if ('denied' in test.expect) {
          await expect(run, test.name).rejects.toMatchObject({ code: '42501' });
        } else if ('error' in test.expect) {
          await expect(run, test.name).rejects.toMatchObject({ code: test.expect.error });
        } else if ('rows' in test.expect) {
          expect((await run).rowCount, test.name).toBe(test.expect.rows);
        } else {
          expect((await run).rowCount, test.name).toBeGreaterThanOrEqual(test.expect['rows-at-least']);
        }
      });
    }
  });
});

/** sha256 hex of text: what the app stores for an API key. */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
