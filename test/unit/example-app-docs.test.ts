/**
 * What `npm run demo` says at the end about where its failures come from agrees with the example
 * app: every planted problem it names is in an existing file and in the app README's table of
 * deliberate problems, and every problem in that table is named.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_APP, PLANTED_PROBLEMS } from '../../scripts/example-app.ts';

/** The files of the "where" column of examples/supabase-app/README.md's deliberate problems. */
function deliberateProblemFiles(): string[] {
  const readme = readFileSync(path.join(EXAMPLE_APP, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Deliberate problems'), readme.indexOf('### Accepted on purpose'));
  return [...section.matchAll(/^\| \d+ \|[^|]*\| ([^|:]+):\d+ \|/gm)].map(([, file]) => file!.trim());
}

describe('the demo names where the example app plants its problems', () => {
  it('names files that exist, each listed in the app README', () => {
    const listed = deliberateProblemFiles();
    expect(listed.length).toBeGreaterThan(5);
    for (const planted of PLANTED_PROBLEMS) {
      expect(existsSync(path.join(EXAMPLE_APP, planted.file)), planted.file).toBe(true);
      expect(listed, planted.file).toContain(planted.file);
    }
  });

  it('names every problem of the README table', () => {
    expect(new Set(PLANTED_PROBLEMS.map((planted) => planted.file))).toEqual(new Set(deliberateProblemFiles()));
  });
});
