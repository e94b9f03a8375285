import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/per-file-tmp.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests start their own PostgreSQL clusters; two cores here.
    maxWorkers: 2,
    // the slow files start first, also in a fresh clone (no durations cached yet)
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ['default'],
  },
});
