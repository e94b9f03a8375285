/**
 * Verifying the restored copy: its facts against the source's (live snapshot or manifest),
 * the settings the repo config expects, and the smoke queries. Each failed check is a finding
 * naming the table or object; each check also gets one line in the report's check list.
 */
import path from 'node:path';
import type { ClientBase } from 'pg';
import type { RepoConfig } from '../../config/repo-config.ts';
import type { Finding } from '../../findings/types.ts';
import { SUPABASE_EXTENSIONS } from '../../postgres/baseline/supabase.ts';
import { connect, type Session } from '../../postgres/connect.ts';
import { PINNED_SETTINGS_SQL } from '../../catalog/row-digests.ts';
import { collectFacts, type DatabaseFacts, type KeyedChecksum, splitTableName, SUPABASE_PLATFORM_SCHEMAS, tableLabel } from './facts.ts';
import type { InertCopy } from './neutralise.ts';
import { asRestored, compareSchemas, type ExpectedSchema, readSchema } from './schema.ts';
import type { Targeted } from './state.ts';
import { compareStorage } from './storage.ts';
import { drillFinding } from './rules.ts';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface Check {
  check: string;
  status: CheckStatus;
  detail: string;
}

export type SmokeQuery = RepoConfig['drill']['smoke'][number];

const SETTINGS_ARE_LOST =
  'Restores lose `ALTER DATABASE ... SET` values: plain pg_dump output carries them only with --create, pg_restore applies them only with --create, and supabase db dump never includes them.';

function check(name: string, failed: number, detail: string): Check {
  return { check: name, status: failed ? 'fail' : 'pass', detail };
}

export interface CompareOptions {
  checksumTables: readonly string[];
  /** The source is a Supabase project restored outside a supabase/postgres image: its platform extensions cannot be there. */
  platformExtensionsExpectedMissing: boolean;
}

