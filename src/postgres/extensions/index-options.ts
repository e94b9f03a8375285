/**
 * Index options of stand-in access methods. pgvector's `create index ... using hnsw (...) with
 * (m = 16, ef_construction = 64)` cannot run on the stand-in method, which validates its options
 * as the builtin method underneath it does and knows no `m`. So before a migration runs, the
 * `with (...)` clause of every such statement is replaced by spaces (the text keeps its length
 * and its lines, so error positions and line numbers still point into the file), and the options
 * are queued; an event trigger owned by the superuser stores them in `pg_class.reloptions` of
 * the index the statement creates, as PostgreSQL stores real ones, so `pg_get_indexdef` prints
 * `WITH (m='16', ef_construction='64')` as on Supabase.
 *
 * The scanner skips comments, string literals, dollar-quoted bodies and quoted identifiers, like
 * the server's lexer; a `create index` inside a function body or DO block is left alone (its
 * options then fail as before).
 */

/** One `create index ... using <stand-in method>` statement, with or without options. */
export interface StandInIndex {
  /** The access method, lowercased. */
  method: string;
  /** The index name as PostgreSQL stores it (unquoted, folded to lower case unless quoted); null when unnamed. */
  name: string | null;
  /** The table name as PostgreSQL stores it, without its schema. */
  table: string;
  /** The table's schema when the statement qualifies it. */
  schema: string | null;
  /** The `with (...)` options as pg_class.reloptions stores them (`['m=16', 'ef_construction=64']`); empty without one. */
  options: string[];
  /** Offset of the statement's `create` in the text. */
  start: number;
}

export interface BlankedIndexOptions {
  /** The text with every such `with (...)` clause replaced by spaces (newlines kept). */
  sql: string;
  /** The options of every stand-in index statement, in statement order (`[]` for a statement without `with`). */
  options: string[][];
  /** The statements themselves, in the same order. */
  indexes: StandInIndex[];
}

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'op';

interface Token {
  kind: TokenKind;
  /** word: lowercased; quoted: unquoted; string: its value; number, op: as written. */
  value: string;
  start: number;
  end: number;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?|0[xXoObB][0-9A-Fa-f_]+/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const SPACE = /\s/;

/** ASCII-only case folding, as PostgreSQL folds unquoted identifiers. */
const fold = (word: string): string => word.replace(/[A-Z]+/g, (s) => s.toLowerCase());

/** Index just past a quoted token opened at `open` (`'...'` or `"..."`; a doubled quote stays inside). */
function closeQuote(sql: string, open: number, quote: string, backslashes = false): number {
  let i = open + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashes && ch === '\\') i += 2;
    else if (ch === quote && sql[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

function unescapeString(body: string, backslashes: boolean): string {
  const doubled = body.replaceAll("''", "'");
  if (!backslashes) return doubled;
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  return doubled.replace(/\\(.)/gs, (_, c: string) => simple[c] ?? c);
}

/** The tokens of `sql`, without white space and comments. */
function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number, end: number): void => {
    tokens.push({ kind, value, start, end });
    i = end;
  };
  while (i < n) {
    const ch = sql[i]!;
    if (SPACE.test(ch)) {
      i++;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? n : eol;
    } else if (ch === '/' && sql[i + 1] === '*') {
      let depth = 0;
      while (i < n) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
    } else if (ch === '"') {
      const end = closeQuote(sql, i, '"');
      push('quoted', sql.slice(i + 1, end - 1).replaceAll('""', '"'), i, end);
    } else if (ch === "'") {
      const end = closeQuote(sql, i, "'");
      push('string', unescapeString(sql.slice(i + 1, end - 1), false), i, end);
    } else if (ch === '$') {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql)?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        const end = close === -1 ? n : close + tag.length;
        push('string', sql.slice(i + tag.length, close === -1 ? n : close), i, end);
      } else {
        push('op', ch, i, i + 1);
      }
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const text = NUMBER.exec(sql)![0];
      push('number', text, i, i + text.length);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      WORD.lastIndex = i;
      const word = WORD.exec(sql)![0];
      const after = i + word.length;
      const prefix = word.toLowerCase();
      if (sql[after] === "'" && ['e', 'b', 'x', 'n'].includes(prefix)) {
        // E'...' (backslash escapes), B'...', X'...', N'...'
        const escapes = prefix === 'e';
        const end = closeQuote(sql, after, "'", escapes);
        push('string', unescapeString(sql.slice(after + 1, end - 1), escapes), i, end);
      } else if (prefix === 'u' && sql[after] === '&' && (sql[after + 1] === "'" || sql[after + 1] === '"')) {
        const quote = sql[after + 1]!;
        const end = closeQuote(sql, after + 1, quote);
        const body = sql.slice(after + 2, end - 1).replaceAll(quote + quote, quote);
        push(quote === '"' ? 'quoted' : 'string', body, i, end);
      } else {
        push('word', fold(word), i, after);
      }
    } else {
      push('op', ch, i, i + 1);
    }
  }
  return tokens;
}

