/**
 * pg_net stand-in: Supabase's async HTTP extension with its SQL interface (schema `net`, the
 * request queue and response tables, http_get/http_post/http_delete and the collect helpers)
 * and no background worker. A request is RECORDED in net.http_request_queue exactly as pg_net
 * queues it, and NEVER sent: nothing leaves the shadow cluster, and no response ever arrives in
 * net._http_response.
 *
 * Interface as of pg_net 0.19/0.20 (supabase/pg_net sql/pg_net.sql and its update scripts, read
 * for names and signatures; the bodies are written here):
 *   - http_get(url, params, headers, timeout_milliseconds default 5000)
 *   - http_post(url, body jsonb, params, headers default {"Content-Type": "application/json"},
 *     timeout_milliseconds default 5000): a Content-Type other than application/json is refused,
 *     a missing one is added; the body is queued as convert_to(body::text, 'UTF8'), the canonical
 *     jsonb text, which is what pg_net sends (sign that text, nothing else).
 *   - http_delete(url, params, headers, timeout_milliseconds, body jsonb default null) (0.15+)
 *   - net.http_response / http_response_result / request_status types, _http_collect_response
 *     and the deprecated http_collect_response, check_worker_is_up, worker_restart,
 *     wait_until_running and wake, which here have no worker to talk to.
 *
 * Where pg_net would wait for a response (`_await_response`, collecting with async := false)
 * the stand-in raises instead: the response will never come, and hanging a migration is worse
 * than saying so.
 *
 * Privileges are the baseline's (and Supabase's locked-down setup): schema usage for the
 * platform roles; http_get/http_post/http_delete run as security definer, executable by
 * postgres, service_role and supabase_functions_admin only; the tables are readable by those
 * roles. Grants name only roles that exist, so the extension also installs in a cluster
 * without Supabase's roles.
 *
 * Deliberate differences from pg_net:
 *   - URLs are queued as given plus the encoded params; libcurl's URL normalisation (adding a
 *     trailing slash to a bare host, rejecting malformed URLs) does not happen.
 *   - http_collect_response returns the collected result after its deprecation notice.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PG_NET: StandIn = {
  name: 'pg_net',
  defaultVersion: '0.20.0',
  olderVersions: ['0.19.5', '0.14.0', '0.13.0', '0.11.0', '0.10.0', '0.8.0', '0.7.1'],
  relocatable: false,
  comment: 'Async HTTP',
  replacesReal:
    'The real pg_net needs shared_preload_libraries and its background worker sends every queued request; a shadow database must never reach the network.',
  limits: 'Requests are recorded in net.http_request_queue and never sent, so no response ever arrives in net._http_response.',
  sql: readSqlAsset(new URL('./pg-net.sql', import.meta.url)),
};