/** Compares the copy's facts with the source's. Pure: unit-tested without a database. */
export function compareFacts(expected: DatabaseFacts, actual: DatabaseFacts, options: CompareOptions): { findings: Finding[]; checks: Check[] } {
  const findings: Finding[] = [];
  const actualTables = new Map(actual.tables.map((t) => [tableLabel(t), t]));
  const tableRef = (t: { schema: string; name: string }) => ({ kind: 'table', schema: t.schema, name: t.name });

  let countFailures = 0;
  let rows = 0;
  for (const table of expected.tables) {
    const copy = actualTables.get(tableLabel(table));
    rows += table.rows;
    if (!copy) {
      countFailures += 1;
      findings.push(
        drillFinding({
          rule: 'drill_table_missing',
          object: tableRef(table),
          message: `Table ${tableLabel(table)} (${table.rows} rows in the source) does not exist in the restored copy.`,
          remediation: 'Look at the restore errors for its CREATE TABLE, and check the backup job does not exclude it.',
        }),
      );
    } else if (copy.rows !== table.rows) {
      countFailures += 1;
      findings.push(
        drillFinding({
          rule: 'drill_row_count_mismatch',
          object: tableRef(table),
          message: `Table ${tableLabel(table)} has ${copy.rows} rows in the copy but ${table.rows} in the source (${copy.rows > table.rows ? '+' : ''}${copy.rows - table.rows}).`,
          remediation:
            'Look at the restore errors for its data (COPY) and for constraints that rejected rows; if the numbers come from a manifest, check it belongs to this backup.',
        }),
      );
    }
  }
  const checks: Check[] = [check('row counts', countFailures, `${expected.tables.length} tables, ${rows} rows in the source; ${countFailures} differ`)];

  let checksumFailures = 0;
  let compared = 0;
  const wanted = [...new Set(options.checksumTables.map((name) => tableLabel(splitTableName(name))))];
  const known = new Set(expected.tables.map(tableLabel));
  for (const name of wanted) {
    const table = splitTableName(name);
    if (!known.has(name)) {
      findings.push(
        drillFinding({
          rule: 'drill_checksum_table_unknown',
          object: { kind: 'table', ...table },
          message: `drill.checksum-tables names ${name}, which the source does not have, so it was not checksummed.`,
          remediation: 'Fix the table name (schema.table) in the repo config.',
        }),
      );
      continue;
    }
    if (expected.checksumTablesWithoutKey.includes(name)) {
      findings.push(
        drillFinding({
          rule: 'drill_checksum_table_no_key',
          object: { kind: 'table', ...table },
          message: `drill.checksum-tables names ${name}, which has no primary key (nor a unique index on NOT NULL columns), so it was not checksummed; its row count was compared.`,
          remediation: `Give ${name} a primary key, or take it out of drill.checksum-tables.`,
        }),
      );
      continue;
    }
    const want = expected.keyedChecksums[name];
    if (!want && expected.checksums?.[name] !== undefined) {
      findings.push(
        drillFinding({
          rule: 'drill_checksum_not_compared',
          object: { kind: 'table', ...table },
          message: `Table ${name} was not checksummed: the manifest was written by an older postgate, whose summed row hashes cannot be compared with the exact keyed digest; its row count was compared.`,
          remediation: 'Write the manifest again with this version at the next backup (postgate drill --write-manifest).',
        }),
      );
      continue;
    }
    if (!want || !actualTables.has(name)) continue;
    compared += 1;
    const difference = checksumDifference(want, actual.keyedChecksums[name]);
    if (difference) {
      checksumFailures += 1;
      findings.push(
        drillFinding({
          rule: 'drill_checksum_table_mismatch',
          object: { kind: 'table', ...table },
          message: `Table ${name}'s rows differ between source and copy (exact digest by key ${want.key.join(', ')}): ${difference}.`,
          remediation: 'Compare those rows in source and copy; look at the restore errors and at triggers that ran while loading.',
        }),
      );
    }
  }
  checks.push(
    wanted.length
      ? {
          ...check('key checksums', checksumFailures, `${wanted.length} table(s) configured; ${checksumFailures} differ`),
          ...(compared === 0 && !checksumFailures ? { status: 'skipped' as const } : {}),
        }
      : { check: 'key checksums', status: 'skipped', detail: 'no drill.checksum-tables in the repo config' },
  );

  const platform = new Set(options.platformExtensionsExpectedMissing ? SUPABASE_EXTENSIONS.map((e) => e.name) : []);
  const missingExtensions = Object.keys(expected.extensions).filter((name) => !(name in actual.extensions) && !platform.has(name));
  for (const name of missingExtensions) {
    findings.push(
      drillFinding({
        rule: 'drill_extension_missing',
        object: { kind: 'extension', name },
        message: `Extension ${name} (${expected.extensions[name]}) is installed in the source but missing in the restored copy.`,
        remediation: `Install ${name} on the restore server, or restore into an image that has it (shadow: docker, image: supabase/postgres:<tag> for Supabase).`,
      }),
    );
  }
  checks.push(check('extensions', missingExtensions.length, `${Object.keys(expected.extensions).length} in the source; ${missingExtensions.length} missing`));

  let rlsFailures = 0;
  for (const table of expected.tables) {
    const copy = actualTables.get(tableLabel(table));
    if (!copy || (copy.rls === table.rls && copy.forceRls === table.forceRls)) continue;
    rlsFailures += 1;
    const flag = (t: { rls: boolean; forceRls: boolean }) => `${t.rls ? 'enabled' : 'disabled'}${t.forceRls ? ' (forced)' : ''}`;
    findings.push(
      drillFinding({
        rule: 'drill_rls_mismatch',
        object: tableRef(table),
        message: `Row level security on ${tableLabel(table)} is ${flag(copy)} in the copy but ${flag(table)} in the source.`,
        remediation: 'Look at the restore errors for its ALTER TABLE ... ENABLE ROW LEVEL SECURITY.',
      }),
    );
  }
  if (expected.policyCount !== actual.policyCount) {
    rlsFailures += 1;
    findings.push(
      drillFinding({
        rule: 'drill_rls_mismatch',
        object: { kind: 'database', name: 'policies' },
        message: `The copy has ${actual.policyCount} RLS policies but the source has ${expected.policyCount}.`,
        remediation: 'Look at the restore errors for CREATE POLICY statements (a policy that names a missing role or function fails to restore).',
      }),
    );
  }
  checks.push(check('row level security', rlsFailures, `RLS flags of ${expected.tables.length} tables, ${expected.policyCount} policies`));

  const triggerFailure = expected.triggerCount !== actual.triggerCount ? 1 : 0;
  if (triggerFailure) {
    findings.push(
      drillFinding({
        rule: 'drill_trigger_count_mismatch',
        object: { kind: 'database', name: 'triggers' },
        message: `The copy has ${actual.triggerCount} triggers but the source has ${expected.triggerCount}.`,
        remediation: 'Look at the restore errors for CREATE TRIGGER statements and the functions they call.',
      }),
    );
  }
  checks.push(check('triggers', triggerFailure, `${expected.triggerCount} in the source`));

  if (expected.migrationVersion) {
    const want = expected.migrationVersion;
    const have = actual.migrationVersion;
    const failed = !have || have.version !== want.version ? 1 : 0;
    if (failed) {
      findings.push(
        drillFinding({
          rule: 'drill_migration_version_mismatch',
          object: { kind: 'table', ...splitTableName(want.table) },
          message: have
            ? `The copy's latest migration is ${have.version || '(none)'} but the source's is ${want.version || '(none)'} (${want.table}).`
            : `The copy has no migration history (${want.table}); the source's latest migration is ${want.version}.`,
          remediation:
            'Make sure the backup includes the migration history schema (supabase db dump leaves out supabase_migrations; keep it in the backup or re-apply it).',
        }),
      );
    }
    checks.push(check('migration version', failed, `${want.table}: ${want.version}`));
  } else {
    checks.push({ check: 'migration version', status: 'skipped', detail: 'the source has no migration history table postgate knows' });
  }

  const lost = expected.databaseSettings.filter((name) => !actual.databaseSettings.includes(name));
  if (lost.length) {
    findings.push(
      drillFinding({
        rule: 'drill_settings_not_restored',
        object: { kind: 'database', name: 'settings' },
        message: `The source database has ${lost.length} setting(s) attached that the copy does not: ${lost.join(', ')}.`,
        detail: SETTINGS_ARE_LOST,
        remediation: 'Re-apply them in the restore runbook (values from your secret store), or list the ones that matter in drill.expected-settings.',
      }),
    );
  }
  return { findings, checks };
}

