/**
 * The secrets a job hands postgate, registered with the masker before any gate runs, whichever
 * gate it is (issue 13, item 10). A value that only the webhook gate reads is still in the job's
 * environment when drift-gate or restore-drill runs, and database content (a function body, a
 * trigger argument, a comment) can carry it into their findings: so every gate masks
 *
 * - the environment variables named as webhook secrets: `secret-env` (default HMAC_SECRET) and
 *   `previous-secret-env` as given to this step (CLI: POSTGATE_SECRET_ENV ...), and the repo
 *   config's `webhooks.expectations[].equals-env` / `previous-env` and `webhooks.probe.url-env`,
 *   and the S3 credentials `drill.storage.s3` names (`access-key-id-env`, `secret-access-key-env`);
 *   a value given there that is no variable name is taken for a pasted secret and masked itself;
 * - every input marked `secret` (database URLs, tokens, canary-url), as given, before any input
 *   is validated, with the database password of each URL input on its own (percent-decoded
 *   too, and from a `password=` key) — even a URL that does not parse; so is a database URL
 *   given to an input that takes a path or a URL (`rehearse-from`), a path is not;
 * - passwords of one or two characters as well: `registerSecret` masks those in context only
 *   (src/secrets.ts explains where and why).
 *
 * The action's adapter has already hooked `core.setSecret` to the masker, so everything
 * registered here is also masked by the runner in the rest of the job's log.
 */
import path from 'node:path';
import type { GateId } from '../findings/types.ts';
import { isDatabaseUrl } from '../postgres/url.ts';
import { registerSecret } from '../secrets.ts';
import { GATES, WEBHOOKS_INPUTS } from './gates.ts';
import { appliesTo, type InputDefs, type Surface } from './input-spec.ts';
import { loadRepoConfig, type RepoConfig } from './repo-config.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface JobSecretSources {
  gate: GateId;
  /** The step's inputs as given (action inputs, or CLI flags and POSTGATE_* variables); empty means unset. */
  read: (name: string) => string | undefined;
  surface: Surface;
  env: Record<string, string | undefined>;
  /** Where the repo config is looked up (the workspace). */
  cwd: string;
}

export interface RegisteredJobSecrets {
  /** Secret inputs that were given. */
  inputs: string[];
  /** Environment variables whose (non-empty) values were registered. */
  env: string[];
}

/** The environment variables that hold secrets (webhook secrets, the drill's S3 credentials), by the inputs and the repo config. */
export function secretEnvNames(read: (name: string) => string | undefined, config?: RepoConfig): string[] {
  const names = [
    read('secret-env')?.trim() || WEBHOOKS_INPUTS['secret-env'].default,
    read('previous-secret-env')?.trim(),
    ...(config?.webhooks.expectations ?? []).flatMap((expectation) => [expectation['equals-env'], expectation['previous-env']]),
    config?.webhooks.probe?.['url-env'],
    config?.drill.storage?.s3?.['access-key-id-env'],
    config?.drill.storage?.s3?.['secret-access-key-env'],
  ];
  return [...new Set(names.filter((name): name is string => Boolean(name) && ENV_NAME.test(name!)))];
}

/** The password in a database URL or key=value connection string, as written and decoded; parsing never fails. */
export function passwordsIn(connection: string): string[] {
  const found: string[] = [];
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(connection);
  if (scheme) {
    const rest = connection.slice(scheme[0].length);
    // As URL parsers do: the credentials end at the authority's last '@'. A password pasted
    // without percent-encoding may also hold a '/', '?' or '#': the last '@' of all is tried too.
    const authority = rest.split(/[/?#]/, 1)[0]!;
    for (const userinfo of [authority.slice(0, Math.max(0, authority.lastIndexOf('@'))), rest.slice(0, Math.max(0, rest.lastIndexOf('@')))]) {
      if (userinfo.includes(':')) found.push(userinfo.slice(userinfo.indexOf(':') + 1));
    }
  }
  for (const match of connection.matchAll(/(?:^|[\s?&])password=('(?:[^'\\]|\\.)*'|[^\s&]*)/gi)) {
    const value = match[1]!;
    found.push(value.startsWith("'") ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
  }
  const decoded = found.flatMap((value) => {
    try {
      return [value, decodeURIComponent(value)];
    } catch {
      return [value];
    }
  });
  return [...new Set(decoded.filter(Boolean))];
}

function loadConfig(sources: JobSecretSources, inputs: InputDefs): RepoConfig | undefined {
  const given = sources.read('config')?.trim();
  const file = given || inputs.config?.default;
  if (!file) return undefined;
  try {
    return loadRepoConfig(path.resolve(sources.cwd, file), { explicit: Boolean(given) });
  } catch {
    return undefined; // the gate reports the config error itself; no secret is read from a broken file
  }
}

/** Registers every secret the job gives this step (see above). Never throws. */
export function registerJobSecrets(sources: JobSecretSources): RegisteredJobSecrets {
  const inputs: InputDefs = GATES[sources.gate].inputs;
  const registered: RegisteredJobSecrets = { inputs: [], env: [] };
  for (const [name, spec] of Object.entries(inputs)) {
    if (!appliesTo(spec, sources.surface)) continue;
    const raw = sources.read(name);
    if (!raw?.trim()) continue;
    // An input that takes a path or a URL (rehearse-from) holds a password when it holds a URL.
    const url = spec.kind === 'url' || isDatabaseUrl(raw);
    if (!spec.secret && !url) continue;
    registerSecret(raw);
    registerSecret(raw.trim());
    if (url) for (const password of passwordsIn(raw.trim())) registerSecret(password);
    registered.inputs.push(name);
  }
  // A "name" that is no variable name is usually the secret pasted in its place (`secret-env: ${{ secrets.X }}`).
  for (const input of ['secret-env', 'previous-secret-env']) {
    const given = sources.read(input)?.trim();
    if (given && !ENV_NAME.test(given)) registerSecret(given);
  }
  for (const name of secretEnvNames(sources.read, loadConfig(sources, inputs))) {
    const value = sources.env[name];
    if (!value) continue;
    registerSecret(value);
    registered.env.push(name);
  }
  return registered;
}
