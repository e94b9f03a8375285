/**
 * webhook-secret-check: do the database's webhook settings (custom settings, Vault
 * secrets, URLs, functions and triggers) match the deploy environment? Read-only, and no
 * secret reaches any output: every value is registered with the masker as it is read,
 * secrets are compared in constant time, and findings describe differences, never values.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { WebhooksOptions } from '../../config/gates.ts';
import { UserError } from '../../errors.ts';
import type { Finding, GateResult } from '../../findings/types.ts';
import { type Session, withSession } from '../../postgres/connect.ts';
import { registerSecret } from '../../secrets.ts';
import { type GateContext, type GateOutput, runGate } from '../gate.ts';
import { runCanary } from './canary.ts';
import {
  type CanaryResult,
  canaryFindings,
  deliveryFindings,
  describeWindow,
  groupByValue,
  type LiteralHit,
  literalFindings,
  type Observed,
  parityFindings,
  plumbingFindings,
  secretInSettingFinding,
  settingFindings,
  settingObject,
  urlFindings,
  vaultFindings,
  vaultObject,
  webhookFunctions,
} from './checks.ts';
import { createComparer, type SecretComparer } from './compare.ts';
import { readDeliveries } from './deliveries.ts';
import { lineOf, secretsInFunctionBody, secretsInTriggerArgument } from './literals.ts';
import { buildPlan, type Plan } from './plan.ts';
import { apiRolesExecuting, type Plumbing, readPlumbing, tableExists } from './plumbing.ts';
import { effectiveValue, type LoginRole, readSettings, resolveLoginRoles, type SettingsSnapshot } from './settings.ts';
import { parseWebhookUrl } from './urls.ts';
import { readVaultSecrets, type VaultRead } from './vault.ts';

export async function run(options: WebhooksOptions, context: GateContext): Promise<GateResult> {
  return runGate('webhooks', options, context, async () => {
    const plan = buildPlan(options, context.config.webhooks, context.env);
    return withSession(options.databaseUrl, { gate: 'webhooks', readOnly: true }, (session) => inspect(session, plan, context));
  });
}

async function loginRoles(session: Session, snapshot: SettingsSnapshot, asked: readonly string[]): Promise<LoginRole[]> {
  const { roles, unknown, nologin } = await resolveLoginRoles(session, snapshot.sessionUser, asked);
  if (unknown.length) {
    throw new UserError(
      `Input \`as-roles\` names role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => `"${r}"`).join(', ')}, which do${unknown.length > 1 ? '' : 'es'} not exist; list login roles of this database, such as postgres,authenticator.`,
    );
  }
  if (nologin.length) {
    throw new UserError(
      `Input \`as-roles\` names ${nologin.map((r) => `"${r}"`).join(', ')}, which cannot log in: role settings apply only at login (SET ROLE does not load them), so list the login roles instead, such as authenticator.`,
    );
  }
  return roles;
}

async function inspect(session: Session, plan: Plan, context: GateContext): Promise<GateOutput> {
  const comparer = createComparer();
  const settingNames = plan.expectations.filter((e) => e.source.kind === 'setting').map((e) => e.source.name);
  const vaultNames = plan.expectations.filter((e) => e.source.kind === 'vault').map((e) => e.source.name);

  const snapshot = await readSettings(session, settingNames);
  const roles = await loginRoles(session, snapshot, plan.asRoles);
  const vault: VaultRead = vaultNames.length ? await readVaultSecrets(session, vaultNames) : { installed: false };
  const plumbing = await readPlumbing(session);
  const literals = findLiterals(plumbing, plan, snapshot, vault);
  context.log.info(
    `Checking ${plan.expectations.length} webhook expectation(s) for ${roles.map((r) => r.name).join(', ')} in database ${snapshot.database} (${plan.environment}).`,
  );

  const observed = plan.expectations.map((expectation): Observed => {
    if (expectation.source.kind === 'setting') {
      return {
        expectation,
        label: expectation.source.name,
        object: settingObject(expectation.source.name),
        groups: groupByValue(snapshot, expectation.source.name, roles, comparer),
      };
    }
    const secret = vault.installed ? vault.secrets.get(expectation.source.name) : undefined;
    return {
      expectation,
      label: `Vault secret ${expectation.source.name}`,
      object: vaultObject(expectation.source.name),
      groups: secret?.value !== undefined ? [{ value: secret.value, roles: [], where: ['Vault'] }] : [],
    };
  });

  const findings: Finding[] = [];
  for (const item of observed) {
    if (item.expectation.source.kind === 'setting') findings.push(...settingFindings(snapshot, item.expectation, roles, comparer));
    else findings.push(...vaultFindings(item.expectation, vault, context.now()));
    findings.push(...parityFindings(item, comparer, plan.rotationSeverity), ...urlFindings(item, plan.environment), ...secretInSettingFinding(item));
  }

  const relevant = webhookFunctions(plumbing.functions, plan.expectations, plan.triggers);
  const executableBy = await apiRolesExecuting(
    session,
    relevant.map((fn) => fn.oid),
  );
  const missingTables = new Set<string>();
  for (const want of plan.triggers) {
    if (!(await tableExists(session, want.table.schema, want.table.name))) missingTables.add(`${want.table.schema}.${want.table.name}`);
  }
  findings.push(...plumbingFindings(plumbing.functions, plumbing.triggers, plan.expectations, plan.triggers, executableBy, missingTables));
  findings.push(...literalFindings(locate(literals, context)));

  const deliveries = await readDeliveries(session, plan.deliveriesWindowMs);
  findings.push(...deliveryFindings(deliveries, describeWindow(plan.deliveriesWindowMs)));

  const canary = plan.canary ? await context.log.step('Posting the webhook canary', () => probe(plan, observed, context)) : undefined;
  if (canary) findings.push(...canaryFindings(canary.results));

  return {
    findings,
    metrics: {
      expectations: plan.expectations.length,
      login_roles: roles.length,
      secrets_compared: observed.filter((o) => o.expectation.equals).reduce((sum, o) => sum + o.groups.length, 0),
      urls_checked: observed.filter((o) => o.expectation.url).reduce((sum, o) => sum + o.groups.length, 0),
      functions_checked: relevant.length,
      triggers_checked: plan.triggers.length,
      literal_secrets: literals.length,
      ...(deliveries.available
        ? {
            deliveries_total: deliveries.total,
            deliveries_rejected: deliveries.rejected,
            deliveries_server_errors: deliveries.serverErrors,
            deliveries_failed: deliveries.failed,
          }
        : {}),
      ...(canary ? { canary_requests: canary.results.length * 2 } : {}),
    },
    details: {
      database: snapshot.database,
      environment: plan.environment,
      loginRoles: roles.map((r) => r.name),
      settings: describeSettings(snapshot, settingNames, roles),
      comparisons: observed.filter((o) => o.expectation.equals).map((o) => describeComparison(o, comparer)),
      webhookFunctions: relevant.map((fn) => `${fn.schema}.${fn.name}`).sort(),
      deliveries: deliveries.available ? { window: describeWindow(plan.deliveriesWindowMs), ...deliveries } : { unavailable: deliveries.reason },
      ...(canary ? { canary: canary.details } : {}),
    },
  };
}

/** Per setting: every scope that sets it and what each login role ends up with (no values). */
function describeSettings(snapshot: SettingsSnapshot, names: readonly string[], roles: readonly LoginRole[]) {
  return names.map((name) => {
    const values = snapshot.values.get(name) ?? [];
    return {
      name,
      scopes: values.map((v) => ({ scope: v.scope, ...(v.role ? { role: v.role } : {}), empty: v.value === '' })),
      effective: roles.map((role) => ({ role: role.name, scope: effectiveValue(values, role.name)?.scope ?? null })),
      ...(snapshot.serverLevelKnown.get(name) === false ? { serverLevel: 'not readable by this role' } : {}),
    };
  });
}

