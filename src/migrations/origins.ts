/**
 * Which migration created or last altered each object, recorded while the shadow is
 * built: an event trigger (ddl_command_end) logs every DDL command's object together
 * with the migration being applied (a session setting), all server-side, so the cost
 * is one insert per DDL command. Afterwards one query names the objects the way the
 * catalog model does (src/catalog/types.ts), and the line comes from the statement in
 * the file that mentions the object with the command's verb. The trigger and its
 * schema are dropped before anyone snapshots the shadow.
 */
import type { ClientBase } from 'pg';
import type { SourceLocation } from '../findings/types.ts';
import { lineAt, statementsOf } from './apply.ts';
import type { Migration } from './types.ts';

export const TRACKER_SCHEMA = 'postgate_shadow';
export const MIGRATION_SETTING = 'postgate.migration';

export const INSTALL_TRACKER_SQL = `
create schema ${TRACKER_SCHEMA};
create table ${TRACKER_SCHEMA}.ddl_log (
  seq bigserial primary key,
  migration int,
  classid oid,
  objid oid,
  objsubid int,
  command_tag text
);
create function ${TRACKER_SCHEMA}.log_ddl() returns event_trigger
language plpgsql security definer set search_path = pg_catalog as $postgate$
begin
  insert into ${TRACKER_SCHEMA}.ddl_log (migration, classid, objid, objsubid, command_tag)
  select nullif(current_setting('${MIGRATION_SETTING}', true), '')::int, c.classid, c.objid, c.objsubid, c.command_tag
  from pg_catalog.pg_event_trigger_ddl_commands() c;
end
$postgate$;
create event trigger postgate_shadow_ddl on ddl_command_end execute function ${TRACKER_SCHEMA}.log_ddl();
`;

export const REMOVE_TRACKER_SQL = `
drop event trigger if exists postgate_shadow_ddl;
drop schema if exists ${TRACKER_SCHEMA} cascade;
`;

/** The last DDL command per object, named like the catalog model names it. */
const RESOLVE_SQL = `
with last as (
  select distinct on (classid, objid, objsubid) classid, objid, objsubid, migration, command_tag
  from ${TRACKER_SCHEMA}.ddl_log where migration is not null
  order by classid, objid, objsubid, seq desc
)
select l.migration, l.command_tag, o.kind, o.schema, o.name
from last l
cross join lateral (
  select case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view' when 'm' then 'materialized_view'
                        when 'S' then 'sequence' when 'i' then 'index' when 'I' then 'index' when 'c' then 'composite_type' end as kind,
         n.nspname::text as schema, c.relname::text as name
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_class'::regclass and c.oid = l.objid and l.objsubid = 0
  union all
  select 'column', n.nspname, c.relname || '.' || a.attname
    from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_class'::regclass and a.attrelid = l.objid and a.attnum = l.objsubid and l.objsubid > 0
  union all
  select 'column', n.nspname, c.relname || '.' || a.attname
    from pg_catalog.pg_attrdef ad join pg_catalog.pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
    join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_attrdef'::regclass and ad.oid = l.objid
  union all
  select case p.prokind when 'p' then 'procedure' when 'a' then null else 'function' end, n.nspname,
         p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where l.classid = 'pg_proc'::regclass and p.oid = l.objid
  union all
  select case t.typtype when 'e' then 'enum' when 'd' then 'domain' end, n.nspname, t.typname
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where l.classid = 'pg_type'::regclass and t.oid = l.objid
  union all
  select 'schema', null, n.nspname from pg_catalog.pg_namespace n where l.classid = 'pg_namespace'::regclass and n.oid = l.objid
  union all
  select 'extension', null, e.extname from pg_catalog.pg_extension e where l.classid = 'pg_extension'::regclass and e.oid = l.objid
  union all
  select 'trigger', n.nspname, c.relname || '.' || t.tgname
    from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_trigger'::regclass and t.oid = l.objid
  union all
  select 'policy', n.nspname, c.relname || '.' || p.polname
    from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_policy'::regclass and p.oid = l.objid
  union all
  select case when co.conrelid <> 0 then 'constraint' else 'domain' end, n.nspname,
         case when co.conrelid <> 0 then c.relname || '.' || co.conname else t.typname end
    from pg_catalog.pg_constraint co join pg_catalog.pg_namespace n on n.oid = co.connamespace
    left join pg_catalog.pg_class c on c.oid = co.conrelid left join pg_catalog.pg_type t on t.oid = co.contypid
   where l.classid = 'pg_constraint'::regclass and co.oid = l.objid
  union all
  select 'publication', null, p.pubname from pg_catalog.pg_publication p where l.classid = 'pg_publication'::regclass and p.oid = l.objid
  union all
  select 'publication', null, p.pubname
    from pg_catalog.pg_publication_rel pr join pg_catalog.pg_publication p on p.oid = pr.prpubid
   where l.classid = 'pg_publication_rel'::regclass and pr.oid = l.objid
  union all
  select 'default_privileges', n.nspname,
         pg_catalog.pg_get_userbyid(d.defaclrole) || ':' ||
         case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions' when 'T' then 'types' when 'n' then 'schemas' end
    from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
   where l.classid = 'pg_default_acl'::regclass and d.oid = l.objid
) o
where o.kind is not null`;

