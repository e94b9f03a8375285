import { describe, expect, it } from 'vitest';
import { DRIFT_INPUTS, DRILL_INPUTS, WEBHOOKS_INPUTS } from '../../src/config/gates.ts';
import { parseDuration, parseInputs } from '../../src/config/input-spec.ts';
import { UserError } from '../../src/errors.ts';

const reader = (values: Record<string, string>) => (name: string) => values[name];

describe('parseInputs', () => {
  it('applies defaults and types', () => {
    const o = parseInputs(DRIFT_INPUTS, reader({ schemas: 'public, api', 'postgres-version': '17' }), 'cli');
    expect(o.shadow).toBe('auto');
    expect(o.failOn).toBe('error');
    expect(o.schemas).toEqual(['public', 'api']);
    expect(o.excludeSchemas).toEqual([]);
    expect(o.postgresVersion).toBe(17);
    expect(o.databaseUrl).toBeUndefined();
  });

  it('names the flag on the CLI and the input in the action', () => {
    expect(() => parseInputs(DRIFT_INPUTS, reader({ shadow: 'dockr' }), 'cli')).toThrow('Flag `--shadow` is "dockr"; use one of auto, local, docker, url.');
    expect(() => parseInputs(DRIFT_INPUTS, reader({ shadow: 'dockr' }), 'action')).toThrow('Input `shadow` is "dockr"; use one of auto, local, docker, url.');
  });

  it('requires required inputs', () => {
    expect(() => parseInputs(WEBHOOKS_INPUTS, reader({}), 'action')).toThrow(/Input `database-url` is required/);
  });

  it('validates database URLs at parse time without echoing them', () => {
    const attempt = () => parseInputs(DRIFT_INPUTS, reader({ 'database-url': 'https://user:pw123456@x' }), 'action');
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/`database-url` must start with postgresql:\/\//);
  });

  it('parses durations and booleans', () => {
    const o = parseInputs(DRILL_INPUTS, reader({ 'rto-target': '15m', 'rpo-target': '1d12h', 'target-is-disposable': 'TRUE' }), 'action');
    expect(o.rtoTarget).toBe(900_000);
    expect(o.rpoTarget).toBe(129_600_000);
    expect(o.targetIsDisposable).toBe(true);
    expect(() => parseInputs(DRILL_INPUTS, reader({ 'rto-target': 'soon' }), 'action')).toThrow(
      'Input `rto-target` is "soon"; use a duration such as 90s, 15m, 24h or 7d.',
    );
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('')).toBeUndefined();
  });

  it('rejects a non-numeric major', () => {
    expect(() => parseInputs(DRIFT_INPUTS, reader({ 'postgres-version': 'latest' }), 'cli')).toThrow(
      'Flag `--postgres-version` is "latest"; use a PostgreSQL major version such as 15 or 17.',
    );
  });
});

describe('formatDuration', () => {
  it('carries rounding into the larger unit', async () => {
    const { formatDuration } = await import('../../src/config/input-spec.ts');
    expect(formatDuration(2 * 86_400_000 - 60_000)).toBe('2 d 0 h');
    expect(formatDuration(90 * 60_000)).toBe('1 h 30 min');
    expect(formatDuration(59_999)).toBe('60.0 s');
    expect(formatDuration(61_000)).toBe('1 min 1 s');
    expect(formatDuration(250)).toBe('250 ms');
  });
});
