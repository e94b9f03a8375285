/**
 * Each migration tool's own rule for "is this the file that was applied?", so that
 * an edit after apply is reported exactly when the tool itself would notice it (and
 * not for a CRLF checkout the tool tolerates), written from each tool's documentation and
 * source.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

const hash = (algorithm: string, text: string | Buffer): Buffer => createHash(algorithm).update(text).digest();

/** sqlx: SHA-384 of the file's raw bytes, stored as 48 bytes of BYTEA; no normalisation. */
export function sqlxChecksum(bytes: Buffer): Buffer {
  return hash('sha384', bytes);
}

/** Prisma: SHA-256 hex of migration.sql. */
export function prismaChecksum(text: string): string {
  return hash('sha256', text).toString('hex');
}

/**
 * Prisma accepts the stored checksum when it matches the file as is, with CRLF turned
 * into LF, with LF turned into CRLF, or the legacy hex form that did not zero-pad bytes.
 */
export function prismaChecksumMatches(text: string, stored: string): boolean {
  const variants = [text, text.replace(/\r\n/g, '\n'), text.replace(/\r?\n/g, '\r\n')];
  for (const variant of variants) {
    const digest = hash('sha256', variant);
    if (digest.toString('hex') === stored) return true;
    if ([...digest].map((byte) => byte.toString(16)).join('') === stored) return true;
  }
  return false;
}

/** drizzle: SHA-256 hex of the whole .sql file (current versions hash it with CRLF turned into LF). */
export function drizzleChecksum(text: string): string {
  return hash('sha256', text.replace(/\r\n/g, '\n')).toString('hex');
}

export function drizzleChecksumMatches(text: string, stored: string): boolean {
  return hash('sha256', text).toString('hex') === stored || drizzleChecksum(text) === stored;
}

/**
 * Flyway: CRC32 over the UTF-8 bytes of every line with its terminator removed (a BOM
 * on the first line is dropped), as a signed 32-bit integer. Line endings and blank
 * lines therefore do not change it.
 */
export function flywayChecksum(text: string): number {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let crc = 0;
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line) crc = crc32(Buffer.from(line, 'utf8'), crc);
  }
  return crc | 0;
}

/** graphile-migrate: `sha1:` + SHA-1 of (previous hash, newline, body) trimmed, plus a newline. */
export function graphileHash(body: string, previousHash: string | null): string {
  return `sha1:${hash('sha1', `${`${previousHash ?? ''}\n${body}`.trim()}\n`).toString('hex')}`;
}

/** SHA-256 hex, for files the tool does not checksum (shown in reports only). */
export function sha256Hex(text: string | Buffer): string {
  return hash('sha256', text).toString('hex');
}
