-- The control file names schema pgmq, which CREATE EXTENSION creates; run on its own, the script creates it.
do $postgate_schema$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'pgmq') then
    create schema pgmq;
  end if;
end
$postgate_schema$;

create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null,
  is_unlogged boolean not null,
  created_at timestamp with time zone default now() not null
);

grant usage on schema pgmq to pg_monitor;
grant select on pgmq.meta to pg_monitor;

create type pgmq.message_record as (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamp with time zone,
  vt timestamp with time zone,
  message jsonb
);

create type pgmq.queue_record as (
  queue_name varchar,
  is_partitioned boolean,
  is_unlogged boolean,
  created_at timestamp with time zone
);

create type pgmq.metrics_result as (
  queue_name text,
  queue_length bigint,
  newest_msg_age_sec integer,
  oldest_msg_age_sec integer,
  total_messages bigint,
  scrape_time timestamp with time zone,
  queue_visible_length bigint
);

create function pgmq._extension_exists(extension_name text) returns boolean
language sql
as $postgate_fn$
  select exists (select 1 from pg_catalog.pg_extension where extname = extension_name)
$postgate_fn$;

-- q_<name> / a_<name>, lower-cased; refuses the characters pgmq refuses
create function pgmq.format_table_name(queue_name text, prefix text) returns text
language plpgsql immutable
as $postgate_fn$
begin
  if queue_name ~ '\$|;|--|''' then
    raise exception 'queue name contains invalid characters: $, ;, --, or \''';
  end if;
  return pg_catalog.lower(prefix || '_' || queue_name);
end
$postgate_fn$;

create function pgmq.validate_queue_name(queue_name text) returns void
language plpgsql immutable
as $postgate_fn$
begin
  if pg_catalog.length(queue_name) >= 48 then
    raise exception 'queue name is too long, maximum length is 47 characters';
  end if;
end
$postgate_fn$;

create function pgmq._belongs_to_pgmq(table_name text) returns boolean
language sql stable
as $postgate_fn$
  select exists (
    select 1
    from pg_catalog.pg_depend d
    join pg_catalog.pg_extension e on e.oid = d.refobjid and d.refclassid = 'pg_catalog.pg_extension'::regclass
    join pg_catalog.pg_class c on c.oid = d.objid and d.classid = 'pg_catalog.pg_class'::regclass
    where e.extname = 'pgmq' and d.deptype = 'e'
      and c.relname = table_name and c.relnamespace = 'pgmq'::regnamespace)
$postgate_fn$;

-- the queue and archive tables, their indexes, membership of the extension, the meta row
create function pgmq._create_queue(queue_name text, unlogged boolean) returns void
language plpgsql
as $postgate_fn$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  perform pgmq.validate_queue_name(queue_name);
  execute pg_catalog.format(
    $q$create %s table if not exists pgmq.%I (
      msg_id bigint primary key generated always as identity,
      read_ct integer default 0 not null,
      enqueued_at timestamp with time zone default now() not null,
      vt timestamp with time zone not null,
      message jsonb
    )$q$, case when unlogged then 'unlogged' else '' end, qtable);
  execute pg_catalog.format(
    $q$create table if not exists pgmq.%I (
      msg_id bigint primary key,
      read_ct integer default 0 not null,
      enqueued_at timestamp with time zone default now() not null,
      archived_at timestamp with time zone default now() not null,
      vt timestamp with time zone not null,
      message jsonb
    )$q$, atable);
  if pgmq._extension_exists('pgmq') then
    if not pgmq._belongs_to_pgmq(qtable) then
      execute pg_catalog.format('alter extension pgmq add table pgmq.%I', qtable);
      execute pg_catalog.format('alter extension pgmq add sequence pgmq.%I', qtable || '_msg_id_seq');
    end if;
    if not pgmq._belongs_to_pgmq(atable) then
      execute pg_catalog.format('alter extension pgmq add table pgmq.%I', atable);
    end if;
  end if;
  execute pg_catalog.format('create index if not exists %I on pgmq.%I (vt asc)', qtable || '_vt_idx', qtable);
  execute pg_catalog.format('create index if not exists %I on pgmq.%I (archived_at)', 'archived_at_idx_' || queue_name, atable);
  insert into pgmq.meta (queue_name, is_partitioned, is_unlogged)
  values (queue_name, false, unlogged)
  on conflict do nothing;
end
$postgate_fn$;

create function pgmq.create_non_partitioned(queue_name text) returns void
language sql
as $postgate_fn$
  select pgmq._create_queue(queue_name, false)
$postgate_fn$;

create function pgmq."create"(queue_name text) returns void
language sql
as $postgate_fn$
  select pgmq._create_queue(queue_name, false)
$postgate_fn$;

create function pgmq.create_unlogged(queue_name text) returns void
language sql
as $postgate_fn$
  select pgmq._create_queue(queue_name, true)
$postgate_fn$;