/** Ranges named in a mismatch message, then "and N more". */
const RANGES_NAMED = 5;

/** A range of the source's key order: its keys for an integer key, else its row positions (a key may be row content). */
function rangeName(want: KeyedChecksum, index: number): string {
  const range = want.ranges[index];
  if (range?.from !== undefined && range.to !== undefined) return range.from === range.to ? `key ${range.from}` : `keys ${range.from}–${range.to}`;
  if (!range) return `the rows after the source's last (from row ${want.rows + 1} in key order)`;
  const first = index * want.rangeRows + 1;
  return `rows ${first}–${first + range.rows - 1} in key order`;
}

/**
 * Where the copy's digest differs from the source's, or undefined when it does not. With equal
 * row counts every differing range is named; otherwise the first, since the ranges after a lost
 * or extra row are shifted.
 */
export function checksumDifference(want: KeyedChecksum, have: KeyedChecksum | undefined): string | undefined {
  if (!have) return `the copy could not be read with the source's columns (${want.columns.length}); see the schema findings`;
  if (have.rows === want.rows && have.sha256 === want.sha256) return undefined;
  const count = Math.max(want.ranges.length, have.ranges.length);
  const differing = Array.from({ length: count }, (_, index) => index).filter(
    (index) => want.ranges[index]?.sha256 !== have.ranges[index]?.sha256 || want.ranges[index]?.rows !== have.ranges[index]?.rows,
  );
  const size = `${want.ranges.length} range(s) of ${want.rangeRows} rows`;
  if (have.rows !== want.rows) {
    const delta = have.rows - want.rows;
    return `the copy has ${Math.abs(delta)} row(s) ${delta > 0 ? 'more' : 'fewer'}; the first of ${size} that differs is ${rangeName(want, differing[0] ?? 0)} (the ranges after it are shifted, so not compared)`;
  }
  const named = differing.slice(0, RANGES_NAMED).map((index) => rangeName(want, index));
  const more = differing.length > RANGES_NAMED ? ` and ${differing.length - RANGES_NAMED} more` : '';
  return `${differing.length} of ${size} differ (${named.join(', ')}${more}); the other ${want.ranges.length - differing.length} match`;
}

/** Settings the repo config expects, looked up in a fresh session on the copy. */
export async function checkExpectedSettings(client: ClientBase, names: readonly string[]): Promise<{ findings: Finding[]; check: Check }> {
  if (names.length === 0)
    return { findings: [], check: { check: 'expected settings', status: 'skipped', detail: 'no drill.expected-settings in the repo config' } };
  const findings: Finding[] = [];
  for (const name of names) {
    const result = await client.query<{ present: boolean }>("select current_setting($1, true) is not null and current_setting($1, true) <> '' as present", [
      name,
    ]);
    if (result.rows[0]?.present) continue;
    findings.push(
      drillFinding({
        rule: 'drill_setting_missing',
        object: { kind: 'setting', name },
        message: `Setting ${name} is not set in the restored copy.`,
        detail: SETTINGS_ARE_LOST,
        remediation: `Add \`ALTER DATABASE <db> SET ${name} = ...\` (value from your secret store) to the restore runbook, or move the value to Vault; then allowlist this finding with that reason.`,
      }),
    );
  }
  return { findings, check: check('expected settings', findings.length, `${names.length} expected; ${findings.length} missing`) };
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  const text = String(value);
  return /^-?\d+(\.\d+)?$/.test(text) || text === 'true' || text === 'false' ? text : `a text of ${text.length} characters`;
}

