/**
 * webhook-secret-check on real PostgreSQL: databases configured by each test with
 * ALTER DATABASE / ALTER ROLE [IN DATABASE] / ALTER ROLE ALL / ALTER SYSTEM, Vault rows
 * from the Supabase baseline, trigger functions like the example app's, pg_net's response
 * log, and a local HTTP receiver that verifies signatures for the canary. Role settings
 * are cluster-wide, so every test uses its own role and setting names.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { byRule, databaseName, keys, RESPONSE_BODY_MARKER, type Receiver, runWebhooks, sql, startReceiver, uniqueName } from '../fixtures/webhooks/helpers.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const SECRET = 'wh-3f9a0c1e7b2d4a6c8e0f1a3b5c7d9e1f';
const clusters = new Map<number, Promise<Cluster>>();
function cluster(major = TEST_MAJORS[0]!): Promise<Cluster> {
  if (!clusters.has(major)) clusters.set(major, startTestCluster(major));
  return clusters.get(major)!;
}

afterAll(async () => {
  for (const started of clusters.values()) await (await started).stop();
});

/** A database with the Supabase baseline applied (roles, vault, net, supabase_functions). */
async function supabaseDatabase(): Promise<string> {
  const url = await (await cluster()).createDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await applySupabaseBaseline(client);
  } finally {
    await client.end();
  }
  return url;
}

function withRole(url: string, role: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = password;
  return parsed.toString();
}

