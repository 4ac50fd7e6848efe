/**
 * The Prometheus side of the stacks for diagnosis tests: TaskFlow's running configuration
 * (`/api/v1/status/config`, the prometheus.yml of examples/taskflow/15-prometheus-config.yaml) and
 * log lines; a kube-prometheus-stack cluster (release `kps` in `monitoring`: the Prometheus object
 * the chart renders, the StatefulSet pod the operator makes, ServiceMonitors and the Services they
 * select, the configuration the operator generates from them); and helpers that run a check for
 * its real verdict, then its prober.
 */
import { readFileSync } from 'node:fs';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { CHECKS } from '../../src/checks/index.js';
import type { CustomObject } from '../../src/cluster.js';
import { PROMETHEUS_PROBERS } from '../../src/diagnose/prometheus.js';
import type { DiagnoseContext, Finding, Prober } from '../../src/diagnose/types.js';
import type { Reason } from '../../src/reasons.js';
import { connectServices } from '../../src/services.js';
import { discoverStack } from '../../src/stack/discover.js';
import type { CheckId, CheckResult } from '../../src/types.js';
import { ClusterView } from '../../src/view.js';
import { FakeCluster } from '../fixtures/cluster.js';
import { settingsWith, verdict, type Stack } from '../fixtures/context.js';
import { FakeEndpoint, grafanaBackend, promOk, targetsAnswer, vector, type Answer } from '../fixtures/endpoints.js';

