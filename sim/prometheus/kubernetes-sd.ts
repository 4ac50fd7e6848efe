/**
 * Kubernetes pod discovery with the behaviour of Prometheus 2.42's `kubernetes_sd_configs`
 * (role: pod, discovery/kubernetes/pod.go): list then watch pods through the API server with a
 * bearer token (see reflector.ts), and turn each pod into targets carrying the same
 * `__meta_kubernetes_*` labels. Failures are logged with the client-go reflector's wording
 * (`Failed to watch *v1.Pod: failed to list *v1.Pod: …`) and retried with a growing back-off,
 * as Prometheus does. The endpoints and endpointslice roles are in endpoints-sd.ts.
 */
import type { ClusterAccess, PodSelector } from './config.js';
import { Reflector, RESOURCES } from './reflector.js';

/** One target group in the HTTP service-discovery format. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

interface Container {
  name?: string;
  image?: string;
  ports?: Array<{ containerPort?: number; name?: string; protocol?: string }>;
}

/** The parts of a Pod object that discovery reads. */
export interface PodObject {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
    resourceVersion?: string;
  };
  spec?: { nodeName?: string; containers?: Container[]; initContainers?: Container[] };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: Array<{ type?: string; status?: string }>;
    containerStatuses?: Array<{ name?: string; containerID?: string }>;
    initContainerStatuses?: Array<{ name?: string; containerID?: string }>;
  };
}

const META = '__meta_kubernetes_';

/** Prometheus's strutil.SanitizeLabelName. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function podReady(pod: PodObject): string {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return (ready?.status ?? 'Unknown').toLowerCase();
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The pod's own labels (pod.go podLabels), which the endpoints roles also attach to the targets
 * of pod endpoints: name, IP, readiness, phase, node, host IP, uid, controller, labels and
 * annotations.
 */
export function podMetaLabels(pod: PodObject): Record<string, string> {
  const meta = pod.metadata;
  const labels: Record<string, string> = {
    [`${META}pod_name`]: meta.name,
    [`${META}pod_ip`]: pod.status?.podIP ?? '',
    [`${META}pod_ready`]: podReady(pod),
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: meta.uid ?? '',
  };
  const controller = meta.ownerReferences?.find((ref) => ref.controller === true);
  if (controller?.kind) labels[`${META}pod_controller_kind`] = controller.kind;
  if (controller?.name) labels[`${META}pod_controller_name`] = controller.name;
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const name = sanitizeLabelName(key);
    labels[`${META}pod_label_${name}`] = value;
    labels[`${META}pod_labelpresent_${name}`] = 'true';
  }
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    const name = sanitizeLabelName(key);
    labels[`${META}pod_annotation_${name}`] = value;
    labels[`${META}pod_annotationpresent_${name}`] = 'true';
  }
  return labels;
}

/** Labels shared by all targets of a pod (role pod: the pod's labels and its namespace). */
function podLabels(pod: PodObject): Record<string, string> {
  return { [`${META}namespace`]: pod.metadata.namespace ?? '', ...podMetaLabels(pod) };
}

/** The containerID of a container in the pod's status (`__meta_kubernetes_pod_container_id`). */
function containerID(pod: PodObject, name: string | undefined, init: boolean): string {
  const statuses = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
  return statuses.find((s) => s.name === name)?.containerID ?? '';
}

/**
 * The targets of one pod: one per container port (`podIP:port`), or one per container without
 * ports (`podIP`). A pod without an IP yet has none. Each group holds a single target.
 */
export function podTargetGroups(pod: PodObject): TargetGroup[] {
  const ip = pod.status?.podIP;
  if (!ip) return [];
  const shared = podLabels(pod);
  const containers = pod.spec?.containers ?? [];
  const all = [...containers, ...(pod.spec?.initContainers ?? [])];
  const groups: TargetGroup[] = [];
  all.forEach((container, i) => {
    const init = i >= containers.length;
    const base = {
      ...shared,
      [`${META}pod_container_name`]: container.name ?? '',
      [`${META}pod_container_id`]: containerID(pod, container.name, init),
      [`${META}pod_container_image`]: container.image ?? '',
      [`${META}pod_container_init`]: String(init),
    };
    const ports = container.ports ?? [];
    if (ports.length === 0) {
      groups.push({ targets: [ip], labels: base });
      return;
    }
    for (const port of ports) {
      const number = String(port.containerPort ?? 0);
      groups.push({
        targets: [joinHostPort(ip, number)],
        labels: {
          ...base,
          [`${META}pod_container_port_number`]: number,
          [`${META}pod_container_port_name`]: port.name ?? '',
          [`${META}pod_container_port_protocol`]: port.protocol ?? 'TCP',
        },
      });
    }
  });
  return groups;
}

export interface PodDiscoveryOptions extends ClusterAccess {
  /** Namespaces to watch; empty: all namespaces. */
  namespaces: string[];
  selectors?: PodSelector[];
  /** Receives each log line. */
  log(line: string): void;
}

/** One `kubernetes_sd_configs` entry's discovery, as the HTTP SD server serves it. */
export interface Discovery {
  start(): void;
  stop(): void;
  /** Current targets, one group per target. */
  targetGroups(): TargetGroup[];
}

/**
 * The label and field selector of a role (discovery/kubernetes mapSelector: the last `selectors`
 * entry of a role wins).
 */
export function roleSelector(selectors: PodSelector[] | undefined, role: string): { label?: string; field?: string } {
  let found: { label?: string; field?: string } = {};
  for (const s of selectors ?? []) if (s.role === role) found = { ...(s.label ? { label: s.label } : {}), ...(s.field ? { field: s.field } : {}) };
  return found;
}

/** `getNamespaces`: the listed namespaces, or every namespace (one cluster-wide list) when none. */
export function namespacesOf(namespaces: string[]): (string | undefined)[] {
  return namespaces.length > 0 ? namespaces : [undefined];
}

function podKey(pod: PodObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Pod discovery for one `kubernetes_sd_configs` entry (role: pod). */
export class PodDiscovery implements Discovery {
  private readonly reflectors: Reflector[];

  constructor(opts: PodDiscoveryOptions) {
    const selector = roleSelector(opts.selectors, 'pod');
    this.reflectors = namespacesOf(opts.namespaces).map((ns) => new Reflector(opts, RESOURCES.pods, ns, selector));
  }

  start(): void {
    for (const reflector of this.reflectors) void reflector.run();
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop();
  }

  /** Current targets, one group per target, ordered by pod. */
  targetGroups(): TargetGroup[] {
    const pods = this.reflectors.flatMap((r) => [...r.items.values()] as unknown as PodObject[]);
    pods.sort((a, b) => podKey(a).localeCompare(podKey(b)));
    return pods.flatMap(podTargetGroups);
  }
}
