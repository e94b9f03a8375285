/**
 * What the workflow run is about, from the runner's environment and the event payload
 * (GITHUB_EVENT_PATH): the repository, the commit to link and annotate (the PR head, not the
 * merge commit), the pull request and its base branch, whether it comes from a fork, and where
 * results go.
 */
import { readFileSync } from 'node:fs';

export interface PullRequestRef {
  number: number;
  headSha: string;
  /** Head repository differs from the base: GITHUB_TOKEN is read-only there. */
  fromFork: boolean;
}

export interface RunContext {
  eventName: string;
  serverUrl: string;
  owner?: string;
  repo?: string;
  /** The commit findings link to: the PR head on pull requests, else GITHUB_SHA. */
  sha?: string;
  /** This run's page, where the job summary is shown. */
  runUrl?: string;
  workflow?: string;
  workspace?: string;
  pullRequest?: PullRequestRef;
  /**
   * The branch a pull request (or a merge queue entry) merges into: GITHUB_BASE_REF, else the
   * event payload's, since the variable is missing in some runs (reusable workflows, `act`, ...).
   */
  baseRef?: string;
  /** Scheduled, manual and default-branch runs report to a tracking issue (no PR to comment on). */
  tracksIssue: boolean;
}

/** Events with nobody watching a pull request: failures open an issue, recoveries close it. */
const ISSUE_EVENTS = new Set(['schedule', 'workflow_dispatch', 'repository_dispatch']);

interface Payload {
  pull_request?: { number?: number; head?: { sha?: string; repo?: { full_name?: string } | null }; base?: { ref?: string } };
  merge_group?: { base_ref?: string };
  repository?: { full_name?: string; default_branch?: string };
  ref?: string;
}

function readPayload(file: string | undefined): Payload {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Payload;
  } catch {
    return {};
  }
}

export function readRunContext(env: Record<string, string | undefined> = process.env): RunContext {
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? payload.repository?.full_name ?? '').split('/');
  const pr = payload.pull_request;
  const pullRequest: PullRequestRef | undefined =
    pr?.number && pr.head?.sha
      ? {
          number: pr.number,
          headSha: pr.head.sha,
          fromFork: pr.head.repo?.full_name !== (payload.repository?.full_name ?? env.GITHUB_REPOSITORY),
        }
      : undefined;
  const defaultBranchPush =
    eventName === 'push' && Boolean(payload.repository?.default_branch) && payload.ref === `refs/heads/${payload.repository?.default_branch}`;
  const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? '1');
  const runUrl =
    owner && repo && env.GITHUB_RUN_ID
      ? `${serverUrl}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${attempt > 1 ? `/attempts/${attempt}` : ''}`
      : undefined;
  const sha = pullRequest?.headSha ?? env.GITHUB_SHA;
  const baseRef = env.GITHUB_BASE_REF || pr?.base?.ref || payload.merge_group?.base_ref?.replace(/^refs\/heads\//, '') || undefined;
  return {
    eventName,
    serverUrl,
    ...(owner && repo ? { owner, repo } : {}),
    ...(sha ? { sha } : {}),
    ...(runUrl ? { runUrl } : {}),
    ...(env.GITHUB_WORKFLOW ? { workflow: env.GITHUB_WORKFLOW } : {}),
    ...(env.GITHUB_WORKSPACE ? { workspace: env.GITHUB_WORKSPACE } : {}),
    ...(pullRequest ? { pullRequest } : {}),
    ...(baseRef ? { baseRef } : {}),
    tracksIssue: !pullRequest && (ISSUE_EVENTS.has(eventName) || defaultBranchPush),
  };
}
