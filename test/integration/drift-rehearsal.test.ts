/**
 * drift-gate `rehearse-from` on real PostgreSQL: a production database with nulls, duplicates
 * and orphans, dumped with pg_dump (the drill's backup mode), restored by the drill's machinery
 * and rehearsed with the pending migrations. Each failing statement is reported with its count,
 * a clean migration with its duration, lock and rows; masking applies before the migrations; no
 * row value reaches the log, the JSON report, the text or the markdown.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS, DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import type { Logger } from '../../src/core/context.ts';
import { EXIT_CODES, type GateResult } from '../../src/findings/types.ts';
import { run as runDrift } from '../../src/gates/drift/index.ts';
import { run as runDrill } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderJson, renderText } from '../../src/report/text.ts';
import { startTestCluster } from '../support/pg.ts';
import { WRITERS } from './drift-writers.ts';

/** Values planted in the rows: none may appear in any output. */
const PLANTED = ['zq-dup-7731@leak.example', 'orphan-org-4242424', '4242424', '-98765', 'Nickless Nora 55'];

const APPLIED = {
  '20240101000000_init.sql': `-- migrate:up
create table public.orgs (id int primary key, name text);
create table public.users (id serial primary key, email text, nickname text, org_id int, age int, label text);
-- migrate:down
`,
};

const PENDING = {
  '20240201000000_nickname_not_null.sql': '-- migrate:up\nalter table public.users alter column nickname set not null;\n-- migrate:down\n',
  '20240202000000_email_unique.sql': '-- migrate:up\ncreate unique index users_email_key on public.users (email);\n-- migrate:down\n',
  '20240203000000_org_fk.sql':
    '-- migrate:up\nalter table public.users add constraint users_org_fkey foreign key (org_id) references public.orgs (id);\n-- migrate:down\n',
  '20240204000000_age_check.sql': '-- migrate:up\nalter table public.users add constraint users_age_check check (age >= 0);\n-- migrate:down\n',
  '20240205000000_clean.sql': `-- migrate:up
alter table public.users add column note text;

alter table public.users alter column label type varchar(200);
create index users_org_idx on public.users (org_id);
-- migrate:down
`,
};

let cluster: Cluster;
let work: string;
let dump: string;

