/**
 * Is a migration running right now? Another session writing to the history table, or holding a
 * migration tool's advisory lock (each tool's key: its adapter's `advisoryLock`, some derived from
 * the database and history table names). Read in deploy mode before the comparison.
 */
import type { Finding } from '../../findings/types.ts';
import { migrationLockKeys, TOOLS } from '../../migrations/tools/index.ts';
import type { History, HistoryTable, MigrationTool } from '../../migrations/types.ts';
import type { Session } from '../../postgres/connect.ts';
import { driftFinding } from './rules.ts';

export interface InFlight {
  /** Another session holds a write lock on the history table. */
  historyWriter: boolean;
  /** Tools whose advisory lock another session holds, with the key. */
  locks: Array<{ tool: MigrationTool; key: string }>;
}

/** Other sessions' write locks on the history table. */
const HISTORY_WRITER_SQL = `
select exists (select from pg_catalog.pg_locks l
 where l.pid <> pg_catalog.pg_backend_pid() and l.granted
   and l.locktype = 'relation' and l.relation = $1::regclass and l.mode <> 'AccessShareLock') as held`;

/**
 * Advisory locks other sessions hold in this database, as the bigint key passed to
 * pg_advisory_lock(bigint): high half in classid, low half in objid, objsubid 1.
 */
const ADVISORY_SQL = `
select distinct ((l.classid::bigint << 32) | l.objid::bigint)::text as key
  from pg_catalog.pg_locks l
 where l.pid <> pg_catalog.pg_backend_pid() and l.granted
   and l.locktype = 'advisory' and l.objsubid = 1
   and l.database = (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database())
   and ((l.classid::bigint << 32) | l.objid::bigint) = any($1::bigint[])`;

const quoteForRegclass = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function readInFlight(session: Session, table: HistoryTable | undefined): Promise<InFlight> {
  const historyWriter = table
    ? Boolean(
        (await session.query<{ held: boolean }>(HISTORY_WRITER_SQL, [`${quoteForRegclass(table.schema)}.${quoteForRegclass(table.table)}`])).rows[0]?.held,
      )
    : false;
  const { rows: names } = await session.query<{ database: string; schema: string }>(
    `select pg_catalog.current_database() as database, coalesce(pg_catalog.current_schema(), 'public') as schema`,
  );
  const keys = migrationLockKeys(names[0]!.database, names[0]!.schema, table);
  const { rows } = await session.query<{ key: string }>(ADVISORY_SQL, [[...new Set(keys.map((k) => k.key.toString()))]]);
  const held = new Set(rows.map((r) => r.key));
  const locks = keys.filter((k) => held.has(k.key.toString())).map((k) => ({ tool: k.tool, key: k.key.toString() }));
  return { historyWriter, locks };
}

/** migration_in_progress: one finding, naming the tool whose lock is held (or the history table being written). */
export function inFlightFindings(inFlight: InFlight, history: History | undefined): Finding[] {
  if (!inFlight.historyWriter && inFlight.locks.length === 0) return [];
  const held = inFlight.locks.map((lock) => `${TOOLS[lock.tool].title}'s migration lock (advisory lock ${lock.key})`).join(' and ');
  const what = held ? `holds ${held}` : `is writing to ${history?.schema}.${history?.table} or holds the migration lock`;
  return [
    driftFinding({
      rule: 'migration_in_progress',
      object: { kind: 'database', name: 'history' },
      message: `Another session ${what}: a deploy is probably running, so the comparison may see a half-applied state.`,
    }),
  ];
}
