/**
 * The plain-SQL lexer restore-drill uses instead of psql (src/gates/drill/sql-script.ts): it must
 * find every backslash psql would act on, wherever psql's lexer would meet it, and nothing in
 * quotes, comments, dollar quotes or COPY data; and it must split pg_dump's output into the
 * statements psql sends, whatever the chunking of the stream.
 */
import { describe, expect, it } from 'vitest';
import { allowedMeta, type ScriptUnit, scanScript, scriptUnits } from '../../src/gates/drill/sql-script.ts';

async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function units(text: string | Buffer, size = 1 << 20): Promise<ScriptUnit[]> {
  const out: ScriptUnit[] = [];
  for await (const unit of scriptUnits(chunked(text, size))) out.push(unit);
  return out;
}

/** Statements as text, COPY data joined per COPY: what the runner sends. */
async function sent(text: string | Buffer, size?: number): Promise<string[]> {
  const out: string[] = [];
  let data: Buffer[] | undefined;
  for (const unit of await units(text, size)) {
    if (unit.kind === 'statement')
      out.push(
        `SQL@${unit.line}${unit.copyIn ? ' copy' : ''}: ${unit.sql
          .toString('utf8')
          .replace(/^(\s*--[^\n]*\n)*/, '')
          .trim()}`,
      );
    else if (unit.kind === 'copy-data') (data ??= []).push(unit.data);
    else if (unit.kind === 'copy-end') {
      out.push(`DATA: ${Buffer.concat(data ?? []).toString('utf8')}`);
      data = undefined;
    } else if (unit.kind === 'meta') out.push(`META@${unit.line}${unit.allowed ? ` ${unit.allowed.kind}` : ' UNTRUSTED'}: ${unit.text}`);
    else if (unit.kind === 'unsafe') out.push(`UNSAFE@${unit.line}: ${unit.why}`);
    else out.push(`NUL@${unit.line}`);
  }
  return out;
}

/** Lines psql would act on that pg_dump never writes. */
async function flagged(text: string | Buffer): Promise<number[]> {
  return (await scanScript(chunked(text, 7))).untrusted.map((u) => u.line);
}

const KEY = 'aBcD1234efGH5678';

/** The shape of pg_dump 15.14+/17.6+ plain output. */
const PG_DUMP = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  `\\restrict ${KEY}`,
  '',
  '-- Dumped from database version 15.20',
  '-- Dumped by pg_dump version 15.20',
  '',
  'SET statement_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  'SET standard_conforming_strings = on;',
  "SELECT pg_catalog.set_config('search_path', '', false);",
  '',
  'CREATE FUNCTION public.shell() RETURNS text',
  '    LANGUAGE plpgsql',
  '    AS $_$',
  'begin',
  "  return '\\! not a command in a function body; ' || $$\\o |nor here$$;",
  'end',
  '$_$;',
  '',
  'CREATE FUNCTION public.atomic() RETURNS integer',
  '    LANGUAGE sql',
  '    BEGIN ATOMIC',
  '  SELECT 1;',
  '  SELECT CASE WHEN true THEN 2 ELSE 3 END;',
  'END;',
  '',
  "COMMENT ON TABLE public.notes IS 'C:\\temp\\! is text; -- so is this';",
  '',
  'COPY public.notes (id, body) FROM stdin;',
  '1\t\\N',
  '2\ta\\tb\\\\c',
  '3\t\\! touch /tmp/pwned',
  '4\t\\.x',
  '\\.',
  '',
  '--',
  '-- PostgreSQL database dump complete',
  '--',
  '',
  `\\unrestrict ${KEY}`,
  '',
].join('\n');