function describeComparison(observed: Observed, comparer: SecretComparer) {
  const { equals, previous } = observed.expectation;
  return {
    object: observed.label,
    env: equals!.env,
    values: observed.groups.map((group) => ({
      roles: group.roles,
      result: comparer.equal(group.value, equals!.value) ? 'match' : previous && comparer.equal(group.value, previous.value) ? 'previous' : 'mismatch',
    })),
  };
}

/** Literal secrets in trigger arguments and function bodies, registered as soon as found. */
function findLiterals(plumbing: Plumbing, plan: Plan, snapshot: SettingsSnapshot, vault: VaultRead): LiteralHit[] {
  const known = [
    ...plan.expectations.flatMap((e) => [e.equals?.value, e.previous?.value]),
    ...plan.expectations.filter((e) => e.equals && e.source.kind === 'setting').flatMap((e) => (snapshot.values.get(e.source.name) ?? []).map((v) => v.value)),
    ...(vault.installed ? [...vault.secrets.values()].map((s) => s.value) : []),
  ].filter((value): value is string => Boolean(value));
  const hits: LiteralHit[] = [];
  for (const trigger of plumbing.triggers) {
    const secrets = trigger.args.flatMap((arg) => secretsInTriggerArgument(arg));
    if (!secrets.length) continue;
    hits.push({
      object: { kind: 'trigger', schema: trigger.tableSchema, name: `${trigger.table}.${trigger.name}` },
      sentence: (found) => `Trigger ${trigger.name} on ${trigger.tableSchema}.${trigger.table} passes ${found} as a literal argument`,
      secrets,
    });
  }
  for (const fn of plumbing.functions) {
    const secrets = secretsInFunctionBody(fn.source, known);
    if (!secrets.length) continue;
    hits.push({
      object: { kind: 'function', schema: fn.schema, name: fn.name },
      sentence: (found) => `Function ${fn.schema}.${fn.name}(${fn.args}) has ${found} written into its body`,
      secrets,
    });
  }
  for (const secret of hits.flatMap((hit) => hit.secrets)) {
    registerSecret(secret.value);
    registerSecret(secret.raw);
  }
  return hits;
}

