/**
 * The provisioning sources of the route discovery found, read once per attempt through the view:
 * the ConfigMaps and Secrets a volume carries (or the one the input names), or the objects that
 * carry the datasource sidecar's label in the namespaces it watches — and the datasources they
 * provision. Shared by `datasource-configmap`, `datasource-mounted` and `grafana-datasource`.
 */
import { posix } from 'node:path';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { KubeError } from '../cluster.js';
import { parseProvisioning, type ProvisionedDatasource, type ProvisioningFile } from '../datasource.js';
import { pickPod } from '../stack/discover.js';
import { sidecarSelector } from '../stack/route.js';
import { GRAFANA_DATASOURCE_CR, type DatasourceRoute, type SourceObject, type Stack } from '../stack/types.js';
import type { ClusterView } from '../view.js';

/** One provisioning object as read: its files (decoded), or why it could not be read. */
export interface SourceRead {
  readonly object: SourceObject;
  readonly state: 'ok' | 'missing' | 'forbidden';
  /** Key → content (Secrets decoded). */
  readonly data: Readonly<Record<string, string>>;
  /** The object's labels and annotations (sidecar routes). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** A GrafanaDatasource's status conditions. */
  readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly reason?: string; readonly message?: string }[];
}

export interface Sources {
  readonly route: DatasourceRoute;
  readonly reads: readonly SourceRead[];
  /** For sidecar routes: the label selector and the namespaces searched. */
  readonly selector?: string;
  readonly namespaces?: readonly string[];
}

/** A provisioned datasource with the object it comes from. */
export interface Provided extends ProvisionedDatasource {
  readonly object: SourceObject;
}