describe('pg_dump output', () => {
  it("splits into the statements psql sends, with the COPY data as data and pg_dump's own meta-commands allowed", async () => {
    const out = await sent(PG_DUMP);
    expect(out).toEqual([
      `META@5 restrict: \\restrict ${KEY}`,
      'SQL@10: SET statement_timeout = 0;',
      "SQL@11: SET client_encoding = 'UTF8';",
      'SQL@12: SET standard_conforming_strings = on;',
      "SQL@13: SELECT pg_catalog.set_config('search_path', '', false);",
      expect.stringMatching(/^SQL@15: CREATE FUNCTION public\.shell\(\)[\s\S]*\$_\$;$/),
      expect.stringMatching(/^SQL@23: CREATE FUNCTION public\.atomic\(\)[\s\S]*SELECT 1;[\s\S]*END;$/),
      "SQL@30: COMMENT ON TABLE public.notes IS 'C:\\temp\\! is text; -- so is this';",
      'SQL@32 copy: COPY public.notes (id, body) FROM stdin;',
      'DATA: 1\t\\N\n2\ta\\tb\\\\c\n3\t\\! touch /tmp/pwned\n4\t\\.x\n',
      `META@43 unrestrict: \\unrestrict ${KEY}`,
    ]);
    expect(await flagged(PG_DUMP)).toEqual([]);
  });

  it('gives the same units however the stream is cut (1 to 64 byte chunks)', async () => {
    const whole = await sent(PG_DUMP);
    for (const size of [1, 2, 3, 5, 8, 13, 64]) expect(await sent(PG_DUMP, size), `chunks of ${size}`).toEqual(whole);
  });

  it('ends COPY data at "\\." with CRLF line ends, at the end of the script, and not at "\\." inside a line', async () => {
    expect(await sent('COPY t FROM stdin;\r\na\\.b\r\n\\.\r\nselect 1;\r\n')).toEqual([
      'SQL@1 copy: COPY t FROM stdin;',
      'DATA: a\\.b\r\n',
      'SQL@4: select 1;',
    ]);
    expect(await sent('copy t from stdin;\n1\n2')).toEqual(['SQL@1 copy: copy t from stdin;', 'DATA: 1\n2']);
    expect(await sent('copy t from stdin;\n1\n\\.')).toEqual(['SQL@1 copy: copy t from stdin;', 'DATA: 1\n']);
    // not COPY ... FROM stdin: no data section
    expect(await sent("copy (select 'from stdin') to stdout;\nselect 2;\n")).toEqual(["SQL@1: copy (select 'from stdin') to stdout;", 'SQL@2: select 2;']);
  });
});

