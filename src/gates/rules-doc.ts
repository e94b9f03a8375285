/** docs/rules.md, generated from the rule catalog (src/gates/rules-catalog.ts). */
import { GATES } from '../config/gates.ts';
import { RULE_CATALOG } from './rules-catalog.ts';

const GATE_NAMES: Record<string, string> = {
  all: 'All gates',
  ...Object.fromEntries(Object.values(GATES).map((gate) => [gate.id, gate.action])),
};

export function renderRulesDoc(): string {
  const lines = [
    '# Rules',
    '',
    '<!-- Generated from the rule catalog by `npm run build`; edit the rule records in src/, not this file. -->',
    '',
    'Every finding names a rule. A finding can be accepted with an allowlist entry in the repo config',
    '(`.github/postgate.yml`):',
    '',
    '```yaml',
    'allowlist:',
    '  - rule: <rule id>',
    '    object: { kind: table, schema: public, name: countries }   # or "public.countries"',
    '    reason: Reference data, readable by everyone on purpose.',
    '    expires: 2027-06-30   # optional; after this date the finding counts again',
    '```',
    '',
    'An entry without a reason is invalid; an expired entry is reported (`allowlist_expired`) and no longer',
    'suppresses; an entry that matches nothing is reported as stale (`allowlist_stale`).',
    '',
  ];
  for (const gate of ['all', 'drift', 'rls', 'webhooks', 'drill', 'parity']) {
    const ofGate = RULE_CATALOG.filter((rule) => rule.gate === gate);
    if (!ofGate.length) continue;
    lines.push(`## ${GATE_NAMES[gate]}`, '');
    for (const rule of ofGate) {
      lines.push(`### \`${rule.id}\``, '', `**${rule.title}** · default severity: ${rule.severity} · category: ${rule.category}`, '', rule.doc, '');
    }
  }
  return lines.join('\n');
}
