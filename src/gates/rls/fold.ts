/**
 * One cause, one finding. Several rules can report one cause on one object: an exposed table
 * without row level security is `rls_disabled_in_public`, perhaps `sensitive_columns_exposed`
 * and `policy_exists_rls_disabled`, and in PR mode also `rls_matrix_access_changed`. Per object
 * and cause, the most specific finding stays; the others become lines of its detail, and it
 * keeps the highest severity among them (folding never hides an error behind a warning).
 */
import { type Finding, findingKey, severityRank } from '../../findings/types.ts';
import type { RuleId } from '../rules-catalog.ts';

/** Causes, each with the rules that report it, most specific first (the first present keeps the finding). */
export const CAUSES: ReadonlyArray<{ cause: string; rules: readonly RuleId[] }> = [
  {
    cause: 'an exposed table without row level security',
    rules: ['sensitive_columns_exposed', 'policy_exists_rls_disabled', 'rls_disabled_in_public', 'rls_matrix_access_changed'],
  },
  {
    cause: 'a view, materialized view or foreign table that reads past row level security',
    rules: ['auth_users_exposed', 'security_definer_view', 'materialized_view_in_api', 'foreign_table_in_api', 'rls_matrix_access_changed'],
  },
];

/** Folds findings about one cause on one object into the most specific of them; order is kept otherwise. */
export function foldByCause(findings: readonly Finding[]): Finding[] {
  const folded = new Map<Finding, Finding>();
  const dropped = new Set<Finding>();
  const byObject = new Map<string, Finding[]>();
  for (const f of findings) {
    const object = findingKey('', f.object);
    byObject.set(object, [...(byObject.get(object) ?? []), f]);
  }
  for (const group of byObject.values()) {
    for (const cause of CAUSES) {
      // A finding's rule is a string (the JSON contract): compare as strings.
      const rules: readonly string[] = cause.rules;
      const same = group
        .filter((f) => rules.includes(f.rule) && !dropped.has(f) && !folded.has(f))
        .sort((a, b) => rules.indexOf(a.rule) - rules.indexOf(b.rule));
      const [primary, ...others] = same;
      if (!primary || !others.length) continue;
      const lines = others.map((f) => `- ${f.rule}: ${f.message}`);
      const severity = same.map((f) => f.severity).sort((a, b) => severityRank(a) - severityRank(b))[0]!;
      const location = primary.location ?? others.find((f) => f.location)?.location;
      folded.set(primary, {
        ...primary,
        severity,
        detail: [primary.detail, 'Same cause, also reported as:', ...lines].filter(Boolean).join('\n'),
        ...(location ? { location } : {}),
      });
      for (const f of others) dropped.add(f);
    }
  }
  return findings.filter((f) => !dropped.has(f)).map((f) => folded.get(f) ?? f);
}
