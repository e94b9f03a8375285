/** Reading migration folders (every format), checksum rules, and bad inputs as one sentence. */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { flywayChecksum, graphileHash, prismaChecksumMatches, sqlxChecksum } from '../../src/migrations/checksums.ts';
import { assertFormat, compareVersions, detectTool, type FileProblem, graphileChainProblems, readMigrations } from '../../src/migrations/sources.ts';
import { DEFAULT_MIGRATION_DIRS, TOOLS } from '../../src/migrations/tools/index.ts';
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
  ['goose', 'migrations', 3],
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
      { file: 'supabase/migrations/add_column.sql', problem: expect.stringContaining('does not match <timestamp>_<name>.sql'), severity: 'warning' },
    ]);
  });

  it('Supabase: files the CLI skips (seed.sql, names off its pattern) are warnings saying the CLI skips them too', () => {
    const root = temp();
    cpSync(path.join(FIXTURES, 'supabase'), root, { recursive: true });
    const dir = path.join(root, 'supabase/migrations');
    writeFileSync(path.join(dir, 'seed.sql'), "insert into users values (1, 'a@example.com');");
    writeFileSync(path.join(dir, '2024-01-01_dashes.sql'), 'select 1;');
    writeFileSync(path.join(dir, 'README.md'), '# not SQL: not a migration, not reported');
    const source = readMigrations('supabase/migrations', { cwd: root });
    expect(source.migrations.map((m) => m.file)).toEqual([
      'supabase/migrations/20240101000001_users.sql',
      'supabase/migrations/20240101000002_posts.sql',
      'supabase/migrations/20240101000003_posts_index.sql',
    ]);
    expect(source.problems.map((p) => [p.file, (p as FileProblem).severity])).toEqual([
      ['supabase/migrations/2024-01-01_dashes.sql', 'warning'],
      ['supabase/migrations/seed.sql', 'warning'],
    ]);
    const [dashes, seed] = source.problems as [FileProblem, FileProblem];
    expect(dashes.problem).toBe(
      '`2024-01-01_dashes.sql` does not match <timestamp>_<name>.sql, so the Supabase CLI skips it too (`supabase db push` and `supabase db reset` print "Skipping migration 2024-01-01_dashes.sql..." and never run it) and postgate does not apply it; if it is a migration, rename it to <timestamp>_<name>.sql (e.g. with `supabase migration new <name>`).',
    );
    expect(seed.problem).toBe(
      '`seed.sql` sits in the migrations folder, where the Supabase CLI skips it too (`supabase db push` and `supabase db reset` print "Skipping migration seed.sql..." and never run it) and postgate does not apply it; move it to supabase/seed.sql, where `supabase db reset` seeds from.',
    );
  });

  it('Supabase: skips a first `<timestamp>_init.sql` older than 2021-12-09, as the CLI does', () => {
    const root = temp();
    mkdirSync(path.join(root, 'supabase/migrations'), { recursive: true });
    writeFileSync(path.join(root, 'supabase/config.toml'), 'project_id = "x"\n');
    writeFileSync(path.join(root, 'supabase/migrations/20211001000000_init.sql'), 'create table a (id int);');
    writeFileSync(path.join(root, 'supabase/migrations/20220101000000_b.sql'), 'create table b (id int);');
    const source = readMigrations('supabase/migrations', { cwd: root });
    expect(source.migrations.map((m) => m.version)).toEqual(['20220101000000']);
    expect(source.problems).toEqual([
      {
        file: 'supabase/migrations/20211001000000_init.sql',
        problem: expect.stringMatching(
          /^`20211001000000_init\.sql` is the first file and an `<timestamp>_init\.sql` from before 2021-12-09, so the Supabase CLI skips it too/,
        ),
        severity: 'warning',
      },
    ]);
    // Not the first entry of the folder (here a .gitkeep sorts first), or a newer timestamp: a migration like any other.
    writeFileSync(path.join(root, 'supabase/migrations/.gitkeep'), '');
    expect(readMigrations('supabase/migrations', { cwd: root }).migrations.map((m) => m.version)).toEqual(['20211001000000', '20220101000000']);
  });

  it('other tools: a file the tool will not run stays an error', () => {
    const root = temp();
    mkdirSync(path.join(root, 'migrations'));
    writeFileSync(path.join(root, 'migrations/1_a.up.sql'), 'select 1;');
    writeFileSync(path.join(root, 'migrations/fix.sql'), 'select 1;');
    const source = readMigrations('migrations', { cwd: root, format: 'golang-migrate' });
    expect(source.problems).toEqual([{ file: 'migrations/fix.sql', problem: expect.stringContaining('golang-migrate skips it'), severity: 'error' }]);
  });

  it("two files with one version: a problem naming both, the first (in the tool's order) kept, the others left out", () => {
    const root = temp();
    mkdirSync(path.join(root, 'dup'));
    writeFileSync(path.join(root, 'dup/001_a.sql'), 'select 1;');
    writeFileSync(path.join(root, 'dup/1_b.sql'), 'select 2;');
    writeFileSync(path.join(root, 'dup/2_c.sql'), 'select 3;');
    const source = readMigrations('dup', { cwd: root });
    expect(source.migrations.map((m) => m.file)).toEqual(['dup/001_a.sql', 'dup/2_c.sql']);
    expect(source.problems).toEqual([
      {
        file: 'dup/1_b.sql',
        severity: 'error',
        duplicate: { id: '1', files: ['dup/001_a.sql', 'dup/1_b.sql'] },
        problem:
          'Migration files dup/001_a.sql and dup/1_b.sql both have version 1, so their order is unknown to whatever runs them; postgate applies dup/001_a.sql only, so give dup/1_b.sql a new, later version.',
      },
    ]);
  });

  it.each([
    [
      'supabase',
      'supabase/migrations',
      ['20240101000002_a.sql', '20240101000002_b.sql', '20240101000002_c.sql'],
      /^Migration files supabase\/migrations\/20240101000002_a\.sql, supabase\/migrations\/20240101000002_b\.sql and supabase\/migrations\/20240101000002_c\.sql all have version 20240101000002, so the Supabase CLI applies the first and then fails on the next \(its version is the primary key of supabase_migrations\.schema_migrations\)/,
    ],
    ['sqlx', 'migrations', ['01_b.sql', '1_a.sql'], /so `sqlx migrate run` fails on the second \(version is the primary key of _sqlx_migrations\)/],
    ['flyway', 'sql', ['V1.0__b.sql', 'V1__a.sql'], /so Flyway refuses to migrate at all/],
    ['dbmate', 'db/migrations', ['1_a.sql', '1_b.sql'], /so dbmate fails on the second \(version is the primary key of schema_migrations\)/],
    ['golang-migrate', 'migrations', ['01_b.up.sql', '1_a.up.sql'], /so golang-migrate refuses the whole folder \(duplicate migration file\)/],
  ] as const)('%s: says what the tool does with two files of one version', (tool, dir, files, effect) => {
    const root = temp();
    mkdirSync(path.join(root, dir), { recursive: true });
    for (const file of files) writeFileSync(path.join(root, dir, file), tool === 'dbmate' ? '-- migrate:up\nselect 1;\n' : 'select 1;');
    const source = readMigrations(dir, { cwd: root, format: tool });
    expect(source.migrations).toHaveLength(1);
    const problems = source.problems as FileProblem[];
    expect(problems).toHaveLength(1);
    // In the tool's order: the first is the one kept (and applied to the shadow).
    expect(problems[0]!.duplicate!.files).toEqual(files.map((f) => `${dir}/${f}`));
    expect(source.migrations[0]!.file).toBe(`${dir}/${files[0]}`);
    expect(problems[0]!.problem).toMatch(effect);
    for (const file of files) expect(problems[0]!.problem).toContain(`${dir}/${file}`);
  });

  it('Flyway: two repeatables with one description are a problem too', () => {
    const root = temp();
    mkdirSync(path.join(root, 'sql/a'), { recursive: true });
    mkdirSync(path.join(root, 'sql/b'));
    writeFileSync(path.join(root, 'sql/V1__t.sql'), 'create table t (id int);');
    writeFileSync(path.join(root, 'sql/a/R__views.sql'), 'select 1;');
    writeFileSync(path.join(root, 'sql/b/R__views.sql'), 'select 2;');
    const source = readMigrations('sql', { cwd: root, format: 'flyway' });
    expect(source.migrations.map((m) => m.file)).toEqual(['sql/V1__t.sql', 'sql/a/R__views.sql']);
    expect((source.problems as FileProblem[]).map((p) => [p.file, p.duplicate?.id])).toEqual([['sql/b/R__views.sql', 'R:views']]);
    expect(source.problems[0]!.problem).toMatch(
      /^Migration files sql\/a\/R__views\.sql and sql\/b\/R__views\.sql both have description views, so Flyway refuses to migrate at all/,
    );
  });

  it('rejects bad folders and files with one sentence naming the input', () => {
    const root = temp();
    mkdirSync(path.join(root, 'empty'));
    writeFileSync(path.join(root, 'file.sql'), 'select 1;');
    expect(userError(() => readMigrations('nope', { cwd: root }))).toBe(
      'Input `migrations-dir` is nope, which does not exist; point it at the folder holding your migrations.',
    );
    expect(userError(() => readMigrations('empty', { cwd: root }))).toMatch(
      /^Input `migrations-dir` is empty, which holds no numbered \.sql migrations; point it at the folder holding your migrations or set `migrations-format`\.$/,
    );
    expect(userError(() => readMigrations('file.sql', { cwd: root }))).toMatch(/which is a file, not a folder/);

    mkdirSync(path.join(root, 'latin1'));
    writeFileSync(path.join(root, 'latin1/001_bad.sql'), Buffer.from([0x73, 0x65, 0x6c, 0x65, 0x63, 0x74, 0x20, 0x27, 0xe9, 0x27, 0x3b]));
    expect(userError(() => readMigrations('latin1', { cwd: root }))).toMatch(
      /^Migration file .*001_bad\.sql is not valid UTF-8 \(first bad byte on line 1\); re-save it as UTF-8\.$/,
    );

    expect(userError(() => assertFormat('liquibase'))).toMatch(
      /^`migrations-format` is "liquibase", which is not a migration tool postgate reads; use one of auto, supabase, sqlx/,
    );
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

describe('goose', () => {
  it('runs the Up section only (StatementBegin/End blocks kept whole), keyed by the numeric version, NO TRANSACTION honoured', () => {
    const source = readMigrations('migrations', { cwd: path.join(FIXTURES, 'goose') });
    expect(source).toMatchObject({ tool: 'goose', detection: 'strong', problems: [] });
    expect(source.migrations.map((m) => [m.id, m.name, m.noTransaction])).toEqual([
      ['20240101000001', 'create_users', false],
      ['20240101000002', 'create_posts', false],
      ['20240101000003', 'posts_index', true],
    ]);
    const [users, posts] = source.migrations;
    expect(users!.sql).not.toMatch(/drop table/);
    expect(users!.raw.slice(users!.sqlOffset).startsWith('create table users')).toBe(true);
    expect(posts!.sql).toMatch(/-- \+goose StatementBegin\ncreate function post_count[\s\S]*\$\$;\n-- \+goose StatementEnd/);
    expect(posts!.sql).not.toMatch(/drop function/);
  });

  it('orders sequential versions numerically, lists Go migrations without running them, and reports files goose will not run', () => {
    const root = temp();
    mkdirSync(path.join(root, 'migrations'));
    writeFileSync(path.join(root, 'migrations/00010_later.sql'), '-- +goose Up\nselect 10;\n');
    writeFileSync(path.join(root, 'migrations/00002_early.sql'), '-- +goose Up\nselect 2;\n-- +goose Down\nselect -2;\n');
    writeFileSync(path.join(root, 'migrations/00003_backfill.go'), 'package migrations\n');
    writeFileSync(path.join(root, 'migrations/main.go'), 'package main\n');
    writeFileSync(path.join(root, 'migrations/00004_no_annotation.sql'), 'select 4;\n');
    writeFileSync(path.join(root, 'migrations/fix.sql'), '-- +goose Up\nselect 1;\n');
    const source = readMigrations('migrations', { cwd: root });
    expect(source.tool).toBe('goose');
    expect(source.migrations.map((m) => [m.file, m.executable])).toEqual([
      ['migrations/00002_early.sql', true],
      ['migrations/00003_backfill.go', false],
      ['migrations/00010_later.sql', true],
    ]);
    expect(source.migrations[0]!.sql).toBe('select 2;\n');
    expect(source.problems).toEqual([
      {
        file: 'migrations/00004_no_annotation.sql',
        problem: '`00004_no_annotation.sql` has no `-- +goose Up` line, so goose refuses to run it; add the annotation above the SQL.',
        severity: 'error',
      },
      { file: 'migrations/fix.sql', problem: expect.stringContaining('so goose cannot place it in its order'), severity: 'error' },
    ]);
    expect(compareVersions('goose', '10', '9')).toBe(1);
  });

  it('two files of one version: goose refuses the folder', () => {
    const root = temp();
    mkdirSync(path.join(root, 'migrations'));
    writeFileSync(path.join(root, 'migrations/001_a.sql'), '-- +goose Up\nselect 1;\n');
    writeFileSync(path.join(root, 'migrations/1_b.sql'), '-- +goose Up\nselect 2;\n');
    const source = readMigrations('migrations', { cwd: root });
    expect(source.migrations.map((m) => m.file)).toEqual(['migrations/001_a.sql']);
    expect(source.problems[0]!.problem).toMatch(
      /have version 1, so goose refuses the whole folder \(duplicate version\); postgate applies migrations\/001_a\.sql only/,
    );
  });

  it('a byte order mark is refused, as goose keeps it and then misses its annotation', () => {
    const root = temp();
    mkdirSync(path.join(root, 'migrations'));
    writeFileSync(path.join(root, 'migrations/1_a.sql'), '\uFEFF-- +goose Up\nselect 1;\n');
    expect(userError(() => readMigrations('migrations', { cwd: root, format: 'goose' }))).toMatch(
      /^Migration file migrations\/1_a\.sql starts with a UTF-8 byte order mark, which goose does not remove/,
    );
  });
});

describe('tool adapters', () => {
  it('every tool has an adapter under its own id, and its default folders are looked at', () => {
    for (const [id, adapter] of Object.entries(TOOLS)) {
      expect(adapter.id).toBe(id);
      for (const dir of adapter.defaultDirs) expect(DEFAULT_MIGRATION_DIRS, `${id} ${dir}`).toContain(dir);
    }
  });
});
