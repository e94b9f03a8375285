/**
 * Which migration created or last altered each object, recorded while the shadow is
 * built: an event trigger (ddl_command_end) logs every DDL command's object together
 * with the migration being applied (a session setting), all server-side, so the cost
 * is one insert per DDL command. Afterwards one query names the objects the way the
 * catalog model does (src/catalog/types.ts), and the line comes from the statement in
 * the file that names the object where it lives: a policy, trigger, rule, constraint,
 * column or index together with its table (`on <table>`), a table, index or function in
 * its schema (qualified, or unqualified and on the search path in force, which the
 * file's own `set search_path` changes). Columns and constraints, which PostgreSQL logs
 * as a change of their table, are located at the statement of such a change that
 * defines them. The trigger and its schema are dropped before anyone snapshots the shadow.
 */
import type { ClientBase } from 'pg';
import type { SourceLocation } from '../findings/types.ts';
import { firstTokenIndex, lineAt, statementsOf } from './apply.ts';
import type { Migration } from './types.ts';

export const TRACKER_SCHEMA = 'postgate_shadow';
const MIGRATION_SETTING = 'postgate.migration';

export const INSTALL_TRACKER_SQL = `
create schema ${TRACKER_SCHEMA};
create table ${TRACKER_SCHEMA}.ddl_log (
  seq bigserial primary key,
  migration int,
  classid oid,
  objid oid,
  objsubid int,
  command_tag text
);
create function ${TRACKER_SCHEMA}.log_ddl() returns event_trigger
language plpgsql security definer set search_path = pg_catalog as $postgate$
begin
  insert into ${TRACKER_SCHEMA}.ddl_log (migration, classid, objid, objsubid, command_tag)
  select nullif(current_setting('${MIGRATION_SETTING}', true), '')::int, c.classid, c.objid, c.objsubid, c.command_tag
  from pg_catalog.pg_event_trigger_ddl_commands() c;
end
$postgate$;
create event trigger postgate_shadow_ddl on ddl_command_end execute function ${TRACKER_SCHEMA}.log_ddl();
`;

export const REMOVE_TRACKER_SQL = `
drop event trigger if exists postgate_shadow_ddl;
drop schema if exists ${TRACKER_SCHEMA} cascade;
`;

/**
 * Marks migration `index` (its position in the list given to readOrigins; undefined once
 * all are applied) as the one the session applies next, and returns the search path the
 * file starts with: where its unqualified names resolve until it sets its own.
 */
export async function markMigration(session: ClientBase, index: number | undefined): Promise<string> {
  const { rows } = await session.query<{ search_path: string }>(
    `select pg_catalog.set_config('${MIGRATION_SETTING}', $1, false), pg_catalog.current_setting('search_path') as search_path`,
    [index === undefined ? '' : String(index)],
  );
  return rows[0]?.search_path ?? '';
}

/**
 * The last DDL command per object, named like the catalog model names it, with the name a
 * statement spells (`object`, qualified with `object_schema` where it can be) and the
 * relation the object belongs to (`parent` in `parent_schema`). Then, as `derived` rows,
 * every column and constraint of each table a command changed (one row per migration and
 * command): PostgreSQL logs ALTER TABLE ... ADD COLUMN / ADD CONSTRAINT on the table only.
 */
