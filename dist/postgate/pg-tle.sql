-- The control file names schema pgtle, which CREATE EXTENSION creates; run on its own, the script creates it.
do $postgate_schema$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'pgtle') then
    create schema pgtle;
  end if;
end
$postgate_schema$;

do $postgate_role$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgtle_admin') then
    raise notice 'Role "pgtle_admin" already exists. Skipping.';
  else
    create role pgtle_admin nologin;
  end if;
  -- Supabase's after-create script for pg_tle: the migrations role manages TLEs
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'postgres' and not rolsuper) then
    grant pgtle_admin to postgres;
  end if;
end
$postgate_role$;

grant usage on schema pgtle to public;
grant usage, create on schema pgtle to pgtle_admin;

create type pgtle.pg_tle_features as enum ('passcheck', 'clientauth');

create table pgtle.feature_info (
  feature pgtle.pg_tle_features,
  schema_name text,
  proname text,
  obj_identity text,
  primary key (feature, schema_name, proname)
);
grant select on pgtle.feature_info to public;
grant insert, delete on pgtle.feature_info to pgtle_admin;

-- postgate: what pg_tle keeps as functions named <name>.control and <name>--<version>.sql
create table pgtle.stand_in_extension (
  name name primary key,
  default_version text not null,
  description text,
  requires text[] not null default '{pg_tle}',
  installed_by name not null default current_user,
  installed_at timestamp with time zone not null default now()
);

create table pgtle.stand_in_extension_version (
  name name not null references pgtle.stand_in_extension (name) on delete cascade,
  version text not null,
  ext text not null,
  primary key (name, version)
);

create table pgtle.stand_in_update_path (
  name name not null references pgtle.stand_in_extension (name) on delete cascade,
  fromvers text not null,
  tovers text not null,
  ext text not null,
  primary key (name, fromvers, tovers)
);

grant select on pgtle.stand_in_extension, pgtle.stand_in_extension_version, pgtle.stand_in_update_path to public;
grant insert, update, delete on pgtle.stand_in_extension, pgtle.stand_in_extension_version, pgtle.stand_in_update_path to pgtle_admin;

-- pg_tle refuses names and versions that could not be control or script file names
create function pgtle.stand_in_check_names(name text, version text) returns void
language plpgsql immutable
as $postgate_fn$
begin
  if name is null or name = '' or name ~ '(--|/|\\)' or name ~ '^-|-$' then
    raise exception 'invalid extension name: "%"', name
      using errcode = 'invalid_parameter_value',
            detail = 'Extension names must not be empty, contain "--", "/" or "\", or begin or end with "-".';
  end if;
  if version is not null and (version = '' or version ~ '(--|/|\\)' or version ~ '^-|-$') then
    raise exception 'invalid extension version name: "%"', version
      using errcode = 'invalid_parameter_value',
            detail = 'Version names must not be empty, contain "--", "/" or "\", or begin or end with "-".';
  end if;
end
$postgate_fn$;

create function pgtle.install_extension(name text, version text, description text, ext text, requires text[] default null)
returns boolean
language plpgsql
as $postgate_fn$
begin
  perform pgtle.stand_in_check_names(name, version);
  if ext is null then
    raise exception 'the extension script must not be null' using errcode = 'null_value_not_allowed';
  end if;
  if exists (select 1 from pg_catalog.pg_available_extensions a where a.name = install_extension.name)
     or exists (select 1 from pgtle.stand_in_extension e where e.name = install_extension.name) then
    raise exception 'extension "%" already installed', name
      using errcode = 'duplicate_object';
  end if;
  insert into pgtle.stand_in_extension (name, default_version, description, requires)
  values (name, version, description,
          case when 'pg_tle' = any (coalesce(requires, '{}')) then coalesce(requires, '{}') else coalesce(requires, '{}') || '{pg_tle}'::text[] end);
  insert into pgtle.stand_in_extension_version (name, version, ext) values (name, version, ext);
  return true;
end
$postgate_fn$;

create function pgtle.install_extension_version_sql(name text, version text, ext text) returns boolean
language plpgsql
as $postgate_fn$
begin
  perform pgtle.stand_in_check_names(name, version);
  if not exists (select 1 from pgtle.stand_in_extension e where e.name = install_extension_version_sql.name) then
    raise exception 'extension "%" is not installed', name
      using errcode = 'undefined_object',
            hint = 'Use pgtle.install_extension to install the extension first.';
  end if;
  if exists (select 1 from pgtle.stand_in_extension_version v
             where v.name = install_extension_version_sql.name and v.version = install_extension_version_sql.version) then
    raise exception 'version "%" of extension "%" already installed', version, name
      using errcode = 'duplicate_object';
  end if;
  insert into pgtle.stand_in_extension_version (name, version, ext) values (name, version, ext);
  return true;
