/**
 * A small grafana-operator v5 (grafana/grafana-operator, controllers/datasource_controller.go,
 * controllers/controller_shared.go, controllers/reconcilers/grafana/complete_reconciler.go)
 * working on the store's generic objects:
 *
 * - `Grafana` (grafana.integreatly.org/v1beta1) with `spec.external.url` and admin credentials
 *   (`adminUser`/`adminPassword` or `apiKey` Secret key refs): the operator checks
 *   `GET /api/login/ping` and `GET /api/frontend/settings` and writes `status.stage: complete`,
 *   `stageStatus: success|failed`, `adminUrl`, `version` and the GrafanaReady condition.
 * - `GrafanaDatasource`: matched against ready `Grafana` objects by `spec.instanceSelector`
 *   (matchLabels and matchExpressions) in its namespace (cluster-wide with
 *   `allowCrossNamespaceImport`); the datasource (`spec.datasource`, uid from `spec.uid`,
 *   `spec.datasource.uid` or metadata.uid, `valuesFrom` substitutions) is created with
 *   `POST /api/datasources` or updated with `PUT /api/datasources/uid/:uid` when its hash changed;
 *   the status gets the DatasourceSynchronized condition (ApplySuccessful / ApplyFailed, with the
 *   operator's messages), or NoMatchingInstance, plus hash, uid and lastResync. Deleting the
 *   object deletes the datasource (the finalizer's work).
 *
 * - `GrafanaDashboard`: operator-dashboards.ts (the model from json, gzipJson or a ConfigMap key,
 *   its folder, POST /api/dashboards/db, the DashboardSynchronized condition).
 *
 * Simplified: only external Grafana instances (the operator deploying Grafana itself is not
 * simulated); reconciles run one at a time; failed reconciles are retried after a fixed delay
 * instead of the exponential rate limiter; no plugins, no TLS options, no custom headers.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore, StoreEvent } from '../kube/store.js';
import type { KubeObject } from '../kube/view.js';
import { PodHttpClient, type PodHttpResult } from './pod-http.js';
import { dashboardController } from './operator-dashboards.js';
import { conditionsOf, FINALIZER, noMatchingInstance, NO_MATCHING_INSTANCE, synchronizedCondition, withFinalizer, parseDuration, removeCondition, selects, setCondition, specOf, statusOf, swaggerError, now, type Condition, type Credentials, type Json, type LabelSelector, type SecretKeyRef } from './operator-shared.js';

/** The API group of Grafana and GrafanaDatasource objects (v1beta1). */
const GROUP = 'grafana.integreatly.org/';
const SYNCHRONIZED = 'DatasourceSynchronized';

export interface GrafanaOperatorOptions {
  readonly store: ObjectStore;
  /** The operator pod's namespace: Service names in URLs resolve from there. Default `grafana-operator`. */
  readonly namespace?: string;
  /** Re-sync period of synchronized datasources (spec.resyncPeriod wins). Default 10 minutes. */
  readonly resyncMs?: number;
  /** Delay before retrying a failed reconcile. Default 10 s (RequeueDelay). */
  readonly retryMs?: number;
  /** Receives the operator's log lines (controller-runtime JSON). */
  readonly log?: (line: string) => void;
}

