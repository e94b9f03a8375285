/** restore-drill's pure parts: headers, checksums, restore errors, comparisons, log, masking. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { compareChecksums, inspectArtifact, parseChecksumFile, parsePlainHeader } from '../../src/gates/drill/artifact.ts';
import type { DatabaseFacts, KeyedChecksum } from '../../src/gates/drill/facts.ts';
import { daysSinceGreen, type DrillLogEntry, historyRows } from '../../src/gates/drill/log.ts';
import { exportFormatArgs, parseMaskRules } from '../../src/gates/drill/mask.ts';
import { classifyMessage, ErrorCollector, parseTocList, Progress, restoreError } from '../../src/gates/drill/restore.ts';
import { chooseMajor } from '../../src/gates/drill/target.ts';
import { checksumDifference, compareFacts, smokeMismatch } from '../../src/gates/drill/verify.ts';
import { parseToolVersion, parseVersionMismatch } from '../../src/postgres/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-unit-'));

describe('plain dump header', () => {
  it("reads the server and pg_dump versions and a verbose dump's start time", () => {
    const header = parsePlainHeader(
      '--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.8 (Ubuntu 15.8-1.pgdg22.04+1)\n-- Dumped by pg_dump version 17.2\n\n-- Started on 2025-03-02 03:17:02 UTC\n',
    );
    expect(header).toEqual({ sourceVersion: '15.8', dumpVersion: '17.2', createdAt: '2025-03-02T03:17:02.000Z' });
    expect(parsePlainHeader('-- PostgreSQL database cluster dump\n').clusterDump).toBe(true);
  });

  it('detects formats from the content, not the name', () => {
    const sqlNamedDump = path.join(dir, 'backup.dump');
    writeFileSync(sqlNamedDump, '-- Dumped from database version 15.8\nSET statement_timeout = 0;\n');
    expect(inspectArtifact(sqlNamedDump).format).toBe('plain');
    const binary = path.join(dir, 'random.bin');
    writeFileSync(binary, Buffer.from([0, 1, 2, 3, 250, 251]));
    expect(() => inspectArtifact(binary)).toThrow(/not a PostgreSQL backup postgate recognises/);
    expect(() => inspectArtifact(dir)).toThrow(/holds neither a pg_dump directory archive \(toc\.dat\) nor supabase db dump files/);
  });
});

describe('checksums', () => {
  const hash = 'a'.repeat(64);
  it('parses GNU, binary-mode and BSD lines', () => {
    expect(parseChecksumFile(`${hash}  app.dump\n${'b'.repeat(64)} *other.dump\nSHA256 (x.sql) = ${'C'.repeat(64)}\n# comment\n`)).toEqual([
      { sha256: hash, file: 'app.dump' },
      { sha256: 'b'.repeat(64), file: 'other.dump' },
      { sha256: 'c'.repeat(64), file: 'x.sql' },
    ]);
  });

  it('compares a file, rejects unusable checksum inputs with the fix', () => {
    const file = path.join(dir, 'app.dump');
    writeFileSync(file, 'x');
    const artifact = { path: file, format: 'custom' as const, sizeBytes: 1, files: [file], header: {} };
    expect(compareChecksums(artifact, { sha256: hash }, { sha256: hash.toUpperCase() })).toEqual([]);
    expect(compareChecksums(artifact, { sha256: hash }, { sha256: 'f'.repeat(64) })).toEqual([{ file: 'app.dump', expected: 'f'.repeat(64), actual: hash }]);
    expect(() => compareChecksums(artifact, { sha256: hash }, { sha256: 'abc' })).toThrow(UserError);
    const listing = path.join(dir, 'sums.txt');
    writeFileSync(listing, `${hash}  other.dump\n${hash}  third.dump\n`);
    expect(() => compareChecksums(artifact, { sha256: hash }, { checksumPath: listing })).toThrow(/has no line for app\.dump/);
  });
});

describe('restore errors', () => {
  it('classifies missing roles, extensions and schemas, corruption, and harmless PostgreSQL 17 settings', () => {
    expect(classifyMessage('role "anon" does not exist')).toEqual({ kind: 'role', name: 'anon' });
    expect(classifyMessage('could not open extension control file "/usr/share/postgresql/15/extension/vector.control": No such file or directory')).toEqual({
      kind: 'extension',
      name: 'vector',
    });
    expect(classifyMessage('extension "pg_cron" is not available')).toEqual({ kind: 'extension', name: 'pg_cron' });
    expect(classifyMessage('schema "auth" does not exist')).toEqual({ kind: 'schema', name: 'auth' });
    expect(classifyMessage('could not read from input file: end of file')).toEqual({ kind: 'corrupt' });
    expect(classifyMessage('unrecognized configuration parameter "transaction_timeout"')).toBe('ignore');
  });

  it('groups pg_restore and psql output, keeps the first command, counts cascades and hides values', () => {
    const collector = new ErrorCollector();
    for (const line of [
      'pg_restore: from TOC entry 215; 1259 16386 TABLE t1 app',
      'pg_restore: error: could not execute query: ERROR:  role "app" does not exist',
      'Command was: ALTER TABLE public.t1 OWNER TO app;',
      'pg_restore: error: could not execute query: ERROR:  role "app" does not exist',
      'psql:/backups/schema.sql:120: ERROR:  relation "public.t9" does not exist',
      'psql:<stdin>:5: invalid command \\N',
      'psql:<stdin>:6: invalid command \\N',
      'psql:<stdin>:7: ERROR:  invalid input syntax for type integer: "secret-value"',
      'pg_restore: warning: errors ignored on restore: 2',
    ])
      collector.line(line);
    expect(collector.problems()).toEqual([
      { kind: 'role', name: 'app', message: 'role "app" does not exist', count: 2, example: 'ALTER TABLE public.t1 OWNER TO app;' },
      { kind: 'other', message: 'relation "public.t9" does not exist', count: 1, example: 'schema.sql line 120' },
      { kind: 'other', message: 'invalid input syntax for type integer: (value hidden)', count: 1, example: '<stdin> line 7' },
    ]);
    expect(collector.cascaded).toBe(2);
  });

  it("reads failed statements out of a parallel restore's interleaved output, and no progress line as an error", () => {
    // pg_restore -j --verbose: two workers write the program name, the level and the text
    // separately, so their lines mix (these shapes were seen in real runs).
    const collector = new ErrorCollector();
    for (const line of [
      'pg_restore:pg_restore: finished item 3757 PUBLICATION TABLE pub_a t1',
      ' creating CONSTRAINT "public.t59 t59_pkey"',
      'pg_restore: pg_restore: error: creating PUBLICATION TABLE "public.pub_a t21"',
      'could not execute query: ERROR:  publication "supabase_realtime" already exists',
      'Command was: CREATE PUBLICATION supabase_realtime;',
      'pg_restore:pg_restore:  error: could not execute query: ERROR:  relation "t5_v_idx" already exists',
      'pg_restore: error: pg_restore: COPY failed for table "t9": ERROR:  invalid input syntax for type integer: "42x"',
      'finished item 3776 PUBLICATION TABLE pub_a t20',
      'pg_restore: error:pg_restore:  processing data for table "public.t1"',
      'pg_restore: warning: errors ignored on restore: 6',
    ])
      collector.line(line);
    expect(collector.ignored).toBe(1);
    expect(collector.problems()).toEqual([
      { kind: 'other', message: 'relation "t5_v_idx" already exists', count: 1 },
      { kind: 'other', message: 'COPY failed for table "t9": ERROR:  invalid input syntax for type integer: (value hidden)', count: 1 },
    ]);
    expect(restoreError('pg_restore: error: could not read from input file: end of file')).toBe('could not read from input file: end of file');
    expect(restoreError('pg_restore: creating TABLE "public.t1"')).toBeUndefined();
  });

  it('reads an archive listing (pg_restore -l)', () => {
    const toc = parseTocList(
      [
        ';',
        '; Archive created at 2025-01-01 00:00:00 UTC',
        '5; 2615 16385 SCHEMA - app postgres',
        '2; 3079 16390 EXTENSION - pgcrypto -',
        '215; 1259 16386 TABLE app t1 postgres',
        '3001; 0 16386 TABLE DATA app t1 supabase_admin',
      ].join('\n'),
    );
    expect(toc).toEqual({
      tables: [{ id: 3001, schema: 'app', name: 't1' }],
      extensions: ['pgcrypto'],
      schemas: ['app'],
      owners: ['postgres', 'supabase_admin'],
    });
  });
});

/** A keyed digest of `rows` rows in one range, its hashes made of `fill`. */
function keyed(rows: number, fill: string): KeyedChecksum {
  const sha256 = fill.repeat(64);
  return { key: ['id'], columns: ['id', 'name'], rows, sha256, rangeRows: 10, ranges: [{ rows, sha256, from: '1', to: String(rows) }] };
}

