/**
 * Hostile and hollow backups, and a drill killed mid-dump (issue 13, items 1, 7 and 9), through
 * the real CLI (and the action's main and post steps, from source) against real PostgreSQL:
 *
 * - a plain backup (real pg_dump output of a real database) with a psql meta-command planted in
 *   it, in every place psql's lexer would act on it (start of a line, after SQL on the same line,
 *   after what only looks like an open string, CRLF, gzip, the supabase db dump files, behind a
 *   matching checksum, after COPY ... FROM stdin; on its line): exit 1 with
 *   `drill_backup_untrusted_command` naming the line, the marker file the command would create
 *   is never written, and nothing of the backup ran (a role created before the planted line does
 *   not exist). Each payload is first fed to the real psql, which does write the marker: the
 *   payloads are real. A command in COPY data is data (psql and the drill agree); a command
 *   that reaches psql only through `:LAST_ERROR_MESSAGE` runs under psql but not in the drill;
 * - an empty backup (no tables; only pg_dump's trailer; schema only; a live empty source): exit 1
 *   with `drill_backup_empty`, exit 0 with `drill.expect-empty: true`;
 * - kill -9 of a drill while its pg_dump runs (blocked on a lock, so "mid-dump" is a condition,
 *   not a moment): the pg_dump outlives it, and the action's post step (or, for the CLI, the next
 *   run) ends it and removes its dump directory; SIGTERM ends it at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { resolveClientTool, runClientTool } from '../../src/postgres/tools.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { pgDump } from '../fixtures/drill/source.ts';
import { type CliRun, printed, runCli, scratchDir, sentenceProblems, sql, STACK_TRACE, waitFor } from '../support/faults.ts';
import { startTestCluster } from '../support/pg.ts';
import { EVENTS, parseFileCommands, REPO, ROOT, type StepRun, suiteCacheEnv } from '../support/runner.ts';

let cluster: Cluster;
let parent: string;
let markers: string;
let shopUrl: string;
/** Real pg_dump plain output of the shop database. */
let dump: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  parent = scratchDir(process.env.TMPDIR ?? '/tmp', 'hostile');
  markers = scratchDir(parent, 'markers');
  shopUrl = await cluster.createDatabase('shop');
  await sql(
    shopUrl,
    `create table public.items (id bigint primary key, title text not null, price numeric(10,2));
     insert into public.items select g, 'item ' || g, g * 1.5 from generate_series(1, 500) g;
     create table public.notes (body text);
     insert into public.notes values ('first note'), ('C:\\temp\\! is data');`,
  );
  dump = await pgDump(shopUrl, ['-Fp']);
});

