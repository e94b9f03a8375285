/**
 * restore-drill on real PostgreSQL: a live drill with exact parity while the source takes
 * writes, file drills in every format, and every failure the issue names, each a failing
 * drill with a clear finding and its throwaway target cleaned up afterwards.
 *
 * One PostgreSQL 15 cluster holds the sources (and, for `shadow: url` drills, the scratch
 * databases); drills that need their own cluster (baseline, roles, 17) start one each.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { liveResourceCount } from '../../src/postgres/ephemeral/registry.ts';
import { takeLiveBackup } from '../../src/gates/drill/source.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';
import { asPg17Archive, asPg17Plain } from '../fixtures/drill/newer-major.ts';
import { seedSupabaseApp, sql, VANILLA_APP_SQL, writeSupabaseDumpFiles } from '../fixtures/drill/source.ts';

const root = path.resolve(import.meta.dirname, '../..');
let cluster: Cluster;
let appUrl: string;
let work: string;
/** The shared cluster is itself a tracked resource. */
let baselineResources = 0;
const backups: Record<string, { dump: string; manifest: string }> = {};

type Inputs = Record<string, string>;

async function drill(inputs: Inputs, config: object = {}, env: Record<string, string> = {}): Promise<GateResult> {
  const options = parseInputs(DRILL_INPUTS, (name) => inputs[name], 'cli');
  return run(options, createContext({ cwd: work, config: repoConfigSchema.parse(config), env }));
}

/** Restore into scratch databases on the shared cluster: no cluster start per drill. */
function onShared(inputs: Inputs): Inputs {
  return { shadow: 'url', 'shadow-database-url': cluster.url, ...inputs };
}

function rules(result: GateResult): string[] {
  return result.findings.map((f) => f.rule);
}

function only(result: GateResult, rule: string) {
  const found = result.findings.filter((f) => f.rule === rule);
  expect(found, `${rule} in ${JSON.stringify(result.findings.map((f) => f.rule))}`).not.toHaveLength(0);
  return found;
}

/**
 * Nothing left behind by this process: no tracked resource (a cluster's directory goes with it),
 * no drill work directory, no scratch database. (Other test files share TMPDIR; the suite's
 * global teardown checks it as a whole.)
 */
