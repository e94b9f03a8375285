/**
 * The declarative comparison's pure parts: which differences are blind spots of declarative
 * diffing (never drift), and which schema files a project declares, in the Supabase CLI's order.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SchemaDifference } from '../../src/catalog/index.ts';
import { UserError } from '../../src/errors.ts';
import { isBlindSpot } from '../../src/gates/drift/declarative-blind-spots.ts';
import { findDeclaredSchemas } from '../../src/gates/drift/declarative.ts';
import { readMigrations } from '../../src/migrations/sources.ts';

const changed = (kind: SchemaDifference['kind'], ...properties: string[]): SchemaDifference => ({
  kind,
  schema: 'public',
  name: 'x',
  change: 'changed',
  changes: properties.map((property) => ({ property, expected: 'a', actual: 'b' })),
  minor: false,
  summary: '',
  restoreSql: '',
  captureSql: '',
});

describe('blind spots of declarative diffing', () => {
  it('leaves out view and column privileges, publication tables and comments on some kinds', () => {
    expect(isBlindSpot(changed('view', 'acl'))).toBe(true);
    expect(isBlindSpot(changed('materialized_view', 'acl'))).toBe(true);
    expect(isBlindSpot(changed('column', 'acl'))).toBe(true);
    expect(isBlindSpot(changed('publication', 'tables', 'comment'))).toBe(true);
    expect(isBlindSpot(changed('policy', 'comment'))).toBe(true);
  });

  it('keeps everything else, and a blind spot that comes with another change', () => {
    expect(isBlindSpot(changed('table', 'acl'))).toBe(false);
    expect(isBlindSpot(changed('table', 'comment'))).toBe(false);
    expect(isBlindSpot(changed('view', 'acl', 'definition'))).toBe(false);
    expect(isBlindSpot(changed('publication', 'tables', 'allTables'))).toBe(false);
    expect(isBlindSpot({ ...changed('view', 'acl'), change: 'missing', changes: [] })).toBe(false);
  });
});

describe('findDeclaredSchemas', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  function project(files: Record<string, string>): string {
    const root = mkdtempSync(path.join(os.tmpdir(), 'declared-'));
    roots.push(root);
    for (const [name, text] of Object.entries({ 'supabase/migrations/20260101000000_init.sql': 'select 1;\n', ...files })) {
      mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      writeFileSync(path.join(root, name), text);
    }
    return root;
  }
  const declared = (root: string) => findDeclaredSchemas(readMigrations(path.join(root, 'supabase/migrations'), { cwd: root }), root)?.files.map((m) => m.file);

  it('walks supabase/schemas in name order when schema_paths is unset, skipping other files and links', () => {
    const root = project({
      'supabase/config.toml': 'project_id = "p"\n[db.migrations]\nschema_paths = []\n',
      'supabase/schemas/b.sql': '',
      'supabase/schemas/a/z.sql': '',
      'supabase/schemas/a.sql': '',
      'supabase/schemas/notes.md': '',
    });
    symlinkSync(path.join(root, 'supabase/schemas/b.sql'), path.join(root, 'supabase/schemas/c.sql'));
    expect(declared(root)).toEqual(['supabase/schemas/a/z.sql', 'supabase/schemas/a.sql', 'supabase/schemas/b.sql']);
  });

  it('declares nothing without schema_paths and without a schemas folder', () => {
    expect(declared(project({ 'supabase/config.toml': 'project_id = "p"\n' }))).toBeUndefined();
  });

  it('takes schema_paths in the listed order, each glob sorted, relative to supabase/, each file once', () => {
    const root = project({
      'supabase/config.toml': 'project_id = "p"\n[db.migrations]\nschema_paths = ["./db/types.sql", "db/[a-m]*.sql", "../shared/*.sql"]\n',
      'supabase/db/types.sql': '',
      'supabase/db/functions.sql': '',
      'supabase/db/app.sql': '',
      'supabase/db/tables.sql': '',
      'shared/extra.sql': '',
    });
    expect(declared(root)).toEqual(['supabase/db/types.sql', 'supabase/db/app.sql', 'supabase/db/functions.sql', 'shared/extra.sql']);
  });

  it('rejects a pattern that matches nothing or leads outside the repository, in one sentence', () => {
    const missing = project({ 'supabase/config.toml': '[db.migrations]\nschema_paths = ["schemas/*.sql"]\n' });
    expect(() => declared(missing)).toThrow(UserError);
    expect(() => declared(missing)).toThrow(
      'supabase/config.toml: `[db.migrations] schema_paths` entry "schemas/*.sql" matches no file (paths are relative to the supabase/ folder, supabase); fix the path or remove the entry.',
    );
    const outside = project({ 'supabase/config.toml': '[db.migrations]\nschema_paths = ["../../*.sql"]\n' });
    expect(() => declared(outside)).toThrow(/leads outside the repository/);
    const wrongType = project({ 'supabase/config.toml': '[db.migrations]\nschema_paths = "schemas/*.sql"\n' });
    expect(() => declared(wrongType)).toThrow(/must be a list of paths or globs/);
  });
});
