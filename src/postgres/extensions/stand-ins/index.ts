/**
 * Every stand-in postgate ships, by name. See ../types.ts for what a stand-in is.
 */
import type { StandIn } from '../types.ts';
import { HTTP } from './http.ts';
import { INDEX_ADVISOR } from './index-advisor.ts';
import { PG_CRON } from './pg-cron.ts';
import { PG_GRAPHQL } from './pg-graphql.ts';
import { PG_HASHIDS } from './pg-hashids.ts';
import { PG_JSONSCHEMA } from './pg-jsonschema.ts';
import { PG_NET } from './pg-net.ts';
import { PG_STAT_MONITOR } from './pg-stat-monitor.ts';
import { PG_TLE } from './pg-tle.ts';
import { PGJWT } from './pgjwt.ts';
import { PGMQ } from './pgmq.ts';
import { PGROONGA } from './pgroonga.ts';
import { PGSODIUM } from './pgsodium.ts';
import { PLV8 } from './plv8.ts';
import { SUPABASE_VAULT } from './supabase-vault.ts';
import { TIMESCALEDB } from './timescaledb.ts';
import { VECTOR } from './vector.ts';
import { WRAPPERS } from './wrappers.ts';

export const STAND_INS: readonly StandIn[] = [
  VECTOR,
  PG_NET,
  SUPABASE_VAULT,
  PGSODIUM,
  PGJWT,
  PG_GRAPHQL,
  PG_CRON,
  HTTP,
  PLV8,
  PG_JSONSCHEMA,
  PG_HASHIDS,
  PGMQ,
  INDEX_ADVISOR,
  WRAPPERS,
  PG_STAT_MONITOR,
  PGROONGA,
  TIMESCALEDB,
  PG_TLE,
];

export function standInNamed(name: string): StandIn | undefined {
  return STAND_INS.find((s) => s.name === name);
}
