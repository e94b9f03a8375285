/**
 * Markdown for the job summary, the sticky PR comment, the check run summary and the tracking
 * issue: a status line with counts, findings grouped by rule (object, a link to the migration
 * line at the commit, the finding), remediation in collapsible blocks, the gate's structured
 * details, allowlisted and pre-existing findings apart, and metrics.
 *
 * Every channel has a size limit. When the full report does not fit, it is shortened in steps
 * (remediation, then details, then long text, then the lists of accepted and pre-existing
 * findings, then the findings themselves, lowest severity first) and a note near the top says
 * what was left out, how many findings, and where the full report is. Nothing is cut silently.
 *
 * Trust (safety promise 6). The report goes where people click and get notified: a PR comment,
 * an issue, a check run, the job summary. Text an outsider can shape is rendered inert: no links,
 * images, mentions, issue references, raw HTML, entities, headings, lists, emphasis, math or
 * autolinked URLs (`https://...`, `www....`); emoji shortcodes stay.
 *
 * | untrusted: inert text only                               | postgate's own: markdown as written |
 * |-----------------------------------------------------------|-------------------------------------|
 * | `result.error` (it quotes server and client messages)     | headings, status line, counts, notes |
 * | every finding's object (kind, schema, name), `message`,   | rule ids and titles (the rule catalog), |
 * |   `detail` and `remediation` (catalog text, comments,     |   the rules doc link                 |
 * |   server messages, SQL built from them)                   | links to a file at the commit (the  |
 * | file paths and their link labels (a PR names its files)   |   URL is built here, its path encoded) |
 * | allowlist `reason` and `expires` (the PR's repo config)   | `options.marker`, `preface`, `context`, |
 * | suppressed and pre-existing findings: the same fields     |   `limit` (the publisher: run links, |
 * | every `details` value: table cells, matrix row keys,      |   commit, target host, API failures) |
 * |   fields, list items, JSON                                | detail block titles and column labels |
 * |                                                           |   (gate keys; still escaped)        |
 *
 * How: `cell`/`inline` take untrusted text. Escape sequences go, line breaks become a space or
 * `<br>`, every character that starts markdown or HTML is escaped (`\[`, `&lt;`, `&amp;`...), a
 * value cannot start a block (`\#`, `\-`, `1\.`), code spans found as CommonMark finds them stay
 * (they are inert), and a word GitHub would still link or ping after rendering (`@user`, a URL,
 * `#12`) becomes a code span: backslashes do not stop mentions and autolinks. Object names and
 * paths are code spans (`code`), remediation SQL and JSON are fenced blocks whose fence is longer
 * than any backtick run inside, so they stay exact and copyable and cannot break out.
 */
import type { Rule } from '../findings/rules.ts';
import { countBySeverity, type Finding, type GateResult, objectLabel, type Severity, severityRank, type SourceLocation } from '../findings/types.ts';
import { redact, redactDeep } from '../secrets.ts';
import { blockSize, type DetailBlock, detailBlocks } from './details.ts';
import { clip, formatMeasure, humanize, columnLabel, nonZeroCounts, plural, repoPath } from './format.ts';
import { inertBlock } from './inert.ts';
import { gateTitle } from './text.ts';

/** Where docs/rules.md is published: each rule has an anchor named after its id. */
export const RULES_DOC_URL = 'https://github.com/postgate/postgate/blob/main/docs/rules.md';

const STATUS = {
  pass: { icon: '✅', word: 'passed' },
  fail: { icon: '❌', word: 'failed' },
  error: { icon: '⚠️', word: 'could not run' },
} as const;

export const SEVERITY_ICON: Record<Severity, string> = { error: '🔴', warning: '🟡', notice: '🔵' };

/** Links a finding's file and line to the repository at a commit. */
export interface SourceLinks {
  /** https://github.com (GITHUB_SERVER_URL). */
  serverUrl: string;
  /** owner/name. */
  repository: string;
  /** The commit the files are read at: the PR head SHA on pull requests. */
  sha: string;
  /** Absolute workspace path, to make absolute paths repository-relative. */
  workspace?: string;
}

export interface SizeLimit {
  max: number;
  unit: 'characters' | 'bytes';
  /** Named in the note, e.g. "GitHub's 65,536-character comment limit". */
  reason: string;
  /** Markdown naming where the full report is, e.g. "[the job summary](https://...)". */
  fullReport: string;
}

