/**
 * grafana-operator v5's GrafanaDashboard controller (grafana/grafana-operator
 * controllers/dashboard_controller.go, controllers/content/resolver.go, content/uid.go,
 * content/fetchers/configmap_fetcher.go), on the simulated operator's queue:
 *
 * - the model comes from exactly one source: `spec.json`, `spec.gzipJson` (base64 of gzip) or
 *   `spec.configMapRef` (a key of a ConfigMap in the object's namespace). None: "no source type
 *   provided for content resource <name>"; two: "more than one source types found for content
 *   resource <name>". `url`, `grafanaCom`, `jsonnet`, `jsonnetLib` and `oci` need the internet
 *   or a build: here they fail as a fetch error naming the source.
 * - `spec.datasources` replace `${inputName}` in the JSON text by the datasource name;
 *   `spec.variables` set a template variable's `current` (and select it among its `options`);
 *   the model's `id` is nulled and its `uid` becomes `spec.uid`, else the model's, else the
 *   object's metadata.uid (GetGrafanaUID). The hash is sha256 of the JSON text and variables.
 *   A resolution error sets InvalidSpec (reason InvalidModelResolution) and removes
 *   DashboardSynchronized; no matching instance sets NoMatchingInstance (and the
 *   `NoMatchingInstances` status flag), as for datasources.
 * - folder: `spec.folderUID` as is; else the folder titled `spec.folder`, or the object's
 *   namespace, found case-insensitively through `GET /api/folders` or created with
 *   `POST /api/folders` ("General" is the root). `folderRef` (GrafanaFolder objects) is not
 *   simulated.
 * - per instance: without `spec.uid`, `GET /api/search?type=dash-db` finds the dashboard by uid
 *   or by title in the folder; a dashboard found under another uid or folder is deleted first;
 *   one whose keys (but `id`, `version`) equal the model's is left; else `POST
 *   /api/dashboards/db` with `overwrite: true`. The Grafana object's `status.dashboards` lists
 *   `<namespace>/<name>/<uid>`.
 * - the DashboardSynchronized condition: ApplySuccessful "Dashboard was successfully applied to
 *   N instances", or ApplyFailed "Dashboard failed to be applied for X out of N instances.
 *   Errors:\n- ns/grafana: <error>"; on success `status.hash` and `status.uid`. A changed uid
 *   deletes the old dashboard first. Deleting the object deletes the dashboard (the finalizer).
 * Not simulated: public sharing, plugins of internal instances, the home dashboard preference,
 * the content cache of remote sources.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { KubeObject } from '../kube/view.js';
import {
  conditionsOf,
  noMatchingInstance,
  parseDuration,
  removeCondition,
  setCondition,
  specOf,
  statusOf,
  swaggerError,
  synchronizedCondition,
  withFinalizer,
  now,
  NO_MATCHING_INSTANCE,
  type Credentials,
  type Json,
  type OperatorContext,
} from './operator-shared.js';

const SYNCHRONIZED = 'DashboardSynchronized';
const INVALID_SPEC = 'InvalidSpec';

/** The content sources of GrafanaContentSpec, in GetSourceTypes' order. */
const SOURCES = ['json', 'gzipJson', 'url', 'jsonnet', 'jsonnetLib', 'grafanaCom', 'configMapRef', 'oci'] as const;

export interface DashboardController {
  reconcile(ns: string, name: string): Promise<void>;
  finalize(cr: KubeObject): Promise<void>;
}

/** encoding/json's words for a document JSON.parse refused (the common cases). */
function goJsonError(text: string, error: unknown): string {
  if (!text.trim() || /end of JSON input|Unterminated|Unexpected end/i.test(String(error))) return 'unexpected end of JSON input';
  const at = /position (\d+)/.exec(String(error));
  if (at && !text.slice(Number(at[1])).trim()) return 'unexpected end of JSON input';
  const ch = at ? text.charAt(Number(at[1])) : text.trim().charAt(0);
  return `invalid character '${ch}' looking for beginning of value`;
}

