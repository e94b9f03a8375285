/**
 * Every rule, assembled in one place from the lists their owners export: the shared allowlist
 * rules, the migration rules every gate that builds a shadow shares, and each gate's own.
 * Adding a rule: add its record to the owner's list; it appears here, in docs/rules.md and in SARIF.
 */
import { type Rule, SHARED_RULES } from '../findings/rules.ts';
import { MIGRATION_RULES } from '../migrations/rules.ts';
import { MIGRATION_SOURCE_RULES } from '../migrations/sources.ts';
import { DRIFT_RULES } from './drift/rules.ts';
import { DRILL_RULES } from './drill/rules.ts';
import { EXPOSURE_RULES } from './rls/exposure.ts';
import { RLS_GATE_RULES, RLS_RULES } from './rls/rules.ts';
import { WEBHOOK_RULES } from './webhooks/rules.ts';

const RULE_LISTS = [SHARED_RULES, MIGRATION_RULES, MIGRATION_SOURCE_RULES, DRIFT_RULES, RLS_RULES, RLS_GATE_RULES, EXPOSURE_RULES, WEBHOOK_RULES, DRILL_RULES] as const;

/** A rule id of the catalog. (rls-audit's query rules are typed as `RlsRule`, so their ids widen this to string.) */
export type RuleId = (typeof RULE_LISTS)[number][number]['id'];

/** All rules, in docs order: by gate, then id. */
export const RULE_CATALOG: readonly Rule[] = RULE_LISTS.flat().sort((a, b) => a.gate.localeCompare(b.gate) || a.id.localeCompare(b.id));
