/**
 * The app-code scan behind rls-audit's Data API findings, on a generated 5,000-file repository
 * (TypeScript/TSX, JavaScript, Vue/Svelte, Python, Dart, Swift, Kotlin; 1 to 12 KB, a few of
 * 60 KB; one file in ten calls Supabase, as in a real app) plus an ignored node_modules of 1,000
 * files that the scan must prune:
 *   - scanApiUsage with the default options (goal: <= 1 s for 5,000 files), against a raw baseline
 *     taken in the same run: `git grep -n -E` of the call patterns over the same files (the index,
 *     which holds the same 5,000 files), which finds the lines but reads no name, chain or comment.
 * Medians of 5 rounds (light mode, what CI runs: 3), the two interleaved; the same repository in
 * both modes, since generating it takes about a second.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SCAN, scanApiUsage } from '../../src/api-usage/scan.ts';
import { type Bench, median, result } from '../types.ts';

const FILES = 5000;

/** The same shapes the scanner looks for, as one extended regular expression. */
const GIT_GREP_PATTERN = '\\.[[:space:]]*(from|from_|table|rpc)[[:space:]]*\\(|postgrest[[:space:]]*\\[';

interface Language {
  ext: string;
  share: number;
  /** A line of ordinary code (no call) and a Data API call for table `t`. */
  plain: (i: number) => string;
  call: (table: string, i: number) => string;
  header: string;
}

const LANGUAGES: Language[] = [
  {
    ext: 'ts',
    share: 0.4,
    header: "import { createClient } from '@supabase/supabase-js'\nconst supabase = createClient(url, key)\n",
    plain: (i) =>
      `export function helper${i}(items: Array<{ id: number; name: string }>): string[] { return items.filter((x) => x.id > ${i}).map((x) => x.name) } // note ${i}`,
    call: (t, i) =>
      `  const { data: rows${i} } = await supabase\n    .from('${t}')\n    .select('id, name')\n    .eq('owner_id', user.id)\n    .order('created_at', { ascending: false })`,
  },
  {
    ext: 'tsx',
    share: 0.2,
    header: "import { createClient } from '@/utils/supabase/client'\n",
    plain: (i) => `export const Row${i} = ({ label }: { label: string }) => <li className="row">Don't forget {label} #${i}</li>`,
    call: (t, i) => `  const save${i} = async () => await createClient().from('${t}').upsert({ id, title }).select()`,
  },
  {
    ext: 'js',
    share: 0.05,
    header: "import { supabase } from './supabase.js'\n",
    plain: (i) => `export const total${i} = (list) => Array.from(list).reduce((sum, x) => sum + x.price * ${i}, 0) /* ${i} */`,
    call: (t) => `  await supabase.rpc('${t}_count', { since: new Date().toISOString() })`,
  },
  {
    ext: 'vue',
    share: 0.05,
    header: "<template>\n  <p>It's here</p>\n</template>\n<script setup lang=\"ts\">\nimport { supabase } from '@/lib/supabase'\n",
    plain: (i) => `const value${i} = computed(() => props.items.map((item) => item.label).join(', '))`,
    call: (t) => `const { data } = await supabase.storage.from('${t}_files').download('a.pdf')`,
  },
  {
    ext: 'py',
    share: 0.1,
    header: 'from supabase import create_client\nsupabase = create_client(url, key)\n',
    plain: (i) => `def helper_${i}(items):\n    return [x["name"] for x in items if x["id"] > ${i}]  # note`,
    call: (t) => `    supabase.table("${t}").insert({"name": "x"}).execute()`,
  },
  {
    ext: 'dart',
    share: 0.1,
    header: "import 'package:supabase_flutter/supabase_flutter.dart';\nfinal supabase = Supabase.instance.client;\n",
    plain: (i) => `int helper${i}(List<int> items) => items.where((x) => x > ${i}).fold(0, (a, b) => a + b); // note`,
    call: (t) => `  final data = await supabase.from('${t}').select().eq('id', 1);`,
  },
  {
    ext: 'swift',
    share: 0.05,
    header: 'import Supabase\nlet client = SupabaseClient(supabaseURL: url, supabaseKey: key)\n',
    plain: (i) => `func helper${i}(_ items: [Int]) -> Int { items.filter { $0 > ${i} }.reduce(0, +) } // "note"`,
    call: (t) => `  try await client.from("${t}").update(["name": "x"]).eq("id", value: 1).execute()`,
  },
  {
    ext: 'kt',
    share: 0.05,
    header: 'import io.github.jan.supabase.createSupabaseClient\nval supabase = createSupabaseClient(url, key) { }\n',
    plain: (i) => `fun helper${i}(items: List<Int>): Int = items.filter { it > ${i} }.sum() // note`,
    call: (t) => `    supabase.from("${t}").delete { filter { eq("id", 1) } }`,
  },
];

