/**
 * The rules every gate that builds a shadow database can report (drift-gate and rls-audit
 * apply migrations). drift-gate's own rules are in src/gates/drift/rules.ts.
 */
import { defineRules, type Rule } from '../findings/rules.ts';
import { type Finding, finding } from '../findings/types.ts';
import { findCreatedExtensions } from '../postgres/baseline/apply.ts';
import type { Shadow } from './shadow.ts';

export const MIGRATION_RULES = [
  {
    id: 'migration_apply_failed',
    gate: 'all',
    severity: 'error',
    category: 'history',
    title: 'Migration fails on a fresh database',
    doc:
      'A migration failed when postgate applied the migrations from scratch, in order, on a throwaway PostgreSQL (with the Supabase baseline for Supabase projects). The finding points at the file and line PostgreSQL reported, with the server\'s message. A migration that only works on a database with history (objects created by hand, data present, a different order) breaks every new environment: preview branches, CI databases, disaster recovery. Fix the statement (or the order) so that the chain applies on an empty database. When the shadow lacks an extension your project uses (listed in the report), run the gate with `shadow: docker` and an image that has it, e.g. `supabase/postgres`. Allowlisting this rule hides every later finding that needs the shadow, so prefer fixing it.',
  },
  {
    id: 'shadow_extension_unavailable',
    gate: 'all',
    severity: 'warning',
    category: 'environment',
    title: 'Shadow database lacks an extension',
    doc: 'The throwaway PostgreSQL that postgate builds the shadow database on does not have an extension the migrations create, for example `vector` on a stock PostgreSQL 15. Migrations that need it fail there, and objects that depend on it cannot be checked (drift-gate cannot compare them, rls-audit cannot audit them). Run with `shadow: docker` and an `image` that has it (e.g. `supabase/postgres`), or install the extension on the runner. Supabase platform extensions (pg_net, pg_graphql, Vault...) are not reported here: the baseline provides SQL stand-ins and the report lists them. To accept it, allowlist `{ rule: shadow_extension_unavailable, object: { kind: extension, name: <extension> }, reason }`.',
  },
] as const satisfies readonly Rule[];

defineRules(MIGRATION_RULES);

/** Extensions the project's own migrations create that the shadow's server lacks. */
export function missingProjectExtensions(shadow: Pick<Shadow, 'migrations' | 'missingExtensions'>): string[] {
  const created = new Set(shadow.migrations.flatMap((m) => findCreatedExtensions(m.sql)));
  return shadow.missingExtensions.filter((name) => created.has(name));
}

export function missingExtensionFindings(shadow: Pick<Shadow, 'migrations' | 'missingExtensions' | 'major'>): Finding[] {
  return missingProjectExtensions(shadow).map((name) =>
    finding({
      rule: 'shadow_extension_unavailable',
      severity: 'warning',
      object: { kind: 'extension', name },
      message: `The shadow PostgreSQL ${shadow.major} has no extension "${name}", which the migrations create; migrations and objects that need it cannot be checked.`,
      remediation: 'Run the gate with `shadow: docker` and an `image` that has the extension (e.g. supabase/postgres), or install it on the runner.',
    }),
  );
}
