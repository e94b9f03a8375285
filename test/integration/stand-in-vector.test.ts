/**
 * The pgvector stand-in on real servers (15 and 17): its script run by the superuser into
 * `extensions`, then what Supabase projects do with pgvector, checked against pgvector's
 * documented results; and the same through `create extension vector` once the private
 * installation offers it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import {
  blankStandInIndexOptions,
  pendingIndexOptionsSql,
  queueIndexOptionsSql,
  removePendingIndexOptionsSql,
} from '../../src/postgres/extensions/index-options.ts';
import { STAND_INS } from '../../src/postgres/extensions/stand-ins/index.ts';
import { VECTOR } from '../../src/postgres/extensions/stand-ins/vector.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const listed = STAND_INS.some((s) => s.name === 'vector');

// ------------------------------------------------------------------------------------------
// Reference arithmetic, in float32 inputs as pgvector stores them

const f32 = (v: number[]): number[] => v.map((x) => Math.fround(x));
const dot = (a: number[], b: number[]): number => f32(a).reduce((s, x, i) => s + x * f32(b)[i]!, 0);
const norm = (a: number[]): number => Math.sqrt(dot(a, a));
const cosineSimilarity = (a: number[], b: number[]): number => dot(a, b) / (norm(a) * norm(b));
const l2 = (a: number[], b: number[]): number => Math.sqrt(f32(a).reduce((s, x, i) => s + (x - f32(b)[i]!) ** 2, 0));
const l1 = (a: number[], b: number[]): number => f32(a).reduce((s, x, i) => s + Math.abs(x - f32(b)[i]!), 0);
const text = (v: number[]): string => `[${v.join(',')}]`;

/** A deterministic pseudo-random embedding. */
function embedding(seed: number, dims: number): number[] {
  let state = seed * 2654435761;
  return Array.from({ length: dims }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.round((state / 2147483648 - 0.5) * 2e6) / 1e6;
  });
}

const DOCS: { id: number; content: string; embedding: number[] }[] = [
  { id: 1, content: 'The cat sat on the mat', embedding: [0.1, 0.2, 0.3] },
  { id: 2, content: 'Dogs chase cats', embedding: [0.25, -0.5, 0.75] },
  { id: 3, content: 'Stock markets fell', embedding: [-0.9, 0.05, 0.1] },
  { id: 4, content: 'A kitten on a rug', embedding: [0.12, 0.19, 0.33] },
];

const MATCH_DOCUMENTS = `
create function match_documents(query_embedding vector(3), match_threshold float, match_count int)
returns table (id bigint, content text, similarity float)
language sql stable
as $$
  select items.id, items.content, 1 - (items.embedding <=> query_embedding) as similarity
  from items
  where 1 - (items.embedding <=> query_embedding) > match_threshold
  order by items.embedding <=> query_embedding
  limit match_count;
$$;`;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function errorOf(client: pg.Client, sql: string): Promise<{ message: string; code?: string }> {
  try {
    await client.query(sql);
  } catch (error) {
    const e = error as { message: string; code?: string };
    return { message: e.message, ...(e.code ? { code: e.code } : {}) };
  }
  throw new Error(`expected an error from: ${sql}`);
}

async function rows<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query(sql, params)).rows as T[];
}

/**
 * What a Supabase project does with pgvector, with the types in schema `extensions` and the
 * search path `public, extensions`.
 */
