/**
 * The simulated API server as @kubernetes/client-node sees it: authentication, RBAC, reads,
 * watch, access reviews, pods/log, the service proxy, exec and port-forward over WebSocket,
 * the request log, and injected faults.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  Exec,
  HttpMethod,
  KubeConfig,
  PortForward,
  RequestContext,
  type V1Status,
} from '@kubernetes/client-node';
import { fetch } from 'undici';
import { WebSocket } from 'ws';
import { KubeApiServer } from '../../sim/kube/index.js';
import { sandboxId } from '../../sim/kube/portforward.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: taskflow }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: grafana-datasources, namespace: taskflow }
data:
  datasources.yaml: |
    apiVersion: 1
    datasources:
    - name: Prometheus
      type: prometheus
      access: proxy
      url: http://prometheus.taskflow.svc.cluster.local:9090
      isDefault: true
      editable: true
---
apiVersion: v1
kind: ConfigMap
metadata: { name: other, namespace: taskflow }
data: { a: b }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana } }
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:11.5.0
        ports: [{ name: http, containerPort: 3000 }]
        volumeMounts: [{ name: datasources, mountPath: /etc/grafana/provisioning/datasources, readOnly: true }]
      volumes: [{ name: datasources, configMap: { name: grafana-datasources } }]
---
apiVersion: v1
kind: Service
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { app: grafana }
  ports: [{ name: http, port: 3000, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: prometheus, namespace: taskflow }
spec:
  selector: { matchLabels: { app: prometheus } }
  template:
    metadata: { labels: { app: prometheus } }
    spec:
      serviceAccountName: prometheus
      containers: [{ name: prometheus, image: prom/prometheus:v2.42.0, ports: [{ containerPort: 9090 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: prometheus, namespace: taskflow }
spec:
  selector: { app: prometheus }
  ports: [{ port: 9090, targetPort: 9090 }]
---
apiVersion: v1
kind: Service
metadata: { name: empty, namespace: taskflow }
spec:
  selector: { app: nothing }
  ports: [{ port: 80 }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: checker, namespace: taskflow }
rules:
- { apiGroups: [""], resources: [pods, services, endpoints], verbs: [get, list, watch] }
- { apiGroups: [""], resources: [configmaps], resourceNames: [grafana-datasources], verbs: [get] }
- { apiGroups: [""], resources: [services/proxy, pods/exec, pods/portforward, pods/log], verbs: [get, create] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: checker, namespace: taskflow }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: checker }
subjects: [{ kind: ServiceAccount, name: checker, namespace: ci }]
`;

let server: KubeApiServer;
let admin: KubeConfig;
let checker: KubeConfig;
let nobody: KubeConfig;
let grafanaPod: string;
let grafanaIP: string;
let prometheusIP: string;
let backends: http.Server[] = [];
const seenByBackend: http.IncomingHttpHeaders[] = [];

function config(yaml: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  return kc;
}

function listen(handler: http.RequestListener, host: string, port: number): Promise<http.Server> {
  const s = http.createServer(handler);
  return new Promise((resolve) => s.listen(port, host, () => resolve(s)));
}

/** A request through the API server with the kubeconfig's credentials (client-node's own pattern). */
async function raw(kc: KubeConfig, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const url = `${kc.getCurrentCluster()!.server}${path}`;
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: { ...ctx.getHeaders(), ...init.headers },
    dispatcher: ctx.getDispatcher() as never,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A WebSocket upgrade with the kubeconfig's token (port-forward's protocol); a refusal is read whole. */
