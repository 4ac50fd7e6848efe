/**
 * An HTTP server standing for one TaskFlow metrics endpoint: the backend-api app (:5000), the
 * postgres-exporter (:9187) or the redis-exporter (:9121). Serves `/metrics` in the Prometheus
 * text format; `setDown(true)` makes the endpoint fail so that its target goes DOWN.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EXPOSITION_CONTENT_TYPE, renderFamilies } from './exposition.js';
import { assertLoopback } from './net.js';
import { createWorkload, type ExporterKind } from './workloads.js';

export type { ExporterKind } from './workloads.js';

/** How a down endpoint fails: HTTP 500, or the connection reset without an answer. */
export type DownMode = 'error' | 'reset';

export interface ExporterOptions {
  kind: ExporterKind;
  /** A loopback address (127.X.Y.Z), typically the pod IP. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface Exporter {
  /** The scrape URL, `http://host:port/metrics`. */
  url: string;
  /** `host:port`, as Prometheus writes it in the `instance` label. */
  address: string;
  port: number;
  stop(): Promise<void>;
  setDown(down: boolean, mode?: DownMode): void;
}

const LANDING: Record<ExporterKind, string> = {
  'backend-api': 'TaskFlow backend-api',
  postgres: 'Postgres Exporter',
  redis: 'Redis Exporter',
};

export async function startExporter(opts: ExporterOptions): Promise<Exporter> {
  assertLoopback(opts.host);
  const workload = createWorkload(opts.kind);
  let down: DownMode | undefined;
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
      const body = renderFamilies(workload.collect(Date.now()));
      res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : body);
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
