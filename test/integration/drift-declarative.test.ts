/**
 * drift-gate PR mode with declarative schemas (supabase/schemas, `[db.migrations] schema_paths`)
 * on real PostgreSQL: the migrations must build the declared schema. Each difference is a
 * `declarative_schema_drift` finding at the schema file's line or the migration's; a project
 * whose migrations were generated from its schemas has none; data statements and the other blind
 * spots of declarative diffing are never drift; bad schema_paths are one sentence and exit 2.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';

let cluster: Cluster;
const temps: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A Supabase project with these files under supabase/ (config.toml written unless given). */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'drift-declarative-'));
  temps.push(root);
  const all = { 'config.toml': 'project_id = "declarative"\n', ...files };
  for (const [name, text] of Object.entries(all)) {
    const file = path.join(root, 'supabase', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return root;
}

async function gate(cwd: string): Promise<GateResult> {
  const all: Record<string, string> = { shadow: 'url', 'shadow-database-url': cluster.url, 'migrations-dir': 'supabase/migrations' };
  const options = parseInputs(DRIFT_INPUTS, (name) => all[name], 'cli');
  return run(options, createContext({ cwd, env: {} }));
}

const declarative = (result: GateResult) => result.findings.filter((f) => f.rule === 'declarative_schema_drift');

/** The same schema, declared and as a generated migration: a table, index, function, policy and grants. */
const TODOS = `create table public.todos (
  id bigint generated always as identity primary key,
  owner uuid not null,
  title text not null default '',
  done boolean not null default false
);

create index todos_owner_idx on public.todos (owner);

alter table public.todos enable row level security;

create function public.is_owner(owner uuid) returns boolean
language sql stable security definer set search_path = ''
as $$ select owner = (select auth.uid()) $$;

create policy todos_own on public.todos for all to authenticated
  using (public.is_owner(owner)) with check (public.is_owner(owner));

grant select, insert, update, delete on public.todos to authenticated;
grant execute on function public.is_owner(uuid) to authenticated;
`;

const STATUSES = `create table public.statuses (
  code text primary key,
  label text not null
);
grant select on public.statuses to anon, authenticated;
`;

describe('declarative schemas in PR mode', () => {
  it('finds no difference in a project whose migrations were generated from its schemas', async () => {
    const root = project({
      'schemas/10_statuses.sql': STATUSES,
      'schemas/20_todos.sql': TODOS,
      'migrations/20260601000000_init.sql': `${STATUSES}\n${TODOS}`,
    });
    const result = await gate(root);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('pass');
    expect(result.metrics.declared_schema_files).toBe(2);
    expect(result.metrics.declarative_differences).toBe(0);
    expect(result.details?.declaredSchemas).toEqual({ from: 'supabase/schemas', files: 2 });
  });

  it('reports a column a schema file declares and no migration adds, at the schema file line', async () => {
    const root = project({
      'schemas/todos.sql': TODOS.replace('  done boolean not null default false\n', '  done boolean not null default false,\n  due date\n'),
      'migrations/20260601000000_init.sql': TODOS,
    });
    const result = await gate(root);
    expect(result.status).toBe('fail');
    const [finding, ...others] = declarative(result);
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      severity: 'error',
      object: { kind: 'column', schema: 'public', name: 'todos.due' },
      location: { file: 'supabase/schemas/todos.sql', line: 1 },
    });
    expect(finding!.message).toBe('Column public.todos.due is declared in supabase/schemas/todos.sql:1 but no migration creates it.');
    expect(finding!.remediation).toContain('supabase db diff -f <name>');
    expect(finding!.remediation).toMatch(/alter table .*todos.* add column .*due.* date/i);
  });

  it('reports a column a migration adds and the schema files lack, at the migration line', async () => {
    const root = project({
      'schemas/todos.sql': TODOS,
      'migrations/20260601000000_init.sql': TODOS,
      'migrations/20260602000000_priority.sql': '-- by hand\n\nalter table public.todos add column priority int not null default 0;\n',
    });
    const result = await gate(root);
    const [finding, ...others] = declarative(result);
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      object: { kind: 'column', schema: 'public', name: 'todos.priority' },
      location: { file: 'supabase/migrations/20260602000000_priority.sql', line: 3 },
    });
    expect(finding!.message).toBe(
      'Column public.todos.priority is created by supabase/migrations/20260602000000_priority.sql:3 but the schema files do not declare it.',
    );
    expect(finding!.remediation).toMatch(/drop column .*priority/i);
  });

  it('points a changed object at the schema file, with the migration as a related location', async () => {
    const root = project({
      'schemas/todos.sql': TODOS.replace("title text not null default ''", "title text not null default 'untitled'"),
      'migrations/20260601000000_init.sql': TODOS,
    });
    const [finding, ...others] = declarative(await gate(root));
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      object: { kind: 'column', name: 'todos.title' },
      location: { file: 'supabase/schemas/todos.sql', line: 1 },
      related: [{ file: 'supabase/migrations/20260601000000_init.sql', line: 1 }],
    });
    expect(finding!.detail).toContain("schema files: 'untitled'::text");
  });

  it('never reports data statements or the other blind spots of declarative diffing', async () => {
    const root = project({
      'schemas/statuses.sql': STATUSES,
      'migrations/20260601000000_init.sql': STATUSES,
      'migrations/20260602000000_seed_statuses.sql': `insert into public.statuses (code, label) values ('open', 'Open'), ('done', 'Done');
update public.statuses set label = 'Finished' where code = 'done';
alter publication supabase_realtime add table public.statuses;
comment on constraint statuses_pkey on public.statuses is 'written by hand';
`,
    });
    const result = await gate(root);
    expect(result.findings).toEqual([]);
    expect(result.metrics.declarative_blind_spots).toBeGreaterThan(0);
  });

  it('applies schema_paths in the listed order, relative to supabase/, and reports a failing schema file at its line', async () => {
    const files = {
      'config.toml': 'project_id = "declarative"\n\n[db.migrations]\nschema_paths = ["./declared/tables/*.sql", "./declared/policies.sql"]\n',
      'declared/tables/a_statuses.sql': STATUSES,
      // policies reference the tables: listed second although its name sorts first
      'declared/policies.sql': 'alter table public.statuses enable row level security;\ncreate policy read_all on public.statuses for select using (true);\n',
      'migrations/20260601000000_init.sql': `${STATUSES}alter table public.statuses enable row level security;\ncreate policy read_all on public.statuses for select using (true);\n`,
    };
    expect((await gate(project(files))).findings).toEqual([]);

    const broken = project({ ...files, 'declared/tables/b_broken.sql': 'create table public.b (\n  id int,\n  x nosuchtype\n);\n' });
    const result = await gate(broken);
    const failure = result.findings.find((f) => f.rule === 'migration_apply_failed')!;
    expect(failure.location).toEqual({ file: 'supabase/declared/tables/b_broken.sql', line: 3 });
    expect(failure.remediation).toContain('schema files');
    expect(declarative(result)).toEqual([]);
  });

  it('rejects a schema_paths entry that matches nothing, in one sentence (exit 2)', async () => {
    const root = project({
      'config.toml': 'project_id = "declarative"\n\n[db.migrations]\nschema_paths = ["schemas/*.sql", "schemas/missing/*.sql"]\n',
      'schemas/statuses.sql': STATUSES,
      'migrations/20260601000000_init.sql': STATUSES,
    });
    const result = await gate(root);
    expect(result.status).toBe('error');
    expect(result.error).toBe(
      'supabase/config.toml: `[db.migrations] schema_paths` entry "schemas/missing/*.sql" matches no file (paths are relative to the supabase/ folder, supabase); fix the path or remove the entry.',
    );
  });
});
