create schema _timescaledb_catalog;
create schema _timescaledb_internal;
create schema _timescaledb_cache;
create schema _timescaledb_config;
create schema _timescaledb_functions;
create schema timescaledb_information;
create schema timescaledb_experimental;
grant usage on schema _timescaledb_catalog, _timescaledb_internal, _timescaledb_cache, _timescaledb_config,
  _timescaledb_functions, timescaledb_information, timescaledb_experimental to public;

create table _timescaledb_catalog.hypertable (
  id serial primary key,
  schema_name name not null,
  table_name name not null,
  associated_schema_name name not null,
  associated_table_prefix name not null,
  num_dimensions smallint not null,
  chunk_sizing_func_schema name not null,
  chunk_sizing_func_name name not null,
  chunk_target_size bigint not null default 0,
  compression_state smallint not null default 0,
  compressed_hypertable_id integer,
  status integer not null default 0,
  -- postgate: the table this row describes (TimescaleDB follows renames and drops with hooks)
  relid oid not null unique
);

create table _timescaledb_catalog.dimension (
  id serial primary key,
  hypertable_id integer not null references _timescaledb_catalog.hypertable (id) on delete cascade,
  column_name name not null,
  column_type regtype not null,
  aligned boolean not null,
  num_slices smallint,
  partitioning_func_schema name,
  partitioning_func name,
  interval_length bigint,
  compress_interval_length bigint,
  integer_now_func_schema name,
  integer_now_func name,
  unique (hypertable_id, column_name)
);

create sequence _timescaledb_config.bgw_job_id_seq minvalue 1000 start 1000;

create table _timescaledb_config.bgw_job (
  id integer primary key default pg_catalog.nextval('_timescaledb_config.bgw_job_id_seq'),
  application_name name not null,
  schedule_interval interval not null,
  max_runtime interval not null,
  max_retries integer not null,
  retry_period interval not null,
  proc_schema name not null,
  proc_name name not null,
  owner regrole not null default current_role::regrole,
  scheduled boolean not null default true,
  fixed_schedule boolean not null default true,
  initial_start timestamp with time zone,
  hypertable_id integer references _timescaledb_catalog.hypertable (id) on delete cascade,
  config jsonb,
  check_schema name,
  check_name name,
  timezone text
);
alter sequence _timescaledb_config.bgw_job_id_seq owned by _timescaledb_config.bgw_job.id;

grant select on all tables in schema _timescaledb_catalog to public;
grant select on all tables in schema _timescaledb_config to public;

-- pg_dump keeps the catalog's rows, as TimescaleDB arranges (only possible inside CREATE EXTENSION)
do $postgate_dump$
begin
  perform pg_catalog.pg_extension_config_dump('_timescaledb_catalog.hypertable', '');
  perform pg_catalog.pg_extension_config_dump('_timescaledb_catalog.dimension', '');
  perform pg_catalog.pg_extension_config_dump('_timescaledb_config.bgw_job', 'where id >= 1000');
exception when others then
  null;
end
$postgate_dump$;

create type _timescaledb_internal.dimension_info as (
  column_name name,
  dimension_type text,
  partition_interval text,
  partition_interval_type regtype,
  number_partitions integer,
  partition_func regproc
);

create function _timescaledb_functions.calculate_chunk_interval(dimension_id integer, dimension_coord bigint, chunk_target_size bigint)
returns bigint
language sql stable
as $postgate_fn$
  select d.interval_length from _timescaledb_catalog.dimension d where d.id = dimension_id
$postgate_fn$;

-- ---------------------------------------------------------------------------------------------
-- catalog writes (SECURITY DEFINER: the catalog belongs to the extension, callers do not)
-- ---------------------------------------------------------------------------------------------

-- Refuses callers that do not own the table (the session's login role, as a guard: the public
-- functions have already checked the current role).
create function _timescaledb_functions.stand_in_check_owner(relation regclass) returns void
language plpgsql stable
set search_path = pg_catalog, pg_temp
as $postgate_fn$
begin
  if not exists (select 1 from pg_catalog.pg_class c where c.oid = relation
                 and pg_catalog.pg_has_role(session_user, c.relowner, 'USAGE')) then
    raise exception 'must be owner of table %', relation
      using errcode = 'insufficient_privilege';
  end if;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_register_hypertable(relation regclass, associated_schema name, associated_prefix name)
returns integer
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $postgate_fn$
declare
  new_id integer;
begin
  perform _timescaledb_functions.stand_in_check_owner(relation);
  -- rows of dropped tables go (TimescaleDB removes them when the table is dropped)
  delete from _timescaledb_catalog.hypertable h where not exists (select 1 from pg_catalog.pg_class c where c.oid = h.relid);
  insert into _timescaledb_catalog.hypertable
    (schema_name, table_name, associated_schema_name, associated_table_prefix, num_dimensions,
     chunk_sizing_func_schema, chunk_sizing_func_name, relid)
  select n.nspname, c.relname, coalesce(associated_schema, '_timescaledb_internal'), coalesce(associated_prefix, ''), 0,
         '_timescaledb_functions', 'calculate_chunk_interval', c.oid
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.oid = relation
  returning id into new_id;
  update _timescaledb_catalog.hypertable set associated_table_prefix = '_hyper_' || new_id
  where id = new_id and associated_table_prefix = '';
  return new_id;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_add_dimension_row(
  hypertable_id integer, column_name name, column_type regtype, num_slices smallint, interval_length bigint, partitioning_func regproc)
returns integer
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $postgate_fn$
declare
  new_id integer;
