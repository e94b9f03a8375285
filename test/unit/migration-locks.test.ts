/**
 * The advisory lock keys migration tools hold while they migrate, against values from the
 * tools' own sources (cited per case).
 */
import { describe, expect, it } from 'vitest';
import { migrationLockKeys } from '../../src/migrations/tools/index.ts';
import { flywayLockKey, golangMigrateLockKey, javaHashCode, sqlxLockKey } from '../../src/migrations/tools/lock-keys.ts';

describe('lock key derivations', () => {
  it('golang-migrate: the values of its own test (database/util_test.go TestGenerateAdvisoryLockId)', () => {
    expect(golangMigrateLockKey('database_name')).toBe(1764327054n);
    expect(golangMigrateLockKey('database_name', 'schema_name_1')).toBe(3244152297n);
    expect(golangMigrateLockKey('database_name', 'schema_name_2')).toBe(810103531n);
  });

  it('sqlx: 0x3d32ad9e times CRC-32/ISO-HDLC (sqlx-postgres/src/migrate.rs), whose check value for "123456789" is 0xCBF43926 (crc crate catalog)', () => {
    expect(sqlxLockKey('123456789')).toBe(0x3d32ad9en * 0xcbf43926n);
    expect(sqlxLockKey('123456789')).toBe(3513249314174792564n);
  });

  it('Flyway: 77431708279161 plus the Java hash code of "schema"."table" (PostgreSQLAdvisoryLockTemplate)', () => {
    expect(javaHashCode('hello')).toBe(99162322); // java.lang.String#hashCode, the documented s[0]*31^(n-1) + ... + s[n-1]
    expect(javaHashCode('')).toBe(0);
    expect(flywayLockKey('public', 'flyway_schema_history')).toBe(77431708279161n + BigInt(javaHashCode('"public"."flyway_schema_history"')));
    expect(flywayLockKey('public', 'flyway_schema_history')).toBe(77433833903597n);
  });
});

describe('migrationLockKeys', () => {
  const byTool = (keys: ReturnType<typeof migrationLockKeys>) => Object.fromEntries(keys.map((k) => [k.tool, k.key]));

  it('lists every tool that takes a lock, and none of those that take none', () => {
    const keys = migrationLockKeys('app', 'public');
    expect([...new Set(keys.map((k) => k.tool))].sort()).toEqual([
      'flyway',
      'golang-migrate',
      'goose',
      'graphile-migrate',
      'node-pg-migrate',
      'prisma',
      'sqlx',
    ]);
    expect(byTool(keys)).toMatchObject({
      prisma: 72707369n, // prisma-engines: pg_advisory_lock(72707369)
      'node-pg-migrate': 7241865325823964n, // node-pg-migrate src/runner.ts PG_MIGRATE_LOCK_ID
      'graphile-migrate': 4727445306447283n, // graphile-migrate src/pgReal.ts ADVISORY_LOCK_MIGRATE
      goose: 5887940537704921958n, // goose lock/postgres.go DefaultLockID
      sqlx: sqlxLockKey('app'),
      flyway: flywayLockKey('public', 'flyway_schema_history'),
    });
  });

  it('derives keys from the history table found for the tool, else from its default table in the default schema', () => {
    const golang = (keys: ReturnType<typeof migrationLockKeys>) => keys.filter((k) => k.tool === 'golang-migrate').map((k) => k.key);
    expect(golang(migrationLockKeys('app', 'public'))).toEqual([golangMigrateLockKey('app', 'public', 'schema_migrations'), golangMigrateLockKey('app')]);
    expect(golang(migrationLockKeys('app', 'public', { tool: 'golang-migrate', schema: 'ops', table: 'versions' }))).toEqual([
      golangMigrateLockKey('app', 'ops', 'versions'),
      golangMigrateLockKey('app'),
    ]);
    const flyway = migrationLockKeys('app', 'public', { tool: 'flyway', schema: 'meta', table: 'flyway_schema_history' }).find((k) => k.tool === 'flyway');
    expect(flyway?.key).toBe(flywayLockKey('meta', 'flyway_schema_history'));
  });
});
