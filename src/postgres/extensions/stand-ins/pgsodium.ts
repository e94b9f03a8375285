/**
 * pgsodium stand-in: the part of pgsodium 3.1's interface that Supabase projects' migrations
 * use, in schema `pgsodium`, with working implementations where PostgreSQL and pgcrypto provide
 * the primitive, and a clear error at call time where only libsodium does. Names, signatures,
 * roles and grants follow pgsodium's SQL (michelp/pgsodium) and Supabase's grants
 * (supabase/postgres); the bodies are written here.
 *
 * Works, with libsodium's results byte for byte:
 *   crypto_hash_sha256/sha512 (PostgreSQL's sha256/sha512), crypto_auth (HMAC-SHA-512-256),
 *   crypto_auth_hmacsha256, crypto_auth_hmacsha512 and their _verify functions (pgcrypto's hmac),
 *   sodium_bin2base64/sodium_base642bin (URL-safe, no padding), crypto_cmp, the key table
 *   (pgsodium.key, create_key, valid_key, decrypted_key, get_key_by_id/name, get_named_keys),
 *   every *_keygen / *_noncegen / *_new_seed and randombytes_buf/random/uniform/new_seed
 *   (pgcrypto's gen_random_bytes).
 *
 * Works, round trip only (a ciphertext decrypts under the same key; it is NOT libsodium's):
 *   crypto_aead_det_encrypt/decrypt, crypto_aead_ietf_encrypt/decrypt, crypto_secretbox/_open.
 *   libsodium's XChaCha20-SIV, ChaCha20-Poly1305 and XSalsa20-Poly1305 are not in pgcrypto, so
 *   they are replaced by one deterministic authenticated construction on pgcrypto: a 16-byte
 *   synthetic IV, HMAC-SHA-256(additional data, nonce, message) under a MAC key derived from the
 *   key, then AES-256-CBC under an encryption key derived from the key, the IV in front. Key and
 *   nonce lengths are checked as libsodium checks them. Tampering, a wrong key, wrong additional
 *   data or a wrong nonce fail with "<function>: invalid message".
 *   randombytes_buf_deterministic is deterministic in its seed, not libsodium's stream.
 *
 * Keys by id (key_id, context) and by uuid: pgsodium derives them from a server root key kept
 * outside SQL. The stand-in's root key is 32 random bytes made when the extension is created,
 * in a table no role but the superuser can read (pgsodium._postgate_root_key, not dumped);
 * derive_key is HMAC-SHA-512 of the id and the 8-byte context under it. Keys stored with a
 * raw_key are encrypted under their parent key by a trigger, as pgsodium's security label does.
 *
 * Not available (raises feature_not_supported naming the function): crypto_box*, crypto_sign*,
 * crypto_generichash, crypto_shorthash, crypto_pwhash*, crypto_kdf_derive_from_key,
 * crypto_kx_*, crypto_stream_xchacha20*. Transparent column encryption (SECURITY LABEL FOR
 * pgsodium ...) needs pgsodium's label provider, which only its shared library registers: such
 * statements fail here with PostgreSQL's own error.
 */
import type { StandIn } from '../types.ts';

const CONTEXT_DEFAULT = `'pgsodium'::bytea`;

/** A function taking (..., key_id bigint, context bytea, ...) that derives the key and calls the raw-key variant. */
function byKeyId(name: string, params: string, call: string, returns: string): string {
  return `
create function pgsodium.${name}(${params}) returns ${returns}
language sql stable security definer
set search_path = ''
as $postgate_fn$
  select pgsodium.${name}(${call})
$postgate_fn$;`;
}

/** A function taking a key's uuid: uses the stored raw key when there is one, else its (key_id, context). */
function byUuid(name: string, params: string, keyType: string, rawCall: string, idCall: string, returns: string): string {
  return `
create function pgsodium.${name}(${params}) returns ${returns}
language plpgsql stable security definer
set search_path = ''
as $postgate_fn$
declare
  k record;
begin
  select v.decrypted_raw_key, v.key_id, v.key_context into strict k
  from pgsodium.decrypted_key v
  where v.id = key_uuid and v.key_type = '${keyType}';
  if k.decrypted_raw_key is not null then
    return pgsodium.${name}(${rawCall});
  end if;
  return pgsodium.${name}(${idCall});
end
$postgate_fn$;`;
}

