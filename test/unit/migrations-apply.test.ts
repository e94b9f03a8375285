/** Where a failing statement is reported: its first SQL token, past comments and blank lines. */
import { describe, expect, it } from 'vitest';
import { firstTokenIndex, lineAt } from '../../src/migrations/apply.ts';

describe('firstTokenIndex', () => {
  it('skips white space, line comments and nested block comments', () => {
    const text = '\n  -- why\n/* a /* nested */ block */\n\n\tcreate table t (id int)';
    expect(text.slice(firstTokenIndex(text))).toBe('create table t (id int)');
    expect(lineAt(text, firstTokenIndex(text))).toBe(5);
  });

  it('starts from an offset, and stops at the first token even when comments follow it', () => {
    const text = 'select 1; -- done\n-- next\ncreate table t (id int) -- trailing';
    expect(firstTokenIndex(text, 9)).toBe(text.indexOf('create'));
    expect(firstTokenIndex(text, 0)).toBe(0);
  });

  it('does not take a single dash, a slash or an operator for a comment', () => {
    expect(firstTokenIndex('  -1')).toBe(2);
    expect(firstTokenIndex('  /x')).toBe(2);
  });

  it('keeps the start when there is no token (only comments, or a comment never closed)', () => {
    expect(firstTokenIndex('-- only a comment')).toBe(0);
    expect(firstTokenIndex('  /* never closed\ncreate table t ()', 2)).toBe(2);
  });
});