/** prometheus.yml as the TaskFlow ConfigMap holds it. */
export const TASKFLOW_PROMETHEUS_YML: string = (
  parse(readFileSync(new URL('../../examples/taskflow/15-prometheus-config.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> }
).data['prometheus.yml']!;

export const configAnswer = (yaml = TASKFLOW_PROMETHEUS_YML): Answer => promOk({ yaml });

/** The stack's Prometheus also answers /api/v1/status/config (with `yaml`, TaskFlow's by default). */
export function withConfig(stack: Stack, yaml = TASKFLOW_PROMETHEUS_YML): Stack {
  stack.prometheus.on('GET', '/api/v1/status/config', configAnswer(yaml));
  return stack;
}

/** Prometheus 2.42's log lines when its ServiceAccount may not list `resource` (`pods`, `endpoints`) in `namespace`. */
export function forbiddenLog(namespace = 'taskflow', sa = 'system:serviceaccount:taskflow:prometheus', resource = 'pods', kind = 'Pod'): string {
  const reason = `${resource} is forbidden: User \\"${sa}\\" cannot list resource \\"${resource}\\" in API group \\"\\" in the namespace \\"${namespace}\\"`;
  const reflector = 'pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169';
  const lines: string[] = [
    'ts=2025-03-14T09:26:58.101Z caller=main.go:585 level=info msg="Starting Prometheus Server" mode=server version="(version=2.42.0, branch=HEAD, revision=225c61122d88b01d1f0eaaee0e05b6f3e0567ac0)"',
    'ts=2025-03-14T09:26:58.420Z caller=kubernetes.go:326 level=info component="discovery manager scrape" discovery=kubernetes config=kubernetes-pods msg="Using pod service account via in-cluster config"',
  ];
  for (const ts of ['2025-03-14T09:26:58.512Z', '2025-03-14T09:26:59.733Z']) {
    lines.push(`ts=${ts} caller=klog.go:108 level=warn component=k8s_client_runtime func=Warningf msg="${reflector}: failed to list *v1.${kind}: ${reason}"`);
    lines.push(`ts=${ts} caller=klog.go:116 level=error component=k8s_client_runtime func=ErrorDepth msg="${reflector}: Failed to watch *v1.${kind}: failed to list *v1.${kind}: ${reason}"`);
  }
  lines.push('ts=2025-03-14T09:27:00.002Z caller=main.go:1200 level=info msg="Completed loading of configuration file" filename=/etc/prometheus/prometheus.yml');
  return `${lines.join('\n')}\n`;
}

export function failedResult(id: CheckId, summary = 'failed', reason?: Reason): CheckResult {
  return { id, title: id, status: 'fail', summary, hint: '', durationMs: 1, attempts: 1, ...(reason ? { reason } : {}) };
}

export function diagnoseContext(stack: Stack, results: readonly CheckResult[] = []): DiagnoseContext {
  return { ...stack.context, results: new Map(results.map((r) => [r.id, r])), signal: new AbortController().signal };
}

export interface Probed {
  readonly findings: Finding[];
  readonly notes: string[];
  /** The result diagnosed: the check's own verdict unless one was given. */
  readonly result: CheckResult;
}

/**
 * Runs check `id` once through the runner for its real verdict (and reason), then the prober of
 * `id` (or `prober`) on that result, or on `result` when given.
 */
export async function probe(stack: Stack, id: CheckId, prober: Prober | undefined = PROMETHEUS_PROBERS[id], result?: CheckResult): Promise<Probed> {
  if (!prober) throw new Error(`no prober for ${id}`);
  const check = CHECKS.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  const diagnosed = result ?? (await verdict(check, stack));
  const { findings, notes } = await prober(diagnosed, diagnoseContext(stack, [diagnosed]));
  return { findings, notes, result: diagnosed };
}

// ------------------------------------------------------------------------------------------------
// kube-prometheus-stack, release kps in namespace monitoring (examples/kube-prometheus-stack)

export const KPS_NS = 'monitoring';
export const KPS_PROMETHEUS = 'kps-kube-prometheus-stack-prometheus';
export const KPS_POD = `prometheus-${KPS_PROMETHEUS}-0`;
/** The chart's Prometheus ServiceAccount, as SubjectAccessReviews name it. */
export const KPS_SA = `system:serviceaccount:${KPS_NS}:${KPS_PROMETHEUS}`;
export const MONITORING = 'monitoring.coreos.com';

const STARTED = '2025-03-14T09:26:53Z';

function podObject(namespace: string, name: string, ip: string, labels: Record<string, string>, owner: { kind: string; name: string }, containers: { name: string; ports: { name: string; containerPort: number }[] }[], sa = 'default'): V1Pod {
  return {
    metadata: { name, namespace, uid: `uid-${name}`, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true }] },
    spec: { serviceAccountName: sa, nodeName: 'kind-control-plane', containers: containers.map((c) => ({ name: c.name, image: `example/${c.name}:1`, ports: c.ports.map((x) => ({ ...x, protocol: 'TCP' })) })) },
    status: {
      phase: 'Running',
      podIP: ip,
      hostIP: '172.18.0.2',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
      ],
      containerStatuses: containers.map((c) => ({ name: c.name, image: `example/${c.name}:1`, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date(STARTED) } } })),
    },
  };
}

function serviceObject(namespace: string, name: string, labels: Record<string, string>, selector: Record<string, string>, ports: { name?: string; port: number; targetPort?: number | string }[], headless = false): V1Service {
  return {
    metadata: { name, namespace, uid: `svc-${namespace}-${name}`, labels },
    spec: { selector, clusterIP: headless ? 'None' : '10.96.7.1', type: 'ClusterIP', ports: ports.map((p) => ({ ...p, protocol: 'TCP', targetPort: p.targetPort ?? p.port })) },
  };
}

function endpointsObject(svc: V1Service, pods: readonly V1Pod[]): V1Endpoints {
  return {
    metadata: { name: svc.metadata?.name, namespace: svc.metadata?.namespace, labels: svc.metadata?.labels },
    subsets: pods.length
      ? [
          {
            addresses: pods.map((p) => ({ ip: p.status?.podIP ?? '', targetRef: { kind: 'Pod', namespace: p.metadata?.namespace, name: p.metadata?.name } })),
            ports: (svc.spec?.ports ?? []).map((x) => ({ ...(x.name ? { name: x.name } : {}), port: Number(x.targetPort ?? x.port), protocol: 'TCP' })),
          },
        ]
      : [],
  };
}

