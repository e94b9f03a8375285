/**
 * A schema filter (`schemas` / `exclude-schemas`, or their repo config keys) checked against
 * the schemas the databases really have. A filter that names a schema no database has, or
 * that leaves nothing to compare, would make a gate compare nothing and pass: it is a bad
 * input instead, in one sentence that names the filter as it was given and lists the
 * schemas that do exist. Pure: the caller reads the schema names (any gate can use it).
 */
import { UserError } from '../errors.ts';

export interface SchemaFilterInput {
  names: string[];
  /** The filter as given, at the start of a sentence: "Flag `--schemas`", "Input `schemas`", "Repo config key `drift.schemas`". */
  label: string;
}

export interface DatabaseSchemas {
  /** "the live database", "the shadow database built from the migrations". */
  name: string;
  /** Every schema a comparison could read there (system schemas left out). */
  schemas: string[];
}

export interface SchemaFilterCheck {
  schemas?: SchemaFilterInput;
  exclude?: SchemaFilterInput;
  databases: DatabaseSchemas[];
  /** The project's own schemas, listed in messages (platform and extension schemas left out). */
  shown: string[];
  /** Objects the comparison holds after the filter, in all databases together. */
  objectsLeft: number;
}

const MAX_LISTED = 20;

function quoted(names: string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

function listing(shown: string[], databases: DatabaseSchemas[]): string {
  const where = databases.length > 1 ? 'there' : `in ${databases[0]?.name ?? 'the database'}`;
  if (!shown.length) return `there is no schema of the project's own ${where}`;
  const sorted = [...new Set(shown)].sort();
  const more = sorted.length > MAX_LISTED ? ` and ${sorted.length - MAX_LISTED} more` : '';
  return `the schemas ${where} are ${sorted.slice(0, MAX_LISTED).join(', ')}${more}`;
}

/** "neither A nor B has", "A does not have". */
function nowhere(databases: DatabaseSchemas[]): string {
  if (databases.length === 1) return `${databases[0]!.name} does not have`;
  const names = databases.map((d) => d.name);
  return `neither ${names.slice(0, -1).join(', nor ')} nor ${names.at(-1)} has`;
}

/** The bad-input error for this filter, or undefined when it names what exists and leaves something to compare. */
export function schemaFilterError(check: SchemaFilterCheck): UserError | undefined {
  const existing = new Set(check.databases.flatMap((d) => d.schemas));
  const named = check.schemas?.names ?? [];
  const missing = named.filter((name) => !existing.has(name));
  if (check.schemas && missing.length) {
    const cased = missing
      .map((name) => [name, [...existing].find((other) => other.toLowerCase() === name.toLowerCase())] as const)
      .filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
    const hint = cased.length ? ` (schema names are case-sensitive: ${cased.map(([name, other]) => `"${other}", not "${name}"`).join('; ')})` : '';
    return new UserError(
      `${check.schemas.label} names schema${missing.length === 1 ? '' : 's'} ${quoted(missing)}, which ${nowhere(check.databases)}${hint}; ${listing(check.shown, check.databases)}.`,
    );
  }
  if (check.exclude?.names.length && !named.length && check.objectsLeft === 0) {
    return new UserError(
      `${check.exclude.label} leaves nothing to compare: without ${check.exclude.names.join(', ')}, ${nowhere(check.databases)} an object to compare; exclude fewer schemas (${listing(check.shown, check.databases)}).`,
    );
  }
  return undefined;
}
