/**
 * The rows the access matrix probes: which exposed tables and views there are, who owns a
 * row (owner columns, or a foreign key to an owned parent), users A and B, and generated
 * rows that satisfy a table's constraints. Runs as the superuser inside the matrix's
 * transaction, so everything it creates is rolled back.
 */
import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';

export interface Column {
  name: string;
  notNull: boolean;
  hasDefault: boolean;
  defaultExpr: string | null;
  skip: boolean;
  typeName: string;
  category: string;
  labels: string[] | null;
}

export interface ForeignKey {
  columns: string[];
  refOid: number;
  refColumns: string[];
}

export interface Table {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  columns: Column[];
  fks: ForeignKey[];
  /** Constraint name -> columns, for check violations. */
  checks: Map<string, string[]>;
  ownerColumns: string[];
  /** FK through which a row inherits its parent's owner (tables without owner columns). */
  ownerLink?: ForeignKey;
}

export interface MatrixOptions {
  exposedSchemas: string[];
  /** The first is the anonymous role, the second the signed-in role. */
  apiRoles: string[];
  /** Limit to these relations ("schema.name"), e.g. for tests. */
  only?: string[];
}

export const qname = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
export const tidArray = (ctids: string[]) => `array[${ctids.map(quoteLiteral).join(',')}]::tid[]`;

export async function loadTables(session: ClientBase, options: MatrixOptions): Promise<Table[]> {
  const rels = await session.query<{ oid: number; schema: string; name: string; relkind: string }>(
    `select c.oid::int, n.nspname::text as schema, c.relname::text as name, c.relkind::text
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
        and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
        and ($2::text[] is null or n.nspname || '.' || c.relname = any($2::text[]))
      order by 2, 3`,
    [options.exposedSchemas, options.only ?? null],
  );
  const oids = rels.rows.map((r) => r.oid);
  // One query at a time: a pg client runs queries sequentially anyway.
  const columns = await session.query<Column & { rel: number }>(
    `select a.attrelid::int as rel, a.attname::text as name, a.attnotnull as "notNull", a.atthasdef as "hasDefault",
              pg_catalog.pg_get_expr(d.adbin, d.adrelid) as "defaultExpr",
              (a.attidentity = 'a' or a.attgenerated <> '') as skip,
              coalesce(bt.typname, t.typname)::text as "typeName",
              coalesce(bt.typcategory, t.typcategory)::text as category,
              case when coalesce(bt.typtype, t.typtype) = 'e'
                   then array(select e.enumlabel::text from pg_catalog.pg_enum e where e.enumtypid = coalesce(bt.oid, t.oid) order by e.enumsortorder) end as labels
         from pg_catalog.pg_attribute a
         join pg_catalog.pg_type t on t.oid = a.atttypid
         left join pg_catalog.pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
         left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
        order by a.attrelid, a.attnum`,
    [oids],
  );
  const constraints = await session.query<{
    rel: number;
    type: string;
    name: string;
    columns: string[];
    ref: number | null;
    ref_schema: string | null;
    ref_name: string | null;
    ref_columns: string[] | null;
  }>(
    `select con.conrelid::int as rel, con.contype::text as type, con.conname::text as name,
              array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i)
                    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i) as columns,
              nullif(con.confrelid, 0)::int as ref, rn.nspname::text as ref_schema, rc.relname::text as ref_name,
              array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i)
                    join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i) as ref_columns
         from pg_catalog.pg_constraint con
         left join pg_catalog.pg_class rc on rc.oid = con.confrelid
         left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
        where con.conrelid = any($1::oid[]) and con.contype in ('f', 'c')`,
    [oids],
  );
  const policies = await session.query<{ rel: number; expr: string }>(
    `select pol.polrelid::int as rel,
              concat_ws(' ', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)) as expr
         from pg_catalog.pg_policy pol where pol.polrelid = any($1::oid[])`,
    [oids],
  );
  const authUsers = (await session.query<{ oid: number | null }>(`select pg_catalog.to_regclass('auth.users')::oid::int as oid`)).rows[0]?.oid ?? null;
  return rels.rows.map((rel) => {
    const cols = columns.rows.filter((c) => c.rel === rel.oid);
    const mine = constraints.rows.filter((c) => c.rel === rel.oid);
    const fks = mine.filter((c) => c.type === 'f').map((c) => ({ columns: c.columns, refOid: c.ref!, refColumns: c.ref_columns ?? [] }));
    const policyText = policies.rows
      .filter((p) => p.rel === rel.oid)
      .map((p) => p.expr.replace(/\(\s*SELECT\s+auth\.uid\(\)\s+AS\s+uid\)/gi, 'auth.uid()').replace(/::text/g, ''))
      .join(' ');
    const compared = new Set<string>();
    for (const match of policyText.matchAll(/([a-z_][a-z0-9_]*)\s*=\s*\(*\s*auth\.uid\(\)/gi)) compared.add(match[1]!);
    for (const match of policyText.matchAll(/auth\.uid\(\)\s*\)*\s*=\s*([a-z_][a-z0-9_]*)/gi)) compared.add(match[1]!);
    const ownerColumns = cols
      .filter(
        (c) =>
          compared.has(c.name) ||
          /\bauth\.uid\(\)/.test(c.defaultExpr ?? '') ||
          fks.some((fk) => fk.refOid === authUsers && fk.columns.length === 1 && fk.columns[0] === c.name),
      )
      .map((c) => c.name);
    return {
      ...rel,
      columns: cols,
      fks,
      checks: new Map(mine.filter((c) => c.type === 'c').map((c) => [c.name, c.columns])),
      ownerColumns,
    };
  });
}

