-- ---------------------------------------------------------------- extensions
create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
-- postgres may put objects in it (and move extensions there: alter extension ... set schema)
grant all on schema extensions to postgres with grant option;
-- supabase db dump writes create extension ... with schema "pgsodium" / "graphql" for
-- extensions older images pre-installed: the schemas exist on the platform, so they must here.
create schema if not exists pgsodium;
create schema if not exists graphql;

-- Supabase pre-installs these in schema extensions. Create the ones this server
-- has; apply.ts reports the ones it lacks by name.
do $postgate_extensions$
declare
  ext text;
begin
  foreach ext in array array['uuid-ossp', 'pgcrypto', 'pg_stat_statements'] loop
    if exists (select 1 from pg_catalog.pg_available_extensions a where a.name = ext)
       and not exists (select 1 from pg_catalog.pg_extension e where e.extname = ext) then
      execute pg_catalog.format('create extension %I with schema extensions', ext);
    end if;
  end loop;
end
$postgate_extensions$;

-- New sessions in this database resolve unqualified names like Supabase's do.
do $postgate_search_path$
begin
  execute pg_catalog.format(
    'alter database %I set search_path = "$user", public, extensions',
    pg_catalog.current_database()
  );
end
$postgate_search_path$;
