/**
 * No secret reaches any output of webhook-secret-check. A few hundred generated secrets
 * (quotes, backslashes, newlines, unicode, %-encodings, very long) go into every place the
 * gate reads one: the database setting (also in formatted variants, so every diagnostic
 * path runs), the deploy environment, the previous secret, a Vault secret, a webhook URL's
 * credentials and query, a Database Webhook's Authorization header, a literal HMAC key in a
 * function body, and inputs that are bad on purpose. Every output (terminal text, JSON, job
 * summary and PR comment markdown, SARIF, annotations, the error, the log) must then be free
 * of the secret and of its URL-, base64- and hex-encoded forms, and every secret the gate
 * read must be registered with the masker (which also feeds the runner's masking).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { forgetSecretsForTests, redact } from '../../src/secrets.ts';
import { databaseName, runWebhooks } from '../fixtures/webhooks/helpers.ts';
import { startTestCluster } from '../support/pg.ts';
import { generator } from '../support/secrets-gen.ts';

const COUNT = 300;

const PIECES = [
  "'",
  "''",
  '"',
  '`',
  '\\',
  '\\\\',
  '\\n',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '%',
  '%41',
  '%2F',
  '%%',
  '%0A',
  '%25',
  '+',
  '/',
  '=',
  '&',
  '?',
  '#',
  '@',
  ':',
  'é',
  'e\u0301',
  'ß',
  '漢字',
  '🔑',
  '\u202e',
  '\u00a0',
  '$$',
  '$fn$',
  ';--',
  '{"a":1}',
  '<b>',
  '&amp;',
  '|',
  '*',
  '***',
  'whsec_',
  'sha256=',
  'Bearer ',
];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function makeSecret(random: () => number, index: number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const core = () => Array.from({ length: 12 }, () => pick([...ALNUM])).join('');
  const parts = [core()];
  for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i += 1) parts.splice(Math.floor(random() * (parts.length + 1)), 0, pick(PIECES));
  let secret = parts.join('');
  if (index % 25 === 0) while (secret.length < 4000) secret += pick(PIECES) + core(); // very long
  return secret;
}

/** How the database holds the secret: exact, and the usual ways it goes wrong. */
const DATABASE_VARIANTS: Array<(secret: string, other: string) => string> = [
  (s) => s,
  (s) => `${s}\n`,
  (s) => `'${s}'`,
  (s) => `whsec_${s}`,
  (s) => Buffer.from(s).toString('base64'),
  (s) => Buffer.from(s).toString('hex').toUpperCase(),
  (s) => ` ${s}\t`,
  (_s, other) => other,
  (s) => `"${s}"\r\n`,
  (s) => [...s].slice(0, -1).join(''), // one character short (by code point: no lone surrogates)
];

function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    encodeURIComponent(secret),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
}

let cluster: Cluster;
let client: pg.Client;
let url: string;
let db: string;
let vaultId: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  url = await cluster.createDatabase();
  db = databaseName(url);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await applySupabaseBaseline(client);
  await client.query('create table public.teams (id bigserial primary key, name text)');
  vaultId = (await client.query<{ id: string }>(`select vault.create_secret('placeholder', 'fuzz_secret') as id`)).rows[0]!.id;
});

afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

const CONFIG = `
webhooks:
  environment: production
  expectations:
    - { setting: app.webhook_hmac_secret, equals-env: HMAC_SECRET, previous-env: HMAC_SECRET_PREVIOUS }
    - { vault-secret: fuzz_secret, equals-env: HMAC_SECRET }
    - { setting: app.vercel_webhook_trips, url: { host: app.example.com, path-prefix: /api/hooks/ } }
`;