async function upgrade(kc: KubeConfig, path: string): Promise<{ status: number; contentType?: string; body: string; ws?: WebSocket }> {
  const opts: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts as never);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${kc.getCurrentCluster()!.server.replace(/^https/, 'wss')}${path}`, ['v4.channel.k8s.io'], { ca: server.caPem, headers: opts.headers });
    ws.once('open', () => resolve({ status: 101, body: '', ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body });
        ws.terminate();
      });
    });
    ws.on('error', reject);
  });
}

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs a command through client-node's Exec and waits for its Status (not just the socket). */
function exec(kc: KubeConfig, pod: string, container: string, command: string[]) {
  const out = collector();
  const err = collector();
  return new Promise<{ stdout: string; stderr: string; status: V1Status }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('exec timed out')), 10000);
    new Exec(kc)
      .exec('taskflow', pod, container, command, out.stream, err.stream, null, false, (status) => {
        clearTimeout(timer);
        resolve({ stdout: out.text(), stderr: err.text(), status });
      })
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(e);
      });
  });
}

beforeAll(async () => {
  server = new KubeApiServer({ manifests: MANIFESTS });
  await server.start();
  admin = config(server.kubeconfig({ token: server.issueToken('admin', ['system:masters']) }));
  checker = config(server.kubeconfig({ token: server.serviceAccountToken('ci', 'checker') }));
  nobody = config(server.kubeconfig({ token: server.issueToken('nobody') }));
  const grafana = server.store.list('Pod', 'taskflow', 'app=grafana')[0];
  grafanaPod = grafana.metadata.name;
  grafanaIP = (grafana.status as { podIP: string }).podIP;
  prometheusIP = (server.store.list('Pod', 'taskflow', 'app=prometheus')[0].status as { podIP: string }).podIP;
  backends.push(
    await listen(
      (req, res) => {
        seenByBackend.push(req.headers);
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          if (req.url === '/api/health') {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end('{"database":"ok","version":"11.5.0"}');
          } else if (req.url === '/login') {
            res.writeHead(200, { 'Set-Cookie': ['grafana_session=abc; Path=/; HttpOnly'], 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ message: 'Logged in', got: JSON.parse(body || '{}') }));
          } else {
            res.writeHead(401, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ message: 'Unauthorized', url: req.url }));
          }
        });
      },
      grafanaIP,
      3000,
    ),
  );
});

afterAll(async () => {
  await server.stop();
  await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
  backends = [];
});

describe('authentication and RBAC', () => {
  it('lists pods by label selector for an allowed service account', async () => {
    const pods = await checker.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'taskflow', labelSelector: 'app=grafana' });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual([grafanaPod]);
    expect(pods.items[0].status?.podIP).toBe(grafanaIP);
    expect(Number(pods.metadata?.resourceVersion)).toBeGreaterThan(0);
  });

  it('reads a ConfigMap allowed by resourceNames, and forbids another one by name', async () => {
    const api = checker.makeApiClient(CoreV1Api);
    const cm = await api.readNamespacedConfigMap({ name: 'grafana-datasources', namespace: 'taskflow' });
    expect(cm.data?.['datasources.yaml']).toContain('prometheus.taskflow.svc.cluster.local:9090');
    const err = await api.readNamespacedConfigMap({ name: 'other', namespace: 'taskflow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(403);
    expect(JSON.parse((err as ApiException<string>).body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'configmaps "other" is forbidden: User "system:serviceaccount:ci:checker" cannot get resource "configmaps" in API group "" in the namespace "taskflow"',
      reason: 'Forbidden',
      details: { name: 'other', kind: 'configmaps' },
      code: 403,
    });
  });

  it('forbids a list with the collection message', async () => {
    const res = await raw(nobody, '/api/v1/namespaces/taskflow/pods');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).message).toBe(
      'pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "taskflow"',
    );
    const cluster = await raw(nobody, '/apis/apps/v1/deployments');
    expect(JSON.parse(cluster.text).message).toBe(
      'deployments.apps is forbidden: User "nobody" cannot list resource "deployments" in API group "apps" at the cluster scope',
    );
  });

  it('speaks HTTP/2 to a client that offers it (several requests over one connection) and HTTP/1.1 to one that does not', async () => {
    const token = server.issueToken('h2-admin', ['system:masters']);
    const session = http2.connect(server.url, { ca: server.caPem });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': path, authorization: `Bearer ${token}` });
        let body = '';
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
    try {
      const [version, pods] = await Promise.all([get('/version'), get('/api/v1/namespaces/taskflow/pods')]);
      expect(session.alpnProtocol).toBe('h2');
      expect(version.status).toBe(200);
      expect(JSON.parse(version.body)).toMatchObject({ major: '1' });
      expect(pods.status).toBe(200);
      expect(JSON.parse(pods.body)).toMatchObject({ kind: 'PodList' });
    } finally {
      session.close();
    }
    const h1 = await new Promise<{ status: number; alpn: string | false | null }>((resolve, reject) => {
      const req = https.get(`${server.url}/version`, { ca: server.caPem, headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol }));
      });
      req.on('error', reject);
    });
    expect(h1).toEqual({ status: 200, alpn: false });
  });

  it('answers 401 without credentials and 404 for a missing object', async () => {
    const anonymous = config(server.kubeconfig({}));
    const res = await raw(anonymous, '/api/v1/namespaces');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const err = (await admin
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name: 'prom-0', namespace: 'taskflow' })
      .catch((e: unknown) => e)) as ApiException<string>;
    expect(err.code).toBe(404);
    expect(JSON.parse(err.body)).toMatchObject({ message: 'pods "prom-0" not found', reason: 'NotFound', details: { name: 'prom-0', kind: 'pods' } });
  });

  it('authenticates client certificates (CN = user, O = groups)', async () => {
    const cert = await server.issueClientCert('alice', ['system:masters']);
    const kc = config(server.kubeconfig({ clientCert: cert }));
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('taskflow');
    expect(server.requestLog.at(-1)?.user).toBe('alice');
  });

  it('answers SelfSubjectAccessReviews with the RBAC reason', async () => {
    const api = checker.makeApiClient(AuthorizationV1Api);
    const allowed = await api.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace: 'taskflow', verb: 'get', resource: 'pods', subresource: 'exec' } } },
    });
    expect(allowed.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "checker/taskflow" of Role "checker" to ServiceAccount "checker/ci"',
    });
    const denied = await api.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace: 'taskflow', verb: 'delete', resource: 'pods' } } },
    });
    expect(denied.status).toEqual({ allowed: false });
    const entry = server.requestLog.filter((e) => e.resource === 'selfsubjectaccessreviews').at(-1);
    expect(entry).toMatchObject({ method: 'POST', verb: 'create', status: 201 });
  });

  it('answers SubjectAccessReviews for another user, and honours impersonation', async () => {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'system:serviceaccount:ci:checker', resourceAttributes: { namespace: 'taskflow', verb: 'list', resource: 'pods' } },
    };
    const post = (kc: KubeConfig) =>
      raw(kc, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
      });
    const res = await post(admin);
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toMatchObject({ kind: 'SubjectAccessReview', status: { allowed: true } });
    expect((await post(checker)).status).toBe(403);
    const asChecker = await raw(admin, '/api/v1/namespaces/taskflow/secrets', {
      headers: { 'Impersonate-User': 'system:serviceaccount:ci:checker' },
    });
    expect(JSON.parse(asChecker.text).message).toMatch(/^secrets is forbidden: User "system:serviceaccount:ci:checker"/);
  });

  it('refuses and logs mutations', async () => {
    const err = (await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: grafanaPod, namespace: 'taskflow' })
      .catch((e: unknown) => e)) as ApiException<string>;
    expect(err.code).toBe(405);
    expect(server.requestLog.at(-1)).toMatchObject({ method: 'DELETE', verb: 'delete', resource: 'pods', name: grafanaPod, status: 405 });
    expect(server.store.get('Pod', 'taskflow', grafanaPod)).toBeDefined();
    const forbidden = await raw(nobody, `/api/v1/namespaces/taskflow/pods/${grafanaPod}`, { method: 'DELETE' });
    expect(forbidden.status).toBe(403);
  });
});

describe('discovery, tables and paging', () => {
  it('serves version and discovery documents', async () => {
    expect(JSON.parse((await raw(admin, '/version')).text).gitVersion).toMatch(/^v1\.32\./);
    const core = JSON.parse((await raw(admin, '/api/v1')).text);
    expect(core.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'] });
    expect(core.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['pods/exec', 'services/proxy']));
    const groups = JSON.parse((await raw(admin, '/apis')).text).groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'rbac.authorization.k8s.io', 'authorization.k8s.io']));
  });

  it('answers a Table when asked as kubectl does', async () => {
    const res = await raw(admin, '/api/v1/namespaces/taskflow/pods', {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table = JSON.parse(res.text);
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows.map((r: { cells: unknown[] }) => r.cells[0])).toContain(grafanaPod);
  });

  it('pages with limit and continue', async () => {
    const first = JSON.parse((await raw(admin, '/api/v1/namespaces?limit=2')).text);
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toBeTruthy();
    const rest = JSON.parse((await raw(admin, `/api/v1/namespaces?limit=10&continue=${first.metadata.continue}`)).text);
    expect([...first.items, ...rest.items].map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
      'taskflow',
    ]);
  });
});

describe('watch', () => {
  it('streams pod events with kind and apiVersion', async () => {
    const rv = server.store.resourceVersion;
    const url = `${server.url}/api/v1/namespaces/taskflow/pods?watch=true&resourceVersion=${rv}&timeoutSeconds=2&labelSelector=app%3Dprometheus`;
    const ctx = new RequestContext(url, HttpMethod.GET);
    await admin.applySecurityAuthentication(ctx);
    const res = await fetch(url, { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() as never });
    setTimeout(() => server.store.setPodStatus('taskflow', 'app=prometheus', { restartCount: 1 }), 100);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'MODIFIED', object: { kind: 'Pod', apiVersion: 'v1', metadata: { labels: { app: 'prometheus' } } } });
    expect(lines.every((l) => l.object.metadata.labels.app === 'prometheus')).toBe(true);
  });

  it('sends ADDED for current objects from resourceVersion 0, and 410 Expired when too old', async () => {
    const initial = await raw(admin, '/api/v1/namespaces/taskflow/services?watch=true&resourceVersion=0&timeoutSeconds=1');
    expect(initial.text.trim().split('\n').map((l) => JSON.parse(l).object.metadata.name)).toEqual(['empty', 'grafana', 'prometheus']);
    server.store.compact();
    const old = await raw(admin, '/api/v1/namespaces/taskflow/pods?watch=true&resourceVersion=1&timeoutSeconds=1');
    expect(JSON.parse(old.text)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});

describe('pods/log', () => {
  it('serves appended lines with tailLines, and rejects a wrong container', async () => {
    for (const line of ['a', 'b', 'c']) server.store.appendLog('taskflow', grafanaPod, 'grafana', line);
    const api = checker.makeApiClient(CoreV1Api);
    expect(await api.readNamespacedPodLog({ name: grafanaPod, namespace: 'taskflow', tailLines: 2 })).toBe('b\nc\n');
    const bad = await raw(checker, `/api/v1/namespaces/taskflow/pods/${grafanaPod}/log?container=nope`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).message).toBe(`container nope is not valid for pod ${grafanaPod}`);
  });
});

describe('service proxy', () => {
  const proxy = (svc: string, path: string) => `/api/v1/namespaces/taskflow/services/${svc}/proxy/${path}`;

  it('forwards to a ready endpoint and returns the answer unchanged', async () => {
    const res = await raw(checker, proxy('grafana:3000', 'api/health'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ database: 'ok', version: '11.5.0' });
    expect(seenByBackend.at(-1)?.authorization).toBeUndefined();
  });

  it('strips Authorization, passes bodies, query strings and Set-Cookie', async () => {
    const api = await raw(checker, proxy('grafana:http', 'api/datasources?x=1'));
    expect(api.status).toBe(401);
    expect(JSON.parse(api.text).url).toBe('/api/datasources?x=1');
    const login = await raw(checker, proxy('grafana:3000', 'login'), {
      method: 'POST',
      body: JSON.stringify({ user: 'admin', password: 'pw' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toBe('grafana_session=abc; Path=/; HttpOnly');
    expect(JSON.parse(login.text).got).toEqual({ user: 'admin', password: 'pw' });
  });

  it.each([
    ['missing:3000', 404, 'services "missing" not found'],
    ['missing', 404, 'endpoints "missing" not found'],
    ['grafana:9999', 503, 'no service port 9999 found for service "grafana"'],
    ['empty:80', 503, 'no endpoints available for service "empty"'],
    ['a:b:c:d', 400, 'invalid service request "a:b:c:d"'],
  ])('answers %s with %d', async (id, code, message) => {
    const res = await raw(admin, proxy(id, ''));
    expect(res.status).toBe(code);
    expect(JSON.parse(res.text)).toMatchObject({ kind: 'Status', code, message });
  });

  it('reports an unreachable backend as kube-apiserver does', async () => {
    const res = await raw(admin, proxy('prometheus:9090', '-/healthy'));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).message).toBe(`error trying to reach service: dial tcp ${prometheusIP}:9090: connect: connection refused`);
  });

  it('proxies to a pod by name and port', async () => {
    const res = await raw(admin, `/api/v1/namespaces/taskflow/pods/${grafanaPod}:3000/proxy/api/health`);
    expect(JSON.parse(res.text)).toEqual({ database: 'ok', version: '11.5.0' });
  });

  it('requires RBAC on services/proxy', async () => {
    const res = await raw(nobody, proxy('grafana:3000', 'api/health'));
    expect(JSON.parse(res.text).message).toBe(
      'services "grafana:3000" is forbidden: User "nobody" cannot get resource "services/proxy" in API group "" in the namespace "taskflow"',
    );
  });
});

describe('pods/exec over WebSocket', () => {
  it('cats a mounted file', async () => {
    const r = await exec(checker, grafanaPod, 'grafana', ['cat', '/etc/grafana/provisioning/datasources/datasources.yaml']);
    expect(r.status.status).toBe('Success');
    expect(r.stdout).toContain('url: http://prometheus.taskflow.svc.cluster.local:9090');
    const entry = server.requestLog.filter((e) => e.subresource === 'exec').at(-1);
    expect(entry).toMatchObject({ verb: 'get', websocket: true, status: 101, user: 'system:serviceaccount:ci:checker' });
  });

  it('reports a missing file with exit code 1', async () => {
    const r = await exec(admin, grafanaPod, 'grafana', ['cat', '/etc/nope.yaml']);
    expect(r.stderr).toBe('cat: /etc/nope.yaml: No such file or directory\n');
    expect(r.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } });
  });

  it('lists directories and tests paths', async () => {
    expect((await exec(admin, grafanaPod, 'grafana', ['ls', '/etc/grafana/provisioning'])).stdout).toBe('datasources\n');
    const ok = await exec(admin, grafanaPod, 'grafana', ['test', '-f', '/etc/grafana/provisioning/datasources/datasources.yaml']);
    expect(ok.status.status).toBe('Success');
    const no = await exec(admin, grafanaPod, 'grafana', ['sh', '-c', 'test -d /etc/missing || echo absent']);
    expect(no.stdout).toBe('absent\n');
  });

  it('fetches over the cluster network with wget, failing like busybox', async () => {
    const promPod = server.store.list('Pod', 'taskflow', 'app=prometheus')[0].metadata.name;
    const health = await exec(admin, promPod, 'prometheus', ['wget', '-qO-', 'http://grafana.taskflow.svc.cluster.local:3000/api/health']);
    expect(JSON.parse(health.stdout)).toEqual({ database: 'ok', version: '11.5.0' });
    const err = await exec(admin, promPod, 'prometheus', ['wget', '-q', '-O', '-', 'http://grafana:3000/api/datasources']);
    expect(err.stderr).toBe('wget: server returned error: HTTP/1.1 401 Unauthorized\n');
    const refused = await exec(admin, grafanaPod, 'grafana', ['wget', '-q', '-O', '-', 'http://localhost:9090/']);
    expect(refused.stderr).toBe(`wget: can't connect to remote host (${grafanaIP}): Connection refused\n`);
    const bad = await exec(admin, grafanaPod, 'grafana', ['wget', '-qO-', 'http://nope:1/']);
    expect(bad.stderr).toBe("wget: bad address 'nope'\n");
    expect(bad.status.reason).toBe('NonZeroExitCode');
  });

  it('resolves names with nslookup', async () => {
    const ip = (server.store.get('Service', 'taskflow', 'prometheus')!.spec as { clusterIP: string }).clusterIP;
    const ok = await exec(admin, grafanaPod, 'grafana', ['nslookup', 'prometheus.taskflow.svc.cluster.local']);
    expect(ok.stdout).toContain(`Name:\tprometheus.taskflow.svc.cluster.local\nAddress: ${ip}\n`);
    const missing = await exec(admin, grafanaPod, 'grafana', ['nslookup', 'nope']);
    expect(missing.stderr).toContain("** server can't find nope: NXDOMAIN");
  });

  it('fails an unknown program as the container runtime does', async () => {
    const r = await exec(admin, grafanaPod, 'grafana', ['curl', 'x']);
    expect(r.status).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
    expect(r.status.message).toMatch(/exec: "curl": executable file not found in \$PATH: unknown$/);
  });

  it('refuses a wrong container or a forbidden user before upgrading', async () => {
    // client-node rejects with the WebSocket error event, whose message names the HTTP status.
    await expect(exec(admin, grafanaPod, 'nope', ['ls'])).rejects.toMatchObject({ message: 'Unexpected server response: 400' });
    await expect(exec(nobody, grafanaPod, 'grafana', ['ls'])).rejects.toMatchObject({ message: 'Unexpected server response: 403' });
    const [wrong, denied] = server.requestLog.filter((e) => e.subresource === 'exec').slice(-2);
    expect(wrong.status).toBe(400);
    expect(denied.status).toBe(403);
  });
});

