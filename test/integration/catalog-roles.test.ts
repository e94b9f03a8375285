/**
 * Issue 18 part 2: roles and memberships in the catalog model on real PostgreSQL 15 and 17 —
 * membership options (16+) and the pre-16 rules, settings only as hashes, `set role` checks, and
 * no password ever read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSetRole, checkRequiredRoles, diffRoles, IN_THIS_DATABASE, readRoles } from '../../src/catalog/roles.ts';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';
import { TEST_MAJORS, withClient } from '../support/pg.ts';

const SECRET = 'role-setting-secret-value-7f3a';

describe('the roles module reads no password', () => {
  it('never names the password column or pg_authid', () => {
    const text = readFileSync(path.resolve(import.meta.dirname, '../../src/catalog/roles.ts'), 'utf8');
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).not.toMatch(/rolpassword/i);
    expect(code).not.toMatch(/pg_authid/i);
  });
});

describe.each(TEST_MAJORS)('roles in the catalog model (PostgreSQL %i)', (major) => {
  let cluster: Cluster;
  let url: string;
  const suffix = randomBytes(4).toString('hex');
  const worker = `cr_worker_${suffix}`;
  const login = `cr_login_${suffix}`;
  const other = `cr_other_${suffix}`;
  const names = [worker, login, other];

  beforeAll(async () => {
    cluster = await startCluster({ shadow: 'local', major });
    url = await cluster.createDatabase();
    await withClient(url, async (c) => {
      await c.query(`create role ${worker} nologin noinherit connection limit 3`);
      await c.query(`create role ${login} login password 'never-printed-pw' valid until '2031-01-02 03:04:05+00'`);
      await c.query(`create role ${other} login`);
      await c.query(`grant ${worker} to ${login}${major >= 16 ? ' with admin true, set true' : ' with admin option'}`);
      if (major >= 16) await c.query(`grant ${worker} to ${other} with set false, inherit false`);
      else await c.query(`grant ${worker} to ${other}`);
      await c.query(`alter role ${worker} set statement_timeout = '5s'`);
      await c.query(`alter role ${login} set app.token = '${SECRET}'`);
      await c.query(`alter role ${login} in database ${await c.query('select current_database() as d').then((r) => r.rows[0].d)} set work_mem = '8MB'`);
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads attributes, memberships with their options, and settings only as SHA-256', async () => {
    const snapshot = await withClient(url, (c) => readRoles(c, { names }));
    expect(snapshot.serverMajor).toBe(major);
    expect(snapshot.bootstrapSuperuser).toBe('postgres');
    expect(snapshot.roles.map((r) => r.name)).toEqual([login, other, worker].sort());
    const w = snapshot.roles.find((r) => r.name === worker)!;
    expect(w.attributes).toEqual({
      superuser: false,
      inherit: false,
      createRole: false,
      createDb: false,
      login: false,
      replication: false,
      bypassRls: false,
      connectionLimit: 3,
      validUntil: null,
    });
    const l = snapshot.roles.find((r) => r.name === login)!;
    expect(l.attributes.validUntil).toBe('2031-01-02T03:04:05Z');
    expect(Object.keys(l.settings)).toEqual(['app.token', `work_mem${IN_THIS_DATABASE}`]);
    expect(l.settings['app.token']).toMatch(/^[0-9a-f]{64}$/);
    const json = JSON.stringify(snapshot);
    expect(json).not.toContain(SECRET);
    expect(json).not.toContain('never-printed-pw');
    expect(json).not.toContain('8MB');

    const memberships = snapshot.memberships.map(({ grantor: _, ...m }) => m);
    expect(memberships).toEqual(
      major >= 16
        ? [
            { role: worker, member: login, admin: true, inherit: true, set: true },
            { role: worker, member: other, admin: false, inherit: false, set: false },
          ]
        : [
            // before 16: inherit is the member's attribute, set always true
            { role: worker, member: login, admin: true, inherit: true, set: true },
            { role: worker, member: other, admin: false, inherit: true, set: true },
          ],
    );
  });

  it('diffs two snapshots with restore SQL for the server in question', async () => {
    const expected = await withClient(url, (c) => readRoles(c, { names }));
    const actual = structuredClone(expected);
    actual.roles = actual.roles.filter((r) => r.name !== other);
    actual.roles.find((r) => r.name === worker)!.attributes.connectionLimit = -1;
    actual.roles.find((r) => r.name === login)!.settings['app.token'] = 'f'.repeat(64);
    actual.memberships = actual.memberships.filter((m) => m.member !== login).map((m) => ({ ...m, admin: true }));
    const differences = diffRoles(expected, actual);
    expect(differences.map((d) => [d.kind, d.role, d.member])).toEqual([
      ['role_setting', login, undefined],
      ['role_missing', other, undefined],
      ['role_attributes', worker, undefined],
      ['membership_missing', worker, login],
      ['membership_options', worker, other],
    ]);
    const sql = Object.fromEntries(differences.map((d) => [d.kind, d.restoreSql]));
    expect(sql.role_missing).toBe(
      `create role "${other}" nologin nosuperuser nocreatedb nocreaterole inherit noreplication nobypassrls connection limit -1;\n-- "${other}" logs in: set its password from your secret store, then: alter role "${other}" login password '...';`,
    );
    expect(sql.role_attributes).toBe(`alter role "${worker}" with connection limit 3;`);
    expect(sql.role_setting).toBe(`-- alter role "${login}" set "app.token" = <the value the expected side sets>;`);
    expect(sql.membership_missing).toBe(
      major >= 16 ? `grant "${worker}" to "${login}" with admin true, inherit true, set true;` : `grant "${worker}" to "${login}" with admin option;`,
    );
    expect(sql.membership_options).toBe(`revoke admin option for "${worker}" from "${other}";`);
    expect(JSON.stringify(differences)).not.toContain(SECRET);
    // a snapshot does not differ from itself
    expect(diffRoles(expected, expected)).toEqual([]);
  });

  it('answers whether a login role can set role', async () => {
    await withClient(url, async (c) => {
      expect(await canSetRole(c, 'postgres', worker)).toEqual({ ok: true });
      expect(await canSetRole(c, login, worker)).toEqual({ ok: true });
      const ghost = `cr_ghost_${suffix}`;
      expect(await canSetRole(c, ghost, worker)).toEqual({ ok: false, reason: `role \`${ghost}\` does not exist` });
      expect(await canSetRole(c, login, ghost)).toEqual({ ok: false, reason: `role \`${ghost}\` does not exist` });
      expect((await canSetRole(c, worker, login)).reason).toMatch(/is not a member of .* \(no membership\)/);
      const viaOther = await canSetRole(c, other, worker);
      if (major >= 16) expect(viaOther).toEqual({ ok: false, reason: expect.stringMatching(/without the SET option \(granted WITH SET FALSE\)/) });
      else expect(viaOther).toEqual({ ok: true });
      expect(
        await checkRequiredRoles(c, [
          { name: worker, 'assumed-by': ['postgres', login, other] },
          { name: ghost, 'assumed-by': ['postgres'] },
        ]),
      ).toEqual([
        ...(major >= 16 ? [{ kind: 'not_assumable', role: worker, login: other, reason: expect.stringContaining('WITH SET FALSE') }] : []),
        { kind: 'missing', role: ghost, reason: `role \`${ghost}\` does not exist` },
      ]);
    });
  });
});
