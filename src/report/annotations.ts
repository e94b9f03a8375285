/**
 * Findings as annotations (check run annotations or workflow commands), most severe first.
 * Findings without a file have no place in a check run's annotations; workflow commands
 * still show them on the run page. The renderers that list everything are markdown and JSON.
 *
 * Everything here but the file path is untrusted text (object names, messages, server details,
 * remediation). It is redacted, then made inert: the title is one line (`inertInline`); the message
 * keeps its line breaks (the annotation shows them) but no escape sequences or control characters,
 * and none of its lines starts a workflow command (`guardCommands`). `@actions/core` then escapes
 * `%`, `\r` and `\n` in the command's data and also `:` and `,` in its properties, so an annotation
 * is always exactly one `::error ...::` line; the guard keeps the text inert where it is shown
 * again (the log, a copy-paste). The file path is only escaped by `@actions/core` (changing it
 * would break the link to the file); a check run gets the same fields as JSON.
 */
import { type GateResult, objectLabel, type Severity } from '../findings/types.ts';
import { redact } from '../secrets.ts';
import { clip, repoPath } from './format.ts';
import { guardCommands, inertBlock, inertInline } from './inert.ts';
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
    title: clip(inertInline(redact(`${item.rule}: ${item.object.kind} ${objectLabel(item.object)}`)), 255),
    message: clip(guardCommands(inertBlock(redact([item.message, item.detail].filter(Boolean).join('\n')))), FIELD_MAX),
    ...(item.remediation ? { details: clip(inertBlock(redact(item.remediation)), FIELD_MAX) } : {}),
  }));
}
