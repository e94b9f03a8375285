/**
 * The catalog model shared by drift-gate and restore-drill (rls-audit reads the catalogs with
 * its own queries; docs/adr/0001-schema-diff-engine.md):
 *   snapshot(client, options)   read-only; a fixed number of catalog queries
 *   diffSnapshots(expected, actual)  differences with remediation SQL both ways
 *   fingerprint(snapshot)       a deterministic hash (restore-drill's manifest)
 * Snapshots are plain JSON (no Dates, Maps or BigInts) and sorted, so they can be
 * written to a file and compared later.
 */
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { canonical, readSnapshot } from './snapshot.ts';
import type { CatalogSnapshot, SnapshotOptions } from './types.ts';

export type {
  Acl,
  CatalogKind,
  CatalogObject,
  CatalogProfile,
  CatalogSnapshot,
  JsonValue,
  PropertyChange,
  SchemaDifference,
  SnapshotOptions,
} from './types.ts';
export { CATALOG_KINDS, objectKey } from './types.ts';
export { diffSnapshots, type DiffOptions } from './diff.ts';
export { PROFILES, SNAPSHOT_QUERY_COUNT, type ProfileRules } from './snapshot.ts';

/** Reads the catalog of the connected database (read-only; run it in a read-only transaction for one consistent view). */
export async function snapshot(client: ClientBase, options: SnapshotOptions = {}): Promise<CatalogSnapshot> {
  return readSnapshot(client, options);
}

/** SHA-256 (hex) of the snapshot's objects and their compared properties, independent of key order. */
export function fingerprint(snapshot: CatalogSnapshot): string {
  const objects = snapshot.objects.map((o) => canonical({ kind: o.kind, schema: o.schema ?? null, name: o.name, table: o.table ?? null, props: o.props }));
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}
