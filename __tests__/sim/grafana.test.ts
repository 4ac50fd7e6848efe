import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { ClusterView, DialResult, FileWriteResult, KubeObject } from '../../sim/kube/view.js';
import { adminCredentialsFromPod, GrafanaSim } from '../../sim/grafana/server.js';

const NS = 'taskflow';
const POD = 'grafana-7d9f-abcde';
const CONTAINER = 'grafana';
const DS_DIR = '/etc/grafana/provisioning/datasources';
const PROM_HOST = 'prometheus.taskflow.svc.cluster.local';
const PROM_URL = `http://${PROM_HOST}:9090`;
const TOKEN = 'glsa_simulatedAdminToken_0123abcd';
const VIEWER_TOKEN = 'glsa_simulatedViewerToken_4567ef';
const PASSWORD = 'admin2024';

const SEED_DATASOURCE = `apiVersion: 1
datasources:
- name: Prometheus
  type: prometheus
  access: proxy
  url: ${PROM_URL}
  isDefault: true
  editable: true
`;

/** A cluster of one Grafana pod whose Services route to whatever the test says. */
class FakeView implements ClusterView {
  readonly files = new Map<string, string>();
  readonly logs: string[] = [];
  readonly routes = new Map<string, DialResult>();
  readonly objects: KubeObject[] = [];

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  }
  list(kind: string, namespace?: string): KubeObject[] {
    return this.objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  }
  containerFiles(): Map<string, string> {
    return this.files;
  }
  lookupHost(host: string): { name: string; address: string } | undefined {
    return [...this.routes.keys()].some((key) => key.startsWith(`${host}:`)) ? { name: host, address: '10.96.0.50' } : undefined;
  }
  dial(host: string, port: number): DialResult {
    return this.routes.get(`${host}:${port}`) ?? { error: `dial tcp: lookup ${host} on 10.96.0.10:53: no such host` };
  }
  appendLog(_ns: string, _pod: string, _container: string, line: string): void {
    this.logs.push(line);
  }
  writeContainerFile(_ns: string, _pod: string, _container: string, path: string, content: string): FileWriteResult {
    this.files.set(path, content);
    return { ok: true };
  }
  removeContainerFile(_ns: string, _pod: string, _container: string, path: string): FileWriteResult {
    return this.files.delete(path) ? { ok: true } : { ok: false, errno: 'ENOENT', message: `[Errno 2] No such file or directory: '${path}'` };
  }
}

interface SeenRequest {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A Prometheus 2.42 answering the API calls Grafana makes (wire reference section B). */
class FakePrometheus {
  readonly seen: SeenRequest[] = [];
  unavailable = false;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      const [status, payload] = this.answer(req.url ?? '', body);
      res.writeHead(status, { 'content-type': status === 503 ? 'text/plain' : 'application/json' });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    });
  });

  private answer(url: string, body: string): [number, unknown] {
    if (this.unavailable) return [503, 'Service Unavailable'];
    const parsed = new URL(url, 'http://prometheus');
    const params = new URLSearchParams(body || parsed.search);
    const query = params.get('query');
    if (parsed.pathname === '/api/v1/status/buildinfo') {
      return [200, { status: 'success', data: { version: '2.42.0', revision: 'abc', branch: 'HEAD', goVersion: 'go1.19.5' } }];
    }
    if (query === 'foo(') {
      return [400, { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unclosed left parenthesis' }];
    }
    if (parsed.pathname === '/api/v1/query') {
      if (query === '1+1') return [200, { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } }];
      return [
        200,
        {
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { __name__: 'up', instance: '10.244.0.7:8000', job: 'kubernetes-pods' }, value: [1435781451.781, '1'] },
              { metric: { __name__: 'up', instance: '10.244.0.8:9187', job: 'kubernetes-pods' }, value: [1435781451.781, 'NaN'] },
            ],
          },
        },
      ];
    }
    if (parsed.pathname === '/api/v1/query_range') {
      return [
        200,
        {
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [{ metric: { __name__: 'up', job: 'kubernetes-pods' }, values: [[1700000000, '1'], [1700000015, '0']] }],
          },
        },
      ];
    }
    return [404, '404 page not found\n'];
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const prometheus = new FakePrometheus();
let promPort = 0;
const running: GrafanaSim[] = [];

beforeAll(async () => {
  promPort = await prometheus.start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()));
  prometheus.unavailable = false;
  prometheus.seen.length = 0;
});
afterAll(() => prometheus.stop());

function viewWith(files: Record<string, string> = { [`${DS_DIR}/datasources.yaml`]: SEED_DATASOURCE }): FakeView {
  const view = new FakeView();
  for (const [path, content] of Object.entries(files)) view.files.set(path, content);
  view.routes.set(`${PROM_HOST}:9090`, { address: '127.0.0.1', port: promPort });
  return view;
}

