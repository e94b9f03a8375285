create domain @extschema@.http_method as text;

create domain @extschema@.content_type as text
  check (value ~ '^\S+\/\S+');

create type @extschema@.http_header as (
  field varchar,
  value varchar
);

create type @extschema@.http_response as (
  status integer,
  content_type varchar,
  headers @extschema@.http_header[],
  content varchar
);

create type @extschema@.http_request as (
  method @extschema@.http_method,
  uri varchar,
  headers @extschema@.http_header[],
  content_type varchar,
  content varchar
);

-- Curl options live in a session setting (a jsonb object): no network is involved in keeping them.
create function @extschema@.http_set_curlopt(curlopt varchar, value varchar) returns boolean
language plpgsql
as $postgate_fn$
declare
  opts jsonb := coalesce(nullif(pg_catalog.current_setting('postgate_http.curlopts', true), ''), '{}')::jsonb;
begin
  if curlopt is null or pg_catalog.upper(curlopt) !~ '^CURLOPT_[A-Z0-9_]+$' then
    raise exception 'curl option ''%'' is not available for run-time configuration', curlopt
      using errcode = 'invalid_parameter_value';
  end if;
  opts := opts || pg_catalog.jsonb_build_object(pg_catalog.upper(curlopt), value);
  perform pg_catalog.set_config('postgate_http.curlopts', opts::text, false);
  return true;
end
$postgate_fn$;

create function @extschema@.http_reset_curlopt() returns boolean
language sql
as $postgate_fn$
  select pg_catalog.set_config('postgate_http.curlopts', '{}', false) is not null
$postgate_fn$;

create function @extschema@.http_list_curlopt() returns table (curlopt text, value text)
language sql
as $postgate_fn$
  select o.key, o.value
  from pg_catalog.jsonb_each_text(
    coalesce(nullif(pg_catalog.current_setting('postgate_http.curlopts', true), ''), '{}')::jsonb) as o
  order by o.key
$postgate_fn$;

create function @extschema@.http_header(field varchar, value varchar) returns @extschema@.http_header
language sql
as $postgate_fn$
  select $1, $2
$postgate_fn$;

create function @extschema@.http(request @extschema@.http_request) returns @extschema@.http_response
language plpgsql
as $postgate_fn$
begin
  raise exception 'http: the postgate shadow database never sends HTTP requests (%request not sent)',
      coalesce(pg_catalog.upper((request).method::text) || ' ', '')
    using errcode = 'feature_not_supported',
          detail = 'The http extension here is postgate''s stand-in: its functions exist so migrations apply, and calling one fails.',
          hint = 'Keep HTTP calls out of migrations and seed data, or run them against a real Supabase database.';
end
$postgate_fn$;

create function @extschema@.http_get(uri varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('GET', $1, null, null, null)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_post(uri varchar, content varchar, content_type varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('POST', $1, null, $3, $2)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_put(uri varchar, content varchar, content_type varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('PUT', $1, null, $3, $2)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_patch(uri varchar, content varchar, content_type varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('PATCH', $1, null, $3, $2)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_delete(uri varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('DELETE', $1, null, null, null)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_delete(uri varchar, content varchar, content_type varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('DELETE', $1, null, $3, $2)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_head(uri varchar) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('HEAD', $1, null, null, null)::@extschema@.http_request)
$postgate_fn$;

-- Percent-encoding of bytes: unreserved characters as they are, space as '+', the rest %XX.
create function @extschema@.urlencode(string bytea) returns text
language sql immutable strict
as $postgate_fn$
  select coalesce(pg_catalog.string_agg(
    case
      when b.byte between 48 and 57 or b.byte between 65 and 90 or b.byte between 97 and 122
        or b.byte in (45, 46, 95, 126) then pg_catalog.chr(b.byte)
      when b.byte = 32 then '+'
      else '%' || pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b.byte), 2, '0'))
    end, '' order by b.i), '')
  from (
    select i, pg_catalog.get_byte($1, i) as byte
    from pg_catalog.generate_series(0, pg_catalog.length($1) - 1) as i
  ) b
$postgate_fn$;

create function @extschema@.urlencode(string varchar) returns text
language sql immutable strict
as $postgate_fn$
  select @extschema@.urlencode(pg_catalog.convert_to($1::text, 'UTF8'))
$postgate_fn$;

create function @extschema@.urlencode(data jsonb) returns text
language sql immutable strict
as $postgate_fn$
  select coalesce(pg_catalog.string_agg(
    @extschema@.urlencode(pg_catalog.convert_to(e.key, 'UTF8')) || '=' ||
      @extschema@.urlencode(pg_catalog.convert_to(coalesce(e.value #>> '{}', ''), 'UTF8')),
    '&' order by e.ord), '')
  from pg_catalog.jsonb_each($1) with ordinality as e(key, value, ord)
$postgate_fn$;

create function @extschema@.http_get(uri varchar, data jsonb) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('GET', $1 || '?' || @extschema@.urlencode($2), null, null, null)::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.http_post(uri varchar, data jsonb) returns @extschema@.http_response
language sql
as $postgate_fn$
  select @extschema@.http(('POST', $1, null, 'application/x-www-form-urlencoded', @extschema@.urlencode($2))::@extschema@.http_request)
$postgate_fn$;

create function @extschema@.text_to_bytea(data text) returns bytea
language sql immutable strict
as $postgate_fn$
  select pg_catalog.convert_to($1, pg_catalog.current_setting('server_encoding'))
$postgate_fn$;

create function @extschema@.bytea_to_text(data bytea) returns text
language sql immutable strict
as $postgate_fn$
  select pg_catalog.convert_from($1, pg_catalog.current_setting('server_encoding'))
$postgate_fn$;
