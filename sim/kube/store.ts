/**
 * The simulated cluster's object store: every object in memory, a resourceVersion counter, a
 * history of watch events, the controllers that derive pods and Endpoints, and the scenario hooks
 * that change pod status. It is also the ClusterView the simulated workloads use, keeping what the
 * kubelet keeps per pod: emptyDir files, the containers' own files, what volumes showed at start,
 * and which pods wait in ContainerCreating for a missing ConfigMap or Secret.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import type { ClusterView, DialResult, FileWriteResult, KubeObject } from './view.js';
import { reconcile, type ControllerStore } from './controller.js';
import { containerFiles, subPathFiles, volumeMountProblems, volumeProjections, writeTarget } from './files.js';
import { ClusterNetwork } from './network.js';
import { patchState, podStatus, runningState, type PodState, type PodStatusPatch } from './pod-status.js';
import { resourceByKind } from './resources.js';
import { parseLabelSelector } from './selectors.js';
import { BOOTSTRAP_OBJECTS } from './bootstrap.js';
import { defaultCustomResource, defaultCustomResourceDefinition } from './crd.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  object: KubeObject;
  /** The object before a modification, for watches that filter by label. */
  previous?: KubeObject;
  resourceVersion: number;
}

export interface LogEntry {
  time: Date;
  line: string;
}

export interface StoreOptions {
  /**
   * First three octets of the pods' loopback addresses, e.g. `127.31.0`: pods get `127.31.0.2`,
   * `127.31.0.3`, … (`.1` is the node). Default: random within 127.100.0–127.250.255, so that
   * clusters in parallel test workers do not collide.
   */
  ipBase?: string;
  /** Watch events kept for resuming watches from an older resourceVersion. Default 10000. */
  historySize?: number;
}

/** The name of the single simulated node. */
export const NODE_NAME = 'sim-node';

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Compares two objects as stored, ignoring their resourceVersion. */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}

/** How many /24s of loopback addresses one simulated cluster may give its pods. */
const POD_IP_BLOCKS = 32;

export class ObjectStore implements ClusterView {
  readonly ipBase: string;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly historySize: number;
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly podStates = new Map<string, PodState>();
  private readonly podIPs = new Map<string, string>();
  private readonly logs = new Map<string, LogEntry[]>();
  /** Per pod uid: emptyDir volume name → relative path → content. */
  private readonly emptyDirs = new Map<string, Map<string, Map<string, string>>>();
  /** Per pod uid: container name → absolute path → content written outside its volumes. */
  private readonly containerLayers = new Map<string, Map<string, Map<string, string>>>();
  /** Per pod uid: container name → what its subPath mounts showed when the pod's volumes were set up. */
  private readonly frozenSubPaths = new Map<string, Map<string, Map<string, string>>>();
  /** Per pod uid: what the kubelet last wrote into each configMap/secret/projected volume. */
  private readonly projections = new Map<string, Map<string, ReadonlyMap<string, string>>>();
  /** Pods whose volumes the kubelet cannot set up yet (uid → the MountVolume messages). */
  private readonly mountBlocked = new Map<string, string[]>();
  private readonly network = new ClusterNetwork((kind, ns) => this.liveList(kind, ns));
  private revision = 0;
  private oldestWatchable = 0;
  /** Index of the next pod IP to try: 253 hosts per /24, spilling into the following /24s. */
  private nextIndex = 0;
  private readonly assignedIPs = new Set<string>();

  constructor(options: StoreOptions = {}) {
    this.ipBase = options.ipBase ?? `127.${100 + randomInt(151)}.${randomInt(256)}`;
    if (!/^127\.\d{1,3}\.\d{1,3}$/.test(this.ipBase)) throw new Error(`ipBase must look like 127.X.Y, got ${this.ipBase}`);
    this.historySize = options.historySize ?? 10000;
    for (const obj of BOOTSTRAP_OBJECTS) this.write(obj);
    this.runControllers();
  }

  /** The node's address, reported as every pod's hostIP. */
  get hostIP(): string {
    return `${this.ipBase}.1`;
  }

