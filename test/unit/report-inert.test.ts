/**
 * Text an outsider shapes (object names, comments, server messages, remediation SQL built from
 * them, allowlist reasons, file paths from a pull request) rendered by every renderer with
 * hostile payloads: the terminal text and the JSON report start no workflow command and carry no
 * escape sequence; annotations stay one workflow command each; the markdown (job summary, PR
 * comment, check run summary, issue body) has no link, image, mention, HTML or heading from it,
 * and its remediation SQL stays exact in a fence it cannot close.
 */
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Rule } from '../../src/findings/rules.ts';
import { finding, type Finding, type GateResult, type ObjectRef } from '../../src/findings/types.ts';
import { annotationsOf, renderWorkflowCommands } from '../../src/report/annotations.ts';
import { guardCommands, inertBlock, inertInline, inertLog } from '../../src/report/inert.ts';
import { renderMarkdown, RULES_DOC_URL } from '../../src/report/markdown.ts';
import { renderJson, renderText } from '../../src/report/text.ts';
import { forgetSecretsForTests, registerSecret } from '../../src/secrets.ts';
import { commandLines, liveMarkdown } from '../support/inert-checks.ts';

/** The tests' own rule catalog, passed to the renderers as RULE_CATALOG is in a run. */
const RULES: readonly Rule[] = [
  { id: 'inert_test_rule', gate: 'drift', severity: 'error', category: 'drift', title: 'Inert test rule', doc: 'A rule for the hostile-text tests.' },
  { id: 'inert_test_notice', gate: 'drift', severity: 'notice', category: 'drift', title: 'Inert test notice', doc: 'Another one.' },
];

/** The payloads of the issue, and the variants an attacker would try next. */
const PAYLOADS = [
  '::error file=x::pwned',
  '\r\n::add-mask::x',
  '\u001b[31mred\u001b[0m',
  '[click](https://evil.example)',
  '![x](https://evil.example/p.png)',
  '@octocat',
  '<img src=x onerror=alert(1)>',
  '# heading',
  '```\n::warning::fenced\n```',
  'https://evil.example',
  'www.evil.example',
  // workflow commands: legacy form anywhere, a lone CR, leading blanks, stop-commands, C1 CSI, OSC 8 link
  'text ##[add-mask]legacy',
  'a\r::stop-commands::tok',
  '   \t::set-output name=x::y',
  '\u00a0::notice::nbsp',
  '\u009b31mc1',
  '\u001b]8;;https://evil.example\u0007osc-link\u001b]8;;\u0007',
  '\u202eevil\u202c',
  // markdown: teams, e-mail, issue references, entities, math, block starts, code span tricks
  '@acme/security',
  'mail evil@evil.example',
  '#1 and acme/app#2 and GH-3',
  '&#64;octocat &#91;x&#93;(https://evil.example) &lt;b&gt;',
  '$\\color{red}{x}$',
  '- item',
  '1. item',
  '===',
  '> [!CAUTION]',
  '<!-- hidden -->',
  'x``[y](https://evil.example)`',
  '\\[click](https://evil.example)',
  '[ref]: https://evil.example',
  '<https://evil.example>',
  '*bold* _em_ ~~strike~~ | pipe',
] as const;

const ALL = PAYLOADS.join(' ');
const ALL_LINES = PAYLOADS.join('\n');
/** Strings only payloads contain. */
const MARKERS = ['pwned', 'evil', 'octocat', 'heading', 'onerror', 'legacy', 'fenced', 'item', 'CAUTION', 'hidden', 'bold'];
const links = { serverUrl: 'https://github.com', repository: 'acme/app', sha: 'f00dfeed' };
const LIVE = {
  linkPrefixes: [RULES_DOC_URL, 'https://github.com/acme/app/blob/f00dfeed/', 'https://github.com/acme/app/actions/runs/', 'https://x/'],
  markers: MARKERS,
};

const SQL = "comment on table public.trips is '```\n::add-mask::x\n`````` [click](https://evil.example) @octocat';\n  -- ends here";

