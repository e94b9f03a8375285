/**
 * restore-drill's keyed checksum on real PostgreSQL: exact where the old one (a sum of 64-bit
 * md5 prefixes of whole rows, kept here only as the reference) was probabilistic.
 *
 * Values swapped between rows change the multiset of row texts, but a sum of 64-bit hashes can
 * still come out equal. For one swapped pair that takes a birthday search of about 2^32 hashes;
 * for two swapped pairs, four independent terms, Wagner's generalised birthday algorithm finds
 * one in about 2^22 hashes per term (minutes, once). The notes below are such a find: row i's
 * note is `n<NOTES[i]>`, and swapping the amounts of rows 1 and 2 and of rows 3 and 4 leaves the
 * old sum exactly unchanged.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestColumns, digestInRanges, PINNED_SETTINGS_SQL, planRanges, tableKey } from '../../src/catalog/row-digests.ts';
import { DRILL_INPUTS } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { repoConfigSchema } from '../../src/config/repo-config.ts';
import type { GateResult } from '../../src/findings/types.ts';
import { run } from '../../src/gates/drill/index.ts';
import { createContext } from '../../src/gates/gate.ts';
import type { Cluster } from '../../src/postgres/ephemeral/index.ts';
import { startTestCluster, withClient } from '../support/pg.ts';

const NOTES = [1997806, 969636, 1851096, 1856019];
const SEED = `create schema shop;
  create table shop.ledger (id int primary key, amount int not null, note text not null);
  insert into shop.ledger values ${NOTES.map((note, i) => `(${i + 1}, ${(i + 1) * 100}, 'n${note}')`).join(', ')};`;
const SWAP = `update shop.ledger set amount = case id when 1 then 200 when 2 then 100 when 3 then 400 when 4 then 300 end`;

/** The drill's checksum before the keyed digest: row count and the sum of 64-bit md5 prefixes of every row's text. */
const OLD_CHECKSUM_SQL = `select count(*)::text || '/' || coalesce(sum(('x' || substr(md5(row(r.*)::text), 1, 16))::bit(64)::bigint::numeric), 0)::text as checksum from shop.ledger r`;

let cluster: Cluster;
let work: string;

beforeAll(async () => {
  cluster = await startTestCluster(15);
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-checksum-test-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function drill(inputs: Record<string, string>): Promise<GateResult> {
  const options = parseInputs(DRILL_INPUTS, (name) => inputs[name], 'cli');
  return run(options, createContext({ cwd: work, config: repoConfigSchema.parse({ drill: { 'checksum-tables': ['shop.ledger'] } }) }));
}

async function checksums(url: string): Promise<{ old: string; sha256: string }> {
  return withClient(url, async (client) => {
    await client.query(PINNED_SETTINGS_SQL);
    const old = (await client.query<{ checksum: string }>(OLD_CHECKSUM_SQL)).rows[0]!.checksum;
    const table = { schema: 'shop', name: 'ledger' };
    const key = (await tableKey(client, table))!;
    const digestTable = { ...table, key, columns: await digestColumns(client, table, key) };
    const digest = await digestInRanges(client, digestTable, await planRanges(client, digestTable));
    return { old, sha256: digest.sha256 };
  });
}

describe('keyed checksum', () => {
  it('detects two swapped pairs of values that leave the old sum of row hashes unchanged', async () => {
    const url = await cluster.createDatabase('swapped');
    await withClient(url, (client) => client.query(SEED));
    const before = await checksums(url);
    await withClient(url, (client) => client.query(SWAP));
    const after = await checksums(url);
    expect(after.old).toBe(before.old);
    expect(after.sha256).not.toBe(before.sha256);
  });

  it('fails a drill whose backup holds the swapped values, naming the key range; reads an older manifest without a false result', async () => {
    const url = await cluster.createDatabase('shop');
    await withClient(url, (client) => client.query(SEED));
    const recorded = path.join(work, 'recorded.manifest.json');
    expect((await drill({ 'source-database-url': url, 'dump-path': path.join(work, 'recorded'), 'write-manifest': recorded })).status).toBe('pass');
    await withClient(url, (client) => client.query(SWAP));
    const swappedManifest = path.join(work, 'swapped.manifest.json');
    const swapped = path.join(work, 'swapped');
    expect((await drill({ 'source-database-url': url, 'dump-path': swapped, 'write-manifest': swappedManifest })).status).toBe('pass');

    // The first backup's facts with the second backup's file: the backup no longer holds what was recorded.
    const facts = JSON.parse(readFileSync(recorded, 'utf8')).facts;
    const manifest = JSON.parse(readFileSync(swappedManifest, 'utf8'));
    const mixed = path.join(work, 'mixed.manifest.json');
    writeFileSync(mixed, JSON.stringify({ ...manifest, facts }));
    const result = await drill({ 'dump-path': swapped, manifest: mixed, shadow: 'url', 'shadow-database-url': cluster.url });
    expect(result.findings.map((f) => f.rule)).toEqual(['drill_checksum_table_mismatch']);
    expect(result.findings[0]!.message).toBe(
      "Table shop.ledger's rows differ between source and copy (exact digest by key id): 1 of 1 range(s) of 10000 rows differ (keys 1–4); the other 0 match.",
    );
    const checks = result.details?.checks as Array<{ check: string; status: string }>;
    expect(checks.find((c) => c.check === 'row counts')?.status).toBe('pass');

    // A manifest written before the keyed digest: not compared, said so, the drill passes on its counts.
    const { keyedChecksums, checksumTablesWithoutKey, ...older } = manifest.facts;
    expect(Object.keys(keyedChecksums)).toEqual(['shop.ledger']);
    expect(checksumTablesWithoutKey).toEqual([]);
    const oldManifest = path.join(work, 'old.manifest.json');
    writeFileSync(oldManifest, JSON.stringify({ ...manifest, facts: { ...older, checksums: { 'shop.ledger': '4/123' } } }));
    const old = await drill({ 'dump-path': swapped, manifest: oldManifest, shadow: 'url', 'shadow-database-url': cluster.url });
    expect(old.status).toBe('pass');
    expect(old.findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['drill_checksum_not_compared notice']);
    expect((old.details?.checks as Array<{ check: string; status: string }>).find((c) => c.check === 'key checksums')?.status).toBe('skipped');
  });
});
