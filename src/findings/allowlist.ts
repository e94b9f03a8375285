/**
 * The allowlist: `{ rule, object, reason, expires }` entries from the repo config.
 * A matching, unexpired entry moves a finding to `suppressed`; an expired entry lets the
 * finding count again (with a notice); an entry that matches nothing is a notice (stale).
 */
import type { AllowlistEntry } from '../config/repo-config.ts';
import { findingOf, SHARED_RULES } from './rules.ts';
import { type Finding, objectLabel, type Severity, type SuppressedFinding, verdict } from './types.ts';

const allowlistFinding = findingOf(SHARED_RULES);

function matches(entry: AllowlistEntry, item: Finding): boolean {
  if (entry.rule !== item.rule) return false;
  const object = entry.object;
  if (object.kind !== '*' && object.kind !== item.object.kind) return false;
  if ((object.schema ?? undefined) !== (item.object.schema ?? undefined)) return false;
  if (object.name.endsWith('*')) return item.object.name.startsWith(object.name.slice(0, -1));
  return object.name === item.object.name;
}

function entryLabel(entry: AllowlistEntry): string {
  return `${entry.rule} on ${objectLabel({ kind: entry.object.kind, name: entry.object.name, ...(entry.object.schema ? { schema: entry.object.schema } : {}) })}`;
}

export interface AllowlistOutcome {
  findings: Finding[];
  suppressed: SuppressedFinding[];
}

/**
 * @param knownRules rules the current gate can produce: entries for other gates' rules are
 *   neither applied nor reported stale here.
 */
export function applyAllowlist(
  findings: readonly Finding[],
  entries: readonly AllowlistEntry[],
  options: { knownRules: ReadonlySet<string>; today: string },
): AllowlistOutcome {
  const relevant = entries.filter((entry) => options.knownRules.has(entry.rule));
  const used = new Set<AllowlistEntry>();
  const kept: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const item of findings) {
    const entry = relevant.find((candidate) => matches(candidate, item));
    if (!entry) {
      kept.push(item);
      continue;
    }
    used.add(entry);
    if (entry.expires && entry.expires < options.today) {
      kept.push({ ...item, detail: [item.detail, `Allowlist entry expired on ${entry.expires} (reason was: ${entry.reason}).`].filter(Boolean).join('\n') });
      continue;
    }
    suppressed.push({ ...item, reason: entry.reason, ...(entry.expires ? { expires: entry.expires } : {}) });
  }
  for (const entry of relevant) {
    const object = { kind: 'allowlist-entry', name: entryLabel(entry) };
    if (!used.has(entry)) {
      kept.push(
        allowlistFinding({
          rule: 'allowlist_stale',
          object,
          message: `Allowlist entry for ${entryLabel(entry)} matched no finding; remove it from the repo config.`,
        }),
      );
    } else if (entry.expires && entry.expires < options.today) {
      kept.push(
        allowlistFinding({
          rule: 'allowlist_expired',
          object,
          message: `Allowlist entry for ${entryLabel(entry)} expired on ${entry.expires}; fix the finding or renew the entry.`,
        }),
      );
    }
  }
  return { findings: kept, suppressed };
}

export interface Judgement {
  /** The findings that count (with the allowlist's own notices). */
  kept: Finding[];
  /** The findings the allowlist accepts. */
  suppressed: SuppressedFinding[];
  /** `fail` when a finding that counts is at or above `fail-on`. */
  status: 'pass' | 'fail';
}

/**
 * The verdict on a gate's findings: its allowlist entries first (only those for its own rules,
 * `knownRules`, which the gate takes from the rule catalog), then the `fail-on` threshold over
 * what is left.
 */
export function judge(
  findings: readonly Finding[],
  options: { knownRules: ReadonlySet<string>; allowlist: readonly AllowlistEntry[]; now: Date; failOn: Severity },
): Judgement {
  const { findings: kept, suppressed } = applyAllowlist(findings, options.allowlist, {
    knownRules: options.knownRules,
    today: options.now.toISOString().slice(0, 10),
  });
  return { kept, suppressed, status: verdict(kept, options.failOn) };
}
