-- Audit trail of team membership changes, shown on the team settings page.
create table public.audit_events (
  id bigint generated always as identity primary key,
  actor_id uuid,
  action text not null,
  table_name text not null,
  record_id text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create index audit_events_created_at_idx on public.audit_events (created_at desc);

create function public.record_membership_event()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.audit_events (actor_id, action, table_name, record_id, details)
  values (
    (select auth.uid()),
    lower(tg_op),
    tg_table_name,
    coalesce(new.team_id, old.team_id)::text,
    jsonb_build_object(
      'user_id', coalesce(new.user_id, old.user_id),
      'role', coalesce(new.role, old.role)
    )
  );
  return null;
end;
$$;

create trigger memberships_audit
  after insert or update or delete on public.memberships
  for each row execute function public.record_membership_event();
