/**
 * A small S3 client of our own for one request: ListObjectsV2 (`GET /<bucket>?list-type=2`),
 * path-style, as Supabase's S3 endpoint (`https://<ref>.supabase.co/storage/v1/s3`) and MinIO
 * serve it, signed with AWS Signature Version 4 (header form, unsigned-body hash of the empty
 * payload). The restore drill reads which files a bucket holds with it (storage-files.ts).
 *
 * The answer is hostile input: the body is read up to MAX_BODY_BYTES, the XML parser accepts the
 * plain shape S3 writes (elements, text, the five predefined entities and character references)
 * and rejects everything else (DOCTYPE, entity declarations, CDATA, processing instructions past
 * the declaration), so nothing is ever expanded. Errors are S3Error values the caller turns
 * into one sentence; the secret key never appears in them.
 */
import { createHash, createHmac } from 'node:crypto';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Endpoint {
  /** The service's base URL; buckets are path segments below it. */
  url: URL;
  region: string;
  credentials: S3Credentials;
  timeoutMs?: number;
}

export interface S3Object {
  key: string;
  size: number;
}

export type S3ErrorKind = 'unreachable' | 'credentials' | 'bucket' | 'status' | 'malformed';

/** A failed request: what went wrong, for the caller's one sentence. `code` is S3's error code when it sent a plain one. */
export class S3Error extends Error {
  readonly kind: S3ErrorKind;
  constructor(kind: S3ErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_PAYLOAD_SHA256 = createHash('sha256').update('').digest('hex');
/** One page holds at most 1,000 keys of at most 1,024 bytes each, escaped: a few MB at most. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_DEPTH = 16;

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** URI encoding as SigV4 defines it: every byte but A–Z a–z 0–9 - _ . ~ as %XX in upper case. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query string: each name and value encoded, pairs sorted by name, then value; a name alone gets an empty value. */
export function canonicalQuery(search: string): string {
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const [name, value] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    });
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** `20130524T000000Z`. */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export interface SignInput {
  method: string;
  /** Path and query already encoded as they go on the wire. */
  url: URL;
  /** Further headers to sign and send (the host, date and payload hash are added). */
  headers?: Record<string, string>;
  credentials: S3Credentials;
  region: string;
  service?: string;
  now: Date;
}

/** Every step of the signature, for tests that check them against the published examples. */
export function signatureParts(input: SignInput) {
  const date = amzDate(input.now);
  const headers: Record<string, string> = {
    host: input.url.host,
    'x-amz-content-sha256': EMPTY_PAYLOAD_SHA256,
    'x-amz-date': date,
  };
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method,
    input.url.pathname || '/',
    canonicalQuery(input.url.search),
    ...names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    EMPTY_PAYLOAD_SHA256,
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${input.region}/${input.service ?? 's3'}/aws4_request`;
  const stringToSign = [ALGORITHM, date, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${input.credentials.secretAccessKey}`, date.slice(0, 8));
  for (const part of [input.region, input.service ?? 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  const authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return { canonicalRequest, stringToSign, signature, authorization, headers };
}

/** The headers to send: the signed ones (but host, which fetch sets from the URL) and Authorization. */
export function signRequest(input: SignInput): Record<string, string> {
  const { headers, authorization } = signatureParts(input);
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization };
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(raw: string): string {
  return raw.replace(/&([^;&\s]{0,10});?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new S3Error('malformed', 'a bare & in the XML');
    if (name in ENTITIES) return ENTITIES[name]!;
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#([0-9]{1,7})$/.exec(name)?.[1];
    const point = code === undefined ? NaN : Number.parseInt(code, name.startsWith('#x') ? 16 : 10);
    if (!(point > 0 && point <= 0x10ffff) || (point >= 0xd800 && point <= 0xdfff)) throw new S3Error('malformed', 'an unknown entity in the XML');
    return String.fromCodePoint(point);
  });
}

/** Name of an element (a namespace prefix is kept), its attributes (ignored), an optional self-closing slash. */
const TOKEN =
  /<\?xml[^?<>]*\?>|<!--(?:[^-]|-(?!-))*-->|<\/([A-Za-z_][\w.:-]*)\s*>|<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)/y;

