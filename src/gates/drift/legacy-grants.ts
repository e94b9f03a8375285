/**
 * Data API grants a new environment would lose (`grant_only_from_legacy_default`).
 *
 * Until 2026 Supabase's default privileges gave every table, view, sequence and function in
 * `public` to `anon`, `authenticated` and `service_role`. A live project keeps those grants, but
 * a database built from its migrations today (`supabase db reset`, a preview branch, a restore
 * from the migrations) gets only what the migrations grant, unless `[api] auto_expose_new_tables
 * = true`. Deploy mode replays the applied migrations twice: as production got them (the
 * expected schema, by the migrations' dates) and as configured today. A privilege the live
 * database and the first replay both have and the second lacks exists only because of the legacy
 * default: it is listed here, with the migration that captures it, and never as schema drift
 * (the schema diff compares the live database with the first replay, where it is no difference).
 */
import type { Acl, CatalogKind, CatalogSnapshot, SnapshotOptions } from '../../catalog/index.ts';
import { objectKey } from '../../catalog/index.ts';
import { readSnapshot } from '../../catalog/snapshot.ts';
import type { Finding, SourceLocation } from '../../findings/types.ts';
import { findOrigin } from '../../migrations/origins.ts';
import { type BuildShadowOptions, buildShadow, type Shadow } from '../../migrations/shadow.ts';
import { SUPABASE_API_ROLES } from '../../postgres/baseline/supabase.ts';
import { quoteIdent, withSession } from '../../postgres/connect.ts';
import { inertInline } from '../../report/inert.ts';
import { driftFinding } from './rules.ts';

