/**
 * The pure parts of migration safety: catalog facts before and after a statement into changes
 * (src/migrations/statement-effects.ts), and measured effects into findings with severity,
 * exceptions and the lock_timeout threshold (src/gates/drift/migration-safety.ts).
 */
import { describe, expect, it } from 'vitest';
import { type MigrationSafetyConfig, migrationSafetyFindings, settingMs } from '../../src/gates/drift/migration-safety.ts';
import { type Column, changesOf, lockModeName, narrows, type RelationFacts, type StatementEffect } from '../../src/migrations/statement-effects.ts';

const column = (num: number, name: string, type: string, extra: Partial<Column> = {}): Column => {
  const [baseType, typmod] = type === 'varchar(20)' ? ['character varying', 24] : type === 'varchar(100)' ? ['character varying', 104] : [type, -1];
  const oids: Record<string, number> = { integer: 23, bigint: 20, smallint: 21, text: 25, 'character varying': 1043, numeric: 1700 };
  return { num, name, notNull: false, typeOid: oids[baseType] ?? 0, typmod, baseType, type, ...extra };
};

const table = (facts: Partial<RelationFacts> = {}): RelationFacts => ({
  oid: 100,
  schema: 'public',
  name: 'accounts',
  relkind: 'r',
  filenode: 100,
  columns: [column(1, 'id', 'bigint', { notNull: true }), column(2, 'email', 'text'), column(3, 'score', 'integer')],
  constraints: [{ name: 'accounts_pkey', type: 'p', validated: true }],
  ...facts,
});

const changes = (before: RelationFacts[], after: RelationFacts[], options: { truncate?: boolean; existed?: number[] } = {}) =>
  changesOf({
    before: new Map(before.map((f) => [f.oid, f])),
    after,
    lockedOids: [...before, ...after].map((f) => f.oid),
    existed: (oid) => (options.existed ?? [100]).includes(oid),
    truncate: options.truncate ?? false,
  }).map((c) => (c.kind === 'drop_function' ? c.kind : `${c.kind} ${c.relation.name}${'name' in c ? ` ${c.name}` : ''}${'column' in c ? ` ${c.column}` : ''}`));

describe('changesOf', () => {
  it('a new file node is a rewrite (with the columns it added), or a truncate for TRUNCATE', () => {
    const added = table({ filenode: 200, columns: [...table().columns, column(4, 'at', 'timestamptz')] });
    expect(changesOf({ before: new Map([[100, table()]]), after: [added], lockedOids: [100], existed: () => true, truncate: false })).toEqual([
      { kind: 'rewrite', relation: { oid: 100, schema: 'public', name: 'accounts', relkind: 'r', existed: true }, addedColumns: ['at'], changedTypes: [] },
    ]);
    expect(changes([table()], [table({ filenode: 200 })], { truncate: true })).toEqual(['truncate accounts']);
  });

  it('a new validated check or NOT NULL on a column that was there is a scan; not valid, or a proving check, is not', () => {
    const checked = table({ constraints: [...table().constraints, { name: 'score_positive', type: 'c', validated: true, definition: 'CHECK ((score > 0))' }] });
    expect(changes([table()], [checked])).toEqual(['validation accounts score_positive']);
    const notValid = table({ constraints: [...table().constraints, { name: 'score_positive', type: 'c', validated: false }] });
    expect(changes([table()], [notValid])).toEqual([]);
    const notNull = table({ columns: table().columns.map((c) => (c.name === 'email' ? { ...c, notNull: true } : c)) });
    expect(changes([table()], [notNull])).toEqual(['validation accounts email']);
    const proven = table({
      constraints: [...table().constraints, { name: 'email_set', type: 'c', validated: true, definition: 'CHECK ((email IS NOT NULL))' }],
    });
    expect(changes([proven], [{ ...notNull, constraints: proven.constraints }])).toEqual([]);
  });

  it('a new index on an existing table is a build; drops, renames and narrowing are named; new relations are not compared', () => {
    const index: RelationFacts = {
      oid: 300,
      schema: 'public',
      name: 'accounts_email',
      relkind: 'i',
      filenode: 300,
      tableOid: 100,
      columns: [],
      constraints: [],
    };
    expect(changes([table()], [table(), index])).toEqual(['index_build accounts']);
    const renamed = table({ columns: [column(1, 'id', 'bigint', { notNull: true }), column(2, 'mail', 'text')] });
    expect(changes([table()], [renamed])).toEqual(['rename_column accounts', 'drop_column accounts score']);
    expect(changes([table()], [])).toEqual(['drop_relation accounts']);
    expect(changes([], [table({ oid: 500 })], { existed: [] })).toEqual([]);
  });
});