begin
  perform _timescaledb_functions.stand_in_check_owner(h.relid::regclass)
  from _timescaledb_catalog.hypertable h where h.id = stand_in_add_dimension_row.hypertable_id;
  insert into _timescaledb_catalog.dimension
    (hypertable_id, column_name, column_type, aligned, num_slices, partitioning_func_schema, partitioning_func, interval_length)
  select stand_in_add_dimension_row.hypertable_id, stand_in_add_dimension_row.column_name, column_type, num_slices is null, num_slices,
         case when partitioning_func is null and num_slices is not null then '_timescaledb_functions'
              when partitioning_func is not null then (select n.nspname from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid = partitioning_func) end,
         case when partitioning_func is null and num_slices is not null then 'get_partition_hash'
              when partitioning_func is not null then (select p.proname from pg_catalog.pg_proc p where p.oid = partitioning_func) end,
         interval_length
  returning id into new_id;
  update _timescaledb_catalog.hypertable h set num_dimensions = h.num_dimensions + 1 where h.id = stand_in_add_dimension_row.hypertable_id;
  return new_id;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_set_interval(dimension_id integer, interval_length bigint)
returns void
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $postgate_fn$
begin
  perform _timescaledb_functions.stand_in_check_owner(h.relid::regclass)
  from _timescaledb_catalog.dimension d join _timescaledb_catalog.hypertable h on h.id = d.hypertable_id
  where d.id = dimension_id;
  update _timescaledb_catalog.dimension d set interval_length = stand_in_set_interval.interval_length where d.id = dimension_id;
end
$postgate_fn$;

-- insert (job_id null) or replace a job row; delete with delete_it
create function _timescaledb_functions.stand_in_write_job(job_id integer, job _timescaledb_config.bgw_job, delete_it boolean default false)
returns integer
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $postgate_fn$
declare
  new_id integer;
  existing_owner regrole;
begin
  if job_id is not null then
    select j.owner into existing_owner from _timescaledb_config.bgw_job j where j.id = job_id;
    if existing_owner is not null and not pg_catalog.pg_has_role(session_user, existing_owner, 'USAGE') then
      raise exception 'insufficient permissions to alter job %', job_id using errcode = 'insufficient_privilege';
    end if;
    if delete_it then
      delete from _timescaledb_config.bgw_job j where j.id = job_id;
      return job_id;
    end if;
    update _timescaledb_config.bgw_job j set
      schedule_interval = job.schedule_interval, max_runtime = job.max_runtime, max_retries = job.max_retries,
      retry_period = job.retry_period, scheduled = job.scheduled, fixed_schedule = job.fixed_schedule,
      initial_start = job.initial_start, config = job.config, check_schema = job.check_schema,
      check_name = job.check_name, timezone = job.timezone
    where j.id = job_id;
    return job_id;
  end if;
  if job.hypertable_id is not null then
    perform _timescaledb_functions.stand_in_check_owner(h.relid::regclass)
    from _timescaledb_catalog.hypertable h where h.id = job.hypertable_id;
  end if;
  insert into _timescaledb_config.bgw_job
    (application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_schema, proc_name, owner,
     scheduled, fixed_schedule, initial_start, hypertable_id, config, check_schema, check_name, timezone)
  values (coalesce(job.application_name, 'User-Defined Action'), job.schedule_interval, coalesce(job.max_runtime, '0'),
          coalesce(job.max_retries, -1), coalesce(job.retry_period, '5 minutes'), job.proc_schema, job.proc_name,
          session_user::regrole, coalesce(job.scheduled, true), coalesce(job.fixed_schedule, true), job.initial_start,
          job.hypertable_id, job.config, job.check_schema, job.check_name, job.timezone)
  returning id into new_id;
  update _timescaledb_config.bgw_job j set application_name = pg_catalog.format('%s [%s]', j.application_name, new_id)
  where j.id = new_id;
  return new_id;
end
$postgate_fn$;

-- ---------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------

create function _timescaledb_functions.stand_in_hypertable_id(relation regclass) returns integer
language sql stable
as $postgate_fn$
  select h.id from _timescaledb_catalog.hypertable h where h.relid = relation::oid
$postgate_fn$;

create function _timescaledb_functions.stand_in_require_hypertable(relation regclass) returns integer
language plpgsql stable
as $postgate_fn$
declare
  found_id integer := _timescaledb_functions.stand_in_hypertable_id(relation);
begin
  if found_id is null then
    raise exception 'table "%" is not a hypertable', relation
      using errcode = 'TS001';
  end if;
  return found_id;
end
$postgate_fn$;

-- An interval argument (of any type) in the dimension's unit: microseconds for time columns.
create function _timescaledb_functions.stand_in_interval_length(value text, value_type regtype, column_type regtype, column_name name)
returns bigint
language plpgsql stable
as $postgate_fn$
declare
  is_integer boolean := column_type in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
  result bigint;
begin
  if value is null then
    if is_integer then
      raise exception 'integer dimensions require an explicit interval'
        using errcode = 'invalid_parameter_value';
    end if;
    return 604800000000; -- 7 days
  end if;
  if value_type = 'interval'::regtype then
    if is_integer then
      raise exception 'invalid interval type for % dimension', column_type
        using errcode = 'invalid_parameter_value',
              hint = pg_catalog.format('Use an interval of type integer or bigint for column "%s".', column_name);
    end if;
    if pg_catalog.date_part('month', value::interval) <> 0 or pg_catalog.date_part('year', value::interval) <> 0 then
      -- TimescaleDB counts a month as 30 days for chunk intervals
      result := (extract(epoch from pg_catalog.justify_days(value::interval)) * 1000000)::bigint;
    else
      result := (extract(epoch from value::interval) * 1000000)::bigint;
    end if;
  elsif value_type in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) then
    result := value::bigint;
  else
    raise exception 'invalid interval type for % dimension', column_type
      using errcode = 'invalid_parameter_value';
  end if;
  if result <= 0 then
    raise exception 'invalid interval: must be between 1 and %', 9223372036854775807
      using errcode = 'invalid_parameter_value';
  end if;
  return result;
end
$postgate_fn$;

-- The column's type, refusing what cannot be a time dimension.
create function _timescaledb_functions.stand_in_dimension_column(relation regclass, column_name name, time_dimension boolean, any_type boolean default false)
returns regtype
language plpgsql stable
as $postgate_fn$
declare
  col_type regtype;
