/**
 * Scheduled and manual runs have no pull request to comment on: a failing gate opens one issue
 * per gate and target (found by the `postgate` label and a hidden marker), later failures
 * update it and add a short comment, and the first passing run comments and closes it.
 * Duplicates (two overlapping runs both creating one) are closed in favour of the oldest.
 *
 * Only issues opened by the token's own identity (./identity.ts) are postgate's: an issue anyone
 * else opened with the same label, title or marker is never updated, commented on or closed.
 */
import type { Octokit } from './api.ts';
import { type TokenIdentity, tokenIdentity, writtenBy } from './identity.ts';

export const ISSUE_LABEL = 'postgate';

export interface TrackedIssue {
  owner: string;
  repo: string;
  marker: string;
  title: string;
  /** Starts with the marker. */
  body: string;
  failing: boolean;
  /** One line for the comment on a repeated failure or a recovery, e.g. "[Run 42](url): 3 errors". */
  runLine: string;
}

export type IssueOutcome =
  { state: 'opened' | 'updated' | 'closed'; number: number; url?: string; duplicatesClosed: number } | { state: 'none'; duplicatesClosed: number };

interface OpenIssue {
  number: number;
  html_url?: string;
}

async function findOpen(octokit: Octokit, request: TrackedIssue, self: TokenIdentity): Promise<OpenIssue[]> {
  const found: OpenIssue[] = [];
  const pages = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
    owner: request.owner,
    repo: request.repo,
    labels: ISSUE_LABEL,
    state: 'open',
    per_page: 100,
  });
  for await (const page of pages) {
    for (const issue of page.data) {
      if (!issue.pull_request && issue.body?.includes(request.marker) && writtenBy(self, issue.user))
        found.push({ number: issue.number, html_url: issue.html_url });
    }
  }
  return found.sort((a, b) => a.number - b.number);
}

async function closeDuplicates(octokit: Octokit, request: TrackedIssue, keep: number, others: OpenIssue[]): Promise<number> {
  for (const issue of others) {
    await octokit.rest.issues.createComment({
      owner: request.owner,
      repo: request.repo,
      issue_number: issue.number,
      body: `Duplicate of #${keep}: postgate tracks this gate there.`,
    });
    await octokit.rest.issues.update({ owner: request.owner, repo: request.repo, issue_number: issue.number, state: 'closed', state_reason: 'not_planned' });
  }
  return others.length;
}

export async function trackIssue(octokit: Octokit, request: TrackedIssue): Promise<IssueOutcome> {
  const { owner, repo } = request;
  const self = await tokenIdentity(octokit);
  let open = await findOpen(octokit, request, self);
  let duplicatesClosed = 0;

  if (!request.failing) {
    if (!open.length) return { state: 'none', duplicatesClosed };
    const [first, ...rest] = open;
    duplicatesClosed = await closeDuplicates(octokit, request, first!.number, rest);
    await octokit.rest.issues.createComment({ owner, repo, issue_number: first!.number, body: `✅ Passing again: ${request.runLine}. Closing.` });
    await octokit.rest.issues.update({ owner, repo, issue_number: first!.number, state: 'closed', state_reason: 'completed', body: request.body });
    return { state: 'closed', number: first!.number, ...(first!.html_url ? { url: first!.html_url } : {}), duplicatesClosed };
  }

  let state: 'opened' | 'updated' = 'updated';
  if (!open.length) {
    const { data } = await octokit.rest.issues.create({ owner, repo, title: request.title, body: request.body, labels: [ISSUE_LABEL] });
    state = 'opened';
    // Another run may have opened one at the same time: keep the oldest, close the rest.
    open = await findOpen(octokit, request, self);
    if (!open.some((issue) => issue.number === data.number)) open.push({ number: data.number, html_url: data.html_url });
    open.sort((a, b) => a.number - b.number);
    if (open[0]!.number !== data.number) state = 'updated';
  }
  const [first, ...rest] = open;
  duplicatesClosed = await closeDuplicates(octokit, request, first!.number, rest);
  if (state === 'updated') {
    await octokit.rest.issues.update({ owner, repo, issue_number: first!.number, title: request.title, body: request.body });
    await octokit.rest.issues.createComment({ owner, repo, issue_number: first!.number, body: `❌ Still failing: ${request.runLine}.` });
  }
  return { state, number: first!.number, ...(first!.html_url ? { url: first!.html_url } : {}), duplicatesClosed };
}