/** The tokens of each statement (split at `;`). */
function statements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let current: Token[] = [];
  for (const token of tokens) {
    if (token.kind === 'op' && token.value === ';') {
      if (current.length) out.push(current);
      current = [];
    } else current.push(token);
  }
  if (current.length) out.push(current);
  return out;
}

const isWord = (token: Token | undefined, word: string): boolean => token?.kind === 'word' && token.value === word;
const isOp = (token: Token | undefined, op: string): boolean => token?.kind === 'op' && token.value === op;
const isName = (token: Token | undefined): token is Token => token?.kind === 'word' || token?.kind === 'quoted';

/** Index just past the `)` matching the `(` at `open`. */
function skipParens(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (isOp(tokens[k], '(')) depth++;
    else if (isOp(tokens[k], ')') && --depth === 0) return k + 1;
  }
  return tokens.length;
}

/** `16` -> '16', `016` -> '16', `0.50` -> '0.50', as PostgreSQL prints an integer or keeps a float literal. */
function numberText(text: string, negative: boolean): string {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text) * (negative ? -1 : 1);
    if (Number.isSafeInteger(value) && value >= -2147483648 && value <= 2147483647) return String(value === 0 ? 0 : value);
  }
  return negative ? `-${text}` : text;
}

/** `m = 16, ef_construction = '64'` -> ['m=16', 'ef_construction=64'] (pg_class.reloptions). */
function parseOptions(tokens: Token[]): string[] {
  const options: string[] = [];
  let k = 0;
  while (k < tokens.length) {
    const nameParts: string[] = [];
    while (isName(tokens[k])) {
      nameParts.push(tokens[k]!.value);
      k++;
      if (!isOp(tokens[k], '.')) break;
      k++;
    }
    let value = 'true';
    if (isOp(tokens[k], '=')) {
      k++;
      const sign = isOp(tokens[k], '-') || isOp(tokens[k], '+') ? tokens[k++]!.value : '';
      const token = tokens[k];
      if (token) {
        value = token.kind === 'number' ? numberText(token.value, sign === '-') : token.value;
        k++;
      }
    }
    if (nameParts.length) options.push(`${nameParts.join('.')}=${value}`);
    while (k < tokens.length && !isOp(tokens[k], ',')) k++;
    k++;
  }
  return options;
}

interface Match {
  index: StandInIndex;
  /** Offsets of `with` ... `)` to blank. */
  blank?: [number, number];
}

/** `CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table USING am (...) [INCLUDE (...)] [NULLS [NOT] DISTINCT] [WITH (...)]`. */
function matchCreateIndex(t: Token[], methods: ReadonlySet<string>): Match | undefined {
  if (!isWord(t[0], 'create')) return undefined;
  let k = 1;
  if (isWord(t[k], 'unique')) k++;
  if (!isWord(t[k], 'index')) return undefined;
  k++;
  if (isWord(t[k], 'concurrently')) k++;
  if (isWord(t[k], 'if') && isWord(t[k + 1], 'not') && isWord(t[k + 2], 'exists')) k += 3;
  let name: string | null = null;
  if (!isWord(t[k], 'on')) {
    if (!isName(t[k])) return undefined;
    name = t[k]!.value;
    k++;
  }
  if (!isWord(t[k], 'on')) return undefined;
  k++;
  if (isWord(t[k], 'only')) k++;
  const parts: string[] = [];
  while (isName(t[k])) {
    parts.push(t[k]!.value);
    k++;
    if (!isOp(t[k], '.')) break;
    k++;
  }
  if (parts.length === 0 || !isWord(t[k], 'using') || !isName(t[k + 1])) return undefined;
  const method = t[k + 1]!.value.toLowerCase();
  if (!methods.has(method)) return undefined;
  k += 2;
  if (!isOp(t[k], '(')) return undefined;
  k = skipParens(t, k);
  if (isWord(t[k], 'include') && isOp(t[k + 1], '(')) k = skipParens(t, k + 1);
  if (isWord(t[k], 'nulls')) {
    k++;
    if (isWord(t[k], 'not')) k++;
    if (isWord(t[k], 'distinct')) k++;
  }
  const index: StandInIndex = {
    method,
    name,
    table: parts[parts.length - 1]!,
    schema: parts.length > 1 ? parts[parts.length - 2]! : null,
    options: [],
    start: t[0]!.start,
  };
  if (!isWord(t[k], 'with') || !isOp(t[k + 1], '(')) return { index };
  const close = skipParens(t, k + 1);
  index.options = parseOptions(t.slice(k + 2, close - 1));
  return { index, blank: [t[k]!.start, t[close - 1]!.end] };
}

