/**
 * npm run preview-report: what people see on GitHub, shown rather than described. Runs the gates
 * on examples/supabase-app (as `npm run demo` does; drift-gate and rls-audit on a pull request that
 * adds the app's newest migrations, so the previews show what is new and what is already on the
 * base branch), renders the sticky PR comment and the job
 * summaries with postgate's own markdown renderer, turns that GitHub-flavoured markdown into
 * HTML (a small renderer for the subset postgate emits: headings, paragraphs, tables, lists,
 * fenced code, alerts, <details>, links, code spans, emphasis), and screenshots it with headless
 * Chromium (Debian's `chromium` and `fonts-noto-color-emoji` packages) into docs/preview-*.png.
 *
 * A gate that cannot run here (or with --fixtures, every gate) uses its result from
 * scripts/preview-fixtures/<gate>.json instead; the script says which it used.
 *
 *   npm run preview-report [-- --fixtures] [-- --html-only]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { invokeGate } from '../src/gates/invoke.ts';
import { RULE_CATALOG } from '../src/gates/rules-catalog.ts';
import type { GateId, GateResult } from '../src/findings/types.ts';
import { commentMarker } from '../src/github/publish.ts';
import { cleanupAll, startCluster } from '../src/postgres/ephemeral/index.ts';
import { renderMarkdown, type SourceLinks } from '../src/report/markdown.ts';
import { pushExampleApp } from './example-app.ts';

const root = path.resolve(import.meta.dirname, '..');
const app = path.join(root, 'examples', 'supabase-app');
const fixtures = path.join(import.meta.dirname, 'preview-fixtures');
const docs = path.join(root, 'docs');
const args = new Set(process.argv.slice(2));

const REPOSITORY = 'acme/trip-planner';
const HEAD_SHA = '3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345';
const RUN_URL = `https://github.com/${REPOSITORY}/actions/runs/4815162342`;
const links: SourceLinks = { serverUrl: 'https://github.com', repository: REPOSITORY, sha: HEAD_SHA };
const commit = `commit [\`${HEAD_SHA.slice(0, 7)}\`](https://github.com/${REPOSITORY}/commit/${HEAD_SHA})`;

// ---------------------------------------------------------------------------------------------
// Results: the gates on the example app, else the fixtures

/** The gates the previews show (parity-check has no preview yet). */
type PreviewGate = Exclude<GateId, 'parity'>;

function fixture(gate: PreviewGate): GateResult {
  return JSON.parse(readFileSync(path.join(fixtures, `${gate}.json`), 'utf8')) as GateResult;
}

/** Migrations the previewed pull request adds: the app's newest, from trip_admin_override on. */
const PULL_REQUEST_MIGRATIONS = 4;

/**
 * examples/supabase-app as a git repository: `main` without the newest migrations, and a branch
 * `feature/trip-admin` that adds them (what the pull request in the previews changes).
 */
function pullRequestWorkspace(work: string): string {
  const dir = path.join(work, 'trip-planner');
  const held = path.join(work, 'pull-request');
  cpSync(app, dir, { recursive: true });
  mkdirSync(held);
  const migrations = path.join(dir, 'supabase', 'migrations');
  const added = readdirSync(migrations)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .slice(-PULL_REQUEST_MIGRATIONS);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=postgate preview', '-c', 'user.email=preview@example.com', '-c', 'commit.gpgsign=false', ...args], {
      cwd: dir,
      stdio: 'ignore',
    });
  for (const name of added) renameSync(path.join(migrations, name), path.join(held, name));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'trip-planner');
  git('checkout', '-q', '-b', 'feature/trip-admin');
  for (const name of added) renameSync(path.join(held, name), path.join(migrations, name));
  git('add', '-A');
  git('commit', '-q', '-m', 'Trip admin override, signed webhooks, grants');
  return dir;
}

