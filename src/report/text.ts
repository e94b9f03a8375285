/**
 * Terminal text: a status line with counts, findings grouped by rule (most severe first),
 * accepted and pre-existing findings apart, the gate's details as aligned tables, metrics.
 * Colour on a TTY unless NO_COLOR is set (FORCE_COLOR forces it). Also the JSON report.
 *
 * Untrusted text (object names and kinds, messages, details, remediation, allowlist reasons,
 * file paths, detail values: anything a database or a pull request can shape) is printed through
 * `inertInline` (one line: escape sequences removed, line breaks and control characters shown as
 * `\n`, `\x1b`...) or `inertBlock` (detail and remediation keep their lines), and the whole output
 * through `guardCommands`, so that nothing printed to a workflow step's log starts a workflow
 * command (`::add-mask::`, `::error file=...::`, `##[...]`). See inert.ts.
 */
import { GATES } from '../config/gates.ts';
import type { Rule } from '../findings/rules.ts';
import { countBySeverity, type Finding, type GateResult, objectLabel, type Severity, severityRank } from '../findings/types.ts';
import { redact, redactDeep } from '../secrets.ts';
import { type DetailBlock, detailBlocks } from './details.ts';
import { columnLabel, countsText, formatMeasure, locationText, plural } from './format.ts';
import { guardCommands, inertBlock, inertInline as u } from './inert.ts';

export interface TextOptions {
  color: boolean;
  /** The rule catalog (RULE_CATALOG), for each rule's title; a rule it lacks is shown by its id alone. */
  rules: readonly Rule[];
}

export function shouldColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

const CODES = { red: 31, yellow: 33, blue: 34, green: 32, dim: 2, bold: 1 } as const;
type Paint = (style: keyof typeof CODES, text: string) => string;

function paint(enabled: boolean): Paint {
  return (style, text) => (enabled && text ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text);
}

/** The gate's name as its action is called (src/config/gates.ts). */
export function gateTitle(gate: GateResult['gate']): string {
  return GATES[gate].action;
}

const SEVERITY_STYLE: Record<Severity, keyof typeof CODES> = { error: 'red', warning: 'yellow', notice: 'blue' };
const PAD = '      ';

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

export function renderText(input: GateResult, options: TextOptions): string {
  // Redacted before escaping: a secret with a control character escaped would no longer match.
  const result = redactDeep(input);
  const c = paint(options.color);
  const status = { pass: c('green', 'PASS'), fail: c('red', 'FAIL'), error: c('red', 'ERROR') }[result.status];
  const extra = [
    result.suppressed?.length ? `${result.suppressed.length} allowlisted` : '',
    result.preexisting?.length ? `${result.preexisting.length} already on the base branch` : '',
    result.metrics.duration_ms !== undefined ? formatMeasure('duration_ms', result.metrics.duration_ms) : '',
  ].filter(Boolean);
  const lines = [
    `${c('bold', `postgate ${gateTitle(result.gate)}`)}: ${status}  ${countsText(countBySeverity(result.findings))}${extra.length ? c('dim', ` · ${extra.join(' · ')}`) : ''}`,
  ];
  if (result.error) lines.push(`  ${c('red', u(result.error))}`);

  const sorted = [...result.findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.rule.localeCompare(b.rule));
  const rules = [...new Set(sorted.map((item) => item.rule))];
  for (const rule of rules) {
    const group = sorted.filter((item) => item.rule === rule);
    const title = options.rules.find((candidate) => candidate.id === rule)?.title;
    lines.push('', `${severityTag(group[0]!.severity, c)} ${c('bold', u(rule))}${title ? c('dim', `  ${title}`) : ''}`);
    for (const item of group) lines.push(renderFinding(item, c, group[0]!.severity));
  }
  if (result.suppressed?.length) {
    lines.push('', c('dim', `Accepted by the allowlist (${plural(result.suppressed.length, 'finding')}, not counted):`));
    for (const item of result.suppressed) {
      lines.push(
        c(
          'dim',
          `  ${u(item.rule)}  ${u(item.object.kind)} ${u(objectLabel(item.object))}: ${u(item.reason)}${item.expires ? ` (until ${u(item.expires)})` : ''}`,
        ),
      );
    }
  }
  if (result.preexisting?.length) {
    lines.push('', c('dim', `Already on the base branch (${plural(result.preexisting.length, 'finding')}, not failing this change):`));
    for (const item of result.preexisting) {
      const where = item.location ? ` at ${u(locationText(item.location))}` : '';
      lines.push(c('dim', `  ${item.severity.padEnd(7)} ${u(item.rule)}  ${u(item.object.kind)} ${u(objectLabel(item.object))}: ${u(item.message)}${where}`));
    }
  }
  for (const block of detailBlocks(result.details)) lines.push('', c('bold', `${u(block.title)}:`), ...detailText(block));
  const metrics = Object.entries(result.metrics).map(([key, value]) => `${columnLabel(key)} ${formatMeasure(key, value)}`);
  if (metrics.length) lines.push('', c('dim', metrics.join(' · ')));
  return guardCommands(redact(`${lines.join('\n')}\n`));
}

