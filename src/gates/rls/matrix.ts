/**
 * The behavioural access matrix: for each exposed table and view, what each API actor can
 * actually do, found by running requests the way PostgREST does (`set local role`, the
 * JWT claims in `request.jwt.claims`) and counting rows. Shadow databases only: it writes
 * probe rows, inside one transaction that is always rolled back.
 *
 * Actors: the anonymous role; the signed-in role as user A and as user B; service_role.
 * Rows "owned" by A or B are found through owner columns (foreign keys to auth.users, a
 * default of auth.uid(), or columns policies compare with auth.uid()) or, for tables with
 * none, through a foreign key to an owned parent row. Tables lacking rows for A or B get
 * generated ones that satisfy their constraints.
 *
 * Per command (RLS denials are silent, so rows are counted, never inferred from errors):
 *   SELECT          rows visible among A's, B's and all rows
 *   UPDATE, DELETE  rows affected when targeting A's rows, then B's (no-op `set c = c`)
 *   INSERT          re-inserting a deleted row of A's, then of B's, as the actor
 * Outcomes: all (every row), own (own rows only), some (own rows and some of others', or a
 * subset), none (denied by policy), no-grant (denied by privileges), error, untested.
 */
import type { ClientBase } from 'pg';
import { quoteIdent, quoteLiteral } from '../../postgres/connect.ts';
import {
  type ForeignKey,
  generateRow,
  linkAndOrder,
  loadTables,
  type MatrixOptions,
  ownedBy,
  ownedRows,
  pickUsers,
  qname,
  relationName,
  type Rows,
  type Table,
  tidArray,
} from './matrix-rows.ts';

export type { MatrixOptions } from './matrix-rows.ts';

export const COMMANDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
export type Command = (typeof COMMANDS)[number];
export type Access = 'all' | 'own' | 'some' | 'none' | 'no-grant' | 'error' | 'untested';

export interface Actor {
  id: string;
  /** How the report names it, e.g. "authenticated (A)". */
  label: string;
  role: string;
  /** The user it acts as, for signed-in actors. */
  user?: 'A' | 'B';
}

export interface Cell {
  access: Access;
  /** Why, for error and untested cells. */
  note?: string;
}

export interface MatrixRow {
  object: { kind: string; schema: string; name: string };
  cells: Record<string, Partial<Record<Command, Cell>>>;
}

export interface AccessMatrix {
  actors: Actor[];
  commands: readonly Command[];
  users: { A: string; B: string };
  rows: MatrixRow[];
}

/** Words for the report. */
export const ACCESS_LABELS: Record<Access, string> = {
  all: 'allowed',
  own: 'own rows only',
  some: 'some rows',
  none: 'denied',
  'no-grant': 'denied (no grant)',
  error: 'error',
  untested: 'untested',
};

/** How much each outcome lets through, for comparing two matrices. */
export const ACCESS_RANK: Record<Access, number> = { 'no-grant': 0, none: 0, own: 1, some: 2, all: 3, error: -1, untested: -1 };

// ---------------------------------------------------------------- probing

/**
 * Runs a batch of probes in one round trip. Each probe runs in its own subtransaction
 * (a BEGIN ... EXCEPTION block): the optional setup as the superuser, then `set local
 * role` and the request claims the way PostgREST sets them, then the SQL; then it raises
 * to roll everything back and reports the row count (or the row of a SELECT probe), or
 * the error's SQLSTATE and message. Created in pg_temp inside the matrix's transaction,
 * so it disappears with the rollback.
 */
