import { describe, expect, it } from '@jest/globals';
import { grafanaApi } from '../../src/checks/grafana-api.js';
import { grafanaDatasourceHealth } from '../../src/checks/grafana-datasource-health.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaQuery } from '../../src/checks/grafana-query.js';
import { explain } from '../../src/explain.js';
import { GrafanaAuthError, GrafanaClient } from '../../src/grafana.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';
import {
  A2_DATASOURCE,
  datasourcesAnswer,
  dsHealthConnectionRefused,
  dsHealthNoSuchHost,
  dsHealthOk,
  FakeEndpoint,
  grafanaBackend,
  invalidPassword as invalidPasswordAnswer,
  proxyServiceNotFound,
  type Answer,
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
    // Every cookie the login answer set goes back, as a browser sends them.
    expect(list?.headers?.cookie).toBe(`${SESSION}; grafana_session_expiry=1744536662`);
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

// ------------------------------------------------------------------------------------------------
// Grafana releases: the answers of 9.5.x, 10.4.x, 11.x and 12.x (pkg/api/datasources.go health,
// pkg/api/login.go, the authn broker's refusals), and what the client and the checks do with them.

const SCALAR_FRAME = {
  schema: {
    refId: 'A',
    meta: { type: 'numeric-multi', typeVersion: [0, 0], custom: { resultType: 'scalar' }, executedQueryString: 'Expr: 1+1\nStep: 15s' },
    fields: [
      { name: 'Time', type: 'time', typeInfo: { frame: 'time.Time' }, config: { interval: 15000 } },
      { name: 'Value', type: 'number', typeInfo: { frame: 'float64' }, config: { displayNameFromDS: '1+1' } },
    ],
  },
  data: { values: [[1741944662000], [2]] },
};
/** 9.5.x: the Prometheus backend has no CheckHealth; ErrMethodNotImplemented → `response.Error(404, "Not found", err)`. */
const V9_NO_HEALTH = json(404, { message: 'Not found', traceID: '' }, { 'content-type': 'application/json' });
/** 11.x/12.x plugins without CheckHealth (pkg/plugins/errors.go). */
const V12_NOT_IMPLEMENTED = json(404, { message: 'Method not implemented', messageId: 'plugin.notImplemented', statusCode: 404, traceID: '' });
const healthOf = (version: string) => json(200, version.startsWith('9.') || version.startsWith('10.') ? { commit: 'a1b2c3d4e5', database: 'ok', version } : { database: 'ok', version, commit: 'a1b2c3d4e5' });
/** 9.5.x's login answer: no redirectUrl, only the session cookie. */
const V9_LOGIN = json(200, { message: 'Logged in' }, { 'set-cookie': `${SESSION}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax` });

/** The TaskFlow stack with a Grafana of another release (its /api/health, login and health answers). */
async function releaseStack(version: string, dsHealth: Answer): Promise<Awaited<ReturnType<typeof taskflowStack>>> {
  const stack = await taskflowStack();
  stack.grafana.on('GET', '/api/health', healthOf(version)).on('GET', HEALTH_PATH, withSession(dsHealth));
  if (version.startsWith('9.')) stack.grafana.on('POST', '/login', V9_LOGIN);
  return stack;
}

const queriesSent = (stack: Awaited<ReturnType<typeof taskflowStack>>): unknown[] =>
  stack.grafana.sent('/api/ds/query').map((r) => (JSON.parse(r.body ?? '{}') as { queries: { expr: string }[] }).queries[0]?.expr);

describe('grafana-datasource-health on each Grafana release', () => {
  it.each([
    ['9.5.21', V9_NO_HEALTH, 'pass', 'Grafana 9.5.x has no health check for Prometheus datasources; a 1+1 query through Grafana succeeded', ['1+1']],
    ['10.4.14', dsHealthOk, 'pass', 'Grafana\'s test of "Prometheus" passed: Successfully queried the Prometheus API.', []],
    ['11.5.0', dsHealthOk, 'pass', 'Grafana\'s test of "Prometheus" passed: Successfully queried the Prometheus API.', []],
    ['12.0.2', dsHealthOk, 'pass', 'Grafana\'s test of "Prometheus" passed: Successfully queried the Prometheus API.', []],
    ['12.0.2', V12_NOT_IMPLEMENTED, 'pass', 'Grafana 12.0.x has no health check for Prometheus datasources; a 1+1 query through Grafana succeeded', ['1+1']],
    ['10.4.14', dsHealthConnectionRefused, 'fail', 'Grafana\'s test of "Prometheus" failed (HTTP 400, ERROR): Post', []],
  ] as const)('Grafana %s answering %#: %s', async (version, dsHealth, status, summary, queries) => {
    const stack = await releaseStack(version, dsHealth);
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryFrames([SCALAR_FRAME])));
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe(status);
    expect(outcome.summary.startsWith(summary)).toBe(true);
    expect(queriesSent(stack)).toEqual(queries);
  });

  it('asks the health endpoint once: later attempts go straight to the 1+1 query', async () => {
    const stack = await releaseStack('9.5.21', V9_NO_HEALTH);
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryFrames([SCALAR_FRAME])));
    for (let i = 0; i < 3; i++) expect((await attempt(grafanaDatasourceHealth, stack)).status).toBe('pass');
    expect(stack.grafana.sent(HEALTH_PATH)).toHaveLength(1);
    expect(queriesSent(stack)).toEqual(['1+1', '1+1', '1+1']);
    const body = JSON.parse(stack.grafana.sent('/api/ds/query')[0]?.body ?? '{}');
    expect(body.queries[0]).toMatchObject({ refId: 'A', expr: '1+1', instant: true, datasource: { type: 'prometheus', uid: SEED_DATASOURCE.uid } });
  });

  it("fails with the 1+1 query's error when that fails too, with the connection hint", async () => {
    const stack = await releaseStack('9.5.21', V9_NO_HEALTH);
    const error = 'Post "http://prometheus.taskflow.svc.cluster.local:9090/api/v1/query": dial tcp 10.96.120.15:9090: connect: connection refused';
    stack.grafana.on('POST', '/api/ds/query', withSession(json(400, { results: { A: { error, status: 502 } } })));
    const outcome = await attempt(grafanaDatasourceHealth, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`Grafana 9.5.x has no health check for Prometheus datasources, and a 1+1 query through Grafana to "Prometheus" failed (HTTP 400): ${error}`);
    expect(outcome.hint).toContain('nothing answers on that port');
    expect(outcome.reason).toEqual({ code: 'datasource.health-failed', name: 'Prometheus', message: error, httpStatus: 400, via: 'query' });
  });

  it('says "This Grafana" when Grafana hides its version', async () => {
    const stack = await releaseStack('9.5.21', V9_NO_HEALTH);
    stack.grafana.on('GET', '/api/health', json(200, { database: 'ok' }));
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryFrames([SCALAR_FRAME])));
    expect((await attempt(grafanaDatasourceHealth, stack)).summary).toBe('This Grafana has no health check for Prometheus datasources; a 1+1 query through Grafana succeeded');
  });

  it.each([
    ['an ingress or path prefix', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: '404 page not found\n' }],
    ['the service proxy', proxyServiceNotFound('grafana')],
    ['Grafana, for an unknown datasource', json(404, { message: 'Data source not found' })],
  ])('treats a 404 from %s as an error, never as a missing health check', async (_who, answer) => {
    const stack = await releaseStack('9.5.21', answer);
    const result = await verdict(grafanaDatasourceHealth, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('HTTP 404');
    expect(queriesSent(stack)).toEqual([]);
  });
});

