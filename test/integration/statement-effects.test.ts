/**
 * src/migrations/statement-effects.ts on real PostgreSQL 15 and 17: what each statement locks,
 * rewrites, scans, builds and drops, read from pg_locks and the catalog inside the migration's
 * transaction, on tables that existed before and tables the measured migrations create.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Change, lockModeName, StatementMeter, type StatementEffect } from '../../src/migrations/statement-effects.ts';
import type { Migration } from '../../src/migrations/types.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const EXISTING = `
create table public.accounts (id bigint primary key, email text, plan text, score integer, note varchar(100));
create table public.events (id bigint primary key, account_id bigint, at timestamptz);
create function public.old_helper(a int) returns int language sql as 'select a';
`;

const migration = (sql: string, file = 'db/002_change.sql', noTransaction = false): Migration => ({
  tool: 'plain',
  id: file,
  version: '2',
  name: 'change',
  file,
  absolutePath: `/repo/${file}`,
  raw: sql,
  sql,
  sqlOffset: 0,
  noTransaction,
  executable: true,
  kind: 'versioned',
});

/** `line: kind relation [detail]` for each change, and the locks on existing tables. */
function summary(effects: StatementEffect[]): string[] {
  const describe = (c: Change): string => {
    if (c.kind === 'drop_function') return `drop_function ${c.signature}`;
    const rel = `${c.relation.schema}.${c.relation.name}`;
    switch (c.kind) {
      case 'validation':
        return `validation ${rel} ${c.check} ${c.name}`;
      case 'index_build':
        return `index_build ${rel} ${c.index}`;
      case 'type_change':
        return `type_change ${rel} ${c.column} ${c.from} -> ${c.to}${c.narrowing ? ' narrowing' : ''}`;
      case 'rewrite':
        return `rewrite ${rel}${c.addedColumns.length ? ` +${c.addedColumns.join(',')}` : ''}`;
      case 'rename_column':
        return `rename_column ${rel} ${c.from} -> ${c.to}`;
      case 'drop_column':
        return `drop_column ${rel} ${c.column}`;
      default:
        return `${c.kind} ${rel}`;
    }
  };
  return effects.flatMap((e) => [
    ...e.locks.filter((l) => l.relation.existed && l.relation.relkind === 'r').map((l) => `${e.line}: lock ${l.relation.name} ${lockModeName(l.mode)}`),
    ...e.changes.filter((c) => c.kind === 'drop_function' || c.relation.existed).map((c) => `${e.line}: ${describe(c)}`),
  ]);
}

describe.each(TEST_MAJORS)('statement effects on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startTestCluster(major);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** A new database with the existing schema, then the migration measured. */
  async function measure(sql: string, options: { noTransaction?: boolean } = {}) {
    const url = await cluster.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(EXISTING);
      const meter = new StatementMeter(client);
      return await meter.apply(migration(sql, 'db/002_change.sql', options.noTransaction));
    } finally {
      await client.end();
    }
  }

  it('reads the locks and rewrites of each statement, at its line', async () => {
    const { outcome, effects } = await measure(
      [
        'alter table accounts add column created_at timestamptz default clock_timestamp();',
        '-- a comment',
        'alter table accounts alter column score type bigint;',
        'create index on events (account_id);',
        'alter table events add constraint at_set check (at is not null);',
        'alter table accounts alter column email set not null;',
        'alter table events add constraint events_account foreign key (account_id) references accounts (id);',
      ].join('\n'),
    );
    expect(outcome.ok).toBe(true);
    expect(summary(effects)).toEqual([
      '1: lock accounts ACCESS EXCLUSIVE',
      '1: rewrite public.accounts +created_at',
      '3: type_change public.accounts score integer -> bigint',
      '3: rewrite public.accounts',
      '4: lock events SHARE',
      '4: index_build public.events events_account_id_idx',
      '5: lock events ACCESS EXCLUSIVE',
      '5: validation public.events check at_set',
      '6: validation public.accounts not null email',
      '7: validation public.events foreign key events_account',
    ]);
    // both tables are already held in ACCESS EXCLUSIVE mode (lines 1 and 5): line 7 takes nothing stronger
    expect(effects[0]!.lockTimeout).toBe('0');
  });

  it('sees the safe patterns as safe: not valid + validate, a proven not null, a stable default, lock_timeout', async () => {
    const { outcome, effects } = await measure(
      [
        "set lock_timeout = '3s';",
        'alter table accounts add column flag boolean not null default false;',
        'alter table events add constraint events_account foreign key (account_id) references accounts (id) not valid;',
        'alter table events validate constraint events_account;',
        'alter table accounts add constraint email_set check (email is not null) not valid;',
        'alter table accounts validate constraint email_set;',
        'alter table accounts alter column email set not null;',
        'alter table accounts alter column note type varchar(200);',
      ].join('\n'),
    );
    expect(outcome.ok).toBe(true);
    expect(summary(effects).filter((s) => !s.includes(': lock '))).toEqual([
      '8: type_change public.accounts note character varying(100) -> character varying(200)',
    ]);
    expect(effects.slice(1).every((e) => e.lockTimeout === '3s')).toBe(true);
  });

  it('reports drops, narrowing, renames and truncate on existing objects, never on what the migration creates', async () => {
    const { effects } = await measure(
      [
        'create table scratch (id int, label text);',
        'alter table scratch drop column label;',
        'drop table scratch;',
        'alter table accounts drop column plan;',
        'alter table accounts alter column note type varchar(20);',
        'alter table accounts rename column email to mail;',
        'truncate events;',
        'drop function old_helper(int);',
        'drop table events;',
      ].join('\n'),
    );
    expect(summary(effects).filter((s) => !s.includes(': lock '))).toEqual([
      '4: drop_column public.accounts plan',
      '5: type_change public.accounts note character varying(100) -> character varying(20) narrowing',
      '5: rewrite public.accounts',
      '6: rename_column public.accounts email -> mail',
      '7: truncate public.events',
      '8: drop_function old_helper(integer)',
      '9: drop_relation public.events',
    ]);
  });

  it('measures a non-transactional migration statement by statement; a concurrent index build is not measured', async () => {
    const { outcome, effects } = await measure('create index concurrently accounts_email on accounts (email);\nalter table accounts add column x int;', {
      noTransaction: true,
    });
    expect(outcome.ok).toBe(true);
    expect(effects.map((e) => [e.line, e.measured])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(summary(effects)).toEqual(['2: lock accounts ACCESS EXCLUSIVE']);
  });

  it('reports a failing statement at its line, as the plain apply does', async () => {
    const { outcome } = await measure('alter table accounts add column y int;\nalter table nope add column z int;');
    expect(outcome.ok).toBe(false);
    expect(outcome.failure?.location).toEqual({ file: 'db/002_change.sql', line: 2 });
  });
});