describe.each(TEST_MAJORS)('where settings live, on PostgreSQL %i', (major) => {
  let url: string;
  let db: string;
  const login = uniqueName('wh_login');
  const api = uniqueName('wh_api');

  beforeAll(async () => {
    const c = await cluster(major);
    url = await c.createDatabase();
    db = databaseName(url);
    await sql(
      c.url,
      `create role ${login} login password 'pw-${login}'`,
      `create role ${api} nologin`,
      `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(SECRET)}`,
      `alter role ${login} in database ${db} set app.webhook_hmac_secret = 'an-older-secret-value-0000'`,
      `alter role ${api} in database ${db} set app.webhook_hmac_secret = ${quoteLiteral(SECRET)}`,
      `alter database ${db} set app.vercel_webhook_trips = 'https://app.example.com/api/hooks/trips'`,
      `alter role ${login} set app.vercel_webhook_trips = ''`,
    );
  });
  // role-level settings are cluster-wide: leave none behind for the other tests
  afterAll(async () => {
    const c = await cluster(major);
    await sql(c.url, `drop database ${db}`, `drop role ${login}`, `drop role ${api}`);
  });

  it('reports each setting per login role with the scope it comes from', async () => {
    const { result, all } = await runWebhooks(
      url,
      { 'as-roles': `postgres,${login}`, 'url-settings': 'app.vercel_webhook_trips,app.vercel_webhook_cache', 'url-host': 'app.example.com' },
      { HMAC_SECRET: SECRET },
    );
    expect(result.status).toBe('fail');
    expect(keys(result.findings)).toEqual([
      'webhook_function_missing app.vercel_webhook_cache',
      'webhook_function_missing app.vercel_webhook_trips',
      'webhook_function_missing app.webhook_hmac_secret',
      'webhook_secret_in_setting app.webhook_hmac_secret',
      'webhook_secret_mismatch app.webhook_hmac_secret',
      'webhook_setting_empty app.vercel_webhook_trips',
      'webhook_setting_missing app.vercel_webhook_cache',
      'webhook_setting_on_nologin_role app.webhook_hmac_secret',
      'webhook_setting_shadowed app.vercel_webhook_trips',
      'webhook_setting_shadowed app.webhook_hmac_secret',
    ]);
    const [mismatch] = byRule(result, 'webhook_secret_mismatch');
    expect(mismatch?.detail).toContain(`for login role ${login} (set by ALTER ROLE ${login} IN DATABASE ${db} SET)`);
    expect(mismatch?.detail).not.toContain('postgres');
    expect(byRule(result, 'webhook_setting_shadowed').find((f) => f.object.name === 'app.webhook_hmac_secret')?.detail).toBe(
      `${login}: ALTER ROLE ${login} IN DATABASE ${db} SET overrides ALTER DATABASE ${db} SET with a different value`,
    );
    expect(byRule(result, 'webhook_setting_on_nologin_role')[0]?.message).toContain(`is set on ${api}, which cannot log in`);
    expect(byRule(result, 'webhook_setting_empty')[0]?.message).toBe(
      `app.vercel_webhook_trips is an empty string for login role ${login} (set by ALTER ROLE ${login} SET).`,
    );
    expect(byRule(result, 'webhook_setting_missing')[0]?.message).toBe(
      `app.vercel_webhook_cache is not set for login roles postgres and ${login}: no database, role or server value applies.`,
    );
    expect(result.details?.settings).toContainEqual({
      name: 'app.webhook_hmac_secret',
      scopes: expect.arrayContaining([
        { scope: 'database', empty: false },
        { scope: 'database+role', role: login, empty: false },
      ]),
      effective: [
        { role: 'postgres', scope: 'database' },
        { role: login, scope: 'database+role' },
      ],
    });
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('an-older-secret-value-0000');
  });

  it('defaults to the connected role and authenticator, and refuses roles that do not exist or cannot log in', async () => {
    const { result } = await runWebhooks(url, {}, { HMAC_SECRET: SECRET });
    expect(result.details?.loginRoles).toEqual(['postgres']);
    expect(byRule(result, 'webhook_secret_mismatch')).toEqual([]);
    const unknown = await runWebhooks(url, { 'as-roles': 'postgres,wh_nobody_here' }, { HMAC_SECRET: SECRET });
    expect(unknown.result.error).toBe(
      'Input `as-roles` names role "wh_nobody_here", which does not exist; list login roles of this database, such as postgres,authenticator.',
    );
    const nologin = await runWebhooks(url, { 'as-roles': api }, { HMAC_SECRET: SECRET });
    expect(nologin.result.status).toBe('error');
    expect(nologin.result.error).toMatch(/cannot log in: role settings apply only at login \(SET ROLE does not load them\)/);
  });

  it('sees ALTER ROLE ALL and server-level values (ALTER SYSTEM) as the lowest scopes', async () => {
    const c = await cluster(major);
    const all = uniqueName('app.wh_all');
    const server = uniqueName('app.wh_sys');
    await sql(
      c.url,
      `alter role all set ${all} = ${quoteLiteral(SECRET)}`,
      `set ${server} = 'x'`,
      `alter system set ${server} = ${quoteLiteral(SECRET)}`,
      'select pg_reload_conf()',
    );
    try {
      await waitForSetting(url, server);
      for (const [name, scope] of [
        [all, 'all-roles'],
        [server, 'server'],
      ] as const) {
        const { result } = await runWebhooks(url, { 'secret-setting': name, 'as-roles': `postgres,${login}` }, { HMAC_SECRET: SECRET });
        expect(byRule(result, 'webhook_setting_missing'), name).toEqual([]);
        expect(byRule(result, 'webhook_secret_mismatch'), name).toEqual([]);
        expect(result.details?.settings, name).toEqual([
          expect.objectContaining({
            name,
            effective: [
              { role: 'postgres', scope },
              { role: login, scope },
            ],
          }),
        ]);
      }
      // a non-superuser whose own role-level value hides the server's cannot see it: said, not guessed
      await sql(c.url, `alter role ${login} set ${server} = ${quoteLiteral(SECRET)}`);
      const { result } = await runWebhooks(
        withRole(url, login, `pw-${login}`),
        { 'secret-setting': server, 'as-roles': `${login},postgres` },
        { HMAC_SECRET: SECRET },
      );
      expect(byRule(result, 'webhook_setting_missing')).toMatchObject([
        {
          message: `${server} is not set for login role postgres; only ${login} gets a value.`,
          detail: expect.stringContaining('cannot read the server configuration'),
        },
      ]);
    } finally {
      await sql(c.url, `alter role all reset ${all}`, `set ${server} = 'x'`, `alter system reset ${server}`, 'select pg_reload_conf()');
    }
  });
});