function hostileFinding(payload: string, extra: Partial<Finding> = {}): Finding {
  const object = { kind: 'table' as ObjectRef['kind'], schema: 'public', name: payload };
  return finding({
    rule: 'inert_test_rule',
    severity: 'error',
    object,
    message: `Table public.${payload} differs: ${payload}.`,
    detail: `Detail: ${payload}\nHint: ${payload}`,
    remediation: SQL.replace('@octocat', payload),
    location: { file: `supabase/migrations/20250201090000_${payload.replace(/\//g, '_')}.sql`, line: 7 },
    ...extra,
  });
}

function hostileResult(payload: string): GateResult {
  return {
    gate: 'drift',
    status: 'fail',
    findings: [
      hostileFinding(payload),
      hostileFinding(`${payload}2`, { severity: 'notice', rule: 'inert_test_notice', remediation: `${payload}\nthen ${payload}` }),
      finding({ rule: 'inert_unknown_rule', severity: 'warning', object: { kind: 'policy', schema: payload, name: payload }, message: payload }),
    ],
    metrics: { duration_ms: 1200, tables: 3 },
    suppressed: [{ ...hostileFinding(`${payload}3`), reason: payload, expires: payload }],
    preexisting: [hostileFinding(`${payload}4`)],
    details: {
      note: payload,
      names: [payload, 'plain'],
      matrix: { [payload]: { anon: payload, [payload]: 'denied' } },
      rows: [{ name: payload, comment: payload }],
      nested: { deep: { deeper: { text: payload } } },
      table: { title: 'Objects', note: payload, rows: [{ object: payload }] },
    },
  };
}

const errorResult = (payload: string): GateResult => ({ gate: 'drift', status: 'error', findings: [], metrics: {}, error: `The server said: ${payload}` });

beforeEach(() => forgetSecretsForTests());

describe('inert text helpers', () => {
  it('inertInline removes escape sequences and shows line breaks and control characters as escapes', () => {
    expect(inertInline('a\r\n::add-mask::x')).toBe('a\\r\\n::add-mask::x');
    expect(inertInline('\u001b[31mred\u001b[0m \u009b1mX \u001b]8;;https://e\u0007link\u001b]8;;\u0007 \u001bc')).toBe('red X link ');
    expect(inertInline('tab\there\u0007\u007f\u0085\u202e\u2028')).toBe('tab\\there\\x07\\x7f\\x85\\u202e\\u2028');
  });

  it('inertBlock keeps lines and tabs, turns CRLF into LF and a lone CR into an escape', () => {
    expect(inertBlock('a\r\nb\rc\n\td\u001b[1m')).toBe('a\nb\\rc\n\td');
  });

  it('guardCommands leaves no line that starts a workflow command, and breaks ##[', () => {
    const guarded = guardCommands('ok\n::error::x\n   ::warning::y\r\u00a0::notice::z\n\u001b[2m  ::debug::w\u001b[0m\nmid ##[add-mask]v ::not-at-start::');
    expect(commandLines(guarded)).toEqual([]);
    expect(guarded).toBe('ok\n\\::error::x\n   \\::warning::y\r\u00a0\\::notice::z\n\u001b[2m  \\::debug::w\u001b[0m\nmid ##\\[add-mask]v ::not-at-start::');
    expect(commandLines(inertLog('line\n::add-mask::x\r::error::y'))).toEqual([]);
  });
});