/** Puts one secret (and its variants) everywhere the gate reads secrets. */
async function plant(secret: string, databaseValue: string, headerToken: string, hmacKey: string): Promise<void> {
  const tag = `$f${Math.random().toString(36).slice(2, 8)}$`;
  const headers = JSON.stringify({ 'Content-Type': 'application/json', Authorization: `Bearer ${headerToken}` });
  const hookUrl = `https://fuzz:${encodeURIComponent(secret)}@app.example.com/api/hooks/trips?token=${encodeURIComponent(secret)}`;
  await client.query(`alter database ${db} set app.webhook_hmac_secret = ${quoteLiteral(databaseValue)}`);
  await client.query(`alter database ${db} set app.vercel_webhook_trips = ${quoteLiteral(hookUrl)}`);
  await client.query('select vault.update_secret($1, $2)', [vaultId, databaseValue]);
  await client.query(
    `create or replace function public.fuzz_sign(payload jsonb) returns bigint language plpgsql security definer set search_path = pg_catalog, public as ${tag}
     begin
       return net.http_post(current_setting('app.vercel_webhook_trips', true), payload, '{}'::jsonb,
         jsonb_build_object('X-Signature-HMAC', encode(extensions.hmac(payload::text, ${quoteLiteral(hmacKey)}, 'sha256'), 'hex')));
     end ${tag}`,
  );
  await client.query('drop trigger if exists fuzz_hook on public.teams');
  await client.query(
    `create trigger fuzz_hook after insert on public.teams for each row execute function supabase_functions.http_request('https://hooks.example.com/x', 'POST', ${quoteLiteral(headers)}, '{}', '1000')`,
  );
}

describe('fuzzing secrets through every output', () => {
  it(`never prints any of ${COUNT} generated secrets or their encodings`, async () => {
    const random = generator(20250125);
    let checked = 0;
    for (let index = 0; index < COUNT; index += 1) {
      const secret = makeSecret(random, index);
      const other = makeSecret(random, index + 1);
      // distinct secrets per place, so each registration is checked on its own
      const headerToken = `tok${makeSecret(random, index + 2).replace(/[^A-Za-z0-9]/g, '')}xyz`;
      const hmacKey = makeSecret(random, index + 3);
      const databaseValue = DATABASE_VARIANTS[index % DATABASE_VARIANTS.length]!(secret, other);
      const context = `secret #${index} ${JSON.stringify(secret.slice(0, 40))}`;
      forgetSecretsForTests();
      await plant(secret, databaseValue, headerToken, hmacKey);

      const env = { HMAC_SECRET: secret, ...(index % 3 === 0 ? { HMAC_SECRET_PREVIOUS: other } : {}) };
      const runs = [
        await runWebhooks(url, {}, env, CONFIG),
        // bad input around the secret: missing variable, the secret pasted as a name or as the canary URL
        await runWebhooks(url, {}, {}, CONFIG),
        await runWebhooks(url, { 'secret-env': secret }, {}),
        await runWebhooks(url, { canary: 'true', 'canary-url': `ftp://x/${secret}` }, env, CONFIG),
      ];
      const [main] = runs;
      expect(main!.result.status, context).toBe('fail');
      expect(
        main!.result.findings.map((f) => f.rule),
        context,
      ).toEqual(
        expect.arrayContaining(['webhook_literal_secret', 'webhook_url_credentials', ...(databaseValue === secret ? [] : ['webhook_secret_mismatch'])]),
      );
      for (const run of runs.slice(1)) expect(run.result.status, context).toBe('error');

      for (const run of runs) {
        for (const form of [
          ...encodedForms(secret),
          ...encodedForms(databaseValue),
          ...encodedForms(headerToken),
          ...encodedForms(hmacKey),
          ...encodedForms(other),
        ]) {
          if (form.trim().length < 8) continue;
          expect(run.all.includes(form), `${context}: an output contains a form of a secret`).toBe(false);
        }
      }
      // everything the gate read was registered with the masker (so the runner masks it too)
      for (const value of [secret, databaseValue, `Bearer ${headerToken}`, hmacKey]) {
        expect(redact(`<${value}>`), `${context}: ${JSON.stringify(value.slice(0, 20))} not registered`).not.toContain(value);
      }
      checked += 1;
    }
    expect(checked).toBe(COUNT);
  });
});
