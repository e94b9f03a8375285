-- Database Webhook created in the Supabase dashboard (Database > Webhooks) and
-- pulled into the repo with "supabase db diff": post new teams to Slack.
create trigger "notify-slack-new-team"
  after insert on public.teams
  for each row execute function supabase_functions.http_request(
    'https://hooks.example.com/services/T0000DEMO/B0000DEMO/new-team',
    'POST',
    '{"Content-type":"application/json","Authorization":"Bearer demo-not-a-real-token-4f8e2c1a9b7d6e5f"}',
    '{}',
    '5000'
  );