/** pg_reload_conf() is asynchronous: wait until new sessions see the value. */
async function waitForSetting(url: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const value = (await client.query('select current_setting($1, true) as v', [name])).rows[0]?.v;
    await client.end();
    if (value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} never became visible`);
}

describe('parity with the deploy environment', () => {
  let url: string;
  let db: string;
  beforeAll(async () => {
    url = await (await cluster()).createDatabase();
    db = databaseName(url);
  });
  const setSecret = (value: string) => sql(url, `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(value)}`);

  it('passes parity when the values are equal, and says how they differ otherwise', async () => {
    await setSecret(SECRET);
    expect(byRule((await runWebhooks(url, {}, { HMAC_SECRET: SECRET })).result, 'webhook_secret_mismatch')).toEqual([]);

    await setSecret(`${SECRET}\n`);
    const { result, all } = await runWebhooks(url, {}, { HMAC_SECRET: SECRET });
    const [mismatch] = byRule(result, 'webhook_secret_mismatch');
    expect(mismatch?.message).toBe('app.webhook_hmac_secret differs from HMAC_SECRET; signed deliveries will be rejected.');
    expect(mismatch?.detail).toBe(
      `The database value for login role postgres (set by ALTER DATABASE ${db} SET): The database value is 36 characters long, HMAC_SECRET 35. The database value has a trailing newline. Apart from that they are the same secret.`,
    );
    expect(all).not.toContain(SECRET);

    await setSecret(`"${SECRET}"`);
    expect(byRule((await runWebhooks(url, {}, { HMAC_SECRET: SECRET })).result, 'webhook_secret_mismatch')[0]?.detail).toContain('wrapped in double quotes');
    await setSecret(SECRET.toUpperCase());
    expect(byRule((await runWebhooks(url, {}, { HMAC_SECRET: SECRET })).result, 'webhook_secret_mismatch')[0]?.detail).toContain('They differ in content');
  });

  it('treats the previous secret as a rotation in progress, with a configurable severity', async () => {
    const previous = 'wh-previous-0d9c8b7a6f5e4d3c2b1a';
    await setSecret(previous);
    const env = { HMAC_SECRET: SECRET, HMAC_SECRET_PREVIOUS: previous };
    const { result } = await runWebhooks(url, { 'previous-secret-env': 'HMAC_SECRET_PREVIOUS' }, env);
    expect(byRule(result, 'webhook_secret_mismatch')).toEqual([]);
    expect(byRule(result, 'webhook_secret_rotation')).toMatchObject([
      { severity: 'warning', message: expect.stringContaining('matches HMAC_SECRET_PREVIOUS, the previous secret, not HMAC_SECRET') },
    ]);
    const strict = await runWebhooks(url, { 'previous-secret-env': 'HMAC_SECRET_PREVIOUS' }, env, 'webhooks:\n  rotation-is: error\n');
    expect(byRule(strict.result, 'webhook_secret_rotation')[0]?.severity).toBe('error');
    const none = await runWebhooks(url, { 'previous-secret-env': 'HMAC_SECRET_PREVIOUS' }, { HMAC_SECRET: SECRET });
    expect(byRule(none.result, 'webhook_secret_mismatch')[0]?.detail).not.toContain('previous');
  });

  it('refuses to run with a missing environment variable, naming it', async () => {
    const { result } = await runWebhooks(url, {}, { HMAC_SECRET: '' });
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/^Environment variable HMAC_SECRET \(named by input `secret-env`\) is empty; /);
  });
});

const WEBHOOK_FUNCTION = (name: string, urlSetting: string, secretRead: string) => `
create function public.${name}() returns trigger language plpgsql security definer set search_path = pg_catalog, public as $fn$
declare
  target_url text := nullif(current_setting('${urlSetting}', true), '');
  secret text := ${secretRead};
  payload jsonb := jsonb_build_object('type', tg_op, 'table', tg_table_name, 'record', to_jsonb(new));
