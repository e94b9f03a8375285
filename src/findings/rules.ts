/**
 * The rule catalog: every rule is a record with an id, the gate that owns it, a default
 * severity, a title and a doc paragraph (why it matters, how to fix, how to allowlist).
 * docs/rules.md is generated from this catalog (`npm run build`), and a test keeps it current.
 */
import type { GateId, Severity } from './types.ts';

export interface Rule {
  id: string;
  gate: GateId | 'all';
  severity: Severity;
  /** Category for grouping: security, performance, history, schema, ... */
  category: string;
  title: string;
  /** Why it matters and how to fix it (markdown). */
  doc: string;
}

const registry = new Map<string, Rule>();

/** Gates call this at module load with their rule records. */
export function defineRules(rules: readonly Rule[]): void {
  for (const rule of rules) {
    const existing = registry.get(rule.id);
    if (existing && existing !== rule) throw new Error(`rule ${rule.id} is defined twice`);
    registry.set(rule.id, rule);
  }
}

export function getRule(id: string): Rule | undefined {
  return registry.get(id);
}

export function allRules(): Rule[] {
  return [...registry.values()].sort((a, b) => a.gate.localeCompare(b.gate) || a.id.localeCompare(b.id));
}

export function rulesOfGate(gate: GateId): Rule[] {
  return allRules().filter((rule) => rule.gate === gate || rule.gate === 'all');
}

export const SHARED_RULES = [
  {
    id: 'allowlist_stale',
    gate: 'all',
    severity: 'notice',
    category: 'config',
    title: 'Allowlist entry matches nothing',
    doc:
      'An allowlist entry in the repo config names a rule and object that produced no finding in this run. The problem was probably fixed, or the object renamed. Delete the entry so that a future regression is not hidden by it.',
  },
  {
    id: 'allowlist_expired',
    gate: 'all',
    severity: 'notice',
    category: 'config',
    title: 'Allowlist entry has expired',
    doc:
      'An allowlist entry\'s `expires` date has passed, so the finding it covered counts again. Fix the finding, or renew the entry with a new date and an up-to-date reason.',
  },
] as const satisfies readonly Rule[];

defineRules(SHARED_RULES);
