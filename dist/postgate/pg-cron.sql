create schema cron;

create sequence cron.jobid_seq;
create table cron.job (
  jobid bigint primary key default pg_catalog.nextval('cron.jobid_seq'),
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default pg_catalog.inet_server_port(),
  database text not null default pg_catalog.current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text,
  constraint jobname_username_uniq unique (jobname, username)
);
alter sequence cron.jobid_seq owned by cron.job.jobid;
grant select on cron.job to public;
alter table cron.job enable row level security;
create policy cron_job_policy on cron.job using (username = current_user);

create sequence cron.runid_seq;
create table cron.job_run_details (
  jobid bigint,
  runid bigint primary key default pg_catalog.nextval('cron.runid_seq'),
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);
alter sequence cron.runid_seq owned by cron.job_run_details.runid;
grant select on cron.job_run_details to public;
alter table cron.job_run_details enable row level security;
create policy cron_job_run_details_policy on cron.job_run_details using (username = current_user);

select pg_catalog.pg_extension_config_dump('cron.job', '');
select pg_catalog.pg_extension_config_dump('cron.jobid_seq', '');
select pg_catalog.pg_extension_config_dump('cron.job_run_details', '');
select pg_catalog.pg_extension_config_dump('cron.runid_seq', '');

-- pg_cron's scheduler reloads its jobs when cron.job changes. There is no scheduler here.
create function cron.job_cache_invalidate() returns trigger
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  return null;
end
$postgate_fn$;
comment on function cron.job_cache_invalidate() is 'invalidate job cache';
create trigger cron_job_cache_invalidate
  after insert or update or delete or truncate on cron.job
  for each statement execute function cron.job_cache_invalidate();

-- The role a job is recorded for. Called from security definer functions, where current_user
-- is the function's owner: the session's role (SET ROLE), else the session user, is the caller.
create function cron._postgate_caller() returns text
language sql stable
set search_path = ''
as $postgate_fn$
  select case
    when pg_catalog.current_setting('role') = 'none' then session_user::text
    else pg_catalog.current_setting('role')
  end
$postgate_fn$;

create function cron._postgate_is_superuser(role_name text) returns boolean
language sql stable
set search_path = ''
as $postgate_fn$
  select coalesce((select r.rolsuper from pg_catalog.pg_roles r where r.rolname = role_name), false)
$postgate_fn$;

-- One cron field: a comma list of *, n or n-m, with /step after * or a range.
create function cron._postgate_field_is_valid(field text, low integer, high integer, names text[]) returns boolean
language plpgsql immutable
set search_path = ''
as $postgate_fn$
declare
  element text;
  parts text[];
  token text;
  number_value integer;
  name_index integer;
begin
  foreach element in array pg_catalog.string_to_array(field, ',') loop
    parts := pg_catalog.regexp_match(element, '^(\*|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)(/([0-9]+))?$');
    if parts is null then
      return false;
    end if;
    if parts[4] is not null and (pg_catalog.length(parts[4]) > 9 or parts[4]::integer < 1) then
      return false;
    end if;
    if parts[1] = '*' then
      continue;
    end if;
    -- A step needs a range: "1/20" is refused, as in Vixie cron.
    if parts[4] is not null and parts[2] is null then
      return false;
    end if;
    foreach token in array pg_catalog.string_to_array(parts[1], '-') loop
      if token ~ '^[0-9]+$' then
        if pg_catalog.length(token) > 9 then
          return false;
        end if;
        number_value := token::integer;
      else
        name_index := pg_catalog.array_position(names, pg_catalog.lower(token));
        if name_index is null then
          return false;
        end if;
        number_value := low + name_index - 1;
      end if;
      if number_value < low or number_value > high then
        return false;
      end if;
    end loop;
  end loop;
  return true;
end
$postgate_fn$;

create function cron._postgate_schedule_is_valid(schedule text) returns boolean
language plpgsql immutable strict
set search_path = ''
as $postgate_fn$
declare
  trimmed text := pg_catalog.btrim(schedule, E' \t\n\r');
  seconds text[];
  fields text[];
