/**
 * A Prometheus HTTP API standing for a very large Prometheus (thousands of active targets in
 * many scrape pools), for load tests: the answers have the shapes and sizes of Prometheus 2.42's,
 * built once, without scraping anything. Each target carries the labels a real one has: its
 * discovered labels are those Kubernetes discovery gives (kubernetes-sd.ts, endpoints-sd.ts:
 * every `__meta_kubernetes_*` label of the pod, and of the Service and endpoint for the
 * endpoints role), a few KB per target, as a real Prometheus sends them.
 *
 * `/api/v1/targets` honours `state` and `scrapePool` as web/api/v1/api.go of v2.42.0 does
 * (targets): `state` empty, `any`, `active` or `dropped` (in any case) picks the lists shown, a
 * list not shown is empty (`[]`), and `scrapePool` keeps the active targets of that pool only —
 * an unknown pool gives an empty `activeTargets`. Nothing is dropped here: `droppedTargets`, when
 * shown, is an empty list too (its entries would be `{"discoveredLabels": {…}}`).
 *
 * The answers of the API's routes are compressed for a client that asks, as Prometheus's
 * CompressionHandler does (util/httputil/compression.go): the first of `gzip` and `deflate` (zlib
 * format) in `Accept-Encoding`, error answers included; `/-/ready` and a path no route serves are
 * not. A large compressed answer has no Content-Length (Go's server sends it chunked).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { assertLoopback } from '../exporters/net.js';
import { endpointsTargetGroups, type EndpointsObject, type ServiceObject } from './endpoints-sd.js';
import { podTargetGroups, type PodObject } from './kubernetes-sd.js';

/** One active target as `/api/v1/targets` lists it, fields in Prometheus's order. */
export interface SyntheticTarget {
  readonly discoveredLabels: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly globalUrl: string;
  readonly lastError: string;
  readonly lastScrape: string;
  readonly lastScrapeDuration: number;
  readonly health: string;
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

export interface SyntheticPrometheusOptions {
  readonly host: string;
  readonly port: number;
  /** The active targets, all UP (e.g. podTargets, serviceMonitorTargets). */
  readonly targets: readonly SyntheticTarget[];
  /** What `/api/v1/status/config` answers. */
  readonly configYaml: string;
}

export interface SyntheticPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startSyntheticPrometheus(o: SyntheticPrometheusOptions): Promise<SyntheticPrometheus> {
  assertLoopback(o.host);
  // Each target's JSON once; an answer is a join of those of the pools it shows.
  const byPool = new Map<string, string[]>();
  for (const t of o.targets) {
    const list = byPool.get(t.scrapePool) ?? [];
    list.push(JSON.stringify(t));
    byPool.set(t.scrapePool, list);
  }
  // Prometheus lists the pools sorted by name (sortKeys in api.go).
  const pools = [...byPool.keys()].sort();
  const all = pools.flatMap((p) => byPool.get(p) ?? []).join(',');
  const targetsBody = (active: string) => `{"status":"success","data":{"activeTargets":[${active}],"droppedTargets":[]}}`;
  /** Answers by pool ('' for every pool), made on first use: a 35 MiB answer is not rebuilt per request. */
  const answers = new Map<string, Buffer>();
  const answerOf = (pool: string): Buffer => {
    let body = answers.get(pool);
    if (!body) answers.set(pool, (body = Buffer.from(targetsBody(pool ? (byPool.get(pool) ?? []).join(',') : all))));
    return body;
  };
  const series = o.targets.map((t) => JSON.stringify({ metric: { __name__: 'up', ...t.labels }, value: [Date.now() / 1000, '1'] }));
  const upBody = Buffer.from(`{"status":"success","data":{"resultType":"vector","result":[${series.join(',')}]}}`);

