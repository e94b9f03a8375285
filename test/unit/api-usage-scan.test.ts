/**
 * The code scanner behind rls-audit's Data API findings: small repositories written to a temp dir,
 * one per client library, with the statement forms of each library's documentation; positions
 * are checked exactly, and so are the calls that must not count.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCAN, scanApiUsage, scanOptionsFromConfig } from '../../src/api-usage/scan.ts';
import type { ApiUsage, ScanOptions } from '../../src/api-usage/types.ts';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { globToRegExp } from '../../src/core/glob.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function repo(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'postgate-api-usage-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

async function scan(files: Record<string, string | Buffer>, options: ScanOptions = DEFAULT_SCAN): Promise<ApiUsage> {
  return scanApiUsage(repo(files), options);
}

/** Calls as `name operations schema @line:column`, compact and exact. */
function summary(usage: ApiUsage): string[] {
  return usage.calls.map(
    (c) => `${c.target} ${c.schema ? `${c.schema}.` : ''}${c.name} [${c.operations.join(',')}] ${c.site.file}:${c.site.line}:${c.site.column}`,
  );
}

function unresolved(usage: ApiUsage): string[] {
  return usage.unresolved.map((u) => `${u.target} ${u.expression} ${u.site.file}:${u.site.line}:${u.site.column}`);
}

