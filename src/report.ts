/**
 * The verdict over all check results: counts, failed ids and the overall result, with the checks
 * in the contract's table order.
 */
import { stackReport } from './stack/describe.js';
import type { Stack } from './stack/types.js';
import { CHECK_IDS, type CheckResult, type Report, type Settings, type StackSummary } from './types.js';

export interface ReportMeta {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly settings: Settings;
  readonly stack: Stack;
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
    stack: stackReport(meta.stack) as StackSummary,
    namespace: namespaceOf(meta.stack, meta.settings),
    access: meta.settings.access,
    counts,
    failedChecks: checks.filter((c) => c.status === 'fail').map((c) => c.id),
    checks,
  };
}

/** The namespace the summary names: the Prometheus's and Grafana's when they share one. */
function namespaceOf(stack: Stack, settings: Settings): string {
  const namespaces = [stack.prometheus, stack.grafana].flatMap((f) => (f.ok ? [f.value.workload.namespace] : []));
  const unique = [...new Set(namespaces)];
  return unique.join(', ') || settings.namespace || '';
}
