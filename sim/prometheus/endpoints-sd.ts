/**
 * Kubernetes discovery of roles `endpoints` and `endpointslice` with the behaviour of
 * Prometheus 2.42 (discovery/kubernetes/endpoints.go, endpointslice.go, kubernetes.go at
 * v2.42.0): in each namespace it lists and watches the Endpoints (or discovery.k8s.io/v1
 * EndpointSlices), the Services and the Pods, and only once all three caches have synced (the
 * informers' WaitForCacheSync) turns each Endpoints object into targets with the same
 * `__meta_kubernetes_*` labels: the object's, its Service's (labels and annotations with their
 * `present` twins), and for addresses backed by a Pod the pod's labels and those of the
 * container port the endpoint port matches, plus one target for every container port of those
 * pods that no endpoint port covers. Before its informers, the endpointslice role asks the
 * server's version (discovery.k8s.io/v1 needs 1.21), retrying every 10 s.
 */
import type { ClusterAccess, PodSelector } from './config.js';
import { logfmt } from './logfmt.js';
import { namespacesOf, podMetaLabels, roleSelector, sanitizeLabelName, type Discovery, type PodObject, type TargetGroup } from './kubernetes-sd.js';
import { openRequest, readBody, Reflector, RESOURCES, Sleeper, type KubeItem } from './reflector.js';

const META = '__meta_kubernetes_';

interface ObjectReference {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
}

/** The parts of a v1 Endpoints object that discovery reads. */
export interface EndpointsObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  subsets?: Array<{ addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }>;
}

/** The parts of a discovery.k8s.io/v1 EndpointSlice that discovery reads. */
export interface EndpointSliceObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
    targetRef?: ObjectReference;
    deprecatedTopology?: Record<string, string>;
  }> | null;
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }> | null;
}

