/**
 * Generated secrets for the leak tests, and the search for them in what postgate wrote.
 *
 * Each secret is built around one or more random 12-character alphanumeric **cores** (its
 * fingerprints) with the characters that break quoting, escaping and URLs put around them:
 * quotes, backslashes, newlines, tabs, `%`-escapes (valid and not), `@ : / ? # &`, unicode
 * (combining marks, NBSP, right-to-left override, the astral plane), SQL dollar quotes, JSON,
 * HTML, and prefixes that look like real tokens; every 25th is longer than 4,000 characters.
 * NUL never appears: neither PostgreSQL text nor an environment variable can hold it.
 *
 * A leak is any of a secret's forms (raw, trimmed, URL-encoded three ways, JSON-escaped, escaped
 * as in a workflow command, base64 padded and unpadded, base64url, hex in both cases) or any of
 * its cores, found in an output.
 * Cores catch a secret that was printed after an escaping nobody thought of (markdown, HTML,
 * a shell quote), as long as it was not masked as a whole.
 */

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PIECES = [
  "'",
  "''",
  '"',
  '`',
  '\\',
  '\\\\',
  '\\n',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '%',
  '%41',
  '%2F',
  '%%',
  '%0A',
  '%25',
  '%zz',
  '%E9',
  '+',
  '/',
  '//',
  '=',
  '&',
  '?',
  '#',
  '@',
  ':',
  ';',
  ':@/',
  '@host:5432/db',
  'é',
  'e\u0301',
  'ß',
  '漢字',
  '🔑',
  '𝔘𝔫𝔦',
  '\u202e',
  '\u00a0',
  '\u200d',
  '$$',
  '$fn$',
  ';--',
  '{"a":1}',
  '<b>',
  '&amp;',
  '|',
  '*',
  '***',
  'whsec_',
  'sha256=',
  'Bearer ',
  'ghs_',
  '${{ x }}',
  '::warning::',
  '\\u0041',
] as const;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface Secret {
  value: string;
  /** The random alphanumeric cores inside `value`: none of them may appear in any output. */
  cores: string[];
}

export interface SecretOptions {
  /** Longer than 4,000 characters. */
  long?: boolean;
  /** Only characters an HTTP header can carry (Latin-1, no CR/LF), e.g. a token that must be accepted. */
  headerSafe?: boolean;
  /** A piece that must be inside the secret (not at either end), e.g. a newline. */
  inside?: string;
}

const HEADER_UNSAFE = /[^\x20-\x7e\u00a0-\u00ff]/;

export function makeSecret(random: () => number, options: SecretOptions = {}): Secret {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cores: string[] = [];
  const core = () => {
    const text = Array.from({ length: 12 }, () => pick([...ALNUM])).join('');
    cores.push(text);
    return text;
  };
  const pieces = options.headerSafe ? PIECES.filter((piece) => !HEADER_UNSAFE.test(piece)) : PIECES;
  const parts = [core()];
  for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i += 1) parts.splice(Math.floor(random() * (parts.length + 1)), 0, pick(pieces));
  if (options.inside !== undefined) parts.splice(parts.indexOf(cores[0]!) + 1, 0, options.inside, core());
  let value = parts.join('');
  if (options.long) while (value.length < 4000) value += pick(pieces) + core();
  return { value, cores };
}

/** A generator of distinct secrets from one seed; every `longEvery`-th is long. */
export function secretSource(seed: number, longEvery = 25): { next(options?: SecretOptions): Secret; all: Secret[] } {
  const random = generator(seed);
  const all: Secret[] = [];
  return {
    all,
    next(options = {}) {
      const secret = makeSecret(random, { long: all.length % longEvery === longEvery - 1, ...options });
      all.push(secret);
      return secret;
    },
  };
}

export interface LeakForm {
  kind: string;
  text: string;
}

/** Every form in which a secret must not appear. */
export function leakForms(value: string): LeakForm[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  const forms: LeakForm[] = [
    { kind: 'raw', text: value },
    { kind: 'trimmed', text: value.trim() },
    { kind: 'url-encoded', text: encodeURIComponent(value) },
    { kind: 'uri-encoded', text: encodeURI(value) },
    { kind: 'form-encoded', text: new URLSearchParams({ x: value }).toString().slice(2) },
    { kind: 'json-escaped', text: JSON.stringify(value).slice(1, -1) },
    // how @actions/core escapes a workflow command's message (::error::, ::warning::)
    { kind: 'command-escaped', text: value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A') },
    { kind: 'base64', text: base64 },
    { kind: 'base64 unpadded', text: base64.replace(/=+$/, '') },
    { kind: 'base64url', text: bytes.toString('base64url') },
    { kind: 'hex', text: bytes.toString('hex') },
    { kind: 'HEX', text: bytes.toString('hex').toUpperCase() },
  ];
  const seen = new Set<string>();
  return forms.filter((form) => form.text.length >= 8 && !seen.has(form.text) && (seen.add(form.text), true));
}

/** The runner's masking commands carry secrets by design (the runner consumes them): everything else counts. */
export function withoutMaskCommands(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

export interface Leak {
  secret: string;
  kind: string;
  channel: string;
  /** Up to 60 characters around the hit, with the hit replaced by <HIT>, for the failure message. */
  around: string;
}

/**
 * Looks for every form and every core of each secret in each channel (name -> text). Masking
 * commands must already be removed from the channels that can carry them.
 */
export function findLeaks(channels: Record<string, string>, secrets: readonly Secret[]): Leak[] {
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    const needles = [...leakForms(secret.value), ...secret.cores.map((text) => ({ kind: 'core', text }))];
    for (const [channel, text] of Object.entries(channels)) {
      for (const needle of needles) {
        const at = text.indexOf(needle.text);
        if (at < 0) continue;
        const around = `${text.slice(Math.max(0, at - 30), at)}<HIT>${text.slice(at + needle.text.length, at + needle.text.length + 30)}`;
        leaks.push({ secret: JSON.stringify(secret.value.slice(0, 40)), kind: needle.kind, channel, around: JSON.stringify(around) });
        break;
      }
    }
  }
  return leaks;
}
