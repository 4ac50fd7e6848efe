/**
 * How datasources reach the simulated Grafana in the stacks teams run: kube-prometheus's
 * `grafana-datasources` Secret mounted as a volume (the kubelet's volume rules: missing sources,
 * `optional`, `items`, `subPath`), and grafana-operator's GrafanaDatasource objects.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { startGrafanaOperator, type GrafanaOperator } from '../../sim/grafana/operator.js';
import { GrafanaSim } from '../../sim/grafana/server.js';
import { ObjectStore } from '../../sim/kube/store.js';
import type { KubeObject } from '../../sim/kube/view.js';

const DS_DIR = '/etc/grafana/provisioning/datasources';
/** kube-prometheus manifests/grafana-dashboardDatasources.yaml, as the Secret's stringData. */
const KUBE_PROMETHEUS_DATASOURCES = `{
    "apiVersion": 1,
    "datasources": [
        {
            "access": "proxy",
            "editable": false,
            "name": "prometheus",
            "orgId": 1,
            "type": "prometheus",
            "url": "http://prometheus-k8s.monitoring.svc:9090",
            "version": 1
        }
    ]
}`;

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

type Volume = Record<string, unknown>;
type Mount = Record<string, unknown>;

function grafanaPod(ns: string, volumes: Volume[], mounts: Mount[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'grafana-0', namespace: ns, labels: { 'app.kubernetes.io/name': 'grafana' } },
    spec: { containers: [{ name: 'grafana', image: 'grafana/grafana:11.5.0', ports: [{ name: 'http', containerPort: 3000 }], volumeMounts: mounts }], volumes },
  };
}

function podState(store: ObjectStore, ns: string) {
  const status = store.get('Pod', ns, 'grafana-0')!.status as {
    phase: string;
    podIP?: string;
    containerStatuses: { state: { waiting?: { reason: string } } }[];
  };
  return { phase: status.phase, waiting: status.containerStatuses[0]!.state.waiting?.reason, podIP: status.podIP };
}

async function startGrafana(store: ObjectStore, ns: string, pod = 'grafana-0'): Promise<GrafanaSim> {
  const podIP = (store.get('Pod', ns, pod)!.status as { podIP: string }).podIP;
  const sim = new GrafanaSim({ view: store, namespace: ns, pod, container: 'grafana', host: podIP, port: 3000, adminUser: 'admin', adminPassword: 'admin' });
  await sim.start();
  running.push(sim);
  return sim;
}