async function expectCleanedUp(): Promise<void> {
  expect(liveResourceCount()).toBe(baselineResources);
  expect(readdirSync(os.tmpdir()).filter((name) => name.startsWith('postgate-drill-'))).toEqual([]);
  const databases = await sql(cluster.url, "select datname from pg_database where datname like 'postgate\\_%'");
  expect(databases.rows).toEqual([]);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-test-'));
  cluster = await startTestCluster(15);
  baselineResources = liveResourceCount();
  appUrl = await cluster.createDatabase('app');
  await sql(appUrl, VANILLA_APP_SQL);
  // Backup mode writes every format with its manifest, from one snapshot each.
  for (const [format, name] of [
    ['directory', 'dir'],
    ['custom', 'app.dump'],
    ['tar', 'app.tar'],
    ['plain', 'app.sql'],
    ['plain-gzip', 'app.sql.gz'],
  ] as const) {
    const dump = path.join(work, name);
    const manifest = path.join(work, `${name}.manifest.json`);
    const result = await drill(
      { 'source-database-url': appUrl, 'dump-path': dump, 'write-manifest': manifest },
      { drill: { 'checksum-tables': ['app.customers', 'app.orders'] } },
    );
    expect(result.status, JSON.stringify(result)).toBe('pass');
    backups[format] = { dump, manifest };
  }
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('live drill', () => {
  it('restores a backup taken now with exact parity while the source takes writes, and makes the copy inert first', async () => {
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing && n < 2000) {
        await sql(
          appUrl,
          `insert into public.events (kind) select 'tick' from generate_series(1, 50); update app.customers set balance = balance + 1 where id = ${1 + (n % 2000)}`,
        );
        n += 1;
      }
    })();
    const logPath = path.join(work, 'live-log.jsonl');
    const result = await drill(
      { 'source-database-url': appUrl, jobs: '2', 'rto-target': '15m', 'rpo-target': '1h', 'log-path': logPath, 'max-days-since-green': '7' },
      {
        drill: {
          'checksum-tables': ['app.customers', 'app.orders', 'public.events'],
          smoke: [
            { name: 'orders readable', sql: 'select count(*) from app.orders', expect: { equals: 5000 } },
            // The webhook trigger would queue a request: disabled, and the queue was emptied.
            {
              name: 'inserting queues nothing',
              sql: "insert into app.orders values (999999, 1, 1, now(), 'smoke'); select count(*) from net.http_request_queue",
              expect: { equals: 0 },
            },
            { name: 'cron jobs are off', sql: 'select count(*) from cron.job where active', expect: { equals: 0 } },
          ],
        },
      },
    );
    writing = false;
    await writer;
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
    const checks = result.details?.checks as Array<{ check: string; status: string }>;
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(checks.find((c) => c.check === 'schema')?.status).toBe('pass');
    expect(checks.find((c) => c.check === 'key checksums')?.status).toBe('pass');
    expect(checks.find((c) => c.check === 'migration version')?.status).toBe('pass');
    expect(result.details?.inert).toMatchObject({ cron_jobs_deactivated: 2, net_requests_dropped: 1, triggers: ['app.orders.orders_webhook'] });
    expect(result.metrics.rto_ms).toBeGreaterThan(0);
    expect(result.metrics.rpo_ms).toBeGreaterThanOrEqual(0);
    const phases = (result.details?.phases as Array<{ phase: string; status: string }>).map((p) => `${p.phase}:${p.status}`);
    // the drill's own backup is restored at once and deleted: nothing to hash it against
    expect(phases).toEqual(['fetch:done', 'checksum:skipped', 'create target:done', 'restore:done', 'neutralise:done', 'verify:done']);
    expect(result.details?.artifact).toMatchObject({ sha256: null, checksum: expect.stringMatching(/^not needed: the backup was taken by this drill/) });
    const logged = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ status: 'pass', source: { kind: 'live', format: 'directory' }, checks: { failed: 0 } });
    expect(logged[0].artifact).toEqual({ size_bytes: expect.any(Number) });
    expect(logged[0].artifact.size_bytes).toBeGreaterThan(0);
    expect(Object.keys(logged[0].phases)).toEqual(['fetch', 'create target', 'restore', 'neutralise', 'verify']);
    await expectCleanedUp();
  });

  it("writes its throwaway dump with gzip level 1, and a kept backup (--write-manifest) with pg_dump's default compression", async () => {
    const output = mkdtempSync(path.join(os.tmpdir(), 'postgate-throwaway-'));
    try {
      await takeLiveBackup({
        url: appUrl,
        output: path.join(output, 'dump'),
        format: 'directory',
        jobs: 2,
        checksumTables: [],
        throwaway: true,
      });
      // RFC 1952: a gzip member's XFL byte (offset 8) is 4 when the fastest level wrote it, 0 for the default level
      const gzipSpeed = (dump: string) => {
        const data = readdirSync(dump).find((name) => name.endsWith('.dat.gz'));
        return readFileSync(path.join(dump, data!))[8];
      };
      expect(gzipSpeed(path.join(output, 'dump'))).toBe(4);
      expect(gzipSpeed(backups.directory!.dump)).toBe(0);
    } finally {
      rmSync(output, { recursive: true, force: true });
    }
  });

  it('refuses a transaction-mode pooler URL with the fix', async () => {
    const result = await drill({ 'source-database-url': 'postgresql://postgres.abc:hunter2secret@aws-0-eu-central-1.pooler.supabase.com:6543/postgres' });
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/transaction-mode connection pooler .* use the session pooler on port 5432 or the direct database URL/);
    expect(JSON.stringify(result)).not.toContain('hunter2secret');
  });
});

