/**
 * The fault matrix: what real pipelines meet (networks that refuse or swallow packets, DNS,
 * wrong passwords, no TLS, locks, killed sessions, missing privileges, transaction poolers,
 * full disks, broken or tampered backups, a GitHub API that refuses or falls over, and a
 * cancelled job), each against the real CLI or the committed action bundle and real
 * PostgreSQL. Every fault must end as DESIGN.md says: exit 2 (could not run) or 1 (the gate
 * failed), never 0; with one clear sentence (asserted word for word); no stack trace, no
 * password; and nothing left running: no server of the run's clusters and no postgate-pg-*
 * directory in its TMPDIR.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { freePort } from '../../src/postgres/ephemeral/local.ts';
import { pgDump } from '../fixtures/drill/source.ts';
import {
  asUser,
  type CliRun,
  leftovers,
  NOTHING_LEFT,
  printed,
  runCli,
  scratchDir,
  sentenceProblems,
  serversUnder,
  smallFilesystem,
  sql,
  STACK_TRACE,
  startBlackhole,
  startTcpProxy,
  waitFor,
} from '../support/faults.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { startTestCluster } from '../support/pg.ts';
import { type ActionRun, HEAD_SHA, REPO, ROOT, runActionBundle } from '../support/runner.ts';

const DRIFT_APP = path.join(ROOT, 'test/fixtures/faults/drift-app');
const SLOW_APP = path.join(ROOT, 'test/fixtures/faults/slow-app');
const WRONG_PASSWORD = 'Wr0ng-Fault-Passw0rd-7c1e';
const READER_PASSWORD = 'Reader-Fault-Passw0rd-93ab';
const TOKEN = 'ghs_faultMatrixWriteToken0001';
const PR = 42;

let cluster: Cluster;
let port: number;
let parent: string;
/** The fixture project migrated, with its history table: what drift-gate reads in deploy mode. */
let liveUrl: string;
/** The same, with SELECT on pg_catalog.pg_policy revoked from PUBLIC. */
let noCatalogUrl: string;
/** A table anon can read without RLS: rls-audit fails on it (exit 1) whatever GitHub does. */
let exposedUrl: string;
/** Everything printed must not contain these. */
let secrets: string[];

async function migrate(url: string): Promise<void> {
  const dir = path.join(DRIFT_APP, 'supabase/migrations');
  const files = ['20250101000000_notes.sql', '20250102000000_note_tags.sql'];
  for (const file of files) await sql(url, readFileSync(path.join(dir, file), 'utf8'));
  await sql(
    url,
    `create schema supabase_migrations;
     create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
     insert into supabase_migrations.schema_migrations (version, name) values ('20250101000000', 'notes'), ('20250102000000', 'note_tags');
     grant usage on schema supabase_migrations to reader;
     grant select on supabase_migrations.schema_migrations to reader;`,
  );
}

beforeAll(async () => {
  cluster = await startTestCluster();
  port = Number(new URL(cluster.url).port);
  parent = scratchDir(os.tmpdir(), 'faults');
  await sql(
    cluster.url,
    `create role anon nologin; create role authenticated nologin;
     create role reader login password '${READER_PASSWORD}';`,
  );
  liveUrl = await cluster.createDatabase('live');
  await migrate(liveUrl);
  noCatalogUrl = await cluster.createDatabase('no_catalog');
  await migrate(noCatalogUrl);
  await sql(noCatalogUrl, 'revoke select on pg_catalog.pg_policy from public');
  exposedUrl = await cluster.createDatabase('exposed');
  await sql(exposedUrl, 'create table public.trips (id bigint primary key, owner uuid, title text); grant select on public.trips to anon;');
  secrets = [new URL(cluster.url).password, WRONG_PASSWORD, READER_PASSWORD, TOKEN];
});

