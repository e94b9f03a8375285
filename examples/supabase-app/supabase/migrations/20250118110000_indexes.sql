-- Index every foreign key and the columns the policies filter on.
create index teams_created_by_idx on public.teams (created_by);
create index memberships_user_id_idx on public.memberships (user_id);
create index trips_owner_id_idx on public.trips (owner_id);
create index trips_team_id_idx on public.trips (team_id) where team_id is not null;
create index trips_starts_on_idx on public.trips (starts_on desc);
create index trip_collaborators_user_id_idx on public.trip_collaborators (user_id);
create index trip_collaborators_added_by_idx on public.trip_collaborators (added_by);
create index api_keys_user_id_idx on public.api_keys (user_id);
create index api_key_usage_api_key_id_used_at_idx on public.api_key_usage (api_key_id, used_at desc);
