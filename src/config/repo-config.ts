/**
 * The repo config file (`.github/postgate.yml` by default): exposed schemas, the
 * allowlist, webhook expectations, drill checks. Unknown keys are errors (a typo must
 * not silently disable a check); every error names the file, the key and what was expected.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { isValidGlob } from '../core/glob.ts';
import { parseDuration } from './input-spec.ts';

const identifier = z.string().min(1);
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 15m, 24h or 7d' });
    return z.NEVER;
  }
  return ms;
});
const isoDate = z.union([z.string(), z.date()]).transform((value, ctx) => {
  const date = value instanceof Date ? value : new Date(`${value}`);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected a date such as 2027-06-30' });
    return z.NEVER;
  }
  return date.toISOString().slice(0, 10);
});

/**
 * The name of an environment variable that holds a secret. A value that is no name is usually the
 * secret pasted in its place: the message does not repeat it (messages starting "expected" do).
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable (such as S3_SECRET_ACCESS_KEY), not hold its value');

/** An S3-compatible endpoint (https://<ref>.supabase.co/storage/v1/s3); never printed back, as it might hold credentials. */
const s3Endpoint = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && !url.username && !url.password && !url.search && !url.hash;
  } catch {
    return false;
  }
}, 'must be an http(s) URL without credentials, query or fragment, such as https://<project-ref>.supabase.co/storage/v1/s3');

/** A glob over repository-relative paths (src/core/glob.ts); a pull request can edit it, so it stays inside the repository. */
const repoGlob = z
  .string()
  .min(1, 'expected a glob such as src/**/*.ts')
  .refine((glob) => !glob.split('/').includes('..'), 'expected a glob inside the repository, such as src/**/*.ts (without `..`)')
  .refine(isValidGlob, 'expected a glob with every `{` and `[` closed, such as src/**/*.{ts,tsx}');

/** `{ kind, schema, name }`, or the short form "schema.name" (kind: any). */
const objectRef = z.union([
  z.strictObject({ kind: identifier, schema: identifier.optional(), name: identifier }),
  z
    .string()
    .min(1)
    .transform((text) => {
      const dot = text.indexOf('.');
      return dot > 0 ? { kind: '*', schema: text.slice(0, dot), name: text.slice(dot + 1) } : { kind: '*', name: text };
    }),
]);

export const allowlistEntrySchema = z.strictObject({
  rule: identifier,
  object: objectRef,
  reason: z.string({ error: 'expected a reason (why this finding is acceptable)' }).trim().min(1, 'expected a non-empty reason'),
  expires: isoDate.optional(),
});

const claims = z.record(z.string(), z.unknown());
const rlsTest = z.strictObject({
  name: z.string().min(1),
  as: z.strictObject({ role: identifier, claims: claims.optional() }),
  sql: z.string().min(1),
  expect: z.union([
    z.strictObject({ rows: z.number().int().nonnegative() }),
    z.strictObject({ 'rows-at-least': z.number().int().nonnegative() }),
    z.strictObject({ denied: z.literal(true) }),
    z.strictObject({ error: z.string().regex(/^[0-9A-Z]{5}$/, 'expected a 5-character SQLSTATE such as 42501') }),
  ]),
});

const urlExpectation = z.strictObject({
  scheme: z.enum(['https', 'http']).default('https'),
  host: z.string().min(1).optional(),
  'host-env': z.string().min(1).optional(),
  'path-prefix': z.string().min(1).optional(),
});

const webhookExpectation = z
  .strictObject({
    setting: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+$/, 'expected a custom setting name such as app.webhook_hmac_secret')
      .optional(),
    'vault-secret': z.string().min(1).optional(),
    'equals-env': z.string().min(1).optional(),
    'previous-env': z.string().min(1).optional(),
    url: urlExpectation.optional(),
    'max-age-days': z.number().positive().optional(),
    required: z.boolean().default(true),
  })
  .refine((e) => (e.setting ? 1 : 0) + (e['vault-secret'] ? 1 : 0) === 1, 'expected exactly one of `setting` or `vault-secret`')
  .refine(
    (e) => e['max-age-days'] === undefined || e['vault-secret'] !== undefined,
    'expected `max-age-days` only with `vault-secret` (a setting has no update time)',
  )
  .refine((e) => e['previous-env'] === undefined || e['equals-env'] !== undefined, 'expected `previous-env` only together with `equals-env`');

