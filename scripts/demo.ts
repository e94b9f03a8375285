/**
 * npm run demo: the gates against examples/supabase-app on an ephemeral PostgreSQL
 * (local binaries: the embedded default, no Docker). A throwaway "production" database
 * gets the app's migrations and seed, then a dashboard hotfix and webhook settings; each
 * gate then runs as `postgate <gate>` would and prints its report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { invokeGate } from '../src/gates/invoke.ts';
import { runDoctor, renderDoctor } from '../src/doctor.ts';
import type { GateId } from '../src/findings/types.ts';
import { applySupabaseBaseline } from '../src/postgres/baseline/apply.ts';
import { cleanupAll, startCluster } from '../src/postgres/ephemeral/index.ts';
import { renderText, shouldColor } from '../src/report/text.ts';

const root = path.resolve(import.meta.dirname, '..');
const app = path.join(root, 'examples', 'supabase-app');
const migrationsDir = path.join(app, 'supabase', 'migrations');
const color = shouldColor(process.stdout);
const heading = (text: string) => process.stdout.write(`\n${color ? '\u001b[1m' : ''}== ${text}${color ? '\u001b[0m' : ''}\n`);

async function gate(id: GateId, flags: Record<string, string>, env: Record<string, string> = {}): Promise<void> {
  const { result } = await invokeGate(id, (name) => flags[name], 'cli', { cwd: app, env: { ...process.env, ...env } });
  process.stdout.write(renderText(result, { color }));
}

try {
  heading('postgate doctor');
  process.stdout.write(renderDoctor(await runDoctor(app)));

  heading('A throwaway "production" database for the example app');
  const production = await startCluster({ shadow: 'local', major: 15 });
  const client = new pg.Client({ connectionString: production.url });
  await client.connect();
  const baseline = await applySupabaseBaseline(client);
  for (const file of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
    await client.query(readFileSync(path.join(migrationsDir, file), 'utf8'));
  }
  await client.query(readFileSync(path.join(app, 'supabase', 'seed.sql'), 'utf8'));
  await client.end();
  process.stdout.write(
    `PostgreSQL ${production.version} (${production.provider}); Supabase baseline applied (platform extensions not on this server: ${baseline.missingExtensions.join(', ') || 'none'}); ${readdirSync(migrationsDir).length} migrations and seed.sql applied.\n`,
  );

  heading('drift-gate, PR mode: do the migrations apply from scratch?');
  await gate('drift', { 'migrations-dir': migrationsDir });
  heading('rls-audit on a shadow built from the migrations');
  await gate('rls', { 'migrations-dir': migrationsDir });
  heading('webhook-secret-check against the "production" database');
  await gate('webhooks', { 'database-url': production.url }, { HMAC_SECRET: 'demo-secret-value' });
  heading('restore-drill: back up "production" now, restore, verify');
  await gate('drill', { 'source-database-url': production.url, 'rto-target': '5m' });
} finally {
  await cleanupAll();
}
