/**
 * What to check, from the inputs, the repo config and the environment, validated before
 * any connection is opened. Bad input is a UserError: one sentence naming the input and
 * the fix. Environment secrets are registered with the masker the moment they are read.
 *
 * The common case needs no config file: `secret-setting` must equal `secret-env`
 * (`previous-secret-env` during a rotation), and each of `url-settings` must be an https
 * URL on `url-host`. Expectations in the repo config (`webhooks.expectations`) come first;
 * the input-derived secret expectation is added only when the config declares no
 * secret comparison of its own, and `url-settings` add the settings the config does not
 * already list.
 */
import type { WebhooksOptions } from '../../config/gates.ts';
import type { RepoConfig } from '../../config/repo-config.ts';
import { UserError } from '../../errors.ts';
import type { Severity } from '../../findings/types.ts';
import { registerSecret } from '../../secrets.ts';
import { type CanaryOptions, SCHEMES } from './canary.ts';
import type { Environment, UrlExpectation } from './urls.ts';

/** A custom setting name: `prefix.name`, as PostgreSQL accepts for placeholders. */
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvSecret {
  env: string;
  value: string;
}

export interface Expectation {
  source: { kind: 'setting' | 'vault'; name: string };
  required: boolean;
  equals?: EnvSecret;
  /** undefined when no previous secret is configured or the variable is unset (no rotation). */
  previous?: EnvSecret;
  url?: UrlExpectation;
  maxAgeDays?: number;
}

export interface QualifiedName {
  schema: string;
  name: string;
}

export interface TriggerExpectation {
  table: QualifiedName;
  function: QualifiedName;
}

export interface CanaryPlan extends CanaryOptions {
  /** A fixed endpoint (canary-url, probe url/url-env), or undefined: each URL setting's value. */
  target?: { url: string; label: string };
  /** The deploy environment's secret to sign with. */
  secret: EnvSecret;
}

export interface Plan {
  expectations: Expectation[];
  triggers: TriggerExpectation[];
  environment: Environment;
  rotationSeverity: Severity;
  /** Login roles to evaluate; empty means the connected role and authenticator. */
  asRoles: string[];
  deliveriesWindowMs: number;
  canary?: CanaryPlan;
}

function checkSettingName(name: string, input: string): string {
  if (!SETTING_NAME.test(name)) {
    throw new UserError(`${input} names "${name}", which is not a custom setting name; use the form prefix.name, such as app.webhook_hmac_secret.`);
  }
  return name.toLowerCase();
}

/**
 * An environment variable's name, checked. Never echoed when invalid: a common mistake is
 * to pass the secret itself (`secret-env: ${{ secrets.HMAC_SECRET }}`) instead of its name.
 */
function checkEnvName(name: string, input: string): string {
  if (!ENV_NAME.test(name)) {
    throw new UserError(
      `${input.charAt(0).toUpperCase()}${input.slice(1)} is not an environment variable name; give the name of the variable that holds the value (letters, digits and underscores, such as HMAC_SECRET), not the value itself.`,
    );
  }
  return name;
}

/**
 * How a missing variable is named in a message: by name, unless the "name" looks like a
 * pasted secret (long, mixed-case, hex or random-looking), which is then not echoed.
 */
function variableLabel(name: string, input: string): string {
  const secretLike =
    name.length > 64 ||
    (/[a-z]/.test(name) && /[A-Z]/.test(name) && name.length >= 16) ||
    /^(?=.*\d)[0-9a-f]{16,}$/i.test(name) ||
    (/^[A-Za-z0-9]{20,}$/.test(name) && /\d/.test(name));
  return secretLike
    ? `The environment variable named by ${input} (a name that looks like a secret value, not shown)`
    : `Environment variable ${name} (named by ${input})`;
}

/** Reads a required environment variable; never returns an empty string. */
function readEnv(env: Record<string, string | undefined>, name: string, input: string): EnvSecret {
  checkEnvName(name, input);
  const value = env[name];
  registerSecret(value);
  if (value === undefined || value === '') {
    throw new UserError(
      `${variableLabel(name, input)} is ${value === undefined ? 'not set' : 'empty'}; pass the deploy secret to the job (for example \`env: HMAC_SECRET: \${{ secrets.HMAC_SECRET }}\`) and name that variable.`,
    );
  }
  return { env: name, value };
}

/** An optional variable (the previous secret): unset or empty means "no rotation in progress". */
function readOptionalEnv(env: Record<string, string | undefined>, name: string | undefined, input: string): EnvSecret | undefined {
  if (name === undefined) return undefined;
  checkEnvName(name, input);
  const value = env[name];
  registerSecret(value);
  return value ? { env: name, value } : undefined;
}

function readHost(env: Record<string, string | undefined>, name: string, input: string): string {
  checkEnvName(name, input);
  const value = env[name]?.trim();
  if (!value) throw new UserError(`${variableLabel(name, input)} is not set; set it to the host the webhook URLs must point at, such as app.example.com.`);
  return value;
}

function qualified(text: string, key: string): QualifiedName {
  const parts = text.split('.');
  if (parts.length > 2 || parts.some((part) => !part)) {
    throw new UserError(`Repo config key \`${key}\` is "${text}"; use schema.name, such as public.trips.`);
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: 'public', name: parts[0]! };
}

