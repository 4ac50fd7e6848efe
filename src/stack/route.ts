/**
 * How the datasource reaches Grafana, read from the Grafana pod's spec: which volume is mounted in
 * the grafana container at the provisioning directory (a ConfigMap, a Secret, a projected volume,
 * or an emptyDir the datasource sidecar fills), and which objects it carries. Also the files each
 * volume puts there, which `datasource-mounted` compares with the objects.
 */
import { posix } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { ObjectChoice } from '../types.js';
import type { DatasourceRoute, Delivery, Sidecar, SourceObject } from './types.js';

export const DEFAULT_PROVISIONING_DIR = '/etc/grafana/provisioning/datasources';

/** A file a volume puts into a container, and where it comes from. */
export interface MountedFile {
  readonly container: string;
  /** Absolute path in the container. */
  readonly path: string;
  readonly volume: string;
  /** The object and key it comes from; absent for an emptyDir (written by a sidecar). */
  readonly object?: SourceObject;
  readonly key?: string;
}

/** The Grafana container: named `grafana`, else running a Grafana image, else the first. */
export function grafanaContainer(pod: V1Pod): V1Container | undefined {
  const containers = pod.spec?.containers ?? [];
  return containers.find((c) => c.name === 'grafana') ?? containers.find((c) => /(^|\/)grafana(-enterprise|-oss)?(:|@|$)/.test(c.image ?? '')) ?? containers[0];
}

/** The datasources directory Grafana reads: `$GF_PATHS_PROVISIONING/datasources` when the env sets it. */
export function provisioningDir(container: V1Container | undefined, input: string | undefined): string {
  const env = container?.env?.find((e) => e.name === 'GF_PATHS_PROVISIONING')?.value;
  if (env) return posix.join(env, 'datasources');
  return input ?? DEFAULT_PROVISIONING_DIR;
}

/** The objects a volume carries (none for emptyDir and other kinds). */
export function volumeObjects(volume: V1Volume, namespace: string): SourceObject[] {
  const items = (list?: { key: string; path: string }[]) => (list?.length ? { items: list.map((i) => ({ key: i.key, path: i.path })) } : {});
  if (volume.configMap?.name) return [{ kind: 'ConfigMap', namespace, name: volume.configMap.name, ...items(volume.configMap.items), ...(volume.configMap.optional ? { optional: true } : {}) }];
  if (volume.secret?.secretName) return [{ kind: 'Secret', namespace, name: volume.secret.secretName, ...items(volume.secret.items), ...(volume.secret.optional ? { optional: true } : {}) }];
  const out: SourceObject[] = [];
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap?.name) out.push({ kind: 'ConfigMap', namespace, name: source.configMap.name, ...items(source.configMap.items), ...(source.configMap.optional ? { optional: true } : {}) });
    if (source.secret?.name) out.push({ kind: 'Secret', namespace, name: source.secret.name, ...items(source.secret.items), ...(source.secret.optional ? { optional: true } : {}) });
  }
  return out;
}

/**
 * The files the pod's volumes put into `container`, per the spec; `keys` lists an object's keys
 * (needed when a volume projects every key), by `Kind/name`.
 */
export function mountedFiles(pod: V1Pod, container: string, keys: (o: SourceObject) => readonly string[]): MountedFile[] {
  const spec = pod.spec;
  const c = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].find((x) => x.name === container);
  const ns = pod.metadata?.namespace ?? '';
  const files: MountedFile[] = [];
  for (const mount of c?.volumeMounts ?? []) {
    const volume = spec?.volumes?.find((v) => v.name === mount.name);
    if (!volume) continue;
    const entries = volumeObjects(volume, ns).flatMap((object) =>
      (object.items ?? keys(object).map((k) => ({ key: k, path: k }))).map((e) => ({ object, key: e.key, path: e.path })),
    );
    if (!entries.length && volume.emptyDir) {
      files.push({ container, path: mount.mountPath, volume: volume.name });
      continue;
    }
    const sub = mount.subPath?.replace(/^\/+|\/+$/g, '');
    for (const e of entries) {
      if (!sub) files.push({ container, path: posix.join(mount.mountPath, e.path), volume: volume.name, object: e.object, key: e.key });
      else if (e.path === sub) files.push({ container, path: mount.mountPath, volume: volume.name, object: e.object, key: e.key });
    }
  }
  return files;
}

