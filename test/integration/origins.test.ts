/**
 * Where each object comes from (issue 14, item 1), on real PostgreSQL: objects whose name
 * is unique only within a parent (policies, triggers, rules, constraints, columns on a
 * table; tables and indexes within a schema) point at their own statement, at the line of
 * its first SQL token, never at a statement for another parent that uses the same name.
 * Checked on the shadow's origins, which every gate and every report (text, SARIF,
 * annotations, markdown) takes its locations from, and end to end through rls-audit.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceLocation } from '../../src/findings/types.ts';
import { invokeGate } from '../../src/gates/invoke.ts';
import { RULE_CATALOG } from '../../src/gates/rules-catalog.ts';
import { findOrigin } from '../../src/migrations/origins.ts';
import { buildShadow } from '../../src/migrations/shadow.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { annotationsOf } from '../../src/report/annotations.ts';
import { renderSarif } from '../../src/report/sarif.ts';
import { startTestCluster, withClient } from '../support/pg.ts';

let cluster: Cluster;
const temps: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Writes the files under `migrations/` of a new temporary repository. */
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'origins-'));
  temps.push(root);
  mkdirSync(path.join(root, 'migrations'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, 'migrations', name), text);
  return root;
}

/** `migrations/<file>` and the line where `statement` (its first SQL token) starts; the statement must occur once. */
function at(files: Record<string, string>, file: string, statement: string): SourceLocation {
  const text = files[file]!;
  const index = text.indexOf(statement);
  if (index < 0 || text.indexOf(statement, index + 1) >= 0) throw new Error(`${file} must contain "${statement}" exactly once`);
  return { file: `migrations/${file}`, line: text.slice(0, index).split('\n').length };
}

const PUBLIC_READ = '"Allow public read-only access."';

const FILES: Record<string, string> = {
  '001_tables.sql': [
    'create schema s1;',
    'create schema s2;',
    '',
    '-- the same table name in two schemas, the later schema first',
    'create table s2.items (id int primary key, label text);',
    'create table s1.items (id int primary key, label text);',
    '',
    'create table a (',
    '  id int primary key,',
    '  note text,',
    '  constraint id_positive check (id > 0)',
    ');',
    '/* b is a copy of a */',
    'create table b (',
    '  id int primary key,',
    '  note text,',
    '  constraint id_positive check (id > 0)',
    ');',
    'create function touch() returns trigger language plpgsql as $$ begin return new; end $$;',
    '',
  ].join('\n'),
  '002_policies.sql': [
    'alter table a enable row level security;',
    'alter table b enable row level security;',
    '',
    "-- the dashboard's default name, on two tables of one schema",
    `create policy ${PUBLIC_READ} on public.b for select using (true);`,
    '',
    `create policy ${PUBLIC_READ} on a`,
    '  for select using (true);',
    '',
    '-- and on one table name in two schemas',
    `create policy ${PUBLIC_READ} on s2.items for select using (true);`,
    `create policy ${PUBLIC_READ} on s1.items for select using (true);`,
    '',
  ].join('\n'),
  '003_triggers.sql': [
    'create trigger touch_row before update on b for each row execute function touch();',
    '',
    '/* and the same on a */',
    'create trigger touch_row before update on a for each row execute function touch();',
    '',
  ].join('\n'),
  '004_trigger_s2.sql': [
    '-- unqualified, resolved through the search path',
    'set search_path = s2, public;',
    '',
    'create trigger touch_row before update on items for each row execute function touch();',
    'reset search_path;',
    '',
  ].join('\n'),
  '005_trigger_s1.sql': 'create trigger touch_row before update on s1.items for each row execute function public.touch();\n',
  '006_rules.sql': ['create rule keep_rows as on delete to b do instead nothing;', 'create rule keep_rows as on delete to a do instead nothing;', ''].join(
    '\n',
  ),
  '007_constraints.sql': [
    "alter table b add constraint note_present check (note <> '');",
    "alter table a add constraint note_present check (note <> '');",
    '',
  ].join('\n'),
  '008_columns.sql': ['alter table b add column extra int;', '', 'alter table a', '  add column extra int;', ''].join('\n'),
  '009_indexes.sql': [
    'create index items_label on s2.items (label);',
    'set search_path = s1;',
    '-- the same index name on s1.items',
    'create index items_label on items (label);',
    'reset search_path;',
    '',
  ].join('\n'),
};

