/**
 * No noise: applying the same migrations to two databases gives zero differences and
 * the same fingerprint, grants included, for examples/supabase-app (Supabase profile,
 * after the baseline) and for the benchmark's generated project, on every test major.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { LIGHT, writeProject } from '../../bench/drift/project.ts';
import { type CatalogProfile, type CatalogSnapshot, diffSnapshots, fingerprint, snapshot } from '../../src/catalog/index.ts';
import { buildShadow } from '../../src/migrations/shadow.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const project = mkdtempSync(path.join(os.tmpdir(), 'drift-zero-'));
writeProject(path.join(project, 'migrations'), LIGHT);
afterAll(() => rmSync(project, { recursive: true, force: true }));

async function read(url: string, profile: CatalogProfile): Promise<CatalogSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await snapshot(client, { profile });
  } finally {
    await client.end();
  }
}

describe.each(TEST_MAJORS)('PostgreSQL %i', (major) => {
  it('two applies of examples/supabase-app and of the generated project do not differ', async () => {
    const cluster = await startTestCluster(major);
    try {
      for (const [cwd, dir, profile] of [
        [path.join(ROOT, 'examples/supabase-app'), 'supabase/migrations', 'supabase'],
        [project, 'migrations', 'postgres'],
      ] as const) {
        const snapshots: CatalogSnapshot[] = [];
        for (let i = 0; i < 2; i++) {
          const shadow = await buildShadow({ migrationsDir: dir, cwd, cluster, ...(profile === 'postgres' ? { format: 'plain' as const } : {}) });
          expect(shadow.failure).toBeUndefined();
          snapshots.push(await read(shadow.url, profile));
        }
        const [a, b] = snapshots as [CatalogSnapshot, CatalogSnapshot];
        expect(diffSnapshots(a, b)).toEqual([]);
        expect(fingerprint(a)).toBe(fingerprint(b));
        const granted = a.objects.filter((o) =>
          Object.keys((o.props.acl ?? {}) as object).some((role) => ['anon', 'authenticated', 'app_user'].includes(role)),
        );
        expect(granted.length, `${dir}: objects granted to API/app roles`).toBeGreaterThan(10);
      }
    } finally {
      await cluster.stop();
    }
  });
});
