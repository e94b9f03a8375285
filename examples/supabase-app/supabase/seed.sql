-- Local development and CI seed (supabase db reset runs it after the migrations).
-- Two users (password for both: "password123"), a team, trips and API keys.
--   A  ada@example.com    aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
--   B  bruno@example.com  bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
) values
  ('00000000-0000-0000-0000-000000000000', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'authenticated', 'authenticated', 'ada@example.com',
   extensions.crypt('password123', extensions.gen_salt('bf')), now(),
   '{"provider": "email", "providers": ["email"]}', '{"full_name": "Ada Lovelace"}',
   false, now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'authenticated', 'authenticated', 'bruno@example.com',
   extensions.crypt('password123', extensions.gen_salt('bf')), now(),
   '{"provider": "email", "providers": ["email"]}', '{"full_name": "Bruno Kreisky"}',
   false, now(), now(), '', '', '', '');

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   '{"sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "email": "ada@example.com", "email_verified": true}',
   'email', now(), now(), now()),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   '{"sub": "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "email": "bruno@example.com", "email_verified": true}',
   'email', now(), now(), now());

-- Profiles were created by the on_auth_user_created trigger; add usernames.
update public.profiles set username = 'ada' where id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
update public.profiles set username = 'bruno' where id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

-- Ada creates the team (and becomes its owner through on_team_created); Bruno joins.
insert into public.teams (id, name, slug, created_by)
values ('c0ffee00-0000-4000-8000-000000000001', 'Alpine Club', 'alpine-club', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');

insert into public.memberships (team_id, user_id, role)
values ('c0ffee00-0000-4000-8000-000000000001', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'member');

insert into public.trips (id, owner_id, team_id, title, destination, starts_on, ends_on, notes)
values
  ('d0000000-0000-4000-8000-00000000000a', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', null,
   'Lisbon long weekend', 'Lisbon', '2025-05-01', '2025-05-04', 'Book the tram tour.'),
  ('d0000000-0000-4000-8000-00000000000b', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'c0ffee00-0000-4000-8000-000000000001',
   'Haute Route', 'Chamonix - Zermatt', '2025-07-12', '2025-07-19', 'Hut reservations pending.'),
  ('d0000000-0000-4000-8000-00000000000c', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', null,
   'Vienna coffee crawl', 'Vienna', '2025-09-20', '2025-09-21', null);

-- Bruno is invited to Ada's Lisbon trip.
insert into public.trip_collaborators (trip_id, user_id, added_by, can_edit)
values ('d0000000-0000-4000-8000-00000000000a', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
        'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', false);

-- API keys: only hashes are stored. The demo keys are "tp_live_demo_ada_1" etc.
insert into public.api_keys (id, user_id, name, prefix, key_hash)
values
  ('e0000000-0000-4000-8000-0000000000a1', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
   'CLI', 'tp_live_demo', encode(extensions.digest('tp_live_demo_ada_1', 'sha256'), 'hex')),
  ('e0000000-0000-4000-8000-0000000000b1', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'Laptop', 'tp_live_demo', encode(extensions.digest('tp_live_demo_bruno_1', 'sha256'), 'hex')),
  ('e0000000-0000-4000-8000-0000000000b2', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
   'CI', 'tp_live_demo', encode(extensions.digest('tp_live_demo_bruno_2', 'sha256'), 'hex'));

insert into public.api_key_usage (api_key_id, endpoint, status_code)
values ('e0000000-0000-4000-8000-0000000000a1', 'GET /v1/trips', 200);
