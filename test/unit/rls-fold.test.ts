/** One cause, one finding: rls-audit's fold of findings about one cause on one object, and the access diff's wording. */
import { describe, expect, it } from 'vitest';
import { finding, type Severity } from '../../src/findings/types.ts';
import { diffMatrices, type PolicySnapshot, publicReadPolicies } from '../../src/gates/rls/access-diff.ts';
import { CAUSES, foldByCause } from '../../src/gates/rls/fold.ts';
import type { AccessMatrix } from '../../src/gates/rls/matrix.ts';
import { ruleIdsOf } from '../../src/gates/rules-catalog.ts';

const on = (rule: string, severity: Severity, name = 'notes', kind = 'table', location?: { file: string; line: number }) =>
  finding({ rule, severity, object: { kind, schema: 'public', name }, message: `${rule} on ${name}`, ...(location ? { location } : {}) });

describe('foldByCause', () => {
  it('keeps the most specific finding per object and cause, the others as its detail, with the highest severity and a location', () => {
    const folded = foldByCause([
      on('rls_matrix_access_changed', 'error', 'notes', 'table', { file: 'm.sql', line: 3 }),
      on('rls_disabled_in_public', 'error'),
      on('sensitive_columns_exposed', 'error'),
      on('rls_disabled_in_public', 'error', 'other'),
      on('function_search_path_mutable', 'warning', 'notes', 'function'),
    ]);
    expect(folded.map((f) => f.key)).toEqual([
      'sensitive_columns_exposed:table:public.notes',
      'rls_disabled_in_public:table:public.other',
      'function_search_path_mutable:function:public.notes',
    ]);
    expect(folded[0]).toMatchObject({
      severity: 'error',
      location: { file: 'm.sql', line: 3 },
      detail:
        'Same cause, also reported as:\n- rls_disabled_in_public: rls_disabled_in_public on notes\n- rls_matrix_access_changed: rls_matrix_access_changed on notes',
    });
  });

  it('never lowers the severity: a warning rule that keeps the finding takes the error it folds in', () => {
    const [view] = foldByCause([
      on('materialized_view_in_api', 'warning', 'stats', 'materialized view'),
      on('rls_matrix_access_changed', 'error', 'stats', 'materialized view'),
    ]);
    expect(view).toMatchObject({ rule: 'materialized_view_in_api', severity: 'error' });
  });

  it('names only rules that exist', () => {
    const known: ReadonlySet<string> = ruleIdsOf('rls');
    expect(CAUSES.flatMap((c) => c.rules).filter((id) => !known.has(id))).toEqual([]);
  });

  it('leaves a lone finding as it is', () => {
    const alone = on('rls_matrix_access_changed', 'notice');
    expect(foldByCause([alone])).toEqual([alone]);
  });
});

describe('access diff: public read through an explicit policy', () => {
  const actors = [
    { id: 'anon', label: 'anon', role: 'anon' },
    { id: 'user_a', label: 'authenticated (A)', role: 'authenticated', user: 'A' as const },
  ];
  const matrix = (rows: AccessMatrix['rows']): AccessMatrix => ({
    actors,
    commands: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    users: { A: 'a', B: 'b' },
    rows,
  });
  const head = matrix([
    {
      object: { kind: 'table', schema: 'public', name: 'notes' },
      cells: { anon: { SELECT: { access: 'all' }, UPDATE: { access: 'all' }, INSERT: { access: 'all' } }, user_a: { SELECT: { access: 'all' } } },
    },
    { object: { kind: 'table', schema: 'public', name: 'posts' }, cells: { anon: { SELECT: { access: 'all' } }, user_a: { SELECT: { access: 'all' } } } },
  ]);
  const policy = (table: string, command: string, using: string | null, rls = true): PolicySnapshot => ({
    schema: 'public',
    table,
    name: `${table}_${command.toLowerCase()}`,
    command,
    permissive: true,
    roles: ['public'],
    using,
    check: null,
    rls,
  });

  it('is a notice in short words; writes stay an error; a private table or RLS off is not public read', () => {
    const policies = [policy('notes', 'SELECT', 'true'), policy('notes', 'UPDATE', 'true'), policy('posts', 'SELECT', '(1 = 1)')];
    const { findings } = diffMatrices(matrix([]), head, publicReadPolicies(policies, []));
    expect(findings.map((f) => [f.object.name, f.severity, f.message])).toEqual([
      [
        'notes',
        'error',
        'New table public.notes: anon, authenticated (A) can now SELECT every row (public read: policy "notes_select"); anon can now INSERT, UPDATE every row.',
      ],
      ['posts', 'notice', 'New table public.posts: anon, authenticated (A) can now SELECT every row (public read: policy "posts_select").'],
    ]);
    const privately = diffMatrices(matrix([]), head, publicReadPolicies(policies, ['public.posts'])).findings.find((f) => f.object.name === 'posts');
    expect(privately).toMatchObject({ severity: 'error', message: 'New table public.posts: anon, authenticated (A) can now SELECT every row.' });
    const rlsOff = diffMatrices(matrix([]), head, publicReadPolicies([policy('posts', 'SELECT', 'true', false)], [])).findings.find(
      (f) => f.object.name === 'posts',
    );
    expect(rlsOff?.severity).toBe('error');
    const restricted = diffMatrices(matrix([]), head, publicReadPolicies([policy('posts', 'SELECT', '(owner = auth.uid())')], [])).findings.find(
      (f) => f.object.name === 'posts',
    );
    expect(restricted?.severity).toBe('error');
  });
});