async function supabaseUsage(client: pg.Client): Promise<void> {
  await client.query('set search_path = public, extensions');

  // types and type modifiers as the catalog shows them
  await client.query('create table documents (id bigint primary key, content text, embedding vector(1536), h halfvec(3), s sparsevec(5))');
  const columns = await rows<{ attname: string; type: string; atttypmod: number }>(
    client,
    `select attname, format_type(atttypid, atttypmod) as type, atttypmod from pg_attribute
      where attrelid = 'documents'::regclass and attnum > 2 order by attnum`,
  );
  expect(columns).toEqual([
    { attname: 'embedding', type: 'vector(1536)', atttypmod: 1536 },
    { attname: 'h', type: 'halfvec(3)', atttypmod: 3 },
    { attname: 's', type: 'sparsevec(5)', atttypmod: 5 },
  ]);

  // dimensions checked, values put in pgvector's canonical form
  await client.query('create table items (id bigint primary key, content text, embedding vector(3))');
  await client.query("insert into items values (100, 'x', '[1,2,3]'), (101, 'y', ' [ 1.50, -2e0 , 0.1 ] ')");
  expect(await rows(client, 'select embedding::text from items order by id')).toEqual([{ embedding: '[1,2,3]' }, { embedding: '[1.5,-2,0.1]' }]);
  await client.query('create table wide (embedding vector(4))');
  const wrong = await errorOf(client, "insert into wide values ('[1,2,3]')");
  expect(wrong).toEqual({ message: 'expected 4 dimensions, not 3', code: '22000' });
  expect((await errorOf(client, "select '[1,2,3]'::vector(2)")).message).toBe('expected 2 dimensions, not 3');
  expect((await errorOf(client, "select '[1,hello]'::vector(2)")).message).toBe('invalid input syntax for type vector: "[1,hello]"');
  expect((await errorOf(client, "select '[1,NaN]'::vector(2)")).message).toBe('NaN not allowed in vector');
  expect((await errorOf(client, "select '[]'::vector(2)")).message).toBe('vector must have at least 1 dimension');
  expect((await errorOf(client, "select '[1,2]'::vector <-> '[1,2,3]'")).message).toBe('different vector dimensions 2 and 3');
  expect(await rows(client, "select '[1.23456,65519,0.1]'::halfvec(3)::text as h, '{3:2,1:1,2:0}/5'::sparsevec(5)::text as s")).toEqual([
    { h: '[1.234375,65504,0.099975586]', s: '{1:1,3:2}/5' },
  ]);
  expect((await errorOf(client, "select '[65520]'::halfvec(1)")).message).toBe('"65520" is out of range for type halfvec');
  expect((await errorOf(client, "select '{1:1,1:2}/3'::sparsevec(3)")).message).toBe('sparsevec indices must not contain duplicates');

  // indexes under pgvector's names, built on non-empty tables (3 and 1536 dimensions)
  await client.query('delete from items');
  for (const d of DOCS) await client.query('insert into items values ($1, $2, $3)', [d.id, d.content, text(d.embedding)]);
  for (let id = 1; id <= 20; id++)
    await client.query('insert into documents (id, content, embedding) values ($1, $2, $3)', [id, `doc ${id}`, text(embedding(id, 1536))]);
  await client.query('create index on items using hnsw (embedding vector_cosine_ops)');
  await client.query('create index on items using ivfflat (embedding vector_l2_ops)');
  await client.query('create index on items using hnsw (embedding vector_ip_ops)');
  await client.query('create index documents_embedding_idx on documents using hnsw (embedding vector_cosine_ops)');
  await client.query('create index on documents using ivfflat (embedding vector_cosine_ops)');
  await client.query('create index on documents using hnsw ((embedding::halfvec(1536)) halfvec_l2_ops)');
  await client.query('create index on documents using hnsw ((binary_quantize(embedding)::bit(1536)) bit_hamming_ops)');
  await client.query('create index on documents using hnsw (s sparsevec_l1_ops)');
  const defs = (
    await rows<{ def: string }>(
      client,
      "select pg_get_indexdef(indexrelid) as def from pg_index where indrelid in ('items'::regclass, 'documents'::regclass) and not indisprimary order by indexrelid",
    )
  ).map((r) => r.def);
  expect(defs).toEqual([
    'CREATE INDEX items_embedding_idx ON public.items USING hnsw (embedding vector_cosine_ops)',
    'CREATE INDEX items_embedding_idx1 ON public.items USING ivfflat (embedding)',
    'CREATE INDEX items_embedding_idx2 ON public.items USING hnsw (embedding vector_ip_ops)',
    'CREATE INDEX documents_embedding_idx ON public.documents USING hnsw (embedding vector_cosine_ops)',
    'CREATE INDEX documents_embedding_idx1 ON public.documents USING ivfflat (embedding vector_cosine_ops)',
    'CREATE INDEX documents_embedding_idx2 ON public.documents USING hnsw (((embedding)::halfvec(1536)) halfvec_l2_ops)',
    'CREATE INDEX documents_binary_quantize_idx ON public.documents USING hnsw (((binary_quantize(embedding))::bit(1536)) bit_hamming_ops)',
    'CREATE INDEX documents_s_idx ON public.documents USING hnsw (s sparsevec_l1_ops)',
  ]);
  expect((await errorOf(client, 'create index on items using hnsw (embedding)')).message).toBe(
    'data type vector has no default operator class for access method "hnsw"',
  );
  // later inserts go through the indexes too
  await client.query('insert into documents (id, content, embedding) values (21, $1, $2)', ['late', text(embedding(21, 1536))]);

  // the function every Supabase vector tutorial writes
  await client.query(MATCH_DOCUMENTS);
  const query = [0.1, 0.21, 0.29];
  const matches = await rows<{ id: string; content: string; similarity: number }>(client, 'select * from match_documents($1, 0.5, 3)', [text(query)]);
  const expected = DOCS.map((d) => ({ id: String(d.id), content: d.content, similarity: cosineSimilarity(d.embedding, query) }))
    .filter((d) => d.similarity > 0.5)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, 3);
  expect(matches.map((m) => m.id)).toEqual(expected.map((m) => m.id));
  expect(matches).toHaveLength(expected.length);
  matches.forEach((m, i) => expect(m.similarity).toBeCloseTo(expected[i]!.similarity, 6));
  const functionDef = (await rows<{ def: string }>(client, "select pg_get_functiondef('match_documents'::regproc) as def"))[0]!.def;
  expect(functionDef).toContain('match_documents(query_embedding vector, match_threshold double precision, match_count integer)');
  expect(functionDef).toContain('1 - (items.embedding <=> query_embedding) as similarity');

  // the distance operators and functions
  const a = [1, 2, 3];
  const b = [4, -5, 6.5];
  const [distances] = await rows<Record<string, number>>(
    client,
    `select $1::vector <-> $2::vector as l2, $1::vector <#> $2::vector as neg_ip, $1::vector <=> $2::vector as cosine, $1::vector <+> $2::vector as l1,
            inner_product($1::vector, $2::vector) as ip, vector_norm($1::vector) as norm, vector_dims($2::vector) as dims,
            $1::halfvec <-> $2::halfvec as half_l2, $1::vector::sparsevec <=> $2::vector::sparsevec as sparse_cosine,
            l2_distance($1::vector::sparsevec, $2::vector::sparsevec) as sparse_l2`,
    [text(a), text(b)],
  );
  expect(distances!.l2).toBeCloseTo(l2(a, b), 6);
  expect(distances!.neg_ip).toBeCloseTo(-dot(a, b), 6);
  expect(distances!.cosine).toBeCloseTo(1 - cosineSimilarity(a, b), 6);
  expect(distances!.l1).toBeCloseTo(l1(a, b), 6);
  expect(distances!.ip).toBeCloseTo(dot(a, b), 6);
  expect(distances!.norm).toBeCloseTo(norm(a), 6);
  expect(distances!.dims).toBe(3);
  expect(distances!.half_l2).toBeCloseTo(l2(a, b), 6);
  expect(distances!.sparse_cosine).toBeCloseTo(1 - cosineSimilarity(a, b), 6);
  expect(distances!.sparse_l2).toBeCloseTo(l2(a, b), 6);
  const big = (await rows<{ d: number }>(client, 'select embedding <=> (select embedding from documents where id = 2) as d from documents where id = 1'))[0]!.d;
  expect(big).toBeCloseTo(1 - cosineSimilarity(embedding(1, 1536), embedding(2, 1536)), 6);
  expect(await rows(client, "select '101'::bit(3) <~> '011' as hamming, '101'::bit(3) <%> '011' as jaccard")).toEqual([{ hamming: 2, jaccard: 1 - 1 / 3 }]);

  // arithmetic, aggregates, casts, ordering
  expect(
    await rows(
      client,
      `select ('[1,2,3]'::vector + '[4,5,6]')::text as sum, ('[1,2,3]'::vector * '[4,5,6]')::text as product, ('[1,2]'::vector || '[3]')::text as concat,
              l2_normalize('[3,4]'::vector)::text as unit, binary_quantize('[1,-2,3]'::vector)::text as bits, subvector('[1,2,3,4,5]'::vector, 2, 3)::text as sub,
              (select avg(embedding)::text from items where id in (1, 4)) as avg, (select sum(embedding)::text from items where id in (1, 4)) as total,
              ('{1,2,3}'::integer[]::vector(3))::text as from_ints, ('[1,2,3]'::vector::real[])::text as to_reals`,
    ),
  ).toEqual([
    {
      sum: '[5,7,9]',
      product: '[4,10,18]',
      concat: '[1,2,3]',
      unit: '[0.6,0.8]',
      bits: '101',
      sub: '[2,3,4]',
      avg: '[0.11,0.195,0.315]',
      total: '[0.22,0.39,0.63]',
      from_ints: '[1,2,3]',
      to_reals: '{1,2,3}',
    },
  ]);
  expect((await rows<{ id: string }>(client, 'select id from items order by embedding, id')).map((r) => Number(r.id))).toEqual([3, 1, 4, 2]);
  expect(await rows(client, "select '[1,2]'::vector < '[1,2,0]' as shorter_first, '[1,2]'::vector = '[1.0,2.0]' as equal")).toEqual([
    { shorter_first: true, equal: true },
  ]);

  // nothing in a body depends on the search path
  await client.query("set search_path = ''");
  expect(
    await rows(
      client,
      "select '[1,2,3]'::extensions.vector(3) operator(extensions.<->) '[1,2,4]'::extensions.vector as d, extensions.avg(v)::text as a from (values ('[1,2]'::extensions.vector(2)), ('[3,4]')) as t(v)",
    ),
  ).toEqual([{ d: 1, a: '[2,3]' }]);
  await client.query('set search_path = public, extensions');
}

