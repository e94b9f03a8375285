/**
 * The application's Data API calls (src/api-usage/) against what the database grants: pure
 * functions from what was read to findings and to the report's "Data API surface".
 *
 * A call reaches `schema.name`: the schema its chain names (`.schema('s')`), else the client's
 * default, the first exposed schema (PostgREST's default). Calls are grouped per object, and each
 * rule gives at most one finding per object, carrying every call site, the statement that fixes
 * it, and (as related locations) the migration that created the object and the further call sites.
 */
import type { ApiCall, ApiOperation, ApiTarget, ApiUsage, CallSite } from '../../api-usage/types.ts';
import type { Finding, ObjectRef, Severity, SourceLocation } from '../../findings/types.ts';
import { findOrigin } from '../../migrations/origins.ts';
import { quoteLiteral } from '../../postgres/connect.ts';
import { plural } from '../../report/format.ts';
import { inertInline } from '../../report/inert.ts';
import { type ApiUsageRuleId, apiUsageFinding } from './api-usage-rules.ts';

export const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];

/** What each table operation needs; a chain whose operation the scan could not read is checked as a read. */
const PRIVILEGES_OF: Record<Exclude<ApiOperation, 'execute' | 'storage'>, readonly TablePrivilege[]> = {
  select: ['SELECT'],
  insert: ['INSERT'],
  update: ['UPDATE'],
  upsert: ['INSERT', 'UPDATE'],
  delete: ['DELETE'],
};
const UNKNOWN_OPERATION: readonly TablePrivilege[] = ['SELECT'];

/** A table, view, materialized view or foreign table whose name the app calls, in any schema. */
export interface RelationFacts {
  schema: string;
  name: string;
  /** table, view, materialized view, foreign table. */
  kind: string;
  rls: boolean;
  /** Per role (the API roles and service_role that exist): the privileges it holds, counted only with USAGE on the schema. */
  privileges: Record<string, TablePrivilege[]>;
  /** Roles with USAGE on the schema. */
  schemaUsage: string[];
  /** Per command, the roles the table's policies name (a policy FOR ALL counts for each). */
  policyRoles: Partial<Record<TablePrivilege, string[]>>;
  /**
   * Sequences the column defaults call (serial columns: `nextval(...)`), with the roles that may use
   * them (USAGE or UPDATE, and USAGE on their schema). An insert runs the default as the caller, so it
   * needs them too; identity columns need nothing.
   */
  sequences: ReadonlyArray<{ schema: string; name: string; usable: string[] }>;
}

/** One overload of a function whose name the app calls, in any schema. */
export interface FunctionFacts {
  schema: string;
  name: string;
  /** pg_get_function_identity_arguments: `p_id integer`. */
  args: string;
  /** Roles that may execute it, USAGE on the schema included. */
  executable: string[];
  schemaUsage: string[];
}

export interface ApiFacts {
  mode: 'shadow' | 'live';
  exposedSchemas: readonly string[];
  /** The first is the anonymous role, the second the signed-in one. */
  apiRoles: readonly string[];
  /** service_role, when the database has it. */
  serverRole?: string;
  relations: readonly RelationFacts[];
  functions: readonly FunctionFacts[];
  /** Bucket ids that exist (or that supabase/config.toml declares); undefined when they could not be read. */
  buckets?: ReadonlySet<string>;
  /** Where the shadow's objects were created (`kind:schema.name`), PR mode only. */
  origins?: ReadonlyMap<string, SourceLocation>;
}

/** Every call to one object. */
export interface CalledObject {
  target: ApiTarget;
  /** The resolved schema (buckets: `storage`). */
  schema: string;
  name: string;
  /** Sorted by file and line. */
  calls: ApiCall[];
}

const bySite = (a: CallSite, b: CallSite) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;

/** The calls grouped per object they reach, in a stable order. */
export function groupCalls(usage: ApiUsage, exposedSchemas: readonly string[]): CalledObject[] {
  const groups = new Map<string, CalledObject>();
  const fallback = exposedSchemas[0] ?? 'public';
  for (const call of usage.calls) {
    const schema = call.target === 'bucket' ? 'storage' : (call.schema ?? fallback);
    const key = `${call.target}\u0000${schema}\u0000${call.name}`;
    const group = groups.get(key) ?? { target: call.target, schema, name: call.name, calls: [] };
    group.calls.push(call);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((group) => ({ ...group, calls: [...group.calls].sort((a, b) => bySite(a.site, b.site)) }))
    .sort((a, b) => a.target.localeCompare(b.target) || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name));
}

export const siteText = (site: CallSite): string => `${site.file}:${site.line}`;
const where = (site: CallSite): SourceLocation => ({ file: site.file, line: site.line });

