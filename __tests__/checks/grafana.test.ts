import { describe, expect, it } from '@jest/globals';
import { grafanaApi } from '../../src/checks/grafana-api.js';
import { grafanaDatasourceHealth } from '../../src/checks/grafana-datasource-health.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaQuery } from '../../src/checks/grafana-query.js';
import { GrafanaAuthError } from '../../src/grafana.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';
import {
  A2_DATASOURCE,
  datasourcesAnswer,
  dsHealthConnectionRefused,
  dsHealthNoSuchHost,
  dsQueryError,
  dsQueryFrames,
  grafanaHealthFailing,
  json,
  permissionDenied,
  SEED_DATASOURCE,
  SESSION,
  withSession,
} from '../fixtures/endpoints.js';

const HEALTH_PATH = `/api/datasources/uid/${SEED_DATASOURCE.uid}/health`;

describe('grafana-api', () => {
  it('passes when Grafana answers /api/health with its database ok, without credentials', async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(grafanaApi, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe("Grafana 11.5.0 answered /api/health, database ok, via service taskflow/grafana:3000 through the API server's service proxy");
    expect(stack.grafana.sent('/login')).toHaveLength(0);
  });

  it('passes when Grafana hides its version', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/health', json(200, { database: 'ok' }));
    const outcome = await attempt(grafanaApi, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toMatch(/^Grafana answered \/api\/health, database ok/);
  });

  it('fails when its database is failing (HTTP 503), pointing at the logs and storage', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/health', grafanaHealthFailing);
    const outcome = await attempt(grafanaApi, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana answered /api/health but its database is "failing"');
    expect(outcome.hint).toContain('kubectl logs -n taskflow -l app=grafana');
    expect(outcome.hint).toContain('/var/lib/grafana');
  });

  it('explains a Grafana Service without ready pods', async () => {
    const stack = await taskflowStack();
    stack.cluster.endpointsOf('grafana').subsets = [];
    const result = await verdict(grafanaApi, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('no endpoints available for service "grafana"');
    expect(result.hint).toContain('The Grafana Service has no ready pod behind it');
  });
});

describe('grafana-datasource', () => {
  it("passes when Grafana lists the seed's datasource, logging in since the proxy strips Authorization", async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('Grafana lists "Prometheus" (prometheus, http://prometheus.taskflow.svc.cluster.local:9090, uid PBFA97CFB590B2093, default)');
    expect(stack.grafana.sent('/login')).toHaveLength(1);
    const [list] = stack.grafana.sent('/api/datasources');
    expect(list?.headers?.cookie).toBe(SESSION);
  });

  it('passes on the wire reference listing when datasource-url matches its short URL', async () => {
    const stack = await taskflowStack({ 'datasource-url': 'http://prometheus:9090/' });
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([A2_DATASOURCE])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('uid prometheus');
  });

  it('fails when Grafana has no datasource at all, with the provisioning hint', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana lists no datasource at all, so none named "Prometheus"');
    expect(outcome.hint).toContain('ConfigMap taskflow/grafana-datasources exists');
    expect(outcome.hint).toContain('mounts it at /etc/grafana/provisioning/datasources');
    expect(outcome.hint).toContain('kubectl rollout restart deployment/grafana -n taskflow');
  });

  it('names the datasources Grafana has when none has the expected name', async () => {
    const stack = await taskflowStack();
    const loki = { ...A2_DATASOURCE, id: 2, uid: 'loki', name: 'Loki', type: 'loki', url: 'http://loki:3100' };
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([loki])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana lists 1 datasource: "Loki" (loki), but none named "Prometheus"');
  });

  it('fails a datasource of another type, without retrying', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([{ ...SEED_DATASOURCE, type: 'influxdb', typeName: 'InfluxDB' }])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana\'s datasource "Prometheus" has type "influxdb", not prometheus');
    expect(outcome.hint).toContain('type: prometheus');
    expect(outcome.retryable).toBe(false);
  });

  it('fails a datasource with another URL, giving the expected one', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([{ ...SEED_DATASOURCE, url: 'http://localhost:9090' }])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana\'s datasource "Prometheus" has url http://localhost:9090, expected http://prometheus.taskflow.svc.cluster.local:9090');
    expect(outcome.hint).toContain('ConfigMap taskflow/grafana-datasources');
    expect(outcome.hint).toContain('datasource-url input');
    expect(outcome.retryable).toBe(false);
  });

  it('fails a wrong password naming the user but never the password, without retrying', async () => {
    const secret = 'n0t-the-Pa55word';
    const stack = await taskflowStack({ 'grafana-password': secret });
    await expect(attempt(grafanaDatasource, stack)).rejects.toBeInstanceOf(GrafanaAuthError);
    const result = await verdict(grafanaDatasource, stack, 300);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('Grafana POST /login: HTTP 401');
    expect(result.summary).toContain('user "admin"');
    expect(result.summary).toContain('Invalid username or password');
    expect(result.hint).toContain('grafana-password');
    expect(result.hint).toContain('GF_SECURITY_ADMIN_PASSWORD');
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(result.attempts).toBe(1);
  });

  it('asks for credentials when none are given and Grafana refuses anonymous access', async () => {
    const stack = await taskflowStack({ 'grafana-password': '' });
    const result = await verdict(grafanaDatasource, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('Grafana GET /api/datasources: HTTP 401');
    expect(result.hint).toContain('Set the grafana-password (or grafana-token) input');
  });

  it('explains a user without the right to read datasources', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(permissionDenied));
    const result = await verdict(grafanaDatasource, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('HTTP 403');
    expect(result.summary).toContain('Permission denied');
    expect(result.hint).toContain('datasources:read');
  });
});

