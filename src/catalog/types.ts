/**
 * The one catalog model postgate compares and fingerprints (drift-gate, restore-drill;
 * rls-audit does not read it: docs/adr/0001-schema-diff-engine.md). A snapshot is a flat, sorted list of objects, each with a
 * kind, a schema, a name unique within (kind, schema), and normalised properties: two
 * databases built from the same migrations give byte-identical snapshots.
 *
 * Naming (also the keys of `Shadow.origins`, `${kind}:${schema}.${name}`):
 *   schema, extension, publication     name only (no schema)
 *   table, view, materialized_view,
 *   sequence, enum, domain,
 *   composite_type, index              the object's name
 *   column, constraint, trigger, policy  `<table>.<name>`
 *   function, procedure                `<name>(<argument types>)`, e.g. `is_team_member(uuid, text)`
 *   default_privileges                 `<role>:<tables|sequences|functions|types|schemas>` (schema empty for global ones)
 *   unmodeled                          `<what> <name>`, e.g. `operator ===(int4,int4)`; presence only
 */

export const CATALOG_KINDS = [
  'schema',
  'extension',
  'enum',
  'domain',
  'composite_type',
  'sequence',
  'table',
  'column',
  'constraint',
  'index',
  'view',
  'materialized_view',
  'function',
  'procedure',
  'trigger',
  'policy',
  'default_privileges',
  'publication',
  'unmodeled',
] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Privileges per grantee (`PUBLIC` for everyone), e.g. `{ anon: "SELECT", postgres: "INSERT,SELECT*" }`; `*` marks WITH GRANT OPTION. */
export type Acl = Record<string, string>;

export interface CatalogObject {
  kind: CatalogKind;
  /** Absent for database-wide objects (schemas, extensions, publications). */
  schema?: string;
  name: string;
  /** The table (or view) a column, constraint, index, trigger or policy belongs to. */
  table?: string;
  /** Normalised properties: what the diff compares and the fingerprint hashes. */
  props: Record<string, JsonValue>;
  /** The statement PostgreSQL itself prints to recreate the object, when it has one (not compared). */
  ddl?: string;
}

export type CatalogProfile = 'supabase' | 'postgres';

export interface CatalogSnapshot {
  format: 'postgate-catalog/1';
  profile: CatalogProfile;
  /** Server major version the snapshot was read from. */
  serverMajor: number;
  /** The schemas whose objects were read. */
  schemas: string[];
  /** Sorted by kind, schema, name. */
  objects: CatalogObject[];
}

export interface SnapshotOptions {
  /** Only these schemas (default: every schema that is not a system or profile-managed one). */
  schemas?: string[];
  excludeSchemas?: string[];
  /** `supabase` leaves out what the platform manages (schemas, roles, extensions); default `postgres`. */
  profile?: CatalogProfile;
}

export interface PropertyChange {
  property: string;
  expected: JsonValue | undefined;
  actual: JsonValue | undefined;
}

/** One difference between the expected (migrations) and the actual (database) schema. */
export interface SchemaDifference {
  kind: CatalogKind;
  schema?: string;
  name: string;
  /** missing: the migrations have it, the database does not; unexpected: the reverse; changed: both, differently. */
  change: 'missing' | 'unexpected' | 'changed';
  expected?: CatalogObject;
  actual?: CatalogObject;
  /** For `changed`: which properties differ. */
  changes: PropertyChange[];
  /** Only notice-worthy (extension versions). */
  minor: boolean;
  /** One line: what differs. */
  summary: string;
  /** SQL that brings the database back to what the migrations say. */
  restoreSql: string;
  /** SQL for a new migration that captures what the database has (the hotfix). */
  captureSql: string;
}

export function objectKey(object: { kind: string; schema?: string | undefined; name: string }): string {
  return `${object.kind}:${object.schema ? `${object.schema}.` : ''}${object.name}`;
}
