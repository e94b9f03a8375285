/**
 * The adapter every action's main.ts calls: read inputs, run the gate, report, exit.
 * The same bundle is the `post` step: it then reaps whatever the main step left running.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { GATES } from '../config/gates.ts';
import { countBySeverity, type GateId, type GateResult } from '../findings/types.ts';
import type { Logger } from '../gates/gate.ts';
import { invokeGate } from '../gates/invoke.ts';
import { cleanupAll, reapOrphans } from '../postgres/ephemeral/index.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { renderJson } from '../report/text.ts';
import { onSecretRegistered, redact } from '../secrets.ts';

const MAIN_PID_STATE = 'postgate-main-pid';

const actionLogger: Logger = {
  info: (message) => core.info(redact(message)),
  warn: (message) => core.warning(redact(message)),
  step: (name, fn) => core.group(redact(name), fn),
};

export async function runAction(gate: GateId): Promise<void> {
  const mainPid = core.getState(MAIN_PID_STATE);
  if (mainPid) {
    const reaped = reapOrphans({ ownerPid: Number(mainPid) });
    if (reaped) core.info(`postgate: cleaned up ${reaped} leftover resource(s) from the main step.`);
    return;
  }
  core.saveState(MAIN_PID_STATE, String(process.pid));
  onSecretRegistered((form) => core.setSecret(form));

  let result: GateResult;
  try {
    ({ result } = await invokeGate(gate, (name) => core.getInput(name), 'action', {
      cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
      log: actionLogger,
    }));
  } finally {
    await cleanupAll();
  }
  await publish(gate, result);
}

async function publish(gate: GateId, result: GateResult): Promise<void> {
  const counts = countBySeverity(result.findings);
  const reportPath = core.getInput('report-path') || path.join(process.env.RUNNER_TEMP || os.tmpdir(), `postgate-${gate}.json`);
  try {
    mkdirSync(path.dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, renderJson(result));
    core.setOutput('report-path', reportPath);
  } catch (error) {
    core.warning(`postgate: could not write the JSON report to ${reportPath}: ${(error as Error).message}`);
  }
  core.setOutput('status', result.status);
  core.setOutput('errors', counts.error);
  core.setOutput('warnings', counts.warning);
  core.setOutput('notices', counts.notice);
  try {
    await core.summary.addRaw(renderMarkdown(result)).write();
  } catch (error) {
    core.warning(`postgate: could not write the job summary: ${(error as Error).message}`);
  }
  const title = GATES[gate].title;
  if (result.status === 'error') {
    core.setFailed(redact(`${title} could not run: ${result.error}`));
    process.exitCode = 2;
  }
  else if (result.status === 'fail') core.setFailed(`${title} failed: ${counts.error} error(s), ${counts.warning} warning(s).`);
  else core.info(`${title} passed.`);
}