describe('grafana-datasource-health', () => {
  it('passes when Grafana\'s test of the datasource succeeds', async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('Grafana\'s test of "Prometheus" passed: Successfully queried the Prometheus API.');
    expect(stack.grafana.sent(HEALTH_PATH)).toHaveLength(1);
  });

  it('fails a refused connection with the port hint', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthConnectionRefused));
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('Grafana\'s test of "Prometheus" failed (HTTP 400, ERROR)');
    expect(outcome.summary).toContain('dial tcp 10.96.120.15:9090: connect: connection refused');
    expect(outcome.hint).toContain('nothing answers on that port');
  });

  it('fails an unresolvable host with the Service name to use', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthNoSuchHost));
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('lookup prometheus-server.taskflow.svc.cluster.local on 10.96.0.10:53: no such host');
    expect(outcome.hint).toContain('cannot resolve');
    expect(outcome.hint).toContain('prometheus.taskflow.svc.cluster.local:9090');
  });

  it('fails when the datasource disappeared since grafana-datasource passed', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([])));
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('Grafana no longer lists "Prometheus"');
  });
});

describe('grafana-query', () => {
  it('passes when the query through Grafana returns frames with data', async () => {
    const stack = await taskflowStack();
    const outcome = await attempt(grafanaQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('up{job="kubernetes-pods"} through Grafana returned 3 series');
    const body = JSON.parse(stack.grafana.sent('/api/ds/query')[0]?.body ?? '{}');
    expect(body.queries[0]).toMatchObject({ refId: 'A', expr: 'up{job="kubernetes-pods"}', datasource: { type: 'prometheus', uid: SEED_DATASOURCE.uid } });
  });

  it('fails when Grafana returns no frame', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryFrames([])));
    const outcome = await attempt(grafanaQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('up{job="kubernetes-pods"} through Grafana returned no data');
    expect(outcome.hint).toContain('prometheus-targets');
    expect(outcome.hint).toContain('wait input');
  });

  it('fails when the frames hold no values', async () => {
    const stack = await taskflowStack();
    const empty = { schema: { meta: { type: 'numeric-multi', typeVersion: [0, 1], custom: { resultType: 'vector' } }, fields: [] }, data: { values: [] } };
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryFrames([empty])));
    const outcome = await attempt(grafanaQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('returned no data');
  });

  it("fails a per-query error with Prometheus's message", async () => {
    const stack = await taskflowStack();
    const error = 'bad_data: invalid parameter "query": 1:4: parse error: unexpected character: \'@\'';
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryError(error)));
    const outcome = await attempt(grafanaQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`up{job="kubernetes-pods"} through Grafana failed (HTTP 400): ${error}`);
  });

  it('fails a per-query connection error with the port hint', async () => {
    const stack = await taskflowStack();
    const error = 'Post "http://prometheus.taskflow.svc.cluster.local:9090/api/v1/query": dial tcp 10.96.120.15:9090: connect: connection refused';
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryError(error, 502)));
    const outcome = await attempt(grafanaQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('connection refused');
    expect(outcome.hint).toContain('nothing answers on that port');
  });

  it('reports a request Grafana refuses as a whole', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('POST', '/api/ds/query', withSession(json(404, { message: 'Data source not found', traceID: '' })));
    const result = await verdict(grafanaQuery, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('Grafana POST /api/ds/query: HTTP 404: Data source not found');
  });
});