afterAll(async () => {
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

type Run = CliRun & { tmpdir: string };

/** A gate through the CLI, with its own TMPDIR, JSON on stdout. */
async function gate(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; tmpdir?: string; onSpawn?: Parameters<typeof runCli>[1]['onSpawn'] } = {},
): Promise<Run> {
  const tmpdir = options.tmpdir ?? scratchDir(parent, 'run');
  const run = await runCli([...args, '--format', 'json'], {
    tmpdir,
    cwd: options.cwd ?? DRIFT_APP,
    ...(options.env ? { env: options.env } : {}),
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
  return { ...run, tmpdir };
}

function expectQuiet(text: string): void {
  expect(text).not.toMatch(STACK_TRACE);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Exit 2, status error, exactly this sentence, nothing leaked, nothing left. */
async function expectCouldNotRun(run: Run, sentence: string | RegExp): Promise<void> {
  expect(run.code, printed(run)).toBe(2);
  expect(run.result?.status).toBe('error');
  if (typeof sentence === 'string') expect(run.result?.error).toBe(sentence);
  else expect(run.result?.error).toMatch(sentence);
  expect(sentenceProblems(run.result?.error)).toEqual([]);
  expectQuiet(printed(run));
  expect(await leftovers(run.tmpdir)).toEqual(NOTHING_LEFT);
}

/** Exit 1, status fail, an error finding of `rule` saying exactly this, nothing leaked, nothing left. */
async function expectFailedWith(run: Run, rule: string, message: string | RegExp): Promise<Finding> {
  expect(run.code, printed(run)).toBe(1);
  expect(run.result?.status).toBe('fail');
  const found = run.result?.findings.find((f) => f.rule === rule);
  expect(found, JSON.stringify(run.result?.findings.map((f) => f.rule))).toBeDefined();
  expect(found!.severity).toBe('error');
  if (typeof message === 'string') expect(found!.message).toBe(message);
  else expect(found!.message).toMatch(message);
  expect(sentenceProblems(found!.message)).toEqual([]);
  expectQuiet(printed(run));
  expect(await leftovers(run.tmpdir)).toEqual(NOTHING_LEFT);
  return found!;
}

/** Holds ACCESS EXCLUSIVE on the history table, as a migration in progress would, until released. */
async function lockHistory(url: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin; lock table supabase_migrations.schema_migrations in access exclusive mode');
  return {
    async release() {
      await client.query('rollback').catch(() => undefined);
      await client.end();
    },
  };
}

/** The gate's backend, once it waits on the lock (found by application_name, as a DBA would). */
function waitingBackend(url: string, gateName: string): Promise<number> {
  return waitFor(async () => {
    const rows = await sql<{ pid: number }>(url, "select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'", [
      `postgate/${gateName}`,
    ]);
    return rows[0]?.pid;
  }, `postgate/${gateName} waiting on the locked history table`);
}

describe('the database cannot be reached', () => {
  it('host unreachable: nothing listens on the port (connection refused)', async () => {
    const closed = await freePort();
    const run = await gate(['webhooks', '--database-url', `postgresql://app:${WRONG_PASSWORD}@127.0.0.1:${closed}/app`], { env: { HMAC_SECRET: 'x' } });
    await expectCouldNotRun(
      run,
      `Could not connect to 127.0.0.1:${closed} from \`database-url\`: connection refused; check the host and port and that the server is running and accepts TCP connections.`,
    );
  });

  it('host unreachable: the host swallows every packet (connect timeout)', async () => {
    const blackhole = await startBlackhole();
    try {
      const run = await gate([
        'rls',
        '--database-url',
        `postgresql://app:${WRONG_PASSWORD}@127.0.0.1:${blackhole.port}/app?connect_timeout=2`,
        '--schemas',
        'public',
      ]);
      await expectCouldNotRun(
        run,
        `Timed out connecting to 127.0.0.1:${blackhole.port} from \`database-url\`; check firewalls and network access (GitHub runners have no IPv6: for Supabase use the session pooler on port 5432).`,
      );
    } finally {
      await blackhole.close();
    }
  });

  it('DNS failure: the host name does not resolve', async () => {
    const run = await gate(['drift', '--database-url', `postgresql://postgres:${WRONG_PASSWORD}@db.postgate-faults.invalid:5432/postgres`]);
    await expectCouldNotRun(
      run,
      'Could not resolve host "db.postgate-faults.invalid" from `database-url` (DNS lookup failed); check the host name and the runner\'s network.',
    );
  });

  it('wrong password: named as such, the password itself never printed', async () => {
    const run = await gate(['rls', '--database-url', asUser(liveUrl, 'postgres', WRONG_PASSWORD), '--schemas', 'public']);
    await expectCouldNotRun(run, `Password authentication failed for user "postgres" at 127.0.0.1:${port}; check the password in \`database-url\`.`);
  });

  it('SSL required but the server has none', async () => {
    const url = new URL(liveUrl);
    url.searchParams.set('sslmode', 'require');
    const run = await gate(['webhooks', '--database-url', url.toString()], { env: { HMAC_SECRET: 'x' } });
    await expectCouldNotRun(
      run,
      `The server at 127.0.0.1:${port} does not support SSL but \`database-url\` asks for sslmode=require; enable SSL on the server, or use sslmode=disable only on a trusted network.`,
    );
  });
});

describe('the database session fails mid-run', () => {
  it("statement timeout: a running migration holds the history table's lock past the gate's timeout", async () => {
    const lock = await lockHistory(liveUrl);
    try {
      const run = await gate(['drift', '--database-url', liveUrl]);
      await expectCouldNotRun(
        run,
        'A postgate query waited too long for a lock another session holds (canceling statement due to lock timeout), usually a running migration or a long transaction; rerun the gate when it has finished.',
      );
    } finally {
      await lock.release();
    }
  });

  it("the session is killed mid-run (pg_terminate_backend of application_name 'postgate/drift')", async () => {
    const lock = await lockHistory(liveUrl);
    try {
      const running = gate(['drift', '--database-url', liveUrl]);
      const pid = await waitingBackend(liveUrl, 'drift');
      await sql(liveUrl, 'select pg_terminate_backend($1)', [pid]);
      await expectCouldNotRun(
        await running,
        "The database server ended postgate's session mid-run (terminating connection due to administrator command): an administrator, pg_terminate_backend, an idle-session limit or a restart stopped it; rerun the gate.",
      );
    } finally {
      await lock.release();
    }
  });

  it('the network drops mid-run (a proxy between the gate and the database is cut)', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const lock = await lockHistory(liveUrl);
    try {
      const url = new URL(liveUrl);
      url.port = String(proxy.port);
      const running = gate(['drift', '--database-url', url.toString()]);
      await waitingBackend(liveUrl, 'drift');
      proxy.cut();
      await expectCouldNotRun(
        await running,
        "The connection to the database was lost mid-run (read ECONNRESET); check the network path and the server's health, then rerun the gate.",
      );
    } finally {
      await lock.release();
      await proxy.close();
    }
  });

  it('catalog permission denied (drift-gate): the message names the privilege and the catalog table', async () => {
    const run = await gate(['drift', '--database-url', asUser(noCatalogUrl, 'reader', READER_PASSWORD)]);
    await expectCouldNotRun(
      run,
      'Role "reader" cannot read the system catalog (permission denied for table pg_policy); grant it SELECT on that catalog table (PostgreSQL grants it to PUBLIC by default) or use a role that can read pg_catalog.',
    );
  });

  it('catalog permission denied (rls-audit): the message names the privilege and the catalog table', async () => {
    const run = await gate(['rls', '--database-url', asUser(noCatalogUrl, 'reader', READER_PASSWORD), '--schemas', 'public']);
    await expectCouldNotRun(
      run,
      'The database role postgate connects as lacks a privilege it needs (permission denied for table pg_policy); grant it SELECT on table pg_policy, or connect as a role that has it.',
    );
  });

  it('transaction-mode pooler URL (Supabase port 6543): refused before connecting, with the fix', async () => {
    const run = await gate([
      'drift',
      '--database-url',
      `postgresql://postgres.abcdefghijklmnopqrst:${WRONG_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres`,
    ]);
    await expectCouldNotRun(
      run,
      'Input `database-url` points at a transaction-mode connection pooler (aws-0-eu-central-1.pooler.supabase.com:6543), which cannot hold the session postgate needs; use the session pooler on port 5432 or the direct database URL.',
    );
  });

  it('transaction-mode pooler URL (pgbouncer=true) as the source of a live drill', async () => {
    const url = new URL(liveUrl);
    url.searchParams.set('pgbouncer', 'true');
    const run = await gate(['drill', '--source-database-url', url.toString()]);
    await expectCouldNotRun(
      run,
      `Input \`source-database-url\` points at a transaction-mode connection pooler (127.0.0.1:${port}), which cannot hold the session postgate needs; use the session pooler on port 5432 or the direct database URL.`,
    );
  });
});

describe('restore-drill: the backup or the restore target is broken', () => {
  let backups: string;
  let plainDump: string;
  let ownedDump: string;
  let bigDump: string;

  beforeAll(async () => {
    backups = scratchDir(parent, 'backups');
    const shop = await cluster.createDatabase('shop');
    await sql(
      shop,
      `create table public.items (id bigint primary key, title text not null, price numeric(10,2));
       insert into public.items select g, 'item ' || g, g * 1.5 from generate_series(1, 3000) g;`,
    );
    plainDump = path.join(backups, 'shop.dump');
    await pgDump(shop, ['-Fc', '-f', plainDump]);
    const owned = await cluster.createDatabase('shop_owned');
    await sql(
      owned,
      `create role shop_owner nologin;
       create table public.orders (id bigint primary key, total numeric(10,2));
       insert into public.orders select g, g from generate_series(1, 100) g;
       alter table public.orders owner to shop_owner;`,
    );
    ownedDump = path.join(backups, 'shop-owned.dump');
    await pgDump(owned, ['-Fc', '-f', ownedDump]);
    // ~90 MB once restored, ~5 MB as a compressed archive.
    const big = await cluster.createDatabase('big');
    await sql(
      big,
      `create table public.blobs (id bigint primary key, body text); insert into public.blobs select g, repeat(md5(g::text), 12) from generate_series(1, 200000) g;`,
    );
    bigDump = path.join(backups, 'big.dump');
    await pgDump(big, ['-Fc', '-f', bigDump]);
  });

  it('restore target out of disk: a small filesystem under TMPDIR fills up during the restore', async (context) => {
    const fs = smallFilesystem(parent, 72);
    if ('skip' in fs) {
      // .ci/run (root, on Debian) requires it: there the skip would hide a missing proof
      if (process.env.POSTGATE_REQUIRE_SMALLFS === '1') throw new Error(`POSTGATE_REQUIRE_SMALLFS=1 but ${fs.skip}`);
      context.skip(fs.skip);
      return;
    }
    try {
      const run = await gate(['drill', '--dump-path', bigDump], { tmpdir: fs.dir });
      await expectFailedWith(
        run,
        'drill_restore_error',
        // ENOSPC on the first write, or a short write when the last free block goes (both seen)
        /^A statement of the backup failed during the restore: COPY failed for table "blobs": ERROR: +could not (extend|write to) file "[^"]+": (No space left on device|wrote only \d+ of \d+ bytes at block \d+)\.$/,
      );
    } finally {
      fs.unmount();
    }
  });

  it('pg_restore fails part-way: the archive was cut short (a truncated custom-format dump)', async () => {
    const truncated = path.join(backups, 'shop-truncated.dump');
    writeFileSync(truncated, readFileSync(plainDump).subarray(0, Math.floor(statSync(plainDump).size * 0.6)));
    const run = await gate(['drill', '--dump-path', truncated]);
    await expectFailedWith(run, 'drill_artifact_corrupt', 'shop-truncated.dump is truncated or unreadable: could not read from input file: end of file.');
  });

  it('pg_restore fails part-way: the target is missing a role the backup needs', async () => {
    const run = await gate(['drill', '--dump-path', ownedDump]);
    await expectFailedWith(run, 'drill_role_missing', 'Role shop_owner does not exist on the restore target, so statements that need it failed.');
  });

  it('checksum mismatch: the backup is not the one whose SHA-256 was recorded', async () => {
    const recorded = createHash('sha256').update('a different backup').digest('hex');
    const actual = createHash('sha256').update(readFileSync(plainDump)).digest('hex');
    const run = await gate(['drill', '--dump-path', plainDump, '--sha256', recorded]);
    await expectFailedWith(
      run,
      'drill_checksum_mismatch',
      `shop.dump does not match its recorded SHA-256 (expected ${recorded.slice(0, 12)}…, got ${actual.slice(0, 12)}…), so the backup was changed or cut short after it was made; it was not restored.`,
    );
    // nothing was restored from a backup that failed its checksum
    const phases = run.result?.details?.phases as Array<{ phase: string; status: string }>;
    expect(phases.filter((p) => p.status !== 'skipped').map((p) => p.phase)).toEqual(['fetch', 'checksum']);
  });
});

describe('GitHub refuses or fails: the verdict is unchanged and one warning says so', () => {
  let server: GitHubServer;
  let baseline: ActionRun;

  const warningsOf = (run: ActionRun) => run.stdout.split('\n').filter((line) => line.startsWith('::warning'));
  /** What the run printed, minus the runner's add-mask commands (they carry the secrets by design). */
  const shown = (run: ActionRun) =>
    [run.stdout, run.stderr, run.summary]
      .join('\n')
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
  /** The rls-audit bundle on a pull request; afterwards nothing of it may be left in its TMPDIR or RUNNER_TEMP. */
  const runBundle = async () => {
    const tmpdir = scratchDir(parent, 'bundle');
    const run = await runActionBundle({
      gate: 'rls',
      event: 'pull_request',
      apiUrl: server.url,
      token: TOKEN,
      parent,
      inputs: { 'database-url': exposedUrl, schemas: 'public', comment: 'always' },
      env: { TMPDIR: tmpdir },
    });
    expect(await leftovers(tmpdir, run.runnerTemp)).toEqual(NOTHING_LEFT);
    return run;
  };

  beforeAll(async () => {
    server = await startGitHubServer();
    server.addToken(TOKEN);
    server.addPullRequest(REPO, PR, HEAD_SHA);
    baseline = await runBundle();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server.reset();
    server.addPullRequest(REPO, PR, HEAD_SHA);
  });

  it('baseline: the gate fails (exit 1), comments and creates a check run, without a warning about GitHub', () => {
    expect(baseline.code, baseline.stderr + baseline.stdout).toBe(1);
    expect(baseline.outputs.status).toBe('fail');
    expect(warningsOf(baseline).filter((line) => line.includes('could not post'))).toEqual([]);
  });

  const cases: Array<[string, (server: GitHubServer) => void, RegExp]> = [
    [
      '403 on the PR comment (a token without pull-requests: write)',
      (s) => s.fail({ status: 403, message: 'Resource not accessible by integration', method: 'POST', path: /\/issues\/\d+\/comments$/, times: 10 }),
      /could not post the PR comment \(HTTP 403: Resource not accessible by integration\): the token may not write there; give the workflow `pull-requests: write` in `permissions`/,
    ],
    [
      '404 when listing the PR comments',
      (s) => s.fail({ status: 404, message: 'Not Found', method: 'GET', path: /\/issues\/\d+\/comments$/, times: 10 }),
      /could not post the PR comment \(HTTP 404: Not Found\)/,
    ],
    [
      '422 on the check run',
      (s) => s.fail({ status: 422, message: 'Validation Failed', method: 'POST', path: /\/check-runs$/, times: 10 }),
      /could not post the check run: GitHub rejected the request \(HTTP 422: Validation Failed\)/,
    ],
    [
      '500 on every request (an outage: retried with backoff, then given up)',
      (s) => s.fail({ status: 500, message: 'Server Error', times: 1000 }),
      /could not post the PR comment and the check run: GitHub's API kept failing \(HTTP 500: Server Error, 4 attempts\)/,
    ],
    [
      'secondary rate limit on every request',
      (s) => s.rateLimit(1000, 0),
      /could not post the PR comment and the check run: GitHub's API kept failing \(HTTP 403: You have exceeded a secondary rate limit/,
    ],
  ];

  it.each(cases)('GitHub %s', async (_name, inject, reason) => {
    inject(server);
    const run = await runBundle();
    expect(run.code, run.stderr + run.stdout).toBe(baseline.code);
    expect(run.outputs.status).toBe(baseline.outputs.status);
    expect(run.outputs.errors).toBe(baseline.outputs.errors);
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    const before = JSON.parse(readFileSync(baseline.outputs['report-path']!, 'utf8'));
    expect(report.findings).toEqual(before.findings);
    const degraded = warningsOf(run).filter((line) => line.includes('could not post'));
    expect(degraded).toHaveLength(1);
    expect(warningsOf(run)).toHaveLength(warningsOf(baseline).length + 1);
    expect(degraded[0]).toMatch(reason);
    expect(degraded[0]).toMatch(/results are in the job summary and the annotations; the gate's verdict \(fail\) is unchanged\.$/);
    expect(run.summary).toContain("the gate's verdict (fail) is unchanged");
    expect(run.post?.code).toBe(0);
    expectQuiet(shown(run));
  });
});

describe('the job is cancelled (SIGTERM)', () => {
  const STOPPED = 'postgate: stopped by SIGTERM before the gate finished; the throwaway PostgreSQL it started was stopped and its files removed.';

  /** The run's postmaster.pid (written first thing at server start; its last line says "ready" once it accepts connections). */
  function postmasterPid(tmpdir: string): string | undefined {
    try {
      const dir = readdirSync(tmpdir).find((name) => name.startsWith('postgate-pg-'));
      return dir ? readFileSync(path.join(tmpdir, dir, 'data', 'postmaster.pid'), 'utf8') : undefined;
    } catch {
      return undefined;
    }
  }

  /** The shadow's backend sleeping in the slow migration (its process title says SELECT). */
  function migrationRunning(tmpdir: string): boolean {
    const postmaster = serversUnder(tmpdir)[0]?.split(' ')[0];
    if (!postmaster) return false;
    try {
      return /postgres: .* SELECT/.test(execFileSync('ps', ['-o', 'args=', '--ppid', postmaster], { encoding: 'utf8' }));
    } catch {
      return false;
    }
  }

  /**
   * drift-gate on the slow fixture, sent SIGTERM once `moment` says "now"; "missed" (the moment
   * passed unseen) also sends it, and is reported, so the caller can try again.
   */
  async function cancelAt(moment: (tmpdir: string) => 'now' | 'missed' | undefined, what: string, intervalMs: number): Promise<Run & { missed: boolean }> {
    const tmpdir = scratchDir(parent, 'sigterm');
    let seen: 'now' | 'missed' | 'exited first' | undefined;
    const run = await gate(['drift', '--migrations-format', 'plain', '--migrations-dir', 'migrations'], {
      cwd: SLOW_APP,
      tmpdir,
      onSpawn: (child) => {
        const exited = () => child.exitCode !== null || child.signalCode !== null;
        void waitFor(() => (exited() ? 'exited first' : moment(tmpdir)), what, 90_000, intervalMs)
          .then((when) => {
            seen = when;
            if (when !== 'exited first') child.kill('SIGTERM');
          })
          .catch(() => undefined);
      },
    });
    expect(seen === 'now' || seen === 'missed', `${what}: ${seen ?? 'never seen'}\n${printed(run)}`).toBe(true);
    return { ...run, missed: seen === 'missed' };
  }

  it('SIGTERM mid-gate (applying migrations to the shadow): non-zero exit, one sentence, cluster stopped, temp dir removed', async () => {
    const run = await cancelAt((tmpdir) => (migrationRunning(tmpdir) ? 'now' : undefined), 'the slow migration running on the shadow cluster', 50);
    expect(run.code, printed(run)).toBe(2);
    expect(run.stderr.trim()).toBe(STOPPED);
    expect(run.stdout).toBe('');
    expect(await leftovers(run.tmpdir)).toEqual(NOTHING_LEFT);
  });

  it('SIGTERM to a gate that started nothing (waiting to connect): exit 2 and one sentence, not a bare signal', async () => {
    const blackhole = await startBlackhole();
    try {
      const run = await gate(
        ['rls', '--database-url', `postgresql://app:${WRONG_PASSWORD}@127.0.0.1:${blackhole.port}/app?connect_timeout=60`, '--schemas', 'public'],
        {
          // once it is waiting on the connection (a condition, not a delay: a loaded machine may take seconds to get there)
          onSpawn: (child) => {
            void blackhole.connected.then(() => child.kill('SIGTERM'));
          },
        },
      );
      expect(run.code, printed(run)).toBe(2);
      expect(run.stderr.trim()).toBe('postgate: stopped by SIGTERM before the gate finished.');
      expect(run.stdout).toBe('');
    } finally {
      await blackhole.close();
    }
  });

  it('SIGTERM while the shadow server is still starting: it is stopped too, not orphaned', async () => {
    // The window between the first write of postmaster.pid and "ready" is short; a run that
    // misses it is still checked, and the next one tries again. With an empty template cache the
    // first postmaster.pid is initdb's bootstrap backend: then initdb is what gets stopped.
    const starting = (tmpdir: string) => {
      const pid = postmasterPid(tmpdir);
      if (pid === undefined) return undefined;
      return /ready|stopping/.test(pid) ? 'missed' : 'now';
    };
    let caught = false;
    for (let attempt = 0; attempt < 4 && !caught; attempt += 1) {
      const run = await cancelAt(starting, 'the shadow postmaster starting up', 5);
      expect(run.code, printed(run)).toBe(2);
      expect(run.stderr.trim()).toBe(STOPPED);
      expect(await leftovers(run.tmpdir)).toEqual(NOTHING_LEFT);
      caught = !run.missed;
    }
    expect(caught, 'SIGTERM never landed while the server was starting').toBe(true);
  });
});
