/**
 * rls-audit's rules about the application's Data API calls (src/gates/rls/api-usage.ts): what
 * the code asks of the Data API (src/api-usage/) that the database, once migrated, refuses.
 * One finding per object and rule, carrying every call site and the statement that fixes it.
 */
import { findingOf, type Rule } from '../../findings/rules.ts';

const ALLOWLIST_HOW = 'To accept it, add an allowlist entry to the repo config with this rule id, the object shown in the finding and a reason.';

export const API_USAGE_RULES = [
  {
    id: 'api_object_missing',
    gate: 'rls',
    severity: 'error',
    category: 'data-api',
    title: 'The app calls a table, view or function the Data API does not serve',
    doc: `The application's code calls \`.from('t')\`, \`.table('t')\` or \`.rpc('f')\` on an object that does not exist after the migrations (and, in deploy mode, in the live database), or that lives in a schema the Data API does not expose. The call returns 404 (PostgREST \`PGRST205\` for a table, \`PGRST202\` for a function, \`PGRST106\` for a schema that is not exposed). The schema is the one the chain names with \`.schema('s')\`, else the client's default: the first exposed schema. Fix: create the object in a migration, correct the name in the code, or expose its schema (\`[api] schemas\` in supabase/config.toml). Which files are scanned: the repo config's \`rls.app-code\` include and exclude globs. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'api_privilege_missing',
    gate: 'rls',
    severity: 'error',
    category: 'data-api',
    title: 'No API role has the privilege an app call needs',
    doc: `The application reads or writes a table or view through the Data API, but neither the anonymous role (\`anon\`) nor the signed-in role (\`authenticated\`) has the privilege the call needs (SELECT for \`.select()\`, INSERT for \`.insert()\`, UPDATE for \`.update()\`, both for \`.upsert()\`, DELETE for \`.delete()\`; USAGE on the schema for all; and for an insert, USAGE on the sequence a \`serial\` column's default calls, since defaults run as the caller, while identity columns need nothing), so the call fails for every user with 42501 \`permission denied\`. Since 2026 Supabase no longer grants new objects in \`public\` to the API roles by default (new projects from 2026-05-30, all projects from 2026-10-30): the migration applies, row level security and its policies are in place, and the first request after the deploy fails. Row level security decides which rows a role sees; the grant decides whether it reaches the table at all. Fix: add the \`grant\` shown (to the roles the table's policies name, else \`authenticated\`) to a migration. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'api_privilege_service_role_only',
    gate: 'rls',
    severity: 'notice',
    category: 'data-api',
    title: 'Only service_role has the privilege an app call needs',
    doc: `The application calls a table, view or function that only \`service_role\` may use (the API roles \`anon\` and \`authenticated\` lack the privilege). That is right for code that runs on a server with the service role key (edge functions, back ends), and a 42501 \`permission denied\` for code in browsers and apps, which use the anon key and the user's session. Listed so that reviewers can tell the two apart: if the call site runs as a user, add the \`grant\` shown to a migration; if it is server code, nothing to do. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'api_function_not_executable',
    gate: 'rls',
    severity: 'error',
    category: 'data-api',
    title: 'The app calls a function no API role may execute',
    doc: `The application calls a function through \`.rpc('f')\`, but neither the anonymous nor the signed-in role may execute it (no EXECUTE on any of its overloads, or no USAGE on its schema), so the call fails for every user with 42501 \`permission denied for function\`. Since 2026 Supabase no longer grants EXECUTE on new functions in \`public\` to the API roles by default. Fix: add the \`grant execute\` shown to a migration (consider \`security invoker\` and the function's own checks before granting it to \`anon\`). ${ALLOWLIST_HOW}`,
  },
  {
    id: 'api_bucket_missing',
    gate: 'rls',
    severity: 'warning',
    category: 'data-api',
    title: 'The app uses a Storage bucket nothing creates',
    doc: `The application calls \`storage.from('b')\` on a bucket that no migration, seed file or \`[storage.buckets.b]\` table in supabase/config.toml creates (PR mode), or that the live database does not have (deploy mode: then an error). Uploads and downloads fail with "Bucket not found" on every environment built from the repository (\`supabase db reset\`, branches). Fix: create the bucket in a migration (\`insert into storage.buckets (id, name) values ('b', 'b');\`) or declare it in supabase/config.toml. If the code creates the bucket itself at run time, allowlist the finding. ${ALLOWLIST_HOW}`,
  },
  {
    id: 'api_call_unresolved',
    gate: 'rls',
    severity: 'notice',
    category: 'data-api',
    title: 'Data API calls whose object the scan cannot read',
    doc: "Some Data API calls name their table, function or bucket with a variable or a template literal (`.from(table)`, `.rpc(name)`, a template literal with a placeholder), so the scan cannot tell which object they reach and does not check them: it never guesses. One finding lists them all with their file and line. Fix, where it matters: call with a literal name, or check those objects with the repo config's RLS tests; exclude generated code with `rls.app-code.exclude`.",
  },
  {
    id: 'api_files_skipped',
    gate: 'rls',
    severity: 'notice',
    category: 'data-api',
    title: 'Source files the Data API scan could not read',
    doc: 'Files that the `rls.app-code` globs select but that could not be read (permissions, not text, too large) are skipped, never fatal; one finding lists them with the reason. Calls in them are not checked. Fix the file or exclude it with `rls.app-code.exclude`.',
  },
] as const satisfies readonly Rule[];

export type ApiUsageRuleId = (typeof API_USAGE_RULES)[number]['id'];

/** A finding of one of the Data API usage rules, at the rule's severity. */
export const apiUsageFinding = findingOf(API_USAGE_RULES);
