/**
 * Runs every applicable rule as one read-only statement (the rule queries joined with
 * `union all` over the shared CTEs), or as two over one shared snapshot when a twin session
 * can take part of the policies, then turns the rows into findings.
 */
import type { ClientBase } from 'pg';
import { UserError } from '../../errors.ts';
import { findingOf } from '../../findings/rules.ts';
import type { Finding, SourceLocation } from '../../findings/types.ts';
import { SUPABASE_MANAGED_SCHEMAS } from '../../postgres/baseline/supabase.ts';
import { beginSharedSnapshot, type ConnectOptions, withTwinSession } from '../../postgres/connect.ts';
import { RLS_RULES, type RlsRule, RULE_CONTEXT_SQL, type Row, SENSITIVE_COLUMN_NAMES, SYSTEM_SCHEMA_EXTRAS, UPGRADE_BLOCKING_REG_TYPES } from './rules.ts';

export interface AuditOptions {
  exposedSchemas: string[];
  /** The first is the anonymous role. */
  apiRoles: string[];
  forceRls: boolean;
  /** Where objects were created (`kind:schema.name` -> file and line), to locate findings. */
  origins?: Map<string, SourceLocation>;
}

export const SYSTEM_SCHEMAS: readonly string[] = [...new Set([...SUPABASE_MANAGED_SCHEMAS, ...SYSTEM_SCHEMA_EXTRAS])];

/** One of the query rules, with its literal id. */
type QueryRule = (typeof RLS_RULES)[number];

/** A finding of a query rule, at the rule's severity. */
const queryFinding = findingOf(RLS_RULES);

interface RuleRow {
  rule: string;
  kind: string;
  schema: string | null;
  name: string;
  data: Row;
}

/**
 * Relations rules read rows of: which exist (from the catalog, which any role may read; to_regclass
 * would fail without USAGE on the schema), and which this role cannot read in full: no USAGE or
 * SELECT, or row level security applies to it (as on storage.buckets for a plain read-only role)
 * without a permissive SELECT policy `USING (true)` for it, or with a restrictive one. A relation
 * with no pages on disk has no rows to hide (pg_relation_size needs no privilege).
 */
const NEEDED_RELATIONS_SQL = `
with needed as (
  select c.oid, n.oid as namespace, n.nspname || '.' || c.relname as name
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname || '.' || c.relname = any($1::text[])),
select_policies as (
  select p.polrelid, p.polpermissive, pg_catalog.pg_get_expr(p.polqual, p.polrelid) as qual
    from pg_catalog.pg_policy p
   where p.polcmd in ('r', '*')
     and (0::oid = any(p.polroles) or exists (select 1 from unnest(p.polroles) r where r <> 0 and pg_catalog.pg_has_role(r, 'USAGE'))))
select array(select name from needed) as present,
       array(select name from needed
              where pg_catalog.pg_relation_size(oid) > 0
                and not (pg_catalog.has_schema_privilege(namespace, 'USAGE') and pg_catalog.has_table_privilege(oid, 'SELECT')
                         and (not pg_catalog.row_security_active(oid)
                              or (exists (select 1 from select_policies p where p.polrelid = needed.oid and p.polpermissive and p.qual = 'true')
                                  and not exists (select 1 from select_policies p where p.polrelid = needed.oid and not p.polpermissive))))) as unreadable`;

/** The rules that apply to this database and configuration. */
async function applicableRules(session: ClientBase, options: AuditOptions): Promise<QueryRule[]> {
  const needed = [...new Set(RLS_RULES.flatMap((rule) => rule.needs ?? []))];
  const facts = await session.query<{ present: string[]; unreadable: string[] }>(NEEDED_RELATIONS_SQL, [needed]);
  const { present, unreadable } = facts.rows[0]!;
  const rules = RLS_RULES.filter((rule) => (rule.needs ?? []).every((name) => present.includes(name)) && (rule.optIn !== 'force-rls' || options.forceRls));
  // A rule that sees none (or only some) of the rows it checks would pass quietly: fail closed instead.
  const blind = rules.filter((rule) => (rule.needs ?? []).some((name) => unreadable.includes(name)));
  if (blind.length) {
    throw new UserError(
      `The role in \`database-url\` cannot read every row of ${unreadable.join(', ')}, which rule${blind.length > 1 ? 's' : ''} ${blind.map((rule) => rule.id).join(', ')} must read; grant it USAGE on the schema and SELECT on the table and let it see every row (BYPASSRLS, as Supabase's postgres and supabase_read_only_user have, or a SELECT policy for it with USING (true)), or connect as such a role.`,
    );
  }
  return rules;
}