begin
  select a.atttypid::regtype into col_type
  from pg_catalog.pg_attribute a
  where a.attrelid = relation and a.attname = column_name and a.attnum > 0 and not a.attisdropped;
  if col_type is null then
    raise exception 'column "%" does not exist', column_name
      using errcode = 'undefined_column';
  end if;
  if time_dimension and not any_type and col_type not in (
      'timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype,
      'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) then
    raise exception 'invalid type for dimension "%"', column_name
      using errcode = 'invalid_parameter_value',
            hint = 'Use an integer, timestamp, or date type.';
  end if;
  return col_type;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_is_empty(relation regclass) returns boolean
language plpgsql stable
as $postgate_fn$
declare
  has_rows boolean;
begin
  execute pg_catalog.format('select exists (select 1 from %s)', relation) into has_rows;
  return not has_rows;
end
$postgate_fn$;

-- NOT NULL on a time column and the default index leading with index_columns, with the caller's rights
create function _timescaledb_functions.stand_in_prepare_column(relation regclass, column_name name, set_not_null boolean,
                                                               index_columns name[], create_default_indexes boolean)
returns void
language plpgsql
as $postgate_fn$
begin
  if set_not_null and exists (select 1 from pg_catalog.pg_attribute a
                              where a.attrelid = relation and a.attname = column_name and not a.attnotnull) then
    raise notice 'adding not-null constraint to column "%"', column_name
      using detail = 'Dimensions cannot have NULL values.';
    execute pg_catalog.format('alter table %s alter column %I set not null', relation, column_name);
  end if;
  if create_default_indexes and not exists (
    select 1 from pg_catalog.pg_index i
    where i.indrelid = relation
      and (select pg_catalog.array_agg(a.attname order by k.ord)
           from pg_catalog.unnest(i.indkey::smallint[]) with ordinality as k(attnum, ord)
           join pg_catalog.pg_attribute a on a.attrelid = relation and a.attnum = k.attnum
           where k.ord <= pg_catalog.cardinality(index_columns)) = index_columns
  ) then
    -- (space column, time desc) or (time desc), named by PostgreSQL as TimescaleDB lets it
    execute pg_catalog.format('create index on %s (%s desc)', relation,
      (select pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ') from pg_catalog.unnest(index_columns) as c));
  end if;
end
$postgate_fn$;

-- Unique indexes must contain every partitioning column.
create function _timescaledb_functions.stand_in_check_unique(relation regclass, column_name name) returns void
language plpgsql stable
as $postgate_fn$
declare
  attnum smallint;
  index_name regclass;
begin
  select a.attnum into attnum from pg_catalog.pg_attribute a where a.attrelid = relation and a.attname = column_name;
  select i.indexrelid::regclass into index_name
  from pg_catalog.pg_index i
  where i.indrelid = relation and i.indisunique and not attnum = any (i.indkey::smallint[])
  limit 1;
  if index_name is not null then
    raise exception 'cannot create a unique index without the column "%" (used in partitioning)', column_name
      using errcode = 'TS103',
            hint = pg_catalog.format('If you''re creating a hypertable on a table with a primary key, ensure the partitioning column "%s" is part of the primary or composite key.', column_name);
  end if;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_create_hypertable(
  relation regclass, time_column name, interval_value text, interval_type regtype,
  partitioning_column name, number_partitions integer, partitioning_func regproc,
  associated_schema name, associated_prefix name, create_default_indexes boolean,
  if_not_exists boolean, migrate_data boolean, any_time_type boolean,
  out hypertable_id integer, out schema_name name, out table_name name, out created boolean)
language plpgsql
as $postgate_fn$
declare
  rel record;
  time_type regtype;
  space_type regtype;
  interval_length bigint;
begin
  select n.nspname, c.relname, c.relkind, c.relowner into rel
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.oid = relation;
  schema_name := rel.nspname;
  table_name := rel.relname;
  hypertable_id := _timescaledb_functions.stand_in_hypertable_id(relation);
  if hypertable_id is not null then
    if if_not_exists then
      raise notice 'table "%" is already a hypertable, skipping', rel.relname;
      created := false;
      return;
    end if;
    raise exception 'table "%" is already a hypertable', rel.relname
      using errcode = 'TS110';
  end if;
  if rel.relkind <> 'r' then
    raise exception 'table "%" is not a regular table', rel.relname
      using errcode = 'wrong_object_type',
            hint = 'Hypertables are created from plain tables (not partitioned tables, views or foreign tables).';
  end if;
  if not pg_catalog.pg_has_role(current_user, rel.relowner, 'USAGE') then
    raise exception 'must be owner of hypertable "%"', rel.relname
      using errcode = 'insufficient_privilege';
  end if;
  time_type := _timescaledb_functions.stand_in_dimension_column(relation, time_column, true, any_time_type);
  interval_length := _timescaledb_functions.stand_in_interval_length(interval_value, interval_type, time_type, time_column);
  if partitioning_column is not null then
    space_type := _timescaledb_functions.stand_in_dimension_column(relation, partitioning_column, false);
    if number_partitions is null or number_partitions < 1 then
      raise exception 'invalid number of partitions: must be between 1 and 32767'
        using errcode = 'invalid_parameter_value';
    end if;
  end if;
  if not migrate_data and not _timescaledb_functions.stand_in_is_empty(relation) then
    raise exception 'table "%" is not empty', rel.relname
      using errcode = 'TS102',
            hint = 'You can migrate data by specifying ''migrate_data => true'' when calling this function.';
  end if;
  perform _timescaledb_functions.stand_in_check_unique(relation, time_column);
  if partitioning_column is not null then
    perform _timescaledb_functions.stand_in_check_unique(relation, partitioning_column);
  end if;
  perform _timescaledb_functions.stand_in_prepare_column(relation, time_column, true, array[time_column], create_default_indexes);
  if partitioning_column is not null then
    perform _timescaledb_functions.stand_in_prepare_column(relation, partitioning_column, false, array[partitioning_column, time_column], create_default_indexes);
  end if;

  hypertable_id := _timescaledb_functions.stand_in_register_hypertable(relation, associated_schema, associated_prefix);
  perform _timescaledb_functions.stand_in_add_dimension_row(hypertable_id, time_column, time_type, null, interval_length, null);
  if partitioning_column is not null then
    perform _timescaledb_functions.stand_in_add_dimension_row(hypertable_id, partitioning_column, space_type, number_partitions::smallint, null, partitioning_func);
  end if;
  created := true;
end
$postgate_fn$;

-- ---------------------------------------------------------------------------------------------
-- public API
-- ---------------------------------------------------------------------------------------------

create function @extschema@.create_hypertable(
  relation regclass,
  time_column_name name,
  partitioning_column name = null,
  number_partitions integer = null,
  associated_schema_name name = null,
  associated_table_prefix name = null,
  chunk_time_interval anyelement = null::bigint,
  create_default_indexes boolean = true,
  if_not_exists boolean = false,
  partitioning_func regproc = null,
  migrate_data boolean = false,
  chunk_target_size text = null,
  chunk_sizing_func regproc = '_timescaledb_functions.calculate_chunk_interval'::regproc,
  time_partitioning_func regproc = null)
returns table (hypertable_id integer, schema_name name, table_name name, created boolean)
language plpgsql
as $postgate_fn$
begin
  return query
  select r.hypertable_id, r.schema_name, r.table_name, r.created
  from _timescaledb_functions.stand_in_create_hypertable(
    relation, time_column_name, chunk_time_interval::text, pg_catalog.pg_typeof(chunk_time_interval)::regtype,
    partitioning_column, number_partitions, partitioning_func, associated_schema_name, associated_table_prefix,
    create_default_indexes, if_not_exists, migrate_data, time_partitioning_func is not null) as r;
end
$postgate_fn$;

create function @extschema@.by_range(column_name name, partition_interval anyelement = null::bigint, partition_func regproc = null)
returns _timescaledb_internal.dimension_info
language sql immutable
as $postgate_fn$
  select row(column_name, 'range', partition_interval::text, pg_catalog.pg_typeof(partition_interval)::regtype, null::integer, partition_func)::_timescaledb_internal.dimension_info
$postgate_fn$;

create function @extschema@.by_hash(column_name name, number_partitions integer, partition_func regproc = null)
returns _timescaledb_internal.dimension_info
language sql immutable
as $postgate_fn$
  select row(column_name, 'hash', null::text, null::regtype, number_partitions, partition_func)::_timescaledb_internal.dimension_info
$postgate_fn$;

create function @extschema@.create_hypertable(
  relation regclass,
  dimension _timescaledb_internal.dimension_info,
  create_default_indexes boolean = true,
  if_not_exists boolean = false,
  migrate_data boolean = false)
returns table (hypertable_id integer, created boolean)
language plpgsql
as $postgate_fn$
begin
  if (dimension).dimension_type is distinct from 'range' then
    raise exception 'first dimension of a hypertable must be a range dimension'
      using errcode = 'invalid_parameter_value',
            hint = 'Use by_range() for the first dimension.';
  end if;
  return query
  select r.hypertable_id, r.created
  from _timescaledb_functions.stand_in_create_hypertable(
    relation, (dimension).column_name, (dimension).partition_interval, (dimension).partition_interval_type,
    null, null, null, null, null, create_default_indexes, if_not_exists, migrate_data,
    (dimension).partition_func is not null) as r;
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_add_dimension(
  hypertable regclass, column_name name, number_partitions integer, interval_value text, interval_type regtype,
  partitioning_func regproc, if_not_exists boolean, out dimension_id integer, out created boolean)
language plpgsql
as $postgate_fn$
declare
  ht_id integer := _timescaledb_functions.stand_in_require_hypertable(hypertable);
  col_type regtype;
begin
  select d.id into dimension_id from _timescaledb_catalog.dimension d
  where d.hypertable_id = ht_id and d.column_name = stand_in_add_dimension.column_name;
  if dimension_id is not null then
    if if_not_exists then
      raise notice 'column "%" is already a dimension, skipping', column_name;
      created := false;
      return;
    end if;
    raise exception 'column "%" is already a dimension', column_name
      using errcode = 'TS130';
  end if;
  if number_partitions is null and interval_value is null then
    raise exception 'must specify either the number of partitions or an interval'
      using errcode = 'invalid_parameter_value';
  end if;
  if not _timescaledb_functions.stand_in_is_empty(hypertable) then
    raise exception 'hypertable "%" has tuples or empty chunks', hypertable
      using errcode = 'feature_not_supported',
            detail = 'It is not possible to add dimensions to a non-empty hypertable.';
  end if;
  col_type := _timescaledb_functions.stand_in_dimension_column(hypertable, column_name, number_partitions is null, partitioning_func is not null);
  perform _timescaledb_functions.stand_in_check_unique(hypertable, column_name);
  if number_partitions is null then
    perform _timescaledb_functions.stand_in_prepare_column(hypertable, column_name, true, array[column_name], false);
    dimension_id := _timescaledb_functions.stand_in_add_dimension_row(ht_id, column_name, col_type, null,
      _timescaledb_functions.stand_in_interval_length(interval_value, interval_type, col_type, column_name), partitioning_func);
  else
    if number_partitions < 1 or number_partitions > 32767 then
      raise exception 'invalid number of partitions: must be between 1 and 32767'
        using errcode = 'invalid_parameter_value';
    end if;
    dimension_id := _timescaledb_functions.stand_in_add_dimension_row(ht_id, column_name, col_type, number_partitions::smallint, null, partitioning_func);
  end if;
  created := true;
end
$postgate_fn$;

-- (SQL, not PL/pgSQL: the result column column_name has the name of an argument, as in TimescaleDB)
create function @extschema@.add_dimension(
  hypertable regclass,
  column_name name,
  number_partitions integer = null,
  chunk_time_interval anyelement = null::bigint,
  partitioning_func regproc = null,
  if_not_exists boolean = false)
returns table (dimension_id integer, schema_name name, table_name name, column_name name, created boolean)
language sql
as $postgate_fn$
  select r.dimension_id, n.nspname, c.relname, $2, r.created
  from _timescaledb_functions.stand_in_add_dimension($1, $2, $3, $4::text, pg_catalog.pg_typeof($4)::regtype, $5, $6) as r
  join pg_catalog.pg_class c on c.oid = $1
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
$postgate_fn$;

create function @extschema@.add_dimension(hypertable regclass, dimension _timescaledb_internal.dimension_info, if_not_exists boolean = false)
returns table (dimension_id integer, created boolean)
language plpgsql
as $postgate_fn$
begin
  return query
  select r.dimension_id, r.created
  from _timescaledb_functions.stand_in_add_dimension(hypertable, (dimension).column_name, (dimension).number_partitions,
    (dimension).partition_interval, coalesce((dimension).partition_interval_type, 'bigint'::regtype), (dimension).partition_func, if_not_exists) as r;
end
$postgate_fn$;

create function @extschema@.set_chunk_time_interval(hypertable regclass, chunk_time_interval anyelement, dimension_name name = null)
returns void
language plpgsql
as $postgate_fn$
declare
  ht_id integer := _timescaledb_functions.stand_in_require_hypertable(hypertable);
  dim record;
begin
  select d.id, d.column_name, d.column_type into dim
  from _timescaledb_catalog.dimension d
  where d.hypertable_id = ht_id and d.num_slices is null and (dimension_name is null or d.column_name = dimension_name)
  order by d.id
  limit 1;
  if dim.id is null then
    raise exception 'hypertable "%" has no time dimension%', hypertable,
      coalesce(pg_catalog.format(' named "%s"', dimension_name), '')
      using errcode = 'undefined_object';
  end if;
  perform _timescaledb_functions.stand_in_set_interval(dim.id,
    _timescaledb_functions.stand_in_interval_length(chunk_time_interval::text, pg_catalog.pg_typeof(chunk_time_interval)::regtype, dim.column_type, dim.column_name));
end
$postgate_fn$;

-- one recorded policy job per kind and hypertable
create function _timescaledb_functions.stand_in_add_policy(
  relation regclass, kind text, proc_name name, config jsonb, if_not_exists boolean,
  schedule_interval interval, max_runtime interval, retry_period interval, initial_start timestamptz, timezone text,
  require_hypertable boolean default true)
returns integer
language plpgsql
as $postgate_fn$
declare
  ht_id integer := _timescaledb_functions.stand_in_hypertable_id(relation);
  existing integer;
  job _timescaledb_config.bgw_job;
begin
  if ht_id is null and require_hypertable then
    raise exception 'table "%" is not a hypertable', relation
      using errcode = 'TS001';
  end if;
  select j.id into existing from _timescaledb_config.bgw_job j
  where j.proc_schema = '_timescaledb_functions' and j.proc_name = stand_in_add_policy.proc_name
    and (j.hypertable_id = ht_id or (ht_id is null and (j.config ->> 'mat_hypertable_id') = relation::oid::text));
  if existing is not null then
    if if_not_exists then
      raise notice '% policy already exists for hypertable "%", skipping', kind, relation;
      return -1;
    end if;
    raise exception '% policy already exists for hypertable "%"', kind, relation
      using errcode = 'duplicate_object';
  end if;
  job.application_name := pg_catalog.initcap(kind) || ' Policy';
  job.schedule_interval := schedule_interval;
  job.max_runtime := max_runtime;
  job.max_retries := -1;
  job.retry_period := retry_period;
  job.proc_schema := '_timescaledb_functions';
  job.proc_name := proc_name;
  job.scheduled := true;
  job.fixed_schedule := initial_start is not null;
  job.initial_start := initial_start;
  job.hypertable_id := ht_id;
  job.config := config;
  job.check_schema := '_timescaledb_functions';
  job.check_name := 'policy_' || pg_catalog.replace(kind, ' ', '_') || '_check';
  job.timezone := timezone;
  return _timescaledb_functions.stand_in_write_job(null, job);
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_remove_policy(relation regclass, kind text, proc_name name, if_exists boolean) returns boolean
language plpgsql
as $postgate_fn$
declare
  existing integer;
begin
  select j.id into existing from _timescaledb_config.bgw_job j
  where j.proc_schema = '_timescaledb_functions' and j.proc_name = stand_in_remove_policy.proc_name
    and (j.hypertable_id = _timescaledb_functions.stand_in_hypertable_id(relation)
         or (j.config ->> 'mat_hypertable_id') = relation::oid::text);
  if existing is null then
    if if_exists then
      raise notice '% policy not found for hypertable "%", skipping', kind, relation;
      return false;
    end if;
    raise exception '% policy not found for hypertable "%"', kind, relation
      using errcode = 'undefined_object';
  end if;
  perform _timescaledb_functions.stand_in_write_job(existing, null, true);
  return true;
end
$postgate_fn$;

-- the value of an "any" interval argument, as TimescaleDB writes it in a policy's config
create function _timescaledb_functions.stand_in_config_value(value anycompatible) returns jsonb
language sql stable
as $postgate_fn$
  select case when value is null then null else pg_catalog.to_jsonb(value::text) end
$postgate_fn$;

create function @extschema@.add_retention_policy(
  relation regclass,
  drop_after anycompatible = null::interval,
  if_not_exists boolean = false,
  schedule_interval interval = null,
  initial_start timestamp with time zone = null,
  timezone text = null,
  drop_created_before interval = null)
returns integer
language plpgsql
as $postgate_fn$
begin
  if (drop_after is null) = (drop_created_before is null) then
    raise exception 'need to specify one of "drop_after" or "drop_created_before"'
      using errcode = 'invalid_parameter_value';
  end if;
  return _timescaledb_functions.stand_in_add_policy(relation, 'retention', 'policy_retention',
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'hypertable_id', _timescaledb_functions.stand_in_hypertable_id(relation),
      'drop_after', _timescaledb_functions.stand_in_config_value(drop_after),
      'drop_created_before', _timescaledb_functions.stand_in_config_value(drop_created_before))),
    if_not_exists, coalesce(schedule_interval, '1 day'), '5 minutes', '5 minutes', initial_start, timezone);
end
$postgate_fn$;

create function @extschema@.remove_retention_policy(relation regclass, if_exists boolean = false) returns void
language sql
as $postgate_fn$
  select null::void from _timescaledb_functions.stand_in_remove_policy(relation, 'retention', 'policy_retention', if_exists)
$postgate_fn$;

create function @extschema@.add_compression_policy(
  hypertable regclass,
  compress_after anycompatible = null::interval,
  if_not_exists boolean = false,
  schedule_interval interval = null,
  initial_start timestamp with time zone = null,
  timezone text = null,
  compress_created_before interval = null)
returns integer
language plpgsql
as $postgate_fn$
begin
  if (compress_after is null) = (compress_created_before is null) then
    raise exception 'need to specify one of "compress_after" or "compress_created_before"'
      using errcode = 'invalid_parameter_value';
  end if;
  return _timescaledb_functions.stand_in_add_policy(hypertable, 'compression', 'policy_compression',
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'hypertable_id', _timescaledb_functions.stand_in_hypertable_id(hypertable),
      'compress_after', _timescaledb_functions.stand_in_config_value(compress_after),
      'compress_created_before', _timescaledb_functions.stand_in_config_value(compress_created_before))),
    if_not_exists, coalesce(schedule_interval, '12 hours'), '0', '1 hour', initial_start, timezone);
