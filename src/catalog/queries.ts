/**
 * The catalog queries: one per object kind, a fixed number whatever the schema size
 * (a test counts them). `$1` is the list of schemas to read; `$2` the schemas whose
 * tables contribute only policies and triggers (Supabase's auth, storage, realtime).
 * Objects that belong to an extension (pg_depend deptype `e`) are never read.
 */

const notExtensionMember = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_catalog.pg_depend dep where dep.classid = '${catalog}'::regclass and dep.objid = ${oid} and dep.deptype = 'e')`;

/** aclexplode of the ACL, or of the built-in default when the ACL is null, as [grantee, privilege, grantable] rows. */
const acl = (column: string, type: string, owner: string, useDefault = true) => `coalesce((
    select json_agg(json_build_array(case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee) end, a.privilege_type, a.is_grantable))
    from pg_catalog.aclexplode(${useDefault ? `coalesce(${column}, pg_catalog.acldefault('${type}', ${owner}))` : column}) a), '[]'::json)`;

/**
 * Pins the session settings the snapshot needs and returns the previous values, which
 * RESTORE_SETTINGS_QUERY puts back:
 * - search_path = pg_catalog, so that every expression PostgreSQL prints (defaults,
 *   policies, views, indexes) names its objects with their schema whatever the
 *   session's search_path was;
 * - jit off and no parallel workers: catalog queries are many short lookups, and on a
 *   5,000-table database JIT compilation and starting a worker cost more than they save
 *   (measured: ~150 ms of the columns query alone).
 */
export const CONTEXT_QUERY = `
select current_setting('server_version_num')::int as version_num,
       current_setting('search_path') as previous_search_path,
       current_setting('jit') as previous_jit,
       current_setting('max_parallel_workers_per_gather') as previous_workers,
       pg_catalog.set_config('search_path', 'pg_catalog', false) as search_path,
       pg_catalog.set_config('jit', 'off', false) as jit,
       pg_catalog.set_config('max_parallel_workers_per_gather', '0', false) as workers`;

export const RESTORE_SETTINGS_QUERY = `
select pg_catalog.set_config('search_path', $1, false), pg_catalog.set_config('jit', $2, false),
       pg_catalog.set_config('max_parallel_workers_per_gather', $3, false)`;

export const SCHEMAS_QUERY = `
select n.nspname as name, pg_catalog.pg_get_userbyid(n.nspowner) as owner,
       ${acl('n.nspacl', 'n', 'n.nspowner')} as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = n.oid and dsc.classoid = 'pg_namespace'::regclass and dsc.objsubid = 0) as comment,
       not ${notExtensionMember('pg_namespace', 'n.oid')} as extension_member
from pg_catalog.pg_namespace n
where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'`;

export const EXTENSIONS_QUERY = `
select e.extname as name, e.extversion as version, n.nspname as schema,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = e.oid and dsc.classoid = 'pg_extension'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace`;

export const RELATIONS_QUERY = `
select n.nspname as schema, c.relname as name, c.relkind::text as relkind,
       c.relpersistence::text as persistence, pg_catalog.pg_get_userbyid(c.relowner) as owner,
       ${acl('c.relacl', 'r', 'c.relowner')} as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = c.oid and dsc.classoid = 'pg_class'::regclass and dsc.objsubid = 0) as comment,
       c.relrowsecurity as rls, c.relforcerowsecurity as force_rls, c.reloptions as options,
       c.relreplident::text as replica_identity,
       case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as partition_key,
       case when c.relispartition then (
         select pn.nspname || '.' || pc.relname from pg_catalog.pg_inherits i
         join pg_catalog.pg_class pc on pc.oid = i.inhparent join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
         where i.inhrelid = c.oid) end as partition_of,
       case when c.relispartition then pg_catalog.pg_get_expr(c.relpartbound, c.oid) end as partition_bound,
       case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid, true) end as view_definition
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm')
  and ${notExtensionMember('pg_class', 'c.oid')}`;