const smokeQuery = z.strictObject({
  name: z.string().min(1),
  sql: z.string().min(1),
  expect: z
    .union([
      z.literal('no-error'),
      z.strictObject({ 'rows-at-least': z.number().int().nonnegative() }),
      z.strictObject({ rows: z.number().int().nonnegative() }),
      z.strictObject({ equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
    ])
    .default('no-error'),
});

/** A role the database must have, and the login roles that must be able to `set role` to it (checked by drift-gate in deploy mode). */
const requiredRole = z.strictObject({
  name: z.string({ error: 'expected a role name such as app_worker' }).min(1, 'expected a role name such as app_worker'),
  'assumed-by': z
    .array(z.string().min(1, 'expected a login role name such as postgres'), { error: 'expected a list of login roles such as [postgres]' })
    .default([]),
});

export const repoConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  project: z
    .strictObject({
      kind: z.enum(['supabase', 'postgres']).optional(),
      // a pull request can edit this file: the folder must stay inside the repository
      'migrations-dir': z
        .string()
        .min(1)
        .refine((dir) => !path.isAbsolute(dir) && !path.normalize(dir).split(/[\\/]/).includes('..'), 'a path inside the repository (relative, without `..`)')
        .optional(),
      'migrations-format': z.string().min(1).optional(),
      'postgres-version': z.number().int().optional(),
      /** The day the project switched to explicit Data API grants (Supabase, 2026): objects created earlier keep the legacy grants. */
      'explicit-grants-since': z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
        .optional(),
    })
    .default({}),
  allowlist: z.array(allowlistEntrySchema).default([]),
  /** Roles the database must have, each with the login roles that `set role` to it. */
  roles: z.array(requiredRole).default([]),
  drift: z
    .strictObject({
      schemas: z.array(identifier).optional(),
      'exclude-schemas': z.array(identifier).default([]),
      /** PR mode's lock and rewrite analysis (src/gates/drift/migration-safety.ts): tables that may be rewritten or locked, and the longest lock_timeout that counts as set. */
      'migration-safety': z
        .strictObject({
          exceptions: z
            .array(
              z.strictObject({
                table: z.string().regex(/^[^.\s]+\.[^\s]+$/, 'expected a table as schema.name, such as public.small_lookup'),
                reason: z.string({ error: 'expected a reason (why this table may be rewritten or locked)' }).trim().min(1, 'expected a non-empty reason'),
                rules: z
                  .array(z.string().regex(/^migration_[a-z_]+$/, 'expected a rule id such as migration_table_rewrite'))
                  .min(1)
                  .optional(),
              }),
            )
            .default([]),
          'max-lock-timeout': duration.optional(),
        })
        .default({ exceptions: [] }),
      /** The rehearsal on a restored copy (`rehearse-from`, `drill.rehearse-migrations`): an ACCESS EXCLUSIVE lock held longer than this is a finding (default 1s). */
      rehearsal: z.strictObject({ 'lock-threshold': duration.optional() }).optional(),
      /** Opt in to rule migration_down_missing: every migration the pull request adds has a rollback (down) migration, for the tools that have them. */
      'require-down-migrations': z.boolean().default(false),
    })
    .default({ 'exclude-schemas': [], 'migration-safety': { exceptions: [] }, 'require-down-migrations': false }),
  rls: z
    .strictObject({
      /** Schemas the Data API exposes (after the `schemas` input, before supabase/config.toml). */
      'exposed-schemas': z
        .array(identifier)
        .min(1, 'expected at least one schema (leave the key out to read supabase/config.toml or pgrst.db_schemas)')
        .optional(),
      /** Roles requests run as: the first is the anonymous role, the second the signed-in role. */
      'api-roles': z.array(identifier).optional(),
      /** Opt in to rule rls_not_forced. */
      'force-rls': z.boolean().default(false),
      tests: z.array(rlsTest).default([]),
      /** SQL files (repository-relative) loaded into the shadow after supabase/seed.sql. */
      fixtures: z.array(z.string().regex(/\.sql$/i, 'expected the path of a .sql file')).default([]),
      /** Tables (`schema.table`) no API role should read in full: public read through a policy is an error there, not a notice. */
      'private-tables': z.array(z.string().regex(/^[^.\s]+\.[^\s]+$/, 'expected a table as schema.name, such as public.profiles')).default([]),
      /** Where the app's code is scanned for Data API calls: `include` replaces the default globs, `exclude` adds to the default exclusions. */
      'app-code': z
        .strictObject({
          include: z.array(repoGlob).min(1, 'expected at least one glob (leave `include` out for the default: every supported source file)').optional(),
          exclude: z.array(repoGlob).optional(),
        })
        .optional(),
    })
    .default({ 'force-rls': false, tests: [], fixtures: [], 'private-tables': [] }),
  webhooks: z
    .strictObject({
      expectations: z.array(webhookExpectation).default([]),
      triggers: z.array(z.strictObject({ table: identifier, function: identifier })).default([]),
      'rotation-is': z.enum(['warning', 'notice', 'error']).default('warning'),
      environment: z.enum(['production', 'preview', 'development']).default('production'),
      probe: z
        .strictObject({
          url: z.string().url().optional(),
          'url-env': z.string().min(1).optional(),
          scheme: z.enum(['hex-hmac-sha256', 'standard-webhooks', 'github-sha256']).default('hex-hmac-sha256'),
          // default per scheme: X-Signature-HMAC, webhook-signature, X-Hub-Signature-256
          header: z
            .string()
            .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name such as X-Signature-HMAC')
            .optional(),
          'timeout-ms': z.number().int().positive().max(60_000, 'expected at most 60000 (one minute)').default(5000),
        })
        .refine((p) => !(p.url && p['url-env']), 'expected at most one of `url` or `url-env`')
        .optional(),
    })
    .default({ expectations: [], triggers: [], 'rotation-is': 'warning', environment: 'production' }),
  drill: z
    .strictObject({
      'checksum-tables': z.array(identifier).default([]),
      'expected-settings': z.array(identifier).default([]),
      'rto-target': duration.optional(),
      'rpo-target': duration.optional(),
      smoke: z.array(smokeQuery).default([]),
      mask: z.record(z.string(), z.enum(['email', 'hash', 'null', 'redact'])).default({}),
      // Supabase baseline before restoring into vanilla PostgreSQL: auto (when the backup is a Supabase one), supabase (always), none.
      baseline: z.enum(['auto', 'supabase', 'none']).default('auto'),
      // The source database is meant to be empty: a backup that restores no rows passes (else drill_backup_empty).
      'expect-empty': z.boolean().default(false),
      // After the verification, apply the repository's pending migrations to the restored copy and measure them (drift-gate's rehearsal).
      'rehearse-migrations': z.boolean().default(false),
      // Point-in-time recovery, read from the Supabase Management API (supabase-access-token): required (backup_pitr_disabled) and its minimum retention (backup_pitr_retention_short).
      pitr: z
        .strictObject({
          required: z.boolean().default(false),
          'min-retention-days': z.number().int().positive().max(3650, 'expected at most 3650 days').optional(),
        })
        .optional(),
      // The files behind storage.objects, listed through an S3-compatible endpoint (storage-files.ts); credentials only by environment variable name.
      storage: z
        .strictObject({
          s3: z
            .strictObject({
              endpoint: s3Endpoint,
              region: z
                .string()
                .regex(/^[a-z0-9-]{1,40}$/, 'expected a region such as us-east-1')
                .default('us-east-1'),
              'access-key-id-env': envName.default('S3_ACCESS_KEY_ID'),
              'secret-access-key-env': envName.default('S3_SECRET_ACCESS_KEY'),
              'timeout-ms': z.number().int().positive().max(300_000, 'expected at most 300000 (five minutes)').default(30_000),
            })
            .optional(),
        })
        .optional(),
    })
    .default({ 'checksum-tables': [], 'expected-settings': [], smoke: [], mask: {}, baseline: 'auto', 'expect-empty': false, 'rehearse-migrations': false }),
});

