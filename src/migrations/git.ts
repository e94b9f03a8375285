/**
 * Reading the migrations folder as it is on another commit (the pull request's base),
 * without touching the working tree: the ref is resolved locally, as `origin/<ref>`,
 * or fetched with depth 1 when the checkout is shallow (actions/checkout's default),
 * and the files are read with one `git cat-file --batch` into a temporary folder that
 * mirrors the repository layout, so that the ordinary readers and repo-relative paths
 * work unchanged.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { readMigrations } from './sources.ts';
import type { MigrationSource, MigrationTool } from './types.ts';

async function git(cwd: string, args: string[], input?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await execa('git', args, { cwd, reject: false, ...(input !== undefined ? { input } : {}), encoding: 'utf8' });
  return { ok: result.exitCode === 0, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The top folder of the git checkout `cwd` is in; undefined outside one. */
export async function checkoutRoot(cwd: string): Promise<string | undefined> {
  const result = await git(cwd, ['rev-parse', '--show-toplevel']);
  return result.ok ? result.stdout.trim() : undefined;
}

export async function repoRoot(cwd: string): Promise<string> {
  const root = await checkoutRoot(cwd);
  if (root === undefined)
    throw new UserError(
      `Input \`base-ref\` needs a git checkout, but ${cwd} is not inside one; run the gate in the repository (actions/checkout) or leave \`base-ref\` empty.`,
    );
  return root;
}

/**
 * Resolves `ref` to a commit, fetching it from origin (depth 1) when the checkout does not have it.
 * A shallow checkout that cannot fetch it (no credentials left by actions/checkout, origin out of
 * reach) needs the full history instead.
 */
export async function resolveRef(cwd: string, ref: string): Promise<string> {
  const candidates = [ref, `origin/${ref}`, `refs/remotes/origin/${ref}`];
  for (const candidate of candidates) {
    const found = await git(cwd, ['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]);
    if (found.ok) return found.stdout.trim();
  }
  const fetched = await git(cwd, ['fetch', '--no-tags', '--depth=1', 'origin', ref]);
  if (fetched.ok) {
    const head = await git(cwd, ['rev-parse', '--verify', '--quiet', 'FETCH_HEAD^{commit}']);
    if (head.ok) return head.stdout.trim();
  }
  const shallow = await git(cwd, ['rev-parse', '--is-shallow-repository']);
  if (shallow.stdout.trim() === 'true') {
    throw new UserError(
      `This checkout is shallow and lacks the base branch "${ref}", which could not be fetched from origin either; set \`fetch-depth: 0\` on actions/checkout so that the base branch is in the checkout.`,
    );
  }
  throw new UserError(
    `Input \`base-ref\` is "${ref}", which is neither in this checkout nor fetchable from origin; check the branch name, or check out with \`fetch-depth: 0\`.`,
  );
}

interface TreeEntry {
  path: string;
}

async function listTree(root: string, commit: string, dir: string): Promise<TreeEntry[]> {
  const result = await git(root, ['ls-tree', '-r', '-z', '--name-only', commit, '--', dir]);
  if (!result.ok) throw new UserError(`git could not list ${dir} at ${commit.slice(0, 12)} (${result.stderr.trim()}); check \`base-ref\`.`);
  return result.stdout
    .split('\0')
    .filter(Boolean)
    .map((p) => ({ path: p }));
}

/** Reads many blobs with one `git cat-file --batch`. */
async function readBlobs(root: string, commit: string, paths: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (paths.length === 0) return out;
  const result = await execa('git', ['cat-file', '--batch'], {
    cwd: root,
    input: paths.map((p) => `${commit}:${p}`).join('\n') + '\n',
    encoding: 'buffer',
    reject: false,
  });
  if (result.exitCode !== 0) throw new UserError(`git could not read files at ${commit.slice(0, 12)}; check \`base-ref\`.`);
  const data = Buffer.from(result.stdout as Uint8Array);
  let offset = 0;
  for (const p of paths) {
    const newline = data.indexOf(10, offset);
    const header = data.subarray(offset, newline).toString('utf8');
    const size = Number(header.split(' ')[2]);
    if (header.endsWith('missing') || !Number.isFinite(size)) {
      offset = newline + 1;
      continue;
    }
    out.set(p, data.subarray(newline + 1, newline + 1 + size));
    offset = newline + 1 + size + 1;
  }
  return out;
}

export interface MigrationsAtRef {
  commit: string;
  /** Undefined when the folder does not exist at that commit. */
  source?: MigrationSource;
}

/**
 * The migrations folder `dir` (absolute, inside the repository at `cwd`) as it is at `ref`,
 * read as `tool`. Paths in the result are relative to `cwd`, like the working tree's.
 */
export async function readMigrationsAtRef(cwd: string, dir: string, ref: string, tool: MigrationTool): Promise<MigrationsAtRef> {
  const root = await repoRoot(cwd);
  const commit = await resolveRef(root, ref);
  const relativeDir = path.relative(root, dir).split(path.sep).join('/');
  const entries = await listTree(root, commit, relativeDir || '.');
  if (entries.length === 0) return { commit };
  const blobs = await readBlobs(
    root,
    commit,
    entries.map((e) => e.path),
  );
  const temp = mkdtempSync(path.join(os.tmpdir(), 'postgate-base-'));
  try {
    for (const [file, bytes] of blobs) {
      const target = path.join(temp, ...file.split('/'));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    const tempCwd = path.join(temp, path.relative(root, cwd));
    const source = readMigrations(path.join(temp, relativeDir), { cwd: tempCwd, format: tool, inputName: 'base-ref' });
    // Paths stay valid for messages; absolute paths point into the deleted temp folder, so drop them.
    for (const migration of source.migrations) migration.absolutePath = path.join(cwd, migration.file);
    return { commit, source: { ...source, dir } };
  } catch (error) {
    if (error instanceof UserError && /holds no/.test(error.message)) return { commit };
    throw error;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