create function pgmq.create_partitioned(queue_name text, partition_interval text default '10000', retention_interval text default '100000') returns void
language plpgsql
as $postgate_fn$
begin
  raise exception 'pgmq.create_partitioned needs pg_partman, which postgate''s pgmq stand-in does not drive'
    using errcode = 'feature_not_supported',
          hint = 'Use pgmq.create() for the queue in the shadow database, or run this migration against a real Supabase database.';
end
$postgate_fn$;

create function pgmq.drop_queue(queue_name text) returns boolean
language plpgsql
as $postgate_fn$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  -- membership is checked first: a queue detached from the extension (as Supabase does for
  -- logical backups) is dropped all the same
  if pgmq._belongs_to_pgmq(qtable) then
    execute pg_catalog.format('alter extension pgmq drop table pgmq.%I', qtable);
  end if;
  if exists (
    select 1 from pg_catalog.pg_depend d
    join pg_catalog.pg_class c on c.oid = d.objid and d.classid = 'pg_catalog.pg_class'::regclass
    join pg_catalog.pg_extension e on e.oid = d.refobjid and d.refclassid = 'pg_catalog.pg_extension'::regclass
    where e.extname = 'pgmq' and d.deptype = 'e' and c.relname = qtable || '_msg_id_seq' and c.relnamespace = 'pgmq'::regnamespace
  ) then
    execute pg_catalog.format('alter extension pgmq drop sequence pgmq.%I', qtable || '_msg_id_seq');
  end if;
  if pgmq._belongs_to_pgmq(atable) then
    execute pg_catalog.format('alter extension pgmq drop table pgmq.%I', atable);
  end if;
  execute pg_catalog.format('drop table if exists pgmq.%I', qtable);
  execute pg_catalog.format('drop table if exists pgmq.%I', atable);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return true;
end
$postgate_fn$;

create function pgmq.drop_queue(queue_name text, partitioned boolean) returns boolean
language plpgsql
as $postgate_fn$
begin
  raise warning 'drop_queue(queue_name, partitioned) is deprecated and will be removed in PGMQ v2.0. Use drop_queue(queue_name) instead.';
  return pgmq.drop_queue(queue_name);
end
$postgate_fn$;

create function pgmq.purge_queue(queue_name text) returns bigint
language plpgsql
as $postgate_fn$
declare
  deleted bigint;
begin
  execute pg_catalog.format('delete from pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  get diagnostics deleted = row_count;
  return deleted;
end
$postgate_fn$;

create function pgmq.detach_archive(queue_name text) returns void
language plpgsql
as $postgate_fn$
begin
  execute pg_catalog.format('alter extension pgmq drop table pgmq.%I', pgmq.format_table_name(queue_name, 'a'));
end
$postgate_fn$;


create function pgmq.send(queue_name text, msg jsonb, delay integer default 0) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    'insert into pgmq.%I (vt, message) values (pg_catalog.clock_timestamp() + $2, $1) returning msg_id',
    pgmq.format_table_name(queue_name, 'q'))
  using msg, pg_catalog.make_interval(secs => delay);
end
$postgate_fn$;

create function pgmq.send(queue_name text, msg jsonb, delay timestamp with time zone) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    'insert into pgmq.%I (vt, message) values ($2, $1) returning msg_id',
    pgmq.format_table_name(queue_name, 'q'))
  using msg, delay;
end
$postgate_fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer default 0) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    'insert into pgmq.%I (vt, message) select pg_catalog.clock_timestamp() + $2, m.msg from pg_catalog.unnest($1) with ordinality as m(msg, ord) order by m.ord returning msg_id',
    pgmq.format_table_name(queue_name, 'q'))
  using msgs, pg_catalog.make_interval(secs => delay);
end
$postgate_fn$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamp with time zone) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    'insert into pgmq.%I (vt, message) select $2, m.msg from pg_catalog.unnest($1) with ordinality as m(msg, ord) order by m.ord returning msg_id',
    pgmq.format_table_name(queue_name, 'q'))
  using msgs, delay;
end
$postgate_fn$;

-- the oldest visible messages (optionally only those containing conditional), invisible for vt seconds
create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}') returns setof pgmq.message_record
language plpgsql
as $postgate_fn$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute pg_catalog.format(
    $q$with picked as (
      select msg_id from pgmq.%1$I
      where vt <= pg_catalog.clock_timestamp() and ($3 = '{}'::jsonb or message @> $3)
      order by msg_id
      limit $1
      for update skip locked
    )
    update pgmq.%1$I m
    set vt = pg_catalog.clock_timestamp() + $2, read_ct = m.read_ct + 1
    from picked
    where m.msg_id = picked.msg_id
    returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message$q$, qtable)
  using qty, pg_catalog.make_interval(secs => vt), coalesce(conditional, '{}'::jsonb);
end
$postgate_fn$;

create function pgmq.read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer default 5,
                                    poll_interval_ms integer default 100, conditional jsonb default '{}')
returns setof pgmq.message_record
language plpgsql
as $postgate_fn$
declare
  stop_at timestamp with time zone := pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => max_poll_seconds);
  found_any boolean;
  r pgmq.message_record;
