/** Storage per bucket (issue 18 part 3): the comparison of the source's buckets with the copy's, and manifests with and without them. */
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/gates/drill/manifest.ts';
import { type BucketFacts, compareStorage } from '../../src/gates/drill/storage.ts';

const source: BucketFacts[] = [
  { bucket: 'avatars', objects: 2, bytes: 2000 },
  { bucket: 'trip-photos', objects: 1, bytes: 50_000 },
  { bucket: 'empty', objects: 0, bytes: 0 },
];

describe('compareStorage', () => {
  it('passes when every bucket has the same objects and size', () => {
    const compared = compareStorage(source, [...source].reverse());
    expect(compared.findings).toEqual([]);
    expect(compared.check).toEqual({ check: 'storage', status: 'pass', detail: '3 buckets, 3 objects in the source (metadata only); 0 differ' });
  });

  it('names the bucket with counts and sizes when an object is lost, a size changed, or a bucket is missing', () => {
    const compared = compareStorage(source, [
      { bucket: 'avatars', objects: 1, bytes: 1200 },
      { bucket: 'trip-photos', objects: 1, bytes: 49_999 },
    ]);
    expect(compared.findings.map((f) => [f.rule, f.severity, f.object, f.message])).toEqual([
      [
        'drill_storage_mismatch',
        'error',
        { kind: 'bucket', name: 'avatars' },
        'Storage bucket avatars has 1 object (1200 bytes) in the copy but 2 objects (2000 bytes) in the source.',
      ],
      [
        'drill_storage_mismatch',
        'error',
        { kind: 'bucket', name: 'trip-photos' },
        'Storage bucket trip-photos has 1 object (49999 bytes) in the copy but 1 object (50000 bytes) in the source.',
      ],
      [
        'drill_storage_mismatch',
        'error',
        { kind: 'bucket', name: 'empty' },
        'Storage bucket empty (0 objects, 0 bytes in the source) is missing from the copy.',
      ],
    ]);
    expect(compared.check).toMatchObject({ status: 'fail', detail: '3 buckets, 3 objects in the source (metadata only); 3 differ' });
  });

  it('a copy without storage.objects has no buckets', () => {
    expect(compareStorage(source, undefined).findings).toHaveLength(3);
  });

  it('prints a hostile bucket name inert', () => {
    const [found] = compareStorage([{ bucket: 'x\u001b[31m\nevil', objects: 1, bytes: 1 }], []).findings;
    expect(found!.message).not.toMatch(/[\u001b\n]/);
    expect(found!.object.name).not.toMatch(/[\u001b\n]/);
  });

  it('is skipped when the source has no storage facts', () => {
    expect(compareStorage(undefined, source)).toEqual({
      findings: [],
      check: {
        check: 'storage',
        status: 'skipped',
        detail: 'no storage facts of the source to compare with (not a Supabase project, no manifest, or a manifest written without them)',
      },
    });
  });
});

describe('manifest storage facts', () => {
  const manifest = {
    postgate_manifest: 1,
    created_at: '2026-12-01T00:00:00.000Z',
    backup_taken_at: '2026-12-01T00:00:00.000Z',
    source: { label: 'db', server_version: '15.8', supabase: true },
    artifact: { file: 'db.dump', format: 'custom', size_bytes: 1, sha256: 'a'.repeat(64) },
    tool: 'pg_dump 15.8',
    facts: {
      serverVersion: '15.8',
      tables: [],
      checksums: {},
      extensions: {},
      policyCount: 0,
      triggerCount: 0,
      databaseSettings: [],
      excludedSchemas: [],
    },
  };

  it('reads a manifest written before storage was recorded, and one with it', () => {
    expect(manifestSchema.parse(manifest).facts.storage).toBeUndefined();
    expect(manifestSchema.parse({ ...manifest, facts: { ...manifest.facts, storage: source } }).facts.storage).toEqual(source);
  });
});
