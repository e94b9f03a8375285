/** Taking the options of stand-in index methods out of migration text, offsets and lines unchanged. */
import { describe, expect, it } from 'vitest';
import { blankStandInIndexOptions, pendingIndexOptionsSql } from '../../src/postgres/extensions/index-options.ts';

const METHODS = ['hnsw', 'ivfflat'];

/** Same length and the same characters everywhere except inside the blanked ranges, where only newlines survive. */
function expectSameShape(before: string, after: string): void {
  expect(after).toHaveLength(before.length);
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '\n' || before[i] === '\r') expect(after[i]).toBe(before[i]);
    else if (after[i] !== before[i]) expect(after[i]).toBe(' ');
  }
  expect(after.split('\n').length).toBe(before.split('\n').length);
}

describe('blankStandInIndexOptions', () => {
  it('takes out the with clause of an hnsw index and returns the options as pg_class.reloptions stores them', () => {
    const sql = 'create index on documents using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);';
    const result = blankStandInIndexOptions(sql, METHODS);
    expect(result.sql).toBe(`create index on documents using hnsw (embedding vector_cosine_ops) ${' '.repeat('with (m = 16, ef_construction = 64)'.length)};`);
    expect(result.options).toEqual([['m=16', 'ef_construction=64']]);
    expect(result.indexes).toEqual([{ method: 'hnsw', name: null, table: 'documents', schema: null, options: ['m=16', 'ef_construction=64'], start: 0 }]);
  });

  it('keeps every newline and offset of a multi-line with clause', () => {
    const sql = [
      '-- embeddings',
      'CREATE INDEX IF NOT EXISTS documents_embedding_idx',
      '  ON public.documents',
      '  USING ivfflat (embedding vector_l2_ops)',
      '  WITH (',
      '    lists = 100',
      '  )',
      '  WHERE embedding IS NOT NULL;',
      'select 1;',
    ].join('\n');
    const result = blankStandInIndexOptions(sql, METHODS);
    expectSameShape(sql, result.sql);
    expect(result.sql).not.toMatch(/with|lists|100/i);
    expect(result.sql).toContain('  WHERE embedding IS NOT NULL;\nselect 1;');
    expect(result.sql.indexOf('WHERE')).toBe(sql.indexOf('WHERE'));
    expect(result.indexes).toEqual([
      { method: 'ivfflat', name: 'documents_embedding_idx', table: 'documents', schema: 'public', options: ['lists=100'], start: sql.indexOf('CREATE') },
    ]);
  });

  it('keeps \\r\\n line ends', () => {
    const sql = 'create index i on t using hnsw (e vector_l2_ops) with (\r\n m = 8\r\n);\r\n';
    const result = blankStandInIndexOptions(sql, METHODS);
    expectSameShape(sql, result.sql);
    expect(result.sql).toBe(`create index i on t using hnsw (e vector_l2_ops) ${' '.repeat(6)}\r\n${' '.repeat(6)}\r\n ;\r\n`);
    expect(result.options).toEqual([['m=8']]);
  });

  it('handles quoted identifiers, a quoted method name, unique, concurrently, only, include and nulls not distinct', () => {
    const sql =
      'CREATE UNIQUE INDEX CONCURRENTLY "My Index" ON ONLY "Data"."Docs;" USING "HNSW" ("emb;" vector_ip_ops) INCLUDE ("id") NULLS NOT DISTINCT WITH ("M" = 24, ef_construction = \'200\') TABLESPACE pg_default;';
    const result = blankStandInIndexOptions(sql, METHODS);
    expectSameShape(sql, result.sql);
    expect(result.sql).toContain('NULLS NOT DISTINCT ');
    expect(result.sql).toMatch(/NOT DISTINCT +TABLESPACE pg_default;$/);
    expect(result.indexes).toEqual([{ method: 'hnsw', name: 'My Index', table: 'Docs;', schema: 'Data', options: ['M=24', 'ef_construction=200'], start: 0 }]);
  });

  it('normalises values as PostgreSQL stores them: integers printed, floats as written, strings unquoted, a bare name true', () => {
    const sql = "create index on t using hnsw (e vector_l2_ops) with (m = 016, ef_construction = '64', x = 0.50, y = -2, z = on, w, \"q\" = 'it''s');";
    expect(blankStandInIndexOptions(sql, METHODS).options).toEqual([['m=16', 'ef_construction=64', 'x=0.50', 'y=-2', 'z=on', 'w=true', "q=it's"]]);
  });

  it('leaves a with clause alone inside a comment, a string, a dollar-quoted body or a quoted identifier', () => {
    const sql = [
      '/* create index on t using hnsw (e vector_l2_ops) with (m = 1); /* nested */ still comment */',
      '-- create index on t using hnsw (e vector_l2_ops) with (m = 2);',
      "select 'create index on t using hnsw (e vector_l2_ops) with (m = 3);';",
      "select E'it\\'s; create index on t using hnsw (e vector_l2_ops) with (m = 4);';",
      'create function f() returns void language plpgsql as $body$',
      'begin',
      '  create index on t using hnsw (e vector_l2_ops) with (m = 5);',
      'end',
      '$body$;',
      'do $$ begin execute $q$create index on t using hnsw (e vector_l2_ops) with (m = 6)$q$; end $$;',
      'select 1 as "create index on t using hnsw (e vector_l2_ops) with (m = 7);";',
      'create index on t using hnsw (e vector_l2_ops) with (m = 8);',
    ].join('\n');
    const result = blankStandInIndexOptions(sql, METHODS);
    expectSameShape(sql, result.sql);
    expect(result.options).toEqual([['m=8']]);
    for (const m of [1, 2, 3, 4, 5, 6, 7]) expect(result.sql).toContain(`with (m = ${m})`);
    expect(result.sql).not.toContain('with (m = 8)');
  });

  it('leaves indexes of other access methods alone, and lists stand-in indexes without options so the queue stays in step', () => {
    const sql = [
      'create index a on t using gin (tags) with (fastupdate = off);',
      'create index b on t (id) with (fillfactor = 70);',
      'create index c on t using hnsw (e vector_l2_ops);',
      'create index d on t using btree (id) with (deduplicate_items = off);',
      'create index e on t using hnsw (e vector_cosine_ops) with (m = 32);',
      'create table with_table (id int) with (fillfactor = 50);',
      'alter index e set (m = 4);',
    ].join('\n');
    const result = blankStandInIndexOptions(sql, METHODS);
    expect(result.sql).toBe(sql.replace('with (m = 32)', ' '.repeat('with (m = 32)'.length)));
    expect(result.indexes.map((i) => [i.name, i.options])).toEqual([
      ['c', []],
      ['e', ['m=32']],
    ]);
    expect(result.options).toEqual([[], ['m=32']]);
  });

  it("finds pg_dump's form, schema-qualified operator classes and quoted option values included", () => {
    const sql =
      "CREATE INDEX documents_embedding_idx ON public.documents USING hnsw (embedding extensions.vector_cosine_ops) WITH (m='16', ef_construction='64');\n";
    const result = blankStandInIndexOptions(sql, METHODS);
    expectSameShape(sql, result.sql);
    expect(result.options).toEqual([['m=16', 'ef_construction=64']]);
    expect(result.sql.trimEnd().endsWith('vector_cosine_ops)' + ' '.repeat("WITH (m='16', ef_construction='64')".length + 1) + ';')).toBe(true);
  });

  it('matches the method case-insensitively and only the methods asked for', () => {
    const sql = "create index on t using IVFFLAT (e) with (lists = 10); create index on t using pgroonga (body) with (tokenizer = 'x');";
    expect(blankStandInIndexOptions(sql, ['ivfflat']).options).toEqual([['lists=10']]);
    expect(blankStandInIndexOptions(sql, ['ivfflat', 'PGroonga']).options).toEqual([['lists=10'], ['tokenizer=x']]);
    expect(blankStandInIndexOptions(sql, []).sql).toBe(sql);
  });

  it('survives unterminated quotes and comments without throwing', () => {
    for (const sql of [
      "create index on t using hnsw (e) with (m = '16",
      'create index on t using hnsw (e) with (m = 16',
      '/* create index',
      '$x$ never closed',
      '"open',
    ]) {
      const result = blankStandInIndexOptions(sql, METHODS);
      expect(result.sql).toHaveLength(sql.length);
    }
  });
});

describe('pendingIndexOptionsSql', () => {
  it('creates the queue, the security definer function and the event trigger in the schema given', () => {
    const sql = pendingIndexOptionsSql('postgate_test', ['hnsw', 'ivfflat']);
    expect(sql).toContain('create table postgate_test.pending_index_options');
    expect(sql).toContain('security definer');
    expect(sql).toContain("a.amname in ('hnsw', 'ivfflat')");
    expect(sql).toMatch(/create event trigger postgate_test_index_options on ddl_command_end when tag in \('CREATE INDEX'\)/);
  });

  it('refuses a schema name it would have to quote', () => {
    expect(() => pendingIndexOptionsSql('Bad; drop', ['hnsw'])).toThrow(/not a plain lower-case identifier/);
  });
});
