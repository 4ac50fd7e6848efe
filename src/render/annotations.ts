/** One annotation per failed check (error) and per warned check (warning), titled with its id. */
import type { CheckId, Report } from '../types.js';

export interface Annotation {
  readonly level: 'error' | 'warning';
  readonly title: CheckId;
  /** What was seen, then the hint on its own line. */
  readonly message: string;
}

export function annotationsFor(report: Report): Annotation[] {
  return report.checks.flatMap((check): Annotation[] => {
    if (check.status !== 'fail' && check.status !== 'warn') return [];
    return [
      {
        level: check.status === 'fail' ? 'error' : 'warning',
        title: check.id,
        message: check.hint ? `${check.summary}\nHint: ${check.hint}` : check.summary,
      },
    ];
  });
}
