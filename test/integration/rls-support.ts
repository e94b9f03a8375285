/** Shared setup for the rls-audit tests: a cluster with a Supabase-baseline template database. */
import pg from 'pg';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { createFromTemplateSql, startTestCluster, withClient } from '../support/pg.ts';

export interface RlsCluster {
  cluster: Cluster;
  /** A fresh database copied from the baseline template; returns its URL. */
  fresh(sql?: string): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startRlsCluster(major?: number): Promise<RlsCluster> {
  const cluster = await startTestCluster(major);
  try {
    const templateUrl = await cluster.createDatabase('rls_template');
    await withClient(templateUrl, (client) => applySupabaseBaseline(client));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return {
    cluster,
    async fresh(sql) {
      counter += 1;
      const name = `rls_case_${counter}`;
      await withClient(cluster.url, (client) => client.query(createFromTemplateSql(name, 'rls_template', cluster.major)));
      const url = new URL(cluster.url);
      url.pathname = `/${name}`;
      if (sql) await withClient(url.toString(), (client) => client.query(sql));
      return url.toString();
    },
    stop: () => cluster.stop(),
  };
}

export async function withRlsClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, fn);
}
