/** Reading migration folders (ten formats), checksum rules, and bad inputs as one sentence. */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { flywayChecksum, graphileHash, prismaChecksumMatches, sqlxChecksum } from '../../src/migrations/checksums.ts';
import { assertFormat, compareVersions, detectTool, graphileChainProblems, readMigrations } from '../../src/migrations/sources.ts';
import type { MigrationTool } from '../../src/migrations/types.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');
const temps: string[] = [];
const temp = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected a UserError');
}

const LAYOUT: Array<[MigrationTool, string, number]> = [
  ['supabase', 'supabase/migrations', 3],
  ['sqlx', 'migrations', 3],
  ['prisma', 'prisma/migrations', 3],
  ['drizzle', 'drizzle', 3],
  ['flyway', 'sql', 4],
  ['dbmate', 'db/migrations', 3],
  ['golang-migrate', 'migrations', 3],
  ['node-pg-migrate', 'migrations', 3],
  ['graphile-migrate', 'migrations', 3],
  ['plain', 'sql', 3],
];

describe('readMigrations', () => {
  it.each(LAYOUT)('detects and reads %s', (tool, dir, count) => {
    const root = path.join(FIXTURES, tool);
    const source = readMigrations(dir, { cwd: root });
    expect(source.tool).toBe(tool);
    expect(source.migrations).toHaveLength(count);
    expect(source.problems).toEqual([]);
    expect(source.migrations[0]!.file.startsWith(dir)).toBe(true);
    expect(source.migrations[0]!.sql).toMatch(/create table users/);
  });

  it('takes the up section only (dbmate, node-pg-migrate) and maps its offset into the file', () => {
    const source = readMigrations('db/migrations', { cwd: path.join(FIXTURES, 'dbmate') });
    const first = source.migrations[0]!;
    expect(first.sql).not.toMatch(/drop table/);
    expect(first.raw.slice(first.sqlOffset).startsWith('create table users')).toBe(true);
  });

  it('keys each tool the way its history does', () => {
    const ids = (tool: MigrationTool, dir: string) => readMigrations(dir, { cwd: path.join(FIXTURES, tool) }).migrations.map((m) => m.id);
    expect(ids('flyway', 'sql')).toEqual(['1', '1.1', '2', 'R:user emails']);
    expect(ids('drizzle', 'drizzle')).toEqual(['1704067201000', '1704067202000', '1704067203000']);
    expect(ids('prisma', 'prisma/migrations')[0]).toBe('20240101000001_users');
    expect(ids('node-pg-migrate', 'migrations')[0]).toBe('1704067201000_create-users');
    expect(ids('graphile-migrate', 'migrations')[0]).toBe('000001.sql');
  });

  it('lists files the tool would skip as problems', () => {
    const root = temp();
    cpSync(path.join(FIXTURES, 'supabase'), root, { recursive: true });
    writeFileSync(path.join(root, 'supabase/migrations/add_column.sql'), 'select 1;');
    const source = readMigrations('supabase/migrations', { cwd: root });
    expect(source.problems).toEqual([
      { file: 'supabase/migrations/add_column.sql', problem: expect.stringContaining('does not match <timestamp>_<name>.sql') },
    ]);
  });

  it('rejects bad folders and files with one sentence naming the input', () => {
    const root = temp();
    mkdirSync(path.join(root, 'empty'));
    writeFileSync(path.join(root, 'file.sql'), 'select 1;');
    expect(userError(() => readMigrations('nope', { cwd: root }))).toBe('Input `migrations-dir` is nope, which does not exist; point it at the folder holding your migrations.');
    expect(userError(() => readMigrations('empty', { cwd: root }))).toMatch(/^Input `migrations-dir` is empty, which holds no numbered \.sql migrations; point it at the folder holding your migrations or set `migrations-format`\.$/);
    expect(userError(() => readMigrations('file.sql', { cwd: root }))).toMatch(/which is a file, not a folder/);

    mkdirSync(path.join(root, 'latin1'));
    writeFileSync(path.join(root, 'latin1/001_bad.sql'), Buffer.from([0x73, 0x65, 0x6c, 0x65, 0x63, 0x74, 0x20, 0x27, 0xe9, 0x27, 0x3b]));
    expect(userError(() => readMigrations('latin1', { cwd: root }))).toMatch(/^Migration file .*001_bad\.sql is not valid UTF-8 \(first bad byte on line 1\); re-save it as UTF-8\.$/);

    mkdirSync(path.join(root, 'dup'));
    writeFileSync(path.join(root, 'dup/001_a.sql'), 'select 1;');
    writeFileSync(path.join(root, 'dup/1_b.sql'), 'select 2;');
    expect(userError(() => readMigrations('dup', { cwd: root }))).toBe('Migration files dup/001_a.sql and dup/1_b.sql both have version 1; give one of them a new, later version.');

    expect(userError(() => assertFormat('liquibase'))).toMatch(/^`migrations-format` is "liquibase", which is not a migration tool postgate reads; use one of auto, supabase, sqlx/);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file', () => {
    const root = temp();
    writeFileSync(path.join(root, '001_secret.sql'), 'select 1;', { mode: 0o000 });
    expect(userError(() => readMigrations('.', { cwd: root }))).toMatch(/cannot be read \(EACCES\)/);
  });

  it('tells golang-migrate from sqlx by a Cargo.toml nearby', () => {
    const root = temp();
    mkdirSync(path.join(root, 'migrations'));
    writeFileSync(path.join(root, 'migrations/1_a.up.sql'), 'select 1;');
    expect(detectTool(path.join(root, 'migrations'))).toEqual({ tool: 'golang-migrate', detection: 'weak' });
    writeFileSync(path.join(root, 'Cargo.toml'), '[package]\n');
    expect(detectTool(path.join(root, 'migrations'))).toEqual({ tool: 'sqlx', detection: 'strong' });
  });
});

