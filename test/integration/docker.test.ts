/**
 * The docker provider. Skips with the reason when no container runtime is reachable (as on
 * the development machines); runs in the project's GitHub workflow, where
 * POSTGATE_REQUIRE_DOCKER=1 turns a missing engine into a failure instead of a skip.
 */
import { describe, expect, it } from 'vitest';
import { dockerUnavailableReason } from '../../src/postgres/ephemeral/docker.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { withClient } from '../support/pg.ts';

const reason = await dockerUnavailableReason();
if (reason && process.env.POSTGATE_REQUIRE_DOCKER) throw new Error(`Docker required but unavailable: ${reason}`);
if (reason) console.warn(`docker provider tests skipped: ${reason}`);

describe.skipIf(Boolean(reason))('docker provider', () => {
  it('starts postgres:15 with durability off and removes the container', async () => {
    const cluster = await startCluster({ shadow: 'docker', major: 15 });
    try {
      expect(cluster.provider).toBe('docker');
      expect(cluster.major).toBe(15);
      await withClient(cluster.url, async (c) => {
        expect((await c.query("select current_setting('fsync') f")).rows[0].f).toBe('off');
      });
      const scratch = await cluster.createDatabase('scratch');
      await withClient(scratch, async (c) => c.query('select 1'));
    } finally {
      await cluster.stop();
    }
  });
});
