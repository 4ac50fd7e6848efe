/**
 * The controllers of the simulated cluster: Deployments (through ReplicaSets), StatefulSets and
 * DaemonSets get their pods, pods and ReplicaSets whose owner is gone are garbage-collected, and
 * every Service with a selector gets its Endpoints and its EndpointSlices. CustomResourceDefinitions
 * get established (and their objects defaulted), and the Prometheus operator runs while its CRD
 * is in the cluster (see sim/operator). Reconciling is idempotent: it writes only what changes,
 * so running it after every change is cheap and emits only real watch events.
 */
import { createHash, randomInt } from 'node:crypto';
import type { KubeObject } from './view.js';
import { isPodReady, podIP } from './pod-status.js';
import { parseLabelSelector, selectorFromLabels } from './selectors.js';
import { applySchemaDefaults, crdStatus, customResourceSchema, isEstablished } from './crd.js';
import { syncPrometheusOperator, syncPrometheusStatus } from '../operator/prometheus-operator.js';

/** What the controllers need from the object store (live objects, not copies). */
export interface ControllerStore {
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string, labelSelector?: string): KubeObject[];
  /** Creates or replaces an object; a no-op when nothing changed. */
  write(obj: KubeObject): void;
  remove(kind: string, namespace: string | undefined, name: string): void;
}

/** Characters Kubernetes uses in generated names (no vowels, no look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return s;
}

/** A short, stable hash of a pod template, like `pod-template-hash` (`7d9f8b6c5d`). */
function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += NAME_ALPHABET[digest[i] % NAME_ALPHABET.length];
  return s;
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface WorkloadSpec {
  replicas?: number;
  template?: PodTemplate;
  selector?: { matchLabels?: Record<string, string> };
  serviceName?: string;
}

function specOf(obj: KubeObject): WorkloadSpec {
  return (obj.spec ?? {}) as WorkloadSpec;
}

function ownerRef(owner: KubeObject) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

type OwnerReference = ReturnType<typeof ownerRef>;

function controllerOf(obj: KubeObject): OwnerReference | undefined {
  const refs = (obj.metadata.ownerReferences ?? []) as OwnerReference[];
  return refs.find((r) => r.controller);
}

/** The pods one controller owns, all from one template revision. */
interface PodSet {
  owner: KubeObject;
  template: PodTemplate;
  replicas: number;
  /** Label marking the template revision; pods with another value are replaced. */
  revision: [key: string, value: string];
  /** StatefulSet pods are `<name>-<ordinal>`; the others `<prefix>-<random>`. */
  ordinal: boolean;
  namePrefix: string;
}

function newPod(set: PodSet, name: string, extraLabels: Record<string, string>): KubeObject {
  const meta = set.template.metadata ?? {};
  const spec: Record<string, unknown> = structuredClone(set.template.spec ?? {});
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.owner.metadata.namespace,
      ...(set.ordinal ? {} : { generateName: `${set.namePrefix}-` }),
      labels: { ...meta.labels, [set.revision[0]]: set.revision[1], ...extraLabels },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ownerReferences: [ownerRef(set.owner)],
    },
    spec,
  };
}

/** Creates, replaces and deletes pods so that the set has `replicas` pods of its revision. */
function syncPodSet(store: ControllerStore, set: PodSet): KubeObject[] {
  const ns = set.owner.metadata.namespace;
  const owned = store.list('Pod', ns).filter((p) => controllerOf(p)?.uid === set.owner.metadata.uid);
  const [key, value] = set.revision;
  for (const stale of owned.filter((p) => p.metadata.labels?.[key] !== value)) store.remove('Pod', ns, stale.metadata.name);
  const current = owned.filter((p) => p.metadata.labels?.[key] === value);
  if (set.ordinal) return syncOrdinals(store, set, current);
  for (const extra of current.slice(set.replicas)) store.remove('Pod', ns, extra.metadata.name);
  for (let i = current.length; i < set.replicas; i++) store.write(newPod(set, `${set.namePrefix}-${randomSuffix()}`, {}));
  return store.list('Pod', ns).filter((p) => controllerOf(p)?.uid === set.owner.metadata.uid);
}

