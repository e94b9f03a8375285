/**
 * Finding credentials written literally into trigger arguments and function bodies.
 * Every detector is a record (data over branches). What a detector returns is the
 * secret itself, so the caller can register it with the masker before it builds any
 * message; a message only ever says what *kind* of secret was found.
 */

export interface LiteralSecret {
  /** What was found, e.g. "the Authorization header", "an HMAC key". */
  kind: string;
  /** The secret itself, to mask it. */
  value: string;
  /** How it is written in SQL source when that differs (quotes doubled), to mask that too. */
  raw?: string;
}

interface TextDetector {
  kind: string;
  /** Group 1 is the secret. */
  pattern: RegExp;
}

/** Credential formats recognisable on their own, anywhere in a text. */
export const TEXT_DETECTORS: readonly TextDetector[] = [
  { kind: 'a bearer token', pattern: /\bbearer\s+([A-Za-z0-9._~+/=-]{16,})/gi },
  { kind: 'a basic-auth credential', pattern: /\bbasic\s+([A-Za-z0-9+/]{12,}={0,2})/g },
  { kind: 'a JSON Web Token', pattern: /\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g },
  { kind: 'a webhook signing secret', pattern: /\b(whsec_[A-Za-z0-9+/=]{16,})/g },
  { kind: 'a Stripe key', pattern: /\b([rs]k_(?:live|test)_[A-Za-z0-9]{16,})/g },
  { kind: 'a GitHub token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{30,})/g },
  { kind: 'a Slack token', pattern: /\b(xox[abposr]-[A-Za-z0-9-]{10,})/g },
  { kind: 'a Supabase secret key', pattern: /\b(sb_secret_[A-Za-z0-9_-]{16,})/g },
  { kind: 'a credential in a URL', pattern: /\bhttps?:\/\/[^\s/:@'"]+:([^\s/@'"]{4,})@/g },
  { kind: 'a credential in a URL query', pattern: /[?&](?:token|key|api_key|apikey|secret|signature|sig|access_token|password)=([^\s&#'"]{8,})/gi },
];

/** Header names whose values are credentials. */
const SENSITIVE_HEADER = /authorization|api[-_]?key|token|secret|password|signature|cookie|credential/i;

/** SQL function bodies: string literals and the key argument of hmac(). */
const HMAC_KEY_LITERAL = /\bhmac\s*\(\s*(?:[^,()]|\([^()]*\))+,\s*(?:E)?'((?:[^']|'')+)'/gi;
const STRING_LITERAL = /'((?:[^']|'')*)'/g;

function unescapeSql(text: string): string {
  return text.replace(/''/g, "'");
}

function textSecrets(text: string): LiteralSecret[] {
  const found: LiteralSecret[] = [];
  for (const detector of TEXT_DETECTORS) {
    for (const match of text.matchAll(detector.pattern)) {
      if (match[1]) found.push({ kind: detector.kind, value: match[1] });
    }
  }
  return found;
}

function headerSecrets(json: unknown): LiteralSecret[] {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return [];
  const found: LiteralSecret[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (typeof value === 'string' && SENSITIVE_HEADER.test(name) && value.trim().length >= 8) {
      found.push({ kind: `the ${name} header`, value });
    }
  }
  return found;
}

/** Secrets in one trigger argument (a JSON headers object, a URL, or any text). */
export function secretsInTriggerArgument(argument: string): LiteralSecret[] {
  let json: unknown;
  try {
    json = JSON.parse(argument);
  } catch {
    json = undefined;
  }
  const fromHeaders = headerSecrets(json);
  const fromText = textSecrets(argument).filter((item) => !fromHeaders.some((header) => header.value.includes(item.value)));
  return [...fromHeaders, ...fromText];
}

/**
 * Secrets in a function body: HMAC keys given as literals, known credential formats and
 * `known` values (the configured secrets) appearing in any string literal.
 */
export function secretsInFunctionBody(source: string, known: readonly string[]): LiteralSecret[] {
  const found: LiteralSecret[] = [];
  for (const match of source.matchAll(HMAC_KEY_LITERAL)) {
    if (match[1]) found.push({ kind: 'an HMAC key', value: unescapeSql(match[1]), raw: match[1] });
  }
  for (const match of source.matchAll(STRING_LITERAL)) {
    const raw = match[1] ?? '';
    const literal = unescapeSql(raw);
    if (!literal) continue;
    if (known.some((secret) => secret.length >= 8 && literal.includes(secret)) && !found.some((f) => f.value === literal)) {
      found.push({ kind: 'the configured webhook secret', value: literal, raw });
    }
    found.push(...textSecrets(literal).filter((item) => !found.some((f) => f.value.includes(item.value))));
    try {
      found.push(...headerSecrets(JSON.parse(literal)).filter((item) => !found.some((f) => f.value === item.value)));
    } catch {
      // not JSON
    }
  }
  return found;
}

/** The first line (1-based) of a file that contains the secret, for annotations. */
export function lineOf(text: string, secret: string): number | undefined {
  const probe = secret.split(/\r?\n/).find((line) => line.trim().length >= 6) ?? secret;
  const index = text.indexOf(probe);
  if (index < 0) return undefined;
  return text.slice(0, index).split('\n').length;
}
