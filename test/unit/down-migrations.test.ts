/**
 * migration_down_missing / migration_down_unsupported on copies of the per-tool migration
 * fixtures (test/fixtures/migrations), each edited to lose or empty one rollback.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { downMigrationFindings } from '../../src/gates/drift/down-migrations.ts';
import { readMigrations } from '../../src/migrations/sources.ts';
import type { MigrationTool } from '../../src/migrations/types.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');
const DIRS: Record<MigrationTool, string> = {
  supabase: 'supabase/migrations',
  sqlx: 'migrations',
  prisma: 'prisma/migrations',
  drizzle: 'drizzle',
  flyway: 'sql',
  dbmate: 'db/migrations',
  'golang-migrate': 'migrations',
  'node-pg-migrate': 'migrations',
  'graphile-migrate': 'migrations',
  goose: 'migrations',
  plain: 'sql',
};
const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function copy(tool: MigrationTool): { root: string; dir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), `down-${tool}-`));
  temps.push(root);
  cpSync(path.join(FIXTURES, tool), root, { recursive: true });
  return { root, dir: path.join(root, DIRS[tool]) };
}

function check(root: string, dir: string, tool: MigrationTool, baseIds?: ReadonlySet<string>) {
  const source = readMigrations(dir, { cwd: root, format: tool });
  return downMigrationFindings(source, root, baseIds).map((f) => ({
    rule: f.rule,
    severity: f.severity,
    file: f.location?.file,
    line: f.location?.line,
    message: f.message,
  }));
}

const edit = (file: string, fn: (text: string) => string) => writeFileSync(file, fn(readFileSync(file, 'utf8')));

describe('tools with down migrations', () => {
  it.each(['golang-migrate', 'dbmate', 'goose', 'node-pg-migrate'] as const)('%s: the fixture has every rollback', (tool) => {
    const { root, dir } = copy(tool);
    expect(check(root, dir, tool)).toEqual([]);
  });

  it('golang-migrate: a missing .down.sql, at the migration line 1', () => {
    const { root, dir } = copy('golang-migrate');
    unlinkSync(path.join(dir, '2_create_posts.down.sql'));
    expect(check(root, dir, 'golang-migrate')).toEqual([
      {
        rule: 'migration_down_missing',
        severity: 'error',
        file: 'migrations/2_create_posts.up.sql',
        line: 1,
        message:
          'migrations/2_create_posts.up.sql has no rollback: golang-migrate expects a `<version>_<title>.down.sql` file next to the `.up.sql` (`migrate create -ext sql`).',
      },
    ]);
  });

  it('only the migrations the pull request adds (not on the base branch)', () => {
    const { root, dir } = copy('golang-migrate');
    unlinkSync(path.join(dir, '2_create_posts.down.sql'));
    unlinkSync(path.join(dir, '3_posts_index.down.sql'));
    expect(check(root, dir, 'golang-migrate', new Set(['1', '2'])).map((f) => f.file)).toEqual(['migrations/3_posts_index.up.sql']);
  });

  it('an empty rollback (whitespace and comments only) counts as missing', () => {
    const goose = copy('goose');
    edit(path.join(goose.dir, '20240101000003_posts_index.sql'), (text) =>
      text.replace('drop index concurrently posts_user_idx;', '-- nothing to undo\n/* really */'),
    );
    const golang = copy('golang-migrate');
    writeFileSync(path.join(golang.dir, '1_create_users.down.sql'), '\n  \n');
    for (const [{ root, dir }, tool, file] of [
      [golang, 'golang-migrate', 'migrations/1_create_users.up.sql'],
      [goose, 'goose', 'migrations/20240101000003_posts_index.sql'],
    ] as const) {
      expect(check(root, dir, tool)).toEqual([
        expect.objectContaining({ file, message: `${file} has an empty rollback (only whitespace or comments), which rolls nothing back.` }),
      ]);
    }
  });

  it('dbmate and node-pg-migrate: a migration without its down section', () => {
    const dbmate = copy('dbmate');
    edit(path.join(dbmate.dir, '20240101000002_create_posts.sql'), (text) => text.replace(/-- migrate:down[\s\S]*$/, ''));
    expect(check(dbmate.root, dbmate.dir, 'dbmate').map((f) => f.message)).toEqual([
      'db/migrations/20240101000002_create_posts.sql has no rollback: dbmate expects a `-- migrate:down` section after the up section.',
    ]);
    const npm = copy('node-pg-migrate');
    edit(path.join(npm.dir, '1704067201000_create-users.sql'), (text) => text.replace(/-- Down Migration[\s\S]*$/, ''));
    expect(check(npm.root, npm.dir, 'node-pg-migrate').map((f) => f.file)).toEqual(['migrations/1704067201000_create-users.sql']);
  });

  it('node-pg-migrate code migrations: a down export, unless it is false', () => {
    const { root, dir } = copy('node-pg-migrate');
    writeFileSync(
      path.join(dir, '1704067204000_reversible.js'),
      'exports.up = (pgm) => { pgm.sql("select 1"); };\nexports.down = (pgm) => { pgm.sql("select 2"); };\n',
    );
    writeFileSync(path.join(dir, '1704067205000_irreversible.js'), 'exports.up = (pgm) => {};\nexports.down = false;\n');
    writeFileSync(path.join(dir, '1704067206000_up-only.ts'), 'export async function up(pgm) {}\n');
    writeFileSync(path.join(dir, '1704067207000_esm.mjs'), 'export const up = () => {};\nexport const down = () => {};\n');
    expect(check(root, dir, 'node-pg-migrate').map((f) => f.file)).toEqual(['migrations/1704067205000_irreversible.js', 'migrations/1704067206000_up-only.ts']);
  });

  it('goose Go migrations: a down function, not nil', () => {
    const { root, dir } = copy('goose');
    writeFileSync(path.join(dir, '20240101000004_backfill.go'), 'package migrations\n\nfunc init() { goose.AddMigrationContext(upBackfill, nil) }\n');
    writeFileSync(path.join(dir, '20240101000005_rename.go'), 'package migrations\n\nfunc init() { goose.AddMigrationContext(upRename, downRename) }\n');
    expect(check(root, dir, 'goose').map((f) => f.file)).toEqual(['migrations/20240101000004_backfill.go']);
  });

  it('sqlx: simple migrations have none; a reversible pair has one', () => {
    const { root, dir } = copy('sqlx');
    expect(check(root, dir, 'sqlx')).toHaveLength(3);
    renameSync(path.join(dir, '20240101000001_create_users.sql'), path.join(dir, '20240101000001_create_users.up.sql'));
    writeFileSync(path.join(dir, '20240101000001_create_users.down.sql'), 'drop table users;\n');
    expect(check(root, dir, 'sqlx').map((f) => f.file)).toEqual(['migrations/20240101000002_create_posts.sql', 'migrations/20240101000003_posts_index.sql']);
  });

  it('Flyway: an undo migration U<version>__ next to the versioned one; repeatables need none', () => {
    const { root, dir } = copy('flyway');
    writeFileSync(path.join(dir, 'U1__create_users.sql'), 'drop table users;\n');
    writeFileSync(path.join(dir, 'U1.1__create_posts.sql'), 'drop table posts;\n');
    expect(check(root, dir, 'flyway').map((f) => f.file)).toEqual(['sql/V2__posts_index.sql']);
  });
});

describe('tools without down migrations', () => {
  it.each(['supabase', 'prisma', 'drizzle', 'graphile-migrate', 'plain'] as const)('%s: one notice, nothing fails', (tool) => {
    const { root, dir } = copy(tool);
    const findings = check(root, dir, tool);
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['migration_down_unsupported', 'notice']]);
    expect(findings[0]!.message).toMatch(/^`drift\.require-down-migrations` is on, but .+ has no down migrations, so there is nothing to require\.$/);
  });
});
