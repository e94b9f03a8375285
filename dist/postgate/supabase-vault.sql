-- postgate stand-in for supabase_vault. WARNING: the secret column holds base64 of
-- the UTF-8 text, NOT ciphertext. Real Vault encrypts with a root key kept
-- outside SQL. Throwaway shadow/drill clusters only; never store real secrets here.

-- Vault's private AEAD entry points, same signatures. NOT ENCRYPTION: identity functions.
create function vault._crypto_aead_det_encrypt(
  message bytea,
  additional bytea,
  key_id bigint,
  context bytea default 'pgsodium'::bytea,
  nonce bytea default null
) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select message
$postgate_fn$;

create function vault._crypto_aead_det_decrypt(
  message bytea,
  additional bytea,
  key_id bigint,
  context bytea default 'pgsodium'::bytea,
  nonce bytea default null
) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select message
$postgate_fn$;

create function vault._crypto_aead_det_noncegen() returns bytea
language sql volatile
set search_path = ''
as $postgate_fn$
  select pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
$postgate_fn$;

create table vault.secrets (
  id uuid primary key default pg_catalog.gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default vault._crypto_aead_det_noncegen(),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is
  'Table with encrypted secret column for storing sensitive information on disk. postgate stand-in: base64-encoded, NOT encrypted; throwaway clusters only.';
create unique index secrets_name_idx on vault.secrets using btree (name) where name is not null;

create view vault.decrypted_secrets as
select
  s.id,
  s.name,
  s.description,
  s.secret,
  pg_catalog.convert_from(
    vault._crypto_aead_det_decrypt(
      message := pg_catalog.decode(s.secret, 'base64'),
      additional := pg_catalog.convert_to(s.id::text, 'utf8'),
      key_id := 0,
      context := 'pgsodium'::bytea,
      nonce := s.nonce
    ),
    'utf8'
  ) as decrypted_secret,
  s.key_id,
  s.nonce,
  s.created_at,
  s.updated_at
from vault.secrets s;

create function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null -- accepted and ignored, as in Vault 0.3
) returns uuid
language plpgsql security definer
set search_path = ''
as $postgate_fn$
declare
  created vault.secrets;
begin
  insert into vault.secrets (secret, name, description)
  values (new_secret, new_name, new_description)
  returning * into created;

  update vault.secrets s
  set secret = pg_catalog.translate(pg_catalog.encode(vault._crypto_aead_det_encrypt(
    message := pg_catalog.convert_to(created.secret, 'utf8'),
    additional := pg_catalog.convert_to(s.id::text, 'utf8'),
    key_id := 0,
    context := 'pgsodium'::bytea,
    nonce := created.nonce
  ), 'base64'), E'\n', '')
  where s.id = created.id;

  return created.id;
end
$postgate_fn$;

create function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null -- accepted and ignored, as in Vault 0.3
) returns void
language plpgsql security definer
set search_path = ''
as $postgate_fn$
begin
  update vault.secrets s
  set
    secret = case
      when new_secret is null then s.secret
      else pg_catalog.translate(pg_catalog.encode(vault._crypto_aead_det_encrypt(
        message := pg_catalog.convert_to(new_secret, 'utf8'),
        additional := pg_catalog.convert_to(s.id::text, 'utf8'),
        key_id := 0,
        context := 'pgsodium'::bytea,
        nonce := s.nonce
      ), 'base64'), E'\n', '')
    end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    updated_at = pg_catalog.now()
  where s.id = secret_id;
end
$postgate_fn$;

select pg_catalog.pg_extension_config_dump('vault.secrets', '');

-- Privileges: what Supabase's after-create script gives, for the roles this cluster has.
revoke all on schema vault from public;
revoke all on vault.secrets, vault.decrypted_secrets from public;
revoke all on function
  vault._crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea),
  vault._crypto_aead_det_noncegen(),
  vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid)
  from public;

do $postgate_grants$
declare
  grantee text;
  grant_option text;
begin
  foreach grantee in array array['postgres', 'service_role'] loop
    continue when not exists (select 1 from pg_catalog.pg_roles r where r.rolname = grantee);
    grant_option := case when grantee = 'postgres' then ' with grant option' else '' end;
    execute pg_catalog.format('grant usage on schema vault to %I%s', grantee, grant_option);
    execute pg_catalog.format('grant select, delete on vault.secrets, vault.decrypted_secrets to %I%s', grantee, grant_option);
    execute pg_catalog.format(
      'grant execute on function vault.create_secret(text, text, text, uuid), '
      'vault.update_secret(uuid, text, text, text, uuid), '
      'vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea) to %I%s',
      grantee, grant_option);
  end loop;
end
$postgate_grants$;
