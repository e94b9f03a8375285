-- ---------------------------------------------------------------- realtime
create schema if not exists realtime;
grant usage on schema realtime to postgres, anon, authenticated, service_role;

-- Realtime Authorization: projects add policies on realtime.messages.
create table if not exists realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  constraint messages_pkey primary key (id, inserted_at)
);
alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_realtime_admin;
grant select, insert, update on realtime.messages to anon, authenticated, service_role, postgres;

create or replace function realtime.topic() returns text
language sql stable
as $postgate_fn$
  select nullif(current_setting('realtime.topic', true), '')::text
$postgate_fn$;

-- Migrations commonly run: alter publication supabase_realtime add table ...
do $postgate_publication$
begin
  if not exists (select 1 from pg_catalog.pg_publication p where p.pubname = 'supabase_realtime') then
    create publication supabase_realtime;
    -- owned by postgres on the platform, so that migrations can add their tables to it
    alter publication supabase_realtime owner to postgres;
  end if;
end
$postgate_publication$;

-- ---------------------------------------------------------------- pgbouncer
create schema if not exists pgbouncer;
create or replace function pgbouncer.get_auth(p_usename text)
returns table (username text, password text)
language plpgsql security definer
set search_path = ''
as $postgate_fn$
begin
  return query
    select s.usename::text, s.passwd::text
    from pg_catalog.pg_shadow s
    where s.usename = p_usename;
end
$postgate_fn$;
revoke all on function pgbouncer.get_auth(text) from public;
grant usage on schema pgbouncer to pgbouncer;
grant execute on function pgbouncer.get_auth(text) to pgbouncer;

-- ---------------------------------------------------------------- public
-- Supabase's default privileges: whatever postgres (or supabase_admin) creates in
-- public is fully granted to the API roles; row level security is what protects
-- it. This is why functions are executable by anon unless revoked by name.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- The same for the role applying the baseline (and so the migrations) when it is
-- another superuser.
do $postgate_default_privileges$
begin
  if current_user not in ('postgres', 'supabase_admin') then
    execute pg_catalog.format(
      'alter default privileges for role %I in schema public grant all on tables to postgres, anon, authenticated, service_role',
      current_user);
    execute pg_catalog.format(
      'alter default privileges for role %I in schema public grant all on sequences to postgres, anon, authenticated, service_role',
      current_user);
    execute pg_catalog.format(
      'alter default privileges for role %I in schema public grant all on functions to postgres, anon, authenticated, service_role',
      current_user);
  end if;
end
$postgate_default_privileges$;
