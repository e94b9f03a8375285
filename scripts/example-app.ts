/**
 * examples/supabase-app pushed into a database the way a Supabase project's database comes to be:
 * the platform baseline, every migration in file-name order with the history row `supabase db
 * push` records (version, name, the file's statements), then seed.sql. Used by the demo, the
 * preview renderer and the tests that need a "production" database.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { splitSupabaseStatements } from '../src/migrations/supabase-split.ts';
import { applySupabaseBaseline, findCreatedExtensions } from '../src/postgres/baseline/apply.ts';

export const EXAMPLE_APP = path.resolve(import.meta.dirname, '..', 'examples', 'supabase-app');
export const EXAMPLE_MIGRATIONS = path.join(EXAMPLE_APP, 'supabase', 'migrations');

/** The app's deliberate problems, by file (examples/supabase-app/README.md, "Deliberate problems", has the lines and effects). */
export const PLANTED_PROBLEMS: ReadonlyArray<{ file: string; gate: string; problem: string }> = [
  { file: 'supabase/migrations/20250120143000_audit_events.sql', gate: 'rls-audit', problem: 'public.audit_events exposed without row level security' },
  {
    file: 'supabase/migrations/20250121100000_trip_views.sql',
    gate: 'rls-audit',
    problem: 'view public.trip_overview without security_invoker; public.trip_length_days without a fixed search_path',
  },
  {
    file: 'supabase/migrations/20250122090000_trip_admin_override.sql',
    gate: 'rls-audit',
    problem: "a delete policy on public.trips that trusts the JWT's user_metadata",
  },
  {
    file: 'supabase/migrations/20250112121000_trip_collaborators.sql',
    gate: 'rls-audit',
    problem: 'an always-true UPDATE policy on public.trip_collaborators',
  },
  { file: 'supabase/migrations/20250116094500_avatars_bucket.sql', gate: 'rls-audit', problem: 'the public bucket avatars lets anyone list every file' },
  {
    file: 'supabase/migrations/20250126100000_team_slack_webhook.sql',
    gate: 'webhook-secret-check',
    problem: "a bearer token in a Database Webhook's trigger arguments",
  },
];

export async function pushExampleApp(client: pg.Client): Promise<{ migrations: number; missingExtensions: string[] }> {
  const files = readdirSync(EXAMPLE_MIGRATIONS)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const sources = files.map((file) => readFileSync(path.join(EXAMPLE_MIGRATIONS, file), 'utf8'));
  const baseline = await applySupabaseBaseline(client, { requiredExtensions: sources.flatMap((sql) => findCreatedExtensions(sql)) });
  await client.query(
    'create schema if not exists supabase_migrations; create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text)',
  );
  for (const [index, file] of files.entries()) {
    const sql = sources[index]!;
    await client.query(sql);
    const [, version, name] = /^(\d+)_(.*)\.sql$/.exec(file) ?? [];
    await client.query('insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)', [
      version,
      name,
      splitSupabaseStatements(sql).map((statement) => statement.text),
    ]);
  }
  await client.query(readFileSync(path.join(EXAMPLE_APP, 'supabase', 'seed.sql'), 'utf8'));
  return { migrations: files.length, missingExtensions: baseline.missingExtensions };
}
