/**
 * Secret-leak fuzz across all four gates and every channel they write to.
 *
 * A few hundred generated secrets (test/support/secrets-gen.ts: quotes, backslashes, newlines,
 * unicode up to the astral plane, `%`-escapes, `@ : / ? #`, very long) are used as
 *
 * - database passwords: login roles created with them (`CREATE ROLE ... PASSWORD '<literal>'`),
 *   put percent-encoded into `database-url`, `source-database-url`, `target-database-url` and
 *   `shadow-database-url`;
 *   also wrong passwords, passwords sent to hosts that cannot be reached, and passwords pasted
 *   into the URL without percent-encoding;
 * - webhook secrets: `app.webhook_hmac_secret` (set per login role) against `HMAC_SECRET` (and
 *   `HMAC_SECRET_PREVIOUS`), equal and different in the ways secrets go wrong, and inside the
 *   webhook URL settings' credentials and query;
 * - tokens: `github-token` (accepted, unknown, or unusable in an HTTP header) and
 *   `supabase-access-token` (sent to an API that is not there).
 *
 * The gates run on examples/supabase-app's "production" database: drift-gate in deploy mode,
 * rls-audit in live-database mode, webhook-secret-check, and restore-drill from the live source
 * with a drill log (failing its checks or its RTO target, and erroring), plus the error paths.
 * Most secrets go through the library entry the CLI uses (`invokeGate`), followed by what the
 * action does with the result (`publish` to the GitHub test server, the renderers); each of those
 * runs forgets every registered secret first, so it proves that the gate registers what it reads.
 * Then the committed action bundles run like the runner does, and the CLI bundle in a process.
 *
 * Every channel (stdout, stderr, job summary, outputs, the PR comment, check run and issue
 * bodies the GitHub server received, the JSON report, SARIF, annotations, log lines, the drill
 * log) must be free of every form of every secret: raw, URL-encoded, JSON- or workflow-command-
 * escaped, base64 (padded, unpadded, base64url), hex, and of the random cores each secret is built
 * around.
 * Lines starting with `::add-mask::` are the runner's masking commands and are left out.
 *
 * POSTGATE_FUZZ_SEED replays another set of secrets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as github from '@actions/github';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateId, GateResult, GateStatus } from '../../src/findings/types.ts';
import type { Logger } from '../../src/gates/gate.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import { DEFAULT_RETRY } from '../../src/github/api.ts';
import { readRunContext } from '../../src/github/context.ts';
import { publish } from '../../src/github/publish.ts';
import { quoteIdent, quoteLiteral } from '../../src/postgres/connect.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { freePort } from '../../src/postgres/ephemeral/local.ts';
import { annotationsOf } from '../../src/report/annotations.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderSarif } from '../../src/report/sarif.ts';
import { renderJson, renderText } from '../../src/report/text.ts';
import { forgetSecretsForTests, redact } from '../../src/secrets.ts';
import { EXAMPLE_APP, pushExampleApp } from '../../scripts/example-app.ts';
import { roleUrl } from '../fixtures/safety/role-url.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { startTestCluster } from '../support/pg.ts';
import { type ActionRun, EVENTS, type EventName, HEAD_SHA, REPO, ROOT, runActionBundle, suiteCacheEnv } from '../support/runner.ts';
import { findLeaks, type Secret, secretSource, withoutMaskCommands } from '../support/secrets-gen.ts';

const SEED = Number(process.env.POSTGATE_FUZZ_SEED ?? 20250301);
/** In-process gate runs; each uses one to three fresh secrets (about 245 in all, 30 more in the bundle and CLI runs). */
const LIBRARY_RUNS = 160;
const DATABASE = 'trip_planner';
const APP_HOST = 'app.example.com';
const PROJECT_REF = 'abcdefghijklmnopqrst';
const TOKEN = 'ghs_fuzzWriteToken0001';
const FAST = { ...DEFAULT_RETRY, attempts: 1, timeoutMs: 5000 };

