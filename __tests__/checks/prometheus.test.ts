import { describe, expect, it, jest } from '@jest/globals';
import { prometheusApi } from '../../src/checks/prometheus-api.js';
import { prometheusQuery } from '../../src/checks/prometheus-query.js';
import { prometheusService } from '../../src/checks/prometheus-service.js';
import { prometheusTargets } from '../../src/checks/prometheus-targets.js';
import { HttpStatusError } from '../../src/endpoint.js';
import { MfcError } from '../../src/errors.js';
import { PROMETHEUS_POD, slicesOf, taskflowCluster } from '../fixtures/cluster.js';
import { ClusterView } from '../../src/view.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';
import {
  activeTarget,
  emptyVector,
  html502,
  promError,
  SELF_TARGET,
  TASKFLOW_TARGETS,
  targetsAnswer,
  taskflowTargets,
  type Route,
} from '../fixtures/endpoints.js';

const REDIS_DOWN = 'Get "http://10.244.0.17:9121/metrics": dial tcp 10.244.0.17:9121: connect: connection refused';

describe('prometheus-service', () => {
  it('passes when the Service exposes the port and has a ready endpoint', async () => {
    const outcome = await attempt(prometheusService, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('Service taskflow/prometheus exposes port 9090 → web with 1 ready endpoint');
    expect(outcome.details?.endpoints).toEqual(['10.244.0.12']);
  });

  it('accepts the port by name', async () => {
    const outcome = await attempt(prometheusService, await taskflowStack({ 'prometheus-service': 'prometheus:web', 'datasource-url': 'http://prometheus:9090' }));
    expect(outcome.status).toBe('pass');
  });

  it('fails when no Service selects the Prometheus pods, naming them and the command that creates one', async () => {
    const outcome = await attempt(prometheusService, await taskflowStack({}, taskflowCluster().remove('service', 'prometheus').remove('endpoints', 'prometheus')));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no Service in namespace taskflow selects the Prometheus pods (prometheus-6d8f7c9b5-x2k4p)');
    expect(outcome.hint).toContain('kubectl expose deployment/prometheus -n taskflow --port 9090');
    expect(outcome.hint).toContain('prometheus-service input');
  });

  it('fails when the Service is gone by the time the check runs', async () => {
    const stack = await taskflowStack();
    stack.cluster.remove('service', 'prometheus').remove('endpoints', 'prometheus');
    const outcome = await attempt(prometheusService, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Service taskflow/prometheus does not exist');
    expect(outcome.hint).toContain('prometheus-service input');
    expect(outcome.hint).toContain('kubectl get svc -n taskflow');
  });

  it('fails a port the Service does not expose, listing the ports it has, without retrying', async () => {
    const outcome = await attempt(prometheusService, await taskflowStack({ 'prometheus-service': 'prometheus:9091' }));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Service taskflow/prometheus does not expose port 9091 (it has: web:9090)');
    expect(outcome.hint).toContain('prometheus-service input');
    expect(outcome.retryable).toBe(false);
  });

  it('fails when the Service has no ready endpoint, naming its selector', async () => {
    const cluster = taskflowCluster();
    const subset = cluster.endpointsOf('prometheus').subsets![0]!;
    subset.notReadyAddresses = subset.addresses;
    delete subset.addresses;
    const outcome = await attempt(prometheusService, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Service taskflow/prometheus has no ready endpoints (1 not ready)');
    expect(outcome.hint).toContain('selector app=prometheus');
    expect(outcome.hint).toContain('kubectl get pods -n taskflow -l app=prometheus');
    expect(outcome.retryable).not.toBe(false);
  });

  it('fails when the selector matches no pod at all (Endpoints without subsets)', async () => {
    const cluster = taskflowCluster();
    const stack = await taskflowStack({}, cluster);
    cluster.endpointsOf('prometheus').subsets = undefined;
    cluster.service('prometheus').spec!.selector = { app: 'prometheus-server' };
    const outcome = await attempt(prometheusService, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Service taskflow/prometheus has no ready endpoints');
    expect(outcome.hint).toContain('app=prometheus-server');
  });
});

describe('prometheus-api', () => {
  it('passes when Prometheus answers /api/v1/targets through the service proxy', async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(prometheusApi, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('Prometheus answered /api/v1/targets');
    expect(outcome.summary).toContain('(3 active targets in scrape pool kubernetes-pods)');
    expect(outcome.summary).toContain("via service taskflow/prometheus:9090 through the API server's service proxy");
    expect(stack.prometheus.sent('/api/v1/targets').map((r) => r.path)).toEqual(['/api/v1/targets?state=active&scrapePool=kubernetes-pods']);
  });

  it('throws the proxy\'s "no endpoints" answer, which the runner explains', async () => {
    const cluster = taskflowCluster();
    cluster.endpointsOf('prometheus').subsets = [];
    const stack = await taskflowStack({}, cluster);
    const err = await attempt(prometheusApi, stack).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(503);
    expect((err as HttpStatusError).fromProxy).toBe(true);

    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(
      `Prometheus GET /api/v1/targets: the API server's service proxy answered HTTP 503: no endpoints available for service "prometheus"`,
    );
    expect(result.hint).toContain('The Prometheus Service has no ready pod behind it');
  });

  it('explains a Service the proxy cannot find', async () => {
    const stack = await taskflowStack();
    stack.cluster.remove('service', 'prometheus');
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('answered HTTP 404: services "prometheus" not found');
    expect(result.hint).toContain('prometheus-service input');
    expect(result.hint).toContain('does not exist');
  });

  it('explains a pod that does not listen on the target port', async () => {
    const stack = await taskflowStack();
    stack.cluster.backends.delete('prometheus');
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('error trying to reach service: dial tcp 10.244.0.12:9090: connect: connection refused');
    expect(result.hint).toContain('targetPort');
  });

  it('says when an HTML error page answers instead of Prometheus', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', html502);
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('Prometheus GET /api/v1/targets: HTTP 502 (an HTML page "502 Bad Gateway": a proxy or ingress answered, not the service)');
    expect(result.hint).toContain('server error');
    expect(result.hint).toContain('kubectl logs -l app=prometheus');
  });

  it('explains a port that is not Prometheus\'s API (404)', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: '404 page not found\n' });
    const result = await verdict(prometheusApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('HTTP 404');
    expect(result.hint).toContain('route-prefix');
    expect(result.hint).toContain('prometheus-path input');
    expect(result.reason).toEqual({ code: 'error.http', status: 404 });
  });
});

describe('prometheus-targets', () => {
  it('passes when every expected app has an UP target', async () => {
    const outcome = await attempt(prometheusTargets, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('job kubernetes-pods: 3 of 3 targets UP (backend-api, postgres, redis)');
    expect(outcome.downTargets).toBeUndefined();
  });

  it("reads the app from the discovered labels when relabelling does not copy it (the seed's keep-only config)", async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer(TASKFLOW_TARGETS.map((t) => activeTarget({ ...t, relabelled: false }))));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('(backend-api, postgres, redis)');
  });

  it('fails a job without targets with the RBAC / service-discovery hint, naming the jobs Prometheus has', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([SELF_TARGET]));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('job kubernetes-pods has no active targets (Prometheus scrapes: prometheus)');
    expect(outcome.hint).toContain('may list and watch pods');
    expect(outcome.hint).toContain('16-prometheus-rbac.yaml');
    expect(outcome.hint).toContain('namespace taskflow');
  });

  it('says when Prometheus has no target at all', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('(Prometheus has no active target at all)');
  });

  it('fails a DOWN target, reporting it with its last error', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: REDIS_DOWN } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`job kubernetes-pods: no UP target for redis; DOWN: redis (${REDIS_DOWN})`);
    expect(outcome.hint).toContain('Prometheus cannot scrape redis');
    expect(outcome.hint).toContain('/metrics');
    expect(outcome.downTargets).toEqual([
      { app: 'redis', instance: '10.244.0.17:9121', health: 'down', lastError: REDIS_DOWN, scrapeUrl: 'http://10.244.0.17:9121/metrics', pool: 'kubernetes-pods', job: 'kubernetes-pods' },
    ]);
  });

  it('passes with a DOWN target that is not expected, still reporting it', async () => {
    const stack = await taskflowStack({ 'expected-targets': 'backend-api,postgres' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: REDIS_DOWN } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('job kubernetes-pods: 2 of 3 targets UP (backend-api, postgres)');
    expect(outcome.downTargets?.map((t) => t.app)).toEqual(['redis']);
  });

  it('fails when an expected app has no target at all, with the label to check', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer(TASKFLOW_TARGETS.filter((t) => t.app !== 'postgres').map((t) => activeTarget(t))));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('job kubernetes-pods: no UP target for postgres');
    expect(outcome.hint).toContain('does not discover postgres');
    expect(outcome.hint).toContain('app=postgres');
  });

  it('fails when fewer targets are UP than min-targets-up', async () => {
    const outcome = await attempt(prometheusTargets, await taskflowStack({ 'min-targets-up': '5' }));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('3 of 3 targets UP (at least 5 required)');
  });

  it('counts a target not yet scraped as not UP', async () => {
    const stack = await taskflowStack({ 'expected-targets': 'none', 'min-targets-up': '3' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ 'backend-api': { health: 'unknown' } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('2 of 3 targets UP (at least 3 required)');
    expect(outcome.downTargets?.[0]).toMatchObject({ app: 'backend-api', health: 'unknown' });
  });

  it('checks the job named by scrape-job', async () => {
    const stack = await taskflowStack({ 'scrape-job': 'prometheus', 'expected-targets': 'none' });
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([SELF_TARGET, ...TASKFLOW_TARGETS.map((t) => activeTarget(t))]));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('job prometheus: 1 of 1 target UP (localhost:9090)');
  });
});

