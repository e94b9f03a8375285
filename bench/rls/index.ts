/**
 * rls-audit benchmark on a generated Supabase project (owner-only tables, four policies
 * each, on the Supabase baseline):
 *   - rules over 5,000 tables / 20,000 policies (goal <= 1.5 s), against a raw baseline:
 *     one plain query reading the same catalogs and privileges (tables, policies with
 *     their expressions, per-role privileges, functions); twice: on tables made from one
 *     template (as with a schema per tenant: each distinct policy text is printed once) and
 *     on tables no two alike (each owner column named differently: every policy printed);
 *   - the access matrix for 200 tables (goal <= 5 s), against a raw baseline: the same
 *     number of probe statements as plain `set local role` + count queries in one transaction.
 * The rules run as the gate runs them, with a twin session taking part of the work (see
 * runRules); the raw baseline is one plain query on one session.
 * Light mode (CI): 1,000 tables / 4,000 policies and 50 matrix tables. Medians of 3 runs,
 * postgate and baseline interleaved; the rules run in a fresh session each time (cold
 * catalog caches, as in a real gate run), and so does their baseline.
 */
import pg from 'pg';
import { runRules } from '../../src/gates/rls/audit.ts';
import { buildAccessMatrix } from '../../src/gates/rls/matrix.ts';
import { applySupabaseBaseline } from '../../src/postgres/baseline/apply.ts';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';
import { withClient } from '../../test/support/pg.ts';
import { type Bench, type BenchResult, median, result } from '../types.ts';

/**
 * The generated project, in chunks of 500 tables (one transaction each stays within the lock
 * table). `alike`: every table from one template (as in a schema per tenant), so the rules
 * print each distinct policy once; otherwise each table's owner column has its own name and
 * no two policies print alike (the worst case).
 */
function projectSql(tables: number, schema: string, alike = true): string[] {
  const chunks: string[] = [];
  for (let from = 0; from < tables; from += 500) chunks.push(chunkSql(from, Math.min(tables, from + 500), schema, alike));
  return chunks;
}

function chunkSql(from: number, to: number, schema: string, alike: boolean): string {
  const out = [`create schema if not exists ${schema}; grant usage on schema ${schema} to anon, authenticated, service_role;`];
  for (let i = from; i < to; i += 1) {
    const t = `${schema}.t${i}`;
    const owner = alike ? 'owner_id' : `owner_${i}`;
    out.push(
      `create table ${t} (id uuid primary key default gen_random_uuid(), ${owner} uuid not null default auth.uid() references auth.users (id), title text not null check (char_length(title) between 1 and 80), created_at timestamptz not null default now());`,
      `alter table ${t} enable row level security;`,
      `grant select, insert, update, delete on ${t} to anon, authenticated, service_role;`,
      `create policy s on ${t} for select to authenticated using (${owner} = (select auth.uid()));`,
      `create policy i on ${t} for insert to authenticated with check (${owner} = (select auth.uid()));`,
      `create policy u on ${t} for update to authenticated using (${owner} = (select auth.uid())) with check (${owner} = (select auth.uid()));`,
      `create policy d on ${t} for delete to authenticated using (${owner} = (select auth.uid()));`,
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

/** The rules against the raw query, three times each, interleaved, each in a fresh session (cold catalog caches, as the gate runs). */
async function rulesBench(url: string, tables: number, alike: boolean, log: (message: string) => void): Promise<BenchResult[]> {
  const options = { exposedSchemas: ['public'], apiRoles: ['anon', 'authenticated'], forceRls: false };
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    // as the gate runs them: with a twin session (opened within the timing)
    ours.push(await withClient(url, (session) => time(() => runRules(session, options, { url, options: { gate: 'bench', readOnly: true } }))));
    raw.push(await withClient(url, (session) => time(() => session.query(RAW_CATALOG_QUERY))));
  }
  const label = `rls rules (${tables} tables, ${tables * 4} policies, ${alike ? 'tables alike' : 'no two alike'})`;
  log(`${label}: ${ours.map(Math.round).join(', ')} ms; raw: ${raw.map(Math.round).join(', ')} ms`);
  const note = alike
    ? 'every table from one template: each distinct policy is printed once'
    : "each table's owner column named differently: every policy is printed";
  return [
    result(label, median(ours), median(raw), 'ms', undefined, `against one plain query over the same catalogs and privileges; ${note}`),
    result(`${label} vs goal`, median(ours), 1500, 'ms', 1, 'absolute goal 1.5 s (set for 5,000 tables; light mode checks the same bound)'),
  ];
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

      results.push(...(await rulesBench(url, ruleTables, true, log)));
      const distinctUrl = await cluster.createDatabase('rls_bench_distinct');
      await withClient(distinctUrl, async (distinct) => {
        await applySupabaseBaseline(distinct);
        for (const chunk of projectSql(ruleTables, 'public', false)) await distinct.query(chunk);
        await distinct.query('analyze');
      });
      results.push(...(await rulesBench(distinctUrl, ruleTables, false, log)));

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
