-- Supabase grants every table in public to anon and authenticated by default;
-- RLS then decides. API keys and their usage log need a signed-in user (or the
-- service role), so take anon's grants away entirely, and keep the usage log
-- away from authenticated too.
revoke all on table public.api_keys from anon;
revoke all on table public.api_key_usage from anon, authenticated;
revoke execute on function public.create_api_key(text) from anon;

-- Live trip updates in the app.
alter publication supabase_realtime add table public.trips;