const RESOLVE_SQL = `
with logged as (
  select * from ${TRACKER_SCHEMA}.ddl_log where migration is not null
), last as (
  select distinct on (classid, objid, objsubid) classid, objid, objsubid, migration, command_tag
  from logged
  order by classid, objid, objsubid, seq desc
), touched as (
  select distinct l.migration, l.command_tag, c.oid as relid, c.relname::text as relname, n.nspname::text as nspname
  from logged l join pg_catalog.pg_class c on c.oid = l.objid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where l.classid = 'pg_class'::regclass and l.objsubid = 0 and c.relkind in ('r', 'p', 'v', 'm', 'f')
)
select l.migration, l.command_tag, o.kind, o.schema, o.name, o.object, o.object_schema, o.parent, o.parent_schema, false as derived
from last l
cross join lateral (
  select case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view' when 'm' then 'materialized_view'
                        when 'S' then 'sequence' when 'i' then 'index' when 'I' then 'index' when 'c' then 'composite_type' end as kind,
         n.nspname::text as schema, c.relname::text as name, c.relname::text as object, n.nspname::text as object_schema,
         pc.relname::text as parent, case when pc.relname is not null then pn.nspname::text end as parent_schema
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    -- an index's table, a serial or identity sequence's table
    left join pg_catalog.pg_index i on i.indexrelid = c.oid
    left join pg_catalog.pg_depend d on c.relkind = 'S' and d.classid = 'pg_class'::regclass and d.objid = c.oid
                                     and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0 and d.deptype in ('a', 'i')
    left join pg_catalog.pg_class pc on pc.oid = coalesce(i.indrelid, d.refobjid)
    left join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
   where l.classid = 'pg_class'::regclass and c.oid = l.objid and l.objsubid = 0
  union all
  select 'column', n.nspname, c.relname || '.' || a.attname, a.attname, null, c.relname, n.nspname
    from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_class'::regclass and a.attrelid = l.objid and a.attnum = l.objsubid and l.objsubid > 0
  union all
  select 'column', n.nspname, c.relname || '.' || a.attname, a.attname, null, c.relname, n.nspname
    from pg_catalog.pg_attrdef ad join pg_catalog.pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
    join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_attrdef'::regclass and ad.oid = l.objid
  union all
  select case p.prokind when 'p' then 'procedure' when 'a' then null else 'function' end, n.nspname,
         p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', p.proname, n.nspname, null, null
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where l.classid = 'pg_proc'::regclass and p.oid = l.objid
  union all
  select case t.typtype when 'e' then 'enum' when 'd' then 'domain' end, n.nspname, t.typname, t.typname, n.nspname, null, null
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where l.classid = 'pg_type'::regclass and t.oid = l.objid
  union all
  select 'schema', null, n.nspname, n.nspname, null, null, null from pg_catalog.pg_namespace n where l.classid = 'pg_namespace'::regclass and n.oid = l.objid
  union all
  select 'extension', null, e.extname, e.extname, null, null, null from pg_catalog.pg_extension e where l.classid = 'pg_extension'::regclass and e.oid = l.objid
  union all
  select 'trigger', n.nspname, c.relname || '.' || t.tgname, t.tgname, null, c.relname, n.nspname
    from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_trigger'::regclass and t.oid = l.objid
  union all
  select 'policy', n.nspname, c.relname || '.' || p.polname, p.polname, null, c.relname, n.nspname
    from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_policy'::regclass and p.oid = l.objid
  union all
  select 'unmodeled', n.nspname, 'rule ' || c.relname || '.' || r.rulename, r.rulename, null, c.relname, n.nspname
    from pg_catalog.pg_rewrite r join pg_catalog.pg_class c on c.oid = r.ev_class join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where l.classid = 'pg_rewrite'::regclass and r.oid = l.objid and r.rulename <> '_RETURN'
  union all
  select case when co.conrelid <> 0 then 'constraint' else 'domain' end, n.nspname,
         case when co.conrelid <> 0 then c.relname || '.' || co.conname else t.typname end,
         case when co.conrelid <> 0 then co.conname else t.typname end,
         case when co.conrelid <> 0 then null else n.nspname end,
         c.relname, case when co.conrelid <> 0 then n.nspname end
    from pg_catalog.pg_constraint co join pg_catalog.pg_namespace n on n.oid = co.connamespace
    left join pg_catalog.pg_class c on c.oid = co.conrelid left join pg_catalog.pg_type t on t.oid = co.contypid
   where l.classid = 'pg_constraint'::regclass and co.oid = l.objid
  union all
  select 'publication', null, p.pubname, p.pubname, null, null, null from pg_catalog.pg_publication p where l.classid = 'pg_publication'::regclass and p.oid = l.objid
  union all
  select 'publication', null, p.pubname, p.pubname, null, null, null
    from pg_catalog.pg_publication_rel pr join pg_catalog.pg_publication p on p.oid = pr.prpubid
   where l.classid = 'pg_publication_rel'::regclass and pr.oid = l.objid
  union all
  select 'default_privileges', n.nspname,
         pg_catalog.pg_get_userbyid(d.defaclrole) || ':' ||
         case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions' when 'T' then 'types' when 'n' then 'schemas' end,
         'default privileges', null, n.nspname, null
    from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
   where l.classid = 'pg_default_acl'::regclass and d.oid = l.objid
) o
where o.kind is not null
union all
select t.migration, t.command_tag, 'column', t.nspname, t.relname || '.' || a.attname, a.attname, null, t.relname, t.nspname, true
  from touched t join pg_catalog.pg_attribute a on a.attrelid = t.relid and a.attnum > 0 and not a.attisdropped
union all
select t.migration, t.command_tag, 'constraint', t.nspname, t.relname || '.' || co.conname, co.conname, null, t.relname, t.nspname, true
  from touched t join pg_catalog.pg_constraint co on co.conrelid = t.relid`;

