/**
 * `postgate <drift|rls|webhooks|drill|doctor> [flags]`: the same engine as the actions.
 * Flags have the action inputs' names (`--database-url`); every flag can also come from
 * the environment as POSTGATE_<NAME> (e.g. POSTGATE_DATABASE_URL), which keeps secrets
 * out of the process list. Exit codes: 0 pass, 1 gate failed, 2 could not run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { didYouMean, type FlagKinds, parseFlags } from './config/cli-args.ts';
import { GATES, type GateDefinition, gateByCommand, type OutputFormat, OUTPUT_FORMATS } from './config/gates.ts';
import { appliesTo, envName, inputLabel, type InputReader } from './config/input-spec.ts';
import { registerJobSecrets } from './config/job-secrets.ts';
import { renderDoctor, runDoctor } from './doctor.ts';
import { confinePath } from './config/paths.ts';
import { describeError, UserError } from './errors.ts';
import { EXIT_CODES, type GateResult } from './findings/types.ts';
import type { Logger } from './core/context.ts';
import { runStep, stepEndLine } from './gates/step.ts';
import { invokeGate } from './gates/invoke.ts';
import { RULE_CATALOG } from './gates/rules-catalog.ts';
import { cleanupAll, stopCleanlyOnSignals } from './postgres/ephemeral/index.ts';
import { renderWorkflowCommands } from './report/annotations.ts';
import { inertLog } from './report/inert.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderSarif } from './report/sarif.ts';
import { renderJson, renderText, shouldColor } from './report/text.ts';
import { redact } from './secrets.ts';
import packageJson from '../package.json' with { type: 'json' };

/** package.json's version, inlined by ncc at build time (scripts/build.ts). */
const VERSION = packageJson.version;
const DOCTOR_DESCRIPTION = 'Report Node.js, PostgreSQL binaries, Docker and the project layout found here.';

function usage(): string {
  const gates = Object.values(GATES)
    .map((gate) => `  ${gate.command.padEnd(10)} ${gate.description}`)
    .join('\n');
  return `Usage: postgate <command> [flags]

Commands:
${gates}
  doctor     ${DOCTOR_DESCRIPTION}

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

const DOCTOR_FORMATS = ['text', 'json'];

function doctorUsage(): string {
  return `Usage: postgate doctor [flags]

${DOCTOR_DESCRIPTION}

Flags:
  --format <${DOCTOR_FORMATS.join('|')}>
      Output format on stdout: readable text, or the report as JSON. Default: text.
`;
}

async function doctorCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags('doctor', { format: 'string' }, argv);
  if (parsed.kind === 'help') {
    process.stdout.write(doctorUsage());
    return 0;
  }
  if (parsed.kind === 'problem') return usageProblem(parsed.message, 'doctor');
  const format = String(parsed.values.format ?? 'text').toLowerCase();
  if (!DOCTOR_FORMATS.includes(format)) {
    return usageProblem(`Flag \`--format\` is "${parsed.values.format}"; use one of ${DOCTOR_FORMATS.join(', ')}.`, 'doctor');
  }
  const report = await runDoctor(process.cwd());
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
  return 0;
}

function cliLogger(quiet: boolean): Logger {
  const write = (text: string) => {
    if (!quiet) process.stderr.write(inertLog(redact(text)));
  };
  return {
    info: (message) => write(`${message}\n`),
    warn: (message) => write(`warning: ${message}\n`),
    step(name, fn, failure) {
      write(`… ${name}\n`);
      return runStep(fn, failure, (end) => write(`  ${stepEndLine(name, end)}\n`));
    },
  };
}

function fail(message: string): number {
  process.stderr.write(inertLog(`postgate: ${redact(message)}\n`));
  return 2;
}

/** A command line postgate cannot use: the problem in one sentence, then the command's usage line. */
function usageProblem(message: string, command?: string): number {
  const usageLine = command
    ? `Usage: postgate ${command} [flags] (\`postgate ${command} --help\` lists them)`
    : 'Usage: postgate <command> [flags] (`postgate --help` lists the commands)';
  process.stderr.write(inertLog(`postgate: ${redact(message)}\n${usageLine}\n`));
  return EXIT_CODES.error;
}

/** What each `--format` prints on stdout, and whether progress lines go to stderr meanwhile. */
const OUTPUT: Record<OutputFormat, { render: (result: GateResult) => string; progress: boolean }> = {
  text: { render: (result) => renderText(result, { color: shouldColor(process.stdout), rules: RULE_CATALOG }), progress: true },
  json: { render: renderJson, progress: false },
  markdown: { render: (result) => renderMarkdown(result, { rules: RULE_CATALOG }), progress: true },
  sarif: { render: (result) => renderSarif(result, { rules: RULE_CATALOG, workspace: process.cwd() }).text, progress: false },
  github: { render: (result) => renderWorkflowCommands(result, { title: GATES[result.gate].title, workspace: process.cwd() }), progress: true },
};

function isOutputFormat(value: string | undefined): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value ?? '');
}

async function runGateCommand(gate: GateDefinition, argv: string[]): Promise<number> {
  stopCleanlyOnSignals();
  const kinds: FlagKinds = {};
  for (const [name, spec] of Object.entries(gate.inputs)) {
    if (appliesTo(spec, 'cli')) kinds[name] = spec.kind === 'boolean' ? 'boolean' : 'string';
  }
  const parsed = parseFlags(gate.command, kinds, argv);
  if (parsed.kind === 'help') {
    process.stdout.write(gateUsage(gate));
    return 0;
  }
  if (parsed.kind === 'problem') return usageProblem(parsed.message, gate.command);
  const values: Record<string, string | boolean | undefined> = parsed.values;
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
  // An unknown format is reported by invokeGate (a usage problem); until then it is text.
  const given = read('format')?.trim().toLowerCase();
  const output = OUTPUT[isOutputFormat(given) ? given : 'text'];
  const { result, options } = await invokeGate(gate.id, read, 'cli', { log: cliLogger(!output.progress && !process.stderr.isTTY) });
  // Inputs that did not validate are a usage problem: in text, its sentence and the usage line, not an empty report.
  const usageOnly = !options && output === OUTPUT.text;
  if (usageOnly) usageProblem(result.error ?? 'the flags are not valid', gate.command);
  else process.stdout.write(output.render(result));
  // Read as given, so that a run whose other inputs are invalid still writes its (error) report.
  const reportPath = read('report-path')?.trim();
  const sarifPath = read('sarif-path')?.trim();
  const written = [
    reportPath ? writeOutputFile(reportPath, renderJson(result), 'JSON report', 'report-path', sourceOf('report-path')) : true,
    sarifPath
      ? writeOutputFile(
          sarifPath,
          renderSarif(result, { rules: RULE_CATALOG, workspace: process.cwd() }).text,
          'SARIF file',
          'sarif-path',
          sourceOf('sarif-path'),
        )
      : true,
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
    process.stderr.write(
      `postgate: could not write the ${what} to ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); fix \`--${flag}\` or the folder's permissions.\n`,
    );
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
  if (command === 'doctor') return doctorCommand(rest);
  const gate = gateByCommand(command);
  if (!gate) {
    const commands = [...Object.values(GATES).map((g) => g.command), 'doctor'];
    const meant = didYouMean(command, commands);
    return usageProblem(
      `Unknown command \`${command}\`; ${meant ? `did you mean \`${meant}\`?` : `use one of ${commands.slice(0, -1).join(', ')} or doctor.`}`,
    );
  }
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