export interface MarkdownOptions {
  /** The rule catalog (RULE_CATALOG), for each rule's title, category and doc link; a rule it lacks is shown by its id alone. */
  rules: readonly Rule[];
  links?: SourceLinks;
  /** A hidden first line (sticky comment, issue); counted in the limit. */
  marker?: string;
  /** Short facts under the status line (commit, run, target), joined with " · ". */
  context?: string[];
  /** Text before the report, e.g. an issue's explanation; counted in the limit. */
  preface?: string;
  limit?: SizeLimit;
}

/** How much of the report one rendering shows. */
interface Plan {
  remediation: boolean;
  details: boolean;
  /** Clip long messages and details to a few hundred characters. */
  compact: boolean;
  /** Accepted and pre-existing findings listed (the rest are counted). */
  listed: number;
  /** New findings shown, most severe first. */
  findings: number;
}

export function measure(text: string, unit: SizeLimit['unit']): number {
  return unit === 'bytes' ? Buffer.byteLength(text, 'utf8') : text.length;
}

/** No finding row is shorter than this: more rows than limit / MIN_ROW cannot fit, so the full plans are skipped. */
const MIN_ROW = 24;

export function renderMarkdown(input: GateResult, options: MarkdownOptions): string {
  // Redacted before escaping, so a mask is escaped like the text around it; and again after.
  const result = redactDeep(input);
  const findings = sortFindings(result.findings);
  const byRule = new Map<string, Finding[]>();
  for (const item of findings) {
    const list = byRule.get(item.rule);
    if (list) list.push(item);
    else byRule.set(item.rule, [item]);
  }
  const listedTotal = (result.suppressed?.length ?? 0) + (result.preexisting?.length ?? 0);
  const full: Plan = { remediation: true, details: true, compact: false, listed: listedTotal, findings: findings.length };
  const limit = options.limit;
  const render = (plan: Plan) => redact(compose(result, findings, byRule, options, plan, full));
  const fits = (text: string) => !limit || measure(text, limit.unit) <= limit.max;

  const steps: Plan[] = [
    full,
    { ...full, remediation: false },
    { ...full, remediation: false, details: false },
    { ...full, remediation: false, details: false, compact: true },
    { ...full, remediation: false, details: false, compact: true, listed: 0 },
  ];
  const hopeless = limit !== undefined && findings.length * MIN_ROW > limit.max;
  for (const plan of hopeless ? [] : steps) {
    const text = render(plan);
    if (fits(text)) return text;
  }
  // Show as many findings as fit, most severe first: double until one does not fit, then bisect.
  const last = steps[steps.length - 1]!;
  const fitsWith = (count: number) => fits(render({ ...last, findings: count }));
  let low = 0;
  let high = 1;
  while (high < findings.length && fitsWith(high)) {
    low = high;
    high = Math.min(findings.length, high * 2);
  }
  if (high === findings.length && fitsWith(high)) low = high;
  while (low < high - 1) {
    const mid = Math.floor((low + high) / 2);
    if (fitsWith(mid)) low = mid;
    else high = mid;
  }
  const text = render({ ...last, findings: low });
  return fits(text) ? text : hardCut(text, limit!);
}

/** Last resort (a limit smaller than the header): cut at a line and say so. */
function hardCut(text: string, limit: SizeLimit): string {
  const note = `\n\n> **Cut off** at ${limit.reason}. The full report: ${limit.fullReport}.\n`;
  let cut = text;
  while (cut && measure(cut + note, limit.unit) > limit.max) cut = cut.slice(0, Math.max(0, Math.floor(cut.length * 0.9)));
  const atLine = cut.lastIndexOf('\n');
  return `${atLine > 0 ? cut.slice(0, atLine) : cut}${note}`;
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      a.rule.localeCompare(b.rule) ||
      (a.location?.file ?? '').localeCompare(b.location?.file ?? '') ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      a.key.localeCompare(b.key),
  );
}

