/**
 * HTTP service discovery endpoint (Prometheus `http_sd_configs`): serves, for each replaced
 * `kubernetes_sd_configs` entry, the targets its discovery currently knows (role pod, endpoints
 * or endpointslice; other roles are logged and serve no targets). Each configuration's entries
 * can be released once a reload has replaced them, as Prometheus restarts discovery on reload.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterAccess, KubernetesSdSpec } from './config.js';
import { logfmt } from './logfmt.js';
import { PodDiscovery, type Discovery, type TargetGroup } from './kubernetes-sd.js';
import { EndpointsDiscovery } from './endpoints-sd.js';

export interface SdServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /**
   * Starts discovery for the given entries, each served on its path; returns the function that
   * stops them and removes their paths (a configuration replaced by a reload).
   */
  serve(sources: Array<KubernetesSdSpec & { path: string }>): () => void;
  stop(): Promise<void>;
}

const ROLES = ['pod', 'endpoints', 'endpointslice'];

function createDiscovery(source: KubernetesSdSpec, access: ClusterAccess, log: (line: string) => void): Discovery {
  if (source.role === 'pod') return new PodDiscovery({ ...access, namespaces: source.namespaces, selectors: source.selectors, log });
  return new EndpointsDiscovery({
    ...access,
    role: source.role as 'endpoints' | 'endpointslice',
    namespaces: source.namespaces,
    selectors: source.selectors,
    jobName: source.jobName,
    log,
  });
}

export async function startSdServer(host: string, access: ClusterAccess, log: (line: string) => void): Promise<SdServer> {
  const routes = new Map<string, () => TargetGroup[]>();
  const discoveries = new Set<Discovery>();

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

  const serve = (sources: Array<KubernetesSdSpec & { path: string }>): (() => void) => {
    const started: Discovery[] = [];
    for (const source of sources) {
      if (!ROLES.includes(source.role)) {
        log(
          logfmt('kubernetes.go', 'error', {
            component: 'discovery manager scrape',
            discovery: 'kubernetes',
            config: source.jobName,
            msg: `role "${source.role}" is not discovered in this environment (only ${ROLES.map((r) => `"${r}"`).join(', ')}): no targets`,
          }),
        );
        routes.set(source.path, () => []);
        continue;
      }
      const discovery = createDiscovery(source, access, log);
      discoveries.add(discovery);
      started.push(discovery);
      routes.set(source.path, () => discovery.targetGroups());
      discovery.start();
    }
    return () => {
      for (const discovery of started) {
        discovery.stop();
        discoveries.delete(discovery);
      }
      for (const source of sources) routes.delete(source.path);
    };
  };

  return {
    url: `http://${host}:${port}`,
    serve,
    stop() {
      for (const discovery of discoveries) discovery.stop();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
