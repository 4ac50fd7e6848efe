/** The action's outputs, as the contract names them. */
import type { Report } from '../types.js';

export function outputsFor(report: Report, reportPath: string): Record<string, string> {
  return {
    result: report.result,
    passed: String(report.counts.passed),
    failed: String(report.counts.failed),
    warnings: String(report.counts.warnings),
    skipped: String(report.counts.skipped),
    'failed-checks': report.failedChecks.join(','),
    stack: report.stack.kind,
    report: reportPath,
  };
}
