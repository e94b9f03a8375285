/**
 * `drift.require-down-migrations` through drift-gate in PR mode on real PostgreSQL: off by
 * default, an error at the migration without a rollback when on, a notice for a tool without
 * down migrations.
 */
import { cpSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');
let cluster: Cluster;
const temps: string[] = [];
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function copy(tool: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), `drift-down-${tool}-`));
  temps.push(root);
  cpSync(path.join(FIXTURES, tool), root, { recursive: true });
  return root;
}

function gate(root: string, dir: string, config: object): Promise<GateResult> {
  const inputs: Record<string, string> = { 'migrations-dir': dir, shadow: 'url', 'shadow-database-url': cluster.url };
  return run(
    parseInputs(DRIFT_INPUTS, (name) => inputs[name], 'cli'),
    createContext({ cwd: root, env: {}, config: repoConfigSchema.parse(config) }),
  );
}

const downFindings = (result: GateResult) =>
  result.findings.filter((f) => f.rule.startsWith('migration_down_')).map((f) => [f.rule, f.severity, f.location?.file, f.location?.line]);

it('reports a migration without a rollback only when required', async () => {
  const root = copy('golang-migrate');
  unlinkSync(path.join(root, 'migrations/3_posts_index.down.sql'));
  const off = await gate(root, 'migrations', {});
  expect(downFindings(off)).toEqual([]);
  const on = await gate(root, 'migrations', { drift: { 'require-down-migrations': true } });
  expect(downFindings(on)).toEqual([['migration_down_missing', 'error', 'migrations/3_posts_index.up.sql', 1]]);
  expect(on.status).toBe('fail');
});

it('gives one notice for a tool without down migrations', async () => {
  const root = copy('prisma');
  const result = await gate(root, 'prisma/migrations', { drift: { 'require-down-migrations': true } });
  expect(downFindings(result)).toEqual([['migration_down_unsupported', 'notice', undefined, undefined]]);
  expect(result.status).toBe('pass');
});
