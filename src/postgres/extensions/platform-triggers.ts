/**
 * What the Supabase platform does around a project's DDL that a stock server does not, done in
 * the shadow by one event trigger owned by the superuser while the migrations apply (and
 * dropped, with its schema, before anyone reads the shadow):
 *
 * - supautils' `extensions_parameter_overrides`: pg_cron lives in `pg_catalog` whatever
 *   `create extension pg_cron with schema ...` says.
 * - index options of stand-in access methods: `create index ... using hnsw (...) with (m = 16)`
 *   runs without its options (the stand-in method cannot validate them; see
 *   ./index-options.ts), and the trigger stores them on the new index as PostgreSQL stores the
 *   real ones, so `pg_get_indexdef` prints `WITH (m='16')` as on Supabase.
 */

import { pendingIndexOptionsSql, removePendingIndexOptionsSql } from './index-options.ts';

export const PLATFORM_SCHEMA = 'postgate_platform';

/** Index access methods that stand-ins provide, whose options ./index-options.ts stores. */
export const STAND_IN_INDEX_METHODS: readonly string[] = ['hnsw', 'ivfflat', 'pgroonga'];

export const PLATFORM_TRIGGERS_SQL = `
${pendingIndexOptionsSql(PLATFORM_SCHEMA, STAND_IN_INDEX_METHODS)}
create function ${PLATFORM_SCHEMA}.on_create_extension() returns event_trigger
language plpgsql security definer set search_path = pg_catalog as $postgate$
declare
  command record;
  member record;
begin
  for command in
    select c.objid from pg_catalog.pg_event_trigger_ddl_commands() c where c.command_tag = 'CREATE EXTENSION'
  loop
    -- supautils.extensions_parameter_overrides: pg_cron lives in pg_catalog whatever \`with schema\` said
    update pg_catalog.pg_extension set extnamespace = 'pg_catalog'::pg_catalog.regnamespace
     where oid = command.objid and extname = 'pg_cron' and extnamespace <> 'pg_catalog'::pg_catalog.regnamespace;
    if found then
      delete from pg_catalog.pg_depend
       where classid = 'pg_catalog.pg_extension'::pg_catalog.regclass and objid = command.objid
         and refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass;
    end if;
    -- supautils runs ALTER EXTENSION of a privileged extension as the superuser, so the role
    -- that created it may move it (alter extension vector set schema ...). PostgreSQL checks
    -- ownership of every member for that: give the members of a relocatable extension to
    -- its owner when the owner is not a superuser.
    for member in
      select o.type, o.identity, r.rolname
        from pg_catalog.pg_extension e
        join pg_catalog.pg_roles r on r.oid = e.extowner and not r.rolsuper
        join pg_catalog.pg_depend d on d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass and d.refobjid = e.oid and d.deptype = 'e'
        cross join lateral pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) o
       where e.oid = command.objid and e.extrelocatable
         and o.type in ('type', 'function', 'aggregate', 'operator', 'operator class', 'operator family', 'table', 'view', 'sequence')
         -- an array type follows its element type
         and not (o.type = 'type' and o.identity like '%[]')
    loop
      execute pg_catalog.format('alter %s %s owner to %I', member.type, member.identity, member.rolname);
    end loop;
  end loop;
end
$postgate$;
create event trigger postgate_platform_extensions on ddl_command_end when tag in ('CREATE EXTENSION')
  execute function ${PLATFORM_SCHEMA}.on_create_extension();
`;

export const REMOVE_PLATFORM_TRIGGERS_SQL = `
drop event trigger if exists postgate_platform_extensions;
${removePendingIndexOptionsSql(PLATFORM_SCHEMA)}
`;

export { queueIndexOptionsSql } from './index-options.ts';

export function clearPendingIndexOptionsSql(schema: string): string {
  return `delete from ${schema}.pending_index_options`;
}