async function liveResults(work: string): Promise<Record<PreviewGate, GateResult>> {
  const pullRequest = pullRequestWorkspace(work);
  const production = await startCluster({ shadow: 'local', major: 15 });
  const client = new pg.Client({ connectionString: production.url });
  await client.connect();
  await pushExampleApp(client);
  // Production as it drifted: a rotated secret the deploy did not get, a URL left on a preview deployment.
  await client.query(`alter database postgres set app.webhook_hmac_secret = 'rotated-in-the-dashboard'`);
  await client.query(`alter database postgres set app.vercel_webhook_trips = 'https://trip-planner.example.com/api/hooks/trips'`);
  await client.query(`alter database postgres set app.vercel_webhook_cache = 'https://trip-planner-git-main-acme.vercel.app/api/hooks/revalidate'`);
  await client.end();

  const env = { ...process.env, HMAC_SECRET: 'the-secret-the-app-has', APP_HOST: 'trip-planner.example.com' };
  const run = async (gate: GateId, flags: Record<string, string>, cwd = app) => (await invokeGate(gate, (name) => flags[name], 'cli', { cwd, env })).result;
  const onPullRequest = { 'migrations-dir': 'supabase/migrations', 'base-ref': 'main' };
  return {
    drift: await run('drift', onPullRequest, pullRequest),
    rls: await run('rls', onPullRequest, pullRequest),
    webhooks: await run('webhooks', { 'database-url': production.url }),
    // RTO and RPO targets from the app's .github/postgate.yml, as in the nightly workflow
    drill: await run('drill', { 'source-database-url': production.url }),
  };
}

async function results(work: string): Promise<Record<PreviewGate, GateResult>> {
  const gates: PreviewGate[] = ['drift', 'rls', 'webhooks', 'drill'];
  if (args.has('--fixtures')) {
    process.stdout.write('Using the fixtures in scripts/preview-fixtures/ for every gate.\n');
    return Object.fromEntries(gates.map((gate) => [gate, fixture(gate)])) as Record<PreviewGate, GateResult>;
  }
  const live = await liveResults(work);
  for (const gate of gates) {
    if (live[gate].status === 'error') {
      process.stdout.write(`${gate}: could not run on the example app (${live[gate].error}); using scripts/preview-fixtures/${gate}.json.\n`);
      live[gate] = fixture(gate);
    } else {
      process.stdout.write(`${gate}: live result from examples/supabase-app (${live[gate].status}).\n`);
    }
  }
  return live;
}

// ---------------------------------------------------------------------------------------------
// GitHub-flavoured markdown to HTML, for the subset postgate emits

