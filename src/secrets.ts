/**
 * The one place secrets are known. Every output channel (terminal, JSON, SARIF,
 * markdown, GitHub API bodies, error messages) passes text through `redact`.
 * Registering a secret also registers its encoded forms, so a password that
 * appears URL-encoded in a connection string or base64 in a header is hidden too.
 *
 * Secrets shorter than MIN_LENGTH (a 1- or 2-character database password) are masked too, but
 * not everywhere: hiding every "a" or "id" in a report would garble it and, by the gaps it
 * leaves, tell the value anyway. A short secret is masked where it stands as a whole value:
 *
 * - as a URL's password: `postgresql://app:xy@db/...` (raw or percent-encoded) -> `app:***@`;
 * - after a password key in a connection string, environment or config line:
 *   `password=xy`, `PGPASSWORD=xy`, `pwd: xy` -> `password=***`;
 * - as a whole quoted string: `'xy'`, `"xy"` (a SQL literal in a function body, trigger
 *   argument or comment, or a JSON value) -> `'***'`;
 * - as a whole text (a JSON field, an output, a message that is just the value) -> `***`.
 *
 * The runner's masker (listeners, core.setSecret) masks plain substrings only, so it is told the
 * bounded forms of a short secret (`:xy@`, `'xy'`, `"xy"`), never the bare value.
 *
 * Messages clip long values, which can cut a secret in two: the start of a secret left before an
 * ellipsis (4+ characters) or at the very end of a text (6+) is masked too, and so is a URL's
 * password cut before its '@' (see redactCuts).
 */

const MIN_LENGTH = 3;
const MASK = '***';

const forms = new Set<string>();
/** Secrets shorter than MIN_LENGTH, masked in context only. */
const shortSecrets = new Set<string>();
let shortRules: Array<[RegExp, string]> | undefined;
const listeners: Array<(form: string) => void> = [];

