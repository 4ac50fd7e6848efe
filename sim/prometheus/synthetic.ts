/**
 * A Prometheus HTTP API standing for a very large Prometheus (tens of thousands of active
 * targets), for load tests: the answers have the shapes and sizes of Prometheus 2.42's, built
 * once, without scraping anything.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertLoopback } from '../exporters/net.js';

export interface SyntheticPrometheusOptions {
  readonly host: string;
  readonly port: number;
  /** Number of active targets, all UP. */
  readonly targets: number;
  readonly job: string;
  readonly namespace: string;
  /** Values of the targets' `app` label, used in turn. */
  readonly apps: readonly string[];
}

export interface SyntheticPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startSyntheticPrometheus(o: SyntheticPrometheusOptions): Promise<SyntheticPrometheus> {
  assertLoopback(o.host);
  const now = new Date().toISOString();
  const targets = Array.from({ length: o.targets }, (_, i) => target(o, i, now));
  const targetsBody = JSON.stringify({ status: 'success', data: { activeTargets: targets, droppedTargets: [] } });
  const series = targets.map((t) => ({ metric: { __name__: 'up', ...t.labels }, value: [Date.now() / 1000, '1'] }));
  const upBody = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: series } });
  const config = `global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: ${o.job}\n  kubernetes_sd_configs:\n  - role: pod\n    namespaces:\n      names: [${o.namespace}]\n`;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    let form = '';
    req.on('data', (c: Buffer) => (form += c.toString()));
    req.on('end', () => {
      const query = url.searchParams.get('query') ?? new URLSearchParams(form).get('query') ?? '';
      switch (url.pathname) {
        case '/-/ready':
          return send(200, 'Prometheus Server is Ready.\n', 'text/plain; charset=utf-8');
        case '/api/v1/targets':
          return send(200, targetsBody);
        case '/api/v1/query':
        case '/api/v1/query_range':
          if (/^\s*1\s*\+\s*1\s*$/.test(query)) return send(200, JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [Date.now() / 1000, '2'] } }));
          return send(200, query.includes('up') ? upBody : JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
        case '/api/v1/status/config':
          return send(200, JSON.stringify({ status: 'success', data: { yaml: config } }));
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

/** One UP target as `/api/v1/targets` lists a pod discovered by kubernetes_sd. */
function target(o: SyntheticPrometheusOptions, i: number, now: string) {
  const app = o.apps[i % o.apps.length] ?? 'app';
  const pod = `${app}-${(i + 100000).toString(36)}-${(i * 7919).toString(36).slice(-5)}`;
  // Labels only: nothing ever connects to these addresses.
  const ip = `127.${250 + ((i >> 16) & 3)}.${(i >> 8) & 255}.${i & 255}`;
  const instance = `${ip}:9100`;
  return {
    discoveredLabels: {
      __address__: instance,
      __meta_kubernetes_namespace: o.namespace,
      __meta_kubernetes_pod_container_name: app,
      __meta_kubernetes_pod_container_port_number: '9100',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_label_app: app,
      __meta_kubernetes_pod_name: pod,
      __meta_kubernetes_pod_node_name: 'node-1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __metrics_path__: '/metrics',
      __scheme__: 'http',
      job: o.job,
    },
    labels: { app, instance, job: o.job, namespace: o.namespace, pod },
    scrapePool: o.job,
    scrapeUrl: `http://${instance}/metrics`,
    globalUrl: `http://${instance}/metrics`,
    lastError: '',
    lastScrape: now,
    lastScrapeDuration: 0.003,
    health: 'up',
    scrapeInterval: '15s',
    scrapeTimeout: '10s',
  };
}