const PROBE_FUNCTION = String.raw`
create function pg_temp.postgate_probe(probes jsonb) returns jsonb
language plpgsql as $postgate_probe$
declare
  probe jsonb;
  results jsonb := '[]';
  outcome jsonb;
  affected bigint;
  state text;
  message text;
begin
  for probe in select value from pg_catalog.jsonb_array_elements(probes) loop
    begin
      if probe ? 'setup' then
        execute probe ->> 'setup';
      end if;
      execute pg_catalog.format('set local role %I', probe ->> 'role');
      perform pg_catalog.set_config('request.jwt.claims', probe ->> 'claims', true);
      if (probe ->> 'returnsRow')::boolean then
        execute 'select pg_catalog.to_jsonb(q) from (' || (probe ->> 'sql') || ') q' into outcome;
      else
        execute probe ->> 'sql';
        get diagnostics affected = row_count;
        outcome := pg_catalog.jsonb_build_object('n', affected);
      end if;
      raise sqlstate 'PGPRB' using message = outcome::text;
    exception when others then
      get stacked diagnostics state = returned_sqlstate, message = message_text;
      results := results || pg_catalog.jsonb_build_array(
        case when state = 'PGPRB' then message::jsonb
             else pg_catalog.jsonb_build_object('code', state, 'message', message) end);
    end;
  end loop;
  return results;
end
$postgate_probe$`;

interface ProbeSpec {
  role: string;
  claims: string;
  sql: string;
  /** SELECT probes return their row (own, other, n); others the number of rows affected. */
  returnsRow: boolean;
  setup?: string;
}

interface ProbeOutcome {
  n?: number | string;
  own?: number | string;
  other?: number | string;
  code?: string;
  message?: string;
}

async function runProbes(session: ClientBase, specs: ProbeSpec[]): Promise<ProbeOutcome[]> {
  if (!specs.length) return [];
  const result = await session.query<{ r: ProbeOutcome[] }>('select pg_temp.postgate_probe($1::jsonb) as r', [JSON.stringify(specs)]);
  return result.rows[0]!.r;
}

function errorCell(outcome: ProbeOutcome): Cell {
  if (outcome.code === '42501') return { access: 'none', note: outcome.message ?? '' };
  return { access: 'error', note: outcome.message ?? 'unknown error' };
}

/** Classifies counts of own / other / all rows reached. */
function classify(reached: { own: number; other: number; total: number }, available: { own: number; other: number; total: number }): Cell {
  if (available.own + available.other > 0) {
    if (available.other > 0 && reached.other >= available.other) return { access: 'all' };
    if (reached.other > 0) return { access: 'some' };
    if (reached.own > 0) return { access: 'own' };
    if (available.own === 0 && reached.total > 0) return { access: 'some' };
    return { access: 'none' };
  }
  if (available.total === 0) return { access: 'untested', note: 'no rows to probe' };
  if (reached.total >= available.total) return { access: 'all' };
  return reached.total > 0 ? { access: 'some' } : { access: 'none' };
}

export interface MatrixRun {
  matrix: AccessMatrix;
  probes: number;
}

