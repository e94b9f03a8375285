/**
 * Every gate masks the secrets the job gives it (issue 13, item 10), not only the webhook gate.
 *
 * A live "production" database of examples/supabase-app carries the job's secrets where a
 * hotfix or a careless migration puts them: a function body (a bearer token, a libpq connection
 * string with the password), a trigger's arguments, a table comment, a column comment, a row
 * level security policy's expression and the policy's comment. drift-gate in deploy mode prints
 * those objects as remediation SQL; restore-drill quotes the statements that failed to restore
 * (the policy names a role the restore target lacks). The secrets are what a job hands postgate:
 *
 * - HMAC_SECRET: the webhook gate's default `secret-env`, also the repo config's `equals-env`;
 * - HMAC_SECRET_PREVIOUS and SIGNING_KEY: named only by the repo config (`previous-env`,
 *   `equals-env`) — with a quote inside, so PostgreSQL prints it escaped (`''`) in SQL;
 * - database passwords: of drift's `shadow-database-url` (a second server), of another reader
 *   role in the drill's `source-database-url`, and `Q7`, the two-character password of the
 *   reader role in `database-url` / `source-database-url`, found in a URL, a `password=` key
 *   and as whole SQL literals.
 *
 * Each gate runs through the CLI (text, and JSON with --report-path and --sarif-path) and through
 * the action from source (actions/<gate>/main.ts, run like the runner runs the bundle, post step
 * included): on a pull request (sticky comment, check run), on a push or schedule (tracking issue)
 * and without a token (workflow-command annotations). Channels: stdout, stderr, outputs, job
 * summary (markdown), JSON report, SARIF, the post step, and every request body sent to the GitHub
 * API test server (comment, check run summary and annotations, issue). A leak is any form of a
 * long secret (raw, trimmed, URL-, JSON-, workflow-command-escaped, base64, hex) or its random
 * core, and for `Q7` any of its bounded forms or the bare token standing alone. Lines starting
 * with `::add-mask::` are the runner's masking commands (which must name every secret) and are
 * left out. A control run without the secrets in the job (one CLI run: text, with the JSON
 * report and SARIF written) shows the planted values do reach the output, so "nothing found"
 * means masked, not absent.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATES } from '../../src/config/gates.ts';
import { passwordsIn, registerJobSecrets, secretEnvNames } from '../../src/config/job-secrets.ts';
import { EMPTY_REPO_CONFIG, type RepoConfig } from '../../src/config/repo-config.ts';
import type { GateId } from '../../src/findings/types.ts';
import { quoteLiteral } from '../../src/postgres/connect.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { contextForms, encodedForms, forgetSecretsForTests, onSecretRegistered, redact, redactDeep, registerSecret } from '../../src/secrets.ts';
import { createProduction, type Production } from '../fixtures/e2e/production.ts';
import { copyExample } from '../fixtures/e2e/workspace.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { EVENTS, type EventName, HEAD_SHA, MERGE_SHA, parseFileCommands, REPO, ROOT, suiteCacheEnv } from '../support/runner.ts';
import { findLeaks, type Secret, withoutMaskCommands } from '../support/secrets-gen.ts';

// ---------------------------------------------------------------------------------------------
// The masker itself: short secrets and clipped secrets

describe('masking short secrets in context', () => {
  it('masks a two-character password in URLs, password keys and whole SQL or JSON strings, and nowhere else', () => {
    forgetSecretsForTests();
    registerSecret('Q7');
    expect(encodedForms('Q7')).toEqual([]);
    expect(redact('postgresql://crm_sync:Q7@db.internal:5432/crm')).toBe('postgresql://crm_sync:***@db.internal:5432/crm');
    expect(redact("perform dblink_exec('host=crm password=Q7 dbname=crm', 'select 1')")).toBe(
      "perform dblink_exec('host=crm password=*** dbname=crm', 'select 1')",
    );
    expect(redact('PGPASSWORD=Q7 psql; DB_PASSWORD="Q7"; pwd: Q7')).toBe('PGPASSWORD=*** psql; DB_PASSWORD="***"; pwd: ***');
    expect(redact("execute function public.sync_to_crm('Q7', 'x')")).toBe("execute function public.sync_to_crm('***', 'x')");
    expect(redact('{"password":"Q7","label":"Q7 table"}')).toBe('{"password":"***","label":"Q7 table"}');
    expect(redactDeep({ a: 'Q7', b: [' Q7\n'], c: 'Q7x' })).toEqual({ a: '***', b: [' ***\n'], c: 'Q7x' });
    // ordinary text keeps its words: an "a" or "Q7" in prose is not the password
    for (const text of ['The Q7 table', 'SQ71', 'password=Q7x', "'Q77'", 'crm_sync:Q7x@db']) expect(redact(text)).toBe(text);
  });

  it('masks a short percent-encoded URL password, and tells the runner bounded forms only', () => {
    forgetSecretsForTests();
    const heard: string[] = [];
    onSecretRegistered((form) => heard.push(form));
    registerSecret('@:');
    registerSecret('x');
    expect(redact('postgresql://app:%40%3A@db/x and postgres://app:x@db/y')).toBe('postgresql://app:***@db/x and postgres://app:***@db/y');
    expect(heard).toEqual(expect.arrayContaining([':@:@', ':%40%3A@', "'@:'", '"@:"', ':x@', "'x'", '"x"']));
    expect(heard).not.toContain('x');
    expect(heard).not.toContain('@:');
    expect(heard.every((form) => form.length >= 3)).toBe(true);
    expect(contextForms('long enough')).toEqual([]);
    expect(contextForms(' ')).toEqual([]);
  });

  it('masks the start of a secret that a message clipped, and a URL password cut before its "@"', () => {
    forgetSecretsForTests();
    registerSecret('whsec_Abcdefghijklmnop0123');
    registerSecret("pr3v'Zyxwvutsrq98765");
    expect(redact('comment (database: rotate whsec_Abcdefg...)')).toBe('comment (database: rotate ***...)');
    expect(redact('database: rotate whsec_Abcdefg…')).toBe('database: rotate ***…');
    expect(redact('dsn postgresql://crm_sync:Q7...')).toBe('dsn postgresql://crm_sync:***...');
    expect(redact("comment on table t is 'old key pr3v''Zyxwvutsrq98765'")).toBe("comment on table t is 'old key ***'");
    // a text clipped at a fixed length, with no ellipsis: its very end
    expect(redact("first failure: COMMENT ON TABLE t IS 'rotate whsec_Abcdefghij")).toBe("first failure: COMMENT ON TABLE t IS 'rotate ***");
    expect(redact('first failure: dsn postgresql://crm_sync:Q')).toBe('first failure: dsn postgresql://crm_sync:***');
    // three characters of a secret before an ellipsis are too few to tell from ordinary text, five at the end
    expect(redact('Shortened to fit... whs...')).toBe('Shortened to fit... whs...');
    expect(redact('ends in whsec')).toBe('ends in whsec');
    // a database URL is a secret, but its start is not: "postgres" stays
    registerSecret('postgresql://postgres:S3cr3t-pass-word@db.internal:5432/postgres');
    expect(redact('owned by postgres')).toBe('owned by postgres');
    expect(redact('owned by postgres...')).toBe('owned by postgres...');
    expect(redact('connect to postgresql://db.internal:5432')).toBe('connect to postgresql://db.internal:5432');
    expect(redact('url postgresql://postgres:S3cr...')).toBe('url postgresql://postgres:***...');
  });
});

describe('the secrets a job gives every gate', () => {
  const config = (expectations: Array<Record<string, unknown>>, urlEnv?: string): RepoConfig => ({
    ...EMPTY_REPO_CONFIG,
    webhooks: {
      ...EMPTY_REPO_CONFIG.webhooks,
      expectations: expectations as RepoConfig['webhooks']['expectations'],
      ...(urlEnv ? { probe: { 'url-env': urlEnv } as never } : {}),
    },
  });

  it('names the webhook secret variables from the inputs (default HMAC_SECRET) and the repo config', () => {
    expect(secretEnvNames(() => undefined)).toEqual(['HMAC_SECRET']);
    const read = (name: string) => ({ 'secret-env': 'DEPLOY_KEY', 'previous-secret-env': ' OLD_KEY ' })[name];
    expect(
      secretEnvNames(
        read,
        config(
          [
            { setting: 'app.a', 'equals-env': 'STRIPE_KEY', 'previous-env': 'STRIPE_OLD', required: true },
            { setting: 'app.b', required: true },
          ],
          'PROBE_URL',
        ),
      ),
    ).toEqual(['DEPLOY_KEY', 'OLD_KEY', 'STRIPE_KEY', 'STRIPE_OLD', 'PROBE_URL']);
    // a pasted value instead of a name is no variable name (registerJobSecrets masks the value itself)
    expect(secretEnvNames((name) => (name === 'secret-env' ? 'whsec_pasted value' : undefined))).toEqual([]);
  });

  it('finds the password of any URL or connection string, even one that does not parse', () => {
    expect(passwordsIn('postgresql://app:p%40ss%25w@db:5432/x')).toEqual(['p%40ss%25w', 'p@ss%w']);
    expect(passwordsIn('postgresql://app:p@ss/w@rd@db/x')).toEqual(expect.arrayContaining(['p@ss/w@rd']));
    expect(passwordsIn('postgresql://app:bad%zz@db/x')).toEqual(['bad%zz']);
    expect(passwordsIn('postgresql://db/x?user=app&password=Q7')).toEqual(['Q7']);
    expect(passwordsIn("host=db user=app password='a b\\'c' dbname=x")).toEqual(["a b'c"]);
    expect(passwordsIn('postgresql://app@db/x')).toEqual([]);
  });

  it('registers them for drift as for the webhook gate: variables, secret inputs, URL passwords', () => {
    forgetSecretsForTests();
    const env = { HMAC_SECRET: 'whsec_fromTheJobEnv0001', DEPLOY_KEY: 'deploy-key-fromTheJob02', UNRELATED: 'not-a-secret-value' };
    const inputs: Record<string, string> = {
      'database-url': 'postgresql://reader:Q7@db.internal/app',
      'shadow-database-url': 'postgresql://admin:sh%40dow-pass@scratch/postgres',
      'secret-env': 'DEPLOY_KEY',
    };
    const registered = registerJobSecrets({ gate: 'drift', read: (name) => inputs[name], surface: 'cli', env, cwd: os.tmpdir() });
    expect(registered).toEqual({ inputs: ['database-url', 'shadow-database-url'], env: ['DEPLOY_KEY'] });
    const text = `${env.HMAC_SECRET} ${env.DEPLOY_KEY} ${env.UNRELATED} sh@dow-pass postgresql://x:Q7@y`;
    expect(redact(text)).toBe(`${env.HMAC_SECRET} *** not-a-secret-value *** postgresql://x:***@y`);
    // without secret-env, the default HMAC_SECRET is the one
    expect(registerJobSecrets({ gate: 'drill', read: () => undefined, surface: 'action', env, cwd: os.tmpdir() }).env).toEqual(['HMAC_SECRET']);
    expect(redact(env.HMAC_SECRET)).toBe('***');
    // the secret itself pasted where its variable's name belongs
    registerJobSecrets({
      gate: 'rls',
      read: (name) => (name === 'secret-env' ? 'whsec_pasted-by-mistake-77' : undefined),
      surface: 'cli',
      env: {},
      cwd: os.tmpdir(),
    });
    expect(redact('got whsec_pasted-by-mistake-77')).toBe('got ***');
    forgetSecretsForTests();
  });

  it('registers a database URL given to rehearse-from (a path or a URL), and its password alone; a path is not masked', () => {
    const rehearseFrom = (value: string) =>
      registerJobSecrets({ gate: 'drift', read: (name) => (name === 'rehearse-from' ? value : undefined), surface: 'action', env: {}, cwd: os.tmpdir() });
    forgetSecretsForTests();
    const url = rehearseFrom('postgresql://prod_reader:Rehearse%2DPass77@db.internal/app');
    expect(url.inputs).toEqual(['rehearse-from']);
    expect(redact('password authentication failed: Rehearse-Pass77 / Rehearse%2DPass77')).toBe('password authentication failed: *** / ***');
    forgetSecretsForTests();
    const file = rehearseFrom('backups/prod.dump');
    expect(file.inputs).toEqual([]);
    expect(redact('restoring backups/prod.dump')).toBe('restoring backups/prod.dump');
    forgetSecretsForTests();
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: drift-gate (deploy mode) and restore-drill, CLI and action, every channel

const TOKEN = 'ghs_e2eMaskingWriteToken0001';
const PR = 42;
const SHORT = 'Q7';

const core = () =>
  randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 16);
function secret(prefix: string, suffix = ''): Secret {
  const random = core();
  return { value: `${prefix}${random}${suffix}`, cores: [random] };
}
const HMAC = secret('whsec_live_');
const PREVIOUS = secret("pr3v'");
const SIGNING = secret('sk_sign_', "'x");

let server: GitHubServer;
let parent: string;
let production: Cluster;
let scratch: Cluster;
let app: Production;
/** database-url / source-database-url: the reader role with the two-character password. */
let readerUrl: string;
/** source-database-url of one drill: a reader role with a long password. */
let auditorUrl: string;
const AUDITOR = secret('aud1t-');
/** shadow-database-url / target-database-url: the second server's superuser. */
let scratchUrl: string;
let scratchPassword: Secret;
/** The example with the repo config naming SIGNING_KEY; and one without any repo config. */
let workspace: string;
let bare: string;