type SimOptions = ConstructorParameters<typeof GrafanaSim>[0];

/** A started simulator; the test's afterEach stops it. */
async function startGrafana(view: FakeView, extra: Partial<SimOptions> = {}): Promise<GrafanaSim> {
  const sim = createGrafana(view, extra);
  running.push(sim);
  await sim.start();
  return sim;
}

function createGrafana(view: FakeView, extra: Partial<SimOptions> = {}): GrafanaSim {
  return new GrafanaSim({
    view,
    namespace: NS,
    pod: POD,
    container: CONTAINER,
    host: '127.0.0.1',
    port: 0,
    adminUser: 'admin',
    adminPassword: PASSWORD,
    serviceAccountTokens: [TOKEN],
    viewerTokens: [VIEWER_TOKEN],
    ...extra,
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

async function call(
  sim: GrafanaSim,
  path: string,
  init: { method?: 'GET' | 'POST' | 'HEAD' | 'PUT' | 'DELETE'; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const res = await request(`${sim.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

interface FrameJson {
  schema: { name?: string; meta: Record<string, unknown>; fields: { name: string }[] };
  data: unknown;
}

function firstFrame(answer: Answer): FrameJson {
  return (answer.json() as { results: { A: { frames: FrameJson[] } } }).results.A.frames[0]!;
}

const asAdmin = { authorization: `Bearer ${TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('provisioning', () => {
  it('inserts the mounted datasource, with the name-derived uid, and logs like Grafana', async () => {
    const view = viewWith();
    const sim = await startGrafana(view);

    expect(sim.datasources).toEqual([
      expect.objectContaining({
        id: 1,
        uid: 'PBFA97CFB590B2093',
        name: 'Prometheus',
        url: PROM_URL,
        isDefault: true,
        readOnly: false,
      }),
    ]);
    expect(sim.provisioningError).toBeUndefined();
    const inserted = view.logs.find((line) => line.includes('inserting datasource'));
    expect(inserted).toMatch(
      /^logger=provisioning\.datasources t=\d{4}-\d\d-\d\dT[\d:.]+Z level=info msg="inserting datasource from configuration" name=Prometheus uid=PBFA97CFB590B2093$/,
    );
    const positions = ['msg="Starting Grafana" version=11.5.0', 'inserting datasource', 'msg="HTTP Server Listen"'].map(
      (text) => view.logs.findIndex((line) => line.includes(text)),
    );
    expect(positions[0]).toBe(0);
    expect(positions[1]).toBeGreaterThan(positions[0]!);
    expect(positions[2]).toBeGreaterThan(positions[1]!);
    expect(view.logs.at(-1)).toMatch(/^logger=http\.server .* address=\[::\]:\d+ protocol=http subUrl= socket=$/);
  });

  it('provisions nothing when the ConfigMap is not mounted', async () => {
    const view = viewWith({ '/etc/grafana/grafana.ini': '[server]\n' });
    const sim = await startGrafana(view);

    expect(sim.datasources).toEqual([]);
    expect((await call(sim, '/api/datasources', { headers: asAdmin })).json()).toEqual([]);
    expect(view.logs.some((line) => line.includes('level=error'))).toBe(false);
  });

  it('refuses two default datasources and provisions none', async () => {
    const second = SEED_DATASOURCE.replace('name: Prometheus', 'name: Prometheus-2');
    const view = viewWith({ [`${DS_DIR}/a.yaml`]: SEED_DATASOURCE, [`${DS_DIR}/b.yml`]: second });
    const sim = await startGrafana(view);

    expect(sim.datasources).toEqual([]);
    const error = view.logs.find((line) => line.includes('level=error'));
    expect(error).toMatch(
      /^logger=provisioning t=\S+ level=error msg="Failed to provision data sources" error="Datasource provisioning error: datasource\.yaml config is invalid\. Only one datasource per organization can be marked as default"$/,
    );
  });

  it('reports a YAML syntax error with go-yaml wording', async () => {
    const view = viewWith({ [`${DS_DIR}/datasources.yaml`]: 'apiVersion: 1\ndatasources:\n- name: Prometheus\n  url: a: b\n' });
    const sim = await startGrafana(view);

    expect(sim.datasources).toEqual([]);
    expect(sim.provisioningError).toMatch(/^Datasource provisioning error: yaml: line \d+: mapping values are not allowed in this context$/);
    const logged = 'msg="Failed to provision data sources" error="Datasource provisioning error: yaml: line';
    expect(view.logs.some((line) => line.includes(logged))).toBe(true);
  });

  it('ignores files of other extensions and sub-directories, expands env variables, honours uid and editable', async () => {
    const view = viewWith({
      [`${DS_DIR}/datasources.yaml`]: [
        'apiVersion: 1',
        'datasources:',
        '- name: Prom',
        '  type: prometheus',
        '  uid: prom',
        '  url: $PROM_URL',
        '  jsonData:',
        '    httpMethod: GET',
      ].join('\n'),
      [`${DS_DIR}/notes.txt`]: 'not: [yaml',
      [`${DS_DIR}/sub/other.yaml`]: 'not: [yaml',
    });
    view.objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS },
      spec: { containers: [{ name: CONTAINER, env: [{ name: 'PROM_URL', value: PROM_URL }] }] },
    });
    const sim = await startGrafana(view);

    expect(sim.datasources).toEqual([
      expect.objectContaining({ uid: 'prom', url: PROM_URL, readOnly: true, jsonData: { httpMethod: 'GET' } }),
    ]);
  });
});

describe('adminCredentialsFromPod', () => {
  it('reads literal values and Secret references, defaulting to admin/admin', () => {
    const view = new FakeView();
    expect(adminCredentialsFromPod(view, NS, POD, CONTAINER)).toEqual({ user: 'admin', password: 'admin' });
    view.objects.push(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: POD, namespace: NS },
        spec: {
          containers: [
            {
              name: CONTAINER,
              env: [
                { name: 'GF_SECURITY_ADMIN_USER', value: 'root' },
                { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'password' } } },
              ],
            },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'grafana-admin', namespace: NS },
        data: { password: Buffer.from(PASSWORD).toString('base64') },
      },
    );
    expect(adminCredentialsFromPod(view, NS, POD, CONTAINER)).toEqual({ user: 'root', password: PASSWORD });
  });
});

describe('HTTP API', () => {
  let sim: GrafanaSim;
  beforeAll(async () => {
    sim = createGrafana(viewWith());
    await sim.start();
  });
  afterAll(() => sim.stop());

  it('answers /api/health without credentials, pretty-printed, for GET and HEAD', async () => {
    const health = await call(sim, '/api/health');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(health.json()).toEqual({ commit: expect.any(String), database: 'ok', version: '11.5.0' });
    expect(health.text).toContain('\n  "database": "ok"');
    const head = await call(sim, '/api/health', { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);

    sim.faults.databaseFailing = true;
    expect((await call(sim, '/api/health')).status).toBe(503);
    sim.faults.databaseFailing = false;
  });

  it('authenticates basic, token and session-cookie callers', async () => {
    expect((await call(sim, '/api/datasources', { headers: basic('admin', PASSWORD) })).status).toBe(200);
    expect((await call(sim, '/api/datasources', { headers: asAdmin })).status).toBe(200);

    const wrong = await call(sim, '/api/datasources', { headers: basic('admin', 'nope') });
    expect([wrong.status, wrong.json()]).toEqual([
      401,
      { message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401, traceID: '' },
    ]);
    const none = await call(sim, '/api/datasources');
    expect([none.status, none.json()]).toEqual([
      401,
      { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: '' },
    ]);
    const badToken = await call(sim, '/api/datasources', { headers: { authorization: 'Bearer glsa_forged' } });
    expect([badToken.status, badToken.json()]).toEqual([
      401,
      { message: 'Invalid API key', messageId: 'api-key.invalid', statusCode: 401, traceID: '' },
    ]);

    const badLogin = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: 'nope' } });
    expect(badLogin.status).toBe(401);
    const login = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: PASSWORD } });
    expect([login.status, login.json()]).toEqual([200, { message: 'Logged in', redirectUrl: '/' }]);
    const setCookie = [login.headers['set-cookie']].flat().join('\n');
    expect(setCookie).toMatch(/^grafana_session=[0-9a-f]{32}; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Lax$/m);
    const cookie = /grafana_session=([0-9a-f]+)/.exec(setCookie)![0];
    expect((await call(sim, '/api/datasources', { headers: { cookie } })).status).toBe(200);
    expect((await call(sim, '/api/datasources', { headers: { cookie: 'grafana_session=stale' } })).status).toBe(401);
  });

  it('serves the login page as HTML and redirects anonymous UI requests to it', async () => {
    const page = await call(sim, '/login');
    expect([page.status, page.headers['content-type']]).toEqual([200, 'text/html; charset=UTF-8']);
    expect(page.text).toMatch(/^<!doctype html>/);
    const home = await call(sim, '/');
    expect([home.status, home.headers.location]).toEqual([302, '/login']);
  });

  it('lists and finds datasources by uid, name and id', async () => {
    const list = (await call(sim, '/api/datasources', { headers: asAdmin })).json();
    expect(list).toEqual([
      {
        id: 1,
        uid: 'PBFA97CFB590B2093',
        orgId: 1,
        name: 'Prometheus',
        type: 'prometheus',
        typeName: 'Prometheus',
        typeLogoUrl: 'public/app/plugins/datasource/prometheus/img/prometheus_logo.svg',
        access: 'proxy',
        url: PROM_URL,
        user: '',
        database: '',
        basicAuth: false,
        isDefault: true,
        jsonData: {},
        readOnly: false,
      },
    ]);
    for (const path of ['uid/PBFA97CFB590B2093', 'name/Prometheus', '1']) {
      const one = await call(sim, `/api/datasources/${path}`, { headers: asAdmin });
      expect([one.status, one.json()]).toEqual([
        200,
        expect.objectContaining({ name: 'Prometheus', version: 1, withCredentials: false }),
      ]);
    }
    const missing = await call(sim, '/api/datasources/name/Loki', { headers: asAdmin });
    expect([missing.status, missing.json()]).toEqual([404, { message: 'Data source not found' }]);
    const unknown = await call(sim, '/api/nothing-here', { headers: asAdmin });
    expect([unknown.status, unknown.json()]).toEqual([404, { message: 'Not found' }]);
    expect((await call(sim, '/api/datasources', { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(403);
  });

  it('serves dashboards through search and by uid', async () => {
    const withDashboards = await startGrafana(viewWith(), {
      dashboards: [{ uid: 'taskflow', title: 'TaskFlow Overview', panels: [] }],
    });
    const hits = (await call(withDashboards, '/api/search?type=dash-db', { headers: asAdmin })).json();
    expect(hits).toEqual([expect.objectContaining({ uid: 'taskflow', url: '/d/taskflow/taskflow-overview', type: 'dash-db' })]);
    const one = (await call(withDashboards, '/api/dashboards/uid/taskflow', { headers: asAdmin })).json();
    expect(one).toEqual({
      meta: expect.objectContaining({ slug: 'taskflow-overview', provisioned: false }),
      dashboard: expect.objectContaining({ uid: 'taskflow', panels: [] }),
    });
  });
});

describe('datasource health check', () => {
  const healthPath = '/api/datasources/uid/PBFA97CFB590B2093/health';

  it('queries 1+1 at time 4 by POST and reports the Prometheus build', async () => {
    const sim = await startGrafana(viewWith());
    const res = await call(sim, healthPath, { headers: asAdmin });

    expect(res.status).toBe(200);
    expect(res.text).toBe(
      '{"details":{"application":"Prometheus","features":{"rulerApiEnabled":false}},"message":"Successfully queried the Prometheus API.","status":"OK"}',
    );
    const query = prometheus.seen.find((r) => r.url.startsWith('/api/v1/query'));
    expect(query).toEqual(
      expect.objectContaining({ method: 'POST', url: '/api/v1/query', body: 'query=1%2B1&time=4' }),
    );
    expect(query!.headers).toEqual(
      expect.objectContaining({ host: `${PROM_HOST}:9090`, 'content-type': 'application/x-www-form-urlencoded' }),
    );
  });

  it('uses GET when the datasource says httpMethod: GET', async () => {
    const sim = await startGrafana(
      viewWith({ [`${DS_DIR}/ds.yaml`]: `${SEED_DATASOURCE}  jsonData:\n    httpMethod: GET\n` }),
    );
    expect((await call(sim, healthPath, { headers: asAdmin })).status).toBe(200);
    expect(prometheus.seen[0]).toEqual(expect.objectContaining({ method: 'GET', url: '/api/v1/query?query=1%2B1&time=4' }));
  });

  it('reports a refused connection with Go wording', async () => {
    const view = viewWith();
    view.routes.set(`${PROM_HOST}:9090`, { address: '127.0.0.1', port: await freePort() });
    const sim = await startGrafana(view);
    const res = await call(sim, healthPath, { headers: asAdmin });

    expect([res.status, res.json()]).toEqual([
      400,
      {
        message: `Post "${PROM_URL}/api/v1/query": dial tcp 10.96.0.50:9090: connect: connection refused - There was an error returned querying the Prometheus API.`,
        status: 'ERROR',
      },
    ]);
  });

  it('reports an unknown host and a Prometheus answering 503', async () => {
    const view = viewWith();
    view.routes.clear();
    const noDns = await startGrafana(view);
    expect((await call(noDns, healthPath, { headers: asAdmin })).json()).toEqual({
      message: `Post "${PROM_URL}/api/v1/query": dial tcp: lookup ${PROM_HOST} on 10.96.0.10:53: no such host - There was an error returned querying the Prometheus API.`,
      status: 'ERROR',
    });

    prometheus.unavailable = true;
    const sim = await startGrafana(viewWith());
    const res = await call(sim, healthPath, { headers: asAdmin });
    expect([res.status, res.json()]).toEqual([
      400,
      { message: '503 Service Unavailable - There was an error returned querying the Prometheus API.', status: 'ERROR' },
    ]);
  });

  it('rejects bad and unknown uids, viewers, and honours the forced-failure fault', async () => {
    const sim = await startGrafana(viewWith());
    const invalid = await call(sim, '/api/datasources/uid/bad$uid/health', { headers: asAdmin });
    expect([invalid.status, invalid.json()]).toEqual([400, { message: 'UID is invalid' }]);
    const unknown = await call(sim, '/api/datasources/uid/nope/health', { headers: asAdmin });
    expect([unknown.status, unknown.json()]).toEqual([500, { message: 'Unable to load datasource metadata', traceID: '' }]);
    const viewer = await call(sim, healthPath, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    expect([viewer.status, viewer.json()]).toEqual([403, { message: 'Access denied to datasource', traceID: '' }]);
    sim.faults.datasourceHealthStatus = 500;
    expect((await call(sim, healthPath, { headers: asAdmin })).status).toBe(500);
  });
});

describe('POST /api/ds/query', () => {
  const query = (expr: string, extra: Record<string, unknown> = {}) => ({
    from: 'now-5m',
    to: 'now',
    queries: [
      {
        refId: 'A',
        datasource: { type: 'prometheus', uid: 'PBFA97CFB590B2093' },
        expr,
        instant: true,
        range: false,
        intervalMs: 15000,
        maxDataPoints: 43200,
        format: 'time_series',
        ...extra,
      },
    ],
  });

  it('turns an instant vector into one numeric-multi frame per series', async () => {
    const sim = await startGrafana(viewWith());
    const before = Date.now();
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: query('up') });

    expect(res.status).toBe(200);
    const result = (res.json() as { results: Record<string, { status: number; frames: unknown[] }> }).results.A!;
    expect(result.status).toBe(200);
    expect(result.frames).toHaveLength(2);
    expect(result.frames[0]).toEqual({
      schema: {
        refId: 'A',
        meta: {
          type: 'numeric-multi',
          typeVersion: [0, 1],
          custom: { resultType: 'vector' },
          executedQueryString: 'Expr: up\nStep: 15s',
        },
        fields: [
          { name: 'Time', type: 'time', typeInfo: { frame: 'time.Time' }, config: { interval: 15000 } },
          {
            name: 'up',
            type: 'number',
            typeInfo: { frame: 'float64' },
            labels: { __name__: 'up', instance: '10.244.0.7:8000', job: 'kubernetes-pods' },
            config: { displayNameFromDS: 'up{instance="10.244.0.7:8000", job="kubernetes-pods"}' },
          },
        ],
      },
      data: { values: [[1435781451781], [1]] },
    });
    expect(result.frames[1]).toEqual(
      expect.objectContaining({ data: { values: [[1435781451781], [null]], entities: [null, { NaN: [0] }] } }),
    );
    const sent = new URLSearchParams(prometheus.seen[0]!.body);
    expect(sent.get('query')).toBe('up');
    expect(Number(sent.get('time')) * 1000).toBeGreaterThanOrEqual(before - 1);
  });

  it('names the value field "Value" without the dataplane feature', async () => {
    const sim = await startGrafana(viewWith(), { dataplane: false });
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: query('up') });
    const frame = firstFrame(res);
    expect(frame.schema.fields[1]!.name).toBe('Value');
    expect(frame.schema.name).toBe('up{instance="10.244.0.7:8000", job="kubernetes-pods"}');
  });

  it('runs range queries against query_range with an aligned window', async () => {
    const sim = await startGrafana(viewWith());
    const res = await call(sim, '/api/ds/query', {
      method: 'POST',
      headers: asAdmin,
      body: query('up', { instant: false, range: true }),
    });

    expect(res.status).toBe(200);
    const frame = firstFrame(res);
    expect(frame.schema.meta).toEqual(expect.objectContaining({ type: 'timeseries-multi', custom: { resultType: 'matrix' } }));
    expect(frame.data).toEqual({ values: [[1700000000000, 1700000015000], [1, 0]] });
    const sent = new URLSearchParams(prometheus.seen[0]!.body);
    expect(prometheus.seen[0]!.url).toBe('/api/v1/query_range');
    expect(sent.get('step')).toBe('15');
    expect(Number(sent.get('end')) - Number(sent.get('start'))).toBeCloseTo(300, -2);
    expect(Number(sent.get('start')) % 15).toBe(0);
  });

  it('passes Prometheus errors through per query with HTTP 400', async () => {
    const sim = await startGrafana(viewWith());
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: query('foo(') });

    expect(res.status).toBe(400);
    expect((res.json() as { results: { A: unknown } }).results.A).toEqual({
      status: 400,
      error: 'bad_data: 1:5: parse error: unclosed left parenthesis',
      errorSource: 'downstream',
      frames: [
        {
          schema: { refId: 'A', meta: { typeVersion: [0, 0], executedQueryString: 'Expr: foo(\nStep: 15s' }, fields: [] },
          data: { values: [] },
        },
      ],
    });
  });

  it('answers 502 per query when Prometheus cannot be reached', async () => {
    const view = viewWith();
    view.routes.set(`${PROM_HOST}:9090`, { error: `dial tcp 10.96.0.50:9090: connect: connection refused` });
    const sim = await startGrafana(view);
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: query('up') });

    expect(res.status).toBe(400);
    expect((res.json() as { results: { A: unknown } }).results.A).toEqual({
      status: 502,
      error: `Post "${PROM_URL}/api/v1/query": dial tcp 10.96.0.50:9090: connect: connection refused`,
      errorSource: 'downstream',
    });
  });

  it('rejects requests without queries, without a datasource, or for an unknown uid', async () => {
    const sim = await startGrafana(viewWith());
    const post = (body: unknown, headers: Record<string, string> = asAdmin) =>
      call(sim, '/api/ds/query', { method: 'POST', headers, body });

    const empty = await post({ queries: [] });
    expect([empty.status, empty.json()]).toEqual([
      400,
      { message: 'No queries found', messageId: 'query.noQueries', statusCode: 400, traceID: '' },
    ]);
    const noDs = await post({ queries: [{ refId: 'A', expr: 'up' }] });
    expect([noDs.status, (noDs.json() as { messageId: string }).messageId]).toEqual([400, 'query.invalidDatasourceId']);
    const unknown = await post(query('up', { datasource: { type: 'prometheus', uid: 'nope' } }));
    expect([unknown.status, unknown.json()]).toEqual([404, { message: 'Data source not found', traceID: '' }]);
    const viewer = await post(query('up'), { authorization: `Bearer ${VIEWER_TOKEN}` });
    expect(viewer.status).toBe(403);
  });
});

