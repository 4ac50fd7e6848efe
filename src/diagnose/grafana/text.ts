/**
 * How findings name things: Kubernetes objects and where in them a fix goes, restart commands,
 * selectors, ports, and quoted text clipped to a readable length (URLs without their credentials).
 */
import { posix } from 'node:path';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Settings } from '../../types.js';
import type { ObjectRef } from '../types.js';

/** The path of a Deployment's containers, where most fixes to the Grafana pod go. */
export const TEMPLATE_CONTAINERS = ['spec', 'template', 'spec', 'containers'] as const;

/** `ConfigMap taskflow/grafana-datasources`. */
export function refText(o: ObjectRef): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

export function configMapRef(s: Settings): ObjectRef {
  return { kind: 'ConfigMap', namespace: s.namespace, name: s.datasourceConfigmap };
}

export function deploymentRef(ns: string, name: string): ObjectRef {
  return { kind: 'Deployment', namespace: ns, name };
}

/** The Deployment that owns a pod, from its ReplicaSet's name (`grafana-7b9c6d5f4` → `grafana`). */
export function deploymentNameOf(pod: V1Pod): string | undefined {
  const rs = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  if (!rs) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (hash && rs.endsWith(`-${hash}`)) return rs.slice(0, -hash.length - 1);
  return rs.replace(/-[a-z0-9]+$/, '');
}

/** The command that makes Grafana start again and read its provisioning files. */
export function restartCommand(ns: string, deployment = 'grafana'): string {
  return `kubectl rollout restart deployment/${deployment} -n ${ns}`;
}

/** The provisioning directory, normalized (no trailing slash). */
export function mountDir(s: Settings): string {
  return posix.normalize(s.datasourceMountPath).replace(/(.)\/$/, '$1');
}

/** The first non-blank line, clipped. */
export function firstLine(text: string): string {
  return clip(
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? '',
    200,
  );
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function quote(text: string): string {
  return `"${clip(text.trim(), 300)}"`;
}

/** A matchLabels map as a selector: `app=grafana,tier=ui`. */
export function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Strips user information from a URL: it is quoted in findings and run inside the pod. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

/** A Service's ports: `9090 (web), 8080`, or `none`. */
export function portsText(svc: V1Service): string {
  const ports = svc.spec?.ports ?? [];
  return ports.map((port) => `${port.port}${port.name ? ` (${port.name})` : ''}`).join(', ') || 'none';
}
