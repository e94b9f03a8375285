/**
 * A backup artifact on disk: its format (from the content, never the name), what its header
 * says (which server and pg_dump made it, when), its size and its SHA-256.
 *
 * Formats: plain SQL, gzip-compressed plain SQL, pg_dump's custom, directory and tar archives,
 * and a folder with the files `supabase db dump` writes (roles.sql, schema.sql, data.sql).
 * Archive headers are read here (magic "PGDMP", archive version, creation time, server and
 * pg_dump versions), so a dump from a newer major is recognised even by a pg_restore too old
 * to open it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { UserError } from '../../errors.ts';
import type { TocSummary } from './restore.ts';
import type { Fetched } from './state.ts';
import { drillFinding } from './rules.ts';

export const DUMP_FORMATS = ['plain', 'plain-gzip', 'custom', 'directory', 'tar', 'supabase'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];
/** The formats pg_restore reads (the others are SQL scripts). */
export const ARCHIVE_FORMATS: readonly DumpFormat[] = ['custom', 'directory', 'tar'];

export interface DumpHeader {
  /** Server version the dump was taken from ("Dumped from database version"). */
  sourceVersion?: string;
  /** pg_dump version that wrote it. */
  dumpVersion?: string;
  /** Archive format version, e.g. "1.14" (custom, directory, tar). */
  archiveVersion?: string;
  /** When the dump started (archive header, or a verbose plain dump's "Started on"). */
  createdAt?: string;
  /** The archive header's time is the dumping machine's local time, read here as UTC. */
  createdAtAssumedUtc?: boolean;
  database?: string;
  /** A pg_dumpall cluster dump rather than one database. */
  clusterDump?: boolean;
}

export interface SupabaseFiles {
  roles?: string;
  schema: string;
  data?: string;
}

export interface Artifact {
  /** Absolute path of the file or folder. */
  path: string;
  format: DumpFormat;
  sizeBytes: number;
  /** Every file that makes up the artifact (absolute), in a stable order. */
  files: string[];
  header: DumpHeader;
  supabase?: SupabaseFiles;
}

export const FORMAT_LABELS: Record<DumpFormat, string> = {
  plain: 'plain SQL',
  'plain-gzip': 'gzip-compressed plain SQL',
  custom: 'pg_dump custom archive',
  directory: 'pg_dump directory archive',
  tar: 'pg_dump tar archive',
  supabase: 'supabase db dump files',
};

/** pg_dump's archive format byte (pg_backup.h ArchiveFormat). */
const ARCHIVE_FORMAT_BYTES: Record<number, DumpFormat> = { 1: 'custom', 3: 'tar', 5: 'directory' };

const HEAD_BYTES = 64 * 1024;

function readHead(file: string, bytes = HEAD_BYTES): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** Version as printed by pg_dump: "15.8", "17.2 (Debian 17.2-1.pgdg120+1)" -> "17.2". */
function cleanVersion(text: string | undefined): string | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)/.exec(text ?? '');
  return match?.[1];
}

export function majorOfVersion(version: string | undefined): number | undefined {
  const major = Number(cleanVersion(version)?.split('.')[0]);
  return Number.isFinite(major) && major > 0 ? major : undefined;
}

/** Parses pg_dump's archive header (ReadHead in pg_backup_archiver.c) from its first bytes. */
export function parseArchiveHeader(buffer: Buffer): (DumpHeader & { formatByte: number }) | undefined {
  if (buffer.subarray(0, 5).toString('latin1') !== 'PGDMP') return undefined;
  let pos = 5;
  const byte = () => {
    if (pos >= buffer.length) throw new RangeError('archive header is cut short');
    return buffer[pos++]!;
  };
  try {
    const vmaj = byte();
    const vmin = byte();
    const vrev = vmaj > 1 || (vmaj === 1 && vmin > 0) ? byte() : 0;
    const atLeast = (min: number) => vmaj > 1 || (vmaj === 1 && vmin >= min);
    const intSize = byte();
    if (atLeast(7)) byte(); // offSize
    const formatByte = byte();
    const readInt = () => {
      const negative = byte() !== 0;
      let value = 0;
      for (let i = 0; i < intSize; i += 1) value += byte() * 2 ** (8 * i);
      return negative ? -value : value;
    };
    const readStr = () => {
      const length = readInt();
      if (length < 0) return undefined;
      if (pos + length > buffer.length) throw new RangeError('archive header is cut short');
      const text = buffer.subarray(pos, pos + length).toString('utf8');
      pos += length;
      return text;
    };
    if (atLeast(15))
      byte(); // compression algorithm
    else if (atLeast(4))
      readInt(); // compression level
    else if (atLeast(2)) byte();
    const header: DumpHeader & { formatByte: number } = { formatByte, archiveVersion: `${vmaj}.${vmin}${vrev ? `.${vrev}` : ''}` };
    if (atLeast(4)) {
      const [sec, min, hour, mday, mon, year] = [readInt(), readInt(), readInt(), readInt(), readInt(), readInt()];
      readInt(); // isdst
      const database = readStr();
      if (database !== undefined) header.database = database;
      const created = new Date(Date.UTC(1900 + year, mon, mday, hour, min, sec));
      if (!Number.isNaN(created.getTime())) {
        header.createdAt = created.toISOString();
        header.createdAtAssumedUtc = true;
      }
    }
    if (atLeast(10)) {
      const source = cleanVersion(readStr());
      const dump = cleanVersion(readStr());
      if (source) header.sourceVersion = source;
      if (dump) header.dumpVersion = dump;
    }
    return header;
  } catch {
    return { formatByte: -1 };
  }
}

