/**
 * The two sides of a parity check: each a main session and `jobs - 1` twins, read-only, all in
 * one repeatable-read snapshot of their side (so a side's counts, checksums and catalog agree
 * with one another), with the row-text settings pinned. And what parity reads from a side
 * besides rows: user tables, extensions, database- and role-level settings (hashed inside the
 * server), and the sequences that feed columns.
 */
import type { ClientBase } from 'pg';
import { PINNED_SETTINGS_SQL } from '../../catalog/row-digests.ts';
import { beginSharedSnapshot, connect, openTwinSession, quoteIdent, type Session } from '../../postgres/connect.ts';
import type { DatabaseTarget } from '../../postgres/url.ts';

export type SideName = 'source' | 'target';

export interface Side {
  name: SideName;
  /** `user@host:port/database`, safe to print. */
  label: string;
  /** sessions[0] is the main one; every session sees the same snapshot. */
  sessions: Session[];
  serverMajor: number;
}

const INPUT: Record<SideName, string> = { source: 'source-database-url', target: 'target-database-url' };

/** Opens a side: the main session exports its snapshot, twins import it. A twin that cannot be had is not an error (fewer connections). */
export async function openSide(name: SideName, target: DatabaseTarget, jobs: number): Promise<Side> {
  const options = { gate: 'parity', readOnly: true, needsSession: true, inputName: INPUT[name], statementTimeoutMs: 0 };
  const main = await connect(target, options);
  const sessions: Session[] = [main];
  try {
    await main.query(`SET idle_in_transaction_session_timeout = 0; ${PINNED_SETTINGS_SQL}`);
    const snapshotId = await beginSharedSnapshot(main);
    const version = await main.query<{ num: string }>("select current_setting('server_version_num') as num");
    // Without an exported snapshot (a standby), twins would see other states: read on the main session only.
    for (let i = 1; i < jobs && snapshotId; i += 1) {
      const twin = await openTwinSession(target, options, snapshotId);
      if (!twin) break;
      sessions.push(twin);
      await twin.query(PINNED_SETTINGS_SQL);
    }
    return { name, label: target.label, sessions, serverMajor: Math.floor(Number(version.rows[0]?.num ?? 0) / 10_000) };
  } catch (error) {
    await closeSide({ sessions });
    throw error;
  }
}

export async function closeSide(side: Pick<Side, 'sessions'>): Promise<void> {
  await Promise.all(side.sessions.map((session) => session.end().catch(() => undefined)));
}

export interface UserTable {
  schema: string;
  name: string;
  columns: string[];
}

const notSystem = (alias: string) => `${alias}.nspname !~ '^pg_' and ${alias}.nspname <> 'information_schema'`;

/** Ordinary tables (and partitions; a partitioned parent holds no rows of its own) outside system and excluded schemas, not owned by an extension. */
export async function readUserTables(session: ClientBase, excludeSchemas: readonly string[]): Promise<UserTable[]> {
  const result = await session.query<{ schema: string; name: string; columns: string[] }>(
    `select n.nspname as schema, c.relname as name,
            array(select a.attname::text from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and ${notSystem('n')} and n.nspname <> all($1::text[])
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1, 2`,
    [[...excludeSchemas]],
  );
  return result.rows;
}

export async function readExtensions(session: ClientBase): Promise<Record<string, string>> {
  const result = await session.query<{ name: string; version: string }>('select extname::text as name, extversion as version from pg_extension order by 1');
  return Object.fromEntries(result.rows.map((row) => [row.name, row.version]));
}

export interface AttachedSetting {
  /** Empty for a database-level setting. */
  role: string;
  /** Whether it applies in this database only or in every database (role-level). */
  scope: 'database' | 'all databases';
  name: string;
  /** SHA-256 of the value, computed by the server: the value itself never reaches postgate. */
  hash: string;
}

export function settingKey(setting: Pick<AttachedSetting, 'role' | 'scope' | 'name'>): string {
  return `${setting.role}|${setting.scope}|${setting.name}`;
}

/** `ALTER DATABASE <this> SET`, `ALTER ROLE r IN DATABASE <this> SET` and `ALTER ROLE r SET` values, hashed in the server. */
export async function readAttachedSettings(session: ClientBase): Promise<AttachedSetting[]> {
  const result = await session.query<AttachedSetting>(
    `select coalesce(r.rolname::text, '') as role,
            case when s.setdatabase = 0 then 'all databases' else 'database' end as scope,
            split_part(c, '=', 1) as name,
            encode(sha256(convert_to(substr(c, strpos(c, '=') + 1), 'UTF8')), 'hex') as hash
       from pg_db_role_setting s
       left join pg_roles r on r.oid = s.setrole
      cross join unnest(s.setconfig) c
      where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
      order by 1, 2, 3`,
  );
  return result.rows;
}