interface ResolvedRow {
  migration: number;
  command_tag: string;
  kind: string;
  schema: string | null;
  name: string;
}

/** The name a statement would use for the object: the part after `<table>.`, a function's name without arguments. */
function bareName(kind: string, name: string): string {
  if (kind === 'function' || kind === 'procedure') return name.slice(0, name.indexOf('('));
  if (['column', 'constraint', 'trigger', 'policy'].includes(kind)) return name.slice(name.indexOf('.') + 1);
  if (kind === 'default_privileges') return 'default privileges';
  return name;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LEADING_COMMENTS = /^(?:\s*(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/))*\s*/;

/** Line of the statement in `migration` that most plausibly ran `commandTag` on the object named `name`. */
export function locateStatement(migration: Migration, commandTag: string, kind: string, name: string): number {
  const statements = statementsOf(migration);
  const word = bareName(kind, name);
  const mention = new RegExp(`(^|[^\\w$])"?${escapeRegExp(word).replace(/ /g, '\\s+')}"?($|[^\\w$])`, 'i');
  const tagWords = commandTag.toLowerCase().split(/\s+/).filter(Boolean);
  // A CREATE is located at the first statement of that command naming the object; an
  // ALTER, GRANT, COMMENT... at the last one (it is the latest change).
  const first = tagWords[0] === 'create';
  let best: number | undefined;
  let fallback: number | undefined;
  for (const statement of statements) {
    if (!mention.test(statement.text)) continue;
    const code = statement.text.replace(LEADING_COMMENTS, '');
    const start = migration.sqlOffset + statement.start + (statement.text.length - code.length);
    fallback ??= start;
    if (!startsWithCommand(code, tagWords)) continue;
    if (first) {
      best ??= start;
    } else {
      best = start;
    }
  }
  const index = best ?? fallback ?? migration.sqlOffset + (statements[0]?.start ?? 0);
  return lineAt(migration.raw, index);
}

/** True when the statement's first words contain the command tag's words in order ("create or replace function" matches CREATE FUNCTION). */
function startsWithCommand(code: string, tagWords: readonly string[]): boolean {
  const head = code.toLowerCase().split(/\s+/, 8);
  let at = 0;
  for (const word of head) {
    if (word === tagWords[at]) at += 1;
    if (at === tagWords.length) return true;
  }
  return false;
}

/** Reads the tracker's log and returns `${kind}:${schema}.${name}` -> file and line. */
export async function readOrigins(client: ClientBase, migrations: Migration[]): Promise<Map<string, SourceLocation>> {
  const { rows } = await client.query<ResolvedRow>(RESOLVE_SQL);
  const origins = new Map<string, SourceLocation>();
  for (const row of rows) {
    const migration = migrations[row.migration];
    if (!migration) continue;
    const key = `${row.kind}:${row.schema ? `${row.schema}.` : ''}${row.name}`;
    origins.set(key, { file: migration.file, line: locateStatement(migration, row.command_tag, row.kind, row.name) });
  }
  return origins;
}

/**
 * Looks an object up in the origins, falling back to its table for columns,
 * constraints, triggers and policies (ALTER TABLE ... ADD COLUMN is logged on the table)
 * and to any overload for a function named without arguments.
 */
export function findOrigin(origins: ReadonlyMap<string, SourceLocation>, object: { kind: string; schema?: string | undefined; name: string }): SourceLocation | undefined {
  const prefix = object.schema ? `${object.schema}.` : '';
  const exact = origins.get(`${object.kind}:${prefix}${object.name}`);
  if (exact) return exact;
  if (['column', 'constraint', 'trigger', 'policy', 'index'].includes(object.kind) && object.name.includes('.')) {
    return origins.get(`table:${prefix}${object.name.slice(0, object.name.indexOf('.'))}`);
  }
  if ((object.kind === 'function' || object.kind === 'procedure') && !object.name.includes('(')) {
    for (const [key, location] of origins) if (key.startsWith(`${object.kind}:${prefix}${object.name}(`)) return location;
  }
  return undefined;
}