describe('prometheus-query', () => {
  it('passes when the query returns series', async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('up{job="kubernetes-pods"} returned 3 series from Prometheus');
    expect(stack.prometheus.sent('/api/v1/query')[0]?.path).toBe(`/api/v1/query?query=${encodeURIComponent('up{job="kubernetes-pods"}')}`);
  });

  it('fails an empty result with the advice to wait for a scrape', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/query', emptyVector());
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('up{job="kubernetes-pods"} returned no series from Prometheus');
    expect(outcome.hint).toContain('scrape_interval');
    expect(outcome.hint).toContain('Raise the wait input');
    expect(outcome.retryable).not.toBe(false);
  });

  it("reports Prometheus's own error for a bad query", async () => {
    const stack = await taskflowStack({ query: 'up{job=' });
    stack.prometheus.on('GET', '/api/v1/query', promError('bad_data', 'invalid parameter "query": 1:8: parse error: unexpected end of input inside braces'));
    await expect(attempt(prometheusQuery, stack)).rejects.toBeInstanceOf(MfcError);
    const result = await verdict(prometheusQuery, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('Prometheus GET /api/v1/query: HTTP 400 bad_data: invalid parameter "query": 1:8: parse error: unexpected end of input inside braces');
  });

  it('passes once the first scrape has happened while the runner waits', async () => {
    const stack = await taskflowStack();
    let queries = 0;
    const full = await stack.prometheus.request({ method: 'GET', path: '/api/v1/query', what: 'fixture' });
    stack.prometheus.on('GET', '/api/v1/query', () => (++queries < 3 ? emptyVector() : full));
    const result = await verdict(prometheusQuery, stack, 2000);
    expect(result.status).toBe('pass');
    expect(result.attempts).toBe(3);
  });
});

