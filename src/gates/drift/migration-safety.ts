/**
 * Migration safety in PR mode: what each statement of the pull request's new migrations did on
 * the shadow (src/migrations/statement-effects.ts measures it) turned into findings. Pure: effects
 * and the repo config's `drift.migration-safety` in, findings out.
 *
 * Only relations that existed before the pull request count: a lock on a table the pull request
 * creates blocks nobody. A table with 0 rows in the shadow still counts (production has rows).
 */
import { findingOf, type Rule } from '../../findings/rules.ts';
import type { Finding, ObjectRef, Severity } from '../../findings/types.ts';
import { type Change, isStrong, type LockMode, lockModeName, type RelationRef, type StatementEffect } from '../../migrations/statement-effects.ts';
import { quoteIdent } from '../../postgres/connect.ts';

const ALLOW =
  'A small table may be rewritten or locked safely: name it in `drift.migration-safety.exceptions` (`{ table: schema.name, reason, rules? }`) in `.github/postgate.yml`, or allowlist `{ rule, object, reason, expires }` with the object named in the finding.';
const WHERE =
  "Measured in PR mode on the shadow, for every statement of the migrations the pull request adds (against `base-ref`), applied in the tool's transaction mode, from `pg_locks` and the catalog inside the migration's transaction.";

