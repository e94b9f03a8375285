/**
 * The environment of every process postgate starts (initdb, postgres, psql, pg_dump,
 * pg_restore, docker): nothing of the job's own environment (secrets, tokens, database URLs)
 * reaches them. A pull request's migrations run on a server started with this environment, so
 * `COPY ... FROM PROGRAM 'env'` there finds nothing worth having.
 */

/** Variables a child may need to find programs, temp space and (for docker) its engine. */
const PASSED_THROUGH = ['PATH', 'TMPDIR', 'TZ'];
const DOCKER = /^DOCKER_[A-Z_]+$/;

export function childEnv(extra: Record<string, string> = {}, options: { docker?: boolean } = {}): Record<string, string> {
  const env: Record<string, string> = { LC_ALL: 'C' };
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (PASSED_THROUGH.includes(name) || (options.docker && (DOCKER.test(name) || name === 'HOME'))) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return { ...env, ...extra };
}