/** A ServiceMonitor as a user or chart writes it. */
export function serviceMonitor(namespace: string, name: string, labels: Record<string, string>, spec: Record<string, unknown>): CustomObject {
  return { apiVersion: `${MONITORING}/v1`, kind: 'ServiceMonitor', metadata: { name, namespace, uid: `sm-${namespace}-${name}`, labels }, spec };
}

/** The Prometheus object kube-prometheus-stack renders with its defaults (templates/prometheus/prometheus.yaml). */
export function kpsPrometheusObject(): CustomObject {
  const release = { matchLabels: { release: 'kps' } };
  return {
    apiVersion: `${MONITORING}/v1`,
    kind: 'Prometheus',
    metadata: {
      name: KPS_PROMETHEUS,
      namespace: KPS_NS,
      labels: { app: 'kube-prometheus-stack-prometheus', 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'kps', 'app.kubernetes.io/part-of': 'kube-prometheus-stack', release: 'kps', heritage: 'Helm' },
    },
    spec: {
      version: 'v3.14.0',
      replicas: 1,
      serviceAccountName: KPS_PROMETHEUS,
      portName: 'http-web',
      serviceMonitorSelector: release,
      serviceMonitorNamespaceSelector: {},
      podMonitorSelector: release,
      podMonitorNamespaceSelector: {},
      probeSelector: release,
      probeNamespaceSelector: {},
    },
  };
}

