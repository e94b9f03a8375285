/**
 * The files behind the restored copy's storage objects (issue 18 part 3). A backup of a Supabase
 * database holds `storage.objects`, the metadata rows, not the files: a restore is only complete
 * if every row has its file in storage. With repo config `drill.storage.s3`, each bucket of the
 * copy is listed through the S3-compatible endpoint (s3.ts) and compared with the copy's rows:
 * rows without a file, files whose size differs from the row's metadata, files without a row.
 *
 * Object names are user content (user ids, file names people chose): findings give counts per
 * bucket, never names. The credentials come from the environment variables the config names,
 * are registered as secrets as soon as they are read, and never appear in a message. A listing
 * that fails stops the drill with one sentence: the check never passes on an error.
 */
import type { RepoConfig } from '../../config/repo-config.ts';
import { UserError } from '../../errors.ts';
import type { Finding } from '../../findings/types.ts';
import { connect } from '../../postgres/connect.ts';
import { inertInline } from '../../report/inert.ts';
import { registerSecret } from '../../secrets.ts';
import { drillFinding } from './rules.ts';
import { listObjects, S3Error, type S3Endpoint, type S3Object } from './s3.ts';
import type { Targeted } from './state.ts';
import { storageReadable } from './storage.ts';
import type { Check } from './verify.ts';

type S3Config = NonNullable<NonNullable<RepoConfig['drill']['storage']>['s3']>;

