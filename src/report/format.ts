/** Small formatting helpers shared by the renderers: labels, numbers, durations, sizes, paths. */
import path from 'node:path';
import { formatDuration } from '../config/input-spec.ts';
import type { Finding, Severity, SourceLocation } from '../findings/types.ts';

/** `access_matrix`, `accessMatrix`, `access-matrix` -> "Access matrix". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/** Labels for sizes counted in powers of 1024: IEC (`KiB`) in reports, short (`KB`) in the drill's progress lines. */
const BYTE_UNITS = { iec: ['KiB', 'MiB', 'GiB', 'TiB'], short: ['KB', 'MB', 'GB', 'TB'] } as const;

/** A size in powers of 1024: `2.0 KiB` (or `2.0 KB` with `units: 'short'`). */
export function formatBytes(bytes: number, units: keyof typeof BYTE_UNITS = 'iec'): string {
  if (bytes < 1024) return `${bytes} B`;
  const labels = BYTE_UNITS[units];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < labels.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${labels[unit]}`;
}

/** A number named by its key: `duration_ms` is a duration, `size_bytes` a size, the rest a count. */
export function formatMeasure(key: string, value: number): string {
  if (/(^|_)ms$/i.test(key) || /Ms$/.test(key)) return formatDuration(value);
  if (/(^|_)(seconds|secs?|s)$/i.test(key) || /Seconds$/.test(key)) return formatDuration(value * 1000);
  if (/(^|_)bytes$/i.test(key) || /Bytes$/.test(key)) return formatBytes(value);
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

const UNIT_SUFFIX = /(?:_(?:ms|seconds|secs?|s|bytes)|(?<=[a-z])(?:Ms|Seconds|Bytes))$/;

/**
 * A key as a column or field label: unit suffix dropped (the value carries the unit),
 * separators to spaces, camelCase split (`loginRoles` -> "login roles"), other case kept (role and
 * column names are data: `SELECT`, `service_role`): `duration_ms` -> "duration".
 */
export function columnLabel(key: string): string {
  const words = key
    .replace(UNIT_SUFFIX, '')
    .replace(/([a-z0-9])([A-Z])(?=[a-z])/g, (_, before: string, hump: string) => `${before} ${hump.toLowerCase()}`)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim();
  return words || key;
}

/** Paths in findings are repository-relative; an absolute path inside the workspace is made relative. */
export function repoPath(file: string, workspace?: string): string {
  if (workspace && path.isAbsolute(file)) {
    const relative = path.relative(workspace, file);
    if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
  }
  return file.replace(/^\.\//, '').split(path.sep).join('/');
}

export function locationText(location: SourceLocation, workspace?: string): string {
  return `${repoPath(location.file, workspace)}${location.line ? `:${location.line}` : ''}`;
}

export function countsText(counts: Record<Severity, number>): string {
  return `${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${plural(counts.notice, 'notice')}`;
}

/** Severity counts of the non-zero kinds only, e.g. "60 errors, 15 warnings". */
export function nonZeroCounts(findings: readonly Finding[]): string {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const item of findings) counts[item.severity] += 1;
  const parts = (Object.keys(counts) as Severity[]).filter((s) => counts[s] > 0).map((s) => plural(counts[s], s));
  return parts.join(', ');
}

/** Clips long text at a word boundary with an ellipsis. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}
