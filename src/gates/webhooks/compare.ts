/**
 * Comparing two secrets without revealing either. Equality is decided in constant time
 * on fixed-length HMAC digests under a key drawn fresh for each comparer, so neither the
 * lengths nor the contents influence the timing. When they differ, `explainDifference`
 * says *how*: lengths, whitespace and newlines at either end, surrounding quotes, a
 * `whsec_`/`sha256=`/`v1,` prefix, base64 or hex of the same bytes, letter case of hex
 * digits. It never quotes, truncates or hashes a value into its output.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SecretComparer {
  /** Constant-time equality of the UTF-8 bytes (or raw bytes) of two values. */
  equal(a: string | Buffer, b: string | Buffer): boolean;
  /** A keyed digest, for grouping equal values; meaningless outside this comparer. */
  digest(value: string | Buffer): Buffer;
}

export function createComparer(): SecretComparer {
  const key = randomBytes(32);
  const digest = (value: string | Buffer) => createHmac('sha256', key).update(value).digest();
  return {
    digest,
    equal: (a, b) => timingSafeEqual(digest(a), digest(b)),
  };
}

/** A value after zero or more normalising steps; `text` is undefined once decoded to bytes. */
interface Variant {
  text: string | undefined;
  bytes: Buffer;
}

/** What a step found: a formatting difference ("has a trailing newline") or an encoding. */
type Observation = { says: string } | { encoding: 'hex' | 'base64' };

interface Step {
  apply(variant: Variant): { variant: Variant; found: Observation } | undefined;
}

const PREFIXES = ['v1,whsec_', 'whsec_', 'sha256=', 'v1,'] as const;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function fromText(text: string): Variant {
  return { text, bytes: Buffer.from(text, 'utf8') };
}

function describeEnds(text: string): string {
  const run = (side: 'leading' | 'trailing', whitespace: string) => {
    const newlines = whitespace.replace(/\r\n/g, '\n').replace(/[^\r\n]/g, '').length;
    if (newlines === 0) return `${side} whitespace`;
    return newlines === 1 ? `a ${side} newline` : `${side} newlines`;
  };
  const parts = [];
  const leading = /^\s+/.exec(text)?.[0];
  const trailing = /\s+$/.exec(text)?.[0];
  if (leading) parts.push(run('leading', leading));
  if (trailing) parts.push(run('trailing', trailing));
  return `has ${parts.join(' and ')}`;
}