describe('meta-commands psql would run', () => {
  const cases: Array<[string, string, number[]]> = [
    ['at the start of a line', 'select 1;\n\\! touch /tmp/x\n', [2]],
    ['after SQL on the same line', 'select 1 \\! touch /tmp/x\n;\n', [1]],
    ['after a complete statement on the same line', 'select 1; \\o |sh\n', [1]],
    ['\\copy ... program', "\\copy (select 1) to program 'sh -c id'\n", [1]],
    [
      '\\setenv, \\i, \\ir, \\w, \\gexec, \\lo_import, \\set with backquotes',
      '\\setenv PATH /tmp\n\\i /etc/passwd\n\\ir x.sql\n\\w /tmp/q\nselect 1 \\gexec\n\\lo_import /etc/shadow\n\\set x `id`\n',
      [1, 2, 3, 4, 5, 6, 7],
    ],
    ['\\\\! (a double backslash)', '\\\\! touch /tmp/x\n', [1]],
    ['\\; and \\: (pg_dump writes neither)', 'select 1 \\; select 2;\n', [1]],
    ['after a string that ends where psql ends it (standard strings)', "select 'a\\'; \\! touch /tmp/x\n", [1]],
    ['after an E-string whose backslash is escaped', "select E'a\\\\'; \\! touch /tmp/x\n", [1]],
    ['after a dollar-quoted string', 'select $x$ \\! no $x$; \\! yes\n', [1]],
    ['after a block comment', '/* \\! no /* nested */ still no */ \\! yes\n', [1]],
    ['after a quoted identifier', 'select "a\\!""b" \\! yes\n', [1]],
    ['on a line ended by CRLF', 'select 1;\r\n\\! touch /tmp/x\r\n', [2]],
    ['after a bare CR (one line for psql)', 'select 1;\r\\! touch /tmp/x\n', [1]],
    ['after COPY data ended by \\.', 'COPY t FROM stdin;\n\\! data\n\\.\n\\! touch /tmp/x\n', [4]],
    ['after non-ASCII text', "select 'é'; \\! touch /tmp/x\n", [1]],
    ['with leading white space (pg_dump writes none)', `  \\restrict ${KEY}\n`, [1]],
    ['inside an unterminated statement', `select 1\n\\restrict ${KEY}\n;\n`, [2]],
    ['an identifier ending in e before a quote is no E-string', "select somee'\\'; \\! yes\n", [1]],
    ['after a number ending in e', "select 1e'\\'; \\! yes\n", [1]],
  ];
  it.each(cases)('%s', async (_name, script, lines) => {
    expect(await flagged(script)).toEqual(lines);
  });

  const harmless: Array<[string, string]> = [
    ['inside a standard string', "select '\\! touch /tmp/x';\n"],
    ['inside an E-string with an escaped quote', "select E'a\\'; \\! touch /tmp/x';\n"],
    ['inside a string once standard_conforming_strings is off', "SET standard_conforming_strings = off;\nselect 'a\\'; \\! touch /tmp/x';\n"],
    ['inside a dollar-quoted body with a tag', 'do $body$ begin raise notice $$\\! x$$; end $body$;\n'],
    ['inside nested block comments', '/* a /* b */ \\! c */ select 1;\n'],
    ['inside a line comment', 'select 1; -- \\! touch /tmp/x\n'],
    ['inside a quoted identifier', 'select 1 as "\\! x";\n'],
    ['inside U& strings and identifiers', 'select U&\'\\0041 \\! x\', U&"\\0041\\!";\n'],
    ['inside COPY data (including a line that looks like a command)', 'COPY t FROM stdin;\n\\! touch /tmp/x\n\\o |sh\n\\.\n'],
  ];
  it.each(harmless)('nothing %s', async (_name, script) => {
    expect(await flagged(script)).toEqual([]);
  });

  it('flags SQL after COPY ... FROM stdin; on its line (psql would run it after the data)', async () => {
    const scan = await scanScript(chunked('COPY t FROM stdin; select 1;\n1\n\\.\n', 4));
    expect(scan.untrusted).toEqual([{ line: 1, text: ' select 1;', why: 'SQL after a COPY FROM stdin statement on its line' }]);
    expect((await scanScript(chunked('COPY t FROM stdin; -- a comment\n1\n\\.\n', 4))).untrusted).toEqual([]);
  });

  it('reports NUL bytes, in SQL and in COPY data', async () => {
    const scan = await scanScript(chunked(Buffer.from('select 1;\nselect \0 2;\nCOPY t FROM stdin;\na\0b\n\\.\n'), 3));
    expect(scan.nul).toEqual([2, 4]);
  });
});

describe("pg_dump's own meta-commands, in exactly its form", () => {
  it.each([
    [`\\restrict ${KEY}`, { kind: 'restrict' }],
    [`\\unrestrict ${KEY}`, { kind: 'unrestrict' }],
    ['\\connect shop', { kind: 'connect', database: 'shop' }],
    ['\\connect "Shop.2025"', { kind: 'connect', database: 'Shop.2025' }],
    ['\\encoding SQL_ASCII', { kind: 'encoding' }],
    ['\\connect -reuse-previous=on "dbname=\'my shop\'"', { kind: 'connect', database: 'my shop' }],
    ['\\connect -reuse-previous=on "dbname=\'it\\\'s ""x""\'"', { kind: 'connect', database: 'it\'s "x"' }],
  ])('%s', (text, meta) => {
    expect(allowedMeta(text)).toEqual(meta);
  });

  it.each([
    '\\connect host=evil.example',
    '\\connect shop postgres evil.example 5432',
    '\\connect postgresql://evil.example/shop',
    '\\connect -reuse-previous=on "dbname=shop host=evil.example"',
    '\\connect -reuse-previous=on "dbname=\'shop\' hostaddr=10.0.0.1"',
    '\\c shop',
    '\\restrict bad-key',
    '\\restrict',
    '\\encoding SJIS',
    '\\connect shop \\\\ \\! id',
  ])('not %s', (text) => {
    expect(allowedMeta(text)).toBeUndefined();
  });
});
