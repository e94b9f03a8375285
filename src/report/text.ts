/** Terminal text: a status line, counts, findings by severity. Colour on a TTY unless NO_COLOR. */
import { countBySeverity, type Finding, type GateResult, objectLabel, severityRank } from '../findings/types.ts';
import { redact } from '../secrets.ts';

export interface TextOptions {
  color: boolean;
}

export function shouldColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

const CODES = { red: 31, yellow: 33, blue: 34, green: 32, dim: 2, bold: 1 } as const;

function paint(enabled: boolean) {
  return (style: keyof typeof CODES, text: string) => (enabled ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text);
}

const GATE_TITLES: Record<GateResult['gate'], string> = {
  drift: 'drift-gate',
  rls: 'rls-audit',
  webhooks: 'webhook-secret-check',
  drill: 'restore-drill',
};

export function gateTitle(gate: GateResult['gate']): string {
  return GATE_TITLES[gate];
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

export function renderText(result: GateResult, options: TextOptions): string {
  const c = paint(options.color);
  const counts = countBySeverity(result.findings);
  const statusText =
    result.status === 'pass' ? c('green', 'PASS') : result.status === 'fail' ? c('red', 'FAIL') : c('red', 'ERROR');
  const lines: string[] = [];
  lines.push(
    `${c('bold', `postgate ${gateTitle(result.gate)}`)}: ${statusText}  ${counts.error} error(s), ${counts.warning} warning(s), ${counts.notice} notice(s)`,
  );
  if (result.error) lines.push(`  ${c('red', result.error)}`);
  const sorted = [...result.findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.rule.localeCompare(b.rule));
  for (const item of sorted) lines.push(renderFinding(item, c));
  if (result.suppressed?.length) {
    lines.push(c('dim', `  ${result.suppressed.length} finding(s) accepted by the allowlist:`));
    for (const item of result.suppressed) lines.push(c('dim', `    ${item.rule} ${objectLabel(item.object)} (${item.reason})`));
  }
  if (result.preexisting?.length) {
    lines.push(c('dim', `  ${result.preexisting.length} finding(s) already on the base branch (not failing this PR).`));
  }
  const metrics = Object.entries(result.metrics)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  if (metrics) lines.push(c('dim', `  ${metrics}`));
  return redact(`${lines.join('\n')}\n`);
}

function renderFinding(item: Finding, c: ReturnType<typeof paint>): string {
  const tag = item.severity === 'error' ? c('red', 'error  ') : item.severity === 'warning' ? c('yellow', 'warning') : c('blue', 'notice ');
  const out = [`  ${tag} ${c('bold', item.rule)}  ${objectLabel(item.object)}: ${item.message}`];
  if (item.location) out.push(c('dim', `          at ${item.location.file}${item.location.line ? `:${item.location.line}` : ''}`));
  if (item.detail) out.push(c('dim', indent(item.detail, '          ')));
  if (item.remediation) out.push(indent(`fix: ${item.remediation}`, '          '));
  return out.join('\n');
}

export function renderJson(result: GateResult): string {
  return `${redact(JSON.stringify(result, null, 2))}\n`;
}
