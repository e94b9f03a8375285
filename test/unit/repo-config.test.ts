import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REPO_CONFIG, loadRepoConfig, parseRepoConfig } from '../../src/config/repo-config.ts';

describe('repo config', () => {
  it('parses a full config with defaults', () => {
    const config = parseRepoConfig(
      `
allowlist:
  - rule: rls_enabled_no_policy
    object: public.countries
    reason: reference data
    expires: 2027-06-30
rls:
  exposed-schemas: [public]
  tests:
    - name: anon sees nothing
      as: { role: anon }
      sql: select * from trips
      expect: { rows: 0 }
drill:
  rto-target: 15m
  smoke:
    - name: trips
      sql: select 1
`,
      'postgate.yml',
    );
    expect(config.allowlist[0]).toMatchObject({
      rule: 'rls_enabled_no_policy',
      object: { kind: '*', schema: 'public', name: 'countries' },
      expires: '2027-06-30',
    });
    expect(config.rls['exposed-schemas']).toEqual(['public']);
    expect(config.drill['rto-target']).toBe(900_000);
    expect(config.drill.smoke[0]?.expect).toBe('no-error');
  });

  it('names the file, key and expectation for a wrong type', () => {
    expect(() => parseRepoConfig('rls:\n  exposed-schemas: public\n', '.github/postgate.yml')).toThrow(
      '.github/postgate.yml: key `rls.exposed-schemas` expected a list, got the string "public".',
    );
  });

  it('rejects an allowlist entry without a reason', () => {
    expect(() => parseRepoConfig('allowlist:\n  - rule: x\n    object: public.t\n', 'c.yml')).toThrow(/c\.yml: key `allowlist\[0\]\.reason` expected a reason/);
  });

  it('rejects unknown keys (typos must not disable checks)', () => {
    expect(() => parseRepoConfig('rls:\n  exposed_schemas: [public]\n', 'c.yml')).toThrow('c.yml: key `rls` has unknown key `exposed_schemas`.');
  });

  it('reports YAML syntax errors with the line', () => {
    expect(() => parseRepoConfig('rls:\n  tests: [\n', 'c.yml')).toThrow(/c\.yml: invalid YAML at line \d/);
  });

  it('treats a missing default file as no config but a named one as an error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    expect(loadRepoConfig(path.join(dir, 'none.yml'), { explicit: false })).toEqual(EMPTY_REPO_CONFIG);
    expect(() => loadRepoConfig(path.join(dir, 'none.yml'), { explicit: true })).toThrow(/does not exist; fix input `config`/);
    expect(() => loadRepoConfig(dir, { explicit: true })).toThrow(/is a directory/);
    const unreadable = path.join(dir, 'x.yml');
    writeFileSync(unreadable, 'version: 1\n', { mode: 0o000 });
    if (process.getuid?.() !== 0) expect(() => loadRepoConfig(unreadable, { explicit: true })).toThrow(/cannot be read/);
  });
});

describe('project.migrations-dir from a pull request', () => {
  it('must stay inside the repository', () => {
    for (const dir of ['/etc', '../other-repo/migrations', 'supabase/../../x']) {
      expect(() => parseRepoConfig(`project:\n  migrations-dir: ${JSON.stringify(dir)}\n`, 'postgate.yml')).toThrow(/project\.migrations-dir/);
    }
    expect(parseRepoConfig('project:\n  migrations-dir: supabase/migrations\n', 'postgate.yml').project['migrations-dir']).toBe('supabase/migrations');
  });
});
