/**
 * SQL that turns one catalog object into another: create, drop and alter per kind.
 * The diff uses it both ways: `restoreSql` turns what the database has into what the
 * migrations say; `captureSql` is the migration that records what the database has.
 * Statements are written for a human to review before running (destructive ones carry
 * a comment saying so).
 */
import { quoteIdent as qi, quoteLiteral as ql } from '../postgres/connect.ts';
import type { Acl, CatalogObject, JsonValue } from './types.ts';

type Props = Record<string, JsonValue>;

const s = (value: JsonValue | undefined): string => (value === null || value === undefined ? '' : String(value));
const qualified = (o: { schema?: string | undefined; name: string }) => (o.schema ? `${qi(o.schema)}.${qi(o.name)}` : qi(o.name));

/** The part of a child's name after `<table>.`. */
export function childName(o: CatalogObject): string {
  return o.table && o.name.startsWith(`${o.table}.`) ? o.name.slice(o.table.length + 1) : o.name;
}

function tableOf(o: CatalogObject): string {
  return `${qi(o.schema ?? 'public')}.${qi(o.table ?? '')}`;
}

/** `fname(argtypes)` -> `"schema"."fname"(argtypes)`. */
function functionSignature(o: CatalogObject): string {
  const open = o.name.indexOf('(');
  return `${qi(o.schema ?? 'public')}.${qi(o.name.slice(0, open))}${o.name.slice(open)}`;
}

/** How GRANT, COMMENT and ALTER ... OWNER name the object. */
function target(o: CatalogObject): { grant?: string; comment?: string; owner?: string } {
  switch (o.kind) {
    case 'schema':
      return { grant: `schema ${qi(o.name)}`, comment: `schema ${qi(o.name)}`, owner: `schema ${qi(o.name)}` };
    case 'extension':
      return { comment: `extension ${qi(o.name)}` };
    case 'table':
      return { grant: `table ${qualified(o)}`, comment: `table ${qualified(o)}`, owner: `table ${qualified(o)}` };
    case 'view':
      return { grant: `table ${qualified(o)}`, comment: `view ${qualified(o)}`, owner: `view ${qualified(o)}` };
    case 'materialized_view':
      return { grant: `table ${qualified(o)}`, comment: `materialized view ${qualified(o)}`, owner: `materialized view ${qualified(o)}` };
    case 'sequence':
      return { grant: `sequence ${qualified(o)}`, comment: `sequence ${qualified(o)}`, owner: `sequence ${qualified(o)}` };
    case 'enum':
    case 'composite_type':
      return { grant: `type ${qualified(o)}`, comment: `type ${qualified(o)}`, owner: `type ${qualified(o)}` };
    case 'domain':
      return { grant: `domain ${qualified(o)}`, comment: `domain ${qualified(o)}`, owner: `domain ${qualified(o)}` };
    case 'function':
    case 'procedure':
      return { grant: `${o.kind} ${functionSignature(o)}`, comment: `${o.kind} ${functionSignature(o)}`, owner: `${o.kind} ${functionSignature(o)}` };
    case 'column':
      return { comment: `column ${tableOf(o)}.${qi(childName(o))}` };
    case 'constraint':
      return { comment: `constraint ${qi(childName(o))} on ${tableOf(o)}` };
    case 'index':
      return { comment: `index ${qualified(o)}` };
    case 'trigger':
      return { comment: `trigger ${qi(childName(o))} on ${tableOf(o)}` };
    case 'policy':
      return { comment: `policy ${qi(childName(o))} on ${tableOf(o)}` };
    case 'publication':
      return { comment: `publication ${qi(o.name)}` };
    default:
      return {};
  }
}

const grantee = (role: string) => (role === 'PUBLIC' ? 'public' : qi(role));

function parseAcl(acl: JsonValue | undefined): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const [role, privileges] of Object.entries((acl ?? {}) as Acl)) {
    const map = new Map<string, boolean>();
    for (const privilege of privileges.split(',').filter(Boolean)) map.set(privilege.replace(/\*$/, ''), privilege.endsWith('*'));
    out.set(role, map);
  }
  return out;
}

/**
 * GRANT/REVOKE statements from one ACL to another. `on` is what follows ON
 * (`table "public"."t"`); `columns` restricts them to a column; `prefix` turns them
 * into default privileges (`alter default privileges for role r in schema s`).
 */
