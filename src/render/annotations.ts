/** One annotation per failed check (error) and per warned check (warning), titled with its id. */
import type { CheckId, Report } from '../types.js';
import { displayHint } from './format.js';

export interface Annotation {
  readonly level: 'error' | 'warning';
  readonly title: CheckId;
  /** What was seen, then the hint (or the diagnosis) on its own lines. */
  readonly message: string;
  /** The file and line to fix (with the `manifests` input), so the PR shows the error in place. */
  readonly file?: string;
  readonly startLine?: number;
}

export function annotationsFor(report: Report): Annotation[] {
  return report.checks.flatMap((check): Annotation[] => {
    if (check.status !== 'fail' && check.status !== 'warn') return [];
    const hint = displayHint(check);
    const placed = check.diagnosis?.findings.find((f) => f.file);
    return [
      {
        level: check.status === 'fail' ? 'error' : 'warning',
        title: check.id,
        message: hint ? `${check.summary}\n${hint === check.hint ? `Hint: ${hint}` : hint}` : check.summary,
        ...(placed?.file ? { file: placed.file, startLine: placed.line } : {}),
      },
    ];
  });
}
