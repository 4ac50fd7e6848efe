/**
 * An HTTP server standing for one metrics endpoint: a TaskFlow endpoint (the backend-api app
 * :5000, the postgres-exporter :9187, the redis-exporter :9121) or a monitoring stack's exporter
 * (node-exporter, kube-state-metrics and its telemetry port, prometheus-config-reloader,
 * prometheus-operator; see pods.ts for which pod runs which). Serves `/metrics` in the Prometheus
 * text format, and the health paths the real program answers; `setDown(true)` makes the endpoint
 * fail so that its target goes DOWN.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EXPOSITION_CONTENT_TYPE, renderFamilies, type MetricFamily } from './exposition.js';
import { assertLoopback } from './net.js';
import { createWorkload, type AnyExporterKind, type StackWorkloadContext } from './workloads.js';

export type { AnyExporterKind, ExporterKind, StackExporterKind, StackWorkloadContext } from './workloads.js';

/** How a down endpoint fails: HTTP 500, or the connection reset without an answer. */
export type DownMode = 'error' | 'reset';

export interface ExporterOptions {
  kind: AnyExporterKind;
  /** A loopback address (127.X.Y.Z), typically the pod IP. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** What a stack exporter reads about its pod and the cluster (ignored by the TaskFlow kinds). */
  context?: StackWorkloadContext;
}

export interface Exporter {
  /** The scrape URL, `http://host:port/metrics`. */
  url: string;
  /** `host:port`, as Prometheus writes it in the `instance` label. */
  address: string;
  port: number;
  stop(): Promise<void>;
  setDown(down: boolean, mode?: DownMode): void;
  /**
   * From now on also exposes the counter `name`, a value the app relays from elsewhere (a worker
   * reporting to it) with the time it was taken there as an explicit timestamp, `lagMs` in the
   * past (that worker's clock is behind). The target stays UP; what Prometheus stores of `name`
   * is `lagMs` old. A family new to the scrape, so no sample of it was stored at the scrape's
   * time before (an older sample of a series that has a newer one is dropped as out of order).
   */
  relayStamped(name: string, help: string, lagMs: number): void;
}

const LANDING: Record<AnyExporterKind, string> = {
  'backend-api': 'TaskFlow backend-api',
  postgres: 'Postgres Exporter',
  redis: 'Redis Exporter',
  'node-exporter': 'Node Exporter',
  'kube-state-metrics': 'kube-state-metrics',
  'kube-state-metrics-telemetry': 'kube-state-metrics',
  'prometheus-config-reloader': 'prometheus-config-reloader',
  'prometheus-operator': 'Prometheus Operator',
};

/**
 * Health paths the real programs serve besides /metrics, and their answers: kube-state-metrics'
 * /healthz, /livez, /readyz (pkg/app/server.go), the config reloader's /healthz
 * (cmd/prometheus-config-reloader/main.go), the operator's empty 200 /healthz (cmd/operator/main.go).
 */
const HEALTH: Partial<Record<AnyExporterKind, Record<string, { type: string; body: string }>>> = {
  'kube-state-metrics': {
    '/healthz': { type: 'text/plain; charset=utf-8', body: 'OK' },
    '/livez': { type: 'text/plain; charset=utf-8', body: 'OK' },
  },
  'kube-state-metrics-telemetry': { '/readyz': { type: 'text/plain; charset=utf-8', body: 'OK' } },
  'prometheus-config-reloader': { '/healthz': { type: 'text/plain; charset=utf-8', body: '{"status":"up"}' } },
  'prometheus-operator': { '/healthz': { type: 'text/plain; charset=utf-8', body: '' } },
};

export async function startExporter(opts: ExporterOptions): Promise<Exporter> {
  assertLoopback(opts.host);
  const workload = createWorkload(opts.kind, Date.now(), opts.context);
  const health = HEALTH[opts.kind] ?? {};
  let down: DownMode | undefined;
  const relayed: { name: string; help: string; lagMs: number; value: number }[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (down === 'reset') {
      req.socket.destroy();
      return;
    }
    if (path === '/metrics') {
      if (down === 'error') {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${opts.kind}: collecting metrics failed\n`);
        return;
      }
      const now = Date.now();
      const stamped = relayed.map((r): MetricFamily => ({ name: r.name, help: r.help, type: 'counter', samples: [{ value: (r.value += 1), timestampMs: now - r.lagMs }] }));
      const body = renderFamilies([...workload.collect(now), ...stamped]);
      res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const probe = health[path];
    if (probe && !down) {
      res.writeHead(200, { 'Content-Type': probe.type });
      res.end(probe.body);
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<html><head><title>${LANDING[opts.kind]}</title></head><body><a href="/metrics">Metrics</a></body></html>\n`);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const address = `${opts.host}:${port}`;

  return {
    url: `http://${address}/metrics`,
    address,
    port,
    relayStamped(name: string, help: string, lagMs: number) {
      relayed.push({ name, help, lagMs, value: 0 });
    },
    setDown(value: boolean, mode: DownMode = 'error') {
      down = value ? mode : undefined;
      if (down === 'reset') for (const socket of sockets) socket.destroy();
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
