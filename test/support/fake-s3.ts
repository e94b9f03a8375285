/**
 * A fake S3-compatible endpoint for tests (node:http): path-style ListObjectsV2 of in-memory
 * buckets, `pageSize` keys a page with continuation tokens. Every request's Authorization header
 * is VERIFIED: the signature is recomputed here from the request as it arrived on the wire, with
 * the known secret, by a second implementation of Signature Version 4 written from the spec (not
 * the client's signer), so a signer bug, or a request sent otherwise than signed, fails with 403.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3Options {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The path the service sits under, as Supabase's /storage/v1/s3. */
  basePath: string;
  buckets: Record<string, Array<{ key: string; size: number }>>;
  pageSize: number;
  /** Put into every error body's Message: a hostile server echoing what it should not. */
  errorMessage?: string;
}

export interface FakeS3 {
  url: string;
  /** Requests answered, with their status. */
  requests: Array<{ path: string; status: number }>;
  close(): Promise<void>;
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const strictEncode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
const hex = (data: string) => createHash('sha256').update(data).digest('hex');

/** The expected signature for the request as received, or a reason it cannot be valid. */
function expectedSignature(req: http.IncomingMessage, options: FakeS3Options): { ok: true } | { ok: false; why: string } {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!auth) return { ok: false, why: 'no AWS4-HMAC-SHA256 Authorization header' };
  const [, keyId, day, region, signedHeaders, signature] = auth;
  if (keyId !== options.accessKeyId) return { ok: false, why: 'unknown access key' };
  if (region !== options.region) return { ok: false, why: 'wrong region' };
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return { ok: false, why: 'host or x-amz-date not signed' };
  const date = String(req.headers['x-amz-date'] ?? '');
  if (!date.startsWith(day!)) return { ok: false, why: 'x-amz-date outside the credential scope' };
  if (req.headers['x-amz-content-sha256'] !== hex('')) return { ok: false, why: 'payload hash of a GET is not that of the empty body' };
  const raw = req.url ?? '/';
  const [pathPart, queryPart = ''] = raw.split(/\?(.*)/s, 2) as [string, string?];
  const query = queryPart
    .split('&')
    .filter(Boolean)
    .map((pair) =>
      pair
        .split(/=(.*)/s, 2)
        .map((part) => strictEncode(decodeURIComponent(part ?? '')))
        .join('='),
    )
    .sort()
    .join('&');
  const headers = names.map((name) => `${name}:${String(req.headers[name] ?? '').trim()}\n`).join('');
  const canonical = `${req.method}\n${pathPart}\n${query}\n${headers}\n${signedHeaders}\n${req.headers['x-amz-content-sha256']}`;
  const toSign = `AWS4-HMAC-SHA256\n${date}\n${day}/${region}/s3/aws4_request\n${hex(canonical)}`;
  const kDate = createHmac('sha256', `AWS4${options.secretAccessKey}`).update(day!).digest();
  const kRegion = createHmac('sha256', kDate).update(region!).digest();
  const kService = createHmac('sha256', kRegion).update('s3').digest();
  const kSigning = createHmac('sha256', kService).update('aws4_request').digest();
  const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return expected === signature ? { ok: true } : { ok: false, why: 'signature does not match' };
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
}

export async function startFakeS3(options: FakeS3Options): Promise<FakeS3> {
  const requests: FakeS3['requests'] = [];
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string) => {
      requests.push({ path: req.url ?? '', status });
      res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
    };
    const verdict = expectedSignature(req, options);
    if (!verdict.ok) return reply(403, errorXml('SignatureDoesNotMatch', `${verdict.why}${options.errorMessage ?? ''}`));
    const url = new URL(req.url ?? '/', 'http://fake');
    const prefix = `${options.basePath}/`;
    if (req.method !== 'GET' || !url.pathname.startsWith(prefix) || url.searchParams.get('list-type') !== '2') {
      return reply(400, errorXml('InvalidRequest', 'only path-style ListObjectsV2'));
    }
    const bucket = decodeURIComponent(url.pathname.slice(prefix.length));
    const files = options.buckets[bucket];
    if (!files) return reply(404, errorXml('NoSuchBucket', `no bucket${options.errorMessage ?? ''}`));
    const sorted = [...files].sort((a, b) => (Buffer.from(a.key) < Buffer.from(b.key) ? -1 : 1));
    const start = Number(url.searchParams.get('continuation-token')?.replace(/^page\+\//, '') ?? 0);
    const page = sorted.slice(start, start + options.pageSize);
    const next = start + options.pageSize < sorted.length ? `page+/${start + options.pageSize}` : undefined;
    const contents = page
      .map(
        (f) =>
          `<Contents><Key>${xmlEscape(f.key)}</Key><LastModified>2026-12-01T00:00:00.000Z</LastModified><Size>${f.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    reply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name><KeyCount>${page.length}</KeyCount><MaxKeys>${options.pageSize}</MaxKeys><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${contents}${next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ''}</ListBucketResult>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.basePath}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
