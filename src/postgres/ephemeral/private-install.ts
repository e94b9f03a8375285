/**
 * A private, relocatable copy of a PostgreSQL installation's layout, so that postgate's
 * stand-in extensions (../extensions) can be real extensions without writing into the
 * system's installation.
 *
 * PostgreSQL finds its `share` and `lib` directories relative to the real path of the running
 * `postgres` binary (it resolves symlinks): a server started from `<root>/<bin>/postgres` reads
 * extension control files from `<root>/<share>/extension` when `<bin>` and `<share>` keep the
 * relative positions they have in the original installation. So the copy holds:
 *
 *   <root>/<bin>/postgres         a copy (or hard link) of the server binary
 *   <root>/<pkglib>               a symlink to the installation's library directory
 *   <root>/<bin>/../lib           a symlink to the libraries beside the binaries, when present
 *   <root>/<share>/*              symlinks to every entry of the real share directory, except
 *   <root>/<share>/extension/     symlinks to every real extension file, plus the stand-ins'
 *                                 control and script files, plus the control files of the
 *                                 extensions Supabase lets its non-superuser `postgres` create
 *                                 (supautils' privileged extensions), marked `trusted`.
 *
 * It is built once per installation (and stand-in content) next to the template cache, under
 * a directory named by the hash of everything it is made from, and reused. A copy being built
 * is staged and renamed into place, so concurrent processes never see half a copy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { PRIVILEGED_EXTENSIONS } from '../extensions/supabase-extensions.ts';
import { STAND_INS } from '../extensions/stand-ins/index.ts';
import type { StandIn } from '../extensions/types.ts';
import type { PostgresInstallation } from './binaries.ts';
import { cacheRoot, traversableByOthers } from './cache.ts';

export interface InstallationDirs {
  /** Real path of the directory holding `postgres`. */
  binDir: string;
  /** The directory holding `extension/` (e.g. /usr/share/postgresql/15). */
  shareDir: string;
  /** `$libdir` (e.g. /usr/lib/postgresql/15/lib). */
  pkglibDir: string;
}

export interface PrivateInstallation {
  /** Where the copy's `postgres` lives: start the server from here. */
  binDir: string;
  /** Extra environment for the copy's binaries. */
  env: Record<string, string>;
  root: string;
  /** Stand-ins this copy provides (their real extension is absent or replaced). */
  standIns: string[];
  /** Libraries to preload (`shared_preload_libraries`), as Supabase does, among those this installation has. */
  preload: string[];
}

/**
 * Libraries Supabase preloads whose extensions cannot be created otherwise (pgaudit refuses
 * `create extension` unless preloaded) or do not work otherwise (pg_stat_statements' view).
 * Only libraries that act within the server: pg_cron's and pg_net's workers are not wanted.
 */
const PRELOADED = ['pg_stat_statements', 'pgaudit'];

function isDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function pgConfig(binDir: string, flag: string): string | undefined {
  const file = path.join(binDir, 'pg_config');
  if (!existsSync(file)) return undefined;
  try {
    return execFileSync(file, [flag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin' } }).trim();
  } catch {
    return undefined;
  }
}

/** The installation's share and library directories, as its own `pg_config` or its layout says. */
export function installationDirs(binDir: string): InstallationDirs {
  const realBin = path.dirname(realpathSync(path.join(binDir, 'postgres')));
  const shareCandidates = [pgConfig(realBin, '--sharedir'), path.join(realBin, '..', 'share', 'postgresql'), path.join(realBin, '..', 'share')];
  const libCandidates = [pgConfig(realBin, '--pkglibdir'), path.join(realBin, '..', 'lib', 'postgresql'), path.join(realBin, '..', 'lib')];
  const shareDir = shareCandidates.find((dir) => dir && existsSync(path.join(dir, 'extension', 'plpgsql.control')));
  const pkglibDir = libCandidates.find((dir) => dir && existsSync(path.join(dir, 'plpgsql.so')));
  if (!shareDir || !pkglibDir) {
    throw new UserError(
      `The PostgreSQL installation in ${binDir} has no ${shareDir ? 'library directory (plpgsql.so)' : 'share/extension directory (plpgsql.control)'} next to its binaries; reinstall it, or point PG_BIN at a complete installation.`,
    );
  }
  return { binDir: realBin, shareDir: realpathSync(shareDir), pkglibDir: realpathSync(pkglibDir) };
}

/** The longest directory that contains all of `dirs`. */
function commonDirectory(dirs: string[]): string {
  const parts = dirs.map((dir) => dir.split(path.sep));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0]![i]); i += 1) common.push(parts[0]![i]!);
  return common.join(path.sep) || path.sep;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The control file of a stand-in. */