function syncOrdinals(store: ControllerStore, set: PodSet, current: KubeObject[]): KubeObject[] {
  const ns = set.owner.metadata.namespace;
  const wanted = Array.from({ length: set.replicas }, (_, i) => `${set.namePrefix}-${i}`);
  for (const p of current) if (!wanted.includes(p.metadata.name)) store.remove('Pod', ns, p.metadata.name);
  return wanted.map((name, i) => {
    const existing = current.find((p) => p.metadata.name === name);
    if (existing) return existing;
    const pod = newPod(set, name, {
      'statefulset.kubernetes.io/pod-name': name,
      'apps.kubernetes.io/pod-index': String(i),
    });
    Object.assign(pod.spec as object, { hostname: name, subdomain: specOf(set.owner).serviceName });
    store.write(pod);
    return store.get('Pod', ns, name)!;
  });
}

function readyCount(pods: KubeObject[]): number {
  return pods.filter(isPodReady).length;
}

/** Writes `status` into a copy of the object; the store ignores it when unchanged. */
function writeStatus(store: ControllerStore, obj: KubeObject, status: Record<string, unknown>): void {
  store.write({ ...obj, status });
}

function replicaStatus(obj: KubeObject, pods: KubeObject[]) {
  const ready = readyCount(pods);
  const status: Record<string, unknown> = {
    observedGeneration: obj.metadata.generation ?? 1,
    replicas: pods.length,
  };
  if (ready > 0) Object.assign(status, { readyReplicas: ready, availableReplicas: ready });
  return status;
}

function syncDeployment(store: ControllerStore, deploy: KubeObject): void {
  const ns = deploy.metadata.namespace;
  const spec = specOf(deploy);
  const template = spec.template ?? {};
  const hash = templateHash(template);
  const rsName = `${deploy.metadata.name}-${hash}`;
  const owned = store.list('ReplicaSet', ns).filter((rs) => controllerOf(rs)?.uid === deploy.metadata.uid);
  for (const old of owned.filter((rs) => rs.metadata.name !== rsName)) store.remove('ReplicaSet', ns, old.metadata.name);
  const labels = { ...template.metadata?.labels, 'pod-template-hash': hash };
  const replicas = spec.replicas ?? 1;
  if (!store.get('ReplicaSet', ns, rsName)) {
    store.write({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: rsName, namespace: ns, labels, ownerReferences: [ownerRef(deploy)] },
      spec: {
        replicas,
        selector: { matchLabels: { ...spec.selector?.matchLabels, 'pod-template-hash': hash } },
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
    });
  }
  const rs = store.get('ReplicaSet', ns, rsName)!;
  if ((rs.spec as WorkloadSpec).replicas !== replicas) store.write({ ...rs, spec: { ...(rs.spec as object), replicas } });
  const pods = syncPodSet(store, {
    owner: store.get('ReplicaSet', ns, rsName)!,
    template,
    replicas,
    revision: ['pod-template-hash', hash],
    ordinal: false,
    namePrefix: rsName,
  });
  writeStatus(store, store.get('ReplicaSet', ns, rsName)!, { ...replicaStatus(rs, pods), fullyLabeledReplicas: pods.length });
  const ready = readyCount(pods);
  writeStatus(store, deploy, {
    ...replicaStatus(deploy, pods),
    updatedReplicas: pods.length,
    ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: ready >= replicas ? 'True' : 'False',
        reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message: ready >= replicas ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${rsName}" has successfully progressed.`,
      },
    ],
  });
}

function syncStatefulSet(store: ControllerStore, sts: KubeObject): void {
  const spec = specOf(sts);
  const revision = `${sts.metadata.name}-${templateHash(spec.template ?? {})}`;
  const pods = syncPodSet(store, {
    owner: sts,
    template: spec.template ?? {},
    replicas: spec.replicas ?? 1,
    revision: ['controller-revision-hash', revision],
    ordinal: true,
    namePrefix: sts.metadata.name,
  });
  writeStatus(store, sts, {
    ...replicaStatus(sts, pods),
    currentReplicas: pods.length,
    updatedReplicas: pods.length,
    currentRevision: revision,
    updateRevision: revision,
  });
}

