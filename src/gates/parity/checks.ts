/**
 * Pure functions from what parity read on the two sides to findings: schema differences, row
 * counts and checksums (located in key ranges), sequences, attached settings and extensions.
 * No row content and no setting value reaches them: only names, counts, hashes, and integer keys.
 */
import type { SchemaDifference } from '../../catalog/index.ts';
import type { RangeComparison } from '../../catalog/row-digests.ts';
import type { Finding } from '../../findings/types.ts';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';
import type { ExpectedDelta } from './plan.ts';
import { parityFinding } from './rules.ts';
import type { AttachedSetting, FeedingSequences } from './sides.ts';
import { settingKey } from './sides.ts';

const count = (n: number) => n.toLocaleString('en-US');

function splitLabel(label: string): { schema: string; name: string } {
  const dot = label.indexOf('.');
  return { schema: label.slice(0, dot), name: label.slice(dot + 1) };
}

export function schemaFindings(differences: readonly SchemaDifference[]): Finding[] {
  return differences.map((difference) => {
    const what = `${difference.kind.replace(/_/g, ' ')} ${difference.schema ? `${difference.schema}.` : ''}${difference.name}`;
    const message =
      difference.change === 'missing'
        ? `${what} is in the source but not in the target.`
        : difference.change === 'unexpected'
          ? `${what} is in the target but not in the source.`
          : `${what} differs between source and target (${difference.changes.map((c) => c.property).join(', ')}).`;
    return parityFinding({
      rule: 'parity_schema_difference',
      object: { kind: difference.kind, ...(difference.schema ? { schema: difference.schema } : {}), name: difference.name },
      message,
      detail: difference.summary,
      ...(difference.restoreSql ? { remediation: `On the target:\n${difference.restoreSql}` } : {}),
    });
  });
}

export interface TableComparison {
  /** "schema.table" */
  table: string;
  /** Undefined: no key, counts only. */
  key?: readonly string[];
  sourceRows: number;
  targetRows: number;
  /** Both undefined for a table compared by count only. */
  sourceDigest?: string;
  targetDigest?: string;
  /** Where the differences are, for a keyed table whose digests differ. */
  ranges?: RangeComparison;
  excluded?: ExpectedDelta;
  /** Only counts were compared because the table's key is missing on the target (the schema finding says so). */
  keyMissingOnTarget?: boolean;
}

export type TableStatus = 'match' | 'count differs' | 'rows differ' | 'count matches, no key' | 'count matches, key missing on target';

export function tableStatus(table: TableComparison): TableStatus {
  if (table.sourceRows !== table.targetRows) return 'count differs';
  if (table.sourceDigest === undefined) return table.keyMissingOnTarget ? 'count matches, key missing on target' : 'count matches, no key';
  return table.sourceDigest === table.targetDigest ? 'match' : 'rows differ';
}

/** "keys 10,001–20,000 and 40,001–50,000 differ; 62 ranges of about 1,000 rows match" (integer keys) or by position otherwise. */
export function describeRanges(ranges: RangeComparison): string {
  const differing = ranges.ranges.filter((range) => !range.same);
  const matching = ranges.ranges.length - differing.length;
  let position = 0;
  const positions = new Map<number, [number, number]>();
  for (const range of ranges.ranges) {
    positions.set(range.index, [position + 1, position + range.sourceRows]);
    position += range.sourceRows;
  }
  const describe = (range: RangeComparison['ranges'][number]) => {
    const counts = range.targetRows !== range.sourceRows ? `${count(range.sourceRows)} rows in the source, ${count(range.targetRows)} in the target` : '';
    if (ranges.keysPrintable && range.from !== undefined) {
      const to = range.to !== undefined && range.to !== range.from ? `–${range.to}` : '';
      return `keys ${range.from}${to}${counts ? ` (${counts})` : ''}`;
    }
    const [first, last] = positions.get(range.index)!;
    return `range ${range.index + 1} of ${ranges.ranges.length} (rows ${count(first)}–${count(last)} in the source's key order${counts ? `; ${counts}` : ''})`;
  };
  const shown = differing.slice(0, 10).map(describe);
  const more = differing.length > 10 ? ` and ${differing.length - 10} more range(s)` : '';
  const average = ranges.ranges.length ? Math.round(position / ranges.ranges.length) : 0;
  return `${differing.length ? `${shown.join('; ')}${more} differ` : 'no range differs'}; ${matching} range(s) of about ${count(average)} rows match`;
}

export function tableFindings(tables: readonly TableComparison[]): Finding[] {
  const findings: Finding[] = [];
  for (const table of tables) {
    const status = tableStatus(table);
    const object = { kind: 'table', ...splitLabel(table.table) };
    const excluded = table.excluded ? ` Rows with ${table.excluded.column} >= ${table.excluded.since} are left out on both sides (input \`expected\`).` : '';
    const located = table.ranges ? ` Located by key (${table.key?.join(', ')}): ${describeRanges(table.ranges)}.` : '';
    if (status === 'count differs') {
      const delta = table.targetRows - table.sourceRows;
      findings.push(
        parityFinding({
          rule: 'parity_row_count_mismatch',
          object,
          message: `Table ${table.table} has ${count(table.targetRows)} rows on the target but ${count(table.sourceRows)} on the source (${delta > 0 ? '+' : ''}${count(delta)}).${located}${excluded}`,
          remediation:
            'Re-copy the ranges that differ (or the table), or, if the rows were written on purpose since a point in time, declare it in the `expected` input (schema.table: column >= timestamp).',
        }),
      );
    } else if (status === 'rows differ') {
      findings.push(
        parityFinding({
          rule: 'parity_rows_differ',
          object,
          message: `Table ${table.table} has the same ${count(table.sourceRows)} rows on both sides, but their contents differ.${located}${excluded}`,
          remediation:
            'Compare the ranges named here on both sides (same TimeZone and DateStyle), look for writes that reached only one side (dual-write gaps, triggers that ran during the copy), and re-copy them.',
        }),
      );
    } else if (status === 'count matches, no key') {
      findings.push(
        parityFinding({
          rule: 'parity_table_no_key',
          object,
          message: `Table ${table.table} has no primary key or unique NOT NULL index, so only its row count (${count(table.sourceRows)}) was compared, not its contents.${excluded}`,
          remediation: `Give it a primary key, or name its business key in the \`keys\` input (${table.table}: column [column ...]).`,
        }),
      );
    }
  }
  return findings;
}

