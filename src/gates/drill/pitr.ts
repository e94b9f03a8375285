/**
 * Point-in-time recovery of a Supabase project, from the Management API's backups list (read
 * once, with the RPO: rpo.ts): whether it is on and how many days back it reaches. Opt-in
 * rules (repo config `drill.pitr`): `backup_pitr_disabled` and `backup_pitr_retention_short`.
 * Without `drill.pitr` the status is only reported.
 */
import type { RepoConfig } from '../../config/repo-config.ts';
import { UserError } from '../../errors.ts';
import type { BackupsResponse } from './rpo.ts';
import { drillFinding } from './rules.ts';
import type { DrillState } from './state.ts';

type PitrConfig = NonNullable<RepoConfig['drill']['pitr']>;

export interface PitrStatus {
  enabled: boolean;
  /** Days from the oldest restore point to `now`, rounded down to a tenth; unknown when the API gives no oldest point. */
  retentionDays?: number;
}

const DAY_MS = 86_400_000;

/** A retention minimum implies that PITR is required. */
const isRequired = (config: PitrConfig | undefined): boolean => Boolean(config && (config.required || config['min-retention-days'] !== undefined));

/** Checked before the drill starts: a required PITR check needs the API. */
export function validatePitrInputs(config: PitrConfig | undefined, token: string | undefined): void {
  if (isRequired(config) && !token) {
    throw new UserError(
      'Repo config `drill.pitr` requires point-in-time recovery, which is read from the Supabase Management API; set inputs `supabase-access-token` and `project-ref`, or remove `drill.pitr`.',
    );
  }
}

export function pitrStatus(body: BackupsResponse, now: Date): PitrStatus {
  if (!body.pitr_enabled) return { enabled: false };
  const earliest = body.physical_backup_data?.earliest_physical_backup_date_unix;
  if (typeof earliest !== 'number' || earliest <= 0) return { enabled: true };
  return { enabled: true, retentionDays: Math.max(0, Math.floor(((now.getTime() - earliest * 1000) / DAY_MS) * 10) / 10) };
}

/** One sentence for the report: "point-in-time recovery on, 7 days of retention". */
export function describePitr(status: PitrStatus): string {
  if (!status.enabled) return 'point-in-time recovery off (daily backups only)';
  return status.retentionDays === undefined
    ? 'point-in-time recovery on, retention unknown (no oldest restore point reported)'
    : `point-in-time recovery on, ${status.retentionDays} days of retention`;
}

/** The status in the report and metrics, and the findings `drill.pitr` asks for. */
export function checkPitr(state: DrillState, body: BackupsResponse): void {
  const status = pitrStatus(body, state.startedAt);
  const project = state.options.projectRef!;
  state.details.pitr = describePitr(status);
  state.metrics.pitr_enabled = status.enabled ? 1 : 0;
  if (status.retentionDays !== undefined) state.metrics.pitr_retention_days = status.retentionDays;
  const config = state.config.pitr;
  if (!isRequired(config)) return;
  const object = { kind: 'objective', name: 'pitr' };
  if (!status.enabled) {
    state.findings.push(
      drillFinding({
        rule: 'backup_pitr_disabled',
        object,
        message: `Point-in-time recovery is off for Supabase project ${project}: the newest restore point is the last daily backup, up to a day old.`,
        remediation:
          'Enable the Point-in-Time Recovery add-on for the project, or remove `drill.pitr` from the repo config if daily backups are the accepted RPO.',
      }),
    );
    return;
  }
  const minimum = config!['min-retention-days'];
  if (minimum === undefined || (status.retentionDays ?? -1) >= minimum) return;
  state.findings.push(
    drillFinding({
      rule: 'backup_pitr_retention_short',
      object,
      message:
        status.retentionDays === undefined
          ? `Point-in-time recovery is on for Supabase project ${project}, but the Management API reported no oldest restore point, so its retention cannot be checked against the required ${minimum} days.`
          : `Point-in-time recovery for Supabase project ${project} reaches ${status.retentionDays} days back, less than the required ${minimum} days (drill.pitr.min-retention-days).`,
      remediation: "Raise the Point-in-Time Recovery add-on's retention, or lower `drill.pitr.min-retention-days` to what the plan keeps.",
    }),
  );
}