/** The parts of a Service that discovery reads. */
export interface ServiceObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** Finds cached objects by namespace and name. */
export interface Lookup {
  service(namespace: string, name: string): ServiceObject | undefined;
  pod(namespace: string, name: string): PodObject | undefined;
}

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** service.go serviceLabels: name, namespace, labels and annotations with their `present` twins. */
export function serviceMetaLabels(svc: ServiceObject): Record<string, string> {
  const labels: Record<string, string> = {
    [`${META}service_name`]: svc.metadata.name,
    [`${META}namespace`]: svc.metadata.namespace ?? '',
  };
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) {
    labels[`${META}service_label_${sanitizeLabelName(k)}`] = v;
    labels[`${META}service_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(svc.metadata.annotations ?? {})) {
    labels[`${META}service_annotation_${sanitizeLabelName(k)}`] = v;
    labels[`${META}service_annotationpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  return labels;
}

function resolvePod(ref: ObjectReference | undefined, lookup: Lookup): PodObject | undefined {
  if (!ref || ref.kind !== 'Pod') return undefined;
  return lookup.pod(ref.namespace ?? '', ref.name ?? '');
}

type Containers = NonNullable<NonNullable<PodObject['spec']>['containers']>;

/** One target per container port of the seen pods that no endpoint port covered. */
function uncoveredPortTargets(seen: Map<string, { pod: PodObject; ports: number[] }>, group: Record<string, string>): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const { pod, ports } of seen.values()) {
    for (const c of (pod.spec?.containers ?? []) as Containers) {
      for (const cport of c.ports ?? []) {
        const number = cport.containerPort ?? 0;
        if (ports.includes(number)) continue;
        out.push({
          targets: [joinHostPort(pod.status?.podIP ?? '', number)],
          labels: {
            ...group,
            ...podMetaLabels(pod),
            [`${META}pod_container_name`]: c.name ?? '',
            [`${META}pod_container_image`]: c.image ?? '',
            [`${META}pod_container_port_name`]: cport.name ?? '',
            [`${META}pod_container_port_number`]: String(number),
            [`${META}pod_container_port_protocol`]: cport.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return out;
}

/** The labels of the container port an endpoint port matches (by number), with `protocol`. */
function containerPortLabels(pod: PodObject, port: number, protocol: (cport: { protocol?: string }) => string): Record<string, string> {
  for (const c of (pod.spec?.containers ?? []) as Containers) {
    const cport = (c.ports ?? []).find((p) => p.containerPort === port);
    if (!cport) continue;
    return {
      [`${META}pod_container_name`]: c.name ?? '',
      [`${META}pod_container_image`]: c.image ?? '',
      [`${META}pod_container_port_name`]: cport.name ?? '',
      [`${META}pod_container_port_number`]: String(port),
      [`${META}pod_container_port_protocol`]: protocol(cport),
    };
  }
  return {};
}

/** The targets of one Endpoints object (endpoints.go buildEndpoints), one group per target. */
export function endpointsTargetGroups(eps: EndpointsObject, lookup: Lookup): TargetGroup[] {
  const ns = eps.metadata.namespace ?? '';
  const group: Record<string, string> = { [`${META}namespace`]: ns, [`${META}endpoints_name`]: eps.metadata.name };
  const svc = lookup.service(ns, eps.metadata.name);
  if (svc) Object.assign(group, serviceMetaLabels(svc));
  for (const [k, v] of Object.entries(eps.metadata.labels ?? {})) {
    group[`${META}endpoints_label_${sanitizeLabelName(k)}`] = v;
    group[`${META}endpoints_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  const seen = new Map<string, { pod: PodObject; ports: number[] }>();
  const out: TargetGroup[] = [];
  const add = (addr: EndpointAddress, port: EndpointPort, ready: string) => {
    const target: Record<string, string> = {
      [`${META}endpoint_port_name`]: port.name ?? '',
      [`${META}endpoint_port_protocol`]: port.protocol ?? '',
      [`${META}endpoint_ready`]: ready,
    };
    if (addr.targetRef) {
      target[`${META}endpoint_address_target_kind`] = addr.targetRef.kind ?? '';
      target[`${META}endpoint_address_target_name`] = addr.targetRef.name ?? '';
    }
    if (addr.nodeName !== undefined) target[`${META}endpoint_node_name`] = addr.nodeName;
    if (addr.hostname) target[`${META}endpoint_hostname`] = addr.hostname;
    const pod = resolvePod(addr.targetRef, lookup);
    if (pod) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const entry = seen.get(key) ?? { pod, ports: [] };
      seen.set(key, entry);
      entry.ports.push(port.port);
      Object.assign(target, podMetaLabels(pod), containerPortLabels(pod, port.port, () => port.protocol ?? ''));
    }
    out.push({ targets: [joinHostPort(addr.ip, port.port)], labels: { ...group, ...target } });
  };
  for (const subset of eps.subsets ?? []) {
    for (const port of subset.ports ?? []) {
      for (const addr of subset.addresses ?? []) add(addr, port, 'true');
      for (const addr of subset.notReadyAddresses ?? []) add(addr, port, 'false');
    }
  }
  return [...out, ...uncoveredPortTargets(seen, group)];
}

/** The targets of one EndpointSlice (endpointslice.go buildEndpointSlice), one group per target. */
export function endpointSliceTargetGroups(slice: EndpointSliceObject, lookup: Lookup): TargetGroup[] {
  const ns = slice.metadata.namespace ?? '';
  const group: Record<string, string> = {
    [`${META}namespace`]: ns,
    [`${META}endpointslice_name`]: slice.metadata.name,
    [`${META}endpointslice_address_type`]: slice.addressType ?? '',
  };
  const serviceName = slice.metadata.labels?.['kubernetes.io/service-name'];
  const svc = serviceName === undefined ? undefined : lookup.service(ns, serviceName);
  if (svc) Object.assign(group, serviceMetaLabels(svc));
  const seen = new Map<string, { pod: PodObject; ports: number[] }>();
  const out: TargetGroup[] = [];
  for (const ep of slice.endpoints ?? []) {
    for (const port of slice.ports ?? []) {
      for (const addr of ep.addresses ?? []) {
        const target: Record<string, string> = {};
        if (port.name !== undefined && port.name !== null) target[`${META}endpointslice_port_name`] = port.name;
        if (port.protocol !== undefined && port.protocol !== null) target[`${META}endpointslice_port_protocol`] = port.protocol;
        if (port.port !== undefined && port.port !== null) target[`${META}endpointslice_port`] = String(port.port);
        if (port.appProtocol !== undefined && port.appProtocol !== null) target[`${META}endpointslice_port_app_protocol`] = port.appProtocol;
        const conditions = ep.conditions ?? {};
        if (conditions.ready !== undefined && conditions.ready !== null) target[`${META}endpointslice_endpoint_conditions_ready`] = String(conditions.ready);
        if (conditions.serving !== undefined && conditions.serving !== null) target[`${META}endpointslice_endpoint_conditions_serving`] = String(conditions.serving);
        if (conditions.terminating !== undefined && conditions.terminating !== null) {
          target[`${META}endpointslice_endpoint_conditions_terminating`] = String(conditions.terminating);
        }
        if (ep.hostname) target[`${META}endpointslice_endpoint_hostname`] = ep.hostname;
        if (ep.targetRef) {
          target[`${META}endpointslice_address_target_kind`] = ep.targetRef.kind ?? '';
          target[`${META}endpointslice_address_target_name`] = ep.targetRef.name ?? '';
        }
        for (const [k, v] of Object.entries(ep.deprecatedTopology ?? {})) {
          target[`${META}endpointslice_endpoint_topology_${sanitizeLabelName(k)}`] = v;
          target[`${META}endpointslice_endpoint_topology_present_${sanitizeLabelName(k)}`] = 'true';
        }
        const pod = resolvePod(ep.targetRef, lookup);
        if (pod) {
          const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
          const entry = seen.get(key) ?? { pod, ports: [] };
          seen.set(key, entry);
          if (port.port !== undefined && port.port !== null) entry.ports.push(port.port);
          Object.assign(target, podMetaLabels(pod));
          if (port.port !== undefined && port.port !== null) Object.assign(target, containerPortLabels(pod, port.port, (c) => c.protocol ?? 'TCP'));
        }
        const address = port.port === undefined || port.port === null ? addr : joinHostPort(addr, port.port);
        out.push({ targets: [address], labels: { ...group, ...target } });
      }
    }
  }
  return [...out, ...uncoveredPortTargets(seen, group)];
}

export interface EndpointsDiscoveryOptions extends ClusterAccess {
  role: 'endpoints' | 'endpointslice';
  /** Namespaces to watch; empty: all namespaces. */
  namespaces: string[];
  selectors?: PodSelector[];
  /** The scrape job, as the discovery's log lines name it (`config=`). */
  jobName: string;
  log(line: string): void;
}

/** The informers of one namespace: the endpoint objects, Services and Pods. */
interface NamespaceInformers {
  endpoints: Reflector;
  services: Reflector;
  pods: Reflector;
}

function keyOf(item: KubeItem): string {
  return `${item.metadata.namespace ?? ''}/${item.metadata.name}`;
}

/** Discovery for one `kubernetes_sd_configs` entry of role endpoints or endpointslice. */
export class EndpointsDiscovery implements Discovery {
  private readonly informers: NamespaceInformers[];
  private readonly sleeper = new Sleeper();
  private stopped = false;
  private versionChecked: boolean;

  constructor(private readonly opts: EndpointsDiscoveryOptions) {
    const resource = opts.role === 'endpointslice' ? RESOURCES.endpointslices : RESOURCES.endpoints;
    const endpointsSelector = roleSelector(opts.selectors, opts.role);
    const serviceSelector = roleSelector(opts.selectors, 'service');
    const podSelector = roleSelector(opts.selectors, 'pod');
    this.informers = namespacesOf(opts.namespaces).map((ns) => ({
      endpoints: new Reflector(opts, resource, ns, endpointsSelector),
      services: new Reflector(opts, RESOURCES.services, ns, serviceSelector),
      pods: new Reflector(opts, RESOURCES.pods, ns, podSelector),
    }));
    this.versionChecked = opts.role !== 'endpointslice';
  }

  start(): void {
    void (async () => {
      if (!this.versionChecked) await this.checkDiscoveryV1();
      if (this.stopped) return;
      for (const inf of this.informers) for (const r of [inf.endpoints, inf.services, inf.pods]) void r.run();
    })();
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.interrupt();
    for (const inf of this.informers) for (const r of [inf.endpoints, inf.services, inf.pods]) r.stop();
  }

  /** kubernetes.go checkDiscoveryV1Supported, retried every 10 s until the server answers. */
  private async checkDiscoveryV1(): Promise<void> {
    while (!this.stopped) {
      try {
        const url = new URL(this.opts.apiServerUrl.replace(/\/+$/, '') + '/version');
        const body = await readBody(await openRequest(this.opts, url, 'application/json, */*'));
        const version = JSON.parse(body) as { major?: string; minor?: string };
        const major = Number.parseInt(version.major ?? '0', 10);
        const minor = Number.parseInt(version.minor ?? '0', 10);
        if (!(major >= 1 && minor >= 21)) {
          this.opts.log(logfmt('endpointslice.go:181', 'error', { ...this.context(), msg: 'discovery.k8s.io/v1beta1 EndpointSlices are not simulated: no targets' }));
          return;
        }
        this.versionChecked = true;
        return;
      } catch (err) {
        this.opts.log(logfmt('kubernetes.go:402', 'error', { ...this.context(), msg: 'Failed to check networking.k8s.io/v1 availability', err: (err as Error).message }));
        await this.sleeper.sleep(10_000);
      }
    }
  }

  private context(): Record<string, string> {
    return { component: 'discovery manager scrape', discovery: 'kubernetes', config: this.opts.jobName };
  }

  /** Current targets of the namespaces whose three caches have synced, ordered by object. */
  targetGroups(): TargetGroup[] {
    const groups: TargetGroup[] = [];
    for (const inf of this.informers) {
      if (!inf.endpoints.synced || !inf.services.synced || !inf.pods.synced) continue;
      const lookup: Lookup = {
        service: (ns, name) => inf.services.items.get(`${ns}/${name}`) as unknown as ServiceObject | undefined,
        pod: (ns, name) => inf.pods.items.get(`${ns}/${name}`) as unknown as PodObject | undefined,
      };
      const objects = [...inf.endpoints.items.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      for (const obj of objects) {
        groups.push(
          ...(this.opts.role === 'endpointslice'
            ? endpointSliceTargetGroups(obj as unknown as EndpointSliceObject, lookup)
            : endpointsTargetGroups(obj as unknown as EndpointsObject, lookup)),
        );
      }
    }
    return groups;
  }
}