/** Links ownerless tables to an owned parent, and orders tables parents first. */
export function linkAndOrder(tables: Table[]): Table[] {
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  for (let pass = 0; pass < 3; pass += 1) {
    for (const table of tables) {
      if (table.ownerColumns.length || table.ownerLink) continue;
      const link = table.fks.find((fk) => {
        const parent = byOid.get(fk.refOid);
        return parent && parent !== table && (parent.ownerColumns.length || parent.ownerLink);
      });
      if (link) table.ownerLink = link;
    }
  }
  const ordered: Table[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (table: Table) => {
    if (state.get(table.oid)) return;
    state.set(table.oid, 'visiting');
    for (const fk of table.fks) {
      const parent = byOid.get(fk.refOid);
      if (parent && parent !== table) visit(parent);
    }
    state.set(table.oid, 'done');
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}

/** SQL condition: the row aliased `alias` of `table` belongs to `user` (and to nobody else). */
export function ownedBy(table: Table, alias: string, user: string, byOid: Map<number, Table>, depth = 0): string | undefined {
  if (table.ownerColumns.length) {
    const cols = table.ownerColumns.map((c) => `${alias}.${quoteIdent(c)}::text`);
    const all = cols.map((c) => `coalesce(${c}, ${quoteLiteral(user)}) = ${quoteLiteral(user)}`).join(' and ');
    return `(${all} and coalesce(${cols.join(', ')}) is not null)`;
  }
  const link = table.ownerLink;
  const parent = link && byOid.get(link.refOid);
  if (!link || !parent || depth > 3) return undefined;
  const p = `p${depth}`;
  const inner = ownedBy(parent, p, user, byOid, depth + 1);
  if (!inner) return undefined;
  const join = link.columns.map((c, i) => `${p}.${quoteIdent(link.refColumns[i]!)} = ${alias}.${quoteIdent(c)}`).join(' and ');
  return `exists (select 1 from ${qname(parent.schema, parent.name)} ${p} where ${join} and ${inner})`;
}

export interface Rows {
  A: string[];
  B: string[];
  total: number;
}

export async function ownedRows(session: ClientBase, table: Table, users: { A: string; B: string }, byOid: Map<number, Table>): Promise<Rows> {
  const a = ownedBy(table, 't', users.A, byOid) ?? 'false';
  const b = ownedBy(table, 't', users.B, byOid) ?? 'false';
  const result = await session.query<{ a: string[]; b: string[]; total: number }>(
    `select coalesce(array_agg(t.ctid::text) filter (where ${a}), '{}') as a,
            coalesce(array_agg(t.ctid::text) filter (where ${b}), '{}') as b, count(*)::int as total
       from ${qname(table.schema, table.name)} t`,
  );
  const row = result.rows[0]!;
  return { A: row.a, B: row.b, total: row.total };
}

// ---------------------------------------------------------------- generating rows

const TEXT_CANDIDATES = (seed: string) => [`p${seed}`, seed.repeat(8).slice(0, 64), `${seed}@example.com`, 'a', `https://example.com/${seed}`];

function candidates(column: Column, seed: string): unknown[] {
  if (column.labels?.length) return column.labels;
  if (column.category === 'A') return ['{}'];
  switch (column.typeName) {
    case 'uuid':
      return [randomUUID()];
    case 'bool':
      return [false, true];
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
      return [1 + (parseInt(seed.slice(0, 4), 16) % 30000), 1, 0];
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return ['2030-01-01'];
    case 'time':
    case 'timetz':
      return ['12:00'];
    case 'interval':
      return ['1 day'];
    case 'json':
    case 'jsonb':
      return [{}, []];
    case 'bytea':
      return ['\\x00'];
    case 'inet':
    case 'cidr':
      return ['127.0.0.1'];
    default:
      return column.category === 'S' ? TEXT_CANDIDATES(seed) : [null];
  }
}

interface Generated {
  ctid?: string;
  note?: string;
}

/** Inserts a row owned by `user` (as the session's superuser), retrying around constraint errors. */
export async function generateRow(
  session: ClientBase,
  table: Table,
  user: string | undefined,
  parents: (fk: ForeignKey) => Promise<Record<string, unknown> | undefined>,
): Promise<Generated> {
  const fixed: Record<string, unknown> = {};
  if (user) for (const c of table.ownerColumns) fixed[c] = user;
  for (const fk of table.fks) {
    const required = fk === table.ownerLink || fk.columns.some((c) => table.columns.find((col) => col.name === c)?.notNull);
    if (!required || fk.columns.every((c) => c in fixed)) continue;
    const parent = await parents(fk);
    if (!parent) return { note: `no row to reference in its foreign key (${fk.columns.join(', ')})` };
    fk.columns.forEach((c, i) => {
      if (!(c in fixed)) fixed[c] = parent[fk.refColumns[i]!];
    });
  }
  const choice = new Map<string, number>();
  const filled = new Set(table.columns.filter((c) => !c.skip && c.notNull && !c.hasDefault).map((c) => c.name));
  let lastError = '';
  let duplicates = 0;
  for (let attempt = 0; attempt < 16; attempt += 1) {
    const seed = randomUUID().replace(/-/g, '').slice(0, 8);
    const row: Record<string, unknown> = { ...fixed };
    for (const column of table.columns) {
      if (column.skip || column.name in fixed || !filled.has(column.name)) continue;
      const options = candidates(column, seed);
      row[column.name] = options[(choice.get(column.name) ?? 0) % options.length];
    }
    const cols = Object.keys(row);
    const sql = cols.length
      ? `insert into ${qname(table.schema, table.name)} (${cols.map(quoteIdent).join(', ')}) select ${cols.map(quoteIdent).join(', ')} from jsonb_populate_record(null::${qname(table.schema, table.name)}, $1::jsonb) returning ctid::text`
      : `insert into ${qname(table.schema, table.name)} default values returning ctid::text`;
    await session.query('savepoint postgate_generate');
    try {
      const inserted = await session.query<{ ctid: string }>(sql, cols.length ? [JSON.stringify(row)] : []);
      await session.query('release savepoint postgate_generate');
      return { ctid: inserted.rows[0]!.ctid };
    } catch (error) {
      await session.query('rollback to savepoint postgate_generate');
      const e = error as { code?: string; column?: string; constraint?: string; message: string };
      lastError = e.message;
      if (e.code === '23502' && e.column && !filled.has(e.column)) filled.add(e.column);
      else if (e.code === '23514' && e.constraint && table.checks.has(e.constraint)) {
        for (const c of table.checks.get(e.constraint)!) choice.set(c, (choice.get(c) ?? 0) + 1);
      } else if (['22001', '22003', '22P02', '22007', '22008', '23514'].includes(e.code ?? '')) {
        for (const c of filled) choice.set(c, (choice.get(c) ?? 0) + 1);
      } else if (e.code !== '23505' || ++duplicates >= 3) break;
    }
  }
  return { note: `could not generate a row: ${lastError}` };
}

export async function relationName(session: ClientBase, oid: number): Promise<string> {
  const row = (
    await session.query<{ schema: string; name: string }>(
      `select n.nspname::text as schema, c.relname::text as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = $1`,
      [oid],
    )
  ).rows[0]!;
  return qname(row.schema, row.name);
}

/** Users A and B: the first two users in auth.users, created when there are fewer. */
export async function pickUsers(session: ClientBase): Promise<{ A: string; B: string }> {
  const hasAuth = (await session.query<{ ok: boolean }>(`select pg_catalog.to_regclass('auth.users') is not null as ok`)).rows[0]?.ok;
  if (!hasAuth) return { A: randomUUID(), B: randomUUID() };
  const existing = (await session.query<{ id: string }>(`select id::text from auth.users order by created_at nulls last, id limit 2`)).rows.map((r) => r.id);
  while (existing.length < 2) {
    const id = randomUUID();
    await session.query(
      `insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
       values ($1, 'authenticated', 'authenticated', $2, '{"provider": "email"}', '{}', now(), now())`,
      [id, `postgate-${existing.length === 0 ? 'a' : 'b'}-${id.slice(0, 8)}@example.com`],
    );
    existing.push(id);
  }
  return { A: existing[0]!, B: existing[1]! };
}
