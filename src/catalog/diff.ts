/**
 * Comparing two snapshots: expected (what the migrations build) against actual (what
 * the database has). Objects are matched by (kind, schema, name); a missing or
 * unexpected table carries its columns and constraints with it (one difference, one
 * CREATE TABLE) instead of one difference per column.
 */
import { alterSql, createSql, defaultPrivilegesType, dropSql } from './ddl.ts';
import type { Acl, CatalogKind, CatalogObject, CatalogSnapshot, JsonValue, PropertyChange, SchemaDifference } from './types.ts';
import { objectKey } from './types.ts';

/** Order in which differences are listed, so restore statements can run top to bottom. */
const KIND_ORDER: CatalogKind[] = [
  'schema',
  'extension',
  'enum',
  'domain',
  'composite_type',
  'sequence',
  'table',
  'column',
  'constraint',
  'function',
  'procedure',
  'view',
  'materialized_view',
  'index',
  'trigger',
  'policy',
  'publication',
  'default_privileges',
  'unmodeled',
];

export interface DiffOptions {
  /** Leave out differences for which this returns true (e.g. objects the Supabase baseline creates). */
  ignore?: (object: CatalogObject) => boolean;
}

const tableKey = (o: CatalogObject) => `table:${o.schema}.${o.table}`;
const isTablePart = (o: CatalogObject) => o.kind === 'column' || o.kind === 'constraint';

function describe(o: CatalogObject): string {
  const label = o.schema ? `${o.schema}.${o.name}` : o.name;
  return `${o.kind.replace(/_/g, ' ')} ${label}`;
}

function show(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'none';
  if (typeof value === 'string') return value.length > 80 ? `${value.slice(0, 77)}...` : value;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function propertyChanges(expected: CatalogObject, actual: CatalogObject): PropertyChange[] {
  const keys = [...new Set([...Object.keys(expected.props), ...Object.keys(actual.props)])].sort();
  return keys
    .filter((key) => JSON.stringify(expected.props[key] ?? null) !== JSON.stringify(actual.props[key] ?? null))
    .map((property) => ({ property, expected: expected.props[property], actual: actual.props[property] }));
}

/**
 * The grants a CREATE of `o` would pick up in the database of `snapshot` from its
 * default privileges (schema-level ones for the owner, and global ones), so that the
 * SQL that recreates an object also revokes what it should not get.
 */
function defaultsFor(snapshot: CatalogSnapshot, o: CatalogObject): Acl {
  const type = defaultPrivilegesType(o.kind);
  const owner = o.props.owner;
  const out: Acl = {};
  if (!type || !owner) return out;
  for (const d of snapshot.objects) {
    if (d.kind !== 'default_privileges' || d.props.role !== owner || d.props.objects !== type) continue;
    if (d.schema && d.schema !== o.schema) continue;
    for (const [role, privileges] of Object.entries((d.props.acl ?? {}) as Acl)) {
      out[role] = [...new Set([...(out[role]?.split(',') ?? []), ...privileges.split(',')])].filter(Boolean).sort().join(',');
    }
  }
  return out;
}

/**
 * PostgreSQL 17 added the MAINTAIN table privilege, which owners' default ACLs include: the same
 * schema on 15 and on 17 differs only by it, which is a server version, not drift.
 */
function sameAclButMaintain(expected: unknown, actual: unknown): boolean {
  const strip = (acl: unknown) =>
    JSON.stringify(
      Object.entries((acl ?? {}) as Record<string, string>)
        .map(([grantee, privileges]) => [
          grantee,
          privileges
            .split(',')
            .filter((p) => !/^MAINTAIN\*?$/.test(p))
            .join(','),
        ])
        .filter(([, privileges]) => privileges)
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  return strip(expected) === strip(actual);
}

export function diffSnapshots(expected: CatalogSnapshot, actual: CatalogSnapshot, options: DiffOptions = {}): SchemaDifference[] {
  const ignore = options.ignore ?? (() => false);
  const crossMajor = expected.serverMajor !== actual.serverMajor;
  const want = new Map(expected.objects.map((o) => [objectKey(o), o]));
  const have = new Map(actual.objects.map((o) => [objectKey(o), o]));
  const childrenOf = (objects: CatalogObject[], table: CatalogObject) =>
    objects.filter((o) => isTablePart(o) && o.schema === table.schema && o.table === table.name);

  const out: SchemaDifference[] = [];
  for (const [key, o] of want) {
    if (have.has(key) || ignore(o)) continue;
    if (isTablePart(o) && want.has(tableKey(o)) && !have.has(tableKey(o))) continue; // part of a missing table
    const children = o.kind === 'table' ? childrenOf(expected.objects, o) : [];
    out.push({
      kind: o.kind,
      ...(o.schema ? { schema: o.schema } : {}),
      name: o.name,
      change: 'missing',
      expected: o,
      changes: [],
      minor: false,
      summary: `${describe(o)} is in the migrations but not in the database`,
      restoreSql: createSql(o, children, defaultsFor(actual, o)).join('\n'),
      captureSql: dropSql(o).join('\n'),
    });
  }
  for (const [key, o] of have) {
    if (want.has(key) || ignore(o)) continue;
    if (isTablePart(o) && have.has(tableKey(o)) && !want.has(tableKey(o))) continue; // part of an unexpected table
    const children = o.kind === 'table' ? childrenOf(actual.objects, o) : [];
    out.push({
      kind: o.kind,
      ...(o.schema ? { schema: o.schema } : {}),
      name: o.name,
      change: 'unexpected',
      actual: o,
      changes: [],
      minor: false,
      summary: `${describe(o)} is in the database but no migration creates it`,
      restoreSql: dropSql(o).join('\n'),
      captureSql: createSql(o, children, defaultsFor(expected, o)).join('\n'),
    });
  }
  for (const [key, e] of want) {
    const a = have.get(key);
    if (!a || ignore(e)) continue;
    const changes = propertyChanges(e, a).filter((c) => !(crossMajor && c.property === 'acl' && sameAclButMaintain(c.expected, c.actual)));
    if (changes.length === 0) continue;
    const minor = e.kind === 'extension' && changes.every((c) => c.property === 'version');
    out.push({
      kind: e.kind,
      ...(e.schema ? { schema: e.schema } : {}),
      name: e.name,
      change: 'changed',
      expected: e,
      actual: a,
      changes,
      minor,
      summary: `${describe(e)} differs: ${changes.map((c) => `${c.property} (migrations: ${show(c.expected)}; database: ${show(c.actual)})`).join('; ')}`,
      restoreSql: alterSql(a, e, defaultsFor(actual, e)).join('\n'),
      captureSql: alterSql(e, a, defaultsFor(expected, a)).join('\n'),
    });
  }
  return out.sort(
    (x, y) => KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) || (x.schema ?? '').localeCompare(y.schema ?? '') || x.name.localeCompare(y.name),
  );
}
