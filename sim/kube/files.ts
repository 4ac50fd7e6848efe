/**
 * The files a container sees, computed from its pod spec as the kubelet mounts volumes:
 * configMap, secret and projected volumes (`items`, `optional` and `subPath` honoured), emptyDir
 * volumes (a per-pod writable store shared by the pod's containers), and what the container wrote
 * outside its volumes (its own writable layer). It also says why a pod's volumes cannot be set up
 * (a missing non-optional ConfigMap, Secret or key keeps the pod in ContainerCreating) and where a
 * write by a container lands.
 *
 * Kubelet behaviours modelled (pkg/volume/configmap/configmap.go, pkg/volume/secret/secret.go,
 * pkg/volume/projected/projected.go): without `items` every key becomes a file named after it
 * (ConfigMap `data` and `binaryData`, Secret `data` decoded); with `items` only the listed keys,
 * at their paths; a listed key the source lacks fails the mount unless `optional: true`; a
 * missing source fails the mount unless optional. A `subPath` mount shows one entry of the
 * volume at `mountPath`; for kubelet-written volumes its content is the one the container started
 * with (subPath mounts do not receive ConfigMap/Secret updates). When a mounted ConfigMap/Secret
 * is deleted from under a running pod, the kubelet's sync fails and the files it last wrote stay
 * (unless the volume is optional, which empties it). Updates reach the files at once (the
 * kubelet's sync delay is not modelled). A deeper mount hides what a shallower mount has there. Not modelled: file modes (`defaultMode`, `items[].mode`), the
 * `..data` symlink layout, `subPathExpr`, downwardAPI and serviceAccountToken projections.
 */
import { posix } from 'node:path';
import type { KubeObject } from './view.js';

