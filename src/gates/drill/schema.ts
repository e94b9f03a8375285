/**
 * Schema equality between source and copy, with the catalog model drift-gate uses
 * (src/catalog). A live drill compares snapshots object by object; a manifest carries the
 * source's snapshot and its fingerprint, so a file drill does the same (or, for a manifest
 * without the snapshot, compares fingerprints).
 *
 * The copy's snapshot is taken after it was made inert, and the webhook triggers postgate
 * disabled are put back to their restored state in it: the comparison is about what the
 * backup restored, not about the drill's own safety measure.
 */
import type { ClientBase } from 'pg';
import { type CatalogSnapshot, diffSnapshots, fingerprint, type SchemaDifference, snapshot } from '../../catalog/index.ts';
import type { Finding } from '../../findings/types.ts';
import { drillFinding } from './rules.ts';

export interface SchemaState {
  snapshot: CatalogSnapshot;
  fingerprint: string;
}

export interface ExpectedSchema {
  fingerprint: string;
  snapshot?: CatalogSnapshot;
}

export async function readSchema(client: ClientBase, options: { excludeSchemas: readonly string[]; supabase: boolean }): Promise<SchemaState> {
  const taken = await snapshot(client, { excludeSchemas: [...options.excludeSchemas], profile: options.supabase ? 'supabase' : 'postgres' });
  return { snapshot: taken, fingerprint: fingerprint(taken) };
}

/** The copy's snapshot with the triggers postgate disabled shown as they were restored. */
export function asRestored(state: SchemaState, disabledTriggers: Readonly<Record<string, string>>): SchemaState {
  if (Object.keys(disabledTriggers).length === 0) return state;
  const objects = state.snapshot.objects.map((object) => {
    const original = object.kind === 'trigger' ? disabledTriggers[`${object.schema}.${object.name}`] : undefined;
    return original ? { ...object, props: { ...object.props, enabled: original } } : object;
  });
  const restored = { ...state.snapshot, objects };
  return { snapshot: restored, fingerprint: fingerprint(restored) };
}

function label(difference: SchemaDifference): string {
  return difference.schema ? `${difference.schema}.${difference.name}` : difference.name;
}

/** "anon: SELECT,INSERT in the copy only; ..." for an ACL that differs. */
function aclDelta(expected: unknown, actual: unknown): string {
  const before = (expected ?? {}) as Record<string, string>;
  const after = (actual ?? {}) as Record<string, string>;
  const parts: string[] = [];
  for (const grantee of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const had = new Set((before[grantee] ?? '').split(',').filter(Boolean));
    const has = new Set((after[grantee] ?? '').split(',').filter(Boolean));
    const added = [...has].filter((p) => !had.has(p));
    const removed = [...had].filter((p) => !has.has(p));
    if (added.length) parts.push(`${grantee} has ${added.join(',')} in the copy only`);
    if (removed.length) parts.push(`${grantee} lost ${removed.join(',')}`);
  }
  return parts.join('; ');
}

function message(difference: SchemaDifference): string {
  const what = `${difference.kind.replace(/_/g, ' ')} ${label(difference)}`;
  const acl = difference.changes.find((change) => change.property === 'acl');
  if (difference.change === 'changed' && acl && difference.changes.length === 1) {
    return `Privileges on ${what} differ between source and copy: ${aclDelta(acl.expected, acl.actual)}.`;
  }
  if (difference.change === 'missing') return `${what} is in the source but not in the restored copy.`;
  if (difference.change === 'unexpected') return `${what} is in the restored copy but not in the source.`;
  const properties = difference.changes.map((change) => change.property).join(', ');
  return `${what} differs between source and copy (${properties}).`;
}

/** Findings for every difference between the expected schema and the copy's. */
export function compareSchemas(expected: ExpectedSchema, actual: SchemaState): { findings: Finding[]; differences: number } {
  if (!expected.snapshot) {
    if (expected.fingerprint === actual.fingerprint) return { findings: [], differences: 0 };
    return {
      differences: 1,
      findings: [
        drillFinding({
          rule: 'drill_schema_mismatch',
          object: { kind: 'database', name: 'schema fingerprint' },
          message: "The restored schema's fingerprint differs from the one in the manifest.",
          detail: `manifest ${expected.fingerprint.slice(0, 16)}…, copy ${actual.fingerprint.slice(0, 16)}…; the manifest carries no snapshot, so the objects that differ cannot be named.`,
          remediation:
            'Look at the restore errors first; write manifests with a current postgate, which stores the whole snapshot, to see which objects differ.',
        }),
      ],
    };
  }
  const differences = diffSnapshots(expected.snapshot, actual.snapshot).filter((difference) => !difference.minor);
  const findings = differences.map((difference) =>
    drillFinding({
      rule: 'drill_schema_mismatch',
      object: { kind: difference.kind, ...(difference.schema ? { schema: difference.schema } : {}), name: difference.name },
      message: message(difference),
      ...(difference.changes.length
        ? {
            detail: difference.changes
              .map((change) => `${change.property}: source ${JSON.stringify(change.expected ?? null)}, copy ${JSON.stringify(change.actual ?? null)}`)
              .join('\n'),
          }
        : {}),
      remediation: difference.changes.some((change) => change.property === 'acl')
        ? "pg_dump records privileges relative to the built-in defaults, so a restore target whose default privileges grant to roles (Supabase's baseline and images grant anon and authenticated on new objects in public) gives restored objects grants the source had revoked. In the restore runbook, revoke the target's default privileges before restoring (or re-apply the REVOKEs afterwards), then allowlist this finding with that reason."
        : difference.change === 'missing'
          ? 'Look at the restore errors for the statement that should have created it; if the backup leaves it out on purpose (e.g. platform schemas), re-apply it in the restore runbook and allowlist this finding.'
          : 'Check what the restore target adds by itself (extensions, baseline objects) and allowlist it with that reason.',
    }),
  );
  return { findings, differences: differences.length };
}