export const COLUMNS_QUERY = `
select n.nspname as schema, c.relname as table, a.attname as name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
       -- A default cannot reference a column, so it is printed without the table as context
       -- (which would open every table: ~40% of this query on a 5,000-table database);
       -- a generated column's expression (stored, or virtual from PostgreSQL 18) does.
       pg_catalog.pg_get_expr(ad.adbin, case when a.attgenerated <> '' then ad.adrelid else 0 end) as default_expr,
       a.attidentity::text as identity, a.attgenerated::text as generated,
       case when a.attcollation <> t.typcollation and a.attcollation <> 0 then (
         select cn.nspname || '.' || pg_catalog.quote_ident(co.collname) from pg_catalog.pg_collation co
         join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = a.attcollation) end as collation,
       case when a.attacl is null then '[]'::json else ${acl('a.attacl', 'c', 'c.relowner', false)} end as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = c.oid and dsc.classoid = 'pg_class'::regclass and dsc.objsubid = a.attnum) as comment
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_type t on t.oid = a.atttypid
left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where n.nspname = any($1::text[]) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
  and not (c.relispartition and not a.attislocal)
  and ${notExtensionMember('pg_class', 'c.oid')}`;

export const CONSTRAINTS_QUERY = `
select n.nspname as schema, c.relname as table, co.conname as name, co.contype::text as type,
       pg_catalog.pg_get_constraintdef(co.oid, true) as definition,
       co.condeferrable as deferrable, co.condeferred as deferred,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = co.oid and dsc.classoid = 'pg_constraint'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_constraint co
join pg_catalog.pg_class c on c.oid = co.conrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[]) and co.contype in ('p', 'f', 'u', 'c', 'x', 't') and co.conparentid = 0
  and (co.conislocal or co.coninhcount = 0)
  and ${notExtensionMember('pg_class', 'c.oid')}`;

export const INDEXES_QUERY = `
select n.nspname as schema, t.relname as table, i.relname as name,
       pg_catalog.pg_get_indexdef(i.oid) as definition,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = i.oid and dsc.classoid = 'pg_class'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_index ix
join pg_catalog.pg_class i on i.oid = ix.indexrelid
join pg_catalog.pg_class t on t.oid = ix.indrelid
join pg_catalog.pg_namespace n on n.oid = i.relnamespace
where n.nspname = any($1::text[]) and t.relkind in ('r', 'p', 'm')
  and not exists (select 1 from pg_catalog.pg_constraint co where co.conindid = ix.indexrelid and co.conrelid = ix.indrelid and co.contype in ('p', 'u', 'x'))
  and not exists (select 1 from pg_catalog.pg_inherits inh where inh.inhrelid = ix.indexrelid)
  and ${notExtensionMember('pg_class', 't.oid')}`;

export const SEQUENCES_QUERY = `
select n.nspname as schema, c.relname as name, pg_catalog.format_type(s.seqtypid, null) as type,
       s.seqstart::text as start, s.seqincrement::text as increment, s.seqmin::text as min, s.seqmax::text as max,
       s.seqcache::text as cache, s.seqcycle as cycle,
       (select tn.nspname || '.' || tc.relname || '.' || a.attname
          from pg_catalog.pg_depend d
          join pg_catalog.pg_class tc on tc.oid = d.refobjid
          join pg_catalog.pg_namespace tn on tn.oid = tc.relnamespace
          join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
         where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'a' and d.refclassid = 'pg_class'::regclass
         limit 1) as owned_by,
       pg_catalog.pg_get_userbyid(c.relowner) as owner,
       ${acl('c.relacl', 's', 'c.relowner')} as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = c.oid and dsc.classoid = 'pg_class'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_sequence s
join pg_catalog.pg_class c on c.oid = s.seqrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[])
  and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('i', 'e'))`;

