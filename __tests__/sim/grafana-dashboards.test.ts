/**
 * The simulated Grafana's dashboards as a client of its HTTP API sees them: provisioned from the
 * files the container sees (providers, folders, files that do not load, reloads that delete or
 * unprovision), `/api/search` with its filters and order, `/api/folders`, `/api/dashboards/uid`
 * with its meta and its 404 on each release, library panels, and `/api/ds/query` running a panel's
 * query — built-in `$__…` variables replaced, template variables left alone, the time range kept —
 * or refusing a datasource uid Grafana does not have, as each release words it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { ClusterView, DialResult, FileWriteResult, KubeObject } from '../../sim/kube/view.js';
import { GrafanaSim } from '../../sim/grafana/server.js';

const NS = 'monitoring';
const POD = 'grafana-5c7d-xk2pq';
const PASSWORD = 'dashboards-2024';
const asAdmin = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

/** One Grafana pod: its files are whatever the test puts there; Prometheus is the test's fake. */
class FakeView implements ClusterView {
  readonly files = new Map<string, string>();
  readonly logs: string[] = [];
  route: DialResult = { error: 'dial tcp: lookup prometheus on 10.96.0.10:53: no such host' };
  get(): KubeObject | undefined {
    return undefined;
  }
  list(): KubeObject[] {
    return [];
  }
  containerFiles(): Map<string, string> {
    return this.files;
  }
  lookupHost(host: string): { name: string; address: string } | undefined {
    return { name: host, address: '10.96.0.50' };
  }
  dial(): DialResult {
    return this.route;
  }
  appendLog(_ns: string, _pod: string, _container: string, line: string): void {
    this.logs.push(line);
  }
  writeContainerFile(): FileWriteResult {
    return { ok: true };
  }
  removeContainerFile(): FileWriteResult {
    return { ok: true };
  }
}

const PROVIDER = `apiVersion: 1
providers:
- name: "0"
  orgId: 1
  folder: Default
  folderUid: ""
  type: file
  options:
    path: /grafana-dashboard-definitions/0
`;

const dashboard = (uid: string, title: string, extra: Record<string, unknown> = {}) => JSON.stringify({ uid, title, schemaVersion: 39, panels: [], ...extra });

/** A kube-prometheus-like pod: provider "0" and its dashboards mounted from ConfigMaps. */
function kubePrometheusFiles(view: FakeView): void {
  view.files.set('/etc/grafana/provisioning/dashboards/dashboards.yaml', PROVIDER);
  view.files.set('/grafana-dashboard-definitions/0/nodes/nodes.json', dashboard('nodes', 'Node Exporter / Nodes', { tags: ['node-exporter-mixin'], id: 99 }));
  view.files.set('/grafana-dashboard-definitions/0/nodes/..2025_01_01_00_00_00.000/nodes.json', dashboard('nodes', 'Node Exporter / Nodes'));
  view.files.set('/grafana-dashboard-definitions/0/apiserver/apiserver.json', dashboard('apiserver', 'Kubernetes / API server', { tags: ['kubernetes-mixin'] }));
  view.files.set(
    '/grafana-dashboard-definitions/0/old/old.json',
    JSON.stringify({ uid: 'old-rows', title: 'alertmanager overview', schemaVersion: 14, rows: [{ title: 'Row', collapse: false, panels: [{ id: 1, type: 'graph', targets: [{ expr: 'up' }] }] }] }),
  );
  view.files.set('/grafana-dashboard-definitions/0/broken/broken.json', '{"title": "Broken",');
  view.files.set('/grafana-dashboard-definitions/0/untitled/untitled.json', dashboard('untitled', ''));
}

const servers: GrafanaSim[] = [];
let nextHost = 10;

async function startGrafana(view: FakeView, version?: string): Promise<GrafanaSim> {
  const sim = new GrafanaSim({
    view,
    namespace: NS,
    pod: POD,
    container: 'grafana',
    host: `127.0.77.${nextHost++}`,
    port: 0,
    adminUser: 'admin',
    adminPassword: PASSWORD,
    ...(version ? { version } : {}),
  });
  await sim.start();
  servers.push(sim);
  return sim;
}