end
$postgate_fn$;

create function @extschema@.remove_compression_policy(hypertable regclass, if_exists boolean = false) returns boolean
language sql
as $postgate_fn$
  select _timescaledb_functions.stand_in_remove_policy(hypertable, 'compression', 'policy_compression', if_exists)
$postgate_fn$;

create function @extschema@.add_continuous_aggregate_policy(
  continuous_aggregate regclass,
  start_offset anycompatible,
  end_offset anycompatible,
  schedule_interval interval,
  if_not_exists boolean = false,
  initial_start timestamp with time zone = null,
  timezone text = null)
returns integer
language sql
as $postgate_fn$
  select _timescaledb_functions.stand_in_add_policy(continuous_aggregate, 'refresh continuous aggregate',
    'policy_refresh_continuous_aggregate',
    pg_catalog.jsonb_build_object(
      'end_offset', _timescaledb_functions.stand_in_config_value(end_offset),
      'start_offset', _timescaledb_functions.stand_in_config_value(start_offset),
      'mat_hypertable_id', continuous_aggregate::oid::text),
    if_not_exists, schedule_interval, '0', schedule_interval, initial_start, timezone, false)
$postgate_fn$;

create function @extschema@.remove_continuous_aggregate_policy(continuous_aggregate regclass, if_not_exists boolean = false, if_exists boolean = null)
returns void
language sql
as $postgate_fn$
  select null::void from _timescaledb_functions.stand_in_remove_policy(continuous_aggregate, 'refresh continuous aggregate',
    'policy_refresh_continuous_aggregate', coalesce(if_exists, if_not_exists))
