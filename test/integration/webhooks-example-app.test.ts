/**
 * `postgate webhooks` against examples/supabase-app, run from its directory like a user
 * would: PostgreSQL 15 with the Supabase baseline, every migration in file-name order,
 * the seed, then `ALTER DATABASE ... SET app.*` as the app's runbook does. The gate reads
 * the app's .github/postgate.yml and must find the deliberate Database Webhook token
 * (README problem #7) at its migration line, and nothing else but the Vault notice.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateResult } from '../../src/findings/types.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { databaseName, keys } from '../fixtures/webhooks/helpers.ts';
import { startTestCluster } from '../support/pg.ts';

const root = path.resolve(import.meta.dirname, '../..');
const APP_DIR = fileURLToPath(new URL('../../examples/supabase-app/', import.meta.url));
const MIGRATIONS_DIR = path.join(APP_DIR, 'supabase/migrations');
const SECRET = 'trip-planner-hmac-8c1f2e3d4b5a69788796a5b4';
const APP_HOST = 'trip-planner.example.com';
const execFileAsync = promisify(execFile);

let cluster: Cluster;
let url: string;
let db: string;

async function admin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function postgate(env: Record<string, string>): Promise<{ code: number; result: GateResult; text: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HMAC_') && !name.startsWith('POSTGATE_')));
  const cliPath = path.join(root, 'scripts', 'postgate.ts');
  const run = async (format: string) => {
    try {
      const { stdout } = await execFileAsync(process.execPath, [cliPath, 'webhooks', '--format', format], {
        cwd: APP_DIR,
        env: { ...base, NO_COLOR: '1', POSTGATE_DATABASE_URL: url, ...env },
      });
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string };
      return { code: e.code, stdout: e.stdout };
    }
  };
  const json = await run('json');
  const text = await run('text');
  return { code: json.code, result: JSON.parse(json.stdout) as GateResult, text: text.stdout };
}

beforeAll(async () => {
  cluster = await startTestCluster(15);
  url = await cluster.createDatabase('trip_planner');
  db = databaseName(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((name) => name.endsWith('.sql'))
      .sort();
    const required = files.flatMap((file) => findCreatedExtensions(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8')));
    await applySupabaseBaseline(client, { requiredExtensions: required });
    for (const file of files) await client.query(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
    await client.query(readFileSync(path.join(APP_DIR, 'supabase/seed.sql'), 'utf8'));
  } finally {
    await client.end();
  }
});

afterAll(async () => {
  await cluster?.stop();
});

describe('postgate webhooks on examples/supabase-app', () => {
  it('finds the literal token in the Database Webhook, at its migration line, and passes the rest', async () => {
    await admin(
      `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(SECRET)}`,
      `alter database ${db} set app.vercel_webhook_trips = 'https://${APP_HOST}/api/hooks/trips'`,
      `alter database ${db} set app.vercel_webhook_cache = 'https://${APP_HOST}/api/hooks/revalidate'`,
    );
    const { code, result, text } = await postgate({ HMAC_SECRET: SECRET, APP_HOST });
    expect(code).toBe(1);
    expect(keys(result.findings)).toEqual(['webhook_literal_secret public.teams.notify-slack-new-team', 'webhook_secret_in_setting app.webhook_hmac_secret']);
    const [literal] = result.findings.filter((f) => f.rule === 'webhook_literal_secret');
    expect(literal).toMatchObject({
      severity: 'error',
      message:
        'Trigger notify-slack-new-team on public.teams passes the Authorization header as a literal argument; every role and every schema dump can read it.',
      location: { file: 'supabase/migrations/20250126100000_team_slack_webhook.sql', line: 8 },
    });
    expect(result.details?.webhookFunctions).toEqual(['public.notify_cache_webhook', 'public.notify_trip_webhook']);
    expect(result.details?.loginRoles).toEqual(['postgres', 'authenticator']);
    for (const output of [JSON.stringify(result), text]) {
      expect(output).not.toContain('demo-not-a-real-token-4f8e2c1a9b7d6e5f');
      expect(output).not.toContain(SECRET);
    }
  });

  it('finds a quoted secret, a preview URL, a role override and a dropped trigger', async () => {
    await admin(
      `alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(`'${SECRET}'`)}`,
      `alter database ${db} set app.vercel_webhook_trips = 'https://trip-planner-git-fix-login-acme.vercel.app/api/hooks/trips'`,
      `alter role authenticator in database ${db} set app.vercel_webhook_cache = 'https://${APP_HOST}/api/revalidate'`,
      'drop trigger trips_notify_webhook on public.trips',
    );
    try {
      const { code, result } = await postgate({ HMAC_SECRET: SECRET, APP_HOST });
      expect(code).toBe(1);
      expect(keys(result.findings)).toEqual([
        'webhook_literal_secret public.teams.notify-slack-new-team',
        'webhook_secret_in_setting app.webhook_hmac_secret',
        'webhook_secret_mismatch app.webhook_hmac_secret',
        'webhook_setting_shadowed app.vercel_webhook_cache',
        'webhook_trigger_missing public.trips/notify_trip_webhook',
        'webhook_url_host app.vercel_webhook_trips',
        'webhook_url_not_production app.vercel_webhook_trips',
        'webhook_url_path app.vercel_webhook_cache',
      ]);
      const detail = (rule: string) => result.findings.find((f) => f.rule === rule)?.detail ?? '';
      expect(detail('webhook_secret_mismatch')).toContain('The database value is wrapped in single quotes. Apart from that they are the same secret.');
      expect(result.findings.find((f) => f.rule === 'webhook_url_not_production')?.message).toContain('a Vercel preview deployment');
      expect(result.findings.find((f) => f.rule === 'webhook_url_path')?.message).toContain(
        `for login role authenticator (set by ALTER ROLE authenticator IN DATABASE ${db} SET)`,
      );
    } finally {
      await admin(`alter role authenticator in database ${db} reset app.vercel_webhook_cache`);
    }
  });
});