  /** The latest resourceVersion. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  // ---- reads -------------------------------------------------------------------------------

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.liveGet(kind, namespace, name);
    return obj && structuredClone(obj);
  }

  list(kind: string, namespace?: string, labelSelector?: string): KubeObject[] {
    const match = parseLabelSelector(labelSelector);
    return this.select(kind, namespace, (o) => match(o.metadata.labels));
  }

  /** Copies of the objects `keep` takes, chosen among the stored ones (only those are copied). */
  select(kind: string, namespace: string | undefined, keep: (live: Readonly<KubeObject>) => boolean): KubeObject[] {
    return this.liveList(kind, namespace)
      .filter(keep)
      .map((o) => structuredClone(o));
  }

  private liveGet(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const scoped = resourceByKind(kind)?.namespaced === false ? undefined : namespace;
    return this.objects.get(kind)?.get(keyOf(scoped, name));
  }

  private liveList(kind: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(kind)?.values() ?? [])];
    const inScope = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    // In the order of their keys, byte by byte, as etcd's range reads return them (and so the
    // API server's lists): not a locale's collation.
    const keyed = inScope.map((o) => ({ o, key: keyOf(o.metadata.namespace, o.metadata.name) }));
    return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.o);
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Loads multi-document manifest YAML (a `kind: List` is flattened); returns the stored objects. */
  loadYaml(text: string): KubeObject[] {
    const docs = parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS() as KubeObject | null;
    });
    const objects = docs
      .filter((d): d is KubeObject => d !== null && typeof d === 'object')
      .flatMap((d) => (d.kind === 'List' ? ((d.items ?? []) as KubeObject[]) : [d]));
    for (const obj of objects) this.write(obj);
    this.runControllers();
    return objects.map((o) => this.get(o.kind, o.metadata.namespace ?? 'default', o.metadata.name)!);
  }

  /** Creates or replaces an object (like `kubectl apply`), then lets the controllers react. */
  apply(obj: KubeObject): KubeObject {
    const stored = this.write(obj);
    this.runControllers();
    return structuredClone(stored);
  }

  /** Deletes an object (a Namespace takes its objects along); false when it did not exist. */
  delete(kind: string, namespace: string | undefined, name: string): boolean {
    const existed = this.remove(kind, namespace, name);
    if (existed && kind === 'Namespace') {
      for (const objs of this.objects.values()) {
        for (const o of [...objs.values()]) if (o.metadata.namespace === name) this.remove(o.kind, name, o.metadata.name);
      }
    }
    this.runControllers();
    return existed;
  }

  /**
   * Changes the simulated state of the pods named `target`, or else matching `target` as a label
   * selector, in a namespace (e.g. `{ waiting: { reason: 'CrashLoopBackOff' }, restartCount: 7 }`,
   * `{ phase: 'Pending' }`); Endpoints and workload status follow. Returns the updated pods.
   */
  setPodStatus(namespace: string, target: string, patch: PodStatusPatch): KubeObject[] {
    const byName = this.liveGet('Pod', namespace, target);
    const pods = byName ? [byName] : this.list('Pod', namespace, target);
    for (const pod of pods) {
      const state = this.podStates.get(pod.metadata.uid!)!;
      patchState(state, patch);
      this.write(pod);
    }
    this.runControllers();
    return pods.map((p) => this.get('Pod', namespace, p.metadata.name)!);
  }

  private runControllers(): void {
    const adapter: ControllerStore = {
      get: (kind, ns, name) => this.liveGet(kind, ns, name),
      list: (kind, ns, selector) => {
        const match = parseLabelSelector(selector);
        return this.liveList(kind, ns).filter((o) => match(o.metadata.labels));
      },
      write: (obj) => void this.write(obj),
      remove: (kind, ns, name) => void this.remove(kind, ns, name),
    };
    this.retryVolumeMounts();
    reconcile(adapter);
  }

  /**
   * The kubelet retrying the volumes of pods stuck in ContainerCreating: once every mounted
   * ConfigMap/Secret (and listed key) exists, the containers start.
   */
  private retryVolumeMounts(): void {
    if (this.mountBlocked.size === 0) return;
    for (const pod of this.liveList('Pod')) {
      const uid = pod.metadata.uid!;
      if (!this.mountBlocked.has(uid)) continue;
      const problems = volumeMountProblems(pod, (kind, ns, name) => this.liveGet(kind, ns, name));
      if (problems.length > 0) {
        this.mountBlocked.set(uid, problems);
        continue;
      }
      this.mountBlocked.delete(uid);
      patchState(this.podStates.get(uid)!, { phase: 'Running' });
      this.freezeSubPaths(pod);
      this.write(pod);
    }
  }

  /** Takes the content of the pod's subPath mounts, which later ConfigMap/Secret updates do not reach. */
  private freezeSubPaths(pod: KubeObject): void {
    const lookup = (kind: string, ns: string | undefined, name: string) => this.liveGet(kind, ns, name);
    const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] };
    const byContainer = new Map<string, Map<string, string>>();
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) byContainer.set(c.name, subPathFiles(pod, c.name, lookup));
    this.frozenSubPaths.set(pod.metadata.uid!, byContainer);
    this.projections.set(pod.metadata.uid!, volumeProjections(pod, lookup));
  }

  /** Stores an object after defaulting it as the API server would; a no-op when unchanged. */
  private write(input: KubeObject): KubeObject {
    const obj = structuredClone(input);
    if (!obj.metadata?.name) throw new Error(`${obj.kind ?? 'object'} without metadata.name`);
    const namespaced = resourceByKind(obj.kind)?.namespaced ?? true;
    if (namespaced) obj.metadata.namespace ??= 'default';
    else delete obj.metadata.namespace;
    const existing = this.liveGet(obj.kind, obj.metadata.namespace, obj.metadata.name);
    this.defaultMetadata(obj, existing);
    this.defaultKind(obj, existing);
    if (existing && sameContent(existing, obj)) return existing;
    obj.metadata.resourceVersion = String(++this.revision);
    let byKey = this.objects.get(obj.kind);
    if (!byKey) this.objects.set(obj.kind, (byKey = new Map()));
    byKey.set(keyOf(obj.metadata.namespace, obj.metadata.name), obj);
    this.emit({ type: existing ? 'MODIFIED' : 'ADDED', object: obj, previous: existing, resourceVersion: this.revision });
    return obj;
  }

  private remove(kind: string, namespace: string | undefined, name: string): boolean {
    const existing = this.liveGet(kind, namespace, name);
    if (!existing) return false;
    this.objects.get(kind)!.delete(keyOf(existing.metadata.namespace, name));
    if (kind === 'Pod') {
      // emptyDir volumes and the containers' layers go with the pod.
      for (const perPod of [this.emptyDirs, this.containerLayers, this.frozenSubPaths, this.projections]) perPod.delete(existing.metadata.uid!);
      this.mountBlocked.delete(existing.metadata.uid!);
      this.podStates.delete(existing.metadata.uid!);
      this.assignedIPs.delete(this.podIPs.get(existing.metadata.uid!) ?? '');
      this.podIPs.delete(existing.metadata.uid!);
    }
    const gone = structuredClone(existing);
    gone.metadata.resourceVersion = String(++this.revision);
    this.emit({ type: 'DELETED', object: gone, resourceVersion: this.revision });
    return true;
  }

  private defaultMetadata(obj: KubeObject, existing: KubeObject | undefined): void {
    const meta = obj.metadata;
    meta.uid = existing?.metadata.uid ?? meta.uid ?? randomUUID();
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? meta.creationTimestamp ?? nowSeconds();
    if (obj.spec !== undefined) {
      const changed = existing && JSON.stringify(existing.spec) !== JSON.stringify(obj.spec);
      const generation = (existing?.metadata.generation as number | undefined) ?? 1;
      meta.generation = changed ? generation + 1 : generation;
    }
    delete meta.resourceVersion;
  }

  private defaultKind(obj: KubeObject, existing: KubeObject | undefined): void {
    if (obj.status === undefined && existing?.status !== undefined) obj.status = existing.status;
    switch (obj.kind) {
      case 'Secret':
        return this.defaultSecret(obj);
      case 'Service':
        return this.defaultService(obj, existing);
      case 'Namespace':
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
        obj.spec = { finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        return;
      case 'Pod':
        return this.defaultPod(obj);
      case 'CustomResourceDefinition':
        return defaultCustomResourceDefinition(obj);
      default:
        return defaultCustomResource(obj, (name) => this.liveGet('CustomResourceDefinition', undefined, name), existing);
    }
  }

  private defaultSecret(obj: KubeObject): void {
    const data = { ...(obj.data as Record<string, string> | undefined) };
    for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) {
      data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
    delete obj.stringData;
    obj.data = data;
    obj.type ??= 'Opaque';
  }

  private defaultService(obj: KubeObject, existing: KubeObject | undefined): void {
    const spec = (obj.spec ??= {}) as Record<string, unknown>;
    spec.type ??= 'ClusterIP';
    const previousIP = (existing?.spec as { clusterIP?: string } | undefined)?.clusterIP;
    spec.clusterIP ??= previousIP ?? this.allocateClusterIP();
    spec.clusterIPs = [spec.clusterIP];
    spec.sessionAffinity ??= 'None';
    spec.ipFamilies ??= ['IPv4'];
    spec.ports = ((spec.ports ?? []) as Record<string, unknown>[]).map((p) => ({
      ...p,
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort ?? p.port,
    }));
    obj.status ??= { loadBalancer: {} };
  }

  /** A free fake clusterIP in 10.96.0.0/16: only ever a label, routed by `dial` to pod IPs. */
  private allocateClusterIP(): string {
    const used = new Set(this.liveList('Service').map((s) => (s.spec as { clusterIP?: string }).clusterIP));
    for (;;) {
      const ip = `10.96.${1 + randomInt(254)}.${1 + randomInt(254)}`;
      if (!used.has(ip)) return ip;
    }
  }

  private defaultPod(pod: KubeObject): void {
    const uid = pod.metadata.uid!;
    const spec = (pod.spec ??= {}) as Record<string, unknown>;
    spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
    spec.serviceAccount = spec.serviceAccountName;
    spec.nodeName ??= NODE_NAME;
    spec.restartPolicy ??= 'Always';
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.terminationGracePeriodSeconds ??= 30;
    if (!this.podStates.has(uid)) {
      const state = runningState(pod, new Date());
      this.podStates.set(uid, state);
      // A missing non-optional ConfigMap/Secret volume keeps the pod Pending, ContainerCreating.
      const problems = volumeMountProblems(pod, (kind, ns, name) => this.liveGet(kind, ns, name));
      if (problems.length > 0) {
        patchState(state, { phase: 'Pending' });
        this.mountBlocked.set(uid, problems);
      } else {
        this.freezeSubPaths(pod);
      }
    }
    if (!this.podIPs.has(uid)) this.podIPs.set(uid, this.allocatePodIP());
    pod.status = podStatus(pod, this.podStates.get(uid)!, this.podIPs.get(uid), this.hostIP);
  }

  /**
   * Pod IPs: `<ipBase>.2-254`, then the next /24s of the same 127.B block (up to 32 of them, for
   * namespaces of thousands of pods); freed addresses are reused last.
   */
  private allocatePodIP(): string {
    const [, b, c] = this.ipBase.split('.').map(Number) as [number, number, number];
    const capacity = 253 * POD_IP_BLOCKS;
    for (let tries = 0; tries < capacity; tries++) {
      const index = this.nextIndex;
      this.nextIndex = (index + 1) % capacity;
      const ip = `127.${b}.${(c + Math.floor(index / 253)) % 256}.${2 + (index % 253)}`;
      if (!this.assignedIPs.has(ip)) {
        this.assignedIPs.add(ip);
        return ip;
      }
    }
    throw new Error(`no free pod IP left in ${this.ipBase}.2-254 and the ${POD_IP_BLOCKS - 1} following /24s`);
  }

  // ---- watch -------------------------------------------------------------------------------

  /** Calls `listener` for every change from now on; returns the function that stops it. */
  watch(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The events after resourceVersion `rv`, or undefined when that version is too old to resume from. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestWatchable) return undefined;
    return this.history.filter((e) => e.resourceVersion > rv);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResourceVersion(): number {
    return this.oldestWatchable;
  }

  /** Forgets the event history, as etcd compaction does: older watches get 410 Expired. */
  compact(): void {
    this.history.length = 0;
    this.oldestWatchable = this.revision;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.shift()!;
      this.oldestWatchable = dropped.resourceVersion;
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  // ---- ClusterView -------------------------------------------------------------------------

  containerFiles(namespace: string, pod: string, container?: string): Map<string, string> {
    const obj = this.liveGet('Pod', namespace, pod);
    if (!obj) return new Map();
    const uid = obj.metadata.uid!;
    return containerFiles(obj, container, (kind, ns, name) => this.liveGet(kind, ns, name), {
      emptyDir: (volume) => this.emptyDirs.get(uid)?.get(volume),
      frozenSubPaths: (name) => this.frozenSubPaths.get(uid)?.get(name),
      ownLayer: (name) => this.containerLayers.get(uid)?.get(name),
      lastProjection: (volume) => this.projections.get(uid)?.get(volume),
      recordProjection: (volume, files) => {
        let byVolume = this.projections.get(uid);
        if (!byVolume) this.projections.set(uid, (byVolume = new Map()));
        byVolume.set(volume, new Map(files));
      },
    });
  }

  writeContainerFile(namespace: string, pod: string, container: string, path: string, content: string): FileWriteResult {
    return this.changeContainerFile(namespace, pod, container, path, content);
  }

  removeContainerFile(namespace: string, pod: string, container: string, path: string): FileWriteResult {
    return this.changeContainerFile(namespace, pod, container, path, undefined);
  }

  /**
   * The MountVolume.SetUp failures keeping a pod in ContainerCreating (the kubelet's FailedMount
   * events); empty once its volumes are set up.
   */
  podMountProblems(namespace: string, pod: string): string[] {
    const uid = this.liveGet('Pod', namespace, pod)?.metadata.uid;
    return [...((uid && this.mountBlocked.get(uid)) || [])];
  }

  /** Writes (`content`) or removes (undefined) a file as a program in the container would. */
  private changeContainerFile(namespace: string, pod: string, container: string, path: string, content: string | undefined): FileWriteResult {
    const obj = this.liveGet('Pod', namespace, pod);
    const target = obj && writeTarget(obj, container, path);
    if (!obj || !target) return { ok: false, errno: 'ENOENT', message: `[Errno 2] No such file or directory: '${path}'` };
    if (target.kind === 'readOnly') return { ok: false, errno: 'EROFS', message: `[Errno 30] Read-only file system: '${path}'` };
    const uid = obj.metadata.uid!;
    const [perPod, key, file] =
      target.kind === 'emptyDir' ? [this.emptyDirs, target.volume, target.relativePath] : [this.containerLayers, container, target.path];
    if (file === '' || file === '/') return { ok: false, errno: 'EISDIR', message: `[Errno 21] Is a directory: '${path}'` };
    let volumes = perPod.get(uid);
    if (!volumes) perPod.set(uid, (volumes = new Map()));
    let files = volumes.get(key);
    if (!files) volumes.set(key, (files = new Map()));
    if (content !== undefined) {
      files.set(file, content);
      return { ok: true };
    }
    if (!files.delete(file)) return { ok: false, errno: 'ENOENT', message: `[Errno 2] No such file or directory: '${path}'` };
    return { ok: true };
  }

  lookupHost(host: string, fromNamespace: string): { name: string; address: string } | undefined {
    return this.network.lookupHost(host, fromNamespace);
  }

  dial(host: string, port: number, fromNamespace: string): DialResult {
    return this.network.dial(host, port, fromNamespace);
  }

  appendLog(namespace: string, pod: string, container: string, line: string): void {
    const key = `${namespace}/${pod}/${container}`;
    const entries = this.logs.get(key) ?? [];
    entries.push({ time: new Date(), line: line.replace(/\n$/, '') });
    this.logs.set(key, entries);
  }

  /** A container's log lines, oldest first. */
  podLogs(namespace: string, pod: string, container: string): LogEntry[] {
    return [...(this.logs.get(`${namespace}/${pod}/${container}`) ?? [])];
  }
}
