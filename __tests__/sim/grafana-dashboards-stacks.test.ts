/**
 * The example stacks' dashboards on the simulated cluster, as a client of Grafana's API finds and
 * runs them: TaskFlow's provisioned "TaskFlow / Overview" (provider ConfigMap + dashboard
 * ConfigMap mounted), kube-prometheus's dashboards in the "Default" folder of provider "0",
 * kube-prometheus-stack's dashboard written by the grafana-sc-dashboard sidecar and picked up
 * through the reload call; every panel's queries (collapsed rows and library panels included)
 * answered with data by the real Prometheus, except the legitimately empty 5xx panel; and the
 * dashboard scenarios: a metric no exporter has, a datasource uid Grafana lacks, zero errors, a
 * library panel someone created.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import { scenario } from '../../sim/scenarios.js';

type Json = Record<string, any>;

async function api(cluster: SimulatedCluster, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const auth = `Basic ${Buffer.from(`admin:${cluster.grafanaPassword}`).toString('base64')}`;
  const res = await request(`${cluster.grafana!.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

/** The panels that run queries: rows' (collapsed ones keep theirs inside) and library panels' models. */
async function queryPanels(cluster: SimulatedCluster, dashboard: Json): Promise<Json[]> {
  const flat = (dashboard.panels as Json[]).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
  const out: Json[] = [];
  for (const panel of flat) {
    if (panel.libraryPanel) out.push((await api(cluster, `/api/library-elements/${panel.libraryPanel.uid}`)).body.result.model);
    else out.push(panel);
  }
  return out;
}

/** An instant query through Grafana on the default datasource (what `${datasource}` = default means). */
async function instant(cluster: SimulatedCluster, expr: string, datasourceUid?: string): Promise<{ status: number; series: Json[]; body: any }> {
  const uid = datasourceUid ?? cluster.grafana!.datasources.find((d) => d.isDefault)?.uid ?? cluster.grafana!.datasources[0]!.uid;
  const { status, body } = await api(cluster, '/api/ds/query', { from: 'now-5m', to: 'now', queries: [{ refId: 'A', datasource: { type: 'prometheus', uid }, expr, instant: true, range: false }] });
  const frames = (body.results?.A?.frames ?? []) as Json[];
  return { status, series: frames.filter((f) => (f.data?.values?.[0]?.length ?? 0) > 0), body };
}

/** The frontend's part: `label_values(selector, label)` variables take their first value; `${datasource}` the default. */
async function templateValues(cluster: SimulatedCluster, dashboard: Json): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const variable of (dashboard.templating?.list ?? []) as Json[]) {
    const match = /^label_values\((.*),\s*(\w+)\)$/.exec(variable.query ?? '');
    if (variable.type !== 'query' || !match) continue;
    const { series } = await instant(cluster, match[1]!);
    values.set(variable.name, series.map((f) => f.schema.fields[1].labels?.[match[2]!]).find(Boolean) ?? '');
  }
  return values;
}

async function runDashboard(cluster: SimulatedCluster, uid: string): Promise<Record<string, number>> {
  const { body } = await api(cluster, `/api/dashboards/uid/${uid}`);
  const vars = await templateValues(cluster, body.dashboard);
  const counts: Record<string, number> = {};
  for (const panel of await queryPanels(cluster, body.dashboard)) {
    let total = 0;
    for (const target of panel.targets as Json[]) {
      const expr = (target.expr as string).replace(/\$(\w+)/g, (whole, name: string) => (vars.has(name) ? vars.get(name)! : whole));
      const answer = await instant(cluster, expr);
      expect(answer.status).toBe(200);
      total += answer.series.length;
    }
    counts[panel.title] = total;
  }
  return counts;
}

describe('TaskFlow: a dashboard provisioned from ConfigMaps', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ stack: 'taskflow' });
    await cluster.settle();
    await new Promise((r) => setTimeout(r, 2500)); // two more scrapes: rate() needs two samples
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('is listed in its folder, provisioned from its file', async () => {
    const { body: hits } = await api(cluster, '/api/search');
    expect(hits.map((h: Json) => [h.type, h.uid, h.folderUid ?? ''])).toEqual([['dash-folder', 'taskflow', ''], ['dash-db', 'taskflow-overview', 'taskflow']]);
    const { body } = await api(cluster, '/api/dashboards/uid/taskflow-overview');
    expect(body.meta).toMatchObject({ folderTitle: 'TaskFlow', provisioned: true, provisionedExternalId: 'overview/taskflow-overview.json' });
  });

  it('answers every panel with data through Grafana', async () => {
    expect(await runDashboard(cluster, 'taskflow-overview')).toEqual({
      'Pods up': 3,
      'HTTP requests per second': expect.any(Number),
      'Request duration (p95)': 1,
      // One series per status code the backend answers (200, 201, 204, 400, 404).
      'Requests per second by status': 5,
      'PostgreSQL backends': 1,
      'Redis connected clients': 1,
    });
    expect((await runDashboard(cluster, 'taskflow-overview'))['HTTP requests per second']).toBeGreaterThanOrEqual(5);
  });

  it('runs a panel query as a range query over the requested time range', async () => {
    const uid = cluster.grafana!.datasources[0]!.uid;
    const { status, body } = await api(cluster, '/api/ds/query', {
      from: 'now-1m',
      to: 'now',
      queries: [{ refId: 'A', datasource: { type: 'prometheus', uid }, expr: 'sum(rate(http_requests_total[$__rate_interval]))', interval: '1s', maxDataPoints: 1000, range: true }],
    });
    expect(status).toBe(200);
    const frame = body.results.A.frames[0];
    // The 1s min step is the scrape interval $__rate_interval assumes: max(1s interval + 1s, 4 × 1s).
    expect(frame.schema.meta.executedQueryString).toBe('Expr: sum(rate(http_requests_total[4s]))\nStep: 1s');
    expect(frame.data.values[0].length).toBeGreaterThan(1);
  });
});

