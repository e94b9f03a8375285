/**
 * scripts/release.ts (what .github/workflows/release.yml runs) against the local GitHub API
 * (test/support/github-server.ts): the version tag, the GitHub release with notes generated from
 * the commits since the previous tag, the moving major tag, and its refusals.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { release as runRelease } from '../../scripts/release.ts';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';

const REPO = 'postgate/postgate';
const SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'release.ts');
const TOKEN = 'release-token';

let server: GitHubServer;
let shas: string[];
let checkouts: string;

beforeAll(async () => {
  server = await startGitHubServer();
  checkouts = mkdtempSync(path.join(os.tmpdir(), 'release-'));
});
afterAll(async () => {
  await server.close();
  rmSync(checkouts, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset();
  server.addToken(TOKEN);
  shas = server.addCommits(REPO, [
    'Foundation: package, CLI, action shells',
    'drift-gate: history drift for ten migration tools',
    'rls-audit: exposure-aware rules',
    'Hostile input: inert text in every channel',
    'Review fixes: policy text key',
  ]);
  // v1.0.0 released from the second commit; v1 still points there
  server.setRef(REPO, 'refs/tags/v1.0.0', shas[1]!);
  server.setRef(REPO, 'refs/tags/v1', shas[1]!);
});

/** A checkout with this package.json version and changelog. */
function checkout(
  version: string,
  changelog = `# Changelog\n\n## [Unreleased]\n\n## [${version}] - 2026-12-06\n\n### Added\n\n- Release workflow.\n\n## [1.0.0] - 2026-11-30\n\n- First release.\n`,
): string {
  const dir = mkdtempSync(path.join(checkouts, 'checkout-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'postgate', version }));
  writeFileSync(path.join(dir, 'CHANGELOG.md'), changelog);
  return dir;
}

const runnerEnv = (sha: string) => ({
  GITHUB_API_URL: server.url,
  GITHUB_TOKEN: TOKEN,
  GITHUB_REPOSITORY: REPO,
  GITHUB_SHA: sha,
  GITHUB_SERVER_URL: 'https://github.com',
});

/** The script in this process (each case) ... */
async function release(args: string[], cwd: string, sha = shas.at(-1)!) {
  let stdout = '';
  let stderr = '';
  const code = await runRelease(args, runnerEnv(sha), cwd, { stdout: (line) => (stdout += `${line}\n`), stderr: (line) => (stderr += `${line}\n`) });
  return { code, stdout, stderr };
}

/** ... and as the workflow runs it (once: the process's exit code and streams). */
async function releaseProcess(args: string[], cwd: string, sha = shas.at(-1)!) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { cwd, env: { PATH: process.env.PATH, ...runnerEnv(sha) } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function writes() {
  return server.requests.filter((request) => request.method !== 'GET');
}

describe('scripts/release.ts publish', () => {
  it('tags the commit, creates the release with notes from the commits since the previous tag, and moves v1 to it', async () => {
    const run = await release(['publish', 'v1.1.0'], checkout('1.1.0'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    expect(server.ref(REPO, 'refs/tags/v1.1.0')).toBe(shas[4]);
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[4]);
    expect(server.ref(REPO, 'refs/tags/v1.0.0')).toBe(shas[1]);

    const [created] = server.releases(REPO);
    expect(created).toMatchObject({ tagName: 'v1.1.0', name: 'v1.1.0', prerelease: false, draft: false });
    // the changelog's section, then every commit after v1.0.0 (newest first), and nothing older
    expect(created!.body).toContain('### Added\n\n- Release workflow.');
    expect(created!.body).not.toContain('First release.');
    expect(created!.body).toContain('\n### Commits since v1.0.0\n');
    const commitLines = created!.body.split('\n').filter((line) => line.startsWith('- ') && /\([0-9a-f]{7}\)$/.test(line));
    expect(commitLines).toEqual([
      `- Review fixes: policy text key (${shas[4]!.slice(0, 7)})`,
      `- Hostile input: inert text in every channel (${shas[3]!.slice(0, 7)})`,
      `- rls-audit: exposure-aware rules (${shas[2]!.slice(0, 7)})`,
    ]);
    expect(created!.body).toContain(`https://github.com/${REPO}/compare/v1.0.0...v1.1.0`);

    expect(run.stdout).toContain(`v1 moved from ${shas[1]!.slice(0, 7)} to ${shas[4]!.slice(0, 7)}`);
    expect(run.stdout).not.toContain(TOKEN);
  });

  it('accepts a tag the push already created at this commit, and a second run changes nothing new', async () => {
    server.setRef(REPO, 'refs/tags/v1.1.0', shas[4]!);
    const dir = checkout('1.1.0');
    expect((await release(['publish', 'v1.1.0'], dir)).code).toBe(0);
    const again = await release(['publish', 'v1.1.0'], dir);
    expect(again.code).toBe(0);
    expect(server.releases(REPO)).toHaveLength(1);
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[4]);
  });

  it('accepts an annotated tag (git tag -a) pushed at this commit and moves an annotated v1', async () => {
    server.setRef(REPO, 'refs/tags/v1.1.0', shas[4]!, { annotated: true });
    server.setRef(REPO, 'refs/tags/v1', shas[1]!, { annotated: true });
    const run = await release(['publish', 'v1.1.0'], checkout('1.1.0'));
    expect(run.stderr).toBe('');
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[4]);
    expect(server.releases(REPO)).toHaveLength(1);
  });

  it('does not move v1 back when a patch for an older minor is released', async () => {
    server.setRef(REPO, 'refs/tags/v1.2.0', shas[3]!);
    server.setRef(REPO, 'refs/tags/v1', shas[3]!);
    const run = await release(['publish', 'v1.1.1'], checkout('1.1.1'), shas[2]!);
    expect(run.code).toBe(0);
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[3]);
    expect(server.releases(REPO)[0]).toMatchObject({ tagName: 'v1.1.1', makeLatest: 'false' });
    expect(run.stdout).toContain('v1 stays at v1.2.0');
  });

  it('releases a pre-release without moving v1', async () => {
    const run = await release(['publish', 'v2.0.0-rc.1'], checkout('2.0.0-rc.1'));
    expect(run.code).toBe(0);
    expect(server.releases(REPO)[0]).toMatchObject({ tagName: 'v2.0.0-rc.1', prerelease: true });
    expect(server.ref(REPO, 'refs/tags/v2')).toBeUndefined();
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[1]);
  });
});