/** The resolver's variable override: `current` set, the value selected among `options` (added when absent). */
function overrideVariable(model: Json, name: string, value: string): void {
  const list = (model.templating as Json | undefined)?.list;
  if (!Array.isArray(list)) return;
  for (const v of list as Json[]) {
    if (!v || typeof v !== 'object' || v.name !== name) continue;
    v.current = { selected: true, text: value, value };
    if (!Array.isArray(v.options)) continue;
    const options = (v.options as Json[]).map((o): Json => (o && typeof o === 'object' ? { ...o, selected: o.value === value } : o));
    v.options = options.some((o) => o && typeof o === 'object' && o.value === value) ? options : [{ selected: true, text: value, value }, ...options];
  }
}

export function dashboardController(op: OperatorContext): DashboardController {
  const { store } = op;

  /** Resolver.Resolve: the model and its hash, or the error. */
  const resolve = (cr: KubeObject): { model: Json; hash: string } | { error: string } => {
    const spec = specOf(cr);
    const name = cr.metadata.name;
    const ns = cr.metadata.namespace ?? 'default';
    const present = SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== '' && spec[s] !== null);
    if (present.length === 0) return { error: `failed to fetch contents: no source type provided for content resource ${name}` };
    if (present.length > 1) return { error: `failed to fetch contents: more than one source types found for content resource ${name}` };
    let text: string;
    const source = present[0]!;
    if (source === 'json') text = String(spec.json);
    else if (source === 'gzipJson') {
      try {
        text = gunzipSync(Buffer.from(String(spec.gzipJson), 'base64')).toString('utf8');
      } catch {
        return { error: 'failed to fetch contents: gzip: invalid header' };
      }
    } else if (source === 'configMapRef') {
      const ref = spec.configMapRef as { name?: string; key?: string };
      const cm = store.get('ConfigMap', ns, ref.name ?? '');
      if (!cm) return { error: `failed to fetch contents: configmaps "${ref.name ?? ''}" not found` };
      const value = (cm.data as Record<string, string> | undefined)?.[ref.key ?? ''];
      if (value === undefined) return { error: `failed to fetch contents: cannot find key '${ref.key ?? ''}' in config map '${ref.name ?? ''}' for dashboard ${ns}/${name}` };
      text = value;
    } else {
      return { error: `failed to fetch contents: the ${source} source is not reachable from this cluster` };
    }
    for (const input of (spec.datasources ?? []) as { inputName?: string; datasourceName?: string }[]) {
      if (!input.inputName || !input.datasourceName) {
        return { error: `failed to extract model: invalid datasource input rule in content resource ${ns}/${name}, input or datasource empty` };
      }
      text = text.replaceAll(`\${${input.inputName}}`, input.datasourceName);
    }
    const variables = (spec.variables ?? []) as { name: string; value: string }[];
    const hash = createHash('sha256');
    hash.update(text);
    for (const v of variables) hash.update(`${v.name}\0${v.value}\0`);
    let model: Json;
    try {
      model = JSON.parse(text) as Json;
    } catch (error) {
      return { error: `failed to extract model: ${goJsonError(text, error)}` };
    }
    if (!model || typeof model !== 'object' || Array.isArray(model)) return { error: 'failed to extract model: json: cannot unmarshal into Go value of type map[string]interface {}' };
    for (const v of variables) overrideVariable(model, v.name, v.value);
    model.id = null;
    model.uid = String(spec.uid || (typeof model.uid === 'string' ? model.uid : '') || cr.metadata.uid);
    return { model, hash: hash.digest('hex') };
  };

  const baseOf = (grafana: KubeObject) => `${String(statusOf(grafana).adminUrl).replace(/\/+$/, '')}/api`;

  /** GetOrCreateFolder: the uid of the folder titled `spec.folder` (default: the namespace). */
  const folderOf = async (grafana: KubeObject, credentials: Credentials, cr: KubeObject): Promise<{ uid: string } | { error: string }> => {
    const title = String(specOf(cr).folder || cr.metadata.namespace || 'default');
    if (title.toLowerCase() === 'general') return { uid: '' };
    const base = baseOf(grafana);
    const list = await op.send('GET', `${base}/folders?limit=1000&page=1`, credentials);
    if ('error' in list) return { error: list.error };
    if (list.response.status !== 200) return { error: swaggerError('GET', '/folders', 'getFolders', list.response.status, list.response.body) };
    const found = (JSON.parse(list.response.body) as { uid: string; title: string }[]).find((f) => f.title.toLowerCase() === title.toLowerCase());
    if (found) return { uid: found.uid };
    const created = await op.send('POST', `${base}/folders`, credentials, { title });
    if ('error' in created) return { error: created.error };
    if (created.response.status !== 200) return { error: swaggerError('POST', '/folders', 'createFolder', created.response.status, created.response.body) };
    return { uid: (JSON.parse(created.response.body) as { uid: string }).uid };
  };

  /** reconcileWithInstance: the dashboard in one Grafana, or the error. */
  const apply = async (grafana: KubeObject, cr: KubeObject, model: Json, folderUid: string): Promise<string | undefined> => {
    if (specOf(cr).plugins !== undefined) return "external grafana instances don't support plugins, please remove spec.plugins from your dashboard cr";
    const credentials = op.credentialsOf(grafana);
    if (typeof credentials === 'string') return `creating grafana http client: ${credentials}`;
    const base = baseOf(grafana);
    let folder = folderUid;
    if (!folder) {
      const found = await folderOf(grafana, credentials, cr);
      if ('error' in found) return found.error;
      folder = found.uid;
    }
    const uid = String(model.uid);
    const title = String(model.title ?? '');
    let remoteUid = uid;
    if (!specOf(cr).uid) {
      const search = await op.send('GET', `${base}/search?type=dash-db&limit=1000&page=1`, credentials);
      if ('error' in search) return search.error;
      if (search.response.status !== 200) return swaggerError('GET', '/search', 'search', search.response.status, search.response.body);
      const hits = JSON.parse(search.response.body) as { uid: string; title: string; folderUid?: string }[];
      remoteUid = hits.find((h) => h.uid === uid || (h.title === title && (h.folderUid ?? '') === folder))?.uid ?? '';
    }
    let remote: { dashboard: Json; meta: { folderUid?: string } } | undefined;
    if (remoteUid) {
      const got = await op.send('GET', `${base}/dashboards/uid/${encodeURIComponent(remoteUid)}`, credentials);
      if ('error' in got) return got.error;
      if (got.response.status === 200) remote = JSON.parse(got.response.body) as typeof remote;
      else if (got.response.status !== 404) return swaggerError('GET', '/dashboards/uid/{uid}', 'getDashboardByUid', got.response.status, got.response.body);
    }
    if (remote && (remoteUid !== uid || (remote.meta.folderUid ?? '') !== folder)) {
      op.log('info', 'found dashboard with the same title (in the same folder) but different uid, removing the dashboard before recreating it with a new uid', { controller: 'grafanadashboard' });
      const removed = await op.send('DELETE', `${base}/dashboards/uid/${encodeURIComponent(remoteUid)}`, credentials);
      if ('error' in removed) return removed.error;
      remote = undefined;
    }
    const unchanged = remote && Object.keys(model).every((k) => k === 'id' || k === 'version' || isDeepStrictEqual(model[k], remote!.dashboard[k]));
    if (!unchanged) {
      const saved = await op.send('POST', `${base}/dashboards/db`, credentials, { dashboard: model, folderUid: folder, overwrite: true });
      if ('error' in saved) return saved.error;
      if (saved.response.status !== 200) return swaggerError('POST', '/dashboards/db', 'postDashboard', saved.response.status, saved.response.body);
    }
    const entry = `${cr.metadata.namespace}/${cr.metadata.name}/${uid}`;
    op.writeStatus('Grafana', grafana.metadata.namespace, grafana.metadata.name, (status) => {
      const prefix = `${cr.metadata.namespace}/${cr.metadata.name}/`;
      return { ...status, dashboards: [...((status.dashboards ?? []) as string[]).filter((d) => !d.startsWith(prefix)), entry] };
    });
    return undefined;
  };

  /** The dashboard goes from every matching instance (finalize). */
  const remove = async (cr: KubeObject, uid: string): Promise<void> => {
    for (const grafana of op.matchingInstances(cr)) {
      const credentials = op.credentialsOf(grafana);
      if (typeof credentials === 'string') continue;
      await op.send('DELETE', `${baseOf(grafana)}/dashboards/uid/${encodeURIComponent(uid)}`, credentials);
      op.writeStatus('Grafana', grafana.metadata.namespace, grafana.metadata.name, (status) => ({
        ...status,
        dashboards: ((status.dashboards ?? []) as string[]).filter((d) => !d.startsWith(`${cr.metadata.namespace}/${cr.metadata.name}/`)),
      }));
    }
  };

  const reconcile = async (ns: string, name: string): Promise<void> => {
    const cr = store.get('GrafanaDashboard', ns, name);
    if (!cr) return;
    const generation = Number(cr.metadata.generation ?? 1);
    const spec = specOf(cr);
    const retry = () => op.later(op.retryMs, () => reconcile(ns, name));
    if (spec.suspend === true) {
      op.writeStatus('GrafanaDashboard', ns, name, (status) => ({
        ...status,
        lastResync: now(),
        conditions: setCondition(conditionsOf(status), { type: 'Suspended', status: 'True', observedGeneration: generation, reason: 'ApplySuspended', message: 'Resource changes are ignored' }),
      }));
      return;
    }
    const instances = op.matchingInstances(cr);
    if (instances.length === 0) {
      op.writeStatus('GrafanaDashboard', ns, name, (status) => noMatchingInstance(status, generation, SYNCHRONIZED));
      op.log('error', 'instanceSelector found no matching Grafana instances', { controller: 'grafanadashboard', GrafanaDashboard: { name, namespace: ns }, error: 'no matching instances' });
      retry();
      return;
    }
    const resolved = resolve(cr);
    if ('error' in resolved) {
      op.writeStatus('GrafanaDashboard', ns, name, (status) => ({
        ...status,
        NoMatchingInstances: undefined,
        lastResync: now(),
        conditions: removeCondition(
          setCondition(removeCondition(removeCondition(conditionsOf(status), NO_MATCHING_INSTANCE), 'Suspended'), {
            type: INVALID_SPEC,
            status: 'True',
            observedGeneration: generation,
            reason: 'InvalidModelResolution',
            message: resolved.error,
          }),
          SYNCHRONIZED,
        ),
      }));
      op.log('error', 'error resolving dashboard contents', { controller: 'grafanadashboard', GrafanaDashboard: { name, namespace: ns }, error: resolved.error });
      retry();
      return;
    }
    const uid = String(resolved.model.uid);
    const previous = String(statusOf(cr).uid ?? '');
    if (previous && previous !== uid) {
      op.log('info', 'dashboard uid got updated, deleting dashboards with the old uid', { controller: 'grafanadashboard', GrafanaDashboard: { name, namespace: ns } });
      await remove(cr, previous);
      op.writeStatus('GrafanaDashboard', ns, name, (status) => ({ ...status, uid: undefined }));
      op.later(Math.min(op.retryMs, 10_000), () => reconcile(ns, name));
      return;
    }
    const folderUid = String(spec.folderUID ?? '');
    if (spec.folderRef) {
      op.log('error', 'GrafanaFolder references are not simulated', { controller: 'grafanadashboard', GrafanaDashboard: { name, namespace: ns } });
      return;
    }
    const errors = new Map<string, string>();
    for (const grafana of instances) {
      const error = await apply(grafana, cr, resolved.model, folderUid);
      if (error) errors.set(`${grafana.metadata.namespace}/${grafana.metadata.name}`, error);
    }
    const synced = synchronizedCondition('Dashboard', SYNCHRONIZED, generation, errors, instances.length);
    op.writeStatus(
      'GrafanaDashboard',
      ns,
      name,
      (status) => {
        const conditions = setCondition(removeCondition(removeCondition(removeCondition(conditionsOf(status), NO_MATCHING_INSTANCE), INVALID_SPEC), 'Suspended'), synced);
        const next: Json = { ...status, conditions, lastResync: now(), NoMatchingInstances: undefined };
        if (errors.size === 0) Object.assign(next, { hash: resolved.hash, uid });
        return next;
      },
      withFinalizer,
    );
    if (errors.size > 0) {
      op.log('error', 'failed to apply to all instances', { controller: 'grafanadashboard', GrafanaDashboard: { name, namespace: ns }, error: synced.message });
      retry();
      return;
    }
    op.later(parseDuration(String(spec.resyncPeriod ?? '')) ?? op.resyncMs, () => reconcile(ns, name));
  };

  return {
    reconcile,
    finalize: async (cr) => {
      const uid = String(specOf(cr).uid || statusOf(cr).uid || cr.metadata.uid || '');
      if (uid) await remove(cr, uid);
    },
  };
}
