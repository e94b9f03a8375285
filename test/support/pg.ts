/** Real PostgreSQL for tests, through postgate's own ephemeral provider. */
import pg from 'pg';
import { type Cluster, startCluster } from '../../src/postgres/ephemeral/index.ts';

/** Majors the integration suite runs on (Debian's 15 and the embedded package's 17). */
export const TEST_MAJORS: number[] = (process.env.POSTGATE_TEST_MAJORS ?? '15,17').split(',').map(Number);

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function startTestCluster(major = TEST_MAJORS[0]): Promise<Cluster> {
  return startCluster({ shadow: 'local', ...(major !== undefined ? { major } : {}) });
}

/**
 * `CREATE DATABASE <name> TEMPLATE <template>`, copying the template's files (PostgreSQL 15+):
 * with fsync off that is about half the time of the default, which writes every page to the WAL.
 */
export function createFromTemplateSql(name: string, template: string, major: number): string {
  return `create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}${major >= 15 ? ' strategy file_copy' : ''}`;
}
