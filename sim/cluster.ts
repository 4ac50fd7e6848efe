/**
 * A simulated TaskFlow cluster, assembled: the simulated API server loaded with the TaskFlow
 * manifests (examples/taskflow) and the action's RBAC (examples/rbac), and the workloads its
 * Running pods stand for, each listening on its pod IP — a real Prometheus (discovering the pods
 * through the API server with its service account's token), the exporters of backend-api,
 * postgres and redis, and the simulated Grafana. A scenario changes the manifests, the pods or
 * the workloads to reproduce one way the metrics flow breaks.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startExporter, type ExporterKind } from './exporters/exporter.js';
import { adminCredentialsFromPod, GrafanaSim } from './grafana/server.js';
import { KubeApiServer, type KubeObject } from './kube/index.js';
import { startPrometheus, type PrometheusServer } from './prometheus/launcher.js';
import { startSyntheticPrometheus } from './prometheus/synthetic.js';
import type { Scenario } from './scenarios.js';

/** The project's root (this file runs from sim/ in tests and from lib/sim/ once compiled). */
export const ROOT = projectRoot(import.meta.dirname);
export const NAMESPACE = 'taskflow';
/** The action's identity in the simulated cluster (examples/rbac). */
export const ACTION_ACCOUNT = 'metrics-flow-check';

type Exporter = Awaited<ReturnType<typeof startExporter>>;
const APPS: readonly ExporterKind[] = ['backend-api', 'postgres', 'redis'];

export interface ClusterOptions {
  readonly scenario?: Scenario;
  /** Prometheus's scrape interval (the manifests say 15s); default 1s. */
  readonly scrapeInterval?: string;
  /** Receives progress lines. */
  readonly log?: (line: string) => void;
  /** Grafana service-account tokens (`glsa_…`) Grafana accepts. */
  readonly grafanaTokens?: readonly string[];
  /** Load: a synthetic Prometheus API with this many UP targets replaces the real Prometheus. */
  readonly syntheticTargets?: number;
  /** Load: this many more pods in the namespace (a Deployment `load-filler`). */
  readonly extraPods?: number;
}

export interface SimulatedCluster {
  readonly api: KubeApiServer;
  readonly prometheus: PrometheusServer | undefined;
  readonly grafana: GrafanaSim | undefined;
  readonly exporters: ReadonlyMap<string, Exporter>;
  /** Kubeconfig of the action's ServiceAccount (taskflow/metrics-flow-check). */
  readonly kubeconfig: string;
  /** Its bearer token (a secret: tests assert it is never printed). */
  readonly token: string;
  /** Grafana's admin password, from the grafana-admin Secret. */
  readonly grafanaPassword: string;
  /** A kubeconfig for the same account with a client certificate instead of a token, and its key. */
  clientCertKubeconfig(): Promise<{ kubeconfig: string; keyPem: string }>;
  /** Starts the app exporters that a scenario held back (a stack deployed just now). */
  startApps(): Promise<void>;
  /** Waits until Prometheus has scraped every discovered target once (bounded). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The TaskFlow manifests and the action's RBAC, as parsed objects. */
export function taskflowManifests(): KubeObject[] {
  const files = [
    ...readdirSync(join(ROOT, 'examples/taskflow')).map((f) => join(ROOT, 'examples/taskflow', f)),
    ...readdirSync(join(ROOT, 'examples/rbac')).map((f) => join(ROOT, 'examples/rbac', f)),
  ].filter((f) => /\.ya?ml$/.test(f));
  return files
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as KubeObject | null))
    .filter((o): o is KubeObject => Boolean(o?.kind));
}