export interface FeedingSequence {
  schema: string;
  name: string;
  tableSchema: string;
  tableName: string;
  column: string;
  increment: string;
  /** The value the next nextval() returns. */
  next: string;
  /** The column's largest (ascending) or smallest (descending) value, null for an empty column. */
  extreme: string | null;
}

/**
 * Tables among `tables` whose rows this session sees only through row level security policies
 * (not owner, superuser or BYPASSRLS): counting or checksumming them would compare what the
 * policies let the role see, not the table.
 */
export async function tablesFilteredByRls(session: ClientBase, tables: readonly { schema: string; name: string }[]): Promise<string[]> {
  const result = await session.query<{ label: string }>(
    `select t.schema || '.' || t.name as label
       from unnest($1::text[], $2::text[]) t(schema, name)
       join pg_namespace n on n.nspname = t.schema
       join pg_class c on c.relnamespace = n.oid and c.relname = t.name
      where row_security_active(c.oid)
      order by 1`,
    [tables.map((table) => table.schema), tables.map((table) => table.name)],
  );
  return result.rows.map((row) => row.label);
}

export interface FeedingSequences {
  readable: FeedingSequence[];
  /** "schema.sequence" the session may not read (no SELECT on the sequence or the column). */
  unreadable: string[];
}

/**
 * Sequences that feed a column: owned by it (serial, identity, OWNED BY) or called by its
 * default. Only those the session may read are read, so a permission problem never aborts the
 * snapshot; the others are listed.
 */
export async function readFeedingSequences(session: ClientBase, excludeSchemas: readonly string[]): Promise<FeedingSequences> {
  const links = await session.query<{
    schema: string;
    name: string;
    table_schema: string;
    table: string;
    column: string;
    increment: string;
    readable: boolean;
  }>(
    `with feeds as (
       select d.objid as seq, d.refobjid as rel, d.refobjsubid as attnum
         from pg_depend d
        where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0 and d.deptype in ('a', 'i')
       union
       select d.refobjid, ad.adrelid, ad.adnum
         from pg_attrdef ad join pg_depend d on d.classid = 'pg_attrdef'::regclass and d.objid = ad.oid and d.refclassid = 'pg_class'::regclass
        where d.deptype = 'n'
     )
     select distinct sn.nspname as schema, s.relname as name, tn.nspname as table_schema, t.relname as table, a.attname as column,
            seq.seqincrement::text as increment,
            has_sequence_privilege(s.oid, 'SELECT') and has_column_privilege(t.oid, a.attnum, 'SELECT') as readable
       from feeds f
       join pg_class s on s.oid = f.seq and s.relkind = 'S'
       join pg_namespace sn on sn.oid = s.relnamespace
       join pg_sequence seq on seq.seqrelid = s.oid
       join pg_class t on t.oid = f.rel and t.relkind in ('r', 'p')
       join pg_namespace tn on tn.oid = t.relnamespace
       join pg_attribute a on a.attrelid = t.oid and a.attnum = f.attnum and not a.attisdropped
      where ${notSystem('tn')} and tn.nspname <> all($1::text[])
      order by 1, 2, 4, 5`,
    [[...excludeSchemas]],
  );
  const out: FeedingSequence[] = [];
  const unreadable = new Set<string>();
  for (const link of links.rows) {
    if (!link.readable) {
      unreadable.add(`${link.schema}.${link.name}`);
      continue;
    }
    const ascending = !link.increment.startsWith('-');
    const state = await session.query<{ next: string; extreme: string | null }>(
      `select (case when s.is_called then s.last_value::numeric + $1::numeric else s.last_value end)::text as next,
              (select ${ascending ? 'max' : 'min'}(${quoteIdent(link.column)})::text from ${quoteIdent(link.table_schema)}.${quoteIdent(link.table)}) as extreme
         from ${quoteIdent(link.schema)}.${quoteIdent(link.name)} s`,
      [link.increment],
    );
    const row = state.rows[0];
    if (!row) continue;
    out.push({
      schema: link.schema,
      name: link.name,
      tableSchema: link.table_schema,
      tableName: link.table,
      column: link.column,
      increment: link.increment,
      next: row.next,
      extreme: row.extreme,
    });
  }
  return { readable: out, unreadable: [...unreadable] };
}
