/**
 * A simulated prometheus-operator (v0.93, pkg/prometheus/server/operator.go): a controller over
 * the object store, run with the others after every change, that for each `Prometheus`
 * (monitoring.coreos.com/v1) selects its ServiceMonitors and PodMonitors, writes the generated
 * configuration into the Secret `prometheus-<name>` (`prometheus.yaml.gz`), reconciles the
 * governing Service `prometheus-operated`, the StatefulSet of each shard (whose pods the
 * StatefulSet controller then creates), the web-config and TLS-assets Secrets and the rule-files
 * ConfigMap, and reports the Prometheus status (replicas, Available and Reconciled conditions).
 *
 * The operator runs while the Prometheus CRD (`prometheuses.monitoring.coreos.com`) is in the
 * store and Established: its Deployment is not needed. ServiceMonitors and PodMonitors are read
 * only while their own CRDs are Established. Selection follows the operator: a nil
 * serviceMonitorSelector/podMonitorSelector selects nothing and `{}` everything; a nil namespace
 * selector means the Prometheus's own namespace, `{}` every namespace, else namespaces by label.
 */
import type { KubeObject } from '../kube/view.js';
import type { ControllerStore } from '../kube/controller.js';
import { isEstablished } from '../kube/crd.js';
import { isPodReady } from '../kube/pod-status.js';
import { generatePrometheusConfig, labelSelectorString, type ConfigInput } from './promcfg.js';
import {
  GOVERNING_SERVICE,
  makeConfigSecret,
  makeGoverningService,
  makeRuleConfigMap,
  makeStatefulSet,
  makeSupportSecrets,
  prefixedName,
  ruleConfigMapNames,
  selectorLabels,
  shardCount,
  statefulSetName,
} from './objects.js';

type Obj = Record<string, any>;

const GROUP = 'monitoring.coreos.com';
export const PROMETHEUS_CRD = `prometheuses.${GROUP}`;
const SERVICE_MONITOR_CRD = `servicemonitors.${GROUP}`;
const POD_MONITOR_CRD = `podmonitors.${GROUP}`;

/**
 * The Prometheus version the generated configuration is gated on: the one the simulator runs
 * (Debian's 2.42.0), whatever `spec.version` says, so that the configuration always loads. The
 * objects (image, `app.kubernetes.io/version`, flags) follow `spec.version` as the operator's do.
 */
export const CONFIG_PROMETHEUS_VERSION = '2.42.0';

const NO_SELECTED_MESSAGE = 'No ServiceMonitor, PodMonitor, Probe, ScrapeConfig, and PrometheusRule have been selected.';
const UNMANAGED_MESSAGE =
  "the operator doesn't manage the Prometheus configuration secret because neither serviceMonitorSelector nor podMonitorSelector, nor probeSelector, nor scrapeConfigSelector is specified. Unmanaged Prometheus configuration is deprecated, use additionalScrapeConfigs or the ScrapeConfig Custom Resource Definition instead. Unmanaged Prometheus configuration can also be disabled from the operator's command-line (check './operator --help').";

function established(store: ControllerStore, name: string): boolean {
  const crd = store.get('CustomResourceDefinition', undefined, name);
  return crd !== undefined && isEstablished(crd);
}

function ofGroup(obj: KubeObject): boolean {
  return obj.apiVersion.startsWith(`${GROUP}/`);
}

