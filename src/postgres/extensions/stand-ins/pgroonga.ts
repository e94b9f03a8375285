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

const SQL = String.raw`
create function @extschema@.pgroonga_handler(internal) returns index_am_handler
language internal
as 'brinhandler';

create access method pgroonga type index handler @extschema@.pgroonga_handler;

-- Keyword and query matching. PGroonga normalises text (NormalizerAuto); lower() stands in for it.
create function @extschema@.pgroonga_match_text(target text, keyword text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.btrim(keyword) <> ''
    and pg_catalog.strpos(pg_catalog.lower(target), pg_catalog.lower(pg_catalog.btrim(keyword))) > 0
$postgate_fn$;

-- Groonga query syntax, approximated: alternatives separated by OR, each a list of terms that
-- must all be present ("quoted phrase", word, or -word that must be absent).
create function @extschema@.pgroonga_query_text(target text, query text) returns boolean
language plpgsql immutable strict parallel safe
as $postgate_fn$
declare
  token text;
  term text;
  lowered text := pg_catalog.lower(target);
  any_term boolean := false;
  current_ok boolean := true;
  current_has boolean := false;
begin
  for token in select m[1] from pg_catalog.regexp_matches(query, '("[^"]*"|\S+)', 'g') as m loop
    if token = 'OR' then
      if current_has and current_ok then
        return true;
      end if;
      current_ok := true;
      current_has := false;
      continue;
    end if;
    token := pg_catalog.btrim(token, '()');
    if token = '' or token = '+' or token = '-' then
      continue;
    end if;
    if pg_catalog.left(token, 1) = '-' then
      term := pg_catalog.btrim(pg_catalog.substr(token, 2), '"');
      if term <> '' and pg_catalog.strpos(lowered, pg_catalog.lower(term)) > 0 then
        current_ok := false;
      end if;
    else
      term := pg_catalog.btrim(pg_catalog.ltrim(token, '+'), '"');
      if term = '' then
        continue;
      end if;
      if pg_catalog.strpos(lowered, pg_catalog.lower(term)) = 0 then
        current_ok := false;
      end if;
    end if;
    current_has := true;
    any_term := true;
  end loop;
  return any_term and current_has and current_ok;
end
$postgate_fn$;

create function @extschema@.pgroonga_similar_text(target text, document text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select exists (
    select 1 from pg_catalog.regexp_split_to_table(pg_catalog.lower(document), '\W+') as w
    where pg_catalog.length(w) > 1 and pg_catalog.strpos(pg_catalog.lower(target), w) > 0)
$postgate_fn$;

create function @extschema@.pgroonga_regexp_text(target text, pattern text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select target ~* pattern
$postgate_fn$;

create function @extschema@.pgroonga_prefix_text(target text, prefix text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.starts_with(pg_catalog.lower(target), pg_catalog.lower(prefix))
$postgate_fn$;

create function @extschema@.pgroonga_match_in_text(target text, keywords text[]) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select exists (select 1 from pg_catalog.unnest(keywords) as k where @extschema@.pgroonga_match_text(target, k))
$postgate_fn$;

create function @extschema@.pgroonga_query_in_text(target text, queries text[]) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select exists (select 1 from pg_catalog.unnest(queries) as q where @extschema@.pgroonga_query_text(target, q))
$postgate_fn$;

create function @extschema@.pgroonga_match_text_array(targets text[], keyword text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select exists (select 1 from pg_catalog.unnest(targets) as t where @extschema@.pgroonga_match_text(t, keyword))
$postgate_fn$;

create function @extschema@.pgroonga_query_text_array(targets text[], query text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_query_text(pg_catalog.array_to_string(targets, E'\n'), query)
$postgate_fn$;

create function @extschema@.pgroonga_prefix_text_array(targets text[], prefix text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select exists (select 1 from pg_catalog.unnest(targets) as t where @extschema@.pgroonga_prefix_text(t, prefix))
$postgate_fn$;

-- every string in a jsonb value (keys excluded), one per line
create function @extschema@.pgroonga_jsonb_text(target jsonb) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select coalesce(pg_catalog.string_agg(v #>> '{}', E'\n'), '')
  from pg_catalog.jsonb_path_query(target, 'strict $.**') as v
  where pg_catalog.jsonb_typeof(v) in ('string', 'number', 'boolean')
$postgate_fn$;

create function @extschema@.pgroonga_match_jsonb(target jsonb, keyword text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_match_text(@extschema@.pgroonga_jsonb_text(target), keyword)
$postgate_fn$;

create function @extschema@.pgroonga_query_jsonb(target jsonb, query text) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_query_text(@extschema@.pgroonga_jsonb_text(target), query)
$postgate_fn$;

create operator @extschema@.&@ (leftarg = text, rightarg = text, function = @extschema@.pgroonga_match_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@~ (leftarg = text, rightarg = text, function = @extschema@.pgroonga_query_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@* (leftarg = text, rightarg = text, function = @extschema@.pgroonga_similar_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&~ (leftarg = text, rightarg = text, function = @extschema@.pgroonga_regexp_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&^ (leftarg = text, rightarg = text, function = @extschema@.pgroonga_prefix_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@| (leftarg = text, rightarg = text[], function = @extschema@.pgroonga_match_in_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@~| (leftarg = text, rightarg = text[], function = @extschema@.pgroonga_query_in_text, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@ (leftarg = text[], rightarg = text, function = @extschema@.pgroonga_match_text_array, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@~ (leftarg = text[], rightarg = text, function = @extschema@.pgroonga_query_text_array, restrict = contsel, join = contjoinsel);
create operator @extschema@.&^ (leftarg = text[], rightarg = text, function = @extschema@.pgroonga_prefix_text_array, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@ (leftarg = jsonb, rightarg = text, function = @extschema@.pgroonga_match_jsonb, restrict = contsel, join = contjoinsel);
create operator @extschema@.&@~ (leftarg = jsonb, rightarg = text, function = @extschema@.pgroonga_query_jsonb, restrict = contsel, join = contjoinsel);

${arrayComparisons('text[]', 'text_array')}
${arrayComparisons('varchar[]', 'varchar_array')}
${OPERATOR_CLASSES}

create function @extschema@.pgroonga_score(tableoid oid, ctid tid) returns double precision
language sql stable strict parallel safe
as $postgate_fn$
  select 0::double precision
$postgate_fn$;

create function @extschema@.pgroonga_score("row" record) returns double precision
language plpgsql stable strict parallel safe
as $postgate_fn$
begin
  return 0;
end
$postgate_fn$;

create function @extschema@._pgroonga_escape_html(value text) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
    value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')
$postgate_fn$;

-- HTML-escaped target, every occurrence of a keyword (case-insensitive, longest first) wrapped in <span class="keyword">
create function @extschema@.pgroonga_highlight_html(target text, keywords text[]) returns text
language plpgsql immutable strict parallel safe
as $postgate_fn$
declare
  result text := '';
  rest text := target;
  lowered text;
  best_pos integer;
  best_len integer;
  k text;
  p integer;
  words text[] := array(
    select distinct w from pg_catalog.unnest(keywords) as w
    where pg_catalog.btrim(coalesce(w, '')) <> '');
begin
  words := array(select w from pg_catalog.unnest(words) as w order by pg_catalog.length(w) desc, w);
  loop
    lowered := pg_catalog.lower(rest);
    best_pos := 0;
    best_len := 0;
    foreach k in array words loop
      p := pg_catalog.strpos(lowered, pg_catalog.lower(k));
      if p > 0 and (best_pos = 0 or p < best_pos) then
        best_pos := p;
        best_len := pg_catalog.length(k);
      end if;
    end loop;
    exit when best_pos = 0;
    result := result || @extschema@._pgroonga_escape_html(pg_catalog.substr(rest, 1, best_pos - 1))
      || '<span class="keyword">' || @extschema@._pgroonga_escape_html(pg_catalog.substr(rest, best_pos, best_len)) || '</span>';
    rest := pg_catalog.substr(rest, best_pos + best_len);
  end loop;
  return result || @extschema@._pgroonga_escape_html(rest);
end
$postgate_fn$;

create function @extschema@.pgroonga_highlight_html(target text, keywords text[], index_name regclass) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_highlight_html(target, keywords)
$postgate_fn$;

create function @extschema@.pgroonga_highlight_html(targets text[], keywords text[]) returns text[]
language sql immutable strict parallel safe
as $postgate_fn$
  select array(select @extschema@.pgroonga_highlight_html(t, keywords) from pg_catalog.unnest(targets) with ordinality as u(t, o) order by u.o)
$postgate_fn$;

create function @extschema@.pgroonga_highlight_html(targets text[], keywords text[], index_name regclass) returns text[]
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_highlight_html(targets, keywords)
$postgate_fn$;

-- one snippet of about width characters around the first keyword found, highlighted
create function @extschema@.pgroonga_snippet_html(target text, keywords text[], width integer default 200) returns text[]
language plpgsql immutable strict parallel safe
as $postgate_fn$
declare
  first_pos integer := 0;
  k text;
  p integer;
  start_at integer;
begin
  foreach k in array keywords loop
    continue when pg_catalog.btrim(coalesce(k, '')) = '';
    p := pg_catalog.strpos(pg_catalog.lower(target), pg_catalog.lower(k));
    if p > 0 and (first_pos = 0 or p < first_pos) then
      first_pos := p;
    end if;
  end loop;
  if first_pos = 0 then
    return '{}';
  end if;
  start_at := greatest(1, first_pos - width / 2);
  return array[@extschema@.pgroonga_highlight_html(pg_catalog.substr(target, start_at, width), keywords)];
end
$postgate_fn$;

create function @extschema@.pgroonga_query_extract_keywords(query text, index_name text default '') returns text[]
language sql immutable strict parallel safe
as $postgate_fn$
  select coalesce(pg_catalog.array_agg(t.term order by t.ord), '{}')
  from (
    select pg_catalog.btrim(pg_catalog.ltrim(pg_catalog.btrim(m.token[1], '()'), '+'), '"') as term, m.ord
    from pg_catalog.regexp_matches(query, '("[^"]*"|\S+)', 'g') with ordinality as m(token, ord)
  ) t
  where t.term <> '' and t.term <> 'OR' and pg_catalog.left(t.term, 1) <> '-'
$postgate_fn$;

create function @extschema@.pgroonga_normalize(target text) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.lower(target)
$postgate_fn$;

create function @extschema@.pgroonga_normalize(target text, normalizer_name text) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.pgroonga_normalize(target)
$postgate_fn$;

create function @extschema@.pgroonga_escape(value text) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select '"' || pg_catalog.replace(pg_catalog.replace(value, '\', '\\'), '"', '\"') || '"'
$postgate_fn$;

create function @extschema@.pgroonga_query_escape(query text) returns text
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.regexp_replace(query, '([+\-<>~*()":\\])', '\\\1', 'g')
$postgate_fn$;

create function @extschema@.pgroonga_command(groonga_command text) returns text
language plpgsql volatile
as $postgate_fn$
begin
  raise exception 'pgroonga_command: there is no Groonga behind postgate''s pgroonga stand-in'
    using errcode = 'feature_not_supported';
end
$postgate_fn$;

create function @extschema@.pgroonga_command(groonga_command text, arguments text[]) returns text
language sql volatile
as $postgate_fn$
  select @extschema@.pgroonga_command(groonga_command)
$postgate_fn$;
`;

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