/** Why a smoke query's result does not meet its expectation, or undefined when it does. */
export function smokeMismatch(expect: SmokeQuery['expect'], rows: ReadonlyArray<Record<string, unknown>>): string | undefined {
  if (expect === 'no-error') return undefined;
  if ('rows' in expect) return rows.length === expect.rows ? undefined : `returned ${rows.length} row(s), expected exactly ${expect.rows}`;
  if ('rows-at-least' in expect)
    return rows.length >= expect['rows-at-least'] ? undefined : `returned ${rows.length} row(s), expected at least ${expect['rows-at-least']}`;
  const first = rows[0] ? Object.values(rows[0])[0] : undefined;
  const want = expect.equals;
  const same = want === null ? first === null || first === undefined : first !== undefined && first !== null && String(first) === String(want);
  return same ? undefined : `returned ${rows.length ? describeValue(first) : 'no row'}, expected ${describeValue(want)}`;
}

/** Runs each smoke query in a transaction that is rolled back, so nothing it does is committed. */
export async function runSmokeQueries(client: ClientBase, queries: readonly SmokeQuery[]): Promise<{ findings: Finding[]; check: Check }> {
  if (queries.length === 0) return { findings: [], check: { check: 'smoke queries', status: 'skipped', detail: 'no drill.smoke in the repo config' } };
  const findings: Finding[] = [];
  for (const query of queries) {
    let problem: string | undefined;
    await client.query('begin');
    try {
      await client.query("set local statement_timeout = '60s'");
      const result = await client.query(query.sql);
      const rows = (Array.isArray(result) ? result[result.length - 1]?.rows : result.rows) ?? [];
      problem = smokeMismatch(query.expect, rows);
    } catch (error) {
      problem = `failed: ${(error as Error).message}`;
    } finally {
      await client.query('rollback').catch(() => undefined);
    }
    if (problem) {
      findings.push(
        drillFinding({
          rule: 'drill_smoke_failed',
          object: { kind: 'smoke-query', name: query.name },
          message: `Smoke query "${query.name}" ${problem}.`,
          detail: query.sql,
          remediation: 'Fix what the query reveals in the backup (or the query and its expect in drill.smoke).',
        }),
      );
    }
  }
  return { findings, check: check('smoke queries', findings.length, `${queries.length} run; ${findings.length} failed`) };
}

/**
 * verify: the inert copy's schema, row counts, key checksums, extensions, RLS, triggers and
 * migration version against the source's (live snapshot or manifest), the expected settings,
 * the smoke queries, and that the backup restored any data at all.
 */
