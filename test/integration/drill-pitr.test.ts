/**
 * backup_pitr_disabled and backup_pitr_retention_short: live drills of a small database whose
 * Supabase Management API is a local fake server (the base-URL override), as the RPO test does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster } from '../support/pg.ts';

const TOKEN = 'sbp_pitr_secret_token_789';
const PROJECT = 'abcdefghijklmnop';
const DAY_S = 86_400;

let cluster: Cluster;
let sourceUrl: string;
let server: http.Server;
let base: string;
/** What the fake API answers next: the backups list, or an HTTP status. */
let answer: object | number;

beforeAll(async () => {
  cluster = await startTestCluster();
  sourceUrl = await cluster.createDatabase('pitr_app');
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  await client.query('create table items (id int primary key, name text); insert into items select g, g::text from generate_series(1, 10) g');
  await client.end();
  server = http.createServer((request, response) => {
    if (request.headers.authorization !== `Bearer ${TOKEN}` || typeof answer === 'number') {
      response.writeHead(typeof answer === 'number' ? answer : 401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await cluster?.stop();
});

/** A backups list with PITR on, reaching `days` back, or off. */
function backups(pitr: boolean, days?: number): object {
  const now = Math.floor(Date.now() / 1000);
  return {
    region: 'eu-central-1',
    walg_enabled: true,
    pitr_enabled: pitr,
    backups: pitr ? [] : [{ id: 1, is_physical_backup: true, status: 'COMPLETED', inserted_at: new Date(Date.now() - 3_600_000).toISOString() }],
    physical_backup_data:
      pitr && days !== undefined ? { earliest_physical_backup_date_unix: now - days * DAY_S, latest_physical_backup_date_unix: now - 60 } : {},
  };
}

async function drill(config: object, inputs: Record<string, string> = {}): Promise<GateResult> {
  const all: Record<string, string> = {
    'source-database-url': sourceUrl,
    shadow: 'url',
    'shadow-database-url': cluster.url,
    'supabase-access-token': TOKEN,
    'project-ref': PROJECT,
    ...inputs,
  };
  const options = parseInputs(DRILL_INPUTS, (name) => all[name], 'cli');
  return run(options, createContext({ cwd: process.cwd(), config: repoConfigSchema.parse(config), env: { POSTGATE_SUPABASE_API_URL: base } }));
}

const pitrFindings = (result: GateResult) => result.findings.filter((f) => f.rule.startsWith('backup_pitr_'));

describe('drill.pitr', () => {
  it('PITR off: backup_pitr_disabled when required; only reported when not', async () => {
    answer = backups(false);
    const required = await drill({ drill: { pitr: { required: true } } });
    expect(pitrFindings(required).map((f) => [f.rule, f.severity, f.message])).toEqual([
      [
        'backup_pitr_disabled',
        'error',
        `Point-in-time recovery is off for Supabase project ${PROJECT}: the newest restore point is the last daily backup, up to a day old.`,
      ],
    ]);
    expect(required.status).toBe('fail');
    expect(JSON.stringify(required)).not.toContain(TOKEN);

    const reported = await drill({});
    expect(pitrFindings(reported)).toEqual([]);
    expect(reported.metrics.pitr_enabled).toBe(0);
    expect(reported.details?.pitr).toBe('point-in-time recovery off (daily backups only)');
  });

  it('PITR on with 7 days of retention and a minimum of 7 passes, and the report says so', async () => {
    answer = backups(true, 7.05);
    const result = await drill({ drill: { pitr: { 'min-retention-days': 7 } } });
    expect(pitrFindings(result)).toEqual([]);
    expect(result.status).toBe('pass');
    expect(result.metrics).toMatchObject({ pitr_enabled: 1, pitr_retention_days: 7 });
    expect(result.details?.pitr).toBe('point-in-time recovery on, 7 days of retention');
  });

  it('PITR on with 2 days and a minimum of 7: backup_pitr_retention_short naming both', async () => {
    answer = backups(true, 2.01);
    const result = await drill({ drill: { pitr: { required: true, 'min-retention-days': 7 } } });
    expect(pitrFindings(result).map((f) => [f.rule, f.message])).toEqual([
      [
        'backup_pitr_retention_short',
        `Point-in-time recovery for Supabase project ${PROJECT} reaches 2 days back, less than the required 7 days (drill.pitr.min-retention-days).`,
      ],
    ]);
    // PITR on without an oldest restore point: the minimum cannot be checked, so the drill fails
    answer = backups(true);
    const unknown = await drill({ drill: { pitr: { 'min-retention-days': 7 } } });
    expect(pitrFindings(unknown).map((f) => f.rule)).toEqual(['backup_pitr_retention_short']);
    expect(unknown.status).toBe('fail');
  });

  it('fails closed: a rejected token is an error as for the RPO, and a required check without a token is a configuration error', async () => {
    answer = 401;
    const rejected = await drill({ drill: { pitr: { required: true } } });
    expect(rejected.status).toBe('error');
    expect(rejected.error).toMatch(/^The Supabase Management API rejected `supabase-access-token` \(HTTP 401\); create a personal access token/);
    expect(JSON.stringify(rejected)).not.toContain(TOKEN);

    const withoutToken = await drill({ drill: { pitr: { required: true } } }, { 'supabase-access-token': '', 'project-ref': '' });
    expect(withoutToken.status).toBe('error');
    expect(withoutToken.error).toBe(
      'Repo config `drill.pitr` requires point-in-time recovery, which is read from the Supabase Management API; set inputs `supabase-access-token` and `project-ref`, or remove `drill.pitr`.',
    );
  });
});