/** Reads a plain dump's leading comments. */
export function parsePlainHeader(text: string): DumpHeader {
  const header: DumpHeader = {};
  const from = /^-- Dumped from database version (.+)$/m.exec(text)?.[1];
  const by = /^-- Dumped by pg_dump(?:all)? version (.+)$/m.exec(text)?.[1];
  const started = /^-- Started on (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: (\S+))?$/m.exec(text);
  if (cleanVersion(from)) header.sourceVersion = cleanVersion(from)!;
  if (cleanVersion(by)) header.dumpVersion = cleanVersion(by)!;
  if (started) {
    const zone = started[2];
    const utc = !zone || /^(UTC|GMT|Z)$/i.test(zone);
    const date = new Date(`${started[1]!.replace(' ', 'T')}Z`);
    if (!Number.isNaN(date.getTime())) {
      header.createdAt = date.toISOString();
      if (!utc) header.createdAtAssumedUtc = true;
    }
  }
  if (/^-- PostgreSQL database cluster dump/m.test(text)) header.clusterDump = true;
  return header;
}

const SUPABASE_NAMES = { roles: 'roles.sql', schema: 'schema.sql', data: 'data.sql' } as const;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

function sizeOf(files: string[]): number {
  return files.reduce((sum, file) => sum + statSync(file).size, 0);
}

function looksLikeText(buffer: Buffer): boolean {
  if (buffer.length === 0) return false;
  const sample = buffer.subarray(0, 4096);
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 9 && b !== 0)) control += 1;
  return control === 0;
}

/** Detects the format from the content and reads the header. Throws UserError for what is not a backup. */
export function inspectArtifact(file: string, inputName = 'dump-path'): Artifact {
  if (!existsSync(file)) throw new UserError(`Input \`${inputName}\` names ${file}, which does not exist; fix the path.`);
  const stat = statSync(file);
  if (stat.isDirectory()) return inspectFolder(file, inputName);

  const head = readHead(file);
  const base = { path: file, sizeBytes: stat.size, files: [file] };
  if (head.length === 0) throw new UserError(`Input \`${inputName}\` names ${file}, which is empty; point it at a backup file.`);
  const archive = parseArchiveHeader(head);
  if (archive) {
    if (archive.formatByte === -1) return { ...base, format: 'custom', header: {} };
    const { formatByte, ...header } = archive;
    const format = ARCHIVE_FORMAT_BYTES[formatByte] ?? 'custom';
    return { ...base, format, header };
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const inflated = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (parseArchiveHeader(inflated)) {
      throw new UserError(
        `Input \`${inputName}\` names ${file}, a gzip-compressed pg_dump custom archive; decompress it first (gunzip), since custom archives are compressed already.`,
      );
    }
    return { ...base, format: 'plain-gzip', header: parsePlainHeader(inflated.toString('utf8')) };
  }
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') {
    const member = parseArchiveHeader(head.subarray(512));
    const { formatByte: _formatByte, ...header } = member ?? { formatByte: 0 };
    if (!member) {
      throw new UserError(
        `Input \`${inputName}\` names ${file}, a tar file that is not a pg_dump tar archive (no toc.dat first); extract it and point \`${inputName}\` at the dump inside.`,
      );
    }
    return { ...base, format: 'tar', header };
  }
  if (looksLikeText(head)) return { ...base, format: 'plain', header: parsePlainHeader(head.toString('utf8')) };
  throw new UserError(
    `Input \`${inputName}\` names ${file}, which is not a PostgreSQL backup postgate recognises (plain SQL, .sql.gz, custom, directory or tar archive, or supabase db dump files); check the path.`,
  );
}

