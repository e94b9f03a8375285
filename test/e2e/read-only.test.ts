/**
 * Read-only proof (DESIGN.md safety promise 1): drift-gate (deploy mode), rls-audit (live
 * database) and webhook-secret-check, run from their committed bundles as the runner runs them,
 * against examples/supabase-app's "production" database,
 *
 * - succeed (exit 0 or 1, never 2) as login roles that have only what each gate documents it
 *   needs (SELECT and USAGE at most) and `default_transaction_read_only = on`;
 * - write nothing, neither as those roles nor as the database owner, who could: a tripwire
 *   (test/fixtures/safety/tripwire.ts: an event trigger, row and TRUNCATE triggers on every
 *   table and on the migration history, recording into a table the roles cannot see) stays
 *   empty, no transaction id is assigned anywhere in the cluster, no row counter moves, and
 *   roles, role and database settings, databases, large objects and sequences are unchanged.
 *
 * A last test makes each kind of write on purpose and shows the tripwire catches it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateId, GateResult } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import { quoteIdent, quoteLiteral } from '../../src/postgres/connect.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { EXAMPLE_APP, pushExampleApp } from '../../scripts/example-app.ts';
import { roleUrl } from '../fixtures/safety/role-url.ts';
import { evidence, installTripwire, trippedWrites } from '../fixtures/safety/tripwire.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';
import { runActionBundle } from '../support/runner.ts';

const DATABASE = 'trip_planner';
const PASSWORD = 'read-only-proof-password';
const HMAC_SECRET = 'read-only-proof-hmac';
const APP_HOST = 'app.example.com';

/**
 * Each gate's role: login, `default_transaction_read_only`, and only what the gate reads beyond
 * the catalogs. drift-gate reads the migration history table. rls-audit reads the catalogs and
 * the rows of storage.buckets (for public_bucket_allows_listing), all of them: Supabase turns row
 * level security on there, so the role also needs a SELECT policy (or BYPASSRLS; the last test
 * shows it refuses to run without). webhook-secret-check reads settings and catalogs, and
 * pg_net's response log when it may (its README: USAGE on net, SELECT on net._http_response).
 */
const GATE_ROLES: Record<Exclude<GateId, 'drill' | 'parity'>, { role: string; grants: string[] }> = {
  drift: {
    role: 'gate_drift',
    grants: ['grant usage on schema supabase_migrations to gate_drift', 'grant select on supabase_migrations.schema_migrations to gate_drift'],
  },
  rls: {
    role: 'gate_rls',
    grants: [
      'grant usage on schema storage to gate_rls',
      'grant select on storage.buckets to gate_rls',
      'create policy "postgate audit reads buckets" on storage.buckets for select to gate_rls using (true)',
    ],
  },
  webhooks: { role: 'gate_webhooks', grants: ['grant usage on schema net to gate_webhooks', 'grant select on net._http_response to gate_webhooks'] },
};

const GATE_ENV: Record<string, Record<string, string>> = { webhooks: { HMAC_SECRET, APP_HOST } };

