/**
 * How findings name things: Kubernetes objects and where in them a fix goes, selectors, ports,
 * and quoted text clipped to a readable length (URLs without their credentials).
 */
import type { V1Service } from '@kubernetes/client-node';
import type { Owner, SourceObject } from '../../stack/types.js';
import type { ObjectRef } from '../types.js';

/** The path of a controller's containers (Deployment, StatefulSet…), where most fixes to the Grafana pod go. */
export const TEMPLATE_CONTAINERS = ['spec', 'template', 'spec', 'containers'] as const;

/** `ConfigMap taskflow/grafana-datasources`. */
export function refText(o: ObjectRef): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

export function objectRef(o: SourceObject): ObjectRef {
  return { kind: o.kind, namespace: o.namespace, name: o.name };
}

/** The same object (kind, namespace, name). */
export function sameObject(a: SourceObject, b: SourceObject): boolean {
  return a.kind === b.kind && a.name === b.name && a.namespace === b.namespace;
}

/** The controller of the Grafana pods as a finding's object; a bare pod when it has none. */
export function controllerRef(owner: Owner | undefined, namespace: string, podName: string): ObjectRef {
  return owner ? { kind: owner.kind, namespace, name: owner.name } : { kind: 'Pod', namespace, name: podName };
}

/** Where the containers are in that object. */
export function containersPath(ref: ObjectRef): readonly (string | number)[] {
  return ref.kind === 'Pod' ? ['spec', 'containers'] : TEMPLATE_CONTAINERS;
}

/** Where the volumes are in that object. */
export function volumesPath(ref: ObjectRef): readonly (string | number)[] {
  return ref.kind === 'Pod' ? ['spec', 'volumes'] : ['spec', 'template', 'spec', 'volumes'];
}

/** The field holding an object's files in a manifest: a ConfigMap's `data`, a Secret's `stringData`. */
export function dataField(o: SourceObject): 'data' | 'stringData' {
  return o.kind === 'Secret' ? 'stringData' : 'data';
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

/** `1 restart`, `7 restarts`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