const ident = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);
const qualified = (schema: string, name: string) => `${ident(schema)}.${ident(name)}`;
const label = (schema: string, name: string) => inertInline(`${schema}.${name}`);

/** `a`, `a and b`, `a, b and c`. */
function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** "Neither anon nor authenticated has", "anon has no", "None of web_anon, web_user and admin has". */
function nobody(roles: readonly string[], verb: string): string {
  if (roles.length === 1) return `${roles[0]} lacks the privilege to ${verb}`;
  if (roles.length === 2) return `Neither ${roles[0]} nor ${roles[1]} may ${verb}`;
  return `None of ${list(roles)} may ${verb}`;
}

const operationsOf = (call: ApiCall): string => (call.operations.length ? call.operations.join(', ') : 'unknown operation');

/** `Call sites (2): src/a.ts:3 (select), src/b.ts:9 (insert)`. */
function callSitesLine(object: CalledObject): string {
  const sites = object.calls.map((call) => `${siteText(call.site)}${object.target === 'table' ? ` (${operationsOf(call)})` : ''}`);
  return `Call sites (${object.calls.length}): ${sites.join(', ')}`;
}

/** First call site as the location; the creating migration and the other call sites as related locations. */
function placed(object: CalledObject, origin: SourceLocation | undefined): Pick<Finding, 'location' | 'related'> {
  const [first, ...rest] = object.calls;
  const related = [
    ...(origin ? [{ ...origin, message: `Where the migrations define ${label(object.schema, object.name)}` }] : []),
    ...rest.map((call) => ({ ...where(call.site), message: `Also called here (${call.language})` })),
  ];
  return { location: where(first!.site), ...(related.length ? { related } : {}) };
}

/** The privileges the calls to a table need, in the order SELECT, INSERT, UPDATE, DELETE. */
export function neededPrivileges(calls: readonly ApiCall[]): TablePrivilege[] {
  const needed = new Set<TablePrivilege>();
  for (const call of calls) {
    const operations = call.operations.filter((op): op is keyof typeof PRIVILEGES_OF => op in PRIVILEGES_OF);
    const privileges = operations.length ? operations.flatMap((op) => PRIVILEGES_OF[op]) : UNKNOWN_OPERATION;
    for (const privilege of privileges) needed.add(privilege);
  }
  return TABLE_PRIVILEGES.filter((privilege) => needed.has(privilege));
}

/** The signed-in role the remediation grants to when nothing says otherwise. */
const signedIn = (facts: ApiFacts): string => facts.apiRoles[1] ?? facts.apiRoles[0]!;

/** The roles a privilege is granted to: the API roles the table's policies name for it, else the signed-in role. */
function grantees(relation: RelationFacts, privilege: TablePrivilege, facts: ApiFacts): string[] {
  const named = (relation.policyRoles[privilege] ?? []).filter((role) => facts.apiRoles.includes(role));
  return named.length ? facts.apiRoles.filter((role) => named.includes(role)) : [signedIn(facts)];
}

/**
 * `grant usage on schema ...` (when needed), one `grant ... on table` per set of roles (see grantees),
 * and `grant usage on sequence ...` for the sequences inserts need, to the roles that insert.
 */
function tableGrants(relation: RelationFacts, privileges: readonly TablePrivilege[], sequences: RelationFacts['sequences'], facts: ApiFacts): string {
  const byRoles = new Map<string, TablePrivilege[]>();
  for (const privilege of privileges) {
    const roles = grantees(relation, privilege, facts).join(', ');
    byRoles.set(roles, [...(byRoles.get(roles) ?? []), privilege]);
  }
  const roles = [...new Set([...byRoles.keys()].flatMap((key) => key.split(', ')))];
  const usage = roles.filter((role) => !relation.schemaUsage.includes(role));
  const inserters = grantees(relation, 'INSERT', facts).join(', ');
  return [
    ...(usage.length ? [`grant usage on schema ${ident(relation.schema)} to ${usage.join(', ')};`] : []),
    ...[...byRoles].map(
      ([to, granted]) => `grant ${granted.map((p) => p.toLowerCase()).join(', ')} on table ${qualified(relation.schema, relation.name)} to ${to};`,
    ),
    ...sequences.map((sequence) => `grant usage on sequence ${qualified(sequence.schema, sequence.name)} to ${inserters};`),
  ].join('\n');
}