interface ResolvedRow {
  migration: number;
  command_tag: string;
  kind: string;
  schema: string | null;
  name: string;
  /** The object's own name as a statement spells it: a policy's name, a function's without arguments. */
  object: string;
  /** The schema a statement may qualify `object` with; null where only the parent carries it (policies, columns...). */
  object_schema: string | null;
  /** The table a policy, trigger, rule, constraint, column or index belongs to; the schema of default privileges. */
  parent: string | null;
  /** The schema a statement may qualify `parent` with. */
  parent_schema: string | null;
  /** A column or constraint of a table the command changed: located only at a statement that defines it. */
  derived: boolean;
}

/** An identifier as PostgreSQL reads it (unquoted ones folded to lower case, long ones cut), or one of `. , ( )`. */
interface Token {
  text: string;
  punctuation: boolean;
  /** How many parentheses enclose the token. */
  depth: number;
}

/** A statement of a migration file, read for the names it mentions. */
interface ReadStatement {
  /** Line of its first SQL token in the file. */
  line: number;
  /** Its first words in lower case, to compare with a command tag. */
  head: string[];
  tokens: Token[];
  /** The identifiers among the tokens. */
  names: Set<string>;
  /** The schemas unqualified names resolve in when it runs, as far as the file shows. */
  path: string[];
}

/** A migration's statements, and which of them (indexes, ascending) mention each identifier. */
interface ReadMigration {
  statements: ReadStatement[];
  mentioning: Map<string, number[]>;
}

const TOKEN = /--[^\n]*|\/\*[\s\S]*?\*\/|'((?:[^']|'')*)'|"((?:[^"]|"")*)"|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)|([.,()])/g;
/** PostgreSQL keeps the first 63 bytes of a longer identifier. */
const NAME_BYTES = 63;

function stored(identifier: string): string {
  const bytes = Buffer.from(identifier);
  if (bytes.length <= NAME_BYTES) return identifier;
  let end = NAME_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString();
}

/**
 * The identifiers and `. , ( )` of a statement. A string literal's text is read too, one
 * level deeper (`execute 'create policy ...'` in a DO block names what it creates).
 */
function tokenize(code: string, outerDepth = 0): Token[] {
  const tokens: Token[] = [];
  let depth = outerDepth;
  for (const [, literal, quoted, word, punctuation] of code.matchAll(TOKEN)) {
    if (literal !== undefined) tokens.push(...tokenize(literal.replace(/''/g, "'"), depth + 1));
    else if (quoted !== undefined) tokens.push({ text: stored(quoted.replace(/""/g, '"')), punctuation: false, depth });
    else if (word !== undefined) tokens.push({ text: stored(word.toLowerCase()), punctuation: false, depth });
    else if (punctuation !== undefined) {
      if (punctuation === ')') depth = Math.max(outerDepth, depth - 1);
      tokens.push({ text: punctuation, punctuation: true, depth });
      if (punctuation === '(') depth++;
    }
  }
  return tokens;
}

