/** Renders each action's action.yml from its gate definition (inputs, outputs, runs). */
import { stringify } from 'yaml';
import { appliesTo } from './input-spec.ts';
import type { GateDefinition } from './gates.ts';

export const MANIFEST_HEADER = '# Generated from src/config/gates.ts by `npm run build`; edit that file, not this one.\n';

export function renderActionYml(gate: GateDefinition): string {
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(gate.inputs)) {
    if (!appliesTo(spec, 'action')) continue;
    let description = spec.description;
    if (spec.kind === 'enum') description += ` One of: ${spec.values?.join(', ')}.`;
    if (spec.defaultDescription) description += ` Default: ${spec.defaultDescription}.`;
    inputs[name] = {
      description,
      required: Boolean(spec.required),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    };
  }
  const outputs: Record<string, { description: string }> = {};
  for (const [name, spec] of Object.entries(gate.outputs)) outputs[name] = { description: spec.description };
  const manifest = {
    name: gate.title,
    description: gate.description,
    author: 'postgate',
    branding: { icon: 'shield', color: 'blue' },
    inputs,
    outputs,
    runs: { using: 'node24', main: 'dist/index.js', post: 'dist/index.js', 'post-if': 'always()' },
  };
  return MANIFEST_HEADER + stringify(manifest, { lineWidth: 0 });
}

export const README_START = '<!-- generated: inputs and outputs (npm run build) -->';
export const README_END = '<!-- end generated -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The inputs and outputs tables of an action's README, from the gate definition. */
export function renderReadmeTables(gate: GateDefinition): string {
  const lines = ['### Inputs', '', '| input | description | default |', '|---|---|---|'];
  for (const [name, spec] of Object.entries(gate.inputs)) {
    if (!appliesTo(spec, 'action')) continue;
    const values = spec.kind === 'enum' ? ` One of: ${spec.values?.map((v) => `\`${v}\``).join(', ')}.` : '';
    const fallback = spec.default !== undefined ? `\`${spec.default}\`` : (spec.defaultDescription ?? (spec.required ? '**required**' : ''));
    lines.push(`| \`${name}\` | ${cell(spec.description + values)}${spec.secret ? ' Secret: masked in logs.' : ''} | ${cell(fallback)} |`);
  }
  lines.push('', '### Outputs', '', '| output | description |', '|---|---|');
  for (const [name, spec] of Object.entries(gate.outputs)) lines.push(`| \`${name}\` | ${cell(spec.description)} |`);
  return lines.join('\n');
}

/** Replaces the generated block of a README (between the markers) with fresh tables. */
export function updateReadme(readme: string, gate: GateDefinition): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README of ${gate.action} lacks the generated-block markers`);
  return `${readme.slice(0, start + README_START.length)}\n${renderReadmeTables(gate)}\n${readme.slice(end)}`;
}
