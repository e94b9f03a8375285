-- Per-user API keys for the public trips API. Only a SHA-256 hash is stored; the
-- key itself is returned once, by create_api_key().
create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 64),
  prefix text not null,
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);

alter table public.api_keys enable row level security;

create policy "Users can view their own API keys"
  on public.api_keys for select
  to authenticated
  using (user_id = (select auth.uid()));

create policy "Users can create their own API keys"
  on public.api_keys for insert
  to authenticated
  with check (user_id = (select auth.uid()));

create policy "Users can revoke their own API keys"
  on public.api_keys for update
  to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy "Users can delete their own API keys"
  on public.api_keys for delete
  to authenticated
  using (user_id = (select auth.uid()));

-- Runs with the caller's rights: the insert goes through the policies above.
create function public.create_api_key(key_name text)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  new_key text := 'tp_live_' || encode(extensions.gen_random_bytes(24), 'hex');
begin
  insert into public.api_keys (user_id, name, prefix, key_hash)
  values (
    (select auth.uid()),
    key_name,
    left(new_key, 12),
    encode(extensions.digest(new_key, 'sha256'), 'hex')
  );
  return new_key;
end;
$$;

revoke execute on function public.create_api_key(text) from public, anon;

-- Written by the API server with the service role only. RLS on and no policy on
-- purpose: anon and authenticated get nothing.
create table public.api_key_usage (
  id bigint generated always as identity primary key,
  api_key_id uuid not null references public.api_keys (id) on delete cascade,
  used_at timestamptz not null default now(),
  endpoint text not null,
  status_code smallint
);

alter table public.api_key_usage enable row level security;