function facts(overrides: Partial<DatabaseFacts> = {}): DatabaseFacts {
  return {
    serverVersion: '15.8',
    tables: [
      { schema: 'public', name: 'trips', rows: 10, rls: true, forceRls: false },
      { schema: 'public', name: 'notes', rows: 3, rls: false, forceRls: false },
    ],
    keyedChecksums: { 'public.trips': keyed(10, 'a') },
    checksumTablesWithoutKey: [],
    extensions: { plpgsql: '1.0', vector: '0.7.0', pg_graphql: '1.5.0' },
    policyCount: 4,
    triggerCount: 2,
    migrationVersion: { table: 'supabase_migrations.schema_migrations', version: '20250127090000' },
    databaseSettings: ['app.webhook_hmac_secret'],
    excludedSchemas: [],
    ...overrides,
  };
}

describe('comparing source and copy', () => {
  it('passes identical facts', () => {
    const { findings, checks } = compareFacts(
      facts(),
      { ...facts(), databaseSettings: ['app.webhook_hmac_secret'] },
      { checksumTables: ['public.trips'], platformExtensionsExpectedMissing: false },
    );
    expect(findings).toEqual([]);
    expect(checks.every((c) => c.status === 'pass')).toBe(true);
  });

  it('names every difference', () => {
    const copy = facts({
      tables: [{ schema: 'public', name: 'trips', rows: 9, rls: false, forceRls: false }],
      keyedChecksums: { 'public.trips': keyed(9, 'b') },
      extensions: { plpgsql: '1.0' },
      policyCount: 2,
      triggerCount: 1,
      migrationVersion: { table: 'supabase_migrations.schema_migrations', version: '20250125120000' },
      databaseSettings: [],
    });
    const { findings } = compareFacts(facts(), copy, { checksumTables: ['trips', 'public.nope'], platformExtensionsExpectedMissing: true });
    expect(findings.map((f) => `${f.rule} ${f.object.kind}:${f.object.schema ? `${f.object.schema}.` : ''}${f.object.name}`)).toEqual([
      'drill_row_count_mismatch table:public.trips',
      'drill_table_missing table:public.notes',
      'drill_checksum_table_mismatch table:public.trips',
      'drill_checksum_table_unknown table:public.nope',
      'drill_extension_missing extension:vector',
      'drill_rls_mismatch table:public.trips',
      'drill_rls_mismatch database:policies',
      'drill_trigger_count_mismatch database:triggers',
      'drill_migration_version_mismatch table:supabase_migrations.schema_migrations',
      'drill_settings_not_restored database:settings',
    ]);
    expect(findings[0]!.message).toBe('Table public.trips has 9 rows in the copy but 10 in the source (-1).');
  });
});

