/**
 * npm run demo: the gates against examples/supabase-app on an ephemeral PostgreSQL
 * (local binaries: the embedded default, no Docker). A throwaway "production" database
 * gets the app's migrations (recorded as `supabase db push` records them) and seed, then a
 * dashboard hotfix and webhook settings with a classic secret mistake; each gate then runs
 * as `postgate <gate>` would and prints its report. The findings are the example's
 * deliberate problems (examples/supabase-app/README.md) plus what this script does to
 * "production"; the demo ends by saying where each is planted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { invokeGate } from '../src/gates/invoke.ts';
import { RULE_CATALOG } from '../src/gates/rules-catalog.ts';
import { runDoctor, renderDoctor } from '../src/doctor.ts';
import type { GateId } from '../src/findings/types.ts';
import { findInstallations } from '../src/postgres/ephemeral/binaries.ts';
import { cleanupAll, startCluster } from '../src/postgres/ephemeral/index.ts';
import { renderText, shouldColor } from '../src/report/text.ts';
import { EXAMPLE_APP as app, EXAMPLE_MIGRATIONS as migrationsDir, PLANTED_PROBLEMS, pushExampleApp } from './example-app.ts';

const color = shouldColor(process.stdout);
const heading = (text: string) => process.stdout.write(`\n${color ? '\u001b[1m' : ''}== ${text}${color ? '\u001b[0m' : ''}\n`);

async function gate(id: GateId, flags: Record<string, string>, env: Record<string, string> = {}): Promise<void> {
  const { result } = await invokeGate(id, (name) => flags[name], 'cli', { cwd: app, env: { ...process.env, ...env } });
  process.stdout.write(renderText(result, { color, rules: RULE_CATALOG }));
}

const HMAC_SECRET = 'demo-hmac-secret-7f3a9c';

/** What the demo does to "production" after the push. */
const PRODUCTION_CHANGES = [
  // a hotfix made in the dashboard, never captured in a migration
  'alter table public.trips add column budget_cents integer; create index trips_budget_idx on public.trips (budget_cents)',
  // webhook settings, with the secret pasted with a trailing newline and one URL left on a preview deployment
  `alter database postgres set app.webhook_hmac_secret = '${HMAC_SECRET}\n'`,
  "alter database postgres set app.vercel_webhook_trips = 'https://app.example.com/api/hooks/trips'",
  "alter database postgres set app.vercel_webhook_cache = 'https://trip-planner-git-main-acme.vercel.app/api/hooks/revalidate'",
];

/** What the gates find in those changes. */
const PLANTED_IN_PRODUCTION = [
  {
    what: 'public.trips.budget_cents, trips_budget_idx',
    gate: 'drift-gate (deploy mode)',
    problem: 'a hotfix made in the dashboard, never captured in a migration',
  },
  { what: 'app.webhook_hmac_secret', gate: 'webhook-secret-check', problem: 'the secret pasted with a trailing newline' },
  { what: 'app.vercel_webhook_cache', gate: 'webhook-secret-check', problem: 'the production webhook pointing at a Vercel preview deployment' },
  {
    what: 'app.webhook_hmac_secret, app.vercel_webhook_trips',
    gate: 'restore-drill',
    problem: 'set with ALTER DATABASE, which a pg_dump restore does not carry, while drill.expected-settings in .github/postgate.yml requires them in the copy',
  },
];

function wherePlanted(): string {
  const pad = (rows: string[][]) => {
    const width = Math.max(...rows.map(([where]) => where!.length));
    return rows.map(([where, gate, problem]) => `  ${where!.padEnd(width)}  ${gate}: ${problem}\n`).join('');
  };
  return [
    'The failures above are planted on purpose.\n',
    'In examples/supabase-app (examples/supabase-app/README.md, "Deliberate problems", explains each one with its line):\n',
    pad(PLANTED_PROBLEMS.map((planted) => [planted.file, planted.gate, planted.problem])),
    'By this demo (scripts/demo.ts), in its throwaway "production" database:\n',
    pad(PLANTED_IN_PRODUCTION.map((planted) => [planted.what, planted.gate, planted.problem])),
  ].join('');
}

const logDir = mkdtempSync(path.join(os.tmpdir(), 'postgate-demo-'));

try {
  heading('postgate doctor');
  process.stdout.write(renderDoctor(await runDoctor(app)));

  heading('A throwaway "production" database for the example app');
  // the app's supabase/config.toml says 15; a machine with only the embedded package has 17
  const installed = findInstallations().map((installation) => installation.major);
  const major = installed.includes(15) ? 15 : installed[0];
  const majorFlag: Record<string, string> = major === undefined ? {} : { 'postgres-version': String(major) };
  const production = await startCluster({ shadow: 'local', ...(major === undefined ? {} : { major }) });
  const client = new pg.Client({ connectionString: production.url });
  await client.connect();
  const pushed = await pushExampleApp(client);
  for (const sql of PRODUCTION_CHANGES) await client.query(sql);
  await client.end();
  process.stdout.write(
    `PostgreSQL ${production.version} (${production.provider}); Supabase baseline applied (platform extensions not on this server: ${pushed.missingExtensions.join(', ') || 'none'}); ${pushed.migrations} migrations pushed, seed.sql loaded; then a dashboard hotfix (trips.budget_cents) and webhook settings.\n`,
  );

  heading('drift-gate, PR mode: do the migrations apply from scratch?');
  await gate('drift', { 'migrations-dir': migrationsDir, ...majorFlag });
  heading('drift-gate, deploy mode: history and live schema of "production" (read-only)');
  await gate('drift', { 'migrations-dir': migrationsDir, 'database-url': production.url, ...majorFlag });
  heading('rls-audit on a shadow built from the migrations');
  await gate('rls', { 'migrations-dir': migrationsDir, ...majorFlag });
  heading('webhook-secret-check against "production" (HMAC_SECRET from the deploy environment)');
  await gate('webhooks', { 'database-url': production.url }, { HMAC_SECRET, APP_HOST: 'app.example.com' });
  heading('restore-drill: back up "production" now, restore into a throwaway cluster, verify (targets from .github/postgate.yml)');
  await gate('drill', { 'source-database-url': production.url, 'log-path': path.join(logDir, 'drills.jsonl') });
  heading('Where these failures come from');
  process.stdout.write(wherePlanted());
} finally {
  await cleanupAll();
  rmSync(logDir, { recursive: true, force: true });
}
