/**
 * The dashboards check against fakes of Grafana's dashboard API and Prometheus's label API: what
 * the user reads (summary, panels, causes, hint) and what was sent to Grafana.
 */
import { describe, expect, it } from '@jest/globals';
import { dashboards } from '../../src/checks/dashboards.js';
import type { EndpointRequest } from '../../src/endpoint.js';
import { attempt, taskflowStack, type Stack } from '../fixtures/context.js';
import { frame, json, promOk, SEED_DATASOURCE, withSession, type Answer } from '../fixtures/endpoints.js';

const UID = SEED_DATASOURCE.uid;

/** Grafana serving these dashboard models; ds/query answers with `answer(expr)` series per query. */
function serveDashboards(stack: Stack, models: Record<string, unknown>[], answer: (expr: string) => number | string, folder?: string): EndpointRequest[] {
  const queries: EndpointRequest[] = [];
  stack.grafana.on(
    'GET',
    '/api/search',
    withSession(json(200, models.map((m, i) => ({ id: i + 1, uid: m.uid, title: m.title, uri: '', url: `/d/${String(m.uid)}/x`, type: 'dash-db', tags: m.tags ?? [], ...(folder ? { folderTitle: folder, folderUid: 'f1' } : {}) })))),
  );
  for (const m of models) stack.grafana.on('GET', `/api/dashboards/uid/${String(m.uid)}`, withSession(json(200, { meta: { provisioned: true, provisionedExternalId: 'k8s.json' }, dashboard: m })));
  stack.grafana.on('POST', '/api/ds/query', (req) => {
    queries.push(req);
    const body = JSON.parse(req.body ?? '{}') as { queries: { refId: string; expr: string }[] };
    const results: Record<string, unknown> = {};
    let failed = false;
    for (const q of body.queries) {
      const a = answer(q.expr);
      if (typeof a === 'string') {
        failed = true;
        results[q.refId] = { error: a, errorSource: 'downstream', status: 400 };
      } else results[q.refId] = { status: 200, frames: Array.from({ length: a }, (_, i) => frame({ __name__: 'up', pod: `p${i}` })) };
    }
    const reply: Answer = json(failed ? 400 : 200, { results });
    return (withSession(reply) as (r: EndpointRequest) => Answer)(req);
  });
  return queries;
}

/** Prometheus's label values: `values[label][matcher]` (matcher as sent in match[]), else none. */
function serveLabels(stack: Stack, values: Record<string, Record<string, string[]>>): void {
  for (const label of ['job', 'cluster', 'namespace', '__name__']) {
    stack.prometheus.on('GET', `/api/v1/label/${label}/values`, (req) => {
      const match = new URLSearchParams(req.path.split('?')[1] ?? '').get('match[]') ?? '';
      return promOk(values[label]?.[match] ?? []);
    });
  }
}

const panel = (id: number, title: string, expr: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'timeseries',
  title,
  datasource: { type: 'prometheus', uid: '${datasource}' },
  targets: [{ refId: 'A', expr, datasource: { type: 'prometheus', uid: '${datasource}' } }],
  gridPos: { w: 12 },
  ...extra,
});

const dsVariable = { name: 'datasource', type: 'datasource', query: 'prometheus', current: { text: 'default', value: 'default' } };

const taskflowDashboard = {
  uid: 'taskflow',
  title: 'TaskFlow',
  schemaVersion: 39,
  time: { from: 'now-1h', to: 'now' },
  templating: { list: [dsVariable, { name: 'job', type: 'custom', query: 'kubernetes-pods', current: { value: 'kubernetes-pods' } }] },
  panels: [
    panel(1, 'Targets up', 'up{job="$job"}'),
    { id: 2, type: 'row', title: 'More', collapsed: true, panels: [panel(3, 'Requests', 'sum(rate(http_requests_total{job="$job"}[$__rate_interval]))')] },
    { id: 4, type: 'text', title: 'Notes' },
  ],
};

