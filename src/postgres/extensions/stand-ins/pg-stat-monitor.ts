/**
 * pg_stat_monitor stand-in: the interface of Percona's pg_stat_monitor 2.1 (the version Supabase
 * ships) with nothing collected. pg_stat_monitor needs shared_preload_libraries and C hooks;
 * here the `pg_stat_monitor` view has the 2.1 columns for the server's major version (the
 * PostgreSQL 15 column list Supabase's images show, and the PostgreSQL 17 one with
 * shared/local block timings, jit_deform_* and stats_since) and is always empty, so views,
 * grants and functions that migrations build on it apply.
 *
 *   pg_stat_monitor (view), pg_stat_monitor_reset() (superuser only, as upstream),
 *   pg_stat_monitor_version(), get_cmd_type(int), decode_error_level(int), range(),
 *   get_histogram_timings()
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

const COMMON_HEAD = [
  ['bucket', 'bigint'],
  ['bucket_start_time', 'timestamp with time zone'],
  ['userid', 'oid'],
  ['username', 'text'],
  ['dbid', 'oid'],
  ['datname', 'text'],
  ['client_ip', 'inet'],
  ['pgsm_query_id', 'bigint'],
  ['queryid', 'bigint'],
  ['toplevel', 'boolean'],
  ['top_queryid', 'bigint'],
  ['query', 'text'],
  ['comments', 'text'],
  ['planid', 'bigint'],
  ['query_plan', 'text'],
  ['top_query', 'text'],
  ['application_name', 'text'],
  ['relations', 'text[]'],
  ['cmd_type', 'integer'],
  ['cmd_type_text', 'text'],
  ['elevel', 'integer'],
  ['sqlcode', 'text'],
  ['message', 'text'],
  ['calls', 'bigint'],
  ['total_exec_time', 'double precision'],
  ['min_exec_time', 'double precision'],
  ['max_exec_time', 'double precision'],
  ['mean_exec_time', 'double precision'],
  ['stddev_exec_time', 'double precision'],
  ['rows', 'bigint'],
  ['shared_blks_hit', 'bigint'],
  ['shared_blks_read', 'bigint'],
  ['shared_blks_dirtied', 'bigint'],
  ['shared_blks_written', 'bigint'],
  ['local_blks_hit', 'bigint'],
  ['local_blks_read', 'bigint'],
  ['local_blks_dirtied', 'bigint'],
  ['local_blks_written', 'bigint'],
  ['temp_blks_read', 'bigint'],
  ['temp_blks_written', 'bigint'],
] as const;

const COMMON_TAIL = [
  ['resp_calls', 'text[]'],
  ['cpu_user_time', 'double precision'],
  ['cpu_sys_time', 'double precision'],
  ['wal_records', 'bigint'],
  ['wal_fpi', 'bigint'],
  ['wal_bytes', 'numeric'],
  ['bucket_done', 'boolean'],
  ['plans', 'bigint'],
  ['total_plan_time', 'double precision'],
  ['min_plan_time', 'double precision'],
  ['max_plan_time', 'double precision'],
  ['mean_plan_time', 'double precision'],
  ['stddev_plan_time', 'double precision'],
  ['jit_functions', 'bigint'],
  ['jit_generation_time', 'double precision'],
  ['jit_inlining_count', 'bigint'],
  ['jit_inlining_time', 'double precision'],
  ['jit_optimization_count', 'bigint'],
  ['jit_optimization_time', 'double precision'],
  ['jit_emission_count', 'bigint'],
  ['jit_emission_time', 'double precision'],
] as const;

/** PostgreSQL 15 and 16: pgsm_create_15_view's columns. */
const COLUMNS_15 = [
  ...COMMON_HEAD,
  ['blk_read_time', 'double precision'],
  ['blk_write_time', 'double precision'],
  ['temp_blk_read_time', 'double precision'],
  ['temp_blk_write_time', 'double precision'],
  ...COMMON_TAIL,
] as const;

/** PostgreSQL 17 and later: pgsm_create_17_view's columns. */
const COLUMNS_17 = [
  ...COMMON_HEAD,
  ['shared_blk_read_time', 'double precision'],
  ['shared_blk_write_time', 'double precision'],
  ['local_blk_read_time', 'double precision'],
  ['local_blk_write_time', 'double precision'],
  ['temp_blk_read_time', 'double precision'],
  ['temp_blk_write_time', 'double precision'],
  ...COMMON_TAIL,
  ['jit_deform_count', 'bigint'],
  ['jit_deform_time', 'double precision'],
  ['stats_since', 'timestamp with time zone'],
  ['minmax_stats_since', 'timestamp with time zone'],
] as const;

function emptyView(columns: ReadonlyArray<readonly [string, string]>): string {
  return `create view pg_stat_monitor as select ${columns.map(([name, type]) => `null::${type} as ${name}`).join(', ')} where false`;
}

/** The view has the columns of the server's major version. */
const VIEW_SQL = `
do $postgate_view$
begin
  if pg_catalog.current_setting('server_version_num')::integer >= 170000 then
    execute $v17$${emptyView(COLUMNS_17)}$v17$;
  else
    execute $v15$${emptyView(COLUMNS_15)}$v15$;
  end if;
end
$postgate_view$;

grant select on pg_stat_monitor to public;
`;

export const PG_STAT_MONITOR: StandIn = {
  name: 'pg_stat_monitor',
  defaultVersion: '2.1',
  olderVersions: ['2.0', '1.0'],
  relocatable: true,
  comment:
    'The pg_stat_monitor is a PostgreSQL Query Performance Monitoring tool, based on PostgreSQL contrib module pg_stat_statements. pg_stat_monitor provides aggregated statistics, client information, plan details including plan, and histogram information.',
  limits: 'Collects nothing: the pg_stat_monitor view has the 2.1 columns and is always empty, and pg_stat_monitor_reset() does nothing.',
  sql: readSqlAsset(new URL('./pg-stat-monitor.sql', import.meta.url)) + VIEW_SQL,
};
