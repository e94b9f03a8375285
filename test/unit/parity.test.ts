import { describe, expect, it } from 'vitest';
import { parseInputs } from '../../src/config/input-spec.ts';
import { PARITY_INPUTS, type ParityOptions } from '../../src/config/gates.ts';
import { describeRanges, sequenceFindings, settingFindings, tableFindings } from '../../src/gates/parity/checks.ts';
import { buildPlan, parseExpected, parseKeys } from '../../src/gates/parity/plan.ts';

function options(inputs: Record<string, string>): ParityOptions {
  return parseInputs(
    PARITY_INPUTS,
    (name) =>
      ({ 'source-database-url': 'postgresql://u:p@old.example.com:5432/app', 'target-database-url': 'postgresql://u:p@new.example.com/app', ...inputs })[name],
    'cli',
  ) as ParityOptions;
}

describe('parity inputs', () => {
  it('parses keys and expected deltas', () => {
    expect(parseKeys(['public.memberships: user_id team_id', 'users: email'])).toEqual(
      new Map([
        ['public.memberships', ['user_id', 'team_id']],
        ['public.users', ['email']],
      ]),
    );
    expect(parseExpected(['public.events: created_at >= 2026-12-06T00:00:00Z'])).toEqual(
      new Map([['public.events', { column: 'created_at', since: '2026-12-06T00:00:00Z' }]]),
    );
  });

  it('says what is wrong with an entry, in one sentence naming the input', () => {
    expect(() => parseKeys(['public.users'])).toThrow(
      'Input `keys` has the entry "public.users" without a colon; write it as public.memberships: user_id team_id.',
    );
    expect(() => parseKeys(['public.users:'])).toThrow('Input `keys` gives public.users no column; write it as public.memberships: user_id team_id.');
    expect(() => parseKeys(['a: x', 'public.a: y'])).toThrow('Input `keys` names public.a twice; keep one entry per table.');
    expect(() => parseExpected(['public.events: created_at > yesterday'])).toThrow(
      /^Input `expected` has "public.events: created_at > yesterday", which is not/,
    );
    expect(() => parseExpected(['public.events: created_at >= soon'])).toThrow(/which is not `schema.table: column >= timestamp`/);
  });

  it('refuses the same database on both sides, whatever the user or password', () => {
    expect(() =>
      buildPlan(options({ 'source-database-url': 'postgresql://a:x@db.example.com:5432/app', 'target-database-url': 'postgresql://b:y@DB.example.com/app' })),
    ).toThrow(/^Inputs `source-database-url` and `target-database-url` point at the same database \(DB.example.com:5432\/app\); give the target/);
    expect(buildPlan(options({})).jobs).toBe(2);
  });
});

describe('parity checks', () => {
  const ranges = (keysPrintable: boolean, differing: number[], rows = 100) => ({
    keysPrintable,
    ranges: Array.from({ length: 4 }, (_, index) => ({
      index,
      sourceRows: rows,
      targetRows: differing.includes(index) ? rows - 1 : rows,
      same: !differing.includes(index),
      ...(keysPrintable ? { from: String(index * rows + 1), to: String((index + 1) * rows) } : {}),
    })),
  });

  it('names integer key ranges, and other keys only by position', () => {
    expect(describeRanges(ranges(true, [1]))).toBe('keys 101–200 (100 rows in the source, 99 in the target) differ; 3 range(s) of about 100 rows match');
    expect(describeRanges(ranges(false, [2, 3]))).toBe(
      "range 3 of 4 (rows 201–300 in the source's key order; 100 rows in the source, 99 in the target); range 4 of 4 (rows 301–400 in the source's key order; 100 rows in the source, 99 in the target) differ; 2 range(s) of about 100 rows match",
    );
  });

  it('one finding per table: a count difference is not also a checksum difference', () => {
    const findings = tableFindings([
      { table: 'public.a', key: ['id'], sourceRows: 10, targetRows: 9, sourceDigest: 'x', targetDigest: 'y', ranges: ranges(true, [0]) },
      { table: 'public.b', key: ['id'], sourceRows: 10, targetRows: 10, sourceDigest: 'x', targetDigest: 'y' },
      { table: 'public.c', key: ['id'], sourceRows: 10, targetRows: 10, sourceDigest: 'x', targetDigest: 'x' },
      { table: 'public.d', sourceRows: 3, targetRows: 3 },
    ]);
    expect(findings.map((f) => `${f.rule} ${f.object.name}`)).toEqual(['parity_row_count_mismatch a', 'parity_rows_differ b', 'parity_table_no_key d']);
  });

  it('a sequence is behind when its next value is not past the column (either direction)', () => {
    const sequence = { schema: 'public', name: 's', tableSchema: 'public', tableName: 't', column: 'id' };
    const behind = (increment: string, next: string, extreme: string | null) =>
      sequenceFindings({ readable: [{ ...sequence, increment, next, extreme }], unreadable: [] }).length === 1;
    expect(behind('1', '100', '100')).toBe(true);
    expect(behind('1', '101', '100')).toBe(false);
    expect(behind('1', '1', null)).toBe(false);
    expect(behind('-1', '-5', '-5')).toBe(true);
    expect(behind('-1', '-6', '-5')).toBe(false);
  });

  it('settings are compared by hash, platform roles left out', () => {
    const setting = (role: string, name: string, hash: string) => ({ role, scope: 'database' as const, name, hash });
    const findings = settingFindings(
      [setting('', 'app.secret', 'h1'), setting('app', 'search_path', 'h2'), setting('authenticator', 'pgrst.db_schemas', 'h3')],
      [setting('', 'app.secret', 'h9')],
      new Set(['authenticator']),
    );
    expect(findings.map((f) => `${f.rule} ${f.object.name}`)).toEqual(['parity_setting_differs app.secret', 'parity_setting_lost app/search_path']);
    expect(JSON.stringify(findings)).not.toMatch(/h1|h9/);
  });
});