it('fixture sanity: the Prometheus pod is the one behind the Service', () => {
  const cluster = taskflowCluster();
  expect(cluster.endpointsOf('prometheus').subsets?.[0]?.addresses?.[0]?.targetRef?.name).toBe(PROMETHEUS_POD);
});

/** Prometheus 2.42's filters of /api/v1/targets (web/api/v1/api.go, targets): `state`, and `scrapePool` (an unknown pool: no target). */
function prometheus242(active: readonly Record<string, unknown>[]): Route {
  return (req) => {
    const query = new URLSearchParams(req.path.split('?')[1] ?? '');
    const state = (query.get('state') ?? '').toLowerCase();
    const pool = query.get('scrapePool') ?? '';
    const showActive = state === '' || state === 'any' || state === 'active';
    return targetsAnswer(showActive ? active.filter((t) => !pool || t.scrapePool === pool) : []);
  };
}

const NODE_EXPORTER_POOL = 'serviceMonitor/monitoring/node-exporter/0';
const nodeExporter = (pod: string, ip: string): Record<string, unknown> => ({
  ...activeTarget({ app: 'node-exporter', pod, ip, port: 9100 }),
  scrapePool: NODE_EXPORTER_POOL,
  labels: { instance: `${ip}:9100`, job: 'node-exporter', namespace: 'monitoring', pod },
});
const MIXED = [SELF_TARGET, ...TASKFLOW_TARGETS.map((t) => activeTarget(t)), nodeExporter('node-exporter-a', '10.244.0.31'), nodeExporter('node-exporter-b', '10.244.0.32')];

