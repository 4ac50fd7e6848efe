/**
 * A simulated cluster, assembled: the simulated API server loaded with a stack's manifests
 * (examples/<stack>) and the action's RBAC (examples/rbac), and the workloads its Running pods
 * stand for, each listening on its pod IP — real Prometheus servers (discovering through the API
 * server with their service account's token; for the Prometheus Operator's StatefulSets, with
 * the configuration the operator generates), the exporters, and the simulated Grafana with its
 * datasource sidecars. A scenario changes the manifests, the pods or the workloads to reproduce
 * one way the metrics flow breaks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExporter, type AnyExporterKind, type ExporterKind } from './exporters/exporter.js';
import { exportersForPod } from './exporters/pods.js';
import { startGrafanaPod, type GrafanaPod } from './grafana/grafana-pod.js';
import { startGrafanaOperator } from './grafana/operator.js';
import type { GrafanaSim } from './grafana/server.js';
import { KubeApiServer, type KubeObject } from './kube/index.js';
import { parsePromDuration } from './prometheus/config.js';
import { startPrometheus, type PrometheusServer } from './prometheus/launcher.js';
import { operatedPrometheusPods, startOperatedPrometheus } from './prometheus/operated.js';
import { activeTargetsOf, podTargets, serviceMonitorTargets, startSyntheticPrometheus } from './prometheus/synthetic.js';
import type { Scenario } from './scenarios.js';
import { ACTION_ACCOUNT, STACKS, stackManifests, type StackName } from './stacks.js';

export { ACTION_ACCOUNT, ROOT } from './stacks.js';
/** TaskFlow's namespace (the default stack's). */
export const NAMESPACE = 'taskflow';

type Exporter = Awaited<ReturnType<typeof startExporter>>;
const TASKFLOW_APPS: readonly ExporterKind[] = ['backend-api', 'postgres', 'redis'];

export interface ClusterOptions {
  /** The stack to load; default the scenario's, else TaskFlow. */
  readonly stack?: StackName;
  readonly scenario?: Scenario;
  /** Every Prometheus's scrape interval (the manifests say 15s or 30s); default 1s. */
  readonly scrapeInterval?: string;
  /** Receives progress lines. */
  readonly log?: (line: string) => void;
  /** Grafana service-account tokens (`glsa_…`) Grafana accepts. */
  readonly grafanaTokens?: readonly string[];
  /** Load: a synthetic Prometheus API with this many UP targets replaces the real Prometheus (TaskFlow). */
  readonly syntheticTargets?: number;
  /** Load: this many more pods in the namespace (a Deployment `load-filler`). */
  readonly extraPods?: number;
  /**
   * Scale (a Prometheus Operator stack, e.g. kube-prometheus-stack): its Prometheus answers as one
   * with `pools` scrape pools holding `targets` active targets in all, every one UP — the stack's
   * own pools, as its real Prometheus found them, and ServiceMonitor pools of generated apps
   * (synthetic.ts), with the label sets of real endpoints targets.
   */
  readonly scale?: { readonly pools: number; readonly targets: number };
  /** The Kubernetes version the API server plays (`1.29` … `1.35`; default 1.32). */
  readonly kubeVersion?: string;
  /** The Grafana release every Grafana pod plays (`9.5.21`, `10.4.14`, `11.5.0`, `12.0.2`; default 11.5.0). */
  readonly grafanaVersion?: string;
}

