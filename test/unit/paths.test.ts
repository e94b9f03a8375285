/**
 * Hostile paths and encodings (issue 13, items 4, 8 and 11), without a database:
 * - where postgate may write (report-path, sarif-path, log-path, export-path, the backup of
 *   backup mode): inside the workspace or a temporary directory, after symbolic links;
 * - database URLs with bad percent-encoding: one sentence naming the input as given;
 * - migrations folders with symbolic links out of the repository, byte order marks;
 * - the schema filter's sentence.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DRIFT_INPUTS, DRILL_INPUTS, RLS_INPUTS } from '../../src/config/gates.ts';
import { givenLabel, givenName, type InputReader, parseInputs } from '../../src/config/input-spec.ts';
import { confinePath, realPathOf } from '../../src/config/paths.ts';
import { schemaFilterError } from '../../src/config/schema-filter.ts';
import { UserError } from '../../src/errors.ts';
import { flywayChecksum } from '../../src/migrations/checksums.ts';
import { ruleIdsOf } from '../../src/gates/rules-catalog.ts';
import { outsidePathFindings, readMigrations } from '../../src/migrations/sources.ts';
import { parseDatabaseUrl } from '../../src/postgres/url.ts';
import { redact } from '../../src/secrets.ts';

let base: string;
const saved = { TMPDIR: process.env.TMPDIR, GITHUB_WORKSPACE: process.env.GITHUB_WORKSPACE, RUNNER_TEMP: process.env.RUNNER_TEMP };

/** The message of the UserError `fn` throws (fails when it throws nothing or something else). */
function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected a UserError');
}

