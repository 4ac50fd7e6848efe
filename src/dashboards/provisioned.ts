/**
 * The dashboards the stack provisions, read the way it provisions them, so that one that should
 * be in Grafana but is not is named too:
 *
 * - ConfigMaps mounted into the Grafana pod (kube-prometheus's `grafana-dashboard-*` under
 *   /grafana-dashboard-definitions/0, TaskFlow's provider path): every `*.json` key holding a
 *   dashboard (a title and panels or rows) is a file Grafana's file provider reads;
 * - a dashboard sidecar (kube-prometheus-stack's `grafana-sc-dashboard`, kiwigrid/k8s-sidecar:
 *   LABEL and FOLDER in its env, NAMESPACE `ALL` or a list, RESOURCE configmap/secret/both): the
 *   ConfigMaps carrying its label, each `*.json` key copied into its folder. Its Secrets are not
 *   read (the token is given no Secret but Grafana's admin one).
 *
 * A dashboard is matched with Grafana's by uid, else (no uid in the JSON: Grafana makes one) by
 * title. grafana-operator's GrafanaDashboard objects are not read.
 */
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import type { DashboardHit } from '../grafana.js';
import type { ClusterView } from '../view.js';

export interface ProvisionedDashboard {
  readonly uid: string;
  readonly title: string;
  /** `ConfigMap monitoring/grafana-dashboard-nodes (key nodes.json)`. */
  readonly source: string;
  /** How it reaches Grafana, for the cause: mounted into the pod, or copied by the sidecar. */
  readonly how: 'mounted' | 'sidecar';
}

/** A dashboard sidecar of the pod: its label selector and where it looks. */
interface DashboardSidecar {
  readonly container: string;
  readonly selector: string;
  readonly namespaces: readonly string[] | 'ALL';
}

function envOf(c: { env?: { name: string; value?: string }[] }): Map<string, string> {
  return new Map((c.env ?? []).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value as string]));
}

/** Sidecars configured like k8s-sidecar whose label is not the datasource sidecar's. */
function dashboardSidecars(pod: V1Pod, datasourceSidecar: string | undefined): DashboardSidecar[] {
  const own = pod.metadata?.namespace ?? '';
  const out: DashboardSidecar[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    if (c.name === datasourceSidecar) continue;
    const env = envOf(c);
    const label = env.get('LABEL');
    if (!label || !env.get('FOLDER') || /datasource/i.test(label)) continue;
    const value = env.get('LABEL_VALUE');
    const ns = env.get('NAMESPACE')?.trim();
    out.push({
      container: c.name,
      selector: value ? `${label}=${value}` : label,
      namespaces: !ns ? [own] : ns.toUpperCase() === 'ALL' ? 'ALL' : ns.split(',').map((n) => n.trim()).filter(Boolean),
    });
  }
  return out;
}

/** The ConfigMaps the pod mounts (as volumes, or in projected volumes) into a container. */
function mountedConfigMaps(pod: V1Pod): Set<string> {
  const mounted = new Set((pod.spec?.containers ?? []).flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  const names = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (!mounted.has(v.name)) continue;
    if (v.configMap?.name) names.add(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) names.add(s.configMap.name);
  }
  return names;
}

/** The dashboards in a ConfigMap's `*.json` keys. */
function dashboardsIn(cm: V1ConfigMap, how: ProvisionedDashboard['how']): ProvisionedDashboard[] {
  const out: ProvisionedDashboard[] = [];
  for (const [key, text] of Object.entries(cm.data ?? {})) {
    if (!key.endsWith('.json')) continue;
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch {
      continue;
    }
    if (!model || typeof model !== 'object' || Array.isArray(model)) continue;
    const m = model as Record<string, unknown>;
    // Grafana's file provider also reads `{"dashboard": {...}}` (an export with its envelope).
    const d = (m.dashboard && typeof m.dashboard === 'object' && !Array.isArray(m.dashboard) ? m.dashboard : m) as Record<string, unknown>;
    if (typeof d.title !== 'string' || !(Array.isArray(d.panels) || Array.isArray(d.rows))) continue;
    out.push({ uid: typeof d.uid === 'string' ? d.uid : '', title: d.title, source: `ConfigMap ${cm.metadata?.namespace ?? ''}/${cm.metadata?.name ?? ''} (key ${key})`, how });
  }
  return out;
}

/**
 * The dashboards the stack provisions that Grafana does not list, and what could not be read
 * (notes, e.g. a list the token may not make).
 */
export async function missingProvisioned(
  view: ClusterView,
  pod: V1Pod | undefined,
  datasourceSidecar: string | undefined,
  hits: readonly DashboardHit[],
): Promise<{ missing: ProvisionedDashboard[]; notes: string[] }> {
  if (!pod) return { missing: [], notes: [] };
  const notes: string[] = [];
  const found: ProvisionedDashboard[] = [];
  const ns = pod.metadata?.namespace ?? '';
  const mounted = mountedConfigMaps(pod);
  const reads: Promise<void>[] = [];
  if (mounted.size) {
    reads.push(
      view.configMaps(ns, '').then(
        (list) => void found.push(...list.filter((cm) => mounted.has(cm.metadata?.name ?? '')).flatMap((cm) => dashboardsIn(cm, 'mounted'))),
        (err: unknown) => void notes.push(`the ConfigMaps of namespace ${ns} could not be listed (${err instanceof Error ? err.message : String(err)})`),
      ),
    );
  }
  const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  for (const s of dashboardSidecars(pod, datasourceSidecar)) {
    const take = (list: V1ConfigMap[]): void => void found.push(...list.flatMap((cm) => dashboardsIn(cm, 'sidecar')));
    if (s.namespaces === 'ALL') {
      // Every namespace where the token may list them; else Grafana's own, saying so.
      reads.push(
        view.configMaps(undefined, s.selector).then(take, (err: unknown) => {
          notes.push(`the ConfigMaps labelled ${s.selector} (container ${s.container}, every namespace) could not be listed at the cluster scope (${why(err)}): only namespace ${ns} was searched`);
          return view.configMaps(ns, s.selector).then(take, (again: unknown) => void notes.push(`nor in namespace ${ns} (${why(again)})`));
        }),
      );
      continue;
    }
    for (const where of s.namespaces) {
      reads.push(view.configMaps(where, s.selector).then(take, (err: unknown) => void notes.push(`the ConfigMaps labelled ${s.selector} (container ${s.container}) could not be listed in ${where} (${why(err)})`)));
    }
  }
  await Promise.all(reads);
  const uids = new Set(hits.map((h) => h.uid));
  const titles = new Set(hits.map((h) => h.title));
  const seen = new Set<string>();
  const missing = found.filter((d) => {
    const key = d.uid || `title:${d.title}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return d.uid ? !uids.has(d.uid) : !titles.has(d.title);
  });
  return { missing, notes };
}
