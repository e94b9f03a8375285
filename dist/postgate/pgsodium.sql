-- pgsodium's roles (cluster-wide; created when missing, as pgsodium does).
do $postgate_roles$
declare
  new_role text;
begin
  foreach new_role in array array['pgsodium_keyiduser', 'pgsodium_keyholder', 'pgsodium_keymaker'] loop
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = new_role) then
      begin
        execute pg_catalog.format(
          'create role %I with nologin nosuperuser nocreatedb nocreaterole inherit noreplication', new_role);
      exception when duplicate_object or unique_violation then
        null; -- created concurrently in another database
      end;
    end if;
  end loop;
end
$postgate_roles$;
grant pgsodium_keyholder to pgsodium_keymaker;
grant pgsodium_keyiduser to pgsodium_keymaker;
grant pgsodium_keyiduser to pgsodium_keyholder;

create type pgsodium.crypto_box_keypair as (public bytea, secret bytea);
create type pgsodium.crypto_sign_keypair as (public bytea, secret bytea);
create type pgsodium.crypto_kx_keypair as (public bytea, secret bytea);
create type pgsodium.crypto_kx_session as (rx bytea, tx bytea);
create type pgsodium.key_status as enum ('default', 'valid', 'invalid', 'expired');
create type pgsodium.key_type as enum (
  'aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256', 'auth', 'shorthash', 'generichash', 'kdf',
  'secretbox', 'secretstream', 'stream_xchacha20'
);

