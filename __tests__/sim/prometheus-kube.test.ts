/**
 * Prometheus discovering the TaskFlow pods through the simulated API server: the manifests of
 * examples/taskflow, the prometheus ServiceAccount's token, and the real Prometheus binary.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startExporter, type ExporterKind } from '../../sim/exporters/exporter.js';
import { KubeApiServer, type KubeObject } from '../../sim/kube/index.js';
import { startPrometheus, type PrometheusServer } from '../../sim/prometheus/launcher.js';

const TASKFLOW = join(new URL('../../', import.meta.url).pathname, 'examples/taskflow');
const RBAC_FILE = '16-prometheus-rbac.yaml';

type Obj = Record<string, any>;

function readManifests(filter: (file: string) => boolean): string {
  return readdirSync(TASKFLOW)
    .filter((f) => f.endsWith('.yaml') && filter(f))
    .sort()
    .map((f) => readFileSync(join(TASKFLOW, f), 'utf8'))
    .join('\n---\n');
}

function getJson(url: string): Promise<Obj> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body) as Obj));
      })
      .on('error', reject);
  });
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stoppers: Array<() => Promise<void>> = [];
let dir = '';
afterAll(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus with the simulated API server', () => {
  it('finds no targets without its RBAC (and logs why), then scrapes the three TaskFlow apps', async () => {
    const api = new KubeApiServer({ manifests: readManifests((f) => f !== RBAC_FILE), ipBase: '127.0.30' });
    await api.start();
    stoppers.push(() => api.stop());

    dir = mkdtempSync(join(tmpdir(), 'prom-kube-'));
    const caFile = join(dir, 'ca.crt');
    const tokenFile = join(dir, 'token');
    writeFileSync(caFile, api.caPem);
    writeFileSync(tokenFile, api.serviceAccountToken('taskflow', 'prometheus'));

    // Each app pod runs its metrics endpoint on its pod IP and annotated port.
    const pods = api.store.list('Pod', 'taskflow') as KubeObject[];
    const podOf = (app: string) => pods.find((p) => p.metadata.labels?.app === app)!;
    const ipOf = (pod: KubeObject) => (pod.status as Obj).podIP as string;
    for (const app of ['backend-api', 'postgres', 'redis'] as ExporterKind[]) {
      const pod = podOf(app);
      const exporter = await startExporter({ kind: app, host: ipOf(pod), port: Number(pod.metadata.annotations!['prometheus.io/port']) });
      stoppers.push(() => exporter.stop());
    }

    const configMap = api.store.get('ConfigMap', 'taskflow', 'prometheus-config') as Obj;
    const prometheusPod = podOf('prometheus');
    const prom: PrometheusServer = await startPrometheus({
      configYaml: configMap.data['prometheus.yml'],
      host: ipOf(prometheusPod),
      port: 9090,
      apiServerUrl: api.url,
      caFile,
      tokenFile,
      scrapeInterval: '1s',
      namespace: 'taskflow',
      onLog: (line) => api.store.appendLog('taskflow', prometheusPod.metadata.name, 'prometheus', line),
    });
    stoppers.push(() => prom.stop());

    await eventually('the forbidden list in the log', 10_000, async () =>
      /Failed to watch \*v1\.Pod: failed to list \*v1\.Pod: pods is forbidden: User \\"system:serviceaccount:taskflow:prometheus\\"/.test(prom.logs()) ? true : undefined,
    );
    expect(((await getJson(`${prom.url}/api/v1/targets`)).data.activeTargets as Obj[]).length).toBe(0);

    api.store.loadYaml(readFileSync(join(TASKFLOW, RBAC_FILE), 'utf8'));
    const up = await eventually('three UP series', 30_000, async () => {
      const answer = await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent('up{job="kubernetes-pods"} == 1')}`);
      const result = answer.data.result as Obj[];
      return result.length === 3 ? result : undefined;
    });
    expect(up.map((s) => s.metric.app).sort()).toEqual(['backend-api', 'postgres', 'redis']);
    for (const series of up) {
      const pod = podOf(series.metric.app);
      expect(series.metric).toMatchObject({
        namespace: 'taskflow',
        pod: pod.metadata.name,
        instance: `${ipOf(pod)}:${pod.metadata.annotations!['prometheus.io/port']}`,
      });
    }
    const targets = (await getJson(`${prom.url}/api/v1/targets`)).data.activeTargets as Obj[];
    expect(targets).toHaveLength(3);
    expect(
      api.requestLog.some((r) => r.path === '/api/v1/namespaces/taskflow/pods' && r.user === 'system:serviceaccount:taskflow:prometheus' && /watch=true/.test(r.query)),
    ).toBe(true);
  }, 90_000);
});

describe('TaskFlow manifests', () => {
  const docs = YAML.parseAllDocuments(readManifests(() => true)).map((d) => d.toJS() as Obj).filter(Boolean);

  it('are accepted by kubectl (client-side dry run against the simulated API server)', async () => {
    if (!existsSync('/usr/bin/kubectl')) return;
    const api = new KubeApiServer({ ipBase: '127.0.31' });
    await api.start();
    const work = mkdtempSync(join(tmpdir(), 'kubectl-'));
    try {
      const kubeconfig = join(work, 'config');
      writeFileSync(kubeconfig, api.kubeconfig({ token: api.issueToken('admin', ['system:masters']) }));
      const rbacDir = join(TASKFLOW, '../rbac');
      // Asynchronous: kubectl's discovery requests are answered by this process.
      const { stdout: out } = await promisify(execFile)('kubectl', ['create', '--dry-run=client', '--validate=false', '-o', 'name', '-f', TASKFLOW, '-f', rbacDir], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      expect(out.trim().split('\n')).toEqual(
        expect.arrayContaining([
          'namespace/taskflow',
          'deployment.apps/prometheus',
          'configmap/grafana-datasources',
          'secret/grafana-admin',
          'clusterrolebinding.rbac.authorization.k8s.io/prometheus',
          'role.rbac.authorization.k8s.io/metrics-flow-check',
        ]),
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
      await api.stop();
    }
  }, 60_000);

  it('label every Deployment consistently and annotate the app pods with their metrics port', () => {
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['backend-api', 'grafana', 'postgres', 'prometheus', 'redis']);
    const ports: Record<string, string> = { 'backend-api': '5000', postgres: '9187', redis: '9121' };
    for (const d of deployments) {
      expect(d.metadata.namespace).toBe('taskflow');
      expect(d.spec.selector.matchLabels).toEqual({ app: d.metadata.name });
      expect(d.spec.template.metadata.labels.app).toBe(d.metadata.name);
      const port = ports[d.metadata.name];
      if (!port) continue;
      expect(d.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port });
      const declared = (d.spec.template.spec.containers as Obj[]).flatMap((c) => (c.ports as Obj[]).map((p) => String(p.containerPort)));
      expect(declared).toContain(port);
    }
  });

  it('give Grafana the seed guide\'s datasource, mount and admin password', async () => {
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'grafana-datasources')!;
    expect(YAML.parse(cm.data['datasources.yaml'])).toEqual({
      apiVersion: 1,
      datasources: [{ name: 'Prometheus', type: 'prometheus', access: 'proxy', url: 'http://prometheus.taskflow.svc.cluster.local:9090', isDefault: true, editable: true }],
    });
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'grafana-admin')!;
    expect(Buffer.from(secret.data['admin-password'], 'base64').toString()).toBe('admin2024');

    const api = new KubeApiServer({ manifests: readManifests(() => true), ipBase: '127.0.32' });
    const grafana = (api.store.list('Pod', 'taskflow', 'app=grafana') as KubeObject[])[0]!;
    const files = api.store.containerFiles('taskflow', grafana.metadata.name, 'grafana');
    expect(files.get('/etc/grafana/provisioning/datasources/datasources.yaml')).toBe(cm.data['datasources.yaml']);
    const prometheus = (api.store.list('Pod', 'taskflow', 'app=prometheus') as KubeObject[])[0]!;
    expect(api.store.containerFiles('taskflow', prometheus.metadata.name, 'prometheus').has('/etc/prometheus/prometheus.yml')).toBe(true);
  });
});
