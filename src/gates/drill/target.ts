/**
 * Where the backup is restored: a fresh database in a throwaway cluster (`startCluster`:
 * local binaries, Docker with `postgres:<major>` or `supabase/postgres:<tag>`, or scratch
 * databases on `shadow-database-url`), or a scratch database on `target-database-url`, which
 * is dropped afterwards. A target server whose own database already holds user tables is
 * refused unless `target-is-disposable` says it may be used.
 *
 * The copy never lands in a cluster's `postgres` database: that is the database pg_cron's
 * and pg_net's background workers serve by default, so restored jobs and queued requests
 * are not picked up.
 */
import { randomUUID } from 'node:crypto';
import type { DrillOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import { connect, quoteIdent } from '../../postgres/connect.ts';
import { findInstallations } from '../../postgres/ephemeral/binaries.ts';
import { type ClusterProfile, startCluster, type ShadowMode } from '../../postgres/ephemeral/index.ts';
import { track, untrack } from '../../postgres/ephemeral/registry.ts';
import { createScratchDatabase, reapScratchDatabases } from '../../postgres/scratch-databases.ts';
import { type DatabaseTarget, parseDatabaseUrl, withDatabase } from '../../postgres/url.ts';
import type { Artifact } from './artifact.ts';
import type { DrillState, Fetched, Targeted } from './state.ts';

export interface RestoreTarget {
  /** Superuser (or the given role's) URL of the scratch database: baseline, neutralise, verify, export. */
  url: string;
  target: DatabaseTarget;
  /**
   * The role that loads the backup. In the `supabase` profile it is the platform's
   * non-superuser `postgres`, as a restore into a Supabase project runs; otherwise `target`.
   */
  restoreAs: DatabaseTarget;
  profile: ClusterProfile;
  provider: 'local' | 'docker' | 'url' | 'target-database-url';
  major: number;
  version: string;
  /** May postgate create roles and apply the Supabase baseline here (cluster-wide effects)? */
  mayCreateRoles: boolean;
  /** A supabase/postgres image: the platform's roles, schemas and extensions are already there. */
  supabaseImage: boolean;
  /** Why another major than the one asked for was chosen (no local binaries of it). */
  note?: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  targetDatabaseUrl?: string;
  targetIsDisposable: boolean;
  shadow: ShadowMode;
  shadowDatabaseUrl?: string;
  image?: string;
  /** Explicit `postgres-version`. */
  requestedMajor?: number;
  /** The backup's source major, when known: the default. */
  sourceMajor?: number;
  /**
   * `supabase` for a Supabase backup restored into a cluster of postgate's own: the superuser is
   * `supabase_admin` and the backup is loaded as the non-superuser `postgres` (only the local
   * provider builds it; the others give `postgres`, see Cluster.profile).
   */
  profile?: ClusterProfile;
}

const TARGET_INPUT = 'target-database-url';
const DRILL_DATABASE = 'postgate_drill';

/** Which local major to start: the one asked for, else the source's, else the nearest newer installed one. */
export function chooseMajor(options: TargetOptions, installed: number[]): { major?: number; note?: string } {
  if (options.requestedMajor !== undefined) return { major: options.requestedMajor };
  const wanted = options.sourceMajor;
  if (wanted === undefined) return {};
  const usesLocal = (options.shadow === 'local' || options.shadow === 'auto') && !options.image && !options.shadowDatabaseUrl;
  if (!usesLocal || installed.includes(wanted)) return { major: wanted };
  const newer = installed.filter((major) => major > wanted).sort((a, b) => a - b)[0];
  if (newer === undefined) return { major: wanted };
  return { major: newer, note: `no PostgreSQL ${wanted} binaries here, so the backup of a PostgreSQL ${wanted} database is restored into PostgreSQL ${newer}` };
}

export async function createRestoreTarget(options: TargetOptions): Promise<RestoreTarget> {
  if (options.targetDatabaseUrl) return scratchOnTarget(options.targetDatabaseUrl, options.targetIsDisposable);
  const choice = chooseMajor(
    options,
    findInstallations().map((i) => i.major),
  );
  const cluster = await startCluster({
    shadow: options.shadow,
    ...(choice.major !== undefined ? { major: choice.major } : {}),
    ...(options.image ? { image: options.image } : {}),
    ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  });
  try {
    const restoreUrl = await cluster.createDatabase(cluster.provider === 'url' ? undefined : DRILL_DATABASE);
    const url = cluster.asAdmin(restoreUrl);
    return {
      url,
      target: parseDatabaseUrl(url, 'shadow-database-url'),
      restoreAs: parseDatabaseUrl(restoreUrl, 'shadow-database-url'),
      profile: cluster.profile,
      provider: cluster.provider,
      major: cluster.major,
      version: cluster.version,
      // Roles are cluster-wide: only in a cluster of our own.
      mayCreateRoles: cluster.provider !== 'url',
      supabaseImage: Boolean(options.image?.startsWith('supabase/postgres')),
      ...(choice.note ? { note: choice.note } : {}),
      stop: () => cluster.stop(),
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function scratchOnTarget(serverUrl: string, disposable: boolean): Promise<RestoreTarget> {
  const server = parseDatabaseUrl(serverUrl, TARGET_INPUT);
  const admin = await connect(serverUrl, { gate: 'drill', readOnly: false, inputName: TARGET_INPUT });
  let version = '';
  try {
    const facts = await admin.query<{ v: string; tables: string; can_create: boolean; supabase: boolean }>(
      `select current_setting('server_version') as v,
              (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind in ('r', 'p') and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
                  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'))::text as tables,
              (select rolcreatedb or rolsuper from pg_roles where rolname = current_user) as can_create,
              -- the platform's image: supabase_admin is its superuser (a Supabase baseline that an
              -- earlier shadow applied on this server creates the role without superuser)
              exists (select 1 from pg_roles where rolname = 'supabase_admin' and rolsuper) as supabase`,
    );
    const row = facts.rows[0]!;
    version = row.v.split(' ')[0] ?? row.v;
    const tables = Number(row.tables);
    if (tables > 0 && !disposable) {
      throw new UserError(
        `Input \`${TARGET_INPUT}\` points at ${server.label}, whose database already holds ${tables} user table(s), so it looks like a real database; point it at a server meant for drills, or set \`target-is-disposable: true\` if postgate may create and drop a scratch database there.`,
      );
    }
    if (!row.can_create) {
      throw new UserError(
        `The role in \`${TARGET_INPUT}\` (${server.user}) cannot create databases; grant it CREATEDB or use an ephemeral target (drop \`${TARGET_INPUT}\`).`,
      );
    }
    await reapScratchDatabases(admin).catch(() => 0);
    const name = await createScratchDatabase(admin, 'postgate_drill_');
    const id = `drill-${randomUUID()}`;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= admin
        .query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(async () => {
          await admin.end().catch(() => undefined);
          untrack(id);
        });
      return stopping;
    };
    track({ record: { id, ownerPid: process.pid, createdAt: new Date().toISOString() }, stop, stopSync: () => undefined });
    const url = withDatabase(serverUrl, name);
    return {
      url,
      target: parseDatabaseUrl(url, TARGET_INPUT),
      restoreAs: parseDatabaseUrl(url, TARGET_INPUT),
      profile: 'postgres',
      provider: 'target-database-url',
      major: Number(version.split('.')[0]),
      version,
      mayCreateRoles: disposable,
      supabaseImage: row.supabase,
      stop,
    };
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Revokes, in the current database, every default privilege a role gives to other roles
 * (ALTER DEFAULT PRIVILEGES ... REVOKE ALL), leaving owners' own rights alone. Run on a fresh
 * restore target after the Supabase baseline, so restored objects carry exactly the grants the
 * dump recorded.
 */
export const CLEAR_DEFAULT_PRIVILEGES_SQL = `
do $$
declare
  entry record;
begin
  for entry in
    select r.rolname as owner, n.nspname as schema, a.grantee, d.defaclobjtype as objtype
    from pg_default_acl d
    join pg_roles r on r.oid = d.defaclrole
    left join pg_namespace n on n.oid = d.defaclnamespace
    cross join lateral aclexplode(d.defaclacl) a
    where a.grantee <> d.defaclrole
  loop
    execute format(
      'alter default privileges for role %I %s revoke all on %s from %s',
      entry.owner,
      case when entry.schema is null then '' else format('in schema %I', entry.schema) end,
      case entry.objtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions' when 'T' then 'types' when 'n' then 'schemas' end,
      case when entry.grantee = 0 then 'public' else quote_ident((select rolname from pg_roles where oid = entry.grantee)) end
    );
  end loop;
end
$$;
`;

/**
 * The restore target's role model: a Supabase backup that gets the Supabase baseline in a cluster
 * of postgate's own is loaded as Supabase loads it, by the non-superuser `postgres` (the
 * baseline itself by the superuser `supabase_admin`), so a statement that needs a superuser fails
 * here as it fails on the platform. An image or a given server keeps its own roles.
 */
function restoreProfile(baseline: BaselineMode, supabase: boolean, options: DrillOptions): ClusterProfile {
  return wantsBaseline(baseline, supabase) && !options.image && !options.targetDatabaseUrl ? 'supabase' : 'postgres';
}

type BaselineMode = 'auto' | 'supabase' | 'none';

/** `drill.baseline`: the Supabase baseline always, never, or (auto) for a Supabase backup. */
export function wantsBaseline(mode: BaselineMode, supabase: boolean): boolean {
  return mode === 'supabase' || (mode === 'auto' && supabase);
}

/**
 * `supabase db dump` files are loaded the way Supabase documents restoring them, with psql as the
 * project's `postgres`, which is not a superuser. Archives and pg_dump SQL are restored as the
 * platform restores its own backups, by the superuser.
 */
export function loadsAsPlatformRole(artifact: Artifact, target: RestoreTarget): boolean {
  return artifact.format === 'supabase' && target.profile === 'supabase';
}

/**
 * Starts the restore target in the background (once; later calls do nothing), as a real
 * recovery provisions the server while the backup downloads. The create-target phase awaits it;
 * the drill's cleanup stops it in every case, also while it is still starting.
 */
export function startTarget(state: DrillState, sourceMajor: number | undefined, supabase: boolean): void {
  if (state.targetWork) return;
  const { options } = state;
  const started = performance.now();
  let finished: number | undefined;
  const promise = createRestoreTarget({
    profile: restoreProfile(state.config.baseline, supabase, options),
    ...(options.targetDatabaseUrl ? { targetDatabaseUrl: options.targetDatabaseUrl } : {}),
    targetIsDisposable: options.targetIsDisposable,
    shadow: options.shadow,
    ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}),
    ...(options.image ? { image: options.image } : {}),
    ...(options.postgresVersion !== undefined ? { requestedMajor: options.postgresVersion } : {}),
    ...(sourceMajor !== undefined ? { sourceMajor } : {}),
  });
  const settled = promise.then(
    (target) => {
      finished = performance.now();
      return target;
    },
    () => {
      finished = performance.now();
      return undefined;
    },
  );
  state.cleanup.defer(async () => {
    await (await settled)?.stop();
  });
  state.targetWork = { promise, durationMs: () => (finished ?? performance.now()) - started };
}

/** create target: await the target started during the fetch, and say what it is. */
export async function awaitTarget(state: Fetched): Promise<Targeted> {
  const note = state.mode.kind === 'live' ? 'started while the backup was taken' : 'started while the backup was checksummed';
  const target = await state.phases.background('create target', 'throwaway database', state.targetWork!, note);
  state.target = target;
  state.details.target = {
    provider: target.provider,
    server_version: target.version,
    restored_as: loadsAsPlatformRole(state.artifact, target) ? `${target.restoreAs.user} (not a superuser, as on Supabase)` : target.target.user,
    ...(target.note ? { note: target.note } : {}),
  };
  return state as Targeted;
}
