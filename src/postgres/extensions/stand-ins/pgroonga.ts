/**
 * pgroonga stand-in: the index access method `pgroonga` with PGroonga 3's operator class names,
 * its search operators on text (and text[] / jsonb) implemented in SQL, and its helper functions,
 * so `create index ... using pgroonga (content)` and `where content &@ 'word'` work in the shadow.
 *
 * The access method is PostgreSQL's BRIN (handler `language internal as 'brinhandler'`): every
 * operator class is a BRIN minmax class (strategies 1..5 are <, <=, =, >=, > of the type, support
 * functions 1..4 the builtin brin_minmax_opcinfo / add_value / consistent / union). BRIN accepts
 * any column, builds fast and small, and never changes a query's result: PGroonga's operators are
 * not in any of these operator families, so a `&@` query is answered by a scan that evaluates the
 * operator on every row. Operator class names are PGroonga's (the _v2 classes and the older names
 * that 2.x/3.x still accept), with PGroonga's defaults: text -> pgroonga_text_full_text_search_ops_v2,
 * varchar -> pgroonga_varchar_term_search_ops_v2, text[] -> pgroonga_text_array_full_text_search_ops_v2,
 * varchar[] -> pgroonga_varchar_array_term_search_ops_v2, jsonb -> pgroonga_jsonb_ops_v2, and the
 * scalar types (boolean, integers, floats, timestamps). Arrays have no builtin comparison operators
 * of their exact type, which BRIN needs, so their classes use private operators %<%, %<=%, %=%,
 * %>=%, %>% on array_lt ... array_gt (found by no ordinary query). Index options such as
 * WITH (tokenizer='TokenNgram') are not BRIN's: postgate takes them out before the statement runs.
 *
 * Operators (Groonga's normaliser is approximated by lower()):
 *   &@   (text, text), (text[], text), (jsonb, text): contains the keyword, case-insensitively
 *   &@~  (text, text), (text[], text), (jsonb, text): Groonga query syntax, approximated: words
 *        (or "quoted phrases") that must all be present, OR between alternatives, -word excluded
 *   &@*  (text, text): similar search, approximated as sharing at least one word with the text
 *   &~   (text, text): regular expression, case-insensitive
 *   &^   (text, text), (text[], text): prefix
 *   &@|  (text, text[]), &@~| (text, text[]): any keyword / any query of the array
 * Functions: pgroonga_score(tableoid, ctid) and pgroonga_score(record) (always 0: there is no
 * Groonga score), pgroonga_highlight_html(text, text[] [, index]) and its text[] form (HTML-escaped
 * text with keywords in <span class="keyword">), pgroonga_snippet_html(text, text[], width),
 * pgroonga_query_extract_keywords, pgroonga_normalize, pgroonga_escape, pgroonga_query_escape, and
 * pgroonga_command, which raises: there is no Groonga behind the stand-in.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

/** A BRIN minmax operator class on `type` using the comparison operators `ops` on `opType`. */
function minmaxClass(name: string, type: string, isDefault: boolean, ops: readonly string[] = ['<', '<=', '=', '>=', '>'], opType = type): string {
  const operators = ops.map((op, i) => `  operator ${i + 1} ${op.startsWith('%') ? `@extschema@.${op}` : op} (${opType}, ${opType}),`).join('\n');
  // a class whose operators are another type's (varchar's are text's) stores that type, so that
  // BRIN finds the operators for the index column's type
  const storage = opType === type ? '' : `\n  storage ${opType},`;
  return `
create operator class @extschema@.${name}${isDefault ? ' default' : ''} for type ${type} using pgroonga as
${operators}${storage}
  function 1 pg_catalog.brin_minmax_opcinfo(internal),
  function 2 pg_catalog.brin_minmax_add_value(internal, internal, internal, internal),
  function 3 pg_catalog.brin_minmax_consistent(internal, internal, internal),
  function 4 pg_catalog.brin_minmax_union(internal, internal, internal);`;
}

const ARRAY_OPS = ['%<%', '%<=%', '%=%', '%>=%', '%>%'] as const;
const ARRAY_FUNCS = ['array_lt', 'array_le', 'array_eq', 'array_ge', 'array_gt'] as const;

