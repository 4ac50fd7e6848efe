/**
 * Real kubectl (1.32 where the tests were written) against the simulated API server: discovery,
 * server-side printing, jsonpath, the service proxy through `get --raw`, exec over WebSocket,
 * access reviews and logs. kubectl is looked up on the PATH; without it the suite is skipped,
 * saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiServer } from '../../sim/kube/index.js';
import { findOnPath } from '../helpers/path.js';

const KUBECTL = findOnPath('kubectl');
if (!KUBECTL) process.stdout.write('kubectl tests skipped: no kubectl on the PATH\n');
const suite = KUBECTL ? describe : describe.skip;
const DATASOURCES = `apiVersion: 1
datasources:
- name: Prometheus
  type: prometheus
  access: proxy
  url: http://prometheus.taskflow.svc.cluster.local:9090
  isDefault: true
  editable: true
`;

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
${DATASOURCES.replace(/^/gm, '    ')}
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: taskflow }
spec:
  replicas: 1
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana } }
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:11.5.0
        ports: [{ containerPort: 3000 }]
        volumeMounts:
        - { name: grafana-datasources, mountPath: /etc/grafana/provisioning/datasources, readOnly: true }
      volumes:
      - { name: grafana-datasources, configMap: { name: grafana-datasources } }
---
apiVersion: v1
kind: Service
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { app: grafana }
  ports: [{ port: 3000, targetPort: 3000 }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: exec-get, namespace: taskflow }
rules:
- { apiGroups: [""], resources: [pods], verbs: [get, list] }
- { apiGroups: [""], resources: [pods/exec], verbs: [get] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: exec-get, namespace: taskflow }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec-get }
subjects: [{ kind: ServiceAccount, name: exec-get, namespace: taskflow }]
`;

let server: KubeApiServer;
let backend: http.Server;
let dir: string;
let adminConfig: string;
let viewerConfig: string;
let execGetConfig: string;
let grafanaPod: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL as string,
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 15000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

suite('kubectl against the simulated API server', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-kubectl-'));
    server = new KubeApiServer({ manifests: MANIFESTS });
    await server.start();
    adminConfig = join(dir, 'admin.yaml');
    viewerConfig = join(dir, 'viewer.yaml');
    await writeFile(adminConfig, server.kubeconfig({ token: server.issueToken('admin', ['system:masters']) }));
    await writeFile(viewerConfig, server.kubeconfig({ token: server.serviceAccountToken('taskflow', 'viewer') }));
    execGetConfig = join(dir, 'exec-get.yaml');
    await writeFile(execGetConfig, server.kubeconfig({ token: server.serviceAccountToken('taskflow', 'exec-get') }));
    const pod = server.store.list('Pod', 'taskflow', 'app=grafana')[0];
    grafanaPod = pod.metadata.name;
    backend = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ database: 'ok', version: '11.5.0', path: req.url }));
    });
    await new Promise<void>((r) => backend.listen(3000, (pod.status as { podIP: string }).podIP, () => r()));
  });

  afterAll(async () => {
    await server?.stop();
    if (backend) await new Promise((r) => backend.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gets pods with server-side printing', async () => {
    const r = await kubectl(adminConfig, 'get', 'pods', '-n', 'taskflow');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(r.stdout).toMatch(new RegExp(`${grafanaPod}\\s+1/1\\s+Running\\s+0\\s+`));
  });

  it('finds the Grafana pod with a label selector and jsonpath', async () => {
    const r = await kubectl(adminConfig, 'get', 'pod', '-n', 'taskflow', '-l', 'app=grafana', '-o', 'jsonpath={.items[0].metadata.name}');
    expect(r.stdout).toBe(grafanaPod);
  });

  it('reaches Grafana through the service proxy with get --raw', async () => {
    const r = await kubectl(adminConfig, 'get', '--raw', '/api/v1/namespaces/taskflow/services/grafana:3000/proxy/api/health');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ database: 'ok', version: '11.5.0', path: '/api/health' });
  });

  it('execs cat in the container over WebSocket', async () => {
    const file = '/etc/grafana/provisioning/datasources/datasources.yaml';
    const r = await kubectl(adminConfig, 'exec', '-n', 'taskflow', grafanaPod, '-c', 'grafana', '--', 'cat', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(DATASOURCES);
    expect(server.requestLog.filter((e) => e.subresource === 'exec').at(-1)).toMatchObject({ websocket: true, status: 101 });
  });

  it('exec with only get on pods/exec: allowed by 1.32; refused by 1.35, whose WebSocket upgrade must also be allowed create', async () => {
    const execLog = () => server.requestLog.filter((e) => e.subresource === 'exec' && e.user === 'system:serviceaccount:taskflow:exec-get');
    const allowed = await kubectl(execGetConfig, 'exec', '-n', 'taskflow', grafanaPod, '--', 'echo', 'hi');
    expect({ code: allowed.code, stdout: allowed.stdout }).toEqual({ code: 0, stdout: 'hi\n' });
    server.setVersion('1.35');
    try {
      const before = execLog().length;
      const refused = await kubectl(execGetConfig, 'exec', '-n', 'taskflow', grafanaPod, '--', 'echo', 'hi');
      expect(refused.code).toBe(1);
      // kubectl falls back to SPDY (a POST, authorized as create) when the WebSocket is refused.
      expect(execLog().slice(before).map((e) => [e.method, e.verb, e.status])).toEqual([
        ['GET', 'get', 403],
        ['POST', 'create', 403],
      ]);
      expect(refused.stderr).toContain(
        `pods "${grafanaPod}" is forbidden: User "system:serviceaccount:taskflow:exec-get" cannot create resource "pods/exec" in API group "" in the namespace "taskflow"`,
      );
    } finally {
      server.setVersion('1.32');
    }
  });

  it('passes a non-zero exit code through exec', async () => {
    const r = await kubectl(adminConfig, 'exec', '-n', 'taskflow', grafanaPod, '--', 'cat', '/etc/missing');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cat: /etc/missing: No such file or directory');
    expect(r.stderr).toContain('command terminated with exit code 1');
  });

  it('answers auth can-i from RBAC, and prints Forbidden errors', async () => {
    expect((await kubectl(adminConfig, 'auth', 'can-i', 'get', 'pods', '--subresource=exec', '-n', 'taskflow')).stdout).toBe('yes\n');
    expect((await kubectl(viewerConfig, 'auth', 'can-i', 'list', 'pods', '-n', 'taskflow')).stdout).toBe('no\n');
    const r = await kubectl(viewerConfig, 'get', 'configmap', 'grafana-datasources', '-n', 'taskflow');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Error from server (Forbidden): configmaps "grafana-datasources" is forbidden: User "system:serviceaccount:taskflow:viewer" cannot get resource "configmaps" in API group "" in the namespace "taskflow"',
    );
  });

  it('prints container logs', async () => {
    server.store.appendLog('taskflow', grafanaPod, 'grafana', 'logger=provisioning.datasources level=info msg="inserting datasource from configuration" name=Prometheus');
    const r = await kubectl(adminConfig, 'logs', '-n', 'taskflow', grafanaPod);
    expect(r.stdout).toContain('inserting datasource from configuration');
  });
});
