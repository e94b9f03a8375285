/**
 * The adapter every action's main.ts calls: read inputs, run the gate, publish the result
 * (JSON report, SARIF, outputs, PR comment, check run, issue, job summary, annotations), set
 * the verdict. The same bundle is the `post` step: it then reaps whatever the main step left
 * running. Reporting problems never change the verdict: exit 0 pass, 1 fail, 2 could not run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import * as github from '@actions/github';
import { GATES, type OutputSpec } from '../config/gates.ts';
import { type InputDefs, inputLabel } from '../config/input-spec.ts';
import { registerJobSecrets } from '../config/job-secrets.ts';
import { confinePath } from '../config/paths.ts';
import { countBySeverity, type GateId, type GateResult } from '../findings/types.ts';
import type { Logger } from '../core/context.ts';
import { invokeGate } from '../gates/invoke.ts';
import { RULE_CATALOG } from '../gates/rules-catalog.ts';
import { runStep, type StepEnd, type StepFailure, stepEndLine } from '../gates/step.ts';
import { COMMENT_MODES, type CommentMode } from '../github/comment.ts';
import { readRunContext } from '../github/context.ts';
import { type ActionsIO, publish } from '../github/publish.ts';
import { withSession } from '../postgres/connect.ts';
import { cleanupAll, reapOrphans, stopCleanlyOnSignals } from '../postgres/ephemeral/index.ts';
import { reapScratchDatabases, RUN_TOKEN } from '../postgres/scratch-databases.ts';
import { parseDatabaseUrl } from '../postgres/url.ts';
import type { Annotation } from '../report/annotations.ts';
import { inertLog } from '../report/inert.ts';
import { countsText } from '../report/format.ts';
import { renderSarif } from '../report/sarif.ts';
import { renderJson } from '../report/text.ts';
import { onSecretRegistered, redact, registerSecret } from '../secrets.ts';

const MAIN_PID_STATE = 'postgate-main-pid';
/** The main step's run token: the post step drops the scratch databases signed with it. */
const RUN_STATE = 'postgate-run';

/**
 * Counts warnings, because each one is a workflow annotation (10 per type per step).
 * `core.info` writes its text raw to the step's log, where the runner acts on workflow commands:
 * log lines can quote untrusted text (extension names from migrations, a server's log), so they
 * go through `inertLog`. `core.warning`, `core.error` and `core.group` escape their text already.
 */
export function actionLogger(): Logger & { warnings: number } {
  const logger = {
    warnings: 0,
    info: (message: string) => core.info(inertLog(redact(message))),
    warn: (message: string) => {
      logger.warnings += 1;
      core.warning(redact(message));
    },
    // A failed step is said after its group, where it shows while the group is folded.
    step: async <T>(name: string, fn: () => Promise<T>, failure?: StepFailure<T>) => {
      let end: StepEnd | undefined;
      try {
        return await core.group(redact(name), () => runStep(fn, failure, (ended) => (end = ended)));
      } finally {
        if (end?.failed) core.info(inertLog(redact(stepEndLine(name, end))));
      }
    },
  };
  return logger;
}

const actionsIO: ActionsIO = {
  summary: async (markdown) => {
    await core.summary.addRaw(markdown).write();
  },
  annotate: (annotation: Annotation) => {
    const properties = {
      title: annotation.title,
      ...(annotation.file ? { file: annotation.file, startLine: annotation.line ?? 1 } : {}),
    };
    if (annotation.severity === 'error') core.error(annotation.message, properties);
    else if (annotation.severity === 'warning') core.warning(annotation.message, properties);
    else core.notice(annotation.message, properties);
  },
  info: (message) => core.info(inertLog(redact(message))),
  warning: (message) => core.warning(message),
};

/** The database a run looked at (host:port/db, never credentials): one comment or issue per target. */
function describeTarget(read: (name: string) => string): string | undefined {
  for (const name of ['database-url', 'source-database-url']) {
    const raw = read(name).trim();
    if (!raw) continue;
    try {
      const target = parseDatabaseUrl(raw, name);
      return `${target.host}:${target.port}/${target.database}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Scratch databases the main step left on the servers it was given (it was killed before dropping them). */
async function reapScratchOnServers(gate: GateId, run: string): Promise<number> {
  let reaped = 0;
  for (const input of ['shadow-database-url', 'target-database-url'].filter((name) => name in GATES[gate].inputs)) {
    const url = core.getInput(input).trim();
    if (!url) continue;
    try {
      reaped += await withSession(url, { gate: 'cleanup', readOnly: false, inputName: input }, (admin) => reapScratchDatabases(admin, { run }));
    } catch {
      core.warning(
        `postgate: could not reach \`${input}\` to drop scratch databases the main step may have left; the next run against that server drops them.`,
      );
    }
  }
  return reaped;
}

