import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startExporter, type Exporter, type ExporterKind } from '../../sim/exporters/exporter.js';
import { bridgeKubernetesSd, parsePromDuration, rewriteScrapeConfig } from '../../sim/prometheus/config.js';
import { podTargetGroups, sanitizeLabelName, type PodObject } from '../../sim/prometheus/kubernetes-sd.js';
import { hasKubernetesSd, startPrometheus, type PrometheusServer } from '../../sim/prometheus/launcher.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const TASKFLOW = join(ROOT, 'examples/taskflow');

type Obj = Record<string, any>;

function taskflowPrometheusYml(): string {
  const cm = YAML.parse(readFileSync(join(TASKFLOW, '15-prometheus-config.yaml'), 'utf8')) as Obj;
  return cm.data['prometheus.yml'] as string;
}

function manifests(file: string): Obj[] {
  return YAML.parseAllDocuments(readFileSync(join(TASKFLOW, file), 'utf8')).map((d) => d.toJS() as Obj);
}

const ACCESS = { apiServerUrl: 'https://127.0.0.1:6443', caFile: '/tmp/sim/ca.crt', tokenFile: '/tmp/sim/prometheus.token' };

// ---------------------------------------------------------------------------------------------
// Small helpers

async function getJson(url: string): Promise<Obj> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as Obj);
          } catch (err) {
            reject(err as Error);
          }
        });
      })
      .on('error', reject);
  });
}

