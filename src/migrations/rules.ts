/**
 * The rules every gate that builds a shadow database can report (drift-gate and rls-audit
 * apply migrations). drift-gate's own rules are in src/gates/drift/rules.ts.
 */
import { findingOf, type Rule } from '../findings/rules.ts';
import type { Finding } from '../findings/types.ts';
import { findCreatedExtensions } from '../postgres/baseline/apply.ts';
import { standInNamed } from '../postgres/extensions/stand-ins/index.ts';
import { providerOf } from '../postgres/extensions/supabase-extensions.ts';
import type { Shadow } from './shadow.ts';

export const MIGRATION_RULES = [
  {
    id: 'migration_apply_failed',
    gate: 'all',
    severity: 'error',
    category: 'history',
    title: 'Migration fails on a fresh database',
    doc: "A migration failed when postgate applied the migrations from scratch, in order, on a throwaway PostgreSQL (with the Supabase baseline for Supabase projects). The finding points at the file and line PostgreSQL reported, with the server's message. A migration that only works on a database with history (objects created by hand, data present, a different order) breaks every new environment: preview branches, CI databases, disaster recovery. Fix the statement (or the order) so that the chain applies on an empty database. When the shadow lacks an extension your project uses (listed in the report), run the gate with `shadow: docker` and an image that has it, e.g. `supabase/postgres`. Allowlisting this rule hides every later finding that needs the shadow, so prefer fixing it.",
  },
  {
    id: 'migration_version_duplicate',
    gate: 'all',
    severity: 'error',
    category: 'history',
    title: 'Two migration files with one version',
    doc: 'Two (or more) files in the migrations folder have the same version, the key the tool records in its history table, so the tool cannot apply both: the Supabase CLI applies the first and then stops on the next with `duplicate key value violates unique constraint "schema_migrations_pkey"` (`supabase db push` and `supabase db reset` alike), sqlx and dbmate fail the same way on their history tables, Flyway and golang-migrate refuse the whole folder, and drizzle and node-pg-migrate never run the second once the first is applied. It usually comes from two branches that generated migrations at the same moment, or a copied file. The finding names every file of the version and sits on the one left out. postgate builds the shadow database from the first file in the tool\'s order, leaves the others out and goes on with the later migrations, so everything after the duplicate is still checked. Give the file left out a version newer than every other migration (for Supabase, create it with `supabase migration new <name>` and move the SQL); keep the version on the file that environments already applied. To accept it, allowlist `{ rule: migration_version_duplicate, object: { kind: migration_version, name: <version> }, reason }`.',
  },
  {
    id: 'shadow_extension_unavailable',
    gate: 'all',
    severity: 'warning',
    category: 'environment',
    title: 'Shadow database lacks an extension',
    doc: 'The throwaway PostgreSQL that postgate builds the shadow database on does not have an extension the migrations create, for example `vector` on a stock PostgreSQL 15. Migrations that need it fail there, and objects that depend on it cannot be checked (drift-gate cannot compare them, rls-audit cannot audit them). Run with `shadow: docker` and an `image` that has it (e.g. `supabase/postgres`), or install the extension on the runner. Supabase platform extensions (pg_net, pg_graphql, Vault...) are not reported here: the baseline provides SQL stand-ins and the report lists them. To accept it, allowlist `{ rule: shadow_extension_unavailable, object: { kind: extension, name: <extension> }, reason }`.',
  },
  {
    id: 'shadow_stand_in_used',
    gate: 'all',
    severity: 'notice',
    category: 'environment',
    title: 'Shadow database uses a stand-in extension',
    doc: 'The migrations create an extension this server does not have (for example `vector`, `pg_net`, `pgsodium`, `http`), and postgate installed its stand-in instead: a real extension with the same name, versions, types, functions, operators, operator classes and access methods, so that the migrations apply and their objects are compared and audited with their real definitions. A stand-in does not do what the real extension does (a stand-in `vector` index finds no neighbours, `net.http_post` records the request and never sends it, `plv8` stores function bodies without running them); each finding says what its stand-in leaves out. It is a notice so that nobody mistakes a check made on a stand-in for one made on the real extension. To check with the real extensions, run with `shadow: docker` and `image: supabase/postgres:<tag>`. To hide it, allowlist `{ rule: shadow_stand_in_used, object: { kind: extension, name: <extension> }, reason }`.',
  },
] as const satisfies readonly Rule[];

/** A finding of a shared migration rule, at the rule's severity. */
export const migrationFinding = findingOf(MIGRATION_RULES);

/** Extensions the project's own migrations create that the shadow's server lacks. */
export function missingProjectExtensions(shadow: Pick<Shadow, 'migrations' | 'missingExtensions'>): string[] {
  const created = new Set(shadow.migrations.flatMap((m) => findCreatedExtensions(m.sql)));
  return shadow.missingExtensions.filter((name) => created.has(name));
}

export function missingExtensionFindings(shadow: Pick<Shadow, 'migrations' | 'missingExtensions' | 'major'>): Finding[] {
  return missingProjectExtensions(shadow).map((name) =>
    migrationFinding({
      rule: 'shadow_extension_unavailable',
      object: { kind: 'extension', name },
      message: `The shadow PostgreSQL ${shadow.major} has no extension "${name}", which the migrations create, and postgate has no stand-in for it; migrations and objects that need it cannot be checked.`,
      remediation: `Install ${providerOf(name)} on the runner, or run the gate with \`shadow: docker\` and an \`image\` that has the extension (e.g. supabase/postgres).`,
    }),
  );
}

/**
 * One notice per stand-in extension the project's migrations create, saying what it leaves out
 * (the baseline's own, pg_net and Vault, are the platform's, listed in the gate's details).
 */
export function standInFindings(shadow: Pick<Shadow, 'standInsUsed' | 'major' | 'migrations'>): Finding[] {
  const created = new Set(shadow.migrations.flatMap((m) => findCreatedExtensions(m.sql)));
  return shadow.standInsUsed
    .filter((name) => created.has(name))
    .map((name) =>
      migrationFinding({
        rule: 'shadow_stand_in_used',
        object: { kind: 'extension', name },
        message:
          `The shadow PostgreSQL ${shadow.major} has no extension "${name}", so postgate's stand-in was used: findings about objects that use it rest on the stand-in. ${standInNamed(name)?.limits ?? ''}`.trim(),
        remediation: 'Nothing to fix. For the real extension, run the gate with `shadow: docker` and `image: supabase/postgres:<tag>`.',
      }),
    );
}
