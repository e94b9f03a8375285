/**
 * Text an outsider shapes, put into real PostgreSQL and a pull request, comes out inert
 * (safety promise 6, issue 13 items 3 and 6):
 *
 * - the live database gets a dashboard "hotfix": a table comment and policies whose names are
 *   payloads (workflow commands, ANSI escapes, markdown links, images, mentions, HTML, headings,
 *   bare URLs);
 * - a pull request adds a migration, in a file whose name carries payloads, whose DO block
 *   RAISEs an exception with payloads as its message, detail and hint, so they come back as the
 *   server's message;
 * - the CLI (text and JSON) and the committed action bundle (pull request with a comment and a
 *   check run, a fork's pull request with workflow-command annotations, a push with a tracking
 *   issue) run on them.
 *
 * Asserted: no stdout/stderr line that the runner would take as a workflow command comes from a
 * payload (the CLI prints none at all; the action only the commands it means, with escaped data),
 * no escape sequence reaches the terminal, and the job summary, the comment, the check run and
 * the issue have no link, image, mention, HTML or heading from a payload, while the payloads are
 * still shown as text.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { RULES_DOC_URL } from '../../src/report/markdown.ts';
import { createProduction, EXAMPLE_APP, type Production } from '../fixtures/e2e/production.ts';
import { type GitWorkspace, gitExample, PR_REFS } from '../fixtures/e2e/workspace.ts';
import { type CliRun, runCli, scratchDir } from '../support/faults.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { commandLines, liveMarkdown } from '../support/inert-checks.ts';
import { type ActionRun, EVENTS, REPO, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eHostileWriteToken0001';
const FORK_TOKEN = 'ghs_e2eHostileForkReadOnly0002';
const PR = 61;
const FORK_PR = 62;

const ESC = '\u001b';
/** The issue's payloads, spread over the places a database and a pull request can put text. */
const MESSAGE = `boom ::error file=x::pwned\r\n::add-mask::x ${ESC}[31mred${ESC}[0m [click](https://evil.example) ![x](https://evil.example/p.png) @octocat <img src=x onerror=alert(1)>`;
const DETAIL = '\n# heading\n```\n::warning::fenced https://evil.example www.evil.example ##[add-mask]oldcmd\n```';
const HINT = '\r::stop-commands::tok @acme/security #1 &#64;octocat';
const COMMENT = `::error file=x::pwned\r\n::add-mask::x\n${ESC}[31m[click](https://evil.example) ![x](https://evil.example/p.png) @octocat <img src=x onerror=alert(1)>\n# heading\n\`\`\`\nhttps://evil.example www.evil.example ##[add-mask]oldcmd`;
/** Policy names: at most 63 bytes each. */
const POLICIES = [
  '::error file=x::pwned',
  '@octocat [click](https://evil.example)',
  '\r\n::add-mask::x <img src=x onerror=alert(1)>',
  '# heading www.evil.example',
];
/** Strings only payloads contain. */
const MARKERS = ['pwned', 'evil', 'octocat', 'heading', 'onerror', 'oldcmd', 'fenced', 'stop-commands'];
/** Commands a payload would issue if it were live. */
// the payload's mask is `::add-mask::x` then a space or the end: postgate's own masks of random passwords may start with x too
const INJECTED = /^[\s\u0085\u00a0\ufeff]*::(?:error file=x::|add-mask::x(?:\s|$)|warning::fenced|stop-commands::|notice::)|##\[/;

const HOSTILE_FILE = 'supabase/migrations/20250201090000_::error file=x::pwned @octocat #1 www.evil.example [x](https:evil) <img src=x onerror=alert(1)>.sql';
const sqlText = (text: string) =>
  `'${text
    .replace(/'/g, "''")
    .replace(/\r/g, "' || chr(13) || '")
    .replace(/\n/g, "' || chr(10) || '")
    .replace(/\u001b/g, "' || chr(27) || '")}'`;
const hostileMigration = `-- A migration whose error is a payload.
do $$
begin
  raise exception using
    message = ${sqlText(MESSAGE)},
    detail = ${sqlText(DETAIL)},
    hint = ${sqlText(HINT)};
end
$$;
`;

