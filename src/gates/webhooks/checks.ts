/**
 * The checks, as pure functions from what was read to findings. Values flow in, only
 * descriptions flow out: no message, detail or remediation contains a value or any part
 * of one (a test fuzzes this).
 */
import type { Finding, ObjectRef, Severity } from '../../findings/types.ts';
import type { CanaryOutcome } from './canary.ts';
import { explainDifference, type SecretComparer } from './compare.ts';
import type { DeliveriesRead, DeliveryCounts } from './deliveries.ts';
import type { LiteralSecret } from './literals.ts';
import type { Expectation, TriggerExpectation } from './plan.ts';
import type { FunctionInfo, TriggerInfo } from './plumbing.ts';
import { type WebhookRuleId, webhookFinding } from './rules.ts';
import { applicableValues, effectiveValue, type LoginRole, type ScopedValue, scopeStatement, type SettingsSnapshot } from './settings.ts';
import { checkUrl, type Environment } from './urls.ts';
import type { VaultRead } from './vault.ts';

function make(
  rule: WebhookRuleId,
  object: ObjectRef,
  message: string,
  extra: Partial<Pick<Finding, 'detail' | 'remediation' | 'location' | 'severity'>> = {},
): Finding {
  const { severity, ...rest } = extra;
  return webhookFinding({ rule, severity, object, message, ...rest });
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function roleList(roles: readonly string[]): string {
  return `login role${roles.length === 1 ? '' : 's'} ${list(roles)}`;
}

/** Where a value lives, in SQL words. */
function whereSet(value: ScopedValue, database: string): string {
  return scopeStatement(value.scope, database, value.role);
}

/** One distinct value of an expectation and who gets it. */
export interface ValueGroup {
  value: string;
  roles: string[];
  /** "ALTER DATABASE postgres SET", "Vault". */
  where: string[];
}

/** What the database holds for one expectation. */
export interface Observed {
  expectation: Expectation;
  /** "app.webhook_hmac_secret", "Vault secret webhook_hmac_secret". */
  label: string;
  object: ObjectRef;
  groups: ValueGroup[];
}

export function settingObject(name: string): ObjectRef {
  return { kind: 'setting', name };
}

export function vaultObject(name: string): ObjectRef {
  return { kind: 'vault-secret', schema: 'vault', name };
}

/** Groups the login roles by the value they get (equal values compared in constant time). */
export function groupByValue(snapshot: SettingsSnapshot, name: string, roles: readonly LoginRole[], comparer: SecretComparer): ValueGroup[] {
  const groups: ValueGroup[] = [];
  for (const role of roles) {
    const value = effectiveValue(snapshot.values.get(name) ?? [], role.name);
    if (!value) continue;
    const where = whereSet(value, snapshot.database);
    const group = groups.find((g) => comparer.equal(g.value, value.value));
    if (group) {
      group.roles.push(role.name);
      if (!group.where.includes(where)) group.where.push(where);
    } else {
      groups.push({ value: value.value, roles: [role.name], where: [where] });
    }
  }
  return groups;
}

/** Missing, empty, shadowed and never-applied values of one setting. */
export function settingFindings(snapshot: SettingsSnapshot, expectation: Expectation, roles: readonly LoginRole[], comparer: SecretComparer): Finding[] {
  const name = expectation.source.name;
  const object = settingObject(name);
  const values = snapshot.values.get(name) ?? [];
  const findings: Finding[] = [];
  const db = snapshot.database;

  const missing = roles.filter((role) => !effectiveValue(values, role.name)).map((role) => role.name);
  if (missing.length && expectation.required) {
    const present = roles.map((r) => r.name).filter((r) => !missing.includes(r));
    const unknownServer = snapshot.serverLevelKnown.get(name) === false;
    findings.push(
      make(
        'webhook_setting_missing',
        object,
        present.length
          ? `${name} is not set for ${roleList(missing)}; only ${list(present)} get${present.length === 1 ? 's' : ''} a value.`
          : `${name} is not set for ${roleList(missing)}: no database, role or server value applies.`,
        {
          ...(unknownServer
            ? {
                detail:
                  'This role cannot read the server configuration (pg_file_settings needs superuser or pg_read_all_settings), so a value set only in postgresql.conf would not be seen.',
              }
            : {}),
          remediation: expectation.equals
            ? `Store the secret in Vault (select vault.create_secret('<value>', '${name.split('.').pop()}')) and read it from vault.decrypted_secrets, or: ALTER DATABASE ${db} SET ${name} = '<value>';`
            : `ALTER DATABASE ${db} SET ${name} = '<value>';`,
        },
      ),
    );
  }

  const empty = roles.filter((role) => effectiveValue(values, role.name)?.value === '');
  if (empty.length) {
    const sources = [...new Set(empty.map((role) => whereSet(effectiveValue(values, role.name)!, db)))];
    findings.push(
      make('webhook_setting_empty', object, `${name} is an empty string for ${roleList(empty.map((r) => r.name))} (set by ${list(sources)}).`, {
        remediation: `Set the real value, or reset the empty one (for example ALTER DATABASE ${db} RESET ${name};).`,
      }),
    );
  }

  const shadowed: string[] = [];
  for (const role of roles) {
    const [winner, next] = applicableValues(values, role.name);
    if (winner && next && !comparer.equal(winner.value, next.value)) {
      shadowed.push(`${role.name}: ${whereSet(winner, db)} overrides ${whereSet(next, db)} with a different value`);
    }
  }
  if (shadowed.length) {
    findings.push(
      make(
        'webhook_setting_shadowed',
        object,
        `${name} has a different value at a more specific scope for ${roleList(shadowed.map((s) => s.split(':')[0]!))}.`,
        {
          detail: shadowed.join('\n'),
          remediation: 'Reset the override (ALTER ROLE <role> RESET <name>; or ALTER ROLE <role> IN DATABASE <db> RESET <name>;) or make it equal.',
        },
      ),
    );
  }

  const useless = snapshot.nologin.filter((entry) => entry.name === name);
  if (useless.length) {
    findings.push(
      make(
        'webhook_setting_on_nologin_role',
        object,
        `${name} is set on ${list(useless.map((u) => u.role))}, which cannot log in, so the value never applies (SET ROLE does not load role settings).`,
        {
          remediation: `${useless.map((u) => (u.scope === 'database+role' ? `ALTER ROLE ${u.role} IN DATABASE ${db} RESET ${name};` : `ALTER ROLE ${u.role} RESET ${name};`)).join(' ')} Set it on the database or on the login role (authenticator) instead.`,
        },
      ),
    );
  }
  return findings;
}

function groupSuffix(group: ValueGroup): string {
  return group.roles.length ? ` for ${roleList(group.roles)} (set by ${list(group.where)})` : '';
}

/** Parity with the deploy environment, per distinct value. */
export function parityFindings(observed: Observed, comparer: SecretComparer, rotationSeverity: Severity): Finding[] {
  const { expectation, label, object } = observed;
  const equals = expectation.equals;
  if (!equals) return [];
  const findings: Finding[] = [];
  const mismatches: string[] = [];
  const valueName = expectation.source.kind === 'vault' ? 'the Vault secret' : 'the database value';
  for (const group of observed.groups) {
    if (group.value === '' || comparer.equal(group.value, equals.value)) continue;
    if (expectation.previous && comparer.equal(group.value, expectation.previous.value)) {
      findings.push(
        make(
          'webhook_secret_rotation',
          object,
          `${label} matches ${expectation.previous.env}, the previous secret, not ${equals.env}${groupSuffix(group)}: rotation in progress.`,
          {
            // The repo config sets it (`webhooks.rotation-is`; warning by default, as the rule).
            severity: rotationSeverity,
            remediation: `Finish the rotation: update ${label} to the value of ${equals.env}, then drop ${expectation.previous.env}.`,
          },
        ),
      );
      continue;
    }
    const difference = explainDifference(comparer, { name: valueName, value: group.value }, { name: equals.env, value: equals.value });
    const neither = expectation.previous ? [`It does not match ${expectation.previous.env} (the previous secret) either.`] : [];
    mismatches.push([`${capitalize(valueName)}${groupSuffix(group)}:`, ...difference.sentences, ...neither].join(' '));
  }
  if (mismatches.length) {
    findings.push(
      make('webhook_secret_mismatch', object, `${label} differs from ${equals.env}; signed deliveries will be rejected.`, {
        detail: mismatches.join('\n'),
        remediation:
          expectation.source.kind === 'vault'
            ? `Update the Vault secret to the deploy secret (select vault.update_secret(id, '<value of ${equals.env}>') from vault.secrets where name = '${expectation.source.name}'), or fix ${equals.env}.`
            : `Set ${label} to the deploy secret exactly (no quotes or whitespace), or fix ${equals.env}; better, move the secret to Vault.`,
      }),
    );
  }
  return findings;
}

/** URL checks, per distinct value; one finding per rule. */
export function urlFindings(observed: Observed, environment: Environment): Finding[] {
  const rule = observed.expectation.url;
  if (!rule) return [];
  const byRule = new Map<WebhookRuleId, string[]>();
  for (const group of observed.groups) {
    if (group.value === '') continue;
    for (const problem of checkUrl(observed.label, group.value, rule, environment)) {
      byRule.set(problem.rule, [...(byRule.get(problem.rule) ?? []), `${problem.message.replace(/\.$/, '')}${groupSuffix(group)}.`]);
    }
  }
  return [...byRule].map(([id, messages]) => make(id, observed.object, messages[0]!, messages.length > 1 ? { detail: messages.slice(1).join('\n') } : {}));
}

export function secretInSettingFinding(observed: Observed): Finding[] {
  if (observed.expectation.source.kind !== 'setting' || !observed.expectation.equals || !observed.groups.length) return [];
  return [
    make(
      'webhook_secret_in_setting',
      observed.object,
      `${observed.label} keeps the webhook secret in a custom setting, which every role that can run SQL can read; Supabase Vault is the supported store (hosted Supabase also refuses new ALTER DATABASE ... SET app.*).`,
      {
        remediation: `select vault.create_secret('<value>', '${observed.label.split('.').pop()}'); then read it in the trigger function from vault.decrypted_secrets and add a vault-secret expectation.`,
      },
    ),
  ];
}

export function vaultFindings(expectation: Expectation, vault: VaultRead, now: Date): Finding[] {
  const name = expectation.source.name;
  const object = vaultObject(name);
  if (!vault.installed) {
    return expectation.required
      ? [
          make(
            'webhook_vault_secret_missing',
            object,
            `Vault secret ${name} cannot be checked: Vault (vault.decrypted_secrets) is not installed in this database.`,
          ),
        ]
      : [];
  }
  const secret = vault.secrets.get(name);
  if (!secret || secret.value === undefined) {
    if (!expectation.required) return [];
    return [
      make(
        'webhook_vault_secret_missing',
        object,
        secret ? `Vault secret ${name} exists but has no decrypted value (the root key is not available here).` : `Vault has no secret named ${name}.`,
        { remediation: `select vault.create_secret('<value>', '${name}');` },
      ),
    ];
  }
  if (expectation.maxAgeDays === undefined) return [];
  const ageDays = (now.getTime() - secret.updatedAt.getTime()) / 86_400_000;
  if (ageDays <= expectation.maxAgeDays) return [];
  return [
    make(
      'webhook_vault_secret_stale',
      object,
      `Vault secret ${name} was last updated ${Math.floor(ageDays)} days ago, more than max-age-days (${expectation.maxAgeDays}).`,
      {
        remediation: `Rotate it: keep the old value as the previous secret in the deploy environment, then select vault.update_secret(id, '<new value>') from vault.secrets where name = '${name}';`,
      },
    ),
  ];
}

function functionObject(fn: { schema: string; name: string }): ObjectRef {
  return { kind: 'function', schema: fn.schema, name: fn.name };
}

/** Does the function body use the expectation (setting name, or Vault secret name as a literal)? */
function references(fn: FunctionInfo, expectation: Expectation): boolean {
  const source = fn.source.toLowerCase();
  const name = expectation.source.name.toLowerCase();
  return expectation.source.kind === 'setting' ? source.includes(name) : source.includes(`'${name}'`);
}

/** Functions that send webhooks with the configured settings, or that the config names. */
export function webhookFunctions(
  functions: readonly FunctionInfo[],
  expectations: readonly Expectation[],
  triggers: readonly TriggerExpectation[],
): FunctionInfo[] {
  return functions.filter(
    (fn) =>
      (fn.httpClients.length && expectations.some((e) => references(fn, e))) ||
      triggers.some((t) => t.function.schema === fn.schema && t.function.name === fn.name),
  );
}

export function plumbingFindings(
  functions: readonly FunctionInfo[],
  triggers: readonly TriggerInfo[],
  expectations: readonly Expectation[],
  wanted: readonly TriggerExpectation[],
  executableBy: ReadonlyMap<number, string[]>,
  missingTables: ReadonlySet<string>,
): Finding[] {
  const findings: Finding[] = [];
  const relevant = webhookFunctions(functions, expectations, wanted);
  for (const expectation of expectations) {
    if (!expectation.required) continue;
    if (relevant.some((fn) => fn.httpClients.length && references(fn, expectation))) continue;
    const label = expectation.source.kind === 'setting' ? expectation.source.name : `Vault secret ${expectation.source.name}`;
    findings.push(
      make(
        'webhook_function_missing',
        expectation.source.kind === 'setting' ? settingObject(expectation.source.name) : vaultObject(expectation.source.name),
        `No function reads ${label} and calls an HTTP client (net.http_post, supabase_functions.http_request or the http extension).`,
        { remediation: 'Recreate the webhook trigger function from its migration, or remove the expectation if nothing uses it.' },
      ),
    );
  }
  for (const fn of relevant) {
    const label = `${fn.schema}.${fn.name}(${fn.args})`;
    if (!fn.securityDefiner) {
      findings.push(
        make('webhook_function_not_security_definer', functionObject(fn), `${label} sends webhooks but runs with the caller's privileges (SECURITY INVOKER).`, {
          remediation: `ALTER FUNCTION ${label} SECURITY DEFINER SET search_path = pg_catalog, public;`,
        }),
      );
    }
    if (!fn.searchPathPinned) {
      findings.push(
        make(
          'webhook_function_search_path_mutable',
          functionObject(fn),
          `${label} does not pin search_path${fn.securityDefiner ? ' although it is SECURITY DEFINER' : ''}.`,
          {
            // A mutable search_path is an error in a SECURITY DEFINER function (the rule's default), a warning otherwise.
            severity: fn.securityDefiner ? 'error' : 'warning',
            remediation: `ALTER FUNCTION ${label} SET search_path = pg_catalog, public;`,
          },
        ),
      );
    }
    const roles = executableBy.get(fn.oid) ?? [];
    if (roles.length) {
      findings.push(
        make(
          'webhook_function_executable_by_api_role',
          functionObject(fn),
          fn.isTrigger
            ? `${label} (a trigger function) is executable by ${list(roles)}; it cannot be called directly, but revoke it anyway.`
            : `${label} is executable by ${list(roles)}: anyone can have the database sign and send a payload through /rest/v1/rpc.`,
          {
            // A trigger function cannot be called directly, so only a warning; any other is an error (the rule's default).
            severity: fn.isTrigger ? 'warning' : 'error',
            remediation: `REVOKE EXECUTE ON FUNCTION ${label} FROM public, ${roles.join(', ')};`,
          },
        ),
      );
    }
  }
  for (const want of wanted) {
    const fnLabel = `${want.function.schema}.${want.function.name}`;
    const tableLabel = `${want.table.schema}.${want.table.name}`;
    const object: ObjectRef = { kind: 'trigger', schema: want.table.schema, name: `${want.table.name}/${want.function.name}` };
    if (!functions.some((fn) => fn.schema === want.function.schema && fn.name === want.function.name)) {
      findings.push(
        make('webhook_function_missing', functionObject(want.function), `Function ${fnLabel}, which webhooks.triggers runs on ${tableLabel}, does not exist.`),
      );
      continue;
    }
    if (missingTables.has(tableLabel)) {
      findings.push(make('webhook_trigger_missing', object, `Table ${tableLabel}, which should run ${fnLabel} in a trigger, does not exist.`));
      continue;
    }
    const matching = triggers.filter(
      (t) =>
        t.tableSchema === want.table.schema &&
        t.table === want.table.name &&
        t.functionSchema === want.function.schema &&
        t.functionName === want.function.name,
    );
    if (!matching.length) {
      findings.push(
        make('webhook_trigger_missing', object, `${tableLabel} has no trigger running ${fnLabel}; changes to it are not delivered.`, {
          remediation: `CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON ${tableLabel} FOR EACH ROW EXECUTE FUNCTION ${fnLabel}(); (from its migration)`,
        }),
      );
      continue;
    }
    if (matching.every((t) => t.enabled === 'D' || t.enabled === 'R')) {
      const states = matching.map((t) => `${t.name} (${t.enabled === 'D' ? 'disabled' : 'fires only in replica mode'})`);
      findings.push(
        make('webhook_trigger_disabled', object, `The trigger running ${fnLabel} on ${tableLabel} does not fire: ${list(states)}.`, {
          remediation: matching.map((t) => `ALTER TABLE ${tableLabel} ENABLE TRIGGER "${t.name.replace(/"/g, '""')}";`).join(' '),
        }),
      );
    }
  }
  return findings;
}

export interface LiteralHit {
  object: ObjectRef;
  /** Builds the message from what was found: "Trigger x on t passes the Authorization header as a literal argument". */
  sentence: (found: string) => string;
  secrets: LiteralSecret[];
  location?: { file: string; line: number };
}

export function literalFindings(hits: readonly LiteralHit[]): Finding[] {
  return hits.map((hit) =>
    make(
      'webhook_literal_secret',
      hit.object,
      `${hit.sentence(list([...new Set(hit.secrets.map((s) => s.kind))]))}; every role and every schema dump can read it.`,
      {
        ...(hit.location ? { location: hit.location } : {}),
        remediation:
          'Rotate the credential, store it with vault.create_secret(), and read it at run time in a SECURITY DEFINER function instead of writing it into SQL.',
      },
    ),
  );
}

/** "24 h", "7 days", "90 min": how the deliveries window reads in a sentence. */
export function describeWindow(ms: number): string {
  const units: Array<[number, (n: number) => string]> = [
    [86_400_000, (n) => `${n} day${n === 1 ? '' : 's'}`],
    [3_600_000, (n) => `${n} h`],
    [60_000, (n) => `${n} min`],
  ];
  for (const [size, text] of units) {
    if (ms % size === 0 && (size !== 86_400_000 || ms > 3 * size)) return text(ms / size);
  }
  return `${Math.round(ms / 1000)} s`;
}

export function deliveryFindings(deliveries: DeliveriesRead, windowText: string): Finding[] {
  if (!deliveries.available) return [];
  const object: ObjectRef = { kind: 'table', schema: 'net', name: '_http_response' };
  const findings: Finding[] = [];
  const hooks = (pick: (h: DeliveryCounts['byHook'][number]) => number) =>
    deliveries.byHook.filter((h) => pick(h) > 0).map((h) => `Database Webhook ${h.hook}: ${pick(h)}`);
  if (deliveries.rejected) {
    const detail = hooks((h) => h.rejected);
    findings.push(
      make(
        'webhook_deliveries_rejected',
        object,
        `${deliveries.rejected} of ${deliveries.total} webhook deliveries in the last ${windowText} were rejected with 401 or 403, the signature of a secret mismatch.`,
        {
          ...(detail.length ? { detail: detail.join('\n') } : {}),
        },
      ),
    );
  }
  const failing = deliveries.serverErrors + deliveries.failed;
  if (failing) {
    const detail = hooks((h) => h.failed);
    findings.push(
      make(
        'webhook_deliveries_failing',
        object,
        `${failing} of ${deliveries.total} webhook deliveries in the last ${windowText} failed (${deliveries.serverErrors} with 5xx, ${deliveries.failed} timed out or errored); pg_net does not retry them.`,
        { ...(detail.length ? { detail: detail.join('\n') } : {}) },
      ),
    );
  }
  return findings;
}

export interface CanaryResult {
  label: string;
  host: string;
  outcome: CanaryOutcome;
}

function attemptText(attempt: CanaryOutcome['signed']): string {
  return 'status' in attempt ? `HTTP ${attempt.status}` : attempt.error;
}

export function canaryFindings(results: readonly CanaryResult[]): Finding[] {
  const findings: Finding[] = [];
  for (const { label, host, outcome } of results) {
    const object: ObjectRef = { kind: 'endpoint', name: label };
    const where = `the endpoint in ${label} (${host})`;
    const { signed, badlySigned } = outcome;
    if ('error' in signed && 'error' in badlySigned) {
      findings.push(make('webhook_canary_unreachable', object, `The canary could not reach ${where}: ${signed.error}.`));
      continue;
    }
    if (!('status' in signed) || signed.status < 200 || signed.status > 299) {
      findings.push(
        make('webhook_canary_rejected', object, `${capitalize(where)} answered the correctly signed canary with ${attemptText(signed)} instead of 2xx.`),
      );
    }
    if ('status' in badlySigned && badlySigned.status >= 200 && badlySigned.status <= 299) {
      findings.push(
        make(
          'webhook_canary_accepts_bad_signature',
          object,
          `${capitalize(where)} accepted a canary with a wrong signature (HTTP ${badlySigned.status}): it does not verify signatures.`,
        ),
      );
    } else if (!('status' in badlySigned) || (badlySigned.status !== 401 && badlySigned.status !== 403)) {
      findings.push(
        make(
          'webhook_canary_unexpected_status',
          object,
          `${capitalize(where)} answered the badly signed canary with ${attemptText(badlySigned)} instead of 401 or 403.`,
        ),
      );
    }
  }
  return findings;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
