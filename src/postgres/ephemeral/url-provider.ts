/**
 * The `url` provider: a server the user gives (`shadow-database-url`). postgate creates
 * scratch databases named `postgate_scratch_<random>` on it and drops them afterwards, and
 * first drops those a killed run left there (see ../scratch-databases.ts).
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../../errors.ts';
import { connect, quoteIdent } from '../connect.ts';
import { createScratchDatabase, reapScratchDatabases } from '../scratch-databases.ts';
import { parseDatabaseUrl, withDatabase } from '../url.ts';
import { track, untrack } from './registry.ts';
import type { Cluster } from './types.ts';

const INPUT = 'shadow-database-url';

export async function startUrlCluster(options: { shadowDatabaseUrl?: string; major?: number }): Promise<Cluster> {
  if (!options.shadowDatabaseUrl) {
    throw new UserError(
      '`shadow: url` needs input `shadow-database-url` (a server where postgate may create and drop scratch databases); set it or use `shadow: auto`.',
    );
  }
  const serverUrl = options.shadowDatabaseUrl;
  parseDatabaseUrl(serverUrl, INPUT);
  const admin = await connect(serverUrl, { gate: 'shadow', readOnly: false, inputName: INPUT });
  let version: string;
  try {
    version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v.split(' ')[0] ?? '';
    const canCreate = (await admin.query<{ ok: boolean }>('select rolcreatedb or rolsuper as ok from pg_roles where rolname = current_user')).rows[0]?.ok;
    if (!canCreate) {
      throw new UserError(`The role in \`${INPUT}\` cannot create databases; grant it CREATEDB (ALTER ROLE ... CREATEDB) or use \`shadow: local\`.`);
    }
    await reapScratchDatabases(admin).catch(() => 0);
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }
  const major = Number(version.split('.')[0]);
  if (options.major !== undefined && options.major !== major) {
    await admin.end().catch(() => undefined);
    throw new UserError(
      `\`${INPUT}\` runs PostgreSQL ${major} but ${options.major} was asked for; point it at a PostgreSQL ${options.major} server or drop \`postgres-version\`.`,
    );
  }

  const id = `url-${randomUUID()}`;
  const databases: string[] = [];
  const dropAll = async () => {
    for (const name of databases.splice(0)) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= dropAll().finally(async () => {
      await admin.end().catch(() => undefined);
      untrack(id);
    });
    return stopping;
  };
  track({ record: { id, ownerPid: process.pid, createdAt: new Date().toISOString() }, stop, stopSync: () => undefined });

  const createDatabase = async (name?: string) => {
    let database = name;
    if (database) await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    else database = await createScratchDatabase(admin, 'postgate_scratch_');
    databases.push(database);
    return withDatabase(serverUrl, database);
  };
  try {
    const url = await createDatabase();
    return { provider: 'url', url, adminUrl: url, asAdmin: (database) => database, profile: 'postgres', standIns: [], major, version, createDatabase, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