$postgate_fn$;

create function @extschema@.add_reorder_policy(
  hypertable regclass,
  index_name name,
  if_not_exists boolean = false,
  initial_start timestamp with time zone = null,
  timezone text = null)
returns integer
language sql
as $postgate_fn$
  select _timescaledb_functions.stand_in_add_policy(hypertable, 'reorder', 'policy_reorder',
    pg_catalog.jsonb_build_object('index_name', index_name, 'hypertable_id', _timescaledb_functions.stand_in_hypertable_id(hypertable)),
    if_not_exists, '84 hours', '0', '5 minutes', initial_start, timezone)
$postgate_fn$;

create function @extschema@.remove_reorder_policy(hypertable regclass, if_exists boolean = false) returns void
language sql
as $postgate_fn$
  select null::void from _timescaledb_functions.stand_in_remove_policy(hypertable, 'reorder', 'policy_reorder', if_exists)
$postgate_fn$;

create function @extschema@.add_job(
  proc regproc,
  schedule_interval interval,
  config jsonb = null,
  initial_start timestamp with time zone = null,
  scheduled boolean = true,
  check_config regproc = null,
  fixed_schedule boolean = true,
  timezone text = null)
returns integer
language plpgsql
as $postgate_fn$
declare
  job _timescaledb_config.bgw_job;