/** How GRANT names each kind the legacy default privileges covered, and that kind's privileges in PostgreSQL's order. */
const GRANTABLE: Partial<Record<CatalogKind, { on: string; privileges: readonly string[] }>> = {
  table: { on: 'table', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'] },
  view: { on: 'table', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'] },
  materialized_view: { on: 'table', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'] },
  sequence: { on: 'sequence', privileges: ['USAGE', 'SELECT', 'UPDATE'] },
  function: { on: 'function', privileges: ['EXECUTE'] },
  procedure: { on: 'procedure', privileges: ['EXECUTE'] },
};

/** PostgreSQL 17 added MAINTAIN: `all` on an older server does not include it. */
const MAINTAIN_SINCE = 17;

/** Grants one object has only from the legacy default: role -> privileges, in PostgreSQL's order. */
export interface LegacyGrant {
  kind: CatalogKind;
  schema: string;
  /** The catalog name (`f(integer)` for functions). */
  name: string;
  grants: Record<string, string[]>;
}

const privilegesOf = (acl: unknown, role: string): Set<string> => new Set(((acl ?? {}) as Acl)[role]?.split(',').filter(Boolean) ?? []);

/**
 * Per object, the privileges of the Data API roles that the live database and the expected
 * schema (replayed as production got it) both have and the replay as configured today lacks.
 */
export function legacyOnlyGrants(expected: CatalogSnapshot, configured: CatalogSnapshot, live: CatalogSnapshot): LegacyGrant[] {
  const byKey = (snapshot: CatalogSnapshot) => new Map(snapshot.objects.map((o) => [objectKey(o), o]));
  const fresh = byKey(configured);
  const actual = byKey(live);
  const out: LegacyGrant[] = [];
  for (const o of expected.objects) {
    const kind = GRANTABLE[o.kind];
    const a = actual.get(objectKey(o));
    const f = fresh.get(objectKey(o));
    if (!kind || !a || !f || !o.schema) continue;
    const grants: Record<string, string[]> = {};
    for (const role of SUPABASE_API_ROLES) {
      const had = privilegesOf(a.props.acl, role);
      const wouldGet = privilegesOf(f.props.acl, role);
      const lost = [...privilegesOf(o.props.acl, role)].filter((p) => had.has(p) && !wouldGet.has(p));
      if (lost.length) grants[role] = sortPrivileges(lost, kind.privileges);
    }
    if (Object.keys(grants).length) out.push({ kind: o.kind, schema: o.schema, name: o.name, grants });
  }
  return out.sort((x, y) => x.schema.localeCompare(y.schema) || order(x.kind) - order(y.kind) || x.name.localeCompare(y.name));
}

const KIND_ORDER = Object.keys(GRANTABLE);
const order = (kind: CatalogKind) => KIND_ORDER.indexOf(kind);

/** Privileges in PostgreSQL's order; one with the grant option (`SELECT*`) after the plain ones. */
function sortPrivileges(privileges: string[], known: readonly string[]): string[] {
  const rank = (p: string) => (known.includes(p) ? known.indexOf(p) : known.length + (p.endsWith('*') ? 1 : 0));
  return [...privileges].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

/** How GRANT names the object: `table "public"."t"`, `function "public"."f"(integer)`. */
function target(g: LegacyGrant): string {
  const kind = GRANTABLE[g.kind]!;
  if (kind.on === 'function' || kind.on === 'procedure') {
    const open = g.name.indexOf('(');
    return `${kind.on} ${quoteIdent(g.schema)}.${quoteIdent(g.name.slice(0, open))}${g.name.slice(open)}`;
  }
  return `${kind.on} ${quoteIdent(g.schema)}.${quoteIdent(g.name)}`;
}

/** `all` when the role has every privilege of the kind on this server, else the list. */
function privilegeList(g: LegacyGrant, privileges: string[], serverMajor: number): string {
  const every = GRANTABLE[g.kind]!.privileges.filter((p) => p !== 'MAINTAIN' || serverMajor >= MAINTAIN_SINCE);
  const plain = privileges.filter((p) => !p.endsWith('*'));
  const all = every.length > 1 && plain.length === every.length && every.every((p) => plain.includes(p));
  return all ? 'all' : plain.map((p) => p.toLowerCase()).join(', ');
}

/** The object as a one-line label: kind and quoted name, control characters escaped (names are hostile). */
export function legacyGrantLabel(g: LegacyGrant): string {
  return inertInline(`${g.kind.replace(/_/g, ' ')} ${target(g).replace(/^\S+ /, '')}`);
}

/**
 * The GRANT statements for one object: roles with the same privileges share a statement;
 * privileges held with the grant option (never the legacy default's) keep it.
 */
function grantStatements(g: LegacyGrant, serverMajor: number): string[] {
  const byPrivileges = new Map<string, string[]>();
  for (const role of Object.keys(g.grants).sort()) {
    const privileges = g.grants[role]!;
    const key = JSON.stringify(privileges);
    byPrivileges.set(key, [...(byPrivileges.get(key) ?? []), role]);
  }
  const out: string[] = [];
  for (const [key, roles] of byPrivileges) {
    const privileges = JSON.parse(key) as string[];
    const to = roles.map(quoteIdent).join(', ');
    if (privileges.some((p) => !p.endsWith('*'))) out.push(`grant ${privilegeList(g, privileges, serverMajor)} on ${target(g)} to ${to};`);
    const withOption = privileges.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1).toLowerCase());
    if (withOption.length) out.push(`grant ${withOption.join(', ')} on ${target(g)} to ${to} with grant option;`);
  }
  return out;
}

const where = (origin: SourceLocation | undefined) => (origin ? `${origin.file}${origin.line ? `:${origin.line}` : ''}` : 'the applied migrations');

/** The capture migration: per object a comment naming it and the migration it comes from, then its grants. */
export function captureMigrationSql(grants: readonly LegacyGrant[], origins: ReadonlyMap<string, SourceLocation>, serverMajor: number): string {
  return grants
    .map((g) => [`-- ${legacyGrantLabel(g)} (${inertInline(where(findOrigin(origins, g)))})`, ...grantStatements(g, serverMajor)].join('\n'))
    .join('\n\n');
}

export interface LegacyGrantContext {
  origins: ReadonlyMap<string, SourceLocation>;
  /** The migrations folder, repo-relative, for the suggested file name. */
  migrationsDir: string;
  /** The live server's major version (whether `all` includes MAINTAIN). */
  serverMajor: number;
}

/** One finding per schema listing what a new environment would lose, with the capture migration. */
export function legacyGrantFindings(grants: readonly LegacyGrant[], context: LegacyGrantContext): Finding[] {
  const schemas = [...new Set(grants.map((g) => g.schema))];
  return schemas.map((schema) => {
    const inSchema = grants.filter((g) => g.schema === schema);
    const file = inertInline(`${context.migrationsDir}/<timestamp>_capture_data_api_grants.sql`);
    const lines = inSchema.map(
      (g) =>
        `${legacyGrantLabel(g)} (${inertInline(where(findOrigin(context.origins, g)))}): ${Object.entries(g.grants)
          .map(([role, privileges]) => `${role} ${privileges.map((p) => p.toLowerCase()).join(', ')}`)
          .join('; ')}`,
    );
    return driftFinding({
      rule: 'grant_only_from_legacy_default',
      object: { kind: 'schema', name: schema },
      message: `${inSchema.length} object(s) in schema ${inertInline(schema)} have Data API grants only because Supabase's legacy default privileges gave them; a database built from the migrations today (\`supabase db reset\`, a preview branch, a restore from the migrations) would not have them, and the Data API would answer 42501 there.`,
      detail: `What a new environment would lose:\n${lines.join('\n')}`,
      remediation: [
        `-- Capture the grants in a new migration (\`supabase migration new capture_data_api_grants\` creates ${file}),`,
        '-- then apply it (`supabase db push`): on this database it changes nothing.',
        captureMigrationSql(inSchema, context.origins, context.serverMajor),
      ].join('\n'),
    });
  });
}

export interface LegacyGrantCheck {
  findings: Finding[];
  /** Time of the second replay and its snapshot. */
  ms: number;
}

/**
 * Replays the migrations of `replay` once more, on the expected schema's server, with the grants
 * `[api] auto_expose_new_tables` gives today, and reports what only the legacy default granted.
 * Called only when `expected.configuredGrantsDiffer` says the two replays differ. A replay that
 * stops earlier than the expected one (a migration that needs a legacy grant) reports nothing.
 */
export async function checkLegacyGrants(
  replay: BuildShadowOptions,
  expected: { shadow: Shadow; snapshot: CatalogSnapshot },
  live: CatalogSnapshot,
  snapshotOptions: SnapshotOptions,
  migrationsDir: string,
): Promise<LegacyGrantCheck> {
  const started = performance.now();
  const configured = await buildShadow({ ...replay, cluster: expected.shadow.cluster, grantsAsConfigured: true });
  try {
    if (configured.failure || configured.applied.length !== expected.shadow.applied.length) {
      return { findings: [], ms: Math.round(performance.now() - started) };
    }
    const session = { gate: 'drift', readOnly: true, inputName: 'shadow-database-url' };
    const snapshot = await withSession(configured.url, session, (client) => readSnapshot(client, snapshotOptions));
    const grants = legacyOnlyGrants(expected.snapshot, snapshot, live);
    const findings = legacyGrantFindings(grants, { origins: expected.shadow.origins, migrationsDir, serverMajor: live.serverMajor });
    return { findings, ms: Math.round(performance.now() - started) };
  } finally {
    await configured.stop();
  }
}