/** The env of a container as a map (literal values only). */
export function envOf(container: V1Container | undefined): Map<string, string> {
  return new Map((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
}

/**
 * The datasource sidecar of a Grafana pod: a container (or init container) configured like
 * kiwigrid/k8s-sidecar (LABEL and FOLDER in its env) whose FOLDER is the provisioning directory,
 * or a volume it shares with the grafana container mounted there. k8s-sidecar's defaults: it
 * watches its own namespace unless NAMESPACE says otherwise (`ALL`, or a comma-separated list),
 * ConfigMaps unless RESOURCE says `secret` or `both`, and METHOD `WATCH`.
 */
export function sidecarOf(pod: V1Pod, grafana: V1Container | undefined, dir: string): Sidecar | undefined {
  const own = pod.metadata?.namespace ?? '';
  const candidates = [
    ...(pod.spec?.containers ?? []).map((c) => ({ c, init: false })),
    ...(pod.spec?.initContainers ?? []).map((c) => ({ c, init: true })),
  ].filter(({ c }) => c !== grafana);
  const sharedAtDir = new Set((grafana?.volumeMounts ?? []).filter((m) => posix.normalize(m.mountPath) === dir).map((m) => m.name));
  for (const { c, init } of candidates) {
    const env = envOf(c);
    const label = env.get('LABEL');
    const folder = env.get('FOLDER');
    if (!label || !folder) continue;
    const sameDir = posix.normalize(folder).replace(/\/$/, '') === dir;
    const sharesVolume = (c.volumeMounts ?? []).some((m) => sharedAtDir.has(m.name) && posix.normalize(m.mountPath).replace(/\/$/, '') === posix.normalize(folder).replace(/\/$/, ''));
    if (!sameDir && !sharesVolume) continue;
    const nsText = env.get('NAMESPACE')?.trim();
    const namespaces = !nsText ? [own] : nsText.toUpperCase() === 'ALL' ? 'ALL' : nsText.split(',').map((n) => n.trim()).filter(Boolean);
    const resource = (env.get('RESOURCE') ?? 'configmap').toLowerCase();
    return {
      container: c.name,
      label,
      ...(env.get('LABEL_VALUE') ? { labelValue: env.get('LABEL_VALUE') } : {}),
      folder,
      namespaces,
      resource: resource === 'secret' || resource === 'both' ? resource : 'configmap',
      method: (env.get('METHOD') ?? 'WATCH').toUpperCase(),
      init: init || (env.get('METHOD') ?? '').toUpperCase() === 'LIST',
    };
  }
  return undefined;
}

/** `grafana_datasource=1` (or `grafana_datasource` for any value). */
export function sidecarSelector(s: Sidecar): string {
  return s.labelValue ? `${s.label}=${s.labelValue}` : s.label;
}

/**
 * How the datasource reaches the grafana container of `pod`: the volumes mounted at `dir` (their
 * objects), else the sidecar, else the object the input names (unmounted), else nothing.
 */
export function routeOf(pod: V1Pod, grafana: V1Container | undefined, dir: string, sidecar: Sidecar | undefined, chosen: ObjectChoice | undefined): DatasourceRoute {
  const ns = pod.metadata?.namespace ?? '';
  const inDir = grafana ? mountedFiles(pod, grafana.name, () => ['datasources.yaml']).filter((f) => posix.dirname(f.path) === dir || f.path === dir) : [];
  const volumes = [...new Set(inDir.map((f) => f.volume))].map((name) => pod.spec?.volumes?.find((v) => v.name === name)).filter((v): v is V1Volume => Boolean(v));
  const matches = (o: SourceObject) => !chosen || (o.name === chosen.name && (!chosen.kind || chosen.kind === o.kind));
  for (const volume of volumes) {
    const objects = volumeObjects(volume, ns).filter(matches);
    if (!objects.length) continue;
    const delivery: Delivery = volume.configMap ? 'configmap' : volume.secret ? 'secret' : 'projected';
    const what = objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`).join(' + ');
    return { delivery, dir, objects, volume: volume.name, ...(chosen ? { chosen } : {}), description: `${what} mounted at ${dir}${delivery === 'projected' ? ' (projected volume)' : ''}` };
  }
  if (sidecar) {
    const where = sidecar.namespaces === 'ALL' ? 'every namespace' : sidecar.namespaces.join(', ');
    const kinds = sidecar.resource === 'both' ? 'ConfigMaps and Secrets' : sidecar.resource === 'secret' ? 'Secrets' : 'ConfigMaps';
    return {
      delivery: 'sidecar',
      dir,
      objects: chosen ? [{ kind: chosen.kind ?? 'ConfigMap', namespace: ns, name: chosen.name }] : [],
      sidecar,
      ...(chosen ? { chosen } : {}),
      description: `datasource sidecar ${sidecarSelector(sidecar)} (container ${sidecar.container}: ${kinds} labelled ${sidecarSelector(sidecar)} in ${where}, copied to ${sidecar.folder})`,
    };
  }
  if (chosen) {
    const object: SourceObject = { kind: chosen.kind ?? 'ConfigMap', namespace: ns, name: chosen.name };
    return { delivery: 'unmounted', dir, objects: [object], chosen, description: `${object.kind} ${ns}/${chosen.name} (not mounted at ${dir})` };
  }
  const other = volumes.flatMap((v) => volumeObjects(v, ns));
  return { delivery: 'none', dir, objects: other, description: `nothing mounted at ${dir}` };
}