/** Builds the access matrix. The session must be a superuser on a throwaway database. */
export async function buildAccessMatrix(session: ClientBase, options: MatrixOptions): Promise<MatrixRun> {
  const existing = new Set(
    (
      await session.query<{ name: string }>(`select rolname::text as name from pg_catalog.pg_roles where rolname = any($1::text[])`, [
        [...options.apiRoles, 'service_role'],
      ])
    ).rows.map((r) => r.name),
  );
  const [anonymous, signedIn] = options.apiRoles.map((role) => (existing.has(role) ? role : undefined));
  const hasServiceRole = existing.has('service_role');
  await session.query('begin');
  try {
    await session.query(PROBE_FUNCTION);
    const users = await pickUsers(session);
    const actors: Actor[] = [
      ...(anonymous ? [{ id: 'anon', label: anonymous, role: anonymous }] : []),
      ...(signedIn
        ? [
            { id: 'user_a', label: `${signedIn} (A)`, role: signedIn, user: 'A' as const },
            { id: 'user_b', label: `${signedIn} (B)`, role: signedIn, user: 'B' as const },
          ]
        : []),
      ...(hasServiceRole && !options.apiRoles.includes('service_role') ? [{ id: 'service_role', label: 'service_role', role: 'service_role' }] : []),
    ];
    const tables = linkAndOrder(await loadTables(session, options));
    const byOid = new Map(tables.map((t) => [t.oid, t]));
    const seedNotes = new Map<number, string>();
    /** Generated rows by `<table oid>:<user>`, preferred for INSERT probes. */
    const probeRows = new Map<string, string>();

    // Make sure A and B own rows wherever ownership is defined (parents first).
    const rowsOf = new Map<number, Rows>();
    const parentRow = async (fk: ForeignKey, user: string | undefined): Promise<Record<string, unknown> | undefined> => {
      const parent = byOid.get(fk.refOid);
      const owned = parent && user ? ownedBy(parent, 'p', user, byOid) : undefined;
      const name = parent ? qname(parent.schema, parent.name) : await relationName(session, fk.refOid);
      const sql = `select to_jsonb(p) as r from ${name} p ${owned ? `order by (${owned}) desc` : ''} limit 1`;
      return (await session.query<{ r: Record<string, unknown> }>(sql)).rows[0]?.r;
    };
    for (const table of tables) {
      if (table.relkind !== 'r' && table.relkind !== 'p') continue;
      const owned = table.ownerColumns.length > 0 || table.ownerLink !== undefined;
      const before = await ownedRows(session, table, users, byOid);
      // A private row for each user (nullable links left empty), so sharing shows as "some rows".
      const wanted = owned ? (['A', 'B'] as const) : before.total === 0 ? [undefined] : [];
      for (const who of wanted) {
        const user = who ? users[who] : undefined;
        const generated = await generateRow(session, table, user, (fk) => parentRow(fk, user));
        if (generated.ctid) probeRows.set(`${table.oid}:${who ?? ''}`, generated.ctid);
        else if (generated.note && (!who || before[who].length === 0)) seedNotes.set(table.oid, generated.note);
      }
      rowsOf.set(table.oid, wanted.length ? await ownedRows(session, table, users, byOid) : before);
    }

    const claimsOf = await actorClaims(session, actors, users);
    let probes = 0;
    const rows: MatrixRow[] = [];
    for (const table of tables) {
      const isTable = table.relkind === 'r' || table.relkind === 'p';
      const available =
        rowsOf.get(table.oid) ??
        ({
          A: [],
          B: [],
          total: Number((await session.query<{ n: number }>(`select count(*)::int as n from ${qname(table.schema, table.name)}`)).rows[0]?.n ?? 0),
        } as Rows);
      const candidates = [available.A.at(-1), available.B.at(-1), ...['A', 'B', ''].map((who) => probeRows.get(`${table.oid}:${who}`))].filter(
        (c): c is string => Boolean(c),
      );
      const access = await accessOf(session, table, actors, candidates);
      const plan = planProbes(table, actors, { available, access, claimsOf, probeRows });
      const outcomes = await runProbes(
        session,
        plan.flatMap((cell) => cell.parts.map((part) => part.spec)),
      );
      let next = 0;
      const cells: MatrixRow['cells'] = Object.fromEntries(actors.map((actor) => [actor.id, {}]));
      for (const cell of plan) {
        const results = cell.parts.map((part) => ({ part: part.part, outcome: outcomes[next++]! }));
        if (cell.parts.length) probes += 1;
        const decided = cell.decide(results);
        if (decided.access === 'untested' && seedNotes.has(table.oid)) decided.note = seedNotes.get(table.oid)!;
        cells[cell.actor]![cell.command] = decided;
      }
      rows.push({
        object: {
          kind: isTable ? 'table' : table.relkind === 'v' ? 'view' : table.relkind === 'm' ? 'materialized view' : 'foreign table',
          schema: table.schema,
          name: table.name,
        },
        cells,
      });
    }
    rows.sort((a, b) => `${a.object.schema}.${a.object.name}`.localeCompare(`${b.object.schema}.${b.object.name}`));
    return { matrix: { actors, commands: COMMANDS, users, rows }, probes };
  } finally {
    await session.query('rollback').catch(() => undefined);
  }
}

