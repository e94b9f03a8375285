/**
 * Which objects a Supabase project's production database gave the legacy Data API grants.
 *
 * Until 2026 every table, view, sequence and function created in `public` was granted to
 * `anon`, `authenticated` and `service_role` by default privileges. New projects stopped doing
 * so on 2026-05-30, every project on 2026-10-30; objects created before keep their grants. The
 * Supabase CLI's `[api] auto_expose_new_tables = true` keeps the legacy default for everything.
 *
 * Supabase migration versions are timestamps, so the shadow models production: migrations
 * dated before the project's switch get the legacy grants, later ones do not. Where the date
 * cannot be known, the legacy grants are assumed: a security gate must never under-report.
 */
import { UserError } from '../errors.ts';

/** New projects got no legacy grants from this day on. */
export const NEW_PROJECTS_EXPLICIT_SINCE = '2026-05-30';
/** Every project stopped giving them on this day. */
export const ALL_PROJECTS_EXPLICIT_SINCE = '2026-10-30';

export interface DataApiGrantModel {
  /** Whether objects created by the migration with this version get the legacy grants. */
  legacyFor(version: string): boolean;
  /** The assumption, in one sentence, for reports. */
  assumption: string;
}

export interface GrantModelInput {
  /** `[api] auto_expose_new_tables` from supabase/config.toml; undefined when unset. */
  autoExposeNewTables: boolean | undefined;
  /** The day the project switched to explicit grants (repo config), YYYY-MM-DD. */
  explicitGrantsSince: string | undefined;
  /** Versions of the migrations, in order. */
  versions: readonly string[];
}

const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d*$/;

/** The day of a Supabase migration version (YYYYMMDDHHMMSS...), as YYYY-MM-DD, if it is one. */
export function versionDay(version: string): string | undefined {
  const match = TIMESTAMP.exec(version);
  if (!match) return undefined;
  const [, year, month, day] = match;
  const date = new Date(`${year}-${month}-${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || Number(year) < 2000 ? undefined : `${year}-${month}-${day}`;
}

export function dataApiGrantModel(input: GrantModelInput): DataApiGrantModel {
  if (input.autoExposeNewTables === true) {
    return { legacyFor: () => true, assumption: '`[api] auto_expose_new_tables = true`: every object created in public gets the legacy Data API grants.' };
  }
  const days = input.versions.map(versionDay);
  if (input.explicitGrantsSince) {
    const since = input.explicitGrantsSince;
    if (days.some((day) => day === undefined)) {
      return { legacyFor: () => true, assumption: 'Migration versions are not dates, so every object is assumed to have the legacy Data API grants.' };
    }
    return {
      legacyFor: (version) => (versionDay(version) ?? '') < since,
      assumption: `Objects created by migrations dated before ${since} (the repo config's explicit-grants date) have the legacy Data API grants; later ones have only the grants the migrations give.`,
    };
  }
  if (days.length === 0 || days.some((day) => day === undefined)) {
    return {
      legacyFor: () => true,
      assumption: 'Migration versions are not dates, so every object is assumed to have the legacy Data API grants (never under-report).',
    };
  }
  const first = days[0]!;
  if (first >= NEW_PROJECTS_EXPLICIT_SINCE) {
    return {
      legacyFor: () => false,
      assumption: `The first migration is dated ${first}, after ${NEW_PROJECTS_EXPLICIT_SINCE}, so the project never had the legacy Data API grants: objects have only the grants the migrations give.`,
    };
  }
  return {
    legacyFor: (version) => (versionDay(version) ?? '') < ALL_PROJECTS_EXPLICIT_SINCE,
    assumption: `Objects created by migrations dated before ${ALL_PROJECTS_EXPLICIT_SINCE} have the legacy Data API grants (the project predates ${NEW_PROJECTS_EXPLICIT_SINCE}); later ones have only the grants the migrations give. Set \`project.explicit-grants-since\` in the repo config if the project switched earlier.`,
  };
}

/**
 * The grants the Supabase CLI's local database gives every object, whatever its date: the legacy
 * ones with `auto_expose_new_tables = true`, none when it is unset or false (the CLI's default
 * since 2026-06).
 */
export function configuredGrantModel(autoExposeNewTables: boolean | undefined): DataApiGrantModel {
  const legacy = autoExposeNewTables === true;
  return {
    legacyFor: () => legacy,
    assumption: legacy
      ? '`[api] auto_expose_new_tables = true`: every object created in public gets the legacy Data API grants, as in the local database.'
      : '`[api] auto_expose_new_tables` is unset or false: no object gets the legacy Data API grants, as in the local database.',
  };
}

/** `[api] auto_expose_new_tables` from a parsed config.toml; a value of the wrong type is bad input. */
export function autoExposeSetting(config: { api?: Record<string, unknown> } | undefined, configPath: string): boolean | undefined {
  const value = config?.api?.auto_expose_new_tables;
  if (value === undefined || typeof value === 'boolean') return value;
  throw new UserError(`${configPath}: \`[api] auto_expose_new_tables\` is ${JSON.stringify(value)}; set it to true or false, or remove it.`);
}

/** The legacy default privileges of role postgres in public, switched on or off (run as the superuser). */
export function legacyDefaultGrantsSql(on: boolean): string {
  const verb = on ? 'grant all on %s to anon, authenticated, service_role' : 'revoke all on %s from anon, authenticated, service_role';
  return ['tables', 'sequences', 'functions']
    .map((kind) => `alter default privileges for role postgres in schema public ${verb.replace('%s', kind)};`)
    .join('\n');
}
