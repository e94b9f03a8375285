import { execa } from 'execa';
import pg from 'pg';
/** One benchmark measurement: postgate's time against a raw baseline taken in the same run. */
export interface BenchResult {
  name: string;
  /** postgate's measurement. */
  value: number;
  /** The raw baseline (e.g. plain initdb + pg_ctl, psql -f, pg_dump | pg_restore). */
  baseline: number;
  /** value / baseline (for absolute goals, baseline is the goal and ratio value/goal). */
  ratio: number;
  unit: string;
  /** The goal the issue sets for `ratio` (<=). */
  goal?: number;
  note?: string;
}

export interface BenchOptions {
  /** Lighter sizes for CI; the full mode is documented in docs/benchmarks.md. */
  light: boolean;
  log: (message: string) => void;
}

export type Bench = (options: BenchOptions) => Promise<BenchResult[]>;

/**
 * Writes the page cache's dirty pages out (sync(1)) and drops the given databases first, so
 * that a timed run does not pay for the writeback of what the run before it wrote (gigabytes
 * in the drill and rehearsal benches, where that cost fell on whichever side ran second).
 * Call it between runs, outside the timing.
 */
export async function settle(adminUrl?: string, dropDatabases: readonly string[] = []): Promise<void> {
  if (adminUrl && dropDatabases.length) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      for (const name of dropDatabases) await client.query(`drop database if exists "${name.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
  await execa('sync');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function result(name: string, value: number, baseline: number, unit: string, goal?: number, note?: string): BenchResult {
  return {
    name,
    value: Math.round(value * 10) / 10,
    baseline: Math.round(baseline * 10) / 10,
    ratio: Math.round((value / baseline) * 1000) / 1000,
    unit,
    ...(goal !== undefined ? { goal } : {}),
    ...(note ? { note } : {}),
  };
}
