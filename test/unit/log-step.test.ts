/** One mechanism says how a step ended, for the CLI's progress lines and the action's log groups. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { actionLogger } from '../../src/action/run-action.ts';
import { runStep, type StepEnd, stepEndLine } from '../../src/gates/step.ts';

describe('runStep', () => {
  it('is done when the body returns, failed when it throws or returns a failure', async () => {
    const ends: StepEnd[] = [];
    const record = (end: StepEnd) => ends.push(end);
    await expect(runStep(async () => 1, undefined, record)).resolves.toBe(1);
    await expect(
      runStep(
        async () => ({ failed: '001.sql' }),
        (value) => value.failed && `${value.failed} failed`,
        record,
      ),
    ).resolves.toEqual({ failed: '001.sql' });
    await expect(runStep(async () => Promise.reject(new Error('boom')), undefined, record)).rejects.toThrow('boom');
    expect(ends.map((end) => [end.failed, end.reason])).toEqual([
      [false, undefined],
      [true, '001.sql failed'],
      [true, undefined],
    ]);
    expect(stepEndLine('applying 2 migration(s)', { failed: true, reason: '001.sql failed', seconds: 0.44 })).toBe(
      'failed: applying 2 migration(s) (0.4 s): 001.sql failed',
    );
    expect(stepEndLine('starting', { failed: false, seconds: 1.06 })).toBe('done: starting (1.1 s)');
  });
});

describe('the action logger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('says a failed step after its log group, and nothing more for a step that is done', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    const log = actionLogger();
    await log.step(
      'applying 2 migration(s)',
      async () => '001_init.sql',
      (file) => `${file} failed`,
    );
    await expect(log.step('reading the live history', () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    await log.step('starting a shadow PostgreSQL', async () => undefined);
    const lines = written.join('').split('\n');
    expect(lines).toEqual([
      '::group::applying 2 migration(s)',
      '::endgroup::',
      expect.stringMatching(/^failed: applying 2 migration\(s\) \(\d+\.\d s\): 001_init\.sql failed$/),
      '::group::reading the live history',
      '::endgroup::',
      expect.stringMatching(/^failed: reading the live history \(\d+\.\d s\)$/),
      '::group::starting a shadow PostgreSQL',
      '::endgroup::',
      '',
    ]);
  });
});
