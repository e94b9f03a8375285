/** Issue 18 part 2, the pure parts: the `roles` repo config key, diffRoles' SQL per server, and which roles count as the migrations'. */
import { describe, expect, it } from 'vitest';
import { diffRoles, type RoleFacts, type RoleSnapshot } from '../../src/catalog/roles.ts';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { migrationRoles } from '../../src/gates/drift/roles.ts';

const role = (name: string, overrides: Partial<RoleFacts['attributes']> = {}): RoleFacts => ({
  name,
  attributes: {
    superuser: false,
    inherit: true,
    createRole: false,
    createDb: false,
    login: false,
    replication: false,
    bypassRls: false,
    connectionLimit: -1,
    validUntil: null,
    ...overrides,
  },
  settings: {},
});
const snapshot = (serverMajor: number, parts: Partial<RoleSnapshot> = {}): RoleSnapshot => ({
  serverMajor,
  database: 'app',
  bootstrapSuperuser: 'supabase_admin',
  roles: [],
  memberships: [],
  ...parts,
});

describe('repo config `roles`', () => {
  it('parses required roles, `assumed-by` defaulting to none', () => {
    const config = parseRepoConfig('roles:\n  - name: app_worker\n    assumed-by: [postgres, app_login]\n  - name: app_reader\n', 'postgate.yml');
    expect(config.roles).toEqual([
      { name: 'app_worker', 'assumed-by': ['postgres', 'app_login'] },
      { name: 'app_reader', 'assumed-by': [] },
    ]);
    expect(parseRepoConfig('', 'postgate.yml').roles).toEqual([]);
  });

  it('names the key and the fix for a bad entry', () => {
    expect(() => parseRepoConfig('roles:\n  - app_worker\n', 'postgate.yml')).toThrow(
      'postgate.yml: key `roles[0]` expected a mapping, got the string "app_worker".',
    );
    expect(() => parseRepoConfig('roles:\n  - name: app_worker\n    assumed-by: postgres\n', 'postgate.yml')).toThrow(
      'postgate.yml: key `roles[0].assumed-by` expected a list of login roles such as [postgres], got the string "postgres".',
    );
    expect(() => parseRepoConfig('roles:\n  - name: app_worker\n    assumed_by: [postgres]\n', 'postgate.yml')).toThrow('has unknown key `assumed_by`');
  });
});

describe('diffRoles', () => {
  const expected = (major: number) =>
    snapshot(major, { roles: [role('w'), role('l', { login: true })], memberships: [{ role: 'w', member: 'l', admin: false, inherit: true, set: true }] });

  it('grants a missing membership with the options clause of the server in question', () => {
    expect(diffRoles(expected(17), snapshot(17, { roles: expected(17).roles })).map((d) => d.restoreSql)).toEqual([
      'grant "w" to "l" with admin false, inherit true, set true;',
    ]);
    expect(diffRoles(expected(15), snapshot(15, { roles: expected(15).roles })).map((d) => d.restoreSql)).toEqual(['grant "w" to "l";']);
  });

  it('merges the grants of one membership by several grantors, as the server checks them', () => {
    const actual = snapshot(17, {
      roles: expected(17).roles,
      memberships: [
        { role: 'w', member: 'l', admin: false, inherit: true, set: false, grantor: 'postgres' },
        { role: 'w', member: 'l', admin: false, inherit: false, set: true, grantor: 'supabase_admin' },
      ],
    });
    expect(diffRoles(expected(17), actual)).toEqual([]);
  });

  it('resets an unexpected setting, in this database where it was set there', () => {
    const actual = snapshot(17, {
      ...expected(17),
      roles: [role('w'), { ...role('l', { login: true }), settings: { 'work_mem@this-database': 'a'.repeat(64) } }],
    });
    expect(diffRoles(expected(17), actual).map((d) => [d.kind, d.summary, d.restoreSql])).toEqual([
      ['role_setting', 'setting work_mem (in this database) of role l is set but not expected', 'alter role "l" in database "app" reset "work_mem";'],
    ]);
  });
});

describe('the roles the migrations create', () => {
  it('are those the shadow gained, never the platform roles, without the grant to the non-superuser creator', () => {
    const before = snapshot(17, { roles: [role('anon'), role('authenticated'), role('postgres', { login: true })] });
    const after = snapshot(17, {
      roles: [...before.roles, role('app_worker')],
      memberships: [
        { role: 'app_worker', member: 'postgres', admin: true, inherit: false, set: false, grantor: 'supabase_admin' },
        { role: 'authenticated', member: 'app_worker', admin: false, inherit: true, set: true, grantor: 'postgres' },
      ],
    });
    const live = snapshot(17, { roles: [role('anon', { login: true }), role('app_worker', { connectionLimit: 2 })] });
    const compared = migrationRoles(before, after, live, { name: 'postgres', superuser: false });
    expect([...compared.created]).toEqual(['app_worker']);
    expect(diffRoles(compared.expected, compared.actual).map((d) => d.kind)).toEqual(['role_attributes', 'membership_missing']);
  });
});

describe('restore SQL comments', () => {
  it('keep a role name with a line break inside the comment', () => {
    const name = 'evil\ndrop table users; --';
    const sql = diffRoles(snapshot(17, { roles: [role(name, { login: true })] }), snapshot(17)).map((d) => d.restoreSql)[0]!;
    // the break inside the quoted name in `create role` is part of the name; in the comment it would end the comment
    expect(sql).toBe(
      `create role "evil\ndrop table users; --" nologin nosuperuser nocreatedb nocreaterole inherit noreplication nobypassrls connection limit -1;\n-- "evil drop table users; --" logs in: set its password from your secret store, then: alter role "evil drop table users; --" login password '...';`,
    );
  });
});
