/**
 * One sticky comment per gate (and target) per pull request: found by the hidden marker on its
 * first line (comments are read 100 per page), updated in place, created only when the
 * `comment` mode asks for it. An existing comment is always brought up to date, so a comment
 * posted while the gate failed turns green when it passes.
 *
 * Only a comment written by the token's own identity counts (./identity.ts): the marker is text
 * anyone can post, so a comment by anyone else that starts with it is ignored and never edited,
 * and postgate posts its own next to it.
 */
import type { GateResult } from '../findings/types.ts';
import type { Octokit } from './api.ts';
import { type TokenIdentity, tokenIdentity, writtenBy } from './identity.ts';

export const COMMENT_MODES = ['auto', 'always', 'on-failure', 'never'] as const;
export type CommentMode = (typeof COMMENT_MODES)[number];

/** Whether a new comment is worth posting (an existing one is updated whatever the mode, except never). */
export function wantsNewComment(mode: CommentMode, result: GateResult): boolean {
  switch (mode) {
    case 'always':
      return true;
    case 'auto':
      return result.status !== 'pass' || result.findings.length > 0;
    case 'on-failure':
      return result.status !== 'pass';
    case 'never':
      return false;
  }
}

export interface IssueRef {
  owner: string;
  repo: string;
  /** PR number (pull requests are issues for comments). */
  number: number;
}

export interface ExistingComment {
  id: number;
  body: string;
  url?: string;
}

/** The first comment that starts with `marker` and was written by `identity` (the token's, by default). */
export async function findComment(octokit: Octokit, ref: IssueRef, marker: string, identity?: TokenIdentity): Promise<ExistingComment | undefined> {
  const self = identity ?? (await tokenIdentity(octokit));
  const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner: ref.owner,
    repo: ref.repo,
    issue_number: ref.number,
    per_page: 100,
  });
  for await (const page of pages) {
    const found = page.data.find((comment) => comment.body?.startsWith(marker) && writtenBy(self, comment.user));
    if (found) return { id: found.id, body: found.body ?? '', url: found.html_url };
  }
  return undefined;
}

export type CommentOutcome = { state: 'created' | 'updated' | 'unchanged'; url?: string } | { state: 'skipped'; reason: string };

/** `body` must start with `marker`. */
export async function upsertComment(octokit: Octokit, ref: IssueRef, marker: string, body: string, create: boolean): Promise<CommentOutcome> {
  const existing = await findComment(octokit, ref, marker);
  if (existing) {
    if (existing.body === body) return { state: 'unchanged', ...(existing.url ? { url: existing.url } : {}) };
    const { data } = await octokit.rest.issues.updateComment({ owner: ref.owner, repo: ref.repo, comment_id: existing.id, body });
    return { state: 'updated', url: data.html_url };
  }
  if (!create) return { state: 'skipped', reason: 'nothing to report and no earlier comment' };
  const { data } = await octokit.rest.issues.createComment({ owner: ref.owner, repo: ref.repo, issue_number: ref.number, body });
  return { state: 'created', url: data.html_url };
}
