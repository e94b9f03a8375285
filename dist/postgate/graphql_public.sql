-- ---------------------------------------------------------------- graphql_public (stand-in)
create schema if not exists graphql_public;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- What Supabase answers while pg_graphql is not enabled.
create or replace function graphql_public.graphql(
  "operationName" text default null,
  query text default null,
  variables jsonb default null,
  extensions jsonb default null
) returns jsonb
language plpgsql
as $postgate_fn$
begin
  return pg_catalog.jsonb_build_object(
    'errors', pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('message', 'pg_graphql extension is not enabled.')
    )
  );
end
$postgate_fn$;
grant execute on function graphql_public.graphql(text, text, jsonb, jsonb)
  to postgres, anon, authenticated, service_role;
