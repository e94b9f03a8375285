/**
 * Reading a catalog snapshot: a fixed number of read-only catalog queries (see
 * ./queries.ts), then normalisation into `CatalogObject`s. Nothing here writes; the
 * caller decides on the session (the drift gate uses a read-only, repeatable-read
 * transaction so that every query sees one state).
 */
import type { ClientBase } from 'pg';
import { SUPABASE_API_ROLES, SUPABASE_EXTENSIONS, SUPABASE_MANAGED_ROLES, SUPABASE_MANAGED_SCHEMAS } from '../postgres/baseline/supabase.ts';
import * as Q from './queries.ts';
import type { Acl, CatalogObject, CatalogProfile, CatalogSnapshot, JsonValue, SnapshotOptions } from './types.ts';

/** What a profile leaves out so that only the project's own objects are compared. */
export interface ProfileRules {
  /** Schemas never read. */
  excludedSchemas: readonly string[];
  /** Schemas of which only the policies and triggers on their tables are read (the project adds those). */
  policyAndTriggerSchemas: readonly string[];
  /** Roles dropped from ACLs and default privileges (platform roles). */
  ignoredRoles: ReadonlySet<string>;
  /** Extensions not compared (platform pre-installed ones). */
  ignoredExtensions: ReadonlySet<string>;
  /** Owners treated as the same role. */
  ownerAliases: Readonly<Record<string, string>>;
  /**
   * Default privileges the platform manages, not the project: grants in this form are left out
   * of `default_privileges` (Supabase's legacy Data API grants, which the platform itself
   * revoked from every project on 2026-10-30, so a live database may or may not have them).
   */
  platformDefaultGrants?: { roles: readonly string[]; schema: string; grantees: readonly string[]; privileges: Readonly<Record<string, readonly string[]>> };
}

const PLATFORM_ROLES = SUPABASE_MANAGED_ROLES.filter((role) => !SUPABASE_API_ROLES.includes(role));

export const PROFILES: Record<CatalogProfile, ProfileRules> = {
  postgres: {
    excludedSchemas: [],
    policyAndTriggerSchemas: [],
    ignoredRoles: new Set(),
    ignoredExtensions: new Set(['plpgsql']),
    ownerAliases: {},
  },
  supabase: {
    excludedSchemas: SUPABASE_MANAGED_SCHEMAS,
    policyAndTriggerSchemas: ['auth', 'storage', 'realtime'],
    ignoredRoles: new Set(PLATFORM_ROLES),
    ignoredExtensions: new Set(['plpgsql', ...SUPABASE_EXTENSIONS.map((e) => e.name)]),
    // Migrations run as postgres from the CLI but as supabase_admin from some dashboard paths.
    ownerAliases: { supabase_admin: 'postgres' },
    platformDefaultGrants: {
      roles: ['postgres'],
      schema: 'public',
      grantees: SUPABASE_API_ROLES,
      // the legacy grant was ALL: every privilege of the kind (a deliberate narrower grant is compared)
      privileges: {
        tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
        sequences: ['USAGE', 'SELECT', 'UPDATE'],
        functions: ['EXECUTE'],
      },
    },
  },
};

/** How many queries `snapshot` runs on one session, whatever the database holds (asserted by a test). */
export const SNAPSHOT_QUERY_COUNT = 16;
/** The queries a twin session adds: pinning its settings and putting them back. */
export const TWIN_QUERY_COUNT = 2;

