/**
 * The manifest `postgate drill --write-manifest` writes at backup time: the backup's time,
 * its SHA-256 and size, and the source's facts (row counts, checksums, extensions, RLS,
 * migration version, setting names) and schema fingerprint, all read in the snapshot the
 * dump was taken in. A file drill with the manifest checks the copy against it exactly as
 * a live drill checks against the source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../../errors.ts';
import { DUMP_FORMATS } from './artifact.ts';
import type { DatabaseFacts } from './facts.ts';

const factsSchema = z.object({
  serverVersion: z.string(),
  tables: z.array(
    z.object({
      schema: z.string(),
      name: z.string(),
      rows: z.number().int().nonnegative(),
      rls: z.boolean(),
      forceRls: z.boolean(),
    }),
  ),
  // Written since the keyed digest; a manifest of an older version has `checksums` instead.
  keyedChecksums: z
    .record(
      z.string(),
      z.object({
        key: z.array(z.string()).min(1),
        columns: z.array(z.string()).min(1),
        rows: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        rangeRows: z.number().int().positive(),
        ranges: z.array(
          z.object({
            rows: z.number().int().nonnegative(),
            sha256: z.string().regex(/^[0-9a-f]{64}$/),
            from: z.string().optional(),
            to: z.string().optional(),
          }),
        ),
      }),
    )
    .default({}),
  checksumTablesWithoutKey: z.array(z.string()).default([]),
  checksums: z.record(z.string(), z.string()).optional(),
  extensions: z.record(z.string(), z.string()),
  policyCount: z.number().int().nonnegative(),
  triggerCount: z.number().int().nonnegative(),
  migrationVersion: z.object({ table: z.string(), version: z.string() }).optional(),
  databaseSettings: z.array(z.string()),
  excludedSchemas: z.array(z.string()),
  storage: z.array(z.object({ bucket: z.string(), objects: z.number().int().nonnegative(), bytes: z.number().nonnegative() })).optional(),
});

export const manifestSchema = z.object({
  postgate_manifest: z.literal(1),
  created_at: z.string(),
  backup_taken_at: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO date-time'),
  snapshot: z.string().optional(),
  source: z.object({ label: z.string(), server_version: z.string(), supabase: z.boolean() }),
  artifact: z.object({
    file: z.string(),
    format: z.enum(DUMP_FORMATS),
    size_bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    files: z.record(z.string(), z.string()).optional(),
  }),
  /** A Supabase source's platform data (auth, storage), dumped in the same snapshot beside the backup. */
  platform_data: z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  tool: z.string(),
  facts: factsSchema,
  schema: z.object({ fingerprint: z.string(), snapshot: z.unknown().optional() }).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

// The manifest's facts are exactly DatabaseFacts: a compile-time check that they stay in step.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _factsMatch: Same<z.infer<typeof factsSchema>, DatabaseFacts> = true;
void _factsMatch;

export function readManifest(file: string, inputName = 'manifest'): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`Input \`${inputName}\` names ${file}, which cannot be read; fix the path.`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UserError(`Input \`${inputName}\` names ${file}, which is not valid JSON; write it again with \`postgate drill --write-manifest\`.`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join('.') || '(top level)';
    throw new UserError(
      `Input \`${inputName}\` names ${file}, which is not a postgate drill manifest (key \`${key}\`: ${issue?.message ?? 'invalid'}); write it again with \`postgate drill --write-manifest\`.`,
    );
  }
  return parsed.data;
}

export function writeManifest(file: string, manifest: Manifest): void {
  try {
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    throw new UserError(`Could not write the manifest to ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path of \`write-manifest\`.`);
  }
}