export interface GrafanaOperator {
  /** Resolves once every queued reconcile has run. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export function startGrafanaOperator(options: GrafanaOperatorOptions): GrafanaOperator {
  const store = options.store;
  const namespace = options.namespace ?? 'grafana-operator';
  const resyncMs = options.resyncMs ?? 600_000;
  const retryMs = options.retryMs ?? 10_000;
  const http = new PodHttpClient(store, namespace, 'grafana-operator/v5.24.0');
  const log = (level: 'info' | 'error', msg: string, fields: Json = {}) =>
    options.log?.(JSON.stringify({ level, ts: now(), msg, ...fields }));

  const queue: (() => Promise<void>)[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let running: Promise<void> | undefined;
  let stopped = false;
  let idle: (() => void)[] = [];

  const pump = (): void => {
    if (running || stopped) return;
    const job = queue.shift();
    if (!job) {
      for (const resolve of idle.splice(0)) resolve();
      return;
    }
    running = job()
      .catch((error: unknown) => log('error', 'Reconciler error', { error: String(error) }))
      .finally(() => {
        running = undefined;
        pump();
      });
  };
  const enqueue = (job: () => Promise<void>): void => {
    if (stopped) return;
    queue.push(job);
    pump();
  };
  const later = (ms: number, job: () => Promise<void>): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      enqueue(job);
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  const secretValue = (ns: string, ref: SecretKeyRef | undefined): string | undefined => {
    const data = store.get('Secret', ns, ref?.name ?? '')?.data as Record<string, string> | undefined;
    const value = data?.[ref?.key ?? ''];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
  const credentialsOf = (grafana: KubeObject): Credentials | string => {
    const external = (specOf(grafana).external ?? {}) as { apiKey?: SecretKeyRef; adminUser?: SecretKeyRef; adminPassword?: SecretKeyRef };
    const ns = grafana.metadata.namespace ?? 'default';
    if (external.apiKey) {
      const key = secretValue(ns, external.apiKey);
      return key === undefined ? `secrets "${external.apiKey.name}" not found` : { apiKey: key };
    }
    const user = secretValue(ns, external.adminUser);
    const password = secretValue(ns, external.adminPassword);
    if (user === undefined) return `secrets "${external.adminUser?.name ?? ''}" not found`;
    if (password === undefined) return `secrets "${external.adminPassword?.name ?? ''}" not found`;
    return { basic: { user, password } };
  };
  const headersOf = (credentials: Credentials): Record<string, string> =>
    credentials.apiKey !== undefined
      ? { authorization: `Bearer ${credentials.apiKey}` }
      : { authorization: `Basic ${Buffer.from(`${credentials.basic!.user}:${credentials.basic!.password}`).toString('base64')}` };

  const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, credentials: Credentials, body?: unknown): Promise<PodHttpResult> =>
    http.send({
      method,
      url,
      headers: { ...headersOf(credentials), accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: 10_000,
    });

  /** Writes a new status over the latest version of the object. */
  const writeStatus = (kind: string, ns: string | undefined, name: string, update: (status: Json, obj: KubeObject) => Json, meta?: (obj: KubeObject) => KubeObject['metadata']): void => {
    const latest = store.get(kind, ns, name);
    if (!latest) return;
    store.apply({ ...latest, metadata: meta ? meta(latest) : latest.metadata, status: update(structuredClone(statusOf(latest)), latest) });
  };

  // ---- Grafana (external instances: the complete stage) ------------------------------------

