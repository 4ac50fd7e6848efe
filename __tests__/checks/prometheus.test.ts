import { describe, expect, it } from '@jest/globals';
import { prometheusApi } from '../../src/checks/prometheus-api.js';
import { prometheusQuery } from '../../src/checks/prometheus-query.js';
import { prometheusService } from '../../src/checks/prometheus-service.js';
import { prometheusTargets } from '../../src/checks/prometheus-targets.js';
import { HttpStatusError } from '../../src/endpoint.js';
import { MfcError } from '../../src/errors.js';
import { PROMETHEUS_POD, taskflowCluster } from '../fixtures/cluster.js';
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
    expect(outcome.summary).toContain('(3 active targets)');
    expect(outcome.summary).toContain("via service taskflow/prometheus:9090 through the API server's service proxy");
    expect(stack.prometheus.sent('/api/v1/targets')[0]?.path).toBe('/api/v1/targets?state=active');
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