const LIVE = { linkPrefixes: [RULES_DOC_URL, `https://github.com/${REPO}/`], markers: MARKERS };

let server: GitHubServer;
let parent: string;
let cluster: Cluster;
let production: Production;
let pr: GitWorkspace;

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addToken(FORK_TOKEN, { issues: 'read', pullRequests: 'read', checks: 'read' });
  server.addPullRequest(REPO, PR, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  server.addPullRequest(REPO, FORK_PR, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-hostile-'));
  pr = gitExample(parent, { [HOSTILE_FILE]: hostileMigration });
  // the CLI's throwaway server runs as an unprivileged user, from the directory it is started in
  for (const dir of [parent, pr.dir]) chmodSync(dir, 0o755);
  cluster = await startCluster({ shadow: 'local', major: 15 });
  production = await createProduction(cluster);
  await production.admin(
    `comment on table public.trips is $payload$${COMMENT}$payload$`,
    ...POLICIES.map((name) => `create policy "${name.replace(/"/g, '""')}" on public.trips for select to anon using (true)`),
  );
});

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
});

/** A CLI run's output: no workflow command at all, no escape sequence, no lone CR. */
function expectInertCli(run: CliRun): void {
  for (const [stream, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    expect(commandLines(text), `${stream}:\n${text}`).toEqual([]);
    expect(text, stream).not.toMatch(/[\u001b\u009b\r]/);
  }
}

/**
 * An action run's log: the only workflow commands are the ones postgate issues (annotations and
 * failures with escaped data, groups, masks of its secrets), none from a payload.
 */
function expectInertActionLog(run: ActionRun): void {
  for (const [stream, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
    ['post', `${run.post?.stdout ?? ''}${run.post?.stderr ?? ''}`],
  ] as const) {
    const lines = text.split(/\r\n|\r|\n/);
    expect(
      lines.filter((line) => INJECTED.test(line)),
      stream,
    ).toEqual([]);
    for (const line of commandLines(text)) {
      expect(line, stream).toMatch(/^::(?:error|warning|notice|debug|group|endgroup|add-mask)(?: [^:]*)?::/);
      if (line.startsWith('::add-mask::'))
        expect(
          MARKERS.filter((marker) => line.includes(marker)),
          line,
        ).toEqual([]);
    }
    expect(text, stream).not.toMatch(/[\u001b\u009b]/);
  }
}

function expectInertMarkdown(channel: string, body: string | undefined): void {
  expect(body, channel).toBeTruthy();
  expect(liveMarkdown(body!, LIVE), `${channel}:\n${body}`).toEqual([]);
}

const report = (run: ActionRun) => JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));

