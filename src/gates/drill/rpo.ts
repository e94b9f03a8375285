/**
 * When was the restored backup taken? RPO = drill start minus that time. Sources, in the
 * order the drill prefers them: the Supabase Management API's backups endpoint (when a token
 * and project ref are given: the age of the platform's newest backup), the manifest, the
 * dump's own header, and for a live drill the snapshot itself (RPO ~ 0, which proves nothing
 * about the real backups: the report says which source was used).
 */
import { formatDuration } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import type { DrillState } from './state.ts';
import { checkPitr } from './pitr.ts';
import { drillFinding } from './rules.ts';

export const SUPABASE_API_URL = 'https://api.supabase.com';

/** Environment variable overriding the Supabase Management API base URL (tests, proxies). */
export const SUPABASE_API_URL_ENV = 'POSTGATE_SUPABASE_API_URL';

export interface BackupTime {
  takenAt: string;
  source: string;
}

/** The project's backups list (`GET /v1/projects/{ref}/database/backups`), the fields read. */
export interface BackupsResponse {
  pitr_enabled?: boolean;
  walg_enabled?: boolean;
  backups?: Array<{ status?: string; inserted_at?: string; is_physical_backup?: boolean }>;
  physical_backup_data?: { earliest_physical_backup_date_unix?: number | null; latest_physical_backup_date_unix?: number | null };
}

/** Checked before a drill starts (not when the API is called): finding out after a restore of many minutes would be cruel. */
export function validateSupabaseApiInputs(token: string | undefined, projectRef: string | undefined): void {
  if (Boolean(token) !== Boolean(projectRef)) {
    throw new UserError("Inputs `supabase-access-token` and `project-ref` go together (the RPO comes from the project's backups list); set both or neither.");
  }
  if (projectRef && !/^[a-z0-9]{6,40}$/i.test(projectRef)) {
    throw new UserError(
      `Input \`project-ref\` is "${projectRef}", which is not a Supabase project ref; use the id from the project URL (https://supabase.com/dashboard/project/<ref>).`,
    );
  }
}

