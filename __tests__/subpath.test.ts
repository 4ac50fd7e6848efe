/**
 * Prometheus under a route prefix (`--web.route-prefix=/prometheus`) and Grafana served from a
 * sub-path (`serve_from_sub_path` with root_url …/grafana/), reached through the service proxy, a
 * port-forward and directly: every request carries the prefix (the input, else what the
 * containers say), the expected datasource URL ends with it, and a 404 that looks like a missing
 * or wrong prefix says which input to set.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { grafanaApi } from '../src/checks/grafana-api.js';
import { prometheusApi } from '../src/checks/prometheus-api.js';
import { prometheusQuery } from '../src/checks/prometheus-query.js';
import { prometheusTargets } from '../src/checks/prometheus-targets.js';
import type { Endpoint, EndpointRequest } from '../src/endpoint.js';
import type { HttpResponse } from '../src/http.js';
import { FakeCluster, GRAFANA_POD, PROMETHEUS_POD, taskflowCluster } from './fixtures/cluster.js';
import { attempt, taskflowStack, verdict } from './fixtures/context.js';
import { prometheusBackend } from './fixtures/endpoints.js';

/** An endpoint that records the paths it was asked for. */
interface Recorded extends Endpoint {
  readonly paths: string[];
}

const GO_NOT_FOUND: HttpResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: '404 page not found\n', ms: 1 };

/**
 * Prometheus started with `--web.route-prefix=<prefix>` (web/web.go, New): its router serves only
 * under the prefix, answers `/` with a redirect to it, and anything else with Go's 404.
 */
function routePrefixed(prefix: string, backend: Endpoint): Recorded {
  const paths: string[] = [];
  return {
    description: backend.description,
    mode: backend.mode,
    paths,
    async request(req: EndpointRequest) {
      paths.push(req.path);
      const bare = req.path.split('?')[0] ?? '';
      if (bare === '/') return { status: 302, headers: { location: prefix, 'content-type': 'text/html; charset=utf-8' }, text: `<a href="${prefix}">Found</a>.\n\n`, ms: 1 };
      if (bare.startsWith(`${prefix}/`)) return backend.request({ ...req, path: req.path.slice(prefix.length) });
      return GO_NOT_FOUND;
    },
    close: async () => undefined,
  };
}

/**
 * Grafana with root_url …<prefix>/: with serve_from_sub_path its router trims the prefix from
 * the paths that carry it (pkg/web, Macaron.ServeHTTP); without it, a path under the prefix is
 * one it does not route, answered with its index page and status 404 (not an /api path).
 */
function subPathGrafana(prefix: string, backend: Endpoint, serveFromSubPath: boolean): Recorded {
  const paths: string[] = [];
  return {
    description: backend.description,
    mode: backend.mode,
    paths,
    async request(req: EndpointRequest) {
      paths.push(req.path);
      if (serveFromSubPath && req.path.startsWith(`${prefix}/`)) return backend.request({ ...req, path: req.path.slice(prefix.length) });
      if (!serveFromSubPath && req.path.startsWith('/api/')) return backend.request(req);
      return { status: 404, headers: { 'content-type': 'text/html; charset=UTF-8' }, text: '<!DOCTYPE html>\n<html lang="en-US">\n<head><title>Grafana</title></head><body></body></html>\n', ms: 1 };
    },
    close: async () => undefined,
  };
}

