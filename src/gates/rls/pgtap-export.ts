/**
 * The repo config's declarative RLS tests (`rls.tests`, see config-tests.ts) as one pgTAP file
 * (`postgate rls --export-pgtap FILE`), for teams that keep every test in `supabase/tests` and
 * run them with `supabase test db`.
 *
 * Each test becomes one assertion with the same setup as config-tests.ts: `set local role` and
 * `set local request.jwt.claims` as PostgREST sets them, then
 * - `rows: N` / `rows-at-least: N`: `is()` on what the SQL did, counted by a helper function
 *   created in pg_temp ("3 row(s)", "at least 3 row(s)", or "error <SQLSTATE>: <message>",
 *   the words of the repo config test's report), which undoes the statement afterwards as each
 *   config test is rolled back;
 * - `denied: true`: `throws_ok()` with SQLSTATE 42501; `error: <SQLSTATE>`: `throws_ok()` with it;
 * and `reset role`. The file is wrapped in `begin; select plan(N); ... select * from finish(); rollback;`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';
import type { GateContext, GateOutput } from '../gate.ts';
import type { RlsTest } from './config-tests.ts';

/** Runs `sql`, undoes it, and says what it did as the repo config tests say it. */
const HELPER = `create function pg_temp.postgate_rows(sql text, at_least bigint default null) returns text
language plpgsql as $postgate$
declare
  counted bigint;
begin
  begin
    execute sql;
    get diagnostics counted = row_count;
    raise sqlstate 'PGUND';
  exception when sqlstate 'PGUND' then
    null;
  end;
  return case when counted >= at_least then format('at least %s row(s)', at_least) else format('%s row(s)', counted) end;
exception when others then
  return format('error %s: %s', sqlstate, sqlerrm);
end
$postgate$;`;

function assertion(test: RlsTest): string {
  const sql = quoteLiteral(test.sql);
  const name = quoteLiteral(test.name);
  const e = test.expect;
  if ('rows' in e) return `select is(pg_temp.postgate_rows(${sql}), ${quoteLiteral(`${e.rows} row(s)`)}, ${name});`;
  if ('rows-at-least' in e) {
    const n = e['rows-at-least'];
    return `select is(pg_temp.postgate_rows(${sql}, ${n}), ${quoteLiteral(`at least ${n} row(s)`)}, ${name});`;
  }
  const code = 'denied' in e ? '42501' : e.error;
  return `select throws_ok(${sql}, ${quoteLiteral(code)}::char(5), null::text, ${name});`;
}

/** The pgTAP file for these tests. */
export function exportPgtap(tests: readonly RlsTest[]): string {
  const blocks = tests.map((test) => {
    const claims = JSON.stringify({ role: test.as.role, ...(test.as.claims ?? {}) });
    return [
      `-- ${test.name.replace(/[\r\n]+/g, ' ')}`,
      `set local role ${quoteIdent(test.as.role)};`,
      `set local request.jwt.claims = ${quoteLiteral(claims)};`,
      assertion(test),
      'reset role;',
    ].join('\n');
  });
  return [
    '-- Exported by `postgate rls --export-pgtap` from the repo config (rls.tests); run it with `supabase test db`.',
    'begin;',
    `select plan(${tests.length});`,
    '',
    HELPER,
    '',
    ...blocks.flatMap((block) => [block, '']),
    'select * from finish();',
    'rollback;',
    '',
  ].join('\n');
}

/** Export mode: writes the file (the path was confined when the input was read) and audits nothing. */
export function writePgtapExport(file: string, context: GateContext): GateOutput {
  const tests = context.config.rls.tests;
  if (tests.length === 0) {
    throw new UserError(
      "`--export-pgtap` exports the repo config's rls.tests, and it has none; add tests under rls.tests, or pass the repo config that has them with `--config`.",
    );
  }
  const target = path.resolve(context.cwd, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, exportPgtap(tests));
  return {
    findings: [],
    metrics: { exported_tests: tests.length },
    details: { export: { file: path.relative(context.cwd, target) || target, tests: tests.length } },
  };
}
