/**
 * The import rule of docs/architecture.md, enforced: a module imports only from its own
 * layer or a layer below it, and no import chain comes back to where it started.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

/**
 * Lowest first: a module may import from its own layer and the layers before it. A path belongs
 * to the first entry with a prefix it starts with. The bottom holds pure data and types every
 * layer shares: the run contract (src/core), configuration, errors, secrets, and the leaf type
 * and parsing modules of the layers above (finding types, shadow modes, URL and server-error parsing).
 */
const LAYERS: Array<{ layer: string; prefixes: string[] }> = [
  {
    layer: 'core',
    prefixes: [
      'core/',
      'config/',
      'errors.ts',
      'secrets.ts',
      'findings/types.ts',
      'postgres/ephemeral/types.ts',
      'postgres/url.ts',
      'postgres/server-errors.ts',
      'api-usage/types.ts',
    ],
  },
  { layer: 'findings', prefixes: ['findings/'] },
  { layer: 'postgres', prefixes: ['postgres/'] },
  { layer: 'migrations/catalog/report', prefixes: ['migrations/', 'catalog/', 'report/', 'github/', 'api-usage/', 'db-tests/'] },
  { layer: 'gates', prefixes: ['gates/'] },
  { layer: 'actions', prefixes: ['action/', 'cli.ts', 'bundle.ts', 'doctor.ts'] },
];

function rank(file: string): number {
  const index = LAYERS.findIndex(({ prefixes }) => prefixes.some((prefix) => file.startsWith(prefix)));
  if (index < 0) throw new Error(`src/${file} is in no layer: add it to LAYERS in test/unit/layers.test.ts`);
  return index;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(src, full).split(path.sep).join('/')] : [];
  });
}

const IMPORT = /^\s*(import|export)\s+([^'";]*?)\s*from\s*['"](\.{1,2}\/[^'"]+)['"]|^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

interface Import {
  target: string;
  /** `import type …` or every name marked `type`: erased at run time, so it cannot close a cycle. */
  typeOnly: boolean;
}

function isTypeOnly(clause: string): boolean {
  if (/^type\b/.test(clause)) return true;
  const names = /^\{([^}]*)\}$/
    .exec(clause)?.[1]
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names !== undefined && names.length > 0 && names.every((name) => name.startsWith('type '));
}

function imports(file: string): Import[] {
  const text = readFileSync(path.join(src, file), 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((match) => ({ spec: match[3] ?? match[4] ?? '', typeOnly: match[2] !== undefined && isTypeOnly(match[2]) }))
    .filter(({ spec }) => spec.endsWith('.ts'))
    .map(({ spec, typeOnly }) => ({ target: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)), typeOnly }));
}

const graph = new Map(sourceFiles(src).map((file) => [file, imports(file)]));

describe('src import layers', () => {
  it('has no upward import', () => {
    const upward = [...graph].flatMap(([file, edges]) =>
      edges
        .map(({ target }) => target)
        .filter((target) => rank(target) > rank(file))
        .map((target) => `src/${file} (${LAYERS[rank(file)]?.layer}) imports src/${target} (${LAYERS[rank(target)]?.layer})`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle at run time', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const { target, typeOnly } of graph.get(file) ?? []) if (!typeOnly) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
