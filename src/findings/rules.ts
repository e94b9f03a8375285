/**
 * What a rule is: a record with an id, the gate that owns it, a default severity, a title and a
 * doc paragraph (why it matters, how to fix, how to allowlist). Each owner exports its list of
 * records; src/gates/rules-catalog.ts assembles them into the catalog, which is passed to whatever
 * needs rules (renderers, the allowlist, docs/rules.md). There is no global registry.
 */
import { finding, type Finding, type GateId, type Severity } from './types.ts';

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

/** What a gate passes to build a finding of one of its rules. */
export type RuleFindingInput<Id extends string> = Omit<Finding, 'key' | 'rule' | 'severity'> & {
  rule: Id;
  /** Only where the rule's severity depends on the case (say why at the call site); otherwise the rule's own. */
  severity?: Severity;
};

/** finding() bound to rule lists: the rule must be one of theirs (a typo fails to compile) and the severity defaults to the rule's. */
export function findingOf<const L extends readonly (readonly Rule[])[]>(...lists: L): (input: RuleFindingInput<L[number][number]['id']>) => Finding {
  const severities = new Map<string, Severity>(lists.flat().map((rule) => [rule.id, rule.severity]));
  return ({ rule, severity, ...rest }) => finding({ rule, severity: severity ?? severities.get(rule)!, ...rest });
}

export const SHARED_RULES = [
  {
    id: 'allowlist_stale',
    gate: 'all',
    severity: 'notice',
    category: 'config',
    title: 'Allowlist entry matches nothing',
    doc: 'An allowlist entry in the repo config names a rule and object that produced no finding in this run. The problem was probably fixed, or the object renamed. Delete the entry so that a future regression is not hidden by it.',
  },
  {
    id: 'allowlist_expired',
    gate: 'all',
    severity: 'notice',
    category: 'config',
    title: 'Allowlist entry has expired',
    doc: "An allowlist entry's `expires` date has passed, so the finding it covered counts again. Fix the finding, or renew the entry with a new date and an up-to-date reason.",
  },
] as const satisfies readonly Rule[];
