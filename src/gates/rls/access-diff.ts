/**
 * PR mode: what the pull request changes. Findings already present on the base branch are
 * set apart (they do not fail the PR); the two access matrices and the two sets of
 * policies are compared, and every widening of access becomes a finding.
 */
import type { ClientBase } from 'pg';
import { type Finding, type Severity, severityRank } from '../../findings/types.ts';
import { ACCESS_LABELS, ACCESS_RANK, type AccessMatrix, type Cell, type Command } from './matrix.ts';
import { normaliseExpression } from './policy-text.ts';
import { rlsFinding } from './rules.ts';

export interface PolicySnapshot {
  schema: string;
  table: string;
  name: string;
  command: string;
  permissive: boolean;
  roles: string[];
  using: string | null;
  check: string | null;
  /** Row level security is enabled on the table (else PostgreSQL ignores the policy). */
  rls: boolean;
}

export async function readPolicies(session: ClientBase, schemas: string[]): Promise<PolicySnapshot[]> {
  const result = await session.query<PolicySnapshot>(
    `select n.nspname::text as schema, c.relname::text as "table", pol.polname::text as name,
            case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end as command,
            pol.polpermissive as permissive,
            array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end from unnest(pol.polroles) r order by 1) as roles,
            pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) as using, pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) as check,
            c.relrowsecurity as rls
       from pg_catalog.pg_policy pol
       join pg_catalog.pg_class c on c.oid = pol.polrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1::text[]) or n.nspname = 'storage'
      order by 1, 2, 3`,
    [schemas],
  );
  return result.rows;
}

export interface AccessChange {
  object: string;
  actor: string;
  command: Command;
  before: string;
  after: string;
  direction: 'wider' | 'narrower';
}

/** Splits head findings into new ones and those already on the base branch. */
export function splitPreexisting(head: readonly Finding[], base: readonly Finding[]): { fresh: Finding[]; preexisting: Finding[] } {
  const baseKeys = new Set(base.map((f) => f.key));
  return { fresh: head.filter((f) => !baseKeys.has(f.key)), preexisting: head.filter((f) => baseKeys.has(f.key)) };
}

const known = (cell: Cell | undefined) => cell !== undefined && ACCESS_RANK[cell.access] >= 0;

/** Which explicit policy lets `role` read every row of `table` (`schema.name`) on purpose, if one does. */
export type PublicRead = (table: string, role: string) => string | undefined;

const ALWAYS_TRUE = new Set(['', 'true', '1 = 1']);

/**
 * Public read through an explicit policy: a permissive SELECT (or ALL) policy for the role or
 * PUBLIC whose USING is always true, on a table with row level security on that the repo config
 * does not list in `rls.private-tables`.
 */
export function publicReadPolicies(policies: readonly PolicySnapshot[], privateTables: readonly string[]): PublicRead {
  const isPrivate = new Set(privateTables);
  return (table, role) =>
    isPrivate.has(table)
      ? undefined
      : policies.find(
          (p) =>
            `${p.schema}.${p.table}` === table &&
            p.rls &&
            p.permissive &&
            (p.command === 'SELECT' || p.command === 'ALL') &&
            (p.roles.includes('public') || p.roles.includes(role)) &&
            ALWAYS_TRUE.has(normaliseExpression(p.using)),
        )?.name;
}

interface Widening {
  actor: string;
  command: Command;
  /** Which rows, e.g. "every row (was: denied)". */
  rows: string;
  severity: Severity;
}

/** Short wording: "anon, authenticated (A) can now SELECT every row; anon can now INSERT, UPDATE every row". */
function describeWidenings(widened: readonly Widening[]): string {
  const group = <T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> => {
    const groups = new Map<string, T[]>();
    for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
    return groups;
  };
  // per actor, the commands that gained the same rows; then the actors that gained the same
  const clauses = [...group(widened, (w) => w.actor).values()].flatMap((ofActor) =>
    [...group(ofActor, (w) => w.rows)].map(([rows, same]) => ({ actor: ofActor[0]!.actor, what: `${same.map((w) => w.command).join(', ')} ${rows}` })),
  );
  return [...group(clauses, (c) => c.what)].map(([what, same]) => `${same.map((c) => c.actor).join(', ')} can now ${what}`).join('; ');
}

/**
 * Per table, actor and command: where the PR gives more (or less) access than the base. Widened
 * access is an error for the anonymous actor and a warning for signed-in ones, except public
 * read through an explicit policy (`publicRead`), a notice.
 */