function writeMigrations(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

function capturingLogger(lines: string[]): Logger {
  return {
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    async step(name, fn) {
      lines.push(name);
      return fn();
    },
  };
}

async function drift(inputs: Record<string, string>, configYaml = '', log: string[] = []): Promise<GateResult> {
  const options = parseInputs(
    DRIFT_INPUTS,
    (name) => ({ shadow: 'url', 'shadow-database-url': cluster.url, 'migrations-format': 'dbmate', ...inputs })[name],
    'cli',
  );
  const config = parseRepoConfig(configYaml, 'postgate.yml');
  return runDrift(options, createContext({ cwd: work, config, env: {}, log: capturingLogger(log) }));
}

function rehearsalFindings(result: GateResult, rule: string) {
  return result.findings.filter((f) => f.rule === rule);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drift-rehearsal-'));
  cluster = await startTestCluster(15);
  const prod = await cluster.createDatabase('prod');
  const migrationsDir = path.join(work, 'db/migrations');
  writeMigrations(migrationsDir, APPLIED);
  const client = new pg.Client({ connectionString: prod });
  await client.connect();
  try {
    await WRITERS.dbmate(client, readMigrations(migrationsDir, { cwd: work, format: 'dbmate' }).migrations);
    await client.query(`
      insert into public.orgs values (1, 'one'), (2, 'two');
      insert into public.users (email, nickname, org_id, age, label)
        select 'user' || n || '@example.com', 'nick' || n, 1 + n % 2, 20 + n % 50, 'label ' || n from generate_series(1, 20000) n;
      insert into public.users (email, nickname, org_id, age, label) values
        ('zq-dup-7731@leak.example', null, 1, 30, 'Nickless Nora 55'),
        ('zq-dup-7731@leak.example', null, 2, 31, 'x'),
        ('solo@example.com', null, 4242424, 32, 'orphan-org-4242424'),
        ('solo2@example.com', 'n', 4242424, -98765, 'y');`);
  } finally {
    await client.end();
  }
  // The backup, as production's backup job would make it: pg_dump (custom format) through the drill's backup mode.
  dump = path.join(work, 'prod.dump');
  const options = parseInputs(
    DRILL_INPUTS,
    (name) => ({ 'source-database-url': prod, 'dump-path': dump, 'write-manifest': path.join(work, 'm.json') })[name],
    'cli',
  );
  const backup = await runDrill(options, createContext({ cwd: work, env: {} }));
  expect(backup.status, JSON.stringify(backup.findings)).toBe('pass');
  writeMigrations(migrationsDir, PENDING);
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('drift-gate rehearse-from', () => {
  it('reports each statement that fails on the data with its count, measures the clean one, and leaks no row value', async () => {
    const log: string[] = [];
    const result = await drift({ 'rehearse-from': dump }, 'drift:\n  rehearsal:\n    lock-threshold: 1ms\n', log);
    const failures = rehearsalFindings(result, 'migration_fails_on_data');
    const byFile = Object.fromEntries(failures.map((f) => [f.location?.file, f]));
    expect(Object.keys(byFile).sort()).toEqual(
      Object.keys(PENDING)
        .slice(0, 4)
        .map((f) => `db/migrations/${f}`),
    );
    expect(byFile['db/migrations/20240201000000_nickname_not_null.sql']!.message).toMatch(/NOT NULL on public\.users\.nickname .*3 row\(s\) hold NULL/);
    expect(byFile['db/migrations/20240202000000_email_unique.sql']!.message).toMatch(/unique index users_email_key on public\.users .*2 row\(s\) share a key/);
    expect(byFile['db/migrations/20240203000000_org_fk.sql']!.message).toMatch(/foreign key users_org_fkey on public\.users .*2 row\(s\) reference no row/);
    expect(byFile['db/migrations/20240204000000_age_check.sql']!.message).toMatch(/check constraint users_age_check on public\.users .*1 row\(s\) violate it/);
    for (const f of failures) {
      expect(f.severity).toBe('error');
      expect(f.location?.line).toBe(2);
    }

    // The clean migration: applied, each statement timed; the type change rewrote the table under ACCESS EXCLUSIVE.
    const table = (result.details?.rehearsal as { rows: Array<Record<string, unknown>> }).rows;
    const clean = table.filter((r) => String(r.statement).includes('_clean.sql'));
    expect(clean.map((r) => [r.statement, r.status])).toEqual([
      ['db/migrations/20240205000000_clean.sql:2', 'applied'],
      ['db/migrations/20240205000000_clean.sql:4', 'applied'],
      ['db/migrations/20240205000000_clean.sql:5', 'applied'],
    ]);
    const retype = clean[1]!;
    expect(retype.rewritten).toEqual(['public.users']);
    expect(retype.rows).toBe(20004);
    expect(retype.duration_ms).toBeGreaterThan(0);
    // The lock is the first statement's (add column), held until the migration's commit, so at least as long as the rewrite.
    expect(clean[0]!.lock).toEqual([expect.stringMatching(/^ACCESS EXCLUSIVE public\.users \d+ ms$/)]);
    expect(Number(/(\d+) ms/.exec(String(clean[0]!.lock))![1])).toBeGreaterThanOrEqual(Math.floor(Number(retype.duration_ms)));
    // With the threshold at 1 ms, the lock the clean migration held until its commit is a finding on its first statement.
    const locks = rehearsalFindings(result, 'migration_lock_duration');
    expect(locks.map((f) => [f.object.name, f.location?.line])).toEqual([['public.users', 2]]);
    expect(result.metrics?.rehearsal_pending).toBe(5);
    expect(result.details?.rehearsal_total_ms).toBeGreaterThan(0);

    const outputs = [
      log.join('\n'),
      renderJson(result),
      renderText(result, { color: false, rules: RULE_CATALOG }),
      renderMarkdown(result, { rules: RULE_CATALOG }),
    ];
    expect(outputs[3]).toContain('Rehearsal on the restored copy');
    for (const output of outputs) for (const value of PLANTED) expect(output).not.toContain(value);
  });

  it('masks the copy before the migrations where the repo config says', async () => {
    const result = await drift({ 'rehearse-from': dump }, 'drill:\n  mask:\n    public.users.email: "null"\n');
    // With every email masked to NULL there are no duplicates left: the unique index applies.
    const files = rehearsalFindings(result, 'migration_fails_on_data').map((f) => f.location?.file);
    expect(files).not.toContain('db/migrations/20240202000000_email_unique.sql');
    expect(files).toContain('db/migrations/20240201000000_nickname_not_null.sql');
    expect((result.details?.rehearsal_copy as { masked: string[] }).masked).toEqual(['public.users.email (null, 20004 rows)']);
  });

  it('refuses bad inputs in one sentence with exit 2', async () => {
    // Refused before anything starts: no shadow migration applied, no step at all in the log.
    const missingLog: string[] = [];
    const missing = await drift({ 'rehearse-from': path.join(work, 'nope.dump') }, '', missingLog);
    expect(EXIT_CODES[missing.status]).toBe(2);
    expect(missing.error).toMatch(/^Input `--rehearse-from` names .*nope\.dump, which does not exist; point it at/);
    expect(missingLog).toEqual([]);

    const malformedLog: string[] = [];
    const malformed = await drift({ 'rehearse-from': dump, 'rehearse-sha256': 'abc123' }, '', malformedLog);
    expect(EXIT_CODES[malformed.status]).toBe(2);
    expect(malformed.error).toMatch(/^Input `--rehearse-sha256` is not a SHA-256/);
    expect(malformedLog).toEqual([]);

    const urlLog: string[] = [];
    const withUrl = await drift({ 'rehearse-from': cluster.url, 'rehearse-sha256': '0'.repeat(64) }, '', urlLog);
    expect(EXIT_CODES[withUrl.status]).toBe(2);
    expect(withUrl.error).toMatch(/^Input `--rehearse-sha256` checks a backup file; drop it/);
    expect(urlLog).toEqual([]);

    const wrongSum = await drift({ 'rehearse-from': dump, 'rehearse-sha256': '0'.repeat(64) });
    expect(EXIT_CODES[wrongSum.status]).toBe(2);
    expect(wrongSum.error).toMatch(/does not match `--rehearse-sha256`/);

    const rightSum = createHash('sha256').update(readFileSync(dump)).digest('hex');
    const verified = await drift({ 'rehearse-from': dump, 'rehearse-sha256': rightSum }, 'drift:\n  rehearsal:\n    lock-threshold: 1h\n');
    expect(verified.status).toBe('fail'); // the data failures, not the checksum
    expect(rehearsalFindings(verified, 'migration_lock_duration')).toEqual([]);

    await expect(drift({ 'rehearse-from': dump }, 'drift:\n  rehearsal:\n    lock-threshold: 1 sec\n')).rejects.toThrow(
      /drift\.rehearsal\.lock-threshold.*expected a duration/,
    );
  });
});

describe('restore-drill drill.rehearse-migrations', () => {
  it("applies the repository's pending migrations to the verified copy and reports them like drift-gate", async () => {
    const options = parseInputs(DRILL_INPUTS, (name) => ({ 'dump-path': dump, shadow: 'url', 'shadow-database-url': cluster.url })[name], 'cli');
    const config = parseRepoConfig('project:\n  migrations-format: dbmate\ndrill:\n  rehearse-migrations: true\n', 'postgate.yml');
    const result = await runDrill(options, createContext({ cwd: work, config, env: {} }));
    expect(rehearsalFindings(result, 'migration_fails_on_data')).toHaveLength(4);
    expect((result.details?.rehearsal as { rows: unknown[] }).rows).toHaveLength(7);
    expect(result.metrics.rehearsal_pending).toBe(5);
    for (const value of PLANTED) expect(renderJson(result)).not.toContain(value);
  });
});
