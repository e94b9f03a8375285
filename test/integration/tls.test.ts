/**
 * sslmode against a real PostgreSQL with TLS on: a throwaway CA signs a certificate for
 * "localhost" (no IP in it), so each mode's promise can be shown to hold and to fail.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/postgres/connect.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { runAsUser } from '../../src/postgres/ephemeral/local.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { TEST_MAJORS } from '../support/pg.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

let cluster: Cluster;
let port: string;
let password: string;

beforeAll(async () => {
  chmodSync(dir, 0o755);
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=postgate test CA');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=some other CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  // the server reads its key as the user it runs as, and only a 0600 key
  const user = runAsUser();
  if (user) for (const name of ['server.key', 'server.pem']) chownSync(file(name), user.uid, user.gid);
  chmodSync(file('server.key'), 0o600);
  cluster = await startCluster({
    shadow: 'local',
    major: TEST_MAJORS[0]!,
    settings: { ssl: 'on', ssl_cert_file: file('server.pem'), ssl_key_file: file('server.key') },
  });
  const url = new URL(cluster.url);
  port = url.port;
  password = decodeURIComponent(url.password);
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function urlFor(host: string, params: string): string {
  return `postgresql://postgres:${encodeURIComponent(password)}@${host}:${port}/postgres?${params}`;
}

/** Whether the session is encrypted, as the server sees it; or the one sentence postgate prints. */
async function attempt(url: string): Promise<{ ssl?: boolean; error?: string }> {
  try {
    const session = await connect(url, { gate: 'drift', readOnly: true });
    try {
      const { rows } = await session.query<{ ssl: boolean }>('select ssl from pg_catalog.pg_stat_ssl where pid = pg_catalog.pg_backend_pid()');
      return { ssl: rows[0]!.ssl };
    } finally {
      await session.end();
    }
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('sslmode on a server with TLS', () => {
  it('disable connects in plain text; prefer and require encrypt without checking the certificate', async () => {
    expect(await attempt(urlFor('127.0.0.1', 'sslmode=disable'))).toEqual({ ssl: false });
    expect(await attempt(urlFor('127.0.0.1', 'sslmode=prefer'))).toEqual({ ssl: true });
    expect(await attempt(urlFor('127.0.0.1', `sslmode=require&sslrootcert=${file('other.pem')}`))).toEqual({ ssl: true });
  });

  it('verify-ca needs a certificate from the given CA, whatever the host name', async () => {
    expect(await attempt(urlFor('127.0.0.1', `sslmode=verify-ca&sslrootcert=${file('ca.pem')}`))).toEqual({ ssl: true });
    const wrongCa = await attempt(urlFor('127.0.0.1', `sslmode=verify-ca&sslrootcert=${file('other.pem')}`));
    expect(wrongCa.error).toMatch(
      new RegExp(
        `^The server certificate of 127\\.0\\.0\\.1:${port} failed verification \\(sslmode=verify-ca: .+\\); pass the CA with sslrootcert=/path/ca\\.pem or use sslmode=require\\.$`,
      ),
    );
    expect(wrongCa.error).not.toContain(password);
  });

  it('verify-full also needs the host name in the certificate', async () => {
    expect(await attempt(urlFor('localhost', `sslmode=verify-full&sslrootcert=${file('ca.pem')}`))).toEqual({ ssl: true });
    const byAddress = await attempt(urlFor('127.0.0.1', `sslmode=verify-full&sslrootcert=${file('ca.pem')}`));
    expect(byAddress.error).toMatch(/^The server certificate of 127\.0\.0\.1:\d+ failed verification \(sslmode=verify-full: .*127\.0\.0\.1.*\); pass the CA/);
  });

  it('an sslrootcert that cannot be read is named, with the fix', async () => {
    const missing = file('nope.pem');
    expect((await attempt(urlFor('localhost', `sslmode=verify-full&sslrootcert=${missing}`))).error).toBe(
      `Input \`database-url\` names sslrootcert=${missing}, which cannot be read; fix the path or drop the parameter.`,
    );
    // the parser keeps the path, the message never the password
    expect(parseDatabaseUrl(urlFor('localhost', `sslmode=verify-full&sslrootcert=${missing}`), 'database-url').sslrootcert).toBe(missing);
  });
});
