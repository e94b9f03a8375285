/**
 * The Supabase CLI's statement splitting (SplitAndTrim), reproduced rule by rule,
 * quirks included: the stored `statements` array is compared with these results.
 * Expected outputs follow the CLI's state machine (supabase/cli pkg/parser).
 */
import { describe, expect, it } from 'vitest';
import { splitSupabaseStatements } from '../../src/migrations/supabase-split.ts';

const split = (sql: string) => splitSupabaseStatements(sql).map((s) => s.text);

describe('splitSupabaseStatements', () => {
  it('splits on semicolons and trims white space and trailing semicolons', () => {
    expect(split('create table a (id int);\n\n  create table b (id int) ;;\n')).toEqual(['create table a (id int)', 'create table b (id int)']);
  });

  it('keeps a last statement without a semicolon, and a trailing comment as a statement of its own', () => {
    expect(split('select 1;\n-- the end\n')).toEqual(['select 1', '-- the end']);
    expect(split('select 1')).toEqual(['select 1']);
  });

  it('ignores semicolons inside single-quoted strings, with doubled quotes', () => {
    expect(split("insert into t values ('a;b', 'it''s; fine');select 2;")).toEqual(["insert into t values ('a;b', 'it''s; fine')", 'select 2']);
  });

  it('ignores semicolons inside quoted identifiers', () => {
    expect(split('create table "odd;name" (id int); select 1;')).toEqual(['create table "odd;name" (id int)', 'select 1']);
  });

  it('ignores semicolons inside dollar-quoted bodies, tagged or not', () => {
    const fn = `create function f() returns int language plpgsql as $$
begin
  perform 1; return 2;
end;
$$`;
    const tagged = `create function g() returns text language plpgsql as $body$
begin
  return '$$;';
end;
$body$`;
    expect(split(`${fn};\n${tagged};\nselect 3;`)).toEqual([fn, tagged, 'select 3']);
  });

  it('treats $1 parameters as ordinary text', () => {
    expect(split('prepare p (int) as select $1; execute p(1);')).toEqual(['prepare p (int) as select $1', 'execute p(1)']);
  });

  it('ignores semicolons in line comments and nested block comments', () => {
    expect(split('select 1; -- a; b\nselect 2;')).toEqual(['select 1', '-- a; b\nselect 2']);
    expect(split('/* a; /* b; */ c; */ select 1; select 2;')).toEqual(['/* a; /* b; */ c; */ select 1', 'select 2']);
  });

  it('keeps a BEGIN ATOMIC body whole until END', () => {
    const fn = `create function h() returns int language sql
begin atomic
  select 1;
  select 2;
end`;
    expect(split(`${fn};\nselect 3;`)).toEqual([fn, 'select 3']);
  });

  it('keeps semicolons inside parentheses', () => {
    expect(split('create rule r as on insert to t do also (insert into a select 1; insert into b select 2); select 1;')).toEqual([
      'create rule r as on insert to t do also (insert into a select 1; insert into b select 2)',
      'select 1',
    ]);
  });

  it('reproduces the CLI quirks: END inside a word ends an atomic body, an inner ) closes every paren', () => {
    expect(split('create function k() returns int language sql begin atomic select calendar; select 2; end;')).toEqual([
      'create function k() returns int language sql begin atomic select calendar',
      'select 2',
      'end',
    ]);
    expect(split('select (1, (2); 3);')).toEqual(['select (1, (2)', '3)']);
    expect(split('create rule r as on insert to t do also (insert into a values (1); insert into b values (2));')).toEqual([
      'create rule r as on insert to t do also (insert into a values (1)',
      'insert into b values (2))',
    ]);
  });

  it("does not understand backslash escapes in E'' strings (the CLI does not either)", () => {
    expect(split("select E'it\\'s'; select 2;")).toEqual(["select E'it\\'s'; select 2"]);
  });

  it('reports where each statement starts', () => {
    const sql = 'select 1;\n\n  select 2;';
    const [first, second] = splitSupabaseStatements(sql);
    expect(first!.start).toBe(0);
    expect(sql.slice(second!.start)).toBe('select 2;');
  });

  it('handles CRLF files and non-ASCII text', () => {
    expect(split("select 'é;ü';\r\nselect 2;\r\n")).toEqual(["select 'é;ü'", 'select 2']);
  });

  // The CLI's own parser tests give raw tokens; SplitAndTrim trims them as below.
  const CLI_CASES: Array<[string, string[]]> = [
    ['line comment after separator', ['END;', '-- comment']],
    ['line comment before separator', ['SELECT --; 1']],
    ['dash that starts no comment', ['- ;', 'END']],
    ['line comment hiding a block opener', ['-- /* \n;', ' */ END']],
    ['block comment with separator', ['SELECT /* ; */ 1;']],
    ['nested block comments', ['SELECT /*; /*;*/ ;*/ 1']],
    ['slash that starts no block', ['/ * ;', ' */ END']],
    ['bare separators', [';', 'END;', ';']],
    ['separator between spaces', ['BEGIN   ;', '  END']],
    ['backslash escapes a separator', ['\\;;', '\\;']],
    ['named dollar tag', ['$tag$ any ; string$tag$']],
    ['anonymous dollar tag', ['$$"Dane\'s horse"$$']],
    ['dollar inside an identifier', ['SELECT "$";', ' $$']],
    ['single quote escapes a separator', ["SELECT ';' 1"]],
    ['doubled single quote', ["SELECT ';'';' 1"]],
    ['backslash is literal in quotes', ["SELECT '\\';", " 1'"]],
    ['double quote escapes a separator', ['CREATE POLICY "cats;dogs" on cats_dogs;', ' END']],
    ['single quote inside double quotes', ['CREATE POLICY "cat\'s and dog\'s" on cats_dogs;', ' END']],
    ['doubled double quote', ['CREATE POLICY "pet""name" on pets;', ' END']],
    ['rule body in parentheses', ['CREATE RULE notify_me AS ON UPDATE TO mytable DO (NOTIFY mytable; SELECT "1");', 'SELECT 1']],
    ['parentheses ignore literals', ["CREATE RULE notify_me AS ON UPDATE TO mytable DO (-- )\nSELECT ')';\n-- )\n)\n"]],
    [
      'begin atomic body',
      [
        "CREATE FUNCTION add(a integer, b integer) RETURNS integer\nLANGUAGE SQL\nIMMUTABLE STRICT PARALLEL SAFE\nRETURNS NULL ON NULL INPUT\nBEGIN ATOMIC\n\tSELECT 'add';\n\tSELECT a + b;\nEND;",
      ],
    ],
    ['begin atomic, lower case', ["begin atomic; select 'end'; end"]],
    ['begin atomic ignores comments', ['CREATE FUNCTION test() BEGIN\nATOMIC-- END;\n-- END;\nEND\n;']],
    ['atomic inside a table name', ['create table public.atomic_test (id int);', '\nselect 1;']],
    [
      'atomic inside a function name',
      [
        "CREATE OR REPLACE FUNCTION public.my_function_atomic(p_id uuid)\nRETURNS void\nLANGUAGE plpgsql\nAS $$\nBEGIN\n  RAISE NOTICE 'hello';\nEND;\n$$;",
        '\nGRANT EXECUTE ON FUNCTION public.my_function_atomic(uuid) TO authenticated;',
      ],
    ],
    ['atomic inside a column name', ['select is_atomic from flags;', '\nselect 1;']],
    ['digit before atomic', ['select col1atomic from t;', '\nselect 1;']],
  ];
  const trim = (token: string) => token.replace(/;+$/, '').trim();
  it.each(CLI_CASES)('agrees with the CLI parser: %s', (_name, tokens) => {
    expect(split(tokens.join(''))).toEqual(tokens.map(trim).filter(Boolean));
  });
});