export interface SimulatedCluster {
  readonly stack: StackName;
  /** The namespace the stack and the action's account live in. */
  readonly namespace: string;
  readonly api: KubeApiServer;
  /** The first Prometheus (TaskFlow's; the first replica of an operator's). */
  readonly prometheus: PrometheusServer | undefined;
  readonly prometheuses: readonly PrometheusServer[];
  /** The first Grafana. */
  readonly grafana: GrafanaSim | undefined;
  readonly grafanas: readonly GrafanaPod[];
  /** Exporters by pod name (TaskFlow's apps) or `pod/container/port`. */
  readonly exporters: ReadonlyMap<string, Exporter>;
  /** Kubeconfig of the action's ServiceAccount (<namespace>/metrics-flow-check). */
  readonly kubeconfig: string;
  /** Its bearer token (a secret: tests assert it is never printed). */
  readonly token: string;
  /** The action's identity, as the API server names it. */
  readonly actionUser: string;
  /** Grafana's admin password: from the stack's admin Secret, else Grafana's built-in `admin`. */
  readonly grafanaPassword: string;
  /** A kubeconfig for the same account with a client certificate instead of a token, and its key. */
  clientCertKubeconfig(): Promise<{ kubeconfig: string; keyPem: string }>;
  /** Starts the app exporters that a scenario held back (a stack deployed just now). */
  startApps(): Promise<void>;
  /** Waits until every Prometheus has scraped each of its active targets once (bounded). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The TaskFlow manifests and the action's RBAC, as parsed objects. */
export function taskflowManifests(): KubeObject[] {
  return stackManifests('taskflow');
}

interface PodLike {
  metadata: KubeObject['metadata'];
  spec?: { serviceAccountName?: string; containers?: { name: string; image?: string; args?: string[] }[] };
  status?: { phase?: string; podIP?: string; containerStatuses?: { name: string; state?: { running?: unknown } }[] };
}

function runningPods(api: KubeApiServer, selector = '', namespace?: string): PodLike[] {
  return (api.store.list('Pod', namespace, selector) as PodLike[]).filter(
    (p) => p.status?.phase === 'Running' && Boolean(p.status.podIP) && (p.status.containerStatuses ?? []).every((c) => c.state?.running),
  );
}

const podIP = (pod: PodLike): string => pod.status?.podIP as string;

const isGrafana = (pod: PodLike) => pod.metadata.labels?.['app.kubernetes.io/name'] === 'grafana' || pod.metadata.labels?.app === 'grafana';
const isOperated = (pod: PodLike) => pod.metadata.labels?.['app.kubernetes.io/managed-by'] === 'prometheus-operator';

/** The Prometheus container of a pod not run by the operator (TaskFlow's Deployment, the prometheus chart's server). */
function prometheusContainer(pod: PodLike): { name: string; args?: string[] } | undefined {
  if (isOperated(pod)) return undefined;
  return pod.spec?.containers?.find((c) => /(^|\/)prometheus:/.test(c.image ?? '') || c.name === 'prometheus' || c.name === 'prometheus-server');
}

export async function startCluster(options: ClusterOptions = {}): Promise<SimulatedCluster> {
  const scenario = options.scenario;
  const stack = options.stack ?? scenario?.stack ?? 'taskflow';
  const layout = STACKS[stack];
  const ns = layout.namespace;
  const log = options.log ?? (() => undefined);
  const manifests = stackManifests(stack);
  const objects = scenario?.manifests ? scenario.manifests(manifests) : manifests;
  if (options.extraPods) objects.push(fillerDeployment(options.extraPods, ns));
  const api = new KubeApiServer({ version: options.kubeVersion });
  for (const obj of objects) api.store.apply(obj);
  await api.start();
  log(`API server ${api.url} (${stack}, pods on ${api.store.ipBase}.x)`);
  scenario?.pods?.(api);

  const dir = mkdtempSync(join(tmpdir(), 'mfc-cluster-'));
  writeFileSync(join(dir, 'ca.crt'), api.caPem);
  const stoppers: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true }), () => api.stop()];
  const exporters = new Map<string, Exporter>();
  const prometheuses: PrometheusServer[] = [];
  const grafanas: GrafanaPod[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => undefined);
  };
  const track = (key: string, exporter: Exporter) => {
    exporters.set(key, exporter);
    stoppers.push(() => exporter.stop());
  };

  try {
    // TaskFlow's apps, in its stack or monitored by another stack's Prometheus.
    const startApps = async (): Promise<void> => {
      for (const app of TASKFLOW_APPS) {
        for (const pod of runningPods(api, `app=${app}`)) {
          if (exporters.has(pod.metadata.name)) continue;
          const port = Number(pod.metadata.annotations?.['prometheus.io/port']);
          const exporter = await startExporter({ kind: app, host: podIP(pod), port });
          track(pod.metadata.name, exporter);
          log(`${app} exporter on ${exporter.address}`);
        }
      }
    };
    if (!scenario?.holdApps) await startApps();

    // The stacks' exporters (node-exporter, kube-state-metrics, the operator, config reloaders).
    for (const pod of runningPods(api)) {
      for (const e of exportersForPod(pod as unknown as KubeObject)) {
        const exporter = await startExporter({ kind: e.kind as AnyExporterKind, host: podIP(pod), port: e.port, context: { view: api.store, args: e.args, nodeName: e.nodeName, version: e.version } });
        track(`${pod.metadata.name}/${e.container}/${e.port}`, exporter);
        log(`${e.kind} exporter on ${exporter.address} (pod ${pod.metadata.namespace}/${pod.metadata.name})`);
      }
    }

    const scrapeInterval = options.scrapeInterval ?? '1s';
    for (const pod of runningPods(api)) {
      const container = prometheusContainer(pod);
      if (!container) continue;
      const podNs = pod.metadata.namespace ?? ns;
      if (options.syntheticTargets) {
        const job = 'kubernetes-pods';
        const configYaml = `global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: ${job}\n  kubernetes_sd_configs:\n  - role: pod\n    namespaces:\n      names: [${podNs}]\n`;
        const targets = podTargets({ count: options.syntheticTargets, job, namespace: podNs, apps: TASKFLOW_APPS });
        const synthetic = await startSyntheticPrometheus({ host: podIP(pod), port: 9090, targets, configYaml });
        stoppers.push(() => synthetic.stop());
        log(`synthetic Prometheus ${synthetic.url} (${options.syntheticTargets} targets)`);
        continue;
      }
      const configPath = (container.args ?? []).find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length) ?? '/etc/prometheus/prometheus.yml';
      const configYaml = api.store.containerFiles(podNs, pod.metadata.name, container.name).get(configPath);
      if (!configYaml) {
        log(`pod ${podNs}/${pod.metadata.name}: no ${configPath}, Prometheus not started`);
        continue;
      }
      const sa = pod.spec?.serviceAccountName ?? 'default';
      const tokenFile = join(dir, `token-${podNs}-${sa}`);
      writeFileSync(tokenFile, api.serviceAccountToken(podNs, sa), { mode: 0o600 });
      const server = await startPrometheus({
        // Inside the pod, localhost is the pod's own address (the chart's self-scrape job).
        configYaml: configYaml.replaceAll('localhost:9090', `${podIP(pod)}:9090`),
        host: podIP(pod),
        port: 9090,
        apiServerUrl: api.url,
        caFile: join(dir, 'ca.crt'),
        tokenFile,
        scrapeInterval,
        namespace: podNs,
        kubernetesSd: 'auto',
        onLog: (line) => api.store.appendLog(podNs, pod.metadata.name, container.name, line),
      });
      prometheuses.push(server);
      stoppers.push(() => server.stop());
      log(`Prometheus ${server.url} (pod ${podNs}/${pod.metadata.name}, service account ${sa}, discovery: ${server.kubernetesSd})`);
    }
    for (const pod of operatedPrometheusPods(api)) {
      const podNs = pod.metadata.namespace ?? ns;
      const operated = await startOperatedPrometheus({ api, namespace: podNs, pod: pod.metadata.name, scrapeInterval });
      if (options.scale) {
        // The stack's own pools as its real Prometheus discovered them (UP: Grafana, started below,
        // is not yet listening), then the rest generated, on its address.
        await settle([operated.server], 20_000, () => 0);
        const own = (await activeTargetsOf(operated.url)).map((t) => ({ ...t, health: 'up', lastError: '' }));
        const configYaml = ((await (await fetch(`${operated.url}/api/v1/status/config`)).json()) as { data: { yaml: string } }).data.yaml;
        await operated.stop();
        const pools = Math.max(0, options.scale.pools - new Set(own.map((t) => t.scrapePool)).size);
        const more = serviceMonitorTargets({ pools, count: Math.max(0, options.scale.targets - own.length), namespace: podNs, release: 'shop' });
        const host = new URL(operated.url).hostname;
        const synthetic = await startSyntheticPrometheus({ host, port: 9090, targets: [...own, ...more.targets], configYaml: configYaml.replace(/^scrape_configs:\n/m, (line) => line + more.scrapeConfigs) });
        stoppers.push(() => synthetic.stop());
        log(`synthetic Prometheus ${synthetic.url} (${own.length + more.targets.length} targets in ${options.scale.pools} pools, pod ${podNs}/${pod.metadata.name})`);
        continue;
      }
      prometheuses.push(operated.server);
      stoppers.push(() => operated.stop());
      log(`Prometheus ${operated.url} (operator pod ${podNs}/${pod.metadata.name})`);
    }

    for (const pod of runningPods(api).filter(isGrafana)) {
      const podNs = pod.metadata.namespace ?? ns;
      const started = await startGrafanaPod({ api, namespace: podNs, pod: pod.metadata.name, grafana: { serviceAccountTokens: options.grafanaTokens ?? [], ...((options.grafanaVersion ?? scenario?.grafanaVersion) ? { version: options.grafanaVersion ?? scenario?.grafanaVersion } : {}) } });
      grafanas.push(started);
      stoppers.push(() => started.stop());
      log(`Grafana ${started.grafana.url} (pod ${podNs}/${pod.metadata.name}, ${started.sidecars.length} sidecar${started.sidecars.length === 1 ? '' : 's'}, ${started.grafana.datasources.length} datasource${started.grafana.datasources.length === 1 ? '' : 's'})`);
    }
    // grafana-operator, when the cluster has its objects: it writes them into the Grafanas above.
    if (api.store.list('Grafana').some((g) => g.apiVersion?.startsWith('grafana.integreatly.org/'))) {
      const operator = startGrafanaOperator({ store: api.store });
      stoppers.push(() => operator.stop());
      await operator.settle();
      log(`grafana-operator (${api.store.list('GrafanaDashboard').length} GrafanaDashboard, ${api.store.list('GrafanaDatasource').length} GrafanaDatasource objects)`);
    }
    await scenario?.workloads?.({ exporters, prometheus: prometheuses[0], grafana: grafanas[0]?.grafana, api, grafanas });

    const token = api.serviceAccountToken(ns, ACTION_ACCOUNT);
    const secret = layout.adminSecret ? (api.store.get('Secret', ns, layout.adminSecret.name)?.data as Record<string, string> | undefined) : undefined;
    const grafanaPassword = layout.adminSecret ? Buffer.from(secret?.[layout.adminSecret.key] ?? '', 'base64').toString('utf8') : 'admin';
    const actionUser = `system:serviceaccount:${ns}:${ACTION_ACCOUNT}`;
    const context = `${stack}-sim`;
    return {
      stack,
      namespace: ns,
      api,
      prometheus: prometheuses[0],
      prometheuses,
      grafana: grafanas[0]?.grafana,
      grafanas,
      exporters,
      kubeconfig: api.kubeconfig({ token, context, namespace: ns }),
      token,
      actionUser,
      grafanaPassword,
      clientCertKubeconfig: async () => {
        const clientCert = await api.issueClientCert(actionUser, ['system:serviceaccounts', `system:serviceaccounts:${ns}`]);
        return { kubeconfig: api.kubeconfig({ clientCert, context, namespace: ns }), keyPem: clientCert.keyPem };
      },
      startApps,
      settle: (timeoutMs = 20_000) => settle(prometheuses, timeoutMs, () => panelStepMs(grafanas)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A Deployment of `replicas` idle pods, to load the namespace. */
function fillerDeployment(replicas: number, namespace: string): KubeObject {
  const labels = { app: 'load-filler' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'load-filler', namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'idle', image: 'busybox:1.36', ports: [{ containerPort: 8080 }] }] } } },
  };
}

