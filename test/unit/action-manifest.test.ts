import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderActionYml, updateReadme } from '../../src/config/action-manifest.ts';
import { GATES } from '../../src/config/gates.ts';
import { appliesTo } from '../../src/config/input-spec.ts';
import { renderRulesDoc } from '../../src/gates/rules-doc.ts';

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
    const expected = Object.entries(gate.inputs)
      .filter(([, spec]) => appliesTo(spec, 'action'))
      .map(([name]) => name);
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

describe('workflows in the docs and examples', () => {
  const exampleDir = path.join(root, 'examples/supabase-app/.github/workflows');
  const workflowFiles = readdirSync(exampleDir).map((name) => path.join(exampleDir, name));
  const readmes = [path.join(root, 'README.md'), ...Object.values(GATES).map((gate) => path.join(root, 'actions', gate.action, 'README.md'))];

  /** Every ```yaml block of a markdown file, dedented (snippets may start at a step). */
  function yamlBlocks(file: string): string[] {
    return [...readFileSync(file, 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map(([, body]) => {
      const lines = body!.split('\n');
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
      return lines.map((l) => l.slice(indent)).join('\n');
    });
  }

  function postgateSteps(node: unknown, found: Array<{ action: string; with: Record<string, unknown> }> = []) {
    if (Array.isArray(node)) for (const item of node) postgateSteps(item, found);
    else if (node && typeof node === 'object') {
      const step = node as { uses?: unknown; with?: Record<string, unknown> };
      const match = typeof step.uses === 'string' ? /^postgate\/postgate\/actions\/([\w-]+)@/.exec(step.uses) : null;
      if (match) found.push({ action: match[1]!, with: step.with ?? {} });
      for (const value of Object.values(node)) postgateSteps(value, found);
    }
    return found;
  }

  const sources = [
    ...workflowFiles.map((file) => ({ where: path.relative(root, file), yaml: readFileSync(file, 'utf8') })),
    ...readmes.flatMap((file) => yamlBlocks(file).map((yaml, i) => ({ where: `${path.relative(root, file)} block ${i + 1}`, yaml }))),
  ];

  it.each(sources)('$where uses existing actions and only their inputs', ({ yaml }) => {
    for (const step of postgateSteps(parse(yaml))) {
      const gate = Object.values(GATES).find((g) => g.action === step.action);
      expect(gate, `actions/${step.action} exists`).toBeDefined();
      const inputs = Object.entries(gate!.inputs)
        .filter(([, spec]) => appliesTo(spec, 'action'))
        .map(([name]) => name);
      for (const key of Object.keys(step.with)) expect(inputs, `${step.action} input ${key}`).toContain(key);
    }
  });

  /** Each list of steps, with the `if` of every postgate step in it, in order. */
  function gateConditions(node: unknown, found: Array<Array<string | undefined>> = []) {
    if (Array.isArray(node)) {
      const gates = node.filter((step) => typeof step?.uses === 'string' && step.uses.startsWith('postgate/postgate/actions/'));
      if (gates.length) found.push(gates.map((step: { if?: string }) => step.if));
    }
    if (node && typeof node === 'object') for (const value of Object.values(node)) gateConditions(value, found);
    return found;
  }

  it.each(sources)('$where runs every later gate even when an earlier one failed', ({ yaml }) => {
    for (const conditions of gateConditions(parse(yaml))) {
      for (const condition of conditions.slice(1))
        expect(condition, 'if: ${{ !cancelled() }} on every gate after the first').toMatch(/!cancelled\(\)|always\(\)/);
    }
  });

  it.each(workflowFiles)('%s is a whole workflow with the permissions its gates use', (file) => {
    const workflow = parse(readFileSync(file, 'utf8'));
    expect(workflow.on).toBeDefined();
    expect(workflow.permissions).toMatchObject({ contents: expect.stringMatching(/read|write/) });
    const pullRequest = 'pull_request' in workflow.on;
    if (pullRequest) expect(workflow.permissions).toMatchObject({ 'pull-requests': 'write', checks: 'write' });
    else expect(workflow.permissions).toMatchObject({ issues: 'write' });
    expect(postgateSteps(workflow).length).toBeGreaterThan(0);
  });
});