function compose(result: GateResult, sorted: Finding[], byRule: Map<string, Finding[]>, options: MarkdownOptions, plan: Plan, full: Plan): string {
  const out: string[] = [];
  if (options.marker) out.push(options.marker);
  if (options.preface) out.push(options.preface, '');
  out.push(...header(result, options));

  const shown = sorted.slice(0, plan.findings);
  const note = shortenedNote(result, sorted, shown, plan, full, options.limit);
  if (note) out.push('', note);

  for (const group of groupByRule(shown)) {
    const rule = options.rules.find((candidate) => candidate.id === group.rule);
    out.push('', ...ruleGroup(group.rule, rule, group.findings, byRule.get(group.rule)!, options.links, plan));
  }
  out.push(...listedApart(result, plan.listed, options.links, plan.compact));
  const blocks = detailBlocks(result.details);
  if (blocks.length) {
    if (plan.details) for (const block of blocks) out.push('', ...detailMarkdown(block));
    else out.push('', `_Not shown here: ${blocks.map((block) => `${block.title.toLowerCase()} (${plural(blockSize(block), 'row')})`).join(', ')}._`);
  }
  out.push(...metrics(result.metrics));
  return `${out.join('\n')}\n`;
}

function header(result: GateResult, options: MarkdownOptions): string[] {
  const status = STATUS[result.status];
  const counts = countBySeverity(result.findings);
  const tally = (['error', 'warning', 'notice'] as const).map((severity) => {
    const text = plural(counts[severity], severity);
    return counts[severity] > 0 && severity !== 'notice' ? `**${text}**` : text;
  });
  if (result.suppressed?.length) tally.push(`${result.suppressed.length} allowlisted`);
  if (result.preexisting?.length) tally.push(`${result.preexisting.length} already on the base branch`);
  const lines = [`### ${status.icon} postgate ${gateTitle(result.gate)} ${status.word}`];
  if (result.status !== 'error' || result.findings.length) lines.push('', tally.join(' · '));
  const facts = [...(options.context ?? [])];
  if (result.metrics.duration_ms !== undefined) facts.push(`took ${formatMeasure('duration_ms', result.metrics.duration_ms)}`);
  if (facts.length) lines.push('', `<sub>${facts.join(' · ')}</sub>`);
  if (result.error) lines.push('', `> **Could not run:** ${inline(clip(result.error, 2000))}`);
  return lines;
}

function shortenedNote(result: GateResult, sorted: Finding[], shown: Finding[], plan: Plan, full: Plan, limit?: SizeLimit): string | undefined {
  const cut: string[] = [];
  if (!plan.remediation) {
    const withFix = shown.filter((item) => item.remediation).length;
    if (withFix) cut.push(`remediation for ${plural(withFix, 'finding')}`);
  }
  if (!plan.details && result.details && Object.keys(result.details).length) {
    cut.push(
      Object.keys(result.details)
        .map((key) => humanize(key).toLowerCase())
        .join(', '),
    );
  }
  if (plan.compact && shown.some((item) => item.detail || item.message.length > COMPACT_MESSAGE)) cut.push('details and the end of long messages');
  if (plan.listed < full.listed) cut.push(`the list of ${plural(full.listed - plan.listed, 'allowlisted or pre-existing finding')}`);
  const hidden = sorted.slice(shown.length);
  if (hidden.length) cut.push(`**${plural(hidden.length, 'finding')}** (${nonZeroCounts(hidden)})`);
  if (!cut.length || !limit) return undefined;
  return `> [!NOTE]\n> Shortened to fit ${limit.reason}. Not shown here: ${cut.join('; ')}. The full report: ${limit.fullReport}.`;
}

function groupByRule(findings: Finding[]): Array<{ rule: string; findings: Finding[] }> {
  const groups = new Map<string, Finding[]>();
  for (const item of findings) {
    const list = groups.get(item.rule) ?? [];
    list.push(item);
    groups.set(item.rule, list);
  }
  return [...groups].map(([rule, list]) => ({ rule, findings: list }));
}