/**
 * Finds every `create index ... using <method>` of the given access methods (case-insensitive,
 * quoted or not), takes out its `with (...)` clause and returns the options in statement order.
 */
export function blankStandInIndexOptions(sql: string, accessMethods: readonly string[]): BlankedIndexOptions {
  const methods = new Set(accessMethods.map((m) => m.toLowerCase()));
  const indexes: StandInIndex[] = [];
  const blanks: [number, number][] = [];
  for (const statement of statements(lex(sql))) {
    const match = matchCreateIndex(statement, methods);
    if (!match) continue;
    indexes.push(match.index);
    if (match.blank) blanks.push(match.blank);
  }
  let out = sql;
  if (blanks.length) {
    const chars = sql.split('');
    for (const [from, to] of blanks) {
      for (let i = from; i < to; i++) if (chars[i] !== '\n' && chars[i] !== '\r') chars[i] = ' ';
    }
    out = chars.join('');
  }
  return { sql: out, options: indexes.map((i) => i.options), indexes };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * SQL (run by the superuser) creating, in `schema`, the queue `pending_index_options`
 * (ordinal, table_name, index_name, options) and a SECURITY DEFINER event trigger on
 * `ddl_command_end` for CREATE INDEX: for each new index whose access method is one of
 * `methods`, it takes the first queued row for its table (and its name, when the row has one:
 * a row whose `create index if not exists` was skipped stays behind), deletes it and, unless
 * its options are empty, stores them as the reloptions of the index and of its partitions.
 */
export function pendingIndexOptionsSql(schema: string, methods: readonly string[]): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`pendingIndexOptionsSql: ${JSON.stringify(schema)} is not a plain lower-case identifier`);
  for (const method of methods) {
    if (!IDENTIFIER.test(method)) throw new Error(`pendingIndexOptionsSql: ${JSON.stringify(method)} is not a plain lower-case identifier`);
  }
  const list = methods.map((m) => `'${m}'`).join(', ');
  return `
create schema if not exists ${schema};
create table ${schema}.pending_index_options (
  ordinal serial primary key,
  table_name text not null,
  index_name text,
  options text[] not null
);
create function ${schema}.apply_pending_index_options() returns event_trigger
language plpgsql security definer set search_path = pg_catalog as $postgate$
declare
  command record;
  created record;
  pending record;
begin
  for command in
    select c.objid from pg_catalog.pg_event_trigger_ddl_commands() c
     where c.command_tag = 'CREATE INDEX' and c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  loop
    select i.relname::text as index_name, t.relname::text as table_name into created
      from pg_catalog.pg_class i
      join pg_catalog.pg_index x on x.indexrelid = i.oid
      join pg_catalog.pg_class t on t.oid = x.indrelid
      join pg_catalog.pg_am a on a.oid = i.relam
     where i.oid = command.objid and a.amname in (${list});
    continue when not found;
    select p.ordinal, p.options into pending
      from ${schema}.pending_index_options p
     where p.table_name = created.table_name and (p.index_name is null or p.index_name = created.index_name)
     order by p.ordinal limit 1;
    continue when not found;
    delete from ${schema}.pending_index_options where ordinal = pending.ordinal;
    if pending.options <> '{}' then
      update pg_catalog.pg_class set reloptions = pending.options
       where oid = command.objid
          or oid in (select relid from pg_catalog.pg_partition_tree(command.objid::pg_catalog.regclass));
    end if;
  end loop;
end
$postgate$;
create event trigger ${schema}_index_options on ddl_command_end when tag in ('CREATE INDEX')
  execute function ${schema}.apply_pending_index_options();
`;
}

/** Queues the `indexes` of a blankStandInIndexOptions result; $1 is `JSON.stringify(result.indexes)`. */
export function queueIndexOptionsSql(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`queueIndexOptionsSql: ${JSON.stringify(schema)} is not a plain lower-case identifier`);
  return `insert into ${schema}.pending_index_options (table_name, index_name, options)
select e.value->>'table', e.value->>'name', array(select pg_catalog.jsonb_array_elements_text(e.value->'options'))
  from pg_catalog.jsonb_array_elements($1::jsonb) with ordinality as e(value, n) order by e.n`;
}

/** Removes the event trigger and its schema. */
export function removePendingIndexOptionsSql(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`removePendingIndexOptionsSql: ${JSON.stringify(schema)} is not a plain lower-case identifier`);
  return `drop event trigger if exists ${schema}_index_options;\ndrop schema if exists ${schema} cascade;`;
}