const oneSentence = (message: string) => expect(message.split(/\.\s/).length, message).toBe(1);

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'paths-')));
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('where postgate writes', () => {
  let workspace: string;
  let temp: string;
  let runnerTemp: string;
  let outside: string;
  let env: Record<string, string>;

  beforeEach(() => {
    const root = mkdtempSync(path.join(base, 'case-'));
    [workspace, temp, runnerTemp, outside] = ['workspace', 'tmp', 'runner-temp', 'outside'].map((name) => {
      mkdirSync(path.join(root, name));
      return path.join(root, name);
    }) as [string, string, string, string];
    // os.tmpdir() follows TMPDIR: a temp directory of its own, so that `outside` is outside everything
    process.env.TMPDIR = temp;
    env = { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp };
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const confine = (raw: string, from = workspace) => confinePath(raw, { label: 'Flag `--report-path`', base: from, env });

  it('accepts the workspace, RUNNER_TEMP and the temporary directory, relative or absolute', () => {
    expect(confine('out/drift.json')).toBe(path.join(workspace, 'out/drift.json'));
    expect(confine(path.join(runnerTemp, 'r.json'))).toBe(path.join(runnerTemp, 'r.json'));
    expect(confine(path.join(temp, 'deep/new/t.sarif'))).toBe(path.join(temp, 'deep/new/t.sarif'));
    expect(confine('./a/../b.json')).toBe(path.join(workspace, 'b.json'));
  });

  it('refuses `..` and absolute paths that leave them, in one sentence naming the input', () => {
    const message = userError(() => confine('../outside/report.json'));
    expect(message).toBe(
      `Flag \`--report-path\` is ../outside/report.json (${path.join(outside, 'report.json')}), which is outside the workspace (${workspace}), RUNNER_TEMP (${runnerTemp}) and the temporary directory (${temp}); write it inside one of them.`,
    );
    oneSentence(message);
    expect(userError(() => confine('/etc/postgate.json'))).toMatch(/^Flag `--report-path` is \/etc\/postgate\.json, which is outside /);
    expect(userError(() => confine(`${workspace}-evil/x.json`))).toMatch(/which is outside/);
  });

  it('follows symbolic links of existing folders and of the file itself, dangling ones included', () => {
    symlinkSync(outside, path.join(workspace, 'reports'));
    expect(userError(() => confine('reports/drift.json'))).toMatch(
      /^Flag `--report-path` is reports\/drift\.json \(through a symbolic link: .*\/outside\/drift\.json\), which is outside/,
    );
    // a link that points nowhere yet: writing would create its target
    symlinkSync(path.join(outside, 'later.json'), path.join(workspace, 'dangling.json'));
    expect(userError(() => confine('dangling.json'))).toMatch(/through a symbolic link: .*\/outside\/later\.json/);
    // `..` after a link is taken lexically, as every writer resolves the path before opening it
    expect(confine('reports/../fine.json')).toBe(path.join(workspace, 'fine.json'));
    // a relative link that climbs out
    symlinkSync('../outside', path.join(workspace, 'up'));
    expect(userError(() => confine('up/x.json'))).toMatch(/through a symbolic link/);
    // links that stay inside are fine
    mkdirSync(path.join(workspace, 'real'));
    symlinkSync(path.join(workspace, 'real'), path.join(workspace, 'alias'));
    expect(confine('alias/ok.json')).toBe(path.join(workspace, 'alias/ok.json'));
    // a loop
    symlinkSync(path.join(workspace, 'loop-b'), path.join(workspace, 'loop-a'));
    symlinkSync(path.join(workspace, 'loop-a'), path.join(workspace, 'loop-b'));
    expect(userError(() => confine('loop-a/x.json'))).toMatch(/^Flag `--report-path` is loop-a\/x\.json \(a loop of symbolic links\), which is outside/);
    expect(realPathOf(path.join(workspace, 'loop-a'))).toBeUndefined();
  });

  it('falls back to the working directory without GITHUB_WORKSPACE and to os.tmpdir() without RUNNER_TEMP', () => {
    env = {};
    expect(confinePath('x.json', { label: 'Flag `--log-path`', base: workspace, env })).toBe(path.join(workspace, 'x.json'));
    expect(userError(() => confinePath(path.join(runnerTemp, 'x.json'), { label: 'Flag `--log-path`', base: workspace, env }))).toBe(
      `Flag \`--log-path\` is ${path.join(runnerTemp, 'x.json')}, which is outside the workspace (${workspace}) and the temporary directory (${temp}); write it inside one of them.`,
    );
  });

  it('parseInputs checks every path postgate writes, named as given', () => {
    const cwd = process.cwd();
    const evil = path.join(outside, 'x');
    process.chdir(workspace);
    try {
      const reader = (values: Record<string, string>, fromEnv: string[] = []): InputReader =>
        Object.assign((name: string) => values[name], {
          sourceOf: (name: string) => (name in values ? (fromEnv.includes(name) ? ('env' as const) : ('flag' as const)) : undefined),
        });
      for (const name of ['report-path', 'sarif-path']) {
        expect(userError(() => parseInputs(RLS_INPUTS, reader({ [name]: evil }), 'cli'))).toMatch(
          new RegExp(`^Flag \`--${name}\` is ${evil}, which is outside`),
        );
        expect(userError(() => parseInputs(RLS_INPUTS, reader({ [name]: evil }), 'action'))).toMatch(
          new RegExp(`^Input \`${name}\` is ${evil}, which is outside`),
        );
      }
      expect(userError(() => parseInputs(DRILL_INPUTS, reader({ 'log-path': evil }, ['log-path']), 'cli'))).toMatch(
        /^Environment variable `POSTGATE_LOG_PATH` is .*, which is outside/,
      );
      expect(userError(() => parseInputs(DRILL_INPUTS, reader({ 'export-path': evil }), 'action'))).toMatch(/^Input `export-path` is .*, which is outside/);
      // a backup is read from anywhere; written (backup mode) only inside
      expect(parseInputs(DRILL_INPUTS, reader({ 'dump-path': evil }), 'cli').dumpPath).toBe(evil);
      const backup = { 'source-database-url': 'postgresql://u@h/db', 'dump-path': evil, 'write-manifest': 'm.json' };
      expect(userError(() => parseInputs(DRILL_INPUTS, reader(backup), 'cli'))).toMatch(/^Flag `--dump-path` is .*, which is outside/);
      expect(userError(() => parseInputs(DRILL_INPUTS, reader({ ...backup, 'dump-path': 'b.dump', 'write-manifest': evil }), 'cli'))).toMatch(
        /^Flag `--write-manifest` is .*, which is outside/,
      );
      // inside: parsed as given
      expect(parseInputs(RLS_INPUTS, reader({ 'report-path': 'out/r.json', 'sarif-path': path.join(temp, 's.sarif') }), 'cli')).toMatchObject({
        reportPath: 'out/r.json',
      });
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('database URLs with bad percent-encoding', () => {
  const PASSWORD = 'pa%ss-Word-1983';
  it.each([
    ['password', `postgresql://app:${PASSWORD}@db.example.com/app`],
    ['user name', 'postgresql://ap%p:secret@db.example.com/app'],
    ['host', 'postgresql://app:secret@db%.example.com/app'],
    ['database name', 'postgresql://app:secret@db.example.com/a%pp'],
    ['query parameters', 'postgresql://app@db.example.com/app?password=a%zz'],
    ['password', 'postgresql://app:%@db.example.com/app'],
  ])('a bare %% in the %s: one sentence naming the input, not the value', (part, url) => {
    const message = userError(() => parseDatabaseUrl(url, '--database-url'));
    expect(message).toBe(`\`--database-url\` has a % in its ${part} that does not start a percent-encoded byte (%XX); write a literal % as %25.`);
    expect(message).not.toMatch(/URI malformed|internal/);
  });

  it('bytes that are not UTF-8 once decoded', () => {
    expect(userError(() => parseDatabaseUrl('postgresql://app:%ff%fe@h/db', 'shadow-database-url'))).toBe(
      '`shadow-database-url` has percent-encoded bytes in its password that are not UTF-8 text; encode the text as UTF-8 before percent-encoding it (a literal % is %25).',
    );
    // well-formed encoding still decodes
    expect(parseDatabaseUrl('postgresql://app:p%25ss%C3%A9@h/d%C3%A9').password).toBe('p%ssé');
  });

  it('names every URL input as it was given: flag, POSTGATE_* variable, action input', () => {
    const url = `postgresql://app:${PASSWORD}@db.example.com/app`;
    const fromEnv: InputReader = Object.assign((name: string) => (name === 'database-url' ? url : undefined), {
      sourceOf: (name: string) => (name === 'database-url' ? ('env' as const) : undefined),
    });
    expect(userError(() => parseInputs(DRIFT_INPUTS, fromEnv, 'cli'))).toMatch(/^`POSTGATE_DATABASE_URL` has a % in its password/);
    expect(userError(() => parseInputs(DRIFT_INPUTS, (name) => (name === 'database-url' ? url : undefined), 'cli'))).toMatch(
      /^`--database-url` has a % in its password/,
    );
    expect(userError(() => parseInputs(DRIFT_INPUTS, (name) => (name === 'database-url' ? url : undefined), 'action'))).toMatch(
      /^`database-url` has a % in its password/,
    );
    for (const name of ['shadow-database-url', 'source-database-url', 'target-database-url']) {
      const inputs = name === 'shadow-database-url' ? DRIFT_INPUTS : DRILL_INPUTS;
      expect(userError(() => parseInputs(inputs, (n) => (n === name ? url : undefined), 'action'))).toMatch(new RegExp(`^\`${name}\` has a % in its password`));
    }
    // the raw password is masked all the same
    expect(redact(`x ${PASSWORD} y`)).toBe('x *** y');
  });

  it('remembers how each input was given, for messages the gates raise later', () => {
    const reader: InputReader = Object.assign((name: string) => ({ schemas: 'Public', 'exclude-schemas': 'x' })[name], {
      sourceOf: (name: string) => (name === 'schemas' ? ('flag' as const) : name === 'exclude-schemas' ? ('env' as const) : undefined),
    });
    const cli = parseInputs(DRIFT_INPUTS, reader, 'cli');
    expect([givenName(cli, 'schemas'), givenLabel(cli, 'schemas'), givenLabel(cli, 'exclude-schemas')]).toEqual([
      '--schemas',
      'Flag `--schemas`',
      'Environment variable `POSTGATE_EXCLUDE_SCHEMAS`',
    ]);
    const action = parseInputs(DRIFT_INPUTS, reader, 'action');
    expect(givenLabel(action, 'schemas')).toBe('Input `schemas`');
    expect(givenName({}, 'schemas')).toBe('schemas');
  });
});

describe('migrations folders: symbolic links and encodings', () => {
  let repo: string;
  let secret: string;

  beforeEach(() => {
    repo = mkdtempSync(path.join(base, 'repo-'));
    const elsewhere = mkdtempSync(path.join(base, 'elsewhere-'));
    secret = path.join(elsewhere, '99_secret.sql');
    writeFileSync(secret, "select 'RUNNER-SECRET-1234';\n");
    mkdirSync(path.join(repo, 'sql'));
    mkdirSync(path.join(repo, 'shared'));
    writeFileSync(path.join(repo, 'sql/001_a.sql'), 'create table a (id int);\n');
    writeFileSync(path.join(repo, 'shared/b.sql'), 'create table b (id int);\n');
  });

  it('follows links inside the repository, refuses the ones that lead out, with a finding naming them', () => {
    symlinkSync('../shared/b.sql', path.join(repo, 'sql/002_b.sql'));
    symlinkSync(secret, path.join(repo, 'sql/003_env.sql'));
    symlinkSync('/proc/self/environ', path.join(repo, 'sql/004_environ.sql'));
    const source = readMigrations('sql', { cwd: repo, format: 'plain' });
    expect(source.migrations.map((m) => [m.file, m.sql])).toEqual([
      ['sql/001_a.sql', 'create table a (id int);\n'],
      ['sql/002_b.sql', 'create table b (id int);\n'],
    ]);
    expect(JSON.stringify(source)).not.toContain('RUNNER-SECRET-1234');
    const findings = outsidePathFindings(source.problems);
    expect(findings.map((f) => [f.rule, f.severity, f.object.name, f.location?.file])).toEqual([
      ['migration_symlink_outside', 'error', 'sql/003_env.sql', 'sql/003_env.sql'],
      ['migration_symlink_outside', 'error', 'sql/004_environ.sql', 'sql/004_environ.sql'],
    ]);
    expect(findings[1]!.message).toBe(
      '`sql/004_environ.sql` is a symbolic link to /proc/self/environ, outside the repository, so postgate does not follow it (the migration tool would apply whatever that path holds on the machine it runs on); replace the link with the file itself.',
    );
    // both gates that read migrations know the rule (allowlists, docs/rules.md)
    for (const gate of ['drift', 'rls'] as const) expect([...ruleIdsOf(gate)]).toContain('migration_symlink_outside');
  });

  it('refuses linked folders and tool files that lead out (flyway subfolders, prisma, drizzle journal tags)', () => {
    const outside = mkdtempSync(path.join(base, 'outside-'));
    writeFileSync(path.join(outside, 'V9__steal.sql'), "select 'RUNNER-SECRET-1234';\n");
    writeFileSync(path.join(outside, 'migration.sql'), "select 'RUNNER-SECRET-1234';\n");
    mkdirSync(path.join(repo, 'flyway'));
    writeFileSync(path.join(repo, 'flyway/V1__a.sql'), 'create table a (id int);\n');
    symlinkSync(outside, path.join(repo, 'flyway/more'));
    const flyway = readMigrations('flyway', { cwd: repo, format: 'flyway' });
    expect(flyway.migrations.map((m) => m.file)).toEqual(['flyway/V1__a.sql']);
    expect(outsidePathFindings(flyway.problems).map((f) => f.object.name)).toEqual(['flyway/more']);

    mkdirSync(path.join(repo, 'prisma/20240101000000_a'), { recursive: true });
    symlinkSync(path.join(outside, 'migration.sql'), path.join(repo, 'prisma/20240101000000_a/migration.sql'));
    writeFileSync(path.join(repo, 'prisma/migration_lock.toml'), 'provider = "postgresql"\n');
    const prisma = readMigrations('prisma', { cwd: repo, format: 'prisma' });
    expect(prisma.migrations).toEqual([]);
    expect(outsidePathFindings(prisma.problems).map((f) => f.object.name)).toEqual(['prisma/20240101000000_a/migration.sql']);

    mkdirSync(path.join(repo, 'drizzle/meta'), { recursive: true });
    const tag = path.relative(path.join(repo, 'drizzle'), path.join(outside, 'V9__steal'));
    writeFileSync(path.join(repo, 'drizzle/meta/_journal.json'), JSON.stringify({ entries: [{ idx: 0, when: 1, tag }] }));
    const drizzle = readMigrations('drizzle', { cwd: repo, format: 'drizzle' });
    expect(drizzle.migrations).toEqual([]);
    expect(outsidePathFindings(drizzle.problems)).toHaveLength(1);
    expect(JSON.stringify([flyway, prisma, drizzle])).not.toContain('RUNNER-SECRET-1234');
  });

  it('a migrations folder that a link takes out of the repository is not read', () => {
    const outside = mkdtempSync(path.join(base, 'outside-'));
    writeFileSync(path.join(outside, '001_x.sql'), "select 'RUNNER-SECRET-1234';\n");
    mkdirSync(path.join(repo, 'supabase'));
    symlinkSync(outside, path.join(repo, 'supabase/migrations'));
    const message = userError(() => readMigrations('supabase/migrations', { cwd: repo }));
    expect(message).toMatch(
      /^Input `migrations-dir` is supabase\/migrations, which a symbolic link takes outside the repository \(to .*\), so postgate does not read it; replace the link with the folder, or name the real folder in `migrations-dir`\.$/,
    );
    oneSentence(message);
    // named directly, it is the user's choice
    expect(readMigrations(outside, { cwd: repo, format: 'plain' }).migrations).toHaveLength(1);
  });

  it('a dangling link with a migration name is a problem, not a silent skip', () => {
    symlinkSync('../shared/nothing.sql', path.join(repo, 'sql/002_gone.sql'));
    const source = readMigrations('sql', { cwd: repo, format: 'plain' });
    expect(source.problems).toEqual([
      expect.objectContaining({
        file: 'sql/002_gone.sql',
        severity: 'error',
        problem: expect.stringMatching(/is a symbolic link to \.\.\/shared\/nothing\.sql, which does not exist/),
      }),
    ]);
  });

  it('a UTF-8 BOM: dropped where the tool drops it (psql for plain files, Flyway), rejected in one sentence where it breaks the file', () => {
    const bom = '\uFEFF';
    writeFileSync(path.join(repo, 'sql/002_bom.sql'), `${bom}create table bom (id int);\n`);
    const plain = readMigrations('sql', { cwd: repo, format: 'plain' }).migrations[1]!;
    expect(plain.sql).toBe('create table bom (id int);\n');
    expect(plain.raw.startsWith(bom)).toBe(true);
    expect(plain.sqlOffset).toBe(1);

    mkdirSync(path.join(repo, 'flyway'));
    writeFileSync(path.join(repo, 'flyway/V1__bom.sql'), `${bom}create table f (id int);\n`);
    const flyway = readMigrations('flyway', { cwd: repo, format: 'flyway' }).migrations[0]!;
    expect(flyway.sql).toBe('create table f (id int);\n');
    expect(flywayChecksum(flyway.raw)).toBe(flywayChecksum('create table f (id int);\n'));

    for (const [format, folder, file] of [
      ['supabase', 'supabase/migrations', '20240101000000_bom.sql'],
      ['sqlx', 'sqlx', '20240101000000_bom.sql'],
      ['dbmate', 'dbmate', '20240101000000_bom.sql'],
      ['golang-migrate', 'golang', '1_bom.up.sql'],
      ['node-pg-migrate', 'npm', '1700000000000_bom.sql'],
    ] as const) {
      mkdirSync(path.join(repo, folder), { recursive: true });
      writeFileSync(path.join(repo, folder, file), `${bom}-- migrate:up\ncreate table x (id int);\n`);
      const message = userError(() => readMigrations(folder, { cwd: repo, format }));
      expect(message).toMatch(
        new RegExp(
          `^Migration file ${folder}/${file.replace(/\./g, '\\.')} starts with a UTF-8 byte order mark, which .+ does not remove, so the file fails to apply; re-save it as UTF-8 without a BOM\\.$`,
        ),
      );
      oneSentence(message);
    }
    // node-pg-migrate JavaScript migrations are Node's business (it drops a BOM itself)
    mkdirSync(path.join(repo, 'npm-js'));
    writeFileSync(path.join(repo, 'npm-js/1700000000000_js.js'), `${bom}exports.up = () => {};\n`);
    expect(readMigrations('npm-js', { cwd: repo, format: 'node-pg-migrate' }).migrations).toHaveLength(1);
  });

  it('not UTF-8: rejected in one sentence (before anything is applied)', () => {
    writeFileSync(path.join(repo, 'sql/002_latin1.sql'), Buffer.from("select 'caf\xe9';\n", 'latin1'));
    const message = userError(() => readMigrations('sql', { cwd: repo, format: 'plain' }));
    expect(message).toMatch(/^Migration file .*002_latin1\.sql is not valid UTF-8 \(first bad byte on line 1\); re-save it as UTF-8\.$/);
  });

  afterEach(() => {
    expect(readFileSync(secret, 'utf8')).toContain('RUNNER-SECRET');
  });
});

describe('schema filter sentence', () => {
  const databases = [
    { name: 'the live database', schemas: ['public', 'app', 'auth'] },
    { name: 'the shadow database built from the migrations', schemas: ['public', 'app'] },
  ];

  it('names the missing schemas and lists what exists, with a hint for case', () => {
    const error = schemaFilterError({
      schemas: { names: ['Public', 'nosuchschema'], label: 'Flag `--schemas`' },
      databases,
      shown: ['public', 'app', 'public'],
      objectsLeft: 10,
    });
    expect(error?.message).toBe(
      'Flag `--schemas` names schemas "Public", "nosuchschema", which neither the live database nor the shadow database built from the migrations has (schema names are case-sensitive: "public", not "Public"); the schemas there are app, public.',
    );
    oneSentence(error!.message);
    expect(schemaFilterError({ schemas: { names: ['auth', 'public'], label: 'Input `schemas`' }, databases, shown: [], objectsLeft: 0 })).toBeUndefined();
  });

  it('an exclusion that leaves nothing to compare', () => {
    const error = schemaFilterError({ exclude: { names: ['public'], label: 'Input `exclude-schemas`' }, databases, shown: ['public'], objectsLeft: 0 });
    expect(error?.message).toBe(
      'Input `exclude-schemas` leaves nothing to compare: without public, neither the live database nor the shadow database built from the migrations has an object to compare; exclude fewer schemas (the schemas there are public).',
    );
    expect(schemaFilterError({ exclude: { names: ['public'], label: 'x' }, databases, shown: ['public'], objectsLeft: 3 })).toBeUndefined();
  });
});