type Part = 'own' | 'other' | 'all';

interface PlannedCell {
  actor: string;
  command: Command;
  parts: Array<{ part: Part; spec: ProbeSpec }>;
  decide(results: Array<{ part: Part; outcome: ProbeOutcome }>): Cell;
}

interface TableAccess {
  privileges: Map<string, Set<Command>>;
  /** A column each role may update (for the no-op UPDATE), by role. */
  updatable: Map<string, string | undefined>;
  /** Row values (to re-insert) by ctid. */
  values: Map<string, unknown>;
}

/** The probes for one table: per actor and command, the statements and how to read their outcome. */
function planProbes(
  table: Table,
  actors: Actor[],
  input: { available: Rows; access: TableAccess; claimsOf: Map<string, string>; probeRows: Map<string, string> },
): PlannedCell[] {
  const target = qname(table.schema, table.name);
  const isTable = table.relkind === 'r' || table.relkind === 'p';
  const { available, access } = input;
  const plan: PlannedCell[] = [];
  for (const actor of actors) {
    const privileges = access.privileges.get(actor.id) ?? new Set<Command>();
    const own = actor.user ?? 'A';
    const other = own === 'A' ? 'B' : 'A';
    const ownRows = actor.user ? available[own] : [];
    const otherRows = actor.user ? available[other] : [...available.A, ...available.B];
    const counts = { own: ownRows.length, other: otherRows.length, total: available.total };
    const spec = (sql: string, returnsRow = false, setup?: string): ProbeSpec => ({
      role: actor.role,
      claims: input.claimsOf.get(actor.id)!,
      sql,
      returnsRow,
      ...(setup ? { setup } : {}),
    });
    const fixed = (command: Command, cell: Cell) => plan.push({ actor: actor.id, command, parts: [], decide: () => cell });
    for (const command of COMMANDS) {
      if (!isTable && command !== 'SELECT') continue;
      if (!privileges.has(command)) {
        fixed(command, { access: 'no-grant' });
        continue;
      }
      if (command === 'SELECT') {
        const sql = isTable
          ? `select count(*) filter (where ctid = any(${tidArray(ownRows)})) as own, count(*) filter (where ctid = any(${tidArray(otherRows)})) as other, count(*) as n from ${target}`
          : `select count(*) as n from ${target}`;
        plan.push({
          actor: actor.id,
          command,
          parts: [{ part: 'all', spec: spec(sql, true) }],
          decide: ([result]) =>
            result!.outcome.code
              ? errorCell(result!.outcome)
              : classify({ own: Number(result!.outcome.own ?? 0), other: Number(result!.outcome.other ?? 0), total: Number(result!.outcome.n) }, counts),
        });
        continue;
      }
      if (command === 'INSERT') {
        plan.push(planInsert(actor, table, target, { ownRows, otherRows, counts, spec, values: access.values, probeRows: input.probeRows, own, other }));
        continue;
      }
      const column = access.updatable.get(actor.role);
      if (command === 'UPDATE' && !column) {
        fixed(command, { access: 'no-grant', note: 'no column it may update' });
        continue;
      }
      const verb = command === 'UPDATE' ? `update ${target} set ${quoteIdent(column!)} = ${quoteIdent(column!)}` : `delete from ${target}`;
      // Without SELECT a request cannot filter rows; it can still change all of them.
      const parts: Array<{ part: Part; spec: ProbeSpec }> =
        !privileges.has('SELECT') || (!ownRows.length && !otherRows.length)
          ? [{ part: 'all', spec: spec(verb) }]
          : [
              ...(ownRows.length ? [{ part: 'own' as const, spec: spec(`${verb} where ctid = any(${tidArray(ownRows)})`) }] : []),
              ...(otherRows.length ? [{ part: 'other' as const, spec: spec(`${verb} where ctid = any(${tidArray(otherRows)})`) }] : []),
            ];
      plan.push({
        actor: actor.id,
        command,
        parts,
        decide: (results) => {
          const failed = results.find((r) => r.outcome.code && r.outcome.code !== '42501');
          if (failed) return errorCell(failed.outcome);
          const reached = { own: 0, other: 0, total: 0 };
          for (const r of results) reached[r.part === 'all' ? 'total' : r.part] = r.outcome.code ? 0 : Number(r.outcome.n ?? 0);
          if (parts[0]?.part === 'all') return classify({ own: 0, other: 0, total: reached.total }, { own: 0, other: 0, total: counts.total });
          return classify(reached, counts);
        },
      });
    }
  }
  return plan;
}