begin
  if target_url is null or secret is null then return null; end if;
  perform net.http_post(url := target_url, body := payload,
    headers := jsonb_build_object('Content-Type', 'application/json',
      'X-Signature-HMAC', encode(extensions.hmac(payload::text, secret, 'sha256'), 'hex')));
  return null;
end $fn$;
revoke execute on function public.${name}() from public, anon, authenticated, service_role;`;

describe('Vault and plumbing on the Supabase baseline', () => {
  let url: string;
  let db: string;
  const config = (name = 'webhook_hmac_secret') => `
webhooks:
  expectations:
    - { vault-secret: ${name}, equals-env: HMAC_SECRET, max-age-days: 90 }
    - { setting: app.vercel_webhook_trips, url: { host: app.example.com, path-prefix: /api/hooks/ } }
  triggers:
    - { table: public.trips, function: public.notify_trip_webhook }
`;
  beforeAll(async () => {
    url = await supabaseDatabase();
    db = databaseName(url);
    await sql(
      url,
      'create table public.trips (id bigserial primary key, title text)',
      WEBHOOK_FUNCTION(
        'notify_trip_webhook',
        'app.vercel_webhook_trips',
        "(select decrypted_secret from vault.decrypted_secrets where name = 'webhook_hmac_secret')",
      ),
      'create trigger trips_notify_webhook after insert or update or delete on public.trips for each row execute function public.notify_trip_webhook()',
      `select vault.create_secret(${quoteLiteral(SECRET)}, 'webhook_hmac_secret', 'HMAC key for the app')`,
      `alter database ${db} set app.vercel_webhook_trips = 'https://app.example.com/api/hooks/trips'`,
    );
  });

  it('passes a clean setup: Vault secret equal to the environment, URL on the host, plumbing in place', async () => {
    const { result } = await runWebhooks(url, {}, { HMAC_SECRET: SECRET }, config());
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
    expect(result.details?.webhookFunctions).toEqual(['public.notify_trip_webhook']);
    expect(result.details?.comparisons).toEqual([{ object: 'Vault secret webhook_hmac_secret', env: 'HMAC_SECRET', values: [{ roles: [], result: 'match' }] }]);
  });

  it('compares the Vault secret, reports its age, and a missing name', async () => {
    const mismatch = await runWebhooks(url, {}, { HMAC_SECRET: `${SECRET} ` }, config());
    expect(byRule(mismatch.result, 'webhook_secret_mismatch')[0]?.detail).toContain('HMAC_SECRET has trailing whitespace.');
    expect(mismatch.all).not.toContain(SECRET);

    await sql(url, "update vault.secrets set updated_at = now() - interval '100 days' where name = 'webhook_hmac_secret'");
    try {
      const stale = await runWebhooks(url, {}, { HMAC_SECRET: SECRET }, config());
      expect(byRule(stale.result, 'webhook_vault_secret_stale')).toMatchObject([
        { severity: 'warning', message: 'Vault secret webhook_hmac_secret was last updated 100 days ago, more than max-age-days (90).' },
      ]);
      expect(stale.result.status).toBe('pass');
    } finally {
      await sql(url, "update vault.secrets set updated_at = now() where name = 'webhook_hmac_secret'");
    }

    const missing = await runWebhooks(url, {}, { HMAC_SECRET: SECRET }, config('no_such_secret'));
    expect(keys(missing.result.findings)).toEqual(['webhook_function_missing vault.no_such_secret', 'webhook_vault_secret_missing vault.no_such_secret']);
  });

  it('names the missing privilege when the role may not read Vault, and otherwise works without any privilege', async () => {
    const reader = uniqueName('wh_reader');
    await sql((await cluster()).url, `create role ${reader} login password 'pw-${reader}'`);
    const asReader = withRole(url, reader, `pw-${reader}`);
    const denied = await runWebhooks(asReader, {}, { HMAC_SECRET: SECRET }, config());
    expect(denied.result.status).toBe('error');
    expect(denied.result.error).toBe(
      `Reading Vault secret "webhook_hmac_secret" needs USAGE on schema vault and SELECT on vault.decrypted_secrets, which role "${reader}" lacks; grant them (\`grant usage on schema vault to ${reader}; grant select on vault.decrypted_secrets to ${reader};\`) or connect as a role that has them, such as postgres.`,
    );
    const settingsOnly = await runWebhooks(
      asReader,
      { 'secret-setting': 'app.vercel_webhook_trips' },
      { HMAC_SECRET: 'https://app.example.com/api/hooks/trips' },
    );
    expect(settingsOnly.result.status).toBe('pass');
    expect(settingsOnly.result.details?.deliveries).toEqual({ unavailable: expect.stringContaining('may not read net._http_response') });
  });
});

