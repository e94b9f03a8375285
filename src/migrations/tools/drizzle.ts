/**
 * drizzle-kit: `<NNNN>_<tag>.sql` listed in meta/_journal.json (drizzle-orm src/migrator.ts),
 * history in drizzle.__drizzle_migrations (src/pg-core/dialect.ts: id serial, hash text,
 * created_at bigint = the journal's `when`). drizzle runs only entries newer than the last
 * applied one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { drizzleChecksumMatches } from '../checksums.ts';
import type { Migration } from '../types.ts';
import { build, cellText, compareNumeric, type FileProblem, follow, list, problem } from './read.ts';
import type { MigrationToolAdapter } from './types.ts';

interface DrizzleJournal {
  entries?: Array<{ idx?: number; when?: number; tag?: string }>;
}

export const drizzle: MigrationToolAdapter = {
  id: 'drizzle',
  title: 'drizzle-kit',
  defaultDirs: ['drizzle'],
  detect: (folder) => (existsSync(path.join(folder.dir, 'meta', '_journal.json')) ? { tool: 'drizzle', detection: 'strong' } : undefined),
  read(ctx) {
    const journalPath = path.join(ctx.dir, 'meta', '_journal.json');
    if (follow(ctx.guard, journalPath) === 'refused') return { migrations: [], problems: [] };
    let journal: DrizzleJournal;
    try {
      journal = JSON.parse(ctx.reader.text(journalPath)) as DrizzleJournal;
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`drizzle journal ${journalPath} is not valid JSON; regenerate it with drizzle-kit generate.`);
    }
    const migrations: Migration[] = [];
    const problems: FileProblem[] = [];
    const listed = new Set<string>();
    for (const entry of [...(journal.entries ?? [])].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0))) {
      if (!entry.tag || typeof entry.when !== 'number') {
        problems.push(
          problem(ctx, 'meta/_journal.json', `A journal entry (idx ${entry.idx ?? '?'}) has no tag or when, so drizzle cannot run it; regenerate the journal.`),
        );
        continue;
      }
      const file = `${entry.tag}.sql`;
      listed.add(file);
      // A tag is text in a file of the pull request: `../../x` must not lead out of the repository either.
      const kind = follow(ctx.guard, path.join(ctx.dir, file));
      if (kind === 'refused') continue;
      if (kind !== 'file') {
        problems.push(
          problem(
            ctx,
            file,
            `The journal lists \`${file}\` but the file is missing, so drizzle's migrate() fails; restore the file or regenerate the journal.`,
          ),
        );
        continue;
      }
      migrations.push(
        build('drizzle', ctx, file, { id: String(entry.when), version: entry.tag.split('_')[0] ?? entry.tag, name: entry.tag, when: entry.when }),
      );
    }
    for (const file of list(ctx.dir, ctx.guard).files) {
      if (file.endsWith('.sql') && !listed.has(file)) {
        problems.push(
          problem(
            ctx,
            file,
            `\`${file}\` is not listed in meta/_journal.json, so drizzle never runs it; generate migrations with drizzle-kit instead of adding files by hand.`,
          ),
        );
      }
    }
    return { migrations, problems };
  },
  compareVersions: compareNumeric,
  sharedKey: (m) => `journal \`when\` ${m.id}`,
  duplicateEffect: () => "drizzle's migrate() runs only entries newer than the last applied one, so once one is applied the other never runs",
  history: {
    table: '__drizzle_migrations',
    columns: ['hash', 'created_at'],
    privateSchema: 'drizzle',
    async read(query) {
      const rows = await query((t) => `select hash, created_at::text as created_at from ${t} order by created_at, id`);
      return {
        entries: rows.map((r) => ({ id: String(r.created_at), version: String(r.created_at), checksum: cellText(r.hash), success: true, kind: 'versioned' })),
      };
    },
  },
  matchesHistory(m, entry) {
    if (!entry.checksum) return undefined;
    return {
      same: drizzleChecksumMatches(m.raw, entry.checksum),
      why: `SHA-256 of the file does not match the hash ${entry.checksum.slice(0, 16)}... (drizzle itself never checks it)`,
    };
  },
  // drizzle compares the journal's `when` with the newest created_at in its history.
  newestApplied(history) {
    const max = history.entries.reduce((acc, e) => (BigInt(e.id) > acc ? BigInt(e.id) : acc), -1n);
    return max < 0n ? undefined : max.toString();
  },
  isOlder: (m, newest) => BigInt(m.id) <= BigInt(newest),
  outOfOrderConsequence: 'drizzle only runs migrations newer than its last applied one, so it will never run this one',
};