let cluster: Cluster;
let admin: pg.Client;
let server: GitHubServer;
let parent: string;
let closedPort: number;
const secrets = secretSource(SEED);
let roleCount = 0;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addPullRequest(REPO, 42, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-fuzz-'));
  for (const event of ['pull_request', 'schedule'] as const) writeFileSync(path.join(parent, `${event}.json`), JSON.stringify(EVENTS[event]()));
  cluster = await startTestCluster(15);
  const url = await cluster.createDatabase(DATABASE);
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await pushExampleApp(admin);
  // a login role whose real password no generated secret matches
  await admin.query(`create role fuzz_locked login password 'not-any-of-the-fuzzed-secrets'`);
  closedPort = await freePort();
});

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await cluster?.stop();
  await server?.close();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Building blocks: roles with generated passwords, and the ways a webhook secret goes wrong

interface Role {
  name: string;
  password: Secret;
  url: string;
  /** False when node-postgres cannot log in with this password although libpq can (see canLogIn). */
  canLogIn: boolean;
}

/** A login role with a fresh generated password; readers get what the gates need for a full read. */
async function createRole(kind: 'reader' | 'superuser'): Promise<Role> {
  roleCount += 1;
  const name = `fuzz_${String(roleCount).padStart(4, '0')}`;
  const password = secrets.next();
  const privileges = kind === 'superuser' ? 'superuser' : 'bypassrls in role pg_read_all_data';
  await admin.query(`create role ${quoteIdent(name)} login ${privileges} password ${quoteLiteral(password.value)}`);
  const url = roleUrl(cluster.url, name, password.value, DATABASE);
  return { name, password, url, canLogIn: await canLogIn(url) };
}

/**
 * node-postgres applies SASLprep's mappings even to passwords SASLprep prohibits (a tab, an
 * unassigned astral code point), where PostgreSQL and libpq use the raw password: with both in
 * one password (e.g. a tab and a combining accent) node clients cannot log in, psql can. Those
 * runs are kept, with the authentication error as their expectation.
 */
async function canLogIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** How the database holds the deploy secret: exact, and the usual ways it goes wrong. */
const SETTING_VARIANTS: Array<(secret: string, other: string) => string> = [
  (s) => `${s}\n`,
  (s) => `'${s}'`,
  (s) => `whsec_${s}`,
  (s) => Buffer.from(s).toString('base64'),
  (s) => Buffer.from(s).toString('hex').toUpperCase(),
  (s) => ` ${s}\t`,
  (_s, other) => other,
  (s) => [...s].slice(0, -1).join(''),
];

