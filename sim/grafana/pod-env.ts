/**
 * The environment of a container (or init container) as the kubelet builds it from the pod
 * spec: `env[]` literal values, `valueFrom.secretKeyRef` / `configMapKeyRef`, and `envFrom[]` Secrets and ConfigMaps
 * (later entries win, `env` over `envFrom`).
 */
import type { ClusterView, KubeObject } from '../kube/view.js';

interface KeyRef {
  name?: string;
  key?: string;
}
interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
}
interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string };
  configMapRef?: { name?: string };
}
interface ContainerSpec {
  name?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
}

function decodeBase64(value: unknown): string | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

/** Key → value of a Secret (base64 `data`, plain `stringData`) or a ConfigMap (`data`). */
function sourceData(
  view: ClusterView,
  kind: 'Secret' | 'ConfigMap',
  ns: string,
  name: string | undefined,
): Map<string, string> {
  const data = new Map<string, string>();
  const object: KubeObject | undefined = name ? view.get(kind, ns, name) : undefined;
  if (!object) return data;
  for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, unknown>)) {
    const text = kind === 'Secret' ? decodeBase64(value) : typeof value === 'string' ? value : undefined;
    if (text !== undefined) data.set(key, text);
  }
  if (kind === 'Secret') {
    for (const [key, value] of Object.entries((object.stringData ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') data.set(key, value);
    }
  }
  return data;
}

function containerSpec(view: ClusterView, ns: string, pod: string, container: string): ContainerSpec | undefined {
  const spec = view.get('Pod', ns, pod)?.spec as { containers?: ContainerSpec[]; initContainers?: ContainerSpec[] } | undefined;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].find((c) => c.name === container);
}

export function containerEnv(view: ClusterView, ns: string, pod: string, container: string): Map<string, string> {
  const env = new Map<string, string>();
  const spec = containerSpec(view, ns, pod, container);
  for (const source of spec?.envFrom ?? []) {
    const data = source.secretRef
      ? sourceData(view, 'Secret', ns, source.secretRef.name)
      : sourceData(view, 'ConfigMap', ns, source.configMapRef?.name);
    for (const [key, value] of data) env.set(`${source.prefix ?? ''}${key}`, value);
  }
  for (const variable of spec?.env ?? []) {
    if (!variable.name) continue;
    if (variable.value !== undefined) {
      env.set(variable.name, variable.value);
      continue;
    }
    const secretRef = variable.valueFrom?.secretKeyRef;
    const configMapRef = variable.valueFrom?.configMapKeyRef;
    const value = secretRef
      ? sourceData(view, 'Secret', ns, secretRef.name).get(secretRef.key ?? '')
      : configMapRef
        ? sourceData(view, 'ConfigMap', ns, configMapRef.name).get(configMapRef.key ?? '')
        : undefined;
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}

/**
 * Grafana's admin account as configured on the container: `GF_SECURITY_ADMIN_USER` /
 * `GF_SECURITY_ADMIN_PASSWORD`, or the `…__FILE` variants naming a mounted file; admin/admin
 * when unset, like Grafana's defaults.
 */
export function adminCredentialsFromPod(
  view: ClusterView,
  ns: string,
  pod: string,
  container: string,
): { user: string; password: string } {
  const env = containerEnv(view, ns, pod, container);
  const files = view.containerFiles(ns, pod, container);
  const setting = (name: string, fallback: string): string => {
    const file = env.get(`${name}__FILE`);
    const fromFile = file !== undefined ? files.get(file)?.replace(/\r?\n$/, '') : undefined;
    return fromFile ?? env.get(name) ?? fallback;
  };
  return {
    user: setting('GF_SECURITY_ADMIN_USER', 'admin'),
    password: setting('GF_SECURITY_ADMIN_PASSWORD', 'admin'),
  };
}
