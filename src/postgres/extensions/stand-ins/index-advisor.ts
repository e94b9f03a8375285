/**
 * index_advisor stand-in: index_advisor 0.2.0's one function,
 *
 *   index_advisor(query text) returns table (startup_cost_before jsonb, startup_cost_after jsonb,
 *     total_cost_before jsonb, total_cost_after jsonb, index_statements text[], errors text[])
 *
 * The real function asks hypopg for hypothetical indexes; the stand-in does not require hypopg
 * and never suggests an index. It still plans the query the way index_advisor does (PREPARE, then
 * EXPLAIN EXECUTE with a null for every parameter: planning only, the query is not run) so the
 * cost columns hold the plan's real costs, "after" equal to "before", and `errors` says that this
 * is a stand-in; a query that cannot be planned gives null costs and its error message, as
 * index_advisor reports errors in that column instead of raising.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const INDEX_ADVISOR: StandIn = {
  name: 'index_advisor',
  defaultVersion: '0.2.0',
  olderVersions: ['0.1.2', '0.1.1'],
  relocatable: true,
  comment: 'Query index advisor',
  limits:
    "Never suggests an index (hypopg is not used): index_advisor() returns the query plan's costs unchanged, no index statements, and an error entry saying it is a stand-in.",
  sql: readSqlAsset(new URL('./index-advisor.sql', import.meta.url)),
};