describe('scanApiUsage: supabase-js', () => {
  const source = `import { createClient } from '@supabase/supabase-js'
import type { Database } from './database.types'

const supabase = createClient<Database>(process.env.SUPABASE_URL!, process.env.SUPABASE_ANON_KEY!)

export async function load(id: number) {
  const { data, error } = await supabase
    .from('countries')
    .select('id, name, cities(name)')
    .eq('id', id)
    .order('name', { ascending: true })
  await supabase.from("cities").insert({ name: 'Oslo' }).select()
  await supabase.from(\`profiles\`).upsert({ id, username: 'x' }, { onConflict: 'id' })
  await supabase.from('instruments').update({ name: 'piano' }).eq('id', 1)
  await supabase.from('notes').delete().in('id', [1, 2])
  const { data: sum } = await supabase.rpc('add_them', { a: 1, b: 2 })
  await supabase.schema('billing').from('invoices').select('*').limit(10)
  await supabase.storage.from('avatars').upload('public/a.png', file, { upsert: true })
  const { data: blob } = await supabase.storage.from('reports').download('2026/q1.pdf')
  const query = supabase.from('todos')
  return supabase?.from<'todos'>('todos_typed')!.select()
}
`;

  it('records every call with its operations, schema and exact position', async () => {
    const usage = await scan({ 'src/lib/data.ts': source });
    expect(summary(usage)).toEqual([
      'table countries [select] src/lib/data.ts:8:6',
      'table cities [insert,select] src/lib/data.ts:12:18',
      'table profiles [upsert] src/lib/data.ts:13:18',
      'table instruments [update] src/lib/data.ts:14:18',
      'table notes [delete] src/lib/data.ts:15:18',
      'function add_them [execute] src/lib/data.ts:16:40',
      'table billing.invoices [select] src/lib/data.ts:17:36',
      'bucket avatars [storage] src/lib/data.ts:18:26',
      'bucket reports [storage] src/lib/data.ts:19:49',
      // a chain broken across a variable: the operation is not on the chain
      'table todos [] src/lib/data.ts:20:26',
      'table todos_typed [select] src/lib/data.ts:21:20',
    ]);
    expect(usage.unresolved).toEqual([]);
    expect(usage.filesScanned).toBe(1);
    expect(usage.calls[0]).toEqual({
      target: 'table',
      name: 'countries',
      operations: ['select'],
      site: { file: 'src/lib/data.ts', line: 8, column: 6 },
      language: 'js',
    });
  });

  it('lists names it cannot read as unresolved, never guessed', async () => {
    const usage = await scan({
      'app/page.tsx': `import { createClient } from '@/utils/supabase/server'
export default async function Page({ tenant }: { tenant: string }) {
  const supabase = await createClient()
  const table = 'orders'
  await supabase.from(\`orders_\${tenant}\`).select()
  await supabase.from(table).select()
  await supabase.from('or' + 'ders').select()
  await supabase.rpc(fnName, {})
  await supabase.schema(schemaName).from('ledger').select()
  await supabase.storage.from(process.env.BUCKET ?? 'uploads').upload(path, body)
  await supabase.from(someVeryLongFunctionName(withArguments, andMoreArguments, andEvenMoreArguments, andMore)).select()
  return <p>Don't show {tenant}</p>
}
`,
    });
    expect(summary(usage)).toEqual([]);
    expect(unresolved(usage)).toEqual([
      'table `orders_${tenant}` app/page.tsx:5:18',
      'table table app/page.tsx:6:18',
      "table 'or' + 'ders' app/page.tsx:7:18",
      'function fnName app/page.tsx:8:18',
      'table schemaName app/page.tsx:9:37',
      "bucket process.env.BUCKET ?? 'uploads' app/page.tsx:10:26",
      `table ${'someVeryLongFunctionName(withArguments, andMoreArguments, andEvenMoreArguments, andMore)'.slice(0, 79)}… app/page.tsx:11:18`,
    ]);
    expect(usage.unresolved.every((u) => u.expression.length <= 80)).toBe(true);
  });

  it('does not count look-alikes, comments or strings', async () => {
    const usage = await scan({
      'src/misc.ts': `import { createClient } from '@supabase/supabase-js'
import { from } from 'rxjs'
import { sql } from 'drizzle-orm'
const chars = Array.from('abc')
const buffer = Buffer.from('x', 'utf8')
const bytes = Uint8Array.from([1, 2, 3])
const entries = Object.fromEntries([['a', 1]])
from(fetch('/x')).pipe()
await Promise.all([])
const people = await kysely.selectFrom('person').selectAll().execute()
const users = await knex.select('*').from('users').where('id', 1)
const posts = await db.select().from(postsTable).where(sql\`id = 1\`)
const s = Stream.from('a')
const encoded = Buffer.from(data).toString('base64url')
const copy = Array.from(items).valueOf().constructor
// await supabase.from('commented').select()
/* await supabase.rpc('block_commented') */
const text = "supabase.from('in_a_string').select()"
const template = \`supabase.rpc('in_a_template')\`
const re = /supabase.from\\('in_a_regex'\\)/
`,
      'src/no-supabase.ts': `export const rows = await knex.from('accounts').select('id')
export const res = await jsonRpc.rpc('eth_call', [])
`,
    });
    expect(summary(usage)).toEqual([]);
    expect(unresolved(usage)).toEqual([]);
    expect(usage.filesScanned).toBe(2);
  });

  it('keeps reading after regular expressions and JSX text with quotes, and counts a BOM and CRLF line ends right', async () => {
    const usage = await scan({
      'src/List.jsx': `const quote = /'/g
const slash = a / b / c
export const List = () => <p>Don't stop: "it's fine</p>
export const load = () => supabase.from('items').select()
`,
      'src/windows.ts': `\uFEFFimport { supabase } from './supabase'\r\n\r\n  await supabase.rpc('on_windows')\r\n`,
      'src/other.ts': `export const rows = (client) => client.schema('api').from('rows')\n`,
    });
    expect(summary(usage)).toEqual([
      'table items [select] src/List.jsx:4:36',
      'table api.rows [] src/other.ts:1:54',
      'function on_windows [execute] src/windows.ts:3:18',
    ]);
  });

  it('reads the scripts of .vue, .svelte and .astro files only', async () => {
    const usage = await scan({
      'src/Profile.vue': `<template>
  <p>Don't call supabase.from('template_text').select() here</p>
</template>
<script setup lang="ts">
import { supabase } from '@/lib/supabase'
const { data } = await supabase.from('profiles').select('*')
</script>
`,
      'src/routes/+page.svelte': `<script>
  export let data
  const load = () => data.supabase.rpc('feed')
</script>
<h1>It's {data.title}</h1>
`,
      'src/pages/index.astro': `---
import { supabase } from '../lib/supabase';
const { data } = await supabase.from('posts').select();
---
<h1>{data.length} posts aren't here: supabase.from('markup').select()</h1>
`,
    });
    expect(summary(usage)).toEqual([
      // byte order: upper case before lower case
      'table profiles [select] src/Profile.vue:6:33',
      'table posts [select] src/pages/index.astro:3:33',
      'function feed [execute] src/routes/+page.svelte:3:36',
    ]);
  });
});

