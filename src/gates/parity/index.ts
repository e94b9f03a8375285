/**
 * parity-check: do two live databases (the source and the target of a cutover) hold the same
 * schema, rows, sequences, roles, settings and extensions? Both are read-only, each read inside
 * one repeatable-read snapshot shared by its `jobs` sessions, and both sides are read at once.
 *
 *   schema       the catalog diff engine, platform objects excluded when either side is Supabase
 *   rows         exact counts, and exact keyed checksums (src/catalog/row-digests.ts) located in
 *                key ranges when they differ
 *   sequences    on the target, each sequence's next value above the column it feeds
 *   roles        the repo config's `roles`: present with the source's attributes and memberships,
 *                and assumable by their `assumed-by` login roles
 *   settings     database- and role-level `ALTER ... SET`, compared by hashes the servers compute
 *   extensions   installed, and in the same version
 */
import { diffSnapshots, snapshot } from '../../catalog/index.ts';
import { type DigestTable, digestColumns, digestTables, locateDifferences, type TableDigest, tableKey } from '../../catalog/row-digests.ts';
import { checkRequiredRoles, diffRoles, readRoles } from '../../catalog/roles.ts';
import { PROFILES } from '../../catalog/snapshot.ts';
import type { ParityOptions } from '../../config/gates.ts';
import type { RequiredRole } from '../../config/repo-config.ts';
import { UserError } from '../../errors.ts';
import type { Finding, GateResult } from '../../findings/types.ts';
import { isSupabaseDatabase, SUPABASE_MANAGED_ROLES } from '../../postgres/baseline/supabase.ts';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import { extensionFindings, schemaFindings, sequenceFindings, settingFindings, type TableComparison, tableFindings, tableStatus } from './checks.ts';
import { buildPlan, type Plan, tableLabel } from './plan.ts';
import { parityFinding } from './rules.ts';
import {
  closeSide,
  openSide,
  readAttachedSettings,
  readExtensions,
  readFeedingSequences,
  readUserTables,
  type Side,
  tablesFilteredByRls,
  type UserTable,
} from './sides.ts';

export { PARITY_RULES } from './rules.ts';

export async function run(options: ParityOptions, context: GateContext): Promise<GateResult> {
  return runGate('parity', options, context, async () => {
    const plan = buildPlan(options);
    const opened = await Promise.allSettled([openSide('source', plan.source, plan.jobs), openSide('target', plan.target, plan.jobs)]);
    const sides = opened.flatMap((side) => (side.status === 'fulfilled' ? [side.value] : []));
    try {
      const failed = opened.filter((side): side is PromiseRejectedResult => side.status === 'rejected').map((side) => side.reason as unknown);
      // Neither side opened: both are named, so one run shows both fixes.
      if (failed.length === 2 && failed.every((error) => error instanceof UserError)) {
        const [source, target] = failed.map((error) => (error as UserError).message);
        throw new UserError(`${source!.replace(/\.$/, '')}; and ${target!.replace(/^[A-Z](?=[a-z])/, (letter) => letter.toLowerCase())}`);
      }
      if (failed.length) throw failed[0];
      return await compare(sides[0]!, sides[1]!, plan, context);
    } finally {
      await Promise.all(sides.map(closeSide));
    }
  });
}

/** A table to compare, with how its rows are compared. */
interface PlannedTable {
  table: UserTable;
  digest?: DigestTable;
  keyMissingOnTarget?: boolean;
}

