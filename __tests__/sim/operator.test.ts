/**
 * The simulated prometheus-operator and the API server's custom resources: a `Prometheus` object
 * becomes a StatefulSet, pods, the governing Service and the config Secret; ServiceMonitors are
 * selected as the operator selects them and scraped by the real Prometheus into the operator's
 * scrape pools, discovering endpoints through the API server with the Prometheus ServiceAccount
 * (so a namespace without a Role yields no targets and the reflector's error in the pod's log).
 * One API server and one Prometheus for the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import { startExporter, type Exporter } from '../../sim/exporters/exporter.js';
import { KubeApiServer, type KubeObject } from '../../sim/kube/index.js';
import { monitoringCrds } from '../../sim/operator/crds.js';
import { generateConfigObject } from '../../sim/operator/promcfg.js';
import { operatedPrometheusPods, startOperatedPrometheus, type OperatedPrometheus } from '../../sim/prometheus/operated.js';

type Obj = Record<string, any>;

const SA_RULES = `
rules:
- apiGroups: [""]
  resources: [services, endpoints, pods]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
`;

function role(ns: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: prometheus-k8s, namespace: ${ns} }
${SA_RULES}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: prometheus-k8s, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: prometheus-k8s }
subjects: [{ kind: ServiceAccount, name: prometheus-k8s, namespace: monitoring }]
`;
}

function exporterApp(ns: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: redis, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis } }
    spec:
      containers:
      - name: redis-exporter
        image: oliver006/redis_exporter:v1.62.0
        ports: [{ name: metrics, containerPort: 9121 }]
---
apiVersion: v1
kind: Service
metadata: { name: redis-metrics, namespace: ${ns}, labels: { app.kubernetes.io/name: redis, team: platform } }
spec:
  selector: { app: redis }
  ports: [{ name: http-metrics, port: 9121, targetPort: metrics }]
`;
}

function serviceMonitor(ns: string, name: string, labels: Record<string, string>, extra: Obj = {}): string {
  return YAML.stringify({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name, namespace: ns, labels },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } }, endpoints: [{ port: 'http-metrics' }], ...extra },
  });
}

const MANIFESTS = [
  `apiVersion: v1
kind: Namespace
metadata: { name: monitoring }
---
apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { team: platform } }
---
apiVersion: v1
kind: Namespace
metadata: { name: locked }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: prometheus-k8s, namespace: monitoring }
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: { name: k8s, namespace: monitoring, labels: { app.kubernetes.io/part-of: kube-prometheus } }
spec:
  version: 3.13.2
  replicas: 1
  serviceAccountName: prometheus-k8s
  scrapeInterval: 1s
  evaluationInterval: 1s
  podMetadata: { labels: { app.kubernetes.io/component: prometheus } }
  serviceMonitorSelector: { matchLabels: { release: kps } }
  serviceMonitorNamespaceSelector: {}
  podMonitorSelector: { matchLabels: { release: kps } }
  podMonitorNamespaceSelector: {}
  alerting:
    alertmanagers: [{ namespace: monitoring, name: alertmanager-main, port: web, apiVersion: v2 }]
`,
  role('monitoring'),
  role('apps'),
  exporterApp('apps'),
  exporterApp('locked'),
  serviceMonitor('apps', 'redis', { release: 'kps' }),
  serviceMonitor('apps', 'redis-team', { release: 'kps' }, { jobLabel: 'team', serviceDiscoveryRole: 'EndpointSlice' }),
  serviceMonitor('apps', 'redis-fallback', { release: 'kps' }, { jobLabel: 'app.kubernetes.io/missing' }),
  serviceMonitor('apps', 'unlabelled', {}),
  serviceMonitor('locked', 'redis', { release: 'kps' }),
  `apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: { name: redis-pods, namespace: apps, labels: { release: kps } }
spec:
  selector: { matchLabels: { app: redis } }
  podMetricsEndpoints: [{ port: metrics }]
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: { name: own, namespace: apps }
spec:
  serviceMonitorSelector: {}
`,
].join('\n---\n');

let api: KubeApiServer;
let prom: OperatedPrometheus;
let dir: string;
let adminToken: string;
const exporters: Exporter[] = [];

function podIP(pod: KubeObject): string {
  return (pod.status as Obj).podIP as string;
}

function get(path: string, token = adminToken, accept = 'application/json'): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${api.url}${path}`, { ca: api.caPem, headers: { Authorization: `Bearer ${token}`, Accept: accept }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function promJson(path: string): Promise<Obj> {
  const res = await fetch(`${prom.url}${path}`);
  return (await res.json()) as Obj;
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function configOf(ns = 'monitoring', name = 'prometheus-k8s'): Obj {
  const secret = api.store.get('Secret', ns, name)!;
  return YAML.parse(gunzipSync(Buffer.from((secret.data as Record<string, string>)['prometheus.yaml.gz']!, 'base64')).toString('utf8')) as Obj;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-operator-'));
  api = new KubeApiServer({ ipBase: '127.0.41' });
  for (const crd of monitoringCrds()) api.store.apply(crd);
  api.store.loadYaml(MANIFESTS);
  await api.start();
  adminToken = api.issueToken('admin', ['system:masters']);
  for (const ns of ['apps', 'locked']) {
    const pod = api.store.list('Pod', ns, 'app=redis')[0]!;
    exporters.push(await startExporter({ kind: 'redis', host: podIP(pod), port: 9121 }));
  }
  const [pod] = operatedPrometheusPods(api, 'monitoring');
  prom = await startOperatedPrometheus({ api, namespace: 'monitoring', pod: pod!.metadata.name });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await Promise.all(exporters.map((e) => e.stop()));
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the operator reconciling a Prometheus', () => {
  it('creates the StatefulSet prometheus-<name> with the operator pod template', () => {
    const sts = api.store.get('StatefulSet', 'monitoring', 'prometheus-k8s')!;
    const spec = sts.spec as Obj;
    expect(spec).toMatchObject({ replicas: 1, serviceName: 'prometheus-operated', podManagementPolicy: 'Parallel' });
    const selector = {
      'app.kubernetes.io/instance': 'k8s',
      'app.kubernetes.io/managed-by': 'prometheus-operator',
      'app.kubernetes.io/name': 'prometheus',
      'operator.prometheus.io/name': 'k8s',
      'operator.prometheus.io/shard': '0',
      prometheus: 'k8s',
    };
    expect(spec.selector.matchLabels).toEqual(selector);
    expect(spec.template.metadata.labels).toEqual({ ...selector, 'app.kubernetes.io/version': '3.13.2', 'app.kubernetes.io/component': 'prometheus' });
    expect(sts.metadata.labels).toMatchObject({ 'operator.prometheus.io/mode': 'server', 'app.kubernetes.io/part-of': 'kube-prometheus', 'managed-by': 'prometheus-operator' });
    expect(sts.metadata.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus', name: 'k8s', controller: true, blockOwnerDeletion: true }),
    ]);
    const pod = spec.template.spec;
    expect(pod.serviceAccountName).toBe('prometheus-k8s');
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(['prometheus', 'config-reloader']);
    expect(pod.initContainers.map((c: Obj) => c.name)).toEqual(['init-config-reloader']);
    const [prometheus, reloader] = pod.containers as Obj[];
    expect(prometheus!.image).toBe('quay.io/prometheus/prometheus:v3.13.2');
    expect(prometheus!.ports).toEqual([{ name: 'web', containerPort: 9090, protocol: 'TCP' }]);
    expect(prometheus!.readinessProbe).toMatchObject({ httpGet: { path: '/-/ready', port: 'web' } });
    expect(prometheus!.args).toEqual(expect.arrayContaining(['--config.file=/etc/prometheus/config_out/prometheus.env.yaml', '--web.enable-lifecycle']));
    expect(reloader!.ports).toEqual([{ name: 'reloader-web', containerPort: 8080, protocol: 'TCP' }]);
    expect(reloader!.args).toContain('--reload-url=http://localhost:9090/-/reload');
    expect(pod.volumes.find((v: Obj) => v.name === 'config')).toEqual({ name: 'config', secret: { secretName: 'prometheus-k8s' } });
  });

  it('lets the StatefulSet controller create its pods, and reports the Prometheus status', () => {
    const pods = api.store.list('Pod', 'monitoring', 'app.kubernetes.io/name=prometheus');
    expect(pods.map((p) => p.metadata.name)).toEqual(['prometheus-k8s-0']);
    expect((pods[0]!.spec as Obj).subdomain).toBe('prometheus-operated');
    const status = api.store.get('Prometheus', 'monitoring', 'k8s')!.status as Obj;
    expect(status).toMatchObject({ replicas: 1, availableReplicas: 1, updatedReplicas: 1, unavailableReplicas: 0, shards: 1, paused: false });
    expect(status.conditions.map((c: Obj) => [c.type, c.status])).toEqual([
      ['Available', 'True'],
      ['Reconciled', 'True'],
    ]);
    expect(status.selector).toBe('app.kubernetes.io/instance=k8s,app.kubernetes.io/managed-by=prometheus-operator,app.kubernetes.io/name=prometheus,operator.prometheus.io/name=k8s,prometheus=k8s');
  });

  it('stores the Prometheus with its CRD defaults, and the same manifest again changes nothing', () => {
    const before = api.store.get('Prometheus', 'monitoring', 'k8s')!;
    expect(before.metadata.generation).toBe(1);
    expect(before.spec).toMatchObject({ portName: 'web', shards: 1, scrapeInterval: '1s', evaluationInterval: '1s' });
    const manifest = YAML.parseAllDocuments(MANIFESTS).map((d) => d.toJS() as KubeObject).find((o) => o?.kind === 'Prometheus')!;
    api.store.apply(manifest);
    const after = api.store.get('Prometheus', 'monitoring', 'k8s')!;
    expect([after.metadata.generation, after.metadata.resourceVersion]).toEqual([1, before.metadata.resourceVersion]);
  });

  it('reconciles the headless governing Service prometheus-operated', () => {
    const svc = api.store.get('Service', 'monitoring', 'prometheus-operated')!;
    expect(svc.metadata.labels).toMatchObject({ 'operated-prometheus': 'true' });
    expect(svc.spec).toMatchObject({ clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'prometheus' }, ports: [{ name: 'web', port: 9090, targetPort: 'web' }] });
    const ep = api.store.get('Endpoints', 'monitoring', 'prometheus-operated')!;
    expect((ep.subsets as Obj[])[0]!.addresses[0]).toMatchObject({ hostname: 'prometheus-k8s-0', targetRef: { kind: 'Pod', name: 'prometheus-k8s-0' } });
  });

  it('writes the generated configuration, gzipped, into the Secret prometheus-<name>', () => {
    const secret = api.store.get('Secret', 'monitoring', 'prometheus-k8s')!;
    expect(Object.keys(secret.data as Obj)).toEqual(['prometheus.yaml.gz']);
    const config = configOf();
    expect(config.global).toEqual({ scrape_interval: '1s', external_labels: { prometheus: 'monitoring/k8s', prometheus_replica: '$(POD_NAME)' }, evaluation_interval: '1s' });
    const jobs = (config.scrape_configs as Obj[]).map((j) => j.job_name);
    expect(jobs).toEqual([
      'serviceMonitor/apps/redis/0',
      'serviceMonitor/apps/redis-fallback/0',
      'serviceMonitor/apps/redis-team/0',
      'serviceMonitor/locked/redis/0',
      'podMonitor/apps/redis-pods/0',
    ]);
    const [redis, , team] = config.scrape_configs as Obj[];
    expect(redis!.kubernetes_sd_configs).toEqual([{ role: 'endpoints', namespaces: { names: ['apps'] } }]);
    expect(team!.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', namespaces: { names: ['apps'] } }]);
    expect(redis!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_name'], regex: '(redis);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: 'http-metrics' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
        { source_labels: ['__tmp_hash', '__tmp_disable_sharding'], regex: '$(SHARD);|.+;.+', action: 'keep' },
      ]),
    );
    expect(team!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'keep', source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: 'http-metrics' },
        { source_labels: ['__meta_kubernetes_service_label_team'], target_label: 'job', regex: '(.+)', replacement: '${1}' },
      ]),
    );
  });
  it('selects with a nil namespace selector only its own namespace, and with a nil selector nothing', () => {
    const jobs = (configOf('apps', 'prometheus-own').scrape_configs as Obj[]).map((j) => j.job_name);
    expect(jobs).toEqual(['serviceMonitor/apps/redis/0', 'serviceMonitor/apps/redis-fallback/0', 'serviceMonitor/apps/redis-team/0', 'serviceMonitor/apps/unlabelled/0']);
    expect(api.store.get('StatefulSet', 'apps', 'prometheus-own')).toBeDefined();
    expect(api.store.get('Service', 'apps', 'prometheus-operated')).toBeDefined();
  });

  it('reports a Prometheus that selects nothing as reconciled with NoSelectedResources', () => {
    const p = api.store.get('Prometheus', 'apps', 'own')!;
    api.store.apply({ ...p, spec: { ...(p.spec as Obj), serviceMonitorSelector: { matchLabels: { none: 'x' } } } });
    const reconciled = ((api.store.get('Prometheus', 'apps', 'own')!.status as Obj).conditions as Obj[]).find((c) => c.type === 'Reconciled');
    expect(reconciled).toMatchObject({ status: 'True', reason: 'NoSelectedResources', message: 'No ServiceMonitor, PodMonitor, Probe, ScrapeConfig, and PrometheusRule have been selected.' });
    expect(configOf('apps', 'prometheus-own').scrape_configs).toEqual([]);
    api.store.delete('Prometheus', 'apps', 'own');
    expect([api.store.get('StatefulSet', 'apps', 'prometheus-own'), api.store.get('Secret', 'apps', 'prometheus-own'), api.store.get('Service', 'apps', 'prometheus-operated')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(api.store.list('Pod', 'apps', 'app.kubernetes.io/name=prometheus')).toEqual([]);
  });
});

describe('the real Prometheus of the operator pod', () => {
  it('scrapes a ServiceMonitor with a named port into serviceMonitor/<ns>/<name>/0, job = the Service name', async () => {
    const pod = api.store.list('Pod', 'apps', 'app=redis')[0]!;
    const target = await eventually('an UP target in serviceMonitor/apps/redis/0', 30_000, async () => {
      const targets = (await promJson('/api/v1/targets?state=active')).data.activeTargets as Obj[];
      return targets.find((t) => t.scrapePool === 'serviceMonitor/apps/redis/0' && t.health === 'up');
    });
    expect(target.labels).toEqual({
      container: 'redis-exporter',
      endpoint: 'http-metrics',
      instance: `${podIP(pod)}:9121`,
      job: 'redis-metrics',
      namespace: 'apps',
      pod: pod.metadata.name,
      service: 'redis-metrics',
    });
    expect(target.discoveredLabels).toMatchObject({
      __meta_kubernetes_endpoints_name: 'redis-metrics',
      __meta_kubernetes_endpoint_port_name: 'http-metrics',
      __meta_kubernetes_endpoint_ready: 'true',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_pod_container_port_name: 'metrics',
    });
    const up = await promJson(`/api/v1/query?query=${encodeURIComponent('up{job="redis-metrics"}')}`);
    expect(up.data.result.map((r: Obj) => r.value[1])).toEqual(['1']);
  }, 40_000);

  it('takes the job from the Service label jobLabel names, over EndpointSlices', async () => {
    const target = await eventually('an UP target in serviceMonitor/apps/redis-team/0', 30_000, async () => {
      const targets = (await promJson('/api/v1/targets?state=active')).data.activeTargets as Obj[];
      return targets.find((t) => t.scrapePool === 'serviceMonitor/apps/redis-team/0' && t.health === 'up');
    });
    expect(target.labels.job).toBe('platform');
    expect(target.discoveredLabels).toMatchObject({ __meta_kubernetes_endpointslice_port_name: 'http-metrics', __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true' });
    const pods = ((await promJson('/api/v1/targets?state=active')).data.activeTargets as Obj[]).filter((t) => t.scrapePool === 'podMonitor/apps/redis-pods/0');
    expect(pods.map((t) => [t.labels.job, t.labels.container, t.labels.endpoint])).toEqual([['apps/redis-pods', 'redis-exporter', 'metrics']]);
    // A jobLabel naming a label the Service does not carry leaves the Service name.
    const fallback = ((await promJson('/api/v1/targets?state=active')).data.activeTargets as Obj[]).find((t) => t.scrapePool === 'serviceMonitor/apps/redis-fallback/0');
    expect(fallback?.labels.job).toBe('redis-metrics');
  }, 40_000);

  it('runs with the external labels expanded as the config-reloader does, and its Alertmanagers discovered', async () => {
    const config = YAML.parse((await promJson('/api/v1/status/config')).data.yaml as string) as Obj;
    expect(config.global.external_labels).toEqual({ prometheus: 'monitoring/k8s', prometheus_replica: 'prometheus-k8s-0' });
    const [am] = config.alerting.alertmanagers as Obj[];
    expect(am).toMatchObject({ api_version: 'v2', relabel_configs: expect.arrayContaining([expect.objectContaining({ source_labels: ['__meta_kubernetes_service_name'], regex: 'alertmanager-main' })]) });
    expect(am!.kubernetes_sd_configs).toHaveLength(1);
    expect(config.alerting.alert_relabel_configs).toEqual([expect.objectContaining({ action: 'labeldrop', regex: 'prometheus_replica' })]);
  });

  it('does not select a ServiceMonitor without the release label, until it gets it', async () => {
    const pools = async () => Object.keys((await promJson('/api/v1/targets')).data.activeTargets.reduce((m: Obj, t: Obj) => ({ ...m, [t.scrapePool]: 1 }), {}));
    expect(await pools()).not.toContain('serviceMonitor/apps/unlabelled/0');
    const sm = api.store.get('ServiceMonitor', 'apps', 'unlabelled')!;
    api.store.apply({ ...sm, metadata: { ...sm.metadata, labels: { release: 'kps' } } });
    await prom.synced();
    await eventually('the relabelled ServiceMonitor scraped', 20_000, async () => ((await pools()).includes('serviceMonitor/apps/unlabelled/0') ? true : undefined));
    expect(prom.reloads()).toBeGreaterThan(0);
  }, 30_000);

  it('finds no targets where its ServiceAccount has no Role, and logs the refused list', async () => {
    const line = await eventually('the reflector error in the pod log', 20_000, () =>
      api.store
        .podLogs('monitoring', 'prometheus-k8s-0', 'prometheus')
        .map((e) => e.line)
        .find((l) => l.includes('Failed to watch *v1.Endpoints') && l.includes('namespace \\"locked\\"')),
    );
    expect(line).toMatch(/^ts=\S+ caller=klog\.go:116 level=error component=k8s_client_runtime func=ErrorDepth msg=/);
    expect(line).toContain(
      'Failed to watch *v1.Endpoints: failed to list *v1.Endpoints: endpoints is forbidden: User \\"system:serviceaccount:monitoring:prometheus-k8s\\" cannot list resource \\"endpoints\\" in API group \\"\\" in the namespace \\"locked\\"',
    );
    const targets = (await promJson('/api/v1/targets')).data.activeTargets as Obj[];
    expect(targets.filter((t) => t.scrapePool === 'serviceMonitor/locked/redis/0')).toEqual([]);
  }, 30_000);
});

describe('the generated configuration', () => {
  const base = (spec: Obj, monitors: Obj[] = [], podMonitors: Obj[] = []) =>
    generateConfigObject({
      prometheus: { apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus', metadata: { name: 'p', namespace: 'mon' }, spec },
      serviceMonitors: monitors.map((m, i) => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: `sm${i}`, namespace: 'team' }, spec: m })),
      podMonitors: podMonitors.map((m, i) => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: `pm${i}`, namespace: 'team' }, spec: m })),
      secretKey: (ns, ref) => (ns === 'team' && ref.name === 'auth' ? `${ref.key}-value` : undefined),
      version: '2.42.0',
      endpointSliceSupported: true,
      ruleConfigMapNames: ['prometheus-p-rulefiles-0'],
    });

  it('takes the namespaces from the monitor: its own by default, all with any, else matchNames', () => {
    const cfg = base({ scrapeInterval: '30s' }, [
      { selector: {}, endpoints: [{ port: 'web' }] },
      { selector: {}, namespaceSelector: { any: true }, endpoints: [{ port: 'web' }] },
      { selector: {}, namespaceSelector: { matchNames: ['a', 'b'] }, endpoints: [{ port: 'web' }] },
    ]);
    expect((cfg.scrape_configs as Obj[]).map((j) => j.kubernetes_sd_configs[0])).toEqual([
      { role: 'endpoints', namespaces: { names: ['team'] } },
      { role: 'endpoints' },
      { role: 'endpoints', namespaces: { names: ['a', 'b'] } },
    ]);
  });

  it('maps the endpoint fields, relabelings and shards as the operator does', () => {
    const [job] = base({ shards: 2, evaluationInterval: '15s', ruleSelector: {} }, [
      {
        selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'skip', operator: 'DoesNotExist' }] },
        endpoints: [
          {
            targetPort: 8080,
            interval: '10s',
            scrapeTimeout: '5s',
            path: '/stats',
            scheme: 'https',
            honorLabels: true,
            tlsConfig: { insecureSkipVerify: true },
            bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            basicAuth: { username: { name: 'auth', key: 'user' }, password: { name: 'auth', key: 'pass' } },
            relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'instance', action: 'Replace' }],
            metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'go_.*', action: 'drop' }],
          },
        ],
      },
    ]).scrape_configs as Obj[];
    expect(job).toMatchObject({
      honor_labels: true,
      scrape_interval: '10s',
      scrape_timeout: '5s',
      metrics_path: '/stats',
      scheme: 'https',
      tls_config: { insecure_skip_verify: true },
      bearer_token_file: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      basic_auth: { username: 'user-value', password: 'pass-value' },
      metric_relabel_configs: [{ source_labels: ['__name__'], regex: 'go_.*', action: 'drop' }],
    });
    const relabel = job!.relabel_configs as Obj[];
    expect(relabel.slice(1, 4)).toEqual([
      { action: 'keep', source_labels: ['__meta_kubernetes_service_label_tier', '__meta_kubernetes_service_labelpresent_tier'], regex: '(a|b);true' },
      { action: 'drop', source_labels: ['__meta_kubernetes_service_labelpresent_skip'], regex: 'true' },
      { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: 8080 },
    ]);
    expect(relabel).toContainEqual({ target_label: 'endpoint', replacement: '8080' });
    expect(relabel.at(-4)).toEqual({ source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'instance', action: 'replace' });
    expect(relabel.at(-2)).toEqual({ source_labels: ['__tmp_hash'], target_label: '__tmp_hash', modulus: 2, action: 'hashmod' });
    const cfg = base({ ruleSelector: {} });
    expect(cfg.rule_files).toEqual(['/etc/prometheus/rules/prometheus-p-rulefiles-0/*.yaml']);
  });

  it('gives a PodMonitor endpoint the pod role and job <namespace>/<name>', () => {
    const [job] = base({}, [], [{ selector: { matchLabels: { app: 'x' } }, jobLabel: 'app', podMetricsEndpoints: [{ portNumber: 9100 }] }]).scrape_configs as Obj[];
    expect(job!.job_name).toBe('podMonitor/team/pm0/0');
    expect(job!.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['team'] } }]);
    expect(job!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: 9100 },
        { target_label: 'job', replacement: 'team/pm0' },
        { source_labels: ['__meta_kubernetes_pod_label_app'], target_label: 'job', regex: '(.+)', replacement: '${1}' },
      ]),
    );
  });
});

describe('custom resources on the API server', () => {
  it('lists the monitoring.coreos.com group in discovery', async () => {
    const groups = JSON.parse((await get('/apis')).text).groups as Obj[];
    expect(groups.find((g) => g.name === 'monitoring.coreos.com')).toEqual({
      name: 'monitoring.coreos.com',
      versions: [{ groupVersion: 'monitoring.coreos.com/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'monitoring.coreos.com/v1', version: 'v1' },
    });
    const list = JSON.parse((await get('/apis/monitoring.coreos.com/v1')).text) as Obj;
    const prometheuses = (list.resources as Obj[]).find((r) => r.name === 'prometheuses');
    expect(prometheuses).toMatchObject({ singularName: 'prometheus', namespaced: true, kind: 'Prometheus', shortNames: ['prom'], categories: ['prometheus-operator'] });
    expect((list.resources as Obj[]).map((r) => r.name)).toEqual(expect.arrayContaining(['prometheuses/status', 'prometheuses/scale', 'servicemonitors', 'podmonitors']));
    const apiext = JSON.parse((await get('/apis/apiextensions.k8s.io/v1')).text) as Obj;
    expect(apiext.resources[0]).toMatchObject({ name: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'] });
  });

  it('answers a resource without its CRD with the mux 404 (text), and serves it once the CRD is stored', async () => {
    const other = new KubeApiServer({ ipBase: '127.0.42' });
    await other.start();
    try {
      const token = other.issueToken('admin', ['system:masters']);
      const ask = (path: string) =>
        new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
          https
            .get(`${other.url}${path}`, { ca: other.caPem, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
            })
            .on('error', reject);
        });
      expect(await ask('/apis/monitoring.coreos.com/v1/prometheuses')).toEqual({ status: 404, type: 'text/plain; charset=utf-8', text: '404 page not found\n' });
      expect((await ask('/apis/monitoring.coreos.com')).status).toBe(404);
      expect(JSON.parse((await ask('/apis')).text).groups.map((g: Obj) => g.name)).not.toContain('monitoring.coreos.com');
      for (const crd of monitoringCrds()) other.store.apply(crd);
      const listed = await ask('/apis/monitoring.coreos.com/v1/prometheuses');
      expect([listed.status, JSON.parse(listed.text).kind]).toEqual([200, 'PrometheusList']);
      other.store.delete('CustomResourceDefinition', undefined, 'prometheuses.monitoring.coreos.com');
      expect((await ask('/apis/monitoring.coreos.com/v1/prometheuses')).status).toBe(404);
      expect((await ask('/apis/monitoring.coreos.com/v1/servicemonitors')).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('gets, lists across namespaces and watches custom resources, with RBAC on their group', async () => {
    const one = JSON.parse((await get('/apis/monitoring.coreos.com/v1/namespaces/apps/servicemonitors/redis')).text) as Obj;
    expect([one.kind, one.apiVersion, one.metadata.name]).toEqual(['ServiceMonitor', 'monitoring.coreos.com/v1', 'redis']);
    const all = JSON.parse((await get('/apis/monitoring.coreos.com/v1/servicemonitors')).text) as Obj;
    expect(all.items.map((i: Obj) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['apps/redis', 'apps/redis-fallback', 'apps/redis-team', 'apps/unlabelled', 'locked/redis']);
    const watched = await get('/apis/monitoring.coreos.com/v1/watch/namespaces/locked/servicemonitors?timeoutSeconds=1');
    const events = watched.text.trim().split('\n').map((l) => JSON.parse(l) as Obj);
    expect(events.map((e) => [e.type, e.object.kind, e.object.metadata.name])).toEqual([['ADDED', 'ServiceMonitor', 'redis']]);
    const status = JSON.parse((await get('/apis/monitoring.coreos.com/v1/namespaces/monitoring/prometheuses/k8s/status')).text) as Obj;
    expect(status.status.availableReplicas).toBe(1);

    // The Prometheus SA's Roles are namespaced: no cluster-wide list, and no monitoring.coreos.com rule.
    const sa = api.serviceAccountToken('monitoring', 'prometheus-k8s');
    const pods = await get('/api/v1/pods?labelSelector=app%3Dredis', sa);
    expect(pods.status).toBe(403);
    expect(JSON.parse(pods.text).message).toBe(
      'pods is forbidden: User "system:serviceaccount:monitoring:prometheus-k8s" cannot list resource "pods" in API group "" at the cluster scope',
    );
    expect((await get('/api/v1/namespaces/apps/pods?labelSelector=app%3Dredis', sa)).status).toBe(200);
    const sms = await get('/apis/monitoring.coreos.com/v1/namespaces/apps/servicemonitors', sa);
    expect(JSON.parse(sms.text).message).toBe(
      'servicemonitors.monitoring.coreos.com is forbidden: User "system:serviceaccount:monitoring:prometheus-k8s" cannot list resource "servicemonitors" in API group "monitoring.coreos.com" in the namespace "apps"',
    );
    const adminPods = JSON.parse((await get('/api/v1/pods?labelSelector=app%3Dredis')).text) as Obj;
    expect(adminPods.items.map((p: Obj) => p.metadata.namespace)).toEqual(['apps', 'locked']);
  });

  it('prints custom resources with their CRD columns and EndpointSlices with theirs, for real kubectl', async () => {
    const kubeconfig = join(dir, 'admin.yaml');
    writeFileSync(kubeconfig, api.kubeconfig({ token: adminToken }));
    const kubectl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const proms = await kubectl('get', 'prometheuses', '-A');
    expect(proms.stderr).toBe('');
    expect(proms.stdout).toMatch(/^NAMESPACE\s+NAME\s+VERSION\s+DESIRED\s+READY\s+RECONCILED\s+AVAILABLE\s+AGE\n/);
    expect(proms.stdout).toMatch(/\nmonitoring\s+k8s\s+3\.13\.2\s+1\s+1\s+True\s+True\s+\d+s\n$/);
    const slices = await kubectl('get', 'endpointslices', '-n', 'apps');
    expect(slices.stderr).toBe('');
    const pod = api.store.list('Pod', 'apps', 'app=redis')[0]!;
    expect(slices.stdout).toMatch(new RegExp(`^NAME\\s+ADDRESSTYPE\\s+PORTS\\s+ENDPOINTS\\s+AGE\\nredis-metrics-[a-z0-9]{5}\\s+IPv4\\s+9121\\s+${podIP(pod).replace(/\./g, '\\.')}\\s+\\d+s\\n$`));
    const crds = await kubectl('get', 'crd');
    expect(crds.stdout).toMatch(/^NAME\s+CREATED AT\npodmonitors\.monitoring\.coreos\.com\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
    const short = await kubectl('get', 'smon', '-n', 'apps', '-o', 'name');
    expect(short.stdout.split('\n').filter(Boolean)).toEqual([
      'servicemonitor.monitoring.coreos.com/redis',
      'servicemonitor.monitoring.coreos.com/redis-fallback',
      'servicemonitor.monitoring.coreos.com/redis-team',
      'servicemonitor.monitoring.coreos.com/unlabelled',
    ]);
  }, 40_000);
});