describe('scanApiUsage: other client libraries', () => {
  it('supabase-py: table(), from_(), rpc(), schema(), storage.from_()', async () => {
    const usage = await scan({
      'app/db.py': `import os
from supabase import create_client, Client

supabase: Client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])

response = (
    supabase.table("planets")
    .select("*")
    .eq("id", 1)
    .execute()
)
supabase.table('countries').insert({"id": 1, "name": "Denmark"}).execute()
supabase.from_("cities").upsert({"id": 1, "name": "Oslo"}).execute()
supabase.table("instruments").update({"name": "piano"}).eq("id", 1).execute()
supabase.table("countries").delete().eq("id", 1).execute()
count = supabase.rpc("hello_world", {"a": 1}).execute()
supabase.schema("private").table("secrets").select("*").execute()
with open("./avatar.png", "rb") as f:
    supabase.storage.from_("avatars").upload(file=f, path="public/avatar1.png")
name = "x"
supabase.table(f"tenant_{name}").select("*").execute()
supabase.table(rf'raw_{{literal}}').select().execute()
supabase.table(f"braces_{{kept}}").select().execute()
# supabase.table("commented").select().execute()
doc = """supabase.table("in_docstring").select()"""
planets = client.dataset("astro").table("planets")
`,
    });
    expect(summary(usage)).toEqual([
      'table planets [select] app/db.py:7:14',
      'table countries [insert] app/db.py:12:10',
      'table cities [upsert] app/db.py:13:10',
      'table instruments [update] app/db.py:14:10',
      'table countries [delete] app/db.py:15:10',
      'function hello_world [execute] app/db.py:16:18',
      'table private.secrets [select] app/db.py:17:28',
      'bucket avatars [storage] app/db.py:19:22',
      'table raw_{literal} [select] app/db.py:22:10',
      'table braces_{kept} [select] app/db.py:23:10',
    ]);
    expect(unresolved(usage)).toEqual(['table f"tenant_{name}" app/db.py:21:10']);
    expect(usage.calls[0]?.language).toBe('python');
  });

  it('supabase-dart / supabase_flutter', async () => {
    const usage = await scan({
      'lib/data.dart': `import 'package:supabase_flutter/supabase_flutter.dart';

final supabase = Supabase.instance.client;

Future<void> load(String table) async {
  final data = await supabase
      .from('instruments')
      .select('id, name')
      .eq('id', 1);
  await supabase.from('cities').insert({'name': 'The Shire'}).select();
  await supabase.from("countries").update({'name': 'Australia'}).eq('id', 1);
  await supabase.from('countries').delete().eq('id', 1);
  final res = await supabase.rpc('hello_world', params: {'a': 1});
  await supabase.schema('private').from('secrets').select();
  await supabase.storage.from('avatars').upload('public/a.png', file);
  final stream = supabase.from('messages').stream(primaryKey: ['id']);
  await supabase.from('tenant_$table').select();
  await supabase.from(r'raw_$name').select();
  /* supabase.from('commented').select(); /* nested */ supabase.rpc('still_commented'); */
  final copy = List.from(['a']);
}
`,
    });
    expect(summary(usage)).toEqual([
      'table instruments [select] lib/data.dart:7:8',
      'table cities [insert,select] lib/data.dart:10:18',
      'table countries [update] lib/data.dart:11:18',
      'table countries [delete] lib/data.dart:12:18',
      'function hello_world [execute] lib/data.dart:13:30',
      'table private.secrets [select] lib/data.dart:14:36',
      'bucket avatars [storage] lib/data.dart:15:26',
      'table messages [select] lib/data.dart:16:27',
      'table raw_$name [select] lib/data.dart:18:18',
    ]);
    expect(unresolved(usage)).toEqual(["table 'tenant_$table' lib/data.dart:17:18"]);
  });

  it('supabase-swift', async () => {
    const usage = await scan({
      'Sources/App/Store.swift': `import Supabase

let client = SupabaseClient(supabaseURL: URL(string: "https://xyz.supabase.co")!, supabaseKey: "public-anon-key")

func load(tenant: String) async throws {
  let instruments: [Instrument] = try await client
    .from("instruments")
    .select()
    .eq("id", value: 1)
    .execute()
    .value
  try await client.from("countries").insert(country, returning: .representation).select().execute()
  try await client.from("countries").update(["name": "Australia"]).eq("id", value: 1).execute()
  try await client.from("countries").delete().eq("id", value: 1).execute()
  try await client.rpc("hello_world", params: ["a": 1]).execute()
  try await client.schema("private").from("secrets").select().execute()
  try await client.storage.from("avatars").upload("public/a.png", data: data)
  try await client.from("tenant_\\(tenant)").select().execute()
  let raw = #"client.from("in_raw").select()"#
}
`,
    });
    expect(summary(usage)).toEqual([
      'table instruments [select] Sources/App/Store.swift:7:6',
      'table countries [insert,select] Sources/App/Store.swift:12:20',
      'table countries [update] Sources/App/Store.swift:13:20',
      'table countries [delete] Sources/App/Store.swift:14:20',
      'function hello_world [execute] Sources/App/Store.swift:15:20',
      'table private.secrets [select] Sources/App/Store.swift:16:38',
      'bucket avatars [storage] Sources/App/Store.swift:17:28',
    ]);
    expect(unresolved(usage)).toEqual(['table "tenant_\\(tenant)" Sources/App/Store.swift:18:20']);
  });

  it('supabase-kt: from(), postgrest[...], rpc(), storage, trailing lambdas', async () => {
    const usage = await scan({
      'app/src/main/kotlin/Repo.kt': `import io.github.jan.supabase.createSupabaseClient
import io.github.jan.supabase.postgrest.from

val supabase = createSupabaseClient(supabaseUrl = "https://xyz.supabase.co", supabaseKey = "key") {
    install(Postgrest)
}

suspend fun load(name: String) {
    val city = supabase.from("cities").select().decodeSingle<City>()
    supabase.from("countries").insert(country)
    supabase.from("countries").update({ Country::name setTo "Australia" }) {
        filter { Country::id eq 1 }
    }
    supabase.from("countries").delete {
        filter { Country::id eq 1 }
    }
    supabase.postgrest.rpc("hello_world", params)
    supabase.postgrest["characters"].select()
    supabase.postgrest.from("private", "secrets").select()
    supabase.storage.from("avatars").upload("public/a.png", bytes)
    supabase.from("tenant_$name").select()
    val list = listOf("a").map { it }
}
`,
      'build.gradle.kts': `plugins { kotlin("jvm") }\nval files = listOf("a").from("x")\n`,
    });
    expect(summary(usage)).toEqual([
      'table cities [select] app/src/main/kotlin/Repo.kt:9:25',
      'table countries [insert] app/src/main/kotlin/Repo.kt:10:14',
      'table countries [update] app/src/main/kotlin/Repo.kt:11:14',
      'table countries [delete] app/src/main/kotlin/Repo.kt:14:14',
      'function hello_world [execute] app/src/main/kotlin/Repo.kt:17:24',
      'table characters [select] app/src/main/kotlin/Repo.kt:18:14',
      'table private.secrets [select] app/src/main/kotlin/Repo.kt:19:24',
      'bucket avatars [storage] app/src/main/kotlin/Repo.kt:20:22',
    ]);
    expect(unresolved(usage)).toEqual(['table "tenant_$name" app/src/main/kotlin/Repo.kt:21:14']);
  });
});