export function standInControl(standIn: StandIn): string {
  return [
    `# postgate stand-in for ${standIn.name}: ${standIn.limits}`,
    `comment = ${quote(standIn.comment)}`,
    `default_version = ${quote(standIn.defaultVersion)}`,
    `relocatable = ${standIn.relocatable}`,
    'trusted = true',
    ...(standIn.schema ? [`schema = ${quote(standIn.schema)}`] : []),
    ...(standIn.requires?.length ? [`requires = ${quote(standIn.requires.join(', '))}`] : []),
    '',
  ].join('\n');
}

/** Every file of a stand-in in share/extension: control, one install script per version, update scripts to the default. */
export function standInFiles(standIn: StandIn): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`${standIn.name}.control`, standInControl(standIn));
  const header = `-- postgate stand-in for ${standIn.name}. ${standIn.limits}\n`;
  for (const version of [standIn.defaultVersion, ...(standIn.olderVersions ?? [])]) {
    files.set(`${standIn.name}--${version}.sql`, header + standIn.sql);
  }
  for (const version of standIn.olderVersions ?? []) {
    files.set(`${standIn.name}--${version}--${standIn.defaultVersion}.sql`, `${header}-- same objects in every version: nothing to change\n`);
  }
  return files;
}

/** A real extension's control file, marked trusted: what supautils does for Supabase's privileged extensions. */
export function trustedControl(text: string): string {
  const kept = text.split('\n').filter((line) => !/^\s*trusted\s*=/.test(line));
  return `${kept.join('\n').replace(/\n*$/, '\n')}# postgate: trusted, as supautils lets Supabase's postgres role create it\ntrusted = true\n`;
}

/** Which stand-ins a server with these extension files needs: the ones it lacks, and those that replace the real one. */
export function standInsFor(realExtensionFiles: ReadonlySet<string>): StandIn[] {
  return STAND_INS.filter((s) => s.replacesReal || !realExtensionFiles.has(`${s.name}.control`));
}

function contentHash(dirs: InstallationDirs, installation: PostgresInstallation, realFiles: string[]): string {
  const postgres = statSync(path.join(dirs.binDir, 'postgres'));
  const hash = createHash('sha256');
  hash.update([installation.version, dirs.binDir, dirs.shareDir, dirs.pkglibDir, postgres.size, postgres.mtimeMs].join('\0'));
  hash.update(realFiles.join('\0'));
  for (const standIn of STAND_INS) hash.update(JSON.stringify(standIn));
  hash.update(PRIVILEGED_EXTENSIONS.join(','));
  return hash.digest('hex').slice(0, 16);
}