describe('POST /api/admin/provisioning/datasources/reload', () => {
  const RELOAD = '/api/admin/provisioning/datasources/reload';
  const LOKI_FILE = `${DS_DIR}/loki.yaml`;
  const LOKI = 'apiVersion: 1\ndatasources:\n- name: Loki\n  type: loki\n  url: http://loki:3100\n';

  it('needs a Grafana server admin: basic auth of the admin account', async () => {
    const sim = await startGrafana(viewWith());
    const none = await call(sim, RELOAD, { method: 'POST' });
    expect([none.status, none.json()]).toEqual([401, { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: '' }]);
    const wrong = await call(sim, RELOAD, { method: 'POST', headers: basic('admin', 'nope') });
    expect([wrong.status, (wrong.json() as { message: string }).message]).toEqual([401, 'Invalid username or password']);
    // A service account with the Admin role is no server admin.
    for (const token of [TOKEN, VIEWER_TOKEN]) {
      const refused = await call(sim, RELOAD, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect([refused.status, refused.json()]).toEqual([
        403,
        {
          accessErrorId: expect.stringMatching(/^ACE\d{10}$/),
          message: "You'll need additional permissions to perform this action. Permissions needed: provisioning:reload",
          title: 'Access denied',
        },
      ]);
    }
    const ok = await call(sim, RELOAD, { method: 'POST', headers: basic('admin', PASSWORD) });
    expect([ok.status, ok.json()]).toEqual([200, { message: 'Datasources config reloaded' }]);
    const dashboards = await call(sim, '/api/admin/provisioning/dashboards/reload', { method: 'POST', headers: basic('admin', PASSWORD) });
    expect([dashboards.status, dashboards.json()]).toEqual([200, { message: 'Dashboards config reloaded' }]);
    expect((await call(sim, RELOAD, { headers: basic('admin', PASSWORD) })).status).toBe(404);
  });

  it('shows files written after the start only once reloaded', async () => {
    const view = viewWith();
    const sim = await startGrafana(view);
    view.files.set(LOKI_FILE, LOKI);
    const names = async () =>
      ((await call(sim, '/api/datasources', { headers: asAdmin })).json() as { name: string }[]).map((ds) => ds.name);
    expect(await names()).toEqual(['Prometheus']);
    await call(sim, RELOAD, { method: 'POST', headers: basic('admin', PASSWORD) });
    expect(await names()).toEqual(['Loki', 'Prometheus']);
    expect(view.logs.filter((l) => l.includes('inserting datasource')).map((l) => /name=(\S+)/.exec(l)![1])).toEqual(['Prometheus', 'Loki']);
  });

  it('updates changed files, keeps datasources whose file went away, deletes only by deleteDatasources or prune', async () => {
    const view = viewWith({ [`${DS_DIR}/a.yaml`]: SEED_DATASOURCE, [LOKI_FILE]: LOKI });
    const sim = await startGrafana(view);
    const prometheus = sim.datasources.find((ds) => ds.name === 'Prometheus')!;

    view.files.set(`${DS_DIR}/a.yaml`, SEED_DATASOURCE.replace(PROM_URL, 'http://prometheus-2:9090'));
    view.files.delete(LOKI_FILE);
    expect(sim.reloadDatasources()).toEqual({});
    expect(sim.datasources.map((ds) => [ds.name, ds.url])).toEqual([
      ['Prometheus', 'http://prometheus-2:9090'],
      ['Loki', 'http://loki:3100'],
    ]);
    expect(sim.datasources[0]).toMatchObject({ id: prometheus.id, uid: prometheus.uid });

    view.files.set(`${DS_DIR}/cleanup.yaml`, 'apiVersion: 1\ndeleteDatasources:\n- name: Loki\n  orgId: 1\n');
    sim.reloadDatasources();
    expect(sim.datasources.map((ds) => ds.name)).toEqual(['Prometheus']);
    expect(view.logs.some((l) => /level=info msg="deleted datasource based on configuration" name=Loki$/.test(l))).toBe(true);

    view.files.set(`${DS_DIR}/pruned.yaml`, `apiVersion: 1\nprune: true\ndatasources:\n- name: Tempo\n  type: tempo\n  url: http://tempo:3200\n`);
    sim.reloadDatasources();
    expect(sim.datasources.map((ds) => ds.name)).toEqual(['Prometheus', 'Tempo']);
    view.files.delete(`${DS_DIR}/pruned.yaml`);
    sim.reloadDatasources();
    expect(sim.datasources.map((ds) => ds.name)).toEqual(['Prometheus']);
  });

  it('leaves a datasource alone when the file gives a version not above the stored one', async () => {
    const versioned = SEED_DATASOURCE.replace('  editable: true\n', '  editable: true\n  version: 1\n');
    const view = viewWith({ [`${DS_DIR}/a.yaml`]: versioned });
    const sim = await startGrafana(view);
    view.files.set(`${DS_DIR}/a.yaml`, versioned.replace(PROM_URL, 'http://elsewhere:9090'));
    sim.reloadDatasources();
    expect(sim.datasources[0]).toMatchObject({ url: PROM_URL, version: 1 });
    view.files.set(`${DS_DIR}/a.yaml`, versioned.replace(PROM_URL, 'http://elsewhere:9090').replace('version: 1', 'version: 2'));
    sim.reloadDatasources();
    expect(sim.datasources[0]).toMatchObject({ url: 'http://elsewhere:9090', version: 3 });
  });

  it('answers 500 when two files mark a default datasource, changing nothing', async () => {
    const view = viewWith();
    const sim = await startGrafana(view);
    view.files.set(`${DS_DIR}/b.yaml`, SEED_DATASOURCE.replace('name: Prometheus', 'name: Prometheus-2'));
    const res = await call(sim, RELOAD, { method: 'POST', headers: basic('admin', PASSWORD) });
    expect([res.status, res.json()]).toEqual([500, { message: 'Internal Server Error' }]);
    expect(sim.datasources.map((ds) => ds.name)).toEqual(['Prometheus']);
    const reason = 'Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default';
    expect(view.logs).toContainEqual(expect.stringMatching(new RegExp(`^logger=provisioning t=\\S+ level=error msg="Failed to provision data sources" error="${reason.replace(/\./g, '\\.')}"$`)));
    expect(view.logs.at(-1)).toMatch(
      /^logger=context userId=1 orgId=1 uname=admin t=\S+ level=error msg="Request Completed" method=POST path=\/api\/admin\/provisioning\/datasources\/reload status=500 remote_addr=127\.0\.0\.1 time_ms=\d+ duration=[\d.]+(µs|ms) size=35 referer= handler=\/api\/admin\/provisioning\/datasources\/reload status_source=server error="Datasource provisioning error: /,
    );
  });
});

describe('datasources that live only in the database', () => {
  it('are created through the API or createDatasource, editable, and survive reloads', async () => {
    const view = viewWith();
    const sim = await startGrafana(view);
    const created = await call(sim, '/api/datasources', {
      method: 'POST',
      headers: asAdmin,
      body: { name: 'Manual', type: 'prometheus', url: 'http://manual:9090', access: 'proxy', uid: 'manual' },
    });
    expect([created.status, created.json()]).toEqual([
      200,
      { datasource: expect.objectContaining({ uid: 'manual', name: 'Manual', readOnly: false, version: 1 }), id: 2, message: 'Datasource added', name: 'Manual' },
    ]);
    const direct = sim.createDatasource({ name: 'Tempo', type: 'tempo', url: 'http://tempo:3200' });
    expect(direct).toMatchObject({ readOnly: false, uid: expect.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{13}$/) });
    sim.reloadDatasources();
    expect(sim.datasources.map((ds) => [ds.name, ds.readOnly])).toEqual([
      ['Prometheus', false],
      ['Manual', false],
      ['Tempo', false],
    ]);

    const taken = await call(sim, '/api/datasources', { method: 'POST', headers: asAdmin, body: { name: 'Manual', type: 'prometheus' } });
    expect([taken.status, taken.json()]).toEqual([409, { message: 'data source with the same name already exists' }]);
    const viewer = await call(sim, '/api/datasources', { method: 'POST', headers: { authorization: `Bearer ${VIEWER_TOKEN}` }, body: { name: 'X' } });
    expect([viewer.status, (viewer.json() as { message: string }).message]).toEqual([403, "You'll need additional permissions to perform this action. Permissions needed: datasources:create"]);

    const updated = await call(sim, '/api/datasources/uid/manual', { method: 'PUT', headers: asAdmin, body: { name: 'Manual', type: 'prometheus', url: 'http://manual-2:9090' } });
    expect([updated.status, (updated.json() as { message: string }).message]).toEqual([200, 'Datasource updated']);
    expect(sim.datasources.find((ds) => ds.uid === 'manual')?.url).toBe('http://manual-2:9090');
    const deleted = await call(sim, '/api/datasources/uid/manual', { method: 'DELETE', headers: asAdmin });
    expect([deleted.status, deleted.json()]).toEqual([200, { id: 2, message: 'Data source deleted' }]);
  });

  it('a provisioned datasource refuses API changes unless editable, and a file takes over a same-named one', async () => {
    const readOnly = SEED_DATASOURCE.replace('  editable: true\n', '');
    const view = viewWith({ [`${DS_DIR}/a.yaml`]: readOnly });
    const sim = await startGrafana(view);
    const uid = sim.datasources[0]!.uid;
    const put = await call(sim, `/api/datasources/uid/${uid}`, { method: 'PUT', headers: asAdmin, body: { name: 'Prometheus', type: 'prometheus' } });
    expect([put.status, put.json()]).toEqual([403, { message: 'Cannot update read-only data source' }]);
    const del = await call(sim, `/api/datasources/uid/${uid}`, { method: 'DELETE', headers: asAdmin });
    expect([del.status, del.json()]).toEqual([403, { message: 'Cannot delete read-only data source' }]);

    sim.createDatasource({ name: 'Loki', type: 'loki', url: 'http://old-loki:3100', isDefault: true });
    expect(sim.datasources.map((ds) => [ds.name, ds.isDefault])).toEqual([
      ['Prometheus', false],
      ['Loki', true],
    ]);
    view.files.set(`${DS_DIR}/loki.yaml`, 'apiVersion: 1\ndatasources:\n- name: Loki\n  type: loki\n  url: http://loki:3100\n');
    sim.reloadDatasources();
    expect(sim.datasources.find((ds) => ds.name === 'Loki')).toMatchObject({ url: 'http://loki:3100', readOnly: true });
  });
});

describe('GET /metrics', () => {
  it('serves Grafana metrics without credentials', async () => {
    const sim = await startGrafana(viewWith());
    await call(sim, '/api/datasources', { headers: asAdmin });
    const res = await call(sim, '/metrics');
    expect([res.status, res.headers['content-type']]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    expect(res.text).toContain('# TYPE grafana_build_info gauge\n');
    expect(res.text).toMatch(/^grafana_build_info\{branch="HEAD",edition="oss",goversion="go[\d.]+",revision="\w+",version="11\.5\.0"\} 1$/m);
    expect(res.text).toMatch(/^grafana_stat_totals_datasource\{plugin_id="prometheus"\} 1$/m);
    expect(res.text).toMatch(/^grafana_api_response_status_total\{code="200"\} 1$/m);
    expect(res.text).toMatch(
      /^grafana_http_request_duration_seconds_count\{handler="\/api\/datasources\/",method="GET",status_code="200",status_source="server"\} 1$/m,
    );
  });
});