  const reconcileGrafana = async (ns: string, name: string): Promise<void> => {
    const grafana = store.get('Grafana', ns, name);
    const url = (specOf(grafana ?? ({} as KubeObject)).external as { url?: string } | undefined)?.url;
    if (!grafana || !url) return;
    const adminUrl = url.replace(/\/+$/, '');
    const fail = (message: string) => {
      writeStatus('Grafana', ns, name, (status) => ({
        ...status,
        stage: 'complete',
        stageStatus: 'failed',
        adminUrl: url,
        lastMessage: message,
        conditions: removeCondition((status.conditions ?? []) as Condition[], 'GrafanaReady'),
      }));
      log('error', 'failed to reconcile stage', { controller: 'grafana', Grafana: { name, namespace: ns }, stage: 'complete', error: message });
      later(retryMs, () => reconcileGrafana(ns, name));
    };
    const credentials = credentialsOf(grafana);
    if (typeof credentials === 'string') return fail(`failed to authenticate with instance: fetching credentials for authentication: ${credentials}`);
    // ParseAdminURL joins `/api` to the admin URL: the checks are /api/login/ping and /api/frontend/settings.
    const ping = await send('GET', `${adminUrl}/api/login/ping`, credentials);
    if ('error' in ping) return fail(`failed to authenticate with instance: ${ping.error}`);
    if (ping.response.status !== 200) {
      return fail('failed to authenticate with instance: failed to authenticate with grafana, ensure connectivity and valid credentials');
    }
    const settings = await send('GET', `${adminUrl}/api/frontend/settings`, credentials);
    let version = '';
    if (!('error' in settings)) {
      try {
        version = String(((JSON.parse(settings.response.body) as { buildInfo?: { version?: string } }).buildInfo ?? {}).version ?? '');
      } catch {
        version = '';
      }
    }
    if (!version) return fail('failed fetching version from instance: empty version received from server');
    writeStatus('Grafana', ns, name, (status, obj) => ({
      ...status,
      stage: 'complete',
      stageStatus: 'success',
      adminUrl: url,
      version,
      lastMessage: undefined,
      conditions: setCondition((status.conditions ?? []) as Condition[], {
        type: 'GrafanaReady',
        status: 'True',
        observedGeneration: Number(obj.metadata.generation ?? 1),
        reason: 'GrafanaReady',
        message: 'Grafana reconcile completed',
      }),
    }));
  };

  // ---- GrafanaDatasource ---------------------------------------------------------------------

  /** GetScopedMatchingInstances: selected, in scope, and ready. */
  const matchingInstances = (cr: KubeObject): KubeObject[] => {
    const spec = specOf(cr);
    const selector = (spec.instanceSelector ?? {}) as LabelSelector;
    const scope = spec.allowCrossNamespaceImport === true ? undefined : cr.metadata.namespace;
    return store
      .list('Grafana', scope)
      .filter((g) => selects(selector, g.metadata.labels))
      .filter((g) => statusOf(g).stage === 'complete' && statusOf(g).stageStatus === 'success');
  };

  const uidOf = (cr: KubeObject): string => {
    const spec = specOf(cr);
    return String(spec.uid || (spec.datasource as Json | undefined)?.uid || cr.metadata.uid);
  };

  /** buildDatasourceModel: the datasource with orgId dropped, the uid set and valuesFrom substituted. */
  const buildModel = (cr: KubeObject): { model: Json; hash: string } | { error: string } => {
    const spec = specOf(cr);
    const model = structuredClone((spec.datasource ?? {}) as Json);
    delete model.orgId;
    model.uid = uidOf(cr);
    for (const entry of (spec.valuesFrom ?? []) as { targetPath?: string; valueFrom?: { secretKeyRef?: SecretKeyRef; configMapKeyRef?: SecretKeyRef } }[]) {
      const ns = cr.metadata.namespace ?? 'default';
      const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
      let value: string | undefined;
      if (entry.valueFrom?.secretKeyRef) value = secretValue(ns, ref);
      else value = (store.get('ConfigMap', ns, ref?.name ?? '')?.data as Record<string, string> | undefined)?.[ref?.key ?? ''];
      if (value === undefined) return { error: `getting referenced value: missing key ${ref?.key} in ${entry.valueFrom?.secretKeyRef ? 'secret' : 'configmap'} ${ref?.name}` };
      const path = (entry.targetPath ?? '').split('.').filter(Boolean);
      let node: Json = model;
      for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Json;
      const last = path.at(-1);
      const current = last === undefined ? undefined : node[last];
      if (last === undefined || typeof current !== 'string') {
        return { error: 'getting nodes to override: cannot replace non string field' };
      }
      node[last] = current.replaceAll(`\${${ref?.key}}`, value).replaceAll(`$${ref?.key}`, value);
    }
    const hash = createHash('sha256').update(JSON.stringify(model)).digest('hex');
    return { model, hash };
  };

