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
