/**
 * Reading a plain-SQL backup (`.sql`, `.sql.gz`, the `supabase db dump` files) as psql would,
 * without psql: a streaming lexer that splits the script into statements, COPY ... FROM stdin
 * data and psql meta-commands, with psql's own lexing rules (psqlscan.l), so that it finds every
 * backslash psql would act on.
 *
 * Why not psql: a backup is input an outsider can shape, and psql runs meta-commands wherever its
 * lexer meets a backslash outside quotes and comments, with effects on the runner (`\!`, `\o |cmd`,
 * `\copy ... program`, `\i`, backquotes in arguments, `\setenv`, ...). Scanning the script first
 * and then handing it to psql would bet the runner on the scanner agreeing with psql on every
 * byte, and psql's view depends on things a script can change under it: the client encoding (in
 * SJIS, BIG5, GBK, UHC or JOHAB a backslash byte can be the second half of a character), the
 * server-reported `standard_conforming_strings`, whether a COPY was accepted (older psql lexes a
 * refused COPY's data as SQL), and text from the server that psql lexes again (`:LAST_ERROR_MESSAGE`
 * expands to the last error's text, and a `\!` in it runs). So the drill does not run psql on a
 * backup at all: the statements this lexer finds go to the server over the protocol
 * (sql-runner.ts), where a backslash is just a syntax error. The lexer's findings are the
 * report: any meta-command other than the ones pg_dump itself writes fails the drill before
 * anything is restored (`drill_backup_untrusted_command`).
 *
 * What pg_dump writes in plain format, and so what is allowed (each on a line of its own, between
 * statements, in exactly the form pg_dump writes it):
 * - `\restrict <key>` and `\unrestrict <key>` (pg_dump 13.22, 14.19, 15.14, 16.10, 17.6 and 18 and
 *   newer: psql refuses other meta-commands between them);
 * - `\connect <database>` (with `--create`), or for a name that is not plain ASCII
 *   `\encoding SQL_ASCII` followed by `\connect -reuse-previous=on "dbname='<name>'"`: a database
 *   name only, never a host, port, user or other connection parameter;
 * - `\.` ending the data of `COPY ... FROM stdin` (data, not a command).
 */

/** A psql meta-command pg_dump writes, as the runner acts on it. */
export type AllowedMeta =
  | { kind: 'restrict' | 'unrestrict' | 'encoding' }
  /** Switch to this database on the same server, as the same user. */
  | { kind: 'connect'; database: string };

export type ScriptUnit =
  /** One SQL statement (with its `;`), to send as it is. `line`: where its text starts. */
  | { kind: 'statement'; sql: Buffer; line: number; copyIn: boolean }
  /** Data of the COPY ... FROM stdin before it (whole lines, without the `\.` line). */
  | { kind: 'copy-data'; data: Buffer }
  /** End of that COPY's data (`\.` or the end of the script). */
  | { kind: 'copy-end' }
  /** A backslash psql would act on; `allowed` when it is one pg_dump writes, in pg_dump's form. */
  | { kind: 'meta'; line: number; text: string; allowed?: AllowedMeta }
  /** Text psql would read in a way pg_dump never produces (e.g. SQL after COPY ... FROM stdin; on its line). */
  | { kind: 'unsafe'; line: number; text: string; why: string }
  /** A NUL byte: never in pg_dump's output; psql would silently drop the rest of its line. */
  | { kind: 'nul'; line: number };

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const DOLLAR = 0x24;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const AMP = 0x26;
const DOT = 0x2e;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === NL || b === CR || b === 0x0b || b === 0x0c;
}

/** psql's ident_start: [A-Za-z\200-\377_]. */
function isIdentStart(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b >= 0x80;
}

/** psql's ident_cont: [A-Za-z\200-\377_0-9\$]. */
function isIdentCont(b: number): boolean {
  return isIdentStart(b) || (b >= 0x30 && b <= 0x39) || b === DOLLAR;
}

/** A dollar-quote tag character after the first: [A-Za-z\200-\377_0-9]. */
function isTagCont(b: number): boolean {
  return isIdentStart(b) || (b >= 0x30 && b <= 0x39);
}

