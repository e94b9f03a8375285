/**
 * Every rule, assembled in one place from the lists their owners export: the shared allowlist
 * rules, the migration rules every gate that builds a shadow shares, and each gate's own.
 * Adding a rule: add its record to the owner's list; it appears here, in docs/rules.md and in SARIF.
 * Whatever needs rules gets them from here, passed in: the renderers (titles, doc links, SARIF
 * rules), the allowlist (which entries a gate applies), docs/rules.md.
 */
import { type Rule, SHARED_RULES } from '../findings/rules.ts';
import type { GateId } from '../findings/types.ts';
import { REHEARSAL_RULES } from '../migrations/rehearse.ts';
import { MIGRATION_RULES } from '../migrations/rules.ts';
import { MIGRATION_SOURCE_RULES } from '../migrations/sources.ts';
import { MIGRATION_SAFETY_RULES } from './drift/migration-safety.ts';
import { DRIFT_RULES } from './drift/rules.ts';
import { DRILL_RULES } from './drill/rules.ts';
import { PARITY_RULES } from './parity/rules.ts';
import { API_USAGE_RULES } from './rls/api-usage-rules.ts';
import { DB_TEST_RULES } from './rls/db-test-rules.ts';
import { EXPOSURE_RULES } from './rls/exposure.ts';
import { RLS_GATE_RULES, RLS_RULES } from './rls/rules.ts';
import { WEBHOOK_RULES } from './webhooks/rules.ts';

const RULE_LISTS = [
  SHARED_RULES,
  MIGRATION_RULES,
  MIGRATION_SOURCE_RULES,
  REHEARSAL_RULES,
  DRIFT_RULES,
  MIGRATION_SAFETY_RULES,
  RLS_RULES,
  RLS_GATE_RULES,
  EXPOSURE_RULES,
  API_USAGE_RULES,
  DB_TEST_RULES,
  WEBHOOK_RULES,
  DRILL_RULES,
  PARITY_RULES,
] as const;

/** A rule id of the catalog: a union of the ids, so a typo does not compile. */
export type RuleId = (typeof RULE_LISTS)[number][number]['id'];

/** All rules, in docs order: by gate, then id. */
export const RULE_CATALOG: ReadonlyArray<Rule & { id: RuleId }> = RULE_LISTS.flat().sort((a, b) => a.gate.localeCompare(b.gate) || a.id.localeCompare(b.id));

/** The ids of the rules a gate reports (its own and those every gate shares): the allowlist entries it applies. */
export function ruleIdsOf(gate: GateId): ReadonlySet<RuleId> {
  return new Set(RULE_CATALOG.filter((rule) => rule.gate === gate || rule.gate === 'all').map((rule) => rule.id));
}
