/**
 * A Prometheus pod whose Kubernetes discovery is bridged answers its HTTP API as a Prometheus
 * with Kubernetes discovery would: `/api/v1/status/config` shows the `kubernetes_sd_configs` it
 * was given (marshalled as Prometheus 2.42 marshals them), the targets carry no trace of the
 * HTTP discovery, the flags show the pod's address; every other request passes through the
 * front unchanged. The marshalling is checked against the installed Prometheus itself where it
 * can show the same values (strings of relabel rules, the HTTP client of http_sd_configs).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import { startExporter, type Exporter, type ExporterKind } from '../../sim/exporters/exporter.js';
import { KubeApiServer, type KubeObject } from '../../sim/kube/index.js';
import { monitoringCrds } from '../../sim/operator/crds.js';
import { BridgeView } from '../../sim/prometheus/bridge-view.js';
import type { BridgedEntry } from '../../sim/prometheus/config.js';
import { goJson } from '../../sim/prometheus/go-json.js';
import { goYamlEntry, map, seq, str } from '../../sim/prometheus/go-yaml.js';
import { httpClientEntries } from '../../sim/prometheus/kubernetes-sd-yaml.js';
import { startPrometheus, type PrometheusServer } from '../../sim/prometheus/launcher.js';
import { operatedPrometheusPods, startOperatedPrometheus, type OperatedPrometheus } from '../../sim/prometheus/operated.js';

type Obj = Record<string, any>;

const TASKFLOW = join(new URL('../../', import.meta.url).pathname, 'examples/taskflow');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  localPort: number;
}

function request(url: string, opts: { method?: string; headers?: Record<string, string>; agent?: http.Agent | false; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), localPort: req.socket?.localPort ?? 0 }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function json(url: string): Promise<Obj> {
  return JSON.parse((await request(url)).body.toString('utf8')) as Obj;
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
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The address the Prometheus process itself listens on (behind the front). */
function processUrl(prom: PrometheusServer): string {
  const flag = prom.process.spawnargs.find((a) => a.startsWith('--web.listen-address='))!;
  return `http://${flag.slice('--web.listen-address='.length)}`;
}

function configDir(prom: PrometheusServer): string {
  return dirname(prom.process.spawnargs.find((a) => a.startsWith('--config.file='))!.slice('--config.file='.length));
}

async function statusConfig(url: string): Promise<string> {
  return (await json(`${url}/api/v1/status/config`)).data.yaml as string;
}

/** The lines of the block that starts with `start` (a whole line) and ends before the next line indented at most as much. */
function block(yaml: string, start: string): string {
  const lines = yaml.split('\n');
  const at = lines.indexOf(start);
  if (at < 0) throw new Error(`no line ${JSON.stringify(start)} in\n${yaml}`);
  const indent = start.length - start.trimStart().length;
  let end = at + 1;
  while (end < lines.length && (lines[end] === '' || lines[end]!.length - lines[end]!.trimStart().length > indent || lines[end]!.startsWith(`${' '.repeat(indent)}- `))) end++;
  while (lines[end - 1] === '') end--;
  return lines.slice(at, end).join('\n');
}