describe('broken plumbing, literal secrets and failed deliveries', () => {
  let url: string;
  let db: string;
  const config = `
webhooks:
  triggers:
    - { table: public.trips, function: public.notify_trip_webhook }
    - { table: public.profiles, function: public.notify_cache_webhook }
    - { table: public.gone, function: public.notify_trip_webhook }
`;
  beforeAll(async () => {
    url = await supabaseDatabase();
    db = databaseName(url);
    await sql(
      url,
      'create table public.trips (id bigserial primary key, title text)',
      'create table public.teams (id bigserial primary key, name text)',
      'create table public.profiles (id bigserial primary key)',
      // SECURITY INVOKER, no search_path, executable by anon through the default privileges
      `create function public.notify_trip_webhook() returns trigger language plpgsql as $fn$
       begin
         perform net.http_post(current_setting('app.vercel_webhook_trips', true), to_jsonb(new), '{}'::jsonb,
           jsonb_build_object('X-Signature-HMAC', encode(extensions.hmac(to_jsonb(new)::text, current_setting('app.webhook_hmac_secret', true), 'sha256'), 'hex')));
         return null;
       end $fn$`,
      'create trigger trips_notify after insert on public.trips for each row execute function public.notify_trip_webhook()',
      'alter table public.trips disable trigger trips_notify',
      // a callable signing oracle with a literal HMAC key
      `create function public.send_signed(payload jsonb) returns bigint language plpgsql security definer set search_path = pg_catalog, public as $fn$
       begin
         return net.http_post(current_setting('app.vercel_webhook_trips', true), payload, '{}'::jsonb,
           jsonb_build_object('X-Signature-HMAC', encode(extensions.hmac(payload::text, 'hard-coded-hmac-key-123', 'sha256'), 'hex')));
       end $fn$`,
      // a dashboard Database Webhook with a literal Authorization header
      `create trigger "notify-slack" after insert on public.teams for each row execute function supabase_functions.http_request(
         'https://hooks.example.com/services/x', 'POST', '{"Content-type":"application/json","Authorization":"Bearer test-token-0123456789abcdef"}', '{}', '1000')`,
      `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(SECRET)}`,
      `alter database ${db} set app.vercel_webhook_trips = 'https://app.example.com/api/hooks/trips'`,
      `insert into net._http_response (id, status_code, timed_out, error_msg, created) values
         (1, 401, false, null, now()), (2, 401, false, null, now()), (3, 403, false, null, now()),
         (4, 502, false, null, now()), (5, 200, false, null, now()), (6, null, true, 'Timeout of 1000 ms reached', now()),
         (7, 401, false, null, now() - interval '3 days')`,
      "insert into supabase_functions.hooks (hook_table_id, hook_name, request_id) values ('public.teams'::regclass::oid::int, 'notify-slack', 1), ('public.teams'::regclass::oid::int, 'notify-slack', 2)",
    );
  });

  it('reports each plumbing problem on the object it is about', async () => {
    const { result, all } = await runWebhooks(
      url,
      { 'url-settings': 'app.vercel_webhook_trips', 'url-host': 'app.example.com' },
      { HMAC_SECRET: SECRET },
      config,
    );
    expect(keys(result.findings)).toEqual([
      'webhook_deliveries_failing net._http_response',
      'webhook_deliveries_rejected net._http_response',
      'webhook_function_executable_by_api_role public.notify_trip_webhook',
      'webhook_function_executable_by_api_role public.send_signed',
      'webhook_function_missing public.notify_cache_webhook',
      'webhook_function_not_security_definer public.notify_trip_webhook',
      'webhook_function_search_path_mutable public.notify_trip_webhook',
      'webhook_literal_secret public.send_signed',
      'webhook_literal_secret public.teams.notify-slack',
      'webhook_secret_in_setting app.webhook_hmac_secret',
      'webhook_trigger_disabled public.trips/notify_trip_webhook',
      'webhook_trigger_missing public.gone/notify_trip_webhook',
    ]);
    const severity = (rule: string, name: string) => result.findings.find((f) => f.rule === rule && f.object.name === name)?.severity;
    expect(severity('webhook_function_executable_by_api_role', 'send_signed')).toBe('error');
    expect(severity('webhook_function_executable_by_api_role', 'notify_trip_webhook')).toBe('warning');
    expect(severity('webhook_function_search_path_mutable', 'notify_trip_webhook')).toBe('warning');
    expect(byRule(result, 'webhook_literal_secret').map((f) => f.message)).toEqual([
      'Trigger notify-slack on public.teams passes the Authorization header as a literal argument; every role and every schema dump can read it.',
      'Function public.send_signed(payload jsonb) has an HMAC key written into its body; every role and every schema dump can read it.',
    ]);
    expect(byRule(result, 'webhook_trigger_disabled')[0]?.message).toBe(
      'The trigger running public.notify_trip_webhook on public.trips does not fire: trips_notify (disabled).',
    );
    expect(byRule(result, 'webhook_deliveries_rejected')[0]).toMatchObject({
      message: '3 of 6 webhook deliveries in the last 24 h were rejected with 401 or 403, the signature of a secret mismatch.',
      detail: 'Database Webhook notify-slack: 2',
    });
    expect(result.metrics).toMatchObject({
      deliveries_total: 6,
      deliveries_rejected: 3,
      deliveries_server_errors: 1,
      deliveries_failed: 1,
      literal_secrets: 2,
    });
    for (const secret of ['test-token-0123456789abcdef', 'hard-coded-hmac-key-123', SECRET]) expect(all).not.toContain(secret);
  });

  it('treats a replica-only trigger as not firing, and counts deliveries over the window given', async () => {
    await sql(url, 'alter table public.trips enable replica trigger trips_notify');
    const { result } = await runWebhooks(url, { 'deliveries-window': '7d' }, { HMAC_SECRET: SECRET }, config);
    expect(byRule(result, 'webhook_trigger_disabled')[0]?.message).toContain('trips_notify (fires only in replica mode)');
    expect(result.metrics).toMatchObject({ deliveries_total: 7, deliveries_rejected: 4 });
  });
});

