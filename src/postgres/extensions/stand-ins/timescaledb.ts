/**
 * timescaledb stand-in: the part of TimescaleDB 2.16's SQL interface that migrations use, written
 * from TimescaleDB's documentation (Supabase offers TimescaleDB on its Postgres 15 images only).
 * Nothing runs in the background: policies and jobs are recorded in the catalog and never run,
 * and a hypertable is the ordinary table it was (no chunks are ever created).
 *
 * Schemas: _timescaledb_catalog (hypertable, dimension), _timescaledb_config (bgw_job, ids from
 * 1000 as in TimescaleDB), _timescaledb_internal, _timescaledb_functions, _timescaledb_cache,
 * timescaledb_information (hypertables, dimensions and jobs views), timescaledb_experimental.
 *
 * create_hypertable, both signatures:
 *   - create_hypertable(relation, time_column_name, partitioning_column, number_partitions,
 *     associated_schema_name, associated_table_prefix, chunk_time_interval, create_default_indexes,
 *     if_not_exists, partitioning_func, migrate_data, chunk_target_size, chunk_sizing_func,
 *     time_partitioning_func) -> (hypertable_id, schema_name, table_name, created)
 *   - create_hypertable(relation, dimension => by_range(...), create_default_indexes,
 *     if_not_exists, migrate_data) -> (hypertable_id, created)
 *   with TimescaleDB's checks: the caller owns the table; the time column exists and is a time or
 *   integer type; integer time needs an explicit interval (default: 7 days); the table is empty
 *   unless migrate_data; unique indexes include the partitioning columns; an existing hypertable
 *   is an error, or a notice with if_not_exists. Its effects on the table are TimescaleDB's: the
 *   time column becomes NOT NULL (with TimescaleDB's notice) and, with create_default_indexes, the
 *   indexes (time DESC) and (space column, time DESC) are created when no index leads with them.
 * add_dimension (both signatures), by_range, by_hash, set_chunk_time_interval,
 * add_retention_policy / remove_retention_policy, add_compression_policy /
 * remove_compression_policy, add_continuous_aggregate_policy / remove_..., add_reorder_policy /
 * remove_..., add_job, alter_job, delete_job: recorded, never run. show_chunks and drop_chunks
 * find no chunk. hypertable_size, approximate_row_count.
 * time_bucket, working: interval buckets on timestamptz / timestamp / date aligned on TimescaleDB's
 * origins (2000-01-03, a Monday; 2000-01-01 for month buckets, computed in UTC for timestamptz),
 * with the "offset", origin and timezone variants, and integer buckets (floor division) with offset.
 *
 * The catalog tables are readable by everyone and written only through SECURITY DEFINER helpers
 * in _timescaledb_functions (TimescaleDB writes its catalog from C as the catalog owner), so the
 * non-superuser that runs migrations can create hypertables; the public functions run as the
 * caller and do the table work (NOT NULL, indexes) with the caller's own rights.
 *
 * Not supported: TimescaleDB's reloptions (ALTER TABLE ... SET (timescaledb.compress ...), CREATE
 * MATERIALIZED VIEW ... WITH (timescaledb.continuous)), which PostgreSQL itself rejects without
 * TimescaleDB's C hooks; time_bucket_gapfill; first()/last(); chunks of any kind.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const TIMESCALEDB: StandIn = {
  name: 'timescaledb',
  defaultVersion: '2.16.1',
  olderVersions: ['2.9.1'],
  relocatable: false,
  comment: 'Enables scalable inserts and complex queries for time-series data (Apache 2 Edition)',
  limits:
    'Hypertables, dimensions, policies and jobs are recorded in the catalog but nothing runs and no chunks exist; time_bucket works; timescaledb.* table options (compression, continuous aggregates) are rejected.',
  sql: readSqlAsset(new URL('./timescaledb.sql', import.meta.url)),
};
