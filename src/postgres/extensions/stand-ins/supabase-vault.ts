/**
 * supabase_vault stand-in: Supabase Vault's table, view and functions in schema `vault`, with
 * the names, signatures and privileges of supabase_vault 0.3.x (supabase/vault's SQL and
 * supabase/postgres's after-create script, read for the interface; the bodies are written here).
 *
 * WARNING: NOT ENCRYPTED. Real Vault encrypts `vault.secrets.secret` with libsodium's
 * deterministic AEAD under a root key held outside SQL, so dumps and backups hold only
 * ciphertext. The stand-in has no key: its private `_crypto_aead_det_encrypt` and
 * `_crypto_aead_det_decrypt` return their input unchanged, so `secret` holds base64 of the
 * UTF-8 text, which anyone who can read the table can decode. That is acceptable only because
 * stand-ins exist in throwaway shadow and drill clusters; never store a real secret in one.
 *
 * Behaviour kept from Vault 0.3.x:
 *   - create_secret(new_secret, new_name default null, new_description default '',
 *     new_key_id default null) returns the new id; new_key_id is accepted and ignored, and an
 *     explicit null description violates the NOT NULL column, as on Supabase.
 *   - update_secret(secret_id, new_secret, new_name, new_description, new_key_id) changes what
 *     is given, keeps the nonce, sets updated_at; new_key_id is ignored.
 *   - vault.secrets is dumped by pg_dump (pg_extension_config_dump), names are unique.
 *   - Only postgres (with grant option) and service_role use schema vault, read and delete from
 *     vault.secrets and vault.decrypted_secrets, and call the functions; anon and
 *     authenticated cannot.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const SUPABASE_VAULT: StandIn = {
  name: 'supabase_vault',
  defaultVersion: '0.3.1',
  olderVersions: ['0.2.8'],
  schema: 'vault',
  relocatable: false,
  comment: 'Supabase Vault Extension',
  limits: 'Secrets are stored base64-encoded, NOT encrypted (there is no root key), so the stand-in is for throwaway clusters only.',
  sql: readSqlAsset(new URL('./supabase-vault.sql', import.meta.url)),
};
