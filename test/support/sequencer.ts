/**
 * Longest test files first, so that on two workers the last file to start is a short one and
 * both finish at about the same time. vitest's own sequencer does this from the durations of
 * the previous run (node_modules/.vite/vitest); a fresh clone has none and falls back to file
 * size, which puts slow, short files such as cleanup.test.ts near the end. Here a file without
 * a cached duration takes the one below (seconds, measured on two busy cores), and a file in
 * neither place comes after them, the larger first.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Rough wall times of the slow files on two busy cores; a guide for ordering, not a budget. */
const EXPECTED_SECONDS: Record<string, number> = {
  'test/e2e/secret-fuzz.test.ts': 125,
  'test/e2e/cleanup.test.ts': 70,
  'test/integration/catalog-drift.test.ts': 50,
  'test/integration/rls-rules.test.ts': 60,
  'test/e2e/faults.test.ts': 73,
  'test/e2e/hostile-backups.test.ts': 70,
  'test/e2e/secret-masking.test.ts': 65,
  'test/integration/drill.test.ts': 51,
  'test/e2e/bad-inputs.test.ts': 48,
  'test/e2e/actions-rls.e2e.test.ts': 46,
  'test/e2e/read-only.test.ts': 42,
  'test/integration/webhooks-fuzz.test.ts': 42,
  'test/integration/hostile-inputs.test.ts': 42,
  'test/integration/rls-gate.test.ts': 41,
  'test/e2e/actions-local-action.e2e.test.ts': 41,
  'test/e2e/actions-drift.e2e.test.ts': 36,
  'test/integration/drift-gate.test.ts': 30,
  'test/integration/supabase-shadow.test.ts': 29,
};

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // vitest's order: by the previous run's durations where it has them, else by size
    const byVitest = await super.sort(files);
    const position = new Map(byVitest.map((spec, index) => [spec, index]));
    const expected = (spec: TestSpecification): number => {
      const cached = this.ctx.cache.getTestSpecificationResult(spec)?.duration;
      if (cached !== undefined) return cached / 1000;
      return EXPECTED_SECONDS[path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join('/')] ?? -1;
    };
    return [...byVitest].sort((a, b) => expected(b) - expected(a) || position.get(a)! - position.get(b)!);
  }
}
