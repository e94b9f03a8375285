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
import { readSqlAsset } from '../../sql-asset.ts';
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
  byKeyId(
    'crypto_auth',
    `message bytea, key_id bigint, context bytea default ${CONTEXT_DEFAULT}`,
    'message, pgsodium.derive_key(key_id, 32, context)',
    'bytea',
  ),
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
  byUuid(
    'crypto_aead_det_encrypt',
    'message bytea, additional bytea, key_uuid uuid',
    'aead-det',
    'message, additional, k.decrypted_raw_key',
    'message, additional, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid(
    'crypto_aead_det_encrypt',
    'message bytea, additional bytea, key_uuid uuid, nonce bytea',
    'aead-det',
    'message, additional, k.decrypted_raw_key, nonce',
    'message, additional, k.key_id, k.key_context, nonce',
    'bytea',
  ),
  byUuid(
    'crypto_aead_det_decrypt',
    'message bytea, additional bytea, key_uuid uuid',
    'aead-det',
    'message, additional, k.decrypted_raw_key',
    'message, additional, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid(
    'crypto_aead_det_decrypt',
    'message bytea, additional bytea, key_uuid uuid, nonce bytea',
    'aead-det',
    'message, additional, k.decrypted_raw_key, nonce',
    'message, additional, k.key_id, k.key_context, nonce',
    'bytea',
  ),
  byUuid(
    'crypto_aead_ietf_encrypt',
    'message bytea, additional bytea, nonce bytea, key_uuid uuid',
    'aead-ietf',
    'message, additional, nonce, k.decrypted_raw_key',
    'message, additional, nonce, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid(
    'crypto_aead_ietf_decrypt',
    'message bytea, additional bytea, nonce bytea, key_uuid uuid',
    'aead-ietf',
    'message, additional, nonce, k.decrypted_raw_key',
    'message, additional, nonce, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid(
    'crypto_secretbox',
    'message bytea, nonce bytea, key_uuid uuid',
    'secretbox',
    'message, nonce, k.decrypted_raw_key',
    'message, nonce, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid(
    'crypto_secretbox_open',
    'message bytea, nonce bytea, key_uuid uuid',
    'secretbox',
    'message, nonce, k.decrypted_raw_key',
    'message, nonce, k.key_id, k.key_context',
    'bytea',
  ),
  byUuid('crypto_auth', 'message bytea, key_uuid uuid', 'auth', 'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid(
    'crypto_auth_verify',
    'mac bytea, message bytea, key_uuid uuid',
    'auth',
    'mac, message, k.decrypted_raw_key',
    'mac, message, k.key_id, k.key_context',
    'boolean',
  ),
  byUuid('crypto_auth_hmacsha256', 'message bytea, key_uuid uuid', 'hmacsha256', 'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid(
    'crypto_auth_hmacsha256_verify',
    'signature bytea, message bytea, key_uuid uuid',
    'hmacsha256',
    'signature, message, k.decrypted_raw_key',
    'signature, message, k.key_id, k.key_context',
    'boolean',
  ),
  byUuid('crypto_auth_hmacsha512', 'message bytea, key_uuid uuid', 'hmacsha512', 'message, k.decrypted_raw_key', 'message, k.key_id, k.key_context', 'bytea'),
  byUuid(
    'crypto_auth_hmacsha512_verify',
    'signature bytea, message bytea, key_uuid uuid',
    'hmacsha512',
    'signature, message, k.decrypted_raw_key',
    'signature, message, k.key_id, k.key_context',
    'boolean',
  ),
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

const SQL = [
  readSqlAsset(new URL('./pgsodium.sql', import.meta.url)),
  GENERATORS,
  KEYS_BY_ID,
  KEYS_BY_UUID,
  readSqlAsset(new URL('./pgsodium-key-management.sql', import.meta.url)),
  UNAVAILABLE,
  readSqlAsset(new URL('./pgsodium-privileges.sql', import.meta.url)),
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
