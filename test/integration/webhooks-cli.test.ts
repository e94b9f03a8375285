/** `postgate webhooks` as users run it: bad input is one sentence and exit 2, never a stack trace or a secret. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);
const PASSWORD = 'hunter2-db-password';
const SECRET = 'cli-secret-5e4d3c2b1a09f8e7';
/** Nothing listens on port 1: connection refused, quickly. */
const UNREACHABLE = `postgresql://postgres:${PASSWORD}@127.0.0.1:1/postgres?sslmode=disable`;

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HMAC_') && !name.startsWith('POSTGATE_')));
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(root, 'scripts', 'postgate.ts'), 'webhooks', ...args], {
      cwd: root,
      env: { ...base, NO_COLOR: '1', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('postgate webhooks bad inputs', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'an invalid setting name',
      ['--secret-setting', 'webhook secret'],
      { HMAC_SECRET: SECRET },
      /^Input `secret-setting` names "webhook secret", which is not a custom setting name; use the form prefix\.name, such as app\.webhook_hmac_secret\.$/,
    ],
    [
      'a missing environment variable',
      [],
      {},
      /^Environment variable HMAC_SECRET \(named by input `secret-env`\) is not set; pass the deploy secret to the job/,
    ],
    [
      'a missing variable named by --secret-env',
      ['--secret-env', 'WEBHOOK_SIGNING_KEY'],
      { HMAC_SECRET: SECRET },
      /^Environment variable WEBHOOK_SIGNING_KEY \(named by input `secret-env`\) is not set;/,
    ],
    [
      'an unreachable database',
      [],
      { HMAC_SECRET: SECRET },
      /^Could not connect to 127\.0\.0\.1:1 from `database-url`: connection refused; check the host and port/,
    ],
    [
      'a canary URL that is not http(s)',
      ['--canary', '--canary-url', `ftp://files.example.com/${SECRET}`],
      { HMAC_SECRET: SECRET },
      /^Input `canary-url` must be an http:\/\/ or https:\/\/ URL \(got a URL with scheme "ftp:"\); give the endpoint's full URL\.$/,
    ],
    [
      'an unknown environment',
      ['--environment', 'staging'],
      { HMAC_SECRET: SECRET },
      /^Flag `--environment` is "staging"; use one of production, preview, development\.$/,
    ],
    [
      'url-host without url-settings',
      ['--url-host', 'app.example.com'],
      { HMAC_SECRET: SECRET },
      /^Input `url-host` is set but no setting holds a webhook URL/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, env, expected) => {
    const { code, stdout, stderr } = await cli(['--database-url', UNREACHABLE, ...args, '--format', 'json'], env);
    expect(code).toBe(2);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ gate: 'webhooks', status: 'error', findings: [] });
    expect(result.error).toMatch(expected);
    expect(result.error.split(/(?<=\.) (?=[A-Z])/).length, 'one sentence').toBe(1);
    for (const secret of [PASSWORD, SECRET]) expect(stdout + stderr).not.toContain(secret);
    expect(stdout + stderr).not.toMatch(/\n\s+at \S+ \(/);
  });

  it('prints the same sentence in text mode', async () => {
    const { code, stdout } = await cli(['--database-url', UNREACHABLE], {});
    expect(code).toBe(2);
    const [status, sentence] = stdout.split('\n');
    expect(status).toMatch(/^postgate webhook-secret-check: ERROR\b/);
    expect(sentence).toMatch(/^ {2}Environment variable HMAC_SECRET \(named by input `secret-env`\) is not set; .*\.$/);
  });

  it('documents its flags, including environment and canary-url', async () => {
    const { code, stdout } = await cli(['--help'], {});
    expect(code).toBe(0);
    for (const flag of [
      '--secret-setting',
      '--secret-env',
      '--previous-secret-env',
      '--url-settings',
      '--url-host',
      '--as-roles',
      '--deliveries-window',
      '--environment',
      '--canary',
      '--canary-url',
    ]) {
      expect(stdout).toContain(flag);
    }
  });
});