  /** onDatasourceCreated for one instance: create, or update when the hash changed. */
  const apply = async (grafana: KubeObject, cr: KubeObject, model: Json, hash: string): Promise<string | undefined> => {
    const credentials = credentialsOf(grafana);
    if (typeof credentials === 'string') return credentials;
    const base = `${String(statusOf(grafana).adminUrl).replace(/\/+$/, '')}/api`;
    const list = await send('GET', `${base}/datasources`, credentials);
    if ('error' in list) return `fetching data sources: ${list.error}`;
    if (list.response.status !== 200) return `fetching data sources: ${swaggerError('GET', '/datasources', 'getDataSources', list.response.status, list.response.body)}`;
    const existing = (JSON.parse(list.response.body) as { uid: string; name: string }[]).find((ds) => ds.uid === model.uid || ds.name === model.name);
    if (existing && statusOf(cr).hash === hash) return undefined;
    const result = existing
      ? await send('PUT', `${base}/datasources/uid/${encodeURIComponent(existing.uid)}`, credentials, model)
      : await send('POST', `${base}/datasources`, credentials, model);
    if ('error' in result) return result.error;
    if (result.response.status !== 200) {
      return existing
        ? swaggerError('PUT', '/datasources/uid/{uid}', 'updateDataSourceByUid', result.response.status, result.response.body)
        : swaggerError('POST', '/datasources', 'addDataSource', result.response.status, result.response.body);
    }
    const entry = `${cr.metadata.namespace}/${cr.metadata.name}/${model.uid}`;
    writeStatus('Grafana', grafana.metadata.namespace, grafana.metadata.name, (status) => {
      const prefix = `${cr.metadata.namespace}/${cr.metadata.name}/`;
      const datasources = ((status.datasources ?? []) as string[]).filter((d) => !d.startsWith(prefix));
      return { ...status, datasources: [...datasources, entry] };
    });
    return undefined;
  };

  const reconcileDatasource = async (ns: string, name: string): Promise<void> => {
    const cr = store.get('GrafanaDatasource', ns, name);
    if (!cr) return;
    const generation = Number(cr.metadata.generation ?? 1);
    const spec = specOf(cr);
    if (spec.suspend === true) {
      writeStatus('GrafanaDatasource', ns, name, (status) => ({
        ...status,
        lastResync: now(),
        conditions: [{ type: 'Suspended', status: 'True', observedGeneration: generation, lastTransitionTime: now(), reason: 'ApplySuspended', message: 'Resource changes are ignored' }],
      }));
      return;
    }
    const instances = matchingInstances(cr);
    if (instances.length === 0) {
      writeStatus(
        'GrafanaDatasource',
        ns,
        name,
        (status) => noMatchingInstance(status, generation, SYNCHRONIZED),
        (obj) => ({ ...obj.metadata, finalizers: ((obj.metadata.finalizers ?? []) as string[]).filter((f) => f !== FINALIZER) }),
      );
      log('error', 'instanceSelector found no matching Grafana instances', { controller: 'grafanadatasource', GrafanaDatasource: { name, namespace: ns }, error: 'no matching instances' });
      later(retryMs, () => reconcileDatasource(ns, name));
      return;
    }
    const built = buildModel(cr);
    if ('error' in built) {
      writeStatus('GrafanaDatasource', ns, name, (status) => ({
        ...status,
        NoMatchingInstances: undefined,
        lastResync: now(),
        conditions: removeCondition(
          setCondition(removeCondition(conditionsOf(status), NO_MATCHING_INSTANCE), {
            type: 'InvalidSpec',
            status: 'True',
            observedGeneration: generation,
            reason: 'InvalidModel',
            message: built.error,
          }),
          SYNCHRONIZED,
        ),
      }));
      later(retryMs, () => reconcileDatasource(ns, name));
      return;
    }
    const errors = new Map<string, string>();
    for (const grafana of instances) {
      const error = await apply(grafana, cr, built.model, built.hash);
      if (error) errors.set(`${grafana.metadata.namespace}/${grafana.metadata.name}`, error);
    }
    const synced = synchronizedCondition('Datasource', SYNCHRONIZED, generation, errors, instances.length);
    writeStatus(
      'GrafanaDatasource',
      ns,
      name,
      (status) => {
        const conditions = setCondition(removeCondition(removeCondition(conditionsOf(status), NO_MATCHING_INSTANCE), 'InvalidSpec'), synced);
        const next: Json = { ...status, conditions, lastResync: now(), NoMatchingInstances: undefined };
        if (errors.size === 0) Object.assign(next, { hash: built.hash, uid: built.model.uid });
        return next;
      },
      withFinalizer,
    );
    if (errors.size > 0) {
      log('error', 'failed to sync CR to all Grafana instances', { controller: 'grafanadatasource', GrafanaDatasource: { name, namespace: ns }, error: synced.message });
      later(retryMs, () => reconcileDatasource(ns, name));
      return;
    }
    const period = parseDuration(String(spec.resyncPeriod ?? '')) ?? resyncMs;
    later(period, () => reconcileDatasource(ns, name));
  };

