/**
 * A check run per gate on the commit under review, with the report as its summary and one
 * annotation per finding at its migration file and line, most severe first. GitHub takes at
 * most 50 annotations per request: the first 50 go with the create call, the rest in updates
 * of 50. Beyond MAX_ANNOTATIONS the summary says how many were not annotated.
 *
 * Every run creates its own check run and updates only the one it just created (by the id
 * GitHub returned): a check run of the same name written by another app (or a user's token) on
 * the same commit is never looked up, so it can never be taken over or edited.
 */
import type { GateStatus } from '../findings/types.ts';
import type { Annotation } from '../report/annotations.ts';
import { plural } from '../report/format.ts';
import type { Octokit } from './api.ts';

export const ANNOTATIONS_PER_REQUEST = 50;
/** 20 requests; the summary and the job summary list everything beyond. */
export const MAX_ANNOTATIONS = 1000;

const LEVEL = { error: 'failure', warning: 'warning', notice: 'notice' } as const;
const CONCLUSION: Record<GateStatus, 'success' | 'failure'> = { pass: 'success', fail: 'failure', error: 'failure' };

export interface CheckRunRequest {
  owner: string;
  repo: string;
  headSha: string;
  name: string;
  status: GateStatus;
  title: string;
  /** Markdown, at most 65,535 characters (the caller budgets it) minus room for the annotation note. */
  summary: string;
  annotations: Annotation[];
  detailsUrl?: string;
}

export interface CheckRunOutcome {
  id: number;
  url?: string;
  annotated: number;
  /** Findings with a file that were not annotated (over MAX_ANNOTATIONS). */
  notAnnotated: number;
  /** Findings without a file: listed in the summary only. */
  withoutFile: number;
  requests: number;
}

/** The line appended to the summary about annotations; at most ~300 characters. */
export function annotationNote(located: number, withoutFile: number): string {
  const parts: string[] = [];
  const posted = Math.min(located, MAX_ANNOTATIONS);
  if (posted) parts.push(`${plural(posted, 'finding')} annotated on ${posted === 1 ? 'its' : 'their'} file and line`);
  if (located > MAX_ANNOTATIONS)
    parts.push(`${plural(located - MAX_ANNOTATIONS, 'more finding')} not annotated (limit ${MAX_ANNOTATIONS}; all are listed above and in the job summary)`);
  if (withoutFile) parts.push(`${plural(withoutFile, 'finding')} without a file (about the database), listed above`);
  return parts.length ? `\n<sub>${parts.join(' · ')}.</sub>\n` : '';
}

function toApi(annotation: Annotation & { file: string }) {
  return {
    path: annotation.file,
    start_line: annotation.line ?? 1,
    end_line: annotation.line ?? 1,
    annotation_level: LEVEL[annotation.severity],
    title: annotation.title,
    message: annotation.message,
    ...(annotation.details ? { raw_details: annotation.details } : {}),
  };
}

export async function publishCheckRun(octokit: Octokit, request: CheckRunRequest): Promise<CheckRunOutcome> {
  const located = request.annotations.filter((a): a is Annotation & { file: string } => Boolean(a.file));
  const posted = located.slice(0, MAX_ANNOTATIONS).map(toApi);
  const batches: Array<typeof posted> = [];
  for (let i = 0; i < posted.length; i += ANNOTATIONS_PER_REQUEST) batches.push(posted.slice(i, i + ANNOTATIONS_PER_REQUEST));
  const summary = request.summary + annotationNote(located.length, request.annotations.length - located.length);
  const output = (annotations: typeof posted) => ({ title: request.title, summary, ...(annotations.length ? { annotations } : {}) });

  const { data } = await octokit.rest.checks.create({
    owner: request.owner,
    repo: request.repo,
    name: request.name,
    head_sha: request.headSha,
    status: 'completed',
    conclusion: CONCLUSION[request.status],
    completed_at: new Date().toISOString(),
    ...(request.detailsUrl ? { details_url: request.detailsUrl } : {}),
    output: output(batches[0] ?? []),
  });
  for (const batch of batches.slice(1)) {
    await octokit.rest.checks.update({ owner: request.owner, repo: request.repo, check_run_id: data.id, output: output(batch) });
  }
  return {
    id: data.id,
    ...(data.html_url ? { url: data.html_url } : {}),
    annotated: posted.length,
    notAnnotated: located.length - posted.length,
    withoutFile: request.annotations.length - located.length,
    requests: Math.max(1, batches.length),
  };
}
