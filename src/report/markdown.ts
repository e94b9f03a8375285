/** Markdown for the job summary and the PR comment. */
import { countBySeverity, type Finding, type GateResult, objectLabel, severityRank } from '../findings/types.ts';
import { redact } from '../secrets.ts';
import { gateTitle } from './text.ts';

const ICON = { pass: '✅', fail: '❌', error: '⚠️' } as const;

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(result: GateResult): string {
  const counts = countBySeverity(result.findings);
  const lines = [
    `### ${ICON[result.status]} postgate ${gateTitle(result.gate)}: ${result.status.toUpperCase()}`,
    '',
    `${counts.error} error(s) · ${counts.warning} warning(s) · ${counts.notice} notice(s)`,
  ];
  if (result.error) lines.push('', `> ${escapeCell(result.error)}`);
  const findings = [...result.findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  if (findings.length) {
    lines.push('', '| severity | rule | object | message | location |', '|---|---|---|---|---|');
    for (const item of findings) lines.push(row(item));
  }
  return redact(`${lines.join('\n')}\n`);
}

function row(item: Finding): string {
  const location = item.location ? `${item.location.file}${item.location.line ? `:${item.location.line}` : ''}` : '';
  return `| ${item.severity} | \`${item.rule}\` | ${escapeCell(objectLabel(item.object))} | ${escapeCell(item.message)} | ${escapeCell(location)} |`;
}