type Row = Record<string, unknown>;
type AclRow = [string, string, boolean];
type Run = (sql: string, params?: unknown[]) => Promise<Row[]>;

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Collapses line endings and trailing white space: what PostgreSQL prints for the same source. */
export function normalizeText(value: unknown): string | null {
  const text = str(value);
  if (text === null) return null;
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

function normalizeAcl(rows: unknown, rules: ProfileRules, alias: (role: string) => string): Acl {
  const byGrantee = new Map<string, Set<string>>();
  for (const [grantee, privilege, grantable] of (rows ?? []) as AclRow[]) {
    if (rules.ignoredRoles.has(grantee)) continue;
    const who = alias(grantee);
    const set = byGrantee.get(who) ?? new Set<string>();
    set.add(grantable ? `${privilege}*` : privilege);
    byGrantee.set(who, set);
  }
  const out: Acl = {};
  for (const grantee of [...byGrantee.keys()].sort()) out[grantee] = [...byGrantee.get(grantee)!].sort().join(',');
  return out;
}

/** The acl without the platform's own default grants (see ProfileRules.platformDefaultGrants). */
function withoutPlatformDefaultGrants(granted: Acl, rules: ProfileRules, role: string, schema: string | null, objects: string): Acl {
  const platform = rules.platformDefaultGrants;
  const full = platform?.privileges[objects];
  if (!platform || !full || schema !== platform.schema || !platform.roles.includes(role)) return granted;
  const out: Acl = {};
  for (const [grantee, privileges] of Object.entries(granted)) {
    const held = new Set(privileges.split(','));
    if (platform.grantees.includes(grantee) && full.every((privilege) => held.has(privilege))) continue;
    out[grantee] = privileges;
  }
  return out;
}

const RELKIND: Record<string, CatalogObject['kind']> = { r: 'table', p: 'table', v: 'view', m: 'materialized_view' };
const DEFAULT_ACL_OBJECTS: Record<string, string> = { r: 'tables', S: 'sequences', f: 'functions', T: 'types', n: 'schemas' };
const OPTIONS_OF_VIEWS = ['security_invoker', 'security_barrier', 'check_option'];

function parseOptions(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of (value ?? []) as string[]) {
    const eq = option.indexOf('=');
    out[eq < 0 ? option : option.slice(0, eq)] = eq < 0 ? 'true' : option.slice(eq + 1);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Deterministic JSON value: objects with sorted keys, undefined dropped. */
export function canonical(value: unknown): JsonValue {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(value as object).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = canonical(item);
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return String(value);
}

export interface QueryCounter {
  queries: number;
}

export interface SnapshotSessions {
  /** Counts the queries run, on both sessions (for the test that keeps the number fixed). */
  counter?: QueryCounter;
  /**
   * A second session that sees what the first sees (see `openTwinSession`). The
   * constraint, index and policy queries run on it while the first session reads the
   * rest: they are the ones that open every table, and each backend pays for that once.
   */
  twin?: ClientBase | undefined;
}

/**
 * Reads the snapshot: exactly SNAPSHOT_QUERY_COUNT read-only queries, plus
 * TWIN_QUERY_COUNT with a twin session. Each session's settings are put back afterwards.
 */
export async function readSnapshot(client: ClientBase, options: SnapshotOptions = {}, sessions: SnapshotSessions = {}): Promise<CatalogSnapshot> {
  const profile = options.profile ?? 'postgres';
  const runOn =
    (session: ClientBase): Run =>
    async (sql, params = []) => {
      if (sessions.counter) sessions.counter.queries++;
      return (await session.query(sql, params)).rows as Row[];
    };
  const main = runOn(client);
  const twin = sessions.twin ? runOn(sessions.twin) : undefined;
  const pinned = await Promise.all([main, ...(twin ? [twin] : [])].map(async (run) => ({ run, context: (await run(Q.CONTEXT_QUERY))[0] })));
  try {
    return await readObjects(main, twin, Math.floor(Number(pinned[0]!.context?.version_num ?? 0) / 10000), profile, options);
  } finally {
    // In a failed transaction this cannot run, and need not: the rollback restores the settings.
    await Promise.all(
      pinned.map(({ run, context }) =>
        run(Q.RESTORE_SETTINGS_QUERY, [
          String(context?.previous_search_path ?? '"$user", public'),
          String(context?.previous_jit ?? 'on'),
          String(context?.previous_workers ?? '2'),
        ]).catch(() => undefined),
      ),
    );
  }
}

async function readObjects(main: Run, twin: Run | undefined, major: number, profile: CatalogProfile, options: SnapshotOptions): Promise<CatalogSnapshot> {
  const rules = PROFILES[profile];
  const schemaRows = await main(Q.SCHEMAS_QUERY);

  const excluded = new Set([...(options.excludeSchemas ?? []), ...rules.excludedSchemas]);
  const wanted = options.schemas?.length ? new Set(options.schemas) : undefined;
  const isUserSchema = (row: Row) => !row.extension_member && !String(row.name).startsWith('pg_');
  const schemas = schemaRows
    .filter((row) => (wanted ? wanted.has(String(row.name)) : isUserSchema(row) && !excluded.has(String(row.name))))
    .map((row) => String(row.name));
  const policySchemas = wanted
    ? []
    : rules.policyAndTriggerSchemas.filter((s) => !(options.excludeSchemas ?? []).includes(s) && schemaRows.some((r) => r.name === s));
  const alias = (role: string) => rules.ownerAliases[role] ?? role;
  const acl = (rows: unknown) => normalizeAcl(rows, rules, alias);
  const objects: CatalogObject[] = [];
  const add = (object: CatalogObject) => objects.push({ ...object, props: canonical(object.props) as Record<string, JsonValue> });

  for (const row of schemaRows) {
    if (!schemas.includes(String(row.name))) continue;
    add({ kind: 'schema', name: String(row.name), props: { owner: alias(String(row.owner)), acl: acl(row.acl), comment: str(row.comment) } });
  }

  const inSchemas = [schemas];
  const withPolicySchemas = [schemas, policySchemas];
  // One query at a time on each session (a pg client runs them in order anyway), so the count stays exact.
  const readTables = async (run: Run) => ({
    constraints: await run(Q.CONSTRAINTS_QUERY, inSchemas),
    indexes: await run(Q.INDEXES_QUERY, inSchemas),
    policies: await run(Q.POLICIES_QUERY, withPolicySchemas),
  });
  const tableReads = twin ? readTables(twin) : undefined;
  // Without a twin the main session reads them after the rest; with one, a failure there
  // must not be left unhandled while the main session is still reading.
  tableReads?.catch(() => undefined);
  const extensions = await main(Q.EXTENSIONS_QUERY);
  const relations = await main(Q.RELATIONS_QUERY, inSchemas);
  const columns = await main(Q.COLUMNS_QUERY, inSchemas);
  const sequences = await main(Q.SEQUENCES_QUERY, inSchemas);
  const types = await main(Q.TYPES_QUERY, inSchemas);
  const functions = await main(Q.functionsQuery(major), inSchemas);
  const triggers = await main(Q.TRIGGERS_QUERY, withPolicySchemas);
  const defaults = await main(Q.DEFAULT_PRIVILEGES_QUERY, inSchemas);
  const publications = await main(Q.publicationsQuery(major));
  const unmodeled = await main(Q.UNMODELED_QUERY, inSchemas);

  for (const row of extensions) {
    const name = String(row.name);
    if (rules.ignoredExtensions.has(name) || (options.excludeSchemas ?? []).includes(String(row.schema))) continue;
    add({ kind: 'extension', name, props: { version: str(row.version), schema: str(row.schema), comment: str(row.comment) } });
  }

  for (const row of relations) {
    const kind = RELKIND[String(row.relkind)]!;
    const options = parseOptions(row.options);
    const base = { owner: alias(String(row.owner)), acl: acl(row.acl), comment: str(row.comment) };
    if (kind === 'table') {
      add({
        kind,
        schema: String(row.schema),
        name: String(row.name),
        props: {
          ...base,
          partitioned: row.relkind === 'p',
          partitionKey: str(row.partition_key),
          partitionOf: str(row.partition_of),
          partitionBound: str(row.partition_bound),
          unlogged: row.persistence === 'u',
          rls: Boolean(row.rls),
          forceRls: Boolean(row.force_rls),
          options,
          replicaIdentity: str(row.replica_identity),
        },
      });
    } else {
      const viewOptions = Object.fromEntries(Object.entries(options).filter(([key]) => OPTIONS_OF_VIEWS.includes(key)));
      add({
        kind,
        schema: String(row.schema),
        name: String(row.name),
        props: { ...base, definition: normalizeText(row.view_definition), options: kind === 'view' ? viewOptions : options },
      });
    }
  }

  for (const row of columns) {
    const generated = row.generated === 's' || row.generated === 'v';
    add({
      kind: 'column',
      schema: String(row.schema),
      name: `${row.table}.${row.name}`,
      table: String(row.table),
      props: {
        type: str(row.type),
        notNull: Boolean(row.not_null),
        default: generated ? null : str(row.default_expr),
        generated: generated ? str(row.default_expr) : null,
        identity: row.identity === 'a' ? 'always' : row.identity === 'd' ? 'by default' : null,
        collation: str(row.collation),
        acl: acl(row.acl),
        comment: str(row.comment),
      },
    });
  }

  for (const row of sequences) {
    add({
      kind: 'sequence',
      schema: String(row.schema),
      name: String(row.name),
      props: {
        type: str(row.type),
        start: str(row.start),
        increment: str(row.increment),
        min: str(row.min),
        max: str(row.max),
        cache: str(row.cache),
        cycle: Boolean(row.cycle),
        ownedBy: str(row.owned_by),
        owner: alias(String(row.owner)),
        acl: acl(row.acl),
        comment: str(row.comment),
      },
    });
  }

  for (const row of types) {
    const base = { owner: alias(String(row.owner)), acl: acl(row.acl), comment: str(row.comment) };
    const where = { schema: String(row.schema), name: String(row.name) };
    if (row.typtype === 'e') add({ kind: 'enum', ...where, props: { ...base, values: (row.enum_values ?? []) as string[] } });
    else if (row.typtype === 'd') {
      add({
        kind: 'domain',
        ...where,
        props: {
          ...base,
          type: str(row.base_type),
          notNull: Boolean(row.not_null),
          default: str(row.default_expr),
          collation: str(row.collation),
          constraints: Object.fromEntries(((row.domain_constraints ?? []) as [string, string][]).map(([n, d]) => [n, normalizeText(d)])),
        },
      });
    } else add({ kind: 'composite_type', ...where, props: { ...base, attributes: (row.attributes ?? []) as JsonValue } });
  }

  for (const row of functions) {
    if (row.prokind === 'a') continue; // aggregates: unmodeled (listed by the unmodeled query)
    add({
      kind: row.prokind === 'p' ? 'procedure' : 'function',
      schema: String(row.schema),
      name: `${row.fname}(${row.arg_types})`,
      props: {
        arguments: str(row.args),
        returns: str(row.result),
        language: str(row.language),
        body: row.sql_body ? normalizeText(row.sql_body) : normalizeText(row.body),
        volatility: VOLATILITY[String(row.volatility)] ?? null,
        securityDefiner: Boolean(row.security_definer),
        strict: Boolean(row.strict),
        parallel: PARALLEL[String(row.parallel)] ?? null,
        leakproof: Boolean(row.leakproof),
        config: ((row.config ?? []) as string[]).slice(),
        cost: Number(row.cost),
        rows: Number(row.rows),
        owner: alias(String(row.owner)),
        acl: acl(row.acl),
        comment: str(row.comment),
      },
      ...(row.ddl ? { ddl: String(row.ddl).trim() } : {}),
    });
  }

  for (const row of triggers) {
    add({
      kind: 'trigger',
      schema: String(row.schema),
      name: `${row.table}.${row.name}`,
      table: String(row.table),
      props: { definition: normalizeText(row.definition), enabled: TRIGGER_ENABLED[String(row.enabled)] ?? String(row.enabled), comment: str(row.comment) },
    });
  }

  // The twin's rows are turned into objects last, so the main session's are processed while it reads.
  const { constraints, indexes, policies } = await (tableReads ?? readTables(main));

  for (const row of constraints) {
    add({
      kind: 'constraint',
      schema: String(row.schema),
      name: `${row.table}.${row.name}`,
      table: String(row.table),
      props: {
        type: CONSTRAINT_TYPES[String(row.type)] ?? String(row.type),
        definition: normalizeText(row.definition),
        deferrable: Boolean(row.deferrable),
        deferred: Boolean(row.deferred),
        comment: str(row.comment),
      },
    });
  }

  for (const row of indexes) {
    add({
      kind: 'index',
      schema: String(row.schema),
      name: String(row.name),
      table: String(row.table),
      props: { definition: normalizeText(row.definition), comment: str(row.comment) },
    });
  }

  for (const row of policies) {
    add({
      kind: 'policy',
      schema: String(row.schema),
      name: `${row.table}.${row.name}`,
      table: String(row.table),
      props: {
        command: POLICY_COMMANDS[String(row.command)] ?? String(row.command),
        permissive: Boolean(row.permissive),
        roles: ((row.roles ?? []) as string[]).slice().sort(),
        using: normalizeText(row.using_expr),
        withCheck: normalizeText(row.check_expr),
        comment: str(row.comment),
      },
    });
  }

  for (const row of defaults) {
    const role = String(row.role);
    if (rules.ignoredRoles.has(role)) continue;
    const objects = DEFAULT_ACL_OBJECTS[String(row.objtype)] ?? String(row.objtype);
    const granted = withoutPlatformDefaultGrants(acl(row.acl), rules, alias(role), str(row.schema), objects);
    if (Object.keys(granted).length === 0) continue;
    add({
      kind: 'default_privileges',
      ...(row.schema ? { schema: String(row.schema) } : {}),
      name: `${alias(role)}:${objects}`,
      props: { role: alias(role), objects, acl: granted },
    });
  }

  const schemaSet = new Set(schemas);
  for (const row of publications) {
    const tables = ((row.tables ?? []) as [string, string, string | null][])
      .filter(([schema]) => schemaSet.has(schema))
      .map(([schema, table, where]) => (where ? `${schema}.${table} where ${normalizeText(where)}` : `${schema}.${table}`))
      .sort();
    add({
      kind: 'publication',
      name: String(row.name),
      props: {
        allTables: Boolean(row.all_tables),
        publish: ['insert', 'update', 'delete', 'truncate'].filter((op) => row[op]).join(', '),
        viaRoot: Boolean(row.via_root),
        tables,
        schemas: ((row.schemas ?? []) as string[]).slice().sort(),
        comment: str(row.comment),
      },
    });
  }

  for (const row of unmodeled) {
    add({ kind: 'unmodeled', ...(row.schema ? { schema: String(row.schema) } : {}), name: `${row.what} ${row.name}`, props: { what: String(row.what) } });
  }

  return { format: 'postgate-catalog/1', profile, serverMajor: major, schemas: [...schemas].sort(), objects: sortObjects(objects) };
}

/** By kind, schema and name; each key is built once (55,000 objects sort in a tenth of the time). */
function sortObjects(objects: CatalogObject[]): CatalogObject[] {
  const keyed = objects.map((object) => ({ key: `${object.kind}\u0000${object.schema ?? ''}\u0000${object.name}`, object }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ object }) => object);
}

const CONSTRAINT_TYPES: Record<string, string> = { p: 'primary key', f: 'foreign key', u: 'unique', c: 'check', x: 'exclusion', t: 'constraint trigger' };
const VOLATILITY: Record<string, string> = { i: 'immutable', s: 'stable', v: 'volatile' };
const PARALLEL: Record<string, string> = { s: 'safe', r: 'restricted', u: 'unsafe' };
const TRIGGER_ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'replica', A: 'always' };
const POLICY_COMMANDS: Record<string, string> = { r: 'select', a: 'insert', w: 'update', d: 'delete', '*': 'all' };
