/**
 * Checks that text an outsider shaped stays inert where postgate prints it:
 *
 * - `commandLines`: lines of a step's output that the GitHub runner would act on: its
 *   ActionCommand parser trims leading whitespace (.NET's, a little wider than `\s`) and looks
 *   for `::`, and finds the legacy `##[command]` anywhere in a line. `\r` ends a line too.
 * - `liveMarkdown`: what GitHub would make live in a markdown body (comment, issue, check run
 *   summary, job summary): links and images other than the allowed ones, raw HTML other than
 *   the tags postgate writes, headings, setext underlines and nested block markers carrying a
 *   payload, math, and, in the text as rendered (backslash escapes and entities resolved, code
 *   removed; GitHub finds these after rendering), mentions, team mentions, e-mail addresses,
 *   issue references and autolinked URLs.
 *
 * Written independently of src/report, from CommonMark/GFM's rules, and conservative: a code
 * span is only recognised within one line.
 */

/** The characters .NET's String.TrimStart() skips (Char.IsWhiteSpace), plus U+180E and U+FEFF to be safe. */
const DOTNET_SPACE = /^[\s\u0085\u180e\ufeff]*/;

export function commandLines(output: string): string[] {
  return output.split(/\r\n|\r|\n/).filter((line) => line.replace(DOTNET_SPACE, '').startsWith('::') || line.includes('##['));
}

/** Tags postgate itself writes into markdown. */
const OWN_TAGS = /^<(?:\/?(?:details|summary|sub|b|code)|br)>|^<!-- postgate:(?:comment|issue) [^>]*-->|^<!-- m -->/;
/** GitHub's alert markers, which postgate writes in its notes. */
const ALERTS = /\[!(?:NOTE|WARNING)\]/g;

export interface LiveOptions {
  /** Link destinations postgate may write (the rules doc, files at the commit, the run). */
  linkPrefixes: string[];
  /** Strings only a payload contains: a heading or block marker carrying one is live. */
  markers: string[];
}

interface Views {
  /** Outside code; escaped characters and code spans as `·`. */
  structural: string;
  /** As GitHub's post-render filters see it: escapes and entities resolved, code spans and `<code>` removed. */
  rendered: string;
}

const PUNCT = /[!-/:-@[-`{-~]/;

function decodeEntities(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (_, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower]!;
  });
}

/** One line outside fenced blocks, read the way CommonMark reads escapes and code spans. */
function lineViews(line: string): Views {
  let structural = '';
  let rendered = '';
  let i = 0;
  while (i < line.length) {
    const char = line[i]!;
    if (char === '\\' && i + 1 < line.length && PUNCT.test(line[i + 1]!)) {
      structural += '·';
      rendered += line[i + 1];
      i += 2;
      continue;
    }
    if (char === '`') {
      let end = i;
      while (line[end] === '`') end += 1;
      const run = end - i;
      let close = -1;
      for (let k = end; k < line.length;) {
        if (line[k] !== '`') {
          k += 1;
          continue;
        }
        let m = k;
        while (line[m] === '`') m += 1;
        if (m - k === run) {
          close = k;
          break;
        }
        k = m;
      }
      if (close >= 0) {
        structural += '·';
        rendered += ' ';
        i = close + run;
      } else {
        structural += '`'.repeat(run);
        rendered += '`'.repeat(run);
        i = end;
      }
      continue;
    }
    structural += char;
    rendered += char;
    i += 1;
  }
  return { structural, rendered };
}

export function liveMarkdown(markdown: string, options: LiveOptions): string[] {
  const problems: string[] = [];
  const lines = markdown.split(/\r\n|\r|\n/);
  let fence: { char: string; length: number } | undefined;
  const outside: string[] = [];
  for (const line of lines) {
    const opener = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (opener && opener[1]![0] === fence.char && opener[1]!.length >= fence.length && !opener[2]!.trim()) fence = undefined;
      continue;
    }
    if (opener && !(opener[1]![0] === '`' && opener[2]!.includes('`'))) {
      fence = { char: opener[1]![0]!, length: opener[1]!.length };
      continue;
    }
    outside.push(line);
  }
  if (fence) problems.push('a fenced code block is never closed');

  for (const line of outside) {
    // the two views are index-aligned: an escape or a code span is one character in both
    let { structural, rendered } = lineViews(line);
    // postgate's own links: the destination goes, the label is checked like any text
    for (const match of [...structural.matchAll(/\]\(([^)\s]*)\)/g)]) {
      const url = match[1]!;
      if (!options.linkPrefixes.some((prefix) => url.startsWith(prefix))) {
        problems.push(`link to ${url}: ${line}`);
        continue;
      }
      const blank = (text: string, fill: string) =>
        text.slice(0, match.index + 1) + fill.repeat(match[0].length - 1) + text.slice(match.index + match[0].length);
      structural = blank(structural, '·');
      rendered = blank(rendered, ' ');
    }
    structural = structural.replace(ALERTS, '·');
    if (/!\[/.test(structural)) problems.push(`image: ${line}`);
    const bracket = structural.replace(/\[[^\][]*\]·+/g, '·');
    if (/[[\]]/.test(bracket)) problems.push(`raw bracket (link, reference or footnote): ${line}`);
    for (const match of structural.matchAll(/<[A-Za-z/!?]/g)) {
      if (!OWN_TAGS.test(structural.slice(match.index))) problems.push(`raw HTML: ${line}`);
    }
    if (/\$/.test(structural)) problems.push(`math delimiter: ${line}`);
    if (/^ {0,3}#{1,6}(\s|$)/.test(structural) && options.markers.some((marker) => line.includes(marker))) problems.push(`heading from a payload: ${line}`);
    if (/^ {0,3}(=+|-+)\s*$/.test(structural)) problems.push(`setext underline or thematic break: ${line}`);
    if (/^\s*(?:[-+*]|\d+[.)])\s+(?:[-+*#>=]|\d+[.)])(\s|$)/.test(structural)) problems.push(`nested block marker: ${line}`);

    // GitHub's filters run on the rendered text (outside code and links)
    const text = decodeEntities(rendered.replace(/<code>[\s\S]*?<\/code>/g, ' '));
    if (/(?:^|[^\w`])@[a-z0-9]/i.test(text)) problems.push(`mention: ${line}`);
    if (/[\w.+-]+@[\w-]+\.[\w.-]+/.test(text)) problems.push(`e-mail autolink: ${line}`);
    if (/\b(?:https?|ftp):\/\/|\bwww\./i.test(text)) problems.push(`URL autolink: ${line}`);
    if (/\b(?:mailto|xmpp):/i.test(text)) problems.push(`mailto/xmpp autolink: ${line}`);
    if (/#\d|\bGH-\d/i.test(text)) problems.push(`issue reference: ${line}`);
  }
  return problems;
}
