/** Secret comparison: constant-time equality, and diagnostics that say how two secrets differ without showing them. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createComparer, explainDifference, factsOf } from '../../src/gates/webhooks/compare.ts';

const comparer = createComparer();
const SECRET = 'k7Qv2mZr9TtLw4Xp8Nc1Bd6Hs3Jf5Ga0';
const HEX = createHash('sha256').update('seed').digest('hex');

function explain(database: string, env: string) {
  expect(comparer.equal(database, env)).toBe(false);
  return explainDifference(comparer, { name: 'the database value', value: database }, { name: 'HMAC_SECRET', value: env });
}

describe('createComparer', () => {
  it('compares values of any length, including empty and multi-byte ones', () => {
    expect(comparer.equal(SECRET, SECRET)).toBe(true);
    expect(comparer.equal(SECRET, `${SECRET}x`)).toBe(false);
    expect(comparer.equal('', '')).toBe(true);
    expect(comparer.equal('é', 'e\u0301')).toBe(false);
    expect(comparer.equal(Buffer.from('abc'), 'abc')).toBe(true);
  });

  it('keys its digests per comparer, so digests mean nothing elsewhere', () => {
    expect(createComparer().digest(SECRET).equals(comparer.digest(SECRET))).toBe(false);
  });
});

describe('explainDifference', () => {
  const cases: Array<[string, string, string, RegExp[]]> = [
    [
      'a trailing newline in the environment (echo into a secret file)',
      SECRET,
      `${SECRET}\n`,
      [/HMAC_SECRET has a trailing newline\./, /33 characters|is 32 characters long, HMAC_SECRET 33/],
    ],
    ['leading and trailing whitespace in the database', `  ${SECRET} `, SECRET, [/The database value has leading whitespace and trailing whitespace\./]],
    ['several trailing newlines', `${SECRET}\r\n\r\n`, SECRET, [/trailing newlines/]],
    ['SQL quotes kept inside the value', `'${SECRET}'`, SECRET, [/The database value is wrapped in single quotes\./]],
    ['dotenv double quotes', SECRET, `"${SECRET}"`, [/HMAC_SECRET is wrapped in double quotes\./]],
    ['a whsec_ prefix on one side', `whsec_${SECRET}`, SECRET, [/The database value starts with "whsec_"\./]],
    ['a sha256= prefix', SECRET, `sha256=${SECRET}`, [/HMAC_SECRET starts with "sha256="\./]],
    ['base64 of the same bytes', Buffer.from(SECRET).toString('base64'), SECRET, [/The database value is the base64 encoding of HMAC_SECRET\./]],
    ['hex of the same bytes', SECRET, Buffer.from(SECRET).toString('hex'), [/HMAC_SECRET is the hex encoding of the database value\./]],
    [
      'hex in the database, base64 in the environment',
      HEX,
      Buffer.from(HEX, 'hex').toString('base64'),
      [/The database value is hex and HMAC_SECRET is base64 of the same bytes\./],
    ],
    ['upper-case hex digits', HEX.toUpperCase(), HEX, [/The database value is hex in upper-case letters\./]],
    ['quotes, a newline and a prefix at once', `"whsec_${SECRET}"\n`, SECRET, [/has a trailing newline/, /double quotes/, /starts with "whsec_"/]],
  ];
  it.each(cases)('explains %s', (_name, database, env, patterns) => {
    const difference = explain(database, env);
    expect(difference.explained).toBe(true);
    const text = difference.sentences.join(' ');
    for (const pattern of patterns) expect(text).toMatch(pattern);
    expect(text).toMatch(/Apart from that they are the same secret\./);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(HEX);
  });

  it('says when two secrets differ in content, with lengths and shapes only', () => {
    const difference = explain(HEX, 'a-completely-different-secret');
    expect(difference.explained).toBe(false);
    expect(difference.sentences.join(' ')).toBe(
      'The database value is 64 characters long, HMAC_SECRET 29. The database value looks like lowercase hex, HMAC_SECRET like text. They differ in content, not just in whitespace, quotes, a prefix, encoding or letter case.',
    );
  });

  it('says when lengths are equal', () => {
    expect(explain('aaaaaaaaaaaa', 'bbbbbbbbbbbb').sentences[0]).toBe('Both are 12 characters long.');
  });

  it('never reproduces any part of either value', () => {
    const database = `'${SECRET.slice(0, 20)}XYZ'\n`;
    const text = explain(database, SECRET).sentences.join(' ');
    for (let i = 0; i + 6 <= SECRET.length; i += 1) expect(text).not.toContain(SECRET.slice(i, i + 6));
  });
});

describe('factsOf', () => {
  it('counts characters (code points) and names the shape', () => {
    expect(factsOf('é€x🔑')).toEqual({ characters: 4, shape: 'text' });
    expect(factsOf(HEX).shape).toBe('lowercase hex');
    expect(factsOf(`whsec_${Buffer.from(SECRET).toString('base64')}`).shape).toBe('prefixed base64');
  });
});