export function aclSql(
  on: string,
  from: JsonValue | undefined,
  to: JsonValue | undefined,
  options: { columns?: string; prefix?: string; skip?: string[] } = {},
): string[] {
  const before = parseAcl(from);
  const after = parseAcl(to);
  const out: string[] = [];
  const prefix = options.prefix ? `${options.prefix} ` : '';
  const cols = options.columns ? ` (${options.columns})` : '';
  for (const role of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    if (options.skip?.includes(role)) continue;
    const had = before.get(role) ?? new Map<string, boolean>();
    const has = after.get(role) ?? new Map<string, boolean>();
    const revoke = [...had.keys()].filter((p) => !has.has(p));
    const revokeOption = [...had.keys()].filter((p) => has.has(p) && had.get(p) && !has.get(p));
    const grant = [...has.keys()].filter((p) => !had.has(p) && !has.get(p));
    const grantWithOption = [...has.keys()].filter((p) => (!had.has(p) || !had.get(p)) && has.get(p));
    const list = (ps: string[]) =>
      ps
        .sort()
        .map((p) => p.toLowerCase())
        .join(', ');
    if (revoke.length) out.push(`${prefix}revoke ${list(revoke)}${cols} on ${on} from ${grantee(role)};`);
    if (revokeOption.length) out.push(`${prefix}revoke grant option for ${list(revokeOption)}${cols} on ${on} from ${grantee(role)};`);
    if (grant.length) out.push(`${prefix}grant ${list(grant)}${cols} on ${on} to ${grantee(role)};`);
    if (grantWithOption.length) out.push(`${prefix}grant ${list(grantWithOption)}${cols} on ${on} to ${grantee(role)} with grant option;`);
  }
  return out;
}

function commentSql(o: CatalogObject, comment: JsonValue | undefined): string[] {
  const what = target(o).comment;
  if (!what) return [];
  return [`comment on ${what} is ${comment === null || comment === undefined ? 'null' : ql(String(comment))};`];
}

function ownerSql(o: CatalogObject, owner: JsonValue | undefined): string[] {
  const what = target(o).owner;
  return what && owner ? [`alter ${what} owner to ${qi(String(owner))};`] : [];
}

/**
 * Grants a CREATE gives without being asked: the built-in ones (EXECUTE on functions
 * and USAGE on types to PUBLIC) plus the target database's default privileges for the
 * creating role (`defaults`, from ALTER DEFAULT PRIVILEGES).
 */
function implicitAcl(o: CatalogObject, defaults: Acl = {}): Acl {
  const implicit: Acl = { ...defaults };
  const add = (role: string, privilege: string) => {
    implicit[role] = [...new Set([...(implicit[role]?.split(',').filter(Boolean) ?? []), privilege])].sort().join(',');
  };
  if (o.kind === 'function' || o.kind === 'procedure') add('PUBLIC', 'EXECUTE');
  if (o.kind === 'enum' || o.kind === 'domain' || o.kind === 'composite_type') add('PUBLIC', 'USAGE');
  return implicit;
}

/** ACL statements after a CREATE: from what the CREATE granted implicitly to the object's ACL (the owner keeps everything). */
function createdAclSql(o: CatalogObject, defaults?: Acl): string[] {
  const on = target(o).grant;
  if (!on) return [];
  return aclSql(on, implicitAcl(o, defaults), o.props.acl, { skip: [s(o.props.owner)] });
}

function extras(o: CatalogObject, defaults?: Acl): string[] {
  return [...(o.props.comment ? commentSql(o, o.props.comment) : []), ...createdAclSql(o, defaults)];
}

/** Which default-privileges object type (`tables`, `functions`, ...) a CREATE of this kind picks up. */
export function defaultPrivilegesType(kind: CatalogObject['kind']): string | undefined {
  switch (kind) {
    case 'table':
    case 'view':
    case 'materialized_view':
      return 'tables';
    case 'sequence':
      return 'sequences';
    case 'function':
    case 'procedure':
      return 'functions';
    case 'enum':
    case 'domain':
    case 'composite_type':
      return 'types';
    case 'schema':
      return 'schemas';
    default:
      return undefined;
  }
}

function columnDefinition(c: CatalogObject): string {
  const p = c.props;
  const parts = [qi(childName(c)), s(p.type)];
  if (p.collation) parts.push(`collate ${s(p.collation)}`);
  if (p.generated) parts.push(`generated always as (${s(p.generated)}) stored`);
  else if (p.default) parts.push(`default ${s(p.default)}`);
  if (p.notNull) parts.push('not null');
  if (p.identity) parts.push(`generated ${s(p.identity)} as identity`);
  return parts.join(' ');
}

