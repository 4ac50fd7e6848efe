/**
 * Prometheus-side probes: why the Prometheus pod, its Service, its targets or its query fail.
 * They automate the seed guide's troubleshooting ("Targets Prometheus en état Down", "Data source
 * is working mais pas de données"): Prometheus's running configuration (the scrape job's service
 * discovery and relabel rules) is replayed against the pods it should find, its ServiceAccount's
 * permissions are asked with SubjectAccessReviews, its log is quoted, and each DOWN target's last
 * error is read against the state of its pod.
 *
 * With the Prometheus Operator, the monitors are followed instead: whether the Prometheus object
 * selects them, whether their scrape pools are in the running configuration, whether their
 * selector and port name match a Service, and whether Prometheus may discover in their namespace.
 *
 * Each prober picks its probes by the check's reason (`targets.none`, `service.no-endpoints`, …),
 * never by the wording of its summary, and speaks the words of the stack found. Everything is
 * read-only. A refused read (HTTP 403) becomes a note saying what could not be diagnosed and why;
 * the other probes go on.
 */
import type { Reason } from '../reasons.js';
import type { CheckId } from '../types.js';
import { podFindings } from './prometheus/pod.js';
import { Probe } from './prometheus/probe.js';
import { noDataFindings, queryFindings } from './prometheus/query.js';
import { serviceFindings } from './prometheus/service.js';
import { targetsFindings } from './prometheus/targets.js';
import type { Prober } from './types.js';

export { durationMs, parsePromConfig } from './prometheus/config.js';
export { firstSelector } from './prometheus/query.js';
export { isTargetsReason } from './prometheus/targets.js';

/** A prober that runs `diagnose` (given the check's reason) on a fresh probe and reports what it found and noted. */
function prober(diagnose: (p: Probe, reason: Reason | undefined) => Promise<void>): Prober {
  return async (result, ctx) => {
    const p = new Probe(ctx);
    await diagnose(p, result.reason);
    return { findings: p.findings, notes: p.notes };
  };
}

/** The probes of the Prometheus checks; `noDataProber` serves `grafana-query` when it returns no data. */
export const PROMETHEUS_PROBERS: Partial<Record<CheckId, Prober>> = {
  'prometheus-pod': prober(podFindings),
  'prometheus-service': prober(serviceFindings),
  'prometheus-targets': prober(targetsFindings),
  'prometheus-query': prober(queryFindings),
};

/** `grafana-query` returned no data: is it Grafana's datasource or Prometheus's data? */
export const noDataProber: Prober = prober(noDataFindings);
