/**
 * Flyway: `V<version>__<desc>.sql`, `R__<desc>.sql`, `U...` (flyway resource naming), history
 * in flyway_schema_history (flyway-core createMetaDataTable.sql: installed_rank ... success),
 * checksum CRC32 per line.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { flywayChecksum } from '../checksums.ts';
import type { HistoryEntry, Migration } from '../types.ts';
import { build, cellText, compareNumeric, type FileProblem, listRecursive, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';
import { flywayLockKey } from './lock-keys.ts';
import { siblingText } from './rollback.ts';

/** Flyway versions: dot- or underscore-separated numbers, compared part by part; trailing zero parts do not count. */
export function normalizeFlywayVersion(version: string): string {
  const parts = version.split(/[._]/).map((part) => (/^\d+$/.test(part) ? BigInt(part).toString() : part));
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  return parts.join('.');
}

export function compareFlywayVersions(a: string, b: string): number {
  const x = normalizeFlywayVersion(a).split('.');
  const y = normalizeFlywayVersion(b).split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = compareNumeric(x[i] ?? '0', y[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

export const flyway: MigrationToolAdapter = {
  id: 'flyway',
  title: 'Flyway',
  defaultDirs: ['db/migration', 'src/main/resources/db/migration'],
  // Flyway's resource reader strips a byte order mark.
  dropsBom: true,
  detect(folder) {
    const flywayish = folder.allFiles().filter((f) => /(^|\/)[VR][^/]*__[^/]*\.sql$/.test(f));
    return flywayish.length && flywayish.length * 2 >= folder.sql.length ? { tool: 'flyway', detection: 'strong' } : undefined;
  },
  read(ctx) {
    const versioned: Migration[] = [];
    const repeatable: Migration[] = [];
    const problems: FileProblem[] = [];
    for (const file of listRecursive(ctx.dir, ctx.guard)) {
      if (!file.endsWith('.sql')) continue;
      const base = path.posix.basename(file);
      const match = /^([VUR])([^_]*(?:_(?!_)[^_]*)*)__(.+)\.sql$/.exec(base);
      if (!match || (match[1] === 'V' && !/^\d+([._]\d+)*$/.test(match[2]!)) || (match[1] === 'R' && match[2] !== '')) {
        problems.push(problem(ctx, file, `\`${base}\` does not match V<version>__<description>.sql or R__<description>.sql, so Flyway ignores it; rename it.`));
        continue;
      }
      if (match[1] === 'U') continue; // undo migrations (Teams edition) are not part of the forward history
      const description = match[3]!.replace(/_/g, ' ');
      if (match[1] === 'R') {
        repeatable.push(build('flyway', ctx, file, { id: `R:${description}`, version: '', name: description, kind: 'repeatable' }));
      } else {
        versioned.push(build('flyway', ctx, file, { id: normalizeFlywayVersion(match[2]!), version: match[2]!.replace(/_/g, '.'), name: description }));
      }
    }
    versioned.sort((a, b) => compareFlywayVersions(a.version, b.version));
    repeatable.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { migrations: [...versioned, ...repeatable], problems };
  },
  compareVersions: compareFlywayVersions,
  sharedKey: (m) => (m.kind === 'repeatable' ? `description ${m.name}` : `version ${m.id}`),
  duplicateEffect: (repeatable) =>
    `Flyway refuses to migrate at all (it finds more than one ${repeatable ? 'repeatable migration with that description' : 'migration with that version'})`,
  history: {
    table: 'flyway_schema_history',
    columns: ['installed_rank', 'version', 'type', 'script', 'checksum', 'success'],
    async read(query) {
      const rows = await query(
        (t) => `select installed_rank, version, description, type, script, checksum, success, installed_on from ${t} order by installed_rank`,
      );
      const entries = new Map<string, HistoryEntry>();
      let baselineVersion: string | undefined;
      for (const r of rows) {
        const type = String(r.type);
        if (type === 'SCHEMA') continue;
        if (type === 'BASELINE' || type === 'JDBC_BASELINE' || type === 'SQL_BASELINE') {
          if (r.version !== null) baselineVersion = String(r.version);
          continue;
        }
        const repeatable = r.version === null;
        const id = repeatable ? `R:${String(r.description)}` : normalizeFlywayVersion(String(r.version));
        if (type === 'DELETE' || type.startsWith('UNDO')) {
          entries.delete(id);
          continue;
        }
        entries.set(id, {
          id,
          version: repeatable ? '' : String(r.version),
          name: String(r.description),
          checksum: r.checksum === null ? null : String(r.checksum),
          success: Boolean(r.success),
          appliedAt: cellText(r.installed_on),
          kind: repeatable ? 'repeatable' : 'versioned',
        });
      }
      return { entries: [...entries.values()], ...(baselineVersion ? { baselineVersion } : {}) };
    },
  },
  matchesHistory(m, entry) {
    if (entry.checksum === null || entry.checksum === undefined) return undefined;
    const local = flywayChecksum(m.raw);
    return { same: String(local) === entry.checksum, why: `Flyway CRC32 checksum of the file is ${local}, the history has ${entry.checksum}` };
  },
  outOfOrderConsequence: 'Flyway refuses it unless outOfOrder is enabled',
  rollback: {
    form: 'an undo migration `U<version>__<description>.sql` next to it (Flyway Teams)',
    downOf(m) {
      const undo = readdirSync(path.dirname(m.absolutePath)).find((name) => {
        const match = /^U([^_]*(?:_(?!_)[^_]*)*)__.+\.sql$/.exec(name);
        return match !== null && normalizeFlywayVersion(match[1]!) === m.id;
      });
      return undo === undefined ? undefined : siblingText(m, undo);
    },
  },
  advisoryLock: {
    keys: ({ schema, table }) => [flywayLockKey(schema, table)],
    source: 'flyway-database-postgresql PostgreSQLAdvisoryLockTemplate (pg_try_advisory_lock, or pg_try_advisory_xact_lock with postgresql.transactional.lock)',
  },
};