describe('pods/portforward over WebSocket', () => {
  it('tunnels HTTP to the pod', async () => {
    const forwarder = new PortForward(checker);
    const local = net.createServer((socket) => {
      void forwarder.portForward('taskflow', grafanaPod, [3000], socket, null, socket);
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', () => r()));
    const port = (local.address() as net.AddressInfo).port;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`, { headers: { Connection: 'close' } });
      expect(await res.json()).toEqual({ database: 'ok', version: '11.5.0' });
    } finally {
      local.close();
    }
    expect(server.requestLog.filter((e) => e.subresource === 'portforward').at(-1)).toMatchObject({ status: 101, query: 'ports=3000' });
  });

  it('reports a refused port on the error channel', async () => {
    const err = new PassThrough();
    const errors: string[] = [];
    err.on('data', (c) => errors.push(c.toString()));
    const input = new PassThrough();
    await new PortForward(admin).portForward('taskflow', grafanaPod, [9999], new PassThrough(), err, input);
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.join('')).toContain('error forwarding port 9999 to pod');
    expect(errors.join('')).toContain('connect: connection refused');
    input.end();
  });

  it('words a port nothing listens on as containerd and the kubelet do (the pod named by its sandbox), then closes', async () => {
    const forward = await upgrade(admin, `/api/v1/namespaces/taskflow/pods/${grafanaPod}/portforward?ports=9999`);
    const ws = forward.ws as WebSocket;
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    await new Promise((r) => ws.once('close', r));
    const sandbox = sandboxId(server.store.get('Pod', 'taskflow', grafanaPod)!);
    expect(sandbox).toMatch(/^[0-9a-f]{64}$/);
    // Each channel first carries the port (9999 = 0x270f, little-endian), then the error channel its words.
    expect(frames.slice(0, 2).map((f) => [...f])).toEqual([
      [0, 0x0f, 0x27],
      [1, 0x0f, 0x27],
    ]);
    expect(frames.filter((f) => f[0] === 1).at(-1)?.subarray(1).toString()).toBe(
      `error forwarding port 9999 to pod ${sandbox}, uid : failed to connect to localhost:9999 inside namespace "${sandbox}", ` +
        'IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused IPv6 dial tcp6 [::1]:9999: connect: connection refused ',
    );
  });

  it('refuses before upgrading as the API server (a Status) and the kubelet (plain text) do', async () => {
    const forbidden = await upgrade(nobody, `/api/v1/namespaces/taskflow/pods/${grafanaPod}/portforward?ports=3000`);
    expect(forbidden).toMatchObject({ status: 403, contentType: 'application/json' });
    expect(JSON.parse(forbidden.body)).toMatchObject({
      message: `pods "${grafanaPod}" is forbidden: User "nobody" cannot get resource "pods/portforward" in API group "" in the namespace "taskflow"`,
      reason: 'Forbidden',
      code: 403,
    });
    const missing = await upgrade(admin, '/api/v1/namespaces/taskflow/pods/gone-0/portforward?ports=3000');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "gone-0" not found',
      reason: 'NotFound',
      details: { name: 'gone-0', kind: 'pods' },
      code: 404,
    });
    const promPod = server.store.list('Pod', 'taskflow', 'app=prometheus')[0].metadata.name;
    server.store.setPodStatus('taskflow', promPod, { phase: 'Succeeded' });
    try {
      const stopped = await upgrade(admin, `/api/v1/namespaces/taskflow/pods/${promPod}/portforward?ports=9090`);
      // kubelet_pods.go GetPortForward: the runtime has no running pod of that name.
      expect(stopped).toEqual({ status: 500, contentType: 'text/plain; charset=utf-8', body: `pod not found ("${promPod}_taskflow")` });
    } finally {
      server.store.setPodStatus('taskflow', promPod, { phase: 'Running' });
    }
    expect((await upgrade(admin, `/api/v1/namespaces/taskflow/pods/${grafanaPod}/portforward`)).body).toBe('query parameter "port" is required');
  });
});

describe('fault injection', () => {
  it('delays, resets and truncates matching requests', async () => {
    const onVersion = ({ info }: { info: { path: string } }) => info.path === '/version';
    server.faults.add({ match: onVersion, delayMs: 300, times: 1 });
    const started = Date.now();
    expect((await raw(admin, '/version')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    server.faults.add({ match: onVersion, reset: true, times: 1 });
    await expect(raw(admin, '/version')).rejects.toThrow('fetch failed');
    server.faults.add({ match: onVersion, truncate: true, times: 1 });
    await expect(raw(admin, '/version')).rejects.toThrow();
    expect((await raw(admin, '/version')).status).toBe(200);
  });

  it('overrides the status of matching requests', async () => {
    server.faults.add({ match: ({ info }) => info.resource === 'services', status: 503, times: 1 });
    const api = admin.makeApiClient(CoreV1Api);
    const err = (await api.listNamespacedService({ namespace: 'taskflow' }).catch((e: unknown) => e)) as ApiException<string>;
    expect(err.code).toBe(503);
    expect((await api.listNamespacedService({ namespace: 'taskflow' })).items).toHaveLength(3);
  });
});

describe('KubeApiServer: idle HTTP/2 connections', () => {
  it('ends a connection idle for the idle timeout with GOAWAY, not one with a stream open; a client then connects again', async () => {
    const server = new KubeApiServer({ idleTimeoutMs: 300 });
    await server.start();
    try {
      const token = server.issueToken('idle-admin', ['system:masters']);
      const session = http2.connect(server.url, { ca: server.caPem });
      const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
      const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = session.request({ ':path': path, authorization: `Bearer ${token}` });
          let status = 0;
          req.on('response', (h) => (status = Number(h[':status'])));
          req.on('data', () => undefined);
          req.on('end', () => resolve(status));
          req.on('error', reject);
          req.end();
        });
      // A watch held open past the timeout keeps the connection.
      const watch = session.request({ ':path': '/api/v1/namespaces?watch=true', authorization: `Bearer ${token}` });
      watch.on('data', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(session.closed).toBe(false);
      expect(await get('/version')).toBe(200);
      watch.close();
      // Then, with nothing open, it is ended.
      expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await closed;
      const again = http2.connect(server.url, { ca: server.caPem });
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = again.request({ ':path': '/version', authorization: `Bearer ${token}` });
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      } finally {
        again.close();
      }
    } finally {
      await server.stop();
    }
  });
});
