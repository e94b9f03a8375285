/**
 * The drill's own S3 client (issue 18 part 3): the Signature Version 4 signer against the
 * examples AWS publishes ("Signature calculations for the Authorization header", S3 API
 * reference: GET Object and List Objects, secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,
 * 2013-05-24), the strict ListObjectsV2 parser on hostile XML, the per-bucket comparison and
 * its findings (counts, never object names), the credentials read from named variables, and a
 * listing through a fake endpoint that verifies every signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretEnvNames } from '../../src/config/job-secrets.ts';
import { repoConfigSchema, parseRepoConfig } from '../../src/config/repo-config.ts';
import { UserError } from '../../src/errors.ts';
import { listObjects, parseListPage, S3Error, signatureParts, signRequest, type S3Object } from '../../src/gates/drill/s3.ts';
import { compareBucketFiles, readStorageEndpoint, storageFilesFindings } from '../../src/gates/drill/storage-files.ts';
import { redact } from '../../src/secrets.ts';
import { type FakeS3, startFakeS3 } from '../support/fake-s3.ts';

const EXAMPLE = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  now: new Date('2013-05-24T00:00:00Z'),
};

describe('Signature Version 4, against the published S3 examples', () => {
  it('GET Object (first 10 bytes of test.txt): canonical request, string to sign, signature and header', () => {
    const parts = signatureParts({
      ...EXAMPLE,
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: { Range: 'bytes=0-9' },
    });
    expect(parts.canonicalRequest).toBe(
      [
        'GET',
        '/test.txt',
        '',
        'host:examplebucket.s3.amazonaws.com',
        'range:bytes=0-9',
        'x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-amz-date:20130524T000000Z',
        '',
        'host;range;x-amz-content-sha256;x-amz-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(parts.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    expect(parts.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('List Objects (max-keys=2, prefix=J): the query sorted into the canonical request', () => {
    const parts = signatureParts({ ...EXAMPLE, method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2') });
    expect(parts.canonicalRequest.split('\n').slice(0, 3)).toEqual(['GET', '/', 'max-keys=2&prefix=J']);
    expect(parts.stringToSign.split('\n')[3]).toBe('df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7');
    expect(parts.signature).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('sends the signed headers but host (fetch sets it from the URL), and a wrong secret signs otherwise', () => {
    const url = new URL('https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2');
    const sent = signRequest({ ...EXAMPLE, method: 'GET', url });
    expect(Object.keys(sent).sort()).toEqual(['authorization', 'x-amz-content-sha256', 'x-amz-date']);
    const wrong = signRequest({ ...EXAMPLE, credentials: { ...EXAMPLE.credentials, secretAccessKey: 'other' }, method: 'GET', url });
    expect(wrong.authorization).not.toBe(sent.authorization);
  });
});

const page = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`;

describe('parseListPage: a strict parser for the ListObjectsV2 answer', () => {
  it('reads keys (entities and character references decoded), sizes and the continuation token', () => {
    expect(
      parseListPage(
        page(
          '<Name>b</Name><IsTruncated>true</IsTruncated><Contents><Key>u1/a &amp; b&#x2F;&lt;c&gt;.png</Key><Size>1200</Size><ETag>&quot;x&quot;</ETag></Contents><Contents><Key> spaced </Key><Size>0</Size></Contents><NextContinuationToken>tok/+=</NextContinuationToken>',
        ),
      ),
    ).toEqual({
      objects: [
        { key: 'u1/a & b/<c>.png', size: 1200 },
        { key: ' spaced ', size: 0 },
      ],
      nextToken: 'tok/+=',
    });
    expect(parseListPage(page('<IsTruncated>false</IsTruncated>'))).toEqual({ objects: [] });
  });

  it.each([
    [
      'a DOCTYPE with an entity (no expansion, ever)',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>',
    ],
    ['an external entity', '<!DOCTYPE x SYSTEM "file:///etc/passwd"><ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'],
    ['an undeclared entity', page('<IsTruncated>false</IsTruncated><Contents><Key>&a;</Key><Size>1</Size></Contents>')],
    ['a bare ampersand', page('<IsTruncated>false</IsTruncated><Contents><Key>a & b</Key><Size>1</Size></Contents>')],
    ['CDATA', page('<IsTruncated>false</IsTruncated><Contents><Key><![CDATA[x]]></Key><Size>1</Size></Contents>')],
    ['a processing instruction', page('<?php x ?><IsTruncated>false</IsTruncated>')],
    ['an error body', '<Error><Code>AccessDenied</Code></Error>'],
    ['a size that is no whole number', page('<IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size></Contents>')],
    ['an object without a key', page('<IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents>')],
    ['two keys in one object', page('<IsTruncated>false</IsTruncated><Contents><Key>a</Key><Key>b</Key><Size>1</Size></Contents>')],
    ['no IsTruncated', page('')],
    ['a truncated page without a token', page('<IsTruncated>true</IsTruncated>')],
    ['mismatched tags', page('<IsTruncated>false</Truncated>')],
    ['an unclosed root', '<ListBucketResult><IsTruncated>false</IsTruncated>'],
    ['two roots', `${page('<IsTruncated>false</IsTruncated>')}<ListBucketResult/>`],
    ['deep nesting', page(`<IsTruncated>false</IsTruncated>${'<a>'.repeat(50)}${'</a>'.repeat(50)}`)],
    ['HTML', '<html><body>Welcome</body></html>'],
  ])('rejects %s', (_what, xml) => {
    expect(() => parseListPage(xml)).toThrow(S3Error);
  });
});

async function* pages(...list: S3Object[][]): AsyncGenerator<S3Object[]> {
  yield* list;
}

describe('compareBucketFiles and storageFilesFindings', () => {
  it('counts files present, rows without a file, sizes that differ and files without a row', async () => {
    const rows = new Map<string, number | undefined>([
      ['u1/face.png', 1200],
      ['u2/face.png', 800],
      ['u3/face.png', undefined],
      ['u4/gone.png', 10],
    ]);
    const compared = await compareBucketFiles(
      'avatars',
      rows,
      pages(
        [
          { key: 'u1/face.png', size: 1200 },
          { key: 'u2/face.png', size: 801 },
        ],
        [
          { key: 'u3/face.png', size: 5 },
          { key: 'new.png', size: 1 },
        ],
      ),
    );
    expect(compared).toEqual({ bucket: 'avatars', objects: 4, present: 3, missing: 1, sizeMismatch: 1, unreferenced: 1 });
    const { findings, check } = storageFilesFindings(
      [compared, { bucket: 'docs', objects: 2, present: 2, missing: 0, sizeMismatch: 0, unreferenced: 0 }],
      'ref.supabase.co',
    );
    expect(findings.map((f) => [f.rule, f.severity, f.object, f.message])).toEqual([
      [
        'drill_storage_file_missing',
        'error',
        { kind: 'bucket', name: 'avatars' },
        '1 object of 4 in bucket avatars of the restored copy has no file in storage at ref.supabase.co.',
      ],
      [
        'drill_storage_file_size_mismatch',
        'error',
        { kind: 'bucket', name: 'avatars' },
        "1 file in bucket avatars at ref.supabase.co has another size than the restored copy's object metadata says.",
      ],
      [
        'drill_storage_file_unreferenced',
        'notice',
        { kind: 'bucket', name: 'avatars' },
        '1 file in bucket avatars at ref.supabase.co has no object row in the restored copy (uploaded after the backup, or rows the backup lost).',
      ],
    ]);
    expect(check).toEqual({
      check: 'storage files',
      status: 'fail',
      detail: '2 buckets, 6 objects at ref.supabase.co: 1 without a file, 1 of another size, 1 file without a row',
    });
    expect(JSON.stringify(findings)).not.toMatch(/face|gone|new\.png/);
  });

  it('passes when every row has its file; files without a row alone are a notice', async () => {
    const compared = await compareBucketFiles(
      'a',
      new Map([['x', 1]]),
      pages([
        { key: 'x', size: 1 },
        { key: 'y', size: 2 },
      ]),
    );
    const { findings, check } = storageFilesFindings([compared], 'h');
    expect(findings.map((f) => f.severity)).toEqual(['notice']);
    expect(check.status).toBe('pass');
  });
});

describe('drill.storage.s3 in the repo config, and its credentials', () => {
  const s3 = (extra = '') => `drill:\n  storage:\n    s3:\n      endpoint: https://abc.supabase.co/storage/v1/s3\n${extra}`;

  it('defaults the region and the variable names', () => {
    expect(parseRepoConfig(s3(), 'c.yml').drill.storage?.s3).toEqual({
      endpoint: 'https://abc.supabase.co/storage/v1/s3',
      region: 'us-east-1',
      'access-key-id-env': 'S3_ACCESS_KEY_ID',
      'secret-access-key-env': 'S3_SECRET_ACCESS_KEY',
      'timeout-ms': 30_000,
    });
    expect(repoConfigSchema.parse({}).drill.storage).toBeUndefined();
  });

  it('names its variables among the job secrets every gate masks from the start', () => {
    const config = parseRepoConfig(s3('      access-key-id-env: MY_S3_KEY\n'), 'c.yml');
    expect(secretEnvNames(() => undefined, config)).toEqual(['HMAC_SECRET', 'MY_S3_KEY', 'S3_SECRET_ACCESS_KEY']);
  });

  it('a secret pasted where a variable name goes, or an endpoint with credentials, is an error that does not repeat it', () => {
    const pasted = 'wJalrXUtnFEMI/K7MDENG/bPxRfi';
    expect(() => parseRepoConfig(s3(`      secret-access-key-env: ${pasted}\n`), 'c.yml')).toThrow(
      'c.yml: key `drill.storage.s3.secret-access-key-env` must name an environment variable (such as S3_SECRET_ACCESS_KEY), not hold its value.',
    );
    try {
      parseRepoConfig('drill:\n  storage:\n    s3:\n      endpoint: https://key:hunter2secret@abc.supabase.co/storage/v1/s3\n', 'c.yml');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/^c\.yml: key `drill\.storage\.s3\.endpoint` must be an http\(s\) URL without credentials/);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('reads the credentials from the named variables and masks them at once; a missing one is a UserError naming it', () => {
    const config = parseRepoConfig(s3(), 'c.yml').drill.storage!.s3!;
    const endpoint = readStorageEndpoint(config, { S3_ACCESS_KEY_ID: 'key-id-123', S3_SECRET_ACCESS_KEY: 'very-secret-value-42' });
    expect(endpoint?.credentials).toEqual({ accessKeyId: 'key-id-123', secretAccessKey: 'very-secret-value-42' });
    expect(redact('x very-secret-value-42 key-id-123')).toBe('x *** ***');
    expect(() => readStorageEndpoint(config, { S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: '' })).toThrow(UserError);
    expect(() => readStorageEndpoint(config, { S3_SECRET_ACCESS_KEY: 'x-secret-x' })).toThrow(
      "Repo config `drill.storage.s3` reads the S3 access key id from environment variable S3_ACCESS_KEY_ID, which is not set or empty; set it from a secret in the job's env, or remove `drill.storage.s3`.",
    );
    expect(readStorageEndpoint(undefined, {})).toBeUndefined();
  });
});

describe('listObjects through an endpoint that verifies every signature', () => {
  const keys = ['a', 'b/c d.png', 'ü/ñ+=&.txt', 'z'];
  let fake: FakeS3;
  const endpoint = (secretAccessKey: string) => ({
    url: new URL(fake.url),
    region: 'eu-west-2',
    credentials: { accessKeyId: 'AKID', secretAccessKey },
  });
  beforeAll(async () => {
    fake = await startFakeS3({
      accessKeyId: 'AKID',
      secretAccessKey: 'the-secret',
      region: 'eu-west-2',
      basePath: '/storage/v1/s3',
      buckets: { 'trip-photos': keys.map((key, i) => ({ key, size: i })) },
      pageSize: 3,
    });
  });
  afterAll(() => fake.close());

  it('follows the continuation token over pages', async () => {
    const got: S3Object[][] = [];
    for await (const list of listObjects(endpoint('the-secret'), 'trip-photos')) got.push(list);
    expect(got.map((list) => list.length)).toEqual([3, 1]);
    expect(
      got
        .flat()
        .map((o) => o.key)
        .sort(),
    ).toEqual([...keys].sort());
    expect(fake.requests.slice(-2).map((r) => r.status)).toEqual([200, 200]);
    expect(fake.requests.at(-1)!.path).toBe('/storage/v1/s3/trip-photos?list-type=2&continuation-token=page%2B%2F3');
  });

  it('a wrong secret is rejected by the server (credentials), an unknown bucket is a 404 (bucket)', async () => {
    await expect(listObjects(endpoint('wrong'), 'trip-photos').next()).rejects.toMatchObject({
      kind: 'credentials',
      message: 'HTTP 403 SignatureDoesNotMatch',
    });
    await expect(listObjects(endpoint('the-secret'), 'nope').next()).rejects.toMatchObject({ kind: 'bucket', message: 'HTTP 404 NoSuchBucket' });
  });
});
