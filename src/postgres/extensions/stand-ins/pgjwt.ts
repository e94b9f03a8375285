/**
 * pgjwt stand-in: a working implementation of pgjwt 0.2.0's API (HS256/HS384/HS512 JSON Web
 * Tokens on pgcrypto's hmac), written from its documented behaviour:
 *
 *   url_encode(data bytea) -> text          base64url without padding
 *   url_decode(data text) -> bytea          the inverse, padding restored
 *   algorithm_sign(signables, secret, algorithm) -> text
 *                                           base64url HMAC of signables; HS256/HS384/HS512, any
 *                                           other algorithm makes pgcrypto's hmac raise
 *   sign(payload json, secret, algorithm default 'HS256') -> text
 *                                           header {"alg":"<algorithm>","typ":"JWT"} (that exact
 *                                           text), payload as its json text, so tokens are
 *                                           byte-identical to pgjwt's
 *   verify(token, secret, algorithm default 'HS256') -> (header json, payload json, valid bool)
 *                                           valid: the signature matches and now() is within
 *                                           [nbf, exp) when those claims are numbers
 *   try_cast_double(inp text) -> double precision, null when not a number
 *
 * Objects are created in the extension's schema (Supabase: `with schema extensions`).
 *
 * Where hmac comes from: pgjwt requires pgcrypto, which Supabase creates in schema
 * `extensions`, the same schema pgjwt goes to, which is why pgjwt itself can write
 * `@extschema@.hmac`. The stand-in does not assume that layout. PostgreSQL 16's
 * `@extschema:pgcrypto@` would name pgcrypto's schema wherever it is, but PostgreSQL 15 lacks
 * it; qualifying as `extensions.hmac` would break the day pgcrypto lives elsewhere; leaving it
 * unqualified would resolve through each caller's search_path (hijackable, and failing for a
 * caller whose path lacks pgcrypto's schema); and looking the schema up at every call costs a
 * catalog query per signature. So the install script looks pgcrypto's schema up once, in
 * pg_extension (`requires` guarantees it is installed), and creates `algorithm_sign` with hmac
 * qualified by that schema: what `@extschema:pgcrypto@` does on 16+. Moving pgcrypto afterwards
 * (`alter extension pgcrypto set schema`) breaks signing until pgjwt is recreated, as it does
 * for any extension that names a required extension's schema.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PGJWT: StandIn = {
  name: 'pgjwt',
  defaultVersion: '0.2.0',
  olderVersions: ['0.1.1'],
  relocatable: false,
  requires: ['pgcrypto'],
  comment: 'JSON Web Token API for Postgresql',
  limits: 'Works like pgjwt 0.2.0 (HS256/HS384/HS512 on pgcrypto); its hmac is bound to the schema pgcrypto had when pgjwt was created.',
  sql: readSqlAsset(new URL('./pgjwt.sql', import.meta.url)),
};
