/**
 * The CLI's command line: `--name value`, `--name=value` and switches (`--canary`), checked
 * against the flags a command has. A problem is one sentence that names the flag or value as
 * given and, for a typo, the flag or command meant (by edit distance).
 */
import { parseArgs } from 'node:util';

/** A flag takes a value (`string`) or is a switch (`boolean`). */
export type FlagKinds = Record<string, 'string' | 'boolean'>;

export type ParsedFlags = { kind: 'help' } | { kind: 'flags'; values: Record<string, string | boolean> } | { kind: 'problem'; message: string };

const HELP = new Set(['--help', '-h']);

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters (`drfit` is one edit from `drift`).
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate a mistyped word most likely meant: the nearest within a third of the word's
 * length (at least one edit), else the only candidate that starts with the word (`--database`;
 * three letters at least).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.max(1, Math.floor(word.length / 3));
  const ranked = candidates
    .map((candidate) => ({ candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= allowed)
    .sort((a, b) => a.distance - b.distance);
  if (ranked[0]) return ranked[0].candidate;
  const extended = candidates.filter((candidate) => word.replace(/^-+/, '').length >= 3 && candidate.startsWith(word));
  return extended.length === 1 ? extended[0] : undefined;
}

/**
 * A value the user typed, quoted when it is short and plainly not a secret (a word, a path
 * without digits, a small number); else described by its length, since it may be a token
 * given to the wrong flag.
 */
export function shownValue(value: string): string {
  const plain = /^[A-Za-z][A-Za-z._/-]{0,23}$/.test(value) || /^\d{1,6}$/.test(value);
  return plain ? `\`${value}\`` : `a value of ${value.length} characters (not shown: it may be a secret)`;
}

/** An argument that reads as a flag rather than a value (`--format`, `-h`; not `-` or `-5`). */
const FLAG_LIKE = /^--?[A-Za-z]/;

/** Parses `argv` for `postgate <command>`; `--help` or `-h` anywhere asks for help. */
export function parseFlags(command: string, kinds: FlagKinds, argv: readonly string[]): ParsedFlags {
  const end = argv.indexOf('--');
  if ((end === -1 ? argv : argv.slice(0, end)).some((arg) => HELP.has(arg))) return { kind: 'help' };
  const options = Object.fromEntries(Object.entries(kinds).map(([name, type]) => [name, { type }]));
  const tokens = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true }).tokens as Token[];
  const flags = Object.keys(kinds).map((name) => `--${name}`);
  const values: Record<string, string | boolean> = {};
  let previous: Token | undefined;
  for (const token of tokens) {
    const problem = tokenProblem(command, kinds, flags, token, previous);
    if (problem) return { kind: 'problem', message: problem };
    if (token.kind === 'option') values[token.name] = kinds[token.name] === 'boolean' ? true : token.value!;
    previous = token;
  }
  return { kind: 'flags', values };
}

/** parseArgs's tokens, as it gives them without `strict`. */
type Token =
  | { kind: 'option'; name: string; rawName: string; index: number; value?: string | undefined; inlineValue?: boolean | undefined }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

function tokenProblem(command: string, kinds: FlagKinds, flags: string[], token: Token, previous: Token | undefined): string | undefined {
  if (token.kind === 'positional') {
    const switchBefore =
      previous?.kind === 'option' && kinds[previous.name] === 'boolean' && previous.value === undefined && previous.index === token.index - 1;
    return switchBefore
      ? switchWithValue(previous.rawName, token.value)
      : `\`postgate ${command}\` takes no arguments besides flags, but got ${shownValue(token.value)}; flags take the form \`--name value\`.`;
  }
  if (token.kind !== 'option') return undefined;
  const kind = kinds[token.name];
  if (kind === undefined || !token.rawName.startsWith('--')) {
    const meant = didYouMean(token.rawName.replace(/^-+/, '--'), flags);
    return `\`${token.rawName}\` is not a flag of \`postgate ${command}\`${meant ? `; did you mean \`${meant}\`?` : '.'}`;
  }
  if (kind === 'boolean' && token.value !== undefined) return switchWithValue(token.rawName, token.value);
  if (kind === 'string' && token.value === undefined) return `Flag \`${token.rawName}\` needs a value (\`${token.rawName} <value>\`).`;
  if (kind === 'string' && !token.inlineValue && FLAG_LIKE.test(token.value!)) {
    return `Flag \`${token.rawName}\` needs a value (\`${token.rawName} <value>\`), but the next argument is the flag \`${token.value!.split('=')[0]}\`.`;
  }
  return undefined;
}

function switchWithValue(flag: string, value: string): string {
  return `Flag \`${flag}\` is a switch and takes no value, but got ${shownValue(value)}; write \`${flag}\` alone to turn it on, or leave it out.`;
}