function inspectFolder(dir: string, inputName: string): Artifact {
  const toc = path.join(dir, 'toc.dat');
  if (existsSync(toc)) {
    const files = listFiles(dir);
    const archive = parseArchiveHeader(readHead(toc));
    const { formatByte: _formatByte, ...header } = archive ?? { formatByte: 0 };
    return { path: dir, format: 'directory', sizeBytes: sizeOf(files), files, header };
  }
  const present = (name: string) => (existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  const schema = present(SUPABASE_NAMES.schema);
  if (schema) {
    const roles = present(SUPABASE_NAMES.roles);
    const data = present(SUPABASE_NAMES.data);
    const files = [roles, schema, data].filter((f): f is string => Boolean(f));
    const header = parsePlainHeader(readHead(schema).toString('utf8'));
    return {
      path: dir,
      format: 'supabase',
      sizeBytes: sizeOf(files),
      files,
      header,
      supabase: { schema, ...(roles ? { roles } : {}), ...(data ? { data } : {}) },
    };
  }
  throw new UserError(
    `Input \`${inputName}\` names the folder ${dir}, which holds neither a pg_dump directory archive (toc.dat) nor supabase db dump files (schema.sql, with roles.sql and data.sql); point it at a backup.`,
  );
}

/** The first `bytes` of a plain-text artifact's SQL (decompressed for .sql.gz; schema.sql for supabase files; empty for archives). */
export function textHead(artifact: Artifact, bytes: number): string {
  if (artifact.format === 'plain') return readHead(artifact.path, bytes).toString('utf8');
  if (artifact.format === 'supabase') return readHead(artifact.supabase!.schema, bytes).toString('utf8');
  if (artifact.format === 'plain-gzip') {
    return zlib
      .gunzipSync(readHead(artifact.path, Math.ceil(bytes / 4)), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
      .subarray(0, bytes)
      .toString('utf8');
  }
  return '';
}

/** SHA-256 of one file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 1024 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export interface ArtifactDigest {
  /** A file's SHA-256; for a folder, the SHA-256 of its sha256sum listing (sorted relative paths). */
  sha256: string;
  /** Relative path -> SHA-256 for every file of a folder artifact. */
  files?: Record<string, string>;
}

export async function digestArtifact(artifact: Artifact): Promise<ArtifactDigest> {
  if (artifact.files.length === 1 && artifact.files[0] === artifact.path) return { sha256: await sha256File(artifact.path) };
  const files: Record<string, string> = {};
  for (const file of artifact.files) files[path.relative(artifact.path, file)] = await sha256File(file);
  return { sha256: folderDigest(files), files };
}

export function folderDigest(files: Record<string, string>): string {
  const listing = Object.keys(files)
    .sort()
    .map((name) => `${files[name]}  ${name}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}

export interface ChecksumEntry {
  sha256: string;
  file: string;
}

/** Parses `sha256sum` output ("<hex>  name" or "<hex> *name", and BSD "SHA256 (name) = <hex>"). */
export function parseChecksumFile(text: string): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const gnu = /^\\?([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(line);
    if (gnu) entries.push({ sha256: gnu[1]!.toLowerCase(), file: gnu[2]! });
    else if (bsd) entries.push({ sha256: bsd[2]!.toLowerCase(), file: bsd[1]! });
  }
  return entries;
}

export interface ChecksumMismatch {
  /** File (relative to the artifact, or its name) whose digest differs. */
  file: string;
  expected: string;
  actual: string;
}

export interface ChecksumSpec {
  checksumPath?: string;
  sha256?: string;
}

/**
 * Compares the artifact with a sha256sum file or an expected SHA-256. Returns the mismatches;
 * throws UserError when the checksum input itself is unusable (bad hex, no entry for the file).
 */
export function compareChecksums(artifact: Artifact, digest: ArtifactDigest, spec: ChecksumSpec): ChecksumMismatch[] {
  const mismatches: ChecksumMismatch[] = [];
  const name = path.basename(artifact.path);
  if (spec.sha256 !== undefined) {
    const expected = spec.sha256.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(expected)) {
      throw new UserError('Input `sha256` is not a SHA-256 (64 hexadecimal characters); paste the value from `sha256sum <file>`.');
    }
    if (expected !== digest.sha256) mismatches.push({ file: name, expected, actual: digest.sha256 });
  }
  if (spec.checksumPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(spec.checksumPath, 'utf8');
    } catch {
      throw new UserError(`Input \`checksum-path\` names ${spec.checksumPath}, which cannot be read; fix the path.`);
    }
    const entries = parseChecksumFile(text);
    if (entries.length === 0) {
      throw new UserError(
        `Input \`checksum-path\` names ${spec.checksumPath}, which holds no sha256sum lines ("<sha256>  <file>"); create it with \`sha256sum <file> > <file>.sha256\`.`,
      );
    }
    if (!digest.files) {
      const entry = entries.find((e) => path.basename(e.file) === name) ?? (entries.length === 1 ? entries[0] : undefined);
      if (!entry) {
        throw new UserError(`Input \`checksum-path\` (${spec.checksumPath}) has no line for ${name}; regenerate it with \`sha256sum ${name}\`.`);
      }
      if (entry.sha256 !== digest.sha256) mismatches.push({ file: name, expected: entry.sha256, actual: digest.sha256 });
    } else {
      let matched = 0;
      for (const entry of entries) {
        const relative = relativeInside(artifact.path, entry.file, path.dirname(spec.checksumPath));
        if (relative === undefined) continue;
        matched += 1;
        const actual = digest.files[relative];
        if (actual !== entry.sha256) mismatches.push({ file: relative, expected: entry.sha256, actual: actual ?? 'missing' });
      }
      if (matched === 0) {
        throw new UserError(
          `Input \`checksum-path\` (${spec.checksumPath}) lists no file of ${artifact.path}; generate it inside the dump folder with \`sha256sum * > ../dump.sha256\`.`,
        );
      }
    }
  }
  return mismatches;
}