function viewOptionsClause(options: JsonValue | undefined): string {
  const entries = Object.entries((options ?? {}) as Record<string, string>);
  return entries.length ? ` with (${entries.map(([k, v]) => `${k} = ${v}`).join(', ')})` : '';
}

const stripSemicolon = (sql: string) => sql.replace(/;\s*$/, '');

function policyCreate(o: CatalogObject): string {
  const p = o.props;
  const roles = ((p.roles ?? []) as string[]).map((r) => (r === 'public' ? 'public' : qi(r))).join(', ') || 'public';
  return (
    [
      `create policy ${qi(childName(o))} on ${tableOf(o)}`,
      `  as ${p.permissive ? 'permissive' : 'restrictive'} for ${s(p.command)} to ${roles}`,
      ...(p.using ? [`  using (${s(p.using)})`] : []),
      ...(p.withCheck ? [`  with check (${s(p.withCheck)})`] : []),
    ].join('\n') + ';'
  );
}

function triggerEnabledSql(o: CatalogObject, enabled: JsonValue | undefined): string[] {
  const state = { enabled: 'enable', disabled: 'disable', replica: 'enable replica', always: 'enable always' }[s(enabled)] ?? 'enable';
  return [`alter table ${tableOf(o)} ${state} trigger ${qi(childName(o))};`];
}

function sequenceOptions(p: Props): string {
  return [
    p.type ? `as ${s(p.type)}` : '',
    `increment by ${s(p.increment)}`,
    `minvalue ${s(p.min)}`,
    `maxvalue ${s(p.max)}`,
    `start with ${s(p.start)}`,
    `cache ${s(p.cache)}`,
    p.cycle ? 'cycle' : 'no cycle',
  ]
    .filter(Boolean)
    .join(' ');
}

function publicationCreate(o: CatalogObject): string {
  const p = o.props;
  const tables = (p.tables ?? []) as string[];
  const schemas = (p.schemas ?? []) as string[];
  const scope = p.allTables
    ? ' for all tables'
    : [
        ...(tables.length ? [`table ${tables.map(quoteQualifiedEntry).join(', ')}`] : []),
        ...(schemas.length ? [`tables in schema ${schemas.map(qi).join(', ')}`] : []),
      ]
        .join(', ')
        .replace(/^(.)/, ' for $1');
  return `create publication ${qi(o.name)}${scope} with (publish = ${ql(s(p.publish))}${p.viaRoot ? ', publish_via_partition_root = true' : ''});`;
}

/** "schema.table where (...)" -> "schema"."table" where (...) */
function quoteQualifiedEntry(entry: string): string {
  const where = entry.indexOf(' where ');
  const name = where < 0 ? entry : entry.slice(0, where);
  const dot = name.indexOf('.');
  return `${qi(name.slice(0, dot))}.${qi(name.slice(dot + 1))}${where < 0 ? '' : ` where (${entry.slice(where + 7)})`}`;
}

function defaultPrivilegesPrefix(o: CatalogObject): string {
  return `alter default privileges for role ${qi(s(o.props.role))}${o.schema ? ` in schema ${qi(o.schema)}` : ''}`;
}