describe('scripts/release.ts refuses, in one sentence with exit 2, before writing anything', () => {
  const refusals: Array<[string, string[], () => string, RegExp]> = [
    [
      'a tag that is not vX.Y.Z',
      ['publish', 'release-1.1'],
      () => checkout('1.1.0'),
      /^The tag "release-1\.1" is not a semver release tag: use vMAJOR\.MINOR\.PATCH, e\.g\. v1\.1\.0\.\n$/,
    ],
    ['a major tag given as the release', ['publish', 'v1'], () => checkout('1.1.0'), /^The tag "v1" is not a semver release tag/],
    [
      'package.json disagreeing with the tag',
      ['publish', 'v1.1.0'],
      () => checkout('1.0.9'),
      /^package\.json has version 1\.0\.9 but the tag is v1\.1\.0: set "version" to 1\.1\.0 in package\.json \(and CHANGELOG\.md\), commit, and tag that commit\.\n$/,
    ],
    [
      'a changelog without a section for the version',
      ['publish', 'v1.1.0'],
      () => checkout('1.1.0', '# Changelog\n\n## [Unreleased]\n\n- Release workflow.\n'),
      /^CHANGELOG\.md has no "## \[1\.1\.0\]" section: move the Unreleased entries under it, commit, and tag that commit\.\n$/,
    ],
    ['no command', [], () => checkout('1.1.0'), /^Usage: node scripts\/release\.ts check\|publish vX\.Y\.Z\n$/],
  ];
  for (const [what, args, dir, message] of refusals) {
    it(what, async () => {
      const run = await release(args, dir());
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(writes()).toEqual([]);
    });
  }

  it('a version tag that already points at another commit', async () => {
    server.setRef(REPO, 'refs/tags/v1.1.0', shas[3]!);
    const run = await release(['publish', 'v1.1.0'], checkout('1.1.0'));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `Tag v1.1.0 already points at ${shas[3]!.slice(0, 7)}, not ${shas[4]!.slice(0, 7)}: a released version is never moved; release the fix as the next version.\n`,
    );
    expect(writes()).toEqual([]);
  });

  it('as a process: exit 2 and the sentence alone on stderr; exit 0 once the tag is right', async () => {
    const dir = checkout('1.1.0');
    const refused = await releaseProcess(['publish', '1.1.0'], dir);
    expect(refused).toEqual({ code: 2, stdout: '', stderr: 'The tag "1.1.0" is not a semver release tag: use vMAJOR.MINOR.PATCH, e.g. v1.1.0.\n' });
    const done = await releaseProcess(['publish', 'v1.1.0'], dir);
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(done.stdout).toContain('v1 moved from');
  });

  it('a checkout without CHANGELOG.md', async () => {
    const dir = checkout('1.1.0');
    rmSync(path.join(dir, 'CHANGELOG.md'));
    const run = await release(['check', 'v1.1.0'], dir);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `CHANGELOG.md could not be read in ${dir}: run the release from the repository root.\n` });
  });

  it('check validates without the GitHub API', async () => {
    const ok = await release(['check', 'v1.1.0'], checkout('1.1.0'));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect((await release(['check', 'v1.1.0'], checkout('1.2.0'))).code).toBe(2);
    expect(server.requests).toEqual([]);
  });

  it('a GitHub API failure names the step, without the token', async () => {
    server.fail({ status: 422, message: 'Validation Failed', method: 'POST', path: /\/releases$/ });
    const run = await release(['publish', 'v1.1.0'], checkout('1.1.0'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^Could not create the GitHub release v1\.1\.0 \(GitHub answered 422: Validation Failed\); fix the cause and re-run the release workflow: every step is safe to repeat\.\n$/,
    );
    expect(run.stderr + run.stdout).not.toContain(TOKEN);
    // v1 is moved only after the release exists
    expect(server.ref(REPO, 'refs/tags/v1')).toBe(shas[1]);
  });
});