const ALLOWED_TAGS = /^<\/?(?:sub|b|br)>/;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inlineHtml(text: string): string {
  const held: string[] = [];
  const hold = (html: string) => `\u0000${held.push(html) - 1}\u0000`;
  let out = text
    .replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (_, _fence: string, body: string) =>
      hold(`<code>${escapeHtml(body.trim() ? body.replace(/^ (.*) $/, '$1') : body)}</code>`),
    )
    .replace(/\\([\\`*_{}[\]()#+\-.!|~<>])/g, (_, c: string) => hold(escapeHtml(c)))
    .replace(/&(?![a-z]+;|#\d+;)/g, '&amp;')
    .replace(/<[^>]*>?/g, (tag) => (ALLOWED_TAGS.test(tag) ? tag : tag.replace(/</g, '&lt;').replace(/>/g, '&gt;')));
  out = out
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, url: string) => `<a href="${url}">${label}</a>`)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,;:])/g, '$1<em>$2</em>');
  return out.replace(/\u0000(\d+)\u0000/g, (_, i: string) => held[Number(i)]!);
}

function tableCells(line: string): string[] {
  const cells = line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/);
  return cells.map((cell) => inlineHtml(cell.trim().replace(/\\\|/g, '|')));
}

function markdownToHtml(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${inlineHtml(paragraph.join('\n'))}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const fence = /^(`{3,})(\w*)$/.exec(line);
    if (!line.trim()) {
      flush();
    } else if (/^<!--.*-->$/.test(line)) {
      flush();
    } else if (fence) {
      flush();
      const body: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== fence[1]; i += 1) body.push(lines[i]!);
      out.push(`<pre><code>${escapeHtml(body.join('\n'))}</code></pre>`);
    } else if (/^<\/?details/.test(line)) {
      flush();
      out.push(line);
    } else if (/^#{1,6} /.test(line)) {
      flush();
      const level = line.indexOf(' ');
      out.push(`<h${level}>${inlineHtml(line.slice(level + 1))}</h${level}>`);
    } else if (line.startsWith('|') && /^\|?[\s:|-]+\|$/.test(lines[i + 1] ?? '')) {
      flush();
      const head = tableCells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i += 1) rows.push(tableCells(lines[i]!));
      i -= 1;
      out.push(
        `<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      );
    } else if (line.startsWith('>')) {
      flush();
      const quoted: string[] = [];
      for (; i < lines.length && lines[i]!.startsWith('>'); i += 1) quoted.push(lines[i]!.replace(/^> ?/, ''));
      i -= 1;
      const alert = /^\[!(NOTE|WARNING)\]$/.exec(quoted[0] ?? '');
      if (alert) {
        const kind = alert[1]!.toLowerCase();
        out.push(
          `<div class="alert ${kind}"><p class="alert-title">${kind === 'note' ? 'ⓘ Note' : '⚠ Warning'}</p>${markdownToHtml(quoted.slice(1).join('\n'))}</div>`,
        );
      } else {
        out.push(`<blockquote>${markdownToHtml(quoted.join('\n'))}</blockquote>`);
      }
    } else if (line.startsWith('- ')) {
      flush();
      const items: string[] = [];
      for (; i < lines.length && lines[i]!.startsWith('- '); i += 1) items.push(`<li>${inlineHtml(lines[i]!.slice(2))}</li>`);
      i -= 1;
      out.push(`<ul>${items.join('')}</ul>`);
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Pages in a GitHub-like frame

const CSS = `
  body { margin: 0; padding: 24px; background: #fff; color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", "Liberation Sans", "DejaVu Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
  .frame { border: 1px solid #d1d9e0; border-radius: 6px; }
  .frame-header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; border-radius: 6px 6px 0 0; padding: 8px 16px; color: #59636e; }
  .frame-header b { color: #1f2328; }
  .bot { border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 6px; font-size: 12px; margin: 0 4px; }
  .timeline { display: flex; gap: 16px; align-items: flex-start; }
  .avatar { flex: none; width: 40px; height: 40px; border-radius: 50%; background: #2f81f7; color: #fff; font: bold 16px/40px sans-serif; text-align: center; }
  .timeline .frame { flex: 1; min-width: 0; }
  .markdown-body { padding: 16px; overflow-wrap: break-word; }
  .markdown-body > :first-child { margin-top: 0; }
  h3 { font-size: 1.25em; margin: 16px 0; } h4 { font-size: 1em; margin: 24px 0 8px; }
  h3, h4 { font-weight: 600; line-height: 1.25; }
  p, ul, table, pre, blockquote, details, .alert { margin: 0 0 16px; }
  a { color: #0969da; text-decoration: none; }
  code { font: 85% ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; background: rgba(129,139,152,.12); padding: .2em .4em; border-radius: 6px; }
  pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; line-height: 1.45; }
  pre code { background: none; padding: 0; font-size: 85%; white-space: pre-wrap; }
  table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; vertical-align: top; overflow-wrap: anywhere; }
  th { font-weight: 600; overflow-wrap: normal; white-space: nowrap; } tr:nth-child(2n) { background: #f6f8fa; }
  sub { font-size: 85%; color: #59636e; vertical-align: baseline; }
  td sub { color: #59636e; }
  blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
  .alert { padding: 8px 16px; border-left: .25em solid; }
  .alert.note { border-color: #0969da; } .alert.warning { border-color: #9a6700; }
  .alert-title { font-weight: 500; margin: 0 0 4px; } .note .alert-title { color: #0969da; } .warning .alert-title { color: #9a6700; }
  .alert p:last-child { margin-bottom: 0; }
  summary { cursor: pointer; } details > :not(summary) { margin-left: 0; }
  .steps > .frame + .frame, .steps > h2 { margin-top: 24px; }
  h2 { font-size: 1.5em; font-weight: 600; margin: 0 0 16px; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
`;

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>${body}
<script>document.body.setAttribute('data-height', String(Math.ceil(document.documentElement.getBoundingClientRect().height)));</script></body></html>`;
}

/** The findings already on the base branch, shown expanded (as after one click) so the previews show that section. */
function openPreexisting(html: string): string {
  return html.replace(/<details>(<summary>[^<]* already on the base branch)/g, '<details open>$1');
}

function commentPage(markdown: string): string {
  // Shown with the first remediation expanded, as after one click.
  const html = openPreexisting(markdownToHtml(markdown)).replace('<details>', '<details open>');
  return page(
    'PR comment',
    `<div class="timeline"><div class="avatar">▶</div><div class="frame"><div class="frame-header"><b>github-actions</b><span class="bot">bot</span> commented 2 minutes ago</div><div class="markdown-body">${html}</div></div></div>`,
  );
}

function summaryPage(job: string, markdowns: string[]): string {
  return page(
    'Job summary',
    `<div class="steps"><div class="frame"><div class="frame-header"><b>${escapeHtml(job)}</b> summary</div><div class="markdown-body">${markdowns.map((markdown) => openPreexisting(markdownToHtml(markdown))).join('\n')}</div></div></div>`,
  );
}

// ---------------------------------------------------------------------------------------------
// Screenshots with headless Chromium

const chromium = process.env.CHROMIUM ?? 'chromium';

function chromiumFlags(profile: string, width: number, height: number): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`,
  ];
}

function screenshot(html: string, file: string, width: number): void {
  const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-preview-'));
  try {
    const htmlFile = path.join(work, 'page.html');
    writeFileSync(htmlFile, html);
    const url = `file://${htmlFile}`;
    // First pass: let the page measure itself; second pass: a window exactly that tall.
    const dom = execFileSync(chromium, [...chromiumFlags(path.join(work, 'p1'), width, 800), '--dump-dom', url], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const height = Number(/data-height="(\d+)"/.exec(dom)?.[1] ?? 2000);
    execFileSync(chromium, [...chromiumFlags(path.join(work, 'p2'), width, height), `--screenshot=${file}`, url], { timeout: 60_000, stdio: 'ignore' });
    process.stdout.write(`wrote ${path.relative(root, file)} (${width}x${height})\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const work = mkdtempSync(path.join(os.tmpdir(), 'postgate-preview-work-'));
try {
  const all = await results(work);
  const jobSummary = '[the job summary](' + RUN_URL + ')';
  const comment = renderMarkdown(all.rls, {
    rules: RULE_CATALOG,
    marker: commentMarker('rls'),
    links,
    context: [commit, `[run](${RUN_URL})`],
    limit: { max: 65_000, unit: 'characters', reason: "GitHub's 65,536-character limit for comments", fullReport: jobSummary },
  });
  const summaryOf = (result: GateResult) =>
    renderMarkdown(result, {
      rules: RULE_CATALOG,
      links,
      context: [commit],
      limit: { max: 1_000_000, unit: 'bytes', reason: "GitHub's 1 MiB limit for a step's job summary", fullReport: 'the JSON report' },
    });
  const pages: Array<[string, string, number]> = [
    ['preview-pr-comment', commentPage(comment), 960],
    ['preview-job-summary', summaryPage('pull request gates', [summaryOf(all.drift), summaryOf(all.rls)]), 1100],
    ['preview-drill-summary', summaryPage('nightly drill', [summaryOf(all.drill)]), 1100],
  ];
  for (const [name, html, width] of pages) {
    if (args.has('--html-only')) {
      writeFileSync(path.join(os.tmpdir(), `${name}.html`), html);
      process.stdout.write(`wrote ${path.join(os.tmpdir(), `${name}.html`)}\n`);
    } else {
      screenshot(html, path.join(docs, `${name}.png`), width);
    }
  }
} catch (error) {
  const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' && String((error as Error).message).includes(chromium);
  process.stderr.write(
    missing
      ? `preview-report: ${chromium} was not found; install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM to a Chromium binary.\n`
      : `preview-report: ${(error as Error).message}\n`,
  );
  process.exitCode = 2;
} finally {
  await cleanupAll();
  rmSync(work, { recursive: true, force: true });
}