/** Webhook settings of one login role: the HMAC secret, and URLs with the secret in credentials and query. */
async function setWebhookSettings(role: Role, databaseValue: string, urlSecret: string): Promise<void> {
  const hook = (endpoint: string) => `https://hook:${encodeURIComponent(urlSecret)}@${APP_HOST}/api/hooks/${endpoint}?token=${encodeURIComponent(urlSecret)}`;
  await admin.query(`alter role ${quoteIdent(role.name)} set app.webhook_hmac_secret = ${quoteLiteral(databaseValue)}`);
  await admin.query(`alter role ${quoteIdent(role.name)} set app.vercel_webhook_trips = ${quoteLiteral(hook('trips'))}`);
  await admin.query(`alter role ${quoteIdent(role.name)} set app.vercel_webhook_cache = ${quoteLiteral(hook('revalidate'))}`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios: what one run is, which secrets it carries, and what it must end in

interface Plan {
  name: string;
  gate: GateId;
  inputs: Record<string, string>;
  env: Record<string, string>;
  /** Every generated secret the run may have seen. */
  secrets: Secret[];
  /** The ones the gate reads itself (and so must register with the masker). */
  read: string[];
  expect: GateStatus[];
  /** A sentence the error must contain. */
  error?: RegExp;
  /** The drill log (read as a channel; the drill must have appended to it unless `unlogged`). */
  logPath?: string;
  /** The run may stop before the drill starts (a URL that does not parse is rejected with the inputs). */
  unlogged?: boolean;
}

/** A run of `gate` against `url` (the drill takes it as its source and keeps a drill log). */
function against(gate: GateId, url: string, logDir: string): Pick<Plan, 'gate' | 'inputs' | 'logPath'> {
  if (gate !== 'drill') return { gate, inputs: { 'database-url': url } };
  const logPath = path.join(logDir, 'drills.jsonl');
  return { gate, inputs: { 'source-database-url': url, 'log-path': logPath }, logPath };
}

type Builder = (index: number, logDir: string) => Promise<Plan>;

const SCENARIOS: Record<string, Builder> = {
  async 'rls live'() {
    const role = await createRole('reader');
    return okOrAuthError(role, {
      name: 'rls live',
      gate: 'rls',
      inputs: { 'database-url': role.url },
      env: {},
      secrets: [role.password],
      read: [role.password.value],
      expect: ['fail'],
    });
  },
  async 'webhooks, secrets equal'() {
    const role = await createRole('reader');
    const hmac = secrets.next();
    await setWebhookSettings(role, hmac.value, hmac.value);
    return okOrAuthError(role, {
      name: 'webhooks, secrets equal',
      gate: 'webhooks',
      inputs: { 'database-url': role.url },
      env: { HMAC_SECRET: hmac.value, APP_HOST },
      secrets: [role.password, hmac],
      read: [role.password.value, hmac.value],
      expect: ['fail'],
    });
  },
  async 'webhooks, secrets differ'(index) {
    const role = await createRole('reader');
    const [hmac, previous] = [secrets.next(), secrets.next()];
    const databaseValue = SETTING_VARIANTS[index % SETTING_VARIANTS.length]!(hmac.value, previous.value);
    await setWebhookSettings(role, databaseValue, previous.value);
    return okOrAuthError(role, {
      name: 'webhooks, secrets differ',
      gate: 'webhooks',
      inputs: { 'database-url': role.url },
      env: { HMAC_SECRET: hmac.value, HMAC_SECRET_PREVIOUS: previous.value, APP_HOST },
      secrets: [role.password, hmac, previous],
      read: [role.password.value, hmac.value, databaseValue],
      expect: ['fail'],
    });
  },
  async 'drift deploy'() {
    const role = await createRole('reader');
    return okOrAuthError(role, {
      name: 'drift deploy',
      gate: 'drift',
      inputs: { 'database-url': role.url },
      env: {},
      secrets: [role.password],
      read: [role.password.value],
      expect: ['pass'],
    });
  },
  async 'drift deploy, shadow on a URL'() {
    const [role, shadow] = [await createRole('reader'), await createRole('superuser')];
    const shadowServer = roleUrl(cluster.url, shadow.name, shadow.password.value, 'postgres');
    return okOrAuthError([role, shadow], {
      name: 'drift deploy, shadow on a URL',
      gate: 'drift',
      inputs: { 'database-url': role.url, shadow: 'url', 'shadow-database-url': shadowServer },
      env: {},
      secrets: [role.password, shadow.password],
      read: [role.password.value, shadow.password.value],
      // the shadow's objects belong to the shadow URL's role, not to postgres: owner drift
      expect: ['fail'],
    });
  },
  async 'wrong password'(index, logDir) {
    const gate = (['drift', 'rls', 'webhooks', 'drill'] as const)[index % 4]!;
    const password = secrets.next();
    const url = roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE);
    return {
      name: `wrong password (${gate})`,
      ...against(gate, url, logDir),
      env: { HMAC_SECRET: password.value, APP_HOST },
      secrets: [password],
      read: [password.value],
      expect: ['error'],
      error: /Password authentication failed for user "fuzz_locked"/,
    };
  },
  async 'host unreachable'(index, logDir) {
    const gate = (['rls', 'webhooks', 'drill', 'drift'] as const)[index % 4]!;
    const password = secrets.next();
    // a port where nothing listens, and a host no DNS knows, in turns
    const dns = Math.floor(index / 4) % 2 === 1;
    const host = dns ? 'postgate-fuzz.invalid:5432' : `127.0.0.1:${closedPort}`;
    const url = roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE, host);
    return {
      name: `host unreachable (${gate}, ${host})`,
      ...against(gate, url, logDir),
      env: { HMAC_SECRET: password.value, APP_HOST },
      secrets: [password],
      read: [password.value],
      expect: ['error'],
      error: dns ? /DNS lookup failed/ : /connection refused/,
    };
  },
  async 'password pasted without percent-encoding'(index, logDir) {
    // `@ : / ? #` in a raw password break the URL in every way: parse errors, another host, port or database
    const gate = (['webhooks', 'drift', 'rls', 'drill'] as const)[index % 4]!;
    const password = secrets.next();
    const url = `postgresql://fuzz_locked:${password.value}@127.0.0.1:${closedPort}/${DATABASE}?sslmode=disable`;
    return {
      name: `password pasted without percent-encoding (${gate})`,
      ...against(gate, url, logDir),
      env: { HMAC_SECRET: password.value, APP_HOST },
      secrets: [password],
      read: [],
      expect: ['error'],
      unlogged: true,
    };
  },
  async 'drill from the live source'(_index, logDir) {
    const role = await createRole('reader');
    const logPath = path.join(logDir, 'drills.jsonl');
    return okOrAuthError(role, {
      name: 'drill from the live source',
      gate: 'drill',
      inputs: { 'source-database-url': role.url, 'log-path': logPath, jobs: '1' },
      env: {},
      secrets: [role.password],
      read: [role.password.value],
      // the example's drill.expected-settings are database settings, which a dump does not carry
      expect: ['fail'],
      logPath,
    });
  },
  async 'drill over its RTO target'(_index, logDir) {
    const role = await createRole('reader');
    const logPath = path.join(logDir, 'drills.jsonl');
    return okOrAuthError(role, {
      name: 'drill over its RTO target',
      gate: 'drill',
      inputs: { 'source-database-url': role.url, 'log-path': logPath, 'rto-target': '1ms', jobs: '1' },
      env: {},
      secrets: [role.password],
      read: [role.password.value],
      expect: ['fail'],
      logPath,
    });
  },
  async 'drill into a scratch database on a target URL'(_index, logDir) {
    const [role, target] = [await createRole('reader'), await createRole('superuser')];
    const logPath = path.join(logDir, 'drills.jsonl');
    return okOrAuthError([role, target], {
      name: 'drill into a scratch database on a target URL',
      gate: 'drill',
      inputs: {
        'source-database-url': role.url,
        'target-database-url': roleUrl(cluster.url, target.name, target.password.value, 'postgres'),
        'log-path': logPath,
        jobs: '1',
      },
      env: {},
      secrets: [role.password, target.password],
      read: [role.password.value, target.password.value],
      // a scratch database on a shared server gets no Supabase baseline: auth, storage... are missing
      expect: ['fail'],
      logPath,
    });
  },
  async 'drill with a Supabase token and no API'(_index, logDir) {
    const role = await createRole('reader');
    // a newline inside: fetch refuses the Authorization header and quotes it in its error
    const token = secrets.next({ headerSafe: true, inside: '\n' });
    const logPath = path.join(logDir, 'drills.jsonl');
    return okOrAuthError(role, {
      name: 'drill with a Supabase token and no API',
      gate: 'drill',
      inputs: { 'source-database-url': role.url, 'log-path': logPath, 'supabase-access-token': token.value, 'project-ref': PROJECT_REF, jobs: '1' },
      env: { POSTGATE_SUPABASE_API_URL: `http://127.0.0.1:${closedPort}` },
      secrets: [role.password, token],
      read: [role.password.value, token.value.trim()],
      expect: ['error'],
      logPath,
    });
  },
};