describe('file drills', () => {
  it.each(['directory', 'custom', 'tar', 'plain', 'plain-gzip'])('restores a %s backup and matches its manifest exactly', async (format) => {
    const { dump, manifest } = backups[format]!;
    const result = await drill(onShared({ 'dump-path': dump, manifest, 'rpo-target': '1h' }), {
      drill: { 'checksum-tables': ['app.customers', 'app.orders'] },
    });
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
    const checks = result.details?.checks as Array<{ check: string; status: string }>;
    expect(Object.fromEntries(checks.map((c) => [c.check, c.status]))).toMatchObject({
      'row counts': 'pass',
      'key checksums': 'pass',
      schema: 'pass',
      'row level security': 'pass',
    });
    expect((result.details?.summary as { rpo_source: string }).rpo_source).toBe('manifest');
    await expectCleanedUp();
  });

  it('restores the three supabase db dump files after applying the Supabase baseline, and disables the webhook triggers', async () => {
    const supabaseUrl = await cluster.createDatabase('supa');
    await seedSupabaseApp(supabaseUrl);
    const dir = mkdtempSync(path.join(work, 'supabase-'));
    await writeSupabaseDumpFiles(supabaseUrl, dir);
    const result = await drill(
      { 'dump-path': dir, shadow: 'local', 'postgres-version': '15' },
      { drill: { smoke: [{ name: 'trips', sql: 'select count(*) from public.trips', expect: { 'rows-at-least': 1 } }] } },
    );
    expect(result.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    expect(rules(result)).toContain('drill_no_parity_source');
    expect(result.details?.baseline).toMatchObject({ applied: true });
    expect((result.details?.inert as { triggers: string[] }).triggers).toEqual(expect.arrayContaining([expect.stringMatching(/^public\.trips\./)]));
    await expectCleanedUp();

    // The same files without the baseline: vanilla PostgreSQL lacks Supabase's roles and schemas.
    const bare = await drill({ 'dump-path': dir, shadow: 'local', 'postgres-version': '15' }, { drill: { baseline: 'none' } });
    expect(bare.status).toBe('fail');
    const roles = only(bare, 'drill_role_missing').map((f) => f.object.name);
    expect(roles).toEqual(expect.arrayContaining(['anon', 'authenticated', 'service_role']));
    expect(only(bare, 'drill_role_missing')[0]!.remediation).toMatch(/drill\.baseline: auto/);
    expect(bare.findings.some((f) => f.rule === 'drill_restore_error' && f.object.kind === 'schema' && f.object.name === 'auth')).toBe(true);
    await expectCleanedUp();

    // A live drill of the same project: auth and storage data come along (foreign keys to
    // auth.users restore), and the baseline's default privileges are cleared before the restore,
    // so restored objects carry exactly the grants the source had (the example revokes anon's).
    const liveDrill = await drill({ 'source-database-url': supabaseUrl, shadow: 'local' }, { drill: { 'checksum-tables': ['public.trips'] } });
    expect(liveDrill.findings).toEqual([]);
    const checks = liveDrill.details?.checks as Array<{ check: string; status: string }>;
    expect(Object.fromEntries(checks.map((c) => [c.check, c.status]))).toMatchObject({
      'row counts': 'pass',
      'key checksums': 'pass',
      'migration version': 'pass',
      schema: 'pass',
    });
    await expectCleanedUp();
  });

  it('loads a Supabase backup as the non-superuser postgres, as Supabase does: a statement that needs a superuser fails with the reason and runs nothing', async () => {
    const supabaseUrl = await cluster.createDatabase('supa_role');
    await seedSupabaseApp(supabaseUrl);
    const dir = mkdtempSync(path.join(work, 'supabase-role-'));
    await writeSupabaseDumpFiles(supabaseUrl, dir);
    // Where the server's OS user could write, so the test fails if the program runs.
    const outside = mkdtempSync(path.join(os.tmpdir(), 'drill-program-'));
    chmodSync(outside, 0o777);
    const marker = path.join(outside, 'ran');
    const schemaFile = path.join(dir, 'schema.sql');
    const schema = readFileSync(schemaFile, 'utf8');
    expect(schema).toContain('-- PostgreSQL database dump complete');
    writeFileSync(
      schemaFile,
      schema.replace('-- PostgreSQL database dump complete', `COPY "public"."trips" FROM PROGRAM 'touch ${marker}';\n\n-- PostgreSQL database dump complete`),
    );

    const result = await drill({ 'dump-path': dir, shadow: 'local', 'postgres-version': '15' });
    expect(existsSync(marker)).toBe(false);
    expect(result.details?.target).toMatchObject({ restored_as: 'postgres (not a superuser, as on Supabase)' });
    const refused = only(result, 'drill_restore_error').find((f) => /external program/.test(f.message));
    expect(refused?.message).toMatch(/not a superuser \(the superuser is `supabase_admin`\)/);
    // everything else restored: the data (session_replication_role as on the platform) and the baseline
    expect(result.findings.filter((f) => f.severity !== 'notice' && f !== refused)).toEqual([]);
    expect(result.details?.baseline).toMatchObject({ applied: true });
    rmSync(outside, { recursive: true, force: true });
    await expectCleanedUp();
  });

  it('refuses a pg_dumpall cluster dump in one sentence', async () => {
    const file = path.join(work, 'db_cluster.backup');
    writeFileSync(file, '--\n-- PostgreSQL database cluster dump\n--\n\nSET default_transaction_read_only = off;\n');
    const result = await drill(onShared({ 'dump-path': file }));
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/a pg_dumpall cluster dump .* restore-drill restores one database: dump it with pg_dump/);
    await expectCleanedUp();
  });

  it.runIf(TEST_MAJORS.includes(17))('restores a PostgreSQL 15 backup into PostgreSQL 17', async () => {
    const { dump, manifest } = backups.directory!;
    const result = await drill({ 'dump-path': dump, manifest, shadow: 'local', 'postgres-version': '17' });
    expect(result.findings).toEqual([]);
    expect((result.details?.target as { server_version: string }).server_version).toMatch(/^17\./);
    await expectCleanedUp();
  });
});