/** The options of `with (...)` taken out of the text and stored on the index by the event trigger. */
async function indexOptions(client: pg.Client): Promise<void> {
  const schema = 'postgate_test_options';
  await client.query(pendingIndexOptionsSql(schema, ['hnsw', 'ivfflat']));
  try {
    await client.query('set search_path = public, extensions');
    const migration = [
      'create table chunks (id bigint, embedding vector(3)) ;',
      "insert into chunks values (1, '[1,2,3]');",
      'create index chunks_hnsw on chunks using hnsw (embedding vector_cosine_ops)',
      '  with (m = 16, ef_construction = 64);',
      'create index on chunks using hnsw (embedding vector_l2_ops);',
      'create index chunks_ivf on chunks using ivfflat (embedding vector_l2_ops) with (lists = 100);',
      'create index if not exists chunks_hnsw on chunks using hnsw (embedding vector_cosine_ops) with (m = 99);',
      'create table parts (id int, embedding vector(3)) partition by range (id);',
      'create table parts_1 partition of parts for values from (0) to (10);',
      'create index parts_idx on parts using hnsw (embedding vector_ip_ops) with (m = 8);',
      'create index chunks_ivf2 on chunks using ivfflat (embedding vector_l2_ops) with (lists = 5);',
    ].join('\n');
    const adapted = blankStandInIndexOptions(migration, ['hnsw', 'ivfflat']);
    expect(adapted.sql.split('\n').length).toBe(migration.split('\n').length);
    expect(adapted.options).toEqual([['m=16', 'ef_construction=64'], [], ['lists=100'], ['m=99'], ['m=8'], ['lists=5']]);
    await client.query(queueIndexOptionsSql(schema), [JSON.stringify(adapted.indexes)]);
    await client.query(adapted.sql);
    const defs = await rows<{ relname: string; def: string }>(
      client,
      "select c.relname, pg_get_indexdef(c.oid) as def from pg_class c where c.relkind in ('i', 'I') and c.relname ~ '^(chunks|parts)' order by c.relname",
    );
    expect(defs).toEqual([
      { relname: 'chunks_embedding_idx', def: 'CREATE INDEX chunks_embedding_idx ON public.chunks USING hnsw (embedding vector_l2_ops)' },
      { relname: 'chunks_hnsw', def: "CREATE INDEX chunks_hnsw ON public.chunks USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')" },
      { relname: 'chunks_ivf', def: "CREATE INDEX chunks_ivf ON public.chunks USING ivfflat (embedding) WITH (lists='100')" },
      { relname: 'chunks_ivf2', def: "CREATE INDEX chunks_ivf2 ON public.chunks USING ivfflat (embedding) WITH (lists='5')" },
      { relname: 'parts_1_embedding_idx', def: "CREATE INDEX parts_1_embedding_idx ON public.parts_1 USING hnsw (embedding vector_ip_ops) WITH (m='8')" },
      { relname: 'parts_idx', def: "CREATE INDEX parts_idx ON ONLY public.parts USING hnsw (embedding vector_ip_ops) WITH (m='8')" },
    ]);
    // the skipped `if not exists` row stays queued; nothing else does
    expect(await rows(client, `select table_name, index_name, options from ${schema}.pending_index_options`)).toEqual([
      { table_name: 'chunks', index_name: 'chunks_hnsw', options: ['m=99'] },
    ]);
    // left in, the options fail: that is why they are taken out
    expect(await errorOf(client, 'create index on chunks using hnsw (embedding vector_l2_ops) with (m = 16)')).toMatchObject({
      message: 'unrecognized parameter "m"',
    });
    // the index still works and reloptions do not get in the way
    await client.query("insert into chunks values (2, '[3,2,1]')");
    await client.query('reindex table chunks');
  } finally {
    await client.query(removePendingIndexOptionsSql(schema));
  }
}

