import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, parseFlags, shownValue } from '../../src/config/cli-args.ts';

describe('didYouMean', () => {
  it('finds a typo, a swap and a missing suffix; nothing for an unrelated word', () => {
    expect(editDistance('drfit', 'drift')).toBe(1);
    expect(didYouMean('drfit', ['drift', 'rls', 'webhooks', 'drill', 'doctor'])).toBe('drift');
    expect(didYouMean('--databse-url', ['--database-url', '--schemas'])).toBe('--database-url');
    expect(didYouMean('--database', ['--database-url', '--schemas'])).toBe('--database-url');
    expect(didYouMean('deploy', ['drift', 'rls', 'webhooks', 'drill', 'doctor'])).toBeUndefined();
    expect(didYouMean('--bogus', ['--database-url', '--schemas'])).toBeUndefined();
  });
});

describe('shownValue', () => {
  it('quotes words and small numbers, describes anything that may be a secret', () => {
    expect(shownValue('yes')).toBe('`yes`');
    expect(shownValue('supabase/migrations')).toBe('`supabase/migrations`');
    expect(shownValue('42')).toBe('`42`');
    expect(shownValue('hunter2')).toBe('a value of 7 characters (not shown: it may be a secret)');
    expect(shownValue('postgresql://u:p@h/db')).toMatch(/^a value of 21 characters/);
  });
});

describe('parseFlags', () => {
  const kinds = { schemas: 'string', canary: 'boolean' } as const;
  it('reads values and switches', () => {
    expect(parseFlags('rls', kinds, ['--schemas', 'public,api', '--canary'])).toEqual({ kind: 'flags', values: { schemas: 'public,api', canary: true } });
    expect(parseFlags('rls', kinds, ['--schemas=-odd'])).toEqual({ kind: 'flags', values: { schemas: '-odd' } });
  });
  it('lets help win over any problem, but not after --', () => {
    expect(parseFlags('rls', kinds, ['--bogus', '-h'])).toEqual({ kind: 'help' });
    expect(parseFlags('rls', kinds, ['--', '--help']).kind).toBe('problem');
  });
  it('names the first problem', () => {
    const problem = (argv: string[]) => {
      const parsed = parseFlags('rls', kinds, argv);
      return parsed.kind === 'problem' ? parsed.message : parsed.kind;
    };
    expect(problem(['--schema', 'x'])).toBe('`--schema` is not a flag of `postgate rls`; did you mean `--schemas`?');
    expect(problem(['-s', 'x'])).toBe('`-s` is not a flag of `postgate rls`.');
    expect(problem(['--canary', 'no'])).toBe(
      'Flag `--canary` is a switch and takes no value, but got `no`; write `--canary` alone to turn it on, or leave it out.',
    );
    expect(problem(['--schemas', 'a', 'b'])).toBe('`postgate rls` takes no arguments besides flags, but got `b`; flags take the form `--name value`.');
    expect(problem(['--schemas'])).toBe('Flag `--schemas` needs a value (`--schemas <value>`).');
    expect(problem(['--schemas', '--canary'])).toBe('Flag `--schemas` needs a value (`--schemas <value>`), but the next argument is the flag `--canary`.');
  });
});