export const MIGRATION_SAFETY_RULES = [
  {
    id: 'migration_table_rewrite',
    gate: 'drift',
    severity: 'error',
    category: 'migration-safety',
    title: 'Migration rewrites an existing table',
    doc: `A statement gave an existing table (or index) a new file node (\`pg_class.relfilenode\` changed): PostgreSQL copied every row into a new file while holding an ACCESS EXCLUSIVE lock, so reads and writes wait for the whole copy, and the disk needs room for both copies. What rewrites is measured, not guessed: \`alter column ... type\` to a type that is not binary-coercible (\`integer\` to \`bigint\`, \`varchar(100)\` to \`varchar(20)\`; \`varchar(20)\` to \`varchar(200)\` or to \`text\` does not), \`add column\` with a volatile default (\`clock_timestamp()\`, \`gen_random_uuid()\`; a constant or \`now()\` is stored once in the catalog since PostgreSQL 11), \`set logged/unlogged\`, \`cluster\`, \`vacuum full\`, \`reindex\` (an index). PostgreSQL 15 and 17 rewrite in the same cases for these statements; 17 can also \`alter column ... set expression\` on a stored generated column, which rewrites. Safe pattern: add a new column (no default, or a constant one), backfill it in batches, switch the code, then drop the old one (expand/contract); for a volatile default, add the column without it, \`alter column ... set default\`, and backfill. ${WHERE} ${ALLOW}`,
  },
  {
    id: 'migration_lock_exclusive',
    gate: 'drift',
    severity: 'error',
    category: 'migration-safety',
    title: 'Migration takes an ACCESS EXCLUSIVE lock on an existing table',
    doc: `A statement took an ACCESS EXCLUSIVE lock on a table that existed before the pull request: until the migration's transaction ends, every query on the table waits, plain \`select\`s included; and while the lock waits behind a long-running query, every query that arrives after it waits too. Most \`alter table\` forms take it (\`add column\`, \`drop default\`, \`rename\`, \`alter column ... type\`, \`add constraint\` of a check), as do \`drop\`, \`truncate\` and \`lock table\`. Reported when no more specific finding (rewrite, scan, destructive change) names the same table for the statement; an error, or a warning when \`lock_timeout\` was set (at most \`drift.migration-safety.max-lock-timeout\`) as the statement ran, since the wait, and the queue behind it, is then bounded. It is the same in PostgreSQL 15 and 17 for these statements. Safe pattern: keep the transaction short (one such statement per migration, no data changes in it) and set \`lock_timeout\` first, so that the statement gives up instead of queueing the table's traffic behind it: \`set lock_timeout = '3s';\`, with a retry in the deploy. ${WHERE} ${ALLOW}`,
  },
  {
    id: 'migration_index_not_concurrent',
    gate: 'drift',
    severity: 'warning',
    category: 'migration-safety',
    title: 'Index built without CONCURRENTLY on an existing table',
    doc: `A statement built an index on a table that existed before the pull request inside a transaction (\`create index\` without \`concurrently\`, or \`add constraint ... unique/primary key\`): PostgreSQL holds a SHARE lock for the whole build, so every insert, update and delete on the table waits until the index is built (ACCESS EXCLUSIVE for a constraint). PostgreSQL 15 and 17 behave the same. Safe pattern: \`create index concurrently\` in a migration of its own that the tool runs outside a transaction (\`-- no-transaction\` for sqlx, \`transaction:false\` for dbmate, a file with only that statement for the Supabase CLI), and for a constraint, \`alter table ... add constraint ... unique using index <index>\` afterwards. ${WHERE} ${ALLOW}`,
  },
  {
    id: 'migration_validation_scan',
    gate: 'drift',
    severity: 'warning',
    category: 'migration-safety',
    title: 'Constraint validated by scanning an existing table under a lock',
    doc: `A statement added a validated constraint to a table that existed before the pull request (a \`check\` or a \`foreign key\` without \`not valid\`, or \`set not null\` on an existing column): PostgreSQL reads every row to check it while holding the statement's lock (ACCESS EXCLUSIVE for a check and \`set not null\`, SHARE ROW EXCLUSIVE on both tables for a foreign key), so writes (and for ACCESS EXCLUSIVE, reads) wait for the scan. Measured from the catalog: a new constraint with \`convalidated\`, or a new \`attnotnull\` on a column that was there, without a validated \`check (col is not null)\` that lets PostgreSQL 12+ skip the scan. PostgreSQL 15 and 17 behave the same here (18 stores NOT NULL as a constraint that can be added \`not valid\`). Safe pattern: \`alter table t add constraint c check (...) not valid;\` then, in the next migration, \`alter table t validate constraint c;\`, which scans under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on; for NOT NULL, validate a \`check (col is not null)\` first, then \`set not null\` skips the scan. ${WHERE} ${ALLOW}`,
  },
  {
    id: 'migration_no_lock_timeout',
    gate: 'drift',
    severity: 'warning',
    category: 'migration-safety',
    title: 'Strong lock on an existing table without lock_timeout',
    doc: `A migration took a lock that blocks writes (SHARE or stronger) on a table that existed before the pull request while \`lock_timeout\` was unset (or longer than \`drift.migration-safety.max-lock-timeout\`, 10s by default), read with \`current_setting\` in the applying session as the statement ran. The lock waits behind any long-running query on the table, and every query arriving after it queues behind the waiting lock: a migration that takes a millisecond can stop the site for as long as the slowest query. Each measured migration starts with the timeouts unset (a setting left by an earlier migration on the same connection is not counted), and the finding says whether \`statement_timeout\` was set. It is said once per migration, at its first such lock; when that statement already has a finding (a rewrite, an ACCESS EXCLUSIVE lock, a blocking index build, a validation scan), it is said in that finding's detail instead of as a finding of its own (one cause, one finding). Same in PostgreSQL 15 and 17. Safe pattern: begin the migration with \`set lock_timeout = '3s';\` (and a \`statement_timeout\`) and retry the deploy when it gives up. ${WHERE} ${ALLOW}`,
  },
  {
    id: 'migration_destructive',
    gate: 'drift',
    severity: 'warning',
    category: 'migration-safety',
    title: 'Migration drops, narrows, renames or empties an existing object',
    doc: `A statement removed or changed what running code relies on, on an object that existed before the pull request: \`drop table\`, \`drop column\`, \`drop function\`, \`truncate\`, a narrowing type change (a shorter \`varchar\`, a smaller integer, a length where there was none, which can fail on or cut existing values), or a rename of a table or column. The version of the application still running during the deploy fails on it, and the data cannot be brought back without a restore. Measured from the catalog (the relation or function gone, the column's type and name before and after); PostgreSQL 15 and 17 behave the same. Safe pattern: expand/contract: add the new object, deploy code that writes both and reads the new one, backfill, and drop the old one in a later release; for a rename, add the new column (or a view with the new name), switch the code, then drop the old name. ${WHERE} ${ALLOW}`,
  },
] as const satisfies readonly Rule[];