/** Scrapes each target must have had (every second) before a run. */
const HISTORY_SCRAPES = 7;

/**
 * The step of a dashboard panel over a range of an hour or less, as Grafana computes it: its
 * interval is never below the datasource's scrape interval (`jsonData.timeInterval`, 15 s unless
 * set: Grafana's Prometheus datasource) — the largest among the stack's Prometheus datasources.
 */
function panelStepMs(grafanas: readonly GrafanaPod[]): number {
  let step = 15_000;
  for (const pod of grafanas) {
    for (const ds of pod.grafana.datasources) {
      if (ds.type !== 'prometheus') continue;
      try {
        const interval = typeof ds.jsonData.timeInterval === 'string' && ds.jsonData.timeInterval ? parsePromDuration(ds.jsonData.timeInterval) : 0;
        if (interval > step) step = interval;
      } catch {
        // Grafana takes no interval it cannot read: the floor stays.
      }
    }
  }
  return step;
}

/**
 * Polls each Prometheus until its active targets stopped changing and each was scraped once,
 * then until every target has a few scrapes of history, then until a panel's last step has data:
 * Grafana charts a panel at the steps of its range, the range's end rounded down to a step
 * (promlib AlignTimeRange), so a stack whose first samples are newer than the last step boundary
 * has series but empty panels, as a real one has in its first scrape intervals. Bounded by
 * `timeoutMs`, the wait for a step by one step more (none when `panelStep` gives 0).
 */
