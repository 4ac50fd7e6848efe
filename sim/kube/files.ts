/**
 * The files a container sees, computed from its pod spec: configMap, secret and projected volumes
 * mounted by volumeMounts (`items` and `subPath` honoured). Nothing else exists in the simulated
 * container filesystem.
 */
import type { KubeObject } from './view.js';

type Lookup = (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;

interface KeyToPath {
  key: string;
  path: string;
}

interface ProjectionSource {
  name?: string;
  items?: KeyToPath[];
}

interface Volume {
  name: string;
  configMap?: ProjectionSource;
  secret?: { secretName?: string; items?: KeyToPath[] };
  projected?: { sources?: { configMap?: ProjectionSource; secret?: ProjectionSource }[] };
}

interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
}

interface ContainerSpec {
  name: string;
  volumeMounts?: VolumeMount[];
}

/** The key → content pairs of a ConfigMap (data and binaryData) or a Secret (decoded data). */
function sourceData(kind: 'ConfigMap' | 'Secret', obj: KubeObject | undefined): Map<string, string> {
  const data = new Map<string, string>();
  if (!obj) return data;
  const plain = (obj.data ?? {}) as Record<string, string>;
  const binary = (obj.binaryData ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(plain)) data.set(k, kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v);
  for (const [k, v] of Object.entries(binary)) data.set(k, Buffer.from(v, 'base64').toString('utf8'));
  return data;
}

/** Projects keys to relative paths: every key under its own name, or only `items` at their paths. */
function project(data: Map<string, string>, items: KeyToPath[] | undefined, into: Map<string, string>): void {
  if (!items) {
    for (const [k, v] of data) into.set(k, v);
    return;
  }
  for (const item of items) {
    const value = data.get(item.key);
    if (value !== undefined) into.set(item.path, value);
  }
}

/** Relative path → content of one volume. */
function volumeFiles(volume: Volume, namespace: string, lookup: Lookup): Map<string, string> {
  const files = new Map<string, string>();
  const fromConfigMap = (src: ProjectionSource) =>
    project(sourceData('ConfigMap', lookup('ConfigMap', namespace, src.name ?? '')), src.items, files);
  const fromSecret = (name: string, items?: KeyToPath[]) =>
    project(sourceData('Secret', lookup('Secret', namespace, name)), items, files);
  if (volume.configMap) fromConfigMap(volume.configMap);
  if (volume.secret) fromSecret(volume.secret.secretName ?? '', volume.secret.items);
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap) fromConfigMap(source.configMap);
    if (source.secret) fromSecret(source.secret.name ?? '', source.secret.items);
  }
  return files;
}

function joinPath(dir: string, rel: string): string {
  return `${dir.replace(/\/+$/, '')}/${rel}`;
}

/** Absolute path → content, for one container of a pod (the first container by default). */
export function containerFiles(pod: KubeObject, containerName: string | undefined, lookup: Lookup): Map<string, string> {
  const spec = pod.spec as { containers?: ContainerSpec[]; initContainers?: ContainerSpec[]; volumes?: Volume[] };
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const container = containerName === undefined ? containers[0] : containers.find((c) => c.name === containerName);
  const files = new Map<string, string>();
  for (const mount of container?.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    if (!volume) continue;
    const content = volumeFiles(volume, pod.metadata.namespace ?? 'default', lookup);
    const sub = mount.subPath?.replace(/^\/+|\/+$/g, '');
    for (const [rel, value] of content) {
      if (!sub) files.set(joinPath(mount.mountPath, rel), value);
      else if (rel === sub) files.set(mount.mountPath.replace(/\/+$/, ''), value);
      else if (rel.startsWith(`${sub}/`)) files.set(joinPath(mount.mountPath, rel.slice(sub.length + 1)), value);
    }
  }
  return files;
}
