/**
 * The simulated API server across Kubernetes 1.29, 1.32 and 1.35: what /version answers, which
 * exec subprotocol it serves, and from 1.35 the second authorization of a WebSocket upgrade of
 * pods/exec, pods/attach and pods/portforward as `create` (AuthorizePodWebsocketUpgradeCreatePermission,
 * kubernetes/kubernetes#134577), with the refusal worded as the real server words it. Also: idle
 * connections and port-forward streams stay open until the client closes them, and the action's
 * cluster access reports a refused stream with its status, words and rule.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { WebSocket } from 'ws';
import { KubeCluster, KubeError } from '../../src/cluster.js';
import { KubeApiServer } from '../../sim/kube/index.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: taskflow }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana } }
    spec:
      containers: [{ name: grafana, image: grafana/grafana:11.5.0, ports: [{ containerPort: 3000 }] }]
${['get', 'create', 'get,create']
  .map(
    (verbs) => `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: streams-${verbs.replace(',', '-')}, namespace: taskflow }
rules:
- { apiGroups: [""], resources: [pods], verbs: [get, list] }
- { apiGroups: [""], resources: [pods/exec, pods/attach, pods/portforward], verbs: [${verbs}] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: streams-${verbs.replace(',', '-')}, namespace: taskflow }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: streams-${verbs.replace(',', '-')} }
subjects: [{ kind: ServiceAccount, name: streams-${verbs.replace(',', '-')}, namespace: ci }]`,
  )
  .join('\n')}
`;

let server: KubeApiServer;
let backend: http.Server;
/** The backend's connections (Grafana's port 3000), to see when a forward's connection ends. */
const backendSockets = new Set<Socket>();
let pod: string;
const tokens: Record<'get' | 'create' | 'both', string> = { get: '', create: '', both: '' };

beforeAll(async () => {
  server = new KubeApiServer({ manifests: MANIFESTS });
  await server.start();
  tokens.get = server.serviceAccountToken('ci', 'streams-get');
  tokens.create = server.serviceAccountToken('ci', 'streams-create');
  tokens.both = server.serviceAccountToken('ci', 'streams-get-create');
  const grafana = server.store.list('Pod', 'taskflow', 'app=grafana')[0];
  pod = grafana.metadata.name;
  // Like Grafana (Go, no idle timeout), it keeps its connections.
  backend = http.createServer({ keepAliveTimeout: 0 }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"database":"ok"}');
  });
  backend.on('connection', (s: Socket) => {
    backendSockets.add(s);
    s.on('close', () => backendSockets.delete(s));
  });
  await new Promise<void>((r) => backend.listen(3000, (grafana.status as { podIP: string }).podIP, () => r()));
});

afterEach(() => server.setVersion('1.32'));

afterAll(async () => {
  await server?.stop();
  for (const s of backendSockets) s.destroy();
  if (backend) await new Promise((r) => backend.close(r));
});

interface Upgrade {
  status: number;
  contentType?: string;
  body: string;
  protocol?: string;
  ws?: WebSocket;
}

