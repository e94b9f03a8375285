/**
 * The Data API calls in one source file, read from its text (no type information, no execution).
 *
 * Shapes, per client library:
 *   - supabase-js, supabase-dart/flutter, supabase-swift: `.from('t')` then `.select/.insert/.update/
 *     .upsert/.delete` on the same chain; `.rpc('fn', args)`; `.schema('s')` earlier on the chain;
 *     `.storage.from('bucket')`. supabase-dart's `.stream(...)` reads the table too (select).
 *   - supabase-py: `.table('t')` or `.from_('t')` (then the operation and `.execute()`), `.rpc('fn', ...)`,
 *     `.schema('s')`, `.storage.from_('bucket')`.
 *   - supabase-kt: `.from("t")`, `postgrest["t"]`, `.from("schema", "t")`, `.rpc("fn")`,
 *     `.storage.from("bucket")` / `storage["bucket"]`; operations may take a trailing lambda
 *     (`.delete { filter { ... } }`).
 *
 * Which calls count (the rule; text alone cannot know a variable's type, and a false call would
 * become a false error): a call counts when its receiver chain names a Supabase client (an
 * identifier containing "supabase" in any case, such as `supabase`, `supabaseAdmin`,
 * `getSupabase()`, `Supabase.instance.client`, `locals.supabase`; a variable the file assigns from
 * a Supabase client factory or declares as `SupabaseClient`; or `.schema(...)` / `.postgrest`
 * earlier on the chain), or when the file names Supabase at all (an import, a type, a client) and
 * the call has a Data API shape: `.rpc(...)`, `.storage.from(...)`, or `.from(...)` / `.table(...)`
 * followed on the chain by a PostgREST operation. So `Array.from('abc')`, `Buffer.from('x')`,
 * drizzle's `.from(users)` and knex's `.from('t').where(...)` are not calls; knex's
 * `knex.from('t').select()` in a file that also uses Supabase would be.
 *
 * A name that is not a plain string literal (a variable, a template literal with substitutions,
 * a concatenation) is an unresolved call: the expression as written, never a guess.
 */
import type { Lexed } from './lex.ts';
import type { ApiCall, ApiLanguage, ApiOperation, ApiTarget, UnresolvedCall } from './types.ts';

/** Maps, not object literals: a method such as `toString` must not find `Object.prototype`'s. */
const OPERATIONS = new Map<string, ApiOperation>([
  ['select', 'select'],
  ['insert', 'insert'],
  ['update', 'update'],
  ['upsert', 'upsert'],
  ['delete', 'delete'],
]);
/** Extra operation methods per language. */
const LANGUAGE_OPERATIONS: Partial<Record<ApiLanguage, Map<string, ApiOperation>>> = { dart: new Map([['stream', 'select']]) };

/** The method names that name a table, per language (`from` for storage too). */
const TABLE_METHODS: Record<ApiLanguage, string> = {
  js: 'from',
  dart: 'from',
  swift: 'from',
  kotlin: 'from',
  python: 'table|from_',
};

/** `.from(`, `.rpc(` (with an optional TypeScript type argument) and supabase-kt's `postgrest[` / `storage[`. */
export function callPattern(language: ApiLanguage): RegExp {
  const index = language === 'kotlin' ? '|(postgrest|storage)\\s*\\[' : '';
  return new RegExp(`\\.\\s*(?:(${TABLE_METHODS[language]}|rpc)\\s*(?:<[^()\\n]*>\\s*)?\\(${index})`, 'g');
}

/**
 * Variables holding a Supabase client: assigned from a client factory (`const db = createClient(...)`,
 * `client = create_client(...)`, `val db = createSupabaseClient(...)`, `let db = SupabaseClient(...)`)
 * or declared with the client's type (`db: SupabaseClient`, Python's `db: Client`, Dart's
 * `SupabaseClient db`). Each pattern finds the distinctive part; the name is read before it on the same line.
 */