describe('the canary against a local receiver that verifies signatures', () => {
  let url: string;
  let db: string;
  let receiver: Receiver;
  const STANDARD_SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

  beforeAll(async () => {
    url = await (await cluster()).createDatabase();
    db = databaseName(url);
    receiver = await startReceiver(SECRET);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function canary(path: string, env: Record<string, string> = { HMAC_SECRET: SECRET }, configYaml = '') {
    receiver.requests.length = 0;
    const run = await runWebhooks(url, { canary: 'true', 'canary-url': `${receiver.url}${path}`, environment: 'development' }, env, configYaml);
    const canaryFindings = run.result.findings.filter((f) => f.rule.startsWith('webhook_canary_'));
    return { ...run, canaryFindings, requests: [...receiver.requests] };
  }

  it('posts the URL settings a signed and a badly signed test payload, once each', async () => {
    await sql(
      url,
      `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(SECRET)}`,
      `alter database ${db} set app.vercel_webhook_trips = ${quoteLiteral(`${receiver.url}/api/hooks/hex`)}`,
    );
    receiver.requests.length = 0;
    const { result, all } = await runWebhooks(
      url,
      { canary: 'true', 'url-settings': 'app.vercel_webhook_trips', environment: 'development' },
      { HMAC_SECRET: SECRET },
    );
    expect(result.findings.filter((f) => f.rule.startsWith('webhook_canary_'))).toEqual([]);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hex', '/hex']);
    for (const request of receiver.requests) {
      expect(request.headers['x-postgate-canary']).toBe('1');
      expect(JSON.parse(request.body)).toMatchObject({ type: 'postgate.canary', test: true });
    }
    expect(result.details?.canary).toEqual([
      {
        endpoint: 'app.vercel_webhook_trips',
        host: new URL(receiver.url).host,
        scheme: 'hex-hmac-sha256',
        signedWith: 'HMAC_SECRET',
        signed: { status: 200 },
        badlySigned: { status: 401 },
      },
    ]);
    expect(result.metrics.canary_requests).toBe(2);
    expect(all).not.toContain(RESPONSE_BODY_MARKER);
  });

  it('speaks Standard Webhooks and GitHub signatures', async () => {
    receiver.secret = STANDARD_SECRET;
    const standard = await canary('/standard-webhooks', { HMAC_SECRET: STANDARD_SECRET }, 'webhooks:\n  probe: { scheme: standard-webhooks }\n');
    receiver.secret = SECRET;
    expect(standard.canaryFindings).toEqual([]);
    expect(standard.requests[0]?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(standard.requests[0]?.headers['webhook-id']).not.toBe(standard.requests[1]?.headers['webhook-id']);
    const github = await canary('/github', { HMAC_SECRET: SECRET }, 'webhooks:\n  probe: { scheme: github-sha256 }\n');
    expect(github.canaryFindings).toEqual([]);
    // the same receiver, signed the wrong way round: a scheme mismatch is a rejected canary
    const wrongScheme = await canary('/github', { HMAC_SECRET: SECRET });
    expect(wrongScheme.canaryFindings.map((f) => f.rule)).toEqual(['webhook_canary_rejected']);
  });

  it('finds a receiver that accepts anything, one with another secret, and one that answers 400', async () => {
    expect((await canary('/none')).canaryFindings).toMatchObject([
      {
        rule: 'webhook_canary_accepts_bad_signature',
        severity: 'error',
        message: expect.stringContaining('accepted a canary with a wrong signature (HTTP 200)'),
      },
    ]);
    const other = await canary('/hex', { HMAC_SECRET: 'the-ci-secret-drifted-from-the-app' });
    expect(other.canaryFindings).toMatchObject([{ rule: 'webhook_canary_rejected', message: expect.stringContaining('with HTTP 401 instead of 2xx') }]);
    expect((await canary('/bad-400')).canaryFindings).toMatchObject([
      { rule: 'webhook_canary_unexpected_status', message: expect.stringContaining('HTTP 400 instead of 401 or 403') },
    ]);
  });

  it('does not follow redirects, times out without retrying, and never echoes a response body', async () => {
    const redirect = await canary('/redirect');
    expect(redirect.canaryFindings.map((f) => f.rule)).toEqual(['webhook_canary_rejected', 'webhook_canary_unexpected_status']);
    expect(redirect.requests.map((r) => r.path)).toEqual(['/redirect', '/redirect']);
    const hang = await canary('/hang', { HMAC_SECRET: SECRET }, 'webhooks:\n  probe: { timeout-ms: 300 }\n');
    expect(hang.canaryFindings).toMatchObject([{ rule: 'webhook_canary_unreachable', message: expect.stringContaining('no response within 300 ms') }]);
    expect(hang.requests.map((r) => r.path)).toEqual(['/hang', '/hang']);
    for (const run of [redirect, hang]) expect(run.all).not.toContain(RESPONSE_BODY_MARKER);
  });
});