const tally = { runs: 0, channels: 0, secretsChecked: 0, leaks: 0 };

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addPullRequest(REPO, PR, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-masking-'));
  [production, scratch] = await Promise.all([startCluster({ shadow: 'local', major: 15 }), startCluster({ shadow: 'local', major: 15 })]);
  app = await createProduction(production);
  scratchUrl = scratch.url;
  scratchPassword = { value: decodeURIComponent(new URL(scratch.url).password), cores: [] };
  const reader = new URL(app.url);
  reader.username = 'crm_sync';
  reader.password = SHORT;
  readerUrl = reader.href;
  const auditor = new URL(app.url);
  auditor.username = 'crm_audit';
  auditor.password = AUDITOR.value;
  auditorUrl = auditor.href;

  const q = quoteLiteral;
  await app.admin(
    `create role crm_sync login bypassrls password ${q(SHORT)} in role pg_read_all_data`,
    `create role crm_audit login bypassrls password ${q(AUDITOR.value)} in role pg_read_all_data`,
    'create role reporting nologin',
    `create function public.sync_to_crm() returns trigger language plpgsql security definer set search_path = pg_catalog, public as $fn$
begin
  perform dblink_exec('host=crm.internal password=${SHORT} dbname=crm', 'select 1');
  perform net.http_post(url := 'https://crm.example.com/hook', headers := jsonb_build_object('Authorization', 'Bearer ${HMAC.value}'));
  return null;
end $fn$`,
    `create trigger trips_to_crm after insert on public.trips for each row execute function public.sync_to_crm(${q(HMAC.value)}, ${q(SHORT)})`,
    `comment on table public.trips is ${q(`rotate ${HMAC.value} by friday; crm dsn postgresql://crm_sync:${SHORT}@crm.internal/crm`)}`,
    `comment on column public.trips.title is ${q(`old key ${PREVIOUS.value}; scratch server ${scratchPassword.value}`)}`,
    `create policy reporting_reads on public.trips for select to reporting using (current_setting('request.header.x-api-key', true) in (${q(HMAC.value)}, ${q(SIGNING.value)}, ${q(SHORT)}))`,
    `comment on policy reporting_reads on public.trips is ${q(`keys ${PREVIOUS.value} and ${SIGNING.value}; audit ${AUDITOR.value}; dsn postgresql://crm_sync:${SHORT}@crm.internal/crm`)}`,
  );

  workspace = copyExample(parent);
  const configFile = path.join(workspace, '.github', 'postgate.yml');
  const config = parse(readFileSync(configFile, 'utf8'));
  config.webhooks.expectations.push({ setting: 'app.signing_key', 'equals-env': 'SIGNING_KEY', required: false });
  writeFileSync(configFile, stringify(config));
  bare = copyExample(parent);
  rmSync(path.join(bare, '.github', 'postgate.yml'));
});

