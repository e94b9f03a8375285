create function @extschema@.plv8_call_handler() returns language_handler
language c
as '$libdir/plpgsql', 'plpgsql_call_handler';

create trusted language plv8 handler @extschema@.plv8_call_handler;

comment on language plv8 is 'PL/JavaScript (v8) trusted procedural language';

create function @extschema@.plv8_version() returns text
language sql immutable
as $postgate_fn$
  select '3.1.10'::text
$postgate_fn$;

create function @extschema@.plv8_info() returns json
language sql stable
as $postgate_fn$
  select pg_catalog.json_build_array(pg_catalog.json_build_object(
    'pid', pg_catalog.pg_backend_pid(),
    'user', current_user,
    'stand_in', 'postgate: plv8 function bodies are stored, not run'))
$postgate_fn$;