/** The private comparison operators of an array type, for its BRIN classes. */
function arrayComparisons(type: string, prefix: string): string {
  return ARRAY_OPS.map(
    (op, i) => `
create function @extschema@.pgroonga_${prefix}_${ARRAY_FUNCS[i]}(${type}, ${type}) returns boolean
language internal immutable strict parallel safe
as '${ARRAY_FUNCS[i]}';
create operator @extschema@.${op} (leftarg = ${type}, rightarg = ${type}, function = @extschema@.pgroonga_${prefix}_${ARRAY_FUNCS[i]});`,
  ).join('\n');
}

const SCALARS: ReadonlyArray<readonly [type: string, klass: string]> = [
  ['boolean', 'pgroonga_bool_ops'],
  ['smallint', 'pgroonga_int2_ops'],
  ['integer', 'pgroonga_int4_ops'],
  ['bigint', 'pgroonga_int8_ops'],
  ['real', 'pgroonga_float4_ops'],
  ['double precision', 'pgroonga_float8_ops'],
  ['timestamp without time zone', 'pgroonga_timestamp_ops'],
  ['timestamp with time zone', 'pgroonga_timestamptz_ops'],
];

const OPERATOR_CLASSES = [
  // text
  minmaxClass('pgroonga_text_full_text_search_ops_v2', 'text', true),
  minmaxClass('pgroonga_text_term_search_ops_v2', 'text', false),
  minmaxClass('pgroonga_text_regexp_ops_v2', 'text', false),
  minmaxClass('pgroonga_text_full_text_search_ops', 'text', false),
  minmaxClass('pgroonga_text_regexp_ops', 'text', false),
  minmaxClass('pgroonga_text_semantic_search_ops_v2', 'text', false),
  // varchar: compared as text (binary coercible)
  minmaxClass('pgroonga_varchar_term_search_ops_v2', 'varchar', true, undefined, 'text'),
  minmaxClass('pgroonga_varchar_full_text_search_ops_v2', 'varchar', false, undefined, 'text'),
  minmaxClass('pgroonga_varchar_regexp_ops_v2', 'varchar', false, undefined, 'text'),
  minmaxClass('pgroonga_varchar_full_text_search_ops', 'varchar', false, undefined, 'text'),
  minmaxClass('pgroonga_varchar_regexp_ops', 'varchar', false, undefined, 'text'),
  minmaxClass('pgroonga_varchar_ops', 'varchar', false, undefined, 'text'),
  // text[] and varchar[]
  minmaxClass('pgroonga_text_array_full_text_search_ops_v2', 'text[]', true, ARRAY_OPS),
  minmaxClass('pgroonga_text_array_term_search_ops_v2', 'text[]', false, ARRAY_OPS),
  minmaxClass('pgroonga_text_array_full_text_search_ops', 'text[]', false, ARRAY_OPS),
  minmaxClass('pgroonga_varchar_array_term_search_ops_v2', 'varchar[]', true, ARRAY_OPS),
  minmaxClass('pgroonga_varchar_array_ops', 'varchar[]', false, ARRAY_OPS),
  // jsonb
  minmaxClass('pgroonga_jsonb_ops_v2', 'jsonb', true),
  minmaxClass('pgroonga_jsonb_full_text_search_ops_v2', 'jsonb', false),
  minmaxClass('pgroonga_jsonb_ops', 'jsonb', false),
  // scalars
  ...SCALARS.map(([type, klass]) => minmaxClass(klass, type, true)),
].join('\n');

const SQL = `${readSqlAsset(new URL('./pgroonga.sql', import.meta.url))}
${arrayComparisons('text[]', 'text_array')}
${arrayComparisons('varchar[]', 'varchar_array')}
${OPERATOR_CLASSES}

${readSqlAsset(new URL('./pgroonga-helpers.sql', import.meta.url))}`;

export const PGROONGA: StandIn = {
  name: 'pgroonga',
  defaultVersion: '3.2.5',
  olderVersions: ['3.0.7', '2.4.0'],
  relocatable: false,
  comment: 'Super fast and all languages supported full text search index based on Groonga',
  limits:
    'pgroonga indexes are BRIN indexes that searches do not use; &@, &@~ and the other operators are SQL approximations of Groonga (case-insensitive substring and simple query syntax), and pgroonga_score is always 0.',
  sql: SQL,
};