-- pgcrypto, by the schema it is installed in (looked up once, as pgjwt's stand-in does):
-- hmac, gen_random_bytes and AES behind private wrappers.
do $postgate_pgcrypto$
declare
  crypto_schema name;
begin
  select n.nspname into strict crypto_schema
  from pg_catalog.pg_extension e
  join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pgcrypto';

  execute pg_catalog.format($sql$
    create function pgsodium._postgate_hmac(data bytea, key bytea, algorithm text) returns bytea
    language sql immutable strict security definer set search_path = ''
    as 'select %1$I.hmac(data, key, algorithm)'
  $sql$, crypto_schema);
  execute pg_catalog.format($sql$
    create function pgsodium._postgate_random(bytes integer) returns bytea
    language sql volatile strict security definer set search_path = ''
    as 'select %1$I.gen_random_bytes(bytes)'
  $sql$, crypto_schema);
  execute pg_catalog.format($sql$
    create function pgsodium._postgate_aes_encrypt(data bytea, key bytea, iv bytea) returns bytea
    language sql immutable strict security definer set search_path = ''
    as 'select %1$I.encrypt_iv(data, key, iv, ''aes-cbc/pad:pkcs'')'
  $sql$, crypto_schema);
  execute pg_catalog.format($sql$
    create function pgsodium._postgate_aes_decrypt(data bytea, key bytea, iv bytea) returns bytea
    language sql immutable strict security definer set search_path = ''
    as 'select %1$I.decrypt_iv(data, key, iv, ''aes-cbc/pad:pkcs'')'
  $sql$, crypto_schema);
end
$postgate_pgcrypto$;

-- value, or an error naming the function when it is null or (length given) not that long.
create function pgsodium._postgate_required(fn text, what text, value bytea, expected_length integer) returns bytea
language plpgsql immutable
set search_path = ''
as $postgate_fn$
begin
  if value is null then
    raise exception '%: % cannot be NULL', fn, what using errcode = 'null_value_not_allowed';
  end if;
  if expected_length is not null and pg_catalog.length(value) <> expected_length then
    raise exception '%: invalid %', fn, what using errcode = 'invalid_parameter_value';
  end if;
  return value;
end
$postgate_fn$;

-- The stand-in's authenticated encryption (see the module comment): deterministic in
-- (key, additional, nonce, message); output = 16-byte synthetic IV || AES-256-CBC ciphertext.
create function pgsodium._postgate_seal(message bytea, additional bytea, key bytea, nonce bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select k.siv || pgsodium._postgate_aes_encrypt(message, k.enc_key, k.siv)
  from (
    select
      pgsodium._postgate_hmac('postgate-pgsodium-enc'::bytea, key, 'sha256') as enc_key,
      pg_catalog.substr(pgsodium._postgate_hmac(
        pg_catalog.int8send(coalesce(pg_catalog.length(additional), -1)::bigint) || coalesce(additional, ''::bytea)
          || pg_catalog.int8send(coalesce(pg_catalog.length(nonce), -1)::bigint) || coalesce(nonce, ''::bytea)
          || message,
        pgsodium._postgate_hmac('postgate-pgsodium-mac'::bytea, key, 'sha256'),
        'sha256'), 1, 16) as siv
  ) k
$postgate_fn$;

create function pgsodium._postgate_open(fn text, ciphertext bytea, additional bytea, key bytea, nonce bytea) returns bytea
language plpgsql immutable
set search_path = ''
as $postgate_fn$
declare
  plain bytea;
begin
  if pg_catalog.length(ciphertext) < 32 then
    raise exception '%: invalid message', fn using errcode = 'data_exception';
  end if;
  begin
    plain := pgsodium._postgate_aes_decrypt(
      pg_catalog.substr(ciphertext, 17),
      pgsodium._postgate_hmac('postgate-pgsodium-enc'::bytea, key, 'sha256'),
      pg_catalog.substr(ciphertext, 1, 16));
  exception when others then
    raise exception '%: invalid message', fn using errcode = 'data_exception';
  end;
  if pgsodium._postgate_seal(plain, additional, key, nonce) is distinct from ciphertext then
    raise exception '%: invalid message', fn using errcode = 'data_exception';
  end if;
  return plain;
end
$postgate_fn$;

-- The stand-in's root key: made once, readable by the superuser only, never dumped.
create table pgsodium._postgate_root_key (root_key bytea not null);
insert into pgsodium._postgate_root_key (root_key) values (pgsodium._postgate_random(32));
comment on table pgsodium._postgate_root_key is
  'postgate pgsodium stand-in: the root key keys by id derive from (pgsodium keeps its root key outside SQL).';

create function pgsodium.derive_key(key_id bigint, key_len integer default 32, context bytea default 'pgsodium'::bytea)
returns bytea
language plpgsql stable security definer
set search_path = ''
as $postgate_fn$
begin
  if key_id is null then
    raise exception 'pgsodium_derive: key id cannot be NULL' using errcode = 'null_value_not_allowed';
  end if;
  if key_len is null or key_len < 16 or key_len > 64 then
    raise exception 'pgsodium_derive: invalid key length requested' using errcode = 'invalid_parameter_value';
  end if;
  if context is null or pg_catalog.length(context) <> 8 then
    raise exception 'pgsodium_derive: context must be 8 bytes' using errcode = 'invalid_parameter_value';
  end if;
  return pg_catalog.substr(
    pgsodium._postgate_hmac(pg_catalog.int8send(key_id) || context, (select r.root_key from pgsodium._postgate_root_key r), 'sha512'),
    1, key_len);
end
$postgate_fn$;

create function pgsodium.pgsodium_derive(key_id bigint, key_len integer default 32, context bytea default 'pgsodium'::bytea)
returns bytea
language sql stable security definer
set search_path = ''
as $postgate_fn$
  select pgsodium.derive_key(key_id, key_len, context)
$postgate_fn$;

create table pgsodium.key (
  id uuid primary key default pg_catalog.gen_random_uuid(),
  status pgsodium.key_status default 'valid',
  created timestamptz not null default current_timestamp,
  expires timestamptz,
  key_type pgsodium.key_type,
  key_id bigserial,
  key_context bytea default 'pgsodium'::bytea check (pg_catalog.length(key_context) = 8),
  name text unique,
  associated_data text default 'associated',
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid references pgsodium.key (id),
  comment text,
  user_data text,
  check (
    case when raw_key is not null
      then key_id is null and key_context is null and parent_key is not null
      else key_id is not null and key_context is not null and parent_key is null
    end
  )
);
alter table pgsodium.key alter column key_id drop not null;
create index on pgsodium.key (status) where status in ('valid', 'default');
create unique index on pgsodium.key (status) where status = 'default';
create unique index on pgsodium.key (key_id, key_context, key_type);
comment on table pgsodium.key is
  'This table holds metadata for derived keys given a key_id and key_context. The raw key is never stored.';
select pg_catalog.pg_extension_config_dump('pgsodium.key', '');

create view pgsodium.valid_key as
  select k.id, k.name, k.status, k.key_type, k.key_id, k.key_context, k.created, k.expires, k.associated_data
  from pgsodium.key k
  where k.status in ('valid', 'default')
    and case when k.expires is null then true else k.expires > pg_catalog.now() end;

-- Constant-time comparisons (every byte is looked at whatever differs).
create function pgsodium._postgate_cmp(a bytea, b bytea) returns boolean
language plpgsql immutable strict
set search_path = ''
as $postgate_fn$
declare
  diff integer := 0;
  i integer;
begin
  if pg_catalog.length(a) <> pg_catalog.length(b) then
    return false;
  end if;
  for i in 0 .. pg_catalog.length(a) - 1 loop
    diff := diff | (pg_catalog.get_byte(a, i) # pg_catalog.get_byte(b, i));
  end loop;
  return diff = 0;
end
$postgate_fn$;

create function pgsodium.crypto_cmp(text, text) returns boolean
language sql immutable strict
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_cmp(pg_catalog.convert_to($1, 'UTF8'), pg_catalog.convert_to($2, 'UTF8'))
$postgate_fn$;

create function pgsodium.crypto_hash_sha256(message bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pg_catalog.sha256(pgsodium._postgate_required('crypto_hash_sha256', 'message', message, null))
$postgate_fn$;

create function pgsodium.crypto_hash_sha512(message bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pg_catalog.sha512(pgsodium._postgate_required('crypto_hash_sha512', 'message', message, null))
$postgate_fn$;

-- libsodium's URL-safe base64 without padding, the variant pgsodium uses.
create function pgsodium.sodium_bin2base64(bin bytea) returns text
language sql immutable
set search_path = ''
as $postgate_fn$
  select pg_catalog.translate(
    pg_catalog.encode(pgsodium._postgate_required('sodium_bin2base64', 'bin', bin, null), 'base64'),
    E'+/=\n', '-_')
$postgate_fn$;

create function pgsodium.sodium_base642bin(base64 text) returns bytea
language plpgsql immutable
set search_path = ''
as $postgate_fn$
declare
  standard text;
begin
  if base64 is null then
    raise exception 'sodium_base642bin: base64 cannot be NULL' using errcode = 'null_value_not_allowed';
  end if;
  if base64 !~ '^[A-Za-z0-9_-]*$' or pg_catalog.length(base64) % 4 = 1 then
    raise exception 'sodium_base642bin: sodium_base642bin() failed' using errcode = 'invalid_parameter_value';
  end if;
  standard := pg_catalog.translate(base64, '-_', '+/');
  return pg_catalog.decode(standard || pg_catalog.repeat('=', (4 - pg_catalog.length(standard) % 4) % 4), 'base64');
end
$postgate_fn$;

create function pgsodium.randombytes_buf(size integer) returns bytea
language plpgsql volatile
set search_path = ''
as $postgate_fn$
declare
  result bytea := ''::bytea;
begin
  if size is null or size < 0 then
    raise exception 'randombytes_buf: invalid size' using errcode = 'invalid_parameter_value';
  end if;
  while pg_catalog.length(result) < size loop
    result := result || pgsodium._postgate_random(least(1024, size - pg_catalog.length(result)));
  end loop;
  return result;
end
$postgate_fn$;

-- Deterministic in the 32-byte seed (HMAC-SHA-512 blocks; not libsodium's ChaCha20 stream).
create function pgsodium.randombytes_buf_deterministic(size integer, seed bytea) returns bytea
language plpgsql immutable
set search_path = ''
as $postgate_fn$
declare
  result bytea := ''::bytea;
  block bigint := 0;
begin
  perform pgsodium._postgate_required('randombytes_buf_deterministic', 'seed', seed, 32);
  if size is null or size < 0 then
    raise exception 'randombytes_buf_deterministic: invalid size' using errcode = 'invalid_parameter_value';
  end if;
  while pg_catalog.length(result) < size loop
    result := result || pgsodium._postgate_hmac(pg_catalog.int8send(block), seed, 'sha512');
    block := block + 1;
  end loop;
  return pg_catalog.substr(result, 1, size);
end
$postgate_fn$;

-- A uniformly random 32-bit value, as a (signed) integer like pgsodium returns it.
create function pgsodium.randombytes_random() returns integer
language sql volatile
set search_path = ''
as $postgate_fn$
  select ('x' || pg_catalog.encode(pgsodium._postgate_random(4), 'hex'))::bit(32)::integer
$postgate_fn$;

-- Uniform in [0, upper_bound), without modulo bias; 0 when upper_bound < 2.
create function pgsodium.randombytes_uniform(upper_bound integer) returns integer
language plpgsql volatile
set search_path = ''
as $postgate_fn$
declare
  value bigint;
  floor_value bigint;
begin
  if upper_bound is null or upper_bound < 2 then
    return 0;
  end if;
  floor_value := (4294967296 - upper_bound) % upper_bound;
  loop
    value := ('x' || pg_catalog.encode(pgsodium._postgate_random(4), 'hex'))::bit(32)::bigint & 4294967295;
    if value >= floor_value then
      return (value % upper_bound)::integer;
    end if;
  end loop;
end
$postgate_fn$;

create function pgsodium.version() returns text
language sql
set search_path = ''
as $postgate_fn$
  select e.extversion from pg_catalog.pg_extension e where e.extname = 'pgsodium'
$postgate_fn$;

create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key bytea, nonce bytea default null)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_seal(
    pgsodium._postgate_required('crypto_aead_det_encrypt', 'message', message, null),
    additional,
    pgsodium._postgate_required('crypto_aead_det_encrypt', 'key', key, 32),
    case when nonce is null then null else pgsodium._postgate_required('crypto_aead_det_encrypt', 'nonce', nonce, 16) end)
$postgate_fn$;

create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key bytea, nonce bytea default null)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_open(
    'crypto_aead_det_decrypt',
    pgsodium._postgate_required('crypto_aead_det_decrypt', 'message', message, null),
    additional,
    pgsodium._postgate_required('crypto_aead_det_decrypt', 'key', key, 32),
    case when nonce is null then null else pgsodium._postgate_required('crypto_aead_det_decrypt', 'nonce', nonce, 16) end)
$postgate_fn$;

create function pgsodium.crypto_aead_ietf_encrypt(message bytea, additional bytea, nonce bytea, key bytea)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_seal(
    pgsodium._postgate_required('crypto_aead_ietf_encrypt', 'message', message, null),
    additional,
    pgsodium._postgate_required('crypto_aead_ietf_encrypt', 'key', key, 32),
    pgsodium._postgate_required('crypto_aead_ietf_encrypt', 'nonce', nonce, 12))
$postgate_fn$;

create function pgsodium.crypto_aead_ietf_decrypt(message bytea, additional bytea, nonce bytea, key bytea)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_open(
    'crypto_aead_ietf_decrypt',
    pgsodium._postgate_required('crypto_aead_ietf_decrypt', 'message', message, null),
    additional,
    pgsodium._postgate_required('crypto_aead_ietf_decrypt', 'key', key, 32),
    pgsodium._postgate_required('crypto_aead_ietf_decrypt', 'nonce', nonce, 12))
$postgate_fn$;

create function pgsodium.crypto_secretbox(message bytea, nonce bytea, key bytea)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_seal(
    pgsodium._postgate_required('crypto_secretbox', 'message', message, null),
    null,
    pgsodium._postgate_required('crypto_secretbox', 'key', key, 32),
    pgsodium._postgate_required('crypto_secretbox', 'nonce', nonce, 24))
$postgate_fn$;

create function pgsodium.crypto_secretbox_open(ciphertext bytea, nonce bytea, key bytea)
returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_open(
    'crypto_secretbox_open',
    pgsodium._postgate_required('crypto_secretbox_open', 'message', ciphertext, null),
    null,
    pgsodium._postgate_required('crypto_secretbox_open', 'key', key, 32),
    pgsodium._postgate_required('crypto_secretbox_open', 'nonce', nonce, 24))
$postgate_fn$;

-- crypto_auth is HMAC-SHA-512-256: HMAC-SHA-512 truncated to 32 bytes, 32-byte key.
create function pgsodium.crypto_auth(message bytea, key bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pg_catalog.substr(pgsodium._postgate_hmac(
    pgsodium._postgate_required('crypto_auth', 'message', message, null),
    pgsodium._postgate_required('crypto_auth', 'key', key, 32),
    'sha512'), 1, 32)
$postgate_fn$;

create function pgsodium.crypto_auth_verify(mac bytea, message bytea, key bytea) returns boolean
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_cmp(
    pgsodium._postgate_required('crypto_auth_verify', 'mac', mac, null),
    pgsodium.crypto_auth(message, key))
$postgate_fn$;

create function pgsodium.crypto_auth_hmacsha256(message bytea, secret bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_hmac(
    pgsodium._postgate_required('crypto_auth_hmacsha256', 'message', message, null),
    pgsodium._postgate_required('crypto_auth_hmacsha256', 'secret', secret, null),
    'sha256')
$postgate_fn$;

create function pgsodium.crypto_auth_hmacsha256_verify(hash bytea, message bytea, secret bytea) returns boolean
language sql immutable strict
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_cmp(hash, pgsodium.crypto_auth_hmacsha256(message, secret))
$postgate_fn$;

create function pgsodium.crypto_auth_hmacsha512(message bytea, secret bytea) returns bytea
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_hmac(
    pgsodium._postgate_required('crypto_auth_hmacsha512', 'message', message, null),
    pgsodium._postgate_required('crypto_auth_hmacsha512', 'secret', secret, null),
    'sha512')
$postgate_fn$;

create function pgsodium.crypto_auth_hmacsha512_verify(hash bytea, message bytea, secret bytea) returns boolean
language sql immutable
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_cmp(
    pgsodium._postgate_required('crypto_auth_hmacsha512_verify', 'hash', hash, null),
    pgsodium.crypto_auth_hmacsha512(message, secret))
$postgate_fn$;
