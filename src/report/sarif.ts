/**
 * SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`): one run per gate,
 * rules from the catalog (help text = the rule's doc), results at the migration file and line.
 *
 * Code scanning rejects a whole file when any result lacks a physical location, and a wrong
 * location is worse than none, so findings without a file (about the live database) are left
 * out of `results`; the run says how many, in a tool notification and in `properties`, and
 * `renderSarif` returns the count so the caller can say it too.
 */
import packageJson from '../../package.json' with { type: 'json' };
import type { Rule } from '../findings/rules.ts';
import { type Finding, type GateResult, objectLabel, type Severity } from '../findings/types.ts';
import { redactDeep } from '../secrets.ts';
import { repoPath } from './format.ts';
import { RULES_DOC_URL } from './markdown.ts';
import { gateTitle } from './text.ts';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', notice: 'note' };
/** GitHub maps security-severity to critical/high/medium/low for rules tagged "security". */
const SECURITY_SEVERITY: Record<Severity, string> = { error: '8.0', warning: '5.0', notice: '2.0' };

export interface SarifOptions {
  /** The rule catalog (RULE_CATALOG): the run lists the gate's rules and the shared ones in its order, then any other rule a finding names. */
  rules: readonly Rule[];
  /** Absolute workspace path, to make absolute finding paths repository-relative. */
  workspace?: string;
  /** Distinguishes runs of the same gate on different targets (`runAutomationDetails.id`). */
  target?: string;
}

export interface SarifOutput {
  text: string;
  results: number;
  /** Findings left out because they have no file location. */
  unlocated: number;
}

function ruleName(id: string): string {
  return id.replace(/(^|[_-])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

function firstParagraph(doc: string): string {
  return doc.split(/\n\s*\n/)[0]!.trim();
}

function sarifRule(rule: Rule) {
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: firstParagraph(rule.doc) },
    help: {
      text: `${rule.doc}\n\nTo accept a finding on purpose, add an allowlist entry (rule, object, reason, expires) to .github/postgate.yml.`,
      markdown: `**${rule.title}**\n\n${rule.doc}\n\nTo accept a finding on purpose, add an allowlist entry (\`rule\`, \`object\`, \`reason\`, \`expires\`) to \`.github/postgate.yml\`. [Rule reference](${RULES_DOC_URL}#${rule.id.toLowerCase()})`,
    },
    helpUri: `${RULES_DOC_URL}#${rule.id.toLowerCase()}`,
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags: [rule.category, `postgate/${rule.gate}`],
      ...(rule.category === 'security' ? { 'security-severity': SECURITY_SEVERITY[rule.severity] } : {}),
    },
  };
}

/** A rule a finding names but the catalog lacks (should not happen): still a valid rule. */
function unknownRule(id: string, severity: Severity, gate: GateResult['gate']): Rule {
  return { id, gate, severity, category: 'other', title: id, doc: `Finding of rule ${id}.` };
}

export function renderSarif(result: GateResult, options: SarifOptions): SarifOutput {
  const all: Array<{ item: Finding; state: 'new' | 'unchanged' | 'suppressed' }> = [
    ...result.findings.map((item) => ({ item, state: 'new' as const })),
    ...(result.preexisting ?? []).map((item) => ({ item, state: 'unchanged' as const })),
    ...(result.suppressed ?? []).map((item) => ({ item, state: 'suppressed' as const })),
  ];
  const rules = options.rules.filter((rule) => rule.gate === result.gate || rule.gate === 'all');
  for (const { item } of all) {
    if (!rules.some((rule) => rule.id === item.rule))
      rules.push(options.rules.find((candidate) => candidate.id === item.rule) ?? unknownRule(item.rule, item.severity, result.gate));
  }
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const located = all.filter(({ item }) => item.location?.file);
  const unlocated = all.length - located.length;
  const prMode = result.preexisting !== undefined;

  const results = located.map(({ item, state }) => {
    const suppressed = result.suppressed?.find((s) => s.key === item.key && state === 'suppressed');
    return {
      ruleId: item.rule,
      ruleIndex: index.get(item.rule)!,
      level: LEVEL[item.severity],
      message: { text: [item.message, item.detail, item.remediation ? `Fix: ${item.remediation}` : ''].filter(Boolean).join('\n\n') },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: repoPath(item.location!.file, options.workspace) },
            region: { startLine: item.location!.line ?? 1 },
          },
          logicalLocations: [{ name: item.object.name, fullyQualifiedName: objectLabel(item.object), kind: item.object.kind }],
        },
      ],
      ...(item.related?.length
        ? {
            relatedLocations: item.related.map((place, i) => ({
              id: i + 1,
              physicalLocation: { artifactLocation: { uri: repoPath(place.file, options.workspace) }, region: { startLine: place.line ?? 1 } },
              ...(place.message ? { message: { text: place.message } } : {}),
            })),
          }
        : {}),
      partialFingerprints: { 'postgateKey/v1': item.key },
      ...(prMode && state !== 'suppressed' ? { baselineState: state } : {}),
      ...(suppressed ? { suppressions: [{ kind: 'external', status: 'accepted', justification: suppressed.reason }] } : {}),
      properties: { object: item.object },
    };
  });

  const notifications = [
    ...(result.error ? [{ level: 'error', message: { text: result.error } }] : []),
    ...(unlocated
      ? [
          {
            level: 'note',
            message: {
              text: `${unlocated} finding(s) have no file location (they are about the database, not a file) and are not in this SARIF file; they are in the JSON report and the job summary.`,
            },
          },
        ]
      : []),
  ];
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'postgate',
            semanticVersion: packageJson.version,
            informationUri: 'https://github.com/postgate/postgate',
            rules: rules.map(sarifRule),
          },
        },
        automationDetails: { id: `postgate-${gateTitle(result.gate)}${options.target ? `-${options.target.replace(/[^A-Za-z0-9._-]+/g, '-')}` : ''}/` },
        invocations: [{ executionSuccessful: result.status !== 'error', ...(notifications.length ? { toolExecutionNotifications: notifications } : {}) }],
        results,
        properties: { gate: result.gate, status: result.status, metrics: result.metrics, unlocatedFindings: unlocated },
      },
    ],
  };
  return { text: `${JSON.stringify(redactDeep(sarif), null, 2)}\n`, results: results.length, unlocated };
}
