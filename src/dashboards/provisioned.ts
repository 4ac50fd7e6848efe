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
 * - grafana-operator's `GrafanaDashboard` objects in Grafana's namespace (controllers/
 *   dashboard_controller.go) whose `instanceSelector` selects the `Grafana` object standing for
 *   this Grafana (its `external.url` naming Grafana's Service, or the `<name>-deployment` /
 *   `<name>-service` the operator makes for an internal one; the only Grafana object of the
 *   namespace otherwise), and those that select no Grafana object at all. The operator writes
 *   them through Grafana's API; its status conditions say why one is not there (InvalidSpec: the
 *   model could not be resolved, e.g. a ConfigMap key that does not exist; DashboardSynchronized
 *   False: Grafana refused it; NoMatchingInstance; Suspended). Listing them needs `list` on
 *   grafanadashboards and grafanas (grafana.integreatly.org); without the CRDs nothing is asked.
 *
 * A dashboard is matched with Grafana's by uid, else (no uid in the JSON: Grafana makes one) by
 * title.
 */
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { KubeError, type CustomObject } from '../cluster.js';
import type { DashboardHit } from '../grafana.js';
import { readSelector, selects, selectorString } from '../label-selector.js';
import { GRAFANA_CR, GRAFANA_DASHBOARD_CR } from '../stack/types.js';
import type { DashboardProvisioner } from '../types.js';
import type { ClusterView } from '../view.js';

export interface ProvisionedDashboard {
  readonly uid: string;
  readonly title: string;
  /** `ConfigMap monitoring/grafana-dashboard-nodes (key nodes.json)`, `GrafanaDashboard monitoring/nodes`. */
  readonly source: string;
  /** How it reaches Grafana: a file mounted into the pod, copied by the sidecar, or written by grafana-operator. */
  readonly provisioner: DashboardProvisioner;
  /** Why it is not in Grafana, when the provisioner says (grafana-operator's conditions). */
  readonly cause?: string;
  /** The object to point at in the manifests, and the field the cause is about (a GrafanaDashboard's `spec.configMapRef.key`). */
  readonly object?: { readonly kind: string; readonly namespace: string; readonly name: string; readonly path?: readonly string[] };
}

