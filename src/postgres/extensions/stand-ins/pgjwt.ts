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
import type { StandIn } from '../types.ts';

const SQL = String.raw`
create function @extschema@.url_encode(data bytea) returns text
language sql immutable strict
as $postgate_fn$
  select pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/=\n', '-_')
$postgate_fn$;

create function @extschema@.url_decode(data text) returns bytea
language sql immutable strict
as $postgate_fn$
  select pg_catalog.decode(
    t.standard || pg_catalog.repeat('=', (4 - pg_catalog.length(t.standard) % 4) % 4),
    'base64')
  from (select pg_catalog.translate(data, '-_', '+/') as standard) t
$postgate_fn$;

-- algorithm_sign names pgcrypto's hmac by the schema pgcrypto is installed in (see above).
do $postgate_algorithm_sign$
declare
  crypto_schema name;
begin
  select n.nspname into strict crypto_schema
  from pg_catalog.pg_extension e
  join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pgcrypto';

  execute pg_catalog.format(
    $sql$
      create function @extschema@.algorithm_sign(signables text, secret text, algorithm text) returns text
      language sql immutable
      as $body$
        select @extschema@.url_encode(%1$I.hmac(
          signables,
          secret,
          case algorithm
            when 'HS256' then 'sha256'
            when 'HS384' then 'sha384'
            when 'HS512' then 'sha512'
            else ''
          end))
      $body$
    $sql$,
    crypto_schema);
end
$postgate_algorithm_sign$;

create function @extschema@.sign(payload json, secret text, algorithm text default 'HS256') returns text
language sql immutable
as $postgate_fn$
  select s.signables || '.' || @extschema@.algorithm_sign(s.signables, secret, algorithm)
  from (
    select
      @extschema@.url_encode(pg_catalog.convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8'))
      || '.'
      || @extschema@.url_encode(pg_catalog.convert_to(payload::text, 'utf8')) as signables
  ) s
$postgate_fn$;

create function @extschema@.try_cast_double(inp text) returns double precision
language plpgsql immutable
as $postgate_fn$
begin
  return inp::double precision;
exception
  when others then
    return null;
end
$postgate_fn$;

create function @extschema@.verify(token text, secret text, algorithm text default 'HS256')
returns table (header json, payload json, valid boolean)
language sql stable
as $postgate_fn$
  select
    jwt.header,
    jwt.payload,
    jwt.signature_ok
      and coalesce(pg_catalog.to_timestamp(@extschema@.try_cast_double(jwt.payload ->> 'nbf')) <= current_timestamp, true)
      and coalesce(current_timestamp < pg_catalog.to_timestamp(@extschema@.try_cast_double(jwt.payload ->> 'exp')), true)
      as valid
  from (
    select
      pg_catalog.convert_from(@extschema@.url_decode(parts[1]), 'utf8')::json as header,
      pg_catalog.convert_from(@extschema@.url_decode(parts[2]), 'utf8')::json as payload,
      parts[3] = @extschema@.algorithm_sign(parts[1] || '.' || parts[2], secret, algorithm) as signature_ok
    from pg_catalog.regexp_split_to_array(token, '\.') as parts
  ) jwt
$postgate_fn$;
`;

export const PGJWT: StandIn = {
  name: 'pgjwt',
  defaultVersion: '0.2.0',
  olderVersions: ['0.1.1'],
  relocatable: false,
  requires: ['pgcrypto'],
  comment: 'JSON Web Token API for Postgresql',
  limits: 'Works like pgjwt 0.2.0 (HS256/HS384/HS512 on pgcrypto); its hmac is bound to the schema pgcrypto had when pgjwt was created.',
  sql: SQL,
};