  /** Compressed answers, by encoding, of the bodies sent more than once (the large ones). */
  const compressed = new WeakMap<Buffer, Map<string, Buffer>>();
  const encode = (body: string | Buffer, encoding: 'gzip' | 'deflate'): Buffer => {
    if (typeof body === 'string') return encoding === 'gzip' ? gzipSync(body) : deflateSync(body);
    let byEncoding = compressed.get(body);
    if (!byEncoding) compressed.set(body, (byEncoding = new Map()));
    let out = byEncoding.get(encoding);
    if (!out) byEncoding.set(encoding, (out = encoding === 'gzip' ? gzipSync(body) : deflateSync(body)));
    return out;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const send = (status: number, body: string | Buffer, type = 'application/json') => {
      const encoding = url.pathname.startsWith('/api/v1/') && type === 'application/json' ? acceptedEncoding(req) : undefined;
      if (!encoding) {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const out = encode(body, encoding);
      res.writeHead(status, { 'content-type': type, 'content-encoding': encoding, ...(out.length <= 2048 ? { 'content-length': out.length } : {}) });
      res.end(out);
    };
    let form = '';
    req.on('data', (c: Buffer) => (form += c.toString()));
    req.on('end', () => {
      const query = url.searchParams.get('query') ?? new URLSearchParams(form).get('query') ?? '';
      switch (url.pathname) {
        case '/-/ready':
          return send(200, 'Prometheus Server is Ready.\n', 'text/plain; charset=utf-8');
        case '/api/v1/targets': {
          const state = (url.searchParams.get('state') ?? '').toLowerCase();
          const showActive = state === '' || state === 'any' || state === 'active';
          const pool = url.searchParams.get('scrapePool') ?? '';
          return send(200, showActive ? answerOf(pool) : targetsBody(''));
        }
        case '/api/v1/query':
        case '/api/v1/query_range':
          if (/^\s*1\s*\+\s*1\s*$/.test(query)) return send(200, JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [Date.now() / 1000, '2'] } }));
          // max(timestamp(up…)): one series without labels, the newest sample's own time (the last
          // scrape, within the 15 s interval), evaluated now.
          if (/^max\(timestamp\(.*\)\)$/.test(query.trim())) {
            const now = Date.now() / 1000;
            const result = query.includes('up') ? [{ metric: {}, value: [now, String(Math.floor(now) - 5)] }] : [];
            return send(200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
          }
          return send(200, query.includes('up') ? upBody : JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
        case '/api/v1/status/config':
          return send(200, JSON.stringify({ status: 'success', data: { yaml: o.configYaml } }));
        case '/api/v1/status/buildinfo':
          return send(200, JSON.stringify({ status: 'success', data: { version: '2.42.0', revision: 'synthetic', branch: 'HEAD', goVersion: 'go1.19.5' } }));
        default:
          return send(404, '404 page not found\n', 'text/plain; charset=utf-8');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hex = (seed: number, length: number): string => {
  let out = '';
  let x = (seed * 2654435761) >>> 0 || 1;
  while (out.length < length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += (x >>> 0).toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
};

/** A pod of a Helm-installed Deployment, with the labels, annotations and status a real one has. */
function helmPod(o: { name: string; namespace: string; app: string; release: string; ip: string; port: number; portName: string; seed: number; annotations?: Record<string, string> }): PodObject {
  const hash = hex(o.seed, 10);
  return {
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: `${hex(o.seed + 1, 8)}-${hex(o.seed + 2, 4)}-${hex(o.seed + 3, 4)}-${hex(o.seed + 4, 4)}-${hex(o.seed + 5, 12)}`,
      labels: {
        app: o.app,
        'app.kubernetes.io/name': o.app,
        'app.kubernetes.io/instance': o.release,
        'app.kubernetes.io/version': '1.4.2',
        'app.kubernetes.io/component': 'server',
        'app.kubernetes.io/part-of': o.release,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': `${o.app}-1.4.2`,
        'pod-template-hash': hash,
      },
      annotations: {
        'checksum/config': hex(o.seed + 6, 64),
        'kubectl.kubernetes.io/default-container': o.app,
        'kubectl.kubernetes.io/restartedAt': '2024-03-01T10:00:00Z',
        ...o.annotations,
      },
      ownerReferences: [{ kind: 'ReplicaSet', name: `${o.app}-${hash}`, controller: true }],
    },
    spec: { nodeName: `node-${(o.seed % 3) + 1}`, containers: [{ name: o.app, image: `registry.example.com/${o.release}/${o.app}:1.4.2`, ports: [{ containerPort: o.port, name: o.portName, protocol: 'TCP' }] }] },
    status: {
      phase: 'Running',
      podIP: o.ip,
      hostIP: `10.0.0.${(o.seed % 3) + 1}`,
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: o.app, containerID: `containerd://${hex(o.seed + 7, 64)}` }],
    },
  };
}

/** Labels only: nothing ever connects to these addresses. */
const fakeIp = (i: number): string => `127.${250 + ((i >> 16) & 3)}.${(i >> 8) & 255}.${i & 255}`;

function activeTarget(pool: string, address: string, discovered: Record<string, string>, labels: Record<string, string>, now: string): SyntheticTarget {
  return {
    discoveredLabels: discovered,
    labels,
    scrapePool: pool,
    scrapeUrl: `http://${address}/metrics`,
    globalUrl: `http://${address}/metrics`,
    lastError: '',
    lastScrape: now,
    lastScrapeDuration: 0.003,
    health: 'up',
    scrapeInterval: '15s',
    scrapeTimeout: '10s',
  };
}

/** CompressionHandler's choice: the first `gzip` or `deflate` of Accept-Encoding, exactly (no parameters). */
function acceptedEncoding(req: IncomingMessage): 'gzip' | 'deflate' | undefined {
  for (const part of (req.headers['accept-encoding'] ?? '').split(',')) {
    const value = part.trim();
    if (value === 'gzip' || value === 'deflate') return value;
  }
  return undefined;
}

const scrapeLabels = (job: string): Record<string, string> => ({ __metrics_path__: '/metrics', __scheme__: 'http', __scrape_interval__: '15s', __scrape_timeout__: '10s', job });

/**
 * `count` UP targets of the scrape job `job` (role pod, kubernetes_sd), pods of `apps` in turn, as
 * TaskFlow's kubernetes-pods job labels them (app, instance, job, namespace, pod).
 */
export function podTargets(o: { count: number; job: string; namespace: string; apps: readonly string[] }): SyntheticTarget[] {
  const now = new Date().toISOString();
  return Array.from({ length: o.count }, (_, i) => {
    const app = o.apps[i % o.apps.length] ?? 'app';
    const pod = `${app}-${(i + 100000).toString(36)}-${(i * 7919).toString(36).slice(-5)}`;
    const ip = fakeIp(i);
    const p = helmPod({ name: pod, namespace: o.namespace, app, release: o.namespace, ip, port: 9100, portName: 'metrics', seed: i, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9100', 'prometheus.io/path': '/metrics' } });
    const [group] = podTargetGroups(p);
    const address = group?.targets[0] ?? `${ip}:9100`;
    return activeTarget(o.job, address, { __address__: address, ...group?.labels, ...scrapeLabels(o.job) }, { app, instance: address, job: o.job, namespace: o.namespace, pod }, now);
  });
}

/**
 * `count` UP targets in `pools` scrape pools of ServiceMonitors (`serviceMonitor/<ns>/<name>/0`,
 * role endpoints), one Service per pool, labelled as the Prometheus Operator's relabelling
 * labels them (container, endpoint, instance, job, namespace, pod, service). Returns the targets
 * and the pools' scrape configurations (YAML list entries).
 */
export function serviceMonitorTargets(o: { pools: number; count: number; namespace: string; release: string; firstIndex?: number }): { targets: SyntheticTarget[]; scrapeConfigs: string } {
  const now = new Date().toISOString();
  const targets: SyntheticTarget[] = [];
  let scrapeConfigs = '';
  let n = o.firstIndex ?? 0;
  for (let k = 0; k < o.pools; k++) {
    const size = Math.floor(o.count / o.pools) + (k < o.count % o.pools ? 1 : 0);
    const app = `app-${String(k + 1).padStart(2, '0')}`;
    const service = `${o.release}-${app}`;
    const pool = `serviceMonitor/${o.namespace}/${service}/0`;
    scrapeConfigs += `- job_name: ${pool}\n  honor_timestamps: true\n  scrape_interval: 15s\n  scrape_timeout: 10s\n  metrics_path: /metrics\n  scheme: http\n  kubernetes_sd_configs:\n  - role: endpoints\n    namespaces:\n      names: [${o.namespace}]\n`;
    const svc: ServiceObject = {
      metadata: {
        name: service,
        namespace: o.namespace,
        labels: { app, 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': o.release, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${app}-1.4.2`, release: o.release },
        annotations: { 'meta.helm.sh/release-name': o.release, 'meta.helm.sh/release-namespace': o.namespace },
      },
    };
    const pods = new Map<string, PodObject>();
    const addresses = Array.from({ length: size }, () => {
      const i = n++;
      const name = `${service}-${hex(i, 10)}-${hex(i + 9, 5)}`;
      const ip = fakeIp(i);
      pods.set(name, helmPod({ name, namespace: o.namespace, app, release: o.release, ip, port: 8080, portName: 'http-metrics', seed: i }));
      return { ip, nodeName: `node-${(i % 3) + 1}`, targetRef: { kind: 'Pod', name, namespace: o.namespace } };
    });
    const eps: EndpointsObject = { metadata: { name: service, namespace: o.namespace, labels: svc.metadata.labels }, subsets: [{ addresses, ports: [{ name: 'http-metrics', port: 8080, protocol: 'TCP' }] }] };
    for (const group of endpointsTargetGroups(eps, { service: (_ns, name) => (name === service ? svc : undefined), pod: (_ns, name) => pods.get(name) })) {
      const address = group.targets[0] ?? '';
      const pod = group.labels.__meta_kubernetes_pod_name ?? '';
      targets.push(activeTarget(pool, address, { __address__: address, ...group.labels, ...scrapeLabels(pool) }, { container: app, endpoint: 'http-metrics', instance: address, job: service, namespace: o.namespace, pod, service }, now));
    }
  }
  return { targets, scrapeConfigs };
}

/** Targets as a real Prometheus's `/api/v1/targets?state=active` listed them. */
export async function activeTargetsOf(prometheusUrl: string): Promise<SyntheticTarget[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
  const body = (await res.json()) as { data: { activeTargets: SyntheticTarget[] } };
  return body.data.activeTargets;
}