/** A WebSocket upgrade as a client sends it; a refusal is read whole. */
function upgrade(token: string, path: string, protocols: string[]): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}${path}`, protocols, { ca: server.caPem, headers: { Authorization: `Bearer ${token}` } });
    ws.once('open', () => resolve({ status: 101, body: '', protocol: ws.protocol, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body });
        ws.terminate();
      });
    });
    ws.on('error', (err) => reject(err));
  });
}

const execPath = () => `/api/v1/namespaces/taskflow/pods/${pod}/exec?command=ls&command=%2F&stdout=true&stderr=true`;
const portForwardPath = () => `/api/v1/namespaces/taskflow/pods/${pod}/portforward?ports=3000`;
const attachPath = () => `/api/v1/namespaces/taskflow/pods/${pod}/attach?stdout=true`;
const EXEC = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const PORT_FORWARD = ['v4.channel.k8s.io'];

async function expectOpen(u: Promise<Upgrade>): Promise<Upgrade> {
  const got = await u;
  expect({ status: got.status, body: got.body }).toEqual({ status: 101, body: '' });
  got.ws?.terminate();
  return got;
}

/** The Status body of the 1.35 `create` refusal: pkg/registry/core/pod/rest/authorize.go's NewForbidden with RBAC's empty reason. */
const createRefusal = (name: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `pods "${name}" is forbidden: `,
  reason: 'Forbidden',
  details: { name, kind: 'pods' },
  code: 403,
});

describe('/version per release', () => {
  const KEYS = ['major', 'minor', 'gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform'];
  const COMPATIBILITY = ['emulationMajor', 'emulationMinor', 'minCompatibilityMajor', 'minCompatibilityMinor'];
  it.each([
    ['1.29', 'v1.29.0', 'go1.21.5', KEYS],
    ['1.32', 'v1.32.0', 'go1.23.3', KEYS],
    ['1.35', 'v1.35.0', 'go1.25.5', [...KEYS.slice(0, 2), ...COMPATIBILITY, ...KEYS.slice(2)]],
  ])('%s answers %s, built with %s, with its fields in order', async (version, gitVersion, goVersion, keys) => {
    server.setVersion(version);
    const res = await fetchJson('/version', tokens.get);
    expect(res).toMatchObject({ major: '1', minor: version.split('.')[1], gitVersion, goVersion, gitTreeState: 'clean', compiler: 'gc', platform: 'linux/amd64' });
    expect(Object.keys(res)).toEqual(keys);
    if (version === '1.35') expect(res).toMatchObject({ emulationMajor: '1', emulationMinor: '35', minCompatibilityMajor: '1', minCompatibilityMinor: '34' });
  });

  it('a patch release keeps its own gitVersion; the default is 1.32; an unsupported release is refused', async () => {
    server.setVersion('v1.35.2');
    expect((await fetchJson('/version', tokens.get)).gitVersion).toBe('v1.35.2');
    expect(new KubeApiServer().version.info.gitVersion).toBe('v1.32.0');
    expect(() => server.setVersion('1.28')).toThrow('unsupported Kubernetes version "1.28" (the simulator plays 1.29 to 1.35)');
  });
});

describe('exec subprotocols per release', () => {
  it.each([
    ['1.29', 'v4.channel.k8s.io'],
    ['1.32', 'v5.channel.k8s.io'],
    ['1.35', 'v5.channel.k8s.io'],
  ])('%s negotiates %s with a client offering v5 then v4 (v5 is the API server’s, from 1.30)', async (version, protocol) => {
    server.setVersion(version);
    expect((await expectOpen(upgrade(tokens.both, execPath(), EXEC))).protocol).toBe(protocol);
  });

  it('a container that does not run: the kubelet’s plain-text 500 before the upgrade (v4), an InternalError Status after it (v5, translated)', async () => {
    server.store.setPodStatus('taskflow', pod, { waiting: { reason: 'CrashLoopBackOff' } });
    try {
      server.setVersion('1.29');
      const v4 = await upgrade(tokens.both, `${execPath()}&container=grafana`, EXEC);
      expect(v4).toMatchObject({ status: 500, contentType: 'text/plain; charset=utf-8', body: 'container not found ("grafana")' });
      server.setVersion('1.32');
      const v5 = await upgrade(tokens.both, `${execPath()}&container=grafana`, EXEC);
      expect(v5.status).toBe(101);
      const status = await new Promise<unknown>((resolve) => {
        v5.ws?.on('message', (data: Buffer) => {
          if (data[0] === 3) resolve(JSON.parse(data.subarray(1).toString()));
        });
      });
      expect(status).toEqual({
        metadata: {},
        status: 'Failure',
        message: 'Internal error occurred: unable to upgrade connection: container not found ("grafana")',
        reason: 'InternalError',
        details: { causes: [{ message: 'unable to upgrade connection: container not found ("grafana")' }] },
        code: 500,
      });
    } finally {
      server.store.setPodStatus('taskflow', pod, { waiting: null });
    }
  });
});

describe('1.35 authorizes a WebSocket upgrade of a stream as get and create', () => {
  it.each([
    ['exec', execPath, EXEC],
    ['portforward', portForwardPath, PORT_FORWARD],
    ['attach', attachPath, EXEC],
  ])('pods/%s with only get: 403 before the upgrade, worded as pkg/registry/core/pod/rest words it (no user, no verb)', async (sub, path, protocols) => {
    server.setVersion('1.35');
    const refused = await upgrade(tokens.get, path(), protocols);
    expect(refused.status).toBe(403);
    expect(refused.contentType).toBe('application/json');
    expect(JSON.parse(refused.body)).toEqual(createRefusal(pod));
    const entry = server.requestLog.filter((e) => e.subresource === sub).at(-1);
    expect(entry).toMatchObject({ verb: 'get', websocket: true, status: 403, user: 'system:serviceaccount:ci:streams-get' });
  });

  it.each(['1.29', '1.32'])('%s: only get suffices for exec and port-forward', async (version) => {
    server.setVersion(version);
    await expectOpen(upgrade(tokens.get, execPath(), EXEC));
    await expectOpen(upgrade(tokens.get, portForwardPath(), PORT_FORWARD));
  });

  it('1.35: get and create open both streams; create alone is refused by the authorization filter, naming get', async () => {
    server.setVersion('1.35');
    await expectOpen(upgrade(tokens.both, execPath(), EXEC));
    await expectOpen(upgrade(tokens.both, portForwardPath(), PORT_FORWARD));
    const refused = await upgrade(tokens.create, execPath(), EXEC);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      message: `pods "${pod}" is forbidden: User "system:serviceaccount:ci:streams-create" cannot get resource "pods/exec" in API group "" in the namespace "taskflow"`,
      details: { name: pod, kind: 'pods' },
    });
  });

  it('1.35 with the feature gate off: only get suffices again', async () => {
    server.setVersion('1.35', { AuthorizePodWebsocketUpgradeCreatePermission: false });
    await expectOpen(upgrade(tokens.get, execPath(), EXEC));
  });

  it('1.35: the create check comes before the pod is read (a missing pod is refused, not NotFound)', async () => {
    server.setVersion('1.35');
    const missing = await upgrade(tokens.get, '/api/v1/namespaces/taskflow/pods/nope/portforward?ports=3000', PORT_FORWARD);
    expect(JSON.parse(missing.body)).toEqual(createRefusal('nope'));
    const found = await upgrade(tokens.both, '/api/v1/namespaces/taskflow/pods/nope/portforward?ports=3000', PORT_FORWARD);
    expect(found.status).toBe(404);
    expect(JSON.parse(found.body)).toMatchObject({ message: 'pods "nope" not found', reason: 'NotFound', code: 404 });
  });
});

describe('connections and streams stay open until the client closes them', () => {
  it('an idle HTTPS connection is still usable after 5.5 s (Node’s default would have closed it; kube-apiserver keeps it 90 s)', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(server.url).port), ca: server.caPem, servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const ask = () =>
        new Promise<string>((resolve, reject) => {
          let text = '';
          const onData = (c: Buffer) => {
            text += c.toString();
            if (/\r\n\r\n[\s\S]*"gitVersion"[\s\S]*\}/.test(text)) {
              socket.off('data', onData);
              resolve(text);
            }
          };
          socket.on('data', onData);
          socket.once('close', () => reject(new Error('the server closed the idle connection')));
          socket.write(`GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tokens.get}\r\nConnection: keep-alive\r\n\r\n`);
        });
      expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
      await new Promise((r) => setTimeout(r, 5500));
      expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  }, 15_000);

  it('a port-forward stays open while the pod keeps its connection, and ends its pod connection when the client closes', async () => {
    const forward = await upgrade(tokens.both, portForwardPath(), PORT_FORWARD);
    const ws = forward.ws as WebSocket;
    let answered = '';
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0 && data.length > 3) answered += data.subarray(1).toString();
    });
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET /api/health HTTP/1.1\r\nHost: grafana\r\n\r\n')]));
    await until(() => answered.includes('"database":"ok"'));
    await new Promise((r) => setTimeout(r, 500));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(backendSockets.size).toBe(1);
    ws.close(1000);
    await until(() => backendSockets.size === 0);
  });
});

describe('the action’s cluster access against each release', () => {
  function access(token: string): KubeCluster {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig({ token, namespace: 'taskflow' }));
    return new KubeCluster(kc, 3000);
  }

  it('1.35 with only get: exec and port-forward refused with HTTP 403, the server’s words, and the rule with both verbs', async () => {
    server.setVersion('1.35');
    const cluster = access(tokens.get);
    try {
      const exec = (await cluster.exec('taskflow', pod, 'grafana', ['ls', '/']).catch((e: unknown) => e)) as KubeError;
      expect(exec).toBeInstanceOf(KubeError);
      expect(exec).toMatchObject({ status: 403, reason: 'Forbidden' });
      expect(exec.message).toBe(
        `exec in pod ${pod}: HTTP 403 Forbidden: pods "${pod}" is forbidden: (no verb named: from Kubernetes 1.35 a WebSocket stream must be allowed create as well as get)`,
      );
      expect(exec.hint).toContain('- apiGroups: [""]\n  resources: ["pods/exec"]\n  verbs: ["get", "create"]');
      const forward = (await cluster.portForward('taskflow', pod, 3000).catch((e: unknown) => e)) as KubeError;
      expect(forward).toMatchObject({ status: 403, reason: 'Forbidden' });
      expect(forward.message).toMatch(new RegExp(`^port-forward to pod taskflow/${pod} port 3000: HTTP 403 Forbidden: pods "${pod}" is forbidden: `));
      expect(forward.hint).toContain('resources: ["pods/portforward"]\n  verbs: ["get", "create"]');
    } finally {
      await cluster.close();
    }
  });

  it('1.32 with only get: both streams work, and close() ends every connection to the pod', async () => {
    const cluster = access(tokens.get);
    try {
      expect(await cluster.exec('taskflow', pod, 'grafana', ['echo', 'hello'])).toEqual({ exitCode: 0, stdout: 'hello\n', stderr: '' });
      const forward = await cluster.portForward('taskflow', pod, 3000);
      const res = await fetch(`${forward.url}/api/health`);
      expect(await res.json()).toEqual({ database: 'ok' });
      expect(backendSockets.size).toBeGreaterThan(0);
    } finally {
      await cluster.close();
    }
    await until(() => backendSockets.size === 0);
  });
});

/** A GET with the token, its JSON answer (a connection of its own). */
function fetchJson(path: string, token: string): Promise<Record<string, unknown>> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path, ca: server.caPem, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      })
      .on('error', reject);
  });
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

