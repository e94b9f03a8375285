-- Keys stored with a raw key: the raw key is encrypted under the parent key, with the key's id
-- and associated data as additional data (pgsodium does this through its security label).
create function pgsodium.key_encrypt_secret_raw_key() returns trigger
language plpgsql
set search_path = ''
as $postgate_fn$
begin
  if new.raw_key is not null then
    new.raw_key := pgsodium.crypto_aead_det_encrypt(
      new.raw_key,
      pg_catalog.convert_to(new.id::text || coalesce(new.associated_data, ''), 'utf8'),
      new.parent_key,
      new.raw_key_nonce);
  end if;
  return new;
end
$postgate_fn$;
create trigger key_encrypt_secret_trigger_raw_key
  before insert or update of raw_key on pgsodium.key
  for each row execute function pgsodium.key_encrypt_secret_raw_key();

create view pgsodium.decrypted_key as
  select
    k.id, k.status, k.created, k.expires, k.key_type, k.key_id, k.key_context, k.name,
    k.associated_data, k.raw_key,
    case when k.raw_key is null then null else
      pgsodium.crypto_aead_det_decrypt(
        k.raw_key,
        pg_catalog.convert_to(k.id::text || coalesce(k.associated_data, ''), 'utf8'),
        k.parent_key,
        k.raw_key_nonce)
    end as decrypted_raw_key,
    k.raw_key_nonce, k.parent_key, k.comment
  from pgsodium.key k;

create function pgsodium.create_key(
  key_type pgsodium.key_type default 'aead-det',
  name text default null,
  raw_key bytea default null,
  raw_key_nonce bytea default null,
  parent_key uuid default null,
  key_context bytea default 'pgsodium'::bytea,
  expires timestamptz default null,
  associated_data text default ''
) returns pgsodium.valid_key
language plpgsql security definer
set search_path = ''
as $postgate_fn$
declare
  new_key pgsodium.key;
  result pgsodium.valid_key;
begin
  insert into pgsodium.key (key_id, key_context, key_type, raw_key, raw_key_nonce, parent_key, expires, name, associated_data)
  values (
    case when raw_key is null then pg_catalog.nextval('pgsodium.key_key_id_seq'::regclass) end,
    case when raw_key is null then key_context end,
    key_type,
    raw_key,
    case when raw_key is not null then coalesce(raw_key_nonce, pgsodium.crypto_aead_det_noncegen()) end,
    case when parent_key is null and raw_key is not null then (pgsodium.create_key('aead-det')).id else parent_key end,
    expires,
    name,
    associated_data
  )
  returning * into new_key;

  select * into result from pgsodium.valid_key v where v.id = new_key.id;
  return result;
end
$postgate_fn$;

create function pgsodium.get_key_by_id(uuid) returns pgsodium.valid_key
language sql security definer
set search_path = ''
as $postgate_fn$
  select * from pgsodium.valid_key v where v.id = $1
$postgate_fn$;

create function pgsodium.get_key_by_name(text) returns pgsodium.valid_key
language sql security definer
set search_path = ''
as $postgate_fn$
  select * from pgsodium.valid_key v where v.name = $1
$postgate_fn$;

create function pgsodium.get_named_keys(filter text default '%') returns setof pgsodium.valid_key
language sql security definer
set search_path = ''
as $postgate_fn$
  select * from pgsodium.valid_key v where v.name ilike filter
$postgate_fn$;
