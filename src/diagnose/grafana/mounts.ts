/**
 * How a pod spec (a controller's pod template, or the running pod) mounts a provisioning object —
 * a ConfigMap or Secret volume, or a projected volume carrying it: at the provisioning directory,
 * elsewhere, not at all, or another object in its place — and the finding for each.
 */
import { posix } from 'node:path';
import type { V1PodSpec, V1Volume } from '@kubernetes/client-node';
import { volumeObjects } from '../../stack/route.js';
import type { SourceObject } from '../../stack/types.js';
import type { Finding, ObjectRef } from '../types.js';
import type { Probe } from './probe.js';
import { containersPath, refText, volumesPath } from './text.js';

export interface MountState {
  readonly status: 'mounted' | 'elsewhere' | 'other-object' | 'none';
  /** Index of the container that mounts (or should mount) the object. */
  readonly container: number;
  readonly containerName: string;
  readonly mount?: number;
  /** Index of the volume mounted at the directory (`other-object`). */
  readonly volume?: number;
  readonly volumeName: string;
  readonly where?: string;
  /** What is mounted at the directory instead, and where its name is in the volume. */
  readonly other?: SourceObject;
  readonly otherPath?: readonly (string | number)[];
}

/** Whether a volume carries the object (same kind and name). */
export function carries(volume: V1Volume, namespace: string, o: SourceObject): boolean {
  return volumeObjects(volume, namespace).some((x) => x.kind === o.kind && x.name === o.name);
}

/** Where a volume names the object it carries: `configMap.name`, `secret.secretName`, a projected source's name. */
function namePath(volume: V1Volume, other: SourceObject): (string | number)[] {
  if (volume.configMap) return ['configMap', 'name'];
  if (volume.secret) return ['secret', 'secretName'];
  const i = (volume.projected?.sources ?? []).findIndex((s) => (other.kind === 'ConfigMap' ? s.configMap?.name : s.secret?.name) === other.name);
  return ['projected', 'sources', Math.max(0, i), other.kind === 'ConfigMap' ? 'configMap' : 'secret', 'name'];
}

/** How a pod spec mounts the object relative to the provisioning directory. */
export function mountState(spec: V1PodSpec | undefined, namespace: string, object: SourceObject, dir: string, grafana: string): MountState {
  const containers = spec?.containers ?? [];
  const volumes = spec?.volumes ?? [];
  const fromObject = new Set(volumes.filter((v) => carries(v, namespace, object)).map((v) => v.name));
  const inDir = (mountPath: string, subPath?: string): boolean => {
    const path = posix.normalize(mountPath).replace(/(.)\/$/, '$1');
    return subPath ? posix.dirname(path) === dir : path === dir;
  };
  const fallback = Math.max(0, containers.findIndex((c) => c.name === grafana));
  const volumeName = volumes.find((v) => carries(v, namespace, object))?.name ?? object.name;
  const base = (container: number) => ({ container, containerName: containers[container]?.name ?? grafana, volumeName });
  let elsewhere: MountState | undefined;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!fromObject.has(m.name)) continue;
      if (inDir(m.mountPath, m.subPath)) return { status: 'mounted', ...base(ci), mount: mi, volumeName: m.name };
      elsewhere ??= { status: 'elsewhere', ...base(ci), mount: mi, volumeName: m.name, where: m.mountPath };
    }
  }
  if (elsewhere) return elsewhere;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!inDir(m.mountPath, m.subPath)) continue;
      const vi = volumes.findIndex((v) => v.name === m.name);
      const volume = volumes[vi];
      const other = volume ? volumeObjects(volume, namespace)[0] : undefined;
      if (volume && other) return { status: 'other-object', ...base(ci), mount: mi, volume: vi, volumeName: m.name, other, otherPath: namePath(volume, other) };
    }
  }
  return { status: 'none', ...base(fallback) };
}

/** The volume that would carry the object, as YAML for a fix. */
function volumeYaml(name: string, o: SourceObject): string {
  return `{name: ${name}, ${o.kind === 'Secret' ? `secret: {secretName: ${o.name}}` : `configMap: {name: ${o.name}}`}}`;
}

/** The pod template (or pod) `ref` with `spec`: a finding when it does not mount the object at the directory. */
export function templateFinding(p: Probe, ref: ObjectRef, spec: V1PodSpec | undefined, state: MountState, object: SourceObject): Finding | undefined {
  const dir = p.dir;
  const c = state.container;
  const apply = `apply it; the ${ref.kind === 'Pod' ? 'pod must be recreated' : `${ref.kind} then replaces the pod`} and Grafana provisions the datasource at start-up`;
  const what = `${object.kind} ${object.name}`;
  switch (state.status) {
    case 'mounted':
      return undefined;
    case 'elsewhere':
      return {
        cause: `${refText(ref)} mounts ${what} at ${state.where}, not at ${dir}`,
        fix: `Set mountPath: ${dir} on that volumeMount of container ${state.containerName} (Grafana provisions datasources only from that directory), then ${apply}.`,
        target: { object: ref, path: [...containersPath(ref), c, 'volumeMounts', state.mount ?? 0, 'mountPath'] },
      };
    case 'other-object': {
      const other = state.other as SourceObject;
      const field = (state.otherPath ?? []).join('.');
      return {
        cause: `${refText(ref)} mounts ${other.kind} ${other.name} at ${dir}, not ${object.name}`,
        fix: `Set ${field}: ${object.name} on volume ${state.volumeName}${other.kind === object.kind ? '' : ` (a ${object.kind} volume: ${volumeYaml(state.volumeName, object)})`}, or set the datasource-configmap input to ${other.kind}/${other.name}; then ${apply}.`,
        target: { object: ref, path: [...volumesPath(ref), state.volume ?? 0, ...(state.otherPath ?? [])] },
      };
    }
    case 'none': {
      const hasVolume = (spec?.volumes ?? []).some((v) => carries(v, ref.namespace ?? p.ns, object));
      return {
        cause: `${refText(ref)} does not mount ${what} at ${dir}`,
        fix:
          `Add to container ${state.containerName}'s volumeMounts: {name: ${state.volumeName}, mountPath: ${dir}, readOnly: true}` +
          (hasVolume ? '' : `, and to the pod template's volumes: ${volumeYaml(state.volumeName, object)}`) +
          `. ${p.profile.mountDatasource(p.stack, object)}`,
        target: { object: ref, path: [...containersPath(ref), c, 'volumeMounts'] },
      };
    }
  }
}
