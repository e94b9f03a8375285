/**
 * Just enough lexing to read call chains from source text: comments and string literals are
 * blanked out (same length, newlines kept, so every offset still points at the same line and
 * column) and each string literal is remembered with its value, or as dynamic when it
 * interpolates (`${x}`, f"{x}", "$x", "\(x)"). Template interpolations are blanked with their
 * string: a call written inside `${...}` is not read.
 */
import type { ApiLanguage } from './types.ts';

export interface Literal {
  end: number;
  /** Undefined when the literal interpolates: its value is only known at run time. */
  value?: string;
}

export interface Lexed {
  /** The source as read. */
  source: string;
  /** The source with comments replaced by spaces and literals by LITERAL_FILL (neither space, word nor bracket). */
  code: string;
  /** String literals by start offset. */
  literals: Map<number, Literal>;
}

interface StringForm {
  /** Matches the prefix and the opening quote at the current position (sticky). */
  open: RegExp;
  close: string;
  /** A newline before the close means this was not a string (a quote in JSX text, a typo): the quote is read as code. */
  singleLine: boolean;
  /** Backslash escapes: 'none' in raw strings, where a backslash is kept as written. */
  escapes: 'decode' | 'none';
  /** Interpolation forms that make the literal dynamic. */
  interpolation: readonly Interpolation[];
}

type Interpolation = '${' | '$name' | '\\(' | '{';

interface Syntax {
  lineComment: RegExp;
  blockComment?: { nested: boolean };
  strings: readonly StringForm[];
  /** JavaScript's `/re/` literals, told from division by the code before them. */
  regexLiterals: boolean;
}

const form = (open: RegExp, close: string, rest: Partial<Omit<StringForm, 'open' | 'close'>> = {}): StringForm => ({
  open: new RegExp(open.source, 'y'),
  close,
  singleLine: rest.singleLine ?? false,
  escapes: rest.escapes ?? 'decode',
  interpolation: rest.interpolation ?? [],
});

const PYTHON_PREFIX = '(?:[rRbBuUfF]{1,2})?';
/** Python prefixes decide escapes (r) and interpolation (f); the form is picked per match in readString. */
const pythonForms = (quote: string, singleLine: boolean): StringForm => form(new RegExp(`${PYTHON_PREFIX}${quote}`), quote, { singleLine });