describe("kube-prometheus: the grafana-datasources Secret mounted as a volume", () => {
  it('provisions the datasource from the Secret key datasources.yaml', async () => {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } });
    store.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'grafana-datasources', namespace: 'monitoring' }, stringData: { 'datasources.yaml': KUBE_PROMETHEUS_DATASOURCES } } as KubeObject);
    store.apply(grafanaPod('monitoring', [{ name: 'grafana-datasources', secret: { secretName: 'grafana-datasources' } }], [{ name: 'grafana-datasources', mountPath: DS_DIR, readOnly: false }]));

    expect(store.containerFiles('monitoring', 'grafana-0', 'grafana').get(`${DS_DIR}/datasources.yaml`)).toBe(KUBE_PROMETHEUS_DATASOURCES);
    const grafana = await startGrafana(store, 'monitoring');
    expect(grafana.datasources).toEqual([
      expect.objectContaining({ name: 'prometheus', uid: 'P1809F7CD0C75ACF3', url: 'http://prometheus-k8s.monitoring.svc:9090', readOnly: true, version: 1 }),
    ]);
    // A Secret mount is read-only: a write from the container fails as the kernel would refuse it.
    expect(store.writeContainerFile('monitoring', 'grafana-0', 'grafana', `${DS_DIR}/x.yaml`, 'x')).toEqual({
      ok: false,
      errno: 'EROFS',
      message: `[Errno 30] Read-only file system: '${DS_DIR}/x.yaml'`,
    });
  });

  it('keeps the pod ContainerCreating while the Secret is missing (unless optional), and keeps its files once mounted', () => {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'm1' } });
    store.apply(grafanaPod('m1', [{ name: 'grafana-datasources', secret: { secretName: 'grafana-datasources' } }], [{ name: 'grafana-datasources', mountPath: DS_DIR }]));
    expect(podState(store, 'm1')).toEqual({ phase: 'Pending', waiting: 'ContainerCreating', podIP: undefined });
    expect(store.podMountProblems('m1', 'grafana-0')).toEqual(['MountVolume.SetUp failed for volume "grafana-datasources" : secret "grafana-datasources" not found']);

    store.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'grafana-datasources', namespace: 'm1' }, stringData: { 'datasources.yaml': KUBE_PROMETHEUS_DATASOURCES } } as KubeObject);
    expect(podState(store, 'm1')).toEqual({ phase: 'Running', waiting: undefined, podIP: expect.stringMatching(/^127\./) });
    expect(store.podMountProblems('m1', 'grafana-0')).toEqual([]);

    // Deleted from under the running pod: the kubelet's sync fails and the files it wrote stay.
    store.delete('Secret', 'm1', 'grafana-datasources');
    expect(store.containerFiles('m1', 'grafana-0', 'grafana').get(`${DS_DIR}/datasources.yaml`)).toBe(KUBE_PROMETHEUS_DATASOURCES);
    expect(podState(store, 'm1').phase).toBe('Running');

    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'm2' } });
    store.apply(grafanaPod('m2', [{ name: 'ds', secret: { secretName: 'absent', optional: true } }], [{ name: 'ds', mountPath: DS_DIR }]));
    expect(podState(store, 'm2').phase).toBe('Running');
    expect(store.containerFiles('m2', 'grafana-0', 'grafana').size).toBe(0);
    // An optional volume follows its source both ways: the files come, and go with it.
    store.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'absent', namespace: 'm2' }, stringData: { 'ds.yaml': 'x' } } as KubeObject);
    expect([...store.containerFiles('m2', 'grafana-0', 'grafana').keys()]).toEqual([`${DS_DIR}/ds.yaml`]);
    store.delete('Secret', 'm2', 'absent');
    expect(store.containerFiles('m2', 'grafana-0', 'grafana').size).toBe(0);
  });

  it('projects only the listed items, fails on a listed key the source lacks, and freezes subPath mounts', () => {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'm3' } });
    store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'm3' }, data: { 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' } } as KubeObject);
    store.apply(
      grafanaPod(
        'm3',
        [
          { name: 'items', configMap: { name: 'cfg', items: [{ key: 'b.yaml', path: 'sub/renamed.yaml' }] } },
          { name: 'whole', configMap: { name: 'cfg' } },
        ],
        [
          { name: 'items', mountPath: '/items' },
          { name: 'whole', mountPath: '/live' },
          { name: 'whole', mountPath: '/etc/grafana/a.yaml', subPath: 'a.yaml' },
        ],
      ),
    );
    const files = () => store.containerFiles('m3', 'grafana-0', 'grafana');
    expect([...files().keys()].sort()).toEqual(['/etc/grafana/a.yaml', '/items/sub/renamed.yaml', '/live/a.yaml', '/live/b.yaml']);

    store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'm3' }, data: { 'a.yaml': 'a: 2\n', 'b.yaml': 'b: 1\n' } } as KubeObject);
    expect(files().get('/live/a.yaml')).toBe('a: 2\n');
    expect(files().get('/etc/grafana/a.yaml')).toBe('a: 1\n');

    store.apply(grafanaPod('m3', [{ name: 'items', configMap: { name: 'cfg', items: [{ key: 'missing.yaml', path: 'x.yaml' }] } }], [{ name: 'items', mountPath: '/items' }]));
    store.delete('Pod', 'm3', 'grafana-0');
    store.apply(grafanaPod('m3', [{ name: 'items', configMap: { name: 'cfg', items: [{ key: 'missing.yaml', path: 'x.yaml' }] } }], [{ name: 'items', mountPath: '/items' }]));
    expect(store.podMountProblems('m3', 'grafana-0')).toEqual(['MountVolume.SetUp failed for volume "items" : configmap references non-existent config key: missing.yaml']);
  });

  it('shares emptyDir files between containers, at each mountPath and subPath, until the pod goes', () => {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'm4' } });
    const pod = grafanaPod('m4', [{ name: 'shared', emptyDir: {} }], [{ name: 'shared', mountPath: DS_DIR, subPath: 'datasources' }]);
    (pod.spec as { containers: unknown[] }).containers.push({ name: 'writer', image: 'busybox', volumeMounts: [{ name: 'shared', mountPath: '/out' }] });
    store.apply(pod);
    expect(store.writeContainerFile('m4', 'grafana-0', 'writer', '/out/datasources/ds.yaml', 'x: 1\n')).toEqual({ ok: true });
    expect(store.writeContainerFile('m4', 'grafana-0', 'writer', '/out/other.yaml', 'y: 1\n')).toEqual({ ok: true });
    expect(store.writeContainerFile('m4', 'grafana-0', 'writer', '/tmp/own.txt', 'mine')).toEqual({ ok: true });
    expect([...store.containerFiles('m4', 'grafana-0', 'grafana')]).toEqual([[`${DS_DIR}/ds.yaml`, 'x: 1\n']]);
    expect(store.containerFiles('m4', 'grafana-0', 'writer').get('/tmp/own.txt')).toBe('mine');
    expect(store.removeContainerFile('m4', 'grafana-0', 'grafana', `${DS_DIR}/ds.yaml`)).toEqual({ ok: true });
    expect(store.containerFiles('m4', 'grafana-0', 'writer').has('/out/datasources/ds.yaml')).toBe(false);
    expect(store.removeContainerFile('m4', 'grafana-0', 'grafana', `${DS_DIR}/ds.yaml`)).toMatchObject({ ok: false, errno: 'ENOENT' });

    store.delete('Pod', 'm4', 'grafana-0');
    store.apply(pod);
    expect(store.containerFiles('m4', 'grafana-0', 'writer').size).toBe(0);
  });
});

