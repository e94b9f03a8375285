/**
 * rls-audit benchmark on a generated Supabase project (owner-only tables, four policies
 * each, on the Supabase baseline):
 *   - rules over 5,000 tables / 20,000 policies (goal <= 1.5 s), against a raw baseline:
 *     one plain query reading the same catalogs and privileges (tables, policies with
 *     their expressions, per-role privileges, functions);
 *   - the access matrix for 200 tables (goal <= 5 s), against a raw baseline: the same
 *     number of probe statements as plain `set local role` + count queries in one transaction.
 * Light mode (CI): 1,000 tables / 4,000 policies and 50 matrix tables. Medians of 3 runs,
 * postgate and baseline interleaved; the rules run in a fresh session each time (cold
 * catalog caches, as in a real gate run), and so does their baseline.
 */
import pg from 'pg';
import { runRules } from '../../src/gates/rls/audit.ts';
import { buildAccessMatrix } from '../../src/gates/rls/matrix.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { type Bench, type BenchResult, median, result } from '../types.ts';

/** The generated project, in chunks of 500 tables (one transaction each stays within the lock table). */
function projectSql(tables: number, schema: string): string[] {
  const chunks: string[] = [];
  for (let from = 0; from < tables; from += 500) chunks.push(chunkSql(from, Math.min(tables, from + 500), schema));
  return chunks;
}

function chunkSql(from: number, to: number, schema: string): string {
  const out = [`create schema if not exists ${schema}; grant usage on schema ${schema} to anon, authenticated, service_role;`];
  for (let i = from; i < to; i += 1) {
    const t = `${schema}.t${i}`;
    out.push(
      `create table ${t} (id uuid primary key default gen_random_uuid(), owner_id uuid not null default auth.uid() references auth.users (id), title text not null check (char_length(title) between 1 and 80), created_at timestamptz not null default now());`,
      `alter table ${t} enable row level security;`,
      `grant select, insert, update, delete on ${t} to anon, authenticated, service_role;`,
      `create policy s on ${t} for select to authenticated using (owner_id = (select auth.uid()));`,
      `create policy i on ${t} for insert to authenticated with check (owner_id = (select auth.uid()));`,
      `create policy u on ${t} for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));`,
      `create policy d on ${t} for delete to authenticated using (owner_id = (select auth.uid()));`,
    );
  }
  return out.join('\n');
}

/** The raw floor for the rules: the same catalogs and privileges, read by one plain query. */
const RAW_CATALOG_QUERY = `
  select c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity,
         has_any_column_privilege('anon', c.oid, 'SELECT') as anon_select, has_any_column_privilege('anon', c.oid, 'INSERT') as anon_insert,
         has_any_column_privilege('anon', c.oid, 'UPDATE') as anon_update, has_table_privilege('anon', c.oid, 'DELETE') as anon_delete,
         has_any_column_privilege('authenticated', c.oid, 'SELECT') as auth_select, has_any_column_privilege('authenticated', c.oid, 'INSERT') as auth_insert,
         has_any_column_privilege('authenticated', c.oid, 'UPDATE') as auth_update, has_table_privilege('authenticated', c.oid, 'DELETE') as auth_delete,
         (select array_agg(pg_get_expr(p.polqual, p.polrelid) || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')) from pg_policy p where p.polrelid = c.oid) as policies
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not in ('pg_catalog', 'information_schema')
  union all
  select p.oid, n.nspname, p.proname, 'f', p.prosecdef, has_function_privilege('anon', p.oid, 'EXECUTE'), false, false, false,
         has_function_privilege('authenticated', p.oid, 'EXECUTE'), false, false, false, p.proconfig
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname not in ('pg_catalog', 'information_schema')`;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export const bench: Bench = async ({ light, log }) => {
  const ruleTables = light ? 1000 : 5000;
  const matrixTables = light ? 50 : 200;
  const cluster = await startCluster({ shadow: 'local' });
  const results: BenchResult[] = [];
  try {
    const url = await cluster.createDatabase('rls_bench');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await applySupabaseBaseline(client);
      log(`generating ${ruleTables} tables with ${ruleTables * 4} policies`);
      for (const chunk of projectSql(ruleTables, 'public')) await client.query(chunk);
      await client.query('analyze');

      const options = { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: false };
      const ours: number[] = [];
      const raw: number[] = [];
      // Each run in a fresh session (cold catalog caches), as the gate runs: postgate and raw interleaved.
      const fresh = async (fn: (session: pg.Client) => Promise<unknown>) => {
        const session = new pg.Client({ connectionString: url });
        await session.connect();
        try {
          return await time(() => fn(session));
        } finally {
          await session.end();
        }
      };
      for (let i = 0; i < 3; i += 1) {
        ours.push(await fresh((session) => runRules(session, options)));
        raw.push(await fresh((session) => session.query(RAW_CATALOG_QUERY)));
      }
      log(`rules runs: ${ours.map(Math.round).join(', ')} ms; raw: ${raw.map(Math.round).join(', ')} ms`);
      const rulesMs = median(ours);
      const label = `rls rules (${ruleTables} tables, ${ruleTables * 4} policies)`;
      results.push(result(label, rulesMs, median(raw), 'ms', undefined, 'against one plain query over the same catalogs and privileges'));
      results.push(result(`${label} vs goal`, rulesMs, 1500, 'ms', 1, 'absolute goal 1.5 s (set for 5,000 tables; light mode checks the same bound)'));

      log(`access matrix over ${matrixTables} tables`);
      for (const chunk of projectSql(matrixTables, 'matrix')) await client.query(chunk);
      const matrixOptions = { exposedSchemas: ['matrix'], apiRoles: ['anon', 'authenticated'] };
      const oursMatrix: number[] = [];
      const rawMatrix: number[] = [];
      let probes = 0;
      for (let i = 0; i < 3; i += 1) {
        oursMatrix.push(
          await time(async () => {
            probes = (await buildAccessMatrix(client, matrixOptions)).probes;
          }),
        );
        rawMatrix.push(
          await time(async () => {
            await client.query('begin');
            try {
              for (let t = 0; t < matrixTables; t += 1) {
                for (const role of ['anon', 'authenticated', 'authenticated', 'service_role']) {
                  for (let command = 0; command < 4; command += 1) {
                    await client.query(`set local role ${role}; select count(*) from matrix.t${t}; reset role`);
                  }
                }
              }
            } finally {
              await client.query('rollback');
            }
          }),
        );
      }
      log(`matrix runs: ${oursMatrix.map(Math.round).join(', ')} ms; raw: ${rawMatrix.map(Math.round).join(', ')} ms`);
      const matrixMs = median(oursMatrix);
      const matrixLabel = `rls access matrix (${matrixTables} tables, ${probes} probes)`;
      results.push(result(matrixLabel, matrixMs, median(rawMatrix), 'ms', undefined, 'against the same number of plain set-role + count statements'));
      results.push(result(`${matrixLabel} vs goal`, matrixMs, 5000, 'ms', 1, 'absolute goal 5 s (set for 200 tables; light mode checks the same bound)'));
    } finally {
      await client.end();
    }
  } finally {
    await cluster.stop();
  }
  return results;
};
