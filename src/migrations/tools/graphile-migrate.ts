/**
 * graphile-migrate: `committed/<000001>[-message].sql` with `--! Previous:` / `--! Hash:`
 * headers (graphile/migrate src/migration.ts), history in graphile_migrate.migrations (hash
 * PK, previous_hash, filename, date); each hash covers the previous hash and the body, a chain.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { graphileHash } from '../checksums.ts';
import type { Migration } from '../types.ts';
import { build, cellText, type FileProblem, follow, list, problem, type ReadContext, textOf } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';

/** graphile-migrate committed files: `--! Key: value` header lines, a blank line, then the body. */
export function parseGraphileFile(raw: string): { headers: Record<string, string>; body: string; bodyOffset: number } | undefined {
  const headers: Record<string, string> = {};
  let offset = 0;
  while (raw.startsWith('--! ', offset)) {
    const end = raw.indexOf('\n', offset);
    if (end === -1) return undefined;
    const line = raw.slice(offset + 4, end);
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    offset = end + 1;
  }
  if (raw[offset] !== '\n') return undefined;
  return { headers, body: raw.slice(offset + 1), bodyOffset: offset + 1 };
}

/** graphile-migrate's own checks on committed files: each hash matches its body and the chain is unbroken. */
export function graphileChainProblems(migrations: Migration[]): Array<{ migration: Migration; problem: string }> {
  const out: Array<{ migration: Migration; problem: string }> = [];
  let previous: Migration | undefined;
  for (const migration of migrations) {
    if (!migration.header) continue;
    const expected = graphileHash(migration.sql, migration.header.previousHash);
    if (expected !== migration.header.hash) {
      out.push({ migration, problem: `its body no longer matches its \`--! Hash:\` header (${migration.header.hash}, body hashes to ${expected})` });
    }
    const wantedPrevious = previous?.header?.hash ?? null;
    if (migration.header.previousHash !== wantedPrevious) {
      out.push({
        migration,
        problem: `its \`--! Previous:\` is ${migration.header.previousHash ?? '-'} but the migration before it has hash ${wantedPrevious ?? '(none)'}`,
      });
    }
    previous = migration;
  }
  return out;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const graphileMigrate: MigrationToolAdapter = {
  id: 'graphile-migrate',
  title: 'graphile-migrate',
  defaultDirs: ['migrations'],
  detect: (folder) =>
    path.basename(folder.dir) === 'committed' || folder.listing.dirs.includes('committed') ? { tool: 'graphile-migrate', detection: 'strong' } : undefined,
  read(ctx) {
    const committed = path.basename(ctx.dir) === 'committed' ? ctx.dir : path.join(ctx.dir, 'committed');
    const inner: ReadContext = { ...ctx, dir: committed };
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    if (!existsSync(committed) || follow(ctx.guard, committed) !== 'dir') return { migrations, problems };
    for (const file of list(committed, ctx.guard).files) {
      if (!file.endsWith('.sql')) continue;
      if (!/^[0-9]{6,}(-[-_a-zA-Z0-9]*)?\.sql$/.test(file)) {
        problems.push(
          problem(
            inner,
            file,
            `\`${file}\` does not match 000001[-message].sql, so graphile-migrate ignores it; commit migrations with \`graphile-migrate commit\`.`,
          ),
        );
        continue;
      }
      const raw = textOf(ctx, path.join(committed, file));
      const parsed = parseGraphileFile(raw);
      const hash = parsed?.headers.Hash;
      if (!parsed || !hash || parsed.headers.Previous === undefined) {
        problems.push(
          problem(
            inner,
            file,
            `\`${file}\` lacks the \`--! Previous:\` / \`--! Hash:\` header, so graphile-migrate refuses it; re-commit it with \`graphile-migrate commit\`.`,
          ),
        );
        continue;
      }
      const previous = parsed.headers.Previous;
      migrations.push(
        build(
          'graphile-migrate',
          inner,
          file,
          {
            id: file,
            version: /^\d+/.exec(file)![0],
            name: parsed.headers.Message ?? '',
            sql: parsed.body,
            sqlOffset: parsed.bodyOffset,
            noTransaction: /^--!\s*no-transaction\b/.test(parsed.body),
            header: { hash, previousHash: previous && previous !== '-' ? previous : null },
          },
          raw,
        ),
      );
    }
    return { migrations: migrations.sort((a, b) => a.id.localeCompare(b.id)), problems };
  },
  compareVersions: byText,
  // File names are their own ids, so two cannot collide (the hash chain catches two files claiming one place).
  duplicateEffect: () => 'graphile-migrate cannot tell them apart',
  history: {
    schema: 'graphile_migrate',
    table: 'migrations',
    columns: ['hash', 'previous_hash', 'filename'],
    privateSchema: 'graphile_migrate',
    async read(query) {
      const rows = await query((t) => `select filename, hash, previous_hash, date from ${t} order by filename`);
      return {
        entries: rows.map((r) => ({
          id: String(r.filename),
          version: /^\d+/.exec(String(r.filename))?.[0] ?? String(r.filename),
          checksum: cellText(r.hash),
          previousHash: cellText(r.previous_hash),
          success: true,
          appliedAt: cellText(r.date),
          kind: 'versioned',
        })),
      };
    },
  },
  matchesHistory(m, entry) {
    if (!entry.checksum || !m.header) return undefined;
    const body = graphileHash(m.sql, m.header.previousHash);
    if (body !== entry.checksum) return { same: false, why: `the body hashes to ${body}, the history recorded ${entry.checksum}` };
    return { same: true, why: '' };
  },
  chainProblems: graphileChainProblems,
  advisoryLock: { keys: () => [4727445306447283n], source: 'src/pgReal.ts ADVISORY_LOCK_MIGRATE ("GRAPHILE MIGRATE" on a phone keypad), pg_try_advisory_lock' },
};