/** A role node-postgres cannot log in as (see canLogIn) turns the run into the wrong-password case. */
function okOrAuthError(roles: Role | Role[], plan: Plan): Plan {
  const all = [roles].flat();
  if (all.every((role) => role.canLogIn)) return plan;
  return {
    ...plan,
    name: `${plan.name} (password node-postgres cannot use)`,
    read: all.map((role) => role.password.value),
    expect: ['error'],
    error: /Password authentication failed/,
  };
}

/**
 * The order the library runs go through: the cheap scenarios often, shadows and drills (a second
 * each on a busy machine) now and then. The drill slot takes the drills in turn.
 */
const CYCLE = [
  'rls live',
  'webhooks, secrets equal',
  'webhooks, secrets differ',
  'drift deploy',
  'wrong password',
  'host unreachable',
  'rls live',
  'webhooks, secrets differ',
  'wrong password',
  'host unreachable',
  'webhooks, secrets equal',
  'rls live',
  'webhooks, secrets differ',
  'password pasted without percent-encoding',
  'wrong password',
  'drift deploy, shadow on a URL',
  'rls live',
  'webhooks, secrets equal',
  'wrong password',
  'drill',
];
const DRILLS = [
  'drill from the live source',
  'drill over its RTO target',
  'drill with a Supabase token and no API',
  'drill into a scratch database on a target URL',
];

