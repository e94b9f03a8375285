/**
 * One definition per input, from which come the action.yml `inputs`, the CLI flags
 * (`--name value`, or the environment variable `POSTGATE_<NAME>`), and validation.
 */
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { parseDatabaseUrl } from '../postgres/url.ts';
import { registerSecret } from '../secrets.ts';
import { confinePath } from './paths.ts';

export type InputKind = 'string' | 'path' | 'url' | 'boolean' | 'integer' | 'list' | 'enum' | 'duration' | 'major';

export interface InputSpec {
  description: string;
  kind: InputKind;
  values?: readonly string[];
  /** The value used when the input is empty, written as in action.yml. */
  default?: string;
  required?: boolean;
  /** Registered with the masker as soon as it is read. */
  secret?: boolean;
  /** Where the input exists: both (default), only the action, or only the CLI. */
  surface?: 'action' | 'cli';
  /** Documented default shown instead of `default` (e.g. computed at run time). */
  defaultDescription?: string;
  /**
   * A path postgate writes to: it must resolve inside the workspace or a temporary directory
   * (src/config/paths.ts). With `when`, only if those inputs are given too (else nothing is written).
   */
  writes?: true | { when: readonly string[] };
}

export type InputDefs = Record<string, InputSpec>;

interface KindTypes {
  string: string;
  path: string;
  url: string;
  boolean: boolean;
  integer: number;
  list: string[];
  enum: string;
  duration: number;
  major: number;
}

type ValueOf<S> = S extends { kind: 'enum'; values: readonly (infer V)[] } ? V : S extends { kind: infer K extends keyof KindTypes } ? KindTypes[K] : never;

type AlwaysSet<S> = S extends { default: string } ? true : S extends { required: true } ? true : S extends { kind: 'boolean' | 'list' } ? true : false;

export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The parsed, typed options for a set of input definitions. */
export type Inputs<D extends InputDefs> = {
  [K in keyof D & string as CamelCase<K>]: AlwaysSet<D[K]> extends true ? ValueOf<D[K]> : ValueOf<D[K]> | undefined;
};

export function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function envName(name: string): string {
  return `POSTGATE_${name.toUpperCase().replace(/-/g, '_')}`;
}

const DURATION = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/;

/** "90s", "15m", "24h", "7d", "1h30m", "500ms" -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, d, h, m, s, ms] = match;
  return Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const units: Array<[number, string, number, string]> = [
    [86_400_000, 'd', 3_600_000, 'h'],
    [3_600_000, 'h', 60_000, 'min'],
    [60_000, 'min', 1000, 's'],
  ];
  const [size, name, subSize, subName] = units.find(([unit]) => ms >= unit)!;
  // round to the smaller unit first, so 1 d 23.99 h reads "2 d 0 h", never "1 d 24 h"
  const totalSub = Math.round(ms / subSize);
  const perUnit = size / subSize;
  return `${Math.floor(totalSub / perUnit)} ${name} ${totalSub % perUnit} ${subName}`;
}

function schemaFor(spec: InputSpec): z.ZodType<unknown> {
  switch (spec.kind) {
    case 'string':
    case 'path':
    case 'url':
      return z.string().min(1);
    case 'boolean':
      return z.enum(['true', 'false', 'yes', 'no', '1', '0']).transform((v) => ['true', 'yes', '1'].includes(v));
    case 'integer':
      return z.string().regex(/^\d+$/).transform(Number);
    case 'major':
      return z
        .string()
        .regex(/^\d{1,2}$/)
        .transform(Number);
    case 'list':
      return z.string().transform((v) =>
        v
          .split(/[,\n]/)
          .map((item) => item.trim())
          .filter(Boolean),
      );
    case 'enum':
      return z.enum((spec.values ?? []) as [string, ...string[]]);
    case 'duration':
      return z.string().transform((v, ctx) => {
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: 'not a duration' });
          return z.NEVER;
        }
        return ms;
      });
  }
}

function expectation(spec: InputSpec): string {
  switch (spec.kind) {
    case 'boolean':
      return 'use true or false';
    case 'integer':
      return 'use a whole number';
    case 'major':
      return 'use a PostgreSQL major version such as 15 or 17';
    case 'enum':
      return `use one of ${(spec.values ?? []).join(', ')}`;
    case 'duration':
      return 'use a duration such as 90s, 15m, 24h or 7d';
    default:
      return 'give a non-empty value';
  }
}

export type Surface = 'action' | 'cli';

/** Where the CLI found a value: its flag, or its POSTGATE_<NAME> environment variable. */
export type InputSource = 'flag' | 'env';