export type Lookup = (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;

interface KeyToPath {
  key: string;
  path: string;
}

interface ConfigMapSource {
  name?: string;
  items?: KeyToPath[];
  optional?: boolean;
}

interface SecretVolumeSource {
  secretName?: string;
  items?: KeyToPath[];
  optional?: boolean;
}

interface Volume {
  name: string;
  configMap?: ConfigMapSource;
  secret?: SecretVolumeSource;
  projected?: { sources?: { configMap?: ConfigMapSource; secret?: ConfigMapSource }[] };
  emptyDir?: Record<string, unknown>;
}

interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

interface ContainerSpec {
  name: string;
  volumeMounts?: VolumeMount[];
}

interface PodSpec {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Volume[];
}

/** What the store keeps per pod beyond the API objects: written files and start-time snapshots. */
export interface PodFilesystem {
  /** Files of the pod's emptyDir volume `volume`: path relative to the volume → content. */
  emptyDir?(volume: string): ReadonlyMap<string, string> | undefined;
  /** Absolute path → content the container's subPath mounts of kubelet-written volumes had at its start. */
  frozenSubPaths?(container: string): ReadonlyMap<string, string> | undefined;
  /** Absolute path → content the container wrote outside its volumes. */
  ownLayer?(container: string): ReadonlyMap<string, string> | undefined;
  /** What the kubelet last wrote into a configMap/secret/projected volume (relative path → content). */
  lastProjection?(volume: string): ReadonlyMap<string, string> | undefined;
  /** Records what the kubelet writes into such a volume now. */
  recordProjection?(volume: string, files: ReadonlyMap<string, string>): void;
}

/** Where a container's write to an absolute path lands. */
export type WriteTarget =
  | { kind: 'emptyDir'; volume: string; relativePath: string }
  | { kind: 'readOnly'; mountPath: string }
  | { kind: 'layer'; path: string };

function specOf(pod: KubeObject): PodSpec {
  return (pod.spec ?? {}) as PodSpec;
}

function findContainer(pod: KubeObject, name: string | undefined): ContainerSpec | undefined {
  const spec = specOf(pod);
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return name === undefined ? all[0] : all.find((c) => c.name === name);
}

/** `/a/./b/../c/` → `/a/c`. */
export function normalizePath(path: string): string {
  const normal = posix.normalize(`/${path}`);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

function trimSubPath(subPath: string | undefined): string {
  return (subPath ?? '').replace(/^\/+|\/+$/g, '');
}

/** The key → content pairs of a ConfigMap (data and binaryData) or a Secret (decoded data). */
function sourceData(kind: 'ConfigMap' | 'Secret', obj: KubeObject): Map<string, string> {
  const data = new Map<string, string>();
  const plain = (obj.data ?? {}) as Record<string, string>;
  const binary = (obj.binaryData ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(plain)) data.set(k, kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v);
  for (const [k, v] of Object.entries(binary)) data.set(k, Buffer.from(v, 'base64').toString('utf8'));
  return data;
}

interface Projection {
  files: Map<string, string>;
  /** The kubelet's reason the source cannot be projected, when it cannot. */
  error?: string;
}

/** One ConfigMap or Secret projected as the kubelet's MakePayload does. */
function projectSource(
  kind: 'ConfigMap' | 'Secret',
  name: string,
  items: KeyToPath[] | undefined,
  optional: boolean,
  namespace: string,
  lookup: Lookup,
): Projection {
  const files = new Map<string, string>();
  const label = kind === 'ConfigMap' ? 'configmap' : 'secret';
  const obj = lookup(kind, namespace, name);
  if (!obj) return optional ? { files } : { files, error: `${label} "${name}" not found` };
  const data = sourceData(kind, obj);
  if (!items || items.length === 0) {
    for (const [k, v] of data) files.set(k, v);
    return { files };
  }
  for (const item of items) {
    const value = data.get(item.key);
    if (value !== undefined) {
      files.set(item.path, value);
      continue;
    }
    if (optional) continue;
    const what = kind === 'ConfigMap' ? 'configmap references non-existent config key' : 'references non-existent secret key';
    return { files, error: `${what}: ${item.key}` };
  }
  return { files };
}

/** Relative path → content of a kubelet-written volume, and why it cannot be set up. */
function kubeletVolume(volume: Volume, namespace: string, lookup: Lookup): Projection {
  if (volume.configMap) {
    const src = volume.configMap;
    return projectSource('ConfigMap', src.name ?? '', src.items, src.optional === true, namespace, lookup);
  }
  if (volume.secret) {
    const src = volume.secret;
    return projectSource('Secret', src.secretName ?? '', src.items, src.optional === true, namespace, lookup);
  }
  const files = new Map<string, string>();
  const errors: string[] = [];
  for (const source of volume.projected?.sources ?? []) {
    const [kind, src] = source.configMap ? (['ConfigMap', source.configMap] as const) : source.secret ? (['Secret', source.secret] as const) : [];
    if (!kind || !src) continue;
    const part = projectSource(kind, src.name ?? '', src.items, src.optional === true, namespace, lookup);
    if (part.error) errors.push(part.error);
    for (const [k, v] of part.files) files.set(k, v);
  }
  // utilerrors.NewAggregate: one error as is, several as `[a, b]`.
  const error = errors.length === 0 ? undefined : errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return { files, error };
}

function isKubeletVolume(volume: Volume): boolean {
  return Boolean(volume.configMap || volume.secret || volume.projected);
}

/**
 * Why the kubelet cannot set up the pod's volumes, one event message per failing volume
 * (`MountVolume.SetUp failed for volume "x" : configmap "y" not found`); empty when it can.
 * Only volumes some container mounts are set up.
 */
export function volumeMountProblems(pod: KubeObject, lookup: Lookup): string[] {
  const spec = specOf(pod);
  const mounted = new Set(
    [...(spec.containers ?? []), ...(spec.initContainers ?? [])].flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)),
  );
  const namespace = pod.metadata.namespace ?? 'default';
  const problems: string[] = [];
  for (const volume of spec.volumes ?? []) {
    if (!mounted.has(volume.name) || !isKubeletVolume(volume)) continue;
    const { error } = kubeletVolume(volume, namespace, lookup);
    if (error) problems.push(`MountVolume.SetUp failed for volume "${volume.name}" : ${error}`);
  }
  return problems;
}

/** The absolute paths one mount shows: the whole volume, or its `subPath` entry. */
function mountContent(mount: VolumeMount, content: ReadonlyMap<string, string>): Map<string, string> {
  const files = new Map<string, string>();
  const root = normalizePath(mount.mountPath);
  const sub = trimSubPath(mount.subPath);
  for (const [rel, value] of content) {
    if (!sub) files.set(normalizePath(`${root}/${rel}`), value);
    else if (rel === sub) files.set(root, value);
    else if (rel.startsWith(`${sub}/`)) files.set(normalizePath(`${root}/${rel.slice(sub.length + 1)}`), value);
  }
  return files;
}

