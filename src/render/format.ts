/** Small text helpers shared by the renderers. */
import type { CheckResult, ReportedFinding } from '../types.js';

/** `437` → `0.4 s`. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Cuts `text` to `max` characters, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `1, 'check', 'checks'` → `1 check`; `2, …` → `2 checks`. */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Where a finding's fix goes: `k8s/grafana.yaml:42 (ConfigMap taskflow/grafana-datasources)`. */
export function findingPlace(f: ReportedFinding): string {
  const file = f.file ? `${f.file}:${f.line}` : '';
  if (file && f.object) return `${file} (${f.object})`;
  return file || f.object || '';
}

/**
 * The hint shown for a failed or warned check: its diagnosis (cause, fix, place, evidence, and
 * what could not be diagnosed) when there is one, else the check's own hint.
 */
export function displayHint(check: CheckResult): string | undefined {
  const d = check.diagnosis;
  const finding = d?.findings[0];
  if (!d || (!finding && !d.notes.length)) return check.hint;
  const lines: string[] = [];
  if (finding) {
    const place = findingPlace(finding);
    lines.push(`Cause: ${finding.cause}`, `Fix: ${finding.fix}${place ? ` [${place}]` : ''}`);
    for (const e of finding.evidence ?? []) lines.push(`  | ${e}`);
    for (const more of d.findings.slice(1)) lines.push(`Also: ${more.cause}`);
  } else if (check.hint) {
    lines.push(check.hint);
  }
  for (const note of d.notes) lines.push(`Not diagnosed: ${note}`);
  return lines.join('\n');
}