describe('reading the targets', () => {
  it('reads them once per attempt, filtered by Prometheus to the scrape pool, for prometheus-api and prometheus-targets together', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242(MIXED));
    const { cluster, prometheus, grafana } = stack.context;
    const context = { ...stack.context, view: new ClusterView(cluster, prometheus, grafana) };
    const [api, targets] = await Promise.all([prometheusApi.run(context), prometheusTargets.run(context)]);
    expect(stack.prometheus.sent('/api/v1/targets').map((r) => r.path)).toEqual(['/api/v1/targets?state=active&scrapePool=kubernetes-pods']);
    expect(api.summary).toContain('(3 active targets in scrape pool kubernetes-pods)');
    expect(targets.summary).toBe('job kubernetes-pods: 3 of 3 targets UP (backend-api, postgres, redis)');
  });

  it('names a pool with slashes in the query, encoded', async () => {
    const stack = await taskflowStack({ 'scrape-job': NODE_EXPORTER_POOL, 'expected-targets': 'none' });
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242(MIXED));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.summary).toBe(`job ${NODE_EXPORTER_POOL}: 2 of 2 targets UP (node-exporter)`);
    expect(stack.prometheus.sent('/api/v1/targets').map((r) => r.path)).toEqual([`/api/v1/targets?state=active&scrapePool=${encodeURIComponent(NODE_EXPORTER_POOL)}`]);
  });

  it('reads every active target for a job label value, once Prometheus answers that no pool has that name', async () => {
    const stack = await taskflowStack({ 'scrape-job': 'node-exporter', 'expected-targets': 'none' });
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242(MIXED));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('job node-exporter: 2 of 2 targets UP (node-exporter)');
    expect(stack.prometheus.sent('/api/v1/targets').map((r) => r.path)).toEqual(['/api/v1/targets?state=active&scrapePool=node-exporter', '/api/v1/targets?state=active']);
  });

  it('names every pool Prometheus scrapes when the job has no target', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242([SELF_TARGET]));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.summary).toBe('job kubernetes-pods has no active targets (Prometheus scrapes: prometheus)');
  });

  it('takes the whole answer of a Prometheus older than 2.42, which ignores scrapePool, without asking again', async () => {
    const stack = await taskflowStack();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer(MIXED));
    const { cluster, prometheus, grafana } = stack.context;
    const context = { ...stack.context, view: new ClusterView(cluster, prometheus, grafana) };
    const [api, targets] = await Promise.all([prometheusApi.run(context), prometheusTargets.run(context)]);
    expect(api.summary).toContain('(6 active targets)');
    expect(targets.summary).toBe('job kubernetes-pods: 3 of 3 targets UP (backend-api, postgres, redis)');
    expect(stack.prometheus.sent('/api/v1/targets')).toHaveLength(1);
  });

  it('asks for every active target, and only active ones, when every scrape pool is checked', async () => {
    const stack = await taskflowStack({ stack: 'generic' });
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242(MIXED));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.summary).toBe('6 of 6 targets UP in 3 scrape pools');
    expect(stack.prometheus.sent('/api/v1/targets').map((r) => r.path)).toEqual(['/api/v1/targets?state=active']);
  });

  it('parses the answer once, one target at a time, and keeps its label maps rather than copies', async () => {
    const stack = await taskflowStack();
    const answer = targetsAnswer(MIXED);
    const entries = (JSON.parse(answer.text) as { data: { activeTargets: unknown[] } }).data.activeTargets.map((t) => JSON.stringify(t));
    stack.prometheus.on('GET', '/api/v1/targets', answer);
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const read = await stack.context.prometheus.targetsOf('kubernetes-pods');
      // Never the whole answer: each target's text, once.
      expect(parse.mock.calls.filter(([text]) => text === answer.text)).toHaveLength(0);
      for (const entry of entries) expect(parse.mock.calls.filter(([text]) => text === entry)).toHaveLength(1);
      const parsed = parse.mock.results.find((r, i) => parse.mock.calls[i]?.[0] === entries[0])?.value as { labels: unknown };
      expect(read.targets[0]?.labels).toBe(parsed.labels);
    } finally {
      parse.mockRestore();
    }
  });
});