const stoppers: Array<() => Promise<void>> = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('the marshalling, against the installed Prometheus', () => {
  // (An empty replacement is omitted; the empty oauth2 client_secret_file below shows "".)
  const strings = [
    'plain', 'true', 'yes', 'Off', 'null', '~', '123', '1.5', '0x1F', '1_000', '.5', '.inf', '2024-01-02', '1:30', '<<',
    'a: b', 'a:b', 'key:', 'a #b', 'a#b', '#x', '- x', '-x', '*', '&a', '!x', '@x', '%x', '`x', '[x]', '{x}', 'a,b', '---', '...',
    ' lead', 'trail ', "it's", "'quoted'", '"dq"', 'back\\slash', 'tab\there', 'line1\nline2', 'line1\nline2\n', '\nlead', 'ünïcödé', '😀',
    'http://user:pw@host:9090/path?q=1&r=2',
    'app.kubernetes.io/name in (alpha, beta, gamma, delta, epsilon, zeta, eta, theta, iota, kappa, lambda, mu)',
    'it\'s a long string with spaces that goes past the eightieth column, so it is folded: here',
    'a long string with a\ttab that goes past the eightieth column and is written double quoted, folded',
  ];
  const httpSd: Obj[] = [
    { url: 'http://127.0.0.1:1/a', authorization: { credentials: 'abc' }, tls_config: { ca_file: 'ca.crt', server_name: 'api', insecure_skip_verify: true } },
    { url: 'http://127.0.0.1:1/b', bearer_token_file: 'token' },
    { url: 'http://127.0.0.1:1/c', bearer_token: 'tok', follow_redirects: false },
    { url: 'http://127.0.0.1:1/d', basic_auth: { username: 'u', password: 'p' }, enable_http2: false, tls_config: { cert_file: '/abs/c.crt', key_file: 'k.key' } },
    { url: 'http://127.0.0.1:1/e', basic_auth: { username: 'u', password_file: '/p' }, proxy_url: 'http://user:pw@proxy:3128' },
    { url: 'http://127.0.0.1:1/f', oauth2: { client_id: 'id', client_secret: 's', token_url: 'http://x/token', scopes: ['a', 'b'], endpoint_params: { b: '2', a: '1' } } },
    { url: 'http://127.0.0.1:1/g', authorization: { type: 'Token', credentials_file: 'cred' } },
  ];
  let prom: PrometheusServer;
  let yaml: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-status-'));
    dirs.push(dir);
    const configYaml = YAML.stringify({
      scrape_configs: [
        {
          job_name: 'strings',
          static_configs: [{ targets: ['127.0.0.1:1'] }],
          relabel_configs: strings.map((s, i) => ({ target_label: `t${i}`, replacement: s })),
          http_sd_configs: httpSd,
        },
        // Scrape configs validate their HTTP client (config.go ScrapeConfig.Validate).
        ...httpSd.map((sd, i) => {
          const { url: _url, ...client } = sd;
          return { job_name: `client-${i}`, ...client, static_configs: [{ targets: ['127.0.0.1:1'] }] };
        }),
      ],
    });
    prom = await startPrometheus({ configYaml, host: '127.0.0.1', port: 0, apiServerUrl: 'https://127.0.0.1:1', caFile: join(dir, 'ca'), tokenFile: join(dir, 't'), kubernetesSd: 'bridge' });
    stoppers.push(() => prom.stop());
    yaml = await statusConfig(prom.url);
  }, 30_000);

  it('writes strings in the style, quoting and folding of yaml.v2', () => {
    strings.forEach((s, i) => {
      const start = yaml.indexOf(`    target_label: t${i}\n`);
      expect(start).toBeGreaterThan(0);
      const from = yaml.indexOf('    replacement:', start);
      const to = yaml.indexOf('\n    action: replace', from);
      expect([s, yaml.slice(from, to)]).toEqual([s, goYamlEntry('replacement', str(s), 4).replace(/\n$/, '')]);
    });
  });

  it('writes an HTTP client configuration as prometheus/common does (defaults, <secret>, joined paths)', () => {
    const dir = configDir(prom);
    const expected = seq(httpSd.map((sd) => map([...httpClientEntries(sd, dir, false), ['refresh_interval', str('1m')], ['url', str(sd.url as string)]])));
    expect(block(yaml, '  http_sd_configs:')).toBe(goYamlEntry('http_sd_configs', expected, 2).replace(/\n$/, ''));
  });

  it('writes a validated HTTP client configuration as Prometheus does (bearer_token as authorization, type Bearer)', () => {
    const dir = configDir(prom);
    httpSd.forEach((sd, i) => {
      const job = yaml.slice(yaml.indexOf(`- job_name: client-${i}\n`));
      const from = job.indexOf('  scheme: http\n') + '  scheme: http\n'.length;
      const shown = job.slice(from, job.indexOf('  static_configs:\n'));
      const expected = httpClientEntries(sd, dir).map(([k, v]) => goYamlEntry(k, v, 2)).join('');
      expect([i, shown]).toEqual([i, expected]);
    });
  });

  it('re-encodes an answer byte for byte as the API writes JSON', async () => {
    const raw = (await request(`${processUrl(prom)}/api/v1/status/config`)).body.toString('utf8');
    expect(raw).toContain('\\u003csecret\\u003e');
    expect(goJson(JSON.parse(raw))).toBe(raw);
    const flags = (await request(`${processUrl(prom)}/api/v1/status/flags`)).body.toString('utf8');
    expect(goJson(JSON.parse(flags))).toBe(flags);
  });

  it('leaves a configuration without bridged discovery as the process answers it', async () => {
    expect((await request(`${prom.url}/api/v1/status/config`)).body).toEqual((await request(`${processUrl(prom)}/api/v1/status/config`)).body);
  });
});

