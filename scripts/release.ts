/**
 * A release (run by .github/workflows/release.yml; the steps around it are in CONTRIBUTING.md):
 *
 *   node scripts/release.ts check vX.Y.Z     the tag is a semver release tag, package.json has that
 *                                            version and CHANGELOG.md a section for it (no network)
 *   node scripts/release.ts publish vX.Y.Z   the same checks, then through the GitHub REST API: the
 *                                            tag at GITHUB_SHA, the GitHub release (the changelog's
 *                                            section and the commits since the previous release tag),
 *                                            and the major tag (v1) moved to the commit
 *
 * Every step is safe to repeat: an existing tag at the same commit and an existing release are
 * reused, so a failed run is fixed by re-running it. A version tag is never moved. The major tag
 * moves only to the newest stable release of its major (a patch for an older minor leaves it), and
 * only after the release exists. Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_SHA,
 * GITHUB_API_URL, GITHUB_SERVER_URL (the runner sets them). Exit 0 when done; 2 with one sentence
 * when refused or when GitHub failed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getOctokit } from '@actions/github';
import { classify, type Octokit, prepareOctokit } from '../src/github/api.ts';
import { inertInline } from '../src/report/inert.ts';

class Refusal extends Error {}

// ---------------------------------------------------------------------------------------------
// Versions

interface Version {
  tag: string;
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`rc.1` -> ['rc', '1']); empty for a stable release. */
  pre: string[];
}

const SEMVER_TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseTag(tag: string): Version | undefined {
  const match = SEMVER_TAG.exec(tag);
  if (!match) return undefined;
  return { tag, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), pre: match[4] ? match[4].split('.') : [] };
}

function compareIdentifiers(a: string, b: string): number {
  const numeric = (text: string) => /^\d+$/.test(text);
  if (numeric(a) && numeric(b)) return Number(a) - Number(b);
  if (numeric(a) !== numeric(b)) return numeric(a) ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver precedence: a pre-release is lower than its release. */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core) return core;
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i += 1) {
    const order = compareIdentifiers(a.pre[i]!, b.pre[i]!);
    if (order) return order;
  }
  return a.pre.length - b.pre.length;
}

const versionText = (version: Version) => version.tag.slice(1);
const short = (sha: string) => sha.slice(0, 7);

// ---------------------------------------------------------------------------------------------
// Checks that need no network