/** Said in \`base_checks_skipped\`'s detail: without a base branch, no migration is known to be new. */
export const SAFETY_SKIPPED =
  "The lock and rewrite analysis of the pull request's new migrations (migration_table_rewrite, migration_lock_exclusive, migration_index_not_concurrent, migration_validation_scan, migration_no_lock_timeout, migration_destructive) did not run either: it measures only the migrations the base branch does not have";

export type MigrationSafetyRuleId = (typeof MIGRATION_SAFETY_RULES)[number]['id'];

export const migrationSafetyFinding = findingOf(MIGRATION_SAFETY_RULES);

/** `drift.migration-safety` of the repo config. */
export interface MigrationSafetyConfig {
  exceptions: Array<{ table: string; reason: string; rules?: string[] }>;
  /** A lock_timeout above this counts as unset (ms). */
  maxLockTimeoutMs: number;
}

export const DEFAULT_MAX_LOCK_TIMEOUT_MS = 10_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `current_setting('lock_timeout')` ('0', '500ms', '3s', '1min') in ms; 0 when unset. */
export function settingMs(value: string): number {
  const match = /^(\d+)\s*(ms|s|min|h|d)?$/.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms']! : 0;
}

const TABLE_KINDS = new Set(['r', 'p', 'm', 'f']);
const withArticle = (word: string) => `${/^[AEIOU]/.test(word) ? 'an' : 'a'} ${word}`;
const label = (r: { schema: string; name: string }) => `${r.schema}.${r.name}`;
const sqlName = (r: { schema: string; name: string }) => `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`;
const objectOf = (r: RelationRef): ObjectRef => ({ kind: r.relkind === 'i' ? 'index' : 'table', schema: r.schema, name: r.name });

interface Draft {
  rule: Exclude<MigrationSafetyRuleId, 'migration_no_lock_timeout' | 'migration_lock_exclusive'>;
  relation?: RelationRef;
  object: ObjectRef;
  what: string;
  remediation: string;
}

