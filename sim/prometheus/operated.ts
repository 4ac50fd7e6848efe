/**
 * Runs the real Prometheus of one pod of a prometheus-operator StatefulSet: the configuration is
 * the operator's Secret the pod mounts as volume `config` (`prometheus.yaml.gz`, gunzipped, its
 * `$(POD_NAME)`/`$(SHARD)` expanded from the config-reloader container's environment, as the
 * config-reloader writes prometheus.env.yaml), Kubernetes discovery goes to the API server with
 * the pod's ServiceAccount token, Prometheus listens on the pod IP and the `prometheus`
 * container's port, and its log feeds the pod's `prometheus` container log. When the Secret
 * changes (a ServiceMonitor added, relabelled, …), the configuration is reloaded with
 * `POST /-/reload`, as the config-reloader sidecar does (without the kubelet's volume delay).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { KubeApiServer, KubeObject, StoreEvent } from '../kube/index.js';
import { startPrometheus, type KubernetesSdMode, type PrometheusServer } from './launcher.js';

type Obj = Record<string, any>;

export interface OperatedPrometheusOptions {
  /** The simulated API server (its store holds the pod and the Secret). */
  api: KubeApiServer;
  namespace: string;
  /** A Running pod of a Prometheus StatefulSet (`prometheus-<name>-<i>`). */
  pod: string;
  /** Overrides the global and per-job scrape_interval (e.g. `1s`); default: the operator's. */
  scrapeInterval?: string;
  binary?: string;
  kubernetesSd?: KubernetesSdMode;
  readyTimeoutMs?: number;
  /** Receives every Prometheus log line (they also go to the pod's `prometheus` container log). */
  onLog?: (line: string) => void;
}

export interface OperatedPrometheus {
  /** `http://<pod IP>:<port>` */
  readonly url: string;
  readonly namespace: string;
  readonly pod: string;
  readonly server: PrometheusServer;
  /** The configuration last loaded (as Prometheus runs it, discovery bridged). */
  configYaml(): string;
  /** How many times the configuration was reloaded after a Secret change. */
  reloads(): number;
  /** Resolves once the Secret's current configuration is the one loaded (a pending reload done). */
  synced(): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

/** Pods of Prometheus StatefulSets made by the operator that run (phase Running, with an IP). */
export function operatedPrometheusPods(api: KubeApiServer, namespace?: string): KubeObject[] {
  return api.store.list('Pod', namespace, 'app.kubernetes.io/managed-by=prometheus-operator,app.kubernetes.io/name=prometheus').filter((pod) => {
    const status = pod.status as Obj | undefined;
    const owner = ((pod.metadata.ownerReferences ?? []) as Obj[]).find((r) => r.controller);
    return owner?.kind === 'StatefulSet' && status?.phase === 'Running' && Boolean(status.podIP);
  });
}

function containerOf(pod: KubeObject, name: string): Obj | undefined {
  return ((pod.spec as Obj).containers as Obj[] | undefined)?.find((c) => c.name === name);
}

/** The config-reloader's environment (POD_NAME, SHARD, NODE_NAME…) as the kubelet resolves it. */
function reloaderEnv(pod: KubeObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of (containerOf(pod, 'config-reloader')?.env ?? []) as Obj[]) {
    const path = e.valueFrom?.fieldRef?.fieldPath as string | undefined;
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (path === 'metadata.name') env[e.name] = pod.metadata.name;
    else if (path === 'metadata.namespace') env[e.name] = pod.metadata.namespace ?? '';
    else if (path === 'spec.nodeName') env[e.name] = String((pod.spec as Obj).nodeName ?? '');
  }
  return env;
}

/** The config-reloader's envsubst: `$(VAR)` → the variable's value (unknown ones are left). */
export function expandEnv(text: string, env: Record<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

/** The Prometheus flags of the pod's `prometheus` container that hold for a process on the host. */
const KEPT_FLAGS = /^--(web\.enable-lifecycle|web\.enable-admin-api|web\.route-prefix=|web\.external-url=|web\.page-title=|storage\.tsdb\.retention\.(time|size)=|query\.[a-z-]+=)/;

export async function startOperatedPrometheus(opts: OperatedPrometheusOptions): Promise<OperatedPrometheus> {
  const { api, namespace } = opts;
  const pod = api.store.get('Pod', namespace, opts.pod);
  if (!pod) throw new Error(`pod ${namespace}/${opts.pod} not found`);
  const podIP = (pod.status as Obj | undefined)?.podIP as string | undefined;
  if (!podIP) throw new Error(`pod ${namespace}/${opts.pod} has no IP`);
  const container = containerOf(pod, 'prometheus');
  if (!container) throw new Error(`pod ${namespace}/${opts.pod} has no prometheus container`);
  const port = Number(((container.ports ?? []) as Obj[])[0]?.containerPort ?? 9090);
  const volume = (((pod.spec as Obj).volumes ?? []) as Obj[]).find((v) => v.name === 'config');
  const secretName = volume?.secret?.secretName as string | undefined;
  if (!secretName) throw new Error(`pod ${namespace}/${opts.pod} mounts no config Secret`);
  const env = reloaderEnv(pod);

  /** The configuration the config-reloader would write from the Secret's current content. */
  const currentConfig = (): string => {
    const data = api.store.get('Secret', namespace, secretName)?.data as Record<string, string> | undefined;
    const gz = data?.['prometheus.yaml.gz'];
    return gz === undefined ? '' : expandEnv(gunzipSync(Buffer.from(gz, 'base64')).toString('utf8'), env);
  };

  const dir = mkdtempSync(join(tmpdir(), 'operated-prometheus-'));
  const sa = String((pod.spec as Obj).serviceAccountName ?? 'default');
  writeFileSync(join(dir, 'ca.crt'), api.caPem);
  writeFileSync(join(dir, 'token'), api.serviceAccountToken(namespace, sa), { mode: 0o600 });
  let loaded = currentConfig();
  let server: PrometheusServer;
  try {
    server = await startPrometheus({
      configYaml: loaded,
      host: podIP,
      port,
      apiServerUrl: api.url,
      caFile: join(dir, 'ca.crt'),
      tokenFile: join(dir, 'token'),
      scrapeInterval: opts.scrapeInterval,
      namespace,
      binary: opts.binary,
      kubernetesSd: opts.kubernetesSd ?? 'auto',
      readyTimeoutMs: opts.readyTimeoutMs,
      extraArgs: ((container.args ?? []) as string[]).filter((a) => KEPT_FLAGS.test(a)),
      onLog: (line) => {
        api.store.appendLog(namespace, opts.pod, 'prometheus', line);
        opts.onLog?.(line);
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let reloads = 0;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const reloadIfChanged = (): Promise<void> => {
    chain = chain.then(async () => {
      if (stopped) return;
      const next = currentConfig();
      if (next === loaded) return;
      loaded = next;
      reloads++;
      // A rejected configuration is logged by Prometheus itself ("Error reloading config").
      await server.reload(next).catch(() => undefined);
    });
    return chain;
  };
  const unsubscribe = api.store.watch((event: StoreEvent) => {
    const o = event.object;
    if (o.kind !== 'Secret' || o.metadata.namespace !== namespace || o.metadata.name !== secretName) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reloadIfChanged(), 50);
  });

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    namespace,
    pod: opts.pod,
    server,
    configYaml: () => server.configYaml,
    reloads: () => reloads,
    synced: () => {
      clearTimeout(timer);
      return reloadIfChanged();
    },
    logs: () => server.logs(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unsubscribe();
        clearTimeout(timer);
        await chain.catch(() => undefined);
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
