-- ---------------------------------------------------------------- roles
-- Cluster-wide: create only what is missing. A role that already exists (restored
-- from roles.sql, or created by another database's baseline) is left as it is.
-- No role gets a password.
do $postgate_roles$
declare
  spec record;
begin
  for spec in
    select t.role_name, t.attributes
    from (values
      ('postgres',                   'login createrole createdb replication bypassrls'),
      ('anon',                       'nologin noinherit'),
      ('authenticated',              'nologin noinherit'),
      ('service_role',               'nologin noinherit bypassrls'),
      ('authenticator',              'login noinherit'),
      ('supabase_admin',             'login createrole createdb replication bypassrls'),
      ('supabase_auth_admin',        'login noinherit createrole noreplication'),
      ('supabase_storage_admin',     'login noinherit createrole noreplication'),
      ('supabase_functions_admin',   'login noinherit createrole noreplication'),
      ('supabase_realtime_admin',    'nologin noinherit'),
      ('supabase_replication_admin', 'login replication'),
      ('supabase_read_only_user',    'login bypassrls'),
      ('dashboard_user',             'nologin createrole createdb replication'),
      ('pgbouncer',                  'login')
    ) as t(role_name, attributes)
  loop
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = spec.role_name) then
      begin
        execute pg_catalog.format('create role %I with %s', spec.role_name, spec.attributes);
      exception when duplicate_object or unique_violation then
        null; -- created concurrently by a baseline running in another database
      end;
    end if;
  end loop;

  -- authenticator (PostgREST's login role) switches to the API roles.
  for spec in
    select t.granted, t.member
    from (values
      ('anon',             'authenticator'),
      ('authenticated',    'authenticator'),
      ('service_role',     'authenticator'),
      ('pg_read_all_data', 'supabase_read_only_user'),
      -- the platform's postgres may act as the API roles and manage auth's and storage's objects
      ('anon',                   'postgres'),
      ('authenticated',          'postgres'),
      ('service_role',           'postgres'),
      ('supabase_auth_admin',    'postgres'),
      ('supabase_storage_admin', 'postgres'),
      -- supautils' policy_grants let postgres add policies to realtime.messages; membership does it here
      ('supabase_realtime_admin', 'postgres')
    ) as t(granted, member)
  loop
    if not exists (
      select 1
      from pg_catalog.pg_auth_members m
      join pg_catalog.pg_roles g on g.oid = m.roleid
      join pg_catalog.pg_roles u on u.oid = m.member
      where g.rolname = spec.granted and u.rolname = spec.member
    ) then
      execute pg_catalog.format('grant %I to %I', spec.granted, spec.member);
    end if;
  end loop;

  -- supautils' privileged_role_allowed_configs let postgres set session_replication_role (the
  -- documented restore of supabase db dump files loads data.sql with it); PostgreSQL 15+ can
  -- grant exactly that.
  if pg_catalog.current_setting('server_version_num')::int >= 150000 then
    execute 'grant set on parameter session_replication_role to postgres';
  end if;
end
$postgate_roles$;
