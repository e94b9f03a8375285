/**
 * The one place secrets are known. Every output channel (terminal, JSON, SARIF,
 * markdown, GitHub API bodies, error messages) passes text through `redact`.
 * Registering a secret also registers its encoded forms, so a password that
 * appears URL-encoded in a connection string or base64 in a header is hidden too.
 */

const MIN_LENGTH = 3;
const MASK = '***';

const forms = new Set<string>();
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

/** Remember a secret; from now on `redact` hides it and every listener hears of it. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  for (const form of encodedForms(value)) {
    if (forms.has(form)) continue;
    forms.add(form);
    for (const listener of listeners) listener(form);
  }
}

/** Called for each secret form already known and every one registered later (e.g. core.setSecret). */
export function onSecretRegistered(listener: (form: string) => void): void {
  listeners.push(listener);
  for (const form of forms) listener(form);
}

export function redact(text: string): string {
  if (forms.size === 0 || !text) return text;
  let out = text;
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  for (const form of ordered) {
    if (out.includes(form)) out = out.split(form).join(MASK);
  }
  return out;
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
}