/** INSERT: delete a row of the actor's (then another user's) as the superuser, and re-insert it as the actor. */
function planInsert(
  actor: Actor,
  table: Table,
  target: string,
  input: {
    ownRows: string[];
    otherRows: string[];
    counts: { own: number; other: number; total: number };
    spec: (sql: string, returnsRow?: boolean, setup?: string) => ProbeSpec;
    values: Map<string, unknown>;
    probeRows: Map<string, string>;
    own: 'A' | 'B';
    other: 'A' | 'B';
  },
): PlannedCell {
  const { ownRows, otherRows, counts } = input;
  const cols = table.columns.filter((c) => !c.skip).map((c) => quoteIdent(c.name));
  const pick = (rows: string[], preferred: string | undefined) => (preferred && rows.includes(preferred) ? preferred : rows[rows.length - 1]);
  const ownPick = pick(ownRows, input.probeRows.get(`${table.oid}:${actor.user ? input.own : ''}`));
  const otherPick = pick(otherRows, input.probeRows.get(`${table.oid}:${actor.user ? input.other : 'A'}`));
  const attempts: Array<[Part, string]> = [];
  if (ownPick) attempts.push(['own', ownPick]);
  if (otherPick) attempts.push(['other', otherPick]);
  if (!attempts.length) {
    const any = [...input.values.keys()].find((ctid) => !ownRows.includes(ctid));
    if (any) attempts.push(['other', any]);
  }
  if (!attempts.length) return { actor: actor.id, command: 'INSERT', parts: [], decide: () => ({ access: 'untested', note: 'no row to insert' }) };
  const parts = attempts
    .filter(([, ctid]) => input.values.has(ctid))
    .map(([part, ctid]) => ({
      part,
      spec: input.spec(
        `insert into ${target} (${cols.join(', ')}) select ${cols.join(', ')} from jsonb_populate_record(null::${target}, ${quoteLiteral(JSON.stringify(input.values.get(ctid)))}::jsonb)`,
        false,
        `delete from ${target} where ctid = ${quoteLiteral(ctid)}::tid`,
      ),
    }));
  return {
    actor: actor.id,
    command: 'INSERT',
    parts,
    decide: (results) => {
      const inserted = { own: 0, other: 0, total: 0 };
      const errors = results.filter((r) => r.outcome.code && r.outcome.code !== '42501');
      if (errors.length && errors.length === results.length) return errorCell(errors[0]!.outcome);
      for (const r of results) if (!r.outcome.code) inserted[r.part === 'own' ? 'own' : 'other'] = Number(r.outcome.n ?? 0);
      const available = { own: ownRows.length ? 1 : 0, other: otherRows.length || !ownRows.length ? 1 : 0, total: counts.total };
      return classify({ ...inserted, total: inserted.own + inserted.other }, available);
    },
  };
}

