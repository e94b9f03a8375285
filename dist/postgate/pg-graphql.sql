-- Bumped on every DDL statement (event triggers below).
create sequence graphql.seq_schema_version as integer cycle;

create function graphql.increment_schema_version() returns event_trigger
language plpgsql security definer
set search_path = ''
as $postgate_fn$
begin
  perform pg_catalog.nextval('graphql.seq_schema_version');
end
$postgate_fn$;

create function graphql.get_schema_version() returns integer
language sql security definer
set search_path = ''
as $postgate_fn$
  select last_value::integer from graphql.seq_schema_version
$postgate_fn$;

create event trigger graphql_watch_ddl on ddl_command_end
  execute function graphql.increment_schema_version();
create event trigger graphql_watch_drop on sql_drop
  execute function graphql.increment_schema_version();

create function graphql.exception(message text) returns text
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  raise exception using errcode = '22000', message = message;
end
$postgate_fn$;

-- The JSON object inside @graphql(...) in a comment; {} when there is none.
create function graphql.comment_directive(comment_ text) returns jsonb
language sql immutable
set search_path = ''
as $postgate_fn$
  select coalesce(
    (pg_catalog.regexp_match(comment_, '@graphql\((.+)\)'))[1]::jsonb,
    pg_catalog.jsonb_build_object()
  )
$postgate_fn$;

-- pg_graphql's engine. The stand-in has none.
create function graphql._internal_resolve(
  query text,
  variables jsonb default '{}'::jsonb,
  "operationName" text default null,
  extensions jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  raise exception using
    errcode = 'feature_not_supported',
    message = 'GraphQL is not available in postgate''s shadow database: pg_graphql is a stand-in there that resolves no query';
end
$postgate_fn$;

-- pg_graphql's public entry point: an error object, never an exception.
create function graphql.resolve(
  query text,
  variables jsonb default '{}'::jsonb,
  "operationName" text default null,
  extensions jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
as $postgate_fn$
declare
  message_text text;
begin
  return graphql._internal_resolve(
    query := query,
    variables := variables,
    "operationName" := "operationName",
    extensions := extensions);
exception
  when others then
    get stacked diagnostics message_text = message_text;
    return pg_catalog.jsonb_build_object(
      'data', null,
      'errors', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('message', message_text)));
end
$postgate_fn$;

-- What Supabase grants on schema graphql, for the roles this cluster has.
do $postgate_grants$
declare
  grantee text;
begin
  foreach grantee in array array['postgres', 'anon', 'authenticated', 'service_role'] loop
    continue when not exists (select 1 from pg_catalog.pg_roles r where r.rolname = grantee);
    execute pg_catalog.format('grant usage on schema graphql to %I', grantee);
    execute pg_catalog.format('grant all on function graphql.resolve(text, jsonb, text, jsonb) to %I', grantee);
    execute pg_catalog.format('grant usage, select on sequence graphql.seq_schema_version to %I', grantee);
  end loop;
end
$postgate_grants$;