/** `"$user", public, 'extensions'` -> the schema names. */
function parseSearchPath(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => (/^(["']).*\1$/s.test(item) ? item.slice(1, -1) : item.toLowerCase()));
}

const SET_PATH = /^set\s+(?:(?:session|local)\s+)?search_path\s*(?:to\b|=)\s*([\s\S]*?)[\s;]*$/i;
const RESET_PATH = /^reset\s+(?:search_path|all)\b/i;
const SET_CONFIG_PATH = /^select\b[\s\S]*?set_config\s*\(\s*'search_path'\s*,\s*'((?:[^']|'')*)'/i;

/** The search path after a statement: changed by SET / RESET search_path and pg_dump's set_config. */
function searchPathAfter(code: string, current: string[], initial: string[]): string[] {
  const set = SET_PATH.exec(code);
  if (set) return /^default$/i.test(set[1]!) ? initial : parseSearchPath(set[1]!);
  if (RESET_PATH.test(code)) return initial;
  const config = SET_CONFIG_PATH.exec(code);
  return config ? parseSearchPath(config[1]!.replace(/''/g, "'")) : current;
}

const readCache = new WeakMap<Migration, { startPath: string; read: ReadMigration }>();

function readMigration(migration: Migration, startPath: string): ReadMigration {
  const cached = readCache.get(migration);
  if (cached?.startPath === startPath) return cached.read;
  const initial = parseSearchPath(startPath);
  let path = initial;
  const mentioning = new Map<string, number[]>();
  // lines counted on from one statement to the next: the statements come in file order
  let counted = { index: 0, line: 1 };
  const statements = statementsOf(migration).map((statement, index) => {
    const offset = firstTokenIndex(statement.text);
    const start = migration.sqlOffset + statement.start + offset;
    let line = counted.line;
    for (let i = counted.index; i < start; i++) if (migration.raw.charCodeAt(i) === 10) line++;
    counted = { index: start, line };
    const code = statement.text.slice(offset);
    const tokens = tokenize(code);
    const names = new Set(tokens.filter((token) => !token.punctuation).map((token) => token.text));
    for (const name of names) {
      const list = mentioning.get(name);
      if (list) list.push(index);
      else mentioning.set(name, [index]);
    }
    const read = { line: counted.line, head: code.toLowerCase().split(/\s+/, 8), tokens, names, path };
    path = searchPathAfter(code, path, initial);
    return read;
  });
  const read = { statements, mentioning };
  readCache.set(migration, { startPath, read });
  return read;
}

/** Indexes (ascending) of the statements that mention both identifiers. */
function mentioningBoth(read: ReadMigration, one: string, other: string): number[] {
  const ones = read.mentioning.get(one) ?? [];
  const others = read.mentioning.get(other) ?? [];
  const [shorter, longer] = ones.length <= others.length ? [ones, others] : [others, ones];
  const word = shorter === ones ? other : one;
  return longer.length ? shorter.filter((index) => read.statements[index]!.names.has(word)) : [];
}

/** Indexes (ascending) of the statements that mention any of the identifiers. */
function mentioningAny(read: ReadMigration, identifiers: ReadonlyArray<string | null>): number[] {
  const found = new Set<number>();
  for (const identifier of identifiers) if (identifier !== null) for (const index of read.mentioning.get(identifier) ?? []) found.add(index);
  return [...found].sort((a, b) => a - b);
}

/**
 * How surely the tokens name `words` in `schema`: 3 qualified with it (or anywhere, for a
 * name no schema qualifies), 2 unqualified with the schema on the search path, 1
 * unqualified elsewhere, 0 not at all or only in another schema.
 */
function mentionRank(tokens: readonly Token[], words: readonly string[], schema: string | null, path: readonly string[]): number {
  let best = 0;
  for (let i = 0; i + words.length <= tokens.length && best < 3; i++) {
    if (!words.every((word, k) => !tokens[i + k]!.punctuation && tokens[i + k]!.text === word)) continue;
    const dot = tokens[i - 1];
    const before = tokens[i - 2];
    const qualifier = dot?.punctuation && dot.text === '.' && before && !before.punctuation ? before.text : undefined;
    const after = tokens[i + words.length];
    let rank: number;
    if (schema === null) rank = 3;
    else if (qualifier !== undefined) rank = qualifier === schema ? 3 : 0;
    else if (after?.punctuation && after.text === '.')
      rank = 0; // `items.label`: it qualifies something else
    else rank = path.includes(schema) ? 2 : 1;
    best = Math.max(best, rank);
  }
  return best;
}

/** Words after which an ALTER / CREATE TABLE statement defines (adds, alters, renames) a column or a constraint. */
const DEFINING_WORDS: Record<string, ReadonlySet<string>> = {
  column: new Set(['add', 'alter', 'column', 'exists', 'to']),
  constraint: new Set(['constraint', 'to']),
};

/** True when the statement defines the column or constraint `name`, not merely uses it (`check (note <> '')`). */
function defines(statement: ReadStatement, kind: string, name: string): boolean {
  const words = DEFINING_WORDS[kind];
  if (!words) return false;
  return statement.tokens.some((token, i) => {
    const before = statement.tokens[i - 1];
    if (token.punctuation || token.text !== name || !before) return false;
    if (!before.punctuation) return words.has(before.text);
    // a column of a CREATE TABLE's element list: `(id int, note text`
    return kind === 'column' && statement.head[0] === 'create' && token.depth === 1 && (before.text === '(' || before.text === ',');
  });
}

/** True when the statement's first words contain the command tag's words in order ("create or replace function" matches CREATE FUNCTION). */
function startsWithCommand(head: readonly string[], tagWords: readonly string[]): boolean {
  let at = 0;
  for (const word of head) {
    if (word === tagWords[at]) at += 1;
    if (at === tagWords.length) return true;
  }
  return false;
}

/** Statement names the object spells as more than one word. */
const KEYWORD_NAMES: Record<string, readonly string[]> = { default_privileges: ['default', 'privileges'] };

/**
 * Line of the statement that most plausibly ran the row's command: one naming the object
 * where it lives (with its table, in its schema) beats one naming either alone; then one
 * of the command's verb, then the surer qualification; a CREATE is the first such
 * statement, an ALTER, GRANT, COMMENT... the last (the latest change). A derived row only
 * takes a statement of its command that defines the column or constraint on its table.
 */
function locate(read: ReadMigration, row: ResolvedRow): number | undefined {
  const words = KEYWORD_NAMES[row.kind] ?? [row.object];
  // Statements naming both come first: among hundreds of tables with a policy of one name
  // (or a column `id`), only the few on this table need a closer look.
  const together = row.parent === null ? (read.mentioning.get(words[0]!) ?? []) : mentioningBoth(read, words[0]!, row.parent);
  const best = bestStatement(read, together, row, words);
  if (best?.both || row.derived || row.parent === null) return best?.line;
  return bestStatement(read, mentioningAny(read, [words[0]!, row.parent]), row, words)?.line;
}

function bestStatement(
  read: ReadMigration,
  candidates: readonly number[],
  row: ResolvedRow,
  words: readonly string[],
): { line: number; both: boolean } | undefined {
  const tagWords = row.command_tag.toLowerCase().split(/\s+/).filter(Boolean);
  const first = tagWords[0] === 'create';
  let best: { score: number[]; line: number; both: boolean } | undefined;
  for (const index of candidates) {
    const statement = read.statements[index]!;
    const tag = startsWithCommand(statement.head, tagWords);
    if (row.derived && !tag) continue;
    const nameRank = mentionRank(statement.tokens, words, row.object_schema, statement.path);
    const named = row.derived ? defines(statement, row.kind, row.object) : nameRank > 0;
    const placeRank = row.parent === null ? nameRank : mentionRank(statement.tokens, [row.parent], row.parent_schema, statement.path);
    const both = named && placeRank > 0;
    if (row.derived ? !both : !named && placeRank === 0) continue;
    // the verb only counts for a statement naming the object: `create table t (id int primary key)`
    // runs CREATE INDEX for t_pkey, a later `create index other on t` does not
    const score = [Number(both), Number(named && tag), placeRank, Number(named)];
    const order = best ? compareScores(score, best.score) : 1;
    // an object the statements never name came with its table: the first statement on the table
    if (order > 0 || (order === 0 && named && !first)) best = { score, line: statement.line, both };
  }
  return best;
}

function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Reads the tracker's log and returns `${kind}:${schema}.${name}` -> file and line: the
 * latest migration, and in it the latest statement, that created or changed the object.
 * `startPaths[i]` is the search path migration `i` started with (from markMigration).
 */
export async function readOrigins(client: ClientBase, migrations: Migration[], startPaths: readonly string[]): Promise<Map<string, SourceLocation>> {
  const { rows } = await client.query<ResolvedRow>(RESOLVE_SQL);
  const latest = new Map<string, { migration: number; location: SourceLocation & { line: number } }>();
  for (const row of rows) {
    const migration = migrations[row.migration];
    if (!migration) continue;
    const key = `${row.kind}:${row.schema ? `${row.schema}.` : ''}${row.name}`;
    const known = latest.get(key);
    if (known && known.migration > row.migration) continue;
    const read = readMigration(migration, startPaths[row.migration] ?? '');
    const line = locate(read, row) ?? (row.derived ? undefined : (read.statements[0]?.line ?? lineAt(migration.raw, migration.sqlOffset)));
    if (line === undefined) continue;
    if (known && known.migration === row.migration && known.location.line >= line) continue;
    latest.set(key, { migration: row.migration, location: { file: migration.file, line } });
  }
  return new Map([...latest].map(([key, { location }]) => [key, location]));
}

/**
 * Looks an object up in the origins, falling back for a constraint to its index (a
 * primary key or unique constraint PostgreSQL named itself), for columns, constraints,
 * triggers and policies to their table, and to any overload for a function named
 * without arguments.
 */
export function findOrigin(
  origins: ReadonlyMap<string, SourceLocation>,
  object: { kind: string; schema?: string | undefined; name: string },
): SourceLocation | undefined {
  const prefix = object.schema ? `${object.schema}.` : '';
  const exact = origins.get(`${object.kind}:${prefix}${object.name}`);
  if (exact) return exact;
  if (['column', 'constraint', 'trigger', 'policy', 'index'].includes(object.kind) && object.name.includes('.')) {
    const dot = object.name.indexOf('.');
    const index = object.kind === 'constraint' ? origins.get(`index:${prefix}${object.name.slice(dot + 1)}`) : undefined;
    return index ?? origins.get(`table:${prefix}${object.name.slice(0, dot)}`);
  }
  if ((object.kind === 'function' || object.kind === 'procedure') && !object.name.includes('(')) {
    for (const [key, location] of origins) if (key.startsWith(`${object.kind}:${prefix}${object.name}(`)) return location;
  }
  return undefined;
}
