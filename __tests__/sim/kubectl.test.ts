/**
 * Real kubectl 1.32 against the simulated API server: discovery, server-side printing, jsonpath,
 * the service proxy through `get --raw`, exec over WebSocket, access reviews and logs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiServer } from '../../sim/kube/index.js';

const KUBECTL = '/usr/bin/kubectl';
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
`;

let server: KubeApiServer;
let backend: http.Server;
let dir: string;
let adminConfig: string;
let viewerConfig: string;
let grafanaPod: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 15000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-kubectl-'));
  server = new KubeApiServer({ manifests: MANIFESTS });
  await server.start();
  adminConfig = join(dir, 'admin.yaml');
  viewerConfig = join(dir, 'viewer.yaml');
  await writeFile(adminConfig, server.kubeconfig({ token: server.issueToken('admin', ['system:masters']) }));
  await writeFile(viewerConfig, server.kubeconfig({ token: server.serviceAccountToken('taskflow', 'viewer') }));
  const pod = server.store.list('Pod', 'taskflow', 'app=grafana')[0];
  grafanaPod = pod.metadata.name;
  backend = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ database: 'ok', version: '11.5.0', path: req.url }));
  });
  await new Promise<void>((r) => backend.listen(3000, (pod.status as { podIP: string }).podIP, () => r()));
});

afterAll(async () => {
  await server.stop();
  await new Promise((r) => backend.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('kubectl against the simulated API server', () => {
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
