/**
 * Making a restored copy inert before any check runs (DESIGN safety promise 5): a drill must
 * never send a request or run a job on behalf of the copy.
 *
 * - pg_cron: every job in `cron.job` is deactivated (`active = false`), or deleted where the
 *   installed pg_cron has no `active` column. The copy is also restored into a database that
 *   is not the cluster's `postgres` database, which is the only one pg_cron and pg_net's
 *   background workers serve by default.
 * - pg_net: queued requests (`net.http_request_queue`) are deleted (and counted back in when
 *   row counts are compared, which describe the copy as restored).
 * - Webhook triggers: every enabled user trigger whose function calls
 *   `supabase_functions.http_request`, `net.http_*` or the http extension is disabled.
 * - Smoke queries then run in transactions that are rolled back, so nothing they queue
 *   is ever committed (pg_net sends only after commit).
 */
import type { ClientBase } from 'pg';
import { connect, quoteIdent, type Session } from '../../postgres/connect.ts';
import type { Targeted } from './state.ts';
import { drillFinding } from './rules.ts';

export interface InertReport {
  cron_jobs_deactivated: number;
  net_requests_dropped: number;
  webhook_triggers_disabled: number;
  /** "schema.table.trigger" of each disabled trigger. */
  triggers: string[];
}

/** pg_trigger.tgenabled as the catalog model names it. */
const TRIGGER_STATE: Record<string, string> = { O: 'enabled', R: 'replica', A: 'always' };

/** Function bodies that send requests to the outside world. */
export const OUTBOUND_CALL = String.raw`(supabase_functions\.http_request|\mnet\.http_(get|post|delete)|\mhttp_(get|post|put|patch|delete|head)\s*\(|\mhttp\s*\(\s*\()`;

async function exists(client: ClientBase, relation: string, column?: string): Promise<boolean> {
  const sql = column
    ? 'select exists (select 1 from pg_attribute where attrelid = to_regclass($1) and attname = $2 and not attisdropped) as ok'
    : 'select to_regclass($1) is not null as ok';
  const result = await client.query<{ ok: boolean }>(sql, column ? [relation, column] : [relation]);
  return Boolean(result.rows[0]?.ok);
}

/**
 * Runs as the restore target's superuser. Throws when a step fails (the drill stops there).
 * `disabled` maps each disabled trigger ("schema.table.trigger") to its state before.
 */
export async function makeInert(client: ClientBase): Promise<{ report: InertReport; disabled: Record<string, string>; deleted: Record<string, number> }> {
  const disabled: Record<string, string> = {};
  const report: InertReport = { cron_jobs_deactivated: 0, net_requests_dropped: 0, webhook_triggers_disabled: 0, triggers: [] };

  if (await exists(client, 'cron.job')) {
    const hasActive = await exists(client, 'cron.job', 'active');
    const result = await client.query(hasActive ? 'update cron.job set active = false where active' : 'delete from cron.job');
    report.cron_jobs_deactivated = result.rowCount ?? 0;
  }
  if (await exists(client, 'net.http_request_queue')) {
    const result = await client.query('delete from net.http_request_queue');
    report.net_requests_dropped = result.rowCount ?? 0;
  }
  // Row counts are compared as restored: the rows this step deleted are counted back in.
  const deleted: Record<string, number> = { 'net.http_request_queue': report.net_requests_dropped };
  if (report.cron_jobs_deactivated && !(await exists(client, 'cron.job', 'active'))) deleted['cron.job'] = report.cron_jobs_deactivated;

  const triggers = await client.query<{ schema: string; table: string; trigger: string; state: string }>(
    `select n.nspname as schema, c.relname as table, t.tgname as trigger, t.tgenabled::text as state
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_proc p on p.oid = t.tgfoid
       join pg_namespace pn on pn.oid = p.pronamespace
      where not t.tgisinternal and t.tgenabled <> 'D'
        and (pn.nspname = 'supabase_functions' and p.proname = 'http_request' or p.prosrc ~* $1)
      order by 1, 2, 3`,
    [OUTBOUND_CALL],
  );
  for (const row of triggers.rows) {
    await client.query(`alter table ${quoteIdent(row.schema)}.${quoteIdent(row.table)} disable trigger ${quoteIdent(row.trigger)}`);
    const name = `${row.schema}.${row.table}.${row.trigger}`;
    report.triggers.push(name);
    disabled[name] = TRIGGER_STATE[row.state] ?? row.state;
  }
  report.webhook_triggers_disabled = report.triggers.length;
  return { report, disabled, deleted };
}

/** The restored copy once inert: its session, and what the inert step changed (verify counts it back in). */
export interface InertCopy {
  copy: Session;
  disabled: Record<string, string>;
  deleted: Record<string, number>;
}

/**
 * neutralise, before anything else touches the copy. A copy that cannot be made inert is a
 * finding and gets no check (undefined).
 */
export async function neutraliseCopy(state: Targeted): Promise<InertCopy | undefined> {
  const { target } = state;
  const copy = await connect(target.url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
  state.cleanup.defer(() => copy.end().catch(() => undefined));
  try {
    const made = await state.phases.run('neutralise', 'pg_cron jobs, pg_net queue, webhook triggers', () => makeInert(copy));
    state.details.inert = made.report;
    state.inert = true;
    return { copy, disabled: made.disabled, deleted: made.deleted };
  } catch (error) {
    state.findings.push(
      drillFinding({
        rule: 'drill_not_inert',
        object: { kind: 'database', name: target.target.database },
        message: `The restored copy could not be made inert (${(error as Error).message}), so no check ran on it.`,
        remediation:
          'Fix the cause (permissions of the restore role on cron.job, net.http_request_queue and the tables with webhook triggers) and run the drill again.',
      }),
    );
    return undefined;
  }
}
