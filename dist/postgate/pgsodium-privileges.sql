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