/** Privileges per actor, an updatable column per role, and the values of rows INSERT probes re-insert. */
async function accessOf(session: ClientBase, table: Table, actors: Actor[], candidates: string[]): Promise<TableAccess> {
  const privileges = await privilegesOf(session, table.oid, actors);
  const roles = [...new Set(actors.map((a) => a.role))];
  const updatable = new Map<string, string | undefined>();
  const values = new Map<string, unknown>();
  if (table.relkind === 'r' || table.relkind === 'p') {
    const columns = await session.query<{ role: string; name: string | null }>(
      `select r.role, (select a.attname::text from pg_catalog.pg_attribute a
                        where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' and a.attidentity <> 'a'
                          and pg_catalog.has_column_privilege(r.role, a.attrelid, a.attnum, 'UPDATE')
                        order by (a.attname = any($3::text[])), a.attnum limit 1) as name
         from unnest($2::text[]) as r(role)`,
      [table.oid, roles, [...table.ownerColumns, ...table.fks.flatMap((fk) => fk.columns)]],
    );
    for (const row of columns.rows) updatable.set(row.role, row.name ?? undefined);
    const target = qname(table.schema, table.name);
    const sample = await session.query<{ ctid: string; r: unknown }>(
      `select ctid::text, to_jsonb(t) as r from ${target} t where ctid = any($1::tid[])
       union all (select ctid::text, to_jsonb(t) from ${target} t limit 2)`,
      [candidates],
    );
    for (const row of sample.rows) values.set(row.ctid, row.r);
  }
  return { privileges, updatable, values };
}

async function privilegesOf(session: ClientBase, oid: number, actors: Actor[]): Promise<Map<string, Set<Command>>> {
  const result = await session.query<{ role: string; privileges: Command[] }>(
    `select r.role, array_remove(array[
        case when pg_catalog.has_any_column_privilege(r.role, $1::oid, 'SELECT') then 'SELECT' end,
        case when pg_catalog.has_any_column_privilege(r.role, $1::oid, 'INSERT') then 'INSERT' end,
        case when pg_catalog.has_any_column_privilege(r.role, $1::oid, 'UPDATE') then 'UPDATE' end,
        case when pg_catalog.has_table_privilege(r.role, $1::oid, 'DELETE') then 'DELETE' end], null) as privileges
       from unnest($2::text[]) as r(role)
       join pg_catalog.pg_class c on c.oid = $1::oid
      where pg_catalog.has_schema_privilege(r.role, c.relnamespace, 'USAGE')`,
    [oid, [...new Set(actors.map((a) => a.role))]],
  );
  const byRole = new Map(result.rows.map((r) => [r.role, new Set(r.privileges)]));
  return new Map(actors.map((a) => [a.id, byRole.get(a.role) ?? new Set<Command>()]));
}

/** request.jwt.claims per actor, as Supabase Auth would issue them. */
async function actorClaims(session: ClientBase, actors: Actor[], users: { A: string; B: string }): Promise<Map<string, string>> {
  const hasAuth = (await session.query<{ ok: boolean }>(`select pg_catalog.to_regclass('auth.users') is not null as ok`)).rows[0]?.ok;
  const out = new Map<string, string>();
  for (const actor of actors) {
    if (!actor.user) {
      out.set(actor.id, JSON.stringify({ role: actor.role }));
      continue;
    }
    const id = users[actor.user];
    const profile = hasAuth
      ? (
          await session.query<{ email: string | null; app: unknown; meta: unknown }>(
            `select email, raw_app_meta_data as app, raw_user_meta_data as meta from auth.users where id = $1`,
            [id],
          )
        ).rows[0]
      : undefined;
    out.set(
      actor.id,
      JSON.stringify({
        sub: id,
        role: actor.role,
        aud: 'authenticated',
        ...(profile?.email ? { email: profile.email } : {}),
        app_metadata: profile?.app ?? {},
        user_metadata: profile?.meta ?? {},
        is_anonymous: false,
      }),
    );
  }
  return out;
}