describe('grafana-operator GrafanaDatasource', () => {
  /**
   * A Grafana pod behind Service `grafana` (provisioned from `provisioned` when given), an
   * external Grafana object pointing at it, and the operator.
   */
  async function setup(ns: string, options: { password?: string; provisioned?: string } = {}): Promise<{ store: ObjectStore; grafana: GrafanaSim; operator: GrafanaOperator }> {
    const store = new ObjectStore();
    store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    if (options.provisioned) {
      store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'grafana-datasources', namespace: ns }, data: { 'datasources.yaml': options.provisioned } } as KubeObject);
      store.apply(grafanaPod(ns, [{ name: 'ds', configMap: { name: 'grafana-datasources' } }], [{ name: 'ds', mountPath: DS_DIR }]));
    } else {
      store.apply(grafanaPod(ns, [], []));
    }
    store.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'grafana', namespace: ns },
      spec: { selector: { 'app.kubernetes.io/name': 'grafana' }, ports: [{ name: 'http', port: 3000, targetPort: 'http' }] },
    });
    store.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'grafana-admin', namespace: ns }, stringData: { user: 'admin', password: options.password ?? 'admin' } } as KubeObject);
    store.apply({
      apiVersion: 'grafana.integreatly.org/v1beta1',
      kind: 'Grafana',
      metadata: { name: 'grafana', namespace: ns, labels: { dashboards: 'grafana' } },
      spec: {
        external: {
          url: `http://grafana.${ns}.svc:3000`,
          adminUser: { name: 'grafana-admin', key: 'user' },
          adminPassword: { name: 'grafana-admin', key: 'password' },
        },
      },
    });
    const grafana = await startGrafana(store, ns);
    const op = startGrafanaOperator({ store, retryMs: 60_000 });
    running.push(op);
    await op.settle();
    return { store, grafana, operator: op };
  }

  function datasourceCr(ns: string, name: string, selector: Record<string, string>, datasource: Record<string, unknown>): KubeObject {
    return {
      apiVersion: 'grafana.integreatly.org/v1beta1',
      kind: 'GrafanaDatasource',
      metadata: { name, namespace: ns },
      spec: { instanceSelector: { matchLabels: selector }, datasource },
    };
  }

  const conditions = (store: ObjectStore, ns: string, name: string) =>
    ((store.get('GrafanaDatasource', ns, name)!.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions ?? []).map(
      ({ type, status, reason, message }) => ({ type, status, reason, message }),
    );

  it('creates the datasource in the matching Grafana and reports DatasourceSynchronized', async () => {
    const ns = 'op-sync';
    const { store, grafana, operator } = await setup(ns);
    expect(store.get('Grafana', ns, 'grafana')!.status).toMatchObject({ stage: 'complete', stageStatus: 'success', adminUrl: `http://grafana.${ns}.svc:3000`, version: '11.5.0' });

    store.apply(datasourceCr(ns, 'prometheus', { dashboards: 'grafana' }, { name: 'prom1', type: 'prometheus', access: 'proxy', url: 'http://prometheus-service:9090', isDefault: true, jsonData: { timeInterval: '5s' } }));
    await operator.settle();

    const cr = store.get('GrafanaDatasource', ns, 'prometheus')!;
    expect(conditions(store, ns, 'prometheus')).toEqual([
      { type: 'DatasourceSynchronized', status: 'True', reason: 'ApplySuccessful', message: 'Datasource was successfully applied to 1 instances' },
    ]);
    expect(cr.status).toMatchObject({ uid: cr.metadata.uid, hash: expect.stringMatching(/^[0-9a-f]{64}$/), lastResync: expect.any(String) });
    expect(cr.metadata.finalizers).toEqual(['operator.grafana.com/finalizer']);
    expect(grafana.datasources).toEqual([expect.objectContaining({ name: 'prom1', uid: cr.metadata.uid, readOnly: false, isDefault: true, jsonData: { timeInterval: '5s' } })]);
    expect((store.get('Grafana', ns, 'grafana')!.status as { datasources: string[] }).datasources).toEqual([`${ns}/prometheus/${cr.metadata.uid}`]);

    // A spec change is applied with PUT; deleting the object deletes the datasource.
    store.apply({ ...cr, spec: { ...(cr.spec as object), datasource: { name: 'prom1', type: 'prometheus', url: 'http://prometheus-2:9090' } } });
    await operator.settle();
    expect(grafana.datasources.map((ds) => ds.url)).toEqual(['http://prometheus-2:9090']);
    store.delete('GrafanaDatasource', ns, 'prometheus');
    await operator.settle();
    expect(grafana.datasources).toEqual([]);
  });

  it('reports NoMatchingInstance when no Grafana matches the instanceSelector', async () => {
    const ns = 'op-nomatch';
    const { store, grafana, operator } = await setup(ns);
    store.apply(datasourceCr(ns, 'prometheus', { dashboards: 'other' }, { name: 'prom1', type: 'prometheus', url: 'http://prometheus:9090' }));
    await operator.settle();
    expect(conditions(store, ns, 'prometheus')).toEqual([
      { type: 'NoMatchingInstance', status: 'True', reason: 'EmptyAPIReply', message: 'None of the available Grafana instances matched the selector, skipping reconciliation' },
    ]);
    expect(store.get('GrafanaDatasource', ns, 'prometheus')!.status).toMatchObject({ NoMatchingInstances: true });
    expect(grafana.datasources).toEqual([]);
  });

  it('reports ApplyFailed with the Grafana API error, and a Grafana it cannot log in to matches nothing', async () => {
    const ns = 'op-fail';
    const { store, grafana, operator } = await setup(ns);
    // A datasource created outside the operator with the same uid is taken over and updated in place.
    grafana.createDatasource({ name: 'taken', type: 'prometheus', url: 'http://x:9090', uid: 'taken-uid' });
    store.apply(datasourceCr(ns, 'dup', { dashboards: 'grafana' }, { name: 'other-name', uid: 'taken-uid', type: 'prometheus', url: 'http://prometheus:9090' }));
    await operator.settle();
    expect(conditions(store, ns, 'dup')[0]).toMatchObject({ status: 'True', reason: 'ApplySuccessful' });
    expect(grafana.datasources.map((ds) => [ds.uid, ds.name])).toEqual([['taken-uid', 'other-name']]);

    // A provisioned, read-only datasource with the same name refuses the update.
    const twin = 'apiVersion: 1\ndatasources:\n- name: readonly-twin\n  type: prometheus\n  url: http://x:9090\n';
    const provisioned = await setup('op-fail-2', { provisioned: twin });
    expect(provisioned.grafana.datasources[0]).toMatchObject({ name: 'readonly-twin', readOnly: true });
    provisioned.store.apply(datasourceCr('op-fail-2', 'twin', { dashboards: 'grafana' }, { name: 'readonly-twin', type: 'prometheus', url: 'http://prometheus:9090' }));
    await provisioned.operator.settle();
    expect(conditions(provisioned.store, 'op-fail-2', 'twin')).toEqual([
      {
        type: 'DatasourceSynchronized',
        status: 'False',
        reason: 'ApplyFailed',
        message:
          'Datasource failed to be applied for 1 out of 1 instances. Errors:\n- op-fail-2/grafana: [PUT /datasources/uid/{uid}][403] updateDataSourceByUidForbidden {"message":"Cannot update read-only data source"}',
      },
    ]);

    const locked = await setup('op-locked', { password: 'wrong-password' });
    expect(locked.store.get('Grafana', 'op-locked', 'grafana')!.status).toMatchObject({
      stage: 'complete',
      stageStatus: 'failed',
      lastMessage: 'failed to authenticate with instance: failed to authenticate with grafana, ensure connectivity and valid credentials',
    });
    locked.store.apply(datasourceCr('op-locked', 'prometheus', { dashboards: 'grafana' }, { name: 'prom1', type: 'prometheus', url: 'http://prometheus:9090' }));
    await locked.operator.settle();
    expect(conditions(locked.store, 'op-locked', 'prometheus')[0]).toMatchObject({ type: 'NoMatchingInstance', status: 'True' });
  });

  describe('GrafanaDashboard', () => {
    const dashboardCr = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'grafana.integreatly.org/v1beta1',
      kind: 'GrafanaDashboard',
      metadata: { name, namespace: ns },
      spec: { instanceSelector: { matchLabels: { dashboards: 'grafana' } }, ...spec },
    });
    const dashboardConditions = (store: ObjectStore, ns: string, name: string) =>
      ((store.get('GrafanaDashboard', ns, name)!.status as { conditions?: { type: string; status: string; reason: string; message: string }[] }).conditions ?? []).map(
        ({ type, status, reason, message }) => ({ type, status, reason, message }),
      );
    const model = (uid: string | undefined, title: string) =>
      JSON.stringify({ ...(uid ? { uid } : {}), title, schemaVersion: 39, panels: [{ id: 1, type: 'timeseries', title: 'up', datasource: { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, targets: [{ refId: 'A', expr: 'up' }] }], templating: { list: [{ name: 'job', type: 'custom', query: 'a,b', current: { text: 'a', value: 'a' }, options: [{ text: 'a', value: 'a', selected: true }, { text: 'b', value: 'b', selected: false }] }] } });

    it('saves the dashboard from inline JSON into a folder named after the namespace, datasource inputs and variables applied', async () => {
      const ns = 'op-dash';
      const { store, grafana, operator } = await setup(ns);
      store.apply(
        dashboardCr(ns, 'overview', {
          json: model('overview', 'Overview'),
          datasources: [{ inputName: 'DS_PROMETHEUS', datasourceName: 'prometheus' }],
          variables: [{ name: 'job', value: 'b' }],
        }),
      );
      await operator.settle();
      expect(dashboardConditions(store, ns, 'overview')).toEqual([{ type: 'DashboardSynchronized', status: 'True', reason: 'ApplySuccessful', message: 'Dashboard was successfully applied to 1 instances' }]);
      const cr = store.get('GrafanaDashboard', ns, 'overview')!;
      expect(cr.status).toMatchObject({ uid: 'overview', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(cr.metadata.finalizers).toEqual(['operator.grafana.com/finalizer']);
      const db = grafana.dashboardDatabase;
      const saved = db.dashboard('overview')!;
      expect(db.folder(saved.folderUid)?.title).toBe(ns);
      const data = saved.data as { panels: { datasource: { uid: string } }[]; templating: { list: { current: unknown; options: { value: string; selected: boolean }[] }[] } };
      expect(data.panels[0]!.datasource.uid).toBe('prometheus');
      expect(data.templating.list[0]!.current).toEqual({ selected: true, text: 'b', value: 'b' });
      expect(data.templating.list[0]!.options.map((o) => [o.value, o.selected])).toEqual([['a', false], ['b', true]]);
      expect((store.get('Grafana', ns, 'grafana')!.status as { dashboards: string[] }).dashboards).toEqual([`${ns}/overview/overview`]);

      // Unchanged: not saved again. Changed: saved over (version 2). Deleted: gone from Grafana.
      store.apply({ ...cr, metadata: { ...cr.metadata, generation: 2 } });
      await operator.settle();
      expect(db.dashboard('overview')!.version).toBe(1);
      store.apply({ ...cr, metadata: { ...cr.metadata, generation: 3 }, spec: { ...(cr.spec as object), folder: 'General', json: model('overview', 'Overview v2') } });
      await operator.settle();
      expect(db.dashboard('overview')).toMatchObject({ title: 'Overview v2', folderUid: '' });
      store.delete('GrafanaDashboard', ns, 'overview');
      await operator.settle();
      expect(db.dashboard('overview')).toBeUndefined();
    });

    it('reads a ConfigMap key, and says why when the key, the source or the instance is missing', async () => {
      const ns = 'op-dash-cm';
      const { store, grafana, operator } = await setup(ns);
      store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dashboards', namespace: ns }, data: { 'nodes.json': model(undefined, 'Nodes') } } as KubeObject);
      store.apply(dashboardCr(ns, 'nodes', { configMapRef: { name: 'dashboards', key: 'nodes.json' }, folder: 'Infra' }));
      store.apply(dashboardCr(ns, 'typo', { configMapRef: { name: 'dashboards', key: 'node.json' } }));
      store.apply(dashboardCr(ns, 'empty', {}));
      store.apply(dashboardCr(ns, 'both', { json: '{}', configMapRef: { name: 'dashboards', key: 'nodes.json' } }));
      store.apply({ ...dashboardCr(ns, 'elsewhere', { json: model('elsewhere', 'Elsewhere') }), spec: { instanceSelector: { matchLabels: { dashboards: 'other' } }, json: '{}' } });
      store.apply(dashboardCr(ns, 'broken', { json: '{"title": "Broken",' }));
      await operator.settle();

      const nodes = store.get('GrafanaDashboard', ns, 'nodes')!;
      // No uid in the JSON: the object's uid is the dashboard's.
      expect((nodes.status as { uid: string }).uid).toBe(nodes.metadata.uid);
      expect(grafana.dashboardDatabase.dashboard(nodes.metadata.uid!)).toMatchObject({ title: 'Nodes' });
      expect(grafana.dashboardDatabase.folderByTitle('Infra')).toBeDefined();
      const invalid = (message: string) => [{ type: 'InvalidSpec', status: 'True', reason: 'InvalidModelResolution', message }];
      expect(dashboardConditions(store, ns, 'typo')).toEqual(invalid(`failed to fetch contents: cannot find key 'node.json' in config map 'dashboards' for dashboard ${ns}/typo`));
      expect(dashboardConditions(store, ns, 'empty')).toEqual(invalid('failed to fetch contents: no source type provided for content resource empty'));
      expect(dashboardConditions(store, ns, 'both')).toEqual(invalid('failed to fetch contents: more than one source types found for content resource both'));
      expect(dashboardConditions(store, ns, 'broken')).toEqual(invalid('failed to extract model: unexpected end of JSON input'));
      expect(dashboardConditions(store, ns, 'elsewhere')).toEqual([
        { type: 'NoMatchingInstance', status: 'True', reason: 'EmptyAPIReply', message: 'None of the available Grafana instances matched the selector, skipping reconciliation' },
      ]);
      expect(grafana.dashboardDatabase.dashboards.map((d) => d.title)).toEqual(['Nodes']);
    });

    it('reports ApplyFailed with the Grafana API error: a provisioned dashboard of the same uid cannot be saved over', async () => {
      const ns = 'op-dash-fail';
      const { store, grafana, operator } = await setup(ns);
      grafana.dashboardDatabase.saveDashboard({ title: 'Taken' }, { uid: 'taken', folderUid: '', provisioning: { provider: 'default', externalId: '/d/taken.json', providerPath: '/d', allowUiUpdates: false, checkSum: 'x' } });
      store.apply(dashboardCr(ns, 'taken', { json: model('taken', 'Taken'), folder: 'General' }));
      await operator.settle();
      expect(dashboardConditions(store, ns, 'taken')).toEqual([
        {
          type: 'DashboardSynchronized',
          status: 'False',
          reason: 'ApplyFailed',
          message: `Dashboard failed to be applied for 1 out of 1 instances. Errors:\n- ${ns}/grafana: [POST /dashboards/db][400] postDashboardBadRequest {"message":"Cannot save provisioned dashboard"}`,
        },
      ]);
    });
  });
});