function functionGrants(overloads: readonly FunctionFacts[], facts: ApiFacts): string {
  const role = signedIn(facts);
  const first = overloads[0]!;
  return [
    ...(first.schemaUsage.includes(role) ? [] : [`grant usage on schema ${ident(first.schema)} to ${role};`]),
    ...overloads.map((f) => `grant execute on function ${qualified(f.schema, f.name)}(${f.args}) to ${role};`),
  ].join('\n');
}

const ORIGIN_KIND: Record<string, string> = { 'materialized view': 'materialized_view', 'foreign table': 'table' };

interface Check {
  facts: ApiFacts;
  make: (rule: ApiUsageRuleId, object: ObjectRef, parts: { message: string; detail?: string; remediation?: string; severity?: Severity }) => Finding;
}

/** Not served: the schema is not exposed, or no such object is in it (say where one with that name is). */
function missing(object: CalledObject, elsewhere: readonly string[], check: Check): Finding {
  const { facts } = check;
  const what = object.target === 'function' ? 'function' : 'table or view';
  const code = object.target === 'function' ? 'PGRST202' : 'PGRST205';
  const name = label(object.schema, object.name);
  const exposed = facts.exposedSchemas.includes(object.schema);
  const absent = facts.mode === 'shadow' ? `no migration creates ${what} ${name}` : `the database has no ${what} ${name}`;
  const message = exposed
    ? `The app calls ${what} ${name}, but ${absent}: the call returns 404 (${code}).`
    : `The app calls ${what} ${name}, but schema ${inertInline(object.schema)} is not exposed through the Data API${elsewhere.includes(object.schema) ? '' : ` (and ${absent})`}: the call returns an error (PGRST106).`;
  const others = elsewhere.filter((schema) => schema !== object.schema).map((schema) => label(schema, object.name));
  const detail = [
    others.length ? `Found instead: ${list(others)} (exposed schemas: ${facts.exposedSchemas.join(', ') || 'none'}).` : '',
    callSitesLine(object),
  ].filter(Boolean);
  const remediation = exposed
    ? `Create ${name} in a migration, or correct the name the code calls.`
    : `Add schema ${inertInline(object.schema)} to [api] schemas in supabase/config.toml (and grant usage on it to the API roles), or call an object in an exposed schema.`;
  return check.make(
    'api_object_missing',
    { kind: object.target === 'function' ? 'function' : 'table', schema: object.schema, name: object.name },
    {
      message,
      detail: detail.join('\n'),
      remediation,
    },
  );
}

function tableFindings(object: CalledObject, check: Check): Finding[] {
  const { facts } = check;
  const relation = facts.exposedSchemas.includes(object.schema) ? facts.relations.find((r) => r.schema === object.schema && r.name === object.name) : undefined;
  if (!relation) {
    const elsewhere = facts.relations.filter((r) => r.name === object.name).map((r) => r.schema);
    return [missing(object, elsewhere, check)];
  }
  const needed = neededPrivileges(object.calls);
  const apiHas = (privilege: TablePrivilege) => facts.apiRoles.some((role) => relation.privileges[role]?.includes(privilege));
  const serverHas = (privilege: TablePrivilege) => facts.serverRole !== undefined && (relation.privileges[facts.serverRole]?.includes(privilege) ?? false);
  const lacking = needed.filter((privilege) => !apiHas(privilege));
  const objectRef = { kind: relation.kind, schema: relation.schema, name: relation.name };
  const name = `${relation.kind} ${label(relation.schema, relation.name)}`;
  const rlsLine = relation.rls ? [] : [`Row level security is off on ${label(relation.schema, relation.name)}: enable it and add policies before granting.`];
  // Inserts run the column defaults as the caller: a serial column's nextval needs the sequence too.
  const sequencesLacking = needed.includes('INSERT') ? relation.sequences.filter((s) => !facts.apiRoles.some((role) => s.usable.includes(role))) : [];
  const serverUses = (sequence: RelationFacts['sequences'][number]) => facts.serverRole !== undefined && sequence.usable.includes(facts.serverRole);
  const sequenceText = (sequences: RelationFacts['sequences']) =>
    sequences.length ? `use sequence ${list(sequences.map((s) => label(s.schema, s.name)))}, which inserts into ${name} call` : '';
  const out: Finding[] = [];
  const denied = lacking.filter((privilege) => !serverHas(privilege));
  const sequencesDenied = sequencesLacking.filter((s) => !serverUses(s));
  if (denied.length || sequencesDenied.length) {
    const what = [denied.length ? `${list(denied)} on ${name}` : '', sequenceText(sequencesDenied)].filter(Boolean).join(', nor ');
    const error = denied.length ? '42501 permission denied' : '42501 permission denied for sequence';
    out.push(
      check.make('api_privilege_missing', objectRef, {
        message: `${nobody(facts.apiRoles, what)}: the app's calls fail for every user with ${error}.`,
        detail: [...rlsLine, callSitesLine(object)].join('\n'),
        remediation: tableGrants(relation, denied, sequencesDenied, facts),
      }),
    );
  }
  const serverOnly = lacking.filter(serverHas);
  const sequencesServerOnly = sequencesLacking.filter(serverUses);
  if (serverOnly.length || sequencesServerOnly.length) {
    const what = [serverOnly.length ? `${list(serverOnly)} on ${name}` : '', sequenceText(sequencesServerOnly)].filter(Boolean).join(', and ');
    out.push(
      check.make('api_privilege_service_role_only', objectRef, {
        message: `Only ${facts.serverRole} may ${what}: the app's calls work from server code with the service role key, and fail with 42501 for users.`,
        detail: [...rlsLine, callSitesLine(object)].join('\n'),
        remediation: `-- only if these calls run as a user (browser, app); server code needs nothing\n${tableGrants(relation, serverOnly, sequencesServerOnly, facts)}`,
      }),
    );
  }
  return out;
}