// ---------------------------------------------------------------------------------------------
// Running a plan through the library entry and what the action does with the result

function capturingLogger(lines: string[]): Logger {
  return {
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    step: async (name, fn) => {
      lines.push(name);
      return fn();
    },
  };
}

function readIfExists(file: string | undefined): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function runInProcess(plan: Plan, event: 'pull_request' | 'schedule'): Promise<{ result: GateResult; channels: Record<string, string> }> {
  const log: string[] = [];
  const flags = plan.inputs;
  const { result } = await invokeGate(plan.gate, (name) => flags[name], 'cli', {
    cwd: EXAMPLE_APP,
    env: { ...process.env, ...plan.env },
    log: capturingLogger(log),
  });

  // what the action does next: job summary, annotations, PR comment or issue, check run
  const io = { summaries: [] as string[], annotations: [] as unknown[], messages: [] as string[] };
  const requestsBefore = server.requests.length;
  const run = readRunContext({
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: path.join(parent, `${event}.json`),
    GITHUB_REPOSITORY: REPO,
    GITHUB_SHA: HEAD_SHA,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '7',
    GITHUB_WORKSPACE: EXAMPLE_APP,
  });
  await publish(
    {
      result,
      rules: RULE_CATALOG,
      run,
      octokit: github.getOctokit(TOKEN, { baseUrl: server.url }),
      comment: 'always',
      target: `127.0.0.1:${new URL(cluster.url).port}/${DATABASE}`,
      retry: FAST,
    },
    {
      summary: async (markdown) => void io.summaries.push(markdown),
      annotate: (annotation) => void io.annotations.push(annotation),
      info: (message) => void io.messages.push(message),
      warning: (message) => void io.messages.push(message),
    },
  );
  const sent = server.requests.slice(requestsBefore).map((request) => JSON.stringify(request.body ?? ''));
  return {
    result,
    channels: {
      'terminal text': renderText(result, { color: false, rules: RULE_CATALOG }) + renderText(result, { color: true, rules: RULE_CATALOG }),
      'JSON report': renderJson(result),
      markdown: renderMarkdown(result, { rules: RULE_CATALOG }),
      SARIF: renderSarif(result, { rules: RULE_CATALOG, workspace: EXAMPLE_APP }).text,
      annotations: JSON.stringify(annotationsOf(result, EXAMPLE_APP)) + JSON.stringify(io.annotations),
      'job summary': io.summaries.join('\n'),
      'publish messages': io.messages.join('\n'),
      'GitHub requests': sent.join('\n'),
      'gate log': log.join('\n'),
      'drill log': readIfExists(plan.logPath),
    },
  };
}

function expectOutcome(plan: Plan, result: GateResult, context: string): void {
  const findings = result.findings.map((f) => `${f.rule}: ${f.message}`).join('; ');
  expect(plan.expect, `${context}: status ${result.status}, error ${result.error ?? '-'}, findings ${findings.slice(0, 600)}`).toContain(result.status);
  if (plan.error) expect(result.error, context).toMatch(plan.error);
}

function expectNoLeaks(channels: Record<string, string>, used: readonly Secret[], context: string): void {
  const leaks = findLeaks(channels, used);
  expect(leaks, `${context}: a secret reached an output`).toEqual([]);
}