describe('the CLI on hostile database and pull request text', () => {
  it('deploy mode: the comment and the policy names are printed as inert text', async () => {
    const tmpdir = scratchDir(os.tmpdir(), 'cd');
    const run = await runCli(['drift'], { cwd: EXAMPLE_APP, tmpdir, env: { POSTGATE_DATABASE_URL: production.url } });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectInertCli(run);
    // shown, not dropped: the line breaks inside a name as \r\n
    expect(run.stdout).toContain('\\r\\n::add-mask::x <img src=x onerror=alert(1)>');
    expect(run.stdout).toContain('[click](https://evil.example)');

    const json = await runCli(['drift', '--format', 'json'], { cwd: EXAMPLE_APP, tmpdir, env: { POSTGATE_DATABASE_URL: production.url } });
    expect(json.code, json.stderr).toBe(1);
    expectInertCli(json);
    const names = json.result!.findings.map((f) => f.object.name).join('\n');
    for (const name of POLICIES) expect(names).toContain(name);
  });

  it('pull request mode: the server message of a failing migration is printed as inert text', async () => {
    const tmpdir = scratchDir(os.tmpdir(), 'cp');
    const run = await runCli(['drift', '--base-ref', 'main'], { cwd: pr.dir, tmpdir });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectInertCli(run);
    expect(run.stdout).toContain('boom ::error file=x::pwned\\r\\n::add-mask::x red [click](https://evil.example)');
    expect(run.stdout).toMatch(/^\s+\\::warning::fenced https:\/\/evil\.example/m);
    expect(run.stdout).toContain('Hint: \\r::stop-commands::tok');
  });

  it('rls-audit on the live database: policy names are printed as inert text', async () => {
    const tmpdir = scratchDir(os.tmpdir(), 'cr');
    const run = await runCli(['rls'], { cwd: EXAMPLE_APP, tmpdir, env: { POSTGATE_DATABASE_URL: production.url } });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectInertCli(run);
    // the policies are named (several permissive policies for anon SELECT), inert
    expect(run.stdout).toMatch(/anon SELECT \(.*\\r\\n::add-mask::x <img src=x onerror=alert\(1\)>.*::error file=x::pwned/);
  });
});

describe('the action bundle on hostile database and pull request text', () => {
  it('a pull request: comment, check run, annotations and job summary carry nothing live', async () => {
    const run = await runActionBundle({
      gate: 'drift',
      event: 'pull_request',
      payload: EVENTS.pull_request(false, PR),
      apiUrl: server.url,
      token: TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(report(run).findings[0]).toMatchObject({ rule: 'migration_apply_failed', location: { file: HOSTILE_FILE } });
    expect(report(run).findings[0].message).toContain(MESSAGE);
    expectInertActionLog(run);

    const [comment] = server.comments(REPO, PR);
    expectInertMarkdown('comment', comment?.body);
    expect(comment!.body).toContain('`[click](https://evil.example)`');
    expect(comment!.body).toContain('`@octocat`');
    const check = server.checkRuns(REPO).at(-1)!;
    expectInertMarkdown('check run summary', check.summary);
    expect(check.annotations).toHaveLength(1);
    for (const annotation of check.annotations) {
      expect(annotation.path).toBe(HOSTILE_FILE);
      expect(annotation.title ?? '').not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(commandLines(annotation.message)).toEqual([]);
      expect(annotation.message).not.toMatch(/[\u001b\u009b\r]/);
    }
    expectInertMarkdown('job summary', run.summary);
  });

  it("a fork's pull request: the findings become workflow-command annotations whose text starts nothing", async () => {
    const run = await runActionBundle({
      gate: 'drift',
      event: 'pull_request',
      payload: EVENTS.pull_request(true, FORK_PR),
      apiUrl: server.url,
      token: FORK_TOKEN,
      workspace: pr.dir,
      parent,
      env: PR_REFS,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectInertActionLog(run);
    const annotation = run.stdout.split('\n').filter((line) => line.startsWith('::error title=migration_apply_failed'));
    expect(annotation).toHaveLength(1);
    // the file property and the text are escaped; the payload's line break is data, not a new line
    expect(annotation[0]).toContain(`file=${HOSTILE_FILE.replace(/:/g, '%3A').replace(/,/g, '%2C')},line=`);
    expect(annotation[0]).toContain('boom ::error file=x::pwned%0A\\::add-mask::x red [click](https://evil.example)');
    expectInertMarkdown('job summary', run.summary);
    expect(server.comments(REPO, FORK_PR)).toEqual([]);
  });

  it('a push in deploy mode: the tracking issue, the job summary and the annotations carry nothing live', async () => {
    const run = await runActionBundle({
      gate: 'drift',
      event: 'push',
      apiUrl: server.url,
      token: TOKEN,
      workspace: EXAMPLE_APP,
      parent,
      inputs: { 'database-url': production.url },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expectInertActionLog(run);
    const names = report(run)
      .findings.map((f: { object: { name: string } }) => f.object.name)
      .join('\n');
    for (const name of POLICIES) expect(names).toContain(name);
    const issue = server.issues(REPO).find((item) => item.state === 'open');
    expectInertMarkdown('issue', issue?.body);
    expect(issue!.body).toMatch(/`[^`\n]*@octocat \[click\]\(https:\/\/evil\.example\)`/);
    expectInertMarkdown('job summary', run.summary);
  });
});
