/**
 * Recent deliveries from pg_net's response log `net._http_response` (read-only). pg_net
 * keeps no URL per response, so counts cover every request this database sent;
 * Database Webhooks are attributed by name through `supabase_functions.hooks`.
 * Response bodies are never read.
 */
import type { Session } from '../../postgres/connect.ts';

export interface DeliveryCounts {
  total: number;
  rejected: number;
  serverErrors: number;
  failed: number;
  /** Rejected (401/403) and failed responses per Database Webhook, where attributable. */
  byHook: Array<{ hook: string; rejected: number; failed: number }>;
}

export type DeliveriesRead = { available: false; reason: string } | ({ available: true } & DeliveryCounts);

export async function readDeliveries(session: Session, windowMs: number): Promise<DeliveriesRead> {
  const access = await session.query<{ installed: boolean; allowed: boolean | null; hooks: boolean | null }>(
    `select c.oid is not null as installed,
            pg_catalog.has_schema_privilege(n.oid, 'usage') and pg_catalog.has_table_privilege(c.oid, 'select') as allowed,
            (select pg_catalog.has_schema_privilege(hn.oid, 'usage') and pg_catalog.has_table_privilege(h.oid, 'select')
               from pg_catalog.pg_class h join pg_catalog.pg_namespace hn on hn.oid = h.relnamespace
              where hn.nspname = 'supabase_functions' and h.relname = 'hooks') as hooks
       from (select 1) as one
       left join pg_catalog.pg_namespace n on n.nspname = 'net'
       left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = '_http_response'`,
  );
  const { installed, allowed, hooks } = access.rows[0]!;
  if (!installed) return { available: false, reason: 'net._http_response does not exist (pg_net is not installed)' };
  if (!allowed) return { available: false, reason: 'this role may not read net._http_response (needs USAGE on schema net and SELECT on the table)' };
  const seconds = Math.round(windowMs / 1000);
  const totals = await session.query<{ total: number; rejected: number; server_errors: number; failed: number }>(
    `select count(*)::int as total,
            count(*) filter (where status_code in (401, 403))::int as rejected,
            count(*) filter (where status_code >= 500)::int as server_errors,
            count(*) filter (where timed_out or error_msg is not null)::int as failed
       from net._http_response
      where created > pg_catalog.now() - pg_catalog.make_interval(secs => $1)`,
    [seconds],
  );
  const byHook = hooks
    ? (
        await session.query<{ hook: string; rejected: number; failed: number }>(
          `select h.hook_name as hook,
                  count(*) filter (where r.status_code in (401, 403))::int as rejected,
                  count(*) filter (where r.status_code >= 500 or r.timed_out or r.error_msg is not null)::int as failed
             from net._http_response r
             join supabase_functions.hooks h on h.request_id = r.id
            where r.created > pg_catalog.now() - pg_catalog.make_interval(secs => $1)
            group by h.hook_name
           having count(*) filter (where r.status_code in (401, 403) or r.status_code >= 500 or r.timed_out or r.error_msg is not null) > 0
            order by h.hook_name`,
          [seconds],
        )
      ).rows
    : [];
  const row = totals.rows[0]!;
  return { available: true, total: row.total, rejected: row.rejected, serverErrors: row.server_errors, failed: row.failed, byHook };
}
