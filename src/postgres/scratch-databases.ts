/**
 * Scratch databases postgate makes on a server the user gives (`shadow-database-url`,
 * `target-database-url`). Each carries a comment naming its maker (host, process, time), so
 * that what a killed run left behind can be dropped later: by the action's post step, or by
 * the next run against the same server. Nothing else on the server is ever touched.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ClientBase } from 'pg';
import { isAlive } from './ephemeral/registry.ts';
import { quoteIdent, quoteLiteral } from './connect.ts';

export type ScratchKind = 'postgate_scratch_' | 'postgate_drill_';
const KINDS: readonly ScratchKind[] = ['postgate_scratch_', 'postgate_drill_'];

/** Older than this, a scratch database is stale whoever made it: no gate runs for two days. */
const STALE_AFTER_MS = 48 * 3600 * 1000;

/** This process's run: its scratch databases carry it, and the action's post step finds them by it. */
export const RUN_TOKEN = randomUUID();

/** Creates `<kind><random>` and signs it with its maker; returns the name. */
export async function createScratchDatabase(admin: ClientBase, kind: ScratchKind): Promise<string> {
  const name = `${kind}${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  try {
    const note = `made by postgate: run=${RUN_TOKEN} host=${os.hostname()} pid=${process.pid} created=${new Date().toISOString()}`;
    await admin.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(note)}`);
  } catch (error) {
    // unsigned, no reaper would ever drop it
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => undefined);
    throw error;
  }
  return name;
}

/**
 * Drops the scratch databases this role may drop that killed runs left behind: those of
 * `run` (the action's main step, whatever its state), and, when no session uses them,
 * those made on this host by a process that is gone and any older than two days (a process
 * id alone can name another container's live run). Returns how many were dropped.
 */
export async function reapScratchDatabases(admin: ClientBase, options: { run?: string; now?: number } = {}): Promise<number> {
  const { rows } = await admin.query<{ name: string; note: string | null }>(
    `select d.datname as name, pg_catalog.shobj_description(d.oid, 'pg_database') as note
       from pg_catalog.pg_database d
      where d.datname ~ $1 and pg_catalog.pg_has_role(d.datdba, 'MEMBER')`,
    [`^(${KINDS.join('|')})[0-9a-f]{12}$`],
  );
  const now = options.now ?? Date.now();
  let dropped = 0;
  for (const { name, note } of rows) {
    const maker = /^made by postgate: run=(\S+) host=(\S+) pid=(\d+) created=(\S+)$/.exec(note ?? '');
    if (!maker) continue;
    const [, run, host, pid, created] = maker;
    const ours = run === options.run;
    const leftHere = host === os.hostname() && !isAlive(Number(pid));
    const stale = now - Date.parse(created!) > STALE_AFTER_MS;
    if (!ours && !leftHere && !stale) continue;
    try {
      // without FORCE, a database some session still uses is left alone
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${ours ? ' WITH (FORCE)' : ''}`);
      dropped += 1;
    } catch {
      // dropped meanwhile, or in use: a later run tries again
    }
  }
  return dropped;
}