  /** finalize: the datasource goes from every matching instance. */
  const finalizeDatasource = async (cr: KubeObject): Promise<void> => {
    for (const grafana of matchingInstances(cr)) {
      const credentials = credentialsOf(grafana);
      if (typeof credentials === 'string') continue;
      const base = `${String(statusOf(grafana).adminUrl).replace(/\/+$/, '')}/api`;
      await send('DELETE', `${base}/datasources/uid/${encodeURIComponent(uidOf(cr))}`, credentials);
      writeStatus('Grafana', grafana.metadata.namespace, grafana.metadata.name, (status) => ({
        ...status,
        datasources: ((status.datasources ?? []) as string[]).filter((d) => !d.startsWith(`${cr.metadata.namespace}/${cr.metadata.name}/`)),
      }));
    }
  };

  const dashboards = dashboardController({
    store,
    resyncMs,
    retryMs,
    log: (level, msg, fields) => log(level, msg, fields),
    later,
    matchingInstances,
    credentialsOf,
    send,
    writeStatus,
  });

  const onEvent = (event: StoreEvent): void => {
    const obj = event.object;
    if (!obj.apiVersion?.startsWith(GROUP)) return;
    const ns = obj.metadata.namespace ?? 'default';
    const name = obj.metadata.name;
    // ignoreStatusUpdates: a status write leaves the generation as it was.
    const specChanged = event.type === 'ADDED' || (event.type === 'MODIFIED' && event.previous?.metadata.generation !== obj.metadata.generation);
    if (obj.kind === 'Grafana' && specChanged) enqueue(() => reconcileGrafana(ns, name));
    if (obj.kind === 'GrafanaDatasource') {
      if (event.type === 'DELETED') enqueue(() => finalizeDatasource(obj));
      else if (specChanged) enqueue(() => reconcileDatasource(ns, name));
    }
    if (obj.kind === 'GrafanaDashboard') {
      if (event.type === 'DELETED') enqueue(() => dashboards.finalize(obj));
      else if (specChanged) enqueue(() => dashboards.reconcile(ns, name));
    }
  };
  const unwatch = store.watch(onEvent);
  for (const g of store.list('Grafana')) enqueue(() => reconcileGrafana(g.metadata.namespace ?? 'default', g.metadata.name));
  for (const d of store.list('GrafanaDatasource')) enqueue(() => reconcileDatasource(d.metadata.namespace ?? 'default', d.metadata.name));
  for (const d of store.list('GrafanaDashboard')) enqueue(() => dashboards.reconcile(d.metadata.namespace ?? 'default', d.metadata.name));

  return {
    settle: () =>
      new Promise<void>((resolve) => {
        if (!running && queue.length === 0) return resolve();
        idle.push(resolve);
      }),
    async stop() {
      stopped = true;
      unwatch();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      await running;
      for (const resolve of idle.splice(0)) resolve();
      idle = [];
      await http.close();
    },
  };
}