/** The finding a change on an existing object makes, if any. */
function draftOf(change: Change): Draft | undefined {
  if (change.kind === 'drop_function') {
    return {
      rule: 'migration_destructive',
      object: { kind: 'function', name: change.signature },
      what: `drops function ${change.signature}, which existed before this pull request`,
      remediation: 'Expand/contract: deploy code that no longer calls the function first, and drop it in a later migration.',
    };
  }
  const r = change.relation;
  if (!r.existed) return undefined;
  const base = { relation: r, object: objectOf(r) };
  switch (change.kind) {
    case 'rewrite': {
      const cause = change.addedColumns.length
        ? ` (new column ${change.addedColumns.join(', ')}: a volatile default is computed for every row)`
        : change.changedTypes.length
          ? ` (type change of ${change.changedTypes.join(', ')})`
          : '';
      const remediation = change.addedColumns.length
        ? `Add the column without the default, set the default afterwards (it applies to new rows only), and backfill in batches:\nalter table ${sqlName(r)} add column ${quoteIdent(change.addedColumns[0]!)} <type>;\nalter table ${sqlName(r)} alter column ${quoteIdent(change.addedColumns[0]!)} set default <expression>;\n-- then update in batches of a few thousand rows`
        : `Expand/contract instead of rewriting in place: add a new column of the new type, backfill it in batches, switch the code, then drop the old column.\nalter table ${sqlName(r)} add column <name>_new <new type>;`;
      return { ...base, rule: 'migration_table_rewrite', what: `rewrites ${r.relkind === 'i' ? 'index' : 'table'} ${label(r)}${cause}`, remediation };
    }
    case 'validation': {
      const remediation =
        change.check === 'not null'
          ? `Prove the column first, then SET NOT NULL skips its scan:\nalter table ${sqlName(r)} add constraint ${quoteIdent(`${change.name}_not_null`)} check (${quoteIdent(change.name)} is not null) not valid;\n-- next migration:\nalter table ${sqlName(r)} validate constraint ${quoteIdent(`${change.name}_not_null`)};\nalter table ${sqlName(r)} alter column ${quoteIdent(change.name)} set not null;`
          : `Add it without the scan, then validate it under a SHARE UPDATE EXCLUSIVE lock, in the next migration:\nalter table ${sqlName(r)} add constraint ${quoteIdent(change.name)} ... not valid;\nalter table ${sqlName(r)} validate constraint ${quoteIdent(change.name)};`;
      const subject = change.check === 'not null' ? `NOT NULL on column ${change.name}` : `${change.check} constraint ${change.name}`;
      return { ...base, rule: 'migration_validation_scan', what: `validates ${subject} of ${label(r)} by scanning every row under its lock`, remediation };
    }
    case 'index_build':
      return {
        ...base,
        rule: 'migration_index_not_concurrent',
        what: `builds index ${change.index} on ${label(r)} without CONCURRENTLY, blocking writes for the whole build`,
        remediation: `Build it concurrently, in a migration of its own that the tool runs outside a transaction:\ncreate ${change.unique ? 'unique ' : ''}index concurrently ${quoteIdent(change.index)} on ${sqlName(r)} (...);${change.unique ? `\n-- then, in the next migration:\nalter table ${sqlName(r)} add constraint ${quoteIdent(change.index)} unique using index ${quoteIdent(change.index)};` : ''}`,
      };
    case 'truncate':
      return {
        ...base,
        rule: 'migration_destructive',
        what: `truncates ${label(r)}`,
        remediation: 'Delete the rows you mean to remove in batches, or keep the data and stop reading it (expand/contract).',
      };
    case 'drop_relation':
      return {
        ...base,
        rule: 'migration_destructive',
        what: `drops ${label(r)}`,
        remediation: `Expand/contract: deploy code that no longer uses ${label(r)} first, and drop it in a later release (keep a backup).`,
      };
    case 'drop_column':
      return {
        ...base,
        rule: 'migration_destructive',
        what: `drops column ${change.column} of ${label(r)}`,
        remediation: `Expand/contract: stop reading and writing ${change.column} in the code first, then drop it in a later release:\nalter table ${sqlName(r)} drop column ${quoteIdent(change.column)};`,
      };
    case 'type_change':
      return change.narrowing
        ? {
            ...base,
            rule: 'migration_destructive',
            what: `narrows column ${change.column} of ${label(r)} from ${change.from} to ${change.to}`,
            remediation: `Add a column of the new type, backfill and check the values, switch the code, then drop the old column (expand/contract):\nalter table ${sqlName(r)} add column ${quoteIdent(`${change.column}_new`)} ${change.to};`,
          }
        : undefined;
    case 'rename_column':
      return {
        ...base,
        rule: 'migration_destructive',
        what: `renames column ${change.from} of ${label(r)} to ${change.to}: code still using ${change.from} fails`,
        remediation: `Expand/contract: add the new column, write both, backfill, switch reads, then drop the old one:\nalter table ${sqlName(r)} add column ${quoteIdent(change.to)} <type>;`,
      };
    case 'rename_relation':
      return {
        ...base,
        rule: 'migration_destructive',
        what: `renames ${change.from} to ${label(r)}: code still using ${change.from} fails`,
        remediation: `Expand/contract: keep the old name readable while the code moves, e.g.\ncreate view ${quoteIdent(change.from.slice(0, change.from.indexOf('.')))}.${quoteIdent(change.from.slice(change.from.indexOf('.') + 1))} as select * from ${sqlName(r)};`,
      };
  }
}

const TIMEOUT_SQL = `set lock_timeout = '3s';\nset statement_timeout = '30s';`;

/**
 * The findings for the measured statements, in order. Severity: error for a rewrite, or for any
 * finding whose statement took an ACCESS EXCLUSIVE lock on its existing table; the rule's otherwise.
 */
