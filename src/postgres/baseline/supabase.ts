/**
 * The Supabase baseline: what the Supabase platform provides before a project's
 * migrations run, recreated on a throwaway ("shadow") vanilla PostgreSQL 15/17
 * cluster so that `supabase/migrations/*.sql` apply there as they do on Supabase.
 *
 * It is applied by `applySupabaseBaseline()` (./apply.ts) as the superuser, in the
 * target database, in one transaction. Every statement is idempotent: running it
 * twice, or after a `roles.sql` from `supabase db dump --role-only` was restored,
 * succeeds. Roles are cluster-wide and are only created when missing (an existing
 * role is never altered).
 *
 * Sources: Supabase's documented definitions (supabase/postgres init scripts,
 * supabase/auth migrations, Storage, Vault, pg_net and Database Webhook docs), as
 * summarised in shared/reference/rls-anchors.md §2 and §4 and
 * drill-webhook-anchors.md B1, B2 and A3. The SQL is written here from those facts,
 * not copied from any project.
 *
 * ## Extensions the server lacks
 *
 * Supabase pre-installs `uuid-ossp`, `pgcrypto` and `pg_stat_statements` in schema
 * `extensions`. They ship with PostgreSQL's contrib, so the baseline creates them
 * there whenever `pg_available_extensions` lists them (`pg_stat_statements` can be
 * created without `shared_preload_libraries`; only querying its view needs that).
 *
 * The platform extensions `pg_graphql`, `pg_net`, `pgsodium`, `supabase_vault`
 * and `pgjwt` are not in vanilla PostgreSQL (nor are `vector`, `pg_cron` and
 * friends, which projects enable themselves; none of them is in Debian bookworm's
 * PostgreSQL 15 contrib). The baseline never pretends they exist:
 *   - `applySupabaseBaseline()` returns every pre-installed extension the server
 *     cannot create in `missingExtensions` (plus any extension the caller says
 *     the project needs), so the caller reports them by name. Nothing is skipped
 *     silently.
 *   - `supabase_vault` and `pg_net` are pre-installed as extensions: the real ones
 *     where the server has them, else postgate's stand-ins (src/postgres/extensions:
 *     real extensions in a private copy of the installation; pg_net records requests
 *     and never sends them; Vault encodes secrets, it does NOT encrypt them). On a
 *     server where neither can be created (`shadow: url`), the stand-in's script runs
 *     as plain SQL instead.
 *   - graphql_public gets the graphql() entry point Supabase installs while
 *     pg_graphql is off, returning its "pg_graphql extension is not enabled" error.
 *   - Other platform extensions (`pgjwt`, `pgsodium`, `pg_graphql`, ...) are created
 *     by the migrations that need them, from the real extension or a stand-in.
 *
 * ## Deliberate differences from the platform
 *   - On a cluster of the `supabase` profile (src/postgres/ephemeral), `supabase_admin`
 *     is the superuser and `postgres` is not, as on the platform. Elsewhere the
 *     baseline creates `supabase_admin` as a non-superuser, and the cluster's superuser
 *     is whoever applies the baseline.
 *   - No role gets a password. No role-level settings (statement_timeout etc.).
 *   - The net functions are not executable by anon/authenticated. Supabase's
 *     grant_pg_net_access event trigger has granted EXECUTE to them on some
 *     platform versions; the baseline models the locked-down setup (projects
 *     should revoke it), so a migration relying on anon calling net.* fails here.
 *   - `supabase_migrations` is not created: the Supabase CLI creates its history
 *     table on first push, and postgate's migration runner does the same.
 *
 * Template literals here use String.raw and contain no `${`: the SQL is static.
 */

/** A Supabase pre-installed extension and where its objects live on Supabase. */
export interface SupabaseExtension {
  /** Extension name as in pg_available_extensions. */
  readonly name: string;
  /** Schema holding its objects on Supabase. */
  readonly schema: string;
  /** True when the baseline creates the real extension (if the server has it available). */
  readonly createdByBaseline: boolean;
  /** Schema of the baseline's SQL stand-in, when there is one. */
  readonly standIn?: string;
}

/** Extensions Supabase projects have before their first migration. */
export const SUPABASE_EXTENSIONS: readonly SupabaseExtension[] = [
  { name: 'uuid-ossp', schema: 'extensions', createdByBaseline: true },
  { name: 'pgcrypto', schema: 'extensions', createdByBaseline: true },
  { name: 'pg_stat_statements', schema: 'extensions', createdByBaseline: true },
  { name: 'pgjwt', schema: 'extensions', createdByBaseline: false },
  { name: 'pg_graphql', schema: 'graphql', createdByBaseline: false, standIn: 'graphql_public' },
  { name: 'pg_net', schema: 'net', createdByBaseline: false, standIn: 'net' },
  { name: 'pgsodium', schema: 'pgsodium', createdByBaseline: false },
  { name: 'supabase_vault', schema: 'vault', createdByBaseline: false, standIn: 'vault' },
];