const SYNTAX: Record<ApiLanguage, Syntax> = {
  js: {
    lineComment: /\/\//y,
    blockComment: { nested: false },
    strings: [form(/'/, "'", { singleLine: true }), form(/"/, '"', { singleLine: true }), form(/`/, '`', { interpolation: ['${'] })],
    regexLiterals: true,
  },
  python: {
    lineComment: /#/y,
    strings: [pythonForms("'''", false), pythonForms('"""', false), pythonForms("'", true), pythonForms('"', true)],
    regexLiterals: false,
  },
  dart: {
    lineComment: /\/\//y,
    blockComment: { nested: true },
    strings: [
      form(/r'''/, "'''", { escapes: 'none' }),
      form(/r"""/, '"""', { escapes: 'none' }),
      form(/r'/, "'", { escapes: 'none', singleLine: true }),
      form(/r"/, '"', { escapes: 'none', singleLine: true }),
      form(/'''/, "'''", { interpolation: ['${', '$name'] }),
      form(/"""/, '"""', { interpolation: ['${', '$name'] }),
      form(/'/, "'", { singleLine: true, interpolation: ['${', '$name'] }),
      form(/"/, '"', { singleLine: true, interpolation: ['${', '$name'] }),
    ],
    regexLiterals: false,
  },
  swift: {
    lineComment: /\/\//y,
    blockComment: { nested: true },
    // raw strings (#"..."#) are read by readSwiftRaw; these are the plain ones
    strings: [form(/"""/, '"""', { interpolation: ['\\('] }), form(/"/, '"', { singleLine: true, interpolation: ['\\('] })],
    regexLiterals: false,
  },
  kotlin: {
    lineComment: /\/\//y,
    blockComment: { nested: true },
    strings: [
      form(/"""/, '"""', { escapes: 'none', interpolation: ['${', '$name'] }),
      form(/"/, '"', { singleLine: true, interpolation: ['${', '$name'] }),
      form(/'/, "'", { singleLine: true }),
    ],
    regexLiterals: false,
  },
};

export const LITERAL_FILL = '\u0001';

/**
 * The characters where something other than plain code can start: a comment, a quote, a regular
 * expression (and `#` for Swift raw strings); string prefixes (Python `rb'`, Dart `r'`) are found
 * by looking back from the quote. The lexer jumps from one to the next; with brackets when it
 * must find the end of an interpolation.
 */
const INTERESTING: Record<ApiLanguage, string> = {
  js: '/\'"`',
  python: '#\'"',
  dart: '/\'"',
  swift: '/"#',
  kotlin: '/"\'',
};
const PREFIX_LETTERS: Partial<Record<ApiLanguage, { letters: RegExp; max: number }>> = {
  python: { letters: /[rRbBuUfF]/, max: 2 },
  dart: { letters: /r/, max: 1 },
};
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };
const IDENTIFIER_CHAR = /[\p{L}\p{N}_$]/u;
/** After these, a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_CHAR = new Set([...'(,=:[!&|?{};~+-*%<>^']);
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

const escapeClass = (chars: string): string => chars.replace(/[\\\]^-]/g, '\\$&');
const NEXT_TOP = Object.fromEntries(Object.entries(INTERESTING).map(([language, chars]) => [language, new RegExp(`[${escapeClass(chars)}]`, 'g')])) as Record<
  ApiLanguage,
  RegExp
>;
const NEXT_NESTED = Object.fromEntries(
  Object.entries(INTERESTING).map(([language, chars]) => [language, new RegExp(`[${escapeClass(chars)}(){}\\[\\]]`, 'g')]),
) as Record<ApiLanguage, RegExp>;

export function lex(text: string, language: ApiLanguage): Lexed {
  const syntax = SYNTAX[language];
  const prefixes = PREFIX_LETTERS[language];
  const literals = new Map<number, Literal>();
  /** [from, to, fill]: comments become spaces, literals LITERAL_FILL (newlines kept). */
  const ranges: Array<[number, number, string]> = [];

  /** Reads code from `start` until `stop` (a closing `}` or `)` at depth 0 of an interpolation) or the end; returns the index after it. */
  const readCode = (start: number, stop?: '}' | ')'): number => {
    const next = stop ? new RegExp(NEXT_NESTED[language].source, 'g') : new RegExp(NEXT_TOP[language].source, 'g');
    let depth = 0;
    let i = start;
    while (i < text.length) {
      next.lastIndex = i;
      const found = next.exec(text);
      if (!found) return text.length;
      i = found.index;
      const char = found[0];
      if (stop && depth === 0 && char === stop) return i + 1;
      if (char === '{' || char === '(' || char === '[') {
        depth += 1;
        i += 1;
        continue;
      }
      if (char === '}' || char === ')' || char === ']') {
        depth = Math.max(0, depth - 1);
        i += 1;
        continue;
      }
      syntax.lineComment.lastIndex = i;
      if (syntax.lineComment.test(text)) {
        const end = text.indexOf('\n', i);
        const to = end < 0 ? text.length : end;
        ranges.push([i, to, ' ']);
        i = to;
        continue;
      }
      if (syntax.blockComment && char === '/' && text[i + 1] === '*') {
        const to = readBlockComment(text, i, syntax.blockComment.nested);
        ranges.push([i, to, ' ']);
        i = to;
        continue;
      }
      if (char === '#' && language === 'swift') {
        const end = readSwiftRaw(text, i, literals, readCode);
        if (end > i) {
          ranges.push([i, end, LITERAL_FILL]);
          i = end;
          continue;
        }
      }
      if (char === '/') {
        const end = syntax.regexLiterals && startsRegex(text, i) ? readRegex(text, i) : i;
        if (end > i) ranges.push([i, end, LITERAL_FILL]);
        i = Math.max(end, i + 1);
        continue;
      }
      if (char === '#') {
        i += 1;
        continue;
      }
      // a quote, maybe after a prefix (Python rb"", Dart r''); a quote right after a word is not a string (JSX text such as `Don't`)
      let from = i;
      while (prefixes && from > 0 && i - from < prefixes.max && prefixes.letters.test(text[from - 1]!)) from -= 1;
      while (from < i && IDENTIFIER_CHAR.test(text[from - 1] ?? ' ')) from += 1;
      const end = from === i && IDENTIFIER_CHAR.test(text[i - 1] ?? ' ') ? i : readString(text, from, syntax, literals, readCode);
      if (end > from) {
        ranges.push([from, end, LITERAL_FILL]);
        i = end;
        continue;
      }
      i += 1;
    }
    return i;
  };

  readCode(0);
  return { source: text, code: applyRanges(text, ranges), literals };
}

/** The text with each range filled; a range inside an earlier-starting one (a comment in an interpolation) is covered by it. */
function applyRanges(text: string, ranges: Array<[number, number, string]>): string {
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const parts: string[] = [];
  let at = 0;
  for (const [from, to, fill] of ranges) {
    if (from < at) continue;
    const covered = text.slice(from, to);
    parts.push(text.slice(at, from), covered.includes('\n') ? covered.replace(/[^\r\n]/g, fill) : fill.repeat(to - from));
    at = to;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

function readBlockComment(text: string, start: number, nested: boolean): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*' && (nested || depth === 0)) {
      depth += 1;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return text.length;
}

type ReadCode = (start: number, stop?: '}' | ')') => number;

/** Reads a string literal starting at `start` (with its prefix); returns its end, or `start` when none starts there. */
function readString(text: string, start: number, syntax: Syntax, literals: Map<number, Literal>, readCode: ReadCode): number {
  for (const candidate of syntax.strings) {
    candidate.open.lastIndex = start;
    const opened = candidate.open.exec(text);
    if (!opened) continue;
    const prefix = opened[0].slice(0, opened[0].length - candidate.close.length).toLowerCase();
    // Python: the prefix decides raw (r) and formatted (f; `{{` is a literal brace)
    const raw = candidate.escapes === 'none' || prefix.includes('r');
    const interpolation: readonly Interpolation[] = prefix.includes('f') ? ['{'] : candidate.interpolation;
    let value = '';
    let dynamic = false;
    let i = start + opened[0].length;
    while (i < text.length) {
      const char = text[i]!;
      if (text.startsWith(candidate.close, i)) {
        literals.set(start, { end: i + candidate.close.length, ...(dynamic ? {} : { value }) });
        return i + candidate.close.length;
      }
      if (char === '\n' && candidate.singleLine) return start;
      if (char === '\\' && !raw) {
        const next = text[i + 1] ?? '';
        if (interpolation.includes('\\(') && next === '(') {
          dynamic = true;
          i = readCode(i + 2, ')');
          continue;
        }
        value += ESCAPES[next] ?? next;
        i += 2;
        continue;
      }
      if (char === '\\' && raw) {
        // a raw string still cannot end at an escaped quote
        value += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (interpolation.includes('${') && char === '$' && text[i + 1] === '{') {
        dynamic = true;
        i = readCode(i + 2, '}');
        continue;
      }
      if (interpolation.includes('$name') && char === '$' && /[A-Za-z_]/.test(text[i + 1] ?? '')) {
        dynamic = true;
        i += 2;
        while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i += 1;
        continue;
      }
      if (interpolation.includes('{') && (char === '{' || char === '}')) {
        if (text[i + 1] === char) {
          value += char;
          i += 2;
          continue;
        }
        if (char === '}') {
          value += char;
          i += 1;
          continue;
        }
        dynamic = true;
        i = readCode(i + 1, '}');
        continue;
      }
      value += char;
      i += 1;
    }
    // unterminated: blank to the end only for multi-line forms; a single-line quote is code
    return candidate.singleLine ? start : text.length;
  }
  return start;
}

/** Swift raw strings: `#"..."#`, `##"..."##`, `#"""..."""#`; interpolation is `\#(...)`. */
function readSwiftRaw(text: string, start: number, literals: Map<number, Literal>, readCode: ReadCode): number {
  const opened = /(#+)("""|")/y;
  opened.lastIndex = start;
  const match = opened.exec(text);
  if (!match) return start;
  const hashes = match[1]!;
  const close = `${match[2]!}${hashes}`;
  const interpolation = `\\${hashes}(`;
  let value = '';
  let dynamic = false;
  let i = start + match[0].length;
  while (i < text.length) {
    if (text.startsWith(close, i)) {
      literals.set(start, { end: i + close.length, ...(dynamic ? {} : { value }) });
      return i + close.length;
    }
    if (text.startsWith(interpolation, i)) {
      dynamic = true;
      i = readCode(i + interpolation.length, ')');
      continue;
    }
    value += text[i];
    i += 1;
  }
  return text.length;
}

function startsRegex(text: string, slash: number): boolean {
  const next = text[slash + 1];
  if (next === '/' || next === '*') return false;
  let i = slash - 1;
  while (i >= 0 && /\s/.test(text[i]!)) i -= 1;
  if (i < 0) return true;
  const before = text[i]!;
  if (REGEX_AFTER_CHAR.has(before)) return true;
  if (!IDENTIFIER_CHAR.test(before)) return false;
  let wordStart = i;
  while (wordStart > 0 && IDENTIFIER_CHAR.test(text[wordStart - 1]!)) wordStart -= 1;
  return REGEX_AFTER_WORD.has(text.slice(wordStart, i + 1));
}

/** A regular expression literal from its opening `/`; returns `start` when the line ends first (it was a division after all). */
function readRegex(text: string, start: number): number {
  let inClass = false;
  for (let i = start + 1; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\n') return start;
    if (char === '\\') i += 1;
    else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (char === '/' && !inClass) {
      let end = i + 1;
      while (end < text.length && /[a-z]/.test(text[end]!)) end += 1;
      return end;
    }
  }
  return start;
}