afterAll(async () => {
  await server?.close();
  await Promise.all([production?.stop(), scratch?.stop()]);
  if (parent) rmSync(parent, { recursive: true, force: true });
  console.log(
    `secret masking: ${tally.runs} runs, ${tally.channels} channels, ${tally.secretsChecked} secret checks (secrets x channels), ${tally.leaks} leaks`,
  );
});

/** The job's environment: what a workflow's `env:` gives every step. */
const jobEnv = () => ({ HMAC_SECRET: HMAC.value, HMAC_SECRET_PREVIOUS: PREVIOUS.value, SIGNING_KEY: SIGNING.value });

interface Step {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnNode(script: string, args: string[], cwd: string, env: Record<string, string>): Promise<Step> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...suiteCacheEnv(),
        TMPDIR: process.env.TMPDIR ?? os.tmpdir(),
        NODE_NO_WARNINGS: '1',
        // the suite's code cache (global-setup.ts): the TypeScript sources compile once, not in every run
        ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const readIfExists = (file: string | undefined) => {
  try {
    return file ? readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
};

interface Observed {
  code: number | null;
  channels: Record<string, string>;
  report: { findings: Array<{ key: string; rule: string; detail?: string; remediation?: string }> };
  /** stdout as printed, masking commands included. */
  stdout: string;
}

/**
 * `postgate <gate>` from the TypeScript sources (scripts/postgate.ts), the CLI's way of reading
 * flags and POSTGATE_* variables: once with text on stdout, once with JSON, both writing the JSON
 * report and SARIF. The controls need one run only (`textOnly`): they show that a secret the job
 * did not give is printed, which the text run and its files show.
 */
async function cli(gate: 'drift' | 'drill', args: string[], cwd: string, env: Record<string, string>, options: { textOnly?: boolean } = {}): Promise<Observed> {
  const dir = mkdtempSync(path.join(parent, `cli-${gate}-`));
  const files = { report: path.join(dir, 'report.json'), sarif: path.join(dir, 'report.sarif') };
  const outputFiles = ['--report-path', files.report, '--sarif-path', files.sarif];
  const text = await spawnNode(path.join(ROOT, 'scripts', 'postgate.ts'), [gate, ...args, ...(options.textOnly ? outputFiles : [])], cwd, env);
  const channels: Record<string, string> = { 'stdout (text)': text.stdout, 'stderr (text)': text.stderr };
  if (!options.textOnly) {
    const json = await spawnNode(path.join(ROOT, 'scripts', 'postgate.ts'), [gate, ...args, '--format', 'json', ...outputFiles], cwd, env);
    expect(json.code, json.stderr).toBe(text.code);
    Object.assign(channels, { 'stdout (json)': json.stdout, 'stderr (json)': json.stderr });
  }
  return {
    code: text.code,
    stdout: text.stdout,
    report: JSON.parse(readIfExists(files.report) || '{"findings":[]}'),
    channels: { ...channels, 'JSON report': readIfExists(files.report), SARIF: readIfExists(files.sarif) },
  };
}

/** The action.yml defaults, as the runner passes them. */
function defaultInputs(gate: GateId, token: string): Record<string, string> {
  const manifest = parse(readFileSync(path.join(ROOT, 'actions', GATES[gate].action, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.inputs)) {
    if (spec.default !== undefined) env[`INPUT_${name.toUpperCase()}`] = spec.default === '${{ github.token }}' ? token : String(spec.default);
  }
  return env;
}

/**
 * actions/<gate>/main.ts run as the runner runs the bundle (test/support/runner.ts does the same
 * for the committed dist): INPUT_*, event payload, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
 * GITHUB_STATE, RUNNER_TEMP; then the post step with the saved state.
 */
async function action(gate: 'drift' | 'drill', event: EventName, inputs: Record<string, string>, options: { token?: string } = {}): Promise<Observed> {
  const runDir = mkdtempSync(path.join(parent, `action-${gate}-`));
  const files = {
    GITHUB_EVENT_PATH: path.join(runDir, 'event.json'),
    GITHUB_OUTPUT: path.join(runDir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runDir, 'summary.md'),
    GITHUB_STATE: path.join(runDir, 'state'),
  };
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(EVENTS[event]()));
  for (const file of [files.GITHUB_OUTPUT, files.GITHUB_STEP_SUMMARY, files.GITHUB_STATE]) writeFileSync(file, '');
  const runnerTemp = path.join(runDir, 'temp');
  mkdirSync(runnerTemp);
  const token = options.token ?? '';
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_REPOSITORY: REPO,
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SHA: MERGE_SHA,
    GITHUB_REF: event === 'pull_request' ? `refs/pull/${PR}/merge` : 'refs/heads/main',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'postgate',
    GITHUB_ACTOR: 'ada',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: server.url,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    ...files,
    ...defaultInputs(gate, token),
    ...Object.fromEntries(
      Object.entries({ ...inputs, 'sarif-path': path.join(runnerTemp, 'postgate.sarif') }).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
    ),
    ...jobEnv(),
  };
  const script = path.join(ROOT, 'actions', GATES[gate].action, 'main.ts');
  const requestsBefore = server.requests.length;
  const main = await spawnNode(script, [], workspace, env);
  const state = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
  const post = await spawnNode(script, [], workspace, { ...env, ...Object.fromEntries(Object.entries(state).map(([key, value]) => [`STATE_${key}`, value])) });
  expect(post.code, post.stderr).toBe(0);
  const outputs = parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
  const reportText = readIfExists(outputs['report-path']);
  const sent = server.requests.slice(requestsBefore);
  if (token)
    expect(
      sent.some((request) => request.method !== 'GET' && request.status >= 200 && request.status < 300),
      'something was posted to GitHub',
    ).toBe(true);
  return {
    code: main.code,
    stdout: main.stdout,
    report: JSON.parse(reportText || '{"findings":[]}'),
    channels: {
      'stdout (log, annotations)': withoutMaskCommands(main.stdout),
      stderr: main.stderr,
      outputs: JSON.stringify(outputs),
      'job summary': readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      'JSON report': reportText,
      SARIF: readIfExists(outputs['sarif-path']),
      'post step': withoutMaskCommands(post.stdout) + post.stderr,
      'GitHub API (comment, check run, annotations, issue)': sent.map((request) => JSON.stringify(request.body ?? '')).join('\n'),
    },
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a short secret would show if unmasked: its bounded forms, or the token standing alone. */
function shortLeaks(channels: Record<string, string>, value: string): string[] {
  const forms = [`:${value}@`, `:${encodeURIComponent(value)}@`, `%3A${value}%40`, `'${value}'`, `"${value}"`, `password=${value}`];
  const alone = new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(value)}(?![A-Za-z0-9_])`);
  const found: string[] = [];
  for (const [channel, text] of Object.entries(channels)) {
    const form = forms.find((candidate) => text.includes(candidate)) ?? alone.exec(text)?.[0];
    if (form !== undefined) {
      const at = text.indexOf(form);
      found.push(`${channel}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + form.length + 20))}`);
    }
  }
  return found;
}

function expectMasked(name: string, run: Observed, secrets: Secret[], short: string | undefined): void {
  const leaks = findLeaks(run.channels, secrets);
  const shortFound = short ? shortLeaks(run.channels, short) : [];
  tally.runs += 1;
  tally.channels += Object.keys(run.channels).length;
  tally.secretsChecked += Object.keys(run.channels).length * (secrets.length + (short ? 1 : 0));
  tally.leaks += leaks.length + shortFound.length;
  expect(leaks, `${name}: long secrets`).toEqual([]);
  expect(shortFound, `${name}: the two-character password`).toEqual([]);
}

/** The runner's masker was told each secret (core.setSecret), and never the bare short one. */
function expectRegisteredWithRunner(run: Observed, secrets: Secret[]): void {
  const masks = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length));
  for (const s of secrets) expect(masks, s.value).toContain(s.value.replace(/%/g, '%25'));
  expect(masks).toContain(`:${SHORT}@`);
  expect(masks).toContain(`'${SHORT}'`);
  expect(masks).not.toContain(SHORT);
}

/** The findings that carry the planted values, with the values masked in place. */
function expectDriftFindingsMasked(run: Observed): void {
  const byKey = new Map(run.report.findings.map((f) => [f.key, f]));
  const fn = byKey.get('schema_drift_unexpected:function:public.sync_to_crm()');
  expect(fn?.remediation, [...byKey.keys()].join(', ')).toContain('password=*** dbname=crm');
  expect(fn?.remediation).toContain("'Bearer ***'");
  expect(byKey.get('schema_drift_unexpected:trigger:public.trips.trips_to_crm')?.remediation).toContain("sync_to_crm('***', '***')");
  expect([...byKey.keys()].some((key) => key.includes('reporting_reads'))).toBe(true);
  expect(run.report.findings.find((f) => f.key.includes('reporting_reads'))?.remediation).toContain("'***'");
}

function expectDrillFindingsMasked(run: Observed, short: string | undefined): void {
  const role = run.report.findings.find((f) => f.rule === 'drill_role_missing');
  expect(role?.detail, JSON.stringify(run.report.findings.map((f) => f.key))).toMatch(/^first failure: CREATE POLICY reporting_reads .*'\*\*\*'/);
  const comment = run.report.findings.find((f) => f.rule === 'drill_restore_error' && f.detail?.includes('COMMENT ON POLICY reporting_reads'));
  expect(comment?.detail).toMatch(/IS 'keys \*\*\* and \*\*\*; audit /);
  // bounded, as everywhere here: the random cores of the long secrets may hold the two characters (`aud1t-yQ78...`)
  if (short) expect(shortLeaks({ 'drill findings': `${role?.detail} ${comment?.detail}` }, short)).toEqual([]);
}

describe('drift-gate in deploy mode masks the job secrets found in the live schema', () => {
  const flags = () => ['--database-url', readerUrl, '--shadow', 'url', '--shadow-database-url', scratchUrl];

  it('control: secrets the job did not give are printed, so the checks below can see a leak', async () => {
    const run = await cli('drift', ['--database-url', readerUrl], bare, {}, { textOnly: true });
    expect(run.code, run.channels['stderr (text)']).toBe(1);
    expect(findLeaks(run.channels, [HMAC, PREVIOUS]).length).toBeGreaterThan(0);
  });

  it('CLI with the default secret-env only (no repo config): HMAC_SECRET and the short password are masked', async () => {
    const run = await cli('drift', ['--database-url', readerUrl], bare, { HMAC_SECRET: HMAC.value });
    expect(run.code, run.channels['stderr (text)']).toBe(1);
    expectDriftFindingsMasked(run);
    expectMasked('drift CLI, bare workspace', run, [HMAC], SHORT);
  });

  it('CLI: every secret the job gives (variables named by the repo config, URL passwords) is masked in text, JSON and SARIF', async () => {
    const run = await cli('drift', flags(), workspace, jobEnv());
    expect(run.code, run.channels['stderr (text)']).toBe(1);
    expectDriftFindingsMasked(run);
    expectMasked('drift CLI', run, [HMAC, PREVIOUS, SIGNING, scratchPassword], SHORT);
  });

  const inputs = () => ({ 'database-url': readerUrl, shadow: 'url', 'shadow-database-url': scratchUrl });

  it('action on a pull request: comment, check run, summary, outputs, report and SARIF', async () => {
    const run = await action('drift', 'pull_request', inputs(), { token: TOKEN });
    expect(run.code, run.channels.stderr).toBe(1);
    expectDriftFindingsMasked(run);
    expect(server.comments(REPO, PR).some((c) => c.body.startsWith('<!-- postgate:comment gate=drift'))).toBe(true);
    expectMasked('drift action, pull_request', run, [HMAC, PREVIOUS, SIGNING, scratchPassword, { value: TOKEN, cores: [] }], SHORT);
    expectRegisteredWithRunner(run, [HMAC, PREVIOUS, SIGNING, scratchPassword]);
  });

  it('action on a push to main: the tracking issue', async () => {
    const run = await action('drift', 'push', inputs(), { token: TOKEN });
    expect(run.code, run.channels.stderr).toBe(1);
    expect(server.issues(REPO).some((issue) => issue.body.includes('postgate:issue gate=drift'))).toBe(true);
    expectMasked('drift action, push', run, [HMAC, PREVIOUS, SIGNING, scratchPassword, { value: TOKEN, cores: [] }], SHORT);
  });

  it('action without a token: workflow-command annotations', async () => {
    const run = await action('drift', 'pull_request', inputs());
    expect(run.code, run.channels.stderr).toBe(1);
    // the findings that carry the planted values are among the annotations
    expect(run.stdout, run.report.findings.map((f) => f.key).join('\n')).toMatch(/^::error [^\n]*(sync_to_crm|trips_to_crm|reporting_reads)/m);
    expectMasked('drift action, no token', run, [HMAC, PREVIOUS, SIGNING, scratchPassword], SHORT);
  });
});

describe('restore-drill masks the job secrets in the statements that failed to restore', () => {
  // The restore target is a throwaway cluster with Supabase's roles and schemas, never `reporting`.
  it('control: without the secrets in the job, the failed statements show them', async () => {
    const run = await cli('drill', ['--source-database-url', readerUrl], bare, {}, { textOnly: true });
    expect(run.code, run.channels['stderr (text)']).toBe(1);
    expect(findLeaks(run.channels, [HMAC]).length).toBeGreaterThan(0);
  });

  it('CLI: text, JSON and SARIF', async () => {
    const run = await cli('drill', ['--source-database-url', readerUrl], workspace, jobEnv());
    expect(run.code, run.channels['stderr (text)']).toBe(1);
    expectDrillFindingsMasked(run, SHORT);
    expectMasked('drill CLI', run, [HMAC, PREVIOUS, SIGNING], SHORT);
  });

  it('action on a pull request: comment, check run, summary, outputs, report and SARIF', async () => {
    const run = await action('drill', 'pull_request', { 'source-database-url': readerUrl }, { token: TOKEN });
    expect(run.code, run.channels.stderr).toBe(1);
    expectDrillFindingsMasked(run, SHORT);
    expect(server.comments(REPO, PR).some((c) => c.body.startsWith('<!-- postgate:comment gate=drill'))).toBe(true);
    expectMasked('drill action, pull_request', run, [HMAC, PREVIOUS, SIGNING, { value: TOKEN, cores: [] }], SHORT);
    expectRegisteredWithRunner(run, [HMAC, PREVIOUS, SIGNING]);
  });

  it('action on a schedule, from a reader with a long password: the tracking issue', async () => {
    const run = await action('drill', 'schedule', { 'source-database-url': auditorUrl }, { token: TOKEN });
    expect(run.code, run.channels.stderr).toBe(1);
    expectDrillFindingsMasked(run, undefined);
    expect(server.issues(REPO).some((issue) => issue.body.includes('postgate:issue gate=drill'))).toBe(true);
    // `Q7` is no secret of this job (its URL is not an input here), so it is not looked for
    expectMasked('drill action, schedule', run, [HMAC, PREVIOUS, SIGNING, AUDITOR, { value: TOKEN, cores: [] }], undefined);
  });

  it('action without a token: workflow-command annotations', async () => {
    const run = await action('drill', 'schedule', { 'source-database-url': readerUrl });
    expect(run.code, run.channels.stderr).toBe(1);
    expect(run.stdout, run.report.findings.map((f) => f.key).join('\n')).toMatch(/^::error [^\n]*drill_role_missing/m);
    expectMasked('drill action, no token', run, [HMAC, PREVIOUS, SIGNING], SHORT);
  });
});