function ruleGroup(ruleId: string, rule: Rule | undefined, findings: Finding[], all: Finding[], links: SourceLinks | undefined, plan: Plan): string[] {
  const total = all.length;
  const severities = new Set(all.map((item) => item.severity));
  const worst = all[0]!.severity;
  const title = rule ? ` ${inline(rule.title)}` : '';
  const lines = [
    `#### ${SEVERITY_ICON[worst]} ${code(ruleId)}${title}`,
    '',
    `<sub>${plural(total, severities.size === 1 ? worst : 'finding')}${rule ? ` · ${rule.category} · [how to fix and allowlist](${RULES_DOC_URL}#${ruleId.toLowerCase()})` : ''}</sub>`,
    '',
    '| object | where | finding |',
    '|---|---|---|',
  ];
  for (const item of findings) {
    const icon = severities.size > 1 ? `${SEVERITY_ICON[item.severity]} ` : '';
    lines.push(
      `| ${icon}${cell(item.object.kind)} ${code(objectLabel(item.object))} | ${where(item.location, links)}${alsoAt(item, links, plan.compact)} | ${findingCell(item, plan.compact)} |`,
    );
  }
  if (findings.length < total) lines.push('', `_${plural(total - findings.length, 'more finding')} of this rule not shown._`);
  const fixes = findings.filter((item) => item.remediation);
  if (plan.remediation && fixes.length) {
    lines.push('', `<details><summary>Remediation (${fixes.length})</summary>`, '');
    for (const item of fixes) lines.push(`**${code(objectLabel(item.object), false)}**`, '', ...remediation(item.remediation!), '');
    lines.push('</details>');
  }
  return lines;
}

/** Related locations shown in a finding's "where" cell; the rest are counted. */
const RELATED_SHOWN = 3;

/** `<br><sub>also: a.ts:3, b.ts:9, +2</sub>` under the location, for findings with related locations (not in compact mode). */
function alsoAt(item: Finding, links: SourceLinks | undefined, compact: boolean): string {
  const related = item.related ?? [];
  if (!related.length || compact) return '';
  const shown = related.slice(0, RELATED_SHOWN).map((place) => where(place, links));
  const more = related.length > RELATED_SHOWN ? `, +${related.length - RELATED_SHOWN}` : '';
  return `<br><sub>also: ${shown.join(', ')}${more}</sub>`;
}

/** Message length kept in compact mode. */
const COMPACT_MESSAGE = 300;

function findingCell(item: Finding, compact: boolean): string {
  const message = compact ? clip(item.message, COMPACT_MESSAGE) : item.message;
  if (!item.detail || compact) return cell(message);
  return `${cell(message)}<br><sub>${cell(item.detail)}</sub>`;
}

const SQL_START =
  /^\s*(?:--|(?:alter|create|drop|grant|revoke|comment|select|update|insert|delete|begin|set|reset|do|with|vacuum|analyze|reindex|truncate|notify)\s)/i;

/**
 * SQL (starts with a statement keyword or a comment, and has a `;`) in a code block, kept exactly
 * so that it can be copied (a fence longer than any backtick run inside: the SQL cannot close it);
 * steps as inert text, one line each.
 */
function remediation(text: string): string[] {
  const sql = SQL_START.test(text) && text.includes(';');
  if (!sql)
    return [
      text
        .split(/\r\n|\r|\n/)
        .map(inline)
        .join('<br>'),
    ];
  return fenced(text.replace(/\r\n?/g, '\n').trimEnd(), 'sql');
}

function where(location: SourceLocation | undefined, links: SourceLinks | undefined): string {
  if (!location) return '—';
  const file = repoPath(location.file, links?.workspace);
  const label = `${file.split('/').pop()}${location.line ? `:${location.line}` : ''}`;
  if (!links) return code(`${file}${location.line ? `:${location.line}` : ''}`);
  const url = `${links.serverUrl}/${links.repository}/blob/${links.sha}/${file.split('/').map(urlSegment).join('/')}${location.line ? `#L${location.line}` : ''}`;
  return `[${cell(label)}](${url})`;
}

/** A path segment in a link destination: also `(`, `)` and the other characters encodeURIComponent keeps that markdown reads. */
function urlSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function listedApart(result: GateResult, budget: number, links: SourceLinks | undefined, compact: boolean): string[] {
  const out: string[] = [];
  const suppressed = result.suppressed ?? [];
  const preexisting = sortFindings(result.preexisting ?? []);
  let left = budget;
  if (suppressed.length) {
    const shown = suppressed.slice(0, left);
    left -= shown.length;
    out.push('', `<details><summary>${plural(suppressed.length, 'finding')} accepted by the allowlist (not counted)</summary>`, '');
    if (shown.length) {
      out.push('| rule | object | reason | expires |', '|---|---|---|---|');
      for (const item of shown) {
        out.push(
          `| ${code(item.rule)} | ${cell(item.object.kind)} ${code(objectLabel(item.object))} | ${cell(compact ? clip(item.reason, 200) : item.reason)} | ${item.expires ? cell(item.expires) : '—'} |`,
        );
      }
    }
    if (shown.length < suppressed.length) out.push('', `_${plural(suppressed.length - shown.length, 'more')} not listed._`);
    out.push('', '</details>');
  }
  if (preexisting.length) {
    const shown = preexisting.slice(0, Math.max(0, left));
    out.push('', `<details><summary>${plural(preexisting.length, 'finding')} already on the base branch (not counted)</summary>`, '');
    if (shown.length) {
      out.push('| | rule | object | where | finding |', '|---|---|---|---|---|');
      for (const item of shown) {
        out.push(
          `| ${SEVERITY_ICON[item.severity]} | ${code(item.rule)} | ${cell(item.object.kind)} ${code(objectLabel(item.object))} | ${where(item.location, links)} | ${cell(compact ? clip(item.message, 200) : item.message)} |`,
        );
      }
    }
    if (shown.length < preexisting.length) out.push('', `_${plural(preexisting.length - shown.length, 'more')} not listed._`);
    out.push('', '</details>');
  }
  return out;
}

/** Tables of up to this many rows are shown open; longer ones are collapsed. */
const OPEN_ROWS = 12;

function detailMarkdown(block: DetailBlock): string[] {
  const body = detailBody(block);
  if (blockSize(block) <= OPEN_ROWS && block.kind !== 'json') return [`#### ${inline(block.title)}`, '', ...body];
  return [`<details><summary><b>${htmlText(block.title)}</b> (${plural(blockSize(block), 'row')})</summary>`, '', ...body, '', '</details>'];
}

function detailBody(block: DetailBlock): string[] {
  switch (block.kind) {
    case 'table': {
      const lines = [`| ${block.columns.map((column) => cell(column) || ' ').join(' | ')} |`, `|${block.columns.map(() => '---').join('|')}|`];
      for (const row of block.rows)
        lines.push(`| ${row.map((value, i) => (i === 0 && block.columns[0] === '' ? `**${cell(value)}**` : cell(value))).join(' | ')} |`);
      if (block.note) lines.push('', `_${inline(block.note)}_`);
      return lines;
    }
    case 'fields':
      return block.fields.map(([label, value]) => `- **${inline(label)}:** ${inline(value)}`);
    case 'list':
      return block.items.map((item) => `- ${inline(item)}`);
    case 'value':
      return [inline(block.value)];
    case 'json':
      return fenced(block.json, 'json');
  }
}

function metrics(values: Record<string, number>): string[] {
  const entries = Object.entries(values);
  // the duration alone is already in the header
  if (!entries.some(([key]) => key !== 'duration_ms')) return [];
  const lines = ['', '<details><summary>Metrics</summary>', '', '| metric | value |', '|---|---|'];
  for (const [key, value] of entries) lines.push(`| ${cell(columnLabel(key))} | ${formatMeasure(key, value)} |`);
  lines.push('', '</details>');
  return lines;
}

/**
 * Untrusted text in running markdown, before escaping: escape sequences removed, line breaks as
 * `\n` (the callers turn them into a space or `<br>`), other control characters shown as escapes.
 */
function plainInput(text: string): string {
  return inertBlock(text).replace(/\t/g, ' ');
}

/**
 * Words GitHub would turn into a link or a ping after the markdown is rendered, whatever the
 * backslash escapes: URLs (`https://`, any `scheme://`, `www.`, `mailto:`, `xmpp:`), addresses and
 * mentions (`@user`, `@org/team`, `a@b.c`), issue and pull request references (`#12`,
 * `owner/repo#12`, `GH-12`). Such a word is shown as a code span, which GitHub leaves alone.
 */
const LIVE_WORD = /:\/\/|www\.|@|mailto:|xmpp:|#\d|\bgh-\d/i;

type Piece = { code: boolean; text: string };

/**
 * Splits text into code spans and the rest exactly as CommonMark does: a backtick run opens a span
 * that the next run of the same length closes; a run without one is literal text.
 */
function splitCodeSpans(text: string): Piece[] {
  const pieces: Piece[] = [];
  let plainFrom = 0;
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      i += 1;
      continue;
    }
    let end = i;
    while (text[end] === '`') end += 1;
    const run = end - i;
    let close = -1;
    for (let k = end; k < text.length;) {
      if (text[k] !== '`') {
        k += 1;
        continue;
      }
      let m = k;
      while (text[m] === '`') m += 1;
      if (m - k === run) {
        close = k;
        break;
      }
      k = m;
    }
    if (close < 0) {
      i = end;
      continue;
    }
    if (i > plainFrom) pieces.push({ code: false, text: text.slice(plainFrom, i) });
    pieces.push({ code: true, text: text.slice(i, close + run) });
    i = close + run;
    plainFrom = i;
  }
  if (plainFrom < text.length) pieces.push({ code: false, text: text.slice(plainFrom) });
  return pieces;
}

