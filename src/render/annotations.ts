/** One annotation per failed check (error) and per warned check (warning), titled with its id. */
import type { CheckId, CheckResult, Report } from '../types.js';
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
    const placed = check.diagnosis?.findings.find((f) => f.file) ?? check.dashboards?.find((d) => d.status === check.status && d.file);
    return [
      {
        level: check.status === 'fail' ? 'error' : 'warning',
        title: check.id,
        message: hint ? `${check.summary}\n${hint === check.hint ? `Hint: ${hint}` : hint}` : check.summary,
        ...(placed?.file ? { file: placed.file, startLine: placed.line } : {}),
      },
      ...dashboardAnnotations(check),
    ];
  });
}

/** GitHub shows at most 10 error annotations per step: the failing dashboards get at most this many. */
const MAX_DASHBOARD_ANNOTATIONS = 5;

/** One error per failing dashboard (on its JSON's file and line when the manifests hold it): its failed panels and why. */
function dashboardAnnotations(check: CheckResult): Annotation[] {
  if (check.status !== 'fail') return [];
  return (check.dashboards ?? [])
    .filter((d) => d.status === 'fail')
    .slice(0, MAX_DASHBOARD_ANNOTATIONS)
    .map((d) => {
      const panels = d.panels.filter((p) => p.status === 'fail');
      const lines = panels.slice(0, 10).map((p) => `- ${p.title}: ${p.problem ?? 'failed'}${p.cause ? ` — ${p.cause}` : ''}`);
      const more = panels.length > 10 ? [`…and ${panels.length - 10} more panels`] : [];
      return {
        level: 'error' as const,
        title: check.id,
        message: [`Dashboard "${d.title}"${d.uid ? ` (${d.uid})` : ''}: ${d.problem ? `${d.problem}${d.cause ? ` — ${d.cause}` : ''}` : `${panels.length} panel${panels.length === 1 ? '' : 's'} failed`}`, ...lines, ...more].join('\n'),
        ...(d.file ? { file: d.file, startLine: d.line } : {}),
      };
    });
}
