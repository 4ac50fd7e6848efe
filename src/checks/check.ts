/**
 * What a check is: an id from the contract, the checks it needs, and one attempt's logic.
 * Checks never throw on purpose: an exception is reported as a failure by the runner, with the
 * error's message and hint, so a check only builds outcomes for what it understands.
 */
import type { Cluster } from '../cluster.js';
import type { GrafanaClient } from '../grafana.js';
import type { PrometheusClient } from '../prometheus.js';
import type { CheckId, CheckOutcome, Settings } from '../types.js';

export interface CheckContext {
  readonly settings: Settings;
  readonly cluster: Cluster;
  readonly prometheus: PrometheusClient;
  readonly grafana: GrafanaClient;
  /** Aborted when the attempt runs out of time. */
  readonly signal: AbortSignal;
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
export const fail = (summary: string, hint: string, extra: Extra = {}): CheckOutcome => ({ status: 'fail', summary, hint, ...extra });
export const warn = (summary: string, hint: string, extra: Extra = {}): CheckOutcome => ({ status: 'warn', summary, hint, ...extra });