interface SupabaseApiOptions {
  token: string;
  projectRef: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** The project's backups list (`GET /v1/projects/{ref}/database/backups`); any answer but 200 with JSON is a UserError naming the input to fix (the token is never printed). */
export async function readSupabaseBackups(options: SupabaseApiOptions): Promise<BackupsResponse> {
  const base = (options.baseUrl ?? SUPABASE_API_URL).replace(/\/+$/, '');
  const url = `${base}/v1/projects/${options.projectRef}/database/backups`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new UserError(
      `Could not reach the Supabase Management API at ${base} (${(error as Error).message}); check the runner's network or drop \`supabase-access-token\`.`,
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new UserError(
      `The Supabase Management API rejected \`supabase-access-token\` (HTTP ${response.status}); create a personal access token at https://supabase.com/dashboard/account/tokens with access to project ${options.projectRef} and store it as a secret.`,
    );
  }
  if (response.status === 404) {
    throw new UserError(`The Supabase Management API knows no project \`${options.projectRef}\` (HTTP 404); fix \`project-ref\`.`);
  }
  if (!response.ok) {
    throw new UserError(
      `The Supabase Management API answered HTTP ${response.status} for the project's backups; retry later or drop \`supabase-access-token\` to take the RPO from the manifest.`,
    );
  }
  try {
    return (await response.json()) as BackupsResponse;
  } catch {
    throw new UserError('The Supabase Management API returned a backups list that is not JSON; retry later or drop `supabase-access-token`.');
  }
}

/**
 * The newest backup in the list: with PITR, the latest physical backup time; otherwise the
 * newest COMPLETED daily backup. Undefined when the project lists none.
 */
function newestBackupTime(body: BackupsResponse): BackupTime | undefined {
  const latestPhysical = body.physical_backup_data?.latest_physical_backup_date_unix;
  if (body.pitr_enabled && typeof latestPhysical === 'number' && latestPhysical > 0) {
    return { takenAt: new Date(latestPhysical * 1000).toISOString(), source: 'Supabase Management API (PITR, latest physical backup)' };
  }
  const completed = (body.backups ?? [])
    .filter((backup) => backup.status === 'COMPLETED' && typeof backup.inserted_at === 'string')
    .map((backup) => parseUtc(backup.inserted_at!))
    .filter(Number.isFinite);
  if (completed.length === 0) return undefined;
  return { takenAt: new Date(Math.max(...completed)).toISOString(), source: 'Supabase Management API (newest completed backup)' };
}

/** An API time stamp; one without a zone is UTC (the Management API's times are). */
function parseUtc(text: string): number {
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`);
}

/**
 * RTO and RPO against their targets (inputs over the repo config). The RTO is the drill's time
 * so far; the RPO the backup's age at the start, from the Supabase API when asked, else from the
 * live snapshot, the manifest or the dump header. An RTO is only judged for a restore that ran.
 */
export async function measureObjectives(state: DrillState): Promise<void> {
  const { options, config, context, findings } = state;
  const rtoMs = Math.round(performance.now() - state.clockStart);
  state.rtoMs = rtoMs;
  const rtoTarget = options.rtoTarget ?? config['rto-target'];
  const rpoTarget = options.rpoTarget ?? config['rpo-target'];
  if (rtoTarget !== undefined) state.rtoTarget = rtoTarget;
  if (rpoTarget !== undefined) state.rpoTarget = rpoTarget;
  if (options.supabaseAccessToken && options.projectRef) {
    const backups = await readSupabaseBackups({
      token: options.supabaseAccessToken,
      projectRef: options.projectRef,
      ...(context.env[SUPABASE_API_URL_ENV] ? { baseUrl: context.env[SUPABASE_API_URL_ENV] } : {}),
    });
    const fromApi = newestBackupTime(backups);
    if (fromApi) state.backupTime = fromApi;
    checkPitr(state, backups);
  }
  const { backupTime } = state;
  const rpoMs = backupAgeMs(state);
  if (rpoMs !== undefined) state.rpoMs = rpoMs;
  if (rtoTarget !== undefined && state.restoreRan && state.inert && rtoMs > rtoTarget) {
    findings.push(
      drillFinding({
        rule: 'drill_rto_exceeded',
        object: { kind: 'objective', name: 'rto' },
        message: `The drill took ${formatDuration(rtoMs)}, more than the RTO target of ${formatDuration(rtoTarget)}.`,
        detail: state.phases.timings
          .filter((t) => t.status !== 'skipped')
          .map((t) => `${t.phase}: ${formatDuration(t.duration_ms)}`)
          .join('\n'),
        remediation:
          'Speed up the slowest phase (more jobs, directory-format backups for a parallel restore, a faster restore machine) or renegotiate the target.',
      }),
    );
  }
  if (rpoTarget === undefined) return;
  if (rpoMs === undefined) {
    findings.push(
      drillFinding({
        rule: 'drill_rpo_unknown',
        object: { kind: 'objective', name: 'rpo' },
        message: `The backup's time is unknown, so the RPO target of ${formatDuration(rpoTarget)} cannot be checked.`,
        remediation:
          'Pass a manifest (postgate drill --write-manifest at backup time), use a custom or directory archive (their header has the time), or pass supabase-access-token and project-ref.',
      }),
    );
  } else if (rpoMs > rpoTarget) {
    findings.push(
      drillFinding({
        rule: 'drill_rpo_exceeded',
        object: { kind: 'objective', name: 'rpo' },
        message: `The backup is ${formatDuration(rpoMs)} old (taken ${backupTime!.takenAt}, from the ${backupTime!.source}), more than the RPO target of ${formatDuration(rpoTarget)}.`,
        remediation: 'Check that backups still run on schedule and that the drill restores the newest one.',
      }),
    );
  }
}

/** How old the backup was when the drill started, if its time is known. */
export function backupAgeMs(state: Pick<DrillState, 'backupTime' | 'startedAt'>): number | undefined {
  return state.backupTime ? Math.max(0, state.startedAt.getTime() - Date.parse(state.backupTime.takenAt)) : undefined;
}