/** A checksum line's file, relative to the folder artifact, trying the usual bases. */
function relativeInside(folder: string, listed: string, checksumDir: string): string | undefined {
  const candidates = [path.resolve(checksumDir, listed), path.resolve(folder, listed), path.resolve(path.dirname(folder), listed)];
  for (const candidate of candidates) {
    const relative = path.relative(folder, candidate);
    if (relative && !relative.startsWith('..') && !path.isAbsolute(relative) && existsSync(candidate)) return relative;
  }
  const inside = path.relative(folder, path.resolve(folder, listed));
  return inside.startsWith('..') ? undefined : inside;
}

/**
 * The checksum phase's first half: the backup's SHA-256 against checksum-path, sha256 and the
 * manifest; a mismatch is a finding and the backup is not restored. True when nothing differs.
 */
export async function verifyChecksums(state: Fetched): Promise<boolean> {
  const { artifact, manifest, options } = state;
  if (state.digestOnlyToCompare && !options.checksumPath && !options.sha256 && !manifest) return true;
  const digest = await digestArtifact(artifact);
  state.digest = digest;
  const mismatches = compareChecksums(artifact, digest, {
    ...(options.checksumPath ? { checksumPath: path.resolve(state.context.cwd, options.checksumPath) } : {}),
    ...(options.sha256 ? { sha256: options.sha256 } : {}),
  });
  if (manifest && manifest.artifact.sha256 !== digest.sha256) {
    const files =
      manifest.artifact.files && digest.files
        ? Object.keys({ ...manifest.artifact.files, ...digest.files }).filter((f) => manifest.artifact.files![f] !== digest.files![f])
        : [path.basename(artifact.path)];
    for (const file of files)
      mismatches.push({ file, expected: manifest.artifact.files?.[file] ?? manifest.artifact.sha256, actual: digest.files?.[file] ?? digest.sha256 });
  }
  if (manifest?.platform_data && state.platformDataFile) {
    const actual = existsSync(state.platformDataFile) ? await sha256File(state.platformDataFile) : 'missing';
    if (actual !== manifest.platform_data.sha256)
      mismatches.push({ file: path.basename(state.platformDataFile), expected: manifest.platform_data.sha256, actual });
  }
  for (const mismatch of mismatches) {
    state.findings.push(
      drillFinding({
        rule: 'drill_checksum_mismatch',
        object: { kind: 'file', name: mismatch.file },
        message: `${mismatch.file} does not match its recorded SHA-256 (expected ${mismatch.expected.slice(0, 12)}…, got ${mismatch.actual === 'missing' ? 'no such file' : `${mismatch.actual.slice(0, 12)}…`}), so the backup was changed or cut short after it was made; it was not restored.`,
        remediation:
          'Find out how the file changed (interrupted upload, retention job, tampering) and take a new backup with its checksum recorded at creation.',
      }),
    );
  }
  return mismatches.length === 0;
}

/** Does a plain dump or archive come from a Supabase project? (Its roles, schemas or migration table.) */
export function looksLikeSupabase(artifact: Artifact, toc: TocSummary | undefined): boolean {
  if (artifact.format === 'supabase') return true;
  const marker = /\b(supabase_admin|supabase_migrations|service_role|authenticated)\b/;
  if (toc) return toc.owners.some((o) => o.startsWith('supabase_')) || toc.schemas.includes('supabase_migrations') || toc.schemas.includes('auth');
  return marker.test(textHead(artifact, 4 * 1024 * 1024));
}

/** Is the source a Supabase project (as the live source, the manifest or the backup itself says)? */
export function sourceIsSupabase(state: Fetched): boolean {
  return state.live?.supabase ?? state.manifest?.source.supabase ?? looksLikeSupabase(state.artifact, state.toc);
}
