/** docs/benchmarks.md from a full `npm run bench`: every result, the machine, how to reproduce. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { findInstallations } from '../src/postgres/ephemeral/binaries.ts';
import type { BenchResult } from './types.ts';

function machine(): string[] {
  const cpu = os.cpus();
  const kernel = (() => {
    try {
      return execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
    } catch {
      return `${os.type()} ${os.release()}`;
    }
  })();
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    `- Memory: ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- OS: ${kernel}`,
    `- Node.js: ${process.version}`,
    `- PostgreSQL: ${findInstallations()
      .map((i) => `${i.version} (${i.source})`)
      .join(', ')}`,
  ];
}

function verdict(r: BenchResult): string {
  if (r.goal === undefined) return '';
  return r.ratio <= r.goal ? `≤ ${r.goal}× met` : `≤ ${r.goal}× **missed**`;
}

export function renderBenchmarksDoc(results: BenchResult[], when: Date, light: boolean): string {
  const rows = results.map((r) => `| ${r.name} | ${r.value} ${r.unit} | ${r.baseline} ${r.unit} | ${r.ratio}× | ${verdict(r)} | ${r.note ?? ''} |`);
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (full mode); numbers below are from the run on the date shown. -->',
    '',
    `Latest full run: ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC${light ? ' (light mode)' : ''}.`,
    '',
    'Each benchmark measures postgate against a **raw baseline taken in the same run** on the same',
    'machine (interleaved rounds, medians), because timings on shared machines are noisy; absolute goals',
    'from the issues use the goal as the baseline. The `ratio` column is postgate ÷ baseline. An absolute',
    "goal depends on the machine's speed as well as on postgate: read it next to the row above it, which",
    'compares the same work with its raw baseline on the same machine.',
    '',
    '| benchmark | postgate | baseline | ratio | goal | what is compared |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Machine',
    '',
    ...machine(),
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    'npm run bench              # full sizes: writes bench/results.json and this file',
    'npm run bench -- --light   # smaller sizes, what .ci/run runs; does not rewrite this file',
    'npm run bench -- drill     # one benchmark',
    '```',
    '',
    'Sizes: drift uses a generated project of 300 migrations, 500 tables, 1,000 policies and 300 functions',
    '(light: a tenth) and a 5,000-table database for the snapshot (light: 500); the declarative comparison',
    'the same project as 300 Supabase migrations plus 300 schema files declaring it; rls-audit 5,000 tables and',
    '20,000 policies for the rules and 200 tables for the access matrix; restore-drill about 2 GB in 50',
    'tables (light: about 110 MB); the code scan a generated repository of 5,000 source files in seven languages',
    '(both modes) against `git grep` of the same call patterns. See each `bench/<name>/index.ts` for exactly what is',
    'timed on each side.',
    '',
  ].join('\n');
}