describe('scanApiUsage: the walk', () => {
  const call = (table: string) => `import { supabase } from './supabase'\nawait supabase.from('${table}').select()\n`;

  it('prunes dependencies, build output and generated files, and sorts by path', async () => {
    const usage = await scan({
      'src/b.ts': call('b'),
      'src/a.ts': call('a'),
      'node_modules/@supabase/x/index.js': call('dependency'),
      'packages/web/node_modules/lib/index.js': call('nested_dependency'),
      'dist/index.js': call('built'),
      '.next/server/page.js': call('next'),
      'ios/Pods/X/y.swift': call('pods'),
      'src/database.types.ts': call('types'),
      'src/env.d.ts': call('declarations'),
      'public/vendor.min.js': call('minified'),
      'src/README.md': call('markdown'),
    });
    expect(summary(usage)).toEqual(['table a [select] src/a.ts:2:16', 'table b [select] src/b.ts:2:16']);
    expect(usage.filesScanned).toBe(2);
  });

  it('follows the repo config: include replaces the defaults, exclude adds to them', async () => {
    const root = repo({
      'apps/web/src/a.ts': call('web'),
      'apps/web/src/a.test.ts': call('test_only'),
      'apps/admin/src/b.ts': call('admin'),
      'apps/web/node_modules/x/index.js': call('dependency'),
      // an extension that is a property of every object is still not a language
      'apps/web/src/a.constructor': call('not_source'),
      'scripts/seed.py': 'from supabase import create_client\nsupabase.table("seeded").insert({}).execute()\n',
    });
    const config = parseRepoConfig(`rls:\n  app-code:\n    include: ['apps/web/**']\n    exclude: ['**/*.test.ts']\n`, 'postgate.yml');
    const options = scanOptionsFromConfig(config.rls['app-code']);
    expect(options.exclude).toEqual([...DEFAULT_SCAN.exclude, '**/*.test.ts']);
    expect(summary(await scanApiUsage(root, options))).toEqual(['table web [select] apps/web/src/a.ts:2:16']);
    expect(scanOptionsFromConfig(undefined)).toEqual(DEFAULT_SCAN);
    const excludeOnly = parseRepoConfig(`rls:\n  app-code:\n    exclude: [scripts]\n`, 'postgate.yml');
    expect(summary(await scanApiUsage(root, scanOptionsFromConfig(excludeOnly.rls['app-code'])))).toEqual([
      'table admin [select] apps/admin/src/b.ts:2:16',
      'table test_only [select] apps/web/src/a.test.ts:2:16',
      'table web [select] apps/web/src/a.ts:2:16',
    ]);
  });

  it('skips what it cannot read with a reason, follows links inside the repository once, and ends link loops', async () => {
    const root = repo({
      'src/a.ts': call('a'),
      'src/folder.ts/inside.ts': call('inside_a_folder_named_like_a_file'),
      'src/big.ts': `${call('big')}${'// padding\n'.repeat(200)}`,
      'src/latin1.ts': Buffer.concat([Buffer.from('// caf'), Buffer.from([0xe9, 0xff]), Buffer.from(`\n${call('after_invalid_utf8')}`)]),
    });
    symlinkSync('missing.ts', path.join(root, 'src/broken.ts'));
    symlinkSync('..', path.join(root, 'src/loop'));
    symlinkSync('a.ts', path.join(root, 'src/alias.ts'));
    const outside = repo({ 'secret.ts': call('outside') });
    symlinkSync(path.join(outside, 'secret.ts'), path.join(root, 'src/outside.ts'));
    symlinkSync(outside, path.join(root, 'outside-dir'));
    execFileSync('mkfifo', [path.join(root, 'src/pipe.ts')]);

    const usage = await scanApiUsage(root, { ...DEFAULT_SCAN, maxFileBytes: 1000 });
    expect(summary(usage)).toEqual([
      'table a [select] src/a.ts:2:16',
      'table inside_a_folder_named_like_a_file [select] src/folder.ts/inside.ts:2:16',
      'table after_invalid_utf8 [select] src/latin1.ts:3:16',
    ]);
    expect(usage.skipped).toEqual([
      { file: 'src/big.ts', reason: 'larger than 1 KiB (generated or bundled code), not read' },
      { file: 'src/pipe.ts', reason: 'not a regular file' },
      { file: 'src/broken.ts', reason: 'broken symbolic link' },
      { file: 'src/outside.ts', reason: 'symbolic link to outside the repository, not followed' },
    ]);
    expect(usage.filesScanned).toBe(3);
  });
});