/** A real HTTP server answering from an endpoint (a port-forward's local port, or a URL reached directly). */
async function httpServer(backend: Endpoint): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void backend.request({ method: req.method === 'POST' ? 'POST' : 'GET', path: req.url ?? '/', body, what: 'test server' }).then((answer) => {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The fake cluster whose port-forwards lead to `url`. */
class ForwardingCluster extends FakeCluster {
  readonly forwards: string[] = [];
  constructor(private readonly url: () => string) {
    super();
  }
  override async portForward(namespace?: string, pod?: string, port?: number): Promise<{ url: string; close(): Promise<void> }> {
    this.forwards.push(`${namespace}/${pod}:${port}`);
    return { url: this.url(), close: async () => undefined };
  }
}

function withPrometheusArgs(cluster: FakeCluster, args: string[]): FakeCluster {
  cluster.pod(PROMETHEUS_POD).spec!.containers[0]!.args = ['--config.file=/etc/prometheus/prometheus.yml', ...args];
  return cluster;
}

function withGrafanaEnv(cluster: FakeCluster, env: { name: string; value?: string; valueFrom?: unknown }[]): FakeCluster {
  cluster.pod(GRAFANA_POD).spec!.containers[0]!.env = env as never;
  return cluster;
}

const PROMETHEUS_URL = 'http://prometheus.taskflow.svc.cluster.local:9090';

describe('Prometheus under a route prefix', () => {
  it('through the service proxy: every request carries prometheus-path, and the expected datasource URL ends with it', async () => {
    const stack = await taskflowStack({ 'prometheus-path': '/prometheus' });
    const served = routePrefixed('/prometheus', stack.prometheus);
    stack.cluster.serve('prometheus', served);
    for (const check of [prometheusApi, prometheusTargets, prometheusQuery]) expect((await attempt(check, stack)).status).toBe('pass');
    expect(served.paths.map((p) => p.split('?')[0])).toEqual(['/prometheus/api/v1/targets', '/prometheus/api/v1/targets', '/prometheus/api/v1/query']);
    expect((await attempt(prometheusApi, stack)).summary).toContain("via service taskflow/prometheus:9090 through the API server's service proxy, under /prometheus");
    expect(stack.found.expect.datasourceUrl).toBe(`${PROMETHEUS_URL}/prometheus`);
  });

  it.each([
    [['--web.route-prefix=/prometheus'], '/prometheus', '--web.route-prefix=/prometheus'],
    [['--web.route-prefix', 'prometheus/'], '/prometheus', '--web.route-prefix=prometheus/'],
    [['--web.external-url=https://ops.example.com/monitoring/prometheus/'], '/monitoring/prometheus', 'the path of --web.external-url=https://ops.example.com/monitoring/prometheus/'],
  ])('is discovered from the container flags %j', async (args, prefix, from) => {
    const stack = await taskflowStack({}, withPrometheusArgs(taskflowCluster(), args));
    const served = routePrefixed(prefix, stack.prometheus);
    stack.cluster.serve('prometheus', served);
    expect(stack.found.evidence).toContain(`Prometheus serves its HTTP API under ${prefix} (${from})`);
    expect((await attempt(prometheusApi, stack)).status).toBe('pass');
    expect(served.paths[0]).toBe(`${prefix}/api/v1/targets?state=active&scrapePool=kubernetes-pods`);
    expect(stack.found.expect.datasourceUrl).toBe(`${PROMETHEUS_URL}${prefix}`);
  });

  it('takes --web.route-prefix over the path of --web.external-url, as Prometheus does', async () => {
    const stack = await taskflowStack({}, withPrometheusArgs(taskflowCluster(), ['--web.external-url=http://x/ext', '--web.route-prefix=/']));
    expect(stack.found.prometheus.ok && stack.found.prometheus.value.path).toBeFalsy();
    expect(stack.found.expect.datasourceUrl).toBe(PROMETHEUS_URL);
  });

  it('lets the input win over the container: / is the root', async () => {
    const stack = await taskflowStack({ 'prometheus-path': '/' }, withPrometheusArgs(taskflowCluster(), ['--web.route-prefix=/prometheus']));
    expect(stack.found.expect.datasourceUrl).toBe(PROMETHEUS_URL);
    const served = routePrefixed('/prometheus', stack.prometheus);
    stack.cluster.serve('prometheus', served);
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(served.paths[0]).toBe('/api/v1/targets?state=active&scrapePool=kubernetes-pods');
  });

  it('a missing prefix: the 404 says to set prometheus-path', async () => {
    const stack = await taskflowStack();
    stack.cluster.serve('prometheus', routePrefixed('/prometheus', stack.prometheus));
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('Prometheus GET /api/v1/targets: HTTP 404 (404 page not found)');
    expect(result.hint).toContain('--web.route-prefix');
    expect(result.hint).toContain('Set the prometheus-path input to the prefix (e.g. /prometheus)');
    expect(result.reason).toEqual({ code: 'error.http', status: 404 });
  });

  it('a wrong prefix: the 404 names it', async () => {
    const stack = await taskflowStack({ 'prometheus-path': '/prom' });
    stack.cluster.serve('prometheus', routePrefixed('/prometheus', stack.prometheus));
    const result = await verdict(prometheusQuery, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('Prometheus GET /api/v1/query: HTTP 404 under /prom (404 page not found)');
    expect(result.hint).toContain('Prometheus serves no /prom/api/v1/query: its route prefix is not /prom');
  });

  describe('through a port-forward and directly', () => {
    let server: { url: string; close(): Promise<void> };
    const served = routePrefixed('/prometheus', prometheusBackend());
    const ingress = routePrefixed('/ingress', routePrefixed('/prometheus', prometheusBackend()));
    let direct: { url: string; close(): Promise<void> };

    beforeAll(async () => {
      server = await httpServer(served);
      direct = await httpServer(ingress);
    });
    afterAll(async () => {
      await server.close();
      await direct.close();
    });

    it('a port-forward to the pod: the requests to the local port carry the prefix', async () => {
      const cluster = new ForwardingCluster(() => server.url);
      const stack = await taskflowStack({ access: 'port-forward', 'prometheus-path': '/prometheus' }, cluster);
      served.paths.length = 0;
      expect((await attempt(prometheusApi, stack)).status).toBe('pass');
      expect(cluster.forwards).toEqual([`taskflow/${PROMETHEUS_POD}:9090`]);
      expect(served.paths).toEqual(['/prometheus/api/v1/targets?state=active&scrapePool=kubernetes-pods']);
      await stack.context.prometheus.endpoint.close();
    });

    it('a URL: the prefix goes after the URL path; a prefix discovery found is not applied to a URL the user gave', async () => {
      const inputs = { access: 'direct', 'prometheus-url': `${direct.url}/ingress`, 'grafana-url': direct.url };
      const given = await taskflowStack({ ...inputs, 'prometheus-path': '/prometheus' });
      expect((await attempt(prometheusApi, given)).status).toBe('pass');
      expect(ingress.paths.at(-1)).toBe('/ingress/prometheus/api/v1/targets?state=active&scrapePool=kubernetes-pods');
      const found = await taskflowStack(inputs, withPrometheusArgs(taskflowCluster(), ['--web.route-prefix=/prometheus']));
      expect((await verdict(prometheusApi, found)).status).toBe('fail');
      expect(ingress.paths.at(-1)).toBe('/ingress/api/v1/targets?state=active&scrapePool=kubernetes-pods');
    });
  });
});

describe('Grafana served from a sub-path', () => {
  it('with grafana-path: every request, the login included, carries it', async () => {
    const stack = await taskflowStack({ 'grafana-path': '/grafana' });
    const served = subPathGrafana('/grafana', stack.grafana, true);
    stack.cluster.serve('grafana', served);
    const outcome = await attempt(grafanaApi, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('under /grafana');
    expect((await stack.context.grafana.datasources()).map((d) => d.name)).toEqual(['Prometheus']);
    expect(served.paths).toEqual(['/grafana/api/health', '/grafana/login', '/grafana/api/datasources']);
  });

  it('is discovered from GF_SERVER_ROOT_URL when GF_SERVER_SERVE_FROM_SUB_PATH is true', async () => {
    const root = '%(protocol)s://%(domain)s:%(http_port)s/grafana/';
    const cluster = withGrafanaEnv(taskflowCluster(), [
      { name: 'GF_SERVER_ROOT_URL', value: root },
      { name: 'GF_SERVER_SERVE_FROM_SUB_PATH', value: 'True' },
    ]);
    const stack = await taskflowStack({}, cluster);
    const served = subPathGrafana('/grafana', stack.grafana, true);
    stack.cluster.serve('grafana', served);
    expect(stack.found.evidence).toContain(`Grafana serves its HTTP API under /grafana (GF_SERVER_ROOT_URL=${root} with GF_SERVER_SERVE_FROM_SUB_PATH=true)`);
    expect((await attempt(grafanaApi, stack)).status).toBe('pass');
    expect(served.paths).toEqual(['/grafana/api/health']);
  });

  it('is not taken from root_url without serve_from_sub_path (a reverse proxy strips the sub-path then)', async () => {
    const cluster = withGrafanaEnv(taskflowCluster(), [{ name: 'GF_SERVER_ROOT_URL', value: 'https://ops.example.com/grafana/' }]);
    const stack = await taskflowStack({}, cluster);
    const served = subPathGrafana('/grafana', stack.grafana, false);
    stack.cluster.serve('grafana', served);
    expect((await attempt(grafanaApi, stack)).status).toBe('pass');
    expect(served.paths).toEqual(['/api/health']);
  });

  it('says to set grafana-path when the root_url is not in the env', async () => {
    const cluster = withGrafanaEnv(taskflowCluster(), [
      { name: 'GF_SERVER_ROOT_URL', valueFrom: { configMapKeyRef: { name: 'grafana-env', key: 'root_url' } } },
      { name: 'GF_SERVER_SERVE_FROM_SUB_PATH', value: 'true' },
    ]);
    const stack = await taskflowStack({}, cluster);
    expect(stack.found.notes).toContain(
      'Grafana serves from a sub-path (GF_SERVER_SERVE_FROM_SUB_PATH is true but GF_SERVER_ROOT_URL is not given literally in its env): set the grafana-path input to it',
    );
  });

  it('a grafana-path Grafana does not serve from: its 404 page says to check grafana-path', async () => {
    const stack = await taskflowStack({ 'grafana-path': '/grafana' });
    stack.cluster.serve('grafana', subPathGrafana('/grafana', stack.grafana, false));
    const result = await verdict(grafanaApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('HTTP 404');
    expect(result.hint).toContain('the grafana-path input is not Grafana');
    expect(result.hint).toContain('serve_from_sub_path');
  });
});
