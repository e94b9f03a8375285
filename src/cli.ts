/**
 * `postgate <drift|rls|webhooks|drill|doctor> [flags]`: the same engine as the actions.
 * Flags have the action inputs' names (`--database-url`); every flag can also come from
 * the environment as POSTGATE_<NAME> (e.g. POSTGATE_DATABASE_URL), which keeps secrets
 * out of the process list. Exit codes: 0 pass, 1 gate failed, 2 could not run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GATES, type GateDefinition, gateByCommand } from './config/gates.ts';
import { appliesTo, envName, inputLabel, type InputReader } from './config/input-spec.ts';
import { registerJobSecrets } from './config/job-secrets.ts';
import { renderDoctor, runDoctor } from './doctor.ts';
import { confinePath } from './config/paths.ts';
import { describeError, UserError } from './errors.ts';
import { EXIT_CODES } from './findings/types.ts';
import type { Logger } from './gates/gate.ts';
import { invokeGate } from './gates/invoke.ts';
import { cleanupAll, stopCleanlyOnSignals } from './postgres/ephemeral/index.ts';
import { inertLog } from './report/inert.ts';
import { renderSarif } from './report/sarif.ts';
import { renderJson, renderText, shouldColor } from './report/text.ts';
import { redact } from './secrets.ts';

const VERSION = '0.1.0';

function usage(): string {
  const gates = Object.values(GATES)
    .map((gate) => `  ${gate.command.padEnd(10)} ${gate.description}`)
    .join('\n');
  return `Usage: postgate <command> [flags]

Commands:
${gates}
  doctor     Report Node.js, PostgreSQL binaries, Docker and the project layout found here.

Run \`postgate <command> --help\` for a command's flags. Every flag can also be set as
the environment variable POSTGATE_<FLAG> (e.g. POSTGATE_DATABASE_URL).
Exit codes: 0 pass, 1 gate failed, 2 could not run.
`;
}

function gateUsage(gate: GateDefinition): string {
  const lines = [`Usage: postgate ${gate.command} [flags]`, '', gate.description, '', 'Flags:'];
  for (const [name, spec] of Object.entries(gate.inputs)) {
    if (!appliesTo(spec, 'cli')) continue;
    const value = spec.kind === 'boolean' ? '' : spec.kind === 'enum' ? ` <${spec.values?.join('|')}>` : ` <${spec.kind}>`;
    const fallback = spec.defaultDescription ?? spec.default;
    lines.push(`  --${name}${value}`);
    lines.push(`      ${spec.description}${fallback ? ` Default: ${fallback}.` : ''}${spec.required ? ' Required.' : ''} Env: ${envName(name)}.`);
  }
  return `${lines.join('\n')}\n`;
}

function cliLogger(quiet: boolean): Logger {
  const write = (text: string) => {
    if (!quiet) process.stderr.write(inertLog(redact(text)));
  };
  return {
    info: (message) => write(`${message}\n`),
    warn: (message) => write(`warning: ${message}\n`),
    async step(name, fn) {
      const started = performance.now();
      write(`… ${name}\n`);
      try {
        return await fn();
      } finally {
        write(`  done: ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
      }
    },
  };
}

function fail(message: string): number {
  process.stderr.write(inertLog(`postgate: ${redact(message)}\n`));
  return 2;
}

/** What is wrong with the command line, from parseArgs's error (first half of one sentence). */
function argumentProblem(gate: GateDefinition, error: Error & { code?: string }): string {
  const message = (error.message.split('\n')[0] ?? '').replace(/\.$/, '');
  const quoted = /'([^'\s]+)/.exec(message)?.[1] ?? '';
  const switches = Object.entries(gate.inputs)
    .filter(([, spec]) => spec.kind === 'boolean' && appliesTo(spec, 'cli'))
    .map(([name]) => `\`--${name}\``);
  const switchNote = switches.length ? `, and switches such as ${switches[0]} take no value` : '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      // The stray value is not echoed: it may be a secret given to a switch (`--canary $TOKEN`).
      return `\`postgate ${gate.command}\` got a value without a flag (flags take the form \`--name value\`${switchNote})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(message)
        ? `Flag \`${quoted}\` needs a value (\`${quoted} <value>\`)`
        : `Flag \`${quoted}\` is a switch and takes no value (write \`${quoted}\` to turn it on, or leave it out)`;
    default:
      return quoted.startsWith('-')
        ? `\`${quoted}\` is not a valid flag for \`postgate ${gate.command}\` (${message})`
        : message;
  }
}

