/**
 * restore-drill's `storage files` check (issue 18 part 3): a live drill of a Supabase-like source
 * whose storage.objects rows name files in buckets served by a fake S3-compatible endpoint that
 * verifies every request's Signature Version 4 (test/support/fake-s3.ts). Every row with its file
 * passes (listed over several pages); a file missing is a finding with counts, never the object's
 * name; bad credentials stop the drill with one sentence and no pass; a variable the config names
 * that is unset stops it before anything is restored; the secret is in no output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderJson, renderText } from '../../src/report/text.ts';
import { type FakeS3, startFakeS3 } from '../support/fake-s3.ts';
import { startTestCluster } from '../support/pg.ts';
import { seedSupabaseApp, sql } from '../fixtures/drill/source.ts';

const SECRET = 'sb-s3-secret-0f9e8d7c6b5a';
const KEY_ID = 'sb-s3-key-id-1a2b3c';
const OBJECTS = [
  { bucket: 'avatars', key: 'u1/face.png', size: 1200 },
  { bucket: 'avatars', key: 'u2/face.png', size: 800 },
  { bucket: 'avatars', key: 'u3/secret-name & co.png', size: 5 },
  { bucket: 'trip-photos', key: 't1/beach.jpg', size: 50_000 },
];

let cluster: Cluster;
let work: string;
let source: string;
const servers: FakeS3[] = [];

async function fakeS3(files: typeof OBJECTS, errorMessage?: string): Promise<FakeS3> {
  const buckets: Record<string, Array<{ key: string; size: number }>> = { avatars: [], 'trip-photos': [] };
  for (const f of files) buckets[f.bucket]!.push({ key: f.key, size: f.size });
  const server = await startFakeS3({
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    region: 'eu-central-1',
    basePath: '/storage/v1/s3',
    buckets,
    pageSize: 2,
    ...(errorMessage ? { errorMessage } : {}),
  });
  servers.push(server);
  return server;
}

async function drill(server: FakeS3 | undefined, env: Record<string, string>): Promise<GateResult> {
  const options = parseInputs(DRILL_INPUTS, (name) => ({ 'source-database-url': source, shadow: 'local' })[name], 'cli');
  const config = repoConfigSchema.parse(server ? { drill: { storage: { s3: { endpoint: server.url, region: 'eu-central-1' } } } } : {});
  return run(options, createContext({ cwd: work, config, env }));
}

const ENV = { S3_ACCESS_KEY_ID: KEY_ID, S3_SECRET_ACCESS_KEY: SECRET };

function checkOf(result: GateResult, name: string) {
  return (result.details?.checks as Array<{ check: string; status: string; detail: string }> | undefined)?.find((c) => c.check === name);
}

function outputs(result: GateResult): string[] {
  return [renderJson(result), renderText(result, { color: false, rules: RULE_CATALOG }), renderMarkdown(result, { rules: RULE_CATALOG })];
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-storage-files-'));
  cluster = await startTestCluster(15);
  source = await cluster.createDatabase('supa_files');
  await seedSupabaseApp(source);
  const values = OBJECTS.map((o) => `('${o.bucket}', '${o.key.replace(/'/g, "''")}', '{"size": ${o.size}}')`).join(', ');
  await sql(source, `insert into storage.objects (bucket_id, name, metadata) values ${values}`);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('storage files through an S3-compatible endpoint', () => {
  it('every object row has its file: the check passes, each bucket listed over signed, paged requests', async () => {
    const server = await fakeS3(OBJECTS);
    const result = await drill(server, ENV);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
    const host = new URL(server.url).host;
    expect(checkOf(result, 'storage files')).toEqual({
      check: 'storage files',
      status: 'pass',
      detail: `2 buckets, 4 objects at ${host}: 0 without a file, 0 of another size, 0 files without a row`,
    });
    // avatars: 3 files over 2 pages; trip-photos: 1 page; every signature verified by the server
    expect(server.requests.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(server.requests[1]!.path).toMatch(/continuation-token=page%2B%2F2$/);
    expect(result.metrics.storage_files_ms).toBeGreaterThanOrEqual(0);
    for (const output of outputs(result)) expect(output).not.toContain(SECRET);
  });

  it('a file missing from storage is a finding that counts, without the object name; a file without a row is a notice', async () => {
    const files = OBJECTS.filter((o) => o.key !== 'u3/secret-name & co.png');
    const server = await fakeS3([...files, { bucket: 'trip-photos', key: 't9/later.jpg', size: 3 }]);
    const result = await drill(server, ENV);
    expect(result.status).toBe('fail');
    const host = new URL(server.url).host;
    expect(result.findings.map((f) => [f.rule, f.severity, f.object.name, f.message])).toEqual([
      ['drill_storage_file_missing', 'error', 'avatars', `1 object of 3 in bucket avatars of the restored copy has no file in storage at ${host}.`],
      [
        'drill_storage_file_unreferenced',
        'notice',
        'trip-photos',
        `1 file in bucket trip-photos at ${host} has no object row in the restored copy (uploaded after the backup, or rows the backup lost).`,
      ],
    ]);
    expect(checkOf(result, 'storage files')).toMatchObject({ status: 'fail' });
    for (const output of outputs(result)) {
      expect(output).not.toContain('secret-name');
      expect(output).not.toContain('later.jpg');
    }
  });

  it('bad credentials (HTTP 403): one sentence naming the variables, no pass, and the secret in no output', async () => {
    const server = await fakeS3(OBJECTS, ` (echoing ${SECRET})`);
    const result = await drill(server, { ...ENV, S3_SECRET_ACCESS_KEY: `${SECRET}-wrong` });
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      `The S3 endpoint ${new URL(server.url).host} rejected the credentials in S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY when listing bucket avatars (HTTP 403 SignatureDoesNotMatch); create S3 access keys for the project (Supabase: Storage settings, S3 access keys), store them as secrets, and check \`drill.storage.s3.region\`.`,
    );
    expect(server.requests.map((r) => r.status)).toEqual([403]);
    for (const output of outputs(result)) {
      expect(output).not.toContain(SECRET);
      expect(output).toContain('rejected the credentials');
    }
  });

  it('a variable the config names that is unset stops the drill before anything is restored (exit 2)', async () => {
    const server = await fakeS3(OBJECTS);
    const result = await drill(server, { S3_ACCESS_KEY_ID: KEY_ID });
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      "Repo config `drill.storage.s3` reads the S3 secret access key from environment variable S3_SECRET_ACCESS_KEY, which is not set or empty; set it from a secret in the job's env, or remove `drill.storage.s3`.",
    );
    expect(result.details?.phases).toBeUndefined();
    expect(server.requests).toEqual([]);
  });

  it('without drill.storage.s3 the check is skipped with the reason', async () => {
    const result = await drill(undefined, {});
    expect(checkOf(result, 'storage files')).toEqual({
      check: 'storage files',
      status: 'skipped',
      detail: 'no drill.storage.s3 endpoint in the repo config: the files were not read',
    });
  });
});