describe('terminal text', () => {
  for (const [name, payload] of [
    ...PAYLOADS.map((p) => [JSON.stringify(p), p] as const),
    ['all payloads', ALL] as const,
    ['all payloads, one a line', ALL_LINES] as const,
  ]) {
    it(`starts no workflow command and prints no escape sequence: ${name}`, () => {
      for (const result of [hostileResult(payload), errorResult(payload)]) {
        for (const color of [false, true]) {
          const text = renderText(result, { color, rules: RULES });
          expect(commandLines(text), text).toEqual([]);
          expect(text).not.toMatch(/\r/);
          // the only escape sequences are postgate's own colours
          expect(text.replace(/\u001b\[\d+m/g, '')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
          if (!color) expect(text).not.toContain('\u001b');
        }
      }
    });
  }

  it('shows what the payload said: line breaks inside a value as \\n, the text itself kept', () => {
    const text = renderText(hostileResult('\r\n::add-mask::x'), { color: false, rules: RULES });
    expect(text).toContain('table public.\\r\\n::add-mask::x: Table public.\\r\\n::add-mask::x differs: \\r\\n::add-mask::x.');
    // detail and remediation keep their lines; a line the payload starts is made inert
    expect(text).toContain("      fix: comment on table public.trips is '```\n      \\::add-mask::x\n");
    const error = renderText(errorResult('::error file=x::pwned\n::add-mask::x'), { color: false, rules: RULES });
    expect(error).toContain('The server said: ::error file=x::pwned\\n::add-mask::x');
  });

  it('keeps redaction working on text that is escaped afterwards', () => {
    registerSecret('tab\tsecret-value');
    const text = renderText(hostileResult('leak tab\tsecret-value here'), { color: false, rules: RULES });
    expect(text).not.toContain('secret-value');
    expect(text).toContain('leak *** here');
  });
});

describe('JSON report', () => {
  it('starts no workflow command and keeps every value', () => {
    for (const payload of [ALL, ALL_LINES]) {
      const result = hostileResult(payload);
      const json = renderJson(result);
      expect(commandLines(json)).toEqual([]);
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(result)));
    }
  });
});

describe('annotations', () => {
  let written: string[];
  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  for (const [name, payload] of [...PAYLOADS.map((p) => [JSON.stringify(p), p] as const), ['all payloads, one a line', ALL_LINES] as const]) {
    it(`each is one workflow command whose text starts nothing: ${name}`, () => {
      const annotations = annotationsOf(hostileResult(payload));
      expect(annotations.length).toBe(3);
      for (const annotation of annotations) {
        expect(annotation.title).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        expect(commandLines(annotation.message)).toEqual([]);
        expect(annotation.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
        expect(annotation.details ?? '').not.toMatch(/[\u001b\u009b\r]/);
        written = [];
        const properties = { title: annotation.title, ...(annotation.file ? { file: annotation.file, startLine: annotation.line ?? 1 } : {}) };
        core.error(annotation.message, properties);
        const output = written.join('');
        // exactly one line, and it is the error command postgate meant
        expect(output.endsWith('\n')).toBe(true);
        expect(output.slice(0, -1).split(/\r\n|\r|\n/)).toHaveLength(1);
        expect(output.startsWith('::error title=')).toBe(true);
        // the runner's reading of it: properties up to the next `::`, then the data
        const data = output.slice(output.indexOf('::', 2) + 2, -1);
        expect(data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')).toBe(annotation.message);
      }
    });
  }
});

describe('--format github (workflow commands on stdout)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes each annotation exactly as @actions/core would, then the verdict; nothing else starts a command', () => {
    for (const payload of [...PAYLOADS, ALL_LINES]) {
      const result = hostileResult(payload);
      const rendered = renderWorkflowCommands(result, { title: 'postgate drift-gate' });
      const written: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
      for (const annotation of annotationsOf(result)) {
        core[annotation.severity](annotation.message, {
          title: annotation.title,
          ...(annotation.file ? { file: annotation.file, startLine: annotation.line ?? 1 } : {}),
        });
      }
      vi.restoreAllMocks();
      expect(rendered).toBe(`${written.join('')}postgate drift-gate failed: 1 error, 1 warning, 1 notice.\n`);
      const lines = rendered.trimEnd().split('\n');
      expect(lines.filter((line) => line.startsWith('::'))).toHaveLength(3);
    }
    const error = renderWorkflowCommands(errorResult('::error file=x::pwned\n::add-mask::x'), { title: 'postgate drift-gate' });
    expect(error).toBe(
      '::error title=postgate drift-gate could not run::The server said: ::error file=x::pwned\\n::add-mask::x\npostgate drift-gate could not run.\n',
    );
  });
});

