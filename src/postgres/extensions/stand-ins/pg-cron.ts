/**
 * pg_cron stand-in: pg_cron 1.6's schema `cron` (tables cron.job and cron.job_run_details with
 * pg_cron's columns, row level security and pg_dump membership; schedule, schedule_in_database,
 * unschedule, alter_job) with no scheduler. Jobs are validated and RECORDED exactly as pg_cron
 * records them, and NOTHING EVER RUNS: there is no background worker, and
 * cron.job_run_details stays empty.
 *
 * Behaviour kept from pg_cron (its README, regression test output and SQL, read for names,
 * signatures and messages; the code is written here):
 *   - A schedule is five cron fields (minute 0-59, hour 0-23, day of month 1-31 or $ for the
 *     last day, month 1-12 or jan-dec, day of week 0-7 or sun-sat; each a comma list of *, n or
 *     n-m, where * and ranges take a /step), one of @yearly @annually @monthly @weekly @daily
 *     @midnight @hourly @reboot @restart, or an interval '[1-59] seconds' (any case, blanks
 *     around, "second" too). Anything else fails with `invalid schedule: <schedule>` and the
 *     hint pg_cron gives.
 *   - schedule(schedule, command) always adds a job; schedule(job_name, schedule, command) and
 *     schedule_in_database(...) add or update the caller's job of that name; both return the
 *     job id. unschedule(id) and unschedule(name) delete the caller's job (a superuser's may
 *     delete anyone's by id) or fail with `could not find valid entry for job ...`.
 *   - alter_job changes only what is given; `no updates specified` when nothing is; a job the
 *     caller does not own is `Job <id> does not exist or you don't own it`; only a superuser
 *     changes username; a database must exist and the job's user must be able to connect.
 *   - Users see only their own rows of cron.job and cron.job_run_details (row level security).
 *
 * Where it lives: the objects are in schema `cron`, which the script creates. The extension's
 * own schema is left to CREATE EXTENSION (on Supabase, supautils puts pg_catalog whatever
 * `with schema` says).
 *
 * Privileges follow Supabase's after-create script for pg_cron, for the roles the cluster has:
 * postgres gets usage on cron and every function with grant option, all on the tables with
 * grant option except cron.job, which it may only read. The objects stay owned by the
 * superuser that ran the script, as on Supabase (where the extension is created by
 * supabase_admin).
 *
 * Deliberate differences from pg_cron:
 *   - The caller a job is recorded for is the session's current role (SET ROLE, else the
 *     session user). pg_cron records the current user, which differs only when cron.schedule is
 *     called from inside another role's security definer function.
 *   - pg_cron refuses to be created outside the database named by cron.database_name; a shadow
 *     database has its own name, so the stand-in installs in any database.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PG_CRON: StandIn = {
  name: 'pg_cron',
  defaultVersion: '1.6.4',
  olderVersions: ['1.6', '1.5.2', '1.4.2', '1.4-1', '1.3.1'],
  relocatable: false,
  comment: 'Job scheduler for PostgreSQL',
  replacesReal: 'The real pg_cron needs shared_preload_libraries and its background worker runs the scheduled jobs; a shadow database must never run them.',
  limits: 'Jobs are validated and recorded in cron.job but never run, so cron.job_run_details stays empty.',
  sql: readSqlAsset(new URL('./pg-cron.sql', import.meta.url)),
};