end
$postgate_fn$;

create function pgtle.install_update_path(name text, fromvers text, tovers text, ext text) returns boolean
language plpgsql
as $postgate_fn$
begin
  perform pgtle.stand_in_check_names(name, fromvers);
  perform pgtle.stand_in_check_names(name, tovers);
  if not exists (select 1 from pgtle.stand_in_extension e where e.name = install_update_path.name) then
    raise exception 'extension "%" is not installed', name using errcode = 'undefined_object';
  end if;
  if exists (select 1 from pgtle.stand_in_update_path u
             where u.name = install_update_path.name and u.fromvers = install_update_path.fromvers and u.tovers = install_update_path.tovers) then
    raise exception 'update path "%--%" of extension "%" already installed', fromvers, tovers, name
      using errcode = 'duplicate_object';
  end if;
  insert into pgtle.stand_in_update_path (name, fromvers, tovers, ext) values (name, fromvers, tovers, ext);
  return true;
end
$postgate_fn$;

create function pgtle.set_default_version(name text, version text) returns boolean
language plpgsql
as $postgate_fn$
begin
  if not exists (select 1 from pgtle.stand_in_extension e where e.name = set_default_version.name) then
    raise exception 'extension "%" is not installed', name using errcode = 'undefined_object';
  end if;
  if not exists (select 1 from pgtle.stand_in_extension_version v where v.name = set_default_version.name and v.version = set_default_version.version)
     and not exists (select 1 from pgtle.stand_in_update_path u where u.name = set_default_version.name and u.tovers = set_default_version.version) then
    raise exception 'version "%" of extension "%" is not installed', version, name using errcode = 'undefined_object';
  end if;
  update pgtle.stand_in_extension e set default_version = set_default_version.version where e.name = set_default_version.name;
  return true;
end
$postgate_fn$;

create function pgtle.uninstall_extension(extname text) returns boolean
language plpgsql
as $postgate_fn$
begin
  delete from pgtle.stand_in_extension e where e.name = extname;
  if not found then
    raise exception 'Extension % does not exist', extname using errcode = 'undefined_object';
  end if;
  return true;
end
$postgate_fn$;

create function pgtle.uninstall_extension(extname text, version text) returns boolean
language plpgsql
as $postgate_fn$
declare
  default_version text;
begin
  select e.default_version into default_version from pgtle.stand_in_extension e where e.name = extname;
  if default_version is null
     or not exists (select 1 from pgtle.stand_in_extension_version v where v.name = extname and v.version = uninstall_extension.version) then
    raise exception 'Version % of extension % is not installed', version, extname using errcode = 'undefined_object';
  end if;
  if default_version = version then
    if exists (select 1 from pgtle.stand_in_extension_version v where v.name = extname and v.version <> uninstall_extension.version) then
      raise exception 'Can not uninstall default version of extension %, use set_default_version to update the default to another available version and retry', extname
        using errcode = 'object_in_use';
    end if;
    return pgtle.uninstall_extension(extname);
  end if;
  delete from pgtle.stand_in_extension_version v where v.name = extname and v.version = uninstall_extension.version;
  delete from pgtle.stand_in_update_path u where u.name = extname and (u.fromvers = uninstall_extension.version or u.tovers = uninstall_extension.version);
  return true;
end
$postgate_fn$;

create function pgtle.uninstall_extension_if_exists(extname text) returns boolean
language plpgsql
as $postgate_fn$
begin
  delete from pgtle.stand_in_extension e where e.name = extname;
  return found;
end
$postgate_fn$;

create function pgtle.uninstall_update_path(extname text, fromvers text, tovers text) returns boolean
language plpgsql
as $postgate_fn$
begin
  delete from pgtle.stand_in_update_path u
  where u.name = extname and u.fromvers = uninstall_update_path.fromvers and u.tovers = uninstall_update_path.tovers;
  if not found then
    raise exception 'Extension % does not exist', extname || '--' || fromvers || '--' || tovers using errcode = 'undefined_object';
  end if;
  return true;
end
$postgate_fn$;

