/**
 * drift-gate's declarative comparison: PR mode on a generated Supabase project (full: 300
 * migrations, 500 tables, 1,000 policies, 300 functions; light: a tenth) whose supabase/schemas
 * declare the same schema in as many files, so the gate builds both shadows (the Supabase
 * baseline, the migrations, the schema files in a second database on the same cluster), reads
 * both catalogs and compares them (zero differences). Against the raw floor measured in the same
 * run: initdb + start + `psql -1 -f` of the migrations into one database and of the schema files
 * into a second + stop. Goal (issue 16): <= 1.3x. The two are interleaved, medians reported.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { MAJOR, rawFloor } from '../drift/index.ts';
import { FULL, generateMigrations, LIGHT } from '../drift/project.ts';
import { type Bench, median, result } from '../types.ts';

/** Writes the project: the same SQL as dated migrations and as schema files; returns the two concatenations. */
function writeDeclaredProject(root: string, light: boolean): { migrationsSql: string; schemasSql: string } {
  const files = generateMigrations(light ? LIGHT : FULL);
  const supabase = path.join(root, 'supabase');
  mkdirSync(path.join(supabase, 'migrations'), { recursive: true });
  mkdirSync(path.join(supabase, 'schemas'), { recursive: true });
  writeFileSync(path.join(supabase, 'config.toml'), 'project_id = "bench"\n');
  for (const [index, [name, sql]] of files.entries()) {
    writeFileSync(path.join(supabase, 'migrations', `${20260601000000 + index}_${name.replace(/^\d+_/, '')}`), sql);
    writeFileSync(path.join(supabase, 'schemas', name), sql);
  }
  const all = files.map(([, sql]) => sql).join('\n');
  return { migrationsSql: all, schemasSql: all };
}

async function declarativeRun(root: string): Promise<{ ms: number; declarativeMs: number }> {
  const inputs: Record<string, string> = { 'migrations-dir': 'supabase/migrations', shadow: 'local', 'postgres-version': String(MAJOR) };
  const options = parseInputs(DRIFT_INPUTS, (name) => inputs[name], 'cli');
  const started = performance.now();
  const outcome = await run(options, createContext({ cwd: root }));
  const ms = performance.now() - started;
  if (outcome.status !== 'pass' || outcome.metrics.declared_schema_files === undefined) {
    throw new Error(`the declarative comparison did not pass on the generated project: ${outcome.error ?? outcome.findings.map((f) => f.message).join('; ')}`);
  }
  return { ms, declarativeMs: outcome.metrics.declarative_ms ?? 0 };
}

export const bench: Bench = async ({ light, log }) => {
  const size = light ? LIGHT : FULL;
  const reps = light ? 2 : 3;
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-declarative-'));
  try {
    const { migrationsSql, schemasSql } = writeDeclaredProject(work, light);
    const migrationsFile = path.join(work, 'migrations.sql');
    const schemasFile = path.join(work, 'schemas.sql');
    writeFileSync(migrationsFile, migrationsSql);
    writeFileSync(schemasFile, schemasSql);
    const ours: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < reps; i++) {
      floor.push(await rawFloor(migrationsFile, schemasFile));
      const measured = await declarativeRun(work);
      ours.push(measured.ms);
      log(
        `round ${i + 1}: postgate ${Math.round(measured.ms)} ms (of which schema files + comparison ${measured.declarativeMs} ms), raw two builds ${Math.round(floor.at(-1)!)} ms`,
      );
    }
    return [
      result(
        'drift declarative schemas vs migrations (two shadows + comparison)',
        median(ours),
        median(floor),
        'ms',
        1.3,
        `${size.migrations} migrations and ${size.migrations} schema files, ${size.tables} tables, ${size.tables * 2} policies, ${size.functions} functions; vs initdb + two plain psql -1 -f builds`,
      ),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