/** True when `path` is `dir` or lies under it. */
function within(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/** What the kubelet writes into each configMap/secret/projected volume of the pod now (those it can set up). */
export function volumeProjections(pod: KubeObject, lookup: Lookup): Map<string, Map<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const projections = new Map<string, Map<string, string>>();
  for (const volume of specOf(pod).volumes ?? []) {
    if (!isKubeletVolume(volume)) continue;
    const projected = kubeletVolume(volume, namespace, lookup);
    if (!projected.error) projections.set(volume.name, projected.files);
  }
  return projections;
}

/**
 * Absolute path → content of the files the container's subPath mounts of configMap, secret and
 * projected volumes show right now: what the store freezes when the container starts.
 */
export function subPathFiles(pod: KubeObject, containerName: string | undefined, lookup: Lookup): Map<string, string> {
  const spec = specOf(pod);
  const namespace = pod.metadata.namespace ?? 'default';
  const files = new Map<string, string>();
  for (const mount of findContainer(pod, containerName)?.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    if (!volume || !isKubeletVolume(volume) || !trimSubPath(mount.subPath)) continue;
    for (const [path, value] of mountContent(mount, kubeletVolume(volume, namespace, lookup).files)) files.set(path, value);
  }
  return files;
}

/** Absolute path → content, for one container of a pod (the first container by default). */
export function containerFiles(
  pod: KubeObject,
  containerName: string | undefined,
  lookup: Lookup,
  fs: PodFilesystem = {},
): Map<string, string> {
  const spec = specOf(pod);
  const container = findContainer(pod, containerName);
  const namespace = pod.metadata.namespace ?? 'default';
  const mounts = (container?.volumeMounts ?? []).filter((m) => spec.volumes?.some((v) => v.name === m.name));
  const roots = mounts.map((m) => normalizePath(m.mountPath));
  const files = new Map<string, string>();
  // The container's own layer lies under every mount.
  for (const [path, value] of fs.ownLayer?.(container?.name ?? '') ?? []) {
    if (!roots.some((root) => within(path, root))) files.set(path, value);
  }
  const frozen = container ? fs.frozenSubPaths?.(container.name) : undefined;
  mounts.forEach((mount, index) => {
    const volume = spec.volumes!.find((v) => v.name === mount.name)!;
    const root = roots[index]!;
    let shown: Map<string, string>;
    if (volume.emptyDir) {
      shown = mountContent(mount, fs.emptyDir?.(volume.name) ?? new Map());
    } else if (!isKubeletVolume(volume)) {
      return;
    } else if (trimSubPath(mount.subPath) && frozen) {
      shown = new Map([...frozen].filter(([path]) => within(path, root)));
    } else {
      const projected = kubeletVolume(volume, namespace, lookup);
      if (projected.error) {
        shown = mountContent(mount, fs.lastProjection?.(volume.name) ?? new Map());
      } else {
        fs.recordProjection?.(volume.name, projected.files);
        shown = mountContent(mount, projected.files);
      }
    }
    // A deeper mount hides what this one has under its path.
    const deeper = roots.filter((other, j) => j !== index && other.length > root.length && within(other, root));
    for (const [path, value] of shown) {
      if (!deeper.some((d) => within(path, d))) files.set(path, value);
    }
  });
  return files;
}

/**
 * Where a container's write to `path` lands: in an emptyDir volume it mounts (the deepest mount
 * containing the path wins), nowhere for read-only mounts (configMap, secret, projected, or
 * `readOnly: true`), else in the container's own layer. Undefined when the pod has no such container.
 */
export function writeTarget(pod: KubeObject, containerName: string, path: string): WriteTarget | undefined {
  const spec = specOf(pod);
  const container = findContainer(pod, containerName);
  if (!container) return undefined;
  const target = normalizePath(path);
  let best: { mount: VolumeMount; volume: Volume; root: string } | undefined;
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const root = normalizePath(mount.mountPath);
    if (!volume || !within(target, root)) continue;
    if (!best || root.length > best.root.length) best = { mount, volume, root };
  }
  if (!best) return { kind: 'layer', path: target };
  if (!best.volume.emptyDir || best.mount.readOnly) return { kind: 'readOnly', mountPath: best.root };
  const sub = trimSubPath(best.mount.subPath);
  const rest = target === best.root ? '' : target.slice(best.root === '/' ? 1 : best.root.length + 1);
  const relativePath = [sub, rest].filter(Boolean).join('/');
  return { kind: 'emptyDir', volume: best.volume.name, relativePath };
}