begin
  job.application_name := 'User-Defined Action';
  job.schedule_interval := schedule_interval;
  job.max_runtime := '0';
  job.max_retries := -1;
  job.retry_period := '5 minutes';
  select n.nspname, p.proname into job.proc_schema, job.proc_name
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid = proc;
  job.scheduled := scheduled;
  job.fixed_schedule := fixed_schedule;
  job.initial_start := initial_start;
  job.config := config;
  if check_config is not null then
    select n.nspname, p.proname into job.check_schema, job.check_name
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid = check_config;
  end if;
  job.timezone := timezone;
  return _timescaledb_functions.stand_in_write_job(null, job);
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_alter_job(
  p_job_id integer, p_schedule_interval interval, p_max_runtime interval, p_max_retries integer, p_retry_period interval,
  p_scheduled boolean, p_config jsonb, p_if_exists boolean, p_check_config regproc, p_fixed_schedule boolean,
  p_initial_start timestamp with time zone, p_timezone text)
returns setof _timescaledb_config.bgw_job
language plpgsql
as $postgate_fn$
declare
  job _timescaledb_config.bgw_job;
begin
  select * into job from _timescaledb_config.bgw_job j where j.id = p_job_id;
  if job.id is null then
    if p_if_exists then
      raise notice 'job % not found, skipping', p_job_id;
      return;
    end if;
    raise exception 'job % not found', p_job_id
      using errcode = 'undefined_object';
  end if;
  job.schedule_interval := coalesce(p_schedule_interval, job.schedule_interval);
  job.max_runtime := coalesce(p_max_runtime, job.max_runtime);
  job.max_retries := coalesce(p_max_retries, job.max_retries);
  job.retry_period := coalesce(p_retry_period, job.retry_period);
  job.scheduled := coalesce(p_scheduled, job.scheduled);
  job.config := coalesce(p_config, job.config);
  job.fixed_schedule := coalesce(p_fixed_schedule, job.fixed_schedule);
  job.initial_start := coalesce(p_initial_start, job.initial_start);
  job.timezone := coalesce(p_timezone, job.timezone);
  if p_check_config is not null then
    select n.nspname, p.proname into job.check_schema, job.check_name
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid = p_check_config;
  end if;
  perform _timescaledb_functions.stand_in_write_job(p_job_id, job);
  return next job;