/** One ServiceMonitor endpoint's job as the operator generates it (promcfg.go generateServiceMonitorConfig, endpoints role). */
export function operatorJob(namespace: string, name: string, index: number, monitor: { selector: Record<string, string>; port: string; jobLabel?: string }): Record<string, unknown> {
  const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');
  return {
    job_name: `serviceMonitor/${namespace}/${name}/${index}`,
    honor_timestamps: true,
    scrape_interval: '30s',
    scrape_timeout: '10s',
    metrics_path: '/metrics',
    scheme: 'http',
    kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: [namespace] } }],
    relabel_configs: [
      { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
      ...Object.entries(monitor.selector).map(([k, v]) => ({
        source_labels: [`__meta_kubernetes_service_label_${sanitize(k)}`, `__meta_kubernetes_service_labelpresent_${sanitize(k)}`],
        regex: `(${v});true`,
        action: 'keep',
      })),
      { source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: monitor.port, action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
      ...(monitor.jobLabel ? [{ source_labels: [`__meta_kubernetes_service_label_${sanitize(monitor.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' }] : []),
      { target_label: 'endpoint', replacement: monitor.port },
    ],
  };
}

/** The running configuration of the kps Prometheus: one job per endpoint of each selected ServiceMonitor. */
export function kpsConfig(cluster: FakeCluster, prometheus: CustomObject = cluster.customs.get(`${MONITORING}/prometheuses`)![0]!): string {
  const selector = ((prometheus.spec?.serviceMonitorSelector ?? undefined) as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
  const jobs: Record<string, unknown>[] = [];
  for (const sm of cluster.customs.get(`${MONITORING}/servicemonitors`) ?? []) {
    if (!selector || !Object.entries(selector).every(([k, v]) => sm.metadata?.labels?.[k] === v)) continue;
    const spec = sm.spec as { selector?: { matchLabels?: Record<string, string> }; endpoints?: { port: string }[]; jobLabel?: string };
    (spec.endpoints ?? []).forEach((e, i) =>
      jobs.push(operatorJob(sm.metadata?.namespace ?? '', sm.metadata?.name ?? '', i, { selector: spec.selector?.matchLabels ?? {}, port: e.port, ...(spec.jobLabel ? { jobLabel: spec.jobLabel } : {}) })),
    );
  }
  const podSelector = ((prometheus.spec?.podMonitorSelector ?? undefined) as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
  for (const pm of cluster.customs.get(`${MONITORING}/podmonitors`) ?? []) {
    if (!podSelector || !Object.entries(podSelector).every(([k, v]) => pm.metadata?.labels?.[k] === v)) continue;
    const spec = pm.spec as { podMetricsEndpoints?: { port?: string }[] };
    (spec.podMetricsEndpoints ?? []).forEach((e, i) =>
      jobs.push({
        job_name: `podMonitor/${pm.metadata?.namespace}/${pm.metadata?.name}/${i}`,
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [pm.metadata?.namespace] } }],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: e.port ?? '', action: 'keep' },
          { target_label: 'job', replacement: `${pm.metadata?.namespace}/${pm.metadata?.name}` },
        ],
      }),
    );
  }
  return stringify({
    global: { scrape_interval: '30s', scrape_timeout: '10s', evaluation_interval: '30s', external_labels: { prometheus: `${KPS_NS}/${KPS_PROMETHEUS}`, prometheus_replica: KPS_POD } },
    scrape_configs: jobs,
  });
}

/** A target of a ServiceMonitor pool as /api/v1/targets lists it. */
export function monitorTarget(o: { namespace: string; monitor: string; service: string; job?: string; pod: string; ip: string; port: number; portName: string; health?: 'up' | 'down'; lastError?: string }): Record<string, unknown> {
  const pool = `serviceMonitor/${o.namespace}/${o.monitor}/0`;
  const address = `${o.ip}:${o.port}`;
  const labels = { container: o.monitor, endpoint: o.portName, instance: address, job: o.job ?? o.service, namespace: o.namespace, pod: o.pod, service: o.service };
  return {
    discoveredLabels: {
      __address__: address,
      __meta_kubernetes_endpoint_port_name: o.portName,
      __meta_kubernetes_namespace: o.namespace,
      __meta_kubernetes_pod_name: o.pod,
      __meta_kubernetes_service_name: o.service,
      __metrics_path__: '/metrics',
      __scheme__: 'http',
      __scrape_interval__: '30s',
      __scrape_timeout__: '10s',
      job: pool,
    },
    labels,
    scrapePool: pool,
    scrapeUrl: `http://${address}/metrics`,
    globalUrl: `http://${o.pod}:${o.port}/metrics`,
    lastError: o.lastError ?? '',
    lastScrape: '2025-03-14T09:31:02.417892113Z',
    lastScrapeDuration: 0.01,
    health: o.health ?? 'up',
    scrapeInterval: '30s',
    scrapeTimeout: '10s',
  };
}

export const NODE_EXPORTER_TARGET = monitorTarget({
  namespace: KPS_NS,
  monitor: 'kps-prometheus-node-exporter',
  service: 'kps-prometheus-node-exporter',
  job: 'node-exporter',
  pod: 'kps-prometheus-node-exporter-7xk2q',
  ip: '172.18.0.2',
  port: 9100,
  portName: 'http-metrics',
});

/**
 * kube-prometheus-stack (release kps) run by the Prometheus Operator in `monitoring`, and apps in
 * their own namespaces:
 * - node-exporter: a ServiceMonitor labelled release: kps, its Service, one UP target;
 * - apps/shop: Service shop (port http:8080) and a ServiceMonitor shop WITHOUT release: kps;
 * - apps/cart: Service cart (port http:8080) and a ServiceMonitor labelled release: kps whose
 *   endpoint names port "8080" (a number where the port name is needed);
 * - billing/billing: Service and ServiceMonitor (release: kps, port http), both fine.
 */
export function kpsCluster(): FakeCluster {
  const cluster = new FakeCluster();
  // Not the TaskFlow stack: only kube-prometheus-stack's objects.
  for (const list of [cluster.pods, cluster.services, cluster.endpoints, cluster.configMaps, cluster.deployments, cluster.namespaces]) list.length = 0;
  cluster.defaultNamespace = KPS_NS;
  cluster.addNamespace(KPS_NS).addNamespace('apps', { team: 'shop' }).addNamespace('billing');

  const promLabels = {
    'app.kubernetes.io/name': 'prometheus',
    'app.kubernetes.io/instance': KPS_PROMETHEUS,
    'app.kubernetes.io/managed-by': 'prometheus-operator',
    'app.kubernetes.io/version': '3.14.0',
    'operator.prometheus.io/name': KPS_PROMETHEUS,
    'operator.prometheus.io/shard': '0',
    prometheus: KPS_PROMETHEUS,
    'controller-revision-hash': `prometheus-${KPS_PROMETHEUS}-5b8d7c9f4`,
    'statefulset.kubernetes.io/pod-name': KPS_POD,
  };
  const prom = podObject(KPS_NS, KPS_POD, '10.244.1.10', promLabels, { kind: 'StatefulSet', name: `prometheus-${KPS_PROMETHEUS}` }, [
    { name: 'prometheus', ports: [{ name: 'http-web', containerPort: 9090 }] },
    { name: 'config-reloader', ports: [{ name: 'reloader-web', containerPort: 8080 }] },
  ], KPS_PROMETHEUS);
  const chartLabels = { app: 'kube-prometheus-stack-prometheus', 'app.kubernetes.io/instance': 'kps', 'app.kubernetes.io/part-of': 'kube-prometheus-stack', release: 'kps', 'self-monitor': 'true' };
  const promSvc = serviceObject(KPS_NS, KPS_PROMETHEUS, chartLabels, { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': KPS_PROMETHEUS }, [
    { name: 'http-web', port: 9090 },
    { name: 'reloader-web', port: 8080 },
  ]);
  const operated = serviceObject(KPS_NS, 'prometheus-operated', { 'managed-by': 'prometheus-operator', 'operated-prometheus': 'true' }, { 'app.kubernetes.io/name': 'prometheus' }, [{ name: 'http-web', port: 9090 }], true);

  const nodeExporter = podObject(KPS_NS, 'kps-prometheus-node-exporter-7xk2q', '172.18.0.2', { 'app.kubernetes.io/name': 'prometheus-node-exporter', 'app.kubernetes.io/instance': 'kps', jobLabel: 'node-exporter' }, { kind: 'DaemonSet', name: 'kps-prometheus-node-exporter' }, [
    { name: 'node-exporter', ports: [{ name: 'http-metrics', containerPort: 9100 }] },
  ]);
  const nodeSvc = serviceObject(KPS_NS, 'kps-prometheus-node-exporter', { 'app.kubernetes.io/name': 'prometheus-node-exporter', 'app.kubernetes.io/instance': 'kps', jobLabel: 'node-exporter', release: 'kps' }, { 'app.kubernetes.io/name': 'prometheus-node-exporter', 'app.kubernetes.io/instance': 'kps' }, [
    { name: 'http-metrics', port: 9100 },
  ]);

  const app = (namespace: string, name: string, ip: string) => {
    const pod = podObject(namespace, `${name}-6f9c8d7b5-q2w3e`, ip, { app: name, 'pod-template-hash': '6f9c8d7b5' }, { kind: 'ReplicaSet', name: `${name}-6f9c8d7b5` }, [{ name, ports: [{ name: 'http', containerPort: 8080 }] }]);
    const svc = serviceObject(namespace, name, { app: name }, { app: name }, [{ name: 'http', port: 8080 }]);
    return { pod, svc };
  };
  const shop = app('apps', 'shop', '10.244.2.10');
  const cart = app('apps', 'cart', '10.244.2.11');
  const billing = app('billing', 'billing', '10.244.3.10');

  cluster.pods.push(prom, nodeExporter, shop.pod, cart.pod, billing.pod);
  cluster.services.push(promSvc, operated, nodeSvc, shop.svc, cart.svc, billing.svc);
  cluster.endpoints.push(
    endpointsObject(promSvc, [prom]),
    endpointsObject(operated, [prom]),
    endpointsObject(nodeSvc, [nodeExporter]),
    endpointsObject(shop.svc, [shop.pod]),
    endpointsObject(cart.svc, [cart.pod]),
    endpointsObject(billing.svc, [billing.pod]),
  );
  cluster.customs.set(`${MONITORING}/prometheuses`, [kpsPrometheusObject()]);
  cluster.customs.set(`${MONITORING}/servicemonitors`, [
    serviceMonitor(KPS_NS, 'kps-prometheus-node-exporter', { 'app.kubernetes.io/name': 'prometheus-node-exporter', 'app.kubernetes.io/instance': 'kps', release: 'kps' }, {
      jobLabel: 'jobLabel',
      selector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus-node-exporter', 'app.kubernetes.io/instance': 'kps' } },
      endpoints: [{ port: 'http-metrics', scheme: 'http' }],
    }),
    serviceMonitor('apps', 'shop', { app: 'shop' }, { selector: { matchLabels: { app: 'shop' } }, endpoints: [{ port: 'http', interval: '30s' }] }),
    serviceMonitor('apps', 'cart', { app: 'cart', release: 'kps' }, { selector: { matchLabels: { app: 'cart' } }, endpoints: [{ port: '8080' }] }),
    serviceMonitor('billing', 'billing', { app: 'billing', release: 'kps' }, { selector: { matchLabels: { app: 'billing' } }, endpoints: [{ port: 'http' }] }),
  ]);
  cluster.customs.set(`${MONITORING}/podmonitors`, []);
  return cluster;
}

/**
 * The kps stack found by discovery on `cluster`, its Prometheus reached through the service
 * proxy, answering the operator's configuration and the given targets (node-exporter UP by default).
 */
export async function kpsStack(inputs: Record<string, string> = {}, cluster: FakeCluster = kpsCluster(), targets: readonly unknown[] = [NODE_EXPORTER_TARGET]): Promise<Stack> {
  const prometheus = new FakeEndpoint(`service ${KPS_NS}/${KPS_PROMETHEUS}:9090 through the API server's service proxy`)
    .on('GET', '/api/v1/targets', targetsAnswer(targets))
    .on('GET', '/api/v1/query', vector([{ __name__: 'up', job: 'node-exporter', namespace: KPS_NS }]))
    .on('GET', '/api/v1/status/config', configAnswer(kpsConfig(cluster)));
  const grafana = grafanaBackend();
  cluster.serve(KPS_PROMETHEUS, prometheus);
  const settings = settingsWith({ 'grafana-password': 'admin2024', ...inputs });
  const found = await discoverStack(settings, cluster);
  const services = connectServices(settings, found, cluster);
  const view = new ClusterView(cluster, services.prometheus, services.grafana);
  return {
    cluster,
    prometheus,
    grafana,
    settings,
    found,
    context: { settings, stack: found, view, cluster, prometheus: services.prometheus, grafana: services.grafana, signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER, manifests: async () => undefined },
  };
}

/** The ServiceMonitor `namespace/name` of the kps cluster, to edit. */
export function monitor(cluster: FakeCluster, namespace: string, name: string): { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } {
  const found = cluster.customs.get(`${MONITORING}/servicemonitors`)?.find((m) => m.metadata?.namespace === namespace && m.metadata.name === name);
  if (!found) throw new Error(`no ServiceMonitor ${namespace}/${name}`);
  return found as never;
}

/** A PodMonitor as a user writes it. */
export function podMonitor(namespace: string, name: string, labels: Record<string, string>, spec: Record<string, unknown>): CustomObject {
  return { apiVersion: `${MONITORING}/v1`, kind: 'PodMonitor', metadata: { name, namespace, uid: `pm-${namespace}-${name}`, labels }, spec };
}

/** The kps Prometheus object's spec, to edit. */
export function prometheusSpec(cluster: FakeCluster): Record<string, unknown> {
  return cluster.customs.get(`${MONITORING}/prometheuses`)![0]!.spec!;
}
