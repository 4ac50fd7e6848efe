/**
 * Where Prometheus's configuration file lives (the ConfigMap and key behind `--config.file`), for
 * pointing a fix at it; the configuration itself is read by src/prometheus-config.ts, re-exported
 * here for the diagnosis.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ObjectPath, ObjectRef } from '../types.js';

export * from '../../prometheus-config.js';

/** A key or index in a path to the value to fix. */
export type Segment = string | number;

/** The prom/prometheus image's default --config.file. */
const DEFAULT_CONFIG_FILE = '/etc/prometheus/prometheus.yml';

/** The ConfigMap and key holding prometheus.yml. */
export interface ConfigSource {
  readonly configMap: ObjectRef;
  readonly key: string;
}

/** Finds the ConfigMap and key behind Prometheus's `--config.file`. */
export function configSourceOf(pod: V1Pod): ConfigSource | undefined {
  const namespace = pod.metadata?.namespace;
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => /prometheus/.test(c.name) || /prometheus/.test(c.image ?? '')) ?? containers[0];
  const arg = [...(container?.command ?? []), ...(container?.args ?? [])].map((a) => /^--config\.file=(.+)$/.exec(a)?.[1]).find(Boolean);
  const file = arg ?? DEFAULT_CONFIG_FILE;
  for (const mount of container?.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    const cm = volume?.configMap;
    if (!cm?.name) continue;
    const dir = mount.mountPath.replace(/\/$/, '');
    let key: string | undefined;
    if (mount.subPath && mount.mountPath === file) key = mount.subPath;
    else if (!mount.subPath && file.startsWith(`${dir}/`)) key = file.slice(dir.length + 1);
    if (key === undefined) continue;
    const item = cm.items?.find((i) => i.path === key);
    return { configMap: { kind: 'ConfigMap', namespace, name: cm.name }, key: item?.key ?? key };
  }
  return undefined;
}

/** The path to `embedded` inside the configuration file. */
export function inConfig(source: ConfigSource | undefined, embedded: readonly Segment[]): ObjectPath | undefined {
  if (!source) return undefined;
  return { object: source.configMap, path: ['data', source.key], ...(embedded.length ? { embedded } : {}) };
}

export function configName(source: ConfigSource | undefined): string {
  return source ? `ConfigMap ${source.configMap.namespace}/${source.configMap.name}` : "Prometheus's configuration";
}