export type RepoConfig = z.infer<typeof repoConfigSchema>;
export type AllowlistEntry = z.infer<typeof allowlistEntrySchema>;
export type RequiredRole = z.infer<typeof requiredRole>;

export const EMPTY_REPO_CONFIG: RepoConfig = repoConfigSchema.parse({});

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length ? 'a list' : 'an empty list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string "${value.length > 40 ? `${value.slice(0, 37)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const got = describeValue(valueAt(data, issue.path));
  if (issue.message.startsWith('expected')) return `${issue.message}, got ${got}`;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${got}`;
    case 'unrecognized_keys':
      return `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
    case 'invalid_union':
      return `does not match any accepted form (got ${got}); see docs/config.md`;
    default:
      return issue.message.startsWith('Invalid') || issue.message.startsWith('Too') ? `${issue.message.toLowerCase()} (got ${got})` : issue.message;
  }
}

/** Parses config text; `file` is only used in messages. */
export function parseRepoConfig(text: string, file: string): RepoConfig {
  const document = parseDocument(text, { prettyErrors: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line;
    const reason = (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${file}: invalid YAML${line ? ` at line ${line}` : ''}: ${reason}; fix the syntax.`);
  }
  const data = document.toJS() ?? {};
  const result = repoConfigSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (!issue) throw new UserError(`${file}: invalid config.`);
    throw new UserError(`${file}: key \`${formatPath(issue.path)}\` ${describeIssue(issue, data)}.`);
  }
  return result.data;
}

/**
 * Loads the repo config. A missing file is fine when it is the default path (no config);
 * a path the user named must exist.
 */
export function loadRepoConfig(file: string, options: { explicit: boolean }): RepoConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !options.explicit) return EMPTY_REPO_CONFIG;
    if (code === 'ENOENT') throw new UserError(`Config file ${file} does not exist; fix input \`config\` or create the file.`);
    if (code === 'EISDIR') throw new UserError(`Config file ${file} is a directory; point input \`config\` at a YAML file.`);
    throw new UserError(`Config file ${file} cannot be read (${code ?? 'unknown error'}); check its permissions.`);
  }
  return parseRepoConfig(text, file);
}
