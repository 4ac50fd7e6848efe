/**
 * End to end, the bundled action against the simulated cluster whose Grafana serves dashboards:
 * a panel on a metric no exporter has (warns, fails when that dashboard is named), a panel naming
 * a datasource uid Grafana lacks (fails), a zero-errors panel (warns). Each scenario runs once the
 * simulator has it.
 */
import { describe, expect, it } from '@jest/globals';
import { SCENARIOS } from '../../sim/scenarios.js';
import { junitCase, lineOf, runScenario, type ScenarioRun } from '../helpers/e2e.js';

interface Panel {
  title: string;
  status: string;
  problem?: string;
  cause?: string;
  queries: { expr: string; series: number }[];
}
interface Dashboard {
  uid: string;
  title: string;
  status: string;
  named: boolean;
  panels: Panel[];
}

const has = (name: string): boolean => SCENARIOS.some((s) => s.name === name);
const when = (name: string) => (has(name) ? it : it.skip);

function dashboardsOf(run: ScenarioRun): Dashboard[] {
  const checks = (run.report?.checks ?? []) as { id: string; dashboards?: Dashboard[] }[];
  return checks.find((c) => c.id === 'dashboards')?.dashboards ?? [];
}

function badPanels(run: ScenarioRun): { dashboard: Dashboard; panel: Panel }[] {
  return dashboardsOf(run).flatMap((dashboard) => dashboard.panels.filter((p) => p.status !== 'pass').map((panel) => ({ dashboard, panel })));
}