describe('narrows', () => {
  it.each([
    ['varchar(100)', 'varchar(20)', true],
    ['varchar(20)', 'varchar(100)', false],
    ['text', 'varchar(20)', true],
    ['varchar(20)', 'text', false],
    ['bigint', 'integer', true],
    ['integer', 'bigint', false],
    ['numeric', 'integer', true],
  ])('%s to %s: %s', (from, to, expected) => {
    expect(narrows(column(1, 'c', from), column(1, 'c', to))).toBe(expected);
  });
});

describe('settings and lock modes', () => {
  it('reads current_setting durations and names lock modes as the documentation does', () => {
    expect([settingMs('0'), settingMs('500ms'), settingMs('3s'), settingMs('1min'), settingMs('250')]).toEqual([0, 500, 3000, 60_000, 250]);
    expect(lockModeName('AccessExclusiveLock')).toBe('ACCESS EXCLUSIVE');
    expect(lockModeName('ShareRowExclusiveLock')).toBe('SHARE ROW EXCLUSIVE');
  });
});

const accounts = { oid: 100, schema: 'public', name: 'accounts', relkind: 'r', existed: true };
const effect = (over: Partial<StatementEffect>): StatementEffect => ({
  file: 'db/002.sql',
  line: 2,
  measured: true,
  locks: [],
  lockTimeout: '0',
  statementTimeout: '0',
  changes: [],
  ms: 1,
  ...over,
});
const config: MigrationSafetyConfig = { exceptions: [], maxLockTimeoutMs: 10_000 };
const brief = (effects: StatementEffect[], c = config) => migrationSafetyFindings(effects, c).map((f) => `${f.severity} ${f.rule} ${f.location?.line}`);

describe('migrationSafetyFindings', () => {
  it('ACCESS EXCLUSIVE on an existing table: an error without lock_timeout (the missing timeout folded into it), a warning with it', () => {
    const locked = effect({ locks: [{ relation: accounts, mode: 'AccessExclusiveLock' }] });
    expect(brief([locked])).toEqual(['error migration_lock_exclusive 2']);
    const [only] = migrationSafetyFindings([locked], config);
    expect(only!.detail).toMatch(/^The migration takes this lock with lock_timeout unset \(statement_timeout is not set either\)/);
    expect(brief([{ ...locked, lockTimeout: '3s' }])).toEqual(['warning migration_lock_exclusive 2']);
    expect(brief([{ ...locked, lockTimeout: '1min' }])).toEqual(['error migration_lock_exclusive 2']);
    // alone, a strong lock without a timeout is its own finding
    expect(brief([effect({ locks: [{ relation: accounts, mode: 'ShareRowExclusiveLock' }] })])).toEqual(['warning migration_no_lock_timeout 2']);
    expect(brief([{ ...locked, locks: [{ relation: { ...accounts, existed: false }, mode: 'AccessExclusiveLock' }] }])).toEqual([]);
  });

  it('a change names its table instead of the lock; the missing timeout is said once per migration, in the first finding', () => {
    const rewrite = effect({
      locks: [{ relation: accounts, mode: 'AccessExclusiveLock' }],
      changes: [{ kind: 'rewrite', relation: accounts, addedColumns: [], changedTypes: ['score'] }],
    });
    expect(brief([rewrite, { ...rewrite, line: 3 }])).toEqual(['error migration_table_rewrite 2', 'error migration_table_rewrite 3']);
    const [first, second] = migrationSafetyFindings([rewrite, { ...rewrite, line: 3 }], config);
    expect(first!.detail).toMatch(/lock_timeout unset/);
    expect(first!.remediation).toMatch(/set lock_timeout = '3s';/);
    expect(second!.detail ?? '').not.toMatch(/lock_timeout/);
    const index = effect({
      locks: [{ relation: accounts, mode: 'ShareLock' }],
      lockTimeout: '3s',
      changes: [{ kind: 'index_build', relation: accounts, index: 'i', unique: false }],
    });
    expect(brief([index])).toEqual(['warning migration_index_not_concurrent 2']);
  });

  it('exceptions leave out a table, for every rule or the rules listed', () => {
    const rewrite = effect({
      lockTimeout: '3s',
      locks: [{ relation: accounts, mode: 'AccessExclusiveLock' }],
      changes: [
        { kind: 'rewrite', relation: accounts, addedColumns: [], changedTypes: [] },
        { kind: 'drop_column', relation: accounts, column: 'plan' },
      ],
    });
    const only = { ...config, exceptions: [{ table: 'public.accounts', reason: 'small', rules: ['migration_table_rewrite'] }] };
    expect(brief([rewrite], only)).toEqual(['error migration_destructive 2']);
    expect(brief([rewrite], { ...config, exceptions: [{ table: 'public.accounts', reason: 'small' }] })).toEqual([]);
  });
});
