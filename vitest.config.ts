import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/per-file-tmp.ts'],
    // Tests wait for conditions, not for time; the timeout only ends a hung test. Generous, so that a
    // loaded machine (a CI runner sharing its cores, a suite run niced under other work) never fails
    // a test for being slow: 10 minutes, the longest a fuzz loop takes there with room to spare.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Integration tests start their own PostgreSQL clusters; two cores here.
    maxWorkers: 2,
    // the slow files start first, also in a fresh clone (no durations cached yet)
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ['default'],
  },
});