describe('allow-down-targets', () => {
  const CONTROLLER_POOL = 'serviceMonitor/kube-system/kube-controller-manager/0';
  const controller: Record<string, unknown> = {
    ...activeTarget({ app: 'kube-controller-manager', pod: 'kube-controller-manager-node1', ip: '10.0.0.5', port: 10257 }),
    scrapePool: CONTROLLER_POOL,
    labels: { instance: '10.0.0.5:10257', job: 'kube-controller-manager', namespace: 'kube-system' },
    health: 'down',
    lastError: 'Get "https://10.0.0.5:10257/metrics": dial tcp 10.0.0.5:10257: i/o timeout',
  };

  it('every pool checked: a control-plane pool that is always DOWN warns, and passes once allowed, listed as allowed', async () => {
    const warned = await taskflowStack({ stack: 'generic' });
    warned.prometheus.on('GET', '/api/v1/targets', prometheus242([...MIXED, controller]));
    const before = await attempt(prometheusTargets, warned);
    expect(before.status).toBe('warn');
    expect(before.summary).toContain(`no UP target in ${CONTROLLER_POOL}`);

    const stack = await taskflowStack({ stack: 'generic', 'allow-down-targets': 'serviceMonitor/kube-system/kube-controller-manager/*' });
    stack.prometheus.on('GET', '/api/v1/targets', prometheus242([...MIXED, controller]));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('6 of 6 targets UP in 3 scrape pools; allowed DOWN (allow-down-targets): kube-controller-manager');
    expect(outcome.downTargets).toEqual([expect.objectContaining({ app: 'kube-controller-manager', health: 'down', allowed: true, pool: CONTROLLER_POOL })]);
  });

  it('a named job: an allowed DOWN target is listed and not counted, the others still decide', async () => {
    const stack = await taskflowStack({ 'expected-targets': 'backend-api,postgres', 'allow-down-targets': '10.244.0.17:*' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: REDIS_DOWN } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('job kubernetes-pods: 2 of 2 targets UP (backend-api, postgres); allowed DOWN (allow-down-targets): redis');
    expect(outcome.downTargets).toEqual([expect.objectContaining({ app: 'redis', allowed: true })]);
  });

  it('does not excuse an expected target: allowed or not, an expected app needs an UP target', async () => {
    const stack = await taskflowStack({ 'allow-down-targets': 'kubernetes-pods' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: REDIS_DOWN } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('job kubernetes-pods: no UP target for redis; allowed DOWN (allow-down-targets): redis');
  });

  it('a glob that matches nothing changes nothing', async () => {
    const stack = await taskflowStack({ 'allow-down-targets': 'serviceMonitor/kube-system/*' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: REDIS_DOWN } }));
    const outcome = await attempt(prometheusTargets, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`job kubernetes-pods: no UP target for redis; DOWN: redis (${REDIS_DOWN})`);
  });
});