/** A strict parser for the plain XML S3 answers with; anything else is `malformed`. */
export function parseXml(xml: string): XmlElement {
  const text = xml.replace(/^\uFEFF/, '');
  const root: XmlElement = { name: '', children: [], text: '' };
  const stack: XmlElement[] = [root];
  TOKEN.lastIndex = 0;
  let declarationAllowed = true;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) throw new S3Error('malformed', `unexpected markup at byte ${at} of the XML`);
    const [whole, closing, opening, , selfClosing, chars] = match;
    const current = stack.at(-1)!;
    if (whole.startsWith('<?xml')) {
      if (!declarationAllowed) throw new S3Error('malformed', 'an XML declaration past the start');
    } else if (closing !== undefined) {
      if (closing !== current.name || stack.length === 1) throw new S3Error('malformed', 'mismatched closing tag in the XML');
      stack.pop();
    } else if (opening !== undefined) {
      if (stack.length === 1 && root.children.length) throw new S3Error('malformed', 'more than one root element in the XML');
      if (stack.length > MAX_DEPTH) throw new S3Error('malformed', 'XML nested too deep');
      const element: XmlElement = { name: opening.replace(/^[\w.-]+:/, ''), children: [], text: '' };
      current.children.push(element);
      if (!selfClosing) stack.push(element);
    } else if (chars !== undefined) {
      if (stack.length === 1) {
        if (chars.trim()) throw new S3Error('malformed', 'text outside the root element of the XML');
      } else current.text += decodeText(chars);
    }
    declarationAllowed = false;
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new S3Error('malformed', 'the XML ends inside an element, or has no root');
  return root.children[0]!;
}

const only = (parent: XmlElement, name: string): XmlElement | undefined => {
  const found = parent.children.filter((c) => c.name === name);
  if (found.length > 1) throw new S3Error('malformed', `more than one <${name}> in the listing`);
  return found[0];
};

export interface ListPage {
  objects: S3Object[];
  /** Set when more pages follow. */
  nextToken?: string;
}

/** One ListObjectsV2 answer: Contents (Key, Size), IsTruncated, NextContinuationToken. */
export function parseListPage(xml: string): ListPage {
  const result = parseXml(xml);
  if (result.name !== 'ListBucketResult') throw new S3Error('malformed', `the answer is <${result.name}>, not <ListBucketResult>`);
  const objects = result.children
    .filter((c) => c.name === 'Contents')
    .map((contents) => {
      const key = only(contents, 'Key');
      const size = only(contents, 'Size')?.text.trim() ?? '';
      if (!key || !/^[0-9]{1,15}$/.test(size)) throw new S3Error('malformed', 'an object without a Key or a whole-number Size in the listing');
      return { key: key.text, size: Number(size) };
    });
  const truncated = only(result, 'IsTruncated')?.text.trim();
  if (truncated !== 'true' && truncated !== 'false') throw new S3Error('malformed', 'no IsTruncated true or false in the listing');
  if (truncated === 'false') return { objects };
  const nextToken = only(result, 'NextContinuationToken')?.text;
  if (!nextToken) throw new S3Error('malformed', 'a truncated listing without a NextContinuationToken');
  return { objects, nextToken };
}

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new S3Error('malformed', `an answer larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** S3's error code from an error body, when it is a plain word (printed; nothing else of the body is). */
function errorCode(body: string): string | undefined {
  try {
    const code = only(parseXml(body), 'Code')?.text.trim();
    return code && /^[A-Za-z]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** The URL of one page: the endpoint's path, the bucket as one encoded segment, the query encoded as signed. */
export function listUrl(base: URL, bucket: string, token?: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/${uriEncode(bucket)}`;
  url.search = `list-type=2${token === undefined ? '' : `&continuation-token=${uriEncode(token)}`}`;
  return url;
}

/** One signed GET; the answer's text, or an S3Error. */
async function get(endpoint: S3Endpoint, url: URL, now: () => Date): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: signRequest({ method: 'GET', url, credentials: endpoint.credentials, region: endpoint.region, now: now() }),
      redirect: 'error',
      signal: AbortSignal.timeout(endpoint.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new S3Error('unreachable', (cause ?? (error as Error)).message);
  }
  const body = await readBounded(response).catch((error: unknown) => {
    throw error instanceof S3Error ? error : new S3Error('unreachable', (error as Error).message);
  });
  if (response.ok) return body;
  const code = errorCode(body);
  const kind: S3ErrorKind = response.status === 401 || response.status === 403 ? 'credentials' : response.status === 404 ? 'bucket' : 'status';
  throw new S3Error(kind, `HTTP ${response.status}${code ? ` ${code}` : ''}`);
}

/** Every page of a bucket's listing, in order. */
export async function* listObjects(endpoint: S3Endpoint, bucket: string, now: () => Date = () => new Date()): AsyncGenerator<S3Object[]> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = parseListPage(await get(endpoint, listUrl(endpoint.url, bucket, token), now));
    yield page.objects;
    token = page.nextToken;
    if (token !== undefined) {
      if (seen.has(token)) throw new S3Error('malformed', 'a continuation token that repeats (the listing would never end)');
      seen.add(token);
    }
  } while (token !== undefined);
}