/**
 * Schemas the platform owns. Objects in them are not the project's: drift diffs and
 * audits of user objects exclude them (the project may still add policies or
 * triggers on e.g. storage.objects, which callers treat separately).
 */
export const SUPABASE_MANAGED_SCHEMAS: readonly string[] = [
  'auth',
  'storage',
  'extensions',
  'vault',
  'supabase_functions',
  'net',
  'graphql',
  'graphql_public',
  'realtime',
  '_realtime',
  '_analytics',
  'supabase_migrations',
  'cron',
  'pgsodium',
  'pgsodium_masks',
  'pgbouncer',
  'pgtle',
];

/** Roles the platform owns (cluster-wide). The baseline creates the first group. */
export const SUPABASE_MANAGED_ROLES: readonly string[] = [
  'anon',
  'authenticated',
  'service_role',
  'authenticator',
  'supabase_admin',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_functions_admin',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'dashboard_user',
  'pgbouncer',
  // created by platform extensions, never by the baseline
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
  'supabase_etl_admin',
];

/** The roles PostgREST switches to for API requests. */
export const SUPABASE_API_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role'];

/** Roles (cluster-wide), created only when missing, never altered; memberships. */
export const BASELINE_ROLES_SQL = String.raw`
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
`;

/** Schema extensions, the contrib extensions Supabase pre-installs, database search_path. */
export const BASELINE_EXTENSIONS_SQL = String.raw`
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
`;

/** Schema auth: users, identities and the request-claim helpers. */
export const BASELINE_AUTH_SQL = String.raw`
-- ---------------------------------------------------------------- auth
create schema if not exists auth authorization supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
grant all on schema auth to supabase_auth_admin, dashboard_user, postgres;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0,
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower((email)::text));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid(),
  constraint identities_pkey primary key (id),
  constraint identities_provider_id_provider_unique unique (provider_id, provider),
  constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
comment on table auth.identities is 'Auth: Stores identities associated to a user.';
create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);

alter table auth.users owner to supabase_auth_admin;
alter table auth.identities owner to supabase_auth_admin;
grant all on auth.users, auth.identities to supabase_auth_admin, dashboard_user, postgres;

-- Request-claim helpers, with the bodies of supabase/auth's current migrations:
-- the legacy per-claim setting (request.jwt.claim.<name>) wins over the JSON
-- request.jwt.claims that PostgREST sets today.
create or replace function auth.uid() returns uuid
language sql stable
as $postgate_fn$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$postgate_fn$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create or replace function auth.role() returns text
language sql stable
as $postgate_fn$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$postgate_fn$;
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';

create or replace function auth.email() returns text
language sql stable
as $postgate_fn$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$postgate_fn$;
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

create or replace function auth.jwt() returns jsonb
language sql stable
as $postgate_fn$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$postgate_fn$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role, dashboard_user, postgres;
`;

/** Schema storage: buckets, objects (RLS on), helper functions. */
export const BASELINE_STORAGE_SQL = String.raw`
-- ---------------------------------------------------------------- storage
create schema if not exists storage authorization supabase_storage_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin, dashboard_user;

create table if not exists storage.buckets (
  id text not null,
  name text not null,
  owner uuid, -- deprecated on Supabase in favour of owner_id
  owner_id text,
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  constraint buckets_pkey primary key (id)
);
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid(),
  bucket_id text,
  name text,
  owner uuid, -- deprecated on Supabase in favour of owner_id
  owner_id text,
  metadata jsonb,
  user_metadata jsonb,
  version text,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  constraint objects_pkey primary key (id),
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

-- Every API role may touch the tables; row level security decides what it sees.
-- With no policy, anon and authenticated see and change nothing.
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role, postgres, dashboard_user;

-- 'a/b/c.png' -> {a,b}
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $postgate_fn$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
begin
  return parts[1 : pg_catalog.array_length(parts, 1) - 1];
end
$postgate_fn$;

-- 'a/b/c.png' -> 'c.png'
create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $postgate_fn$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
begin
  return parts[pg_catalog.array_length(parts, 1)];
end
$postgate_fn$;

-- 'a/b/c.tar.gz' -> 'gz' (text after the file name's last dot; the whole name when it has none)
create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $postgate_fn$
declare
  parts text[] := pg_catalog.string_to_array(name, '/');
  file_name text := parts[pg_catalog.array_length(parts, 1)];
begin
  return pg_catalog.reverse(pg_catalog.split_part(pg_catalog.reverse(file_name), '.', 1));
end
$postgate_fn$;

alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text) owner to supabase_storage_admin;
alter function storage.extension(text) owner to supabase_storage_admin;
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to anon, authenticated, service_role, postgres;
`;