/** Where the Grafana being checked is, to tell which grafana-operator `Grafana` object stands for it. */
export interface GrafanaPlace {
  readonly namespace: string;
  readonly service?: string;
  /** The pods' controller (`Deployment grafana-deployment`). */
  readonly owner?: string;
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
function dashboardsIn(cm: V1ConfigMap, provisioner: 'file' | 'sidecar'): ProvisionedDashboard[] {
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
    out.push({ uid: typeof d.uid === 'string' ? d.uid : '', title: d.title, source: `ConfigMap ${cm.metadata?.namespace ?? ''}/${cm.metadata?.name ?? ''} (key ${key})`, provisioner });
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
  place?: GrafanaPlace,
): Promise<{ missing: ProvisionedDashboard[]; notes: string[] }> {
  if (!pod) return { missing: [], notes: [] };
  const notes: string[] = [];
  const found: ProvisionedDashboard[] = [];
  const ns = pod.metadata?.namespace ?? '';
  let fromOperator: ProvisionedDashboard[] = [];
  // With the other reads, so that its failure is handled where theirs is.
  const reads: Promise<void>[] = [operatorDashboards(view, place ?? { namespace: ns }, hits, notes).then((found) => void (fromOperator = found))];
  const mounted = mountedConfigMaps(pod);
  if (mounted.size) {
    reads.push(
      view.configMaps(ns, '').then(
        (list) => void found.push(...list.filter((cm) => mounted.has(cm.metadata?.name ?? '')).flatMap((cm) => dashboardsIn(cm, 'file'))),
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
  return { missing: [...missing, ...fromOperator], notes };
}

type Condition = { type?: string; status?: string; reason?: string; message?: string };

const conditionsOf = (o: CustomObject): Condition[] => (Array.isArray(o.status?.conditions) ? (o.status.conditions as Condition[]) : []);
const nameOf = (o: CustomObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * The uid and title a GrafanaDashboard gives its dashboard (GetGrafanaUID: spec.uid, else the
 * model's, else the object's), its model read from `spec.json` or the ConfigMap key it names.
 * A model that cannot be read leaves the uid unknown (''), unless spec or status give it.
 */
function identityOf(o: CustomObject, configMaps: readonly V1ConfigMap[] | undefined): { uid: string; title: string } {
  const spec = o.spec ?? {};
  const ref = spec.configMapRef as { name?: unknown; key?: unknown } | undefined;
  const text =
    typeof spec.json === 'string'
      ? spec.json
      : ref && typeof ref.name === 'string' && typeof ref.key === 'string'
        ? configMaps?.find((cm) => cm.metadata?.name === ref.name)?.data?.[ref.key]
        : undefined;
  let model: Record<string, unknown> | undefined;
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) model = parsed as Record<string, unknown>;
    } catch {
      // an unparsable model: the operator says so in its InvalidSpec condition
    }
  }
  const uid = [spec.uid, o.status?.uid, model?.uid, model ? o.metadata?.uid : undefined].find((u): u is string => typeof u === 'string' && u !== '') ?? '';
  return { uid, title: typeof model?.title === 'string' && model.title ? model.title : `GrafanaDashboard ${nameOf(o)}` };
}

/** `Grafana monitoring/grafana (labels dashboards=grafana)`, and why it is not ready when it is not. */
function describeGrafana(g: CustomObject): string {
  const labels = Object.entries(g.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const status = g.status ?? {};
  const ready = status.stageStatus === 'success';
  const why = ready ? '' : `, not ready: ${status.stageStatus ? `stage ${String(status.stage ?? '')} ${String(status.stageStatus)}` : 'no status'}${status.lastMessage ? ` (${String(status.lastMessage)})` : ''}`;
  return `Grafana ${nameOf(g)} (labels ${labels || 'none'}${why})`;
}

/** Why the operator did not put it in Grafana, from its status conditions, and the field of the object that is about. */
function operatorCause(o: CustomObject, selectsNone: string | undefined, grafanas: readonly CustomObject[] | undefined): { cause: string; path?: string[] } {
  const conditions = conditionsOf(o);
  const on = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const sync = conditions.find((c) => c.type === 'DashboardSynchronized');
  if (on('Suspended')) return { cause: 'its spec.suspend is true: grafana-operator ignores it', path: ['spec', 'suspend'] };
  const invalid = on('InvalidSpec');
  if (invalid) {
    const source = o.spec?.configMapRef ? ['spec', 'configMapRef', 'key'] : o.spec?.json !== undefined ? ['spec', 'json'] : undefined;
    return { cause: `grafana-operator could not build its model (InvalidSpec, ${invalid.reason ?? ''}): ${invalid.message ?? ''}`, ...(source ? { path: source } : {}) };
  }
  if (sync?.status === 'False') return { cause: `grafana-operator could not apply it (DashboardSynchronized False, ${sync.reason ?? ''}): ${sync.message ?? ''}` };
  if (selectsNone !== undefined || on('NoMatchingInstance')) {
    const known = grafanas?.length ? `; there is ${grafanas.map(describeGrafana).join(', ')}` : '';
    return {
      cause: `its instanceSelector${selectsNone ? ` ${selectsNone}` : ''} matches no ready Grafana object (NoMatchingInstance)${known}: make the selector match the Grafana object's labels`,
      path: ['spec', 'instanceSelector'],
    };
  }
  if (sync?.status === 'True') {
    return { cause: `grafana-operator applied it (DashboardSynchronized True${o.status?.lastResync ? `, last resync ${String(o.status.lastResync)}` : ''}) but Grafana no longer has it: deleted in Grafana? the operator puts it back at its next resync (spec.resyncPeriod, 10m by default)` };
  }
  return { cause: 'its status has no condition: grafana-operator has not reconciled it (is the operator running, and does it watch this namespace?)' };
}

/** Does this Grafana object stand for the Grafana being checked? */
function standsFor(g: CustomObject, place: GrafanaPlace): boolean {
  const name = g.metadata?.name ?? '';
  const external = (g.spec?.external as { url?: unknown } | undefined)?.url;
  if (typeof external === 'string') {
    let host = '';
    try {
      host = new URL(external).hostname;
    } catch {
      return false;
    }
    const [service, namespace] = host.split('.');
    return service === place.service && (namespace === undefined || namespace === place.namespace);
  }
  return place.owner === `Deployment ${name}-deployment` || place.service === `${name}-service`;
}

/** The GrafanaDashboard objects meant for this Grafana that it does not have, with the operator's reason. */
async function operatorDashboards(view: ClusterView, place: GrafanaPlace, hits: readonly DashboardHit[], notes: string[]): Promise<ProvisionedDashboard[]> {
  const ns = place.namespace;
  const listed = async (type: typeof GRAFANA_DASHBOARD_CR | typeof GRAFANA_CR, what: string): Promise<CustomObject[] | undefined> => {
    try {
      return await view.custom(type, ns);
    } catch (err) {
      // 404: the CRD is not installed (no grafana-operator); anything else is said, and the rest still compared.
      if (err instanceof KubeError && err.status === 404) return undefined;
      const why = err instanceof KubeError && err.status === 403 ? `list ${type.plural} is forbidden` : err instanceof Error ? err.message : String(err);
      notes.push(`${what} (grafana.integreatly.org) in ${ns} could not be listed: ${why}`);
      return undefined;
    }
  };
  const dashboards = await listed(GRAFANA_DASHBOARD_CR, 'GrafanaDashboard objects');
  if (!dashboards?.length) return [];
  const grafanas = await listed(GRAFANA_CR, 'Grafana objects');
  // The Grafana objects standing for this Grafana; the only one of the namespace otherwise; unknown when they could not be listed.
  const pointing = grafanas?.filter((g) => standsFor(g, place));
  const ours = grafanas && pointing ? (pointing.length || grafanas.length !== 1 ? pointing : grafanas) : undefined;
  if (grafanas && grafanas.length && ours && !ours.length) {
    notes.push(`GrafanaDashboard objects in ${ns} not compared: none of the Grafana objects ${grafanas.map((g) => g.metadata?.name ?? '').join(', ')} points at this Grafana`);
    return [];
  }
  const uids = new Set(hits.map((h) => h.uid));
  // The models of configMapRef sources, from the namespace's ConfigMaps (the list the mounted files read too).
  const configMaps = dashboards.some((d) => d.spec?.configMapRef) ? await view.configMaps(ns, '').catch(() => undefined) : undefined;
  const out: ProvisionedDashboard[] = [];
  for (const d of dashboards) {
    const selector = readSelector(d.spec?.instanceSelector);
    const meant = !ours || ours.some((g) => selects(selector, g.metadata?.labels));
    const selectsNone = grafanas && !grafanas.some((g) => selects(selector, g.metadata?.labels)) ? (selector ? selectorString(selector) : '(none)') : undefined;
    if (!meant && selectsNone === undefined) continue;
    const { uid, title } = identityOf(d, configMaps);
    if (uid && uids.has(uid)) continue;
    if (!uid && hits.some((h) => h.title === title)) continue;
    const { cause, path } = operatorCause(d, selectsNone, grafanas);
    const object = { kind: 'GrafanaDashboard', namespace: d.metadata?.namespace ?? ns, name: d.metadata?.name ?? '', ...(path ? { path } : {}) };
    out.push({ uid, title, source: `GrafanaDashboard ${nameOf(d)}`, provisioner: 'grafana-operator', cause, object });
  }
  return out;
}
