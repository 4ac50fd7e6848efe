/**
 * The simulated Grafana answers as each release really does — 9.5.x, 10.4.x, 11.5.x, 12.x — in
 * everything the action reads: /api/health, the datasource health check (none for Prometheus in
 * 9.5), /api/ds/query frames, login cookies and answers, refusals, /logout; and `login_cookie_name`,
 * `[auth.basic] enabled = false`, and idle keep-alive connections like Go's net/http server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import type { ClusterView, DialResult, FileWriteResult, KubeObject } from '../../sim/kube/view.js';
import { GrafanaSim } from '../../sim/grafana/server.js';

const NS = 'monitoring';
const POD = 'grafana-5c9d8-x2x7q';
const PROM_HOST = 'prometheus.monitoring.svc.cluster.local';
const PROM_URL = `http://${PROM_HOST}:9090`;
const UID = 'PBFA97CFB590B2093';
const TOKEN = 'glsa_versionsAdminToken_0123abcd';
const PASSWORD = 'admin-versions';
const DS_FILE = `apiVersion: 1
datasources:
- name: Prometheus
  type: prometheus
  access: proxy
  url: ${PROM_URL}
  isDefault: true
`;

/** One Grafana pod; the Prometheus Service routes to the fake below. */
class FakeView implements ClusterView {
  readonly files = new Map<string, string>([['/etc/grafana/provisioning/datasources/ds.yaml', DS_FILE]]);
  readonly objects: KubeObject[] = [];
  constructor(private readonly promPort: number) {}
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  }
  list(kind: string): KubeObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }
  containerFiles(): Map<string, string> {
    return this.files;
  }
  lookupHost(host: string): { name: string; address: string } | undefined {
    return host === PROM_HOST ? { name: host, address: '10.96.0.50' } : undefined;
  }
  dial(host: string, port: number): DialResult {
    return host === PROM_HOST && port === 9090 ? { address: '127.0.0.1', port: this.promPort } : { error: `dial tcp: lookup ${host} on 10.96.0.10:53: no such host` };
  }
  appendLog(): void {}
  writeContainerFile(): FileWriteResult {
    return { ok: true };
  }
  removeContainerFile(): FileWriteResult {
    return { ok: true };
  }
}

/** The Grafana pod with container env (what GF_* settings Grafana reads). */
function podWith(env: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: NS, name: POD },
    spec: { containers: [{ name: 'grafana', env: Object.entries(env).map(([name, value]) => ({ name, value })) }] },
  } as KubeObject;
}

/** Prometheus 2.42 for the queries Grafana sends: `1+1`, `up`, and a parse error for `foo(`. */
const prometheus: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://p');
    const query = new URLSearchParams(Buffer.concat(chunks).toString() || url.search).get('query');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v1/status/buildinfo') return send(200, { status: 'success', data: { version: '2.42.0' } });
    if (query === 'foo(') return send(400, { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unclosed left parenthesis' });
    if (query === '1+1') return send(200, { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
    return send(200, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'kubernetes-pods' }, value: [1700000000, '1'] }] },
    });
  });
});
let promPort = 0;
const started: GrafanaSim[] = [];

