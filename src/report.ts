/**
 * The verdict over all check results: counts, failed ids and the overall result, with the checks
 * in the contract's table order.
 */
import { CHECK_IDS, type CheckResult, type Report, type Settings } from './types.js';

export interface ReportMeta {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly settings: Settings;
}

export function buildReport(results: readonly CheckResult[], meta: ReportMeta): Report {
  const checks = [...results].sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  const count = (status: CheckResult['status']): number => checks.filter((c) => c.status === status).length;
  const counts = { passed: count('pass'), failed: count('fail'), warnings: count('warn'), skipped: count('skip') };
  const failedByWarning = meta.settings.failOnWarning && counts.warnings > 0;
  return {
    result: counts.failed > 0 || failedByWarning ? 'failed' : 'passed',
    durationMs: meta.durationMs,
    startedAt: meta.startedAt.toISOString(),
    namespace: meta.settings.namespace,
    access: meta.settings.access,
    counts,
    failedChecks: checks.filter((c) => c.status === 'fail').map((c) => c.id),
    checks,
  };
}