/** SQL files of the project's migrations, to point literal-secret findings at a line. */
function migrationFiles(context: GateContext): Array<{ file: string; text: string }> {
  const configured = context.config.project['migrations-dir'];
  const candidates = configured ? [configured] : ['supabase/migrations', 'migrations', 'db/migrations', 'prisma/migrations', 'drizzle'];
  const root = candidates.map((dir) => path.resolve(context.cwd, dir)).find((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory());
  if (!root) return [];
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 2) walk(full, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.sql')) files.push(full);
    }
  };
  walk(root, 0);
  return files.map((file) => ({ file: path.relative(context.cwd, file).split(path.sep).join('/'), text: readFileSync(file, 'utf8') }));
}

function locate(hits: LiteralHit[], context: GateContext): LiteralHit[] {
  if (!hits.length) return hits;
  const files = migrationFiles(context);
  return hits.map((hit) => {
    for (const secret of hit.secrets) {
      for (const { file, text } of files) {
        const line = lineOf(text, secret.raw ?? secret.value);
        if (line !== undefined) return { ...hit, location: { file, line } };
      }
    }
    return hit;
  });
}

/** The canary's endpoints: the fixed target, or every distinct value of each URL setting. */
async function probe(plan: Plan, observed: readonly Observed[], context: GateContext): Promise<{ results: CanaryResult[]; details: unknown[] }> {
  const canary = plan.canary!;
  const targets: Array<{ label: string; url: string }> = [];
  const skipped: string[] = [];
  if (canary.target) targets.push(canary.target);
  else {
    for (const item of observed.filter((o) => o.expectation.url)) {
      item.groups.forEach((group, index) => {
        const label = item.groups.length > 1 ? `${item.label} (value ${index + 1} of ${item.groups.length})` : item.label;
        const url = parseWebhookUrl(group.value);
        if (url && (url.protocol === 'https:' || url.protocol === 'http:')) targets.push({ label, url: group.value.trim() });
        else skipped.push(label);
      });
    }
  }
  const results: CanaryResult[] = [];
  for (const target of targets) {
    const host = new URL(target.url).host;
    const outcome = await runCanary(target.url, canary.secret.value, canary, context.now());
    results.push({ label: target.label, host, outcome });
  }
  const details = [
    ...results.map((r) => ({
      endpoint: r.label,
      host: r.host,
      scheme: canary.scheme,
      signedWith: canary.secret.env,
      signed: r.outcome.signed,
      badlySigned: r.outcome.badlySigned,
    })),
    ...skipped.map((label) => ({ endpoint: label, skipped: 'not an http(s) URL' })),
  ];
  return { results, details };
}
