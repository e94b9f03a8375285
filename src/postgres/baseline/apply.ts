import type { ClientBase } from 'pg';
import { UserError } from '../../errors.ts';
import { quoteIdent } from '../connect.ts';
import { standInNamed } from '../extensions/stand-ins/index.ts';
import { BASELINE_SECTIONS, type BaselineSection, SUPABASE_EXTENSIONS } from './supabase.ts';

export interface ApplySupabaseBaselineOptions {
  /**
   * Extensions the project itself needs (for example the names found by
   * `findCreatedExtensions()` in its migrations). They are not created here; the
   * ones this server cannot provide are added to `missingExtensions`.
   */
  requiredExtensions?: readonly string[];
}

export interface SupabaseBaselineResult {
  /**
   * Extensions Supabase pre-installs (then any `requiredExtensions`) that this
   * server does not have, in that order, without duplicates. Report them by name:
   * a shadow database without them is not a faithful copy of the platform.
   */
  missingExtensions: string[];
  /** Pre-installed contrib extensions present in the database after the baseline. */
  installedExtensions: string[];
  /** Sections that stand in for a platform extension as plain SQL, not as an extension (graphql_public; net and vault on a server without stand-ins). */
  standIns: string[];
}

interface ExtensionRow {
  name: string;
  installed: boolean;
}

/**
 * Gives the connected database what the Supabase platform provides before a
 * project's migrations run (see ./supabase.ts). Must run as a superuser, outside
 * any open transaction; the SQL runs in one transaction of its own, so it either
 * applies completely or not at all. Idempotent.
 *
 * Afterwards the session's search_path is `"$user", public, extensions`, like a
 * fresh session in the database (whose default the baseline also sets).
 */
export async function applySupabaseBaseline(client: ClientBase, options: ApplySupabaseBaselineOptions = {}): Promise<SupabaseBaselineResult> {
  const who = await client.query<{ user_name: string; database: string; is_super: boolean }>(
    `select current_user as user_name, current_database() as database,
            coalesce((select rolsuper from pg_catalog.pg_roles where rolname = current_user), false) as is_super`,
  );
  const session = who.rows[0];
  if (!session?.is_super) {
    throw new UserError(
      `The Supabase baseline needs a superuser but the shadow database session is role "${session?.user_name ?? '?'}"; connect the shadow database as postgres (or another superuser).`,
    );
  }

  const available = await readExtensions(client);
  const installedBefore = new Set(available.filter((e) => e.installed).map((e) => e.name));
  const availableBefore = new Set(available.map((e) => e.name));
  const sections: BaselineSection[] = BASELINE_SECTIONS.filter(
    (section) => !('standInFor' in section && section.standInFor && installedBefore.has(section.standInFor)),
  );
  const plainStandIns: string[] = [];
  const sql = sections
    .map((section) => {
      if ('sql' in section) {
        if (section.standInFor) plainStandIns.push(section.name);
        return section.sql;
      }
      if (availableBefore.has(section.extension)) {
        return `create extension if not exists "${section.extension}"${section.withSchema ? ` with schema "${section.withSchema}"` : ''};`;
      }
      const standIn = standInNamed(section.extension);
      if (!standIn) return '';
      plainStandIns.push(section.name);
      return standInAsPlainSql(standIn.sql, standIn.schema ?? section.withSchema ?? 'public');
    })
    .join('\n');

  await client.query('begin');
  try {
    await client.query(sql);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    throw new UserError(
      `Could not apply the Supabase baseline to database "${session.database}": ${message}; use an empty database for the shadow, or report this as a postgate bug if it was empty.`,
      { cause: error },
    );
  }

  const after = await readExtensions(client);
  const availableNames = new Set(after.map((e) => e.name));
  const installedAfter = new Set(after.filter((e) => e.installed).map((e) => e.name));

  const wanted = [...SUPABASE_EXTENSIONS.map((e) => e.name), ...(options.requiredExtensions ?? [])];
  const missingExtensions = [...new Set(wanted)].filter((name) => !availableNames.has(name));
  const installedExtensions = SUPABASE_EXTENSIONS.filter((e) => e.createdByBaseline && installedAfter.has(e.name)).map((e) => e.name);
  return { missingExtensions, installedExtensions, standIns: plainStandIns };
}

/**
 * A stand-in's install script run as plain SQL, for a server postgate cannot give its
 * stand-ins (`shadow: url`): the schema made first, `@extschema@` resolved, and the calls
 * only CREATE EXTENSION may make left out.
 */
function standInAsPlainSql(script: string, schema: string): string {
  const quoted = quoteIdent(schema);
  return [
    `create schema if not exists ${quoted};`,
    `set local search_path = ${quoted}, extensions, public;`,
    script.replaceAll('@extschema@', quoted).replace(/select\s+(?:pg_catalog\.)?pg_extension_config_dump\s*\([^;]*\);/gi, ''),
    'set local search_path = "$user", public, extensions;',
  ].join('\n');
}

async function readExtensions(client: ClientBase): Promise<ExtensionRow[]> {
  // pg_available_extensions lists what the server can create; pg_extension what
  // this database has (an installed extension whose files are gone still counts).
  const result = await client.query<ExtensionRow>(
    `select a.name::text as name, (a.installed_version is not null) as installed
       from pg_catalog.pg_available_extensions a
     union
     select e.extname::text, true from pg_catalog.pg_extension e`,
  );
  return result.rows;
}

/**
 * Names of the extensions a SQL script creates (`create extension [if not exists]
 * name`), in order of first appearance. Comments and string literals are ignored;
 * quoted names are unquoted. Meant for migrations, to pass as `requiredExtensions`.
 */
export function findCreatedExtensions(sqlText: string): string[] {
  const code = stripCommentsAndStrings(sqlText);
  const pattern = /\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$-]*)/gi;
  const names: string[] = [];
  for (const match of code.matchAll(pattern)) {
    const raw = match[1] ?? '';
    const name = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw.toLowerCase();
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Blanks out comments, string literals and dollar-quoted bodies (keeps quoted identifiers). */
function stripCommentsAndStrings(sqlText: string): string {
  let out = '';
  let i = 0;
  while (i < sqlText.length) {
    const rest = sqlText.slice(i);
    if (rest.startsWith('--')) {
      const end = sqlText.indexOf('\n', i);
      i = end === -1 ? sqlText.length : end;
      out += ' ';
    } else if (rest.startsWith('/*')) {
      let depth = 0;
      let j = i;
      while (j < sqlText.length) {
        if (sqlText.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sqlText.startsWith('*/', j)) {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      i = j;
      out += ' ';
    } else if (rest.startsWith("'")) {
      let j = i + 1;
      while (j < sqlText.length) {
        if (sqlText[j] === "'" && sqlText[j + 1] === "'") j += 2;
        else if (sqlText[j] === "'") break;
        else j++;
      }
      i = j + 1;
      out += "''";
    } else {
      const dollar = /^\$([a-z_][a-z0-9_]*)?\$/i.exec(rest);
      if (dollar && !/[a-z0-9_]/i.test(sqlText[i - 1] ?? '')) {
        const end = sqlText.indexOf(dollar[0], i + dollar[0].length);
        i = end === -1 ? sqlText.length : end + dollar[0].length;
        out += ' ';
      } else {
        out += sqlText[i];
        i++;
      }
    }
  }
  return out;
}
