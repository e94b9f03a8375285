/**
 * drift-gate's `rehearse-from`: a rehearsal of the pending migrations on a copy of production.
 *
 * The copy is made by restore-drill's own phases (restoreCopy: format detection, SHA-256 against
 * `rehearse-sha256` when one is given (the backup is not hashed otherwise), the throwaway target, pg_restore or the script runner, the Supabase baseline,
 * the inert step); a database URL is dumped read-only from an exported snapshot, as a live drill
 * dumps it. The repo config's `drill.mask` rules are applied to the copy before any migration
 * runs. Then rehearse-pending.ts applies and measures what the copy's history lacks.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { DRILL_INPUTS, type DriftOptions } from '../../config/gates.ts';
import { givenName, parseInputs } from '../../config/input-spec.ts';
import { UserError } from '../../errors.ts';
import type { MigrationSource } from '../../migrations/types.ts';
import { isDatabaseUrl, parseDatabaseUrl } from '../../postgres/url.ts';
import { registerSecret } from '../../secrets.ts';
import { restoreCopy } from '../drill/index.ts';
import { applyMasks, parseMaskRules } from '../drill/mask.ts';
import { cleanupStack, createState, type Mode } from '../drill/state.ts';
import type { GateContext, GateOutput } from '../gate.ts';
import { lockThresholdMs, rehearsePending } from './rehearse-pending.ts';

/**
 * The copy's source: a database URL (dumped later) or a backup that must exist and be readable,
 * with a well-formed checksum. Checked before the gate builds anything, so a bad input costs no
 * shadow.
 */
export function rehearsalSource(options: DriftOptions, context: GateContext): Mode {
  const input = givenName(options, 'rehearse-from');
  const from = options.rehearseFrom!;
  if (isDatabaseUrl(from)) {
    // A path is shown in messages; a URL (with its password) never is.
    registerSecret(from);
    parseDatabaseUrl(from, input);
    if (options.rehearseSha256)
      throw new UserError(`Input \`${givenName(options, 'rehearse-sha256')}\` checks a backup file; drop it, since \`${input}\` is a database URL.`);
    return { kind: 'live', url: from };
  }
  const file = path.resolve(context.cwd, from);
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    const why = (error as { code?: string }).code === 'ENOENT' ? 'which does not exist' : 'which cannot be read';
    throw new UserError(`Input \`${input}\` names ${file}, ${why}; point it at a backup file or folder, or a postgresql:// URL.`);
  }
  if (options.rehearseSha256 !== undefined && !/^[0-9a-f]{64}$/i.test(options.rehearseSha256.trim())) {
    throw new UserError(
      `Input \`${givenName(options, 'rehearse-sha256')}\` is not a SHA-256 (64 hexadecimal characters); paste the value from \`sha256sum <file>\`.`,
    );
  }
  return { kind: 'file', path: file };
}

/** The drill's inputs for this copy: the restore target comes from drift-gate's own shadow inputs. */
function drillOptions(options: DriftOptions, mode: Mode) {
  const given: Record<string, string | undefined> = {
    ...(mode.kind === 'live' ? { 'source-database-url': mode.url } : { 'dump-path': mode.path }),
    sha256: options.rehearseSha256,
    shadow: options.shadow,
    'shadow-database-url': options.shadowDatabaseUrl,
    'postgres-version': options.postgresVersion?.toString(),
  };
  return parseInputs(DRILL_INPUTS, (name) => given[name], 'cli');
}

/** Restores the copy from `mode` (see `rehearsalSource`) and rehearses the pending migrations of `source` on it. */
export async function rehearse(options: DriftOptions, context: GateContext, source: MigrationSource, mode: Mode): Promise<GateOutput> {
  const input = givenName(options, 'rehearse-from');
  const threshold = lockThresholdMs(context.config);
  await using cleanup = cleanupStack();
  const state = { ...createState(drillOptions(options, mode), context, mode, cleanup), digestOnlyToCompare: true };
  const { targeted, inert } = await restoreCopy(state);
  if (state.findings.some((f) => f.rule === 'drill_checksum_mismatch')) {
    throw new UserError(
      `The backup at \`${input}\` does not match \`${givenName(options, 'rehearse-sha256')}\` (SHA-256 ${state.digest?.sha256.slice(0, 12)}…), so it was not restored; check the file or the checksum.`,
    );
  }
  // A backup that could not be restored or made inert: the drill's findings say why; nothing is rehearsed.
  const copy = { source: state.details.source, ...(state.details.restore ? { restore: state.details.restore } : {}) };
  if (!targeted || !inert) return { findings: state.findings, metrics: {}, details: { rehearsal_copy: copy } };
  const rules = parseMaskRules(context.config.drill.mask);
  const masked = rules.length ? await context.log.step('masking the copy (drill.mask)', () => applyMasks(inert.copy, rules)) : [];
  const rehearsal = await rehearsePending(targeted.target.url, source, { lockThresholdMs: threshold, log: context.log, inputName: input });
  return {
    findings: [...state.findings, ...rehearsal.findings],
    metrics: { ...rehearsal.metrics, ...(state.metrics.restore_ms !== undefined ? { rehearsal_restore_ms: state.metrics.restore_ms } : {}) },
    details: { rehearsal_copy: { ...copy, masked: masked.map((m) => `${m.column} (${m.method}, ${m.rows} rows)`) }, ...rehearsal.details },
  };
}