describe('keyed checksums', () => {
  const range = (fill: string, from?: number, rows = 10) => ({
    rows,
    sha256: fill.repeat(64),
    ...(from ? { from: String(from), to: String(from + rows - 1) } : {}),
  });
  const digest = (fills: string, integerKey = true): KeyedChecksum => ({
    key: ['id'],
    columns: ['id', 'v'],
    rows: 30,
    sha256: fills.repeat(64).slice(0, 64),
    rangeRows: 10,
    ranges: [...fills].map((fill, i) => range(fill, integerKey ? 1 + i * 10 : undefined)),
  });

  it('names the key ranges that differ, by row positions when the key is not an integer', () => {
    expect(checksumDifference(digest('abc'), digest('abc'))).toBeUndefined();
    expect(checksumDifference(digest('abc'), digest('afc'))).toBe('1 of 3 range(s) of 10 rows differ (keys 11–20); the other 2 match');
    expect(checksumDifference(digest('abc', false), digest('afc', false))).toBe(
      '1 of 3 range(s) of 10 rows differ (rows 11–20 in key order); the other 2 match',
    );
    const lost = { ...digest('afd'), rows: 29, ranges: [range('a', 1), range('f', 11), range('d', 21, 9)] };
    expect(checksumDifference(digest('abc'), lost)).toBe(
      'the copy has 1 row(s) fewer; the first of 3 range(s) of 10 rows that differs is keys 11–20 (the ranges after it are shifted, so not compared)',
    );
    const extra = { ...digest('abcd'), rows: 31, ranges: [range('a', 1), range('b', 11), range('c', 21), range('d', 31, 1)] };
    expect(checksumDifference(digest('abc'), extra)).toMatch(/1 row\(s\) more; the first .* is the rows after the source's last \(from row 31 in key order\)/);
  });

  it("reads an older manifest's summed checksums without comparing them, and names a table without a key", () => {
    const old = compareFacts(facts({ keyedChecksums: {}, checksums: { 'public.trips': '10/123' } }), facts(), {
      checksumTables: ['public.trips'],
      platformExtensionsExpectedMissing: false,
    });
    expect(old.findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['drill_checksum_not_compared notice']);
    expect(old.checks.find((c) => c.check === 'key checksums')?.status).toBe('skipped');
    const keyless = compareFacts(facts({ keyedChecksums: {}, checksumTablesWithoutKey: ['public.trips'] }), facts({ keyedChecksums: {} }), {
      checksumTables: ['public.trips'],
      platformExtensionsExpectedMissing: false,
    });
    expect(keyless.findings.map((f) => f.rule)).toEqual(['drill_checksum_table_no_key']);
    expect(keyless.findings[0]!.message).toMatch(/public\.trips, which has no primary key/);
  });
});

describe('smoke query expectations', () => {
  it('checks rows, rows-at-least, equals and no-error', () => {
    expect(smokeMismatch('no-error', [])).toBeUndefined();
    expect(smokeMismatch({ rows: 2 }, [{}, {}])).toBeUndefined();
    expect(smokeMismatch({ rows: 2 }, [{}])).toBe('returned 1 row(s), expected exactly 2');
    expect(smokeMismatch({ 'rows-at-least': 1 }, [])).toBe('returned 0 row(s), expected at least 1');
    expect(smokeMismatch({ equals: 5000 }, [{ count: '5000' }])).toBeUndefined();
    expect(smokeMismatch({ equals: true }, [{ ok: true }])).toBeUndefined();
    expect(smokeMismatch({ equals: null }, [{ v: null }])).toBeUndefined();
    expect(smokeMismatch({ equals: 'x' }, [{ v: 'a private value' }])).toBe('returned a text of 15 characters, expected a text of 1 characters');
  });
});

describe('drill log', () => {
  const entry = (days: number, status: DrillLogEntry['status']): DrillLogEntry => ({
    drill_id: String(days),
    started_at: new Date(Date.UTC(2025, 0, 31) - days * 86_400_000).toISOString(),
    finished_at: '',
    status,
    trigger: 'schedule',
    runner: 'r',
    source: { kind: 'file', label: 'x', format: 'custom' },
    rto_ms: 1000 * days,
    phases: {},
    checks: { passed: 3, failed: status === 'pass' ? 0 : 1, skipped: 0 },
    findings: { error: 0, warning: 0, notice: 0 },
  });
  it('measures days since the newest green drill and lists the last drills newest first', () => {
    const entries = [entry(10, 'pass'), entry(5, 'pass'), entry(1, 'fail')];
    expect(daysSinceGreen(entries, new Date(Date.UTC(2025, 0, 31)))).toBe(5);
    expect(daysSinceGreen([entry(1, 'error')], new Date())).toBeUndefined();
    expect(historyRows(entries, 2).map((r) => r.status)).toEqual(['fail', 'pass']);
    expect(historyRows(entries)[0]).toMatchObject({ source: 'file (custom)', rto_ms: 1000, failed_checks: 1 });
  });
});

describe('masking and export', () => {
  it('reads table.column and schema.table.column keys', () => {
    expect(parseMaskRules({ 'profiles.email': 'email', 'auth.users.phone': 'null' })).toEqual([
      { schema: 'public', table: 'profiles', column: 'email', method: 'email' },
      { schema: 'auth', table: 'users', column: 'phone', method: 'null' },
    ]);
    expect(() => parseMaskRules({ email: 'hash' })).toThrow(/drill\.mask\.email` is not "table\.column"/);
  });
  it('picks the export format from the path', () => {
    expect(exportFormatArgs('staging.sql.gz', 2)).toEqual(['-Fp', '-Z', '6']);
    expect(exportFormatArgs('staging.sql', 2)).toEqual(['-Fp']);
    expect(exportFormatArgs('out/', 3)).toEqual(['-Fd', '-j', '3']);
    expect(exportFormatArgs('staging.dump', 2)).toEqual(['-Fc']);
  });
});

describe('restore target major', () => {
  it("prefers the asked-for major, then the source's, then the nearest newer one installed", () => {
    const base = { targetIsDisposable: false, shadow: 'auto' as const };
    expect(chooseMajor({ ...base, requestedMajor: 15, sourceMajor: 17 }, [15, 17])).toEqual({ major: 15 });
    expect(chooseMajor({ ...base, sourceMajor: 15 }, [15, 17])).toEqual({ major: 15 });
    expect(chooseMajor({ ...base, sourceMajor: 16 }, [15, 17])).toEqual({ major: 17, note: expect.stringMatching(/restored into PostgreSQL 17/) });
    expect(chooseMajor({ ...base, shadow: 'docker', sourceMajor: 16 }, [15, 17])).toEqual({ major: 16 });
    expect(chooseMajor(base, [15, 17])).toEqual({});
  });
});

describe('client tool versions', () => {
  it("reads --version output and pg_dump's version-mismatch refusal", () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n')).toEqual({ major: 15, version: '15.18' });
    expect(parseToolVersion('psql (PostgreSQL) 17beta1')).toEqual({ major: 17, version: '17' });
    expect(
      parseVersionMismatch(
        'pg_dump: error: aborting because of server version mismatch\npg_dump: detail: server version: 17.2; pg_dump version: 16.4 (Ubuntu 16.4-1)\n',
      ),
    ).toEqual({ server: '17.2', tool: '16.4' });
  });
});

describe('restore progress on the log', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports tables and bytes at most every 5 s, with the totals', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const lines: string[] = [];
    const progress = new Progress({ info: (m) => lines.push(m), warn: () => undefined, step: (_n, fn) => fn() }, 50, 2 * 1024 ** 3);
    progress.table(512 * 1024 ** 2);
    progress.table(512 * 1024 ** 2);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(5001);
    progress.table(256 * 1024 ** 2);
    expect(lines).toEqual([expect.stringMatching(/^restoring: 3\/50 tables, 1\.3 GB of 2\.0 GB \(5\.0 s\)$/)]);
    progress.add(1024);
    expect(lines).toHaveLength(1);
    expect(progress.done).toEqual({ tables: 3, bytes: 1.25 * 1024 ** 3 + 1024 });
  });
});
