/** Client tools on this machine: found by major, run with the password in the environment, and the 17 gap explained. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { findLocalTools, type LocalTool, resolveClientTool, runClientTool, versionMismatchError } from '../../src/postgres/tools.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { startTestCluster, TEST_MAJORS } from '../support/pg.ts';

let fifteen: Cluster;

beforeAll(async () => {
  fifteen = await startTestCluster(15);
});

afterAll(async () => {
  await fifteen?.stop();
});

describe('client tools', () => {
  it("finds Debian's versioned pg_dump, pg_restore and psql, not the pg_wrapper", () => {
    for (const name of ['pg_dump', 'pg_restore', 'psql'] as const) {
      const tools = findLocalTools(name);
      expect(tools.find((t) => t.major === 15)?.file).toBe(`/usr/lib/postgresql/15/bin/${name}`);
      expect(tools.some((t) => t.file === `/usr/bin/${name}`)).toBe(false);
    }
  });

  it('runs a tool with the connection in libpq variables, the password never in its arguments', async () => {
    const psql = await resolveClientTool('psql', { minMajor: 15, serverMajor: 15, purpose: 'test' });
    const target = parseDatabaseUrl(fifteen.url);
    const args = ['-X', '-A', '-t', '-c', "select current_setting('application_name') || ' ' || current_database()"];
    const result = await runClientTool(psql, args, { connection: target });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe('postgate/drill postgres');
    expect(args.join(' ')).not.toContain(target.password!);
  });

  it('refuses up front, in one sentence with the exact fix, when no tool is new enough and Docker is absent', async () => {
    const error = await resolveClientTool('pg_dump', { minMajor: 17, serverMajor: 17, purpose: 'dump db@host:5432/app (PostgreSQL 17.6)' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^To dump db@host:5432\/app \(PostgreSQL 17\.6\) postgate needs pg_dump 17 or newer \(found: pg_dump 15\.\d+\) and no Docker engine is available to run it from postgres:17; install the PostgreSQL 17 client tools/,
    );
    expect(message.match(/\. /g) ?? []).toHaveLength(0);
  });

  it.runIf(TEST_MAJORS.includes(17))('recognises pg_dump\'s "aborting because of server version mismatch" from a real 17 server', async () => {
    const seventeen = await startTestCluster(17);
    try {
      const old = findLocalTools('pg_dump').find((t) => t.major === 15) as LocalTool;
      const result = await runClientTool(old, ['--schema-only', '-d', 'postgres'], { connection: parseDatabaseUrl(seventeen.url) });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('aborting because of server version mismatch');
      expect(versionMismatchError(result.stderr, 'pg_dump', 'dump the source')?.message).toMatch(
        /^To dump the source postgate needs pg_dump 17 or newer, but pg_dump 15\.\d+ aborted because of server version mismatch \(server 17\.\d+\); install the PostgreSQL 17 client tools/,
      );
    } finally {
      await seventeen.stop();
    }
  });
});
