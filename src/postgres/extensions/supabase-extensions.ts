/**
 * The extensions Supabase offers, as data: which ones its non-superuser `postgres` role may
 * create (supautils' privileged extensions), and for each one that a stock PostgreSQL lacks,
 * what would provide it. Source: supabase/postgres's supautils configuration and Supabase's
 * extension docs.
 */

/**
 * supautils.privileged_extensions: created by the superuser on behalf of `postgres`. In
 * postgate's private installation their control files are marked `trusted`, which gives the
 * same effect on a stock server.
 */
export const PRIVILEGED_EXTENSIONS: readonly string[] = [
  'address_standardizer',
  'address_standardizer_data_us',
  'autoinc',
  'bloom',
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dblink',
  'dict_int',
  'dict_xsyn',
  'earthdistance',
  'fuzzystrmatch',
  'hstore',
  'http',
  'hypopg',
  'index_advisor',
  'insert_username',
  'intarray',
  'isn',
  'ltree',
  'moddatetime',
  'pg_buffercache',
  'pg_cron',
  'pg_graphql',
  'pg_hashids',
  'pg_jsonschema',
  'pg_net',
  'pg_prewarm',
  'pg_repack',
  'pg_stat_monitor',
  'pg_stat_statements',
  'pg_tle',
  'pg_trgm',
  'pg_walinspect',
  'pgaudit',
  'pgcrypto',
  'pgjwt',
  'pgroonga',
  'pgroonga_database',
  'pgrouting',
  'pgrowlocks',
  'pgsodium',
  'pgstattuple',
  'pgtap',
  'plcoffee',
  'pljava',
  'plls',
  'plpgsql_check',
  'plv8',
  'postgis',
  'postgis_raster',
  'postgis_sfcgal',
  'postgis_tiger_geocoder',
  'postgis_topology',
  'postgres_fdw',
  'refint',
  'rum',
  'seg',
  'sslinfo',
  'supabase_vault',
  'tablefunc',
  'tcn',
  'timescaledb',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
  'vector',
  'wrappers',
];

/**
 * Where an extension the server lacks comes from, for the finding that names it. Extensions
 * not listed here are PostgreSQL's contrib (package postgresql-contrib, or the server package
 * itself on Debian).
 */
export const EXTENSION_PROVIDERS: Readonly<Record<string, string>> = {
  postgis: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  postgis_raster: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  postgis_topology: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  postgis_sfcgal: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  postgis_tiger_geocoder: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  address_standardizer: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  address_standardizer_data_us: 'the PostGIS package for this major (Debian: postgresql-<major>-postgis-3)',
  pgrouting: 'Debian: postgresql-<major>-pgrouting',
  pgtap: 'Debian: postgresql-<major>-pgtap',
  plpgsql_check: 'Debian: postgresql-<major>-plpgsql-check',
  hypopg: 'Debian: postgresql-<major>-hypopg',
  pg_repack: 'Debian: postgresql-<major>-repack',
  pgaudit: 'Debian: postgresql-<major>-pgaudit',
  rum: 'Debian: postgresql-<major>-rum',
  pg_partman: 'Debian: postgresql-<major>-partman',
  orioledb: 'the supabase/postgres image (shadow: docker)',
  pljava: 'the supabase/postgres image (shadow: docker)',
  plcoffee: 'the supabase/postgres image (shadow: docker)',
  plls: 'the supabase/postgres image (shadow: docker)',
  pgroonga_database: 'the supabase/postgres image (shadow: docker)',
};

export function providerOf(name: string): string {
  return EXTENSION_PROVIDERS[name] ?? "PostgreSQL's contrib package (Debian: postgresql-contrib), or the supabase/postgres image (shadow: docker)";
}
