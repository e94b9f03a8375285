/**
 * Storage in a Supabase project: per bucket, the number of objects in `storage.objects` and
 * their total size (the `size` in each object's metadata), on the source (in the dump's
 * snapshot, or from the manifest) and on the restored copy. Metadata only: the files live in
 * the storage service's S3 bucket, which storage-files.ts lists when the repo config names an
 * S3-compatible endpoint.
 *
 * `storage` is one of the platform schemas left out of the main dump; its data reaches the copy
 * with the platform data a live drill dumps in the same snapshot (source.ts), or with the data
 * file of `supabase db dump`. A backup without it restores no bucket and no object, and this
 * comparison says so.
 */
import type { ClientBase } from 'pg';
import type { Finding } from '../../findings/types.ts';
import { inertInline } from '../../report/inert.ts';
import { drillFinding } from './rules.ts';
import type { Check } from './verify.ts';

export interface BucketFacts {
  bucket: string;
  objects: number;
  bytes: number;
}

/**
 * Can this session count every object? The tables exist and are readable, and row level
 * security (on in Supabase) does not filter them for this role. Asked first rather than caught:
 * on a source, a failed query would end the snapshot's transaction.
 */
const READABLE_SQL = `select coalesce(bool_and(pg_catalog.has_table_privilege(c.oid, 'select') and (not c.relrowsecurity or r.rolsuper or r.rolbypassrls)), false) and count(*) = 2 as ok
   from pg_catalog.pg_class c, pg_catalog.pg_roles r
  where c.oid in (pg_catalog.to_regclass('storage.objects'), pg_catalog.to_regclass('storage.buckets')) and r.rolname = current_user`;

/** Every bucket (those in storage.buckets and those objects name), with its objects' count and total size. */
const BUCKETS_SQL = `select b.id as bucket, count(o.bucket_id)::text as objects,
        coalesce(sum(case when o.metadata->>'size' ~ '^[0-9]{1,18}$' then (o.metadata->>'size')::bigint end), 0)::text as bytes
   from (select id from storage.buckets union select bucket_id from storage.objects where bucket_id is not null) b(id)
   left join storage.objects o on o.bucket_id = b.id
  group by b.id
  order by b.id`;

/** The database has storage.objects and storage.buckets, and this session sees every row of them. */
export async function storageReadable(session: ClientBase): Promise<boolean> {
  const readable = await session.query<{ ok: boolean }>(READABLE_SQL);
  return readable.rows[0]?.ok ?? false;
}

/** The buckets' facts, or undefined when the database has no storage.objects this session can count in full. */
export async function collectStorage(session: ClientBase): Promise<BucketFacts[] | undefined> {
  if (!(await storageReadable(session))) return undefined;
  const { rows } = await session.query<{ bucket: string; objects: string; bytes: string }>(BUCKETS_SQL);
  return rows.map((row) => ({ bucket: row.bucket, objects: Number(row.objects), bytes: Number(row.bytes) }));
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The copy's buckets against the source's. `expected` undefined: the source has no storage to
 * compare (not a Supabase project, or a manifest written before storage was recorded). A copy
 * without storage.objects has no buckets.
 */
export function compareStorage(
  expected: readonly BucketFacts[] | undefined,
  actual: readonly BucketFacts[] | undefined,
): { findings: Finding[]; check: Check } {
  if (!expected) {
    return {
      findings: [],
      check: {
        check: 'storage',
        status: 'skipped',
        detail: 'no storage facts of the source to compare with (not a Supabase project, no manifest, or a manifest written without them)',
      },
    };
  }
  const copy = new Map((actual ?? []).map((b) => [b.bucket, b]));
  const findings: Finding[] = [];
  for (const want of expected) {
    const have = copy.get(want.bucket);
    if (have && have.objects === want.objects && have.bytes === want.bytes) continue;
    const name = inertInline(want.bucket);
    findings.push(
      drillFinding({
        rule: 'drill_storage_mismatch',
        object: { kind: 'bucket', name },
        message: have
          ? `Storage bucket ${name} has ${plural(have.objects, 'object')} (${have.bytes} bytes) in the copy but ${plural(want.objects, 'object')} (${want.bytes} bytes) in the source.`
          : `Storage bucket ${name} (${plural(want.objects, 'object')}, ${want.bytes} bytes in the source) is missing from the copy.`,
        remediation:
          "Restore the storage schema's data with the backup (the data file of supabase db dump, which keeps storage.buckets and storage.objects), and look at the restore errors for it.",
      }),
    );
  }
  const objects = expected.reduce((sum, b) => sum + b.objects, 0);
  return {
    findings,
    check: {
      check: 'storage',
      status: findings.length ? 'fail' : 'pass',
      detail: `${plural(expected.length, 'bucket')}, ${plural(objects, 'object')} in the source (metadata only); ${findings.length} differ`,
    },
  };
}