/** The lines of CHANGELOG.md under `## [X.Y.Z]`, up to the next `## ` heading. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const lines = changelog.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith(`## [${version}]`));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
}

function readText(cwd: string, file: string): string {
  try {
    return readFileSync(path.join(cwd, file), 'utf8');
  } catch {
    throw new Refusal(`${file} could not be read in ${cwd}: run the release from the repository root.`);
  }
}

function check(tag: string, cwd: string): { version: Version; changes: string } {
  const version = parseTag(tag);
  if (!version) throw new Refusal(`The tag "${inertInline(tag)}" is not a semver release tag: use vMAJOR.MINOR.PATCH, e.g. v1.1.0.`);
  const packageVersion = (JSON.parse(readText(cwd, 'package.json')) as { version?: string }).version;
  if (packageVersion !== versionText(version)) {
    throw new Refusal(
      `package.json has version ${inertInline(String(packageVersion))} but the tag is ${tag}: set "version" to ${versionText(version)} in package.json (and CHANGELOG.md), commit, and tag that commit.`,
    );
  }
  const changes = changelogSection(readText(cwd, 'CHANGELOG.md'), versionText(version));
  if (changes === undefined) {
    throw new Refusal(`CHANGELOG.md has no "## [${versionText(version)}]" section: move the Unreleased entries under it, commit, and tag that commit.`);
  }
  return { version, changes };
}

// ---------------------------------------------------------------------------------------------
// GitHub

interface Target {
  owner: string;
  repo: string;
  sha: string;
  serverUrl: string;
}

/** Runs one API step; a failure becomes one sentence naming the step. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const failure = classify(error);
    const answer = failure.status === undefined ? `GitHub could not be reached: ${failure.message}` : `GitHub answered ${failure.status}: ${failure.message}`;
    throw new Refusal(`Could not ${what} (${answer}); fix the cause and re-run the release workflow: every step is safe to repeat.`);
  }
}

const notFound = (error: unknown) => (error as { status?: number }).status === 404;

/** Tags named v*: each with the commit it points at (annotated tags dereferenced on demand). */
async function readTags(octokit: Octokit, target: Target): Promise<Map<string, { sha: string; type: string }>> {
  const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, { owner: target.owner, repo: target.repo, ref: 'tags/v', per_page: 100 });
  return new Map(refs.map((ref) => [ref.ref.replace(/^refs\/tags\//, ''), { sha: ref.object.sha, type: ref.object.type }]));
}

async function commitOf(octokit: Octokit, target: Target, ref: { sha: string; type: string }): Promise<string> {
  if (ref.type !== 'tag') return ref.sha;
  const tag = await octokit.rest.git.getTag({ owner: target.owner, repo: target.repo, tag_sha: ref.sha });
  return tag.data.object.sha;
}

/** Commit subjects newest first: after `previous` up to the target, or the whole history. */
async function commitsSince(octokit: Octokit, target: Target, previous: Version | undefined): Promise<Array<{ sha: string; subject: string }>> {
  const subject = (commit: { sha: string; commit: { message: string } }) => ({ sha: commit.sha, subject: inertInline(commit.commit.message.split('\n')[0]!) });
  if (!previous) {
    const all = await octokit.paginate(octokit.rest.repos.listCommits, { owner: target.owner, repo: target.repo, sha: target.sha, per_page: 100 });
    return all.map(subject);
  }
  const oldestFirst: Array<{ sha: string; subject: string }> = [];
  for (let page = 1; ; page += 1) {
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: target.owner,
      repo: target.repo,
      basehead: `${previous.tag}...${target.sha}`,
      per_page: 100,
      page,
    });
    oldestFirst.push(...data.commits.map(subject));
    if (!data.commits.length || oldestFirst.length >= data.total_commits) break;
  }
  return oldestFirst.reverse();
}

export function releaseNotes(
  changes: string,
  commits: Array<{ sha: string; subject: string }>,
  version: Version,
  previous: Version | undefined,
  target: Target,
): string {
  const repository = `${target.serverUrl}/${target.owner}/${target.repo}`;
  const lines = [changes || '_No changelog entries._', ''];
  lines.push(previous ? `### Commits since ${previous.tag}` : '### Commits', '');
  for (const commit of commits) lines.push(`- ${commit.subject} (${short(commit.sha)})`);
  if (!commits.length) lines.push('_None._');
  lines.push(
    '',
    previous ? `**Full changelog**: ${repository}/compare/${previous.tag}...${version.tag}` : `**Full history**: ${repository}/commits/${version.tag}`,
  );
  return `${lines.join('\n')}\n`;
}

async function publish(octokit: Octokit, target: Target, version: Version, changes: string, say: (line: string) => void): Promise<void> {
  const { owner, repo, sha } = target;
  const tags = await step('read the repository tags', () => readTags(octokit, target));
  const existing = tags.get(version.tag);
  if (existing) {
    const at = await step(`read tag ${version.tag}`, () => commitOf(octokit, target, existing));
    if (at !== sha)
      throw new Refusal(
        `Tag ${version.tag} already points at ${short(at)}, not ${short(sha)}: a released version is never moved; release the fix as the next version.`,
      );
  }
  const released = [...tags.keys()].map(parseTag).filter((candidate): candidate is Version => candidate !== undefined && candidate.tag !== version.tag);
  const stable = released.filter((candidate) => !candidate.pre.length);
  const previous = stable
    .filter((candidate) => compareVersions(candidate, version) < 0)
    .sort(compareVersions)
    .at(-1);
  const newestOfMajor = stable
    .filter((candidate) => candidate.major === version.major && compareVersions(candidate, version) > 0)
    .sort(compareVersions)
    .at(-1);
  const newest = !version.pre.length && stable.every((candidate) => compareVersions(candidate, version) < 0);

  const commits = await step(`list the commits since ${previous?.tag ?? 'the start'}`, () => commitsSince(octokit, target, previous));
  const body = releaseNotes(changes, commits, version, previous, target);

  if (!existing) {
    await step(`create tag ${version.tag}`, () => octokit.rest.git.createRef({ owner, repo, ref: `refs/tags/${version.tag}`, sha }));
    say(`${version.tag} tagged at ${short(sha)}`);
  } else {
    say(`${version.tag} already tagged at ${short(sha)}`);
  }

  const fields = { name: version.tag, body, prerelease: version.pre.length > 0, make_latest: newest ? ('true' as const) : ('false' as const) };
  const release = await step(`create the GitHub release ${version.tag}`, async () => {
    try {
      const found = await octokit.rest.repos.getReleaseByTag({ owner, repo, tag: version.tag });
      return (await octokit.rest.repos.updateRelease({ owner, repo, release_id: found.data.id, ...fields })).data;
    } catch (error) {
      if (!notFound(error)) throw error;
      return (await octokit.rest.repos.createRelease({ owner, repo, tag_name: version.tag, target_commitish: sha, ...fields })).data;
    }
  });
  say(`release ${version.tag}: ${release.html_url} (${commits.length} commit(s)${previous ? ` since ${previous.tag}` : ''})`);

  const major = `v${version.major}`;
  if (version.pre.length) {
    say(`${major} not moved: ${version.tag} is a pre-release`);
    return;
  }
  if (newestOfMajor) {
    say(`${major} stays at ${newestOfMajor.tag}, which is newer than ${version.tag}`);
    return;
  }
  const majorRef = tags.get(major);
  const from = majorRef ? await step(`read tag ${major}`, () => commitOf(octokit, target, majorRef)) : undefined;
  if (from === sha) {
    say(`${major} already at ${short(sha)}`);
  } else if (majorRef) {
    await step(`move tag ${major}`, () => octokit.rest.git.updateRef({ owner, repo, ref: `tags/${major}`, sha, force: true }));
    say(`${major} moved from ${short(from!)} to ${short(sha)}`);
  } else {
    await step(`create tag ${major}`, () => octokit.rest.git.createRef({ owner, repo, ref: `refs/tags/${major}`, sha }));
    say(`${major} created at ${short(sha)}`);
  }
}

// ---------------------------------------------------------------------------------------------

function required(env: NodeJS.ProcessEnv, name: string, pattern: RegExp, what: string): string {
  const value = env[name] ?? '';
  if (!pattern.test(value))
    throw new Refusal(`${name} is ${value ? 'not ' + what : 'not set'}: the release workflow sets it (see .github/workflows/release.yml).`);
  return value;
}

async function run(argv: string[], env: NodeJS.ProcessEnv, cwd: string, say: (line: string) => void): Promise<void> {
  const [command, tag] = argv;
  if ((command !== 'check' && command !== 'publish') || !tag || argv.length !== 2) throw new Refusal('Usage: node scripts/release.ts check|publish vX.Y.Z');
  const { version, changes } = check(tag, cwd);
  if (command === 'check') {
    say(`${tag}: package.json and CHANGELOG.md agree`);
    return;
  }
  const token = required(env, 'GITHUB_TOKEN', /\S/, 'set');
  const [owner, repo] = required(env, 'GITHUB_REPOSITORY', /^[\w.-]+\/[\w.-]+$/, 'owner/name').split('/') as [string, string];
  const sha = required(env, 'GITHUB_SHA', /^[0-9a-f]{40}$/, 'a commit sha');
  const octokit = prepareOctokit(getOctokit(token, { baseUrl: env.GITHUB_API_URL || 'https://api.github.com' }));
  await publish(octokit, { owner, repo, sha, serverUrl: env.GITHUB_SERVER_URL || 'https://github.com' }, version, changes, say);
}

export interface Output {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** The script: progress lines on stdout; exit code 0, or 2 with one sentence on stderr. */
export async function release(argv: string[], env: NodeJS.ProcessEnv, cwd: string, output: Output): Promise<number> {
  try {
    await run(argv, env, cwd, output.stdout);
    return 0;
  } catch (error) {
    output.stderr(error instanceof Refusal ? error.message : `The release failed: ${inertInline(String((error as Error).message ?? error))}`);
    return 2;
  }
}

if (import.meta.filename === process.argv[1]) {
  const write = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`);
  process.exitCode = await release(process.argv.slice(2), process.env, process.cwd(), { stdout: write(process.stdout), stderr: write(process.stderr) });
}