// ---------------------------------------------------------------------------------------------

describe('BridgeView', () => {
  const entry = (namespaces: string[]): Obj => ({ role: 'endpoints', namespaces: { names: namespaces } });
  const source = (url: string, index: number, e: Obj): BridgedEntry => ({ url, index, entry: e });
  const view = new BridgeView({ sdBaseUrl: 'http://127.0.0.9:4000', configDir: '/etc/prometheus' });
  view.add([
    source('http://127.0.0.9:4000/sd/0/1', 1, { role: 'pod', namespaces: { own_namespace: true }, selectors: [{ role: 'pod', label: 'app=x' }] }),
    source('http://127.0.0.9:4000/sd/0/0', 0, entry(['a', 'b'])),
    source('http://127.0.0.9:4000/sd/alerting/0/0', 0, { role: 'endpoints', bearer_token_file: 'token', api_server: 'https://u:p@api:6443' }),
  ]);

  it('puts kubernetes_sd_configs between the discovery keys that sort around it, keeping the other http_sd_configs', () => {
    const yaml = [
      'alerting:',
      '  alertmanagers:',
      '  - follow_redirects: true',
      '    api_version: v2',
      '    http_sd_configs:',
      '    - follow_redirects: true',
      '      url: http://127.0.0.9:4000/sd/alerting/0/0',
      'scrape_configs:',
      '- job_name: j',
      '  relabel_configs:',
      '  - action: keep',
      '  http_sd_configs:',
      '  - follow_redirects: true',
      '    url: http://127.0.0.9:4000/sd/0/0',
      '  - follow_redirects: true',
      '    url: http://other/sd',
      '  - follow_redirects: true',
      '    url: http://127.0.0.9:4000/sd/0/1',
      '  ionos_sd_configs:',
      '  - datacenter_id: x',
      '  static_configs:',
      '  - targets:',
      '    - a:1',
      '- job_name: k',
      '',
    ].join('\n');
    expect(view.statusConfigYaml(yaml)).toBe(
      [
        'alerting:',
        '  alertmanagers:',
        '  - follow_redirects: true',
        '    api_version: v2',
        '    kubernetes_sd_configs:',
        '    - api_server: https://u:xxxxx@api:6443',
        '      role: endpoints',
        '      kubeconfig_file: ""',
        '      authorization:',
        '        type: Bearer',
        '        credentials_file: /etc/prometheus/token',
        '      follow_redirects: true',
        '      enable_http2: true',
        'scrape_configs:',
        '- job_name: j',
        '  relabel_configs:',
        '  - action: keep',
        '  http_sd_configs:',
        '  - follow_redirects: true',
        '    url: http://other/sd',
        '  ionos_sd_configs:',
        '  - datacenter_id: x',
        '  kubernetes_sd_configs:',
        '  - role: endpoints',
        '    kubeconfig_file: ""',
        '    follow_redirects: true',
        '    enable_http2: true',
        '    namespaces:',
        '      own_namespace: false',
        '      names:',
        '      - a',
        '      - b',
        '  - role: pod',
        '    kubeconfig_file: ""',
        '    follow_redirects: true',
        '    enable_http2: true',
        '    namespaces:',
        '      own_namespace: true',
        '      names: []',
        '    selectors:',
        '    - role: pod',
        '      label: app=x',
        '  static_configs:',
        '  - targets:',
        '    - a:1',
        '- job_name: k',
        '',
      ].join('\n'),
    );
  });

  it('drops the SD URL from the discovered labels, wherever it sorts', () => {
    const body = '{"a":[{"discoveredLabels":{"__address__":"x","__meta_url":"http://127.0.0.9:4000/sd/0/0","__scheme__":"http"}},{"discoveredLabels":{"__meta_url":"http://127.0.0.9:4000/sd/0/1"}},{"discoveredLabels":{"__meta_url":"http://127.0.0.9:4000/sd/0/1","b":"c"}},{"discoveredLabels":{"a":"b","__meta_url":"http://mine/sd"}}]}';
    expect(view.targetsJson(body)).toBe('{"a":[{"discoveredLabels":{"__address__":"x","__scheme__":"http"}},{"discoveredLabels":{}},{"discoveredLabels":{"b":"c"}},{"discoveredLabels":{"a":"b","__meta_url":"http://mine/sd"}}]}');
  });
});

// ---------------------------------------------------------------------------------------------

