/**
 * Scratch databases postgate makes on a server the user gives (`shadow-database-url`,
 * `target-database-url`). Each carries a comment naming its maker (host, process, time), so
 * that what a killed run left behind can be dropped later: by the action's post step, or by
 * the next run against the same server. Nothing else on the server is ever touched.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ClientBase } from 'pg';
import { isAlive } from './ephemeral/registry.ts';
import { quoteIdent, quoteLiteral } from './connect.ts';

export type ScratchKind = 'postgate_scratch_' | 'postgate_drill_';
const KINDS: readonly ScratchKind[] = ['postgate_scratch_', 'postgate_drill_'];

/** Older than this, a scratch database is stale whoever made it: no gate runs for two days. */
const STALE_AFTER_MS = 48 * 3600 * 1000;

/** Creates `<kind><random>` and signs it with its maker; returns the name. */
export async function createScratchDatabase(admin: ClientBase, kind: ScratchKind): Promise<string> {
  const name = `${kind}${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  await admin.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(`made by postgate: host=${os.hostname()} pid=${process.pid} created=${new Date().toISOString()}`)}`);
  return name;
}

/**
 * Drops the scratch databases this role may drop that a killed run left behind: those made
 * on this host by a process that is gone (or by `ownerPid`, the action's main step), and any
 * older than two days. Returns how many were dropped; a database it cannot drop is left.
 */
export async function reapScratchDatabases(admin: ClientBase, options: { ownerPid?: number; now?: number } = {}): Promise<number> {
  const { rows } = await admin.query<{ name: string; note: string | null }>(
    `select d.datname as name, pg_catalog.shobj_description(d.oid, 'pg_database') as note
       from pg_catalog.pg_database d
      where d.datname ~ $1 and pg_catalog.pg_has_role(d.datdba, 'MEMBER')`,
    [`^(${KINDS.join('|')})[0-9a-f]{12}$`],
  );
  const now = options.now ?? Date.now();
  let dropped = 0;
  for (const { name, note } of rows) {
    const maker = /^made by postgate: host=(\S+) pid=(\d+) created=(\S+)$/.exec(note ?? '');
    if (!maker) continue;
    const [, host, pid, created] = maker;
    const leftHere = host === os.hostname() && (Number(pid) === options.ownerPid || !isAlive(Number(pid)));
    const stale = now - Date.parse(created!) > STALE_AFTER_MS;
    if (!leftHere && !stale) continue;
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      dropped += 1;
    } catch {
      // dropped meanwhile, or still in use by a session we may not end: the next run tries again
    }
  }
  return dropped;
}
