/**
 * The simulated k8s-sidecar in a kube-prometheus-stack-like Grafana pod: it lists and watches
 * labelled ConfigMaps and Secrets through the API server with the pod's ServiceAccount, writes
 * them into the emptyDir the grafana container mounts, and calls Grafana's reload API; its log
 * lines have the sidecar's format and wording.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { startGrafanaPod } from '../../sim/grafana/grafana-pod.js';
import { adminCredentialsFromPod, GrafanaSim } from '../../sim/grafana/server.js';
import { KubeApiServer, type KubeObject } from '../../sim/kube/index.js';
import { startPodSidecars, startSidecar, type SidecarHandle } from '../../sim/sidecar/index.js';

const FOLDER = '/etc/grafana/provisioning/datasources';
const RELOAD = 'http://localhost:3000/api/admin/provisioning/datasources/reload';
const PASSWORD = 'sidecar-test-password';
const DATASOURCE = `apiVersion: 1
datasources:
- name: "Prometheus"
  type: prometheus
  uid: prometheus
  url: http://kps-kube-prometheus-stack-prometheus.monitoring:9090/
  access: proxy
  isDefault: true
`;
const LOKI = `apiVersion: 1
datasources:
- name: Loki
  type: loki
  uid: loki
  url: http://loki.monitoring:3100
`;

let api: KubeApiServer;
let admin: KubeConfig;
const stoppers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  api = new KubeApiServer();
  await api.start();
  admin = new KubeConfig();
  admin.loadFromString(api.kubeconfig({ token: api.issueToken('admin', ['system:masters']) }));
});

afterAll(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await api.stop();
});

interface PodOptions {
  /** Grant the ServiceAccount list/watch on ConfigMaps and Secrets (default true). */
  rbac?: boolean;
  image?: string;
  /** Extra or overriding env of the sidecar container. */
  env?: Record<string, string>;
  /** Run the sidecar as an init container with METHOD=LIST instead. */
  init?: boolean;
  password?: string;
}

/** A namespace with a kps-like Grafana pod: the sidecar and grafana sharing an emptyDir. */
function deployGrafanaPod(ns: string, options: PodOptions = {}): string {
  const pod = 'kps-grafana-0';
  const env: Record<string, unknown>[] = [
    { name: 'METHOD', value: options.init ? 'LIST' : 'WATCH' },
    { name: 'LABEL', value: 'grafana_datasource' },
    { name: 'LABEL_VALUE', value: '1' },
    { name: 'FOLDER', value: FOLDER },
    { name: 'RESOURCE', value: 'both' },
    { name: 'REQ_USERNAME', valueFrom: { secretKeyRef: { name: 'kps-grafana', key: 'admin-user' } } },
    { name: 'REQ_PASSWORD', valueFrom: { secretKeyRef: { name: 'kps-grafana', key: 'admin-password' } } },
    ...(options.init ? [] : [{ name: 'REQ_URL', value: RELOAD }, { name: 'REQ_METHOD', value: 'POST' }]),
  ];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    const at = env.findIndex((e) => e.name === name);
    if (at >= 0) env[at] = { name, value };
    else env.push({ name, value });
  }
  const sidecar = {
    name: options.init ? 'grafana-init-sc-datasources' : 'grafana-sc-datasources',
    image: options.image ?? 'quay.io/kiwigrid/k8s-sidecar:2.10.1',
    env,
    volumeMounts: [{ name: 'sc-datasources-volume', mountPath: FOLDER }],
  };
  const grafana = {
    name: 'grafana',
    image: 'docker.io/grafana/grafana:11.5.0',
    ports: [{ name: 'grafana', containerPort: 3000 }],
    env: [
      { name: 'GF_SECURITY_ADMIN_USER', valueFrom: { secretKeyRef: { name: 'kps-grafana', key: 'admin-user' } } },
      { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'kps-grafana', key: 'admin-password' } } },
    ],
    volumeMounts: [{ name: 'sc-datasources-volume', mountPath: FOLDER }],
  };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'kps-grafana', namespace: ns },
      stringData: { 'admin-user': 'admin', 'admin-password': options.password ?? PASSWORD },
    } as KubeObject,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kps-grafana', namespace: ns } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace: ns, labels: { 'app.kubernetes.io/name': 'grafana' } },
      spec: {
        serviceAccountName: 'kps-grafana',
        ...(options.init ? { initContainers: [sidecar], containers: [grafana] } : { containers: [sidecar, grafana] }),
        volumes: [{ name: 'sc-datasources-volume', emptyDir: {} }],
      },
    },
  ];
  if (options.rbac !== false) {
    objects.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'kps-grafana', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'watch', 'list'] }],
      } as KubeObject,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'kps-grafana', namespace: ns },
        subjects: [{ kind: 'ServiceAccount', name: 'kps-grafana', namespace: ns }],
        roleRef: { kind: 'Role', name: 'kps-grafana', apiGroup: 'rbac.authorization.k8s.io' },
      } as KubeObject,
    );
  }
  for (const obj of objects) api.store.apply(obj);
  return pod;
}