describe('failing drills', () => {
  it('a truncated .gz is a corrupt backup', async () => {
    const file = path.join(work, 'truncated.sql.gz');
    writeFileSync(file, readFileSync(backups['plain-gzip']!.dump));
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const result = await drill({ 'dump-path': file, shadow: 'local', 'postgres-version': '15' });
    expect(result.status).toBe('fail');
    expect(only(result, 'drill_artifact_corrupt')[0]!.message).toMatch(/truncated\.sql\.gz is truncated or unreadable: gzip stream ended early/);
    await expectCleanedUp();
  });

  it('a wrong checksum stops the drill before the restore', async () => {
    const checksums = path.join(work, 'app.dump.sha256');
    writeFileSync(checksums, `${'0'.repeat(64)}  app.dump\n`);
    const result = await drill({ 'dump-path': backups.custom!.dump, 'checksum-path': checksums, shadow: 'local' });
    expect(result.status).toBe('fail');
    expect(only(result, 'drill_checksum_mismatch')[0]!.message).toMatch(/app\.dump does not match its recorded SHA-256 \(expected 000000000000…/);
    const phases = result.details?.phases as Array<{ phase: string; status: string }>;
    expect(phases.find((p) => p.phase === 'restore')?.status).toBe('skipped');
    await expectCleanedUp();

    writeFileSync(checksums, `${(result.details?.artifact as { sha256: string }).sha256}  app.dump\n`);
    const good = await drill(onShared({ 'dump-path': backups.custom!.dump, 'checksum-path': checksums }));
    expect(good.status).toBe('pass');
    expect(good.details?.artifact).toMatchObject({ checksum: 'verified' });
  });

  it('a dump from PostgreSQL 17 is not restored into 15 (plain and custom archive)', async () => {
    const plain = path.join(work, 'from17.sql');
    writeFileSync(plain, asPg17Plain(readFileSync(backups.plain!.dump, 'utf8')));
    const archive = path.join(work, 'from17.dump');
    writeFileSync(archive, asPg17Archive(readFileSync(backups.custom!.dump)));
    for (const file of [plain, archive]) {
      const result = await drill({ 'dump-path': file, shadow: 'local', 'postgres-version': '15' });
      expect(result.status, JSON.stringify(result)).toBe('fail');
      expect(only(result, 'drill_dump_newer_than_target')[0]!.message).toMatch(/comes from PostgreSQL 17\.6 but the restore target runs PostgreSQL 15\.\d+/);
      await expectCleanedUp();
    }
  });

  it('a smoke query that fails', async () => {
    const { dump, manifest } = backups.directory!;
    const result = await drill(onShared({ 'dump-path': dump, manifest }), {
      drill: {
        smoke: [
          { name: 'no such table', sql: 'select * from app.invoices', expect: 'no-error' },
          { name: 'too few customers', sql: 'select * from app.customers', expect: { 'rows-at-least': 5000 } },
        ],
      },
    });
    expect(result.status).toBe('fail');
    const messages = only(result, 'drill_smoke_failed').map((f) => f.message);
    expect(messages).toEqual([
      'Smoke query "no such table" failed: relation "app.invoices" does not exist.',
      'Smoke query "too few customers" returned 2000 row(s), expected at least 5000.',
    ]);
    await expectCleanedUp();
  });

  it('a manifest whose row count was edited', async () => {
    const { dump, manifest } = backups.custom!;
    const edited = JSON.parse(readFileSync(manifest, 'utf8'));
    edited.facts.tables.find((t: { schema: string; name: string }) => t.schema === 'app' && t.name === 'orders').rows = 5001;
    const editedPath = path.join(work, 'edited.manifest.json');
    writeFileSync(editedPath, JSON.stringify(edited));
    const result = await drill(onShared({ 'dump-path': dump, manifest: editedPath }));
    expect(result.status).toBe('fail');
    const found = only(result, 'drill_row_count_mismatch');
    expect(found.map((f) => f.message)).toEqual(['Table app.orders has 5000 rows in the copy but 5001 in the source (-1).']);
    expect(found[0]!.key).toBe('drill_row_count_mismatch:table:app.orders');
    await expectCleanedUp();
  });

  it('an exceeded RTO target', async () => {
    const { dump, manifest } = backups.directory!;
    const result = await drill(onShared({ 'dump-path': dump, manifest, 'rto-target': '1ms' }));
    expect(result.status).toBe('fail');
    expect(only(result, 'drill_rto_exceeded')[0]!.message).toMatch(/^The drill took .+, more than the RTO target of 1 ms\.$/);
    await expectCleanedUp();
  });

  it('an RPO target without a known backup time, and one exceeded', async () => {
    const plainNoManifest = backups.plain!.dump;
    const unknown = await drill(onShared({ 'dump-path': plainNoManifest, 'rpo-target': '24h' }));
    expect(rules(unknown)).toContain('drill_rpo_unknown');
    const { dump, manifest } = backups.custom!;
    const old = JSON.parse(readFileSync(manifest, 'utf8'));
    old.backup_taken_at = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const oldPath = path.join(work, 'old.manifest.json');
    writeFileSync(oldPath, JSON.stringify(old));
    const result = await drill(onShared({ 'dump-path': dump, manifest: oldPath, 'rpo-target': '24h' }));
    expect(only(result, 'drill_rpo_exceeded')[0]!.message).toMatch(/The backup is 3 d 0 h old .* from the manifest/);
    await expectCleanedUp();
  });
});

describe('RPO from the Supabase Management API', () => {
  it('takes the newest completed backup from the backups endpoint (local server via the base-URL override)', async () => {
    const requests: Array<{ url: string; auth: string | undefined }> = [];
    const server = http.createServer((request, response) => {
      requests.push({ url: request.url ?? '', auth: request.headers.authorization });
      if (request.headers.authorization !== 'Bearer sbp_good_token_123') {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
        return;
      }
      const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          region: 'eu-central-1',
          walg_enabled: true,
          pitr_enabled: false,
          backups: [
            { id: 1, is_physical_backup: true, status: 'COMPLETED', inserted_at: day(3) },
            { id: 2, is_physical_backup: true, status: 'COMPLETED', inserted_at: day(2) },
            { id: 3, is_physical_backup: true, status: 'FAILED', inserted_at: day(0.1) },
          ],
          physical_backup_data: {},
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { dump, manifest } = backups.directory!;
      const env = { POSTGATE_SUPABASE_API_URL: base };
      const result = await drill(
        onShared({ 'dump-path': dump, manifest, 'supabase-access-token': 'sbp_good_token_123', 'project-ref': 'abcdefghijklmnop', 'rpo-target': '24h' }),
        {},
        env,
      );
      expect(requests.at(-1)?.url).toBe('/v1/projects/abcdefghijklmnop/database/backups');
      expect(only(result, 'drill_rpo_exceeded')[0]!.message).toMatch(
        /The backup is (2 d 0 h|1 d 24 h) old .*Supabase Management API \(newest completed backup\)/,
      );
      expect(JSON.stringify(result)).not.toContain('sbp_good_token_123');

      const rejected = await drill(
        onShared({ 'dump-path': dump, manifest, 'supabase-access-token': 'sbp_wrong_token_456', 'project-ref': 'abcdefghijklmnop' }),
        {},
        env,
      );
      expect(rejected.status).toBe('error');
      expect(rejected.error).toMatch(/rejected `supabase-access-token` \(HTTP 401\)/);
      await expectCleanedUp();
    } finally {
      server.close();
    }
  });
});

describe('target-database-url', () => {
  it('refuses a server whose database holds user tables unless it is disposable, and drops its scratch database', async () => {
    const { dump, manifest } = backups.custom!;
    const refused = await drill({ 'dump-path': dump, manifest, 'target-database-url': appUrl });
    expect(refused.status).toBe('error');
    expect(refused.error).toMatch(/already holds \d+ user table\(s\).*target-is-disposable: true/);
    const allowed = await drill({ 'dump-path': dump, manifest, 'target-database-url': appUrl, 'target-is-disposable': 'true' });
    expect(allowed.findings).toEqual([]);
    expect(allowed.details?.target).toMatchObject({ provider: 'target-database-url' });
    await expectCleanedUp();
  });

  it('a server where a Supabase baseline once ran (supabase_admin without superuser) is not taken for a supabase/postgres image', async () => {
    const supabaseUrl = await cluster.createDatabase('supa_target');
    await seedSupabaseApp(supabaseUrl);
    expect((await sql(cluster.url, "select rolsuper from pg_roles where rolname = 'supabase_admin'")).rows).toEqual([{ rolsuper: false }]);
    const dir = mkdtempSync(path.join(work, 'supabase-target-'));
    await writeSupabaseDumpFiles(supabaseUrl, dir);
    const result = await drill({ 'dump-path': dir, 'target-database-url': cluster.url, 'target-is-disposable': 'true' });
    expect(result.details?.baseline).toMatchObject({ applied: true });
    expect(result.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    await sql(cluster.url, 'drop database supa_target with (force)');
    await expectCleanedUp();
  });
});

describe('drill log', () => {
  it('fails a drill when no green drill is within max-days-since-green, and shows the last drills', async () => {
    const logPath = path.join(work, 'stale.jsonl');
    const old = (days: number, status: string) =>
      JSON.stringify({
        drill_id: `d${days}`,
        started_at: new Date(Date.now() - days * 86_400_000).toISOString(),
        finished_at: '',
        status,
        trigger: 'schedule',
        runner: 'r',
        source: { kind: 'file', label: 'x' },
        phases: {},
        checks: { passed: 1, failed: 0, skipped: 0 },
        findings: { error: 0, warning: 0, notice: 0 },
      });
    writeFileSync(logPath, `${old(40, 'pass')}\n${old(20, 'error')}\nnot json\n`);
    const { dump, manifest } = backups.directory!;
    const failing = await drill(onShared({ 'dump-path': dump, manifest, 'log-path': logPath, 'max-days-since-green': '30', 'rto-target': '1ms' }));
    expect(only(failing, 'drill_stale')[0]!.message).toMatch(/The last green drill in .* was 40\.0 days ago, more than max-days-since-green \(30\)\./);
    const history = failing.details?.history as { rows: Array<{ status: string }>; note: string };
    expect(history.rows.map((r) => r.status)).toEqual(['fail', 'error', 'pass']);
    expect(history.note).toMatch(/1 line\(s\) of the log could not be read/);

    const passing = await drill(onShared({ 'dump-path': dump, manifest, 'log-path': logPath, 'max-days-since-green': '30' }));
    expect(passing.status).toBe('pass');
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ status: 'pass' });
    expect(JSON.parse(lines.at(-2)!)).toMatchObject({ status: 'fail' });

    // An error found mid-drill (the Management API unreachable for the RPO) is logged too: it is not a green drill.
    appendFileSync(logPath, '');
    const errored = await drill(
      onShared({ 'dump-path': dump, manifest, 'log-path': logPath, 'supabase-access-token': 'x-token-only', 'project-ref': 'abcdefghijklmnop' }),
      {},
      { POSTGATE_SUPABASE_API_URL: 'http://127.0.0.1:9' },
    );
    expect(errored.status).toBe('error');
    expect(JSON.parse(readFileSync(logPath, 'utf8').trim().split('\n').at(-1)!)).toMatchObject({ status: 'error' });
    await expectCleanedUp();
  });
});

describe('masked export', () => {
  it('masks the verified copy and writes it to export-path', async () => {
    const { dump, manifest } = backups.directory!;
    const exportPath = path.join(work, 'staging.sql');
    const result = await drill(onShared({ 'dump-path': dump, manifest, 'export-path': exportPath }), {
      drill: { mask: { 'app.customers.email': 'email', 'app.customers.name': 'redact', 'app.orders.note': 'null' } },
    });
    expect(result.status).toBe('pass');
    expect(result.details?.masked).toEqual([
      { column: 'app.customers.email', method: 'email', rows: 2000 },
      { column: 'app.customers.name', method: 'redact', rows: 2000 },
      { column: 'app.orders.note', method: 'null', rows: 4500 },
    ]);
    const text = readFileSync(exportPath, 'utf8');
    expect(text).not.toContain('c17@example.com');
    expect(text).not.toContain('Customer 17');
    expect(text).toMatch(/user_[0-9a-f]{12}@example\.invalid/);
    await expectCleanedUp();

    const unmasked = await drill(onShared({ 'dump-path': dump, manifest, 'export-path': path.join(work, 'raw.sql') }));
    expect(unmasked.status).toBe('error');
    expect(unmasked.error).toMatch(/no `drill\.mask` rules/);
    expect(existsSync(path.join(work, 'raw.sql'))).toBe(false);
    await expectCleanedUp();
  });
});

describe('postgate drill (CLI)', () => {
  const cli = promisify(execFile);
  async function postgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await cli(process.execPath, [path.join(root, 'scripts', 'postgate.ts'), 'drill', ...args], {
        cwd: work,
        env: { ...process.env, NO_COLOR: '1' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('writes a backup with its manifest, then drills it: exit 0 with the JSON report, exit 1 when it fails', async () => {
    const dump = path.join(work, 'cli.dump');
    const manifest = path.join(work, 'cli.manifest.json');
    const backup = await postgate(['--source-database-url', appUrl, '--dump-path', dump, '--write-manifest', manifest, '--format', 'json']);
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout).details.backup).toMatchObject({ format: 'pg_dump custom archive', tables: 6 });

    const shared = ['--shadow', 'url', '--shadow-database-url', cluster.url];
    const passing = await postgate(['--dump-path', dump, '--manifest', manifest, ...shared, '--format', 'json']);
    expect(passing.code, passing.stdout + passing.stderr).toBe(0);
    const report = JSON.parse(passing.stdout);
    expect(report).toMatchObject({ gate: 'drill', status: 'pass', findings: [] });
    expect(report.metrics.rto_ms).toBeGreaterThan(0);

    const failing = await postgate(['--dump-path', dump, '--manifest', manifest, '--rto-target', '1ms', ...shared, '--format', 'json']);
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['drill_rto_exceeded']);

    const text = await postgate(['--dump-path', dump, ...shared]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/restore: pg_dump custom archive into PostgreSQL 15/);
    expect(text.stdout).toMatch(/postgate restore-drill: PASS/);
    await expectCleanedUp();
  });

  it.runIf(TEST_MAJORS.includes(17))('says exactly how to get pg_dump 17 when the source runs PostgreSQL 17', async () => {
    const seventeen = await startTestCluster(17);
    try {
      const url = await seventeen.createDatabase('app17');
      const result = await postgate(['--source-database-url', url, '--shadow', 'local', '--format', 'json']);
      expect(result.code).toBe(2);
      const error = JSON.parse(result.stdout).error as string;
      expect(error).toMatch(
        /^To dump postgres@127\.0\.0\.1:\d+\/app17 \(PostgreSQL 17\.\d+\) postgate needs pg_dump 17 or newer \(found: pg_dump 15\.\d+\) and no Docker engine is available to run it from postgres:17; install the PostgreSQL 17 client tools/,
      );
      expect(error).toContain('sudo apt-get install -y postgresql-client-17');
    } finally {
      await seventeen.stop();
    }
    await expectCleanedUp();
  });
});
