/**
 * Deploy mode's role checks: the roles the applied migrations create, compared with the live
 * database (attributes, memberships and their options, role-level settings), and the repo
 * config's required roles (each exists; each `assumed-by` login role can `set role` to it).
 *
 * Roles are cluster-wide, so "the roles the migrations create" are those on the shadow cluster
 * after the migrations that were not there just before the first one (`Shadow.rolesBefore`, read
 * after the Supabase baseline): the platform's roles never count, whatever the live database has.
 * The memberships compared are those the migrations granted, and on the live side those touching
 * the migrations' roles or the same pairs.
 */
import { checkRequiredRoles, diffRoles, type MembershipFacts, readRoles, type RoleDifference, type RoleSnapshot } from '../../catalog/roles.ts';
import type { RequiredRole } from '../../config/repo-config.ts';
import type { Finding } from '../../findings/types.ts';
import type { Shadow } from '../../migrations/shadow.ts';
import { quoteIdent, withSession } from '../../postgres/connect.ts';
import { inertInline } from '../../report/inert.ts';
import { driftFinding } from './rules.ts';

const LIVE = { gate: 'drift', readOnly: true, inputName: 'database-url' };
const SHADOW = { gate: 'drift', readOnly: true, inputName: 'shadow-database-url' };

const grantKey = (m: MembershipFacts) => JSON.stringify([m.role, m.member, m.grantor ?? null]);
const pairKey = (m: MembershipFacts) => JSON.stringify([m.role, m.member]);

/**
 * PostgreSQL 16+ grants a role to the non-superuser that creates it (ADMIN, by the bootstrap
 * superuser): that depends on who ran the migration, not on the migration, so it is not compared.
 */
function creatorGrant(snapshot: RoleSnapshot, created: ReadonlySet<string>, migrationRole: Shadow['migrationRole']) {
  return (m: MembershipFacts) =>
    !migrationRole.superuser && m.member === migrationRole.name && created.has(m.role) && m.grantor === snapshot.bootstrapSuperuser;
}

/** What the migrations made on the shadow, and the same names on the live side. */
export function migrationRoles(before: RoleSnapshot, after: RoleSnapshot, live: RoleSnapshot, migrationRole: Shadow['migrationRole']) {
  const existed = new Set(before.roles.map((r) => r.name));
  const created = new Set(after.roles.map((r) => r.name).filter((name) => !existed.has(name)));
  const granted = new Set(before.memberships.map(grantKey));
  const memberships = after.memberships.filter((m) => !granted.has(grantKey(m)) && !creatorGrant(after, created, migrationRole)(m));
  const pairs = new Set(memberships.map(pairKey));
  const liveMemberships = live.memberships.filter(
    (m) => (created.has(m.role) || created.has(m.member) || pairs.has(pairKey(m))) && !creatorGrant(live, created, migrationRole)(m),
  );
  return {
    created,
    expected: { ...after, roles: after.roles.filter((r) => created.has(r.name)), memberships },
    actual: { ...live, roles: live.roles.filter((r) => created.has(r.name)), memberships: liveMemberships },
  };
}

/**
 * Findings from the differences: `role_missing` per missing role (with the grants of its missing
 * memberships), `role_drift` per role for the rest (a membership under its granted role when the
 * migrations created it, else under the member).
 */
export function roleDriftFindings(differences: readonly RoleDifference[], created: ReadonlySet<string>): Finding[] {
  const missing = new Set(differences.filter((d) => d.kind === 'role_missing').map((d) => d.role));
  const byRole = new Map<string, RoleDifference[]>();
  for (const d of differences) {
    const owner = d.kind === 'role_missing' || created.has(d.role) ? d.role : d.member!;
    const under = d.member !== undefined && !missing.has(owner) && missing.has(d.member) ? d.member : owner;
    byRole.set(under, [...(byRole.get(under) ?? []), d]);
  }
  return [...byRole].map(([role, list]) => {
    const shown = inertInline(role);
    const remediation = list.map((d) => d.restoreSql).join('\n');
    if (missing.has(role)) {
      return driftFinding({
        rule: 'role_missing',
        object: { kind: 'role', name: role },
        message: `Role ${shown}, which the applied migrations create, is missing in the database.`,
        detail: list.map((d) => inertInline(d.summary)).join('\n'),
        remediation: `-- Create the role as the migrations do (roles are cluster-wide):\n${remediation}`,
      });
    }
    return driftFinding({
      rule: 'role_drift',
      object: { kind: 'role', name: role },
      message: `Role ${shown} differs from what the applied migrations create: ${list.map((d) => inertInline(d.summary)).join('; ')}.`,
      remediation: `-- Bring the role back to what the migrations say:\n${remediation}`,
    });
  });
}

/** The repo config's required roles, on the live database. */
async function requiredRoleFindings(databaseUrl: string, required: readonly RequiredRole[]): Promise<Finding[]> {
  if (!required.length) return [];
  const problems = await withSession(databaseUrl, LIVE, (session) => checkRequiredRoles(session, required));
  return problems.map((p) =>
    p.kind === 'missing'
      ? driftFinding({
          rule: 'required_role_missing',
          object: { kind: 'role', name: p.role },
          message: `role \`${inertInline(p.role)}\` missing: the repo config's \`roles\` lists it.`,
          remediation: `create role ${inertInline(quoteIdent(p.role))} nologin; -- or apply the migration that creates it`,
        })
      : driftFinding({
          rule: 'required_role_not_assumable',
          object: { kind: 'role', name: `${p.login}:${p.role}` },
          message: `\`${inertInline(p.login!)}\` cannot \`set role ${inertInline(p.role)}\`: ${inertInline(p.reason)}.`,
        }),
  );
}

/** Deploy mode: the migrations' roles against the live database (only when the shadow applied every migration), and the required roles. */
export async function checkRoles(shadow: Shadow, databaseUrl: string, required: readonly RequiredRole[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (!shadow.failure) {
    const after = await withSession(shadow.url, SHADOW, (session) => readRoles(session));
    const live = await withSession(databaseUrl, LIVE, (session) => readRoles(session));
    const compared = migrationRoles(shadow.rolesBefore, after, live, shadow.migrationRole);
    findings.push(...roleDriftFindings(diffRoles(compared.expected, compared.actual), compared.created));
  }
  findings.push(...(await requiredRoleFindings(databaseUrl, required)));
  return findings;
}
