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