/**
 * The policies one statement reads: those whose table's oid hashes, modulo `modulus`, to
 * one of `remainders`. Every rule that reads policies looks at one table at a time, so
 * statements over disjoint shards together find exactly what one statement over all finds.
 */
export interface PolicyShard {
  modulus: number;
  remainders: number[];
}

/** Rules reading the `policy` relation: they deparse every policy, which opens every table. */
export const readsPolicies = (rule: RlsRule): boolean => /\b(?:from|join)\s+policy\b/.test(rule.query);

/** A schema whose objects Supabase manages (storage, auth, graphql_public, ...). */
export const isPlatformSchema = (schema: string): boolean => SUPABASE_MANAGED_SCHEMAS.includes(schema);

/**
 * The exposed schemas the generic rules see: the platform's (e.g. `storage`, which old CLI
 * templates exposed) are left out, so that its tables, deny-all by design, are judged by the
 * Storage rules only, which read them whatever is exposed.
 */
const projectExposure = (exposedSchemas: readonly string[]): string[] => exposedSchemas.filter((schema) => !isPlatformSchema(schema));

/** The whole audit (or the rules given, over the policies of one shard) as one SQL statement and its parameters. */
export function auditStatement(rules: readonly RlsRule[], options: AuditOptions, shard?: PolicyShard): { text: string; values: unknown[] } {
  const parts = rules.map(
    (rule) => `select '${rule.id}'::text as rule, q.kind::text, q.schema::text, q.name::text, to_jsonb(q) as data from (${rule.query}\n) q`,
  );
  return {
    text: `${RULE_CONTEXT_SQL}\n${parts.join('\nunion all\n')}`,
    values: [
      projectExposure(options.exposedSchemas),
      options.apiRoles,
      SYSTEM_SCHEMAS,
      SENSITIVE_COLUMN_NAMES,
      UPGRADE_BLOCKING_REG_TYPES,
      shard?.modulus ?? null,
      shard?.remainders ?? null,
    ],
  };
}

/** Where a twin session may be opened: the audited database, with the first session's options. */
export interface TwinTarget {
  url: string;
  options: ConnectOptions;
}

/**
 * How the work is split with a twin session: deparsing the policies dominates (it opens
 * every table), so the first session takes three fifths of them and the twin the rest plus
 * every rule that reads no policy (measured on 5,000 tables / 20,000 policies: the two then
 * finish at about the same time; a half/half or two-thirds split left one waiting ~300 ms).
 */
const FIRST_SHARD: PolicyShard = { modulus: 5, remainders: [1, 2, 3] };
const TWIN_SHARD: PolicyShard = { modulus: 5, remainders: [0, 4] };

async function query(session: ClientBase, statement: { text: string; values: unknown[] }): Promise<RuleRow[]> {
  await session.query('set local search_path = pg_catalog; set local jit = off');
  return (await session.query<RuleRow>(statement.text, statement.values)).rows;
}

/**
 * Runs the rules in one read-only repeatable-read transaction (the session may be read-only
 * too). With `twinTarget`, a second session imports that transaction's snapshot and runs part
 * of the rules in parallel; without one (or when it cannot be opened), one statement runs all.
 */
export async function runRules(session: ClientBase, options: AuditOptions, twinTarget?: TwinTarget): Promise<Finding[]> {
  const rules = await applicableRules(session, options);
  const byId = new Map<string, QueryRule>(rules.map((rule) => [rule.id, rule]));
  const snapshotId = await beginSharedSnapshot(session);
  const policyRules = rules.filter(readsPolicies);
  const read = async (twin: ClientBase | undefined): Promise<RuleRow[]> => {
    if (!twin) return query(session, auditStatement(rules, options));
    const [first, second] = await Promise.all([
      query(session, auditStatement(policyRules, options, FIRST_SHARD)),
      query(twin, auditStatement(rules, options, TWIN_SHARD)),
    ]);
    return [...first, ...second];
  };
  let rows: RuleRow[];
  try {
    rows = twinTarget && snapshotId && policyRules.length ? await withTwinSession(twinTarget.url, twinTarget.options, snapshotId, read) : await read(undefined);
  } finally {
    await session.query('rollback').catch(() => undefined);
  }
  const findings: Finding[] = [];
  for (const row of rows) {
    const rule = byId.get(row.rule)!;
    if (rule.keep && !rule.keep(row.data)) continue;
    const location = rule
      .origin?.(row.data)
      .map((key) => options.origins?.get(key))
      .find(Boolean);
    findings.push(
      queryFinding({
        rule: rule.id,
        object: { kind: row.kind, ...(row.schema ? { schema: row.schema } : {}), name: row.name },
        ...rule.describe(row.data),
        ...(location ? { location } : {}),
      }),
    );
  }
  return findings.sort((a, b) => a.key.localeCompare(b.key));
}
