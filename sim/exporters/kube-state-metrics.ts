/**
 * kube-state-metrics (kubernetes/kube-state-metrics v2): the object metrics of its main port,
 * computed at each scrape from the objects of the simulated cluster, and the telemetry of its
 * second port (--telemetry-port) about kube-state-metrics itself.
 *
 * Fidelity notes, from kube-state-metrics' sources (internal/store/*.go, pkg/metric_generator):
 * - HELP of STABLE families is prefixed "[STABLE] " (FamilyGenerator.generateHeader);
 * - labels come in the store's order: the default labels first (pod: namespace, pod, uid;
 *   deployment: namespace, deployment; node: node; …), then the family's own (mergeKeyValues);
 * - empty label values are written (`priority_class=""`); Prometheus treats them as absent;
 * - condition families have one sample per status "true", "false", "unknown" (addConditionMetrics);
 * - kube_pod_labels has no samples without --metric-labels-allowlist (createPodLabelsGenerator).
 * The simulated cluster has no Node objects, so the node families describe the nodes the pods are
 * scheduled on, with the attributes of a kind node.
 */
import type { ClusterView, KubeObject } from '../kube/view.js';
import type { MetricFamily, Sample } from './exposition.js';
import { buildInfoFamily, goFamilies, TimedWorkload, type Workload } from './workload-base.js';

/** The collectors kube-state-metrics enables when `--resources` is not given (the ones simulated). */
const SIMULATED_RESOURCES = ['configmaps', 'daemonsets', 'deployments', 'namespaces', 'nodes', 'pods', 'replicasets', 'secrets', 'services', 'statefulsets'] as const;
type Resource = (typeof SIMULATED_RESOURCES)[number];

/** The reflector type names kube-state-metrics labels its list/watch counters with. */
const RESOURCE_TYPES: Record<Resource, string> = {
  configmaps: '*v1.ConfigMap',
  daemonsets: '*v1.DaemonSet',
  deployments: '*v1.Deployment',
  namespaces: '*v1.Namespace',
  nodes: '*v1.Node',
  pods: '*v1.Pod',
  replicasets: '*v1.ReplicaSet',
  secrets: '*v1.Secret',
  services: '*v1.Service',
  statefulsets: '*v1.StatefulSet',
};

export interface KubeStateMetricsOptions {
  /** The cluster whose objects are exported; without it, no object metrics. */
  view?: ClusterView;
  /** The container's args: `--resources=a,b` and `--namespaces=x,y` are honoured. */
  args?: readonly string[];
  /** Version for kube_state_metrics_build_info (default 2.20.0). */
  version?: string;
}

type Obj = Record<string, unknown>;
type Labels = Record<string, string>;

