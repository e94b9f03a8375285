create function pg_stat_monitor_version() returns text
language sql immutable parallel safe
as $postgate_fn$
  select '2.1.0'::text
$postgate_fn$;

create function pg_stat_monitor_reset() returns void
language sql volatile
as $postgate_fn$
  select null::void
$postgate_fn$;
revoke all on function pg_stat_monitor_reset() from public;

create function get_cmd_type(cmd_type integer) returns text
language sql immutable parallel safe
as $postgate_fn$
  select case cmd_type
    when 0 then ''
    when 1 then 'SELECT'
    when 2 then 'UPDATE'
    when 3 then 'INSERT'
    when 4 then 'DELETE'
    when 5 then 'MERGE'
    when 6 then 'UTILITY'
    when 7 then 'NOTHING'
  end
$postgate_fn$;

create function decode_error_level(elevel integer) returns text
language sql immutable parallel safe
as $postgate_fn$
  select case
    when elevel = 0 then ''
    when elevel = 10 then 'DEBUG5'
    when elevel = 11 then 'DEBUG4'
    when elevel = 12 then 'DEBUG3'
    when elevel = 13 then 'DEBUG2'
    when elevel = 14 then 'DEBUG1'
    when elevel = 15 then 'LOG'
    when elevel = 16 then 'LOG_SERVER_ONLY'
    when elevel = 17 then 'INFO'
    when elevel = 18 then 'NOTICE'
    when elevel = 19 then 'WARNING'
    when elevel = 20 then 'WARNING_CLIENT_ONLY'
    when elevel = 21 then 'ERROR'
    when elevel = 22 then 'FATAL'
    when elevel = 23 then 'PANIC'
  end
$postgate_fn$;

create function range() returns text[]
language sql immutable parallel safe
as $postgate_fn$
  select '{}'::text[]
$postgate_fn$;

create function get_histogram_timings() returns text
language sql immutable parallel safe
as $postgate_fn$
  select ''::text
$postgate_fn$;