/** The line's text for a report: printable ASCII only, at most `max` characters. */
export function printable(bytes: Buffer, max = 120): string {
  let text = '';
  for (const b of bytes) {
    if (b === NL || b === CR) break;
    text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?';
    if (text.length >= max) return `${text}…`;
  }
  return text.trimEnd();
}

const RESTRICT = /^\\(restrict|unrestrict) [A-Za-z0-9]+$/;
const CONNECT_PLAIN = /^\\connect (?:([A-Za-z0-9_.]+)|"([A-Za-z0-9_.]+)")$/;
const CONNECT_COMPLEX = /^\\connect -reuse-previous=on "((?:[^"]|"")*)"$/;
const CONNINFO_DBNAME = /^dbname=(?:([A-Za-z0-9_.]+)|'((?:[^'\\]|\\['\\])*)')$/;

/** The meta-command line (from its backslash, line end removed) when it is exactly one pg_dump writes. */
export function allowedMeta(text: string): AllowedMeta | undefined {
  const restrict = RESTRICT.exec(text);
  if (restrict) return { kind: restrict[1] as 'restrict' | 'unrestrict' };
  if (text === '\\encoding SQL_ASCII') return { kind: 'encoding' };
  const plain = CONNECT_PLAIN.exec(text);
  if (plain) return { kind: 'connect', database: plain[1] ?? plain[2]! };
  const complex = CONNECT_COMPLEX.exec(text);
  if (complex) {
    const conninfo = CONNINFO_DBNAME.exec(complex[1]!.replace(/""/g, '"'));
    if (conninfo) return { kind: 'connect', database: conninfo[1] ?? conninfo[2]!.replace(/\\(['\\])/g, '$1') };
  }
  return undefined;
}

type Mode = { kind: 'normal' } | { kind: 'block'; depth: number } | { kind: 'string'; escapes: boolean } | { kind: 'ident' } | { kind: 'dollar'; tag: Buffer };

const NORMAL: Mode = { kind: 'normal' };
/** First letters of the words the lexer looks at: copy, case, create, from, function, stdin, procedure, or, replace, begin, end. */
const KEYWORD_INITIALS = new Set([...'cfsporbe'].map((c) => c.charCodeAt(0)));
const SET_STD_STRINGS = /^\s*set\s+(?:session\s+|local\s+)?standard_conforming_strings\s*(?:=|to)\s*'?([a-z0-9]+)'?\s*;\s*$/i;
const RESET_STD_STRINGS = /^\s*reset\s+(?:standard_conforming_strings|all)\s*;\s*$/i;

/**
 * The lexer proper: fed one line at a time (with its newline), it returns the units the line
 * completes. COPY data is not fed here: after a `copyIn` statement the caller reads data lines
 * up to `\.` itself (see `scriptUnits`).
 */
export class SqlLexer {
  private mode: Mode = NORMAL;
  /** standard_conforming_strings as the script last set it (on by default since PostgreSQL 9.1). */
  private stdStrings = true;
  private parts: Buffer[] = [];
  private contentLine = 0;
  private hasContent = false;
  private parenDepth = 0;
  private beginDepth = 0;
  /** psql's CREATE [OR REPLACE] FUNCTION|PROCEDURE detection: first letters of the first four words that matter. */
  private identifiers: string[] = [];
  private identifierCount = 0;
  private prevWord: string | undefined;
  private firstWord: string | undefined;
  private fromStdin = false;
  /** A statement ended with COPY ... FROM stdin: its data starts on the next line. */
  copyPending = false;
  private lineNo = 0;

  /** The statement has text (not only white space and comments) from this line on. */
  private readonly content = (): void => {
    if (!this.hasContent) {
      this.hasContent = true;
      this.contentLine = this.lineNo;
    }
  };

  /** Lexes one line (its trailing newline included, except perhaps the script's last line). */
  line(line: Buffer, lineNo: number): ScriptUnit[] {
    const units: ScriptUnit[] = [];
    if (line.indexOf(0) >= 0) units.push({ kind: 'nul', line: lineNo });
    let segment = 0;
    let i = 0;
    const n = line.length;
    this.lineNo = lineNo;
    const content = this.content;
    while (i < n) {
      const mode = this.mode;
      if (mode.kind === 'block') {
        const b = line[i]!;
        if (b === STAR && line[i + 1] === SLASH) {
          i += 2;
          this.mode = mode.depth > 1 ? { kind: 'block', depth: mode.depth - 1 } : NORMAL;
        } else if (b === SLASH && line[i + 1] === STAR) {
          i += 2;
          this.mode = { kind: 'block', depth: mode.depth + 1 };
        } else i += 1;
        continue;
      }
      if (mode.kind === 'string') {
        // jump to the next quote (or backslash, where it escapes)
        const quote = line.indexOf(QUOTE, i);
        const slash = mode.escapes ? line.indexOf(BACKSLASH, i) : -1;
        const next = slash >= 0 && (quote < 0 || slash < quote) ? slash : quote;
        if (next < 0) {
          i = n;
          continue;
        }
        i = next;
        const b = line[i]!;
        if (mode.escapes && b === BACKSLASH) i += 2;
        else if (b === QUOTE) {
          if (line[i + 1] === QUOTE) i += 2;
          else {
            i += 1;
            this.mode = NORMAL;
          }
        } else i += 1;
        continue;
      }
      if (mode.kind === 'ident') {
        const next = line.indexOf(DQUOTE, i);
        if (next < 0) {
          i = n;
          continue;
        }
        i = next;
        const b = line[i]!;
        if (b === DQUOTE) {
          if (line[i + 1] === DQUOTE) i += 2;
          else {
            i += 1;
            this.mode = NORMAL;
          }
        } else i += 1;
        continue;
      }
      if (mode.kind === 'dollar') {
        const end = line.indexOf(mode.tag, i);
        if (end < 0) i = n;
        else {
          i = end + mode.tag.length;
          this.mode = NORMAL;
        }
        continue;
      }

      // normal
      const b = line[i]!;
      if (isSpace(b)) {
        i += 1;
        continue;
      }
      if (b === DASH && line[i + 1] === DASH) {
        i = n; // a line comment runs to the end of the line
        continue;
      }
      if (b === SLASH && line[i + 1] === STAR) {
        this.mode = { kind: 'block', depth: 1 };
        i += 2;
        continue;
      }
      if (b === BACKSLASH) {
        // psql: a backslash outside quotes and comments starts a meta-command ("\;" and "\:"
        // put a character into the query instead; pg_dump writes neither). Its arguments run
        // to the end of the line.
        const end = line.length && line[n - 1] === NL ? n - 1 : n;
        const raw = line.subarray(i, end);
        const text = raw.toString('latin1').replace(/[\r\t ]+$/, '');
        const atLineStart = i === 0 && !this.hasContent;
        const allowed = atLineStart ? allowedMeta(text) : undefined;
        units.push({ kind: 'meta', line: lineNo, text: printable(raw), ...(allowed ? { allowed } : {}) });
        if (allowed) {
          // the blank lines and comments before it are not a statement
          this.resetStatement();
          segment = n;
        }
        i = n;
        continue;
      }
      if (b === SEMI) {
        this.resetWordRun();
        if (this.parenDepth === 0 && this.beginDepth === 0) {
          const sql = this.take(line, segment, i + 1);
          segment = i + 1;
          i += 1;
          const copyIn = this.fromStdin && this.firstWord === 'copy';
          if (this.hasContent) units.push({ kind: 'statement', sql, line: this.contentLine, copyIn });
          this.noteSettings(sql);
          this.resetStatement();
          if (copyIn) {
            this.copyPending = true;
            // psql reads the data from the next line and lexes the rest of this one afterwards;
            // pg_dump puts nothing there, so anything but a comment is refused.
            const rest = line.subarray(i);
            const restText = rest.toString('latin1').trim();
            if (restText && !restText.startsWith('--'))
              units.push({ kind: 'unsafe', line: lineNo, text: printable(rest), why: 'SQL after a COPY FROM stdin statement on its line' });
            segment = n;
            i = n;
          }
          continue;
        }
        content();
        i += 1;
        continue;
      }
      content();
      if (b === QUOTE) {
        this.resetWordRun();
        this.mode = { kind: 'string', escapes: !this.stdStrings };
        i += 1;
        continue;
      }
      if (b === DQUOTE) {
        this.resetWordRun();
        this.mode = { kind: 'ident' };
        i += 1;
        continue;
      }
      if (b === DOLLAR) {
        this.resetWordRun();
        let j = i + 1;
        if (j < n && isIdentStart(line[j]!)) {
          j += 1;
          while (j < n && isTagCont(line[j]!)) j += 1;
        }
        if (j < n && line[j] === DOLLAR) {
          this.mode = { kind: 'dollar', tag: Buffer.from(line.subarray(i, j + 1)) };
          i = j + 1;
        } else i += 1; // a parameter ($1) or a stray dollar
        continue;
      }
      if (isIdentStart(b)) {
        let j = i + 1;
        while (j < n && isIdentCont(line[j]!)) j += 1;
        const next = line[j];
        const letter = j === i + 1 ? String.fromCharCode(b | 0x20) : '';
        // E'...', U&'...', U&"...", B'...', X'...', N'...': the letter is a prefix, not a word
        if (letter && next === QUOTE && 'ebxn'.includes(letter)) {
          this.resetWordRun();
          this.mode = { kind: 'string', escapes: letter === 'e' || (letter === 'n' && !this.stdStrings) };
          i = j + 1;
          continue;
        }
        if (letter === 'u' && next === AMP && (line[j + 1] === QUOTE || line[j + 1] === DQUOTE)) {
          this.resetWordRun();
          this.mode = line[j + 1] === QUOTE ? { kind: 'string', escapes: false } : { kind: 'ident' };
          i = j + 2;
          continue;
        }
        // only a few short words matter to the heuristics (copy, from, stdin, create, procedure, ...)
        const word = j - i >= 2 && j - i <= 9 && KEYWORD_INITIALS.has(b | 0x20) ? line.subarray(i, j).toString('latin1').toLowerCase() : '-';
        this.word(word);
        i = j;
        continue;
      }
      if (b >= 0x30 && b <= 0x39) {
        // a number (1.5e10, 0x1F, 1_000): letters in it are not words or string prefixes
        let j = i + 1;
        while (j < n && (isTagCont(line[j]!) || line[j] === DOT)) j += 1;
        this.resetWordRun();
        i = j;
        continue;
      }
      if (b === LPAREN) this.parenDepth += 1;
      else if (b === RPAREN && this.parenDepth > 0) this.parenDepth -= 1;
      // a dot between names keeps the word run (schema.table); other punctuation ends it
      if (b !== DOT) this.resetWordRun();
      i += 1;
    }
    if (segment < n) this.parts.push(line.subarray(segment, n));
    return units;
  }

  /** The end of the script: an unterminated last statement is sent as psql sends it. */
  finish(): ScriptUnit[] {
    const units: ScriptUnit[] = [];
    if (this.hasContent) {
      const sql = Buffer.concat(this.parts);
      units.push({ kind: 'statement', sql, line: this.contentLine, copyIn: this.fromStdin && this.firstWord === 'copy' });
    }
    this.resetStatement();
    return units;
  }

  private take(line: Buffer, from: number, to: number): Buffer {
    this.parts.push(line.subarray(from, to));
    const sql = this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts);
    this.parts = [];
    return sql;
  }

  private resetStatement(): void {
    this.parts = [];
    this.hasContent = false;
    this.parenDepth = 0;
    this.beginDepth = 0;
    this.identifiers = [];
    this.identifierCount = 0;
    this.prevWord = undefined;
    this.firstWord = undefined;
    this.fromStdin = false;
  }

  private resetWordRun(): void {
    this.prevWord = undefined;
  }

  private word(word: string): void {
    if (this.firstWord === undefined) this.firstWord = word;
    if (this.parenDepth === 0 && word === 'stdin' && this.prevWord === 'from') this.fromStdin = true;
    this.prevWord = word;
    // psql's heuristic for BEGIN ... END bodies of CREATE [OR REPLACE] FUNCTION|PROCEDURE
    if (this.identifierCount < 4 && ['create', 'function', 'procedure', 'or', 'replace'].includes(word)) this.identifiers[this.identifierCount] = word[0]!;
    this.identifierCount += 1;
    const [a, b, c, d] = this.identifiers;
    const routine = a === 'c' && (b === 'f' || b === 'p' || (b === 'o' && c === 'r' && (d === 'f' || d === 'p')));
    if (routine && this.parenDepth === 0) {
      if (word === 'begin') this.beginDepth += 1;
      else if (word === 'case' && this.beginDepth >= 1) this.beginDepth += 1;
      else if (word === 'end' && this.beginDepth > 0) this.beginDepth -= 1;
    }
  }

  /** Follows `SET standard_conforming_strings`, which changes how quotes are read after it. */
  private noteSettings(sql: Buffer): void {
    if (sql.length > 300) return;
    if (sql.indexOf('onforming') < 0 && sql.indexOf('ONFORMING') < 0 && sql.indexOf('eset') < 0 && sql.indexOf('ESET') < 0) return;
    const text = sql
      .toString('latin1')
      .replace(/--[^\n]*/g, ' ')
      .replace(/\/\*[\s\S]*?\*\//g, ' ');
    const set = SET_STD_STRINGS.exec(text);
    if (set) this.stdStrings = !/^(off|false|no|0)$/i.test(set[1]!);
    else if (RESET_STD_STRINGS.test(text)) this.stdStrings = true;
  }
}

const MORE = Symbol('more');

/** Reads a byte stream as lines, and COPY data as large pieces up to its `\.` line. */
class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;
  private readonly source: AsyncIterator<Buffer>;
  /** In COPY data: is `pos` at the start of a line? */
  private lineStart = true;

  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const result = await this.source.next();
    if (result.done) {
      this.ended = true;
      return undefined;
    }
    return result.value;
  }

  /** Pieces of a line that runs over chunks. */
  private partial: Buffer[] = [];

  /**
   * The next line with its newline (the last one may lack it), undefined at the end, or MORE
   * when the next chunk must be read first (`more()`): lines already read are handed out
   * without a wait each.
   */
  lineNow(): Buffer | undefined | typeof MORE {
    if (this.pos < this.buf.length) {
      const nl = this.buf.indexOf(NL, this.pos);
      if (nl >= 0) {
        const piece = this.buf.subarray(this.pos, nl + 1);
        this.pos = nl + 1;
        if (!this.partial.length) return piece;
        this.partial.push(piece);
        const line = Buffer.concat(this.partial);
        this.partial = [];
        return line;
      }
      this.partial.push(this.buf.subarray(this.pos));
      this.pos = this.buf.length;
    }
    if (!this.ended) return MORE;
    if (!this.partial.length) return undefined;
    const line = Buffer.concat(this.partial);
    this.partial = [];
    return line;
  }

  /** Reads the next chunk (after MORE). */
  async more(): Promise<void> {
    const next = await this.next();
    if (next) {
      this.buf = next;
      this.pos = 0;
    }
  }

  /** Appends the next chunk to what is left of the current one; false at the end. */
  private async extend(): Promise<boolean> {
    const next = await this.next();
    if (!next) return false;
    this.buf = Buffer.concat([this.buf.subarray(this.pos), next]);
    this.pos = 0;
    return true;
  }

  /** Is the line at `p` psql's end-of-data line (`\.` alone, before \n, \r\n or the end)? */
  private marker(p: number): 'yes' | 'no' | 'more' {
    const buf = this.buf;
    const len = buf.length;
    if (p >= len) return 'more';
    if (buf[p] !== BACKSLASH) return 'no';
    if (p + 1 >= len) return 'more';
    if (buf[p + 1] !== DOT) return 'no';
    if (p + 2 >= len) return 'more';
    if (buf[p + 2] === NL) return 'yes';
    if (buf[p + 2] !== CR) return 'no';
    if (p + 3 >= len) return 'more';
    return buf[p + 3] === NL ? 'yes' : 'no';
  }

  /**
   * The next piece of COPY data: `data` (whole or partial lines, never the end line) or
   * `end` once the `\.` line (consumed) or the end of the script is reached. `lines` counts
   * the newlines consumed.
   */
  async copyData(): Promise<{ data?: Buffer; end: boolean; lines: number }> {
    for (;;) {
      if (this.pos >= this.buf.length) {
        const next = await this.next();
        if (!next) return { end: true, lines: 0 };
        this.buf = next;
        this.pos = 0;
      }
      const buf = this.buf;
      const start = this.pos;
      if (!this.lineStart) {
        const nl = buf.indexOf(NL, start);
        if (nl < 0) {
          this.pos = buf.length;
          return { data: buf.subarray(start), end: false, lines: 0 };
        }
        this.pos = nl + 1;
        this.lineStart = true;
        return { data: buf.subarray(start, nl + 1), end: false, lines: 1 };
      }
      const marker = this.marker(start);
      if (marker === 'more') {
        if (await this.extend()) continue;
        // the script ends inside what may be the end line: "\." or "\.\r" ends the data too
        const rest = this.buf.subarray(this.pos);
        this.pos = this.buf.length;
        const text = rest.toString('latin1');
        if (text === '\\.' || text === '\\.\r' || text === '') return { end: true, lines: 0 };
        return { data: rest, end: false, lines: 0 };
      }
      if (marker === 'yes') {
        this.pos = start + (buf[start + 2] === NL ? 3 : 4);
        return { end: true, lines: 1 };
      }
      const candidate = buf.indexOf('\n\\.', start, 'latin1');
      const until = candidate >= 0 ? candidate + 1 : buf.lastIndexOf(NL) + 1;
      if (until <= start) {
        // one long line: hand it over in parts
        const nl = buf.indexOf(NL, start);
        if (nl < 0) {
          this.pos = buf.length;
          this.lineStart = false;
          return { data: buf.subarray(start), end: false, lines: 0 };
        }
        this.pos = nl + 1;
        return { data: buf.subarray(start, nl + 1), end: false, lines: 1 };
      }
      this.pos = until;
      const data = buf.subarray(start, until);
      return { data, end: false, lines: countNewlines(data) };
    }
  }

  /** Leaves COPY data mode at a line start. */
  resetCopy(): void {
    this.lineStart = true;
  }

  /** Stops reading (closes the file). */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.source.return?.();
  }
}

function countNewlines(data: Buffer): number {
  let count = 0;
  for (let i = data.indexOf(NL); i >= 0; i = data.indexOf(NL, i + 1)) count += 1;
  return count;
}

/**
 * The units of a script, in order. COPY data arrives as `copy-data` pieces after its statement
 * and ends with `copy-end`; a consumer that stops early simply stops iterating.
 */
export async function* scriptUnits(source: AsyncIterable<Buffer>): AsyncGenerator<ScriptUnit> {
  const reader = new LineReader(source);
  const lexer = new SqlLexer();
  let lineNo = 0;
  try {
    for (;;) {
      if (lexer.copyPending) {
        lexer.copyPending = false;
        reader.resetCopy();
        const dataLine = lineNo + 1;
        for (;;) {
          const piece = await reader.copyData();
          if (piece.data?.length) {
            if (piece.data.indexOf(0) >= 0) yield { kind: 'nul', line: dataLine };
            yield { kind: 'copy-data', data: piece.data };
          }
          lineNo += piece.lines;
          if (piece.end) break;
        }
        yield { kind: 'copy-end' };
        continue;
      }
      const line = reader.lineNow();
      if (line === MORE) {
        await reader.more();
        continue;
      }
      if (line === undefined) break;
      lineNo += 1;
      const found = lexer.line(line, lineNo);
      if (found.length) yield* found;
    }
    for (const unit of lexer.finish()) yield unit;
  } finally {
    await reader.close();
  }
}

export interface ScriptScan {
  /** Meta-commands pg_dump does not write, and layouts it never produces: line and text. */
  untrusted: Array<{ line: number; text: string; why?: string }>;
  /** Lines with a NUL byte. */
  nul: number[];
  /** Meta-commands of pg_dump's own (restrict, connect, ...). */
  allowed: number;
  statements: number;
}

/** Reads a whole script and lists what psql would act on that pg_dump does not write. */
export async function scanScript(source: AsyncIterable<Buffer>): Promise<ScriptScan> {
  const scan: ScriptScan = { untrusted: [], nul: [], allowed: 0, statements: 0 };
  for await (const unit of scriptUnits(source)) {
    if (unit.kind === 'meta') {
      if (unit.allowed) scan.allowed += 1;
      else scan.untrusted.push({ line: unit.line, text: unit.text });
    } else if (unit.kind === 'unsafe') scan.untrusted.push({ line: unit.line, text: unit.text, why: unit.why });
    else if (unit.kind === 'nul') scan.nul.push(unit.line);
    else if (unit.kind === 'statement') scan.statements += 1;
  }
  return scan;
}