export interface StorageEndpoint extends S3Endpoint {
  /** The environment variables the credentials came from, for messages. */
  env: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The endpoint and credentials of `drill.storage.s3`, read before the drill starts; undefined
 * without it. A named variable that is unset or empty is a UserError naming it.
 */
export function readStorageEndpoint(config: S3Config | undefined, env: Record<string, string | undefined>): StorageEndpoint | undefined {
  if (!config) return undefined;
  const read = (name: string, what: string) => {
    const value = env[name];
    if (!value) {
      throw new UserError(
        `Repo config \`drill.storage.s3\` reads the S3 ${what} from environment variable ${name}, which is not set or empty; set it from a secret in the job's env, or remove \`drill.storage.s3\`.`,
      );
    }
    registerSecret(value);
    return value;
  };
  const secretAccessKey = read(config['secret-access-key-env'], 'secret access key');
  const accessKeyId = read(config['access-key-id-env'], 'access key id');
  return {
    url: new URL(config.endpoint),
    region: config.region,
    credentials: { accessKeyId, secretAccessKey },
    timeoutMs: config['timeout-ms'],
    env: { accessKeyId: config['access-key-id-env'], secretAccessKey: config['secret-access-key-env'] },
  };
}

/** One bucket's rows and files compared: each count is of objects (or files, for `unreferenced`). */
export interface BucketFiles {
  bucket: string;
  objects: number;
  present: number;
  missing: number;
  sizeMismatch: number;
  unreferenced: number;
}

/**
 * Compares a bucket's rows (name → metadata size, undefined when the metadata has none) with its
 * listing, page by page: `rows` is consumed (what is left at the end has no file).
 */
export async function compareBucketFiles(bucket: string, rows: Map<string, number | undefined>, pages: AsyncIterable<S3Object[]>): Promise<BucketFiles> {
  const result: BucketFiles = { bucket, objects: rows.size, present: 0, missing: 0, sizeMismatch: 0, unreferenced: 0 };
  for await (const page of pages) {
    for (const file of page) {
      if (!rows.has(file.key)) {
        result.unreferenced += 1;
        continue;
      }
      const size = rows.get(file.key);
      rows.delete(file.key);
      result.present += 1;
      if (size !== undefined && size !== file.size) result.sizeMismatch += 1;
    }
  }
  result.missing = rows.size;
  return result;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The findings and the check line for the compared buckets. */
export function storageFilesFindings(buckets: readonly BucketFiles[], endpointHost: string): { findings: Finding[]; check: Check } {
  const findings: Finding[] = [];
  for (const b of buckets) {
    const name = inertInline(b.bucket);
    const object = { kind: 'bucket', name };
    if (b.missing) {
      findings.push(
        drillFinding({
          rule: 'drill_storage_file_missing',
          object,
          message: `${plural(b.missing, 'object')} of ${b.objects} in bucket ${name} of the restored copy ${b.missing === 1 ? 'has' : 'have'} no file in storage at ${endpointHost}.`,
          remediation:
            "Back up the storage files with the database, on the same schedule; find out whether the files were deleted after the backup was taken; check that drill.storage.s3.endpoint is this project's storage.",
        }),
      );
    }
    if (b.sizeMismatch) {
      findings.push(
        drillFinding({
          rule: 'drill_storage_file_size_mismatch',
          object,
          message: `${plural(b.sizeMismatch, 'file')} in bucket ${name} at ${endpointHost} ${b.sizeMismatch === 1 ? 'has' : 'have'} another size than the restored copy's object metadata says.`,
          remediation: 'Find out what rewrote the files after the backup was taken, and back the files up with the database.',
        }),
      );
    }
    if (b.unreferenced) {
      findings.push(
        drillFinding({
          rule: 'drill_storage_file_unreferenced',
          object,
          message: `${plural(b.unreferenced, 'file')} in bucket ${name} at ${endpointHost} ${b.unreferenced === 1 ? 'has' : 'have'} no object row in the restored copy (uploaded after the backup, or rows the backup lost).`,
          remediation: 'Files uploaded after the backup are expected; many of them, or old ones, point at object rows the backup lost.',
        }),
      );
    }
  }
  const sum = (pick: (b: BucketFiles) => number) => buckets.reduce((total, b) => total + pick(b), 0);
  const failed = sum((b) => b.missing + b.sizeMismatch);
  return {
    findings,
    check: {
      check: 'storage files',
      status: failed ? 'fail' : 'pass',
      detail: `${plural(buckets.length, 'bucket')}, ${plural(
        sum((b) => b.objects),
        'object',
      )} at ${endpointHost}: ${sum((b) => b.missing)} without a file, ${sum((b) => b.sizeMismatch)} of another size, ${plural(
        sum((b) => b.unreferenced),
        'file',
      )} without a row`,
    },
  };
}

/** The copy's buckets (storage.buckets and those objects name). */
const BUCKETS_SQL = `select id from storage.buckets union select bucket_id from storage.objects where bucket_id is not null order by 1`;
/** One bucket's objects: name and the size in the metadata (when it is a whole number). */
const OBJECTS_SQL = `select name, case when metadata->>'size' ~ '^[0-9]{1,15}$' then metadata->>'size' end as size
   from storage.objects where bucket_id = $1 and name is not null`;

/** One sentence for a failed listing; the endpoint's host and the variable names, never their values. */
function describeS3Error(error: S3Error, endpoint: StorageEndpoint, bucket: string): string {
  const at = `The S3 endpoint ${endpoint.url.host}`;
  const name = inertInline(bucket);
  switch (error.kind) {
    case 'credentials':
      return `${at} rejected the credentials in ${endpoint.env.accessKeyId} and ${endpoint.env.secretAccessKey} when listing bucket ${name} (${error.message}); create S3 access keys for the project (Supabase: Storage settings, S3 access keys), store them as secrets, and check \`drill.storage.s3.region\`.`;
    case 'bucket':
      return `${at} has no bucket ${name} (${error.message}), which the restored copy's storage.objects names; check that \`drill.storage.s3.endpoint\` is the storage of the project whose backup this is.`;
    case 'status':
      return `${at} answered ${error.message} when listing bucket ${name}; retry later, or check \`drill.storage.s3.endpoint\`.`;
    case 'unreachable':
      return `Could not reach the S3 endpoint ${endpoint.url.host} to list bucket ${name} (${inertInline(error.message)}); check \`drill.storage.s3.endpoint\` and the runner's network.`;
    case 'malformed':
      return `${at} answered the listing of bucket ${name} with something other than an S3 ListObjectsV2 result (${error.message}); check that \`drill.storage.s3.endpoint\` is an S3-compatible endpoint, such as https://<project-ref>.supabase.co/storage/v1/s3.`;
  }
}

/** `storage files`: every bucket of the inert copy listed and compared; a check line, skipped with the reason when there is nothing to do. */
export async function checkStorageFiles(state: Targeted, endpoint: StorageEndpoint | undefined): Promise<void> {
  if (!endpoint) {
    state.checks.push({ check: 'storage files', status: 'skipped', detail: 'no drill.storage.s3 endpoint in the repo config: the files were not read' });
    return;
  }
  await state.context.log.step(`storage files: list each bucket at ${endpoint.url.host}`, async () => {
    const started = performance.now();
    const session = await connect(state.target.url, { gate: 'drill', readOnly: true, inputName: 'target', statementTimeoutMs: 0 });
    try {
      if (!(await storageReadable(session))) {
        state.checks.push({ check: 'storage files', status: 'skipped', detail: 'the restored copy has no storage.objects to compare the files with' });
        return;
      }
      const buckets: BucketFiles[] = [];
      for (const { id } of (await session.query<{ id: string }>(BUCKETS_SQL)).rows) {
        const { rows } = await session.query<{ name: string; size: string | null }>(OBJECTS_SQL, [id]);
        const objects = new Map(rows.map((row) => [row.name, row.size === null ? undefined : Number(row.size)]));
        try {
          buckets.push(await compareBucketFiles(id, objects, listObjects(endpoint, id)));
        } catch (error) {
          if (error instanceof S3Error) throw new UserError(describeS3Error(error, endpoint, id));
          throw error;
        }
      }
      const compared = storageFilesFindings(buckets, endpoint.url.host);
      state.findings.push(...compared.findings);
      state.checks.push(compared.check);
      state.metrics.storage_files_ms = Math.round(performance.now() - started);
    } finally {
      await session.end().catch(() => undefined);
    }
  });
}