/** The normalising steps, in the order they are tried. Data, not branches: add one here. */
const STEPS: readonly Step[] = [
  {
    apply: (v) => {
      if (v.text === undefined || v.text.trim() === v.text) return undefined;
      return { variant: fromText(v.text.trim()), found: { says: describeEnds(v.text) } };
    },
  },
  {
    apply: (v) => {
      const match = v.text === undefined ? null : /^(["'`])([\s\S]*)\1$/.exec(v.text);
      if (!match || match[2] === undefined) return undefined;
      const quote = { '"': 'double quotes', "'": 'single quotes', '`': 'backticks' }[match[1] as '"' | "'" | '`'];
      return { variant: fromText(match[2].trim()), found: { says: `is wrapped in ${quote}` } };
    },
  },
  {
    apply: (v) => {
      const prefix = PREFIXES.find((p) => v.text?.startsWith(p) && v.text.length > p.length);
      if (!prefix || v.text === undefined) return undefined;
      return { variant: fromText(v.text.slice(prefix.length)), found: { says: `starts with "${prefix}"` } };
    },
  },
  {
    apply: (v) => {
      if (v.text === undefined || !HEX.test(v.text) || v.text.toLowerCase() === v.text) return undefined;
      const casing = v.text.toUpperCase() === v.text ? 'upper-case' : 'mixed-case';
      return { variant: fromText(v.text.toLowerCase()), found: { says: `is hex in ${casing} letters` } };
    },
  },
  {
    apply: (v) => {
      if (v.text === undefined || v.text.length % 2 !== 0 || !HEX.test(v.text)) return undefined;
      return { variant: { text: undefined, bytes: Buffer.from(v.text, 'hex') }, found: { encoding: 'hex' } };
    },
  },
  {
    apply: (v) => {
      if (v.text === undefined || v.text.length < 4) return undefined;
      const standard = BASE64.test(v.text);
      if (!standard && !BASE64URL.test(v.text)) return undefined;
      const bytes = Buffer.from(v.text, standard ? 'base64' : 'base64url');
      if (!bytes.length) return undefined;
      return { variant: { text: undefined, bytes }, found: { encoding: 'base64' } };
    },
  },
];

interface Explained {
  variant: Variant;
  found: Observation[];
}

/** Every variant reachable by applying each step at most once, in order. */
function variantsOf(value: string): Explained[] {
  let all: Explained[] = [{ variant: fromText(value), found: [] }];
  for (const step of STEPS) {
    const next: Explained[] = [];
    for (const item of all) {
      const applied = step.apply(item.variant);
      if (applied) next.push({ variant: applied.variant, found: [...item.found, applied.found] });
    }
    all = [...all, ...next];
  }
  return all;
}

export interface SideFacts {
  characters: number;
  /** Shape only: "lowercase hex", "base64", "text". */
  shape: string;
}

function shapeOf(value: string): string {
  const text = value.trim();
  if (text.length >= 8 && HEX.test(text))
    return text.toLowerCase() === text ? 'lowercase hex' : text.toUpperCase() === text ? 'uppercase hex' : 'mixed-case hex';
  const bare = PREFIXES.reduce((t, p) => (t.startsWith(p) ? t.slice(p.length) : t), text);
  if (bare.length >= 8 && BASE64.test(bare) && /[+/=]|[A-Z].*[a-z]|[a-z].*[A-Z]/.test(bare)) return bare === text ? 'base64' : 'prefixed base64';
  return 'text';
}

export function factsOf(value: string): SideFacts {
  return { characters: [...value].length, shape: shapeOf(value) };
}

export interface Difference {
  /** Sentences, each describing one side or the relation; never a value or part of one. */
  sentences: string[];
  /** True when a normalisation made the two equal (the difference is only formatting). */
  explained: boolean;
}

/**
 * How `a` (named `aName`) differs from `b` (named `bName`); call only after `equal` said
 * they differ. Uses the comparer's constant-time equality for every candidate pair.
 */
export function explainDifference(comparer: SecretComparer, a: { name: string; value: string }, b: { name: string; value: string }): Difference {
  const left = variantsOf(a.value);
  const right = variantsOf(b.value);
  let best: { l: Explained; r: Explained } | undefined;
  const cost = (pair: { l: Explained; r: Explained }) => pair.l.found.length + pair.r.found.length;
  for (const l of left) {
    for (const r of right) {
      const candidate = { l, r };
      if (cost(candidate) === 0 || (best && cost(candidate) >= cost(best))) continue;
      if (comparer.equal(l.variant.bytes, r.variant.bytes)) best = candidate;
    }
  }
  const fa = factsOf(a.value);
  const fb = factsOf(b.value);
  const sentences = [
    fa.characters === fb.characters
      ? `Both are ${fa.characters} characters long.`
      : `${capitalize(a.name)} is ${fa.characters} characters long, ${b.name} ${fb.characters}.`,
  ];
  if (!best) {
    if (fa.shape !== 'text' || fb.shape !== 'text') sentences.push(`${capitalize(a.name)} looks like ${fa.shape}, ${b.name} like ${fb.shape}.`);
    sentences.push('They differ in content, not just in whitespace, quotes, a prefix, encoding or letter case.');
    return { sentences, explained: false };
  }
  const formatting = (name: string, found: Observation[]) => found.flatMap((f) => ('says' in f ? [`${capitalize(name)} ${f.says}.`] : []));
  const encoding = (found: Observation[]) => found.flatMap((f) => ('encoding' in f ? [f.encoding] : []))[0];
  sentences.push(...formatting(a.name, best.l.found), ...formatting(b.name, best.r.found));
  const ea = encoding(best.l.found);
  const eb = encoding(best.r.found);
  if (ea && eb) sentences.push(`${capitalize(a.name)} is ${ea} and ${b.name} is ${eb} of the same bytes.`);
  else if (ea) sentences.push(`${capitalize(a.name)} is the ${ea} encoding of ${b.name}.`);
  else if (eb) sentences.push(`${capitalize(b.name)} is the ${eb} encoding of ${a.name}.`);
  sentences.push('Apart from that they are the same secret.');
  return { sentences, explained: true };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