export function migrationSafetyFindings(effects: readonly StatementEffect[], config: MigrationSafetyConfig): Finding[] {
  const excepted = (rule: MigrationSafetyRuleId, relation: { schema: string; name: string }) =>
    config.exceptions.some((e) => e.table === label(relation) && (!e.rules || e.rules.includes(rule)));
  const findings: Finding[] = [];
  const timedOut = new Set<string>();
  for (const effect of effects) {
    const statementFirst = findings.length;
    const at = `${effect.file}:${effect.line}`;
    const location = { file: effect.file, line: effect.line };
    const exclusive = new Set(effect.locks.filter((l) => l.relation.existed && l.mode === 'AccessExclusiveLock').map((l) => l.relation.oid));
    const modeOn = (oid: number): LockMode | undefined => effect.locks.find((l) => l.relation.oid === oid)?.mode;
    const named = new Set<number>();
    for (const change of effect.changes) {
      const draft = draftOf(change);
      if (!draft || (draft.relation && excepted(draft.rule, draft.relation))) continue;
      const mode = draft.relation && modeOn(draft.relation.oid);
      if (draft.relation) named.add(draft.relation.oid);
      const severity: Severity | undefined = draft.relation && exclusive.has(draft.relation.oid) ? 'error' : undefined;
      findings.push(
        migrationSafetyFinding({
          rule: draft.rule,
          ...(severity ? { severity } : {}),
          object: draft.object,
          message: `${at} ${draft.what}${mode ? ` (${lockModeName(mode)} lock)` : ''}.`,
          remediation: draft.remediation,
          location,
        }),
      );
    }
    const lockMs = settingMs(effect.lockTimeout);
    const bounded = lockMs > 0 && lockMs <= config.maxLockTimeoutMs;
    for (const lock of effect.locks) {
      const r = lock.relation;
      if (!r.existed || !TABLE_KINDS.has(r.relkind) || lock.mode !== 'AccessExclusiveLock' || named.has(r.oid) || excepted('migration_lock_exclusive', r))
        continue;
      findings.push(
        migrationSafetyFinding({
          rule: 'migration_lock_exclusive',
          // lock_timeout bounds how long the table's traffic can queue behind the waiting lock
          ...(bounded ? { severity: 'warning' as const } : {}),
          object: objectOf(r),
          message: `${at} takes an ACCESS EXCLUSIVE lock on ${label(r)}, which existed before this pull request: every query on it waits until the migration's transaction ends.`,
          remediation: `Keep the transaction short (this statement alone, no data changes) and let it give up rather than queue the table's traffic:\n${TIMEOUT_SQL}`,
          location,
        }),
      );
    }
    if (timedOut.has(effect.file) || bounded) continue;
    const strong = effect.locks.find(
      (l) => l.relation.existed && TABLE_KINDS.has(l.relation.relkind) && isStrong(l.mode) && !excepted('migration_no_lock_timeout', l.relation),
    );
    if (!strong) continue;
    timedOut.add(effect.file);
    const statementTimeout = settingMs(effect.statementTimeout) > 0 ? `statement_timeout is ${effect.statementTimeout}` : 'statement_timeout is not set either';
    const timeout = `lock_timeout ${lockMs > 0 ? `at ${effect.lockTimeout}, above the ${config.maxLockTimeoutMs} ms allowed` : 'unset'} (${statementTimeout})`;
    const fix = `Begin the migration with:\n${TIMEOUT_SQL}\nand retry the deploy when the lock is not granted in time.`;
    // One cause, one finding: when this statement already has a finding, the missing timeout is part of it.
    const covering = findings[statementFirst];
    if (covering) {
      findings[statementFirst] = {
        ...covering,
        detail: [covering.detail, `The migration takes this lock with ${timeout}: waiting for it, the lock request stops every query on the table behind it.`]
          .filter(Boolean)
          .join('\n'),
        remediation: covering.remediation?.includes(TIMEOUT_SQL) ? covering.remediation : `${covering.remediation}\n\n${fix}`,
      };
      continue;
    }
    findings.push(
      migrationSafetyFinding({
        rule: 'migration_no_lock_timeout',
        object: { kind: 'migration', name: effect.file },
        message: `${at} takes ${withArticle(lockModeName(strong.mode))} lock on ${label(strong.relation)} with ${timeout}: waiting for the lock, it stops every query on the table behind it.`,
        remediation: fix,
        location,
      }),
    );
  }
  return findings;
}
