/**
 * Puts one gate's result where people look, and never changes its verdict:
 *
 * | run                         | channels                                                           |
 * |-----------------------------|--------------------------------------------------------------------|
 * | pull request                | sticky comment (per `comment` mode), check run with annotations    |
 * | schedule, manual, push to the default branch | tracking issue (opened, updated, closed)          |
 * | every run                   | job summary (always, under 1 MiB)                                  |
 * | no check run written        | workflow-command annotations (10 per type per step)                |
 *
 * When GitHub refuses (403 on a fork's read-only token, missing permissions) or stays down after
 * retries, the channel falls back to the job summary and annotations, with one warning saying
 * which channel, why, and that the verdict is unchanged. After GitHub is found unavailable the
 * remaining channels are not tried. Nothing here throws.
 */
import type { Rule } from '../findings/rules.ts';
import type { GateResult, Severity } from '../findings/types.ts';
import { SEVERITIES, countBySeverity } from '../findings/types.ts';
import { type Annotation, annotationsOf } from '../report/annotations.ts';
import { countsText, plural } from '../report/format.ts';
import { renderMarkdown, type SizeLimit, type SourceLinks } from '../report/markdown.ts';
import { gateTitle } from '../report/text.ts';
import { redact } from '../secrets.ts';
import { classify, DEFAULT_RETRY, type Failure, type Octokit, prepareOctokit, type RetryPolicy } from './api.ts';
import { type CheckRunOutcome, publishCheckRun } from './check-run.ts';
import { type CommentMode, type CommentOutcome, upsertComment, wantsNewComment } from './comment.ts';
import type { RunContext } from './context.ts';
import { type IssueOutcome, trackIssue } from './issue.ts';

/** GitHub rejects comment and issue bodies over 65,536 characters; keep a margin. */
export const COMMENT_LIMIT = 65_000;
/** Check run output.summary: 65,535 characters; room is kept for the annotation note. */
export const CHECK_SUMMARY_LIMIT = 65_000;
/** Each step's job summary: 1 MiB. */
export const JOB_SUMMARY_LIMIT = 1_000_000;
/** Workflow-command annotations shown per type per step. */
export const ANNOTATIONS_PER_TYPE = 10;

/** The runner side: job summary, workflow-command annotations, log. */
export interface ActionsIO {
  summary(markdown: string): Promise<void>;
  annotate(annotation: Annotation): void;
  info(message: string): void;
  warning(message: string): void;
}

export interface PublishRequest {
  result: GateResult;
  /** The rule catalog (RULE_CATALOG, passed in by the action: src/gates is above this layer), for rule titles and doc links. */
  rules: readonly Rule[];
  run: RunContext;
  /** Undefined without a token: only the job summary and annotations. */
  octokit?: Octokit;
  comment: CommentMode;
  /** Database the gate looked at (host:port/db), when several runs of one gate must not share a comment or issue. */
  target?: string;
  reportPath?: string;
  /** Workflow-command annotations of each type this step uses elsewhere (gate warnings, the failure line). */
  annotationsUsed?: Partial<Record<Severity, number>>;
  retry?: RetryPolicy;
}

type Channel = 'comment' | 'checkRun' | 'issue';

export interface ChannelFailure {
  state: 'failed';
  failure: Failure;
}

export interface PublishOutcome {
  comment?: CommentOutcome | ChannelFailure;
  checkRun?: CheckRunOutcome | ChannelFailure;
  issue?: IssueOutcome | ChannelFailure;
  /** Workflow-command annotations written, and findings they could not show. */
  annotations: { written: number; notWritten: number };
  warning?: string;
  summaryWritten: boolean;
}

const CHANNEL_NAME: Record<Channel, string> = { comment: 'the PR comment', checkRun: 'the check run', issue: 'the tracking issue' };
const PERMISSION: Record<Channel, string> = { comment: 'pull-requests: write', checkRun: 'checks: write', issue: 'issues: write' };

function markerSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._:/@-]+/g, '_');
}

export function commentMarker(gate: GateResult['gate'], target?: string): string {
  return `<!-- postgate:comment gate=${gate}${target ? ` target=${markerSafe(target)}` : ''} -->`;
}

export function issueMarker(gate: GateResult['gate'], target?: string): string {
  return `<!-- postgate:issue gate=${gate}${target ? ` target=${markerSafe(target)}` : ''} -->`;
}

function isFailure(outcome: unknown): outcome is ChannelFailure {
  return (outcome as ChannelFailure | undefined)?.state === 'failed';
}