function syncDaemonSet(store: ControllerStore, ds: KubeObject): void {
  const spec = specOf(ds);
  const pods = syncPodSet(store, {
    owner: ds,
    template: spec.template ?? {},
    replicas: 1,
    revision: ['controller-revision-hash', templateHash(spec.template ?? {})],
    ordinal: false,
    namePrefix: ds.metadata.name,
  });
  const ready = readyCount(pods);
  writeStatus(store, ds, {
    currentNumberScheduled: pods.length,
    desiredNumberScheduled: 1,
    numberMisscheduled: 0,
    numberReady: ready,
    numberAvailable: ready,
    updatedNumberScheduled: pods.length,
    observedGeneration: ds.metadata.generation ?? 1,
  });
}

/** Deletes owned objects whose owners no longer exist, dependents after their owners. */
function collectGarbage(store: ControllerStore): void {
  // What an operator creates (StatefulSets, Services, Secrets, ConfigMaps) goes once none of its owners is left.
  for (const kind of ['StatefulSet', 'Service', 'Secret', 'ConfigMap']) {
    for (const obj of store.list(kind)) {
      const refs = (obj.metadata.ownerReferences ?? []) as OwnerReference[];
      if (refs.length === 0) continue;
      const alive = refs.some((ref) => store.get(ref.kind, obj.metadata.namespace, ref.name)?.metadata.uid === ref.uid);
      if (!alive) store.remove(kind, obj.metadata.namespace, obj.metadata.name);
    }
  }
  for (const kind of ['ReplicaSet', 'Pod']) {
    for (const obj of store.list(kind)) {
      const ref = controllerOf(obj);
      if (!ref) continue;
      const owner = store.get(ref.kind, obj.metadata.namespace, ref.name);
      if (owner?.metadata.uid !== ref.uid) store.remove(kind, obj.metadata.namespace, obj.metadata.name);
    }
  }
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
}

/** The pod port a service port reaches, resolving a named targetPort; undefined when unresolved. */
function resolveTargetPort(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const containers = (pod.spec as { containers?: { ports?: ContainerPort[] }[] }).containers ?? [];
  const found = containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target);
  return found?.containerPort;
}

/**
 * The hostname an endpoint of `service` gets: the pod's own, when the pod names the Service as
 * its subdomain (StatefulSet pods under their governing Service; endpointutil.ShouldSetHostname).
 */
function endpointHostname(pod: KubeObject, service: string | undefined): string | undefined {
  const spec = pod.spec as { hostname?: string; subdomain?: string };
  return spec.hostname && service !== undefined && spec.subdomain === service ? spec.hostname : undefined;
}

