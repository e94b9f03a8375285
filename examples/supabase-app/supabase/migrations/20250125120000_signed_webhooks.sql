-- Signed webhooks to the Vercel app: every change to a trip, and every profile
-- change (to revalidate cached pages), is POSTed with an HMAC-SHA256 signature of
-- the exact JSON body in the X-Signature-HMAC header (lowercase hex).
--
-- Configuration lives in database settings (set per environment, never in a
-- migration):
--   app.vercel_webhook_trips   https://<app host>/api/hooks/trips
--   app.vercel_webhook_cache   https://<app host>/api/hooks/revalidate
--   app.webhook_hmac_secret    shared with the app's HMAC_SECRET
-- When a setting is missing nothing is sent.

create function public.notify_trip_webhook()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
declare
  target_url text := nullif(current_setting('app.vercel_webhook_trips', true), '');
  secret text := nullif(current_setting('app.webhook_hmac_secret', true), '');
  payload jsonb;
  signature text;
begin
  if target_url is null or secret is null then
    return null;
  end if;

  payload := jsonb_build_object(
    'type', tg_op,
    'table', tg_table_name,
    'schema', tg_table_schema,
    'record', case when tg_op = 'DELETE' then null else to_jsonb(new) end,
    'old_record', case when tg_op = 'INSERT' then null else to_jsonb(old) end
  );
  -- pg_net sends payload::text; sign exactly that text.
  signature := encode(extensions.hmac(payload::text, secret, 'sha256'), 'hex');

  perform net.http_post(
    url := target_url,
    body := payload,
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'X-Signature-HMAC', signature
    )
  );
  return null;
end;
$$;

create function public.notify_cache_webhook()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
declare
  target_url text := nullif(current_setting('app.vercel_webhook_cache', true), '');
  secret text := nullif(current_setting('app.webhook_hmac_secret', true), '');
  payload jsonb;
  signature text;
begin
  if target_url is null or secret is null then
    return null;
  end if;

  payload := jsonb_build_object(
    'type', tg_op,
    'table', tg_table_name,
    'schema', tg_table_schema,
    'tags', jsonb_build_array('profile:' || new.id::text)
  );
  signature := encode(extensions.hmac(payload::text, secret, 'sha256'), 'hex');

  perform net.http_post(
    url := target_url,
    body := payload,
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'X-Signature-HMAC', signature
    )
  );
  return null;
end;
$$;

-- Only the owner (and so the triggers) may run these.
revoke execute on function public.notify_trip_webhook() from public, anon, authenticated, service_role;
revoke execute on function public.notify_cache_webhook() from public, anon, authenticated, service_role;

create trigger trips_notify_webhook
  after insert or update or delete on public.trips
  for each row execute function public.notify_trip_webhook();

create trigger profiles_notify_cache
  after update on public.profiles
  for each row execute function public.notify_cache_webhook();
