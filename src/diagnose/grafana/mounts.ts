/**
 * How a pod spec mounts the datasource ConfigMap: at the provisioning directory, elsewhere, not at
 * all, or another ConfigMap in its place; the finding for a Deployment's pod template; and which
 * provisioning files the mount puts into the directory.
 */
import { posix } from 'node:path';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import type { Finding } from '../types.js';
import type { Probe } from './probe.js';
import { deploymentRef, mountDir, refText, TEMPLATE_CONTAINERS } from './text.js';

interface MountState {
  readonly status: 'mounted' | 'elsewhere' | 'other-configmap' | 'none';
  /** Index of the container that mounts (or should mount) the ConfigMap. */
  readonly container: number;
  readonly containerName: string;
  readonly mount?: number;
  readonly volume?: number;
  readonly volumeName: string;
  readonly where?: string;
  readonly otherConfigMap?: string;
}

/** How a pod spec mounts the ConfigMap relative to the mount directory. */
export function mountState(spec: V1PodSpec | undefined, configMap: string, dir: string): MountState {
  const containers = spec?.containers ?? [];
  const volumes = spec?.volumes ?? [];
  const fromCm = new Set(volumes.filter((v) => v.configMap?.name === configMap).map((v) => v.name));
  const inDir = (mountPath: string, subPath?: string): boolean => {
    const path = posix.normalize(mountPath).replace(/(.)\/$/, '$1');
    return subPath ? posix.dirname(path) === dir : path === dir;
  };
  const fallback = Math.max(0, containers.findIndex((c) => c.name === 'grafana'));
  const volumeName = volumes.find((v) => v.configMap?.name === configMap)?.name ?? configMap;
  const base = (container: number) => ({ container, containerName: containers[container]?.name ?? 'grafana', volumeName });
  let elsewhere: MountState | undefined;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!fromCm.has(m.name)) continue;
      if (inDir(m.mountPath, m.subPath)) return { status: 'mounted', ...base(ci), mount: mi, volumeName: m.name };
      elsewhere ??= { status: 'elsewhere', ...base(ci), mount: mi, volumeName: m.name, where: m.mountPath };
    }
  }
  if (elsewhere) return elsewhere;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!inDir(m.mountPath, m.subPath)) continue;
      const vi = volumes.findIndex((v) => v.name === m.name);
      const other = volumes[vi]?.configMap?.name;
      if (other) return { status: 'other-configmap', ...base(ci), mount: mi, volume: vi, volumeName: m.name, otherConfigMap: other };
    }
  }
  return { status: 'none', ...base(fallback) };
}

/** The Deployment's pod template: a finding when it does not mount the ConfigMap at the directory. */
export function templateFinding(p: Probe, dep: V1Deployment, state: MountState): Finding | undefined {
  const s = p.settings;
  const dir = mountDir(s);
  const depRef = deploymentRef(p.ns, dep.metadata?.name ?? 'grafana');
  const c = state.container;
  const restart = 'kubectl apply it; the Deployment then replaces the pod and Grafana provisions the datasource at start-up';
  switch (state.status) {
    case 'mounted':
      return undefined;
    case 'elsewhere':
      return {
        cause: `${refText(depRef)} mounts ConfigMap ${s.datasourceConfigmap} at ${state.where}, not at ${dir}`,
        fix: `Set mountPath: ${dir} on that volumeMount of container ${state.containerName} (Grafana provisions datasources only from that directory), then ${restart}.`,
        target: { object: depRef, path: [...TEMPLATE_CONTAINERS, c, 'volumeMounts', state.mount ?? 0, 'mountPath'] },
      };
    case 'other-configmap':
      return {
        cause: `${refText(depRef)} mounts ConfigMap ${state.otherConfigMap} at ${dir}, not ${s.datasourceConfigmap}`,
        fix: `Set configMap.name: ${s.datasourceConfigmap} on volume ${state.volumeName} (or set the datasource-configmap input to ${state.otherConfigMap}), then ${restart}.`,
        target: { object: depRef, path: ['spec', 'template', 'spec', 'volumes', state.volume ?? 0, 'configMap', 'name'] },
      };
    case 'none': {
      const hasVolume = (dep.spec?.template?.spec?.volumes ?? []).some((v) => v.configMap?.name === s.datasourceConfigmap);
      return {
        cause: `${refText(depRef)} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}`,
        fix:
          `Add to container ${state.containerName}'s volumeMounts: {name: ${state.volumeName}, mountPath: ${dir}, readOnly: true}` +
          (hasVolume ? '' : `, and to the pod template's volumes: {name: ${state.volumeName}, configMap: {name: ${s.datasourceConfigmap}}}`) +
          `; then ${restart}.`,
        target: { object: depRef, path: [...TEMPLATE_CONTAINERS, c, 'volumeMounts'] },
      };
    }
  }
}

interface FileInPod {
  readonly container: string;
  readonly path: string;
  readonly key: string;
}

/** The provisioning files a pod spec puts into the mount directory, per ConfigMap key. */
export function filesInDir(spec: V1PodSpec | undefined, configMap: string, dir: string, keys: readonly string[]): FileInPod[] {
  const files: FileInPod[] = [];
  for (const volume of (spec?.volumes ?? []).filter((v) => v.configMap?.name === configMap)) {
    const items = volume.configMap?.items;
    const entries = items?.length ? items.map((i) => ({ key: i.key, path: i.path })) : keys.map((k) => ({ key: k, path: k }));
    for (const c of spec?.containers ?? []) {
      for (const m of c.volumeMounts ?? []) {
        if (m.name !== volume.name) continue;
        const chosen = m.subPath ? entries.filter((e) => e.path === m.subPath).map((e) => ({ ...e, full: m.mountPath })) : entries.map((e) => ({ ...e, full: posix.join(m.mountPath, e.path) }));
        for (const e of chosen) {
          if (posix.dirname(e.full) === dir && /\.ya?ml$/i.test(e.full) && keys.includes(e.key)) files.push({ container: c.name, path: e.full, key: e.key });
        }
      }
    }
  }
  return files;
}
