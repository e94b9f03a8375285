/**
 * drift-gate PR mode, migration safety, on real PostgreSQL 15 and 17: a git repository whose base
 * branch has tables, and a pull request adding one migration per unsafe statement and its safe twin
 * (concurrent index in its own migration, `not valid` then `validate`, `lock_timeout` set, the same
 * changes on a table the pull request creates). Each unsafe statement is a finding at its file:line
 * naming the relation; each twin is silent. Exceptions from the repo config, and the notice without
 * a base branch.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const BASE = {
  '001_base.sql': `create table accounts (id bigint primary key, email text, plan text, score integer);
create table events (id bigint primary key, account_id bigint, at timestamptz);
create table lookup (code text primary key, label text);
create function old_helper(a int) returns int language sql as 'select a';
`,
};

const TIMEOUT = "set lock_timeout = '3s';\n";

/** The pull request: each unsafe statement on line 2 (after the timeout) unless said otherwise, then its twin. */
const PULL_REQUEST = {
  '002_rewrite.sql': `${TIMEOUT}alter table accounts alter column score type bigint;\n`,
  '003_index.sql': `${TIMEOUT}create index events_at on events (at);\n`,
  '004_index_concurrently.sql': 'create index concurrently events_account on events (account_id);\n',
  '005_check.sql': `${TIMEOUT}alter table events add constraint at_set check (at is not null);\n`,
  '006_fk.sql': `${TIMEOUT}alter table events add constraint events_account_fk foreign key (account_id) references accounts (id);\n`,
  '007_fk_not_valid.sql': `${TIMEOUT}alter table events add constraint events_account_fk2 foreign key (account_id) references accounts (id) not valid;\n`,
  '008_fk_validate.sql': `${TIMEOUT}alter table events validate constraint events_account_fk2;\n`,
  '009_no_timeout.sql': 'alter table lookup add column extra text;\n',
  '010_destructive.sql': `${TIMEOUT}alter table accounts drop column plan;\ndrop function old_helper(int);\n`,
  '011_new_table.sql': [
    'create table audit (id bigint primary key, note text);',
    'alter table audit alter column id type integer;',
    'create index on audit (note);',
    'alter table audit add constraint note_set check (note is not null);',
    'alter table audit drop column note;',
    'drop table audit;',
    '',
  ].join('\n'),
};

const EXPECTED = [
  'error migration_table_rewrite db/002_rewrite.sql:2 table public.accounts',
  'warning migration_index_not_concurrent db/003_index.sql:2 table public.events',
  'error migration_validation_scan db/005_check.sql:2 table public.events',
  'warning migration_validation_scan db/006_fk.sql:2 table public.events',
  'error migration_lock_exclusive db/009_no_timeout.sql:1 table public.lookup',
  'error migration_destructive db/010_destructive.sql:2 table public.accounts',
  'warning migration_destructive db/010_destructive.sql:3 function old_helper(integer)',
];

const SAFETY = /^migration_(table_rewrite|lock_exclusive|index_not_concurrent|validation_scan|no_lock_timeout|destructive)$/;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
}

const temps: string[] = [];
function repository(): string {
  const repo = mkdtempSync(path.join(os.tmpdir(), 'drift-safety-'));
  temps.push(repo);
  const write = (files: Record<string, string>) => {
    mkdirSync(path.join(repo, 'db'), { recursive: true });
    for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(repo, 'db', name), sql);
  };
  git(repo, 'init', '-q', '-b', 'main');
  write(BASE);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'base');
  git(repo, 'checkout', '-q', '-b', 'feature');
  write(PULL_REQUEST);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'feature');
  return repo;
}