function field(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const unix = (value: unknown): number => {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
};

/** The value of a `--flag=value` argument, if present. */
export function flagValue(args: readonly string[] | undefined, flag: string): string | undefined {
  for (const arg of args ?? []) {
    if (arg.startsWith(`--${flag}=`)) return arg.slice(flag.length + 3);
  }
  return undefined;
}

function family(name: string, help: string, type: 'gauge' | 'counter', samples: Sample[], stable = true): MetricFamily {
  return { name, help: stable ? `[STABLE] ${help}` : help, type, samples };
}

/** One sample per condition status, as kube-state-metrics' addConditionMetrics writes them. */
function conditionSamples(labels: Labels, status: string | undefined): Sample[] {
  return ['True', 'False', 'Unknown'].map((s) => ({ labels: { ...labels, status: s.toLowerCase() }, value: status === s ? 1 : 0 }));
}

function controllerOf(obj: KubeObject): { kind: string; name: string } | undefined {
  const refs = (obj.metadata.ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
  const ref = refs.find((r) => r.controller);
  return ref ? { kind: str(ref.kind), name: str(ref.name) } : undefined;
}

function ownerSamples(base: Labels, obj: KubeObject): Sample[] {
  const refs = (obj.metadata.ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
  if (refs.length === 0) return [{ labels: { ...base, owner_kind: '', owner_name: '', owner_is_controller: '' }, value: 1 }];
  return refs.map((r) => ({ labels: { ...base, owner_kind: str(r.kind), owner_name: str(r.name), owner_is_controller: r.controller === undefined ? 'false' : String(r.controller) }, value: 1 }));
}

/** The main port of kube-state-metrics: one family per object metric, from the current objects. */
export class KubeStateMetricsWorkload implements Workload {
  private readonly resources: Set<Resource>;
  private readonly namespaces: Set<string> | undefined;

  constructor(private readonly options: KubeStateMetricsOptions = {}) {
    const listed = flagValue(options.args, 'resources')?.split(',').map((s) => s.trim()).filter(Boolean);
    this.resources = new Set(SIMULATED_RESOURCES.filter((r) => !listed || listed.includes(r)));
    const ns = flagValue(options.args, 'namespaces')?.split(',').map((s) => s.trim()).filter(Boolean);
    this.namespaces = ns && ns.length > 0 ? new Set(ns) : undefined;
  }

  /** The resources whose families this instance exports. */
  get exportedResources(): string[] {
    return [...this.resources];
  }

  private list(kind: string): KubeObject[] {
    const view = this.options.view;
    if (!view) return [];
    const objects = view.list(kind);
    if (!this.namespaces || kind === 'Namespace') return objects;
    return objects.filter((o) => this.namespaces!.has(str(o.metadata.namespace)));
  }

  collect(): MetricFamily[] {
    const families: MetricFamily[] = [];
    if (this.resources.has('configmaps')) families.push(...this.configMaps());
    if (this.resources.has('daemonsets')) families.push(...this.daemonSets());
    if (this.resources.has('deployments')) families.push(...this.deployments());
    if (this.resources.has('namespaces')) families.push(...this.namespaceFamilies());
    if (this.resources.has('nodes')) families.push(...this.nodes());
    if (this.resources.has('pods')) families.push(...this.pods());
    if (this.resources.has('replicasets')) families.push(...this.replicaSets());
    if (this.resources.has('secrets')) families.push(...this.secrets());
    if (this.resources.has('services')) families.push(...this.services());
    if (this.resources.has('statefulsets')) families.push(...this.statefulSets());
    return families.filter((f) => f.samples.length > 0);
  }

  private configMaps(): MetricFamily[] {
    const cms = this.list('ConfigMap');
    const base = (c: KubeObject): Labels => ({ namespace: str(c.metadata.namespace), configmap: c.metadata.name });
    return [
      family('kube_configmap_info', 'Information about configmap.', 'gauge', cms.map((c) => ({ labels: base(c), value: 1 }))),
      family('kube_configmap_created', 'Unix creation timestamp', 'gauge', cms.map((c) => ({ labels: base(c), value: unix(c.metadata.creationTimestamp) }))),
    ];
  }

  private secrets(): MetricFamily[] {
    const secrets = this.list('Secret');
    const base = (s: KubeObject): Labels => ({ namespace: str(s.metadata.namespace), secret: s.metadata.name, uid: str(s.metadata.uid) });
    return [
      family('kube_secret_info', 'Information about secret.', 'gauge', secrets.map((s) => ({ labels: base(s), value: 1 }))),
      family('kube_secret_type', 'Type about secret.', 'gauge', secrets.map((s) => ({ labels: { ...base(s), type: str(s.type) || 'Opaque' }, value: 1 }))),
    ];
  }

  private namespaceFamilies(): MetricFamily[] {
    const namespaces = this.list('Namespace');
    const phase = (n: KubeObject) => str(field(n, 'status', 'phase')) || 'Active';
    return [
      family('kube_namespace_created', 'Unix creation timestamp', 'gauge', namespaces.map((n) => ({ labels: { namespace: n.metadata.name }, value: unix(n.metadata.creationTimestamp) }))),
      family(
        'kube_namespace_status_phase',
        'kubernetes namespace status phase.',
        'gauge',
        namespaces.flatMap((n) => ['Active', 'Terminating'].map((p) => ({ labels: { namespace: n.metadata.name, phase: p }, value: phase(n) === p ? 1 : 0 }))),
      ),
    ];
  }

  private nodes(): MetricFamily[] {
    const nodes = new Map<string, string>();
    for (const pod of this.options.view?.list('Pod') ?? []) {
      const name = str(field(pod, 'spec', 'nodeName'));
      if (name && !nodes.has(name)) nodes.set(name, str(field(pod, 'status', 'hostIP')));
    }
    const list = [...nodes.entries()].sort(([a], [b]) => a.localeCompare(b));
    return [
      family(
        'kube_node_info',
        'Information about a cluster node.',
        'gauge',
        list.map(([node, ip]) => ({
          labels: {
            node,
            kernel_version: '6.8.0-1021-azure',
            os_image: 'Debian GNU/Linux 12 (bookworm)',
            container_runtime_version: 'containerd://2.1.1',
            kubelet_version: 'v1.33.1',
            kubeproxy_version: 'deprecated',
            provider_id: `kind://docker/kind/${node}`,
            pod_cidr: '10.244.0.0/24',
            system_uuid: '4c4c4544-0000-1000-8000-00000000000a',
            internal_ip: ip,
          },
          value: 1,
        })),
      ),
      family('kube_node_spec_unschedulable', 'Whether a node can schedule new pods.', 'gauge', list.map(([node]) => ({ labels: { node }, value: 0 }))),
      family(
        'kube_node_status_condition',
        'The condition of a cluster node.',
        'gauge',
        list.flatMap(([node]) =>
          (['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'] as const).flatMap((condition) =>
            conditionSamples({ node, condition }, condition === 'Ready' ? 'True' : 'False'),
          ),
        ),
      ),
    ];
  }

  private pods(): MetricFamily[] {
    const pods = this.list('Pod');
    const base = (p: KubeObject): Labels => ({ namespace: str(p.metadata.namespace), pod: p.metadata.name, uid: str(p.metadata.uid) });
    const statuses = (p: KubeObject) => (field(p, 'status', 'containerStatuses') ?? []) as Obj[];
    const condition = (p: KubeObject, type: string) => str(((field(p, 'status', 'conditions') ?? []) as Obj[]).find((c) => c.type === type)?.status) || undefined;
    const containerSamples = (pick: (cs: Obj, p: KubeObject) => number | undefined): Sample[] =>
      pods.flatMap((p) =>
        statuses(p).flatMap((cs) => {
          const value = pick(cs, p);
          return value === undefined ? [] : [{ labels: { ...base(p), container: str(cs.name) }, value }];
        }),
      );
    const phases = ['Pending', 'Succeeded', 'Failed', 'Unknown', 'Running'];
    const specImage = (p: KubeObject, name: string) => str(((field(p, 'spec', 'containers') ?? []) as Obj[]).find((c) => c.name === name)?.image);
    return [
      family(
        'kube_pod_info',
        'Information about pod.',
        'gauge',
        pods.map((p) => {
          const owner = controllerOf(p);
          return {
            labels: {
              ...base(p),
              host_ip: str(field(p, 'status', 'hostIP')),
              pod_ip: str(field(p, 'status', 'podIP')),
              node: str(field(p, 'spec', 'nodeName')),
              created_by_kind: owner?.kind ?? '',
              created_by_name: owner?.name ?? '',
              priority_class: str(field(p, 'spec', 'priorityClassName')),
              host_network: String(field(p, 'spec', 'hostNetwork') === true),
            },
            value: 1,
          };
        }),
      ),
      family('kube_pod_owner', "Information about the Pod's owner.", 'gauge', pods.flatMap((p) => ownerSamples(base(p), p))),
      family(
        'kube_pod_start_time',
        'Start time in unix timestamp for a pod.',
        'gauge',
        pods.filter((p) => field(p, 'status', 'startTime')).map((p) => ({ labels: base(p), value: unix(field(p, 'status', 'startTime')) })),
      ),
      family(
        'kube_pod_status_phase',
        'The pods current phase.',
        'gauge',
        pods
          .filter((p) => str(field(p, 'status', 'phase')))
          .flatMap((p) => phases.map((phase) => ({ labels: { ...base(p), phase }, value: str(field(p, 'status', 'phase')) === phase ? 1 : 0 }))),
      ),
      family(
        'kube_pod_status_ready',
        'Describes whether the pod is ready to serve requests.',
        'gauge',
        pods.filter((p) => condition(p, 'Ready')).flatMap((p) => conditionSamples(base(p), condition(p, 'Ready')).map((s) => ({ labels: renameStatus(s.labels!), value: s.value }))),
      ),
      family(
        'kube_pod_status_scheduled',
        'Describes the status of the scheduling process for the pod.',
        'gauge',
        pods.filter((p) => condition(p, 'PodScheduled')).flatMap((p) => conditionSamples(base(p), condition(p, 'PodScheduled')).map((s) => ({ labels: renameStatus(s.labels!), value: s.value }))),
      ),
      family(
        'kube_pod_container_info',
        'Information about a container in a pod.',
        'gauge',
        pods.flatMap((p) =>
          statuses(p).map((cs) => ({
            labels: { ...base(p), container: str(cs.name), image_spec: specImage(p, str(cs.name)), image: str(cs.image), image_id: str(cs.imageID), container_id: str(cs.containerID) },
            value: 1,
          })),
        ),
      ),
      family('kube_pod_container_status_waiting', 'Describes whether the container is currently in waiting state.', 'gauge', containerSamples((cs) => (field(cs, 'state', 'waiting') ? 1 : 0))),
      family('kube_pod_container_status_running', 'Describes whether the container is currently in running state.', 'gauge', containerSamples((cs) => (field(cs, 'state', 'running') ? 1 : 0))),
      family('kube_pod_container_status_ready', 'Describes whether the containers readiness check succeeded.', 'gauge', containerSamples((cs) => (cs.ready === true ? 1 : 0))),
      family('kube_pod_container_status_restarts_total', 'The number of container restarts per container.', 'counter', containerSamples((cs) => num(cs.restartCount))),
    ];
  }

  private workloadFamilies(
    kind: string,
    label: string,
    defs: [suffix: string, help: string, value: (o: KubeObject) => number][],
  ): MetricFamily[] {
    const objects = this.list(kind);
    return defs.map(([suffix, help, value]) =>
      family(`kube_${label}_${suffix}`, help, 'gauge', objects.map((o) => ({ labels: { namespace: str(o.metadata.namespace), [label]: o.metadata.name }, value: value(o) }))),
    );
  }

  private deployments(): MetricFamily[] {
    const status = (o: KubeObject, key: string) => num(field(o, 'status', key));
    return this.workloadFamilies('Deployment', 'deployment', [
      ['created', 'Unix creation timestamp', (o) => unix(o.metadata.creationTimestamp)],
      ['spec_replicas', 'Number of desired pods for a deployment.', (o) => num(field(o, 'spec', 'replicas') ?? 1)],
      ['status_replicas', 'The number of replicas per deployment.', (o) => status(o, 'replicas')],
      ['status_replicas_ready', 'The number of ready replicas per deployment.', (o) => status(o, 'readyReplicas')],
      ['status_replicas_available', 'The number of available replicas per deployment.', (o) => status(o, 'availableReplicas')],
      ['status_replicas_unavailable', 'The number of unavailable replicas per deployment.', (o) => status(o, 'unavailableReplicas')],
      ['status_replicas_updated', 'The number of updated replicas per deployment.', (o) => status(o, 'updatedReplicas')],
      ['status_observed_generation', 'The generation observed by the deployment controller.', (o) => status(o, 'observedGeneration')],
      ['metadata_generation', 'Sequence number representing a specific generation of the desired state.', (o) => num(o.metadata.generation)],
    ]);
  }

  private daemonSets(): MetricFamily[] {
    const status = (o: KubeObject, key: string) => num(field(o, 'status', key));
    return this.workloadFamilies('DaemonSet', 'daemonset', [
      ['created', 'Unix creation timestamp', (o) => unix(o.metadata.creationTimestamp)],
      ['status_current_number_scheduled', 'The number of nodes running at least one daemon pod and are supposed to.', (o) => status(o, 'currentNumberScheduled')],
      ['status_desired_number_scheduled', 'The number of nodes that should be running the daemon pod.', (o) => status(o, 'desiredNumberScheduled')],
      ['status_number_available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available', (o) => status(o, 'numberAvailable')],
      ['status_number_misscheduled', 'The number of nodes running a daemon pod but are not supposed to.', (o) => status(o, 'numberMisscheduled')],
      ['status_number_ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', (o) => status(o, 'numberReady')],
      ['status_number_unavailable', 'The number of nodes that should be running the daemon pod and have none of the daemon pod running and available', (o) => status(o, 'numberUnavailable')],
      ['status_updated_number_scheduled', 'The total number of nodes that are running updated daemon pod', (o) => status(o, 'updatedNumberScheduled')],
      ['metadata_generation', 'Sequence number representing a specific generation of the desired state.', (o) => num(o.metadata.generation)],
    ]);
  }

  private statefulSets(): MetricFamily[] {
    const status = (o: KubeObject, key: string) => num(field(o, 'status', key));
    return this.workloadFamilies('StatefulSet', 'statefulset', [
      ['created', 'Unix creation timestamp', (o) => unix(o.metadata.creationTimestamp)],
      ['replicas', 'Number of desired pods for a StatefulSet.', (o) => num(field(o, 'spec', 'replicas') ?? 1)],
      ['status_replicas', 'The number of replicas per StatefulSet.', (o) => status(o, 'replicas')],
      ['status_replicas_available', 'The number of available replicas per StatefulSet.', (o) => status(o, 'availableReplicas')],
      ['status_replicas_current', 'The number of current replicas per StatefulSet.', (o) => status(o, 'currentReplicas')],
      ['status_replicas_ready', 'The number of ready replicas per StatefulSet.', (o) => status(o, 'readyReplicas')],
      ['status_replicas_updated', 'The number of updated replicas per StatefulSet.', (o) => status(o, 'updatedReplicas')],
      ['metadata_generation', 'Sequence number representing a specific generation of the desired state for the StatefulSet.', (o) => num(o.metadata.generation)],
    ]);
  }

  private replicaSets(): MetricFamily[] {
    const sets = this.list('ReplicaSet');
    const base = (o: KubeObject): Labels => ({ namespace: str(o.metadata.namespace), replicaset: o.metadata.name });
    return [
      ...this.workloadFamilies('ReplicaSet', 'replicaset', [
        ['spec_replicas', 'Number of desired pods for a ReplicaSet.', (o) => num(field(o, 'spec', 'replicas') ?? 1)],
        ['status_replicas', 'The number of replicas per ReplicaSet.', (o) => num(field(o, 'status', 'replicas'))],
        ['status_ready_replicas', 'The number of ready replicas per ReplicaSet.', (o) => num(field(o, 'status', 'readyReplicas'))],
      ]),
      family('kube_replicaset_owner', "Information about the ReplicaSet's owner.", 'gauge', sets.flatMap((o) => ownerSamples(base(o), o))),
    ];
  }

  private services(): MetricFamily[] {
    const services = this.list('Service');
    const base = (s: KubeObject): Labels => ({ namespace: str(s.metadata.namespace), service: s.metadata.name, uid: str(s.metadata.uid) });
    return [
      family(
        'kube_service_info',
        'Information about service.',
        'gauge',
        services.map((s) => ({
          labels: {
            ...base(s),
            cluster_ip: str(field(s, 'spec', 'clusterIP')),
            external_name: str(field(s, 'spec', 'externalName')),
            load_balancer_ip: str(field(s, 'spec', 'loadBalancerIP')),
            external_traffic_policy: str(field(s, 'spec', 'externalTrafficPolicy')),
          },
          value: 1,
        })),
      ),
      family('kube_service_created', 'Unix creation timestamp', 'gauge', services.map((s) => ({ labels: base(s), value: unix(s.metadata.creationTimestamp) }))),
      family('kube_service_spec_type', 'Type about service.', 'gauge', services.map((s) => ({ labels: { ...base(s), type: str(field(s, 'spec', 'type')) || 'ClusterIP' }, value: 1 }))),
    ];
  }
}

/** Pod condition families label the status `condition`, not `status` (createPodStatusReadyFamilyGenerator). */
function renameStatus(labels: Labels): Labels {
  const { status, ...rest } = labels;
  return { ...rest, condition: status! };
}

/**
 * The telemetry port of kube-state-metrics: its build info, list/watch counters per resource
 * (pkg/watch/watch.go), the scrape-duration histogram of the main handler, Go and process metrics.
 */
export class KubeStateMetricsTelemetry extends TimedWorkload {
  private readonly resources: string[];
  private readonly watches: number[];
  private scrapes = 0;

  constructor(
    startMs: number,
    private readonly options: KubeStateMetricsOptions = {},
  ) {
    super(startMs, 8081, 38 * 1024 * 1024);
    this.resources = new KubeStateMetricsWorkload(options).exportedResources;
    this.watches = this.resources.map(() => 1);
  }

  protected advance(dt: number): void {
    this.scrapes += 1;
    this.watches.forEach((_, i) => (this.watches[i]! += this.increment(1 / 300, dt)));
  }

  protected families(): MetricFamily[] {
    const version = this.options.version ?? '2.20.0';
    const list = (resource: string) => ({ labels: { result: 'success', resource: RESOURCE_TYPES[resource as Resource] }, value: 1 });
    const build = buildInfoFamily('kube_state_metrics', { version: `v${version}`, revision: 'a2d4a3d1', branch: '', goversion: 'go1.25.4' }, { client_go_version: 'v0.34.2' });
    return [
      ...goFamilies(48, 'go1.25.4'),
      ...this.process.families(14),
      build,
      { name: 'kube_state_metrics_list_total', help: 'Number of total resource list calls in kube-state-metrics', type: 'counter', samples: this.resources.map(list) },
      {
        name: 'kube_state_metrics_watch_total',
        help: 'Number of total resource watch calls in kube-state-metrics',
        type: 'counter',
        samples: this.resources.map((r, i) => ({ labels: { result: 'success', resource: RESOURCE_TYPES[r as Resource] }, value: this.watches[i]! })),
      },
      {
        name: 'kube_state_metrics_list_objects',
        help: 'Number of resources listed in kube-state-metrics',
        type: 'gauge',
        samples: this.resources.map((r) => ({ labels: { resource: RESOURCE_TYPES[r as Resource] }, value: this.countObjects(r) })),
      },
      {
        name: 'http_request_duration_seconds',
        help: 'A histogram of requests for kube-state-metrics metrics handler.',
        type: 'histogram',
        samples: durationHistogram(this.scrapes),
      },
    ];
  }

  private countObjects(resource: string): number {
    const kind = { configmaps: 'ConfigMap', daemonsets: 'DaemonSet', deployments: 'Deployment', namespaces: 'Namespace', nodes: 'Node', pods: 'Pod', replicasets: 'ReplicaSet', secrets: 'Secret', services: 'Service', statefulsets: 'StatefulSet' }[resource as Resource];
    return this.options.view?.list(kind).length ?? 0;
  }
}

/**
 * The metrics-handler histogram with client_golang's default buckets, every request answered
 * within 5 ms. Approximation: the count follows this endpoint's own scrapes, not the main port's.
 */
function durationHistogram(count: number): Sample[] {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const labels = { handler: 'metrics', method: 'get' };
  return [
    ...bounds.map((le) => ({ suffix: '_bucket', labels: { ...labels, le: String(le) }, value: count })),
    { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count },
    { suffix: '_sum', labels, value: Math.round(count * 0.0021 * 1e6) / 1e6 },
    { suffix: '_count', labels, value: count },
  ];
}