/** CREATE for an object; `children` are the columns and constraints of a table. */
export function createSql(o: CatalogObject, children: CatalogObject[] = [], defaults?: Acl): string[] {
  const p = o.props;
  switch (o.kind) {
    case 'schema':
      return [`create schema ${qi(o.name)};`, ...extras(o, defaults)];
    case 'extension':
      return [
        `create extension if not exists ${qi(o.name)}${p.schema ? ` with schema ${qi(s(p.schema))}` : ''}${p.version ? ` version ${ql(s(p.version))}` : ''};`,
      ];
    case 'enum':
      return [`create type ${qualified(o)} as enum (${((p.values ?? []) as string[]).map(ql).join(', ')});`, ...extras(o, defaults)];
    case 'domain': {
      const constraints = Object.entries((p.constraints ?? {}) as Record<string, string>).map(([n, d]) => ` constraint ${qi(n)} ${d}`);
      return [
        `create domain ${qualified(o)} as ${s(p.type)}${p.collation ? ` collate ${s(p.collation)}` : ''}${p.default ? ` default ${s(p.default)}` : ''}${p.notNull ? ' not null' : ''}${constraints.join('')};`,
        ...extras(o, defaults),
      ];
    }
    case 'composite_type':
      return [
        `create type ${qualified(o)} as (${((p.attributes ?? []) as [string, string][]).map(([n, t]) => `${qi(n)} ${t}`).join(', ')});`,
        ...extras(o, defaults),
      ];
    case 'sequence':
      return [
        `create sequence ${qualified(o)} ${sequenceOptions(p)};`,
        ...(p.ownedBy ? [`alter sequence ${qualified(o)} owned by ${quoteDotted(s(p.ownedBy))};`] : []),
        ...extras(o, defaults),
      ];
    case 'table': {
      const columns = children.filter((c) => c.kind === 'column');
      const constraints = children.filter((c) => c.kind === 'constraint' && c.props.type !== 'foreign key');
      const foreignKeys = children.filter((c) => c.kind === 'constraint' && c.props.type === 'foreign key');
      const head = p.partitionOf
        ? `create table ${qualified(o)} partition of ${quoteDotted(s(p.partitionOf))} ${s(p.partitionBound)}`
        : `create ${p.unlogged ? 'unlogged ' : ''}table ${qualified(o)} (\n${[
            ...columns.map((c) => `  ${columnDefinition(c)}`),
            ...constraints.map((c) => `  constraint ${qi(childName(c))} ${s(c.props.definition)}`),
          ].join(',\n')}\n)${p.partitionKey ? ` partition by ${s(p.partitionKey)}` : ''}`;
      const options = Object.entries((p.options ?? {}) as Record<string, string>);
      return [
        `${head}${options.length ? ` with (${options.map(([k, v]) => `${k} = ${v}`).join(', ')})` : ''};`,
        ...foreignKeys.flatMap((c) => createSql(c)),
        ...(p.rls ? [`alter table ${qualified(o)} enable row level security;`] : []),
        ...(p.forceRls ? [`alter table ${qualified(o)} force row level security;`] : []),
        ...extras(o, defaults),
        ...columns.flatMap((c) => [
          ...(c.props.comment ? commentSql(c, c.props.comment) : []),
          ...aclSql(`table ${qualified(o)}`, {}, c.props.acl, { columns: qi(childName(c)) }),
        ]),
      ];
    }
    case 'column':
      return [
        `alter table ${tableOf(o)} add column ${columnDefinition(o)};`,
        ...(p.comment ? commentSql(o, p.comment) : []),
        ...aclSql(`table ${tableOf(o)}`, {}, p.acl, { columns: qi(childName(o)) }),
      ];
    case 'constraint':
      return [`alter table ${tableOf(o)} add constraint ${qi(childName(o))} ${s(p.definition)};`, ...(p.comment ? commentSql(o, p.comment) : [])];
    case 'index':
      return [`${s(p.definition)};`, ...(p.comment ? commentSql(o, p.comment) : [])];
    case 'view':
      return [`create or replace view ${qualified(o)}${viewOptionsClause(p.options)} as\n${stripSemicolon(s(p.definition))};`, ...extras(o, defaults)];
    case 'materialized_view':
      return [`create materialized view ${qualified(o)}${viewOptionsClause(p.options)} as\n${stripSemicolon(s(p.definition))};`, ...extras(o, defaults)];
    case 'function':
    case 'procedure':
      return [`${stripSemicolon(o.ddl ?? `-- ${o.kind} ${o.name}: definition unavailable`)};`, ...extras(o, defaults)];
    case 'trigger':
      return [`${s(p.definition)};`, ...(p.enabled !== 'enabled' ? triggerEnabledSql(o, p.enabled) : []), ...(p.comment ? commentSql(o, p.comment) : [])];
    case 'policy':
      return [policyCreate(o), ...(p.comment ? commentSql(o, p.comment) : [])];
    case 'default_privileges':
      return aclSql(s(p.objects), {}, p.acl, { prefix: defaultPrivilegesPrefix(o) });
    case 'publication':
      return [publicationCreate(o), ...(p.comment ? commentSql(o, p.comment) : [])];
    case 'unmodeled':
      return [`-- ${o.name}${o.schema ? ` in schema ${o.schema}` : ''}: postgate does not model this kind of object; write its CREATE statement by hand.`];
  }
}