function functionFindings(object: CalledObject, check: Check): Finding[] {
  const { facts } = check;
  const overloads = facts.exposedSchemas.includes(object.schema) ? facts.functions.filter((f) => f.schema === object.schema && f.name === object.name) : [];
  if (!overloads.length) {
    const elsewhere = [...new Set(facts.functions.filter((f) => f.name === object.name).map((f) => f.schema))];
    return [missing(object, elsewhere, check)];
  }
  if (overloads.some((f) => f.executable.some((role) => facts.apiRoles.includes(role)))) return [];
  const objectRef = { kind: 'function', schema: object.schema, name: object.name };
  const name = `function ${label(object.schema, object.name)}`;
  const serverOnly = facts.serverRole !== undefined && overloads.some((f) => f.executable.includes(facts.serverRole!));
  const remediation = functionGrants(overloads, facts);
  if (serverOnly) {
    return [
      check.make('api_privilege_service_role_only', objectRef, {
        message: `Only ${facts.serverRole} may execute ${name}: the app's .rpc calls work from server code with the service role key, and fail with 42501 for users.`,
        detail: callSitesLine(object),
        remediation: `-- only if these calls run as a user (browser, app); server code needs nothing\n${remediation}`,
      }),
    ];
  }
  return [
    check.make('api_function_not_executable', objectRef, {
      message: `${nobody(facts.apiRoles, `execute ${name}`)} (no EXECUTE on ${overloads.length === 1 ? 'it' : 'any of its overloads'}, or no USAGE on its schema): the app's .rpc calls fail for every user with 42501 permission denied.`,
      detail: callSitesLine(object),
      remediation,
    }),
  ];
}

function bucketFindings(object: CalledObject, check: Check): Finding[] {
  const { facts } = check;
  if (!facts.buckets || facts.buckets.has(object.name)) return [];
  const name = inertInline(object.name);
  return [
    check.make(
      'api_bucket_missing',
      { kind: 'bucket', schema: 'storage', name: object.name },
      {
        message:
          facts.mode === 'shadow'
            ? `The app uses Storage bucket ${name}, which no migration, seed file or [storage.buckets] in supabase/config.toml creates: its uploads and downloads fail with "Bucket not found".`
            : `The app uses Storage bucket ${name}, which the database does not have: its uploads and downloads fail with "Bucket not found".`,
        detail: callSitesLine(object),
        remediation: `insert into storage.buckets (id, name) values (${quoteLiteral(object.name)}, ${quoteLiteral(object.name)});  -- or [storage.buckets.${name}] in supabase/config.toml`,
        // The live database is the truth: every call to the bucket fails now (in PR mode the app may still create it at run time).
        ...(facts.mode === 'live' ? { severity: 'error' as const } : {}),
      },
    ),
  ];
}

const CHECKS: Record<ApiTarget, (object: CalledObject, check: Check) => Finding[]> = {
  table: tableFindings,
  function: functionFindings,
  bucket: bucketFindings,
};

/** Where the migrations define the object a call reaches (PR mode). */
function originOf(object: CalledObject, facts: ApiFacts): SourceLocation | undefined {
  if (!facts.origins || object.target === 'bucket') return undefined;
  const kind = object.target === 'function' ? 'function' : (facts.relations.find((r) => r.schema === object.schema && r.name === object.name)?.kind ?? 'table');
  return findOrigin(facts.origins, { kind: ORIGIN_KIND[kind] ?? kind, schema: object.schema, name: object.name });
}

const TARGET_WORDS: Record<ApiTarget, string> = { table: 'table', function: 'function', bucket: 'bucket' };