describe('prometheus-service endpoints', () => {
  const calls = (stack: { cluster: { calls: string[] } }) => stack.cluster.calls.filter((c) => /endpoint/.test(c));

  it("reads the Service's EndpointSlices, not its Endpoints", async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(prometheusService, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.details).toMatchObject({ source: 'EndpointSlices', endpoints: ['10.244.0.12'] });
    expect(calls(stack)).toEqual(['list endpointslices.discovery.k8s.io in namespace taskflow']);
  });

  it('falls back to the Endpoints when the credentials may not list EndpointSlices (403), saying so', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('list', 'endpointslices'));
    const outcome = await attempt(prometheusService, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('Service taskflow/prometheus exposes port 9090 → web with 1 ready endpoint (read from its Endpoints: listing EndpointSlices is forbidden)');
    expect(outcome.details).toMatchObject({ source: 'Endpoints' });
    expect(calls(stack)).toEqual(['list endpointslices.discovery.k8s.io in namespace taskflow', 'get endpoints in namespace taskflow']);
  });

  it('falls back to the Endpoints when the cluster does not serve discovery.k8s.io/v1 (404)', async () => {
    const cluster = taskflowCluster();
    cluster.slicesServed = false;
    const outcome = await attempt(prometheusService, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('(read from its Endpoints: the API server does not serve discovery.k8s.io/v1 EndpointSlices)');
  });

  it('fails when both are refused, with the refusal of the Endpoints', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('list', 'endpointslices').deny('get', 'endpoints'));
    const result = await verdict(prometheusService, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('get endpoints in namespace taskflow: HTTP 403 Forbidden');
  });

  it('counts the endpoints whose ready condition is false as not ready, and a missing condition as ready', async () => {
    const cluster = taskflowCluster();
    const [slice] = slicesOf(cluster.endpointsOf('prometheus'));
    slice!.endpoints = [
      { addresses: ['10.244.0.12'], conditions: { ready: false, serving: false, terminating: true }, targetRef: { kind: 'Pod', namespace: 'taskflow', name: PROMETHEUS_POD } },
      { addresses: ['10.244.0.40'], conditions: { ready: false } },
    ];
    cluster.endpointSlices = [slice!];
    const notReady = await attempt(prometheusService, await taskflowStack({}, cluster));
    expect(notReady.status).toBe('fail');
    expect(notReady.summary).toBe('Service taskflow/prometheus has no ready endpoints (2 not ready)');
    expect(notReady.reason).toEqual({ code: 'service.no-endpoints', namespace: 'taskflow', name: 'prometheus', notReady: 2 });
    slice!.endpoints = [{ addresses: ['10.244.0.12'], conditions: {} }];
    expect((await attempt(prometheusService, await taskflowStack({}, cluster))).status).toBe('pass');
  });

  it('counts a dual-stack pod once, though it has a slice per address family', async () => {
    const cluster = taskflowCluster();
    const [v4] = slicesOf(cluster.endpointsOf('prometheus'));
    const v6 = structuredClone(v4!);
    v6.metadata!.name = 'prometheus-v6x7q';
    v6.addressType = 'IPv6';
    v6.endpoints![0]!.addresses = ['fd00:10:244::c'];
    cluster.endpointSlices = [v4!, v6];
    const outcome = await attempt(prometheusService, await taskflowStack({}, cluster));
    expect(outcome.summary).toBe('Service taskflow/prometheus exposes port 9090 → web with 1 ready endpoint');
  });

  it('counts only the slices that serve the Service port, by its name, across several slices', async () => {
    const cluster = taskflowCluster();
    const [web] = slicesOf(cluster.endpointsOf('prometheus'));
    const other = structuredClone(web!);
    other.metadata!.name = 'prometheus-m2x7q';
    other.ports = [{ name: 'metrics', port: 8080, protocol: 'TCP' }];
    other.endpoints = [{ addresses: ['10.244.0.50'], conditions: { ready: true } }];
    const second = structuredClone(web!);
    second.metadata!.name = 'prometheus-s3x7q';
    second.endpoints = [{ addresses: ['10.244.0.51'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'taskflow', name: 'prometheus-6d8f7c9b5-b7c2d' } }];
    cluster.endpointSlices = [web!, other, second];
    const outcome = await attempt(prometheusService, await taskflowStack({}, cluster));
    expect(outcome.summary).toBe('Service taskflow/prometheus exposes port 9090 → web with 2 ready endpoints');
    expect(outcome.details?.endpoints).toEqual(['10.244.0.12', '10.244.0.51']);
  });
});