async function startGrafana(options: { version?: string; loginCookieName?: string; basicAuthEnabled?: boolean; env?: Record<string, string> } = {}): Promise<GrafanaSim> {
  const view = new FakeView(promPort);
  if (options.env) view.objects.push(podWith(options.env));
  const sim = new GrafanaSim({
    view,
    namespace: NS,
    pod: POD,
    container: 'grafana',
    host: '127.0.0.1',
    port: 0,
    adminUser: 'admin',
    adminPassword: PASSWORD,
    serviceAccountTokens: [TOKEN],
    ...(options.version ? { version: options.version } : {}),
    ...(options.loginCookieName ? { loginCookieName: options.loginCookieName } : {}),
    ...(options.basicAuthEnabled !== undefined ? { basicAuthEnabled: options.basicAuthEnabled } : {}),
  });
  started.push(sim);
  await sim.start();
  return sim;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

async function call(sim: GrafanaSim, path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const res = await request(`${sim.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

const setCookies = (a: Answer): string[] => [a.headers['set-cookie'] ?? []].flat();
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
const asAdmin = { authorization: `Bearer ${TOKEN}` };
const instant = (expr: string) => ({
  from: 'now-5m',
  to: 'now',
  queries: [{ refId: 'A', datasource: { type: 'prometheus', uid: UID }, expr, instant: true, range: false, intervalMs: 15000, maxDataPoints: 100 }],
});

beforeAll(async () => {
  await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
  promPort = (prometheus.address() as AddressInfo).port;
});
afterAll(async () => {
  await Promise.all(started.map((sim) => sim.stop()));
  prometheus.closeAllConnections();
  await new Promise<void>((resolve) => prometheus.close(() => resolve()));
});

const ERRUTIL = (status: number, messageId: string, message: string) => ({ message, messageId, statusCode: status, traceID: '' });
const HEALTH_OK = { details: { application: 'Prometheus', features: { rulerApiEnabled: false } }, message: 'Successfully queried the Prometheus API.', status: 'OK' };

interface Release {
  version: string;
  /** /api/health keys in the order Grafana writes them. */
  healthKeys: string[];
  dsHealth: [number, unknown];
  noCredentials: unknown;
  wrongPassword: unknown;
  badToken: unknown;
  loggedIn: unknown;
  /** The cookies POST /login sets, by name. */
  loginCookies: string[];
  frame: { type: string; typeVersion: number[]; valueField: string };
  errorSource: boolean;
}

const RELEASES: Release[] = [
  {
    version: '9.5.21',
    healthKeys: ['commit', 'database', 'version'],
    dsHealth: [404, { message: 'Not found', traceID: '' }],
    noCredentials: { message: 'Unauthorized' },
    wrongPassword: { message: 'Invalid username or password', traceID: '' },
    badToken: { message: 'Invalid API key', traceID: '' },
    loggedIn: { message: 'Logged in' },
    loginCookies: ['grafana_session'],
    frame: { type: 'timeseries-multi', typeVersion: [0, 0], valueField: 'Value' },
    errorSource: false,
  },
  {
    version: '10.4.14',
    healthKeys: ['commit', 'database', 'version'],
    dsHealth: [200, HEALTH_OK],
    noCredentials: ERRUTIL(401, 'auth.unauthorized', 'Unauthorized'),
    wrongPassword: ERRUTIL(401, 'password-auth.failed', 'Invalid username or password'),
    badToken: ERRUTIL(401, 'api-key.invalid', 'Invalid API key'),
    loggedIn: { message: 'Logged in', redirectUrl: '/' },
    loginCookies: ['grafana_session', 'grafana_session_expiry'],
    frame: { type: 'numeric-multi', typeVersion: [0, 1], valueField: 'up' },
    errorSource: false,
  },
  ...['11.5.0', '12.0.2'].map((version) => ({
    version,
    healthKeys: ['database', 'version', 'commit'],
    dsHealth: [200, HEALTH_OK] as [number, unknown],
    noCredentials: ERRUTIL(401, 'auth.unauthorized', 'Unauthorized'),
    wrongPassword: ERRUTIL(401, 'password-auth.failed', 'Invalid username or password'),
    badToken: ERRUTIL(401, 'api-key.invalid', 'Invalid API key'),
    loggedIn: { message: 'Logged in', redirectUrl: '/' },
    loginCookies: ['grafana_session', 'grafana_session_expiry'],
    frame: { type: 'numeric-multi', typeVersion: [0, 1], valueField: 'up' },
    errorSource: true,
  })),
];

describe.each(RELEASES)('Grafana $version', (release) => {
  let sim: GrafanaSim;
  beforeAll(async () => {
    sim = await startGrafana({ version: release.version });
  });

  it('answers /api/health with its version, keys in the release\'s order', async () => {
    const health = await call(sim, '/api/health');
    expect([health.status, health.headers['content-type']]).toEqual([200, 'application/json; charset=UTF-8']);
    expect(Object.keys(health.json() as object)).toEqual(release.healthKeys);
    expect(health.json()).toMatchObject({ database: 'ok', version: release.version });
    expect(health.text).toContain('\n  "database": "ok"');
  });

  it('answers the datasource health check as the release does', async () => {
    const res = await call(sim, `/api/datasources/uid/${UID}/health`, { headers: asAdmin });
    expect([res.status, res.json()]).toEqual(release.dsHealth);
  });

  it('refuses missing and wrong credentials with the release\'s bodies', async () => {
    const none = await call(sim, '/api/datasources');
    expect([none.status, none.json()]).toEqual([401, release.noCredentials]);
    const wrong = await call(sim, '/api/datasources', { headers: basic('nope') });
    expect([wrong.status, wrong.json()]).toEqual([401, release.wrongPassword]);
    const badLogin = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: 'nope' } });
    expect([badLogin.status, badLogin.json()]).toEqual([401, release.wrongPassword]);
    const token = await call(sim, '/api/datasources', { headers: { authorization: 'Bearer glsa_forged' } });
    expect([token.status, token.json()]).toEqual([401, release.badToken]);
  });

  it('logs in with the release\'s answer and cookies, and GET /logout ends the session', async () => {
    const login = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: PASSWORD } });
    expect([login.status, login.json()]).toEqual([200, release.loggedIn]);
    const cookies = setCookies(login);
    expect(cookies.map((c) => c.split('=')[0])).toEqual(release.loginCookies);
    expect(cookies[0]).toMatch(/^grafana_session=[0-9a-f]{32}; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Lax$/);
    if (cookies[1]) {
      const expiry = /^grafana_session_expiry=(\d+); Path=\/; Max-Age=2592000; SameSite=Lax$/.exec(cookies[1]);
      expect(Number(expiry?.[1])).toBeGreaterThan(Date.now() / 1000);
    }
    const cookie = cookies.map((c) => c.split(';')[0]).join('; ');
    expect((await call(sim, '/api/datasources', { headers: { cookie } })).status).toBe(200);
    const open = sim.openSessions;

    const logout = await call(sim, '/logout', { headers: { cookie } });
    expect([logout.status, logout.headers.location, logout.text]).toEqual([302, '/login', '<a href="/login">Found</a>.\n\n']);
    expect(setCookies(logout).map((c) => c.split(';').slice(0, 3).join(';'))).toEqual(release.loginCookies.map((name) => `${name}=; Path=/; Max-Age=0`));
    expect(sim.openSessions).toBe(open - 1);
    const after = await call(sim, '/api/datasources', { headers: { cookie } });
    expect([after.status, after.json()]).toEqual([401, release.noCredentials]);
  });

  it('answers /api/ds/query with the release\'s frames, and its per-query errors', async () => {
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: instant('up') });
    expect(res.status).toBe(200);
    const frame = (res.json() as { results: { A: { frames: { schema: { meta: { type: string; typeVersion: number[] }; fields: { name: string }[] } }[] } } }).results.A.frames[0]!;
    expect([frame.schema.meta.type, frame.schema.meta.typeVersion, frame.schema.fields[1]?.name]).toEqual([
      release.frame.type,
      release.frame.typeVersion,
      release.frame.valueField,
    ]);

    const failed = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: instant('foo(') });
    const result = (failed.json() as { results: { A: Record<string, unknown> } }).results.A;
    expect([failed.status, result.status, result.error]).toEqual([400, 400, 'bad_data: 1:5: parse error: unclosed left parenthesis']);
    expect('errorSource' in result).toBe(release.errorSource);
  });

  it('answers a 1+1 instant query through /api/ds/query, the test Grafana 9.x ran from its UI', async () => {
    const res = await call(sim, '/api/ds/query', { method: 'POST', headers: asAdmin, body: instant('1+1') });
    const result = (res.json() as { results: { A: { frames: { data: { values: unknown[][] } }[]; error?: string } } }).results.A;
    expect([res.status, result.error, result.frames[0]?.data.values[1]]).toEqual([200, undefined, [2]]);
  });
});

describe('login_cookie_name', () => {
  it('names the session cookie, from the option or GF_AUTH_LOGIN_COOKIE_NAME; the expiry cookie keeps its name', async () => {
    for (const sim of [await startGrafana({ loginCookieName: 'gf_sess' }), await startGrafana({ env: { GF_AUTH_LOGIN_COOKIE_NAME: 'gf_sess' } })]) {
      expect(sim.loginCookieName).toBe('gf_sess');
      const login = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: PASSWORD } });
      const cookies = setCookies(login);
      expect(cookies.map((c) => c.split('=')[0])).toEqual(['gf_sess', 'grafana_session_expiry']);
      const session = cookies[0]!.split(';')[0]!;
      expect((await call(sim, '/api/datasources', { headers: { cookie: session } })).status).toBe(200);
      // The default name means nothing to this Grafana.
      expect((await call(sim, '/api/datasources', { headers: { cookie: session.replace('gf_sess', 'grafana_session') } })).status).toBe(401);
      const logout = await call(sim, '/logout', { headers: { cookie: session } });
      expect(setCookies(logout)[0]).toMatch(/^gf_sess=; Path=\/; Max-Age=0/);
      expect((await call(sim, '/api/datasources', { headers: { cookie: session } })).status).toBe(401);
    }
  });
});

describe('[auth.basic] enabled = false', () => {
  it.each([
    ['the basicAuthEnabled option', { basicAuthEnabled: false }],
    ['GF_AUTH_BASIC_ENABLED=false', { env: { GF_AUTH_BASIC_ENABLED: 'false' } }],
  ])('ignores the Basic header (%s): 401 Unauthorized even with the right password; /login still works', async (_how, options) => {
    const sim = await startGrafana(options);
    const right = await call(sim, '/api/datasources', { headers: basic(PASSWORD) });
    expect([right.status, right.json()]).toEqual([401, ERRUTIL(401, 'auth.unauthorized', 'Unauthorized')]);
    const wrong = await call(sim, '/api/datasources', { headers: basic('nope') });
    expect(wrong.json()).toEqual(right.json());

    const login = await call(sim, '/login', { method: 'POST', body: { user: 'admin', password: PASSWORD } });
    expect(login.status).toBe(200);
    const cookie = setCookies(login).map((c) => c.split(';')[0]).join('; ');
    expect((await call(sim, '/api/datasources', { headers: { cookie } })).status).toBe(200);
    // An ignored Basic header does not hide the session cookie beside it.
    expect((await call(sim, '/api/datasources', { headers: { cookie, ...basic('nope') } })).status).toBe(200);
    expect((await call(sim, '/api/datasources', { headers: asAdmin })).status).toBe(200);
  });

  it('9.5 answers the ignored header with its plain body', async () => {
    const sim = await startGrafana({ version: '9.5.21', basicAuthEnabled: false });
    const right = await call(sim, '/api/datasources', { headers: basic(PASSWORD) });
    expect([right.status, right.json()]).toEqual([401, { message: 'Unauthorized' }]);
  });

  it('reads basic auth as enabled by default and for GF_AUTH_BASIC_ENABLED=true', async () => {
    for (const sim of [await startGrafana(), await startGrafana({ env: { GF_AUTH_BASIC_ENABLED: 'true' } })]) {
      expect((await call(sim, '/api/datasources', { headers: basic(PASSWORD) })).status).toBe(200);
    }
  });
});

/** Writes raw HTTP/1.1 on a socket and reads one whole answer (Content-Length bodies). */
function exchange(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString();
      const head = data.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? -1);
      if (head >= 0 && length >= 0 && data.length >= head + 4 + length) {
        socket.off('data', onData);
        resolve(data);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: grafana\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('idle keep-alive connections', () => {
  it('stay open past Node\'s default (5 s, closed within a second after), as Go\'s server keeps them, and stop() closes them', async () => {
    const sim = await startGrafana();
    const { port } = new URL(sim.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let closed = false;
    socket.on('close', () => (closed = true));
    expect(await exchange(socket, '/api/health')).toMatch(/^HTTP\/1\.1 200 OK/);
    expect((await exchange(socket, '/api/health')).toLowerCase()).not.toContain('connection: close');
    await new Promise((resolve) => setTimeout(resolve, 6500));
    expect(closed).toBe(false);
    expect(await exchange(socket, '/api/health')).toMatch(/^HTTP\/1\.1 200 OK/);

    await sim.stop();
    await new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve())));
    expect(closed).toBe(true);
  }, 15_000);
});
