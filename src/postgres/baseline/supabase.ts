/**
 * The Supabase baseline: what the Supabase platform provides before a project's
 * migrations run, recreated on a throwaway ("shadow") vanilla PostgreSQL 15/17
 * cluster so that `supabase/migrations/*.sql` apply there as they do on Supabase.
 *
 * It is applied by `applySupabaseBaseline()` (./apply.ts) as the superuser, in the
 * target database, in one transaction. Every statement is idempotent: running it
 * twice, or after a `roles.sql` from `supabase db dump --role-only` was restored,
 * succeeds. Roles are cluster-wide and are only created when missing (an existing
 * role is never altered).
 *
 * Sources: Supabase's documented definitions (supabase/postgres init scripts,
 * supabase/auth migrations, Storage, Vault, pg_net and Database Webhook docs). The SQL
 * is written for postgate from those facts, not copied from any project.
 *
 * ## Extensions the server lacks
 *
 * Supabase pre-installs `uuid-ossp`, `pgcrypto` and `pg_stat_statements` in schema
 * `extensions`. They ship with PostgreSQL's contrib, so the baseline creates them
 * there whenever `pg_available_extensions` lists them (`pg_stat_statements` can be
 * created without `shared_preload_libraries`; only querying its view needs that).
 *
 * The platform extensions `pg_graphql`, `pg_net`, `pgsodium`, `supabase_vault`
 * and `pgjwt` are not in vanilla PostgreSQL (nor are `vector`, `pg_cron` and
 * friends, which projects enable themselves; none of them is in Debian bookworm's
 * PostgreSQL 15 contrib). The baseline never pretends they exist:
 *   - `applySupabaseBaseline()` returns every pre-installed extension the server
 *     cannot create in `missingExtensions` (plus any extension the caller says
 *     the project needs), so the caller reports them by name. Nothing is skipped
 *     silently.
 *   - `supabase_vault` and `pg_net` are pre-installed as extensions: the real ones
 *     where the server has them, else postgate's stand-ins (src/postgres/extensions:
 *     real extensions in a private copy of the installation; pg_net records requests
 *     and never sends them; Vault encodes secrets, it does NOT encrypt them). On a
 *     server where neither can be created (`shadow: url`), the stand-in's script runs
 *     as plain SQL instead.
 *   - graphql_public gets the graphql() entry point Supabase installs while
 *     pg_graphql is off, returning its "pg_graphql extension is not enabled" error.
 *   - Other platform extensions (`pgjwt`, `pgsodium`, `pg_graphql`, ...) are created
 *     by the migrations that need them, from the real extension or a stand-in.
 *
 * ## Deliberate differences from the platform
 *   - On a cluster of the `supabase` profile (src/postgres/ephemeral), `supabase_admin`
 *     is the superuser and `postgres` is not, as on the platform. Elsewhere the
 *     baseline creates `supabase_admin` as a non-superuser, and the cluster's superuser
 *     is whoever applies the baseline.
 *   - No role gets a password. No role-level settings (statement_timeout etc.).
 *   - The net functions are not executable by anon/authenticated. Supabase's
 *     grant_pg_net_access event trigger has granted EXECUTE to them on some
 *     platform versions; the baseline models the locked-down setup (projects
 *     should revoke it), so a migration relying on anon calling net.* fails here.
 *   - `supabase_migrations` is not created: the Supabase CLI creates its history
 *     table on first push, and postgate's migration runner does the same.
 *
 * The SQL is static and lives in ./supabase/<section>.sql (see BASELINE_SECTIONS).
 */
import type { ClientBase } from 'pg';
import { readSqlAsset } from '../sql-asset.ts';

/** A Supabase pre-installed extension and where its objects live on Supabase. */
export interface SupabaseExtension {
  /** Extension name as in pg_available_extensions. */
  readonly name: string;
  /** Schema holding its objects on Supabase. */
  readonly schema: string;
  /** True when the baseline creates the real extension (if the server has it available). */
  readonly createdByBaseline: boolean;
  /** Schema of the baseline's SQL stand-in, when there is one. */
  readonly standIn?: string;
}

/** Extensions Supabase projects have before their first migration. */
export const SUPABASE_EXTENSIONS: readonly SupabaseExtension[] = [
  { name: 'uuid-ossp', schema: 'extensions', createdByBaseline: true },
  { name: 'pgcrypto', schema: 'extensions', createdByBaseline: true },
  { name: 'pg_stat_statements', schema: 'extensions', createdByBaseline: true },
  { name: 'pgjwt', schema: 'extensions', createdByBaseline: false },
  { name: 'pg_graphql', schema: 'graphql', createdByBaseline: false, standIn: 'graphql_public' },
  { name: 'pg_net', schema: 'net', createdByBaseline: false, standIn: 'net' },
  { name: 'pgsodium', schema: 'pgsodium', createdByBaseline: false },
  { name: 'supabase_vault', schema: 'vault', createdByBaseline: false, standIn: 'vault' },
];

