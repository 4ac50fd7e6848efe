/**
 * Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the columns
 * real clusters print for the common kinds and `Name`/`Age` for the others.
 */
import type { KubeObject } from './view.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (obj: KubeObject) => string | number;
}

/** `5s`, `3m20s`, `45m`, `5h10m`, `3d` — the apimachinery HumanDuration rounding. */
function humanAge(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o) => humanAge(o.metadata.creationTimestamp) };

type Obj = Record<string, any>;

function podStatusReason(pod: Obj): string {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const reason = cs.state?.waiting?.reason ?? cs.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.phase ?? 'Unknown';
}

function podRestarts(pod: Obj): string {
  const count = (pod.status?.containerStatuses ?? []).reduce((n: number, cs: Obj) => n + (cs.restartCount ?? 0), 0);
  return String(count);
}

function podReady(pod: Obj): string {
  const statuses: Obj[] = pod.status?.containerStatuses ?? [];
  return `${statuses.filter((c) => c.ready).length}/${pod.spec?.containers?.length ?? 0}`;
}

function servicePorts(svc: Obj): string {
  const ports: Obj[] = svc.spec?.ports ?? [];
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
}

function endpointList(ep: Obj): string {
  const all = (ep.subsets ?? []).flatMap((s: Obj) =>
    (s.addresses ?? []).flatMap((a: Obj) => (s.ports ?? []).map((p: Obj) => `${a.ip}:${p.port}`)),
  );
  if (all.length === 0) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

const o = (obj: KubeObject) => obj as Obj;

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: (p) => podReady(o(p)) },
    { name: 'Status', type: 'string', cell: (p) => podStatusReason(o(p)) },
    { name: 'Restarts', type: 'string', cell: (p) => podRestarts(o(p)) },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (p) => o(p).status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (p) => o(p).spec?.nodeName ?? '<none>' },
  ],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (s) => o(s).spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (s) => o(s).spec?.clusterIP ?? '<none>' },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', cell: (s) => servicePorts(o(s)) },
    age,
  ],
  Endpoints: [name, { name: 'Endpoints', type: 'string', cell: (e) => endpointList(o(e)) }, age],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (d) => `${o(d).status?.readyReplicas ?? 0}/${o(d).spec?.replicas ?? 1}` },
    { name: 'Up-to-date', type: 'integer', cell: (d) => o(d).status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => o(d).status?.availableReplicas ?? 0 },
    age,
  ],
  ConfigMap: [name, { name: 'Data', type: 'integer', cell: (c) => Object.keys(o(c).data ?? {}).length }, age],
  Secret: [
    name,
    { name: 'Type', type: 'string', cell: (s) => o(s).type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (s) => Object.keys(o(s).data ?? {}).length },
    age,
  ],
  Namespace: [name, { name: 'Status', type: 'string', cell: (n) => o(n).status?.phase ?? 'Active' }, age],
};

/** True when the Accept header asks for a `meta.k8s.io/v1` Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((t) => /as=Table/.test(t) && /g=meta\.k8s\.io/.test(t) && /v=v1(;|$)/.test(t));
}

/** The row's `object`: the whole object, its metadata only (the default), or nothing. */
function rowObject(obj: KubeObject, includeObject: string | null): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(kind: string, objects: KubeObject[], listMeta: Record<string, string>, includeObject: string | null) {
  const columns = COLUMNS[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => ({ cells: columns.map((c) => c.cell(obj)), object: rowObject(obj, includeObject) })),
  };
}