/** "schema.table.column" or "schema.table" with each part quoted. */
function quoteDotted(text: string): string {
  return text.split('.').map(qi).join('.');
}

export function dropSql(o: CatalogObject): string[] {
  switch (o.kind) {
    case 'schema':
      return [`drop schema ${qi(o.name)}; -- fails while it still holds objects: review them first`];
    case 'extension':
      return [`drop extension ${qi(o.name)};`];
    case 'enum':
    case 'composite_type':
      return [`drop type ${qualified(o)};`];
    case 'domain':
      return [`drop domain ${qualified(o)};`];
    case 'sequence':
      return [`drop sequence ${qualified(o)};`];
    case 'table':
      return [`drop table ${qualified(o)}; -- destroys its data: export it first if it matters`];
    case 'column':
      return [`alter table ${tableOf(o)} drop column ${qi(childName(o))}; -- destroys its data`];
    case 'constraint':
      return [`alter table ${tableOf(o)} drop constraint ${qi(childName(o))};`];
    case 'index':
      return [`drop index ${qualified(o)};`];
    case 'view':
      return [`drop view ${qualified(o)};`];
    case 'materialized_view':
      return [`drop materialized view ${qualified(o)};`];
    case 'function':
    case 'procedure':
      return [`drop ${o.kind} ${functionSignature(o)};`];
    case 'trigger':
      return [`drop trigger ${qi(childName(o))} on ${tableOf(o)};`];
    case 'policy':
      return [`drop policy ${qi(childName(o))} on ${tableOf(o)};`];
    case 'default_privileges':
      return aclSql(s(o.props.objects), o.props.acl, {}, { prefix: defaultPrivilegesPrefix(o) });
    case 'publication':
      return [`drop publication ${qi(o.name)};`];
    case 'unmodeled':
      return [`-- ${o.name}${o.schema ? ` in schema ${o.schema}` : ''}: postgate does not model this kind of object; write its DROP statement by hand.`];
  }
}

const changed = (from: Props, to: Props, key: string) => JSON.stringify(from[key] ?? null) !== JSON.stringify(to[key] ?? null);