afterAll(async () => {
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

type Run = CliRun & { tmpdir: string };

/** `postgate drill --dump-path <file>`, restoring into scratch databases of the test cluster. */
function drillFile(file: string, extra: string[] = [], cwd = parent): Promise<Run> {
  return drill(['--dump-path', file, ...extra], cwd);
}

async function drill(args: string[], cwd = parent, tmpdir = scratchDir(parent, 'run')): Promise<Run> {
  const run = await runCli(['drill', ...args, '--shadow', 'url', '--shadow-database-url', cluster.url, '--format', 'json'], { tmpdir, cwd });
  expect(printed(run)).not.toMatch(STACK_TRACE);
  return { ...run, tmpdir };
}

function findings(run: Run, rule: string): Finding[] {
  return run.result?.findings.filter((f) => f.rule === rule) ?? [];
}

async function roleExists(name: string): Promise<boolean> {
  return (await sql(cluster.url, 'select 1 from pg_roles where rolname = $1', [name])).length > 0;
}

/** Runs a script with the real psql (as a restore with psql would: -X, ON_ERROR_STOP=0) into a scratch database. */
async function psqlRun(file: string): Promise<void> {
  const url = await cluster.createDatabase();
  const psql = await resolveClientTool('psql', { minMajor: 0, purpose: 'show what psql does with the payload' });
  await runClientTool(psql, ['-X', '-q', '--no-password', '-v', 'ON_ERROR_STOP=0', '-f', file], { connection: parseDatabaseUrl(url) });
}

// ---------------------------------------------------------------------------------------------
// item 1: psql meta-commands in a plain backup

const SEARCH_PATH = "SELECT pg_catalog.set_config('search_path', '', false);\n";

/** The real dump with a role-creating statement and then the payload planted after its header; returns the file and the payload's first line. */
function plant(name: string, payload: string[], options: { crlf?: boolean; gzip?: boolean } = {}): { file: string; line: number; canary: string } {
  const canary = `canary_${name.replace(/\W/g, '_')}`;
  const at = dump.indexOf(SEARCH_PATH) + SEARCH_PATH.length;
  expect(at).toBeGreaterThan(SEARCH_PATH.length);
  const before = `${dump.slice(0, at)}CREATE ROLE ${canary};\n`;
  let text = `${before}${payload.join('\n')}\n${dump.slice(at)}`;
  if (options.crlf) text = text.replace(/\n/g, '\r\n');
  const file = path.join(parent, `${name}.sql${options.gzip ? '.gz' : ''}`);
  writeFileSync(file, options.gzip ? gzipSync(text) : text);
  return { file, line: before.split('\n').length, canary };
}

function marker(name: string): string {
  return path.join(markers, name);
}

/** Did a command write the marker (psql keeps a CRLF line's \r in the command, so the name may end in one)? */
function ran(name: string): boolean {
  return readdirSync(markers).some((file) => file === name || file === `${name}\r`);
}

interface Case {
  name: string;
  /** Lines planted in the dump; MARKER stands for the marker file's path. */
  payload: string[];
  /** The planted lines (0-based in the payload) the findings name. */
  flagged: number[];
  /** Does the real psql write the marker (no for commands psql does not run, like \\\\!)? */
  psqlRuns: boolean;
  crlf?: boolean;
  gzip?: boolean;
}

const CASES: Case[] = [
  { name: 'bang-line', payload: ['\\! touch MARKER'], flagged: [0], psqlRuns: true },
  { name: 'bang-after-sql', payload: ['SELECT 1 \\! touch MARKER', ';'], flagged: [0], psqlRuns: true },
  { name: 'bang-after-fake-string', payload: ["SELECT 'only looks open\\'; \\! touch MARKER"], flagged: [0], psqlRuns: true },
  { name: 'bang-after-comment', payload: ['SELECT 1; /* \\! not here */ \\! touch MARKER'], flagged: [0], psqlRuns: true },
  { name: 'pipe-output', payload: ['\\o |touch MARKER', 'SELECT 1;', '\\o'], flagged: [0, 2], psqlRuns: true },
  { name: 'copy-program', payload: ["\\copy (select 1) to program 'touch MARKER'"], flagged: [0], psqlRuns: true },
  { name: 'backquote-set', payload: ['\\set x `touch MARKER`'], flagged: [0], psqlRuns: true },
  { name: 'include-file', payload: ['\\i INCLUDE'], flagged: [0], psqlRuns: true },
  { name: 'setenv', payload: ['\\setenv PGPASSWORD stolen'], flagged: [0], psqlRuns: false },
  { name: 'double-backslash', payload: ['\\\\! touch MARKER'], flagged: [0], psqlRuns: false },
  { name: 'crlf', payload: ['\\! touch MARKER'], flagged: [0], psqlRuns: true, crlf: true },
  { name: 'gzip', payload: ['SELECT 2; \\! touch MARKER'], flagged: [0], psqlRuns: true, gzip: true },
  { name: 'after-copy-on-its-line', payload: ['COPY public.no_such_table (a) FROM stdin; \\! touch MARKER', 'x', '\\.'], flagged: [0], psqlRuns: true },
  // psql would send the restore target's password to whatever host this names
  { name: 'connect-elsewhere', payload: ['\\connect host=127.0.0.1 port=1 dbname=shop'], flagged: [0], psqlRuns: false },
  // pg_dump's \restrict key is in the file: whoever edits it can lift the restriction
  { name: 'unrestrict-with-the-key', payload: ['\\unrestrict DUMPKEY', 'SELECT 3;', '\\! touch MARKER'], flagged: [2], psqlRuns: true },
];

describe('a plain backup with psql meta-commands planted in it', () => {
  it('real pg_dump output is what the drill allows: it restores and passes', async () => {
    expect(dump).toMatch(/^\\restrict [A-Za-z0-9]+$/m); // pg_dump 15.14+ writes \restrict/\unrestrict
    const file = path.join(parent, 'clean.sql');
    writeFileSync(file, dump);
    const run = await drillFile(file);
    expect(run.code, printed(run)).toBe(0);
    expect(findings(run, 'drill_backup_untrusted_command')).toEqual([]);
    expect(run.result?.metrics.rows).toBe(502);
  });

  it.each(CASES)('$name: the drill refuses the backup before restoring anything (psql runs it: $psqlRuns)', async (c) => {
    const target = marker(c.name);
    const include = path.join(parent, `${c.name}-include.sql`);
    writeFileSync(include, `\\! touch ${target}\n`);
    const key = /^\\restrict ([A-Za-z0-9]+)$/m.exec(dump)![1]!;
    const payload = c.payload.map((line) => line.replace('MARKER', target).replace('INCLUDE', include).replace('DUMPKEY', key));

    // what psql does with it: the payload is real
    const alone = path.join(parent, `${c.name}-psql.sql`);
    const script = `SELECT 1;\n${payload.join('\n')}\n`;
    writeFileSync(alone, c.crlf ? script.replace(/\n/g, '\r\n') : script);
    await psqlRun(alone);
    expect(ran(c.name), `psql ${c.psqlRuns ? 'runs' : 'does not run'} ${c.name}`).toBe(c.psqlRuns);
    for (const name of readdirSync(markers)) rmSync(path.join(markers, name));

    const { file, line, canary } = plant(c.name, payload, c);
    const run = await drillFile(file);
    expect(run.code, printed(run)).toBe(1);
    expect(run.result?.status).toBe('fail');
    const found = findings(run, 'drill_backup_untrusted_command');
    expect(found.map((f) => f.object.name)).toEqual(c.flagged.map((i) => `${path.basename(file)}:${line + i}`));
    expect(found[0]!.message).toMatch(new RegExp(`^Line ${line + c.flagged[0]!} of ${path.basename(file).replace(/\./g, '\\.')} holds `));
    for (const f of found) expect(sentenceProblems(f.message)).toEqual([]);
    expect(ran(c.name)).toBe(false);
    // nothing ran: not the statement before the planted line either, and no restore phase
    expect(await roleExists(canary)).toBe(false);
    const phases = run.result?.details?.phases as Array<{ phase: string; status: string }>;
    expect(phases.filter((p) => p.status !== 'skipped').map((p) => p.phase)).toEqual(['fetch', 'checksum']);
  });

  it('a matching checksum does not make it trusted', async () => {
    const target = marker('checksum');
    const { file, line, canary } = plant('checksum', [`\\! touch ${target}`]);
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    const run = await drillFile(file, ['--sha256', sha256]);
    expect(run.code, printed(run)).toBe(1);
    expect(run.result?.details?.artifact).toMatchObject({ checksum: 'verified' });
    expect(findings(run, 'drill_backup_untrusted_command').map((f) => f.object.name)).toEqual([`checksum.sql:${line}`]);
    expect(existsSync(target)).toBe(false);
    expect(await roleExists(canary)).toBe(false);
  });

  it('supabase db dump files: a command in data.sql stops the drill before roles.sql and schema.sql run', async () => {
    const target = marker('supabase');
    const folder = scratchDir(parent, 'supabase-dump');
    writeFileSync(path.join(folder, 'roles.sql'), 'CREATE ROLE canary_supabase_roles;\n');
    writeFileSync(path.join(folder, 'schema.sql'), `${await pgDump(shopUrl, ['-Fp', '--schema-only'])}CREATE ROLE canary_supabase_schema;\n`);
    const data = await pgDump(shopUrl, ['-Fp', '--data-only']);
    writeFileSync(
      path.join(folder, 'data.sql'),
      data.replace(SEARCH_PATH, () => `${SEARCH_PATH}SELECT 'x' \\! touch ${target}\n;\n`),
    );
    const line = data.slice(0, data.indexOf(SEARCH_PATH) + SEARCH_PATH.length).split('\n').length;
    const run = await drillFile(folder);
    expect(run.code, printed(run)).toBe(1);
    expect(findings(run, 'drill_backup_untrusted_command').map((f) => f.object.name)).toEqual([`data.sql:${line}`]);
    expect(existsSync(target)).toBe(false);
    expect(await roleExists('canary_supabase_roles')).toBe(false);
    expect(await roleExists('canary_supabase_schema')).toBe(false);
  });

  it('many planted lines: the first 20 are named, the rest counted', async () => {
    const target = marker('many');
    const { file, line } = plant(
      'many',
      Array.from({ length: 25 }, (_, i) => `\\! touch ${target}-${i}`),
    );
    const run = await drillFile(file);
    expect(run.code).toBe(1);
    const found = findings(run, 'drill_backup_untrusted_command');
    expect(found).toHaveLength(21);
    expect(found[20]!.message).toBe(`5 more line(s) hold psql commands pg_dump never writes (first: line ${line + 20} of many.sql).`);
    expect(readdirSync(markers).filter((name) => name.startsWith('many'))).toEqual([]);
  });

  it('a command in COPY data is data: psql and the drill both load it, nothing runs', async () => {
    const target = marker('copy-data');
    const copy = 'COPY public.notes (body) FROM stdin;\n';
    expect(dump).toContain(copy);
    const file = path.join(parent, 'copy-data.sql');
    // COPY's text format reads "\!" as "!": a valid row that psql would run, were it SQL
    writeFileSync(
      file,
      dump.replace(copy, () => `${copy}\\! touch ${target}\n`),
    );
    await psqlRun(file);
    expect(existsSync(target)).toBe(false);
    const run = await drillFile(file);
    expect(run.code, printed(run)).toBe(0);
    expect(run.result?.metrics.rows).toBe(503);
    expect(existsSync(target)).toBe(false);
  });

  it('a command that only psql variable expansion would reveal (:LAST_ERROR_MESSAGE) runs under psql, not in the drill', async () => {
    const target = marker('last-error');
    const payload = [`DO $$ BEGIN RAISE EXCEPTION '\\! touch ${target}'; END $$;`, 'SELECT :LAST_ERROR_MESSAGE;'];
    const alone = path.join(parent, 'last-error-psql.sql');
    writeFileSync(alone, `${payload.join('\n')}\n`);
    await psqlRun(alone);
    expect(existsSync(target)).toBe(true); // psql lexes the error text it substitutes, and runs the \!
    rmSync(target);
    const file = path.join(parent, 'last-error.sql');
    writeFileSync(
      file,
      dump.replace(SEARCH_PATH, () => `${SEARCH_PATH}${payload.join('\n')}\n`),
    );
    const run = await drillFile(file);
    // no meta-command in the text: restored over the protocol, where both statements just fail
    expect(run.code, printed(run)).toBe(1);
    expect(findings(run, 'drill_backup_untrusted_command')).toEqual([]);
    expect(findings(run, 'drill_restore_error').map((f) => f.message)).toEqual([
      expect.stringMatching(/^A statement of the backup failed during the restore: \\! touch /),
      expect.stringMatching(/^A statement of the backup failed during the restore: syntax error at or near ":"/),
    ]);
    expect(existsSync(target)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// item 7: empty backups

describe('a backup that restores to nothing', () => {
  let expectEmpty: string;
  let emptyUrl: string;

  beforeAll(async () => {
    expectEmpty = scratchDir(parent, 'expect-empty');
    mkdirSync(path.join(expectEmpty, '.github'));
    writeFileSync(path.join(expectEmpty, '.github', 'postgate.yml'), 'drill:\n  expect-empty: true\n');
    emptyUrl = await cluster.createDatabase('empty');
  });

  const expectEmptyFinding = (run: Run, what: RegExp) => {
    expect(run.code, printed(run)).toBe(1);
    const found = findings(run, 'drill_backup_empty');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(what);
    expect(sentenceProblems(found[0]!.message)).toEqual([]);
  };

  it('pg_dump of a database without tables: exit 1, and exit 0 when the config expects it', async () => {
    const file = path.join(parent, 'empty.sql');
    writeFileSync(file, await pgDump(emptyUrl, ['-Fp']));
    expectEmptyFinding(await drillFile(file), /^The backup restored to an empty database \(no table at all\), so it would recover no data\.$/);
    const ok = await drillFile(file, [], expectEmpty);
    expect(ok.code, printed(ok)).toBe(0);
    expect((ok.result?.details?.checks as Array<{ check: string; status: string }>).find((c) => c.check === 'backup not empty')?.status).toBe('skipped');
  });

  it("a file holding only pg_dump's trailer", async () => {
    const file = path.join(parent, 'trailer.sql');
    writeFileSync(file, '--\n-- PostgreSQL database dump complete\n--\n\n');
    expectEmptyFinding(await drillFile(file), /\(no table at all\)/);
  });

  it('a schema-only dump of a database with data', async () => {
    const file = path.join(parent, 'schema-only.sql.gz');
    writeFileSync(file, gzipSync(await pgDump(shopUrl, ['-Fp', '--schema-only'])));
    expectEmptyFinding(await drillFile(file), /\(2 table\(s\) and not one row\)/);
  });

  it('a live drill of an empty source, and of one that has data', async () => {
    expectEmptyFinding(await drill(['--source-database-url', emptyUrl]), /no table at all/);
    const ok = await drill(['--source-database-url', emptyUrl], expectEmpty);
    expect(ok.code, printed(ok)).toBe(0);
    const full = await drill(['--source-database-url', shopUrl]);
    expect(full.code, printed(full)).toBe(0);
    expect(
      (full.result?.details?.checks as Array<{ check: string; status: string; detail: string }>).find((c) => c.check === 'backup not empty'),
    ).toMatchObject({ status: 'pass', detail: '2 table(s), 502 row(s) restored' });
  });
});

// ---------------------------------------------------------------------------------------------
// item 9: a drill killed while pg_dump runs

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  args: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      out.push({ pid: Number(name), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), args });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => processes().some((p) => p.pid === pid);
const drillDirs = (tmpdir: string) => (existsSync(tmpdir) ? readdirSync(tmpdir).filter((name) => name.startsWith('postgate-drill-')) : []);

describe('a drill killed while its pg_dump runs', () => {
  let slowUrl: string;
  let lock: pg.Client;

  beforeAll(async () => {
    slowUrl = await cluster.createDatabase('slow');
    await sql(
      slowUrl,
      `create table public.big (id bigint primary key, body text); insert into public.big select g, md5(g::text) from generate_series(1, 20000) g;`,
    );
  });

  /** pg_dump waits for this lock with the snapshot imported: mid-dump, for as long as the test needs. */
  async function holdLock(): Promise<void> {
    lock = new pg.Client({ connectionString: slowUrl });
    await lock.connect();
    await lock.query('begin; lock table public.big in access exclusive mode');
  }

  async function releaseLock(): Promise<void> {
    await lock.query('rollback').catch(() => undefined);
    await lock.end();
  }

  /**
   * The pg_dump the drill (pid) started, once it waits on the source's lock: the snapshot is
   * imported and the dump is under way. (Not pg_dump --version, which the drill runs first to
   * find the tool: the dump is the one with --snapshot.)
   */
  async function pgDumpOf(drillPid: number): Promise<Proc> {
    const since = (await sql<{ now: Date }>(slowUrl, 'select now()'))[0]!.now;
    const dumping = () => processes().find((p) => p.comm === 'pg_dump' && p.ppid === drillPid && p.args.includes('--snapshot='));
    await waitFor(dumping, 'a pg_dump --snapshot whose parent is the drill');
    await waitFor(
      async () =>
        (await sql(slowUrl, "select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike 'LOCK TABLE%' and backend_start >= $1", [since]))
          .length > 0,
      'pg_dump waiting on the lock',
    );
    return dumping()!;
  }

  it("kill -9 of the action's main step: pg_dump outlives it; the post step ends it and removes the dump directory", async () => {
    await holdLock();
    try {
      const tmpdir = scratchDir(parent, 'action-tmp');
      let dumping: Proc | undefined;
      const run = await actionFromSource({ 'source-database-url': slowUrl, shadow: 'url', 'shadow-database-url': cluster.url }, tmpdir, async (child) => {
        dumping = await pgDumpOf(child.pid!);
        expect(drillDirs(tmpdir)).toHaveLength(1);
        child.kill('SIGKILL');
      });
      expect(run.main.signal).toBe('SIGKILL');
      // the main step is gone and its pg_dump is not: what the post step has to end
      expect(run.orphanAfterMain).toBe(true);
      expect(run.post.code, run.post.stdout + run.post.stderr).toBe(0);
      expect(run.post.stdout).toMatch(/cleaned up [1-9]\d* leftover resource/);
      await waitFor(() => !alive(dumping!.pid), `pg_dump ${dumping!.pid} to end`, 15_000);
      expect(processes().filter((p) => p.comm === 'pg_dump' && p.args.includes(tmpdir))).toEqual([]);
      expect(drillDirs(tmpdir)).toEqual([]);
      expect(readdirSync(path.join(run.runnerTemp, 'postgate-state'))).toEqual([]);
    } finally {
      await releaseLock();
    }
  });

  /** Runs the CLI drill of the slow source and sends `signal` once its pg_dump waits mid-dump. */
  async function cliDrillKilled(tmpdir: string, signal: NodeJS.Signals): Promise<{ run: CliRun; dumping: Proc }> {
    let dumping: Proc | undefined;
    let failure: unknown;
    const run = await runCli(['drill', '--source-database-url', slowUrl, '--shadow', 'url', '--shadow-database-url', cluster.url], {
      tmpdir,
      onSpawn: (child) => {
        pgDumpOf(child.pid!).then(
          (found) => {
            dumping = found;
            child.kill(signal);
          },
          (error: unknown) => {
            failure = error;
            child.kill('SIGKILL');
          },
        );
      },
    });
    if (failure) throw failure;
    return { run, dumping: dumping! };
  }

  it('kill -9 of the CLI: the next run ends the pg_dump and removes its dump directory', async () => {
    await holdLock();
    const tmpdir = scratchDir(parent, 'cli-tmp');
    try {
      const { run, dumping } = await cliDrillKilled(tmpdir, 'SIGKILL');
      expect(run.signal).toBe('SIGKILL');
      expect(alive(dumping.pid)).toBe(true);
      expect(drillDirs(tmpdir)).toHaveLength(1);
      // the next drill run with the same TMPDIR (a file drill: it does not touch the locked source)
      const file = path.join(parent, 'next-run.sql');
      writeFileSync(file, dump);
      const next = await drill(['--dump-path', file], parent, tmpdir);
      expect(next.code, printed(next)).toBe(0);
      // a signalled process takes a moment to exit: wait for it, bounded
      await waitFor(() => !alive(dumping.pid), `pg_dump ${dumping.pid} to end`, 15_000);
      expect(drillDirs(tmpdir)).toEqual([]);
      expect(readdirSync(path.join(tmpdir, 'postgate-state'))).toEqual([]);
    } finally {
      await releaseLock();
    }
  });

  it('SIGTERM: the drill ends its pg_dump itself and exits 2', async () => {
    await holdLock();
    const tmpdir = scratchDir(parent, 'term-tmp');
    try {
      const { run, dumping } = await cliDrillKilled(tmpdir, 'SIGTERM');
      expect(run.code, printed(run)).toBe(2);
      // a signalled process takes a moment to exit: wait for it, bounded
      await waitFor(() => !alive(dumping.pid), `pg_dump ${dumping.pid} to end`, 15_000);
      expect(drillDirs(tmpdir)).toEqual([]);
    } finally {
      await releaseLock();
    }
  });
});

interface ActionRunFromSource {
  main: StepRun;
  post: StepRun;
  runnerTemp: string;
  /** Was the drill's pg_dump still running once the main step was gone? */
  orphanAfterMain: boolean;
}

/**
 * The restore-drill action as the runner runs it (main step, then the post step with the state
 * the main step saved), from source (actions/restore-drill/main.ts): the committed bundle is
 * rebuilt separately.
 */
async function actionFromSource(inputs: Record<string, string>, tmpdir: string, onStart: (child: ChildProcess) => Promise<void>): Promise<ActionRunFromSource> {
  const runDir = mkdtempSync(path.join(parent, 'action-'));
  const runnerTemp = path.join(runDir, 'temp');
  const workspace = path.join(runDir, 'workspace');
  mkdirSync(runnerTemp);
  mkdirSync(workspace);
  const files = {
    GITHUB_EVENT_PATH: path.join(runDir, 'event.json'),
    GITHUB_OUTPUT: path.join(runDir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runDir, 'summary.md'),
    GITHUB_STATE: path.join(runDir, 'state'),
  };
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(EVENTS.workflow_dispatch()));
  for (const file of [files.GITHUB_OUTPUT, files.GITHUB_STEP_SUMMARY, files.GITHUB_STATE]) writeFileSync(file, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...suiteCacheEnv(),
    TMPDIR: tmpdir,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_REPOSITORY: REPO,
    GITHUB_WORKSPACE: workspace,
    GITHUB_API_URL: 'http://127.0.0.1:9',
    RUNNER_TEMP: runnerTemp,
    ...files,
    ...Object.fromEntries(Object.entries({ comment: 'never', ...inputs }).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
  };
  const script = path.join(ROOT, 'actions', 'restore-drill', 'main.ts');
  const step = (stepEnv: Record<string, string>, started?: (child: ChildProcess) => Promise<void>) =>
    new Promise<StepRun>((resolve) => {
      const child = spawn(process.execPath, [script], { cwd: workspace, env: stepEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
      const watching = started?.(child);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        void Promise.resolve(watching).then(() => resolve({ code, signal, stdout, stderr }));
      });
    });
  let failure: unknown;
  const main = await step(env, (child) =>
    onStart(child).catch((error: unknown) => {
      failure = error;
      child.kill('SIGKILL');
    }),
  );
  if (failure) throw failure;
  const orphanAfterMain = processes().some((p) => p.comm === 'pg_dump' && p.args.includes(tmpdir));
  const state = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
  const post = await step({ ...env, ...Object.fromEntries(Object.entries(state).map(([key, value]) => [`STATE_${key}`, value])) });
  return { main, post, runnerTemp, orphanAfterMain };
}