async function settle(prometheuses: readonly PrometheusServer[], timeoutMs: number, panelStep: () => number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    prometheuses.map(async (prometheus) => {
      let previous = -1;
      while (Date.now() < deadline) {
        try {
          const res = await fetch(`${prometheus.url}/api/v1/targets?state=active`);
          const body = (await res.json()) as { data?: { activeTargets?: { lastScrape?: string }[] } };
          const targets = body.data?.activeTargets ?? [];
          const scraped = targets.length > 0 && targets.every((t) => t.lastScrape && !t.lastScrape.startsWith('0001'));
          if (scraped && targets.length === previous) break;
          previous = scraped ? targets.length : -1;
        } catch {
          // Prometheus is still starting.
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      while (Date.now() < deadline) {
        try {
          const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('min(count_over_time(up[1m]))')}`);
          const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
          const fewest = Number(body.data?.result?.[0]?.value?.[1] ?? 0);
          // No `up` at all (a Prometheus answering from elsewhere): nothing to wait for.
          if (!body.data?.result?.length) return;
          if (fewest >= HISTORY_SCRAPES) break;
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      // The earliest sample of `up`, then the first step boundary at least 2 s after it (a rate
      // needs two samples by then).
      // Read now: a datasource sidecar may have provisioned Grafana's datasources since the start.
      const stepMs = panelStep();
      if (stepMs <= 0) return;
      try {
        const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('min(min_over_time(timestamp(up)[10m:1s]))')}`);
        const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
        const first = Number(body.data?.result?.[0]?.value?.[1]) * 1000;
        if (!Number.isFinite(first)) return;
        const boundary = Math.ceil((first + 2000) / stepMs) * stepMs;
        const waitMs = Math.min(boundary - Date.now() + 100, stepMs + 3000);
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      } catch {
        // Prometheus went away: nothing to wait for.
      }
    }),
  );
}
