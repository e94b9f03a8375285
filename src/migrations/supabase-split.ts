/**
 * Splitting a migration file into statements the way the Supabase CLI does
 * (`parser.SplitAndTrim`, supabase/cli pkg/parser), because the CLI stores that list in
 * `supabase_migrations.schema_migrations.statements`: re-splitting a local file and
 * comparing the arrays is the only way to notice a Supabase migration edited after it
 * was applied (the CLI keeps no checksum).
 *
 * The rules (documented with examples in docs/supabase-splitting.md) are the CLI's,
 * quirks included, because a "better" splitter would report edits that did not happen:
 *
 * - A statement ends at `;` outside every quoted state. The `;` stays in the raw token;
 *   trimming then removes every trailing `;` and then surrounding white space
 *   (Go's `strings.TrimRight(s, ";")` followed by `strings.TrimSpace`), and empty
 *   statements are dropped. A trailing comment after the last `;` is a statement of
 *   its own.
 * - `'...'` and `"..."`: closed by the same quote; a doubled quote stays inside.
 *   Backslashes inside quotes escape nothing (so `E'it\'s'` confuses it, as it confuses
 *   the CLI).
 * - `$tag$...$tag$` (tag of letters, digits, `_`): nothing inside is special. The
 *   closing check looks at the last bytes only, so `$$$` closes an empty body.
 * - `-- ...` to the end of the line; `/* ... *\/` nested.
 * - A backslash outside quotes escapes the next character.
 * - `(`: until the matching `)`, `;` does not split. Parentheses nest, but a `)` that
 *   closes an inner pair also closes every enclosing one (the CLI's state machine
 *   checks the delimiter after the inner state returns to ready).
 * - `ATOMIC` preceded by white space (as in `BEGIN ATOMIC`): `;` does not split until
 *   the letters `END` appear outside quotes, case-insensitively, even inside a longer
 *   word (`calendar` ends the body early, as in the CLI).
 */

/** One statement: the trimmed text and where it starts in the file. */
export interface SplitStatement {
  text: string;
  /** Offset (UTF-16 index) of the first character of `text` in the input. */
  start: number;
}

type State =
  | { type: 'ready' }
  | { type: 'dash' }
  | { type: 'until'; delimiter: string }
  | { type: 'tag'; offset: number }
  | { type: 'quote'; delimiter: string; closing: boolean }
  | { type: 'block'; depth: number }
  | { type: 'escape' }
  | { type: 'nested'; inner: State; delimiter: string; caseInsensitive: boolean };

const READY: State = { type: 'ready' };
const GO_SPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{Nd}_]/u;

/**
 * The step function. `text` is the whole input, `tokenStart` where the current
 * statement began and `end` the index just after the current character `ch`.
 * Returns undefined when the statement ends here.
 */
function step(state: State, ch: string, text: string, tokenStart: number, end: number): State | undefined {
  const endsWith = (suffix: string, caseInsensitive = false): boolean => {
    const from = end - suffix.length;
    if (from < tokenStart) return false;
    const window = text.slice(from, end);
    return caseInsensitive ? window.toUpperCase() === suffix.toUpperCase() : window === suffix;
  };
  switch (state.type) {
    case 'ready':
      return fromReady(ch, text, tokenStart, end);
    case 'dash':
      // `--` opens a line comment, which behaves like a dollar quote closed by \n.
      return ch === '-' ? { type: 'until', delimiter: '\n' } : fromReady(ch, text, tokenStart, end);
    case 'until':
      return endsWith(state.delimiter) ? READY : state;
    case 'tag':
      if (ch === '$') return { type: 'until', delimiter: text.slice(state.offset, end) };
      return LETTER_OR_DIGIT.test(ch) ? state : fromReady(ch, text, tokenStart, end);
    case 'quote':
      if (state.closing) {
        if (ch === state.delimiter) return { ...state, closing: false };
        return fromReady(ch, text, tokenStart, end);
      }
      return ch === state.delimiter ? { ...state, closing: true } : state;
    case 'block': {
      if (endsWith('/*')) return { type: 'block', depth: state.depth + 1 };
      if (state.depth === 0) return fromReady(ch, text, tokenStart, end);
      if (endsWith('*/')) return state.depth === 1 ? READY : { type: 'block', depth: state.depth - 1 };
      return state;
    }
    case 'escape':
      return READY;
    case 'nested': {
      // Inside parentheses or an atomic body: `;` (an undefined step) never splits.
      const inner = step(state.inner, ch, text, tokenStart, end) ?? state.inner;
      if (inner.type === 'ready' && endsWith(state.delimiter, state.caseInsensitive)) return READY;
      return { ...state, inner };
    }
  }
}

function fromReady(ch: string, text: string, tokenStart: number, end: number): State | undefined {
  switch (ch) {
    case '$':
      return { type: 'tag', offset: end - 1 };
    case "'":
    case '"':
      return { type: 'quote', delimiter: ch, closing: false };
    case '-':
      return { type: 'dash' };
    case '/':
      return { type: 'block', depth: 0 };
    case '\\':
      return { type: 'escape' };
    case ';':
      return undefined;
    case '(':
      return { type: 'nested', inner: READY, delimiter: ')', caseInsensitive: false };
    case 'c':
    case 'C': {
      const offset = end - 'ATOMIC'.length;
      if (offset > tokenStart && text.slice(offset, end).toUpperCase() === 'ATOMIC' && GO_SPACE.test(text[offset - 1] ?? '')) {
        return { type: 'nested', inner: READY, delimiter: 'END', caseInsensitive: true };
      }
      return READY;
    }
    default:
      return READY;
  }
}

/** Go's strings.TrimRight(token, ";") then strings.TrimSpace, keeping track of the start. */
function trimToken(text: string, start: number, end: number): SplitStatement | undefined {
  let last = end;
  while (last > start && text[last - 1] === ';') last--;
  while (last > start && GO_SPACE.test(text[last - 1]!)) last--;
  let first = start;
  while (first < last && GO_SPACE.test(text[first]!)) first++;
  return first < last ? { text: text.slice(first, last), start: first } : undefined;
}

/** Splits SQL text into statements exactly as `supabase db push` stores them. */
export function splitSupabaseStatements(text: string): SplitStatement[] {
  const statements: SplitStatement[] = [];
  let state: State = READY;
  let tokenStart = 0;
  let index = 0;
  for (const ch of text) {
    const end = index + ch.length;
    const next = step(state, ch, text, tokenStart, end);
    if (next === undefined) {
      const statement = trimToken(text, tokenStart, end);
      if (statement) statements.push(statement);
      tokenStart = end;
      state = READY;
    } else {
      state = next;
    }
    index = end;
  }
  const last = trimToken(text, tokenStart, text.length);
  if (last) statements.push(last);
  return statements;
}