function labelledConfigMap(ns: string, name: string, data: Record<string, string>, labels: Record<string, string> = { grafana_datasource: '1' }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data } as KubeObject;
}

async function startGrafana(ns: string, pod: string): Promise<GrafanaSim> {
  const creds = adminCredentialsFromPod(api.store, ns, pod, 'grafana');
  const podIP = (api.store.get('Pod', ns, pod)!.status as { podIP: string }).podIP;
  const sim = new GrafanaSim({ view: api.store, namespace: ns, pod, container: 'grafana', host: podIP, port: 3000, adminUser: creds.user, adminPassword: creds.password });
  await sim.start();
  stoppers.push(() => sim.stop());
  return sim;
}

function sidecar(ns: string, pod: string, container = 'grafana-sc-datasources', backoffMs = 60_000): SidecarHandle {
  const handle = startSidecar({ api, namespace: ns, pod, container, restartBackoffMs: () => backoffMs });
  stoppers.push(() => handle.stop());
  return handle;
}

function logLines(ns: string, pod: string, container: string): string[] {
  return api.store.podLogs(ns, pod, container).map((e) => e.line);
}

/** The sidecar's JSON records. */
function records(ns: string, pod: string, container = 'grafana-sc-datasources'): { time: string; level: string; msg: string; exc_info?: string }[] {
  return logLines(ns, pod, container)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: string; level: string; msg: string; exc_info?: string });
}

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exec(ns: string, pod: string, container: string, command: string[]) {
  let stdout = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      stdout += chunk.toString();
      done();
    },
  });
  return new Promise<{ stdout: string; status: V1Status }>((resolve, reject) => {
    new Exec(admin).exec(ns, pod, container, command, out, null, null, false, (status) => resolve({ stdout, status })).catch(reject);
  });
}

