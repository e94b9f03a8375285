import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, withSession } from '../../src/postgres/connect.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { redact } from '../../src/secrets.ts';
import { startTestCluster, withClient } from '../support/pg.ts';

let cluster: Cluster;
let appUrl: string;
const APP_PASSWORD = 'app-pw-Zq9!x';

beforeAll(async () => {
  cluster = await startTestCluster();
  await withClient(cluster.url, async (c) => {
    await c.query(`create role app login password '${APP_PASSWORD}'`);
    await c.query('create table t (id int); grant select on t to app');
  });
  const u = new URL(cluster.url);
  u.username = 'app';
  u.password = encodeURIComponent(APP_PASSWORD);
  appUrl = u.toString();
});
afterAll(async () => cluster?.stop());

describe('sessions', () => {
  it('are read-only, named postgate/<gate>, and bounded by a statement timeout', async () => {
    await withSession(cluster.url, { gate: 'rls', readOnly: true, statementTimeoutMs: 300 }, async (s) => {
      const row = (await s.query("select current_setting('default_transaction_read_only') ro, current_setting('application_name') app")).rows[0];
      expect(row).toEqual({ ro: 'on', app: 'postgate/rls' });
      await expect(s.query('insert into t values (1)')).rejects.toMatchObject({ code: '25006' });
      await expect(s.query('select pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
    });
  });

  it('allow writes only when asked', async () => {
    await withSession(cluster.url, { gate: 'drill', readOnly: false }, async (s) => {
      await s.query('insert into t values (1)');
    });
  });

  it('work for a role with nothing but SELECT', async () => {
    await withSession(appUrl, { gate: 'drift', readOnly: true }, async (s) => {
      expect((await s.query('select count(*)::int n from t')).rows[0].n).toBe(1);
    });
  });
});

describe('connection errors: one sentence, the host, never the password', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    [
      'wrong password',
      () => appUrl.replace(encodeURIComponent(APP_PASSWORD), 'wrong-pw-123'),
      /^Password authentication failed for user "app" at 127\.0\.0\.1:\d+; check the password in `database-url`\.$/,
    ],
    ['refused', () => 'postgresql://u:sekret-refused@127.0.0.1:1/db', /^Could not connect to 127\.0\.0\.1:1 from `database-url`: connection refused;/],
    [
      'DNS failure',
      () => 'postgresql://u:sekret-dns@no-such-host.invalid:5432/db',
      /^Could not resolve host "no-such-host\.invalid" from `database-url` \(DNS lookup failed\)/,
    ],
    ['missing database', () => withDb(cluster.url, 'nope'), /^Database "nope" does not exist at 127\.0\.0\.1:\d+;/],
    [
      'SSL required but unavailable',
      () => cluster.url.replace('sslmode=disable', 'sslmode=require'),
      /^The server at 127\.0\.0\.1:\d+ does not support SSL but `database-url` asks for sslmode=require;/,
    ],
    [
      'transaction pooler',
      () => 'postgresql://postgres.ref:sekret-pool@aws-0-us-east-1.pooler.supabase.com:6543/postgres',
      /transaction-mode connection pooler .*; use the session pooler on port 5432 or the direct database URL\.$/,
    ],
  ];
  it.each(cases)('%s', async (_name, url, expected) => {
    const target = url();
    const error = await connect(target, { gate: 'drift', readOnly: true, connectTimeoutMs: 5000 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toBe('UserError');
    expect(error?.message).toMatch(expected);
    const password = new URL(target).password;
    if (password) expect(error?.message).not.toContain(decodeURIComponent(password));
    expect(redact(error?.message ?? '')).toBe(error?.message);
  });

  it('prefer falls back to plain when the server has no SSL', async () => {
    await withSession(cluster.url.replace('sslmode=disable', 'sslmode=prefer'), { gate: 'drift', readOnly: true }, async (s) => {
      expect((await s.query('select 1 as one')).rows[0].one).toBe(1);
    });
  });
});

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