/** A function that needs libsodium: raises when called. */
function unavailable(name: string, params: string, returns: string): string {
  return `
create function pgsodium.${name}(${params}) returns ${returns}
language plpgsql volatile
set search_path = ''
as $postgate_fn$
begin
  raise exception 'pgsodium.${name}() is not available in postgate''s pgsodium stand-in: it needs libsodium, which this server does not have'
    using errcode = 'feature_not_supported',
          hint = 'Run the shadow database on the supabase/postgres image (shadow: docker) to use it.';
end
$postgate_fn$;`;
}

/** A function returning n random bytes. */
function randomBytes(name: string, bytes: number): string {
  return `
create function pgsodium.${name}() returns bytea
language sql volatile
set search_path = ''
as $postgate_fn$
  select pgsodium._postgate_random(${bytes})
$postgate_fn$;`;
}

const ROLES_AND_TYPES = String.raw`
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
`;

const PRIMITIVES = String.raw`
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
`;

const KEY_TABLE = String.raw`
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
`;

const AEAD_DET = String.raw`
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
`;

const AEAD_IETF = String.raw`
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
`;

const SECRETBOX = String.raw`
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
`;

const AUTH = String.raw`
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
`;

const UTILITIES = String.raw`
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
`;

const KEYS_BY_ID = [
  byKeyId(
    'crypto_aead_det_encrypt',
    `message bytea, additional bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}, nonce bytea default null`,
    'message, additional, pgsodium.derive_key(key_id, 32, context), nonce',
    'bytea',
  ),
  byKeyId(
    'crypto_aead_det_decrypt',
    `message bytea, additional bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}, nonce bytea default null`,
    'message, additional, pgsodium.derive_key(key_id, 32, context), nonce',
    'bytea',
  ),
  byKeyId(
    'crypto_aead_ietf_encrypt',
    `message bytea, additional bytea, nonce bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, additional, nonce, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId(
    'crypto_aead_ietf_decrypt',
    `message bytea, additional bytea, nonce bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, additional, nonce, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId(
    'crypto_secretbox',
    `message bytea, nonce bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, nonce, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId(
    'crypto_secretbox_open',
    `message bytea, nonce bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, nonce, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId('crypto_auth', `message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`, 'message, pgsodium.derive_key(key_id, 32, context)', 'bytea'),
  byKeyId(
    'crypto_auth_verify',
    `mac bytea, message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'mac, message, pgsodium.derive_key(key_id, 32, context)',
    'boolean',
  ),
  byKeyId(
    'crypto_auth_hmacsha256',
    `message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId(
    'crypto_auth_hmacsha256_verify',
    `hash bytea, message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'hash, message, pgsodium.derive_key(key_id, 32, context)',
    'boolean',
  ),
  byKeyId(
    'crypto_auth_hmacsha512',
    `message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
  byKeyId(
    'crypto_auth_hmacsha512_verify',
    `hash bytea, message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'hash, message, pgsodium.derive_key(key_id, 32, context)',
    'boolean',
  ),
].join('\n');

const KEYS_BY_UUID = [
  byUuid('crypto_aead_det_encrypt', 'message bytea, additional bytea, key_uuid uuid', 'aead-det',
    'message, additional, k.decrypted_raw_key', 'message, additional, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_aead_det_encrypt', 'message bytea, additional bytea, key_uuid uuid, nonce bytea', 'aead-det',
    'message, additional, k.decrypted_raw_key, nonce', 'message, additional, k.key_id, k.key_context, nonce', 'bytea'),
  byUuid('crypto_aead_det_decrypt', 'message bytea, additional bytea, key_uuid uuid', 'aead-det',
    'message, additional, k.decrypted_raw_key', 'message, additional, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_aead_det_decrypt', 'message bytea, additional bytea, key_uuid uuid, nonce bytea', 'aead-det',
    'message, additional, k.decrypted_raw_key, nonce', 'message, additional, k.key_id, k.key_context, nonce', 'bytea'),
  byUuid('crypto_aead_ietf_encrypt', 'message bytea, additional bytea, nonce bytea, key_uuid uuid', 'aead-ietf',
    'message, additional, nonce, k.decrypted_raw_key', 'message, additional, nonce, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_aead_ietf_decrypt', 'message bytea, additional bytea, nonce bytea, key_uuid uuid', 'aead-ietf',
    'message, additional, nonce, k.decrypted_raw_key', 'message, additional, nonce, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_secretbox', 'message bytea, nonce bytea, key_uuid uuid', 'secretbox',
    'message, nonce, k.decrypted_raw_key', 'message, nonce, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_secretbox_open', 'message bytea, nonce bytea, key_uuid uuid', 'secretbox',
    'message, nonce, k.decrypted_raw_key', 'message, nonce, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_auth', 'message bytea, key_uuid uuid', 'auth',
    'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_auth_verify', 'mac bytea, message bytea, key_uuid uuid', 'auth',
    'mac, message, k.decrypted_raw_key', 'mac, message, k.key_id, k.key_context', 'boolean'),
  byUuid('crypto_auth_hmacsha256', 'message bytea, key_uuid uuid', 'hmacsha256',
    'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_auth_hmacsha256_verify', 'signature bytea, message bytea, key_uuid uuid', 'hmacsha256',
    'signature, message, k.decrypted_raw_key', 'signature, message, k.key_id, k.key_context', 'boolean'),
  byUuid('crypto_auth_hmacsha512', 'message bytea, key_uuid uuid', 'hmacsha512',
    'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid('crypto_auth_hmacsha512_verify', 'signature bytea, message bytea, key_uuid uuid', 'hmacsha512',
    'signature, message, k.decrypted_raw_key', 'signature, message, k.key_id, k.key_context', 'boolean'),
].join('\n');

const GENERATORS = [
  randomBytes('crypto_aead_det_keygen', 32),
  randomBytes('crypto_aead_det_noncegen', 16),
  randomBytes('crypto_aead_ietf_keygen', 32),
  randomBytes('crypto_aead_ietf_noncegen', 12),
  randomBytes('crypto_secretbox_keygen', 32),
  randomBytes('crypto_secretbox_noncegen', 24),
  randomBytes('crypto_auth_keygen', 32),
  randomBytes('crypto_auth_hmacsha256_keygen', 32),
  randomBytes('crypto_auth_hmacsha512_keygen', 32),
  randomBytes('crypto_box_noncegen', 24),
  randomBytes('crypto_box_new_seed', 32),
  randomBytes('crypto_sign_new_seed', 32),
  randomBytes('crypto_kx_new_seed', 32),
  randomBytes('crypto_generichash_keygen', 32),
  randomBytes('crypto_shorthash_keygen', 16),
  randomBytes('crypto_kdf_keygen', 32),
  randomBytes('crypto_pwhash_saltgen', 16),
  randomBytes('crypto_secretstream_keygen', 32),
  randomBytes('crypto_stream_xchacha20_keygen', 32),
  randomBytes('crypto_stream_xchacha20_noncegen', 24),
  randomBytes('randombytes_new_seed', 32),
].join('\n');

const UNAVAILABLE = [
  unavailable('crypto_box_new_keypair', '', 'pgsodium.crypto_box_keypair'),
  unavailable('crypto_box_seed_new_keypair', 'seed bytea', 'pgsodium.crypto_box_keypair'),
  unavailable('crypto_box', 'message bytea, nonce bytea, public bytea, secret bytea', 'bytea'),
  unavailable('crypto_box_open', 'ciphertext bytea, nonce bytea, public bytea, secret bytea', 'bytea'),
  unavailable('crypto_box_seal', 'message bytea, public_key bytea', 'bytea'),
  unavailable('crypto_box_seal_open', 'ciphertext bytea, public_key bytea, secret_key bytea', 'bytea'),
  unavailable('crypto_sign_new_keypair', '', 'pgsodium.crypto_sign_keypair'),
  unavailable('crypto_sign_seed_new_keypair', 'seed bytea', 'pgsodium.crypto_sign_keypair'),
  unavailable('crypto_sign', 'message bytea, key bytea', 'bytea'),
  unavailable('crypto_sign_open', 'signed_message bytea, key bytea', 'bytea'),
  unavailable('crypto_sign_detached', 'message bytea, key bytea', 'bytea'),
  unavailable('crypto_sign_verify_detached', 'sig bytea, message bytea, key bytea', 'boolean'),
  unavailable('crypto_generichash', 'message bytea, key bytea default null', 'bytea'),
  unavailable('crypto_shorthash', 'message bytea, key bytea', 'bytea'),
  unavailable('crypto_pwhash', 'password bytea, salt bytea', 'bytea'),
  unavailable('crypto_pwhash_str', 'password bytea', 'bytea'),
  unavailable('crypto_pwhash_str_verify', 'hashed_password bytea, password bytea', 'boolean'),
  unavailable('crypto_kdf_derive_from_key', 'subkey_size bigint, subkey_id bigint, context bytea, primary_key bytea', 'bytea'),
  unavailable('crypto_kx_new_keypair', '', 'pgsodium.crypto_kx_keypair'),
  unavailable('crypto_kx_seed_new_keypair', 'seed bytea', 'pgsodium.crypto_kx_keypair'),
  unavailable('crypto_kx_client_session_keys', 'client_pk bytea, client_sk bytea, server_pk bytea', 'pgsodium.crypto_kx_session'),
  unavailable('crypto_kx_server_session_keys', 'server_pk bytea, server_sk bytea, client_pk bytea', 'pgsodium.crypto_kx_session'),
  unavailable('crypto_stream_xchacha20', 'bigint, bytea, bytea', 'bytea'),
  unavailable('crypto_stream_xchacha20_xor', 'bytea, bytea, bytea', 'bytea'),
].join('\n');

const KEY_MANAGEMENT = String.raw`
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
`;

const PRIVILEGES = String.raw`
-- Privileges: pgsodium's own, then Supabase's, for the roles this cluster has.
revoke all on schema pgsodium from public;
grant usage on schema pgsodium to public;
revoke all on all functions in schema pgsodium from public;
revoke all on all tables in schema pgsodium from public;
revoke all on all sequences in schema pgsodium from public;

-- The stand-in's helpers take their keys as arguments (the pgcrypto wrappers run as their
-- owner, so callers need no privilege on pgcrypto's schema); only derive_key reads the root key.
grant execute on function
  pgsodium._postgate_hmac(bytea, bytea, text), pgsodium._postgate_random(integer),
  pgsodium._postgate_aes_encrypt(bytea, bytea, bytea), pgsodium._postgate_aes_decrypt(bytea, bytea, bytea),
  pgsodium._postgate_required(text, text, bytea, integer), pgsodium._postgate_seal(bytea, bytea, bytea, bytea),
  pgsodium._postgate_open(text, bytea, bytea, bytea, bytea), pgsodium._postgate_cmp(bytea, bytea)
  to public;

-- Left open to everyone by pgsodium.
grant execute on function
  pgsodium.crypto_hash_sha256(bytea), pgsodium.crypto_hash_sha512(bytea),
  pgsodium.sodium_bin2base64(bytea), pgsodium.sodium_base642bin(text),
  pgsodium.crypto_cmp(text, text), pgsodium.version(),
  pgsodium.crypto_generichash(bytea, bytea), pgsodium.crypto_shorthash(bytea, bytea),
  pgsodium.crypto_pwhash(bytea, bytea), pgsodium.crypto_pwhash_saltgen(),
  pgsodium.crypto_pwhash_str(bytea), pgsodium.crypto_pwhash_str_verify(bytea, bytea),
  pgsodium.crypto_sign(bytea, bytea), pgsodium.crypto_sign_open(bytea, bytea),
  pgsodium.crypto_sign_detached(bytea, bytea), pgsodium.crypto_sign_verify_detached(bytea, bytea, bytea),
  pgsodium.crypto_sign_new_seed(), pgsodium.crypto_sign_seed_new_keypair(bytea),
  pgsodium.crypto_box_new_seed(), pgsodium.crypto_box_seal(bytea, bytea), pgsodium.crypto_box_seal_open(bytea, bytea, bytea),
  pgsodium.crypto_kx_client_session_keys(bytea, bytea, bytea), pgsodium.crypto_kx_server_session_keys(bytea, bytea, bytea),
  pgsodium.crypto_stream_xchacha20(bigint, bytea, bytea), pgsodium.crypto_stream_xchacha20_xor(bytea, bytea, bytea),
  pgsodium.crypto_stream_xchacha20_keygen(), pgsodium.crypto_stream_xchacha20_noncegen(),
  pgsodium.crypto_secretstream_keygen(), pgsodium.crypto_auth_hmacsha512_keygen(),
  pgsodium.get_key_by_id(uuid), pgsodium.get_key_by_name(text), pgsodium.get_named_keys(text)
  to public;

-- Keys by id or uuid, nonces and randomness.
grant execute on function
  pgsodium.crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea), pgsodium.crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea),
  pgsodium.crypto_aead_det_encrypt(bytea, bytea, uuid), pgsodium.crypto_aead_det_decrypt(bytea, bytea, uuid),
  pgsodium.crypto_aead_det_encrypt(bytea, bytea, uuid, bytea), pgsodium.crypto_aead_det_decrypt(bytea, bytea, uuid, bytea),
  pgsodium.crypto_aead_ietf_encrypt(bytea, bytea, bytea, bigint, bytea), pgsodium.crypto_aead_ietf_decrypt(bytea, bytea, bytea, bigint, bytea),
  pgsodium.crypto_aead_ietf_encrypt(bytea, bytea, bytea, uuid), pgsodium.crypto_aead_ietf_decrypt(bytea, bytea, bytea, uuid),
  pgsodium.crypto_secretbox(bytea, bytea, bigint, bytea), pgsodium.crypto_secretbox_open(bytea, bytea, bigint, bytea),
  pgsodium.crypto_secretbox(bytea, bytea, uuid), pgsodium.crypto_secretbox_open(bytea, bytea, uuid),
  pgsodium.crypto_auth(bytea, bigint, bytea), pgsodium.crypto_auth(bytea, uuid),
  pgsodium.crypto_auth_verify(bytea, bytea, bigint, bytea), pgsodium.crypto_auth_verify(bytea, bytea, uuid),
  pgsodium.crypto_auth_hmacsha256(bytea, bigint, bytea), pgsodium.crypto_auth_hmacsha256(bytea, uuid),
  pgsodium.crypto_auth_hmacsha256_verify(bytea, bytea, bigint, bytea), pgsodium.crypto_auth_hmacsha256_verify(bytea, bytea, uuid),
  pgsodium.crypto_auth_hmacsha512(bytea, bigint, bytea), pgsodium.crypto_auth_hmacsha512(bytea, uuid),
  pgsodium.crypto_auth_hmacsha512_verify(bytea, bytea, bigint, bytea), pgsodium.crypto_auth_hmacsha512_verify(bytea, bytea, uuid),
  pgsodium.crypto_aead_det_noncegen(), pgsodium.crypto_aead_ietf_noncegen(), pgsodium.crypto_secretbox_noncegen(),
  pgsodium.randombytes_buf(integer), pgsodium.randombytes_buf_deterministic(integer, bytea),
  pgsodium.randombytes_random(), pgsodium.randombytes_uniform(integer),
  pgsodium.create_key(pgsodium.key_type, text, bytea, bytea, uuid, bytea, timestamptz, text)
  to pgsodium_keyiduser;

-- Raw keys.
grant execute on function
  pgsodium.crypto_aead_det_encrypt(bytea, bytea, bytea, bytea), pgsodium.crypto_aead_det_decrypt(bytea, bytea, bytea, bytea),
  pgsodium.crypto_aead_ietf_encrypt(bytea, bytea, bytea, bytea), pgsodium.crypto_aead_ietf_decrypt(bytea, bytea, bytea, bytea),
  pgsodium.crypto_secretbox(bytea, bytea, bytea), pgsodium.crypto_secretbox_open(bytea, bytea, bytea),
  pgsodium.crypto_auth(bytea, bytea), pgsodium.crypto_auth_verify(bytea, bytea, bytea),
  pgsodium.crypto_auth_hmacsha256(bytea, bytea), pgsodium.crypto_auth_hmacsha256_verify(bytea, bytea, bytea),
  pgsodium.crypto_auth_hmacsha512(bytea, bytea), pgsodium.crypto_auth_hmacsha512_verify(bytea, bytea, bytea),
  pgsodium.crypto_box(bytea, bytea, bytea, bytea), pgsodium.crypto_box_open(bytea, bytea, bytea, bytea)
  to pgsodium_keyholder;

-- Making keys.
grant execute on function
  pgsodium.crypto_aead_det_keygen(), pgsodium.crypto_aead_ietf_keygen(), pgsodium.crypto_secretbox_keygen(),
  pgsodium.crypto_auth_keygen(), pgsodium.crypto_auth_hmacsha256_keygen(), pgsodium.crypto_generichash_keygen(),
  pgsodium.crypto_shorthash_keygen(), pgsodium.crypto_kdf_keygen(), pgsodium.crypto_kdf_derive_from_key(bigint, bigint, bytea, bytea),
  pgsodium.crypto_box_new_keypair(), pgsodium.crypto_box_seed_new_keypair(bytea), pgsodium.crypto_box_noncegen(),
  pgsodium.crypto_sign_new_keypair(), pgsodium.crypto_kx_new_keypair(), pgsodium.crypto_kx_new_seed(),
  pgsodium.crypto_kx_seed_new_keypair(bytea), pgsodium.randombytes_new_seed(),
  pgsodium.derive_key(bigint, integer, bytea), pgsodium.pgsodium_derive(bigint, integer, bytea)
  to pgsodium_keymaker;

grant select on pgsodium.valid_key to pgsodium_keyiduser;
grant all on pgsodium.key, pgsodium.valid_key, pgsodium.decrypted_key to pgsodium_keymaker;
grant all on all sequences in schema pgsodium to pgsodium_keymaker;
-- The stand-in's root key stays the superuser's alone.
revoke all on pgsodium._postgate_root_key from pgsodium_keymaker;

do $postgate_grants$
begin
  if exists (select 1 from pg_catalog.pg_roles r where r.rolname = 'postgres') then
    grant pgsodium_keyiduser to postgres with admin option;
    grant pgsodium_keyholder to postgres with admin option;
    grant pgsodium_keymaker to postgres with admin option;
  end if;
  if exists (select 1 from pg_catalog.pg_roles r where r.rolname = 'service_role') then
    grant execute on function
      pgsodium.crypto_aead_det_decrypt(bytea, bytea, uuid, bytea),
      pgsodium.crypto_aead_det_encrypt(bytea, bytea, uuid, bytea),
      pgsodium.crypto_aead_det_keygen()
      to service_role;
  end if;
end
$postgate_grants$;
`;

const SQL = [
  ROLES_AND_TYPES,
  PRIMITIVES,
  KEY_TABLE,
  UTILITIES,
  AEAD_DET,
  AEAD_IETF,
  SECRETBOX,
  AUTH,
  GENERATORS,
  KEYS_BY_ID,
  KEYS_BY_UUID,
  KEY_MANAGEMENT,
  UNAVAILABLE,
  PRIVILEGES,
].join('\n');

export const PGSODIUM: StandIn = {
  name: 'pgsodium',
  defaultVersion: '3.1.8',
  olderVersions: ['3.1.7', '3.1.6', '3.1.5', '3.0.4'],
  schema: 'pgsodium',
  relocatable: false,
  requires: ['pgcrypto'],
  comment: 'Pgsodium is a modern cryptography library for Postgres.',
  limits:
    'Hashes, HMACs, randomness and the key table work; AEAD and secretbox round-trip with a pgcrypto construction, not libsodium ciphertext; box, sign, generichash, pwhash, kdf and security-label column encryption are unavailable.',
  sql: SQL,
};