describe('Grafana client on each release', () => {
  it("logs in on 9.5.x, whose answer has no redirectUrl and only the session cookie", async () => {
    const stack = await releaseStack('9.5.21', V9_NO_HEALTH);
    expect((await attempt(grafanaDatasource, stack)).status).toBe('pass');
    expect(stack.grafana.sent('/api/datasources')[0]?.headers?.cookie).toBe(SESSION);
  });

  it('sends back every cookie of the login answer, whatever login_cookie_name calls the session', async () => {
    const stack = await taskflowStack();
    const jar = 'gf_sess=0f1e2d3c4b5a69788796a5b4c3d2e1f0; grafana_session_expiry=1744536662';
    stack.grafana
      .on('POST', '/login', json(200, { message: 'Logged in', redirectUrl: '/' }, {
        'set-cookie': 'redirect_to=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax, gf_sess=0f1e2d3c4b5a69788796a5b4c3d2e1f0; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax, grafana_session_expiry=1744536662; Path=/; Max-Age=2592000; SameSite=Lax',
      }))
      .on('GET', '/api/datasources', (req) => (req.headers?.cookie === jar ? datasourcesAnswer([SEED_DATASOURCE]) : json(401, { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: '' })));
    expect((await attempt(grafanaDatasource, stack)).status).toBe('pass');
  });

  it('names the missing session cookie when the login answer sets none it can use', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('POST', '/login', json(200, { message: 'Logged in' }, { 'set-cookie': 'lb_affinity=a1; Path=/' }));
    const result = await verdict(grafanaDatasource, stack);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('Grafana accepted the login but set no session cookie');
  });

  it('logs in again, once, when Grafana stops accepting the session (a restart lost it)', async () => {
    const endpoint = new FakeEndpoint('grafana');
    let token = 0;
    let valid = '';
    endpoint
      .on('POST', '/login', () => {
        valid = `grafana_session=t${++token}`;
        return json(200, { message: 'Logged in' }, { 'set-cookie': `${valid}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax` });
      })
      .on('GET', '/api/datasources', (req) => (req.headers?.cookie === valid ? datasourcesAnswer([SEED_DATASOURCE]) : json(401, { message: 'Unauthorized' })));
    const client = new GrafanaClient(endpoint, { kind: 'session', user: 'admin', password: 'admin2024' });
    expect(await client.datasources()).toHaveLength(1);
    valid = 'grafana_session=lost-with-the-restart';
    expect(await client.datasources()).toHaveLength(1);
    expect(endpoint.sent('/login')).toHaveLength(2);

    // A refused session is replaced once; one refused right after its login is not retried.
    endpoint.on('GET', '/api/datasources', json(401, { message: 'Unauthorized' }));
    await expect(client.datasources()).rejects.toBeInstanceOf(GrafanaAuthError);
    expect(endpoint.sent('/login')).toHaveLength(3);
    const fresh = new GrafanaClient(endpoint, { kind: 'session', user: 'admin', password: 'admin2024' });
    await expect(fresh.datasources()).rejects.toBeInstanceOf(GrafanaAuthError);
    expect(endpoint.sent('/login')).toHaveLength(4);
  });

  it('logs the session out at close(), once, and never throws', async () => {
    const stack = await taskflowStack();
    const logout = json(302, {}, { location: '/login' });
    stack.grafana.on('GET', '/logout', logout);
    const grafana = stack.context.grafana;
    await grafana.close();
    expect(stack.grafana.sent('/logout')).toHaveLength(0);
    expect((await attempt(grafanaDatasource, stack)).status).toBe('pass');
    await grafana.close();
    await grafana.close();
    const sent = stack.grafana.sent('/logout');
    expect(sent.map((r) => [r.method, r.headers?.cookie])).toEqual([['GET', `${SESSION}; grafana_session_expiry=1744536662`]]);

    const failing = new GrafanaClient({ ...stack.grafana, description: 'x', mode: 'proxy', close: async () => undefined, request: async (req) => {
      if (req.path === '/logout') throw new Error('connection reset');
      return stack.grafana.request(req);
    } }, { kind: 'session', user: 'admin', password: 'admin2024' });
    await failing.datasources();
    await expect(failing.close()).resolves.toBeUndefined();
  });

  it('does not log out basic or token credentials', async () => {
    const endpoint = grafanaBackend().on('GET', '/api/datasources', datasourcesAnswer([SEED_DATASOURCE]));
    for (const auth of [{ kind: 'basic', user: 'admin', password: 'admin2024' }, { kind: 'token', token: 'glsa_x' }] as const) {
      const client = new GrafanaClient(endpoint, auth);
      await client.datasources();
      await client.close();
    }
    expect(endpoint.sent('/logout')).toHaveLength(0);
  });

  it.each([
    ['10.1 and later', json(401, { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: '' })],
    ['9.5', json(401, { message: 'Unauthorized' })],
  ])('says basic auth is disabled, not a wrong password, when Grafana %s ignores the Basic header', async (_release, answer) => {
    const endpoint = new FakeEndpoint('grafana', 'port-forward').on('GET', '/api/datasources', answer);
    const client = new GrafanaClient(endpoint, { kind: 'basic', user: 'admin', password: 'admin2024' });
    const err = (await client.datasources().catch((e: unknown) => e)) as GrafanaAuthError;
    expect(err).toBeInstanceOf(GrafanaAuthError);
    expect(err.basicAuthIgnored).toBe(true);
    expect(err.message).toContain('basic auth is disabled in this Grafana');
    expect(err.hint).toContain('grafana-token');
    expect(err.hint).toContain('POST /login works with basic auth disabled');
    expect(explain('grafana-datasource', err).reason).toEqual({ code: 'grafana.auth', status: 401, message: 'Unauthorized', basicAuthIgnored: true });
  });

  it('still says wrong password for "Invalid username or password", and for tokens or sessions answered "Unauthorized"', async () => {
    const wrong = new FakeEndpoint('grafana', 'direct').on('GET', '/api/datasources', invalidPasswordAnswer);
    const err = (await new GrafanaClient(wrong, { kind: 'basic', user: 'admin', password: 'x' }).datasources().catch((e: unknown) => e)) as GrafanaAuthError;
    expect([err.basicAuthIgnored, err.messageId]).toEqual([false, 'password-auth.failed']);
    expect(err.hint).toContain('GF_SECURITY_ADMIN_PASSWORD');
    const unauthorizedToken = new FakeEndpoint('grafana', 'direct').on('GET', '/api/datasources', json(401, { message: 'Unauthorized' }));
    const tokenErr = (await new GrafanaClient(unauthorizedToken, { kind: 'token', token: 'glsa_x' }).datasources().catch((e: unknown) => e)) as GrafanaAuthError;
    expect(tokenErr.basicAuthIgnored).toBe(false);
    expect(explain('grafana-datasource', tokenErr).reason).toEqual({ code: 'grafana.auth', status: 401, message: 'Unauthorized' });
  });
});
