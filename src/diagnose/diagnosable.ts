/** Which results are diagnosed: a module of its own, so a passing run never loads the diagnosis. */
import { isReason } from '../reasons.js';
import type { CheckResult } from '../types.js';

/**
 * Whether a result is diagnosed: every failure, and the warnings whose reason a prober explains
 * (scrape pools with DOWN targets or none UP, when every pool is checked).
 */
export function diagnosable(result: CheckResult): boolean {
  if (result.status === 'fail') return true;
  return result.status === 'warn' && result.id === 'prometheus-targets' && isReason(result.reason, 'targets.pools-down', 'targets.pools-degraded');
}