const summary = (result: GateResult) =>
  result.findings
    .filter((f) => SAFETY.test(f.rule))
    .map(
      (f) => `${f.severity} ${f.rule} ${f.location?.file}:${f.location?.line} ${f.object.kind} ${f.object.schema ? `${f.object.schema}.` : ''}${f.object.name}`,
    );

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe.each(TEST_MAJORS)('migration safety in PR mode on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  let repo: string;
  beforeAll(async () => {
    cluster = await startTestCluster(major);
    repo = repository();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function gate(inputs: Record<string, string>, options: { config?: string; env?: Record<string, string> } = {}): Promise<GateResult> {
    const all: Record<string, string> = { shadow: 'url', 'shadow-database-url': cluster.url, 'migrations-dir': 'db', 'migrations-format': 'plain', ...inputs };
    const parsed = parseInputs(DRIFT_INPUTS, (name) => all[name], 'cli');
    return run(
      parsed,
      createContext({ cwd: repo, env: options.env ?? {}, ...(options.config ? { config: parseRepoConfig(options.config, 'postgate.yml') } : {}) }),
    );
  }

  it('reports each unsafe statement of the new migrations at its file and line; the safe twins stay silent', async () => {
    const result = await gate({ 'base-ref': 'main' });
    expect(result.status).toBe('fail');
    expect(summary(result)).toEqual(EXPECTED);
    expect(result.metrics.measured_statements).toBe(23);
    const byRule = (rule: string) => result.findings.find((f) => f.rule === rule)!;
    expect(byRule('migration_table_rewrite').message).toBe(
      'db/002_rewrite.sql:2 rewrites table public.accounts (type change of score) (ACCESS EXCLUSIVE lock).',
    );
    expect(byRule('migration_index_not_concurrent').remediation).toContain('create index concurrently "events_at" on "public"."events" (...);');
    expect(byRule('migration_validation_scan').remediation).toContain('not valid;\nalter table "public"."events" validate constraint "at_set";');
    // one cause, one finding: the missing timeout is part of the lock finding of the same statement
    expect(byRule('migration_lock_exclusive').detail).toBe(
      'The migration takes this lock with lock_timeout unset (statement_timeout is not set either): waiting for it, the lock request stops every query on the table behind it.',
    );
    expect(byRule('migration_lock_exclusive').remediation).toContain("set lock_timeout = '3s';");
  });

  it('leaves out the tables the repo config excepts, and counts a lock_timeout above the maximum as unset', async () => {
    const config = `drift:
  migration-safety:
    max-lock-timeout: 2s
    exceptions:
      - table: public.accounts
        reason: a few hundred rows
        rules: [migration_table_rewrite]
      - table: public.lookup
        reason: ten rows
`;
    const result = await gate({ 'base-ref': 'main' }, { config });
    const rules = summary(result).map((line) => line.split(' ').slice(1, 3).join(' '));
    expect(rules).not.toContain('migration_table_rewrite db/002_rewrite.sql:2');
    expect(rules).not.toContain('migration_lock_exclusive db/009_no_timeout.sql:1');
    // 3s is above the 2s allowed: the first strong lock on an existing table counts as without a timeout
    expect(rules).toContain('migration_lock_exclusive db/002_rewrite.sql:2');
    const locked = result.findings.find((f) => f.rule === 'migration_lock_exclusive' && f.location?.file === 'db/002_rewrite.sql')!;
    expect(locked.detail).toMatch(/^The migration takes this lock with lock_timeout at 3s, above the 2000 ms allowed/);
  });

  it('says in the base-branch notice that the analysis was skipped without a base branch', async () => {
    const result = await gate({}, { env: { GITHUB_BASE_REF: '' } });
    expect(summary(result)).toEqual([]);
    expect(result.findings.filter((f) => f.rule === 'base_checks_skipped').map((f) => [f.severity, f.detail])).toEqual([
      [
        'notice',
        "The lock and rewrite analysis of the pull request's new migrations (migration_table_rewrite, migration_lock_exclusive, migration_index_not_concurrent, migration_validation_scan, migration_no_lock_timeout, migration_destructive) did not run either: it measures only the migrations the base branch does not have.",
      ],
    ]);
  });
});