export function diffMatrices(
  base: AccessMatrix,
  head: AccessMatrix,
  publicRead: PublicRead = () => undefined,
): { changes: AccessChange[]; findings: Finding[] } {
  const baseRows = new Map(base.rows.map((row) => [`${row.object.schema}.${row.object.name}`, row]));
  const changes: AccessChange[] = [];
  const findings: Finding[] = [];
  const anonymous = head.actors[0]?.id;
  for (const row of head.rows) {
    const label = `${row.object.schema}.${row.object.name}`;
    const before = baseRows.get(label);
    const widened: Widening[] = [];
    for (const actor of head.actors) {
      if (actor.role === 'service_role') continue;
      for (const command of head.commands) {
        const now = row.cells[actor.id]?.[command];
        if (!known(now)) continue;
        const then: Cell = before?.cells[actor.id]?.[command] ?? { access: 'none' };
        if (!known(then) || ACCESS_RANK[now!.access] === ACCESS_RANK[then.access]) continue;
        const direction = ACCESS_RANK[now!.access] > ACCESS_RANK[then.access] ? 'wider' : 'narrower';
        changes.push({
          object: label,
          actor: actor.label,
          command,
          before: before ? ACCESS_LABELS[then.access] : 'new table',
          after: ACCESS_LABELS[now!.access],
          direction,
        });
        if (direction === 'wider' && (now!.access === 'all' || now!.access === 'some')) {
          const policy = command === 'SELECT' && now!.access === 'all' ? publicRead(label, actor.role) : undefined;
          widened.push({
            actor: actor.label,
            command,
            rows: `${now!.access === 'all' ? 'every row' : 'rows of other users'}${before ? ` (was: ${ACCESS_LABELS[then.access]})` : ''}${policy ? ` (public read: policy "${policy}")` : ''}`,
            severity: policy ? 'notice' : actor.id === anonymous ? 'error' : 'warning',
          });
        }
      }
    }
    if (widened.length) {
      const severity = widened.map((w) => w.severity).sort((a, b) => severityRank(a) - severityRank(b))[0]!;
      findings.push(
        rlsFinding({
          rule: 'rls_matrix_access_changed',
          // Depends on who gained access (anonymous: error, signed-in: warning, through an explicit policy: notice); the most severe widening wins.
          severity,
          object: { kind: row.object.kind, schema: row.object.schema, name: row.object.name },
          message: `${before ? '' : 'New '}${row.object.kind} ${label}: ${describeWidenings(widened)}.`,
          ...(widened.some((w) => w.severity === 'notice')
            ? { detail: 'Public read through an explicit policy is a notice; list the table in rls.private-tables if it must not be.' }
            : {}),
          remediation: 'Check the policies and grants this pull request adds or changes; allowlist the object if the wider access is intended.',
        }),
      );
    }
  }
  return { changes, findings };
}

const mentionsCaller = (text: string | null) => /auth\.(uid|jwt)\(\)|request\.jwt\.claim/i.test(text ?? '');

/** Added, dropped and rewritten policies, each as a notice. */
export function diffPolicies(base: readonly PolicySnapshot[], head: readonly PolicySnapshot[]): Finding[] {
  const keyOf = (p: PolicySnapshot) => `${p.schema}.${p.table}.${p.name}`;
  const before = new Map(base.map((p) => [keyOf(p), p]));
  const after = new Map(head.map((p) => [keyOf(p), p]));
  const out: Finding[] = [];
  const object = (p: PolicySnapshot) => ({ kind: 'policy', schema: p.schema, name: `${p.table}.${p.name}` });
  for (const [key, now] of after) {
    const then = before.get(key);
    const describe = (p: PolicySnapshot) => `${p.permissive ? 'permissive' : 'restrictive'} ${p.command} to ${p.roles.join(', ')}`;
    if (!then) {
      out.push(
        rlsFinding({
          rule: 'rls_policy_changed',
          object: object(now),
          message: `New policy "${now.name}" on ${now.schema}.${now.table}: ${describe(now)}.`,
          detail: `using: ${now.using ?? '(none)'}\nwith check: ${now.check ?? '(none)'}`,
        }),
      );
      continue;
    }
    const changed: string[] = [];
    if (describe(then) !== describe(now)) changed.push(`now ${describe(now)} (was ${describe(then)})`);
    for (const [part, a, b] of [
      ['USING', then.using, now.using],
      ['WITH CHECK', then.check, now.check],
    ] as const) {
      if (normaliseExpression(a) === normaliseExpression(b)) continue;
      changed.push(mentionsCaller(a) && !mentionsCaller(b) ? `${part} no longer restricts by the caller (auth.uid()/auth.jwt())` : `${part} changed`);
    }
    if (changed.length) {
      out.push(
        rlsFinding({
          rule: 'rls_policy_changed',
          object: object(now),
          message: `Policy "${now.name}" on ${now.schema}.${now.table}: ${changed.join('; ')}.`,
          detail: `before: using ${then.using ?? '(none)'}, with check ${then.check ?? '(none)'}\nafter:  using ${now.using ?? '(none)'}, with check ${now.check ?? '(none)'}`,
        }),
      );
    }
  }
  for (const [key, then] of before) {
    if (!after.has(key))
      out.push(rlsFinding({ rule: 'rls_policy_changed', object: object(then), message: `Policy "${then.name}" on ${then.schema}.${then.table} was dropped.` }));
  }
  return out;
}
