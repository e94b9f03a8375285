import { describe, expect, it } from 'vitest';
import { runContext } from '../../src/gates/drill/log.ts';

describe('drill log run context', () => {
  const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '42', GITHUB_EVENT_NAME: 'schedule', RUNNER_NAME: 'r1' };

  it('links the run page', () => {
    expect(runContext(env).run_url).toBe('https://github.com/acme/app/actions/runs/42');
  });

  it('links the attempt of a re-run, as the job summary and check run do (src/github/context.ts)', () => {
    expect(runContext({ ...env, GITHUB_RUN_ATTEMPT: '3' }).run_url).toBe('https://github.com/acme/app/actions/runs/42/attempts/3');
  });
});
