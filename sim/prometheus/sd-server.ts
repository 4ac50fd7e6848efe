/**
 * HTTP service discovery endpoint (Prometheus `http_sd_configs`): serves, for each replaced
 * `kubernetes_sd_configs` entry, the targets its pod discovery currently knows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterAccess, KubernetesSdSpec } from './config.js';
import { logfmt } from './logfmt.js';
import { PodDiscovery, type TargetGroup } from './kubernetes-sd.js';

export interface SdServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Starts discovery for the given entries, each served on its path. */
  serve(sources: Array<KubernetesSdSpec & { path: string }>): void;
  stop(): Promise<void>;
}

export async function startSdServer(host: string, access: ClusterAccess, log: (line: string) => void): Promise<SdServer> {
  const routes = new Map<string, () => TargetGroup[]>();
  const discoveries: PodDiscovery[] = [];

  const server = http.createServer((req, res) => {
    const groups = routes.get((req.url ?? '').split('?')[0]!);
    if (!groups) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(groups()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  // Serving discovery never keeps the caller alive by itself.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    serve(sources) {
      for (const source of sources) {
        if (source.role !== 'pod') {
          log(
            logfmt('kubernetes.go', 'error', {
              component: 'discovery manager scrape',
              discovery: 'kubernetes',
              config: source.jobName,
              msg: `role "${source.role}" is not discovered in this environment (only "pod"): no targets`,
            }),
          );
          routes.set(source.path, () => []);
          continue;
        }
        const discovery = new PodDiscovery({ ...access, namespaces: source.namespaces, selectors: source.selectors, log });
        discoveries.push(discovery);
        routes.set(source.path, () => discovery.targetGroups());
        discovery.start();
      }
    },
    stop() {
      for (const discovery of discoveries) discovery.stop();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
