-- ---------------------------------------------------------------- supabase_functions
-- A Database Webhook is an AFTER ... FOR EACH ROW trigger executing
-- supabase_functions.http_request(url, method, headers_json, params_json, timeout_ms).
create schema if not exists supabase_functions authorization supabase_admin;
grant usage on schema supabase_functions to postgres, anon, authenticated, service_role;
grant all on schema supabase_functions to supabase_functions_admin;

create table if not exists supabase_functions.hooks (
  id bigserial not null,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint,
  constraint hooks_pkey primary key (id)
);
comment on table supabase_functions.hooks is
  'Supabase Functions Hooks: Audit trail for triggered hooks.';
create index if not exists supabase_functions_hooks_request_id_idx on supabase_functions.hooks (request_id);
create index if not exists supabase_functions_hooks_h_table_id_h_name_idx
  on supabase_functions.hooks (hook_table_id, hook_name);
alter table supabase_functions.hooks owner to supabase_functions_admin;

create or replace function supabase_functions.http_request() returns trigger
language plpgsql security definer
set search_path = supabase_functions
as $postgate_fn$
declare
  request_id bigint;
  payload jsonb;
  url text := TG_ARGV[0]::text;
  method text := TG_ARGV[1]::text;
  headers jsonb := '{}'::jsonb;
  params jsonb := '{}'::jsonb;
  timeout_ms integer := 1000;
begin
  if url is null or url = 'null' then
    raise exception 'url argument is missing';
  end if;
  if method is null or method = 'null' then
    raise exception 'method argument is missing';
  end if;
  if TG_ARGV[2] is null or TG_ARGV[2] = 'null' then
    headers := '{"Content-Type": "application/json"}'::jsonb;
  else
    headers := TG_ARGV[2]::jsonb;
  end if;
  if TG_ARGV[3] is not null and TG_ARGV[3] <> 'null' then
    params := TG_ARGV[3]::jsonb;
  end if;
  if TG_ARGV[4] is not null and TG_ARGV[4] <> 'null' then
    timeout_ms := TG_ARGV[4]::integer;
  end if;

  case method
    when 'GET' then
      request_id := net.http_get(url, params, headers, timeout_ms);
    when 'POST' then
      payload := pg_catalog.jsonb_build_object(
        'old_record', OLD,
        'record', NEW,
        'type', TG_OP,
        'table', TG_TABLE_NAME,
        'schema', TG_TABLE_SCHEMA
      );
      request_id := net.http_post(url, payload, params, headers, timeout_ms);
    else
      raise exception 'method argument % is invalid', method;
  end case;

  insert into supabase_functions.hooks (hook_table_id, hook_name, request_id)
  values (TG_RELID, TG_NAME, request_id);

  return NEW;
end
$postgate_fn$;
alter function supabase_functions.http_request() owner to supabase_functions_admin;
revoke all on function supabase_functions.http_request() from public;
grant execute on function supabase_functions.http_request() to postgres, service_role, supabase_functions_admin;
grant all on supabase_functions.hooks to postgres, service_role, supabase_functions_admin;
grant all on sequence supabase_functions.hooks_id_seq to postgres, service_role, supabase_functions_admin;