async function get(sim: GrafanaSim, path: string): Promise<{ status: number; body: any }> {
  const res = await request(`${sim.url}${path}`, { headers: asAdmin });
  return { status: res.statusCode, body: await res.body.json() };
}

async function post(sim: GrafanaSim, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await request(`${sim.url}${path}`, { method: 'POST', headers: { ...asAdmin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, body: await res.body.json() };
}

afterEach(async () => {
  for (const sim of servers.splice(0)) await sim.stop();
});

describe('dashboards provisioned from files', () => {
  it('saves each loadable file into the provider folder, skipping the ConfigMap links, broken JSON and untitled dashboards', async () => {
    const view = new FakeView();
    kubePrometheusFiles(view);
    const sim = await startGrafana(view);

    const { body: hits } = await get(sim, '/api/search');
    const folder = hits[0];
    expect(folder).toEqual({ id: folder.id, uid: folder.uid, title: 'Default', uri: 'db/default', url: `/dashboards/f/${folder.uid}/default`, slug: '', type: 'dash-folder', tags: [], isStarred: false, sortMeta: 0 });
    expect(hits.map((h: { title: string }) => h.title)).toEqual(['Default', 'alertmanager overview', 'Kubernetes / API server', 'Node Exporter / Nodes']);
    expect(hits.find((h: { uid: string }) => h.uid === 'nodes')).toEqual({
      id: expect.any(Number), uid: 'nodes', title: 'Node Exporter / Nodes', uri: 'db/node-exporter-nodes', url: '/d/nodes/node-exporter-nodes', slug: '', type: 'dash-db',
      tags: ['node-exporter-mixin'], isStarred: false, folderId: folder.id, folderUid: folder.uid, folderTitle: 'Default', folderUrl: `/dashboards/f/${folder.uid}/default`, sortMeta: 0,
    });
    expect(await get(sim, '/api/folders')).toEqual({ status: 200, body: [{ id: folder.id, uid: folder.uid, title: 'Default' }] });
    expect(view.logs.some((l) => l.includes('msg="failed to load dashboard from "') && l.includes('file=/grafana-dashboard-definitions/0/broken/broken.json'))).toBe(true);
    expect(view.logs.some((l) => l.includes('error="Dashboard title cannot be empty"'))).toBe(true);
  });

  it('answers a provisioned dashboard with its folder, provisioning meta and the JSON as the file has it', async () => {
    const view = new FakeView();
    kubePrometheusFiles(view);
    const sim = await startGrafana(view);
    const { status, body } = await get(sim, '/api/dashboards/uid/nodes');
    expect(status).toBe(200);
    expect(body.meta).toMatchObject({ type: 'db', slug: 'node-exporter-nodes', url: '/d/nodes/node-exporter-nodes', folderTitle: 'Default', provisioned: true, provisionedExternalId: 'nodes/nodes.json', version: 1, createdBy: 'Anonymous' });
    expect(body.meta.folderUid).toBe((await get(sim, '/api/folders')).body[0].uid);
    // The store sets id, uid and version; the file's own id is not kept.
    expect(body.dashboard).toEqual({ uid: 'nodes', title: 'Node Exporter / Nodes', schemaVersion: 39, panels: [], tags: ['node-exporter-mixin'], id: expect.any(Number), version: 1 });
    expect(body.dashboard.id).not.toBe(99);
    // An old `rows` layout is returned as stored: the migration to panels is the frontend's.
    const old = await get(sim, '/api/dashboards/uid/old-rows');
    expect([old.body.dashboard.schemaVersion, old.body.dashboard.rows[0].panels[0].targets, old.body.dashboard.panels]).toEqual([14, [{ expr: 'up' }], undefined]);
  });

  it('keeps a dashboard of a provider that allows UI updates unprovisioned in meta, and files in folders named after their directory', async () => {
    const view = new FakeView();
    view.files.set(
      '/etc/grafana/provisioning/dashboards/sc-dashboardproviders.yaml',
      'apiVersion: 1\nproviders:\n- name: sidecarProvider\n  folder: ""\n  type: file\n  allowUiUpdates: true\n  options:\n    foldersFromFilesStructure: true\n    path: /tmp/dashboards\n',
    );
    view.files.set('/tmp/dashboards/top.json', dashboard('top', 'Top'));
    view.files.set('/tmp/dashboards/Team A/app.json', dashboard('app', 'App'));
    const sim = await startGrafana(view);
    const top = (await get(sim, '/api/dashboards/uid/top')).body.meta;
    const app = (await get(sim, '/api/dashboards/uid/app')).body.meta;
    expect([top.folderTitle, top.folderUid, top.provisioned, top.provisionedExternalId]).toEqual(['General', '', false, 'top.json']);
    expect([app.folderTitle, app.provisionedExternalId]).toEqual(['Team A', 'Team A/app.json']);
    expect((await get(sim, '/api/search?query=app')).body.map((h: { uid: string }) => h.uid)).toEqual(['app']);
  });

  it('reload saves changed files as a new version and deletes dashboards whose file went away, unless deletion is disabled', async () => {
    const view = new FakeView();
    view.files.set('/etc/grafana/provisioning/dashboards/a.yaml', 'apiVersion: 1\nproviders:\n- name: a\n  type: file\n  options:\n    path: /dash/a\n');
    view.files.set('/etc/grafana/provisioning/dashboards/b.yml', 'apiVersion: 1\nproviders:\n- name: b\n  type: file\n  disableDeletion: true\n  options:\n    path: /dash/b\n');
    view.files.set('/dash/a/one.json', dashboard('one', 'One'));
    view.files.set('/dash/b/two.json', dashboard('two', 'Two'));
    const sim = await startGrafana(view);
    view.files.set('/dash/a/one.json', dashboard('one', 'One, edited'));
    view.files.delete('/dash/b/two.json');
    view.files.set('/dash/a/three.json', dashboard('three', 'Three'));
    expect(await post(sim, '/api/admin/provisioning/dashboards/reload', {})).toEqual({ status: 200, body: { message: 'Dashboards config reloaded' } });
    const one = (await get(sim, '/api/dashboards/uid/one')).body;
    expect([one.dashboard.title, one.dashboard.version, one.meta.version]).toEqual(['One, edited', 2, 2]);
    const two = (await get(sim, '/api/dashboards/uid/two')).body.meta;
    expect([two.provisioned, two.provisionedExternalId]).toEqual([false, '']);
    view.files.delete('/dash/a/three.json');
    await post(sim, '/api/admin/provisioning/dashboards/reload', {});
    expect((await get(sim, '/api/dashboards/uid/three')).status).toBe(404);
  });
});

describe('/api/search filters', () => {
  let sim: GrafanaSim;
  beforeAll(async () => {
    const view = new FakeView();
    view.files.set('/etc/grafana/provisioning/dashboards/p.yaml', 'apiVersion: 1\nproviders:\n- name: p\n  folder: Apps\n  folderUid: apps\n  options:\n    path: /d\n- name: q\n  options:\n    path: /e\n');
    view.files.set('/d/a.json', dashboard('a', 'alpha', { tags: ['x', 'y'] }));
    view.files.set('/d/b.json', dashboard('b', 'Beta', { tags: ['x'] }));
    view.files.set('/e/c.json', dashboard('c', 'gamma'));
    sim = new GrafanaSim({ view, namespace: NS, pod: POD, container: 'grafana', host: '127.0.78.1', port: 0, adminUser: 'admin', adminPassword: PASSWORD });
    await sim.start();
  });
  afterAll(() => sim.stop());
  const uids = async (query: string) => ((await get(sim, `/api/search?${query}`)).body as { uid: string }[]).map((h) => h.uid);

  it.each([
    ['', ['apps', 'a', 'b', 'c']],
    ['type=dash-db', ['a', 'b', 'c']],
    ['type=dash-folder', ['apps']],
    ['tag=x', ['a', 'b']],
    ['tag=x&tag=y', ['a']],
    ['query=ALP', ['a']],
    ['dashboardUIDs=c&dashboardUIDs=a', ['a', 'c']],
    ['folderUIDs=apps', ['a', 'b']],
    ['folderUIDs=general', ['c']],
    ['folderIds=0', ['c']],
    ['type=dash-db&limit=2', ['a', 'b']],
    ['type=dash-db&limit=2&page=2', ['c']],
    ['type=dash-db&sort=alpha-desc', ['c', 'b', 'a']],
    ['starred=true', []],
  ])('?%s', async (query, expected) => {
    expect(await uids(query)).toEqual(expected);
  });

  it('refuses a limit above 5000', async () => {
    expect(await get(sim, '/api/search?limit=5001')).toEqual({ status: 422, body: { message: 'Limit is above maximum allowed (5000), use page parameter to access hits beyond limit' } });
  });

  it('answers a folder by uid, and an unknown one as not found', async () => {
    expect((await get(sim, '/api/folders/apps')).body).toMatchObject({ uid: 'apps', title: 'Apps', url: '/dashboards/f/apps/apps' });
    expect(await get(sim, '/api/folders/nope')).toEqual({ status: 404, body: { message: 'folder not found', status: 'not-found' } });
  });
});

describe.each(['9.5.21', '10.4.14', '11.5.0', '12.0.2'])('Grafana %s', (version) => {
  it('answers an unknown dashboard uid "Dashboard not found"', async () => {
    const sim = await startGrafana(new FakeView(), version);
    expect(await get(sim, '/api/dashboards/uid/no-such-dashboard')).toEqual({ status: 404, body: { message: 'Dashboard not found', traceID: '' } });
  });
});

describe('saving and deleting through the API', () => {
  async function send(sim: GrafanaSim, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await request(`${sim.url}${path}`, { method, headers: { ...asAdmin, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.statusCode, body: await res.body.json() };
  }

  it('saves, versions and deletes a dashboard, refusing what the dashboard service refuses', async () => {
    const view = new FakeView();
    view.files.set('/etc/grafana/provisioning/dashboards/p.yaml', 'apiVersion: 1\nproviders:\n- name: p\n  options:\n    path: /d\n');
    view.files.set('/d/file.json', dashboard('from-file', 'From file'));
    const sim = await startGrafana(view);
    const folder = await send(sim, 'POST', '/api/folders', { title: 'Team' });
    expect(folder).toMatchObject({ status: 200, body: { title: 'Team', uid: expect.any(String) } });
    expect(await send(sim, 'POST', '/api/folders', { title: 'team' })).toMatchObject({ status: 409, body: { message: 'a folder or dashboard in the general folder with the same name already exists' } });

    const saved = await send(sim, 'POST', '/api/dashboards/db', { dashboard: { uid: 'mine', title: 'Mine', panels: [] }, folderUid: folder.body.uid });
    expect(saved).toEqual({ status: 200, body: { status: 'success', slug: 'mine', version: 1, id: expect.any(Number), uid: 'mine', url: '/d/mine/mine', folderUid: folder.body.uid } });
    expect((await get(sim, '/api/dashboards/uid/mine')).body.meta).toMatchObject({ folderTitle: 'Team', version: 1, provisioned: false });
    // Without overwrite: a version other than the stored one, or another dashboard of that title in the folder.
    expect(await send(sim, 'POST', '/api/dashboards/db', { dashboard: { uid: 'mine', title: 'Mine' }, folderUid: folder.body.uid })).toEqual({ status: 412, body: { status: 'version-mismatch', message: 'The dashboard has been changed by someone else' } });
    expect(await send(sim, 'POST', '/api/dashboards/db', { dashboard: { uid: 'twin', title: 'mine' }, folderUid: folder.body.uid })).toEqual({ status: 412, body: { status: 'name-exists', message: 'A dashboard with the same name in the folder already exists' } });
    expect((await send(sim, 'POST', '/api/dashboards/db', { dashboard: { uid: 'mine', title: 'Mine', version: 1 }, folderUid: folder.body.uid })).body.version).toBe(2);
    expect(await send(sim, 'POST', '/api/dashboards/db', { dashboard: { title: ' ' } })).toMatchObject({ status: 400, body: { message: 'Dashboard title cannot be empty' } });
    expect(await send(sim, 'POST', '/api/dashboards/db', { dashboard: { title: 'X' }, folderUid: 'nope' })).toMatchObject({ status: 404, body: { message: 'Folder not found' } });
    expect(await send(sim, 'POST', '/api/dashboards/db', { dashboard: { uid: 'from-file', title: 'From file' }, overwrite: true })).toMatchObject({ status: 400, body: { message: 'Cannot save provisioned dashboard' } });

    expect(await send(sim, 'DELETE', '/api/dashboards/uid/from-file')).toMatchObject({ status: 400, body: { message: 'provisioned dashboard cannot be deleted' } });
    expect(await send(sim, 'DELETE', '/api/dashboards/uid/mine')).toEqual({ status: 200, body: { title: 'Mine', message: 'Dashboard Mine deleted', uid: 'mine' } });
    expect((await get(sim, '/api/dashboards/uid/mine')).status).toBe(404);
  });

  it('Grafana 12 does not serve a dashboard stored in schema v2 at /api/dashboards/uid, naming the API that does', async () => {
    const sim = await startGrafana(new FakeView(), '12.1.0');
    sim.dashboardDatabase.saveDashboard({ title: 'New layout' }, { uid: 'v2dash', folderUid: '', storedVersion: 'v2beta1' });
    expect((await get(sim, '/api/search?type=dash-db')).body.map((h: { uid: string }) => h.uid)).toEqual(['v2dash']);
    expect(await get(sim, '/api/dashboards/uid/v2dash')).toEqual({
      status: 406,
      body: { message: 'dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/v2dash instead' },
    });
  });
});

describe('library panels', () => {
  it('are created in the database, answered by uid and referenced, not inlined, by dashboards', async () => {
    const view = new FakeView();
    view.files.set('/etc/grafana/provisioning/dashboards/p.yaml', 'apiVersion: 1\nproviders:\n- name: p\n  options:\n    path: /d\n');
    view.files.set('/d/lib.json', dashboard('lib', 'With library panel', { panels: [{ id: 1, gridPos: { h: 8, w: 12, x: 0, y: 0 }, libraryPanel: { uid: 'cpu-lib', name: 'CPU' } }] }));
    const sim = await startGrafana(view);
    expect(await get(sim, '/api/library-elements/cpu-lib')).toEqual({ status: 404, body: { message: 'library element could not be found', traceID: '' } });
    const model = { type: 'timeseries', title: 'CPU', description: 'CPU by node', targets: [{ refId: 'A', expr: 'node_load1' }] };
    const created = await post(sim, '/api/library-elements', { uid: 'cpu-lib', name: 'CPU', kind: 1, model });
    expect(created.status).toBe(200);
    const { status, body } = await get(sim, '/api/library-elements/cpu-lib');
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ uid: 'cpu-lib', name: 'CPU', kind: 1, type: 'timeseries', description: 'CPU by node', folderUid: '', model, version: 1, meta: { folderName: 'General', connectedDashboards: 0 } });
    expect((await get(sim, '/api/dashboards/uid/lib')).body.dashboard.panels[0]).toEqual({ id: 1, gridPos: { h: 8, w: 12, x: 0, y: 0 }, libraryPanel: { uid: 'cpu-lib', name: 'CPU' } });
    expect((await post(sim, '/api/library-elements', { uid: 'cpu-lib', name: 'CPU', kind: 1, model })).status).toBe(400);
  });
});

/** A Prometheus that records what Grafana asks and answers one series. */
class RecordingPrometheus {
  readonly seen: URLSearchParams[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString());
      this.seen.push(params);
      res.writeHead(200, { 'content-type': 'application/json' });
      const start = Number(params.get('start') ?? 0);
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'node-exporter' }, values: [[start, '1']] }] } }));
    });
  });
  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('/api/ds/query for a panel', () => {
  let prometheus: RecordingPrometheus;
  let view: FakeView;
  beforeAll(async () => {
    prometheus = new RecordingPrometheus();
    const port = await prometheus.start();
    view = new FakeView();
    view.route = { address: "127.0.0.1", port };
    view.files.set(
      '/etc/grafana/provisioning/datasources/ds.yaml',
      'apiVersion: 1\ndatasources:\n- name: Prometheus\n  uid: prometheus\n  type: prometheus\n  url: http://prometheus:9090\n  isDefault: true\n  jsonData:\n    timeInterval: 30s\n',
    );
  });
  afterAll(() => prometheus.stop());

  const FROM = 1_700_000_100_000; // a multiple of the 15 s step: Grafana aligns start and end to it
  const TO = FROM + 3_600_000;
  const panelQuery = (expr: string, extra: Record<string, unknown> = {}) => ({
    from: String(FROM),
    to: String(TO),
    queries: [{ refId: 'A', datasource: { type: 'prometheus', uid: 'prometheus' }, expr, intervalMs: 15_000, maxDataPoints: 1200, range: true, ...extra }],
  });

  it('replaces the built-in variables and leaves template variables to the frontend', async () => {
    const sim = await startGrafana(view);
    const res = await post(sim, '/api/ds/query', panelQuery('rate(x{cluster="$cluster"}[$__rate_interval]) / $__interval_ms + $__range_s + ${__range_ms} - $__interval + $__range'));
    expect(res.status).toBe(200);
    const sent = prometheus.seen.at(-1)!;
    // step: max(15s intervalMs, 3600s/1200 = 3s rounded, safe 1s) = 15s; rate interval:
    // max(15s + 30s, 4 × 30s) = 2m0s; range 3600 s.
    expect(sent.get('query')).toBe('rate(x{cluster="$cluster"}[2m0s]) / 15000 + 3600 + 3600000 - 15s + 3600s');
    expect([sent.get('step'), sent.get('start'), sent.get('end')]).toEqual(['15', String(FROM / 1000), String(TO / 1000)]);
  });

  it('takes a $__rate_interval min step as the step itself', async () => {
    const sim = await startGrafana(view);
    await post(sim, '/api/ds/query', panelQuery('rate(y[$__rate_interval]) > $__interval', { interval: '$__rate_interval' }));
    const sent = prometheus.seen.at(-1)!;
    // adjusted interval 15s → rate interval max(15s + 30s, 120s) = 120s, also the step; the
    // step as $__interval is gtime's `2m`, the rate interval Go's `2m0s`.
    expect([sent.get('query'), sent.get('step')]).toEqual(['rate(y[2m0s]) > 2m', '120']);
  });

  it.each([
    ['9.5.21', 500, { message: 'Query data error' }],
    ['10.4.14', 404, { message: 'Data source not found', traceID: '' }],
    ['11.5.0', 404, { message: 'Data source not found', traceID: '' }],
    ['12.0.2', 404, { message: 'Data source not found', traceID: '' }],
  ])('Grafana %s refuses a datasource uid it does not have with %i', async (version, status, body) => {
    const sim = await startGrafana(view, version);
    const before = prometheus.seen.length;
    const res = await post(sim, '/api/ds/query', { ...panelQuery('up'), queries: [{ refId: 'A', datasource: { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }, expr: 'up' }] });
    expect([res.status, res.body]).toEqual([status, body]);
    expect(prometheus.seen.length).toBe(before);
  });
});