function severityTag(severity: Severity, c: Paint): string {
  return c(SEVERITY_STYLE[severity], severity.padEnd(7));
}

function renderFinding(item: Finding, c: Paint, groupSeverity: Severity): string {
  const tag = item.severity === groupSeverity ? '' : `${c(SEVERITY_STYLE[item.severity], `[${item.severity}]`)} `;
  const out = [`  ${tag}${u(item.object.kind)} ${c('bold', u(objectLabel(item.object)))}: ${u(item.message)}`];
  if (item.location) out.push(c('dim', `${PAD}at ${u(locationText(item.location))}`));
  if (item.related?.length) out.push(c('dim', `${PAD}also at ${relatedText(item.related)}`));
  if (item.detail) out.push(c('dim', indent(inertBlock(item.detail), PAD)));
  if (item.remediation) out.push(indent(`fix: ${inertBlock(item.remediation)}`, PAD));
  return out.join('\n');
}

/** Related locations shown in the terminal; the rest are counted. */
const RELATED_SHOWN = 5;

function relatedText(related: NonNullable<Finding['related']>): string {
  const shown = related.slice(0, RELATED_SHOWN).map((place) => u(locationText(place)));
  return `${shown.join(', ')}${related.length > RELATED_SHOWN ? ` (+${related.length - RELATED_SHOWN} more)` : ''}`;
}

function detailText(block: DetailBlock): string[] {
  switch (block.kind) {
    case 'table': {
      const columns = block.columns.map(u);
      const rows = (columns.some(Boolean) ? [columns, ...block.rows] : block.rows).map((row) => row.map(u));
      const widths = columns.map((_, i) => Math.min(40, Math.max(...rows.map((row) => (row[i] ?? '').length))));
      const lines = rows.map(
        (row) =>
          `  ${row
            .map((value, i) => value.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd()}`,
      );
      return block.note ? [...lines, `  ${u(block.note)}`] : lines;
    }
    case 'fields': {
      const fields = block.fields.map(([label, value]) => [u(label), u(value)] as const);
      const width = Math.max(...fields.map(([label]) => label.length));
      return fields.map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${value}`);
    }
    case 'list':
      return block.items.map((item) => `  - ${u(item)}`);
    case 'value':
      return [`  ${u(block.value)}`];
    case 'json':
      return [indent(inertBlock(block.json), '  ')];
  }
}

/**
 * The JSON report. A string's control characters are escaped by JSON itself, so no line of it can
 * start with `::`; the legacy `##[command]` form, which the runner finds anywhere in a line, is
 * broken by writing its `[` as `\u005b` (the same JSON value).
 */
export function renderJson(result: GateResult): string {
  return `${redact(JSON.stringify(result, null, 2)).replace(/##\[/g, '##\\u005b')}\n`;
}