describe('dashboards', () => {
  it("passes when every Prometheus panel returns data, sending each as the dashboard does", async () => {
    const stack = await taskflowStack();
    const sent = serveDashboards(stack, [taskflowDashboard], () => 3);
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('1 dashboard, 2 panels, 2 queries: every panel returned data');
    expect(outcome.details).toEqual({ dashboards: 1, panels: 2, queries: 2 });
    expect(outcome.dashboards).toEqual([
      expect.objectContaining({
        uid: 'taskflow',
        status: 'pass',
        named: false,
        source: 'k8s.json',
        panels: [
          { id: 1, title: 'Targets up', status: 'pass', queries: [{ refId: 'A', expr: 'up{job="kubernetes-pods"}', series: 3 }] },
          { id: 3, title: 'Requests', status: 'pass', queries: [{ refId: 'A', expr: 'sum(rate(http_requests_total{job="kubernetes-pods"}[$__rate_interval]))', series: 3 }] },
        ],
      }),
    ]);
    const first = JSON.parse(sent[0]?.body ?? '{}') as { from: string; to: string; queries: Record<string, unknown>[] };
    expect(first).toMatchObject({ from: 'now-1h', to: 'now' });
    // 1 h over 960 points is 3.75 s, rounded to 5 s, raised to the Prometheus datasource's 15 s floor.
    expect(first.queries[0]).toMatchObject({ refId: 'A', datasource: { type: 'prometheus', uid: UID }, range: true, instant: false, maxDataPoints: 960, intervalMs: 15000 });
  });

  it('runs a repeated panel once per value of its variable, as Grafana shows its copies, naming the empty copy', async () => {
    const stack = await taskflowStack();
    const model = {
      ...taskflowDashboard,
      uid: 'nodes',
      title: 'Nodes',
      templating: { list: [dsVariable, { name: 'node', type: 'custom', query: 'node-a,node.b', multi: true, includeAll: true, allValue: '.*', current: { value: ['$__all'] } }] },
      panels: [panel(1, 'Load on $node', 'node_load1{instance=~"$node"}', { repeat: 'node' })],
    };
    const sent = serveDashboards(stack, [model], (expr) => (expr.includes('node\\\\.b') ? 0 : 2));
    serveLabels(stack, {});
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toBe('1 dashboard, 2 panels, 2 queries: 1 without data');
    const exprs = sent.map((r) => (JSON.parse(r.body ?? '{}') as { queries: { expr: string }[] }).queries[0]?.expr).sort();
    // Each copy's value alone, regex-escaped as a multi-value variable's is; not the allValue.
    expect(exprs).toEqual(['node_load1{instance=~"node-a"}', 'node_load1{instance=~"node\\\\.b"}']);
    expect(outcome.dashboards?.[0]?.panels.map((p) => [p.title, p.status])).toEqual([
      ['Load on node-a', 'pass'],
      ['Load on node.b', 'warn'],
    ]);
  });

  it("adds the dashboard's ad-hoc filters of the panel's datasource to every selector, as Grafana's Prometheus datasource does", async () => {
    const stack = await taskflowStack();
    const adhoc = (datasource: unknown, filters: Record<string, unknown>[]) => ({ name: `f${filters.length}`, type: 'adhoc', datasource, filters });
    const model = {
      ...taskflowDashboard,
      uid: 'filtered',
      templating: {
        list: [
          dsVariable,
          adhoc({ type: 'prometheus', uid: '${datasource}' }, [
            { key: 'namespace', operator: '=', value: 'taskflow' },
            { key: 'pod', operator: '=~', value: "backend.*" },
          ]),
          // Another datasource's filters are not applied.
          adhoc({ type: 'prometheus', uid: 'other-uid' }, [{ key: 'cluster', operator: '=', value: 'eu' }]),
        ],
      },
      panels: [panel(1, 'Requests', 'sum(rate(http_requests_total{job="kubernetes-pods", namespace="taskflow"}[$__rate_interval])) / on() group_left count(up)'), panel(2, 'Scalar', 'vector(1)')],
    };
    const sent = serveDashboards(stack, [model], () => 1);
    expect((await attempt(dashboards, stack)).status).toBe('pass');
    const exprs = sent.map((r) => (JSON.parse(r.body ?? '{}') as { queries: { expr: string }[] }).queries[0]?.expr).sort();
    expect(exprs).toEqual([
      // A matcher of the same label and value is not added twice; a selector without matchers gets braces.
      'sum(rate(http_requests_total{job="kubernetes-pods", namespace="taskflow", pod=~"backend.*"}[$__rate_interval])) / on() group_left count(up{namespace="taskflow", pod=~"backend.*"})',
      'vector(1)',
    ]);
  });

  it('runs a panel repeated over a datasource variable once per datasource it selects, each copy on its own', async () => {
    const second = { ...SEED_DATASOURCE, id: 7, uid: 'P2ND', name: 'Prometheus EU', isDefault: false };
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(json(200, [SEED_DATASOURCE, second])));
    const model = {
      ...taskflowDashboard,
      uid: 'regions',
      templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', multi: true, includeAll: true, current: { value: ['$__all'] } }] },
      panels: [panel(1, 'Up in ${datasource:text}', 'up', { repeat: 'datasource' })],
    };
    const sent = serveDashboards(stack, [model], () => 1);
    const outcome = await attempt(dashboards, stack);
    expect(outcome.summary).toBe('1 dashboard, 2 panels, 2 queries: every panel returned data');
    const uids = sent.map((r) => (JSON.parse(r.body ?? '{}') as { queries: { datasource: { uid: string } }[] }).queries[0]?.datasource.uid).sort();
    expect(uids).toEqual(['P2ND', UID]);
    expect(outcome.dashboards?.[0]?.panels.map((p) => p.title).sort()).toEqual([`Up in ${SEED_DATASOURCE.name}`, 'Up in Prometheus EU']);
  });

  it("sends each panel's interval as Grafana's frontend does: the panel's min interval, else its datasource's scrape interval (15 s unless set), none for a mixed panel", async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(json(200, [{ ...SEED_DATASOURCE, jsonData: { timeInterval: '30s' } }])));
    const mixed = { ...panel(3, 'Mixed', 'up'), datasource: { type: 'datasource', uid: '-- Mixed --' }, targets: [{ refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: UID } }] };
    const model = { ...taskflowDashboard, uid: 'intervals', panels: [panel(1, 'Scrape interval', 'up'), panel(2, 'Own min interval', 'up', { interval: '1s' }), mixed] };
    const sent = serveDashboards(stack, [model], () => 1);
    expect((await attempt(dashboards, stack)).status).toBe('pass');
    const intervals = sent.map((r) => (JSON.parse(r.body ?? '{}') as { queries: { intervalMs: number }[] }).queries[0]?.intervalMs);
    expect(intervals.sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([5000, 5000, 30000]);
  });

  it('passes saying so when Grafana has no dashboard, and runs nothing with dashboards: none', async () => {
    const stack = await taskflowStack();
    serveDashboards(stack, [], () => 0);
    expect((await attempt(dashboards, stack)).summary).toBe('Grafana has no dashboard with a Prometheus panel: nothing to run');
    const off = await taskflowStack({ dashboards: 'none' });
    const outcome = await attempt(dashboards, off);
    expect(outcome).toMatchObject({ status: 'pass', summary: 'not run: the dashboards input is none' });
    expect(off.grafana.sent('/api/search')).toHaveLength(0);
  });

  it('fails a panel whose datasource uid Grafana does not have, naming the uid and the datasources it has', async () => {
    const stack = await taskflowStack();
    const imported = { ...taskflowDashboard, uid: 'imported', title: 'Imported', panels: [panel(1, 'Pods', 'up', { datasource: { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }, targets: [{ refId: 'A', expr: 'up' }] })] };
    const sent = serveDashboards(stack, [imported], () => 3);
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('1 dashboard, 1 panel, 0 queries: 1 panel failed');
    expect(outcome.dashboards?.[0]?.panels[0]).toMatchObject({ title: 'Pods', status: 'fail', problem: 'Datasource P1809F7CD0C75ACF3 was not found', kind: 'datasource-not-found', datasource: 'P1809F7CD0C75ACF3' });
    expect(outcome.dashboards?.[0]?.panels[0]?.cause).toContain(`Grafana has "Prometheus" (uid ${UID})`);
    expect(outcome.hint).toContain(`give its panels \${datasource} (a datasource variable) or the uid ${UID}`);
    expect(outcome.reason).toEqual({ code: 'dashboards.failed', failed: 1, empty: 0, missingDatasources: ['P1809F7CD0C75ACF3'], unmatched: [] });
    expect(outcome.retryable).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it("warns on an empty panel with the cause: container_* never ingested comes from the kubelet's cAdvisor", async () => {
    const stack = await taskflowStack();
    const board = { ...taskflowDashboard, uid: 'pods', title: 'Pods', panels: [panel(7, 'CPU', 'sum(rate(container_cpu_usage_seconds_total{namespace="taskflow"}[5m])) by (pod)')] };
    serveDashboards(stack, [board], () => 0);
    serveLabels(stack, {});
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toBe('1 dashboard, 1 panel, 1 query: 1 without data');
    expect(outcome.dashboards?.[0]?.panels[0]).toMatchObject({
      title: 'CPU',
      status: 'warn',
      problem: 'no data',
      kind: 'no-data',
      cause: "container_cpu_usage_seconds_total was never ingested: it comes from the kubelet's cAdvisor (the kubelet job's /metrics/cadvisor endpoint), not the pods; Prometheus has no scrape job for the kubelet's cAdvisor",
    });
    expect(outcome.reason).toEqual({ code: 'dashboards.empty', empty: 1, notRun: 0 });
  });

  it('fails an empty panel of a dashboard the input names, naming the label that selects nothing', async () => {
    const stack = await taskflowStack({ dashboards: 'tag:taskflow' });
    const board = { ...taskflowDashboard, uid: 'pods', title: 'Pods', tags: ['taskflow'], panels: [panel(7, 'Up by cluster', 'up{cluster="prod", job="kubernetes-pods"}')] };
    serveDashboards(stack, [board, { ...taskflowDashboard, uid: 'other', title: 'Other' }], (expr) => (expr.includes('cluster') ? 0 : 3));
    serveLabels(stack, { job: { '{__name__="up"}': ['kubernetes-pods'] } });
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.dashboards?.map((d) => [d.uid, d.named])).toEqual([['pods', true]]);
    expect(outcome.dashboards?.[0]?.panels[0]).toMatchObject({ status: 'fail', problem: 'no data', cause: 'up has no cluster label, but the query asks for cluster="prod"' });
    expect(outcome.hint).toContain('Every panel of a dashboard named in the dashboards input must return data');
    expect(outcome.retryable).toBe(true);
  });

  it('names a label value the series do not have, and a named uid Grafana lacks', async () => {
    const stack = await taskflowStack({ dashboards: 'pods,gone' });
    const board = { ...taskflowDashboard, uid: 'pods', title: 'Pods', panels: [panel(7, 'Up', 'up{job="node-exporter"}')] };
    serveDashboards(stack, [board], () => 0);
    serveLabels(stack, { job: { '{__name__="up"}': ['kubernetes-pods', 'prometheus'] } });
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('1 dashboard, 1 panel, 1 query: 1 panel failed, 1 without data, "gone" matched no dashboard');
    expect(outcome.dashboards?.[0]?.panels[0]?.cause).toBe('no up series has job="node-exporter": its job values are "kubernetes-pods", "prometheus"');
    expect(outcome.hint).toContain('The dashboards input names gone, which Grafana does not have');
  });

  it('fails a panel whose variable has no value, and one whose query errors', async () => {
    const stack = await taskflowStack();
    const board = {
      ...taskflowDashboard,
      templating: { list: [dsVariable, { name: 'cluster', type: 'query', datasource: { uid: '${datasource}' }, query: 'label_values(kube_node_info, cluster)' }] },
      panels: [panel(1, 'Nodes', 'count(kube_node_info{cluster="$cluster"})'), panel(2, 'Broken', 'sum(up')],
    };
    serveDashboards(stack, [board], (expr) => (expr === 'sum(up' ? 'bad_data: 1:7: parse error: unclosed left parenthesis' : 1));
    serveLabels(stack, {});
    const outcome = await attempt(dashboards, stack);
    expect(outcome.status).toBe('fail');
    const [nodes, broken] = outcome.dashboards?.[0]?.panels ?? [];
    expect(nodes).toMatchObject({ status: 'fail', problem: 'variable $cluster cannot be resolved', cause: '$cluster has no value: label_values(kube_node_info, cluster) returned none' });
    expect(broken).toMatchObject({ status: 'fail', problem: 'query A failed: bad_data: 1:7: parse error: unclosed left parenthesis' });
    // The variable's values were asked of Prometheus over the dashboard's range (Grafana here serves no resource API).
    const asked = stack.prometheus.sent('/api/v1/label/cluster/values')[0]?.path ?? '';
    expect(new URLSearchParams(asked.split('?')[1]).get('match[]')).toBe('kube_node_info');
    expect(asked).toMatch(/start=\d+&end=\d+/);
  });
});
