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