/** Schema supabase_functions: Database Webhooks' hooks table and trigger function. */
export const BASELINE_SUPABASE_FUNCTIONS_SQL = String.raw`
-- ---------------------------------------------------------------- supabase_functions
-- A Database Webhook is an AFTER ... FOR EACH ROW trigger executing
-- supabase_functions.http_request(url, method, headers_json, params_json, timeout_ms).
create schema if not exists supabase_functions authorization supabase_admin;
grant usage on schema supabase_functions to postgres, anon, authenticated, service_role;
grant all on schema supabase_functions to supabase_functions_admin;

create table if not exists supabase_functions.hooks (
  id bigserial not null,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint,
  constraint hooks_pkey primary key (id)
);
comment on table supabase_functions.hooks is
  'Supabase Functions Hooks: Audit trail for triggered hooks.';
create index if not exists supabase_functions_hooks_request_id_idx on supabase_functions.hooks (request_id);
create index if not exists supabase_functions_hooks_h_table_id_h_name_idx
  on supabase_functions.hooks (hook_table_id, hook_name);
alter table supabase_functions.hooks owner to supabase_functions_admin;

create or replace function supabase_functions.http_request() returns trigger
language plpgsql security definer
set search_path = supabase_functions
as $postgate_fn$
declare
  request_id bigint;
  payload jsonb;
  url text := TG_ARGV[0]::text;
  method text := TG_ARGV[1]::text;
  headers jsonb := '{}'::jsonb;
  params jsonb := '{}'::jsonb;
  timeout_ms integer := 1000;
begin
  if url is null or url = 'null' then
    raise exception 'url argument is missing';
  end if;
  if method is null or method = 'null' then
    raise exception 'method argument is missing';
  end if;
  if TG_ARGV[2] is null or TG_ARGV[2] = 'null' then
    headers := '{"Content-Type": "application/json"}'::jsonb;
  else
    headers := TG_ARGV[2]::jsonb;
  end if;
  if TG_ARGV[3] is not null and TG_ARGV[3] <> 'null' then
    params := TG_ARGV[3]::jsonb;
  end if;
  if TG_ARGV[4] is not null and TG_ARGV[4] <> 'null' then
    timeout_ms := TG_ARGV[4]::integer;
  end if;

  case method
    when 'GET' then
      request_id := net.http_get(url, params, headers, timeout_ms);
    when 'POST' then
      payload := pg_catalog.jsonb_build_object(
        'old_record', OLD,
        'record', NEW,
        'type', TG_OP,
        'table', TG_TABLE_NAME,
        'schema', TG_TABLE_SCHEMA
      );
      request_id := net.http_post(url, payload, params, headers, timeout_ms);
    else
      raise exception 'method argument % is invalid', method;
  end case;

  insert into supabase_functions.hooks (hook_table_id, hook_name, request_id)
  values (TG_RELID, TG_NAME, request_id);

  return NEW;
end
$postgate_fn$;
alter function supabase_functions.http_request() owner to supabase_functions_admin;
revoke all on function supabase_functions.http_request() from public;
grant execute on function supabase_functions.http_request() to postgres, service_role, supabase_functions_admin;
grant all on supabase_functions.hooks to postgres, service_role, supabase_functions_admin;
grant all on sequence supabase_functions.hooks_id_seq to postgres, service_role, supabase_functions_admin;
`;

/** Stand-in for pg_graphql's public entry point. */
export const BASELINE_GRAPHQL_SQL = String.raw`
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
`;

/** realtime, the supabase_realtime publication, pgbouncer, public's default privileges. */
export const BASELINE_PLATFORM_SQL = String.raw`
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
`;

/** Leaves the applying session resolving names as a Supabase session does. */
export const BASELINE_SESSION_SQL = String.raw`
set search_path = "$user", public, extensions;
`;

/** Named sections in the order they must run. apply.ts may leave out a stand-in. */
export const BASELINE_SECTIONS = [
  { name: 'roles', sql: BASELINE_ROLES_SQL },
  { name: 'extensions', sql: BASELINE_EXTENSIONS_SQL },
  { name: 'auth', sql: BASELINE_AUTH_SQL },
  { name: 'storage', sql: BASELINE_STORAGE_SQL },
  { name: 'vault', extension: 'supabase_vault' },
  { name: 'net', extension: 'pg_net', withSchema: 'extensions' },
  { name: 'supabase_functions', sql: BASELINE_SUPABASE_FUNCTIONS_SQL },
  { name: 'graphql_public', sql: BASELINE_GRAPHQL_SQL, standInFor: 'pg_graphql' },
  { name: 'platform', sql: BASELINE_PLATFORM_SQL },
  { name: 'session', sql: BASELINE_SESSION_SQL },
] as const satisfies readonly BaselineSection[];

/**
 * A part of the baseline: plain SQL, SQL standing in for an extension the platform
 * pre-installs (left out where the real one is installed), or an extension the platform
 * pre-installs (the real one, or postgate's stand-in: src/postgres/extensions).
 */
export type BaselineSection =
  | { readonly name: string; readonly sql: string; readonly standInFor?: string }
  | { readonly name: string; readonly extension: string; readonly withSchema?: string };

/**
 * The baseline's plain SQL for vanilla PostgreSQL (without the pre-installed extensions,
 * which apply.ts creates). Run it as a superuser in one transaction.
 */
export const SUPABASE_BASELINE_SQL: string = BASELINE_SECTIONS.map((section) => ('sql' in section ? section.sql : '')).join('\n');