end
$postgate_fn$;

-- (SQL, not PL/pgSQL: result columns have the names of arguments, as in TimescaleDB)
create function @extschema@.alter_job(
  job_id integer,
  schedule_interval interval = null,
  max_runtime interval = null,
  max_retries integer = null,
  retry_period interval = null,
  scheduled boolean = null,
  config jsonb = null,
  next_start timestamp with time zone = null,
  if_exists boolean = false,
  check_config regproc = null,
  fixed_schedule boolean = null,
  initial_start timestamp with time zone = null,
  timezone text = null)
returns table (job_id integer, schedule_interval interval, max_runtime interval, max_retries integer, retry_period interval,
               scheduled boolean, config jsonb, next_start timestamp with time zone, check_config text,
               fixed_schedule boolean, initial_start timestamp with time zone, timezone text)
language sql
as $postgate_fn$
  select j.id, j.schedule_interval, j.max_runtime, j.max_retries, j.retry_period, j.scheduled, j.config,
         null::timestamp with time zone,
         case when j.check_name is null then null else pg_catalog.quote_ident(j.check_schema) || '.' || pg_catalog.quote_ident(j.check_name) end,
         j.fixed_schedule, j.initial_start, j.timezone
  from _timescaledb_functions.stand_in_alter_job($1, $2, $3, $4, $5, $6, $7, $9, $10, $11, $12, $13) as j
$postgate_fn$;

create function @extschema@.delete_job(job_id integer) returns void
language plpgsql
as $postgate_fn$
begin
  if not exists (select 1 from _timescaledb_config.bgw_job j where j.id = delete_job.job_id) then
    raise exception 'job % not found', job_id
      using errcode = 'undefined_object';
  end if;
  perform _timescaledb_functions.stand_in_write_job(job_id, null, true);
end
$postgate_fn$;

-- No chunk is ever created, so there is none to show or drop.
create function @extschema@.show_chunks(relation regclass, older_than anyelement = null::interval, newer_than anycompatible = null::interval)
returns setof regclass
language plpgsql stable
as $postgate_fn$
begin
  perform _timescaledb_functions.stand_in_require_hypertable(relation);
  return;
end
$postgate_fn$;

create function @extschema@.drop_chunks(relation regclass, older_than anyelement = null::interval, newer_than anycompatible = null::interval, verbose boolean = false)
returns setof text
language plpgsql
as $postgate_fn$
begin
  perform _timescaledb_functions.stand_in_require_hypertable(relation);
  return;
end
$postgate_fn$;

create function @extschema@.hypertable_size(hypertable regclass) returns bigint
language sql stable strict
as $postgate_fn$
  select pg_catalog.pg_total_relation_size(hypertable)
  where _timescaledb_functions.stand_in_hypertable_id(hypertable) is not null
$postgate_fn$;

create function @extschema@.approximate_row_count(relation regclass) returns bigint
language sql stable strict
as $postgate_fn$
  select greatest(c.reltuples, 0)::bigint from pg_catalog.pg_class c where c.oid = relation
$postgate_fn$;

create function @extschema@.timescaledb_pre_restore() returns boolean
language sql
as $postgate_fn$
  select true
$postgate_fn$;

create function @extschema@.timescaledb_post_restore() returns boolean
language sql
as $postgate_fn$
  select true
$postgate_fn$;

-- ---------------------------------------------------------------------------------------------
-- time_bucket
-- ---------------------------------------------------------------------------------------------

-- The bucket of a timestamp: months counted from origin's month for month widths, date_bin otherwise.
create function _timescaledb_functions.stand_in_bucket(width interval, ts timestamp, origin timestamp) returns timestamp
language plpgsql immutable strict parallel safe
as $postgate_fn$
declare
  width_months integer := (pg_catalog.date_part('year', width) * 12 + pg_catalog.date_part('month', width))::integer;
  months integer;
begin
  if width_months <> 0 then
    if pg_catalog.date_part('day', width) <> 0 or width - pg_catalog.make_interval(months => width_months, days => 0) <> '0'::interval then
      raise exception 'month intervals cannot have day or time component'
        using errcode = 'feature_not_supported';
    end if;
    if width_months < 0 then
      raise exception 'period must be greater than 0' using errcode = 'invalid_parameter_value';
    end if;
    months := ((pg_catalog.date_part('year', ts) - pg_catalog.date_part('year', origin)) * 12
               + pg_catalog.date_part('month', ts) - pg_catalog.date_part('month', origin))::integer;
    if ts < origin + pg_catalog.make_interval(months => months) then
      months := months - 1;
    end if;
    months := pg_catalog.floor(months::numeric / width_months)::integer * width_months;
    return origin + pg_catalog.make_interval(months => months);
  end if;
  if width <= '0'::interval then
    raise exception 'period must be greater than 0' using errcode = 'invalid_parameter_value';
  end if;
  return pg_catalog.date_bin(width, ts, origin);
