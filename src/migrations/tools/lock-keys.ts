/**
 * How migration tools turn names into the 64-bit key of the PostgreSQL advisory lock they hold
 * while they migrate (pg_advisory_lock(bigint)). Each adapter's `advisoryLock` record says which
 * derivation it uses; the unit tests pin the values the tools' own sources give.
 */
import { crc32 } from 'node:zlib';

/** Where a tool takes its lock: the database and its history table (some tools hash them). */
export interface LockPlace {
  database: string;
  schema: string;
  table: string;
}

/** A bigint as PostgreSQL's int8 sees it (two's complement, 64 bits). */
const int64 = (value: bigint): bigint => BigInt.asIntN(64, value);

/** CRC-32 (IEEE) of the UTF-8 bytes. */
const crc = (text: string): number => crc32(Buffer.from(text, 'utf8'));

/**
 * golang-migrate (database/util.go GenerateAdvisoryLockId): CRC-32 of the names joined by NUL
 * bytes, times the salt 1486364155, in 32 unsigned bits.
 */
export function golangMigrateLockKey(...names: string[]): bigint {
  return BigInt(Math.imul(crc(names.join('\0')), 1486364155) >>> 0);
}

/** sqlx (sqlx-postgres/src/migrate.rs generate_lock_id): 0x3d32ad9e times the CRC-32 of the database name, as i64. */
export function sqlxLockKey(database: string): bigint {
  return int64(0x3d32ad9en * BigInt(crc(database)));
}

/** Java's String.hashCode (over UTF-16 code units, 32-bit wrap). */
export function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * Flyway (PostgreSQLAdvisoryLockTemplate): 77431708279161 ("Flyway" in ASCII) plus the Java
 * hash code of the history table's name as Flyway prints it, `"schema"."table"`.
 */
export function flywayLockKey(schema: string, table: string): bigint {
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return int64(77431708279161n + BigInt(javaHashCode(`${quote(schema)}.${quote(table)}`)));
}
