/** The CLI as users run it: one sentence and exit 2 for bad input, never a stack trace. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'scripts', 'postgate.ts'), ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
const badType = path.join(dir, 'bad-type.yml');
writeFileSync(badType, 'rls:\n  exposed-schemas: 42\n');

describe('postgate CLI bad inputs', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown shadow value', ['drift', '--shadow', 'dockr', '--format', 'json'], /Flag `--shadow` is "dockr"; use one of auto, local, docker, url\./],
    ['unknown PG major', ['drift', '--postgres-version', 'latest', '--format', 'json'], /Flag `--postgres-version` is "latest"; use a PostgreSQL major version such as 15 or 17\./],
    ['unreadable config file', ['rls', '--config', path.join(dir, 'missing.yml'), '--format', 'json'], /Config file .*missing\.yml does not exist; fix input `config` or create the file\./],
    ['config key with the wrong type', ['rls', '--config', badType, '--format', 'json'], /bad-type\.yml: key `rls\.exposed-schemas` expected a list, got number 42\./],
    ['database URL with a bad scheme', ['rls', '--database-url', 'mysql://root:hunter2secret@h/db', '--format', 'json'], /`--database-url` must start with postgresql:\/\/ or postgres:\/\/ \(got a URL with scheme "mysql:"\)/],
  ];
  it.each(cases)('%s', async (_name, args, expected) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    const result = JSON.parse(stdout);
    expect(result.status).toBe('error');
    expect(result.error).toMatch(expected);
    expect(stdout + stderr).not.toContain('hunter2secret');
    expect(stdout + stderr).not.toMatch(/\n\s+at \S+ \(/);
  });

  it('rejects an unknown flag in one sentence', async () => {
    const { code, stderr } = await cli(['drift', '--bogus']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe("postgate: `--bogus` is not a valid flag for `postgate drift` (Unknown option '--bogus'); run `postgate drift --help` for the flags.");
  });

  it('rejects an unknown command', async () => {
    const { code, stderr } = await cli(['deploy']);
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown command `deploy`');
  });

  it('reads flags from POSTGATE_* environment variables', async () => {
    const { code, stdout } = await cli(['drift', '--format', 'json'], { POSTGATE_SHADOW: 'nope' });
    expect(code).toBe(2);
    expect(JSON.parse(stdout).error).toMatch(/Flag `--shadow` is "nope"/);
  });
});

describe('postgate doctor', () => {
  it('reports Node, the PostgreSQL binaries found and Docker', async () => {
    const { code, stdout } = await cli(['doctor']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Node\.js\s+v\d+/);
    expect(stdout).toMatch(/15\.\d+/);
    expect(stdout).toMatch(/17\.\d+/);
    expect(stdout).toMatch(/Docker\s+(available|no Docker engine)/);
  });
});