/** A deterministic pseudo-random sequence (the same repository every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function generate(root: string): { calls: number } {
  const next = random(16);
  let calls = 0;
  let index = 0;
  for (const language of LANGUAGES) {
    const count = Math.round(FILES * language.share);
    for (let n = 0; n < count && index < FILES; n += 1, index += 1) {
      const bytes = next() < 0.02 ? 60_000 : 1000 + Math.floor(next() * 11_000);
      const withCalls = next() < 0.1;
      const lines = [language.header];
      let size = language.header.length;
      for (let line = 0; size < bytes; line += 1) {
        const text = withCalls && line % 40 === 5 ? language.call(`table_${index % 300}`, line) : language.plain(line);
        if (text.includes('table_')) calls += 1;
        lines.push(text);
        size += text.length + 1;
      }
      if (language.ext === 'vue') lines.push('</script>');
      const dir = path.join(root, `src/module${index % 50}/sub${index % 7}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `file${index}.${language.ext}`), `${lines.join('\n')}\n`);
    }
  }
  const dependencies = path.join(root, 'node_modules/some-lib/lib');
  mkdirSync(dependencies, { recursive: true });
  for (let i = 0; i < 1000; i += 1) writeFileSync(path.join(dependencies, `m${i}.js`), `${LANGUAGES[0]!.call(`dep_${i}`, i)}\n`);
  writeFileSync(path.join(root, '.gitignore'), 'node_modules/\n');
  return { calls };
}

function time(fn: () => unknown): Promise<number> {
  const started = performance.now();
  return Promise.resolve(fn()).then(() => performance.now() - started);
}

export const bench: Bench = async ({ light, log }) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'postgate-bench-api-usage-'));
  try {
    const { calls } = generate(root);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'core.quotepath=off', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    git('init', '-q');
    git('add', '-A');
    log(`generated ${FILES} files (${calls} call lines) and an ignored node_modules of 1000 files`);

    const rounds = light ? 3 : 5;
    const ours: number[] = [];
    const raw: number[] = [];
    let found = 0;
    let grepLines = 0;
    for (let i = 0; i < rounds; i += 1) {
      ours.push(
        await time(async () => {
          const usage = await scanApiUsage(root, DEFAULT_SCAN);
          found = usage.calls.length;
          if (usage.filesScanned !== FILES) throw new Error(`the scan read ${usage.filesScanned} files, expected ${FILES}`);
        }),
      );
      raw.push(
        await time(() => {
          grepLines = git('grep', '-n', '-E', GIT_GREP_PATTERN).split('\n').length - 1;
        }),
      );
    }
    log(`scan: ${ours.map(Math.round).join(', ')} ms (${found} calls); git grep: ${raw.map(Math.round).join(', ')} ms (${grepLines} lines)`);
    const label = `api-usage: code scan (${FILES} files)`;
    return [
      result(label, median(ours), median(raw), 'ms', undefined, `against \`git grep -n -E\` of the call patterns over the same files; ${found} calls read`),
      result(`${label} vs goal`, median(ours), 1000, 'ms', 1, 'absolute goal 1 s for 5,000 files'),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};
