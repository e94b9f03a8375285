/** The contract every gate returns: the GateResult, also the JSON report. */

export const GATE_IDS = ['drift', 'rls', 'webhooks', 'drill', 'parity'] as const;
export type GateId = (typeof GATE_IDS)[number];

export const SEVERITIES = ['error', 'warning', 'notice'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type GateStatus = 'pass' | 'fail' | 'error';

export interface ObjectRef {
  /** table, view, function, policy, migration, setting, secret, extension, ... */
  kind: string;
  schema?: string;
  name: string;
}

export interface SourceLocation {
  /** Repository-relative path. */
  file: string;
  line?: number;
}

export interface Finding {
  rule: string;
  severity: Severity;
  object: ObjectRef;
  message: string;
  detail?: string;
  remediation?: string;
  location?: SourceLocation;
  /** Further places the finding concerns (the migration that created the object, more call sites), each with what it is. */
  related?: Array<SourceLocation & { message?: string }>;
  /** Stable id for allowlists: rule + object, never a value. */
  key: string;
}

export interface SuppressedFinding extends Finding {
  /** Why the allowlist accepts it. */
  reason: string;
  expires?: string;
}

export interface GateResult {
  gate: GateId;
  status: GateStatus;
  findings: Finding[];
  metrics: Record<string, number>;
  /** Only when status is "error": one clear sentence. */
  error?: string;
  /** Findings the allowlist accepted (not counted toward the verdict). */
  suppressed?: SuppressedFinding[];
  /** Findings already present on the base branch (PR mode; not counted toward the verdict). */
  preexisting?: Finding[];
  /** Gate-specific structured detail for the report (access matrix, drill phases, ...). */
  details?: Record<string, unknown>;
}

/** Lower rank is more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

export function objectLabel(object: ObjectRef): string {
  return object.schema ? `${object.schema}.${object.name}` : object.name;
}

export function findingKey(rule: string, object: ObjectRef): string {
  return `${rule}:${object.kind}:${objectLabel(object)}`;
}

/** Builds a finding with its stable key. */
export function finding(input: Omit<Finding, 'key'>): Finding {
  return { ...input, key: findingKey(input.rule, input.object) };
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** pass/fail from findings at or above the fail-on threshold (after the allowlist). */
export function verdict(findings: readonly Finding[], failOn: Severity): 'pass' | 'fail' {
  return findings.some((f) => atOrAbove(f.severity, failOn)) ? 'fail' : 'pass';
}

export const EXIT_CODES: Record<GateStatus, number> = { pass: 0, fail: 1, error: 2 };