export const TYPES_QUERY = `
select n.nspname as schema, t.typname as name, t.typtype::text as typtype,
       pg_catalog.pg_get_userbyid(t.typowner) as owner,
       ${acl('t.typacl', 'T', 't.typowner')} as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = t.oid and dsc.classoid = 'pg_type'::regclass and dsc.objsubid = 0) as comment,
       case when t.typtype = 'e' then (select json_agg(e.enumlabel order by e.enumsortorder) from pg_catalog.pg_enum e where e.enumtypid = t.oid) end as enum_values,
       case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end as base_type,
       t.typnotnull as not_null, t.typdefault as default_expr,
       case when t.typtype = 'd' then (
         select json_agg(json_build_array(co.conname, pg_catalog.pg_get_constraintdef(co.oid, true)) order by co.conname)
         from pg_catalog.pg_constraint co where co.contypid = t.oid and co.contype = 'c') end as domain_constraints,
       case when t.typtype = 'd' and t.typcollation <> 0 and t.typcollation <> (select bt.typcollation from pg_catalog.pg_type bt where bt.oid = t.typbasetype) then (
         select cn.nspname || '.' || pg_catalog.quote_ident(co.collname) from pg_catalog.pg_collation co
         join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = t.typcollation) end as collation,
       case when t.typtype = 'c' then (
         select json_agg(json_build_array(a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)) order by a.attnum)
         from pg_catalog.pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) end as attributes
from pg_catalog.pg_type t
join pg_catalog.pg_namespace n on n.oid = t.typnamespace
where n.nspname = any($1::text[])
  and (t.typtype in ('e', 'd') or (t.typtype = 'c' and (select rc.relkind from pg_catalog.pg_class rc where rc.oid = t.typrelid) = 'c'))
  and ${notExtensionMember('pg_type', 't.oid')}`;

/** `sqlBody` (SQL-standard BEGIN ATOMIC bodies) exists from PostgreSQL 14. */
export const functionsQuery = (major: number) => `
select n.nspname as schema, p.proname as fname, p.prokind::text as prokind,
       pg_catalog.oidvectortypes(p.proargtypes) as arg_types,
       pg_catalog.pg_get_function_arguments(p.oid) as args,
       pg_catalog.pg_get_function_result(p.oid) as result,
       l.lanname as language, p.prosrc as body,
       ${major >= 14 ? 'case when p.prosqlbody is not null then pg_catalog.pg_get_function_sqlbody(p.oid) end' : 'null::text'} as sql_body,
       p.provolatile::text as volatility, p.prosecdef as security_definer, p.proisstrict as strict,
       p.proparallel::text as parallel, p.proleakproof as leakproof, p.proconfig as config,
       p.procost::float8 as cost, p.prorows::float8 as rows,
       pg_catalog.pg_get_userbyid(p.proowner) as owner,
       ${acl('p.proacl', 'f', 'p.proowner')} as acl,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = p.oid and dsc.classoid = 'pg_proc'::regclass and dsc.objsubid = 0) as comment,
       case when p.prokind in ('f', 'p', 'w') then pg_catalog.pg_get_functiondef(p.oid) end as ddl
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
where n.nspname = any($1::text[]) and ${notExtensionMember('pg_proc', 'p.oid')}`;

export const TRIGGERS_QUERY = `
select n.nspname as schema, c.relname as table, t.tgname as name,
       pg_catalog.pg_get_triggerdef(t.oid, true) as definition, t.tgenabled::text as enabled,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = t.oid and dsc.classoid = 'pg_trigger'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_trigger t
join pg_catalog.pg_class c on c.oid = t.tgrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where (n.nspname = any($1::text[]) or n.nspname = any($2::text[]))
  and not t.tgisinternal and t.tgparentid = 0
  and ${notExtensionMember('pg_trigger', 't.oid')}`;

export const POLICIES_QUERY = `
select n.nspname as schema, c.relname as table, p.polname as name, p.polcmd::text as command,
       p.polpermissive as permissive,
       (select json_agg(case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r) end) from unnest(p.polroles) r) as roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) as using_expr,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check_expr,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = p.oid and dsc.classoid = 'pg_policy'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on c.oid = p.polrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[]) or n.nspname = any($2::text[])`;

export const DEFAULT_PRIVILEGES_QUERY = `
select pg_catalog.pg_get_userbyid(d.defaclrole) as role, n.nspname as schema, d.defaclobjtype::text as objtype,
       ${acl('d.defaclacl', 'r', 'd.defaclrole', false)} as acl
from pg_catalog.pg_default_acl d
left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
where d.defaclnamespace = 0 or n.nspname = any($1::text[])`;