export async function verifyCopy(state: Targeted, inert: InertCopy): Promise<void> {
  const { live, manifest, config, findings, checks, target, artifact } = state;
  const { copy, disabled, deleted } = inert;
  const supabase = state.supabase ?? false;
  const checksumTables = config['checksum-tables'];
  await state.phases.run('verify', 'schema, row counts, checksums, RLS, settings, smoke queries', async () => {
    const excludeSchemas = live?.facts.excludedSchemas ?? manifest?.facts.excludedSchemas ?? (supabase ? [...SUPABASE_PLATFORM_SCHEMAS] : []);
    // `jobs` sessions (at most 4) count and digest, largest table first; one more reads the schema meanwhile.
    const [schemaSession, ...more] = await openSessions(target.url, Math.min(state.jobs, 4));
    const sessions = [copy, ...more];
    state.cleanup.defer(() => Promise.all([schemaSession!, ...more].map((s) => s.end().catch(() => undefined))).then(() => undefined));
    await copy.query(PINNED_SETTINGS_SQL);
    const expected = live?.facts ?? manifest?.facts;
    // Only what the source digested is digested on the copy (nothing, without a source to compare with).
    const digestsLike = expected?.keyedChecksums ?? {};
    const [facts, schemaRead] = await Promise.all([
      collectFacts(sessions, { excludeSchemas, checksumTables, digestsLike }),
      readSchema(schemaSession!, { excludeSchemas, supabase }),
    ]);
    const actual: DatabaseFacts = countBackIn(facts, deleted);
    const expectedSchema: ExpectedSchema | undefined = live?.schema
      ? live.schema
      : manifest?.schema
        ? {
            fingerprint: manifest.schema.fingerprint,
            ...(manifest.schema.snapshot ? { snapshot: manifest.schema.snapshot as ExpectedSchema['snapshot'] } : {}),
          }
        : undefined;
    const copySchema = asRestored(schemaRead, disabled);
    if (expected) {
      const compared = compareFacts(expected, actual, { checksumTables, platformExtensionsExpectedMissing: supabase && !target.supabaseImage });
      findings.push(...compared.findings);
      checks.push(...compared.checks);
    } else {
      findings.push(
        drillFinding({
          rule: 'drill_no_parity_source',
          object: { kind: 'file', name: path.basename(artifact.path) },
          message: `No manifest for ${path.basename(artifact.path)}: the copy's ${actual.tables.length} tables and ${actual.tables.reduce((s, t) => s + t.rows, 0)} rows were recorded but not compared with the source.`,
          remediation:
            'Write a manifest at backup time (postgate drill --source-database-url ... --dump-path <backup> --write-manifest <backup>.manifest.json) and pass it as `manifest`.',
        }),
      );
      checks.push({ check: 'row counts', status: 'skipped', detail: `no source to compare with (${actual.tables.length} tables restored)` });
    }
    const storage = compareStorage(expected?.storage, actual.storage);
    findings.push(...storage.findings);
    checks.push(storage.check);
    if (expectedSchema) {
      const schema = compareSchemas(expectedSchema, copySchema);
      findings.push(...schema.findings);
      checks.push({
        check: 'schema',
        status: schema.differences ? 'fail' : 'pass',
        detail: `${copySchema.snapshot.objects.length} objects; ${schema.differences} differ`,
      });
    } else {
      checks.push({ check: 'schema', status: 'skipped', detail: `no source schema to compare with (fingerprint ${copySchema.fingerprint.slice(0, 12)})` });
    }
    const settings = await checkExpectedSettings(copy, config['expected-settings']);
    findings.push(...settings.findings);
    checks.push(settings.check);
    const smoke = await runSmokeQueries(copy, config.smoke);
    findings.push(...smoke.findings);
    checks.push(smoke.check);
    state.metrics.tables = actual.tables.length;
    state.metrics.rows = actual.tables.reduce((sum, t) => sum + t.rows, 0);
    const empty = emptyBackup(
      actual,
      config['expect-empty'],
      state.mode.kind === 'live' ? { kind: 'database', name: state.sourceLabel } : { kind: 'file', name: path.basename(artifact.path) },
    );
    findings.push(...empty.findings);
    checks.push(empty.check);
  });
  state.metrics.verify_ms = state.phases.lastMs();
}

/** More sessions to the copy, for reading its facts in parallel, with the pinned settings. */
async function openSessions(url: string, count: number): Promise<Session[]> {
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const session = await connect(url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
      sessions.push(session);
      await session.query(PINNED_SETTINGS_SQL);
    }
    return sessions;
  } catch (error) {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    throw error;
  }
}

/**
 * A backup that restores to no data at all (no tables, or not one row) proves nothing about
 * recovering the source: a dump of the wrong database, a schema-only run, a file cut down to
 * pg_dump's trailer. It fails the drill unless the repo config says the source is empty.
 */
export function emptyBackup(actual: DatabaseFacts, expectEmpty: boolean, object: { kind: string; name: string }): { findings: Finding[]; check: Check } {
  const rows = actual.tables.reduce((sum, t) => sum + t.rows, 0);
  const restored = `${actual.tables.length} table(s), ${rows} row(s) restored`;
  if (expectEmpty) return { findings: [], check: { check: 'backup not empty', status: 'skipped', detail: `drill.expect-empty is true (${restored})` } };
  if (rows > 0) return { findings: [], check: { check: 'backup not empty', status: 'pass', detail: restored } };
  const what = actual.tables.length === 0 ? 'no table at all' : `${actual.tables.length} table(s) and not one row`;
  return {
    findings: [
      drillFinding({
        rule: 'drill_backup_empty',
        object,
        message: `The backup restored to an empty database (${what}), so it would recover no data.`,
        remediation:
          "Check the backup job: a dump of the wrong database, a --schema-only run, or a file cut down to pg_dump's closing lines restores nothing. If the source database is meant to be empty, set `drill.expect-empty: true` in the repo config.",
      }),
    ],
    check: { check: 'backup not empty', status: 'fail', detail: restored },
  };
}

/** The copy's facts as restored: rows the inert step deleted are counted back in. */
function countBackIn(facts: DatabaseFacts, deleted: Readonly<Record<string, number>>): DatabaseFacts {
  return { ...facts, tables: facts.tables.map((t) => ({ ...t, rows: t.rows + (deleted[`${t.schema}.${t.name}`] ?? 0) })) };
}