create function pgtle.uninstall_update_path_if_exists(extname text, fromvers text, tovers text) returns boolean
language plpgsql
as $postgate_fn$
begin
  delete from pgtle.stand_in_update_path u
  where u.name = extname and u.fromvers = uninstall_update_path_if_exists.fromvers and u.tovers = uninstall_update_path_if_exists.tovers;
  return found;
end
$postgate_fn$;

create function pgtle.available_extensions(out name name, out default_version text, out comment text) returns setof record
language sql stable strict
as $postgate_fn$
  select e.name, e.default_version, e.description from pgtle.stand_in_extension e order by e.name
$postgate_fn$;

create function pgtle.available_extension_versions(
  out name name, out version text, out superuser boolean, out trusted boolean, out relocatable boolean,
  out schema name, out requires name[], out comment text) returns setof record
language sql stable strict
as $postgate_fn$
  select e.name, v.version, false, false, false, null::name, e.requires::name[], e.description
  from pgtle.stand_in_extension e join pgtle.stand_in_extension_version v on v.name = e.name
  order by e.name, v.version
$postgate_fn$;

create function pgtle.extension_update_paths(name name, out source text, out target text, out path text) returns setof record
language sql stable strict
as $postgate_fn$
  select u.fromvers, u.tovers, u.fromvers || '--' || u.tovers
  from pgtle.stand_in_update_path u where u.name = extension_update_paths.name
  order by u.fromvers, u.tovers
$postgate_fn$;

create function pgtle.register_feature(proc regproc, feature pgtle.pg_tle_features) returns void
language plpgsql
as $postgate_fn$
begin
  insert into pgtle.feature_info (feature, schema_name, proname, obj_identity)
  select feature, n.nspname, p.proname, pg_catalog.format('%s.%s(%s)', pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(p.proname), pg_catalog.pg_get_function_identity_arguments(p.oid))
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where p.oid = proc;
exception when unique_violation then
  raise exception '% is already registered for feature %', proc, feature using errcode = 'duplicate_object';
end
$postgate_fn$;

create function pgtle.register_feature_if_not_exists(proc regproc, feature pgtle.pg_tle_features) returns boolean
language plpgsql
as $postgate_fn$
begin
  perform pgtle.register_feature(proc, feature);
  return true;
exception when duplicate_object then
  return false;
end
$postgate_fn$;

create function pgtle.unregister_feature(proc regproc, feature pgtle.pg_tle_features) returns void
language plpgsql
as $postgate_fn$
begin
  delete from pgtle.feature_info f
  where f.feature = unregister_feature.feature
    and (f.schema_name, f.proname) = (select n.nspname::text, p.proname::text from pg_catalog.pg_proc p
                                      join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid = proc);
  if not found then
    raise exception 'Could not unregister "%": does not exist.', proc using errcode = 'undefined_object';
  end if;
end
$postgate_fn$;

create function pgtle.unregister_feature_if_exists(proc regproc, feature pgtle.pg_tle_features) returns boolean
language plpgsql
as $postgate_fn$
begin
  perform pgtle.unregister_feature(proc, feature);
  return true;
exception when undefined_object then
  return false;
end
$postgate_fn$;

-- management functions: pgtle_admin only, as in pg_tle
do $postgate_grants$
declare
  fn text;
begin
  foreach fn in array array[
    'pgtle.install_extension(text, text, text, text, text[])',
    'pgtle.install_extension_version_sql(text, text, text)',
    'pgtle.install_update_path(text, text, text, text)',
    'pgtle.set_default_version(text, text)',
    'pgtle.uninstall_extension(text)',
    'pgtle.uninstall_extension(text, text)',
    'pgtle.uninstall_extension_if_exists(text)',
    'pgtle.uninstall_update_path(text, text, text)',
    'pgtle.uninstall_update_path_if_exists(text, text, text)',
    'pgtle.register_feature(regproc, pgtle.pg_tle_features)',
    'pgtle.register_feature_if_not_exists(regproc, pgtle.pg_tle_features)',
    'pgtle.unregister_feature(regproc, pgtle.pg_tle_features)',
    'pgtle.unregister_feature_if_exists(regproc, pgtle.pg_tle_features)'
  ] loop
    execute pg_catalog.format('revoke execute on function %s from public', fn);
    execute pg_catalog.format('grant execute on function %s to pgtle_admin', fn);
  end loop;
end
$postgate_grants$;