export function sequenceFindings(sequences: FeedingSequences): Finding[] {
  const findings: Finding[] = sequences.unreadable.map((name) =>
    parityFinding({
      rule: 'parity_sequence_not_checked',
      object: { kind: 'sequence', ...splitLabel(name) },
      message: `Sequence ${name} feeds a column on the target, but the connecting role may not read it (or the column), so it was not checked.`,
      remediation: 'Grant SELECT on the sequence (and the table) to the role in target-database-url, or connect as the owner.',
    }),
  );
  for (const sequence of sequences.readable) {
    if (sequence.extreme === null || !/^-?\d+$/.test(sequence.extreme) || !/^-?\d+$/.test(sequence.next)) continue;
    const ascending = !sequence.increment.startsWith('-');
    const next = BigInt(sequence.next);
    const extreme = BigInt(sequence.extreme);
    if (ascending ? next > extreme : next < extreme) continue;
    const label = `${sequence.schema}.${sequence.name}`;
    findings.push(
      parityFinding({
        rule: 'parity_sequence_behind',
        object: { kind: 'sequence', schema: sequence.schema, name: sequence.name },
        message: `Sequence ${label} on the target would hand out ${sequence.next} next, but ${sequence.tableSchema}.${sequence.tableName}.${sequence.column} already holds ${sequence.extreme}: the next insert collides.`,
        remediation: `On the target, after the last write to the source: select setval(${quoteLiteral(`${quoteIdent(sequence.schema)}.${quoteIdent(sequence.name)}`)}, (select ${ascending ? 'max' : 'min'}(${quoteIdent(sequence.column)}) from ${quoteIdent(sequence.tableSchema)}.${quoteIdent(sequence.tableName)}));`,
      }),
    );
  }
  return findings;
}

function settingLabel(setting: Pick<AttachedSetting, 'role' | 'scope' | 'name'>): { object: { kind: string; name: string }; where: string } {
  const where = setting.role ? `role ${setting.role}${setting.scope === 'database' ? ' in this database' : ''}` : 'the database';
  return { object: { kind: 'setting', name: setting.role ? `${setting.role}/${setting.name}` : setting.name }, where };
}

/** Settings attached on the source that the target lacks or has with another value (settings of `ignoredRoles` are the platform's). */
export function settingFindings(source: readonly AttachedSetting[], target: readonly AttachedSetting[], ignoredRoles: ReadonlySet<string>): Finding[] {
  const onTarget = new Map(target.map((setting) => [settingKey(setting), setting]));
  const findings: Finding[] = [];
  for (const setting of source) {
    if (ignoredRoles.has(setting.role)) continue;
    const { object, where } = settingLabel(setting);
    const twin = onTarget.get(settingKey(setting));
    if (!twin) {
      findings.push(
        parityFinding({
          rule: 'parity_setting_lost',
          object,
          message: `Setting ${setting.name} is attached to ${where} on the source but not on the target.`,
          remediation: `On the target: ${setting.role ? `ALTER ROLE ${setting.role}${setting.scope === 'database' ? ' IN DATABASE <database>' : ''}` : 'ALTER DATABASE <database>'} SET ${setting.name} = <the value from your secret store or runbook>;`,
        }),
      );
    } else if (twin.hash !== setting.hash) {
      findings.push(
        parityFinding({
          rule: 'parity_setting_differs',
          object,
          message: `Setting ${setting.name} of ${where} has a different value on the target than on the source (compared by SHA-256; neither value is shown).`,
          remediation: 'Set the value you mean on the target from your secret store or runbook.',
        }),
      );
    }
  }
  return findings;
}

export function extensionFindings(source: Readonly<Record<string, string>>, target: Readonly<Record<string, string>>): Finding[] {
  const findings: Finding[] = [];
  for (const [name, version] of Object.entries(source)) {
    const have = target[name];
    if (have === undefined) {
      findings.push(
        parityFinding({
          rule: 'parity_extension_missing',
          object: { kind: 'extension', name },
          message: `Extension ${name} (${version}) is installed on the source but not on the target.`,
          remediation: `On the target: create extension ${name} version '${version}' (in the schema the source has it in).`,
        }),
      );
    } else if (have !== version) {
      findings.push(
        parityFinding({
          rule: 'parity_extension_version',
          object: { kind: 'extension', name },
          message: `Extension ${name} is version ${version} on the source but ${have} on the target.`,
          remediation: `Decide which version you mean to run, then \`alter extension ${name} update to '<version>'\` on the side that is behind.`,
        }),
      );
    }
  }
  return findings;
}