async function compare(source: Side, target: Side, plan: Plan, context: GateContext): Promise<GateOutput> {
  const [sourceMain, targetMain] = [source.sessions[0]!, target.sessions[0]!];
  const supabase = (await isSupabaseDatabase(sourceMain)) || (await isSupabaseDatabase(targetMain));
  const profile = supabase ? 'supabase' : 'postgres';
  const excludeSchemas = [...PROFILES[profile].excludedSchemas];
  context.log.info(
    `Comparing ${source.label} (PostgreSQL ${source.serverMajor}) with ${target.label} (PostgreSQL ${target.serverMajor})${supabase ? ', Supabase platform objects excluded' : ''}.`,
  );
  const findings: Finding[] = [];

  const [sourceSchema, targetSchema] = await Promise.all([
    snapshot(sourceMain, { profile, excludeSchemas }),
    snapshot(targetMain, { profile, excludeSchemas }),
  ]);
  // Extensions are compared in full below (platform ones too); the diff would repeat them.
  const differences = diffSnapshots(sourceSchema, targetSchema).filter((difference) => !difference.minor && difference.kind !== 'extension');
  findings.push(...schemaFindings(differences));

  const [sourceTables, targetTables] = await Promise.all([readUserTables(sourceMain, excludeSchemas), readUserTables(targetMain, excludeSchemas)]);
  const planned = await planTables(sourceMain, sourceTables, targetTables, plan);
  for (const side of [source, target]) {
    const filtered = await tablesFilteredByRls(
      side.sessions[0]!,
      planned.map((entry) => entry.table),
    );
    if (filtered.length) {
      throw new UserError(
        `Input \`${side.name}-database-url\` connects as a role that row level security filters on ${filtered.slice(0, 3).join(', ')}${filtered.length > 3 ? ` and ${filtered.length - 3} more table(s)` : ''}, so counts and checksums would be what the policies let it see; connect as the tables' owner or a role with BYPASSRLS.`,
      );
    }
  }
  const digested = planned.filter((entry) => entry.digest);
  const countedOnly = planned.filter((entry) => !entry.digest);
  const started = performance.now();
  const [sourceDigests, targetDigests] = await Promise.all([
    digestTables(
      source.sessions,
      digested.map((entry) => entry.digest!),
    ),
    digestTables(
      target.sessions,
      digested.map((entry) => entry.digest!),
    ),
  ]);
  // After the digests: a session runs one query at a time.
  const [sourceCounts, targetCounts] = await Promise.all([countRows(sourceMain, countedOnly, plan), countRows(targetMain, countedOnly, plan)]);
  const digestMs = Math.round(performance.now() - started);

  const comparisons: TableComparison[] = [];
  for (const [index, entry] of digested.entries()) {
    const label = tableLabel(entry.table);
    const [mine, theirs] = [sourceDigests[index]!, targetDigests[index]!];
    const comparison: TableComparison = {
      table: label,
      key: entry.digest!.key,
      sourceRows: mine.rows,
      targetRows: theirs.rows,
      sourceDigest: mine.sha256,
      targetDigest: theirs.sha256,
      ...(plan.expected.has(label) ? { excluded: plan.expected.get(label)! } : {}),
    };
    if (!sameDigest(mine, theirs)) comparison.ranges = await locateDifferences(sourceMain, targetMain, entry.digest!);
    comparisons.push(comparison);
  }
  for (const [index, entry] of countedOnly.entries()) {
    const label = tableLabel(entry.table);
    comparisons.push({
      table: label,
      sourceRows: sourceCounts[index]!,
      targetRows: targetCounts[index]!,
      ...(entry.keyMissingOnTarget ? { keyMissingOnTarget: true } : {}),
      ...(plan.expected.has(label) ? { excluded: plan.expected.get(label)! } : {}),
    });
  }
  comparisons.sort((a, b) => a.table.localeCompare(b.table));
  findings.push(...tableFindings(comparisons));

  findings.push(...sequenceFindings(await readFeedingSequences(targetMain, excludeSchemas)));

  const ignoredRoles = new Set(supabase ? SUPABASE_MANAGED_ROLES : []);
  const [sourceSettings, targetSettings] = await Promise.all([readAttachedSettings(sourceMain), readAttachedSettings(targetMain)]);
  findings.push(...settingFindings(sourceSettings, targetSettings, ignoredRoles));

  const [sourceExtensions, targetExtensions] = await Promise.all([readExtensions(sourceMain), readExtensions(targetMain)]);
  findings.push(...extensionFindings(sourceExtensions, targetExtensions));

  findings.push(...(await roleFindings(source, target, context.config.roles)));

  const rows = (side: 'sourceRows' | 'targetRows') => comparisons.reduce((sum, table) => sum + table[side], 0);
  return {
    findings,
    metrics: {
      tables: comparisons.length,
      tables_checksummed: digested.length,
      tables_differing: comparisons.filter((table) => !['match', 'count matches, no key', 'count matches, key missing on target'].includes(tableStatus(table)))
        .length,
      source_rows: rows('sourceRows'),
      target_rows: rows('targetRows'),
      schema_differences: differences.length,
      rows_ms: digestMs,
      connections_per_side: Math.min(source.sessions.length, target.sessions.length),
    },
    details: {
      source: `${source.label} (PostgreSQL ${source.serverMajor})`,
      target: `${target.label} (PostgreSQL ${target.serverMajor})`,
      tables: {
        title: 'Tables',
        columns: ['table', 'key', 'source_rows', 'target_rows', 'result'],
        rows: comparisons.map((table) => ({
          table: table.table,
          key: table.key?.join(', ') ?? '',
          source_rows: table.sourceRows,
          target_rows: table.targetRows,
          result: tableStatus(table),
        })),
        note: 'Rows are compared by exact count and by SHA-256 of their text in key order; a difference is located in key ranges. No row content is shown.',
      },
    },
  };
}

function sameDigest(a: TableDigest, b: TableDigest): boolean {
  return a.rows === b.rows && a.sha256 === b.sha256;
}

/**
 * Which tables to compare and how: the named ones (each must exist on the source and have a key),
 * else every user table of the source. A table missing on the target is the schema diff's finding
 * alone. A key is the `keys` entry, else the primary key or a unique NOT NULL index; the columns
 * hashed are those both sides have (a column one side lacks is the schema diff's finding).
 */
