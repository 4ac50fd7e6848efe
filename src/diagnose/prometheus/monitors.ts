/**
 * The Prometheus Operator's monitors (ServiceMonitor, PodMonitor) as diagnosis reads them: the
 * scrape pools they become, the namespaces they discover in, the Services or pods they select,
 * and the `job` label their targets get (prometheus-operator pkg/prometheus/promcfg.go,
 * generateServiceMonitorConfig and generatePodMonitorConfig).
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { CustomObject } from '../../cluster.js';
import type { MonitorRef } from '../../stack/profiles/index.js';
import type { ObjectRef } from '../types.js';
import { readSelector, type LabelSelector, type Labels } from '../../label-selector.js';

export const SERVICE_MONITOR = { group: 'monitoring.coreos.com', version: 'v1', plural: 'servicemonitors' } as const;
export const POD_MONITOR = { group: 'monitoring.coreos.com', version: 'v1', plural: 'podmonitors' } as const;

export type MonitorKind = MonitorRef['kind'];

export interface MonitorEndpoint {
  readonly index: number;
  /** ServiceMonitor: a Service port name; PodMonitor: a container port name. */
  readonly port?: string;
  /** PodMonitor `portNumber`: a container port number. */
  readonly portNumber?: number;
  /** The deprecated `targetPort` (a container port name or number). */
  readonly targetPort?: string;
}

export interface Monitor extends MonitorRef {
  readonly labels: Labels;
  /** What it selects (Services or pods); an absent selector is `{}`: the Go field is a value, not a pointer. */
  readonly selector: LabelSelector;
  /** `namespaceSelector.any`. */
  readonly any: boolean;
  readonly matchNames: readonly string[];
  readonly jobLabel?: string;
  readonly endpoints: readonly MonitorEndpoint[];
  /** ServiceMonitor `serviceDiscoveryRole` (Endpoints or EndpointSlice), when set. */
  readonly discoveryRole?: string;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

export function monitorOf(kind: MonitorKind, o: CustomObject): Monitor {
  const spec = record(o.spec);
  const ns = record(spec.namespaceSelector);
  const list = kind === 'ServiceMonitor' ? spec.endpoints : spec.podMetricsEndpoints;
  return {
    kind,
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    labels: o.metadata?.labels ?? {},
    selector: readSelector(spec.selector) ?? { matchLabels: {}, matchExpressions: [] },
    any: ns.any === true,
    matchNames: (Array.isArray(ns.matchNames) ? ns.matchNames : []).map(String),
    ...(text(spec.jobLabel) ? { jobLabel: text(spec.jobLabel)! } : {}),
    endpoints: (Array.isArray(list) ? list : []).map((e, index): MonitorEndpoint => {
      const ep = record(e);
      const portNumber = typeof ep.portNumber === 'number' ? ep.portNumber : undefined;
      return {
        index,
        ...(text(ep.port) !== undefined ? { port: text(ep.port)! } : {}),
        ...(portNumber !== undefined ? { portNumber } : {}),
        ...(text(ep.targetPort) !== undefined ? { targetPort: text(ep.targetPort)! } : {}),
      };
    }),
    ...(text(spec.serviceDiscoveryRole) ? { discoveryRole: text(spec.serviceDiscoveryRole)! } : {}),
  };
}

/** `ServiceMonitor monitoring/node-exporter`. */
export function monitorName(m: MonitorRef): string {
  return `${m.kind} ${m.namespace}/${m.name}`;
}

export function monitorObject(m: MonitorRef): ObjectRef {
  return { kind: m.kind, namespace: m.namespace, name: m.name };
}

/** `serviceMonitor/<ns>/<name>/` — the prefix of every scrape pool of the monitor. */
export function poolPrefix(m: MonitorRef): string {
  return `${m.kind === 'ServiceMonitor' ? 'serviceMonitor' : 'podMonitor'}/${m.namespace}/${m.name}/`;
}

/** The monitor and endpoint a scrape pool is made from (`serviceMonitor/monitoring/kps-grafana/0`), if it is one. */
export function poolMonitor(pool: string): (MonitorRef & { readonly endpoint: number }) | undefined {
  const m = /^(serviceMonitor|podMonitor)\/([^/]+)\/([^/]+)\/(\d+)$/.exec(pool);
  if (!m) return undefined;
  return { kind: m[1] === 'serviceMonitor' ? 'ServiceMonitor' : 'PodMonitor', namespace: m[2]!, name: m[3]!, endpoint: Number(m[4]) };
}

/**
 * The namespaces a monitor discovers in; undefined: every namespace. The Prometheus's
 * `ignoreNamespaceSelectors` keeps each monitor to its own (promcfg.go, getNamespacesFromNamespaceSelector).
 */
export function targetNamespaces(m: Monitor, prometheusSpec: Readonly<Record<string, unknown>> | undefined): string[] | undefined {
  if (prometheusSpec?.ignoreNamespaceSelectors === true) return [m.namespace];
  if (m.any) return undefined;
  return m.matchNames.length ? [...m.matchNames] : [m.namespace];
}

/** The `job` of a ServiceMonitor's targets on a Service: the Service's `jobLabel` label when non-empty, else its name. */
export function serviceJob(m: Monitor, svc: V1Service): string {
  const labelled = m.jobLabel ? svc.metadata?.labels?.[m.jobLabel] : undefined;
  return labelled || (svc.metadata?.name ?? '');
}

/** The `job` of a PodMonitor's targets on a pod: the pod's `jobLabel` label when non-empty, else `<ns>/<name>` of the PodMonitor. */
export function podJob(m: Monitor, pod: V1Pod): string {
  const labelled = m.jobLabel ? pod.metadata?.labels?.[m.jobLabel] : undefined;
  return labelled || `${m.namespace}/${m.name}`;
}

/** `web:8080`, or `8080 (unnamed)`. */
export function servicePortText(p: { name?: string; port: number }): string {
  return p.name ? `${p.name}:${p.port}` : `${p.port} (unnamed)`;
}