begin
  if pg_catalog.length(schedule) >= 1000 then
    return false;
  end if;

  -- Interval: '[1-59] seconds'.
  seconds := pg_catalog.regexp_match(trimmed, '^([0-9]+)\s*seconds?$', 'i');
  if seconds is not null then
    return seconds[1]::numeric between 1 and 59;
  end if;

  if pg_catalog.left(trimmed, 1) = '@' then
    return trimmed in ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@reboot', '@restart');
  end if;

  fields := pg_catalog.regexp_split_to_array(trimmed, '\s+');
  if pg_catalog.cardinality(fields) <> 5 then
    return false;
  end if;
  return cron._postgate_field_is_valid(fields[1], 0, 59, null)
    and cron._postgate_field_is_valid(fields[2], 0, 23, null)
    and (fields[3] = '$' or cron._postgate_field_is_valid(fields[3], 1, 31, null))
    and cron._postgate_field_is_valid(fields[4], 1, 12,
          array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'])
    and cron._postgate_field_is_valid(fields[5], 0, 7,
          array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
end
$postgate_fn$;

create function cron._postgate_check_schedule(schedule text) returns void
language plpgsql immutable
set search_path = ''
as $postgate_fn$
begin
  if schedule is null or not cron._postgate_schedule_is_valid(schedule) then
    raise exception 'invalid schedule: %', schedule
      using errcode = 'invalid_parameter_value',
            hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
  end if;
end
$postgate_fn$;

-- The job's user must exist and be allowed to connect to the job's database.
create function cron._postgate_check_target(database_name text, user_name text) returns void
language plpgsql stable
set search_path = ''
as $postgate_fn$
begin
  if not exists (select 1 from pg_catalog.pg_database d where d.datname = database_name) then
    raise exception 'database "%" does not exist', database_name using errcode = 'invalid_catalog_name';
  end if;
  if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = user_name) then
    raise exception 'role "%" does not exist', user_name using errcode = 'undefined_object';
  end if;
  if not pg_catalog.has_database_privilege(user_name, database_name, 'CONNECT') then
    raise exception 'User % does not have CONNECT privilege on %', user_name, database_name
      using errcode = 'insufficient_privilege';
  end if;
end
$postgate_fn$;

-- Adds or updates the named job of user_name; an unnamed job is always added.
create function cron._postgate_record(
  job_name text, schedule text, command text, database_name text, user_name text, is_active boolean
) returns bigint
language plpgsql
set search_path = ''
as $postgate_fn$
declare
  job_id bigint;
begin
  perform cron._postgate_check_schedule(schedule);
  insert into cron.job as j (jobname, schedule, command, nodename, nodeport, database, username, active)
  values (job_name, schedule, command, 'localhost', pg_catalog.current_setting('port')::integer,
          database_name, user_name, is_active)
  on conflict on constraint jobname_username_uniq do update
    set schedule = excluded.schedule,
        command = excluded.command,
        database = excluded.database,
        active = excluded.active
  returning j.jobid into job_id;
  return job_id;
end
$postgate_fn$;

create function cron.schedule(schedule text, command text) returns bigint
language plpgsql strict security definer
set search_path = ''
as $postgate_fn$
begin
  return cron._postgate_record(null, schedule, command, pg_catalog.current_database(), cron._postgate_caller(), true);
end
$postgate_fn$;
comment on function cron.schedule(text, text) is 'schedule a pg_cron job';

create function cron.schedule(job_name text, schedule text, command text) returns bigint
language plpgsql strict security definer
set search_path = ''
as $postgate_fn$
begin
  return cron._postgate_record(job_name, schedule, command, pg_catalog.current_database(), cron._postgate_caller(), true);
end
$postgate_fn$;
comment on function cron.schedule(text, text, text) is 'schedule a pg_cron job';

create function cron.schedule_in_database(
  job_name text,
  schedule text,
  command text,
  database text,
  username text default null,
  active boolean default true
) returns bigint
language plpgsql security definer
set search_path = ''
as $postgate_fn$
declare
  caller text := cron._postgate_caller();
  user_name text := coalesce(username, caller);
begin
  if job_name is null or schedule is null or command is null or database is null then
    raise exception 'job_name, schedule, command and database must not be null' using errcode = 'null_value_not_allowed';
  end if;
  if user_name <> caller and not cron._postgate_is_superuser(caller) then
    raise exception 'must be superuser to schedule a job for another user' using errcode = 'insufficient_privilege';
  end if;
  perform cron._postgate_check_target(database, user_name);
  return cron._postgate_record(job_name, schedule, command, database, user_name, coalesce(active, true));
end
$postgate_fn$;
comment on function cron.schedule_in_database(text, text, text, text, text, boolean) is 'schedule a pg_cron job';

create function cron.unschedule(job_id bigint) returns boolean
language plpgsql strict security definer
set search_path = ''
as $postgate_fn$
declare
  caller text := cron._postgate_caller();
begin
  delete from cron.job j
  where j.jobid = job_id and (j.username = caller or cron._postgate_is_superuser(caller));
  if not found then
    raise exception 'could not find valid entry for job %', job_id using errcode = 'no_data_found';
  end if;
  return true;
end
$postgate_fn$;
comment on function cron.unschedule(bigint) is 'unschedule a pg_cron job';

create function cron.unschedule(job_name text) returns boolean
language plpgsql strict security definer
set search_path = ''
as $postgate_fn$
begin
  delete from cron.job j where j.jobname = job_name and j.username = cron._postgate_caller();
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name using errcode = 'no_data_found';
  end if;
  return true;
end
$postgate_fn$;
comment on function cron.unschedule(text) is 'unschedule a pg_cron job';

create function cron.alter_job(
  job_id bigint,
  schedule text default null,
  command text default null,
  database text default null,
  username text default null,
  active boolean default null
) returns void
language plpgsql security definer
set search_path = ''
as $postgate_fn$
declare
  caller text := cron._postgate_caller();
  job cron.job;
begin
  if schedule is null and command is null and database is null and username is null and active is null then
    raise exception 'no updates specified'
      using errcode = 'invalid_parameter_value',
            hint = 'You must specify at least one job attribute to change when calling alter_job';
  end if;
  select * into job from cron.job j
  where j.jobid = job_id and (j.username = caller or cron._postgate_is_superuser(caller));
  if not found then
    raise exception 'Job % does not exist or you don''t own it', job_id using errcode = 'no_data_found';
  end if;
  if username is not null and not cron._postgate_is_superuser(caller) then
    raise exception 'must be superuser to alter username' using errcode = 'insufficient_privilege';
  end if;
  if database is not null or username is not null then
    perform cron._postgate_check_target(coalesce(database, job.database), coalesce(username, job.username));
  end if;
  if schedule is not null then
    perform cron._postgate_check_schedule(schedule);
  end if;
  update cron.job j
  set schedule = coalesce(alter_job.schedule, j.schedule),
      command = coalesce(alter_job.command, j.command),
      database = coalesce(alter_job.database, j.database),
      username = coalesce(alter_job.username, j.username),
      active = coalesce(alter_job.active, j.active)
  where j.jobid = job_id;
end
$postgate_fn$;
comment on function cron.alter_job(bigint, text, text, text, text, boolean) is
  'Alter the job identified by job_id. Any option left as NULL will not be modified.';

-- Helpers are not part of pg_cron's interface.
revoke all on function
  cron._postgate_caller(),
  cron._postgate_is_superuser(text),
  cron._postgate_field_is_valid(text, integer, integer, text[]),
  cron._postgate_schedule_is_valid(text),
  cron._postgate_check_schedule(text),
  cron._postgate_check_target(text, text),
  cron._postgate_record(text, text, text, text, text, boolean)
  from public;
revoke all on function cron.schedule_in_database(text, text, text, text, text, boolean) from public;

-- Supabase's after-create script for pg_cron, for the roles this cluster has.
do $postgate_grants$
begin
  if exists (select 1 from pg_catalog.pg_roles r where r.rolname = 'postgres') then
    grant usage on schema cron to postgres with grant option;
    grant execute on function
      cron.schedule(text, text),
      cron.schedule(text, text, text),
      cron.schedule_in_database(text, text, text, text, text, boolean),
      cron.unschedule(bigint),
      cron.unschedule(text),
      cron.alter_job(bigint, text, text, text, text, boolean),
      cron.job_cache_invalidate()
      to postgres with grant option;
    grant all privileges on all tables in schema cron to postgres with grant option;
    revoke all on table cron.job from postgres;
    grant select on table cron.job to postgres with grant option;
  end if;
end
$postgate_grants$;