/**
 * Reads one raw input (empty or undefined: not given). A reader that knows where a value
 * came from says so through `sourceOf`, so that messages name the input as it was given.
 */
export type InputReader = ((name: string) => string | undefined) & { sourceOf?: (name: string) => InputSource | undefined };

/** The input as the user wrote it: `--name` (CLI flag), `POSTGATE_NAME` (its environment variable) or `name` (action). */
export function inputName(name: string, surface: Surface, source?: InputSource): string {
  if (surface === 'action') return name;
  return source === 'env' ? envName(name) : `--${name}`;
}

export function inputLabel(name: string, surface: Surface, source?: InputSource): string {
  if (surface === 'action') return `Input \`${name}\``;
  return source === 'env' ? `Environment variable \`${envName(name)}\`` : `Flag \`--${name}\``;
}

/** The names parsed options were given under, for messages raised later by the gates. */
const GIVEN_NAMES = new WeakMap<object, Record<string, string>>();

/**
 * How the input `name` was given for these parsed options (`--schemas`, `POSTGATE_SCHEMAS`,
 * `schemas`); the bare name for options that did not come from `parseInputs`.
 */
export function givenName(options: object, name: string): string {
  return GIVEN_NAMES.get(options)?.[name] ?? name;
}

/** `givenName` as the start of a sentence: "Flag `--schemas`", "Environment variable `POSTGATE_SCHEMAS`", "Input `schemas`". */
export function givenLabel(options: object, name: string): string {
  const given = givenName(options, name);
  if (given.startsWith('--')) return `Flag \`${given}\``;
  if (given === envName(name)) return `Environment variable \`${given}\``;
  return `Input \`${given}\``;
}

/** Relative paths in inputs resolve from the working directory (CLI) or the workspace (action). */
function inputBase(surface: Surface): string {
  return surface === 'action' ? process.env.GITHUB_WORKSPACE || process.cwd() : process.cwd();
}

export function appliesTo(spec: InputSpec, surface: Surface): boolean {
  return spec.surface === undefined || spec.surface === surface;
}

/**
 * Validates raw string inputs (empty means unset) against the definitions.
 * Throws UserError naming the input and the fix.
 */
export function parseInputs<D extends InputDefs>(defs: D, read: InputReader, surface: Surface): Inputs<D> {
  const out: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  GIVEN_NAMES.set(out, names);
  for (const [name, spec] of Object.entries(defs)) {
    if (!appliesTo(spec, surface)) continue;
    const source = read.sourceOf?.(name);
    names[name] = inputName(name, surface, source);
    const given = read(name)?.trim();
    if (given && spec.secret) registerSecret(given);
    const raw = given || spec.default || undefined;
    if (raw === undefined) {
      if (spec.required) {
        // the description's first sentence only: the message stays one sentence
        const what = spec.description.split(/(?<=\.)\s+(?=[A-Z])/)[0]!.replace(/\.$/, '');
        throw new UserError(`${inputLabel(name, surface)} is required: ${what}.`);
      }
      if (spec.kind === 'boolean') out[camelCase(name)] = false;
      else if (spec.kind === 'list') out[camelCase(name)] = [];
      continue;
    }
    const parsed = schemaFor(spec).safeParse(spec.kind === 'enum' || spec.kind === 'boolean' ? raw.toLowerCase() : raw);
    if (!parsed.success) {
      const shown = spec.secret ? 'a value that is not valid' : `"${raw.length > 80 ? `${raw.slice(0, 77)}...` : raw}"`;
      throw new UserError(`${inputLabel(name, surface)} is ${shown}; ${expectation(spec)}.`);
    }
    // Database URLs and paths are named as given (POSTGATE_DATABASE_URL when it came from there).
    if (spec.kind === 'url') parseDatabaseUrl(raw, names[name]);
    if (spec.writes && (spec.writes === true || spec.writes.when.every((other) => read(other)?.trim()))) {
      confinePath(raw, { label: inputLabel(name, surface, source), base: inputBase(surface) });
    }
    out[camelCase(name)] = parsed.data;
  }
  return out as Inputs<D>;
}