async function getText(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function query(prom: PrometheusServer, expr: string): Promise<Obj[]> {
  const answer = await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  expect(answer.status).toBe('success');
  return answer.data.result as Obj[];
}

async function activeTargets(prom: PrometheusServer): Promise<Obj[]> {
  const answer = await getJson(`${prom.url}/api/v1/targets`);
  return answer.data.activeTargets as Obj[];
}

/** Validates Prometheus text exposition: HELP/TYPE before samples, sample syntax, one TYPE per family. */
function checkExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Map<string, string>();
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      expect(typed.has(type[1]!)).toBe(false);
      typed.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`invalid exposition line: ${line}`);
    const family = [...typed.keys()].find((f) => m[1] === f || (typed.get(f) === 'histogram' && /^(_bucket|_sum|_count)$/.test(m[1]!.slice(f.length)) && m[1]!.startsWith(f)));
    if (!family) throw new Error(`sample without a TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Processes started by the tests never outlive them.

const started: Array<{ stop(): Promise<void> }> = [];
async function track<T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const value = await p;
  started.push(value);
  return value;
}
afterAll(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

// ---------------------------------------------------------------------------------------------

describe('rewriteScrapeConfig', () => {
  it('points the TaskFlow kubernetes_sd_configs at the API server, keeping role, namespaces and relabels', () => {
    const original = YAML.parse(taskflowPrometheusYml()) as Obj;
    const out = YAML.parse(rewriteScrapeConfig(taskflowPrometheusYml(), ACCESS)) as Obj;
    const job = out.scrape_configs[0];
    expect(job.job_name).toBe('kubernetes-pods');
    expect(job.kubernetes_sd_configs).toEqual([
      {
        role: 'pod',
        namespaces: { names: ['taskflow'] },
        api_server: 'https://127.0.0.1:6443',
        tls_config: { ca_file: '/tmp/sim/ca.crt' },
        authorization: { type: 'Bearer', credentials_file: '/tmp/sim/prometheus.token' },
      },
    ]);
    expect(job.relabel_configs).toEqual(original.scrape_configs[0].relabel_configs);
    expect(out.global.scrape_interval).toBe('15s');
  });

  it('replaces in-cluster credentials and keeps selectors', () => {
    const config = `
scrape_configs:
  - job_name: nodes
    scheme: https
    tls_config: { ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt }
    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    kubernetes_sd_configs:
      - role: pod
        kubeconfig_file: /root/.kube/config
        bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
        tls_config: { insecure_skip_verify: true }
        selectors: [{ role: pod, label: "app=redis" }]
`;
    const job = (YAML.parse(rewriteScrapeConfig(config, ACCESS)) as Obj).scrape_configs[0];
    expect(job.tls_config.ca_file).toBe(ACCESS.caFile);
    expect(job.bearer_token_file).toBe(ACCESS.tokenFile);
    const sd = job.kubernetes_sd_configs[0];
    expect(sd.kubeconfig_file).toBeUndefined();
    expect(sd.bearer_token_file).toBeUndefined();
    expect(sd.tls_config).toEqual({ ca_file: ACCESS.caFile });
    expect(sd.selectors).toEqual([{ role: 'pod', label: 'app=redis' }]);
  });

  it('overrides scrape intervals and caps timeouts that would exceed them', () => {
    const config = `
global: { scrape_interval: 15s, scrape_timeout: 10s }
scrape_configs:
  - job_name: a
    scrape_interval: 30s
    scrape_timeout: 500ms
    static_configs: [{ targets: ['127.0.0.1:1'] }]
  - job_name: b
    scrape_timeout: 20s
    static_configs: [{ targets: ['127.0.0.1:2'] }]
`;
    const out = YAML.parse(rewriteScrapeConfig(config, { ...ACCESS, scrapeInterval: '1s' })) as Obj;
    expect(out.global).toEqual({ scrape_interval: '1s', scrape_timeout: '1s' });
    expect(out.scrape_configs[0]).toMatchObject({ scrape_interval: '1s', scrape_timeout: '500ms' });
    expect(out.scrape_configs[1]).toMatchObject({ scrape_interval: '1s', scrape_timeout: '1s' });
  });

  it('resolves own_namespace to the Prometheus pod namespace', () => {
    const config = 'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{ role: pod, namespaces: { own_namespace: true } }]\n';
    const sd = (YAML.parse(rewriteScrapeConfig(config, { ...ACCESS, namespace: 'taskflow' })) as Obj).scrape_configs[0].kubernetes_sd_configs[0];
    expect(sd.namespaces).toEqual({ names: ['taskflow'] });
    expect(() => rewriteScrapeConfig(config, ACCESS)).toThrow(/own_namespace/);
  });

  it('parses Prometheus durations', () => {
    expect(parsePromDuration('1m30s')).toBe(90_000);
    expect(parsePromDuration('500ms')).toBe(500);
    expect(parsePromDuration('0')).toBe(0);
    expect(() => parsePromDuration('1.5s')).toThrow();
  });
});

describe('bridgeKubernetesSd', () => {
  it('turns kubernetes_sd_configs into http_sd_configs that the installed Prometheus accepts', () => {
    const { yaml, sources } = bridgeKubernetesSd(taskflowPrometheusYml(), { ...ACCESS, scrapeInterval: '1s', sdBaseUrl: 'http://127.0.0.1:4000/' });
    const job = (YAML.parse(yaml) as Obj).scrape_configs[0];
    expect(job.kubernetes_sd_configs).toBeUndefined();
    expect(job.http_sd_configs).toEqual([{ url: 'http://127.0.0.1:4000/sd/0/0', refresh_interval: '1s' }]);
    expect(sources).toEqual([{ jobName: 'kubernetes-pods', role: 'pod', namespaces: ['taskflow'], selectors: [], path: '/sd/0/0' }]);

    const dir = mkdtempSync(join(tmpdir(), 'promcfg-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), yaml);
      const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(out).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// TaskFlow pods, as a Deployment controller would create them from the manifests.

function taskflowPods(ips: Record<string, string>): PodObject[] {
  const deployments = ['10-backend-api.yaml', '11-postgres.yaml', '12-redis.yaml']
    .flatMap(manifests)
    .filter((o) => o.kind === 'Deployment');
  return deployments.map((d, i) => ({
    metadata: {
      name: `${d.metadata.name}-7d9f8c6b5-x${i}q2z`,
      namespace: 'taskflow',
      uid: `00000000-0000-4000-8000-00000000000${i}`,
      resourceVersion: String(100 + i),
      labels: { ...d.spec.template.metadata.labels, 'pod-template-hash': '7d9f8c6b5' },
      annotations: d.spec.template.metadata.annotations,
      ownerReferences: [{ kind: 'ReplicaSet', name: `${d.metadata.name}-7d9f8c6b5`, controller: true }],
    },
    spec: { nodeName: 'kind-control-plane', containers: d.spec.template.spec.containers },
    status: {
      phase: 'Running',
      podIP: ips[d.metadata.name],
      hostIP: '172.18.0.2',
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  }));
}

describe('podTargetGroups', () => {
  it('gives one target per container port with the kubernetes_sd meta labels', () => {
    const [, postgres] = taskflowPods({ 'backend-api': '127.0.10.1', postgres: '127.0.10.2', redis: '127.0.10.3' });
    const groups = podTargetGroups(postgres!);
    expect(groups.map((g) => g.targets)).toEqual([['127.0.10.2:5432'], ['127.0.10.2:9187']]);
    expect(groups[1]!.labels).toMatchObject({
      __meta_kubernetes_namespace: 'taskflow',
      __meta_kubernetes_pod_name: postgres!.metadata.name,
      __meta_kubernetes_pod_ip: '127.0.10.2',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_node_name: 'kind-control-plane',
      __meta_kubernetes_pod_host_ip: '172.18.0.2',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_label_app: 'postgres',
      __meta_kubernetes_pod_labelpresent_app: 'true',
      __meta_kubernetes_pod_label_pod_template_hash: '7d9f8c6b5',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9187',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_container_name: 'postgres-exporter',
      __meta_kubernetes_pod_container_port_number: '9187',
      __meta_kubernetes_pod_container_port_name: 'metrics',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_container_init: 'false',
    });
  });

  it('gives no target to a pod without an IP, and a bare-IP target to a container without ports', () => {
    const pod: PodObject = { metadata: { name: 'p', namespace: 'n' }, spec: { containers: [{ name: 'c' }] }, status: {} };
    expect(podTargetGroups(pod)).toEqual([]);
    pod.status = { podIP: '127.0.0.9' };
    const [group] = podTargetGroups(pod);
    expect(group!.targets).toEqual(['127.0.0.9']);
    expect(group!.labels.__meta_kubernetes_pod_ready).toBe('unknown');
    expect(sanitizeLabelName('prometheus.io/scrape')).toBe('prometheus_io_scrape');
  });
});

// ---------------------------------------------------------------------------------------------

describe('exporters', () => {
  const exporters: Exporter[] = [];
  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.stop()));
  });

  const expected: Record<ExporterKind, string[]> = {
    'backend-api': ['http_requests_total{method="GET",endpoint="/tasks",status="200"}', 'process_cpu_seconds_total', 'request_duration_seconds_count'],
    postgres: ['pg_up', 'pg_stat_database_numbackends{datid="16384",datname="taskflow"}', 'process_cpu_seconds_total'],
    redis: ['redis_up', 'redis_connected_clients', 'redis_commands_processed_total'],
  };

  for (const kind of Object.keys(expected) as ExporterKind[]) {
    it(`${kind} serves valid, changing text exposition`, async () => {
      const exporter = await startExporter({ kind, host: '127.0.0.1', port: 0 });
      exporters.push(exporter);
      expect(exporter.url).toBe(`http://127.0.0.1:${exporter.port}/metrics`);
      const first = await getText(exporter.url);
      expect(first.status).toBe(200);
      expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      const before = checkExposition(first.body);
      for (const name of expected[kind]) expect(before.has(name)).toBe(true);

      // promtool parses it (lint remarks about real exporters' names are not parse errors).
      let promtoolOut = '';
      try {
        promtoolOut = execFileSync('promtool', ['check', 'metrics'], { input: first.body, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        promtoolOut = String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr);
      }
      expect(promtoolOut).not.toMatch(/parsing error|error while linting/);

      await new Promise((r) => setTimeout(r, 1100));
      const after = checkExposition((await getText(exporter.url)).body);
      expect(after.get('process_cpu_seconds_total')!).toBeGreaterThan(before.get('process_cpu_seconds_total')!);
      const counter = expected[kind].find((n) => n.includes('_total') && n !== 'process_cpu_seconds_total');
      if (counter) expect(after.get(counter)!).toBeGreaterThanOrEqual(before.get(counter)!);
    });
  }

  it('setDown answers 500, or resets the connection, until set up again', async () => {
    const exporter = await startExporter({ kind: 'redis', host: '127.0.0.1', port: 0 });
    exporters.push(exporter);
    exporter.setDown(true);
    expect((await getText(exporter.url)).status).toBe(500);
    exporter.setDown(true, 'reset');
    await expect(getText(exporter.url)).rejects.toThrow(/socket hang up|ECONNRESET/);
    exporter.setDown(false);
    expect((await getText(exporter.url)).status).toBe(200);
  });

  it('listens only on loopback addresses', async () => {
    await expect(startExporter({ kind: 'redis', host: '0.0.0.0', port: 0 })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('startPrometheus (real Prometheus)', () => {
  it('scrapes static targets, sees them UP, then sees one go DOWN', async () => {
    const a = await track(startExporter({ kind: 'postgres', host: '127.0.0.1', port: 0 }));
    const b = await track(startExporter({ kind: 'redis', host: '127.0.0.1', port: 0 }));
    const configYaml = `
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: exporters
    static_configs:
      - targets: ['${a.address}', '${b.address}']
`;
    const t0 = Date.now();
    const prom = await track(startPrometheus({ ...ACCESS, configYaml, host: '127.0.0.1', port: 0, scrapeInterval: '1s' }));
    const readyMs = Date.now() - t0;
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(prom.logs()).toContain('Server is ready to receive web requests.');

    await eventually('both targets up', 15_000, async () => {
      const targets = await activeTargets(prom);
      return targets.length === 2 && targets.every((t) => t.health === 'up') ? targets : undefined;
    });
    const up = await eventually('up to return 2 series', 10_000, async () => {
      const result = await query(prom, 'up{job="exporters"}');
      return result.length === 2 ? result : undefined;
    });
    expect(up.map((s) => s.value[1])).toEqual(['1', '1']);
    const firstUpMs = Date.now() - t0;
    expect((await query(prom, 'pg_stat_database_numbackends')).length).toBe(1);

    b.setDown(true);
    const down = await eventually('redis target down', 10_000, async () => {
      const targets = await activeTargets(prom);
      const target = targets.find((t) => t.labels.instance === b.address);
      return target?.health === 'down' ? target : undefined;
    });
    expect(down.lastError).toMatch(/500/);
    const series = await eventually('up == 0 for redis', 10_000, async () => {
      const result = await query(prom, `up{instance="${b.address}"} == 0`);
      return result.length === 1 ? result : undefined;
    });
    expect(series[0]!.metric.job).toBe('exporters');

    const pid = prom.process.pid!;
    await prom.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    process.stdout.write(`prometheus ready after ${readyMs} ms, first up series after ${firstUpMs} ms\n`);
  }, 60_000);

  it('fails clearly, with the log tail, when the configuration is invalid', async () => {
    await expect(
      startPrometheus({ ...ACCESS, configYaml: 'scrape_configs:\n  - job_name: x\n    static_configs: [{ targets: 1 }]\n', host: '127.0.0.1', port: 0 }),
    ).rejects.toThrow(/exited .* before it was ready[\s\S]*Error loading config/);
  });

  it('refuses non-loopback addresses', async () => {
    await expect(startPrometheus({ ...ACCESS, configYaml: '', host: '10.0.0.1', port: 9090 })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });
});

// ---------------------------------------------------------------------------------------------
// Pod discovery end to end, against a minimal list+watch API: the TaskFlow prometheus.yml with
// its relabelling, run by the installed Prometheus.

interface FakeApi {
  url: string;
  requests: string[];
  forbid: boolean;
  push(event: Obj): void;
  stop(): Promise<void>;
}

async function fakeApiServer(pods: PodObject[], token: string): Promise<FakeApi> {
  const watchers = new Set<http.ServerResponse>();
  const state: FakeApi = {
    url: '',
    requests: [],
    forbid: false,
    push(event) {
      for (const w of watchers) w.write(JSON.stringify(event) + '\n');
    },
    stop: async () => {
      for (const w of watchers) w.end();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      return;
    }
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/api/v1/namespaces/taskflow/pods') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{}');
      return;
    }
    if (state.forbid) {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods is forbidden: User "system:serviceaccount:taskflow:prometheus" cannot list resource "pods" in API group "" in the namespace "taskflow"', reason: 'Forbidden', details: { kind: 'pods' }, code: 403 }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') {
      watchers.add(res);
      res.on('close', () => watchers.delete(res));
      res.flushHeaders();
      return;
    }
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '200' }, items: pods.map((p) => ({ kind: 'Pod', apiVersion: 'v1', ...p })) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('startPrometheus with pod discovery (TaskFlow prometheus.yml)', () => {
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('discovers the TaskFlow pods, keeps one metrics port each, labels series by app', async () => {
    dir = mkdtempSync(join(tmpdir(), 'promsd-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'prometheus-token\n');
    const ips = { 'backend-api': '127.0.10.1', postgres: '127.0.10.2', redis: '127.0.10.3' };
    const pods = taskflowPods(ips);
    await track(startExporter({ kind: 'backend-api', host: ips['backend-api'], port: 5000 }));
    await track(startExporter({ kind: 'postgres', host: ips.postgres, port: 9187 }));
    await track(startExporter({ kind: 'redis', host: ips.redis, port: 9121 }));
    const api = await track(fakeApiServer(pods, 'prometheus-token'));
    api.forbid = true;

    const prom = await track(
      startPrometheus({
        configYaml: taskflowPrometheusYml(),
        host: '127.0.10.9',
        port: 9090,
        apiServerUrl: api.url,
        caFile: join(dir, 'ca.crt'),
        tokenFile,
        scrapeInterval: '1s',
      }),
    );
    expect(prom.url).toBe('http://127.0.10.9:9090');
    expect(prom.kubernetesSd).toBe((await hasKubernetesSd()) ? 'native' : 'bridge');

    // Without RBAC: Prometheus's log says why there are no targets.
    await eventually('the forbidden list in the log', 10_000, async () =>
      prom.logs().includes('Failed to watch *v1.Pod: failed to list *v1.Pod: pods is forbidden') ? true : undefined,
    );
    expect(api.requests[0]).toMatch(/^GET \/api\/v1\/namespaces\/taskflow\/pods\?limit=500&resourceVersion=0$/);
    expect(await activeTargets(prom)).toEqual([]);

    api.forbid = false;
    const result = await eventually('up{job="kubernetes-pods"} for the three apps', 25_000, async () => {
      const series = await query(prom, 'up{job="kubernetes-pods"} == 1');
      return series.length === 3 ? series : undefined;
    });
    expect(result.map((s) => s.metric.app).sort()).toEqual(['backend-api', 'postgres', 'redis']);
    const postgres = result.find((s) => s.metric.app === 'postgres')!;
    expect(postgres.metric).toMatchObject({ instance: '127.0.10.2:9187', namespace: 'taskflow', pod: pods[1]!.metadata.name });
    expect(api.requests.some((r) => r.includes('watch=true'))).toBe(true);
    expect((await query(prom, 'pg_stat_database_numbackends{app="postgres"}')).length).toBe(1);

    // A pod deleted through the watch disappears from the targets.
    api.push({ type: 'DELETED', object: { kind: 'Pod', apiVersion: 'v1', ...pods[2], metadata: { ...pods[2]!.metadata, resourceVersion: '201' } } });
    await eventually('redis target gone', 15_000, async () => {
      const targets = await activeTargets(prom);
      return targets.length === 2 && !targets.some((t) => t.labels.app === 'redis') ? true : undefined;
    });
    await prom.stop();
  }, 90_000);
});
