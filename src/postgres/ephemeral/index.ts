/**
 * Ephemeral PostgreSQL: one entry point, `startCluster`, for shadow databases,
 * drill restore targets and the test suite. `shadow: auto` prefers local binaries of
 * the wanted major, then Docker, and says in one sentence what is missing otherwise.
 */
import { UserError } from '../../errors.ts';
import { findInstallations } from './binaries.ts';
import { dockerUnavailableReason, startDockerCluster } from './docker.ts';
import { startLocalCluster } from './local.ts';
import { type Cluster, SHADOW_MODES, type StartOptions } from './types.ts';
import { startUrlCluster } from './url-provider.ts';

export type { Cluster, ShadowMode, StartOptions } from './types.ts';
export { cleanupAll, reapOrphans, stopCleanlyOnSignals } from './registry.ts';

export const SUPPORTED_MAJORS = [13, 14, 15, 16, 17, 18] as const;

export function validateMajor(major: number | undefined, inputName = 'postgres-version'): void {
  if (major === undefined) return;
  if (!(SUPPORTED_MAJORS as readonly number[]).includes(major)) {
    throw new UserError(`Input \`${inputName}\` is ${major}, which is not a PostgreSQL major postgate supports; use one of ${SUPPORTED_MAJORS.join(', ')}.`);
  }
}

export async function startCluster(options: StartOptions = {}): Promise<Cluster> {
  const shadow = options.shadow ?? 'auto';
  if (!(SHADOW_MODES as readonly string[]).includes(shadow)) {
    throw new UserError(`Input \`shadow\` is "${shadow}"; use one of ${SHADOW_MODES.join(', ')}.`);
  }
  validateMajor(options.major);
  const local = { ...(options.major !== undefined ? { major: options.major } : {}), ...(options.settings ? { settings: options.settings } : {}) };
  switch (shadow) {
    case 'local':
      return startLocalCluster(local);
    case 'docker':
      return startDockerCluster({ ...local, ...(options.image ? { image: options.image } : {}) });
    case 'url':
      return startUrlCluster({ ...(options.shadowDatabaseUrl ? { shadowDatabaseUrl: options.shadowDatabaseUrl } : {}), ...local });
    case 'auto': {
      if (options.shadowDatabaseUrl) return startUrlCluster({ shadowDatabaseUrl: options.shadowDatabaseUrl, ...local });
      const installations = findInstallations();
      const hasLocal = options.major === undefined ? installations.length > 0 : installations.some((i) => i.major === options.major);
      if (hasLocal && !options.image) return startLocalCluster(local);
      const dockerMissing = await dockerUnavailableReason();
      if (!dockerMissing) return startDockerCluster({ ...local, ...(options.image ? { image: options.image } : {}) });
      throw new UserError(noServerMessage(options.major, installations.map((i) => i.major), options.image));
    }
  }
}

export function noServerMessage(major: number | undefined, foundMajors: number[], image?: string): string {
  const wanted = major === undefined ? 'PostgreSQL' : `PostgreSQL ${major}`;
  if (image) return `\`image\` ${image} needs a Docker engine and none was found; start Docker or drop \`image\` to use local binaries.`;
  const found = foundMajors.length ? ` (found majors: ${foundMajors.join(', ')})` : '';
  return `No ${wanted} server binaries${found} and no Docker engine were found; install ${wanted} (or set PG_BIN), start Docker, or pass \`shadow-database-url\`.`;
}

/** Starts a cluster, runs `fn`, and always stops it. */
export async function withCluster<T>(options: StartOptions, fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(options);
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}
