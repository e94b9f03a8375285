-- Trip owners invite collaborators, who can then see the trip.
create table public.trip_collaborators (
  trip_id uuid not null references public.trips (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  added_by uuid not null default auth.uid() references auth.users (id) on delete cascade,
  can_edit boolean not null default false,
  added_at timestamptz not null default now(),
  primary key (trip_id, user_id)
);

alter table public.trip_collaborators enable row level security;

-- These policies must not read public.trips: its SELECT policy reads this table.
create policy "Collaborators and inviters can view invitations"
  on public.trip_collaborators for select
  to authenticated
  using (user_id = (select auth.uid()) or added_by = (select auth.uid()));

create policy "Trip owners can invite collaborators"
  on public.trip_collaborators for insert
  to authenticated
  with check (added_by = (select auth.uid()));

create policy "Collaborator settings can be updated"
  on public.trip_collaborators for update
  to authenticated
  using (true)
  with check (true);

create policy "Inviters and collaborators can remove invitations"
  on public.trip_collaborators for delete
  to authenticated
  using (user_id = (select auth.uid()) or added_by = (select auth.uid()));

-- Only the owner of a trip may invite to it (checked here, not in a policy, to
-- avoid policy recursion between trips and trip_collaborators).
create function public.check_trip_invite()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (select auth.uid()) is not null and not exists (
    select 1 from public.trips t
    where t.id = new.trip_id and t.owner_id = (select auth.uid())
  ) then
    raise exception 'only the owner of trip % can invite collaborators', new.trip_id
      using errcode = '42501';
  end if;
  return new;
end;
$$;

create trigger trip_collaborators_check_invite
  before insert on public.trip_collaborators
  for each row execute function public.check_trip_invite();

-- Collaborators can now see the trips they were invited to.
drop policy "Owners and team members can view trips" on public.trips;

create policy "Owners, team members and collaborators can view trips"
  on public.trips for select
  to authenticated
  using (
    owner_id = (select auth.uid())
    or (team_id is not null and public.is_team_member(team_id))
    or exists (
      select 1 from public.trip_collaborators c
      where c.trip_id = trips.id and c.user_id = (select auth.uid())
    )
  );
