/**
 * Runs every applicable rule as one read-only statement (the rule queries joined with
 * `union all` over the shared CTEs), then turns the rows into findings.
 */
import type { ClientBase } from 'pg';
import { finding, type Finding, type SourceLocation } from '../../findings/types.ts';
import { SUPABASE_MANAGED_SCHEMAS } from '../../postgres/baseline/supabase.ts';
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

interface RuleRow {
  rule: string;
  kind: string;
  schema: string | null;
  name: string;
  data: Row;
}

/** The rules that apply to this server and configuration. */
async function applicableRules(session: ClientBase, options: AuditOptions): Promise<RlsRule[]> {
  const needed = [...new Set(RLS_RULES.flatMap((rule) => rule.needs ?? []))];
  const facts = await session.query<{ major: number; present: string[] }>(
    `select current_setting('server_version_num')::int / 10000 as major,
            array(select n from unnest($1::text[]) as n where pg_catalog.to_regclass(n) is not null) as present`,
    [needed],
  );
  const { major, present } = facts.rows[0]!;
  return RLS_RULES.filter(
    (rule) =>
      (rule.minMajor === undefined || major >= rule.minMajor) &&
      (rule.needs ?? []).every((name) => present.includes(name)) &&
      (rule.optIn !== 'force-rls' || options.forceRls),
  );
}

/** The whole audit as one SQL statement and its parameters. */
export function auditStatement(rules: readonly RlsRule[], options: AuditOptions): { text: string; values: unknown[] } {
  const parts = rules.map(
    (rule) => `select '${rule.id}'::text as rule, q.kind::text, q.schema::text, q.name::text, to_jsonb(q) as data from (${rule.query}\n) q`,
  );
  return {
    text: `${RULE_CONTEXT_SQL}\n${parts.join('\nunion all\n')}`,
    values: [options.exposedSchemas, options.apiRoles, SYSTEM_SCHEMAS, SENSITIVE_COLUMN_NAMES, UPGRADE_BLOCKING_REG_TYPES],
  };
}

/** Runs the rules in a read-only transaction; the session may be read-only too. */
export async function runRules(session: ClientBase, options: AuditOptions): Promise<Finding[]> {
  const rules = await applicableRules(session, options);
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const statement = auditStatement(rules, options);
  await session.query('begin transaction read only');
  let rows: RuleRow[];
  try {
    await session.query(`set local search_path = pg_catalog`);
    rows = (await session.query<RuleRow>(statement.text, statement.values)).rows;
  } finally {
    await session.query('rollback').catch(() => undefined);
  }
  const findings: Finding[] = [];
  for (const row of rows) {
    const rule = byId.get(row.rule)!;
    if (rule.keep && !rule.keep(row.data)) continue;
    const location = rule.origin?.(row.data).map((key) => options.origins?.get(key)).find(Boolean);
    findings.push(
      finding({
        rule: rule.id,
        severity: rule.severity,
        object: { kind: row.kind, ...(row.schema ? { schema: row.schema } : {}), name: row.name },
        ...rule.describe(row.data),
        ...(location ? { location } : {}),
      }),
    );
  }
  return findings.sort((a, b) => a.key.localeCompare(b.key));
}