describe('checksum rules', () => {
  it('Flyway: CRC32 per line without terminators, signed, blind to line endings, blank lines and a BOM', () => {
    expect(flywayChecksum('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
    const text = 'create table a (id int);\n\ncreate index on a (id);\n';
    expect(flywayChecksum(text.replace(/\n/g, '\r\n'))).toBe(flywayChecksum(text));
    expect(flywayChecksum(`\uFEFF${text}`)).toBe(flywayChecksum(text));
    expect(flywayChecksum('create table a (id int);\ncreate index on a (id);')).toBe(flywayChecksum(text));
    expect(flywayChecksum(`${text}-- comment\n`)).not.toBe(flywayChecksum(text));
    expect(Number.isInteger(flywayChecksum('x'.repeat(1000)))).toBe(true);
    expect(Math.abs(flywayChecksum('abc'))).toBeLessThanOrEqual(2 ** 31);
  });

  it('sqlx: SHA-384 of the raw bytes (48 bytes), so CRLF changes it', () => {
    expect(sqlxChecksum(Buffer.from('a\n'))).toHaveLength(48);
    expect(sqlxChecksum(Buffer.from('a\r\n')).equals(sqlxChecksum(Buffer.from('a\n')))).toBe(false);
  });

  it('Prisma: SHA-256 hex, tolerant of CRLF/LF and of the legacy unpadded hex', () => {
    const text = 'create table a (id int);\n';
    const hex = '0a'.padEnd(64, '0');
    expect(prismaChecksumMatches(text, hex)).toBe(false);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(prismaChecksumMatches(text.replace(/\n/g, '\r\n'), sha(text))).toBe(true);
    expect(prismaChecksumMatches(text, sha(text.replace(/\n/g, '\r\n')))).toBe(true);
    const legacy = [...Buffer.from(sha(text), 'hex')].map((b) => b.toString(16)).join('');
    expect(prismaChecksumMatches(text, legacy)).toBe(true);
  });

  it('graphile-migrate: the hash chain of the committed fixtures holds, and an edit breaks it', () => {
    const source = readMigrations('migrations', { cwd: path.join(FIXTURES, 'graphile-migrate') });
    expect(graphileChainProblems(source.migrations)).toEqual([]);
    const [first] = source.migrations;
    expect(graphileHash(first!.sql, null)).toBe(first!.header!.hash);
    const edited = [{ ...first!, sql: `${first!.sql}-- edit\n` }, ...source.migrations.slice(1)];
    expect(graphileChainProblems(edited).map((p) => p.problem)).toEqual([expect.stringContaining('no longer matches its `--! Hash:` header')]);
  });

  it('orders versions the way each tool does', () => {
    expect(compareVersions('flyway', '1.10', '1.9')).toBe(1);
    expect(compareVersions('flyway', '1.0', '1')).toBe(0);
    expect(compareVersions('sqlx', '10', '9')).toBe(1);
    expect(compareVersions('supabase', '202401010000015', '20240101000002')).toBe(-1);
  });
});