describe('the datasource sidecar of a kube-prometheus-stack Grafana pod', () => {
  it('copies a labelled ConfigMap and Secret into the shared emptyDir and makes Grafana reload them', async () => {
    const ns = 'kps-copy';
    const pod = deployGrafanaPod(ns);
    api.store.apply(labelledConfigMap(ns, 'kps-kube-prometheus-stack-grafana-datasource', { 'datasource.yaml': DATASOURCE }));
    api.store.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'loki-datasource', namespace: ns, labels: { grafana_datasource: '1' } },
      stringData: { 'loki.yaml': LOKI },
    } as KubeObject);

    // Grafana starts first, as in a real pod: it provisions the empty directory once.
    const grafana = await startGrafana(ns, pod);
    expect(grafana.datasources).toEqual([]);

    const handle = sidecar(ns, pod);
    await handle.ready;
    await eventually('the reload', () => grafana.datasources.length === 2);

    expect(grafana.datasources.map((ds) => ds.name).sort()).toEqual(['Loki', 'Prometheus']);
    const grafanaFiles = api.store.containerFiles(ns, pod, 'grafana');
    expect(grafanaFiles.get(`${FOLDER}/datasource.yaml`)).toBe(DATASOURCE);
    expect(grafanaFiles.get(`${FOLDER}/loki.yaml`)).toBe(LOKI);
    expect(api.store.containerFiles(ns, pod, 'grafana-sc-datasources').get(`${FOLDER}/loki.yaml`)).toBe(LOKI);
    const cat = await exec(ns, pod, 'grafana', ['cat', `${FOLDER}/datasource.yaml`]);
    expect(cat.status.status).toBe('Success');
    expect(cat.stdout).toBe(DATASOURCE);

    const msgs = records(ns, pod).map((r) => r.msg);
    expect(msgs.slice(0, 2)).toEqual(['Starting collector', 'Starting health server on port 8080']);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'Loading incluster config...',
        'Performing initial list-based sync before starting watch.',
        `Performing list-based sync on secret resources: {'namespace': '${ns}'}`,
        `Writing ${FOLDER}/loki.yaml (binary)`,
        `Writing ${FOLDER}/datasource.yaml (ascii)`,
        `None sent to ${RELOAD}. Response: 200 OK {"message":"Datasources config reloaded"}`,
        'Initial sync complete, sidecar is ready.',
      ]),
    );
    // Secrets come first (RESOURCE=both is ("secret", "configmap")), each list followed by its reload.
    expect(msgs.indexOf(`Writing ${FOLDER}/loki.yaml (binary)`)).toBeLessThan(msgs.indexOf(`Writing ${FOLDER}/datasource.yaml (ascii)`));
    const raw = logLines(ns, pod, 'grafana-sc-datasources').find((l) => l.includes('Writing'))!;
    expect(raw).toMatch(/^\{"time": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", "level": "INFO", "msg": "Writing \/etc\/grafana\/provisioning\/datasources\/\S+ \((binary|ascii)\)"\}$/);
    // Debug lines stay out of the log at the default LOG_LEVEL.
    expect(msgs.some((m) => m.startsWith('Working on'))).toBe(false);
    // The sidecar's requests went through the API server as the pod's ServiceAccount.
    const lists = api.requestLog.filter((e) => e.user === `system:serviceaccount:${ns}:kps-grafana` && e.resource === 'configmaps');
    expect(lists.map((e) => e.verb)).toEqual(expect.arrayContaining(['list', 'watch']));
    expect(lists.find((e) => e.verb === 'list')!.query).toBe('labelSelector=grafana_datasource%3D1&limit=5');
    expect(lists.find((e) => e.verb === 'watch')!.query).toBe('labelSelector=grafana_datasource%3D1&timeoutSeconds=60&watch=True');
  });

  it('writes no file for a ConfigMap without the label, and follows label and key changes', async () => {
    const ns = 'kps-watch';
    const pod = deployGrafanaPod(ns);
    const grafana = await startGrafana(ns, pod);
    const handle = sidecar(ns, pod);
    await handle.ready;
    const file = `${FOLDER}/extra.yaml`;
    const files = () => api.store.containerFiles(ns, pod, 'grafana');

    api.store.apply(labelledConfigMap(ns, 'extra', { 'extra.yaml': LOKI }, { team: 'obs' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(files().has(file)).toBe(false);
    expect(grafana.datasources).toEqual([]);

    api.store.apply(labelledConfigMap(ns, 'extra', { 'extra.yaml': LOKI }));
    await eventually('the labelled file', () => files().get(file) === LOKI);
    await eventually('the reload after the watch event', () => grafana.datasources.some((ds) => ds.name === 'Loki'));

    // A key renamed: the old file goes, the new one comes.
    api.store.apply(labelledConfigMap(ns, 'extra', { 'loki.yaml': LOKI }));
    await eventually('the renamed key', () => files().has(`${FOLDER}/loki.yaml`) && !files().has(file));

    // The label removed: the watch reports DELETED and the file goes; Grafana keeps the datasource.
    api.store.apply(labelledConfigMap(ns, 'extra', { 'loki.yaml': LOKI }, {}));
    await eventually('the removal', () => !files().has(`${FOLDER}/loki.yaml`));
    const msgs = records(ns, pod).map((r) => r.msg);
    expect(msgs).toContain(`Removing ${FOLDER}/extra.yaml`);
    expect(msgs).toContain(`Removing ${FOLDER}/loki.yaml`);
    await eventually('the reload after the removal', () => records(ns, pod).filter((r) => r.msg.startsWith('None sent to')).length === 3);
    expect(grafana.datasources.map((ds) => ds.name)).toEqual(['Loki']);

    // Labelled again, then deleted: the file comes back, then goes with the object.
    api.store.apply(labelledConfigMap(ns, 'extra', { 'loki.yaml': LOKI }));
    await eventually('the file again', () => files().has(`${FOLDER}/loki.yaml`));
    api.store.delete('ConfigMap', ns, 'extra');
    await eventually('the removal with the object', () => !files().has(`${FOLDER}/loki.yaml`));
  });

  it('NAMESPACE=ALL needs a ClusterRole: refused at the cluster scope, then restarted and syncing every namespace', async () => {
    const ns = 'kps-all';
    const pod = deployGrafanaPod(ns, { env: { NAMESPACE: 'ALL', RESOURCE: 'configmap', REQ_URL: '' } });
    api.store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kps-all-apps' } });
    api.store.apply(labelledConfigMap('kps-all-apps', 'app-datasource', { 'app.yaml': LOKI }));
    const handle = sidecar(ns, pod, 'grafana-sc-datasources', 200);
    const refused = await eventually('the refusal', () => records(ns, pod).find((r) => r.level === 'ERROR'));
    expect(refused.msg).toContain('cannot list resource \\\\"configmaps\\\\" in API group \\\\"\\\\" at the cluster scope');
    expect(records(ns, pod).map((r) => r.msg)).toContain('Performing list-based sync on configmap resources: {}');

    api.store.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kps-all-grafana' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject);
    api.store.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'kps-all-grafana' },
      subjects: [{ kind: 'ServiceAccount', name: 'kps-grafana', namespace: ns }],
      roleRef: { kind: 'ClusterRole', name: 'kps-all-grafana', apiGroup: 'rbac.authorization.k8s.io' },
    } as KubeObject);
    await handle.ready;
    expect(handle.restarts).toBeGreaterThanOrEqual(1);
    expect(api.store.containerFiles(ns, pod, 'grafana').get(`${FOLDER}/app.yaml`)).toBe(LOKI);
    const running = (api.store.get('Pod', ns, pod)!.status as { containerStatuses: { name: string; state: { running?: unknown } }[] }).containerStatuses;
    expect(running.find((c) => c.name === 'grafana-sc-datasources')!.state.running).toBeDefined();
  });

  it('without RBAC logs the API server 403, writes nothing and crash-loops (2.x)', async () => {
    const ns = 'kps-norbac';
    const pod = deployGrafanaPod(ns, { rbac: false });
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE }));
    sidecar(ns, pod);

    const crash = await eventually('the crash', () => records(ns, pod).find((r) => r.level === 'ERROR'));
    const user = `system:serviceaccount:${ns}:kps-grafana`;
    expect(crash.msg).toMatch(/^ApiException: \(403\)\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict\(\{'Content-Type': 'application\/json', .+\}\)\nHTTP response body: b'\{"kind":"Status",.*"code":403\}'\n$/s);
    expect(crash.msg).toContain(
      `"message":"secrets is forbidden: User \\\\"${user}\\\\" cannot list resource \\\\"secrets\\\\" in API group \\\\"\\\\" in the namespace \\\\"${ns}\\\\""`,
    );
    expect(crash.exc_info).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(crash.exc_info).toContain('kubernetes.client.exceptions.ApiException: (403)');
    expect([...api.store.containerFiles(ns, pod, 'grafana').keys()]).toEqual([]);

    const status = await eventually('CrashLoopBackOff', () => {
      const pods = api.store.get('Pod', ns, pod)!.status as { containerStatuses: { name: string; restartCount: number; state: { waiting?: { reason: string } } }[] };
      const c = pods.containerStatuses.find((s) => s.name === 'grafana-sc-datasources')!;
      return c.state.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    expect(status.restartCount).toBe(1);
  });

  it('1.x watches directly and logs the refused watch every ERROR_THROTTLE_SLEEP seconds', async () => {
    const ns = 'kps-norbac-v1';
    const pod = deployGrafanaPod(ns, { rbac: false, image: 'quay.io/kiwigrid/k8s-sidecar:1.30.7', env: { RESOURCE: 'configmap', ERROR_THROTTLE_SLEEP: '0' } });
    sidecar(ns, pod);
    const errors = await eventually('two refused watches', () => {
      const found = records(ns, pod).filter((r) => r.level === 'ERROR');
      return found.length >= 2 ? found : undefined;
    });
    expect(errors[0]!.msg).toMatch(/^ApiException when calling kubernetes: \(403\)\nReason: Forbidden\n/);
    expect(errors[0]!.msg).toContain('cannot watch resource \\\\"configmaps\\\\"');
    expect(errors[0]!.msg.endsWith("}'\n\n")).toBe(true);
    expect(records(ns, pod).map((r) => r.msg)).toContain('Loading incluster config ...');
    expect([...api.store.containerFiles(ns, pod, 'grafana').keys()]).toEqual([]);
  });

  it('retries a reload Grafana refuses with 500 and gives up with "Max retries exceeded"', async () => {
    const ns = 'kps-500';
    const pod = deployGrafanaPod(ns, { env: { REQ_RETRY_BACKOFF_FACTOR: '0.01' } });
    const grafana = await startGrafana(ns, pod);
    const second = DATASOURCE.replace('name: "Prometheus"', 'name: "Prometheus-2"').replace('uid: prometheus', 'uid: prometheus-2');
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE, 'extra.yaml': second }));
    sidecar(ns, pod);

    const gaveUp = await eventually('the last retry', () => records(ns, pod).find((r) => r.msg.startsWith('Max retries exceeded')));
    expect(gaveUp.level).toBe('ERROR');
    expect(gaveUp.msg).toBe(
      `Max retries exceeded for URL ${RELOAD}: HTTPConnectionPool(host='localhost', port=3000): Max retries exceeded with url: /api/admin/provisioning/datasources/reload (Caused by ResponseError('too many 500 error responses'))`,
    );
    // One request and five retries, each a 500 in Grafana's log.
    const failed = logLines(ns, pod, 'grafana').filter((l) => l.includes('msg="Request Completed"') && l.includes('status=500'));
    expect(failed).toHaveLength(6);
    expect(failed[0]).toMatch(/^logger=context userId=1 orgId=1 uname=admin t=\S+ level=error msg="Request Completed" method=POST path=\/api\/admin\/provisioning\/datasources\/reload status=500 /);
    expect(grafana.datasources).toEqual([]);
  });

  it('retries while Grafana does not listen yet, then Grafana provisions the files at its start', async () => {
    const ns = 'kps-early';
    const pod = deployGrafanaPod(ns, { env: { REQ_RETRY_TOTAL: '2', REQ_RETRY_BACKOFF_FACTOR: '0.01' } });
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE }));
    const handle = sidecar(ns, pod);
    await handle.ready;
    const failure = await eventually('the failed reload', () => records(ns, pod).find((r) => r.msg.startsWith('Unexpected error during request')));
    const retries = records(ns, pod).filter((r) => r.msg.startsWith('Retrying ('));
    expect(retries.map((r) => r.level)).toEqual(['WARNING', 'WARNING']);
    expect(retries[0]!.msg).toMatch(
      /^Retrying \(Retry\(total=1, connect=9, read=5, redirect=None, status=None\)\) after connection broken by 'NewConnectionError\('<urllib3\.connection\.HTTPConnection object at 0x[0-9a-f]+>: Failed to establish a new connection: \[Errno 111\] Connection refused'\)': \/api\/admin\/provisioning\/datasources\/reload$/,
    );
    expect(failure.msg).toMatch(
      /^Unexpected error during request to http:\/\/localhost:3000\/api\/admin\/provisioning\/datasources\/reload: HTTPConnectionPool\(host='localhost', port=3000\): Max retries exceeded with url: \/api\/admin\/provisioning\/datasources\/reload \(Caused by NewConnectionError\(.*Connection refused'\)\)$/,
    );
    const grafana = await startGrafana(ns, pod);
    expect(grafana.datasources.map((ds) => ds.uid)).toEqual(['prometheus']);
  });

  it('logs the 401 of a reload with wrong credentials, without retrying', async () => {
    const ns = 'kps-401';
    const pod = deployGrafanaPod(ns, { env: { REQ_PASSWORD: 'not-the-password' } });
    const grafana = await startGrafana(ns, pod);
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE }));
    await sidecar(ns, pod).ready;
    const sent = await eventually('the reload', () => records(ns, pod).find((r) => r.msg.startsWith('None sent to')));
    expect(sent.msg).toBe(
      `None sent to ${RELOAD}. Response: 401 Unauthorized {"message":"Invalid username or password","messageId":"password-auth.failed","statusCode":401,"traceID":""}`,
    );
    expect(grafana.datasources).toEqual([]);
  });

  it('runs as an init container (METHOD=LIST) to completion before Grafana starts', async () => {
    const ns = 'kps-init';
    const pod = deployGrafanaPod(ns, { init: true });
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE }));
    const handles = await startPodSidecars({ api, namespace: ns, pod });
    stoppers.push(async () => Promise.all(handles.map((h) => h.stop())).then(() => undefined));
    expect(handles.map((h) => [h.container, h.init])).toEqual([['grafana-init-sc-datasources', true]]);
    expect(await handles[0]!.exited).toBe(0);
    const grafana = await startGrafana(ns, pod);
    expect(grafana.datasources.map((ds) => ds.name)).toEqual(['Prometheus']);
    expect(records(ns, pod, 'grafana-init-sc-datasources').map((r) => r.msg)).not.toContain('Performing initial list-based sync before starting watch.');
  });

  it('startGrafanaPod starts the pod as the kubelet does: init sidecars, Grafana, then the sidecars', async () => {
    const ns = 'kps-pod';
    const pod = deployGrafanaPod(ns);
    api.store.apply(labelledConfigMap(ns, 'ds', { 'datasource.yaml': DATASOURCE }));
    const started = await startGrafanaPod({ api, namespace: ns, pod });
    stoppers.push(() => started.stop());
    expect(started.sidecars.map((h) => h.container)).toEqual(['grafana-sc-datasources']);
    expect(started.grafana.datasources).toEqual([]);
    await eventually('the reload', () => started.grafana.datasources.length === 1);
    expect(started.grafana.datasources[0]).toMatchObject({ uid: 'prometheus', readOnly: true });

    const broken = 'kps-pod-init';
    const initPod = deployGrafanaPod(broken, { init: true, rbac: false });
    await expect(startGrafanaPod({ api, namespace: broken, pod: initPod })).rejects.toThrow(
      `init container grafana-init-sc-datasources of pod ${broken}/${initPod} exited with code 1: the pod stays in Init:CrashLoopBackOff`,
    );
  });

  it('with RESOURCE_NAME reads only the named objects', async () => {
    const ns = 'kps-named';
    const pod = deployGrafanaPod(ns, { env: { RESOURCE: 'configmap', RESOURCE_NAME: 'configmap/picked', REQ_URL: '' } });
    api.store.apply(labelledConfigMap(ns, 'picked', { 'picked.yaml': LOKI }, {}));
    api.store.apply(labelledConfigMap(ns, 'labelled', { 'labelled.yaml': LOKI }));
    await sidecar(ns, pod).ready;
    expect([...api.store.containerFiles(ns, pod, 'grafana').keys()]).toEqual([`${FOLDER}/picked.yaml`]);
    const reads = api.requestLog.filter((e) => e.user === `system:serviceaccount:${ns}:kps-grafana` && e.resource === 'configmaps');
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads.map((e) => `${e.verb} ${e.name}`))).toEqual(new Set(['get picked']));
  });

  it('honours LOG_FORMAT=LOGFMT, NAMESPACE lists and the target-directory annotation', async () => {
    const ns = 'kps-logfmt';
    const other = 'kps-logfmt-other';
    const pod = deployGrafanaPod(ns, { env: { LOG_FORMAT: 'LOGFMT', NAMESPACE: `${ns},${other}`, RESOURCE: 'configmap', REQ_URL: '' } });
    api.store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: other } });
    for (const n of [ns, other]) {
      api.store.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'kps-grafana-read', namespace: n },
        subjects: [{ kind: 'ServiceAccount', name: 'kps-grafana', namespace: ns }],
        roleRef: { kind: 'ClusterRole', name: 'view-configmaps', apiGroup: 'rbac.authorization.k8s.io' },
      } as KubeObject);
    }
    api.store.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'view-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject);
    const cm = labelledConfigMap(other, 'remote', { 'remote.yaml': LOKI });
    cm.metadata.annotations = { 'k8s-sidecar-target-directory': 'team-a' };
    api.store.apply(cm);
    await sidecar(ns, pod).ready;
    const files = api.store.containerFiles(ns, pod, 'grafana');
    expect(files.get(`${FOLDER}/team-a/remote.yaml`)).toBe(LOKI);
    const lines = logLines(ns, pod, 'grafana-sc-datasources');
    expect(lines[0]).toMatch(/^time=\S+\+00:00 level=INFO msg="Starting collector"$/);
    const override = lines.find((l) => l.includes('Found a folder override'));
    expect(override).toMatch(new RegExp(`^time=\\S+ level=INFO msg="Found a folder override annotation, placing the remote in: ${FOLDER}/team-a"$`));
  });
});