export async function runAction(gate: GateId): Promise<void> {
  const mainPid = core.getState(MAIN_PID_STATE);
  if (mainPid) {
    const reaped = reapOrphans({ ownerPid: Number(mainPid) }) + (await reapScratchOnServers(gate, core.getState(RUN_STATE)));
    if (reaped) core.info(`postgate: cleaned up ${reaped} leftover resource(s) from the main step.`);
    return;
  }
  core.saveState(MAIN_PID_STATE, String(process.pid));
  core.saveState(RUN_STATE, RUN_TOKEN);
  stopCleanlyOnSignals();
  onSecretRegistered((form) => core.setSecret(form));
  // The runner passes action.yml defaults as if given; an input equal to its default counts as
  // not given (as on the CLI), so e.g. a missing default config file means "no config".
  const inputs: InputDefs = GATES[gate].inputs;
  const read = (name: string) => {
    const value = core.getInput(name);
    return value === inputs[name]?.default ? '' : value;
  };
  registerSecret(read('github-token'));
  const cwd = process.env.GITHUB_WORKSPACE || process.cwd();
  // Every gate masks (and the runner's masker hears of) the secrets the job gives it: the webhook
  // secrets' variables, the database passwords and the inputs marked secret.
  registerJobSecrets({ gate, read, surface: 'action', env: process.env, cwd });

  const logger = actionLogger();
  let result: GateResult;
  try {
    ({ result } = await invokeGate(gate, read, 'action', { cwd, log: logger }));
  } finally {
    await cleanupAll();
  }
  try {
    await report(gate, result, read, logger);
  } catch (error) {
    core.warning(redact(`postgate: could not publish every result (${(error as Error).message}); the verdict is unchanged.`));
  } finally {
    setVerdict(gate, result);
  }
}

async function report(gate: GateId, result: GateResult, read: (name: string) => string, logger: Logger & { warnings: number }): Promise<void> {
  const counts = countBySeverity(result.findings);
  core.setOutput('status', result.status);
  core.setOutput('errors', counts.error);
  core.setOutput('warnings', counts.warning);
  core.setOutput('notices', counts.notice);
  for (const [name, spec] of Object.entries(GATES[gate].outputs as Record<string, OutputSpec>)) {
    const value = spec.metricMs ? result.metrics[spec.metricMs] : undefined;
    if (value !== undefined) core.setOutput(name, Math.round(value / 1000));
  }

  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const target = describeTarget(read);
  // A report-path outside the workspace and the temp directories is refused (the run's error says so):
  // the report then goes where it goes by default, so that the error is still on record.
  const defaultReport = path.join(process.env.RUNNER_TEMP || os.tmpdir(), `postgate-${gate}.json`);
  const reportPath = confinedOutput('report-path', read, workspace, logger, result) ?? defaultReport;
  const written = writeFile(reportPath, renderJson(result), 'JSON report', logger);
  if (written) core.setOutput('report-path', reportPath);
  const sarifPath = confinedOutput('sarif-path', read, workspace, logger, result);
  if (sarifPath) {
    const sarif = renderSarif(result, { rules: RULE_CATALOG, workspace, ...(target ? { target } : {}) });
    if (writeFile(sarifPath, sarif.text, 'SARIF file', logger)) core.setOutput('sarif-path', sarifPath);
    if (sarif.unlocated) {
      core.info(
        `postgate: ${sarif.unlocated} finding(s) have no file location (they are about the database) and are not in the SARIF file; they are in the job summary and the JSON report.`,
      );
    }
  }

  const mode = read('comment').trim().toLowerCase();
  const token = read('github-token').trim();
  await publish(
    {
      result,
      rules: RULE_CATALOG,
      run: readRunContext(),
      ...(token ? { octokit: github.getOctokit(token) } : {}),
      comment: (COMMENT_MODES as readonly string[]).includes(mode) ? (mode as CommentMode) : 'auto',
      ...(target ? { target } : {}),
      ...(written ? { reportPath } : {}),
      annotationsUsed: { error: result.status === 'pass' ? 0 : 1, warning: logger.warnings },
    },
    actionsIO,
  );
}

/**
 * A path input postgate writes to, resolved from the workspace, when it stays inside the workspace
 * or a temporary directory (src/config/paths.ts); else undefined, with a warning unless that is
 * already the run's error.
 */
function confinedOutput(name: string, read: (name: string) => string, workspace: string, logger: Logger, result: GateResult): string | undefined {
  const raw = read(name).trim();
  if (!raw) return undefined;
  try {
    return confinePath(raw, { label: inputLabel(name, 'action'), base: workspace });
  } catch (error) {
    if ((error as Error).message !== result.error) logger.warn(`postgate: ${(error as Error).message}`);
    return undefined;
  }
}

function writeFile(file: string, content: string, what: string, logger: Logger): boolean {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return true;
  } catch (error) {
    logger.warn(`postgate: could not write the ${what} to ${file}: ${(error as Error).message}`);
    return false;
  }
}

function setVerdict(gate: GateId, result: GateResult): void {
  const title = GATES[gate].title;
  if (result.status === 'error') {
    core.setFailed(redact(`${title} could not run: ${result.error}`));
    process.exitCode = 2;
  } else if (result.status === 'fail') {
    core.setFailed(`${title} failed: ${countsText(countBySeverity(result.findings))}.`);
  } else {
    core.info(`${title} passed.`);
  }
}
