import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderActionYml, updateReadme } from '../../src/config/action-manifest.ts';
import { GATES } from '../../src/config/gates.ts';
import { appliesTo } from '../../src/config/input-spec.ts';
import { renderRulesDoc } from '../../src/findings/rules-doc.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe.each(Object.values(GATES))('actions/$action', (gate) => {
  const dir = path.join(root, 'actions', gate.action);
  const committed = readFileSync(path.join(dir, 'action.yml'), 'utf8');
  const manifest = parse(committed);

  it('matches the gate definition (run npm run build after changing src/config/gates.ts)', () => {
    expect(committed).toBe(renderActionYml(gate));
  });

  it('runs on node24 with a post step, from a file that exists', () => {
    expect(manifest.runs).toMatchObject({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js', 'post-if': 'always()' });
    expect(existsSync(path.join(dir, 'dist', 'index.js'))).toBe(true);
  });

  it('declares exactly the inputs the code reads, each described', () => {
    const expected = Object.entries(gate.inputs).filter(([, spec]) => appliesTo(spec, 'action')).map(([name]) => name);
    expect(Object.keys(manifest.inputs)).toEqual(expected);
    for (const input of Object.values(manifest.inputs) as Array<{ description: string }>) expect(input.description.length).toBeGreaterThan(10);
  });

  it('documents every input and output in its README (tables current: npm run build)', () => {
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toBe(updateReadme(readme, gate));
    for (const name of [...Object.keys(manifest.inputs), ...Object.keys(manifest.outputs)]) expect(readme).toContain(`\`${name}\``);
  });
});

describe('docs/rules.md', () => {
  it('is generated from the rule catalog (run npm run build)', () => {
    expect(readFileSync(path.join(root, 'docs', 'rules.md'), 'utf8')).toBe(renderRulesDoc());
  });
});