function checkCanaryUrl(url: string, input: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw new UserError(
      `${input} must be an http:// or https:// URL (got ${scheme ? `a URL with scheme "${scheme}:"` : 'a value that is not a URL'}); give the endpoint's full URL.`,
    );
  }
  return url;
}

export function buildPlan(options: WebhooksOptions, config: RepoConfig['webhooks'], env: Record<string, string | undefined>): Plan {
  const environment: Environment = options.environment ?? config.environment;
  const fromConfig = config.expectations.map((item, index): Expectation => {
    const key = `webhooks.expectations[${index}]`;
    const source = item.setting
      ? { kind: 'setting' as const, name: checkSettingName(item.setting, `Repo config key \`${key}.setting\``) }
      : { kind: 'vault' as const, name: item['vault-secret']! };
    const url = item.url;
    const host = url?.['host-env'] ? readHost(env, url['host-env'], `repo config key \`${key}.url.host-env\``) : (url?.host ?? options.urlHost);
    const hostSource = url?.['host-env'] ?? (url?.host ? undefined : options.urlHost ? 'url-host' : undefined);
    return {
      source,
      required: item.required,
      ...(item['equals-env'] ? { equals: readEnv(env, item['equals-env'], `repo config key \`${key}.equals-env\``) } : {}),
      ...(item['previous-env'] ? { previous: readOptionalEnv(env, item['previous-env'], `repo config key \`${key}.previous-env\``) } : {}),
      ...(url
        ? {
            url: {
              scheme: url.scheme,
              ...(host ? { host } : {}),
              ...(hostSource ? { hostSource } : {}),
              ...(url['path-prefix'] ? { pathPrefix: url['path-prefix'] } : {}),
            },
          }
        : {}),
      ...(item['max-age-days'] !== undefined ? { maxAgeDays: item['max-age-days'] } : {}),
    };
  });

  const covered = new Set(fromConfig.filter((e) => e.source.kind === 'setting').map((e) => e.source.name));
  const expectations = [...fromConfig];
  const secretSetting = checkSettingName(options.secretSetting, 'Input `secret-setting`');
  if (!fromConfig.some((e) => e.equals) && !covered.has(secretSetting)) {
    const previous = readOptionalEnv(env, options.previousSecretEnv, 'input `previous-secret-env`');
    expectations.unshift({
      source: { kind: 'setting', name: secretSetting },
      required: true,
      equals: readEnv(env, options.secretEnv, 'input `secret-env`'),
      ...(previous ? { previous } : {}),
    });
  }
  const urlSettings = options.urlSettings.map((name) => checkSettingName(name, 'Input `url-settings`'));
  for (const name of urlSettings) {
    if (covered.has(name)) continue;
    covered.add(name);
    expectations.push({
      source: { kind: 'setting', name },
      required: true,
      url: {
        scheme: environment === 'development' ? 'http' : 'https',
        ...(options.urlHost ? { host: options.urlHost, hostSource: 'url-host' } : {}),
      },
    });
  }
  if (options.urlHost && !expectations.some((e) => e.url)) {
    throw new UserError(
      'Input `url-host` is set but no setting holds a webhook URL; list them in `url-settings` (comma-separated), such as app.vercel_webhook_trips.',
    );
  }

  const triggers = config.triggers.map((item, index) => ({
    table: qualified(item.table, `webhooks.triggers[${index}].table`),
    function: qualified(item.function, `webhooks.triggers[${index}].function`),
  }));

  return {
    expectations,
    triggers,
    environment,
    rotationSeverity: config['rotation-is'],
    asRoles: options.asRoles,
    deliveriesWindowMs: options.deliveriesWindow,
    ...(options.canary ? { canary: buildCanary(options, config, env, expectations) } : {}),
  };
}

function buildCanary(
  options: WebhooksOptions,
  config: RepoConfig['webhooks'],
  env: Record<string, string | undefined>,
  expectations: Expectation[],
): CanaryPlan {
  const probe = config.probe;
  const scheme = probe?.scheme ?? 'hex-hmac-sha256';
  let target: CanaryPlan['target'];
  if (options.canaryUrl) target = { url: checkCanaryUrl(options.canaryUrl, 'Input `canary-url`'), label: 'canary-url' };
  else if (probe?.url) target = { url: checkCanaryUrl(probe.url, 'Repo config key `webhooks.probe.url`'), label: 'webhooks.probe.url' };
  else if (probe?.['url-env']) {
    const name = probe['url-env'];
    const value = readEnv(env, name, 'repo config key `webhooks.probe.url-env`').value;
    target = { url: checkCanaryUrl(value, `Environment variable ${name} (named by webhooks.probe.url-env)`), label: name };
  }
  if (!target && !expectations.some((e) => e.url)) {
    throw new UserError('Input `canary` is on but there is no endpoint to probe; list the URL settings in `url-settings` or give `canary-url`.');
  }
  const secret = expectations.find((e) => e.equals)?.equals;
  if (!secret) {
    throw new UserError(
      'Input `canary` is on but no secret is compared with the environment; set `secret-env` or an `equals-env` expectation so the canary can be signed.',
    );
  }
  return {
    scheme,
    header: probe?.header ?? SCHEMES[scheme].defaultHeader,
    timeoutMs: probe?.['timeout-ms'] ?? 5000,
    secret,
    ...(target ? { target } : {}),
  };
}
