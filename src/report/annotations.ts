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
import { countBySeverity, type GateResult, objectLabel, type Severity } from '../findings/types.ts';
import { redact } from '../secrets.ts';
import { clip, countsText, repoPath } from './format.ts';
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

/** Related locations annotated per finding (the creating migration, further call sites): the first ones; all are in the JSON report and SARIF. */
export const RELATED_ANNOTATIONS_MAX = 10;

export function annotationsOf(result: GateResult, workspace?: string): Annotation[] {
  return sortFindings(result.findings).flatMap((item) => {
    const annotation: Annotation = {
      severity: item.severity,
      ...(item.location ? { file: repoPath(item.location.file, workspace), line: item.location.line ?? 1 } : {}),
      title: clip(inertInline(redact(`${item.rule}: ${item.object.kind} ${objectLabel(item.object)}`)), 255),
      message: clip(guardCommands(inertBlock(redact([item.message, item.detail].filter(Boolean).join('\n')))), FIELD_MAX),
      ...(item.remediation ? { details: clip(inertBlock(redact(item.remediation)), FIELD_MAX) } : {}),
    };
    const related = (item.related ?? []).slice(0, RELATED_ANNOTATIONS_MAX).map((place) => ({
      ...annotation,
      file: repoPath(place.file, workspace),
      line: place.line ?? 1,
      message: clip(guardCommands(inertBlock(redact([place.message, item.message].filter(Boolean).join('\n')))), FIELD_MAX),
    }));
    return [annotation, ...related];
  });
}

/** Workflow command data: `%`, `\r` and `\n` escaped, as the runner reads them (and as `@actions/core` writes them). */
function commandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow command property: also `:` and `,`, which would end the property. */
function commandProperty(text: string): string {
  return commandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function workflowCommand(severity: Severity, properties: Record<string, string | number | undefined>, message: string): string {
  const given = Object.entries(properties).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  const props = given.map(([key, value]) => `${key}=${commandProperty(String(value))}`).join(',');
  return `::${severity}${props ? ` ${props}` : ''}::${commandData(message)}`;
}

/**
 * `--format github`: one workflow command per finding (`::error title=..,file=..,line=..::message`),
 * which a workflow step's log turns into annotations, one for a run that could not run, then the verdict.
 * Every command is exactly one line: the message's line breaks are escaped as `%0A`.
 */
export function renderWorkflowCommands(result: GateResult, options: { title: string; workspace?: string }): string {
  const lines = annotationsOf(result, options.workspace).map((annotation) =>
    workflowCommand(annotation.severity, { title: annotation.title, file: annotation.file, line: annotation.line }, annotation.message),
  );
  const verdict = {
    pass: `${options.title} passed.`,
    fail: `${options.title} failed: ${countsText(countBySeverity(result.findings))}.`,
    error: `${options.title} could not run.`,
  }[result.status];
  if (result.status === 'error') {
    lines.push(workflowCommand('error', { title: `${options.title} could not run` }, guardCommands(inertInline(redact(result.error ?? 'unknown error')))));
  }
  return `${[...lines, verdict].join('\n')}\n`;
}