export async function publish(request: PublishRequest, io: ActionsIO): Promise<PublishOutcome> {
  const { result, run } = request;
  const octokit = request.octokit && prepareOctokit(request.octokit, request.retry ?? DEFAULT_RETRY);
  const title = `postgate ${gateTitle(result.gate)}${request.target ? ` (${request.target})` : ''}`;
  const links: SourceLinks | undefined =
    run.owner && run.repo && run.sha
      ? { serverUrl: run.serverUrl, repository: `${run.owner}/${run.repo}`, sha: run.sha, ...(run.workspace ? { workspace: run.workspace } : {}) }
      : undefined;
  const jobSummary = run.runUrl ? `[the job summary](${run.runUrl})` : 'the job summary of this run';
  const facts = contextFacts(request, links);
  const outcome: PublishOutcome = { annotations: { written: 0, notWritten: 0 }, summaryWritten: false };
  const failures: Array<{ channel: Channel; failure: Failure }> = [];
  let unavailable = false;

  const attempt = async <T>(channel: Channel, fn: (octokit: Octokit) => Promise<T>): Promise<T | ChannelFailure> => {
    if (unavailable) {
      const failure: Failure = { kind: 'unavailable', attempts: 0, message: 'not tried: GitHub was unavailable for an earlier request' };
      failures.push({ channel, failure });
      return { state: 'failed', failure };
    }
    try {
      return await fn(octokit!);
    } catch (error) {
      const failure = classify(error);
      if (failure.kind === 'unavailable') unavailable = true;
      failures.push({ channel, failure });
      return { state: 'failed', failure };
    }
  };
  const limit = (max: number, reason: string): SizeLimit => ({ max, unit: 'characters', reason, fullReport: jobSummary });

  try {
    if (octokit && run.owner && run.repo) {
      const repo = { owner: run.owner, repo: run.repo };
      if (run.pullRequest) {
        const pr = run.pullRequest;
        if (request.comment !== 'never') {
          const marker = commentMarker(result.gate, request.target);
          const body = renderMarkdown(result, {
            rules: request.rules,
            marker,
            ...(links ? { links } : {}),
            context: [...facts, ...(run.runUrl ? [`[run](${run.runUrl})`] : [])],
            limit: limit(COMMENT_LIMIT, "GitHub's 65,536-character limit for comments"),
          });
          outcome.comment = await attempt('comment', (o) =>
            upsertComment(o, { ...repo, number: pr.number }, marker, body, wantsNewComment(request.comment, result)),
          );
        }
        const counts = countBySeverity(result.findings);
        outcome.checkRun = await attempt('checkRun', (o) =>
          publishCheckRun(o, {
            ...repo,
            headSha: pr.headSha,
            name: title,
            status: result.status,
            title: result.status === 'error' ? 'Could not run' : `${result.status === 'pass' ? 'Passed' : 'Failed'}: ${countsText(counts)}`,
            summary: renderMarkdown(result, {
              rules: request.rules,
              ...(links ? { links } : {}),
              context: facts,
              limit: limit(CHECK_SUMMARY_LIMIT, "GitHub's 65,535-character limit for check run summaries"),
            }),
            annotations: annotationsOf(result, run.workspace),
            ...(run.runUrl ? { detailsUrl: run.runUrl } : {}),
          }),
        );
      } else if (run.tracksIssue && request.comment !== 'never') {
        const marker = issueMarker(result.gate, request.target);
        const runLine = `${run.runUrl ? `[run](${run.runUrl})` : 'this run'}${run.sha ? ` at ${run.sha.slice(0, 7)}` : ''}: ${result.status === 'error' ? 'could not run' : countsText(countBySeverity(result.findings))}`;
        const body = renderMarkdown(result, {
          rules: request.rules,
          marker,
          preface: `_This issue is kept up to date by postgate${run.workflow ? ` in the workflow **${run.workflow}**` : ''}: each failing run updates it, and the first passing run closes it._`,
          ...(links ? { links } : {}),
          context: [...facts, ...(run.runUrl ? [`[run](${run.runUrl})`] : []), new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC'],
          limit: limit(COMMENT_LIMIT, "GitHub's 65,536-character limit for issues"),
        });
        outcome.issue = await attempt('issue', (o) =>
          trackIssue(o, {
            ...repo,
            marker,
            title: `${title} ${result.status === 'error' ? 'could not run' : 'is failing'}`,
            body,
            failing: result.status !== 'pass',
            runLine,
          }),
        );
      }
    } else if (!octokit && (run.pullRequest || run.tracksIssue)) {
      io.info(`${title}: no github-token, so no PR comment, check run or issue; the results are in the job summary and annotations.`);
    }

    if (!outcome.checkRun || isFailure(outcome.checkRun)) {
      outcome.annotations = writeAnnotations(
        io,
        annotationsOf(result, run.workspace),
        {
          ...request.annotationsUsed,
          warning: (request.annotationsUsed?.warning ?? 0) + (failures.length ? 1 : 0),
        },
        jobSummary,
      );
    }
    if (failures.length) {
      outcome.warning = degradedWarning(title, failures, run, result);
      io.warning(outcome.warning);
    }
  } finally {
    outcome.summaryWritten = await writeSummary(request, io, links, facts, outcome.warning);
  }
  return outcome;
}

function contextFacts(request: PublishRequest, links: SourceLinks | undefined): string[] {
  const facts: string[] = [];
  if (links) facts.push(`commit [\`${links.sha.slice(0, 7)}\`](${links.serverUrl}/${links.repository}/commit/${links.sha})`);
  if (request.target) facts.push(`database \`${request.target}\``);
  return facts;
}

async function writeSummary(
  request: PublishRequest,
  io: ActionsIO,
  links: SourceLinks | undefined,
  facts: string[],
  warning: string | undefined,
): Promise<boolean> {
  const where = request.reportPath
    ? `the JSON report (\`${request.reportPath}\`, output \`report-path\`; keep it with actions/upload-artifact)`
    : 'the JSON report (input `report-path`)';
  const markdown = renderMarkdown(request.result, {
    rules: request.rules,
    ...(links ? { links } : {}),
    context: facts,
    ...(warning ? { preface: `> [!WARNING]\n> ${warning}` } : {}),
    limit: { max: JOB_SUMMARY_LIMIT, unit: 'bytes', reason: "GitHub's 1 MiB limit for a step's job summary", fullReport: where },
  });
  try {
    await io.summary(markdown);
    return true;
  } catch (error) {
    io.info(redact(`postgate: could not write the job summary: ${(error as Error).message}`));
    return false;
  }
}

/**
 * Workflow-command annotations: GitHub shows 10 of each type per step. When findings of a type
 * do not fit, the last slot says how many were left out and where they are.
 */
function writeAnnotations(
  io: ActionsIO,
  annotations: Annotation[],
  used: Partial<Record<Severity, number>>,
  jobSummary: string,
): { written: number; notWritten: number } {
  let written = 0;
  let notWritten = 0;
  const where = jobSummary.replace(/^\[([^\]]+)\]\(([^)]+)\)$/, '$1 ($2)');
  for (const severity of SEVERITIES) {
    const list = annotations.filter((a) => a.severity === severity);
    const room = Math.max(0, ANNOTATIONS_PER_TYPE - (used[severity] ?? 0));
    if (list.length <= room) {
      for (const a of list) io.annotate(a);
      written += list.length;
      continue;
    }
    const shown = list.slice(0, Math.max(0, room - 1));
    for (const a of shown) io.annotate(a);
    written += shown.length;
    notWritten += list.length - shown.length;
    const note = `${plural(list.length - shown.length, `more ${severity} finding`)} not annotated here (GitHub shows ${ANNOTATIONS_PER_TYPE} ${severity} annotations per step); every finding is in ${where} and the JSON report.`;
    if (room > 0) io.annotate({ severity, title: `postgate: ${plural(list.length - shown.length, `${severity} finding`)} not annotated`, message: note });
    else io.info(note);
  }
  return { written, notWritten };
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function degradedWarning(title: string, failures: Array<{ channel: Channel; failure: Failure }>, run: RunContext, result: GateResult): string {
  const reasons: string[] = [];
  const denied = failures.filter((f) => f.failure.kind === 'denied');
  if (denied.length) {
    const http = `HTTP ${denied[0]!.failure.status}: ${denied[0]!.failure.message}`;
    reasons.push(
      run.pullRequest?.fromFork
        ? `${joinNames(denied.map((f) => CHANNEL_NAME[f.channel]))} (${http}): this pull request comes from a fork, and GitHub gives fork pull requests a read-only token`
        : `${joinNames(denied.map((f) => CHANNEL_NAME[f.channel]))} (${http}): the token may not write there; give the workflow ${joinNames([...new Set(denied.map((f) => `\`${PERMISSION[f.channel]}\``))])} in \`permissions\``,
    );
  }
  const down = failures.filter((f) => f.failure.kind === 'unavailable');
  if (down.length) {
    const first = down[0]!.failure;
    reasons.push(
      `${joinNames(down.map((f) => CHANNEL_NAME[f.channel]))}: GitHub's API kept failing (${first.status ? `HTTP ${first.status}: ` : ''}${first.message}, ${plural(first.attempts, 'attempt')})`,
    );
  }
  const other = failures.filter((f) => f.failure.kind === 'rejected' || f.failure.kind === 'failed');
  for (const f of other) reasons.push(`${CHANNEL_NAME[f.channel]}: GitHub rejected the request (HTTP ${f.failure.status}: ${f.failure.message})`);
  return redact(
    `${title}: could not post ${reasons.join('; ')}. The results are in the job summary and the annotations; the gate's verdict (${result.status}) is unchanged.`,
  );
}
