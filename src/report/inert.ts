/**
 * Untrusted text made inert before it is printed (safety promise 6, docs/security.md).
 *
 * Object names, comments, server messages, remediation SQL built from catalog text, allowlist
 * reasons and file paths from a pull request can be shaped by an outsider. Printed raw to a
 * `run:` step's stdout, they become workflow commands: the runner acts on any line whose first
 * non-blank characters are `::` (`::error file=...::`, `::add-mask::`, `::stop-commands::`) and,
 * in the legacy form, on `##[command]` anywhere in a line. ANSI escapes can rewrite what a
 * terminal shows (colours, cursor moves, OSC 8 links), and a lone `\r` overwrites a line.
 *
 * - `inertInline`: one line. Escape sequences removed; line breaks, tabs and other control, bidi
 *   and line-separator characters shown as escapes (`\n`, `\r`, `\t`, `\x07`, `\u202e`).
 * - `inertBlock`: several lines (remediation SQL, a server message's detail): line breaks kept as
 *   `\n`, tabs kept, everything else as `inertInline`.
 * - `guardCommands`: the last step on a whole rendered output: a line that would start a
 *   workflow command gets a `\` before its `::`, and `##[` becomes `##\[`. postgate's own text
 *   never starts a line with `::`, so this only ever changes untrusted text.
 *
 * Redact secrets before any of these: an escaped secret no longer matches its registered forms.
 */

/**
 * Terminal escape sequences: CSI (`ESC [` or C1 `0x9b` ... final byte), OSC (`ESC ]` ... BEL or
 * ST), DCS/SOS/PM/APC (... ST), and the short `ESC <intermediates> <final>` forms.
 */
const ANSI =
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|(?:\u001b[PX^_]|[\u0090\u0098\u009e\u009f])[^\u001b\u009c]*(?:\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;

/** C0 and C1 controls, DEL, bidi embeddings/overrides/isolates and marks, line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_TAB_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** One line of untrusted text: no escape sequences, every control character shown as an escape. */
export function inertInline(text: string): string {
  return stripAnsi(text).replace(CONTROL, escapeControl);
}

/** Untrusted text whose lines matter (SQL, a server message's detail): `\n` kept, `\r\n` as `\n`, the rest as `inertInline`. */
export function inertBlock(text: string): string {
  return stripAnsi(text).replace(/\r\n/g, '\n').replace(CONTROL_BUT_TAB_NEWLINE, escapeControl);
}

/**
 * Characters the runner's `TrimStart` may skip before looking for `::` (.NET's whitespace is a
 * little wider than JavaScript's `\s`), and colour codes a renderer puts at a line start.
 */
const COMMAND_START = /^((?:[\s\u0085\u180e\u200b\ufeff]|\u001b\[[0-9;]*m)*)::/;

/** A whole output made safe to print in a workflow step: no line starts a workflow command. */
export function guardCommands(output: string): string {
  return output
    .split(/(\r\n|\r|\n)/)
    .map((part) => part.replace(COMMAND_START, '$1\\::'))
    .join('')
    .replace(/##\[/g, '##\\[');
}

/** Untrusted text for a log line in a workflow step (`core.info`): `inertBlock` and `guardCommands`. */
export function inertLog(text: string): string {
  return guardCommands(inertBlock(text));
}