describe('rls.app-code in the repo config', () => {
  it.each([
    [
      `include: []`,
      'key `rls.app-code.include` expected at least one glob (leave `include` out for the default: every supported source file), got an empty list.',
    ],
    [
      `include: ['../other/**']`,
      'key `rls.app-code.include[0]` expected a glob inside the repository, such as src/**/*.ts (without `..`), got the string "../other/**".',
    ],
    [
      `exclude: ['src/{a,b']`,
      'key `rls.app-code.exclude[0]` expected a glob with every `{` and `[` closed, such as src/**/*.{ts,tsx}, got the string "src/{a,b".',
    ],
    [`exclude: src`, 'key `rls.app-code.exclude` expected a list, got the string "src".'],
    [`paths: [src]`, 'key `rls.app-code` has unknown key `paths`.'],
  ])('%s is one clear sentence', (body, message) => {
    expect(() => parseRepoConfig(`rls:\n  app-code:\n    ${body}\n`, 'postgate.yml')).toThrow(`postgate.yml: ${message}`);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['**/*.ts', 'a.ts', true],
    ['**/*.ts', 'src/deep/a.ts', true],
    ['*.min.js', 'public/x/app.min.js', true],
    ['node_modules', 'packages/web/node_modules', true],
    ['src/**', 'src', true],
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'srcx/a.ts', false],
    ['src/*.ts', 'src/a/b.ts', false],
    ['./apps/{web,admin}/**/*.{ts,tsx}', 'apps/admin/x/y.tsx', true],
    ['apps/{web,admin}/**/*.{ts,tsx}', 'apps/docs/y.tsx', false],
    ['src/[!_]*.ts', 'src/_private.ts', false],
    ['src/[!_]*.ts', 'src/public.ts', true],
    ['src/?.ts', 'src/ab.ts', false],
    ['a.b/c+d.ts', 'a.b/c+d.ts', true],
    ['a.b/c+d.ts', 'aXb/c+d.ts', false],
  ])('%s on %s: %s', (glob, file, expected) => {
    expect(globToRegExp(glob).test(file)).toBe(expected);
  });
});
