/**
 * npm run bench [-- --light] [-- name ...]: runs bench/<name>/index.ts (each exports `bench`),
 * prints a table and writes bench/results.json as [{ name, value, baseline, ratio, unit }].
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAll } from '../src/postgres/ephemeral/index.ts';
import { renderBenchmarksDoc } from './report.ts';
import type { Bench, BenchResult } from './types.ts';

const here = import.meta.dirname;
const args = process.argv.slice(2);
const light = args.includes('--light') || process.env.POSTGATE_BENCH_LIGHT === '1';
const only = args.filter((a) => !a.startsWith('--'));
const names = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(here, d.name, 'index.ts')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const results: BenchResult[] = [];
try {
  for (const name of names) {
    const { bench } = (await import(path.join(here, name, 'index.ts'))) as { bench: Bench };
    process.stderr.write(`bench ${name}${light ? ' (light)' : ''}\n`);
    results.push(...(await bench({ light, log: (m) => process.stderr.write(`  ${m}\n`) })));
  }
} finally {
  await cleanupAll();
}

const rows = results.map((r) => [
  r.name,
  `${r.value} ${r.unit}`,
  `${r.baseline} ${r.unit}`,
  `${r.ratio}x`,
  r.goal !== undefined ? `<= ${r.goal}x ${r.ratio <= r.goal ? 'met' : 'MISSED'}` : '',
]);
const header = ['benchmark', 'postgate', 'baseline', 'ratio', 'goal'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
// A full run of every benchmark is the record: it goes to docs/benchmarks.md.
if (!light && only.length === 0) writeFileSync(path.join(here, '..', 'docs', 'benchmarks.md'), renderBenchmarksDoc(results, new Date(), light));