describe('origins of objects that share a name with another parent', () => {
  let origins: ReadonlyMap<string, SourceLocation>;

  beforeAll(async () => {
    const root = repo(FILES);
    const shadow = await buildShadow({ migrationsDir: 'migrations', format: 'plain', cwd: root, cluster });
    try {
      expect(shadow.failure).toBeUndefined();
      origins = shadow.origins;
    } finally {
      await shadow.stop();
    }
  });

  it.each([
    ['policy', 'public', `a.Allow public read-only access.`, '002_policies.sql', `create policy ${PUBLIC_READ} on a`],
    ['policy', 'public', `b.Allow public read-only access.`, '002_policies.sql', `create policy ${PUBLIC_READ} on public.b`],
    ['policy', 's1', `items.Allow public read-only access.`, '002_policies.sql', `create policy ${PUBLIC_READ} on s1.items`],
    ['policy', 's2', `items.Allow public read-only access.`, '002_policies.sql', `create policy ${PUBLIC_READ} on s2.items`],
    ['trigger', 'public', 'a.touch_row', '003_triggers.sql', 'create trigger touch_row before update on a '],
    ['trigger', 'public', 'b.touch_row', '003_triggers.sql', 'create trigger touch_row before update on b '],
    ['trigger', 's1', 'items.touch_row', '005_trigger_s1.sql', 'create trigger touch_row'],
    ['trigger', 's2', 'items.touch_row', '004_trigger_s2.sql', 'create trigger touch_row'],
    ['unmodeled', 'public', 'rule a.keep_rows', '006_rules.sql', 'create rule keep_rows as on delete to a '],
    ['unmodeled', 'public', 'rule b.keep_rows', '006_rules.sql', 'create rule keep_rows as on delete to b '],
    ['constraint', 'public', 'a.note_present', '007_constraints.sql', 'alter table a add constraint'],
    ['constraint', 'public', 'b.note_present', '007_constraints.sql', 'alter table b add constraint'],
    ['constraint', 'public', 'a.id_positive', '001_tables.sql', 'create table a ('],
    ['constraint', 'public', 'b.id_positive', '001_tables.sql', 'create table b ('],
    ['column', 'public', 'a.extra', '008_columns.sql', 'alter table a\n'],
    ['column', 'public', 'b.extra', '008_columns.sql', 'alter table b add column'],
    ['column', 'public', 'a.note', '001_tables.sql', 'create table a ('],
    ['column', 'public', 'b.note', '001_tables.sql', 'create table b ('],
    ['column', 's1', 'items.label', '001_tables.sql', 'create table s1.items'],
    ['column', 's2', 'items.label', '001_tables.sql', 'create table s2.items'],
    ['table', 's1', 'items', '001_tables.sql', 'create table s1.items'],
    ['table', 's2', 'items', '001_tables.sql', 'create table s2.items'],
    ['index', 's1', 'items_label', '009_indexes.sql', 'create index items_label on items'],
    ['index', 's2', 'items_label', '009_indexes.sql', 'create index items_label on s2.items'],
    ['index', 's1', 'items_pkey', '001_tables.sql', 'create table s1.items'],
    ['index', 's2', 'items_pkey', '001_tables.sql', 'create table s2.items'],
    ['constraint', 's1', 'items.items_pkey', '001_tables.sql', 'create table s1.items'],
    ['constraint', 's2', 'items.items_pkey', '001_tables.sql', 'create table s2.items'],
  ])('%s %s.%s is located at its own statement', (kind, schema, name, file, statement) => {
    expect(findOrigin(origins, { kind, schema, name })).toEqual(at(FILES, file, statement));
  });
});

describe('rls-audit findings on policies that share a name', () => {
  const files: Record<string, string> = {
    '001_init.sql': [
      'create table a (id int);',
      'create table b (id int);',
      'alter table a enable row level security;',
      'alter table b enable row level security;',
      '',
    ].join('\n'),
    '002_open.sql': [
      '-- the dashboard template, on two tables',
      'create policy "Enable insert for all users" on b for insert with check (true);',
      '',
      'create policy "Enable insert for all users" on a for insert with check (true);',
      '',
    ].join('\n'),
  };

  it('point at each policy in the JSON result, SARIF and annotations', async () => {
    const root = repo(files);
    await withClient(cluster.url, (client) => client.query('create role web_user nologin'));
    const flags: Record<string, string> = {
      'migrations-dir': 'migrations',
      'migrations-format': 'plain',
      schemas: 'public',
      'api-roles': 'web_user',
      'shadow-database-url': cluster.url,
      shadow: 'url',
    };
    const { result } = await invokeGate('rls', (name) => flags[name], 'cli', { cwd: root, env: {} });
    expect(result.error).toBeUndefined();
    const open = result.findings.filter((f) => f.rule === 'rls_policy_always_true');
    const expected = {
      'a.Enable insert for all users': at(files, '002_open.sql', 'create policy "Enable insert for all users" on a'),
      'b.Enable insert for all users': at(files, '002_open.sql', 'create policy "Enable insert for all users" on b'),
    };
    expect(Object.fromEntries(open.map((f) => [f.object.name, f.location]))).toEqual(expected);
    const sarif = JSON.parse(renderSarif({ ...result, findings: open }, { rules: RULE_CATALOG }).text) as {
      runs: Array<{
        results: Array<{
          locations: Array<{
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
            logicalLocations: Array<{ name: string }>;
          }>;
        }>;
      }>;
    };
    const sarifLocations = sarif.runs[0]!.results.map(({ locations: [where] }) => [
      where!.logicalLocations[0]!.name,
      { file: where!.physicalLocation.artifactLocation.uri, line: where!.physicalLocation.region.startLine },
    ]);
    expect(Object.fromEntries(sarifLocations)).toEqual(expected);
    expect(
      annotationsOf({ ...result, findings: open })
        .map((a) => `${a.file}:${a.line}`)
        .sort(),
    ).toEqual(
      Object.values(expected)
        .map((l) => `${l.file}:${l.line}`)
        .sort(),
    );
  });
});