/** Whitespace, or a word: the pieces (plain text and code spans) between two whitespace runs. */
type Unit = { space: string } | { word: Piece[] };

function units(text: string): Unit[] {
  const out: Unit[] = [];
  let word: Piece[] = [];
  const flush = () => {
    if (word.length) out.push({ word });
    word = [];
  };
  for (const piece of splitCodeSpans(text)) {
    if (piece.code) {
      word.push(piece);
      continue;
    }
    for (const part of piece.text.split(/(\s+)/)) {
      if (!part) continue;
      if (/^\s+$/.test(part)) {
        flush();
        out.push({ space: part });
      } else word.push({ code: false, text: part });
    }
  }
  flush();
  return out;
}

/**
 * Plain text (outside code spans): every character that can start markdown or HTML escaped, so
 * there are no links, images, raw HTML, entities, emphasis, strikethrough, math or table breaks.
 */
function escapePlain(text: string): string {
  return text.replace(/[\\`*_~[\]$|<>&]/g, (char) => {
    if (char === '<') return '&lt;';
    if (char === '>') return '&gt;';
    if (char === '&') return '&amp;';
    return `\\${char}`;
  });
}

/** A code span from the text: it is one span whatever the parser, and shown as it is. */
function codeSpanAsIs(span: string, inTable: boolean): string {
  const flat = span.replace(/\n/g, ' ');
  return inTable ? flat.replace(/\|/g, '\\|') : flat;
}

/**
 * What a value turns into at the start of a line (a list item, a paragraph): no heading, list,
 * setext underline or thematic break (`>` and `|` are already escaped).
 */
function guardLineStart(markdown: string): string {
  return markdown.replace(/^(\s*)([#+=-])/, '$1\\$2').replace(/^(\s*\d{1,9})([.)])(?=\s|$)/, '$1\\$2');
}

/**
 * Untrusted text as inert markdown: code spans kept (they are inert), a word that GitHub would
 * link or ping shown as a code span, everything else escaped; line breaks as a space, or `<br>`
 * in a table cell.
 */
function mdText(text: string, inTable: boolean): string {
  let out = '';
  for (const unit of units(plainInput(text))) {
    if ('space' in unit) {
      out += inTable ? unit.space.replace(/\n/g, '<br>') : unit.space.replace(/\n/g, ' ');
      continue;
    }
    const plain = unit.word
      .filter((piece) => !piece.code)
      .map((piece) => piece.text)
      .join(' ');
    if (LIVE_WORD.test(plain)) out += code(unit.word.map((piece) => piece.text).join(''), inTable);
    else out += unit.word.map((piece) => (piece.code ? codeSpanAsIs(piece.text, inTable) : escapePlain(piece.text))).join('');
  }
  return guardLineStart(out);
}

/** Text inside an HTML block (`<summary>`), where markdown escapes would show: HTML escapes only, links and mentions in `<code>`. */
function htmlText(text: string): string {
  return plainInput(text)
    .split(/(\s+)/)
    .map((part) => {
      const escaped = part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');
      return LIVE_WORD.test(part) ? `<code>${escaped}</code>` : escaped;
    })
    .join('');
}

/** Text in running markdown. */
function inline(text: string): string {
  return mdText(text, false);
}

/** Text in a table cell: also no column breaks; line breaks as <br>. */
function cell(text: string): string {
  return mdText(text, true);
}

/** The longest run of backticks in `text`. */
function longestBackticks(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
}

/**
 * A code span around any text (identifiers, paths, a word that would be a link), shown exactly:
 * a fence longer than any backtick run inside, padded when the text starts or ends with one.
 * In a table cell `|` is escaped (GitHub removes the backslash inside code spans there).
 */
function code(text: string, inTable = true): string {
  const flat = plainInput(text).replace(/\n/g, ' ');
  const fence = '`'.repeat(longestBackticks(flat) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${inTable ? flat.replace(/\|/g, '\\|') : flat}${pad}${fence}`;
}

/** A fenced code block around any text: the fence is longer than any backtick run inside, so nothing closes it early. */
function fenced(text: string, info: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestBackticks(text) + 1));
  return [`${fence}${info}`, text, fence];
}