/** Whether a metav1.LabelSelector matches labels; a nil selector matches nothing (labels.Nothing). */
export function selectorMatches(selector: Obj | null | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined || selector === null) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (l[k] !== v) return false;
  for (const exp of (selector.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const has = Object.prototype.hasOwnProperty.call(l, exp.key);
    const values = exp.values ?? [];
    switch (exp.operator) {
      case 'In':
        if (!has || !values.includes(l[exp.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[exp.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** SelectNamespacesFromCache: nil → the object's own namespace; otherwise namespaces by label, sorted. */
function selectNamespaces(store: ControllerStore, p: KubeObject, selector: Obj | null | undefined): string[] {
  if (selector === undefined || selector === null) return [p.metadata.namespace ?? 'default'];
  return store
    .list('Namespace')
    .filter((ns) => selectorMatches(selector, ns.metadata.labels))
    .map((ns) => ns.metadata.name)
    .sort();
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS_MS = [365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1];

function durationMs(text: string): number | undefined {
  const m = DURATION_RE.exec(text);
  if (!m || text === '') return undefined;
  return UNITS_MS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}

/** CompareScrapeTimeoutToScrapeInterval. */
function timeoutError(timeout: string | undefined, interval: string | undefined): string | undefined {
  if (!timeout) return undefined;
  const t = durationMs(timeout);
  const i = durationMs(interval ?? '');
  if (t === undefined || i === undefined) return undefined;
  return t > i ? `scrapeTimeout "${timeout}" greater than scrapeInterval "${interval}"` : undefined;
}

function secretValue(store: ControllerStore, namespace: string, ref: { name?: string; key?: string }): string | undefined {
  const data = store.get('Secret', namespace, ref.name ?? '')?.data as Record<string, string> | undefined;
  const value = data?.[ref.key ?? ''];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** checkServiceMonitor/checkPodMonitor: the reason a selected monitor is rejected, if any. */
function monitorProblem(store: ControllerStore, p: KubeObject, monitor: KubeObject, endpointsKey: string): string | undefined {
  const spec = (p.spec ?? {}) as Obj;
  const mspec = (monitor.spec ?? {}) as Obj;
  const ns = monitor.metadata.namespace ?? 'default';
  for (const exp of (mspec.selector?.matchExpressions ?? []) as { operator: string }[]) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(exp.operator)) return `"${exp.operator}" is not a valid label selector operator`;
  }
  const endpoints = (mspec[endpointsKey] ?? []) as Obj[];
  for (const [i, ep] of endpoints.entries()) {
    const prefix = `endpoints[${i}]`;
    if (spec.arbitraryFSAccessThroughSMs?.deny && endpointsKey === 'endpoints') {
      if (ep.bearerTokenFile) return `${prefix}: it accesses file system via bearer token file which Prometheus specification prohibits`;
      if (ep.tlsConfig?.caFile || ep.tlsConfig?.certFile || ep.tlsConfig?.keyFile) return `${prefix}: it accesses file system via tls config which Prometheus specification prohibits`;
    }
    for (const [what, ref] of [
      ['bearerTokenSecret', ep.bearerTokenSecret],
      ['basicAuth', ep.basicAuth?.username],
      ['basicAuth', ep.basicAuth?.password],
      ['authorization', ep.authorization?.credentials],
    ] as [string, { name?: string; key?: string } | undefined][]) {
      if (!ref?.name) continue;
      if (secretValue(store, ns, ref) === undefined) return `${prefix}: ${what}: key "${ref.key}" in secret "${ref.name}" not found`;
    }
    const interval = ep.interval || spec.scrapeInterval;
    const bad = timeoutError(ep.scrapeTimeout, interval);
    if (bad) return `${prefix}: ${bad}`;
  }
  const scrapeClass = mspec.scrapeClassName;
  if (scrapeClass && !((spec.scrapeClasses ?? []) as Obj[]).some((c) => c.name === scrapeClass)) {
    return `scrapeClassName: scrapeClass "${scrapeClass}" not found in Prometheus scrapeClasses`;
  }
  return undefined;
}

interface Selection {
  serviceMonitors: KubeObject[];
  podMonitors: KubeObject[];
}

/** selectObjects: the monitors of a kind in the selected namespaces matching the selector, valid ones only. */
function selectMonitors(store: ControllerStore, p: KubeObject): Selection {
  const spec = (p.spec ?? {}) as Obj;
  const pick = (kind: string, crd: string, selector: Obj | undefined, nsSelector: Obj | undefined, key: string): KubeObject[] => {
    if (!established(store, crd) || selector === undefined || selector === null) return [];
    return selectNamespaces(store, p, nsSelector)
      .flatMap((ns) => store.list(kind, ns))
      .filter((m) => ofGroup(m) && selectorMatches(selector, m.metadata.labels))
      .filter((m) => monitorProblem(store, p, m, key) === undefined)
      .map((m) => structuredClone(m));
  };
  return {
    serviceMonitors: pick('ServiceMonitor', SERVICE_MONITOR_CRD, spec.serviceMonitorSelector, spec.serviceMonitorNamespaceSelector, 'endpoints'),
    podMonitors: pick('PodMonitor', POD_MONITOR_CRD, spec.podMonitorSelector, spec.podMonitorNamespaceSelector, 'podMetricsEndpoints'),
  };
}

function unmanaged(p: KubeObject): boolean {
  const spec = (p.spec ?? {}) as Obj;
  const isNil = (v: unknown) => v === undefined || v === null;
  return isNil(spec.serviceMonitorSelector) && isNil(spec.podMonitorSelector) && isNil(spec.probeSelector) && isNil(spec.scrapeConfigSelector);
}

/** The reconciliation outcome the Reconciled condition reports. */
interface Reconciliation {
  error?: string;
  reason?: string;
  message?: string;
}

/** The operator's sync of one Prometheus; returns what the Reconciled condition will say. */
function syncPrometheus(store: ControllerStore, p: KubeObject): Reconciliation {
  const spec = (p.spec ?? {}) as Obj;
  const ns = p.metadata.namespace ?? 'default';
  if (spec.paused) return {};
  const selection = selectMonitors(store, p);
  const result: Reconciliation = {};
  if (selection.serviceMonitors.length + selection.podMonitors.length === 0) {
    Object.assign(result, { reason: 'NoSelectedResources', message: NO_SELECTED_MESSAGE });
  }
  if (unmanaged(p)) Object.assign(result, { reason: 'ConfigurationUnmanaged', message: UNMANAGED_MESSAGE });

  store.write(makeRuleConfigMap(p));
  const rules = ruleConfigMapNames(p);
  if (unmanaged(p)) {
    // An empty configuration Secret, created once and then left to the user.
    if (!store.get('Secret', ns, prefixedName(p))) store.write(makeConfigSecret(p, ''));
  } else {
    const bad = timeoutError(spec.scrapeTimeout, spec.scrapeInterval);
    if (bad) return { error: `creating config failed: ${bad}` };
    const input: ConfigInput = {
      prometheus: p,
      serviceMonitors: selection.serviceMonitors,
      podMonitors: selection.podMonitors,
      secretKey: (namespace, ref) => secretValue(store, namespace, ref),
      version: CONFIG_PROMETHEUS_VERSION,
      endpointSliceSupported: true,
      ruleConfigMapNames: rules,
    };
    writeKeepingOthers(store, makeConfigSecret(p, generatePrometheusConfig(input)));
  }
  for (const s of makeSupportSecrets(p)) {
    if (!store.get('Secret', ns, s.metadata.name)) store.write(s);
  }
  if (spec.serviceName === undefined || spec.serviceName === null) {
    store.write(makeGoverningService(p, store.get('Service', ns, GOVERNING_SERVICE)));
  }
  const expected = new Set<string>();
  for (let shard = 0; shard < shardCount(p); shard++) {
    const sts = makeStatefulSet(p, shard, rules);
    expected.add(sts.metadata.name);
    const existing = store.get('StatefulSet', ns, sts.metadata.name);
    const hash = 'prometheus-operator-input-hash';
    if (existing && existing.metadata.annotations?.[hash] === sts.metadata.annotations?.[hash]) continue;
    store.write(existing ? { ...sts, status: existing.status } : sts);
  }
  for (const sts of store.list('StatefulSet', ns)) {
    const labels = sts.metadata.labels ?? {};
    if (labels['operator.prometheus.io/name'] === p.metadata.name && labels['operator.prometheus.io/mode'] === 'server' && !expected.has(sts.metadata.name)) {
      store.remove('StatefulSet', ns, sts.metadata.name);
    }
  }
  return result;
}

/** Writes a Secret the operator owns, keeping data and metadata the operator does not set. */
function writeKeepingOthers(store: ControllerStore, secret: KubeObject): void {
  const existing = store.get('Secret', secret.metadata.namespace, secret.metadata.name);
  if (!existing) return store.write(secret);
  const data = { ...(existing.data as Record<string, string> | undefined), ...(secret.data as Record<string, string>) };
  store.write({ ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...secret.metadata.labels } }, data });
}

const reconciliations = new WeakMap<ControllerStore, Map<string, Reconciliation>>();

/** Runs the operator's sync for every Prometheus (a no-op unless the Prometheus CRD is Established). */
export function syncPrometheusOperator(store: ControllerStore): void {
  if (!established(store, PROMETHEUS_CRD)) return;
  const outcomes = new Map<string, Reconciliation>();
  for (const p of store.list('Prometheus').filter(ofGroup)) {
    if (p.metadata.deletionTimestamp) continue;
    outcomes.set(p.metadata.uid!, syncPrometheus(store, structuredClone(p)));
  }
  reconciliations.set(store, outcomes);
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A Pod's condition message as operator.Pod.Message reports a pod that is not ready. */
function podMessage(pod: KubeObject): string {
  const conditions = ((pod.status as Obj | undefined)?.conditions ?? []) as { type: string; status: string; message?: string }[];
  for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
    const c = conditions.find((x) => x.type === type && x.status === 'False');
    if (c) return c.message ?? '';
  }
  return '';
}

/** StatusReporter.Process and UpdateStatus: replicas, shard statuses and the two conditions. */
function prometheusStatus(store: ControllerStore, p: KubeObject, outcome: Reconciliation | undefined): Obj {
  const spec = (p.spec ?? {}) as Obj;
  const ns = p.metadata.namespace ?? 'default';
  const replicas = spec.replicas === undefined || spec.replicas === null ? 1 : Number(spec.replicas);
  const status: Obj = { paused: spec.paused === true, replicas: 0, updatedReplicas: 0, availableReplicas: 0, unavailableReplicas: 0 };
  const statuses: string[] = [];
  const reasons: string[] = [];
  const messages: string[] = [];
  const shardStatuses: Obj[] = [];
  for (let shard = 0; shard < shardCount(p); shard++) {
    const name = statefulSetName(p, shard);
    const sts = store.get('StatefulSet', ns, name);
    if (!sts) {
      statuses.push('False');
      reasons.push('StatefulSetNotFound');
      messages.push(`shard ${shard}: statefulset ${name} not found`);
      shardStatuses.push({ shardID: String(shard), replicas: 0, updatedReplicas: 0, availableReplicas: 0, unavailableReplicas: 0 });
      continue;
    }
    const match = (sts.spec as Obj).selector?.matchLabels as Record<string, string>;
    const pods = store
      .list('Pod', ns)
      .filter((pod) => selectorMatches({ matchLabels: match }, pod.metadata.labels))
      .filter((pod) => ((pod.metadata.ownerReferences ?? []) as Obj[]).some((o) => o.kind === 'StatefulSet' && o.name === name));
    const ready = pods.filter(isPodReady);
    const updateRevision = (sts.status as Obj | undefined)?.updateRevision;
    const updated = pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] === updateRevision);
    status.replicas += pods.length;
    status.updatedReplicas += updated.length;
    status.availableReplicas += ready.length;
    status.unavailableReplicas += pods.length - ready.length;
    shardStatuses.push({
      shardID: String(shard),
      replicas: pods.length,
      updatedReplicas: updated.length,
      availableReplicas: ready.length,
      unavailableReplicas: pods.length - ready.length,
    });
    if (ready.length >= replicas) {
      statuses.push('True');
      reasons.push('');
      continue;
    }
    statuses.push(ready.length === 0 ? 'False' : 'Degraded');
    reasons.push(ready.length === 0 ? 'NoPodReady' : 'SomePodsNotReady');
    for (const pod of pods) {
      const m = podMessage(pod);
      if (m) messages.push(`shard ${shard}: pod ${pod.metadata.name}: ${m}`);
    }
  }
  const combined = statuses.includes('False') ? 'False' : statuses.includes('Degraded') ? 'Degraded' : statuses.includes('Unknown') ? 'Unknown' : 'True';
  const reason = [...new Set(reasons.filter(Boolean))].sort().join('And');
  const generation = Number(p.metadata.generation ?? 1);
  const previous = ((p.status as Obj | undefined)?.conditions ?? []) as Condition[];
  const condition = (c: Omit<Condition, 'lastTransitionTime'>): Condition => {
    const before = previous.find((x) => x.type === c.type);
    const out: Condition = { type: c.type, status: c.status, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now() };
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    out.observedGeneration = generation;
    return out;
  };
  const reconciled: Omit<Condition, 'lastTransitionTime'> = outcome?.error
    ? { type: 'Reconciled', status: 'False', reason: 'ReconciliationFailed', message: outcome.error }
    : outcome
      ? { type: 'Reconciled', status: 'True', reason: outcome.reason, message: outcome.message }
      : { type: 'Reconciled', status: 'Unknown', reason: 'NotFound', message: `object "${ns}/${p.metadata.name}" not found` };
  status.conditions = [condition({ type: 'Available', status: combined, reason, message: messages.join('\n') }), condition(reconciled)];
  status.shardStatuses = shardStatuses;
  status.shards = Number(spec.shards ?? 1);
  status.selector = labelSelectorString({ matchLabels: selectorLabels(p.metadata.name) });
  return status;
}

/** Updates the status of every Prometheus from its StatefulSets and pods (after the workload controllers ran). */
export function syncPrometheusStatus(store: ControllerStore): void {
  if (!established(store, PROMETHEUS_CRD)) return;
  const outcomes = reconciliations.get(store);
  for (const p of store.list('Prometheus').filter(ofGroup)) {
    const status = prometheusStatus(store, p, outcomes?.get(p.metadata.uid!));
    if (JSON.stringify(status) !== JSON.stringify(p.status)) store.write({ ...structuredClone(p), status });
  }
}
