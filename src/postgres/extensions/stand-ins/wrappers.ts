/**
 * wrappers (Supabase Wrappers) stand-in: the handler / validator / meta function triple of every
 * foreign data wrapper Wrappers 0.5/0.6 ships, with their names (derived by Wrappers from the
 * Rust type names, hence big_query_ and click_house_), and the wrappers_fdw_stats table, so that
 *
 *   create foreign data wrapper stripe_wrapper handler stripe_fdw_handler validator stripe_fdw_validator;
 *   create server stripe_server foreign data wrapper stripe_wrapper options (api_key_id '...');
 *   create foreign table stripe.customers (id text, email text, attrs jsonb)
 *     server stripe_server options (object 'customers');
 *
 * apply as on Supabase. The validators are PL/pgSQL `(options text[], catalog oid) returns void`
 * functions that accept every option (the real ones check option names per wrapper; a typo in
 * an option is therefore not caught here). <name>_fdw_meta() describes the wrapper.
 *
 * The handler. A foreign table is never queried while migrations apply, and when something does
 * query one (a seed file, a view refresh) it must fail without any network access. A handler has
 * to be a C function returning fdw_handler, and nothing can be compiled, so it is a builtin that
 * takes no argument and returns nothing: pg_stat_clear_snapshot(), declared
 * `language internal` with `returns fdw_handler`. PostgreSQL calls the handler, with no
 * arguments, only when it needs the wrapper's routines (planning a query on a foreign table,
 * IMPORT FOREIGN SCHEMA, ANALYZE of a foreign table); the builtin just discards the session's
 * statistics snapshot (harmless) and returns a null pointer, and PostgreSQL, which checks what a
 * handler returns, stops with "foreign-data wrapper handler function ... did not return an
 * FdwRoutine struct": a plain error, no crash, nothing sent anywhere. The alternatives were
 * worse: a contrib wrapper's real handler (postgres_fdw, file_fdw) would try to connect to a
 * server or read (or, with file_fdw's `program` option, run) something on the machine; any
 * builtin that returns a non-null non-FdwRoutine value could be dereferenced. CREATE FOREIGN
 * DATA WRAPPER / SERVER / USER MAPPING / FOREIGN TABLE only call the validator.
 */
import type { StandIn } from '../types.ts';

/** Wrappers' native FDWs (handler name prefix) and the name its _fdw_meta() reports. */
const FDWS: ReadonlyArray<readonly [prefix: string, name: string, website: string]> = [
  ['airtable', 'Airtable', 'airtable'],
  ['auth0', 'Auth0', 'auth0'],
  ['big_query', 'BigQuery', 'bigquery'],
  ['click_house', 'ClickHouse', 'clickhouse'],
  ['cognito', 'Cognito', 'cognito'],
  ['duckdb', 'DuckDB', 'duckdb'],
  ['firebase', 'Firebase', 'firebase'],
  ['hello_world', 'HelloWorld', 'helloworld'],
  ['iceberg', 'Iceberg', 'iceberg'],
  ['logflare', 'Logflare', 'logflare'],
  ['mssql', 'Mssql', 'mssql'],
  ['redis', 'Redis', 'redis'],
  ['s3', 'S3', 's3'],
  ['stripe', 'Stripe', 'stripe'],
  ['wasm', 'Wasm', 'wasm'],
];

function fdwFunctions(prefix: string, name: string, website: string): string {
  return `
create function ${prefix}_fdw_handler() returns fdw_handler
language internal
as 'pg_stat_clear_snapshot';

create function ${prefix}_fdw_validator(options text[], catalog oid) returns void
language plpgsql immutable
as $postgate_fn$
begin
  -- every option is accepted: the stand-in never connects, so there is nothing to check against
  return;
end
$postgate_fn$;

create function ${prefix}_fdw_meta() returns table (name text, version text, author text, website text)
language sql immutable
as $postgate_fn$
  select '${name}'::text, '0.6.2'::text, 'Supabase'::text, 'https://github.com/supabase/wrappers/tree/main/wrappers/src/fdw/${website}_fdw'::text
$postgate_fn$;
`;
}

const SQL = String.raw`
create table wrappers_fdw_stats (
  fdw_name text not null primary key,
  create_times bigint,
  rows_in bigint,
  rows_out bigint,
  bytes_in bigint,
  bytes_out bigint,
  metadata jsonb,
  created_at timestamp with time zone not null default pg_catalog.timezone('utc'::text, pg_catalog.now()),
  updated_at timestamp with time zone not null default pg_catalog.timezone('utc'::text, pg_catalog.now())
);

comment on table wrappers_fdw_stats is 'Wrappers Foreign Data Wrapper statistics';
${FDWS.map(([prefix, name, website]) => fdwFunctions(prefix, name, website)).join('')}`;

export const WRAPPERS: StandIn = {
  name: 'wrappers',
  defaultVersion: '0.6.2',
  olderVersions: ['0.5.7', '0.5.4', '0.5.3', '0.5.0', '0.4.6', '0.4.5', '0.4.4', '0.4.3', '0.4.2'],
  relocatable: true,
  comment: 'Foreign data wrappers developed by Supabase',
  limits:
    'Foreign data wrappers, servers and foreign tables can be created (any option is accepted), but querying a foreign table or IMPORT FOREIGN SCHEMA fails: nothing is ever fetched.',
  sql: SQL,
};
