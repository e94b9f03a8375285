/**
 * Findings as annotations (check run annotations or workflow commands), most severe first.
 * Findings without a file have no place in a check run's annotations; workflow commands
 * still show them on the run page. The renderers that list everything are markdown and JSON.
 */
import { type GateResult, objectLabel, type Severity } from '../findings/types.ts';
import { redact } from '../secrets.ts';
import { clip, repoPath } from './format.ts';
import { sortFindings } from './markdown.ts';

export interface Annotation {
  severity: Severity;
  /** Repository-relative. */
  file?: string;
  line?: number;
  /** At most 255 characters (GitHub's limit for titles). */
  title: string;
  message: string;
  /** Remediation, shown under "Raw details" in the check run. */
  details?: string;
}

/** GitHub's per-field limit for annotation messages and raw details is 64 KB. */
const FIELD_MAX = 60_000;

export function annotationsOf(result: GateResult, workspace?: string): Annotation[] {
  return sortFindings(result.findings).map((item) => ({
    severity: item.severity,
    ...(item.location ? { file: repoPath(item.location.file, workspace), line: item.location.line ?? 1 } : {}),
    title: redact(clip(`${item.rule}: ${item.object.kind} ${objectLabel(item.object)}`, 255)),
    message: redact(clip([item.message, item.detail].filter(Boolean).join('\n'), FIELD_MAX)),
    ...(item.remediation ? { details: redact(clip(item.remediation, FIELD_MAX)) } : {}),
  }));
}