/** Statements that turn `from` into `to` (same kind and name). */
export function alterSql(from: CatalogObject, to: CatalogObject, defaults?: Acl): string[] {
  const a = from.props;
  const b = to.props;
  const d = (key: string) => changed(a, b, key);
  const common = (): string[] => [
    ...(d('owner') ? ownerSql(to, b.owner) : []),
    ...(d('acl') && target(to).grant ? aclSql(target(to).grant!, a.acl, b.acl) : []),
    ...(d('comment') ? commentSql(to, b.comment) : []),
  ];
  const recreate = () => [...dropSql(from), ...createSql(to, [], defaults)];
  switch (to.kind) {
    case 'schema':
      return common();
    case 'extension':
      return [
        ...(d('schema') ? [`alter extension ${qi(to.name)} set schema ${qi(s(b.schema))};`] : []),
        ...(d('version') ? [`alter extension ${qi(to.name)} update to ${ql(s(b.version))};`] : []),
        ...(d('comment') ? commentSql(to, b.comment) : []),
      ];
    case 'enum': {
      const out: string[] = [];
      if (d('values')) {
        const before = (a.values ?? []) as string[];
        const after = (b.values ?? []) as string[];
        const keeps = after.filter((v) => before.includes(v));
        if (before.every((v) => after.includes(v)) && keeps.join('\u0000') === before.join('\u0000')) {
          after.forEach((value, index) => {
            if (before.includes(value)) return;
            const anchor = index > 0 ? `after ${ql(after[index - 1]!)}` : after[1] ? `before ${ql(after[1])}` : '';
            out.push(`alter type ${qualified(to)} add value ${ql(value)}${anchor ? ` ${anchor}` : ''};`);
          });
        } else {
          out.push(
            `-- enum values cannot be removed or reordered in place: create a new type with (${after.map(ql).join(', ')}), move the columns to it, then drop the old type.`,
          );
        }
      }
      return [...out, ...common()];
    }
    case 'domain': {
      if (d('type') || d('collation')) return recreate();
      const out: string[] = [];
      if (d('default')) out.push(b.default ? `alter domain ${qualified(to)} set default ${s(b.default)};` : `alter domain ${qualified(to)} drop default;`);
      if (d('notNull')) out.push(`alter domain ${qualified(to)} ${b.notNull ? 'set' : 'drop'} not null;`);
      const ca = (a.constraints ?? {}) as Record<string, string>;
      const cb = (b.constraints ?? {}) as Record<string, string>;
      for (const name of Object.keys(ca)) if (ca[name] !== cb[name]) out.push(`alter domain ${qualified(to)} drop constraint ${qi(name)};`);
      for (const name of Object.keys(cb)) if (ca[name] !== cb[name]) out.push(`alter domain ${qualified(to)} add constraint ${qi(name)} ${cb[name]};`);
      return [...out, ...common()];
    }
    case 'composite_type': {
      const out: string[] = [];
      if (d('attributes')) {
        const before = new Map((a.attributes ?? []) as [string, string][]);
        const after = new Map((b.attributes ?? []) as [string, string][]);
        for (const name of before.keys()) if (!after.has(name)) out.push(`alter type ${qualified(to)} drop attribute ${qi(name)};`);
        for (const [name, type] of after) {
          if (!before.has(name)) out.push(`alter type ${qualified(to)} add attribute ${qi(name)} ${type};`);
          else if (before.get(name) !== type) out.push(`alter type ${qualified(to)} alter attribute ${qi(name)} type ${type};`);
        }
      }
      return [...out, ...common()];
    }
    case 'sequence': {
      const out: string[] = [];
      if (['type', 'increment', 'min', 'max', 'start', 'cache', 'cycle'].some(d)) out.push(`alter sequence ${qualified(to)} ${sequenceOptions(b)};`);
      if (d('ownedBy')) out.push(`alter sequence ${qualified(to)} owned by ${b.ownedBy ? quoteDotted(s(b.ownedBy)) : 'none'};`);
      return [...out, ...common()];
    }
    case 'table': {
      const out: string[] = [];
      const t = qualified(to);
      if (d('partitionKey') || d('partitioned') || d('partitionOf') || d('partitionBound')) {
        out.push(
          `-- the partitioning of ${t} differs (${s(a.partitionKey ?? a.partitionBound) || 'none'} -> ${s(b.partitionKey ?? b.partitionBound) || 'none'}); this needs a new table and a data copy, written by hand.`,
        );
      }
      if (d('unlogged')) out.push(`alter table ${t} set ${b.unlogged ? 'unlogged' : 'logged'};`);
      if (d('rls')) out.push(`alter table ${t} ${b.rls ? 'enable' : 'disable'} row level security;`);
      if (d('forceRls')) out.push(`alter table ${t} ${b.forceRls ? 'force' : 'no force'} row level security;`);
      if (d('options')) {
        const oa = (a.options ?? {}) as Record<string, string>;
        const ob = (b.options ?? {}) as Record<string, string>;
        const reset = Object.keys(oa).filter((k) => !(k in ob));
        const set = Object.entries(ob).filter(([k, v]) => oa[k] !== v);
        if (reset.length) out.push(`alter table ${t} reset (${reset.join(', ')});`);
        if (set.length) out.push(`alter table ${t} set (${set.map(([k, v]) => `${k} = ${v}`).join(', ')});`);
      }
      if (d('replicaIdentity')) {
        const mode = { d: 'default', f: 'full', n: 'nothing' }[s(b.replicaIdentity)];
        out.push(
          mode
            ? `alter table ${t} replica identity ${mode};`
            : `-- replica identity of ${t} uses an index: alter table ${t} replica identity using index <index>;`,
        );
      }
      return [...out, ...common()];
    }
    case 'column': {
      const t = tableOf(to);
      const c = qi(childName(to));
      const out: string[] = [];
      if (d('generated')) {
        return [
          `-- ${c} changes its generation expression: the column must be dropped and added again (its values are recomputed).`,
          ...dropSql(from),
          ...createSql(to),
        ];
      }
      if (d('type') || d('collation'))
        out.push(`alter table ${t} alter column ${c} type ${s(b.type)}${b.collation ? ` collate ${s(b.collation)}` : ''} using ${c}::${s(b.type)};`);
      if (d('default'))
        out.push(b.default ? `alter table ${t} alter column ${c} set default ${s(b.default)};` : `alter table ${t} alter column ${c} drop default;`);
      if (d('notNull')) out.push(`alter table ${t} alter column ${c} ${b.notNull ? 'set' : 'drop'} not null;`);
      if (d('identity')) {
        if (!a.identity) out.push(`alter table ${t} alter column ${c} add generated ${s(b.identity)} as identity;`);
        else if (!b.identity) out.push(`alter table ${t} alter column ${c} drop identity;`);
        else out.push(`alter table ${t} alter column ${c} set generated ${s(b.identity)};`);
      }
      if (d('acl')) out.push(...aclSql(`table ${t}`, a.acl, b.acl, { columns: c }));
      if (d('comment')) out.push(...commentSql(to, b.comment));
      return out;
    }
    case 'constraint':
      if (['type', 'definition', 'deferrable', 'deferred'].some(d)) return [...dropSql(from), ...createSql(to)];
      return commentSql(to, b.comment);
    case 'index':
      return d('definition') ? recreate() : commentSql(to, b.comment);
    case 'view':
      if (d('definition'))
        return [
          `create or replace view ${qualified(to)}${viewOptionsClause(b.options)} as\n${stripSemicolon(s(b.definition))}; -- if the columns changed, drop the view first`,
          ...common(),
        ];
      if (d('options')) {
        const oa = (a.options ?? {}) as Record<string, string>;
        const ob = (b.options ?? {}) as Record<string, string>;
        const reset = Object.keys(oa).filter((k) => !(k in ob));
        const set = Object.entries(ob).filter(([k, v]) => oa[k] !== v);
        return [
          ...(reset.length ? [`alter view ${qualified(to)} reset (${reset.join(', ')});`] : []),
          ...(set.length ? [`alter view ${qualified(to)} set (${set.map(([k, v]) => `${k} = ${v}`).join(', ')});`] : []),
          ...common(),
        ];
      }
      return common();
    case 'materialized_view':
      return d('definition') || d('options') ? recreate() : common();
    case 'function':
    case 'procedure': {
      const body = ['arguments', 'returns', 'language', 'body', 'volatility', 'securityDefiner', 'strict', 'parallel', 'leakproof', 'config', 'cost', 'rows'];
      if (!body.some(d)) return common();
      const create = `${stripSemicolon(to.ddl ?? '')};`;
      return [...(d('returns') || d('arguments') ? dropSql(from) : []), create, ...common()];
    }
    case 'trigger':
      if (d('definition')) return recreate();
      return [...(d('enabled') ? triggerEnabledSql(to, b.enabled) : []), ...(d('comment') ? commentSql(to, b.comment) : [])];
    case 'policy': {
      const dropsClause = (a.using && !b.using) || (a.withCheck && !b.withCheck);
      if (d('command') || d('permissive') || dropsClause) return [...dropSql(from), ...createSql(to)];
      const roles = ((b.roles ?? []) as string[]).map((r) => (r === 'public' ? 'public' : qi(r))).join(', ');
      const clauses = [
        ...(d('roles') ? [`to ${roles}`] : []),
        ...(d('using') ? [`using (${s(b.using)})`] : []),
        ...(d('withCheck') ? [`with check (${s(b.withCheck)})`] : []),
      ];
      return [
        ...(clauses.length ? [`alter policy ${qi(childName(to))} on ${tableOf(to)} ${clauses.join(' ')};`] : []),
        ...(d('comment') ? commentSql(to, b.comment) : []),
      ];
    }
    case 'default_privileges':
      return aclSql(s(b.objects), a.acl, b.acl, { prefix: defaultPrivilegesPrefix(to) });
    case 'publication': {
      if (d('allTables') || d('schemas')) return recreate();
      const out: string[] = [];
      const ta = (a.tables ?? []) as string[];
      const tb = (b.tables ?? []) as string[];
      const dropT = ta.filter((x) => !tb.includes(x));
      const addT = tb.filter((x) => !ta.includes(x));
      if (dropT.length)
        out.push(`alter publication ${qi(to.name)} drop table ${dropT.map((x) => quoteQualifiedEntry(x).replace(/ where .*$/, '')).join(', ')};`);
      if (addT.length) out.push(`alter publication ${qi(to.name)} add table ${addT.map(quoteQualifiedEntry).join(', ')};`);
      if (d('publish') || d('viaRoot'))
        out.push(`alter publication ${qi(to.name)} set (publish = ${ql(s(b.publish))}, publish_via_partition_root = ${b.viaRoot ? 'true' : 'false'});`);
      if (d('comment')) out.push(...commentSql(to, b.comment));
      return out;
    }
    case 'unmodeled':
      return [];
  }
}
