/**
 * Hostile inputs through the committed bundles, as the runner runs them (issue 13, items 8
 * and 11): a database URL with a bare `%` and output paths that leave the workspace and the
 * runner's temp directory. Each case checks the exit code, the one sentence (naming the input
 * as the action or the CLI was given it), what was (not) written, and that the URL's password
 * reaches no channel.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingWritten, ROOT, runActionBundle, suiteCacheEnv } from '../support/runner.ts';

const PASSWORD = 'e2e%Hostile-Pw-7731';
const BAD_URL = `postgresql://app:${PASSWORD}@127.0.0.1:5432/app`;
const PLAIN = path.join(ROOT, 'test/fixtures/migrations/plain');

let parent: string;

beforeAll(() => {
  parent = mkdtempSync(path.join(os.tmpdir(), 'postgate-e2e-hostile-'));
});
afterAll(() => {
  if (parent) rmSync(parent, { recursive: true, force: true });
});

function workspaceCopy(): string {
  const workspace = mkdtempSync(path.join(parent, 'ws-'));
  cpSync(PLAIN, workspace, { recursive: true });
  return workspace;
}

/** The sentence of the step's `::error::` line, decoded as the runner shows it (workflow commands escape %, CR and LF). */
const couldNotRun = (title: string, stdout: string) =>
  stdout
    .split('\n')
    .find((line) => line.startsWith(`::error::${title} could not run: `))
    ?.slice(`::error::${title} could not run: `.length)
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%25/g, '%');

describe('action bundles', () => {
  it('database-url with a bare %: exit 2, the input named as in the workflow, the password nowhere', async () => {
    const run = await runActionBundle({
      gate: 'drift',
      event: 'workflow_dispatch',
      parent,
      workspace: workspaceCopy(),
      inputs: { 'database-url': BAD_URL, 'migrations-dir': 'sql' },
    });
    expect(run.code).toBe(2);
    expect(couldNotRun('postgate drift-gate', run.stdout)).toBe(
      '`database-url` has a % in its password that does not start a percent-encoded byte (%XX); write a literal % as %25.',
    );
    expect(run.outputs.status).toBe('error');
    expect(JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8')).error).toBe(couldNotRun('postgate drift-gate', run.stdout));
    expect(everythingWritten(run)).not.toContain(PASSWORD);
    expect(everythingWritten(run)).not.toMatch(/URI malformed|internal error/);
  });

  it('report-path outside the workspace and RUNNER_TEMP: exit 2, nothing written there, the report goes to RUNNER_TEMP', async () => {
    const workspace = workspaceCopy();
    const target = path.join(os.homedir(), `.postgate-e2e-${process.pid}.json`);
    const run = await runActionBundle({
      gate: 'drift',
      event: 'workflow_dispatch',
      parent,
      workspace,
      inputs: { 'migrations-dir': 'sql', 'report-path': '../../../../../../../..' + target },
      post: false,
    });
    expect(run.code).toBe(2);
    expect(couldNotRun('postgate drift-gate', run.stdout)).toMatch(
      /^Input `report-path` is \S+ \(.*\.postgate-e2e-\d+\.json\), which is outside the workspace \(.*\), RUNNER_TEMP \(.*\) and the temporary directory \(.*\); write it inside one of them\.$/,
    );
    expect(existsSync(target)).toBe(false);
    expect(run.outputs['report-path']).toBe(path.join(run.runnerTemp, 'postgate-drift.json'));
    expect(JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8')).status).toBe('error');
  });

  it('sarif-path through a symlinked folder of the checkout: refused, not written', async () => {
    const workspace = workspaceCopy();
    const elsewhere = mkdtempSync(path.join(os.homedir(), '.postgate-e2e-'));
    try {
      symlinkSync(elsewhere, path.join(workspace, 'results'));
      const run = await runActionBundle({
        gate: 'drift',
        event: 'workflow_dispatch',
        parent,
        workspace,
        inputs: { 'migrations-dir': 'sql', 'sarif-path': 'results/drift.sarif' },
        post: false,
      });
      expect(run.code).toBe(2);
      expect(couldNotRun('postgate drift-gate', run.stdout)).toMatch(
        /^Input `sarif-path` is results\/drift\.sarif \(through a symbolic link: .*drift\.sarif\), which is outside/,
      );
      expect(existsSync(path.join(elsewhere, 'drift.sarif'))).toBe(false);
      expect(run.outputs['sarif-path']).toBeUndefined();
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('CLI bundle', () => {
  function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'postgate.js'), ...args], {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...suiteCacheEnv(), TMPDIR: os.tmpdir(), NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('POSTGATE_DATABASE_URL with a bare %: named as the variable, exit 2', async () => {
    const run = await cli(['drift', '--migrations-dir', 'sql', '--format', 'json'], workspaceCopy(), { POSTGATE_DATABASE_URL: BAD_URL });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toBe(
      '`POSTGATE_DATABASE_URL` has a % in its password that does not start a percent-encoded byte (%XX); write a literal % as %25.',
    );
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('--report-path through .. : refused in one sentence, nothing written', async () => {
    const home = mkdtempSync(path.join(parent, 'home-'));
    const project = path.join(home, 'project');
    const tmp = path.join(home, 'tmp');
    mkdirSync(tmp);
    cpSync(PLAIN, project, { recursive: true });
    const run = await cli(['drift', '--migrations-dir', 'sql', '--report-path', '../out.json', '--format', 'json'], project, { TMPDIR: tmp });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatch(
      /^Flag `--report-path` is \.\.\/out\.json \(.*\/out\.json\), which is outside the workspace \(.*\/project\) and the temporary directory \(.*\/tmp\); write it inside one of them\.$/,
    );
    expect(existsSync(path.join(home, 'out.json'))).toBe(false);
  });
});
