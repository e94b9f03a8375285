export const SHADOW_MODES = ['auto', 'local', 'docker', 'url'] as const;
export type ShadowMode = (typeof SHADOW_MODES)[number];

export type ProviderName = 'local' | 'docker' | 'url';

/** A throwaway PostgreSQL server (or, for `url`, a scratch database on the user's server). */
export interface Cluster {
  provider: ProviderName;
  /** Superuser URL of the cluster's main database. */
  url: string;
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

export interface StartOptions {
  shadow?: ShadowMode;
  /** PostgreSQL major version wanted; undefined means "any, newest first". */
  major?: number;
  /** For `shadow: url`: a server postgate may create and drop scratch databases on. */
  shadowDatabaseUrl?: string;
  /** For `shadow: docker`: image to run (default postgres:<major>). */
  image?: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
}
