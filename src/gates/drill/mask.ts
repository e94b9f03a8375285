/**
 * Masking for staging refreshes: after the drill has verified the copy, the columns named in
 * the repo config's `drill.mask` are overwritten in the copy (never in the source), then
 * `export-path` receives a dump of the masked copy.
 *
 *   email   user_<12 hex of md5(value)>@example.invalid   (distinct in, distinct out)
 *   hash    hex SHA-256 of the value                       (joins on the column still work)
 *   null    NULL
 *   redact  the text "[redacted]"
 *
 * NULLs stay NULL. Triggers are off while masking (session_replication_role = replica), so
 * masking fires no webhook and no audit trigger.
 */
import path from 'node:path';
import type { ClientBase } from 'pg';
import { UserError } from '../../errors.ts';
import { connect, quoteIdent } from '../../postgres/connect.ts';
import { resolveClientTool, runClientTool } from '../../postgres/tools.ts';
import type { DrillState } from './state.ts';

export const MASK_METHODS = ['email', 'hash', 'null', 'redact'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export interface MaskRule {
  schema: string;
  table: string;
  column: string;
  method: MaskMethod;
}

const TEXT_TYPES = new Set(['text', 'character varying', 'character', 'citext', 'name']);

export function parseMaskRules(mask: Record<string, MaskMethod>): MaskRule[] {
  return Object.entries(mask).map(([key, method]) => {
    const parts = key.split('.');
    if (parts.length < 2 || parts.length > 3 || parts.some((part) => !part)) {
      throw new UserError(`Repo config key \`drill.mask.${key}\` is not "table.column" or "schema.table.column"; fix the key.`);
    }
    const [schema, table, column] = parts.length === 3 ? parts : ['public', ...parts];
    return { schema: schema!, table: table!, column: column!, method };
  });
}

function expression(column: string, method: MaskMethod): string {
  const value = quoteIdent(column);
  switch (method) {
    case 'email':
      return `'user_' || substr(md5(${value}::text), 1, 12) || '@example.invalid'`;
    case 'hash':
      return `encode(sha256(convert_to(${value}::text, 'UTF8')), 'hex')`;
    case 'null':
      return 'NULL';
    case 'redact':
      return `'[redacted]'`;
  }
}

export interface MaskResult {
  column: string;
  method: MaskMethod;
  rows: number;
}

/** Applies every rule in one transaction on the copy; throws UserError naming a rule that cannot apply. */
export async function applyMasks(client: ClientBase, rules: readonly MaskRule[]): Promise<MaskResult[]> {
  const results: MaskResult[] = [];
  await client.query('begin');
  try {
    await client.query('set local session_replication_role = replica');
    for (const rule of rules) {
      const label = `${rule.schema}.${rule.table}.${rule.column}`;
      const column = await client.query<{ type: string; notnull: boolean }>(
        `select format_type(a.atttypid, null) as type, a.attnotnull as notnull
           from pg_attribute a where a.attrelid = to_regclass($1) and a.attname = $2 and a.attnum > 0 and not a.attisdropped`,
        [`${quoteIdent(rule.schema)}.${quoteIdent(rule.table)}`, rule.column],
      );
      const info = column.rows[0];
      if (!info) throw new UserError(`Repo config key \`drill.mask.${label}\` names a column the restored copy does not have; fix the name.`);
      if (rule.method !== 'null' && !TEXT_TYPES.has(info.type)) {
        throw new UserError(`Repo config key \`drill.mask.${label}\` uses ${rule.method} on a ${info.type} column; use null (or mask a text column).`);
      }
      if (rule.method === 'null' && info.notnull) {
        throw new UserError(`Repo config key \`drill.mask.${label}\` sets a NOT NULL column to null; use hash or redact instead.`);
      }
      const target = `${quoteIdent(rule.schema)}.${quoteIdent(rule.table)}`;
      const update = await client.query(
        `update ${target} set ${quoteIdent(rule.column)} = ${expression(rule.column, rule.method)} where ${quoteIdent(rule.column)} is not null`,
      );
      results.push({ column: label, method: rule.method, rows: update.rowCount ?? 0 });
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if (error instanceof UserError) throw error;
    throw new UserError(`Masking the restored copy failed: ${(error as Error).message}; fix \`drill.mask\` in the repo config.`);
  }
  return results;
}

/** pg_dump arguments for the export, from the path's name: .sql, .sql.gz, .tar, a folder (ends in /), else custom. */
export function exportFormatArgs(file: string, jobs: number): string[] {
  if (file.endsWith('.sql.gz')) return ['-Fp', '-Z', '6'];
  if (file.endsWith('.sql')) return ['-Fp'];
  if (file.endsWith('.tar')) return ['-Ft'];
  if (file.endsWith('/')) return ['-Fd', '-j', String(Math.max(1, jobs))];
  return ['-Fc'];
}

/**
 * export (a staging refresh): mask the verified, inert copy by the repo config's `drill.mask`
 * rules and dump it to `export-path`. Nothing is exported without mask rules.
 */
export async function exportMasked(state: DrillState): Promise<void> {
  const { options, target, context } = state;
  if (!options.exportPath || !target || !state.inert) return;
  const rules = parseMaskRules(state.config.mask);
  if (rules.length === 0) {
    throw new UserError(
      'Input `export-path` writes a masked copy, but the repo config has no `drill.mask` rules; add them (table.column: email | hash | null | redact) so no unmasked production data is exported.',
    );
  }
  const exportPath = path.resolve(context.cwd, options.exportPath);
  const masked: MaskResult[] = await context.log.step('export: mask the copy and dump it', async () => {
    const client = await connect(target.url, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
    let results: MaskResult[];
    try {
      results = await applyMasks(client, rules);
    } finally {
      await client.end().catch(() => undefined);
    }
    const pgDump = await resolveClientTool('pg_dump', { minMajor: target.major, serverMajor: target.major, purpose: 'export the masked copy' });
    const result = await runClientTool(
      pgDump,
      [...exportFormatArgs(options.exportPath!, state.jobs), '--no-password', '-f', exportPath.replace(/\/$/, ''), '-d', target.target.database],
      {
        connection: target.target,
        paths: [path.dirname(exportPath.replace(/\/$/, ''))],
      },
    );
    if (result.exitCode !== 0)
      throw new UserError(`Exporting the masked copy to ${exportPath} failed: ${result.stderr.trim().split('\n').pop()}; check \`export-path\`.`);
    return results;
  });
  state.details.masked = masked;
}