function endpointAddress(pod: KubeObject, service?: string) {
  const hostname = endpointHostname(pod, service);
  return {
    ip: podIP(pod),
    ...(hostname ? { hostname } : {}),
    nodeName: (pod.spec as { nodeName?: string }).nodeName,
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
}

/** Endpoints subsets: pods grouped by their resolved port list, ready and not-ready apart. */
function endpointSubsets(ports: ServicePort[], pods: KubeObject[], service?: string) {
  const subsets = new Map<string, { addresses: unknown[]; notReadyAddresses: unknown[]; ports: unknown[] }>();
  for (const pod of pods) {
    if (!podIP(pod) || pod.metadata.deletionTimestamp) continue;
    const resolved = ports.map((sp) => {
      const port = resolveTargetPort(pod, sp);
      return port === undefined ? undefined : { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
    });
    const epPorts = resolved.filter((p) => p !== undefined);
    if (epPorts.length === 0) continue;
    const key = JSON.stringify(epPorts);
    const subset = subsets.get(key) ?? { addresses: [], notReadyAddresses: [], ports: epPorts };
    subsets.set(key, subset);
    (isPodReady(pod) ? subset.addresses : subset.notReadyAddresses).push(endpointAddress(pod, service));
  }
  return [...subsets.values()].map((s) => ({
    ...(s.addresses.length ? { addresses: s.addresses } : {}),
    ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
    ports: s.ports,
  }));
}

/** The annotation the endpoints controller puts on the Endpoints it manages. */
const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

/** Keeps the Endpoints of every Service that has a selector in line with its pods. */
function syncEndpoints(store: ControllerStore): void {
  const selected = new Set<string>();
  for (const svc of store.list('Service')) {
    const spec = svc.spec as { selector?: Record<string, string>; ports?: ServicePort[] };
    if (!spec.selector || Object.keys(spec.selector).length === 0) continue;
    const ns = svc.metadata.namespace;
    selected.add(`${ns}/${svc.metadata.name}`);
    const pods = store.list('Pod', ns).filter((p) => parseLabelSelector(selectorFromLabels(spec.selector!))(p.metadata.labels));
    const subsets = endpointSubsets(spec.ports ?? [], pods, svc.metadata.name);
    const labels = svc.metadata.labels ? { ...svc.metadata.labels } : undefined;
    const existing = store.get('Endpoints', ns, svc.metadata.name);
    const unchanged =
      existing?.metadata.annotations?.[TRIGGER_TIME] !== undefined &&
      JSON.stringify(existing.subsets ?? []) === JSON.stringify(subsets) &&
      JSON.stringify(existing.metadata.labels) === JSON.stringify(labels);
    if (unchanged) continue;
    store.write({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: svc.metadata.name,
        namespace: ns,
        ...(labels ? { labels } : {}),
        annotations: { [TRIGGER_TIME]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      },
      ...(subsets.length ? { subsets } : {}),
    });
  }
  for (const ep of store.list('Endpoints')) {
    const key = `${ep.metadata.namespace}/${ep.metadata.name}`;
    if (ep.metadata.annotations?.[TRIGGER_TIME] !== undefined && !selected.has(key)) {
      store.remove('Endpoints', ep.metadata.namespace, ep.metadata.name);
    }
  }
}

// ---- EndpointSlices (discovery.k8s.io/v1) --------------------------------------------------

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const MAX_ENDPOINTS_PER_SLICE = 100;

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/**
 * The labels of a Service's EndpointSlices (the reconciler's setEndpointSliceLabels): the
 * Service's own, except the reserved keys, then `service.kubernetes.io/headless` for a Service
 * without a cluster IP, the Service's name and the managing controller.
 */
function sliceLabels(svc: KubeObject): Record<string, string> {
  const reserved = new Set([SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]);
  const labels = Object.fromEntries(Object.entries(svc.metadata.labels ?? {}).filter(([k]) => !reserved.has(k)));
  const clusterIP = (svc.spec as { clusterIP?: string }).clusterIP;
  if (!clusterIP || clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return { ...labels, [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: SLICE_CONTROLLER };
}

/**
 * The endpoints of a Service's pods, grouped by their resolved port list (one EndpointSlice
 * per distinct list, as the reconciler does): pods with an IP that are not terminal nor being
 * deleted (endpointutil.ShouldPodBeInEndpoints), ready/serving from the pod's Ready condition.
 */
function sliceGroups(svc: KubeObject, pods: KubeObject[]): Map<string, { ports: SlicePort[]; endpoints: unknown[] }> {
  const spec = svc.spec as { ports?: (ServicePort & { appProtocol?: string })[]; publishNotReadyAddresses?: boolean };
  const groups = new Map<string, { ports: SlicePort[]; endpoints: unknown[] }>();
  const sorted = [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const pod of sorted) {
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!podIP(pod) || pod.metadata.deletionTimestamp || phase === 'Failed' || phase === 'Succeeded') continue;
    const ports: SlicePort[] = [];
    for (const sp of spec.ports ?? []) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    groups.set(key, group);
    const ready = isPodReady(pod);
    const hostname = endpointHostname(pod, svc.metadata.name);
    group.endpoints.push({
      addresses: [podIP(pod)],
      conditions: { ready: ready || spec.publishNotReadyAddresses === true, serving: ready, terminating: false },
      ...(hostname ? { hostname } : {}),
      nodeName: (pod.spec as { nodeName?: string }).nodeName,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    });
  }
  return groups;
}

/**
 * Keeps the EndpointSlices of every Service with a selector in line with its pods, as the
 * EndpointSlice controller does: generated names `<service>-<5 random>`, owned by the Service,
 * at most 100 endpoints each, a placeholder slice (no endpoints, no ports) when no pod is
 * selected; slices of Services that are gone or lost their selector are deleted.
 */
function syncEndpointSlices(store: ControllerStore): void {
  const wanted = new Set<string>();
  for (const svc of store.list('Service')) {
    const spec = svc.spec as { selector?: Record<string, string> };
    if (!spec.selector || Object.keys(spec.selector).length === 0) continue;
    const ns = svc.metadata.namespace;
    const match = parseLabelSelector(selectorFromLabels(spec.selector));
    const groups = sliceGroups(svc, store.list('Pod', ns).filter((p) => match(p.metadata.labels)));
    // At most 100 endpoints a slice (the controller's --max-endpoints-per-slice default).
    const desired: { ports: SlicePort[] | null; endpoints: unknown[] | null }[] = [...groups.values()].flatMap((g) =>
      Array.from({ length: Math.ceil(g.endpoints.length / MAX_ENDPOINTS_PER_SLICE) }, (_, i) => ({
        ports: g.ports,
        endpoints: g.endpoints.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE),
      })),
    );
    if (desired.length === 0) desired.push({ ports: null, endpoints: null });
    const owned = store
      .list('EndpointSlice', ns)
      .filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER && s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name)
      .filter((s) => controllerOf(s)?.uid === svc.metadata.uid);
    const labels = sliceLabels(svc);
    const free = [...owned];
    for (const content of desired) {
      // Reuse the slice holding the same ports (or any slice left), as the reconciler fills existing slices first.
      const index = free.findIndex((s) => JSON.stringify(s.ports ?? null) === JSON.stringify(content.ports));
      const existing = free.splice(index >= 0 ? index : 0, 1)[0];
      const name = existing?.metadata.name ?? `${svc.metadata.name}-${randomSuffix()}`;
      wanted.add(`${ns}/${name}`);
      const unchanged =
        existing !== undefined &&
        JSON.stringify(existing.endpoints ?? null) === JSON.stringify(content.endpoints) &&
        JSON.stringify(existing.ports ?? null) === JSON.stringify(content.ports) &&
        JSON.stringify(existing.metadata.labels) === JSON.stringify(labels);
      if (unchanged) continue;
      store.write({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          generateName: `${svc.metadata.name}-`,
          namespace: ns,
          labels,
          annotations: { [TRIGGER_TIME]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        addressType: 'IPv4',
        endpoints: content.endpoints,
        ports: content.ports,
      });
    }
  }
  for (const slice of store.list('EndpointSlice')) {
    if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== SLICE_CONTROLLER) continue;
    if (!wanted.has(`${slice.metadata.namespace}/${slice.metadata.name}`)) store.remove('EndpointSlice', slice.metadata.namespace, slice.metadata.name);
  }
}

// ---- CustomResourceDefinitions --------------------------------------------------------------

/**
 * apiextensions' naming and establishing controllers: every acceptable CRD gets its accepted
 * names and the NamesAccepted/Established conditions; then the objects of each Established
 * CRD get the defaults of their version's schema, as the API server applies them.
 */
function syncCustomResourceDefinitions(store: ControllerStore): void {
  const now = new Date();
  for (const crd of store.list('CustomResourceDefinition')) {
    const status = crdStatus(crd, now);
    if (status && JSON.stringify(status) !== JSON.stringify(crd.status)) store.write({ ...crd, status });
  }
  for (const crd of store.list('CustomResourceDefinition')) {
    if (!isEstablished(crd)) continue;
    const spec = crd.spec as { group: string; names: { kind: string } };
    for (const obj of store.list(spec.names.kind)) {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      if (group !== spec.group) continue;
      const schema = customResourceSchema(crd, version!);
      if (!schema) continue;
      const defaulted = applySchemaDefaults(structuredClone(obj), schema) as KubeObject;
      if (JSON.stringify(defaulted) !== JSON.stringify(obj)) store.write(defaulted);
    }
  }
}

/** Every namespace gets its `default` ServiceAccount. */
function syncServiceAccounts(store: ControllerStore): void {
  for (const ns of store.list('Namespace')) {
    if (store.get('ServiceAccount', ns.metadata.name, 'default')) continue;
    store.write({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns.metadata.name } });
  }
}

/** Runs every controller once. */
export function reconcile(store: ControllerStore): void {
  syncServiceAccounts(store);
  syncCustomResourceDefinitions(store);
  syncPrometheusOperator(store);
  for (const d of store.list('Deployment')) syncDeployment(store, d);
  for (const s of store.list('StatefulSet')) syncStatefulSet(store, s);
  for (const d of store.list('DaemonSet')) syncDaemonSet(store, d);
  collectGarbage(store);
  syncEndpoints(store);
  syncEndpointSlices(store);
  syncPrometheusStatus(store);
}
