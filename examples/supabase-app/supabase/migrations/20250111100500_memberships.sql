-- Who belongs to which team, and with which role (ordered: member < admin < owner).
create type public.team_role as enum ('member', 'admin', 'owner');

create table public.memberships (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.team_role not null default 'member',
  created_at timestamptz not null default now(),
  primary key (team_id, user_id)
);

alter table public.memberships enable row level security;
