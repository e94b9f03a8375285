export const SHADOW_MODES = ['auto', 'local', 'docker', 'url'] as const;
export type ShadowMode = (typeof SHADOW_MODES)[number];

export type ProviderName = 'local' | 'docker' | 'url';

/** A throwaway PostgreSQL server (or, for `url`, a scratch database on the user's server). */
export interface Cluster {
  provider: ProviderName;
  /**
   * URL of the cluster's main database as the role that applies migrations: `postgres`, a
   * superuser, except in the `supabase` profile, where `postgres` is the platform's
   * non-superuser role (see StartOptions.profile).
   */
  url: string;
  /** The same database as the cluster's superuser (`supabase_admin` in the `supabase` profile). */
  adminUrl: string;
  /** The superuser's URL of a database of this cluster given by its `url` or a `createDatabase()` URL. */
  asAdmin(url: string): string;
  profile: ClusterProfile;
  /** postgate stand-in extensions this server offers (see src/postgres/extensions). */
  standIns: readonly string[];
  major: number;
  /** server_version, e.g. "15.18". */
  version: string;
  /** Where this cluster's binaries live (local provider), for picking matching client tools. */
  binDir?: string;
  /** Creates a new empty database and returns its URL; dropped with the cluster. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (or drops the scratch databases) and removes every file. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `postgres`: the role `postgres` is the superuser, as on a stock server. `supabase`: as on the
 * Supabase platform, the superuser is `supabase_admin` and `postgres` is a non-superuser
 * (login, createrole, createdb, replication, bypassrls) that owns nothing it did not create.
 * Only the local provider can build the `supabase` profile; the others give `postgres`.
 */
export type ClusterProfile = 'postgres' | 'supabase';

export interface StartOptions {
  /** Default `postgres`. */
  profile?: ClusterProfile;
  shadow?: ShadowMode;
  /** PostgreSQL major version wanted; undefined means "any, newest first". */
  major?: number;
  /** For `shadow: url`: a server postgate may create and drop scratch databases on. */
  shadowDatabaseUrl?: string;
  /** For `shadow: docker`: image to run (default postgres:<major>). */
  image?: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
  /** Progress lines (fetching a major from the npm registry); default: stderr. */
  log?: (line: string) => void;
}