describe.each(TEST_MAJORS)('pgvector stand-in on PostgreSQL %i', (major) => {
  let cluster: Cluster;
  let available = false;

  beforeAll(async () => {
    cluster = await startTestCluster(major);
    const admin = await connect(cluster.adminUrl);
    try {
      const found = await admin.query("select 1 from pg_available_extensions where name = 'vector'");
      available = listed && found.rowCount === 1;
    } finally {
      await admin.end();
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("its script, run by the superuser into schema extensions, gives pgvector's types, operators, indexes and numbers", async () => {
    const client = await connect(cluster.asAdmin(await cluster.createDatabase()));
    try {
      await client.query('set client_min_messages = warning');
      await client.query(`create schema extensions; set search_path = extensions;\n${VECTOR.sql}`);
      await supabaseUsage(client);
    } finally {
      await client.end();
    }
  });

  it('stores the options of hnsw and ivfflat indexes through the event trigger, partitions and skipped statements included', async () => {
    const client = await connect(cluster.asAdmin(await cluster.createDatabase()));
    try {
      await client.query('set client_min_messages = warning');
      await client.query(`create schema extensions; set search_path = extensions;\n${VECTOR.sql}`);
      await indexOptions(client);
    } finally {
      await client.end();
    }
  });

  it.skipIf(!listed)(
    'through `create extension vector with schema extensions` (skipped until STAND_INS has vector and the server lists it)',
    async (context) => {
      if (!available) context.skip();
      const client = await connect(cluster.asAdmin(await cluster.createDatabase()));
      try {
        await client.query('create schema extensions');
        await client.query('create extension vector with schema extensions');
        expect(
          await rows(
            client,
            "select extversion, n.nspname, obj_description(e.oid, 'pg_extension') as comment from pg_extension e join pg_namespace n on n.oid = e.extnamespace where extname = 'vector'",
          ),
        ).toEqual([{ extversion: '0.8.0', nspname: 'extensions', comment: 'vector data type and ivfflat and hnsw access methods' }]);
        await supabaseUsage(client);
        // relocatable: everything keeps working in another schema
        await client.query('create schema other; alter extension vector set schema other');
        await client.query('set search_path = public, other');
        expect(await rows(client, "select ('[1,2]'::vector(2) + '[3,4]')::text as v, '[0,1]'::vector <=> '[1,0]' as d")).toEqual([{ v: '[4,6]', d: 1 }]);
        await client.query("insert into items values (9, 'moved', '[0.5,0.5,0.5]')");
        await client.query('drop extension vector cascade');
      } finally {
        await client.end();
      }
    },
  );

  it.skipIf(!listed)(
    "is created by Supabase's non-superuser postgres, as a trusted extension, and used by its migrations (skipped until the server lists vector)",
    async (context) => {
      if (!available) context.skip();
      const supabase = await startCluster({ shadow: 'local', major, profile: 'supabase' });
      try {
        const client = await connect(await supabase.createDatabase());
        try {
          expect(await rows(client, 'select current_user as who, rolsuper from pg_roles where rolname = current_user')).toEqual([
            { who: 'postgres', rolsuper: false },
          ]);
          await client.query('create schema if not exists extensions');
          await client.query('create extension if not exists vector with schema extensions');
          await client.query('set search_path = public, extensions');
          await client.query('create table notes (id bigint, content text, embedding vector(3))');
          await client.query("insert into notes values (1, 'a', '[1,2,3]'), (2, 'b', '[3,2,1]')");
          await client.query('create index on notes using hnsw (embedding vector_cosine_ops)');
          await client.query(MATCH_DOCUMENTS.replaceAll('items', 'notes'));
          const found = await rows<{ id: string; similarity: number }>(client, 'select id, similarity from match_documents($1, 0, 1)', ['[1,2,3]']);
          expect(found).toEqual([{ id: '1', similarity: 1 }]);
          expect((await errorOf(client, "insert into notes values (3, 'c', '[1,2]')")).message).toBe('expected 3 dimensions, not 2');
        } finally {
          await client.end();
        }
      } finally {
        await supabase.stop();
      }
    },
  );

  it.skipIf(!listed)('installs any pinned older version with the same objects (skipped until the server lists vector)', async (context) => {
    if (!available) context.skip();
    const client = await connect(cluster.asAdmin(await cluster.createDatabase()));
    try {
      for (const version of ['0.5.1', '0.7.4']) {
        await client.query(`create extension vector version '${version}'`);
        expect(await rows(client, "select extversion from pg_extension where extname = 'vector'")).toEqual([{ extversion: version }]);
        expect(await rows(client, "select '[1,2,3]'::vector(3) <-> '[1,2,3]' as d")).toEqual([{ d: 0 }]);
        await client.query('drop extension vector');
      }
    } finally {
      await client.end();
    }
  });
});