export const publicationsQuery = (major: number) => `
select p.pubname as name, p.puballtables as all_tables,
       p.pubinsert as insert, p.pubupdate as update, p.pubdelete as delete, p.pubtruncate as truncate,
       p.pubviaroot as via_root,
       coalesce((select json_agg(json_build_array(n.nspname, c.relname, ${major >= 15 ? 'pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)' : 'null::text'}))
          from pg_catalog.pg_publication_rel pr
          join pg_catalog.pg_class c on c.oid = pr.prrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where pr.prpubid = p.oid), '[]'::json) as tables,
       ${major >= 15 ? "coalesce((select json_agg(n.nspname) from pg_catalog.pg_publication_namespace pn join pg_catalog.pg_namespace n on n.oid = pn.pnnspid where pn.pnpubid = p.oid), '[]'::json)" : "'[]'::json"} as schemas,
       (select dsc.description from pg_catalog.pg_description dsc where dsc.objoid = p.oid and dsc.classoid = 'pg_publication'::regclass and dsc.objsubid = 0) as comment
from pg_catalog.pg_publication p`;

/** Kinds postgate does not model: compared by presence only, so a hotfix that adds one is still seen. */
export const UNMODELED_QUERY = `
select 'collation' as what, n.nspname as schema, co.collname as name
  from pg_catalog.pg_collation co join pg_catalog.pg_namespace n on n.oid = co.collnamespace
 where n.nspname = any($1::text[]) and ${notExtensionMember('pg_collation', 'co.oid')}
union all
select 'operator', n.nspname, o.oprname || '(' || pg_catalog.format_type(o.oprleft, null) || ',' || pg_catalog.format_type(o.oprright, null) || ')'
  from pg_catalog.pg_operator o join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
 where n.nspname = any($1::text[]) and ${notExtensionMember('pg_operator', 'o.oid')}
union all
select 'aggregate', n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where p.prokind = 'a' and n.nspname = any($1::text[]) and ${notExtensionMember('pg_proc', 'p.oid')}
union all
select 'text search configuration', n.nspname, c.cfgname
  from pg_catalog.pg_ts_config c join pg_catalog.pg_namespace n on n.oid = c.cfgnamespace
 where n.nspname = any($1::text[]) and ${notExtensionMember('pg_ts_config', 'c.oid')}
union all
select 'text search dictionary', n.nspname, d.dictname
  from pg_catalog.pg_ts_dict d join pg_catalog.pg_namespace n on n.oid = d.dictnamespace
 where n.nspname = any($1::text[]) and ${notExtensionMember('pg_ts_dict', 'd.oid')}
union all
select 'rule', n.nspname, c.relname || '.' || r.rulename
  from pg_catalog.pg_rewrite r join pg_catalog.pg_class c on c.oid = r.ev_class join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN' and n.nspname = any($1::text[]) and ${notExtensionMember('pg_class', 'c.oid')}
union all
select 'foreign table', n.nspname, c.relname
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'f' and n.nspname = any($1::text[]) and ${notExtensionMember('pg_class', 'c.oid')}
union all
select 'range type', n.nspname, t.typname
  from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
 where t.typtype = 'r' and n.nspname = any($1::text[]) and ${notExtensionMember('pg_type', 't.oid')}
union all
select 'statistics', n.nspname, s.stxname
  from pg_catalog.pg_statistic_ext s join pg_catalog.pg_namespace n on n.oid = s.stxnamespace
 where n.nspname = any($1::text[])
union all
select 'event trigger', null, e.evtname
  from pg_catalog.pg_event_trigger e where ${notExtensionMember('pg_event_trigger', 'e.oid')}
union all
select 'foreign server', null, s.srvname
  from pg_catalog.pg_foreign_server s where ${notExtensionMember('pg_foreign_server', 's.oid')}
union all
select 'cast', null, pg_catalog.format_type(c.castsource, null) || ' as ' || pg_catalog.format_type(c.casttarget, null)
  from pg_catalog.pg_cast c where c.oid >= 16384 and ${notExtensionMember('pg_cast', 'c.oid')}`;