function readManifests(filter: (file: string) => boolean): string {
  return readdirSync(TASKFLOW)
    .filter((f) => f.endsWith('.yaml') && filter(f))
    .sort()
    .map((f) => readFileSync(join(TASKFLOW, f), 'utf8'))
    .join('\n---\n');
}

const TASKFLOW_SD_BLOCK = [
  '  kubernetes_sd_configs:',
  '  - role: pod',
  '    kubeconfig_file: ""',
  '    follow_redirects: true',
  '    enable_http2: true',
  '    namespaces:',
  '      own_namespace: false',
  '      names:',
  '      - taskflow',
].join('\n');

describe('a TaskFlow Prometheus pod (role pod), through its front', () => {
  let api: KubeApiServer;
  let prom: PrometheusServer;
  let configMapYaml: string;
  let podIp: string;
  const ipOf = (pod: KubeObject): string => (pod.status as Obj).podIP as string;

  beforeAll(async () => {
    api = new KubeApiServer({ manifests: readManifests(() => true), ipBase: '127.0.60' });
    await api.start();
    stoppers.push(() => api.stop());
    const dir = mkdtempSync(join(tmpdir(), 'prom-status-kube-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'ca.crt'), api.caPem);
    writeFileSync(join(dir, 'token'), api.serviceAccountToken('taskflow', 'prometheus'));
    const pods = api.store.list('Pod', 'taskflow') as KubeObject[];
    for (const app of ['backend-api', 'postgres', 'redis'] as ExporterKind[]) {
      const pod = pods.find((p) => p.metadata.labels?.app === app)!;
      const exporter: Exporter = await startExporter({ kind: app, host: ipOf(pod), port: Number(pod.metadata.annotations!['prometheus.io/port']) });
      stoppers.push(() => exporter.stop());
    }
    podIp = ipOf(pods.find((p) => p.metadata.labels?.app === 'prometheus')!);
    configMapYaml = (api.store.get('ConfigMap', 'taskflow', 'prometheus-config') as Obj).data['prometheus.yml'];
    prom = await startPrometheus({
      configYaml: configMapYaml,
      host: podIp,
      port: 9090,
      apiServerUrl: api.url,
      caFile: join(dir, 'ca.crt'),
      tokenFile: join(dir, 'token'),
      scrapeInterval: '1s',
      namespace: 'taskflow',
      kubernetesSd: 'bridge',
      extraArgs: ['--web.enable-lifecycle'],
    });
    stoppers.push(() => prom.stop());
  }, 60_000);

  it('listens on the pod address; the process behind it elsewhere', () => {
    expect(prom.url).toBe(`http://${podIp}:9090`);
    expect(processUrl(prom)).toMatch(new RegExp(`^http://${podIp.replaceAll('.', '\\.')}:(?!9090$)\\d+$`));
  });

  it('shows the job\'s kubernetes_sd_configs with its namespaces, the rest as Prometheus wrote it', async () => {
    const shown = await statusConfig(prom.url);
    const job = (YAML.parse(shown) as Obj).scrape_configs[0] as Obj;
    expect(job.job_name).toBe('kubernetes-pods');
    expect(job.http_sd_configs).toBeUndefined();
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', kubeconfig_file: '', follow_redirects: true, enable_http2: true, namespaces: { own_namespace: false, names: ['taskflow'] } }]);
    // Where the marshaller writes it: after relabel_configs, the job's last key.
    expect(shown.endsWith(`\n${TASKFLOW_SD_BLOCK}\n`)).toBe(true);
    expect(shown).not.toContain('http_sd_configs');
    const own = await statusConfig(processUrl(prom));
    expect(shown.replace(`${TASKFLOW_SD_BLOCK}\n`, '')).toBe(own.replace(`${block(own, '  http_sd_configs:')}\n`, ''));
  });

  it('sends the rewritten answer compressed when asked, with its new length', async () => {
    const plain = await request(`${prom.url}/api/v1/status/config`);
    const gz = await request(`${prom.url}/api/v1/status/config`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body)).toEqual(plain.body);
    expect(plain.body.toString()).toContain('kubernetes_sd_configs:');
    expect(plain.headers['content-type']).toBe('application/json');
    expect(Number(plain.headers['content-length'] ?? plain.body.length)).toBe(plain.body.length);
    expect(plain.headers['keep-alive']).toBeUndefined();
  });

  it('serves targets and queries; the discovered labels are those of Kubernetes discovery only', async () => {
    const targets = await eventually('three UP targets', 30_000, async () => {
      const active = (await json(`${prom.url}/api/v1/targets`)).data.activeTargets as Obj[];
      return active.length === 3 && active.every((t) => t.health === 'up') ? active : undefined;
    });
    for (const t of targets) {
      expect(t.discoveredLabels.__meta_url).toBeUndefined();
      expect(t.discoveredLabels.__meta_kubernetes_namespace).toBe('taskflow');
      expect(t.scrapeUrl).toBe(`http://${t.labels.instance}/metrics`);
      expect(t.globalUrl).toBe(t.scrapeUrl);
    }
    const dropped = (await json(`${prom.url}/api/v1/targets?state=dropped`)).data.droppedTargets as Obj[];
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.filter((t) => '__meta_url' in t.discoveredLabels)).toEqual([]);
    // The process itself does show it: the front is what hides it.
    const own = (await json(`${processUrl(prom)}/api/v1/targets`)).data.activeTargets as Obj[];
    expect(own[0]!.discoveredLabels.__meta_url).toMatch(/^http:\/\/.+\/sd\/0\/0$/);

    const up = (await json(`${prom.url}/api/v1/query?query=${encodeURIComponent('up{job="kubernetes-pods"} == 1')}`)).data.result as Obj[];
    expect(up.map((s) => s.metric.app).sort()).toEqual(['backend-api', 'postgres', 'redis']);
  }, 40_000);

  it('shows the flags of a Prometheus listening on the pod address', async () => {
    const flags = (await json(`${prom.url}/api/v1/status/flags`)).data as Record<string, string>;
    expect(flags['web.listen-address']).toBe(`${podIp}:9090`);
    expect(flags['web.external-url']).toBe('');
    expect(flags['web.enable-lifecycle']).toBe('true');
  });

  it('passes everything else through: errors, other methods, keep-alive', async () => {
    const missing = await request(`${prom.url}/api/v1/status/nope`);
    const own = await request(`${processUrl(prom)}/api/v1/status/nope`);
    expect([missing.status, missing.body.toString()]).toEqual([own.status, own.body.toString()]);
    const post = await request(`${prom.url}/api/v1/query`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'query=1%2B1' });
    expect(JSON.parse(post.body.toString()).data.result[1]).toBe('2');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await request(`${prom.url}/-/healthy`, { agent });
      const b = await request(`${prom.url}/-/ready`, { agent });
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.localPort).toBe(a.localPort);
    } finally {
      agent.destroy();
    }
  });

  it('passes POST /-/reload to Prometheus, and shows a reloaded configuration', async () => {
    const reload = await request(`${prom.url}/-/reload`, { method: 'POST' });
    expect(reload.status).toBe(200);
    const staging = configMapYaml.replace(/^( *)- taskflow$/m, '$1- taskflow\n$1- staging');
    expect(staging).not.toBe(configMapYaml);
    await prom.reload(staging);
    const job = (YAML.parse(await statusConfig(prom.url)) as Obj).scrape_configs[0] as Obj;
    expect(job.kubernetes_sd_configs).toEqual([expect.objectContaining({ role: 'pod', namespaces: { own_namespace: false, names: ['taskflow', 'staging'] } })]);
    expect(job.http_sd_configs).toBeUndefined();
    await prom.reload(configMapYaml);
    const back = (YAML.parse(await statusConfig(prom.url)) as Obj).scrape_configs[0] as Obj;
    expect(back.kubernetes_sd_configs[0].namespaces.names).toEqual(['taskflow']);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------

const OPERATOR_MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: monitoring }
---
apiVersion: v1
kind: Namespace
metadata: { name: apps }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: prometheus-k8s, namespace: monitoring }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: prometheus-k8s }
rules:
- apiGroups: [""]
  resources: [services, endpoints, pods]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: prometheus-k8s }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: prometheus-k8s }
