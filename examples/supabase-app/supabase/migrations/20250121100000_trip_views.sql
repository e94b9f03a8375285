-- Dashboard helpers: trip length and an overview joining trips to their owners.
create function public.trip_length_days(starts_on date, ends_on date)
returns integer
language sql
immutable
as $$
  select case when starts_on is null or ends_on is null then null
              else ends_on - starts_on + 1 end;
$$;

create view public.trip_overview as
select
  t.id,
  t.title,
  t.destination,
  t.starts_on,
  t.ends_on,
  public.trip_length_days(t.starts_on, t.ends_on) as length_days,
  t.team_id,
  p.username as owner_username,
  p.full_name as owner_name
from public.trips t
join public.profiles p on p.id = t.owner_id
where not t.is_archived;