async function runGateCommand(gate: GateDefinition, argv: string[]): Promise<number> {
  stopCleanlyOnSignals();
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(gate.inputs)) {
    if (appliesTo(spec, 'cli')) options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    return fail(`${argumentProblem(gate, error as Error & { code?: string })}; run \`postgate ${gate.command} --help\` for the flags.`);
  }
  if (values.help) {
    process.stdout.write(gateUsage(gate));
    return 0;
  }
  // Where each value came from, so that messages name it as given (`--database-url` or POSTGATE_DATABASE_URL).
  const sourceOf = (name: string) => (values[name] !== undefined ? 'flag' : process.env[envName(name)] !== undefined ? 'env' : undefined);
  const read: InputReader = Object.assign(
    (name: string): string | undefined => {
      const value = values[name];
      if (typeof value === 'boolean') return String(value);
      return value ?? process.env[envName(name)];
    },
    { sourceOf },
  );
  // Every gate masks the secrets the job gives it (webhook secrets, database passwords, secret inputs).
  registerJobSecrets({ gate: gate.id, read, surface: 'cli', env: process.env, cwd: process.cwd() });
  const format = read('format') === 'json' ? 'json' : 'text';
  const { result } = await invokeGate(gate.id, read, 'cli', { log: cliLogger(format === 'json' && !process.stderr.isTTY) });
  process.stdout.write(format === 'json' ? renderJson(result) : renderText(result, { color: shouldColor(process.stdout) }));
  // Read as given, so that a run whose other inputs are invalid still writes its (error) report.
  const reportPath = read('report-path')?.trim();
  const sarifPath = read('sarif-path')?.trim();
  const written = [
    reportPath ? writeOutputFile(reportPath, renderJson(result), 'JSON report', 'report-path', sourceOf('report-path')) : true,
    sarifPath ? writeOutputFile(sarifPath, renderSarif(result, { workspace: process.cwd() }).text, 'SARIF file', 'sarif-path', sourceOf('sarif-path')) : true,
  ];
  // A file someone asked for and did not get is an error, whatever the verdict.
  return written.every(Boolean) ? EXIT_CODES[result.status] : EXIT_CODES.error;
}

/** Writes a file the user asked for, only inside the workspace or a temporary directory (src/config/paths.ts). */
function writeOutputFile(file: string, content: string, what: string, flag: string, source: 'flag' | 'env' | undefined): boolean {
  let target: string;
  try {
    target = confinePath(file, { label: inputLabel(flag, 'cli', source), base: process.cwd() });
  } catch (error) {
    // The gate's own error already when its inputs were read that far; said here too, since nothing was written.
    process.stderr.write(inertLog(`postgate: ${redact(error instanceof UserError ? error.message : describeError(error))}\n`));
    return false;
  }
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    return true;
  } catch (error) {
    process.stderr.write(`postgate: could not write the ${what} to ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); fix \`--${flag}\` or the folder's permissions.\n`);
    return false;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  if (command === 'version' || command === '--version') {
    process.stdout.write(`postgate ${VERSION}\n`);
    return 0;
  }
  if (command === 'doctor') {
    const json = rest.includes('--format=json') || rest.join(' ').includes('--format json');
    const report = await runDoctor(process.cwd());
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
    return 0;
  }
  const gate = gateByCommand(command);
  if (!gate) return fail(`Unknown command \`${command}\`; use one of ${Object.values(GATES).map((g) => g.command).join(', ')} or doctor.`);
  return runGateCommand(gate, rest);
}

/** Runs the CLI to completion: exit code set, throwaway clusters stopped. */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    process.exitCode = fail(describeError(error));
  } finally {
    await cleanupAll();
  }
}