end
$postgate_fn$;

create function _timescaledb_functions.stand_in_default_origin(width interval) returns timestamp
language sql immutable strict parallel safe
as $postgate_fn$
  select case when pg_catalog.date_part('month', width) <> 0 or pg_catalog.date_part('year', width) <> 0
    then '2000-01-01 00:00:00'::timestamp else '2000-01-03 00:00:00'::timestamp end
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp with time zone) returns timestamp with time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts at time zone 'UTC', _timescaledb_functions.stand_in_default_origin(bucket_width)) at time zone 'UTC'
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp without time zone) returns timestamp without time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts, _timescaledb_functions.stand_in_default_origin(bucket_width))
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts date) returns date
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts::timestamp, _timescaledb_functions.stand_in_default_origin(bucket_width))::date
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp with time zone, "offset" interval) returns timestamp with time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.time_bucket(bucket_width, ts - "offset") + "offset"
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp without time zone, "offset" interval) returns timestamp without time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.time_bucket(bucket_width, ts - "offset") + "offset"
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts date, "offset" interval) returns date
language sql immutable strict parallel safe
as $postgate_fn$
  select (@extschema@.time_bucket(bucket_width, ts::timestamp - "offset") + "offset")::date
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp with time zone, origin timestamp with time zone) returns timestamp with time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts at time zone 'UTC', origin at time zone 'UTC') at time zone 'UTC'
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts timestamp without time zone, origin timestamp without time zone) returns timestamp without time zone
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts, origin)
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width interval, ts date, origin date) returns date
language sql immutable strict parallel safe
as $postgate_fn$
  select _timescaledb_functions.stand_in_bucket(bucket_width, ts::timestamp, origin::timestamp)::date
$postgate_fn$;

-- buckets in a time zone: computed on the local time there
create function @extschema@.time_bucket(bucket_width interval, ts timestamp with time zone, timezone text,
                                        origin timestamp with time zone = null, "offset" interval = null)
returns timestamp with time zone
language sql immutable parallel safe
as $postgate_fn$
  select case when bucket_width is null or ts is null or timezone is null then null else
    (_timescaledb_functions.stand_in_bucket(bucket_width,
       (ts at time zone timezone) - coalesce("offset", '0'::interval),
       coalesce(origin at time zone timezone, _timescaledb_functions.stand_in_default_origin(bucket_width)))
     + coalesce("offset", '0'::interval)) at time zone timezone
  end
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width smallint, ts smallint) returns smallint
language sql immutable strict parallel safe
as $postgate_fn$
  select (ts - (((ts::integer % bucket_width) + bucket_width) % bucket_width))::smallint
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width integer, ts integer) returns integer
language sql immutable strict parallel safe
as $postgate_fn$
  select (ts::bigint - (((ts::bigint % bucket_width) + bucket_width) % bucket_width))::integer
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width bigint, ts bigint) returns bigint
language sql immutable strict parallel safe
as $postgate_fn$
  select (ts::numeric - (((ts::numeric % bucket_width) + bucket_width) % bucket_width))::bigint
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width smallint, ts smallint, "offset" smallint) returns smallint
language sql immutable strict parallel safe
as $postgate_fn$
  select (@extschema@.time_bucket(bucket_width::integer, ts::integer - "offset") + "offset")::smallint
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width integer, ts integer, "offset" integer) returns integer
language sql immutable strict parallel safe
as $postgate_fn$
  select (@extschema@.time_bucket(bucket_width::bigint, ts::bigint - "offset") + "offset")::integer
$postgate_fn$;

create function @extschema@.time_bucket(bucket_width bigint, ts bigint, "offset" bigint) returns bigint
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.time_bucket(bucket_width, ts - "offset") + "offset"
$postgate_fn$;

-- ---------------------------------------------------------------------------------------------
-- information views
-- ---------------------------------------------------------------------------------------------

create view timescaledb_information.hypertables as
select h.schema_name as hypertable_schema,
       h.table_name as hypertable_name,
       r.rolname as owner,
       h.num_dimensions,
       0::bigint as num_chunks,
       h.compression_state = 1 as compression_enabled,
       null::name[] as tablespaces
from _timescaledb_catalog.hypertable h
join pg_catalog.pg_class c on c.oid = h.relid
join pg_catalog.pg_roles r on r.oid = c.relowner;

create view timescaledb_information.dimensions as
select h.schema_name as hypertable_schema,
       h.table_name as hypertable_name,
       pg_catalog.row_number() over (partition by h.id order by d.id) as dimension_number,
       d.column_name,
       d.column_type::regtype as column_type,
       case when d.num_slices is null then 'Time' else 'Space' end as dimension_type,
       case when d.num_slices is null and d.column_type not in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            then pg_catalog.make_interval(secs => d.interval_length / 1000000.0) end as time_interval,
       case when d.num_slices is null and d.column_type in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
            then d.interval_length end as integer_interval,
       d.integer_now_func,
       d.num_slices as num_partitions
from _timescaledb_catalog.dimension d
join _timescaledb_catalog.hypertable h on h.id = d.hypertable_id
join pg_catalog.pg_class c on c.oid = h.relid;

create view timescaledb_information.jobs as
select j.id as job_id,
       j.application_name,
       j.schedule_interval,
       j.max_runtime,
       j.max_retries,
       j.retry_period,
       j.proc_schema,
       j.proc_name,
       j.owner,
       j.scheduled,
       j.fixed_schedule,
       j.config,
       null::timestamp with time zone as next_start,
       j.initial_start,
       h.schema_name as hypertable_schema,
       h.table_name as hypertable_name,
       j.check_schema,
       j.check_name
from _timescaledb_config.bgw_job j
left join _timescaledb_catalog.hypertable h on h.id = j.hypertable_id;

grant select on all tables in schema timescaledb_information to public;