/** The unresolved calls as one notice, and the unreadable files as another. */
function scanFindings(usage: ApiUsage): Finding[] {
  const out: Finding[] = [];
  const unresolved = [...usage.unresolved].sort((a, b) => bySite(a.site, b.site));
  if (unresolved.length) {
    const [first, ...rest] = unresolved;
    out.push(
      apiUsageFinding({
        rule: 'api_call_unresolved',
        object: { kind: 'code', name: 'Data API calls with computed names' },
        message: `${plural(unresolved.length, 'Data API call')} name${unresolved.length === 1 ? 's' : ''} ${unresolved.length === 1 ? 'its' : 'their'} table, function or bucket with an expression the scan cannot read, so ${unresolved.length === 1 ? 'it was' : 'they were'} not checked.`,
        detail: unresolved.map((call) => `${siteText(call.site)} ${TARGET_WORDS[call.target]}: ${inertInline(call.expression)}`).join('\n'),
        location: where(first!.site),
        ...(rest.length ? { related: rest.map((call) => ({ ...where(call.site), message: 'Also a call with a computed name' })) } : {}),
      }),
    );
  }
  const skipped = [...usage.skipped].sort((a, b) => a.file.localeCompare(b.file));
  if (skipped.length) {
    out.push(
      apiUsageFinding({
        rule: 'api_files_skipped',
        object: { kind: 'code', name: 'unreadable source files' },
        message: `${plural(skipped.length, 'source file')} selected for the Data API scan could not be read and ${skipped.length === 1 ? 'was' : 'were'} skipped: calls in ${skipped.length === 1 ? 'it' : 'them'} were not checked.`,
        detail: skipped.map((file) => `${inertInline(file.file)}: ${inertInline(file.reason)}`).join('\n'),
      }),
    );
  }
  return out;
}

/**
 * Every finding about the app's Data API calls, sorted by key; none when the scan found no calls.
 * Without `withScanNotices`, only those about the database (the base branch in PR mode: the
 * unresolved calls and unreadable files are the head's code, never "already on the base").
 */
export function apiUsageFindings(usage: ApiUsage, facts: ApiFacts, withScanNotices = true): Finding[] {
  const findings: Finding[] = [];
  for (const object of groupCalls(usage, facts.exposedSchemas)) {
    const origin = originOf(object, facts);
    const check: Check = {
      facts,
      make: (rule, ref, parts) => apiUsageFinding({ rule, object: ref, ...parts, ...placed(object, origin) }),
    };
    findings.push(...CHECKS[object.target](object, check));
  }
  return [...findings, ...(withScanNotices ? scanFindings(usage) : [])].sort((a, b) => a.key.localeCompare(b.key));
}

export function apiUsageMetrics(usage: ApiUsage): Record<string, number> {
  return { api_calls: usage.calls.length, api_calls_unresolved: usage.unresolved.length, api_files_scanned: usage.filesScanned };
}

/** Per object the app calls: `schema.name` (buckets: `storage.b`) -> "3 · src/a.ts:12" (count and first call site). */
export function callSummary(usage: ApiUsage, exposedSchemas: readonly string[]): Array<{ target: ApiTarget; object: string; calls: string }> {
  return groupCalls(usage, exposedSchemas).map((object) => ({
    target: object.target,
    object: `${object.schema}.${object.name}`,
    calls: `${object.calls.length} · ${siteText(object.calls[0]!.site)}`,
  }));
}

/**
 * The report's part of the Data API surface: one line on the scan, and the objects the app calls
 * that the access matrix does not show (functions, buckets, tables it lacks), with count and first
 * call site. Nothing but the line when the app makes no call.
 */
export function apiUsageDetails(usage: ApiUsage, exposedSchemas: readonly string[], inMatrix: ReadonlySet<string>): Record<string, unknown> {
  const summary = callSummary(usage, exposedSchemas);
  const files = plural(usage.filesScanned, 'file');
  const unresolved = usage.unresolved.length ? ` (${usage.unresolved.length} with computed names, not checked)` : '';
  const rest = summary.filter((entry) => entry.target !== 'table' || !inMatrix.has(entry.object));
  return {
    appCode: `${plural(usage.calls.length + usage.unresolved.length, 'Data API call')} in ${files} scanned${unresolved}`,
    ...(rest.length
      ? {
          appCalls: {
            title: inMatrix.size ? 'App calls to objects outside the access matrix' : 'App calls',
            columns: ['object', 'calls'],
            rows: rest.map((entry) => ({ object: `${entry.target} ${entry.object}`, calls: entry.calls })),
          },
        }
      : {}),
  };
}