const CLIENT_FACTORY =
  /(?:create(?:Browser|Server|RouteHandler|ServerComponent|Middleware)?Client|createSupabaseClient|create_client|acreate_client|SupabaseClient)\s*[<(]/g;
const ASSIGNED_NAME = /([A-Za-z_$][\w$]*)\s*(?::[^=\n]*)?=\s*(?:await\s+)?$/;
const CLIENT_TYPE = /:\s*(?:Supabase)?Client\b/g;
const TYPED_NAME = /([A-Za-z_$][\w$]*)\s*$/;
const DART_TYPED = /\bSupabaseClient(?:<[^>\n]*>)?\??\s+([A-Za-z_$][\w$]*)/g;

const MENTIONS_SUPABASE = /supabase/i;
const IDENTIFIER_CHAR = /[\p{L}\p{N}_$]/u;
const MAX_EXPRESSION = 80;

export interface FileCalls {
  calls: ApiCall[];
  unresolved: UnresolvedCall[];
}

interface Chain {
  /** Identifiers and member names on the receiver chain, root first. */
  names: string[];
  /** The offset of the first argument of `.schema(...)` on the receiver chain, if any. */
  schemaArgument?: number;
}

export function findCalls(file: string, language: ApiLanguage, lexed: Lexed, lineStarts: number[]): FileCalls {
  const { code, literals } = lexed;
  const result: FileCalls = { calls: [], unresolved: [] };
  let mentions: boolean | undefined;
  const mentionsSupabase = (): boolean =>
    (mentions ??= MENTIONS_SUPABASE.test(code) || [...literals.values()].some((l) => l.value !== undefined && MENTIONS_SUPABASE.test(l.value)));
  let clients: Set<string> | undefined;

  for (const match of code.matchAll(callPattern(language))) {
    const dot = match.index;
    const method = match[1] ?? match[2]!;
    const nameAt = dot + match[0].indexOf(method, 1);
    const open = dot + match[0].length - 1;
    const close = matching(code, open);
    if (close < 0) continue;
    const receiver = readReceiver(code, dot);
    const onStorage = receiver.names.at(-1) === 'storage' || method === 'storage';
    const target: ApiTarget = method === 'rpc' ? 'function' : onStorage ? 'bucket' : 'table';
    const following = readFollowing(code, close + 1, language);
    const operations = operationsOf(target, following, language);

    const supabaseChain =
      receiver.names.some((name) => MENTIONS_SUPABASE.test(name) || name === 'postgrest' || name === 'schema') ||
      method === 'postgrest' ||
      (mentionsSupabase() && (clients ??= clientVariables(code)).has(receiver.names[0] ?? ''));
    const dataApiShape = target !== 'table' || operations.length > 0;
    if (!supabaseChain && !(dataApiShape && mentionsSupabase())) continue;

    const args = splitArguments(code, open, close);
    // supabase-kt: from("schema", "table")
    const twoNames = language === 'kotlin' && target === 'table' && args.length === 2 && method === 'from';
    const nameArgument = twoNames ? args[1]! : args[0];
    if (nameArgument === undefined) continue;
    const name = literalAt(literals, nameArgument);
    let schema: string | undefined;
    let schemaUnresolved: [number, number] | undefined;
    const schemaArgument = twoNames ? args[0] : receiver.schemaArgument !== undefined ? argumentSpan(code, receiver.schemaArgument) : undefined;
    if (schemaArgument && target !== 'bucket') {
      schema = literalAt(literals, schemaArgument);
      if (schema === undefined) schemaUnresolved = schemaArgument;
    }
    const site = { file, ...position(lineStarts, nameAt) };
    const unresolvedSpan = name === undefined ? nameArgument : schemaUnresolved;
    if (unresolvedSpan) {
      result.unresolved.push({ target, expression: expression(lexed, unresolvedSpan), site, language });
      continue;
    }
    result.calls.push({ target, ...(schema !== undefined ? { schema } : {}), name: name!, operations, site, language });
  }
  return result;
}

function clientVariables(code: string): Set<string> {
  const names = new Set<string>();
  const nameBefore = (at: number, pattern: RegExp): void => {
    const lineStart = code.lastIndexOf('\n', at - 1) + 1;
    const name = pattern.exec(code.slice(Math.max(lineStart, at - 200), at))?.[1];
    if (name) names.add(name);
  };
  for (const match of code.matchAll(CLIENT_FACTORY)) nameBefore(match.index, ASSIGNED_NAME);
  for (const match of code.matchAll(CLIENT_TYPE)) nameBefore(match.index, TYPED_NAME);
  for (const match of code.matchAll(DART_TYPED)) names.add(match[1]!);
  return names;
}

function operationsOf(target: ApiTarget, following: string[], language: ApiLanguage): ApiOperation[] {
  if (target === 'function') return ['execute'];
  if (target === 'bucket') return ['storage'];
  const extra = LANGUAGE_OPERATIONS[language];
  const operations: ApiOperation[] = [];
  for (const method of following) {
    const operation = OPERATIONS.get(method) ?? extra?.get(method);
    if (operation && !operations.includes(operation)) operations.push(operation);
  }
  return operations;
}

/** The offset after the bracket that closes the one at `open`, minus one (the closing bracket's index); -1 when unclosed. */
function matching(code: string, open: number): number {
  const closer: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  for (let i = open; i < code.length; i += 1) {
    const char = code[i]!;
    if (closer[char]) stack.push(closer[char]);
    else if (char === ')' || char === ']' || char === '}') {
      if (stack.pop() !== char) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

function matchingBackward(code: string, close: number): number {
  const opener: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let depth = 0;
  for (let i = close; i >= 0; i -= 1) {
    const char = code[i]!;
    if (opener[char]) depth += 1;
    else if (char === '(' || char === '[' || char === '{') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function skipSpaceBackward(code: string, from: number): number {
  let i = from;
  // whitespace, and a Python line continuation's backslash
  while (i >= 0 && (/\s/.test(code[i]!) || (code[i] === '\\' && code[i + 1] === '\n'))) i -= 1;
  return i;
}

function skipSpace(code: string, from: number): number {
  let i = from;
  while (i < code.length && (/\s/.test(code[i]!) || (code[i] === '\\' && code[i + 1] === '\n'))) i += 1;
  return i;
}

/** The receiver chain before the `.` at `dot`: `supabase.schema('s')` → names [supabase, schema]. */
function readReceiver(code: string, dot: number): Chain {
  const names: string[] = [];
  let schemaArgument: number | undefined;
  let i = dot - 1;
  // `?.` and `!.` (optional chaining, non-null assertions)
  if (code[i] === '?' || code[i] === '!') i -= 1;
  for (;;) {
    i = skipSpaceBackward(code, i);
    let callOpen: number | undefined;
    while (code[i] === ')' || code[i] === ']' || code[i] === '!') {
      if (code[i] === '!') {
        i -= 1;
        continue;
      }
      const open = matchingBackward(code, i);
      if (open < 0) return { names, ...(schemaArgument !== undefined ? { schemaArgument } : {}) };
      if (code[i] === ')') callOpen = open;
      i = skipSpaceBackward(code, open - 1);
    }
    let start = i;
    while (start >= 0 && IDENTIFIER_CHAR.test(code[start]!)) start -= 1;
    if (start === i) break;
    const name = code.slice(start + 1, i + 1);
    names.unshift(name);
    if (name === 'schema' && callOpen !== undefined && schemaArgument === undefined) schemaArgument = callOpen + 1;
    i = skipSpaceBackward(code, start);
    if (code[i] !== '.') break;
    i -= 1;
    if (code[i] === '?' || code[i] === '!') i -= 1;
  }
  return { names, ...(schemaArgument !== undefined ? { schemaArgument } : {}) };
}

/** The method names called on the chain after `from` (their arguments and trailing lambdas skipped). */
function readFollowing(code: string, from: number, language: ApiLanguage): string[] {
  const methods: string[] = [];
  const trailingLambda = language === 'kotlin' || language === 'swift';
  let i = from;
  for (;;) {
    i = skipSpace(code, i);
    if (code[i] === '!' && code[i + 1] !== '=') i = skipSpace(code, i + 1);
    if (code[i] === '?' && code[i + 1] === '.') i += 1;
    if (code[i] !== '.') return methods;
    i = skipSpace(code, i + 1);
    let end = i;
    while (end < code.length && IDENTIFIER_CHAR.test(code[end]!)) end += 1;
    if (end === i) return methods;
    methods.push(code.slice(i, end));
    i = skipSpace(code, end);
    if (code[i] === '<') {
      // a TypeScript type argument: `.returns<Row[]>()`
      const close = code.indexOf('>', i);
      if (close > 0 && !code.slice(i, close).includes('\n')) i = skipSpace(code, close + 1);
    }
    if (code[i] === '(') {
      const close = matching(code, i);
      if (close < 0) return methods;
      i = close + 1;
    }
    if (trailingLambda && code[skipSpace(code, i)] === '{') {
      const close = matching(code, skipSpace(code, i));
      if (close < 0) return methods;
      i = close + 1;
    }
  }
}

/** The top-level arguments between `open` and `close` as [start, end) spans, trimmed. */
function splitArguments(code: string, open: number, close: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = open + 1;
  let i = open + 1;
  while (i < close) {
    const char = code[i]!;
    if (char === '(' || char === '[' || char === '{') {
      i = matching(code, i) + 1;
      if (i === 0) break;
      continue;
    }
    if (char === ',') {
      spans.push(trim(code, start, i));
      start = i + 1;
    }
    i += 1;
  }
  const last = trim(code, start, close);
  if (last[1] > last[0] || spans.length > 0) spans.push(last);
  return spans.filter(([from, to]) => to > from);
}

function argumentSpan(code: string, start: number): [number, number] | undefined {
  const close = matching(code, start - 1);
  if (close < 0) return undefined;
  return splitArguments(code, start - 1, close)[0];
}

function trim(code: string, from: number, to: number): [number, number] {
  let start = skipSpace(code, from);
  let end = to;
  while (end > start && /\s/.test(code[end - 1]!)) end -= 1;
  if (start > end) start = end;
  return [start, end];
}

/** The value of a string literal that is the whole argument; undefined for anything else. */
function literalAt(literals: Lexed['literals'], [start, end]: [number, number]): string | undefined {
  const literal = literals.get(start);
  return literal && literal.end === end ? literal.value : undefined;
}

function expression(lexed: Lexed, [start, end]: [number, number]): string {
  const source = lexed.source.slice(start, end).replace(/\s+/g, ' ');
  return source.length > MAX_EXPRESSION ? `${source.slice(0, MAX_EXPRESSION - 1)}…` : source;
}

export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(lineStarts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (lineStarts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - lineStarts[low]! + 1 };
}