export function encodedForms(value: string): string[] {
  if (value.length < MIN_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  const safely = (encode: (text: string) => string) => {
    try {
      return encode(value);
    } catch {
      return value; // a lone surrogate cannot be URI-encoded
    }
  };
  const candidates = [
    value,
    safely(encodeURIComponent),
    safely(encodeURI),
    escape(value),
    JSON.stringify(value).slice(1, -1),
    // inside a SQL string literal (a comment, a trigger argument, a policy as PostgreSQL prints them)
    value.replace(/'/g, "''"),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    ...value.split(/\r?\n/),
    value.trim(),
  ];
  return [...new Set(candidates)].filter((form) => form.length >= MIN_LENGTH);
}

function uriEncoded(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The bounded forms of a short secret, for maskers that only replace substrings. */
export function contextForms(value: string): string[] {
  if (!value.trim() || value.length >= MIN_LENGTH) return [];
  return [...new Set([`:${value}@`, `:${uriEncoded(value)}@`, `'${value}'`, `"${value}"`])];
}

/** Remember a secret; from now on `redact` hides it and every listener hears of it. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  for (const form of encodedForms(value)) {
    if (forms.has(form)) continue;
    forms.add(form);
    orderedForms = undefined;
    indexForCuts(form);
    for (const listener of listeners) listener(form);
  }
  for (const short of new Set([value, value.trim()])) {
    if (!short.trim() || short.length >= MIN_LENGTH || shortSecrets.has(short)) continue;
    shortSecrets.add(short);
    shortRules = undefined;
    for (const form of contextForms(short)) for (const listener of listeners) listener(form);
  }
}

/** Called for each secret form already known and every one registered later (e.g. core.setSecret). */
export function onSecretRegistered(listener: (form: string) => void): void {
  listeners.push(listener);
  for (const form of forms) listener(form);
  for (const short of shortSecrets) for (const form of contextForms(short)) listener(form);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A case-insensitive pattern for an ASCII word, without making the rest of the expression so. */
const anyCase = (word: string) => word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);

function rulesForShortSecrets(): Array<[RegExp, string]> {
  if (shortRules) return shortRules;
  const values = [...new Set([...shortSecrets].flatMap((secret) => [secret, uriEncoded(secret)]))].sort((a, b) => b.length - a.length);
  const any = values.map(escapeRegExp).join('|');
  const key = ['pgpassword', 'password', 'passwd', 'pass', 'pwd'].map(anyCase).join('|');
  shortRules = [
    // a URL's password: scheme://user:<secret>@host
    [new RegExp(`(:)(?:${any})(@)`, 'g'), `$1${MASK}$2`],
    // a password key's value: password=<secret>, PGPASSWORD=<secret>, pwd: '<secret>'
    [new RegExp(`((?<![A-Za-z0-9])(?:${key})\\s*[=:]\\s*)(['"]?)(?:${any})(?=$|[\\s&;,'")\\]}])`, 'g'), `$1$2${MASK}`],
    // a whole quoted string: '<secret>', "<secret>"
    [new RegExp(`(['"])(?:${any})\\1`, 'g'), `$1${MASK}$1`],
  ];
  return shortRules;
}

/** The shortest start of a secret masked before an ellipsis, and at the very end of a text (a weaker sign of clipping). */
const CUT_MIN = 4;
const CUT_MIN_AT_END = 6;
/** How far into a secret form a cut is looked for (messages clip at a few hundred characters). */
const CUT_SCAN = 1024;
const ELLIPSIS = /\.\.\.|…/g;
/** A URL's credentials cut short before the '@' (by an ellipsis or the end of the text): whatever password it was, it is hidden. */
const CUT_URL_PASSWORD = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@'"]+:)([^\s@/'"]+?)(\.\.\.|…)/g;
const CUT_URL_PASSWORD_AT_END = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@'"]+:)([^\s@/'"]*[^\s@/'"0-9][^\s@/'"]*)$/;

/** Every run of CUT_MIN characters in the first CUT_SCAN of each form: a cut right after it leaves form.slice(0, k). */
const cutIndex = new Map<string, Array<{ form: string; k: number }>>();
let orderedForms: string[] | undefined;

/**
 * A whole URL (a database URL input) is not indexed: its start ("postgresql://postgres") is no
 * secret, and its password is registered on its own; CUT_URL_PASSWORD covers a URL cut inside
 * its credentials.
 */
function indexForCuts(form: string): void {
  if (/^[A-Za-z][A-Za-z0-9+.-]*(?::|%3A)(?:\/\/|%2F%2F)/i.test(form)) return;
  for (let k = CUT_MIN; k < Math.min(form.length, CUT_SCAN + 1); k += 1) {
    const key = form.slice(k - CUT_MIN, k);
    const list = cutIndex.get(key);
    if (list) list.push({ form, k });
    else cutIndex.set(key, [{ form, k }]);
  }
}

/** How many characters before `end` are the start of a secret form (0: none, or fewer than CUT_MIN). */
function cutBefore(text: string, end: number, least: number): number {
  if (end < least) return 0;
  const candidates = cutIndex.get(text.slice(end - CUT_MIN, end));
  let best = 0;
  for (const { form, k } of candidates ?? []) {
    if (k > best && k >= least && k <= end && text.startsWith(form.slice(0, k), end - k)) best = k;
  }
  return best;
}

/**
 * Messages and details clip long values ("database: rotate whsec_Exp3r...", or at a fixed
 * length), which can cut a secret in two: the start left before an ellipsis (at least CUT_MIN
 * characters of a secret form's beginning) or at the very end of the text (CUT_MIN_AT_END) is
 * masked.
 */
function redactCuts(text: string): string {
  let out = text;
  const atEnd = cutBefore(out, out.length, CUT_MIN_AT_END);
  if (atEnd) out = `${out.slice(0, out.length - atEnd)}${MASK}`;
  for (const end of [...out.matchAll(ELLIPSIS)].map((match) => match.index).reverse()) {
    const cut = cutBefore(out, end, CUT_MIN);
    if (cut) out = `${out.slice(0, end - cut)}${MASK}${out.slice(end)}`;
  }
  if (out.includes('...') || out.includes('…'))
    out = out.replace(CUT_URL_PASSWORD, (_match, head: string, _password: string, ellipsis: string) => `${head}${MASK}${ellipsis}`);
  return out.replace(CUT_URL_PASSWORD_AT_END, (match, head: string, password: string) => (password.startsWith(MASK) ? match : `${head}${MASK}`));
}

export function redact(text: string): string {
  if ((forms.size === 0 && shortSecrets.size === 0) || !text) return text;
  let out = text;
  orderedForms ??= [...forms].sort((a, b) => b.length - a.length);
  for (const form of orderedForms) {
    if (out.includes(form)) out = out.split(form).join(MASK);
  }
  if (shortSecrets.size) {
    if (shortSecrets.has(out.trim())) return out.replace(out.trim(), MASK);
    for (const [pattern, replacement] of rulesForShortSecrets()) out = out.replace(pattern, replacement);
  }
  return redactCuts(out);
}

/** Deep-redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item);
    return out as T;
  }
  return value;
}

/** For tests only. */
export function forgetSecretsForTests(): void {
  forms.clear();
  orderedForms = undefined;
  cutIndex.clear();
  shortSecrets.clear();
  shortRules = undefined;
}