subjects: [{ kind: ServiceAccount, name: prometheus-k8s, namespace: monitoring }]
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: { name: k8s, namespace: monitoring }
spec:
  replicas: 1
  serviceAccountName: prometheus-k8s
  scrapeInterval: 1s
  serviceMonitorSelector: {}
  serviceMonitorNamespaceSelector: {}
  alerting:
    alertmanagers: [{ namespace: monitoring, name: alertmanager-main, port: web }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: redis, namespace: apps }
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
metadata: { name: redis-metrics, namespace: apps, labels: { app.kubernetes.io/name: redis } }
spec:
  selector: { app: redis }
  ports: [{ name: http-metrics, port: 9121, targetPort: metrics }]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: redis, namespace: apps }
spec:
  serviceDiscoveryRole: EndpointSlice
  selector: { matchLabels: { app.kubernetes.io/name: redis } }
  endpoints: [{ port: http-metrics }]
`;

describe('an operator Prometheus pod (role endpointslice), through its front', () => {
  let api: KubeApiServer;
  let prom: OperatedPrometheus;

  beforeAll(async () => {
    api = new KubeApiServer({ ipBase: '127.0.61' });
    for (const crd of monitoringCrds()) api.store.apply(crd);
    api.store.loadYaml(OPERATOR_MANIFESTS);
    await api.start();
    stoppers.push(() => api.stop());
    const redis = api.store.list('Pod', 'apps', 'app=redis')[0]!;
    const exporter = await startExporter({ kind: 'redis', host: (redis.status as Obj).podIP as string, port: 9121 });
    stoppers.push(() => exporter.stop());
    const [pod] = operatedPrometheusPods(api, 'monitoring');
    prom = await startOperatedPrometheus({ api, namespace: 'monitoring', pod: pod!.metadata.name, kubernetesSd: 'bridge' });
    stoppers.push(() => prom.stop());
  }, 60_000);

  it('shows the ServiceMonitor job and the Alertmanagers with their kubernetes_sd_configs', async () => {
    const shown = await statusConfig(prom.url);
    const config = YAML.parse(shown) as Obj;
    const job = (config.scrape_configs as Obj[]).find((j) => j.job_name === 'serviceMonitor/apps/redis/0')!;
    expect(job.http_sd_configs).toBeUndefined();
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', kubeconfig_file: '', follow_redirects: true, enable_http2: true, namespaces: { own_namespace: false, names: ['apps'] } }]);
    const [am] = config.alerting.alertmanagers as Obj[];
    expect(am!.http_sd_configs).toBeUndefined();
    expect(am!.kubernetes_sd_configs).toEqual([{ role: 'endpoints', kubeconfig_file: '', follow_redirects: true, enable_http2: true, namespaces: { own_namespace: false, names: ['monitoring'] } }]);
    expect(shown).not.toContain('http_sd_configs');
    // After the job's relabel rules, as the marshaller writes discovery last.
    const jobText = shown.slice(shown.indexOf('- job_name: serviceMonitor/apps/redis/0'));
    expect(jobText.indexOf('  relabel_configs:')).toBeLessThan(jobText.indexOf('  kubernetes_sd_configs:'));
  });

  it('scrapes the EndpointSlice targets, discovered labels without the SD URL', async () => {
    const target = await eventually('an UP target in serviceMonitor/apps/redis/0', 30_000, async () => {
      const active = (await json(`${prom.url}/api/v1/targets?state=active`)).data.activeTargets as Obj[];
      return active.find((t) => t.scrapePool === 'serviceMonitor/apps/redis/0' && t.health === 'up');
    });
    expect(target.discoveredLabels.__meta_kubernetes_endpointslice_port_name).toBe('http-metrics');
    expect(target.discoveredLabels.__meta_url).toBeUndefined();
  }, 40_000);

  it('reloads through the front when the ServiceMonitor changes, and shows the new namespaces', async () => {
    const sm = api.store.get('ServiceMonitor', 'apps', 'redis')!;
    api.store.apply({ ...sm, spec: { ...(sm.spec as Obj), namespaceSelector: { matchNames: ['apps', 'staging'] } } });
    await eventually('the reloaded configuration', 20_000, async () => {
      await prom.synced();
      const config = YAML.parse(await statusConfig(prom.url)) as Obj;
      const job = (config.scrape_configs as Obj[]).find((j) => j.job_name === 'serviceMonitor/apps/redis/0');
      return job?.kubernetes_sd_configs?.[0]?.namespaces?.names?.length === 2 ? job : undefined;
    });
    expect(prom.reloads()).toBeGreaterThan(0);
    expect(prom.logs()).toContain('Completed loading of configuration file');
  }, 30_000);

  it('stops: connections kept alive are closed, the pod address refuses new ones, the process is gone', async () => {
    const pid = prom.server.process.pid!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const kept = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const req = http.get(`${prom.url}/-/healthy`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
    });
    const closed = new Promise<void>((resolve) => kept.once('close', () => resolve()));
    expect(kept.destroyed).toBe(false);
    await prom.stop();
    await closed;
    agent.destroy();
    await expect(request(`${prom.url}/-/healthy`)).rejects.toThrow(/ECONNREFUSED/);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