async function planTables(
  sourceMain: Side['sessions'][number],
  sourceTables: readonly UserTable[],
  targetTables: readonly UserTable[],
  plan: Plan,
): Promise<PlannedTable[]> {
  const onSource = new Map(sourceTables.map((table) => [tableLabel(table), table]));
  const onTarget = new Map(targetTables.map((table) => [tableLabel(table), table]));
  for (const [input, names] of [
    ['tables', plan.tables.map(tableLabel)],
    ['keys', [...plan.keys.keys()]],
    ['expected', [...plan.expected.keys()]],
  ] as const) {
    const unknown = names.find((name) => !onSource.has(name));
    if (unknown) throw new UserError(`Input \`${input}\` names table ${unknown}, which the source does not have; fix the name (schema.table).`);
  }
  const wanted = plan.tables.length ? plan.tables.map((table) => onSource.get(tableLabel(table))!) : [...sourceTables];
  const named = new Set(plan.tables.map(tableLabel));
  const planned: PlannedTable[] = [];
  for (const table of wanted) {
    const label = tableLabel(table);
    const twin = onTarget.get(label);
    if (!twin) continue;
    const given = plan.keys.get(label);
    for (const [input, columns] of [
      ['keys', given ?? []],
      ['expected', plan.expected.has(label) ? [plan.expected.get(label)!.column] : []],
    ] as const) {
      const missing = columns.find((column) => !table.columns.includes(column));
      if (missing) throw new UserError(`Input \`${input}\` names column ${missing} of ${label}, which the source's table does not have; fix the column name.`);
    }
    const key = given ?? (await tableKey(sourceMain, table));
    if (!key) {
      if (named.has(label)) {
        throw new UserError(
          `Input \`tables\` names ${label}, which has no primary key or unique NOT NULL index; add a \`keys\` entry for it (${label}: column [column ...]) or leave it out.`,
        );
      }
      planned.push({ table });
      continue;
    }
    if (key.some((column) => !twin.columns.includes(column))) {
      planned.push({ table, keyMissingOnTarget: true });
      continue;
    }
    const shared = new Set(twin.columns);
    const columns = (await digestColumns(sourceMain, table, key)).filter((column) => shared.has(column));
    const excluded = plan.expected.get(label);
    planned.push({ table, digest: { schema: table.schema, name: table.name, key, columns, ...(excluded ? { excludeSince: excluded } : {}) } });
  }
  return planned;
}

async function countRows(session: Side['sessions'][number], tables: readonly PlannedTable[], plan: Plan): Promise<number[]> {
  const counts: number[] = [];
  for (const { table } of tables) {
    const excluded = plan.expected.get(tableLabel(table));
    const where = excluded ? ` where ${quoteIdent(excluded.column)} < ${quoteLiteral(excluded.since)} or ${quoteIdent(excluded.column)} is null` : '';
    const result = await session.query<{ n: string }>(`select count(*)::text as n from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}${where}`);
    counts.push(Number(result.rows[0]?.n ?? 0));
  }
  return counts;
}

/** The repo config's roles: on the target with the source's attributes and memberships, and assumable by their login roles. */
async function roleFindings(source: Side, target: Side, required: readonly RequiredRole[]): Promise<Finding[]> {
  if (!required.length) return [];
  const names = required.map((role) => role.name);
  const [expected, actual] = await Promise.all([readRoles(source.sessions[0]!, { names }), readRoles(target.sessions[0]!, { names })]);
  const findings: Finding[] = [];
  const missing = new Set<string>();
  // Settings are compared for every role by settingFindings.
  for (const difference of diffRoles(expected, actual, { names }).filter((d) => d.kind !== 'role_setting')) {
    if (difference.kind === 'role_missing') missing.add(difference.role);
    findings.push(
      parityFinding({
        rule: difference.kind === 'role_missing' ? 'parity_role_missing' : 'parity_role_differs',
        object: { kind: 'role', name: difference.member ? `${difference.member} in ${difference.role}` : difference.role },
        message: `Role ${difference.role} on the target: ${difference.summary}.`,
        remediation: `On the target:\n${difference.restoreSql}`,
      }),
    );
  }
  for (const problem of await checkRequiredRoles(target.sessions[0]!, required)) {
    if (problem.kind === 'missing') {
      if (missing.has(problem.role)) continue;
      findings.push(
        parityFinding({
          rule: 'parity_role_missing',
          object: { kind: 'role', name: problem.role },
          message: `Role ${problem.role} is missing on the target (the repo config requires it; the source does not have it either).`,
          remediation: `On the target: create role ${quoteIdent(problem.role)} nologin; then grant it what the runbook says.`,
        }),
      );
    } else {
      findings.push(
        parityFinding({
          rule: 'parity_role_not_assumable',
          object: { kind: 'role', name: `${problem.login} -> ${problem.role}` },
          message: `On the target, ${problem.login} cannot set role ${problem.role}: ${problem.reason}.`,
          remediation: `On the target: grant ${quoteIdent(problem.role)} to ${quoteIdent(problem.login!)}${target.serverMajor >= 16 ? ' with set true' : ''};`,
        }),
      );
    }
  }
  return findings;
}