describe('secret-leak fuzz through the library entry, publish and every renderer', () => {
  it(`never writes any of the secrets of ${LIBRARY_RUNS} gate runs, in any form, anywhere`, async () => {
    const seen: Record<string, number> = {};
    const ran = new Set<string>();
    for (let index = 0; index < LIBRARY_RUNS; index += 1) {
      const logDir = mkdtempSync(path.join(parent, 'drill-log-'));
      forgetSecretsForTests();
      const slot = CYCLE[index % CYCLE.length]!;
      seen[slot] = (seen[slot] ?? 0) + 1;
      const name = slot === 'drill' ? DRILLS[(seen[slot] - 1) % DRILLS.length]! : slot;
      // the builder's index counts this scenario's own runs, so its variants (gate, setting) take turns
      const plan = await SCENARIOS[name]!(seen[slot] - 1, logDir);
      const context = `run #${index} ${plan.name} (seed ${SEED}; secrets ${plan.secrets.map((s) => JSON.stringify(s.value.slice(0, 24))).join(', ')})`;
      const { result, channels } = await runInProcess(plan, index % 2 ? 'schedule' : 'pull_request');
      expectOutcome(plan, result, context);
      expectNoLeaks(channels, plan.secrets, context);
      // the gate registered what it read, so the runner's masker hides it too
      for (const value of plan.read) expect(redact(`<${value}>`), `${context}: ${JSON.stringify(value.slice(0, 24))} is not registered`).not.toContain(value);
      if (plan.logPath && !plan.unlogged) expect(channels['drill log'], `${context}: the drill log has this drill`).toMatch(/"status":"(pass|fail|error)"/);
      ran.add(name);
      rmSync(logDir, { recursive: true, force: true });
    }
    expect([...ran].sort()).toEqual(Object.keys(SCENARIOS).sort());
    expect(new Set(secrets.all.map((s) => s.value)).size, 'distinct secrets used by the library runs').toBeGreaterThanOrEqual(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The committed bundles, as the runner runs them, and the CLI bundle

interface BundleCase {
  name: string;
  gate: GateId;
  event: EventName;
  /** Builds the inputs and environment; returns the secrets the run carries. */
  build(
    runDir: string,
  ): Promise<{ inputs: Record<string, string>; env: Record<string, string>; used: Secret[]; expectCode: number[]; files?: string[]; error?: RegExp }>;
  /** How the github-token is made: accepted by the test server, unknown to it, or unusable in an HTTP header. */
  token: 'accepted' | 'unknown' | 'not a header value';
}

const BUNDLE_CASES: BundleCase[] = [
  {
    name: 'drift-gate deploy mode on a pull request (comment and check run)',
    gate: 'drift',
    event: 'pull_request',
    token: 'accepted',
    async build() {
      const role = await createRole('reader');
      return { inputs: { 'database-url': role.url, comment: 'always' }, env: {}, used: [role.password], expectCode: role.canLogIn ? [0] : [2] };
    },
  },
  {
    name: 'rls-audit live mode, scheduled (tracking issue)',
    gate: 'rls',
    event: 'schedule',
    token: 'accepted',
    async build() {
      const role = await createRole('reader');
      return { inputs: { 'database-url': role.url }, env: {}, used: [role.password], expectCode: role.canLogIn ? [1] : [2] };
    },
  },
  {
    name: 'webhook-secret-check with different secrets, manual run',
    gate: 'webhooks',
    event: 'workflow_dispatch',
    token: 'accepted',
    async build() {
      const role = await createRole('reader');
      const [hmac, previous] = [secrets.next(), secrets.next()];
      await setWebhookSettings(role, `${hmac.value}\n`, previous.value);
      return {
        inputs: { 'database-url': role.url },
        env: { HMAC_SECRET: hmac.value, HMAC_SECRET_PREVIOUS: previous.value, APP_HOST },
        used: [role.password, hmac, previous],
        expectCode: role.canLogIn ? [1] : [2],
      };
    },
  },
  {
    name: 'webhook-secret-check with equal secrets on a pull request, token unusable in a header',
    gate: 'webhooks',
    event: 'pull_request',
    token: 'not a header value',
    async build() {
      const role = await createRole('reader');
      const hmac = secrets.next();
      await setWebhookSettings(role, hmac.value, hmac.value);
      return {
        inputs: { 'database-url': role.url, comment: 'always' },
        env: { HMAC_SECRET: hmac.value, APP_HOST },
        used: [role.password, hmac],
        expectCode: role.canLogIn ? [1] : [2],
      };
    },
  },
  {
    name: 'restore-drill from the live source, failing, with a drill log and SARIF, scheduled',
    gate: 'drill',
    event: 'schedule',
    token: 'accepted',
    async build(runDir) {
      const role = await createRole('reader');
      const log = path.join(runDir, 'drills.jsonl');
      return {
        inputs: { 'source-database-url': role.url, 'log-path': log, jobs: '1' },
        env: {},
        used: [role.password],
        expectCode: role.canLogIn ? [1] : [2],
        files: [log],
      };
    },
  },
  {
    name: 'restore-drill whose Supabase token fetch refuses, with a drill log, token unknown to GitHub',
    gate: 'drill',
    event: 'schedule',
    token: 'unknown',
    async build(runDir) {
      const role = await createRole('reader');
      const token = secrets.next({ headerSafe: true, inside: '\n' });
      const log = path.join(runDir, 'drills.jsonl');
      return {
        inputs: { 'source-database-url': role.url, 'log-path': log, 'supabase-access-token': token.value, 'project-ref': PROJECT_REF, jobs: '1' },
        env: { POSTGATE_SUPABASE_API_URL: `http://127.0.0.1:${closedPort}` },
        used: [role.password, token],
        expectCode: [2],
        files: [log],
        error: role.canLogIn ? /Supabase Management API/ : /Password authentication failed/,
      };
    },
  },
  {
    name: 'drift-gate with a wrong password on a pull request',
    gate: 'drift',
    event: 'pull_request',
    token: 'accepted',
    async build() {
      const password = secrets.next();
      return {
        inputs: { 'database-url': roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE) },
        env: {},
        used: [password],
        expectCode: [2],
        error: /Password authentication failed/,
      };
    },
  },
  {
    name: 'rls-audit against a port where nothing listens, token unknown to GitHub',
    gate: 'rls',
    event: 'pull_request',
    token: 'unknown',
    async build() {
      const password = secrets.next();
      return {
        inputs: { 'database-url': roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE, `127.0.0.1:${closedPort}`) },
        env: {},
        used: [password],
        expectCode: [2],
        error: /connection refused/,
      };
    },
  },
  {
    name: 'webhook-secret-check with a wrong password, scheduled',
    gate: 'webhooks',
    event: 'schedule',
    token: 'accepted',
    async build() {
      const [password, hmac] = [secrets.next(), secrets.next()];
      return {
        inputs: { 'database-url': roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE) },
        env: { HMAC_SECRET: hmac.value, APP_HOST },
        used: [password, hmac],
        expectCode: [2],
        error: /Password authentication failed/,
      };
    },
  },
  {
    name: 'restore-drill from a source where nothing listens, with a drill log',
    gate: 'drill',
    event: 'schedule',
    token: 'accepted',
    async build(runDir) {
      const password = secrets.next();
      const log = path.join(runDir, 'drills.jsonl');
      return {
        inputs: { 'source-database-url': roleUrl(cluster.url, 'fuzz_locked', password.value, DATABASE, `127.0.0.1:${closedPort}`), 'log-path': log },
        env: {},
        used: [password],
        expectCode: [2],
        files: [log],
        error: /connection refused/,
      };
    },
  },
];

function githubToken(kind: BundleCase['token']): Secret {
  // a newline cannot go into an HTTP header, and fetch quotes the header in its error
  if (kind === 'not a header value') return secrets.next({ inside: '\n' });
  const token = secrets.next({ headerSafe: true });
  if (kind === 'accepted') server.addToken(token.value.trim());
  return token;
}

function channelsOf(run: ActionRun, files: string[]): Record<string, string> {
  const channels: Record<string, string> = {
    stdout: withoutMaskCommands(run.stdout),
    stderr: withoutMaskCommands(run.stderr),
    outputs: JSON.stringify(run.outputs),
    'job summary': run.summary,
    'post step': withoutMaskCommands(run.post?.stdout ?? '') + withoutMaskCommands(run.post?.stderr ?? ''),
  };
  for (const file of [run.outputs['report-path'], run.outputs['sarif-path'], ...files]) if (file) channels[path.basename(file)] = readIfExists(file);
  return channels;
}

describe('secret-leak fuzz through the committed action bundles', () => {
  it.each(BUNDLE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, bundleCase) => {
    const runDir = mkdtempSync(path.join(parent, 'bundle-'));
    const token = githubToken(bundleCase.token);
    const { inputs, env, used, expectCode, files = [], error } = await bundleCase.build(runDir);
    const requestsBefore = server.requests.length;
    const run = await runActionBundle({
      gate: bundleCase.gate,
      event: bundleCase.event,
      apiUrl: server.url,
      token: token.value,
      workspace: EXAMPLE_APP,
      parent: runDir,
      inputs: { ...inputs, 'sarif-path': path.join(runDir, 'postgate.sarif') },
      env,
    });
    const context = `${bundleCase.name} (seed ${SEED})`;
    expect(expectCode, `${context}: exit ${run.code}\n${run.stderr}\n${run.stdout.slice(-2000)}`).toContain(run.code);
    expect(run.post?.code, context).toBe(0);
    if (error) expect(JSON.parse(readIfExists(run.outputs['report-path'])).error, context).toMatch(error);
    const sent = server.requests.slice(requestsBefore);
    if (bundleCase.token === 'accepted')
      expect(
        sent.some((request) => request.status >= 200 && request.status < 300),
        `${context}: something was posted`,
      ).toBe(true);
    const channels = { ...channelsOf(run, files), 'GitHub requests': sent.map((request) => JSON.stringify(request.body ?? '')).join('\n') };
    expectNoLeaks(channels, [...used, token], context);
    // the masked forms were announced to the runner
    expect(run.stdout, context).toContain('::add-mask::');
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'postgate.js'), ...args], {
      cwd: EXAMPLE_APP,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...suiteCacheEnv(), TMPDIR: process.env.TMPDIR ?? os.tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('secret-leak fuzz through the CLI bundle', () => {
  it('keeps secrets out of stdout, stderr, the JSON report and the drill log, from flags and POSTGATE_* variables', async () => {
    const dir = mkdtempSync(path.join(parent, 'cli-'));
    const files = { report: path.join(dir, 'report.json'), log: path.join(dir, 'drills.jsonl') };
    const reader = await createRole('reader');
    const hmac = secrets.next();
    await setWebhookSettings(reader, `'${hmac.value}'`, hmac.value);
    const [wrong, unreachable] = [secrets.next(), secrets.next()];
    const runs: Array<{ args: string[]; env: Record<string, string>; used: Secret[]; codes: number[] }> = [
      { args: ['rls', '--format', 'json'], env: { POSTGATE_DATABASE_URL: reader.url }, used: [reader.password], codes: reader.canLogIn ? [1] : [2] },
      {
        args: ['webhooks'],
        env: { POSTGATE_DATABASE_URL: reader.url, HMAC_SECRET: hmac.value, APP_HOST },
        used: [reader.password, hmac],
        codes: reader.canLogIn ? [1] : [2],
      },
      { args: ['drift', '--database-url', roleUrl(cluster.url, 'fuzz_locked', wrong.value, DATABASE)], env: {}, used: [wrong], codes: [2] },
      {
        args: ['drill', '--log-path', files.log, '--format', 'json'],
        env: { POSTGATE_SOURCE_DATABASE_URL: roleUrl(cluster.url, 'fuzz_locked', unreachable.value, DATABASE, `127.0.0.1:${closedPort}`) },
        used: [unreachable],
        codes: [2],
      },
    ];
    for (const run of runs) {
      rmSync(files.report, { force: true });
      const result = await runCli([...run.args, '--report-path', files.report], run.env);
      const context = `postgate ${run.args[0]} (seed ${SEED})`;
      expect(run.codes, `${context}: exit ${result.code}\n${result.stderr}`).toContain(result.code);
      expect(readIfExists(files.report), `${context}: the JSON report was written`).toContain('"status"');
      const channels = { stdout: result.stdout, stderr: result.stderr, report: readIfExists(files.report), 'drill log': readIfExists(files.log) };
      expectNoLeaks(channels, run.used, context);
    }
  });
});
