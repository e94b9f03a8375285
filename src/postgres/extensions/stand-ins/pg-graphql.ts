/**
 * pg_graphql stand-in: the members pg_graphql 1.5 has in schema `graphql` (Supabase creates the
 * extension there), with their signatures, and no GraphQL engine:
 *
 *   graphql.resolve(query, variables default '{}', "operationName" default null,
 *                   extensions default null) -> jsonb
 *       answers every request with pg_graphql's error shape, {"data": null, "errors":
 *       [{"message": ...}]}, saying that the shadow database does not run GraphQL;
 *   graphql._internal_resolve(...)        the engine entry point; raises that message;
 *   graphql.comment_directive(comment_)   works: the JSON inside @graphql(...) in a comment;
 *   graphql.exception(message)            raises message (SQLSTATE 22000), as pg_graphql's does;
 *   graphql.seq_schema_version, graphql.get_schema_version(),
 *   graphql.increment_schema_version() and the event triggers graphql_watch_ddl /
 *   graphql_watch_drop that bump the version on every DDL, as pg_graphql has them.
 *
 * It never touches schema graphql_public: its graphql() entry point is the baseline's (and on
 * Supabase, the platform's), not pg_graphql's.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PG_GRAPHQL: StandIn = {
  name: 'pg_graphql',
  defaultVersion: '1.5.11',
  olderVersions: ['1.5.9', '1.5.7', '1.5.6', '1.5.4', '1.5.1', '1.4.4', '1.2.3'],
  schema: 'graphql',
  relocatable: false,
  comment: 'pg_graphql: GraphQL support',
  limits: 'Every graphql.resolve() call answers with an error object, since the shadow database has no GraphQL engine.',
  sql: readSqlAsset(new URL('./pg-graphql.sql', import.meta.url)),
};
