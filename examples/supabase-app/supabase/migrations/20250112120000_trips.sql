create table public.trips (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  team_id uuid references public.teams (id) on delete set null,
  title text not null check (char_length(title) between 1 and 120),
  destination text,
  starts_on date,
  ends_on date,
  notes text,
  is_archived boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint trips_dates_ordered check (ends_on is null or starts_on is null or ends_on >= starts_on)
);

alter table public.trips enable row level security;

create policy "Owners and team members can view trips"
  on public.trips for select
  to authenticated
  using (
    owner_id = (select auth.uid())
    or (team_id is not null and public.is_team_member(team_id))
  );

create policy "Users can create trips for themselves"
  on public.trips for insert
  to authenticated
  with check (
    owner_id = (select auth.uid())
    and (team_id is null or public.is_team_member(team_id))
  );

create policy "Owners can update their trips"
  on public.trips for update
  to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

create policy "Owners can delete their trips"
  on public.trips for delete
  to authenticated
  using (owner_id = (select auth.uid()));

create trigger trips_set_updated_at
  before update on public.trips
  for each row execute function extensions.moddatetime(updated_at);
