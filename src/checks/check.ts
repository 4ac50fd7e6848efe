/**
 * What a check is: an id from the contract, the checks it needs, and one attempt's logic.
 * Checks never throw on purpose: an exception is reported as a failure by the runner, with the
 * error's message, hint and reason, so a check only builds outcomes for what it understands.
 */
import type { Cluster } from '../cluster.js';
import type { GrafanaClient } from '../grafana.js';
import type { ManifestIndex } from '../manifests.js';
import type { PrometheusClient } from '../prometheus.js';
import type { Reason } from '../reasons.js';
import type { Found, Problem, Stack } from '../stack/types.js';
import type { CheckId, CheckOutcome, Settings } from '../types.js';
import type { ClusterView } from '../view.js';

export interface CheckContext {
  readonly settings: Settings;
  /** What discovery found, and the expectations that follow (read it, not Settings, for values). */
  readonly stack: Stack;
  /** This attempt's shared reads. */
  readonly view: ClusterView;
  readonly cluster: Cluster;
  readonly prometheus: PrometheusClient;
  readonly grafana: GrafanaClient;
  /** Aborted when the attempt runs out of time. */
  readonly signal: AbortSignal;
  /**
   * When the attempt's time runs out (epoch ms; `signal` is aborted then): ATTEMPT_TIMEOUTS
   * request timeouts from its start, or less near the end of the run's budget. A check that
   * paces its own work (the dashboards) reads its budget here.
   */
  readonly deadline: number;
  /**
   * The `manifests` input's files, read once for the run on first call (undefined without the
   * input): what the dashboards check and the diagnosis place their findings in.
   */
  readonly manifests: () => Promise<ManifestIndex | undefined>;
}

export interface Check {
  readonly id: CheckId;
  /** Short human title, e.g. "Prometheus pod is Running and Ready". */
  readonly title: string;
  /** Prerequisites: this check is skipped when one of them fails or is skipped. */
  readonly needs: readonly CheckId[];
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

type Extra = Omit<CheckOutcome, 'status' | 'summary' | 'hint'>;

export const pass = (summary: string, extra: Extra = {}): CheckOutcome => ({ status: 'pass', summary, ...extra });
export const fail = (summary: string, hint: string, reason: Reason, extra: Extra = {}): CheckOutcome => ({ status: 'fail', summary, hint, reason, ...extra });
export const warn = (summary: string, hint: string, reason: Reason, extra: Extra = {}): CheckOutcome => ({ status: 'warn', summary, hint, reason, ...extra });

/** The outcome for a part of the stack discovery could not settle: it fails, saying what was searched. */
export function unfound(problem: Problem, component: 'prometheus' | 'grafana' | 'prometheus-service' | 'grafana-service' | 'datasource'): CheckOutcome {
  const code = problem.code === 'ambiguous' ? 'discovery.ambiguous' : problem.code === 'unreadable' ? 'discovery.unreadable' : 'discovery.not-found';
  return fail(problem.message, problem.hint, { code, component, ...(problem.candidates ? { candidates: problem.candidates } : {}) }, { retryable: false });
}

/** The value found, or the failing outcome that says it was not. */
export function need<T>(found: Found<T>, component: Parameters<typeof unfound>[1]): { value: T; outcome?: undefined } | { value?: undefined; outcome: CheckOutcome } {
  return found.ok ? { value: found.value } : { outcome: unfound(found.problem, component) };
}
