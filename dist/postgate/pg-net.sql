-- Objects live in schema net whatever schema the extension itself is created in (Supabase
-- creates it "with schema extensions"), as with pg_net.
create schema if not exists net;
revoke all on schema net from public;

create domain net.http_method as text
  check (value ilike 'get' or value ilike 'post' or value ilike 'delete');

-- Pending requests. pg_net's worker reads and deletes from here; the stand-in has no worker,
-- so every request stays: this table is the record of what would have been sent.
create unlogged table net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);
comment on table net.http_request_queue is
  'postgate stand-in for pg_net: requests are recorded here and never sent.';

-- Responses, written by pg_net's worker. Always empty here.
create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default pg_catalog.now()
);
create index on net._http_response (created);

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');

create type net.http_response as (
  status_code integer,
  headers jsonb,
  body text
);

create type net.http_response_result as (
  status net.request_status,
  message text,
  response net.http_response
);

-- pg_net raises here when its worker is down. The stand-in stands for a platform whose worker
-- is up (it just never sends anything), so this returns.
create function net.check_worker_is_up() returns void
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  return;
end
$postgate_fn$;
comment on function net.check_worker_is_up() is
  'raises an exception if the pg_net background worker is not up, otherwise it doesn''t return anything';

create function net.worker_restart() returns boolean
language sql
set search_path = ''
as $postgate_fn$
  select true
$postgate_fn$;

create function net.wait_until_running() returns void
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  return;
end
$postgate_fn$;
comment on function net.wait_until_running() is 'waits until the worker is running';

-- Wakes pg_net's worker after a request is queued; there is none to wake.
create function net.wake() returns void
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  return;
end
$postgate_fn$;

-- pg_net would poll net._http_response until the request's response lands. No response ever
-- lands in a shadow cluster, so waiting would hang forever: say so instead.
create function net._await_response(request_id bigint) returns boolean
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  raise exception 'request % will never get a response: postgate''s pg_net stand-in records requests and never sends them', request_id
    using errcode = 'feature_not_supported',
          hint = 'Read the request from net.http_request_queue instead of waiting for its response.';
end
$postgate_fn$;

-- RFC 3986 percent-encoding of everything but the unreserved characters, as libcurl's
-- curl_easy_escape does for pg_net.
create function net._urlencode_string(string character varying) returns text
language sql immutable strict
set search_path = ''
as $postgate_fn$
  select coalesce(pg_catalog.string_agg(
    case
      when b.byte between 48 and 57 or b.byte between 65 and 90 or b.byte between 97 and 122
        or b.byte in (45, 46, 95, 126)
        then pg_catalog.chr(b.byte)
      else '%' || pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b.byte), 2, '0'))
    end, '' order by b.pos), '')
  from (
    select g.pos, pg_catalog.get_byte(r.raw, g.pos) as byte
    from (select pg_catalog.convert_to(string, 'UTF8') as raw) r,
         pg_catalog.generate_series(0, pg_catalog.length(r.raw) - 1) as g(pos)
  ) b
$postgate_fn$;

-- url plus already-encoded key=value pairs as its query string.
create function net._encode_url_with_params_array(url text, params_array text[]) returns text
language sql immutable
set search_path = ''
as $postgate_fn$
  select case
    when url is null then null
    when params_array is null or pg_catalog.cardinality(params_array) = 0 then url
    else url
      || case when pg_catalog.strpos(url, '?') > 0 then '&' else '?' end
      || pg_catalog.array_to_string(params_array, '&')
  end
$postgate_fn$;

create function net._postgate_params_array(params jsonb) returns text[]
language sql immutable
set search_path = ''
as $postgate_fn$
  select coalesce(
    pg_catalog.array_agg(net._urlencode_string(p.key) || '=' || net._urlencode_string(p.value) order by p.ord),
    '{}'::text[])
  from pg_catalog.jsonb_each_text(coalesce(params, '{}'::jsonb)) with ordinality as p(key, value, ord)
$postgate_fn$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $postgate_fn$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._encode_url_with_params_array(url, net._postgate_params_array(params)), headers, timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$postgate_fn$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $postgate_fn$
declare
  request_id bigint;
  content_type text;
begin
  select h.value into content_type
  from pg_catalog.jsonb_each_text(coalesce(headers, '{}'::jsonb)) as h(key, value)
  where pg_catalog.lower(h.key) = 'content-type'
  limit 1;

  if content_type is null then
    headers := headers || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;

  -- pg_net sends the canonical jsonb text of the body.
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'POST',
    net._encode_url_with_params_array(url, net._postgate_params_array(params)),
    headers,
    pg_catalog.convert_to(body::text, 'UTF8'),
    timeout_milliseconds
  )
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$postgate_fn$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $postgate_fn$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'DELETE',
    net._encode_url_with_params_array(url, net._postgate_params_array(params)),
    headers,
    pg_catalog.convert_to(body::text, 'UTF8'),
    timeout_milliseconds
  )
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$postgate_fn$;

create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
set search_path = ''
as $postgate_fn$
declare
  rec net._http_response;
begin
  if not async then
    perform net._await_response(request_id);
  end if;

  select * into rec from net._http_response r where r.id = request_id;

  if rec is null or rec.error_msg is not null then
    return row(
      'ERROR',
      coalesce(rec.error_msg, 'request matching request_id not found'),
      null
    )::net.http_response_result;
  end if;

  return row(
    'SUCCESS',
    'ok',
    row(rec.status_code, rec.headers, rec.content)::net.http_response
  )::net.http_response_result;
end
$postgate_fn$;

create function net.http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  raise notice 'The net.http_collect_response function is deprecated.';
  return net._http_collect_response(request_id, async);
end
$postgate_fn$;

-- Privileges: Supabase's locked-down setup, for the roles this cluster has.
revoke all on all functions in schema net from public;
revoke all on net.http_request_queue, net._http_response from public;
grant execute on function
  net._urlencode_string(character varying),
  net._encode_url_with_params_array(text, text[]),
  net._postgate_params_array(jsonb),
  net.check_worker_is_up(),
  net.wait_until_running(),
  net.wake()
  to public;

do $postgate_grants$
declare
  grantee text;
begin
  foreach grantee in array array['postgres', 'anon', 'authenticated', 'service_role', 'supabase_functions_admin'] loop
    if exists (select 1 from pg_catalog.pg_roles r where r.rolname = grantee) then
      execute pg_catalog.format('grant usage on schema net to %I', grantee);
    end if;
  end loop;
  foreach grantee in array array['postgres', 'service_role', 'supabase_functions_admin'] loop
    if exists (select 1 from pg_catalog.pg_roles r where r.rolname = grantee) then
      execute pg_catalog.format(
        'grant execute on function net.http_get(text, jsonb, jsonb, integer), '
        'net.http_post(text, jsonb, jsonb, jsonb, integer), '
        'net.http_delete(text, jsonb, jsonb, integer, jsonb), '
        'net._http_collect_response(bigint, boolean), net.http_collect_response(bigint, boolean) to %I',
        grantee);
      execute pg_catalog.format('grant select on net.http_request_queue, net._http_response to %I', grantee);
    end if;
  end loop;
end
$postgate_grants$;