describe.each(TEST_MAJORS)('PostgreSQL %i', (major) => {
  let cluster: Cluster;
  let admin: pg.Client;
  let parent: string;
  let guarded = 0;

  beforeAll(async () => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-read-only-'));
    cluster = await startTestCluster(major);
    admin = new pg.Client({ connectionString: await cluster.createDatabase(DATABASE) });
    await admin.connect();
    await pushExampleApp(admin);
    // what a real production database also has: a dashboard hotfix (drift finds it) and webhook settings
    await admin.query('alter table public.trips add column budget_cents integer; create index trips_budget_idx on public.trips (budget_cents)');
    await admin.query(`alter database ${quoteIdent(DATABASE)} set app.webhook_hmac_secret = ${quoteLiteral(HMAC_SECRET)}`);
    await admin.query(`alter database ${quoteIdent(DATABASE)} set app.vercel_webhook_trips = 'https://${APP_HOST}/api/hooks/trips'`);
    await admin.query(`alter database ${quoteIdent(DATABASE)} set app.vercel_webhook_cache = 'https://${APP_HOST}/api/hooks/revalidate'`);
    for (const { role, grants } of Object.values(GATE_ROLES)) {
      await admin.query(`create role ${role} login password ${quoteLiteral(PASSWORD)}`);
      await admin.query(`alter role ${role} set default_transaction_read_only = on`);
      for (const grant of grants) await admin.query(grant);
    }
    guarded = await installTripwire(admin);
  });

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await cluster?.stop();
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  /** `role`'s URL of the production database: the gate roles', or the owner's (the cluster's own password). */
  const urlAs = (role: string) => roleUrl(cluster.url, role, role === 'postgres' ? decodeURIComponent(new URL(cluster.url).password) : PASSWORD, DATABASE);

  /** Runs one gate's committed bundle as `role` on a push to main (no PR, no GitHub token). */
  function runGate(gate: GateId, role: string) {
    return runActionBundle({
      gate,
      event: 'push',
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': urlAs(role), comment: 'never' },
      env: GATE_ENV[gate] ?? {},
    });
  }

  it('guards every table, the migration history included', async () => {
    expect(guarded).toBeGreaterThanOrEqual(15);
    const history = await admin.query(
      `select 1 from pg_trigger where tgname = 'zz_tripwire_row' and tgrelid = 'supabase_migrations.schema_migrations'::regclass`,
    );
    expect(history.rowCount).toBe(1);
    expect(await trippedWrites(admin)).toEqual([]);
  });

  it('the gate roles hold no write privilege and cannot see the tripwire', async () => {
    for (const { role } of Object.values(GATE_ROLES)) {
      const { rows } = await admin.query<{ writable: number; tripwire: boolean; super: boolean }>(
        `select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where c.relkind in ('r', 'p', 'v', 'm', 'S') and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
                    and (has_table_privilege($1, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                         or (c.relkind = 'S' and has_sequence_privilege($1, c.oid, 'UPDATE'))))::int as writable,
                has_schema_privilege($1, 'tripwire', 'USAGE') as tripwire,
                (select rolsuper or rolcreatedb or rolcreaterole or rolbypassrls from pg_roles where rolname = $1) as super`,
        [role],
      );
      expect(rows[0], role).toEqual({ writable: 0, tripwire: false, super: false });
      const settings = await admin.query<{ setconfig: string[] }>(`select setconfig from pg_db_role_setting where setrole = $1::regrole`, [role]);
      expect(settings.rows[0]?.setconfig, role).toEqual(['default_transaction_read_only=on']);
    }
  });

  it.each(Object.entries(GATE_ROLES))('%s runs to a verdict as its read-only role and as the owner, and writes nothing', async (gate, { role }) => {
    const findings: Record<string, string[]> = {};
    for (const as of [role, 'postgres']) {
      const before = await evidence(admin);
      const run = await runGate(gate as GateId, as);
      const context = `${gate} as ${as}: exit ${run.code}\n${run.stderr}\n${run.stdout.slice(-3000)}`;
      expect([0, 1], context).toContain(run.code);
      expect(run.outputs.status, context).toMatch(/^(pass|fail)$/);
      expect(await trippedWrites(admin), context).toEqual([]);
      const after = await evidence(admin);
      expect(after.nextXid, `${context}: a transaction id was assigned, so something was written`).toBe(before.nextXid);
      expect(after.rowChanges, context).toEqual(before.rowChanges);
      expect(after.global, context).toEqual(before.global);
      findings[as] = (JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8')) as GateResult).findings.map((f) => f.key).sort();
    }
    // the read-only role sees what the owner sees: no check quietly skipped for lack of a privilege
    expect(findings[role]).toEqual(findings.postgres);
  });

  it('parity-check reads both sides as a read-only role and writes nothing', async () => {
    // parity reads every row: SELECT on the tables and sequences, and BYPASSRLS so that the counts are the tables' (its README)
    const copy = `${DATABASE}_copy`;
    await admin.query(`create database ${quoteIdent(copy)}`);
    const copyUrl = new URL(urlAs('postgres'));
    copyUrl.pathname = `/${copy}`;
    const target = new pg.Client({ connectionString: copyUrl.toString() });
    await target.connect();
    try {
      await pushExampleApp(target);
      await admin.query(`create role gate_parity login bypassrls password ${quoteLiteral(PASSWORD)}`);
      await admin.query('alter role gate_parity set default_transaction_read_only = on');
      for (const client of [admin, target]) {
        const schemas = await client.query<{ name: string }>(
          `select nspname as name from pg_namespace where nspname in (select distinct table_schema from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema'))`,
        );
        for (const { name } of schemas.rows) {
          await client.query(`grant usage on schema ${quoteIdent(name)} to gate_parity`);
          await client.query(`grant select on all tables in schema ${quoteIdent(name)} to gate_parity`);
          await client.query(`grant select on all sequences in schema ${quoteIdent(name)} to gate_parity`);
        }
      }
    } finally {
      await target.end();
    }
    // the grants above are the test's own writes
    await admin.query('truncate tripwire.writes');
    const targetAs = (role: string) => {
      const url = new URL(urlAs(role));
      url.pathname = `/${copy}`;
      return url.toString();
    };
    const findings: Record<string, string[]> = {};
    for (const as of ['gate_parity', 'postgres']) {
      const before = await evidence(admin);
      const run = await runActionBundle({
        gate: 'parity',
        event: 'schedule',
        workspace: EXAMPLE_APP,
        parent,
        inputs: { 'source-database-url': urlAs(as), 'target-database-url': targetAs(as), comment: 'never' },
        env: {},
      });
      const context = `parity as ${as}: exit ${run.code}\n${run.stderr}\n${run.stdout.slice(-3000)}`;
      expect([0, 1], context).toContain(run.code);
      expect(await trippedWrites(admin), context).toEqual([]);
      const after = await evidence(admin);
      expect(after.nextXid, `${context}: a transaction id was assigned, so something was written`).toBe(before.nextXid);
      expect(after.rowChanges, context).toEqual(before.rowChanges);
      expect(after.global, context).toEqual(before.global);
      const result = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8')) as GateResult;
      // the production side has the dashboard hotfix and the settings; the fresh copy has neither
      expect(
        result.findings.map((f) => f.rule),
        context,
      ).toEqual(expect.arrayContaining(['parity_schema_difference', 'parity_setting_lost']));
      findings[as] = result.findings.map((f) => f.key).sort();
    }
    expect(findings.gate_parity).toEqual(findings.postgres);
  });

  it('rls-audit refuses to run blind: a role row level security hides buckets from gets an error naming the fix, not a pass', async () => {
    // gate_rls's grants without its policy: storage.buckets looks empty to it
    await admin.query(`create role gate_rls_blind login password ${quoteLiteral(PASSWORD)}`);
    await admin.query('grant usage on schema storage to gate_rls_blind; grant select on storage.buckets to gate_rls_blind');
    await admin.query('truncate tripwire.writes');
    const audit = (role: string) => invokeGate('rls', (name) => ({ 'database-url': urlAs(role) })[name], 'cli', { cwd: EXAMPLE_APP });
    const { result } = await audit('gate_rls_blind');
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/cannot read every row of storage\.buckets, which rule public_bucket_allows_listing must read; grant it USAGE/);
    // with its SELECT policy, gate_rls sees every bucket, the avatars bucket's listing problem included
    const { result: seeing } = await audit('gate_rls');
    expect(seeing.status).toBe('fail');
    expect(seeing.findings.map((f) => f.key)).toContain('public_bucket_allows_listing:bucket:storage.avatars');
    expect(await trippedWrites(admin)).toEqual([]);
  });

  it('catches a write when one is made on purpose (so the proof above can fail)', async () => {
    const writer = new pg.Client({ connectionString: urlAs('postgres') });
    await writer.connect();
    try {
      await writer.query("set application_name = 'postgate/rls'");
      const writes: Array<{ sql: string; caughtBy: 'tripwire' | 'global' | 'xid' }> = [
        { sql: "update public.trips set title = title where id = 'd0000000-0000-4000-8000-00000000000c'", caughtBy: 'tripwire' },
        { sql: "insert into supabase_migrations.schema_migrations (version, name) values ('29990101000000', 'sneaky')", caughtBy: 'tripwire' },
        { sql: 'truncate public.api_key_usage', caughtBy: 'tripwire' },
        { sql: 'create table public.sneaky (id int)', caughtBy: 'tripwire' },
        { sql: 'grant select on public.trips to anon', caughtBy: 'tripwire' },
        { sql: "comment on table public.trips is 'sneaky'", caughtBy: 'tripwire' },
        { sql: `alter database ${quoteIdent(DATABASE)} set app.sneaky = 'on'`, caughtBy: 'global' },
        { sql: "alter role authenticator set pgrst.db_schemas = 'public, private'", caughtBy: 'global' },
        { sql: "select nextval(pg_get_serial_sequence('public.api_key_usage', 'id'))", caughtBy: 'global' },
        { sql: 'create temporary table scratch as select 1 as x', caughtBy: 'xid' },
      ];
      for (const write of writes) {
        await admin.query('truncate tripwire.writes');
        const before = await evidence(admin);
        await writer.query(write.sql);
        const tripped = await trippedWrites(admin);
        const after = await evidence(admin);
        if (write.caughtBy === 'tripwire') expect(tripped, write.sql).not.toEqual([]);
        if (write.caughtBy === 'global') expect(after.global, write.sql).not.toEqual(before.global);
        // every write but nextval (sequences are not transactional) also takes a transaction id
        if (!write.sql.includes('nextval')) expect(after.nextXid, write.sql).not.toBe(before.nextXid);
      }
      // the tripwire names who wrote: the login role and the application name
      await admin.query('truncate tripwire.writes');
      await writer.query("delete from public.trips where id = 'd0000000-0000-4000-8000-00000000000c'");
      expect(await trippedWrites(admin)).toContainEqual({
        kind: 'row',
        object: 'public.trips',
        command: 'DELETE',
        login_role: 'postgres',
        application: 'postgate/rls',
      });
      // and a gate's role could not have made those writes in the first place
      const reader = new pg.Client({ connectionString: urlAs('gate_drift') });
      await reader.connect();
      try {
        await expect(reader.query("insert into supabase_migrations.schema_migrations (version) values ('1')")).rejects.toThrow(/read-only transaction/);
        await expect(reader.query('create temporary table t (x int)')).rejects.toThrow(/read-only transaction/);
        await reader.query('set default_transaction_read_only = off');
        await expect(reader.query("insert into supabase_migrations.schema_migrations (version) values ('1')")).rejects.toThrow(/permission denied/);
      } finally {
        await reader.end();
      }
    } finally {
      await writer.end();
    }
  });
});
