import { describe, expect, it } from 'vitest';
import { encodedForms, onSecretRegistered, redact, redactDeep, registerSecret } from '../../src/secrets.ts';

describe('secrets', () => {
  it('hides raw, URL-, base64-, hex- and JSON-escaped forms', () => {
    const secret = 'a"b\\c d/é+%';
    registerSecret(secret);
    const text = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex'), JSON.stringify(secret)].join(
      ' | ',
    );
    expect(redact(text)).not.toMatch(/é|%C3|YSJi|61226/);
  });

  it('tells listeners about every form, including ones registered earlier', () => {
    registerSecret('earlier-secret-1');
    const heard: string[] = [];
    onSecretRegistered((form) => heard.push(form));
    registerSecret('later-secret-2');
    expect(heard).toContain('earlier-secret-1');
    expect(heard).toContain('later-secret-2');
    expect(heard).toContain(Buffer.from('later-secret-2').toString('base64'));
  });

  it('redacts nested values and each line of a multi-line secret', () => {
    registerSecret('line-one-xyz\nline-two-xyz');
    expect(redactDeep({ a: ['line-two-xyz'], b: { c: 'line-one-xyz' } })).toEqual({ a: ['***'], b: { c: '***' } });
    expect(encodedForms('ab')).toEqual([]);
  });
});
