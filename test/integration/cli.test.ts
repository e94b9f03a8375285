/** The CLI as users run it: one sentence and exit 2 for bad input, never a stack trace. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('postgate CLI output files', () => {
  const project = path.join(dir, 'project');
  mkdirSync(path.join(project, 'migrations'), { recursive: true });
  writeFileSync(path.join(project, 'migrations', '001_trips.sql'), 'create table trips (id bigint primary key);\n');
  writeFileSync(path.join(project, 'migrations', '002_broken.sql'), '-- adds a column\n\nalter table trips add column title txet;\n');

  it('writes the JSON report and a SARIF file locating the failing migration line', async () => {
    const { code, stderr } = await cli(['drift', '--migrations-dir', path.join(project, 'migrations'), '--report-path', path.join(project, 'out', 'drift.json'), '--sarif-path', path.join(project, 'out', 'drift.sarif')]);
    expect(code, stderr).toBe(1);
    const report = JSON.parse(readFileSync(path.join(project, 'out', 'drift.json'), 'utf8'));
    expect(report).toMatchObject({ gate: 'drift', status: 'fail' });
    const sarif = JSON.parse(readFileSync(path.join(project, 'out', 'drift.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    const located = sarif.runs[0].results.map((r: { ruleId: string; locations?: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }> }) => ({
      rule: r.ruleId,
      uri: r.locations?.[0]?.physicalLocation.artifactLocation.uri,
      line: r.locations?.[0]?.physicalLocation.region?.startLine,
    }));
    expect(located).toContainEqual(expect.objectContaining({ uri: expect.stringMatching(/002_broken\.sql$/), line: 3 }));
  });

  it('exits 2 with one sentence when a requested file cannot be written, and still writes the other', async () => {
    const blocker = path.join(project, 'not-a-folder');
    writeFileSync(blocker, '');
    const { code, stderr } = await cli(['drift', '--migrations-dir', path.join(project, 'migrations'), '--report-path', path.join(project, 'out', 'again.json'), '--sarif-path', path.join(blocker, 'drift.sarif')]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^postgate: could not write the SARIF file to .*not-a-folder\/drift\.sarif \((ENOTDIR|EEXIST)\); fix `--sarif-path` or the folder's permissions\.$/);
    expect(JSON.parse(readFileSync(path.join(project, 'out', 'again.json'), 'utf8')).status).toBe('fail');
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