begin
  loop
    found_any := false;
    for r in select * from pgmq.read(queue_name, vt, qty, conditional) loop
      found_any := true;
      return next r;
    end loop;
    exit when found_any or pg_catalog.clock_timestamp() >= stop_at;
    perform pg_catalog.pg_sleep(poll_interval_ms / 1000.0);
  end loop;
end
$postgate_fn$;

create function pgmq.pop(queue_name text) returns setof pgmq.message_record
language plpgsql
as $postgate_fn$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  return query execute pg_catalog.format(
    $q$with picked as (
      select msg_id from pgmq.%1$I
      where vt <= pg_catalog.clock_timestamp()
      order by msg_id
      limit 1
      for update skip locked
    )
    delete from pgmq.%1$I m
    using picked
    where m.msg_id = picked.msg_id
    returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message$q$, qtable);
end
$postgate_fn$;

create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer) returns setof pgmq.message_record
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    $q$update pgmq.%I m set vt = pg_catalog.clock_timestamp() + $2 where m.msg_id = $1
       returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message$q$,
    pgmq.format_table_name(queue_name, 'q'))
  using msg_id, pg_catalog.make_interval(secs => vt);
end
$postgate_fn$;

create function pgmq.archive(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    $q$with moved as (
      delete from pgmq.%I where msg_id = any ($1)
      returning msg_id, vt, read_ct, enqueued_at, message
    )
    insert into pgmq.%I (msg_id, vt, read_ct, enqueued_at, message)
    select msg_id, vt, read_ct, enqueued_at, message from moved
    returning msg_id$q$,
    pgmq.format_table_name(queue_name, 'q'), pgmq.format_table_name(queue_name, 'a'))
  using msg_ids;
end
$postgate_fn$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean
language sql
as $postgate_fn$
  select exists (select 1 from pgmq.archive(queue_name, array[msg_id]))
$postgate_fn$;

create function pgmq.delete(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
as $postgate_fn$
begin
  return query execute pg_catalog.format(
    'delete from pgmq.%I where msg_id = any ($1) returning msg_id',
    pgmq.format_table_name(queue_name, 'q'))
  using msg_ids;
end
$postgate_fn$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean
language sql
as $postgate_fn$
  select exists (select 1 from pgmq.delete(queue_name, array[msg_id]))
$postgate_fn$;

create function pgmq.list_queues() returns setof pgmq.queue_record
language sql stable
as $postgate_fn$
  select m.queue_name, m.is_partitioned, m.is_unlogged, m.created_at from pgmq.meta m order by m.created_at, m.queue_name
$postgate_fn$;

create function pgmq.metrics(queue_name text) returns pgmq.metrics_result
language plpgsql
as $postgate_fn$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  result pgmq.metrics_result;
begin
  execute pg_catalog.format(
    $q$select $1::text,
       q.queue_length,
       q.newest_msg_age_sec,
       q.oldest_msg_age_sec,
       (select case when s.is_called then s.last_value else 0 end from pgmq.%2$I s),
       q.scrape_time,
       q.queue_visible_length
     from (
       select pg_catalog.count(*) as queue_length,
              pg_catalog.count(*) filter (where vt <= now()) as queue_visible_length,
              extract(epoch from (now() - pg_catalog.max(enqueued_at)))::integer as newest_msg_age_sec,
              extract(epoch from (now() - pg_catalog.min(enqueued_at)))::integer as oldest_msg_age_sec,
              now() as scrape_time
       from pgmq.%1$I
     ) q$q$, qtable, qtable || '_msg_id_seq')
  into result
  using queue_name;
  return result;
end
$postgate_fn$;

create function pgmq.metrics_all() returns setof pgmq.metrics_result
language plpgsql
as $postgate_fn$
declare
  name text;
begin
  for name in select m.queue_name from pgmq.meta m order by m.queue_name loop
    return next pgmq.metrics(name);
  end loop;
end
$postgate_fn$;

-- What Supabase's after-create script does: the extension's owner owns what the script created.
do $postgate_owner$
declare
  owner_name name;
  obj record;
begin
  select r.rolname into owner_name
  from pg_catalog.pg_extension e join pg_catalog.pg_roles r on r.oid = e.extowner
  where e.extname = 'pgmq';
  if owner_name is null or owner_name = current_user then
    return;
  end if;
  execute pg_catalog.format('alter table pgmq.meta owner to %I', owner_name);
  for obj in
    select t.oid::regtype::text as name from pg_catalog.pg_type t
    where t.typnamespace = 'pgmq'::regnamespace and t.typtype = 'c'
      and t.typrelid in (select c.oid from pg_catalog.pg_class c where c.relkind = 'c')
  loop
    execute pg_catalog.format('alter type %s owner to %I', obj.name, owner_name);
  end loop;
  for obj in
    select p.oid::regprocedure::text as name from pg_catalog.pg_proc p where p.pronamespace = 'pgmq'::regnamespace
  loop
    execute pg_catalog.format('alter function %s owner to %I', obj.name, owner_name);
  end loop;
end
$postgate_owner$;