export async function startCluster(options: ClusterOptions = {}): Promise<SimulatedCluster> {
  const scenario = options.scenario;
  const log = options.log ?? (() => undefined);
  const objects = scenario?.manifests ? scenario.manifests(taskflowManifests()) : taskflowManifests();
  if (options.extraPods) objects.push(fillerDeployment(options.extraPods));
  const api = new KubeApiServer();
  for (const obj of objects) api.store.apply(obj);
  await api.start();
  log(`API server ${api.url} (pods on ${api.store.ipBase}.x)`);
  scenario?.pods?.(api);

  const dir = mkdtempSync(join(tmpdir(), 'mfc-cluster-'));
  const stoppers: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true }), () => api.stop()];
  const exporters = new Map<string, Exporter>();
  let prometheus: PrometheusServer | undefined;
  let grafana: GrafanaSim | undefined;
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => undefined);
  };

  try {
    const running = (selector: string): KubeObject[] =>
      api.store.list('Pod', NAMESPACE, selector).filter((p) => {
        const status = p.status as { phase?: string; podIP?: string; containerStatuses?: { state?: { running?: unknown } }[] } | undefined;
        return status?.phase === 'Running' && Boolean(status.podIP) && (status.containerStatuses ?? []).every((c) => c.state?.running);
      });
    const podIP = (pod: KubeObject): string => (pod.status as { podIP: string }).podIP;

    const startApps = async (): Promise<void> => {
      for (const app of APPS) {
        for (const pod of running(`app=${app}`)) {
          if (exporters.has(pod.metadata.name)) continue;
          const port = Number(pod.metadata.annotations?.['prometheus.io/port']);
          const exporter = await startExporter({ kind: app, host: podIP(pod), port });
          exporters.set(pod.metadata.name, exporter);
          stoppers.push(() => exporter.stop());
          log(`${app} exporter on ${exporter.address}`);
        }
      }
    };
    if (!scenario?.holdApps) await startApps();

    const promPod = running('app=prometheus')[0];
    const promConfig = api.store.get('ConfigMap', NAMESPACE, 'prometheus-config')?.data as Record<string, string> | undefined;
    if (promPod && options.syntheticTargets) {
      const synthetic = await startSyntheticPrometheus({ host: podIP(promPod), port: 9090, targets: options.syntheticTargets, job: 'kubernetes-pods', namespace: NAMESPACE, apps: APPS });
      stoppers.push(() => synthetic.stop());
      log(`synthetic Prometheus ${synthetic.url} (${options.syntheticTargets} targets)`);
    } else if (promPod && promConfig?.['prometheus.yml']) {
      const sa = String((promPod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default');
      writeFileSync(join(dir, 'ca.crt'), api.caPem);
      writeFileSync(join(dir, 'token'), api.serviceAccountToken(NAMESPACE, sa), { mode: 0o600 });
      const server = await startPrometheus({
        configYaml: promConfig['prometheus.yml'],
        host: podIP(promPod),
        port: 9090,
        apiServerUrl: api.url,
        caFile: join(dir, 'ca.crt'),
        tokenFile: join(dir, 'token'),
        scrapeInterval: options.scrapeInterval ?? '1s',
        namespace: NAMESPACE,
        kubernetesSd: 'auto',
        onLog: (line) => api.store.appendLog(NAMESPACE, promPod.metadata.name, 'prometheus', line),
      });
      prometheus = server;
      stoppers.push(() => server.stop());
      log(`Prometheus ${server.url} (service account ${sa}, discovery: ${server.kubernetesSd})`);
    }

    const grafanaPod = running('app=grafana')[0];
    if (grafanaPod) {
      const container = 'grafana';
      const admin = adminCredentialsFromPod(api.store, NAMESPACE, grafanaPod.metadata.name, container);
      const sim = new GrafanaSim({ view: api.store, namespace: NAMESPACE, pod: grafanaPod.metadata.name, container, host: podIP(grafanaPod), port: 3000, adminUser: admin.user, adminPassword: admin.password, serviceAccountTokens: options.grafanaTokens });
      await sim.start();
      grafana = sim;
      stoppers.push(() => sim.stop());
      log(`Grafana ${sim.url} (${sim.datasources.length} datasource${sim.datasources.length === 1 ? '' : 's'} provisioned)`);
    }
    await scenario?.workloads?.({ exporters, prometheus, grafana, api });

    const token = api.serviceAccountToken(NAMESPACE, ACTION_ACCOUNT);
    const secret = api.store.get('Secret', NAMESPACE, 'grafana-admin')?.data as Record<string, string> | undefined;
    return {
      api,
      prometheus,
      grafana,
      exporters,
      kubeconfig: api.kubeconfig({ token, context: 'taskflow-sim', namespace: NAMESPACE }),
      token,
      grafanaPassword: Buffer.from(secret?.['admin-password'] ?? '', 'base64').toString('utf8'),
      clientCertKubeconfig: async () => {
        const clientCert = await api.issueClientCert(`system:serviceaccount:${NAMESPACE}:${ACTION_ACCOUNT}`, ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`]);
        return { kubeconfig: api.kubeconfig({ clientCert, context: 'taskflow-sim', namespace: NAMESPACE }), keyPem: clientCert.keyPem };
      },
      startApps,
      settle: (timeoutMs = 20_000) => settle(prometheus, running('').filter((p) => p.metadata.annotations?.['prometheus.io/scrape'] === 'true').length, timeoutMs),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A Deployment of `replicas` idle pods, to load the namespace. */
function fillerDeployment(replicas: number): KubeObject {
  const labels = { app: 'load-filler' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'load-filler', namespace: NAMESPACE, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'idle', image: 'busybox:1.36', ports: [{ containerPort: 8080 }] }] } } },
  };
}

/** Polls Prometheus until `expected` targets are active and each was scraped once, or time runs out. */
async function settle(prometheus: PrometheusServer | undefined, expected: number, timeoutMs: number): Promise<void> {
  if (!prometheus || !expected) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${prometheus.url}/api/v1/targets?state=active`);
      const body = (await res.json()) as { data?: { activeTargets?: { lastScrape?: string }[] } };
      const targets = body.data?.activeTargets ?? [];
      if (targets.length >= expected && targets.every((t) => t.lastScrape && !t.lastScrape.startsWith('0001'))) return;
    } catch {
      // Prometheus is still starting.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