describe('dashboards', () => {
  when('dashboard-missing-metric')('warns on a panel whose metric no exporter has, naming it and why; fails when that dashboard is named', async () => {
    const run = await runScenario('dashboard-missing-metric');
    expect(run.exitCode).toBe(0);
    expect(run.statuses.dashboards).toBe('warn');
    const never = badPanels(run).filter(({ panel }) => /was never ingested/.test(panel.cause ?? ''));
    expect(never).toHaveLength(1);
    const [bad] = never;
    expect(bad?.panel).toMatchObject({
      status: 'warn',
      problem: 'no data',
      cause: expect.stringMatching(/^container_\w+ was never ingested: it comes from the kubelet's cAdvisor \(the kubelet job's \/metrics\/cadvisor endpoint\), not the pods/),
    });
    expect(run.summary).toContain(`dashboard "${bad?.dashboard.title}" (\`${bad?.dashboard.uid}\``);
    expect(run.summary).toContain(`| ${bad?.panel.title} |`);
    expect(run.annotations).toEqual([expect.objectContaining({ level: 'warning', title: 'dashboards' })]);

    const named = await runScenario('dashboard-missing-metric', { inputs: { dashboards: bad?.dashboard.uid ?? '', 'junit-path': 'junit.xml' } });
    expect(named.exitCode).toBe(1);
    expect(named.outputs['failed-checks']).toBe('dashboards');
    expect(dashboardsOf(named).map((d) => [d.uid, d.named, d.status])).toEqual([[bad?.dashboard.uid, true, 'fail']]);
    const [failed] = badPanels(named);
    expect(failed?.panel).toMatchObject({ title: bad?.panel.title, status: 'fail', cause: bad?.panel.cause });
    expect(named.annotations).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 'error', title: 'dashboards', message: expect.stringContaining(`Dashboard "${bad?.dashboard.title}" (${bad?.dashboard.uid}): 1 panel failed`) })]),
    );
    // The dashboards check is the root cause once everything before it works.
    expect(named.report?.rootCause).toMatchObject({ checkId: 'dashboards' });
    // In the JUnit file: the panel is a failed test case of its dashboard's suite, the cause in its text.
    const panelCase = junitCase(named.diskText, `dashboards.${bad?.dashboard.uid}`, bad?.panel.title ?? '');
    expect(panelCase).toMatch(/<failure message="no data"/);
    expect(panelCase).toContain("it comes from the kubelet's cAdvisor");
  }, 180_000);

  when('dashboard-missing-datasource')('fails a panel naming a datasource uid Grafana lacks, with the datasources Grafana has', async () => {
    const run = await runScenario('dashboard-missing-datasource', { inputs: { 'junit-path': 'reports/junit.xml' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('dashboards');
    const failed = badPanels(run).filter(({ panel }) => panel.status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    for (const { panel } of failed) {
      expect(panel.problem).toMatch(/^Datasource \S+ was not found$/);
      expect(panel.cause).toContain('Grafana has "Prometheus"');
    }
    const report = (run.report?.checks ?? []) as { id: string; reason?: { code: string; missingDatasources: string[] } }[];
    const reason = report.find((c) => c.id === 'dashboards')?.reason;
    expect(reason?.code).toBe('dashboards.failed');
    expect(failed[0]?.panel.problem).toBe(`Datasource ${reason?.missingDatasources[0]} was not found`);
    expect(run.summary).toContain(`| ${failed[0]?.panel.title} | `);
    expect(run.report?.rootCause).toMatchObject({ checkId: 'dashboards' });
    const panelCase = junitCase(run.diskText, `dashboards.${failed[0]?.dashboard.uid}`, failed[0]?.panel.title ?? '');
    expect(panelCase).toContain(`<failure message="Datasource ${reason?.missingDatasources[0]} was not found"`);
    expect(panelCase).toContain('Grafana has "Prometheus"');
  }, 120_000);

  when('dashboard-not-provisioned')('names a dashboard the stack provisions that Grafana never loaded, and where it comes from', async () => {
    const run = await runScenario('dashboard-not-provisioned', { inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('dashboards');
    const checks = (run.report?.checks ?? []) as { id: string; summary: string; hint?: string }[];
    const check = checks.find((c) => c.id === 'dashboards');
    expect(check?.summary).toMatch(/: 1 provisioned dashboard not in Grafana$/);
    expect(check?.hint).toMatch(/^"TaskFlow \/ Capacity" is provisioned by ConfigMap taskflow\/grafana-dashboard-capacity \(key capacity\.json\) but Grafana does not have it: Grafana's file provider reads it from the mounted ConfigMap/);
    expect(dashboardsOf(run).find((d) => d.uid === 'taskflow-capacity')).toMatchObject({ status: 'fail', panels: [] });
    // The dashboards Grafana has are still run, and pass.
    expect(dashboardsOf(run).find((d) => d.uid === 'taskflow-overview')).toMatchObject({ status: 'pass' });
    expect(run.summary).toContain('TaskFlow / Capacity');
    expect(run.diskText).toMatch(/<failure message="provisioned by ConfigMap taskflow\/grafana-dashboard-capacity \(key capacity\.json\) but Grafana does not have it"/);
  }, 120_000);

  when('dashboard-operator')("names the GrafanaDashboard objects grafana-operator could not apply, with the operator's reason; runs the one it applied", async () => {
    const run = await runScenario('dashboard-operator', { inputs: { 'junit-path': 'junit.xml' }, manifests: true });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('dashboards');
    const checks = (run.report?.checks ?? []) as { id: string; summary: string; hint?: string; dashboards?: (Dashboard & { provisioner?: string; cause?: string; problem?: string })[] }[];
    const check = checks.find((c) => c.id === 'dashboards');
    expect(check?.summary).toMatch(/: 2 provisioned dashboards not in Grafana$/);
    const absent = (check?.dashboards ?? []).filter((d) => d.panels.length === 0 && d.status === 'fail');
    // The model the operator could not read has no known uid; the other one's is its JSON's.
    expect(absent.map((d) => [d.uid, d.title, d.provisioner, d.problem]).sort()).toEqual([
      ['', 'GrafanaDashboard taskflow/taskflow-requests', 'grafana-operator', 'provisioned by GrafanaDashboard taskflow/taskflow-requests but Grafana does not have it'],
      ['taskflow-latency', 'TaskFlow / Latency', 'grafana-operator', 'provisioned by GrafanaDashboard taskflow/taskflow-latency but Grafana does not have it'],
    ]);
    absent.sort((a, b) => (a.uid < b.uid ? -1 : 1));
    expect(absent[0]?.cause).toBe(
      "grafana-operator could not build its model (InvalidSpec, InvalidModelResolution): failed to fetch contents: cannot find key 'request.json' in config map 'taskflow-operator-dashboards' for dashboard taskflow/taskflow-requests",
    );
    expect(absent[1]?.cause).toBe(
      "its instanceSelector dashboards=grafana matches no ready Grafana object (NoMatchingInstance); there is Grafana taskflow/taskflow (labels dashboards=taskflow): make the selector match the Grafana object's labels",
    );
    // The hint leads with the first of them (the objects in name order), its fix in the operator's terms.
    expect(check?.hint).toMatch(/^"TaskFlow \/ Latency" is provisioned by GrafanaDashboard taskflow\/taskflow-latency but Grafana does not have it: its instanceSelector dashboards=grafana matches no ready Grafana object/);
    // The dashboard the operator applied is in Grafana, in its folder, and its panel returns data.
    const pods = dashboardsOf(run).find((d) => d.uid === 'taskflow-pods');
    expect(pods).toMatchObject({ status: 'pass', folder: 'TaskFlow' });
    expect(pods?.panels.map((p) => [p.title, p.status])).toEqual([['Pods up', 'pass']]);
    expect(run.summary).toContain("cannot find key 'request.json' in config map 'taskflow-operator-dashboards'");
    expect(run.annotations).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'error', message: expect.stringContaining('Dashboard "TaskFlow / Latency" (taskflow-latency): provisioned by GrafanaDashboard taskflow/taskflow-latency but Grafana does not have it — its instanceSelector dashboards=grafana') })]));
    // With manifests: each annotation on the GrafanaDashboard object, at the field its cause is about.
    const requests = 'k8s/grafanadashboard-taskflow-requests.yaml';
    const latency = 'k8s/grafanadashboard-taskflow-latency.yaml';
    expect(run.annotations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'error', file: requests, line: lineOf(run, requests, /^\s+key: request\.json$/) }),
        expect.objectContaining({ level: 'error', file: latency, line: lineOf(run, latency, /^\s+instanceSelector:$/) }),
      ]),
    );
    const junit = junitCase(run.diskText, 'dashboards.GrafanaDashboard taskflow/taskflow-requests', 'GrafanaDashboard taskflow/taskflow-requests');
    expect(junit).toContain('<failure message="provisioned by GrafanaDashboard taskflow/taskflow-requests but Grafana does not have it"');
    expect(junit).toContain("cause: grafana-operator could not build its model (InvalidSpec, InvalidModelResolution): failed to fetch contents: cannot find key 'request.json'");
  }, 120_000);

  when('dashboard-schema-v2')('warns on a dashboard Grafana 12 stores in schema v2 (not served by /api/dashboards/uid), failing it when named; the classic ones still run', async () => {
    const run = await runScenario('dashboard-schema-v2', { inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(0);
    expect(run.statuses.dashboards).toBe('warn');
    const checks = (run.report?.checks ?? []) as { id: string; summary: string; hint?: string; reason?: { code: string; schemaV2?: number } }[];
    const check = checks.find((c) => c.id === 'dashboards');
    expect(check?.summary).toMatch(/: 1 dashboard in schema v2 not checked$/);
    expect(check?.reason).toMatchObject({ code: 'dashboards.empty', schemaV2: 1 });
    expect(check?.hint).toContain('"TaskFlow / Pods (v2)" is stored in Grafana 12\'s dashboard schema v2');
    const v2 = dashboardsOf(run).find((d) => d.uid === 'taskflow-pods-v2') as (Dashboard & { problem?: string; cause?: string }) | undefined;
    expect(v2).toMatchObject({
      status: 'warn',
      panels: [],
      problem: 'not checked: Grafana stores it in its dashboard schema v2, which GET /api/dashboards/uid does not serve (HTTP 406)',
      cause: 'Grafana says "dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/taskflow-pods-v2 instead"',
    });
    expect(dashboardsOf(run).find((d) => d.uid === 'taskflow-overview')).toMatchObject({ status: 'pass' });
    expect(junitCase(run.diskText, 'dashboards.taskflow-pods-v2', 'TaskFlow / Pods (v2)')).toMatch(/<system-out>WARNING: not checked: Grafana stores it in its dashboard schema v2/);

    const named = await runScenario('dashboard-schema-v2', { inputs: { dashboards: 'taskflow-pods-v2' } });
    expect(named.exitCode).toBe(1);
    expect(named.outputs['failed-checks']).toBe('dashboards');
    expect(dashboardsOf(named).map((d) => [d.uid, d.status])).toEqual([['taskflow-pods-v2', 'fail']]);
  }, 180_000);

  when('dashboard-zero-errors')('warns on a zero-errors panel, naming the label value no series has', async () => {
    const run = await runScenario('dashboard-zero-errors', { inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(0);
    expect(run.statuses.dashboards).toBe('warn');
    const zero = badPanels(run).filter(({ panel }) => /5\.\./.test(panel.queries[0]?.expr ?? ''));
    expect(zero.length).toBeGreaterThan(0);
    for (const { panel, dashboard } of zero) {
      expect(panel).toMatchObject({ status: 'warn', problem: 'no data', cause: expect.stringMatching(/^no http_requests_total series has status=~"5\.\.": its status values are "200"/) });
      // In the JUnit file: a passing test case carrying the warning and its cause, not a failure.
      const testCase = junitCase(run.diskText, `dashboards.${dashboard.uid}`, panel.title);
      expect(testCase).toMatch(/<system-out>WARNING: no data/);
      expect(testCase).toContain('no http_requests_total series has status=~"5.."');
      expect(testCase).not.toContain('<failure');
    }
  }, 120_000);

  it('never fails on the healthy stack, saying what it ran', async () => {
    const run = await runScenario('healthy');
    expect(run.exitCode).toBe(0);
    expect(['pass', 'warn']).toContain(run.statuses.dashboards);
    const checks = (run.report?.checks ?? []) as { id: string; summary: string; details?: Record<string, number> }[];
    const check = checks.find((c) => c.id === 'dashboards');
    const ran = dashboardsOf(run);
    expect(check?.summary).toMatch(ran.length ? new RegExp(`^${ran.length} dashboards?, ${check?.details?.panels} panels?, ${check?.details?.queries} quer(y|ies): `) : /^Grafana has no dashboard with a Prometheus panel: nothing to run$/);
    expect(badPanels(run).filter(({ panel }) => panel.status === 'fail')).toEqual([]);
  }, 90_000);
});
