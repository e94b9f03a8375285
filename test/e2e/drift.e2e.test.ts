/** drift-gate's committed bundle under a runner-like environment, on examples/supabase-app. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubServer, startGitHubServer } from '../support/github-server.ts';
import { HEAD_SHA, REPO, ROOT, runActionBundle } from '../support/runner.ts';

const TOKEN = 'ghs_e2eWriteToken0001';
let server: GitHubServer;
let parent: string;
const workspace = path.join(ROOT, 'examples', 'supabase-app');

beforeAll(async () => {
  server = await startGitHubServer();
  server.addToken(TOKEN);
  server.addPullRequest(REPO, 42, HEAD_SHA);
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-'));
});
afterAll(async () => {
  await server.close();
  rmSync(parent, { recursive: true, force: true });
});

describe('drift-gate bundle', () => {
  it('passes PR mode on the example app, comments, creates a check run, and the post step finds nothing to clean', async () => {
    const run = await runActionBundle({ gate: 'drift', event: 'pull_request', apiUrl: server.url, token: TOKEN, workspace, parent, inputs: { 'migrations-dir': 'supabase/migrations', comment: 'always' } });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'pass', errors: '0' });
    const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    expect(report).toMatchObject({ gate: 'drift', status: 'pass', details: { mode: 'pr', tool: 'supabase' } });
    expect(run.summary).toContain('postgate drift-gate');
    expect(server.comments(REPO, 42)).toHaveLength(1);
    expect(server.checkRuns(REPO)[0]).toMatchObject({ headSha: HEAD_SHA, conclusion: 'success' });
    expect(run.state['postgate-main-pid']).toMatch(/^\d+$/);
    expect(run.post?.code).toBe(0);
  });
});
