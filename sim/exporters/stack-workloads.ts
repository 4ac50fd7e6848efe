/**
 * The exporters of the monitoring stacks (examples/kube-prometheus, kube-prometheus-stack,
 * prometheus-grafana-charts): their kinds and the factory the exporter server uses.
 */
import type { ClusterView } from '../kube/view.js';
import { KubeStateMetricsTelemetry, KubeStateMetricsWorkload } from './kube-state-metrics.js';
import { NodeExporterWorkload } from './node-exporter.js';
import { ConfigReloaderWorkload, PrometheusOperatorWorkload } from './operator-metrics.js';
import type { Workload } from './workload-base.js';

export const STACK_EXPORTER_KINDS = [
  'node-exporter',
  'kube-state-metrics',
  'kube-state-metrics-telemetry',
  'prometheus-config-reloader',
  'prometheus-operator',
] as const;

/**
 * - `node-exporter`: node_exporter's /metrics (node_*);
 * - `kube-state-metrics`: kube-state-metrics' main port (kube_* from the cluster's objects);
 * - `kube-state-metrics-telemetry`: its --telemetry-port (kube_state_metrics_*, go_*, process_*);
 * - `prometheus-config-reloader`: the reloader sidecar (reloader_*);
 * - `prometheus-operator`: the operator's own metrics (prometheus_operator_*).
 */
export type StackExporterKind = (typeof STACK_EXPORTER_KINDS)[number];

/** What a stack exporter may need to know about the pod it runs in. */
export interface StackWorkloadContext {
  /** The simulated cluster, read by kube-state-metrics at every scrape. */
  view?: ClusterView;
  /** The container's args (kube-state-metrics honours --resources and --namespaces). */
  args?: readonly string[];
  /** The pod's node, node_exporter's `nodename`. */
  nodeName?: string;
  /** The version from the image tag (`v1.12.1-distroless` → `1.12.1`), for *_build_info. */
  version?: string;
}

export function isStackExporterKind(kind: string): kind is StackExporterKind {
  return (STACK_EXPORTER_KINDS as readonly string[]).includes(kind);
}

export function createStackWorkload(kind: StackExporterKind, startMs: number, context: StackWorkloadContext = {}): Workload {
  switch (kind) {
    case 'node-exporter':
      return new NodeExporterWorkload(startMs, { nodeName: context.nodeName, version: context.version });
    case 'kube-state-metrics':
      return new KubeStateMetricsWorkload({ view: context.view, args: context.args, version: context.version });
    case 'kube-state-metrics-telemetry':
      return new KubeStateMetricsTelemetry(startMs, { view: context.view, args: context.args, version: context.version });
    case 'prometheus-config-reloader':
      return new ConfigReloaderWorkload(startMs, { version: context.version });
    case 'prometheus-operator':
      return new PrometheusOperatorWorkload(startMs, { version: context.version });
    default:
      throw new Error(`unknown exporter kind: ${String(kind)}`);
  }
}
