/**
 * Issue 18 part 2: drift-gate's deploy mode compares the roles the migrations create with the
 * live database, and checks the repo config's required roles, on PostgreSQL 15 and 17. The live
 * database is on its own cluster (roles are cluster-wide); role names are unique per test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { EMPTY_REPO_CONFIG, parseRepoConfig } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drift/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { TEST_MAJORS, withClient } from '../support/pg.ts';

const SECRET = 'drift-role-secret-9c1e';
const ROLE_RULES = ['role_missing', 'role_drift', 'required_role_missing', 'required_role_not_assumable'];

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** The migrations: a worker role, a login role that may set role to it, a setting with a secret value. */
function migrations(worker: string, login: string): string {
  return [
    `create role ${worker} nologin;`,
    `create role ${login} login;`,
    `grant ${worker} to ${login};`,
    `alter role ${login} set application_name = '${SECRET}';`,
    'create table jobs (id int primary key);',
    `grant select on jobs to ${worker};`,
    '',
  ].join('\n');
}

function project(sql: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'drift-roles-'));
  roots.push(root);
  mkdirSync(path.join(root, 'sql'));
  writeFileSync(path.join(root, 'sql', '001_roles.sql'), sql);
  return root;
}

const roleFindings = (result: GateResult) => result.findings.filter((f) => ROLE_RULES.includes(f.rule));

describe.each(TEST_MAJORS)('roles in deploy mode (PostgreSQL %i)', (major) => {
  let live: Cluster;
  beforeAll(async () => {
    live = await startCluster({ shadow: 'local', major });
  });
  afterAll(() => live?.stop());

  /** Unique role names, a live database on the live cluster with `sql` applied, the gate's run. */
  async function scenario(liveSql: (worker: string, login: string) => string, config = '') {
    const suffix = randomBytes(4).toString('hex');
    const worker = `dr_worker_${suffix}`;
    const login = `dr_login_${suffix}`;
    const cwd = project(migrations(worker, login));
    const url = await live.createDatabase();
    await withClient(url, (c) => c.query(liveSql(worker, login)));
    const configText = config.replaceAll('WORKER', worker).replaceAll('LOGIN', login);
    const result = await run(
      parseInputs(DRIFT_INPUTS, (name) => ({ 'database-url': url, 'migrations-dir': 'sql', shadow: 'local', 'postgres-version': String(major) })[name], 'cli'),
      createContext({ cwd, env: {}, config: configText ? parseRepoConfig(configText, 'postgate.yml') : EMPTY_REPO_CONFIG }),
    );
    await withClient(url, (c) => c.query(`drop table if exists jobs; drop role if exists ${login}; drop role if exists ${worker}`));
    return { result, worker, login };
  }

  it('finds no role difference when the live database has what the migrations create', async () => {
    const { result } = await scenario(migrations);
    expect(result.error).toBeUndefined();
    expect(roleFindings(result)).toEqual([]);
    expect(result.status).toBe('pass');
  });

  it('reports a role the migrations create that the live database lacks, with SQL that invents no password', async () => {
    const { result, worker, login } = await scenario((w, l) =>
      migrations(w, l)
        .split('\n')
        .filter((line) => !line.includes(w))
        .join('\n'),
    );
    expect(roleFindings(result).map((f) => [f.rule, f.severity, f.object])).toEqual([['role_missing', 'error', { kind: 'role', name: worker }]]);
    const finding = roleFindings(result)[0]!;
    expect(finding.message).toBe(`Role ${worker}, which the applied migrations create, is missing in the database.`);
    expect(finding.remediation).toContain(`create role "${worker}" nologin`);
    expect(finding.remediation).toContain(`grant "${worker}" to "${login}"`);
    expect(finding.remediation).not.toMatch(/password/i);
    // the grant on the table is schema drift, reported as such
    expect(result.findings.some((f) => f.rule === 'schema_drift_missing' || f.rule === 'schema_drift_changed')).toBe(true);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('reports a changed setting without its value', async () => {
    const { result, login } = await scenario((w, l) => migrations(w, l).replace(SECRET, 'another-value'));
    expect(roleFindings(result).map((f) => [f.rule, f.object.name])).toEqual([['role_drift', login]]);
    expect(roleFindings(result)[0]!.message).toBe(
      `Role ${login} differs from what the applied migrations create: setting application_name of role ${login} has a different value.`,
    );
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain('another-value');
  });

  it.runIf(major >= 16)('reports a membership granted WITH SET FALSE', async () => {
    const { result, worker, login } = await scenario((w, l) => migrations(w, l).replace(`grant ${w} to ${l};`, `grant ${w} to ${l} with set false;`));
    expect(roleFindings(result).map((f) => [f.rule, f.object.name])).toEqual([['role_drift', worker]]);
    const finding = roleFindings(result)[0]!;
    expect(finding.message).toBe(
      `Role ${worker} differs from what the applied migrations create: membership of ${login} in ${worker} has admin false, inherit true, set false (expected admin false, inherit true, set true).`,
    );
    expect(finding.remediation).toBe(`-- Bring the role back to what the migrations say:\ngrant "${worker}" to "${login}" with set true;`);
  });

  it('checks the required roles of the repo config', async () => {
    const config = ['roles:', '  - name: WORKER', '    assumed-by: [postgres, LOGIN]', '  - name: app_worker_absent_x', '    assumed-by: [postgres]', ''].join(
      '\n',
    );
    // the live database lost the membership: LOGIN cannot set role WORKER; postgres (superuser) always can
    const { result, worker, login } = await scenario((w, l) => migrations(w, l).replace(`grant ${w} to ${l};`, ''), config);
    const required = result.findings.filter((f) => f.rule.startsWith('required_role'));
    expect(required.map((f) => [f.rule, f.severity, f.message])).toEqual([
      [
        'required_role_not_assumable',
        'error',
        `\`${login}\` cannot \`set role ${worker}\`: \`${login}\` is not a member of \`${worker}\` (no membership); grant ${worker} to ${login}.`,
      ],
      ['required_role_missing', 'error', "role `app_worker_absent_x` missing: the repo config's `roles` lists it."],
    ]);
    // the lost membership is also role drift against the migrations
    expect(
      roleFindings(result)
        .filter((f) => f.rule === 'role_drift')
        .map((f) => f.object.name),
    ).toEqual([worker]);
  });

  it.runIf(major >= 16)('says when the login role holds the membership WITH SET FALSE, or does not exist', async () => {
    const config = ['roles:', '  - name: WORKER', '    assumed-by: [LOGIN, nobody_here_x]', ''].join('\n');
    const { result, worker, login } = await scenario((w, l) => migrations(w, l).replace(`grant ${w} to ${l};`, `grant ${w} to ${l} with set false;`), config);
    expect(result.findings.filter((f) => f.rule === 'required_role_not_assumable').map((f) => f.message)).toEqual([
      `\`${login}\` cannot \`set role ${worker}\`: \`${login}\` is a member of \`${worker}\` only through a membership without the SET option (granted WITH SET FALSE); grant it with set true.`,
      `\`nobody_here_x\` cannot \`set role ${worker}\`: role \`nobody_here_x\` does not exist.`,
    ]);
  });
});
