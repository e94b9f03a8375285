/**
 * A generated project for drift-gate's benchmark and its zero-drift test: plain
 * numbered SQL migrations creating tables with identity keys, defaults, checks,
 * indexes, RLS and two policies each, SECURITY DEFINER functions with a pinned
 * search_path, and grants to an application role.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ProjectSize {
  migrations: number;
  tables: number;
  functions: number;
}

export const FULL: ProjectSize = { migrations: 300, tables: 500, functions: 300 };
export const LIGHT: ProjectSize = { migrations: 30, tables: 50, functions: 30 };

function table(n: number): string {
  return `create table app.t${n} (
  id bigint generated always as identity primary key,
  owner_id uuid not null,
  title text not null default '',
  status text check (status in ('draft', 'live')),
  created_at timestamptz not null default now()
);
create index t${n}_owner_idx on app.t${n} (owner_id);
alter table app.t${n} enable row level security;
create policy t${n}_read on app.t${n} for select to app_user using (owner_id = current_setting('app.user_id', true)::uuid);
create policy t${n}_write on app.t${n} for insert to app_user with check (owner_id = current_setting('app.user_id', true)::uuid);
grant select, insert on app.t${n} to app_user;
comment on table app.t${n} is 'generated table ${n}';
`;
}

function fn(n: number): string {
  return `create function app.f${n}(x int) returns int
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return x + ${n};
end;
$$;
revoke execute on function app.f${n}(int) from public;
grant execute on function app.f${n}(int) to app_user;
`;
}

/** The migrations as [file name, SQL] pairs: 2 policies per table, functions spread over the files. */
export function generateMigrations(size: ProjectSize): Array<[string, string]> {
  const files: Array<[string, string]> = [];
  let nextTable = 0;
  let nextFunction = 0;
  for (let i = 0; i < size.migrations; i++) {
    const parts: string[] = [];
    if (i === 0) {
      parts.push(`do $$ begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'app_user') then create role app_user nologin; end if;
end $$;
create schema app;
grant usage on schema app to app_user;
alter default privileges in schema app grant select on tables to app_user;
`);
    }
    const remaining = size.migrations - i;
    const tables = Math.ceil((size.tables - nextTable) / remaining);
    for (let t = 0; t < tables; t++) parts.push(table(nextTable++));
    const functions = Math.ceil((size.functions - nextFunction) / remaining);
    for (let f = 0; f < functions; f++) parts.push(fn(nextFunction++));
    files.push([`${String(i + 1).padStart(4, '0')}_step_${i + 1}.sql`, parts.join('\n')]);
  }
  return files;
}

/** Writes the project's migrations into `dir` (created). */
export function writeProject(dir: string, size: ProjectSize): string[] {
  mkdirSync(dir, { recursive: true });
  const migrations = generateMigrations(size);
  for (const [name, sql] of migrations) writeFileSync(path.join(dir, name), sql);
  return migrations.map(([name]) => name);
}

/** Scripts creating `tables` tables like the project's (for the snapshot benchmark), 200 per script to stay within the lock table. */
export function wideSchema(tables: number): string[] {
  const scripts = [
    `do $$ begin if not exists (select 1 from pg_catalog.pg_roles where rolname = 'app_user') then create role app_user nologin; end if; end $$;
create schema app;`,
  ];
  for (let start = 0; start < tables; start += 200) {
    const parts: string[] = [];
    for (let n = start; n < Math.min(tables, start + 200); n++) parts.push(table(n));
    scripts.push(parts.join('\n'));
  }
  return scripts;
}