/**
 * Schemas the platform owns. Objects in them are not the project's: drift diffs and
 * audits of user objects exclude them (the project may still add policies or
 * triggers on e.g. storage.objects, which callers treat separately).
 */
export const SUPABASE_MANAGED_SCHEMAS: readonly string[] = [
  'auth',
  'storage',
  'extensions',
  'vault',
  'supabase_functions',
  'net',
  'graphql',
  'graphql_public',
  'realtime',
  '_realtime',
  '_analytics',
  'supabase_migrations',
  'cron',
  'pgsodium',
  'pgsodium_masks',
  'pgbouncer',
  'pgtle',
];

/** Roles the platform owns (cluster-wide). The baseline creates the first group. */
export const SUPABASE_MANAGED_ROLES: readonly string[] = [
  'anon',
  'authenticated',
  'service_role',
  'authenticator',
  'supabase_admin',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_functions_admin',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'dashboard_user',
  'pgbouncer',
  // created by platform extensions, never by the baseline
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
  'supabase_etl_admin',
];

/** True when the connected database looks like a Supabase project (platform roles and the auth schema). */
export async function isSupabaseDatabase(session: ClientBase): Promise<boolean> {
  const result = await session.query<{ ok: boolean }>(
    `select exists (select 1 from pg_roles where rolname = 'supabase_admin')
        and exists (select 1 from pg_namespace where nspname = 'auth') as ok`,
  );
  return Boolean(result.rows[0]?.ok);
}

/** The roles PostgREST switches to for API requests. */
export const SUPABASE_API_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role'];

/** Named sections in the order they must run; the SQL is in ./supabase/<name>.sql. apply.ts may leave out a stand-in. */
export const BASELINE_SECTIONS = [
  /** Roles (cluster-wide), created only when missing, never altered; memberships. */
  { name: 'roles', sql: readSqlAsset(new URL('./supabase/roles.sql', import.meta.url)) },
  /** Schema extensions, the contrib extensions Supabase pre-installs, database search_path. */
  { name: 'extensions', sql: readSqlAsset(new URL('./supabase/extensions.sql', import.meta.url)) },
  /** Schema auth: users, identities and the request-claim helpers. */
  { name: 'auth', sql: readSqlAsset(new URL('./supabase/auth.sql', import.meta.url)) },
  /** Schema storage: buckets, objects (RLS on), helper functions. */
  { name: 'storage', sql: readSqlAsset(new URL('./supabase/storage.sql', import.meta.url)) },
  { name: 'vault', extension: 'supabase_vault' },
  { name: 'net', extension: 'pg_net', withSchema: 'extensions' },
  /** Schema supabase_functions: Database Webhooks' hooks table and trigger function. */
  { name: 'supabase_functions', sql: readSqlAsset(new URL('./supabase/supabase_functions.sql', import.meta.url)) },
  /** Stand-in for pg_graphql's public entry point. */
  { name: 'graphql_public', sql: readSqlAsset(new URL('./supabase/graphql_public.sql', import.meta.url)), standInFor: 'pg_graphql' },
  /** realtime, the supabase_realtime publication, pgbouncer, public's default privileges. */
  { name: 'platform', sql: readSqlAsset(new URL('./supabase/platform.sql', import.meta.url)) },
  /** Leaves the applying session resolving names as a Supabase session does. */
  { name: 'session', sql: 'set search_path = "$user", public, extensions;\n' },
] as const satisfies readonly BaselineSection[];

/**
 * A part of the baseline: plain SQL, SQL standing in for an extension the platform
 * pre-installs (left out where the real one is installed), or an extension the platform
 * pre-installs (the real one, or postgate's stand-in: src/postgres/extensions).
 */
export type BaselineSection =
  | { readonly name: string; readonly sql: string; readonly standInFor?: string }
  | { readonly name: string; readonly extension: string; readonly withSchema?: string };

/**
 * The baseline's plain SQL for vanilla PostgreSQL (without the pre-installed extensions,
 * which apply.ts creates). Run it as a superuser in one transaction.
 */
export const SUPABASE_BASELINE_SQL: string = BASELINE_SECTIONS.map((section) => ('sql' in section ? section.sql : '')).join('\n');
