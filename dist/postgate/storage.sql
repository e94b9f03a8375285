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