function decode(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

function fromConfigMap(cm: V1ConfigMap): Record<string, string> {
  const out: Record<string, string> = { ...(cm.data ?? {}) };
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** Reads one object; a refused Secret read is `forbidden` (the file in the container decides then). */
async function readObject(view: ClusterView, object: SourceObject): Promise<SourceRead> {
  if (object.kind === 'GrafanaDatasource') return { object, state: 'missing', data: {} };
  try {
    if (object.kind === 'ConfigMap') {
      const cm = await view.configMap(object.namespace, object.name);
      return cm ? { object, state: 'ok', data: fromConfigMap(cm) } : { object, state: 'missing', data: {} };
    }
    const secret = await view.secret(object.namespace, object.name);
    return secret ? { object, state: 'ok', data: decode(secret) } : { object, state: 'missing', data: {} };
  } catch (err) {
    if (err instanceof KubeError && err.status === 403 && object.kind === 'Secret') return { object, state: 'forbidden', data: {} };
    throw err;
  }
}

/**
 * grafana-operator's GrafanaDatasource objects, each read as the provisioning file it stands for
 * (its spec.datasource) with its status conditions.
 */
async function operatorSources(view: ClusterView, route: DatasourceRoute): Promise<Sources> {
  const ns = route.objects[0]?.namespace;
  const list = await view.custom(GRAFANA_DATASOURCE_CR, ns);
  const reads: SourceRead[] = list.map((o) => {
    const ds = o.spec?.datasource;
    const conditions = Array.isArray(o.status?.conditions) ? (o.status.conditions as SourceRead['conditions']) : [];
    return {
      object: { kind: 'GrafanaDatasource', namespace: o.metadata?.namespace ?? ns ?? '', name: o.metadata?.name ?? '' },
      state: 'ok',
      data: { 'spec.datasource.yaml': JSON.stringify({ apiVersion: 1, datasources: ds && typeof ds === 'object' ? [ds] : [] }) },
      labels: o.metadata?.labels ?? {},
      ...(conditions ? { conditions } : {}),
    };
  });
  return { route, reads };
}

/** The objects the route provisions from, read this attempt. */
export async function readSources(view: ClusterView, route: DatasourceRoute): Promise<Sources> {
  if (route.delivery === 'grafana-operator') return operatorSources(view, route);
  if (route.delivery === 'sidecar' && route.sidecar && !route.chosen) {
    const s = route.sidecar;
    const selector = sidecarSelector(s);
    const scopes = s.namespaces === 'ALL' ? [undefined] : [...s.namespaces];
    const reads: SourceRead[] = [];
    for (const ns of scopes) {
      if (s.resource !== 'secret') {
        for (const cm of await view.configMaps(ns, selector)) {
          reads.push({ object: { kind: 'ConfigMap', namespace: cm.metadata?.namespace ?? '', name: cm.metadata?.name ?? '' }, state: 'ok', data: fromConfigMap(cm), labels: cm.metadata?.labels ?? {}, annotations: cm.metadata?.annotations ?? {} });
        }
      }
      if (s.resource !== 'configmap') {
        try {
          for (const secret of await view.secrets(ns, selector)) {
            reads.push({ object: { kind: 'Secret', namespace: secret.metadata?.namespace ?? '', name: secret.metadata?.name ?? '' }, state: 'ok', data: decode(secret), labels: secret.metadata?.labels ?? {}, annotations: secret.metadata?.annotations ?? {} });
          }
        } catch (err) {
          if (!(err instanceof KubeError && err.status === 403)) throw err;
          reads.push({ object: { kind: 'Secret', namespace: ns ?? '*', name: `(labelled ${selector})` }, state: 'forbidden', data: {} });
        }
      }
    }
    return { route, reads, selector, namespaces: scopes.map((n) => n ?? 'every namespace') };
  }
  const objects = route.objects.length ? route.objects : [];
  const reads = await Promise.all(
    objects.map(async (o) => {
      const read = await readObject(view, o);
      // A bare name in the input: a ConfigMap of that name, else a Secret.
      if (read.state === 'missing' && route.chosen && !route.chosen.kind && o.kind === 'ConfigMap') {
        const secret = await readObject(view, { ...o, kind: 'Secret' });
        if (secret.state !== 'missing') return secret;
      }
      return read;
    }),
  );
  return { route, reads };
}

/** The provisioning files of the readable sources, by object, parsed as Grafana parses them. */
export function provisioningFiles(reads: readonly SourceRead[]): { object: SourceObject; files: ProvisioningFile[] }[] {
  const ok = reads.filter((r) => r.state === 'ok');
  // Grafana allows one default datasource across all the files it reads: parse them together.
  const keyed: Record<string, string> = {};
  const owner = new Map<string, SourceObject>();
  for (const r of ok) {
    for (const [key, text] of Object.entries(r.data)) {
      const id = `${r.object.kind}/${r.object.namespace}/${r.object.name}/${key}`;
      keyed[id] = text;
      owner.set(id, r.object);
    }
  }
  const parsed = parseProvisioning(keyed);
  return ok.map((r) => ({
    object: r.object,
    files: parsed.filter((f) => owner.get(f.file) === r.object).map((f) => relabel(f, f.file.split('/').pop() ?? f.file)),
  }));
}

function relabel(f: ProvisioningFile, file: string): ProvisioningFile {
  return { ...f, file, datasources: f.datasources.map((d) => ({ ...d, file })) };
}

/** Every provisioned datasource, with its object. */
export function provided(reads: readonly SourceRead[]): Provided[] {
  return provisioningFiles(reads).flatMap(({ object, files }) => files.flatMap((f) => f.datasources.map((d) => ({ ...d, object }))));
}

/**
 * The datasource the checks look for: the one named `datasource-name` (or the stack's default
 * name), else the Prometheus-type one the stack provisions (its default one, else the only one).
 */
export function chooseDatasource<T extends { name: string; type: string; isDefault: boolean }>(list: readonly T[], wanted: string | undefined): T | undefined {
  if (wanted) return list.find((d) => d.name === wanted);
  const prometheus = list.filter((d) => d.type === 'prometheus');
  return prometheus.find((d) => d.isDefault) ?? prometheus[0];
}

/** The Grafana pod the checks look at (Ready, else Running, else the first), with its name. */
export async function grafanaPodOf(view: ClusterView, stack: Stack): Promise<V1Pod | undefined> {
  if (!stack.grafana.ok) return undefined;
  const w = stack.grafana.value.workload;
  return pickPod(await view.pods(w.namespace, w.selector));
}

/** The provisioning files the grafana container sees in `dir` (through exec: `ls`, then `cat`). */
export async function filesInContainer(view: ClusterView, pod: V1Pod, container: string, dir: string): Promise<Map<string, string>> {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const ls = await view.exec(ns, name, container, ['ls', '-1', dir]);
  const files = new Map<string, string>();
  if (ls.exitCode !== 0) return files;
  const names = ls.stdout.split('\n').map((l) => l.trim()).filter((l) => /\.ya?ml$/i.test(l));
  for (const file of names) {
    const path = posix.join(dir, file);
    const cat = await view.exec(ns, name, container, ['cat', path]);
    if (cat.exitCode === 0) files.set(path, cat.stdout);
  }
  return files;
}

/** `ConfigMap monitoring/kps-…-datasource`. */
export function objectText(o: SourceObject): string {
  return `${o.kind} ${o.namespace}/${o.name}`;
}