/** A directory the server user can reach: the cache, unless we are root and it is private to root. */
function installsDir(): string {
  const preferred = path.join(cacheRoot(), 'installs');
  if (process.getuid?.() !== 0 || traversableByOthers(preferred)) return preferred;
  return path.join('/var/tmp', 'postgate-installs');
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function build(staging: string, dirs: InstallationDirs, realFiles: string[], standIns: StandIn[]): void {
  const common = commonDirectory([dirs.binDir, dirs.shareDir, dirs.pkglibDir]);
  const inCopy = (dir: string) => path.join(staging, path.relative(common, dir));
  const binDir = inCopy(dirs.binDir);
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  linkOrCopy(path.join(dirs.binDir, 'postgres'), path.join(binDir, 'postgres'));

  // Libraries beside the binaries ($ORIGIN/../lib of the embedded package), then $libdir.
  const besideLib = path.join(dirs.binDir, '..', 'lib');
  for (const [real, copy] of [
    [besideLib, inCopy(path.resolve(besideLib))],
    [dirs.pkglibDir, inCopy(dirs.pkglibDir)],
  ] as const) {
    if (!isDir(real) || existsSync(copy)) continue;
    mkdirSync(path.dirname(copy), { recursive: true, mode: 0o755 });
    symlinkSync(real, copy);
  }

  const shareDir = inCopy(dirs.shareDir);
  mkdirSync(path.join(shareDir, 'extension'), { recursive: true, mode: 0o755 });
  for (const entry of readdirSync(dirs.shareDir)) {
    if (entry !== 'extension') symlinkSync(path.join(dirs.shareDir, entry), path.join(shareDir, entry));
  }
  const replaced = new Set(standIns.map((s) => s.name));
  const privileged = new Set(PRIVILEGED_EXTENSIONS);
  for (const file of realFiles) {
    const name = /^([^-]+?)(?:--.*)?\.(?:control|sql)$/.exec(file)?.[1];
    if (name && replaced.has(name)) continue;
    const target = path.join(shareDir, 'extension', file);
    if (file.endsWith('.control') && name && privileged.has(name)) {
      writeFileSync(target, trustedControl(readFileSync(path.join(dirs.shareDir, 'extension', file), 'utf8')), { mode: 0o644 });
    } else {
      symlinkSync(path.join(dirs.shareDir, 'extension', file), target);
    }
  }
  for (const standIn of standIns) {
    for (const [file, text] of standInFiles(standIn)) writeFileSync(path.join(shareDir, 'extension', file), text, { mode: 0o644 });
  }
  writeFileSync(
    path.join(staging, 'postgate-install.json'),
    `${JSON.stringify({ binDir: path.relative(staging, binDir), standIns: standIns.map((s) => s.name) })}\n`,
  );
}

const built = new Map<string, PrivateInstallation>();
const inspected = new Map<string, { dirs: InstallationDirs; realFiles: string[]; key: string }>();

/**
 * The private copy of `installation` with postgate's stand-ins, built on first use. Throws a
 * UserError naming the directory when the cache cannot be written or a file cannot be linked.
 */
export function privateInstallation(installation: PostgresInstallation): PrivateInstallation {
  // what the installation holds is read once per process (~0.1 s for a share/extension of 1,000 files)
  let read = inspected.get(installation.binDir);
  if (!read) {
    const dirs = installationDirs(installation.binDir);
    const realFiles = readdirSync(path.join(dirs.shareDir, 'extension')).sort();
    read = { dirs, realFiles, key: contentHash(dirs, installation, realFiles) };
    inspected.set(installation.binDir, read);
  }
  const { dirs, realFiles, key } = read;
  const parent = installsDir();
  const root = path.join(parent, `pg${installation.version}-${key}`);
  const cached = built.get(root);
  if (cached && existsSync(path.join(root, 'postgate-install.json'))) return cached;

  const standIns = standInsFor(new Set(realFiles));
  if (!existsSync(path.join(root, 'postgate-install.json'))) {
    const staging = `${root}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(parent, { recursive: true, mode: 0o755 });
      build(staging, dirs, realFiles, standIns);
      renameSync(staging, root);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // another process renamed its copy into place first: use it
      if (!existsSync(path.join(root, 'postgate-install.json'))) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new UserError(
          `postgate could not build its private copy of PostgreSQL ${installation.version} in ${parent} (${reason}); make that directory writable, or set POSTGATE_CACHE_DIR to a writable directory.`,
        );
      }
    }
  }
  const manifest = JSON.parse(readFileSync(path.join(root, 'postgate-install.json'), 'utf8')) as { binDir: string; standIns: string[] };
  // $ORIGIN/../lib of the copy's binary is the link to the real libraries: the same environment works
  const result: PrivateInstallation = {
    binDir: path.join(root, manifest.binDir),
    env: { ...installation.env },
    root,
    standIns: manifest.standIns,
    preload: PRELOADED.filter((library) => existsSync(path.join(dirs.pkglibDir, `${library}.so`))),
  };
  built.set(root, result);
  return result;
}