describe('markdown', () => {
  const bodies = (payload: string): Array<[string, string]> => [
    ['summary', renderMarkdown(hostileResult(payload), { rules: RULES, links, context: ['commit `f00dfee`'] })],
    [
      'comment',
      renderMarkdown(hostileResult(payload), {
        rules: RULES,
        links,
        marker: '<!-- postgate:comment gate=drift -->',
        context: ['[run](https://github.com/acme/app/actions/runs/1)'],
      }),
    ],
    [
      'issue',
      renderMarkdown(hostileResult(payload), { rules: RULES, marker: '<!-- postgate:issue gate=drift -->', preface: '_Kept up to date by postgate._' }),
    ],
    ['error', renderMarkdown(errorResult(payload), { rules: RULES, links })],
    [
      'shortened',
      renderMarkdown(hostileResult(payload), {
        rules: RULES,
        links,
        limit: { max: 2500, unit: 'characters', reason: 'the test limit', fullReport: '[the job summary](https://x/)' },
      }),
    ],
  ];

  for (const [name, payload] of [
    ...PAYLOADS.map((p) => [JSON.stringify(p), p] as const),
    ['all payloads', ALL] as const,
    ['all payloads, one a line', ALL_LINES] as const,
  ]) {
    it(`has no link, image, mention, HTML or heading from the payload: ${name}`, () => {
      for (const [channel, body] of bodies(payload)) {
        expect(liveMarkdown(body, LIVE), `${channel}:\n${body}`).toEqual([]);
      }
    });
  }

  it('still shows the payload, as text', () => {
    const body = renderMarkdown(hostileResult(ALL), { rules: RULES, links });
    for (const shown of [
      '`[click](https://evil.example)`',
      '`![x](https://evil.example/p.png)`',
      '`@octocat`',
      '&lt;img src=x onerror=alert(1)&gt;',
      '`https://evil.example`',
      '`www.evil.example`',
      '`@acme/security`',
      '`evil@evil.example`',
      '`#1`',
      '`acme/app#2`',
      '`GH-3`',
    ]) {
      expect(body).toContain(shown);
    }
    // a value that starts a line (remediation steps) cannot start a heading or a list
    const steps = renderMarkdown({ ...hostileResult('x'), findings: [hostileFinding('x', { remediation: '# heading\n- step\n1. step' })] }, { rules: RULES });
    expect(steps).toContain('\n\\# heading<br>\\- step<br>1\\. step\n');
  });

  it('keeps remediation SQL exact and copyable in a fence longer than any backtick run inside', () => {
    const body = renderMarkdown(hostileResult('@octocat'), { rules: RULES, links });
    const fence = '```````';
    expect(body).toContain(`${fence}sql\n${SQL.trimEnd()}\n${fence}\n`);
  });

  it('fences JSON details the same way', () => {
    const body = renderMarkdown(
      { ...hostileResult('x'), details: { nested: { deep: { deeper: { text: '````\n# heading\n[click](https://evil.example)' } } } } },
      { rules: RULES },
    );
    expect(body).toMatch(/\n`````json\n[\s\S]*\n`````\n/);
    expect(liveMarkdown(body, LIVE)).toEqual([]);
  });

  it('links files at the commit with the path encoded, so a file name cannot end the link', () => {
    const body = renderMarkdown(
      { ...hostileResult('x'), findings: [hostileFinding('x', { location: { file: 'supabase/migrations/1_a)[b](https:evil.sql', line: 2 } })] },
      { rules: RULES, links },
    );
    expect(body).toContain('](https://github.com/acme/app/blob/f00dfeed/supabase/migrations/1_a%29%5Bb%5D%28https%3Aevil.sql#L2)');
    expect(liveMarkdown(body, LIVE)).toEqual([]);
  });

  it('reads code spans as CommonMark does, so an unclosed backtick run cannot shield a link', () => {
    // "x``[y](…)`": the double backtick has no closing pair, so CommonMark reads it as text and
    // the brackets after it must be escaped; a splitter that took "`[y](…)`" for a span would not
    const body = renderMarkdown({ ...hostileResult('x'), findings: [hostileFinding('x', { message: 'x``[y](/evil)`' })] }, { rules: RULES });
    expect(body).toContain('| x\\`\\`\\[y\\](/evil)\\`<br>');
    expect(liveMarkdown(body, LIVE)).toEqual([]);
  });
});
