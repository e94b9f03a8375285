/** Live schema drift: catalog differences turned into findings on the migration that made the object. */
import type { SchemaDifference } from '../../catalog/index.ts';
import type { JsonValue } from '../../catalog/types.ts';
import type { Finding, SourceLocation } from '../../findings/types.ts';
import { findOrigin } from '../../migrations/origins.ts';
import { type DriftRuleId, driftFinding } from './rules.ts';

function show(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function ruleOf(d: SchemaDifference): DriftRuleId {
  if (d.minor) return 'extension_version_differs';
  if (d.kind === 'unmodeled') return 'unmodeled_object_differs';
  return `schema_drift_${d.change}`;
}

export function schemaFindings(differences: SchemaDifference[], origins: ReadonlyMap<string, SourceLocation>): Finding[] {
  return differences.map((d) => {
    const rule = ruleOf(d);
    const object = { kind: d.kind, ...(d.schema ? { schema: d.schema } : {}), name: d.name };
    const location = d.change === 'unexpected' ? undefined : findOrigin(origins, object);
    const detail =
      d.change === 'changed'
        ? d.changes.map((c) => `${c.property}:\n  migrations: ${show(c.expected)}\n  database:   ${show(c.actual)}`).join('\n')
        : d.change === 'missing'
          ? `Created by ${location ? `${location.file}${location.line ? `:${location.line}` : ''}` : 'the applied migrations'}.`
          : 'No applied migration creates it: it was probably made by hand (dashboard, psql) on this database.';
    const remediation = [
      '-- Bring the database back to what the migrations say:',
      d.restoreSql || '-- (nothing to run)',
      '',
      '-- Or keep the database as it is and capture it in a new migration:',
      d.captureSql || '-- (nothing to run)',
    ].join('\n');
    return driftFinding({
      rule,
      object,
      message: `${d.summary[0]!.toUpperCase()}${d.summary.slice(1)}.`,
      detail,
      remediation,
      ...(location ? { location } : {}),
    });
  });
}
