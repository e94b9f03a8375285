-- Membership check used by policies. SECURITY DEFINER so that policies on
-- memberships can call it without recursing into their own RLS; it only answers
-- for the calling user.
create function public.is_team_member(team uuid, min_role public.team_role default 'member')
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.memberships m
    where m.team_id = team
      and m.user_id = (select auth.uid())
      and m.role >= min_role
  );
$$;

revoke execute on function public.is_team_member(uuid, public.team_role) from public, anon;
grant execute on function public.is_team_member(uuid, public.team_role) to authenticated, service_role;

-- Teams: members read, anyone signed in creates (and becomes owner), admins edit, owners delete.
create policy "Members can view their teams"
  on public.teams for select
  to authenticated
  using (public.is_team_member(id));

create policy "Signed-in users can create teams"
  on public.teams for insert
  to authenticated
  with check (created_by = (select auth.uid()));

create policy "Admins can update their teams"
  on public.teams for update
  to authenticated
  using (public.is_team_member(id, 'admin'))
  with check (public.is_team_member(id, 'admin'));

create policy "Owners can delete their teams"
  on public.teams for delete
  to authenticated
  using (public.is_team_member(id, 'owner'));

-- Memberships: visible to the team, managed by admins; anyone may leave.
create policy "Members can view team memberships"
  on public.memberships for select
  to authenticated
  using (user_id = (select auth.uid()) or public.is_team_member(team_id));

create policy "Admins can add members"
  on public.memberships for insert
  to authenticated
  with check (public.is_team_member(team_id, 'admin'));

create policy "Admins can change member roles"
  on public.memberships for update
  to authenticated
  using (public.is_team_member(team_id, 'admin'))
  with check (public.is_team_member(team_id, 'admin'));

create policy "Admins can remove members, members can leave"
  on public.memberships for delete
  to authenticated
  using (user_id = (select auth.uid()) or public.is_team_member(team_id, 'admin'));

-- The creator of a team becomes its owner.
create function public.handle_new_team()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.created_by is not null then
    insert into public.memberships (team_id, user_id, role)
    values (new.id, new.created_by, 'owner')
    on conflict (team_id, user_id) do nothing;
  end if;
  return new;
end;
$$;

revoke execute on function public.handle_new_team() from public, anon, authenticated;

create trigger on_team_created
  after insert on public.teams
  for each row execute function public.handle_new_team();