describe('kube-prometheus: dashboards of provider "0" in folder Default', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ stack: 'kube-prometheus' });
    await cluster.settle();
    await new Promise((r) => setTimeout(r, 2500));
  }, 90_000);
  afterAll(() => cluster?.stop());

  it('lists them in the Default folder, provisioned', async () => {
    const { body: folders } = await api(cluster, '/api/folders');
    expect(folders.map((f: Json) => f.title)).toEqual(['Default']);
    const { body: hits } = await api(cluster, '/api/search?type=dash-db');
    expect(hits.map((h: Json) => [h.uid, h.folderTitle])).toEqual([['mfc-kp-nodes', 'Default'], ['mfc-kp-prometheus', 'Default']]);
    expect((await api(cluster, '/api/dashboards/uid/mfc-kp-nodes')).body.meta).toMatchObject({ provisioned: true, provisionedExternalId: 'nodes/nodes.json' });
  });

  it('answers every panel with data', async () => {
    for (const uid of ['mfc-kp-nodes', 'mfc-kp-prometheus']) {
      const counts = await runDashboard(cluster, uid);
      expect(Object.entries(counts).filter(([, n]) => n === 0)).toEqual([]);
    }
  });
});

describe('kube-prometheus-stack: a dashboard the sidecar writes', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ scenario: scenario('kube-prometheus-stack-dashboard-library-panel') });
    await Promise.all(cluster.grafanas[0]!.sidecars.map((s) => s.ready));
    await cluster.settle();
    await new Promise((r) => setTimeout(r, 2500));
  }, 90_000);
  afterAll(() => cluster?.stop());

  const untilListed = async (uid: string) => {
    for (let i = 0; i < 40; i++) {
      if ((await api(cluster, `/api/dashboards/uid/${uid}`)).status === 200) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('reaches Grafana through /tmp/dashboards and the reload call, in General', async () => {
    await untilListed('mfc-kps-nodes');
    const { body } = await api(cluster, '/api/dashboards/uid/mfc-kps-nodes');
    expect(body.meta).toMatchObject({ folderTitle: 'General', folderUid: '', provisioned: true, provisionedExternalId: 'nodes.json' });
    const pod = cluster.grafanas[0]!.sidecars[0]!.pod;
    expect(cluster.api.store.containerFiles('monitoring', pod, 'grafana').has('/tmp/dashboards/nodes.json')).toBe(true);
  });

  it('answers every panel, those of the collapsed row and the library panel included', async () => {
    await untilListed('kps-node-load');
    const nodes = await runDashboard(cluster, 'mfc-kps-nodes');
    expect(Object.keys(nodes)).toEqual(['CPU Usage', 'Memory Available', 'Disk Space Available', 'Network Received', 'Network Transmitted']);
    expect(Object.entries(nodes).filter(([, n]) => n === 0)).toEqual([]);
    expect(await runDashboard(cluster, 'kps-node-load')).toEqual({ 'Node load': 2 });
  });
});

describe.each([
  ['dashboard-missing-metric', 'taskflow-containers', 'Container CPU', { status: 200, series: 0 }],
  ['dashboard-zero-errors', 'taskflow-errors', '5xx responses per second', { status: 200, series: 0 }],
])('scenario %s', (name, uid, panelTitle, expected) => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ scenario: scenario(name) });
    await cluster.settle();
    await new Promise((r) => setTimeout(r, 2500));
  }, 60_000);
  afterAll(() => cluster?.stop());

  it(`provisions ${uid} beside the overview; its panel "${panelTitle}" has no data while the overview's do`, async () => {
    const { body: hits } = await api(cluster, '/api/search?type=dash-db&folderUIDs=taskflow');
    expect(hits.map((h: Json) => h.uid).sort()).toEqual([uid, 'taskflow-overview'].sort());
    const { body } = await api(cluster, `/api/dashboards/uid/${uid}`);
    const [panel] = await queryPanels(cluster, body.dashboard);
    expect(panel!.title).toBe(panelTitle);
    const answer = await instant(cluster, panel!.targets[0].expr.replace('$__rate_interval', '1m'));
    expect({ status: answer.status, series: answer.series.length }).toEqual(expected);
    expect((await runDashboard(cluster, 'taskflow-overview'))['Pods up']).toBe(3);
  });
});

describe('scenario dashboard-missing-datasource', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ scenario: scenario('dashboard-missing-datasource') });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('provisions a panel naming datasource uid P1809F7CD0C75ACF3, which Grafana answers "Data source not found"', async () => {
    const { body } = await api(cluster, '/api/dashboards/uid/taskflow-imported');
    const target = body.dashboard.panels[0].targets[0];
    expect(target.datasource).toEqual({ type: 'prometheus', uid: 'P1809F7CD0C75ACF3' });
    expect(cluster.grafana!.datasources.map((d) => d.uid)).not.toContain('P1809F7CD0C75ACF3');
    const answer = await instant(cluster, target.expr, target.datasource.uid);
    expect([answer.status, answer.body]).toEqual([404, { message: 'Data source not found', traceID: '' }]);
  });
});
