/**
 * End to end, the bundled action with only a kubeconfig (and a password where the stack has no
 * readable Secret) against the stacks teams run — kube-prometheus, kube-prometheus-stack, the
 * community charts and TaskFlow — healthy and broken the ways their users hit: each run asserts
 * the verdict, the failed checks, the root cause in the stack's own words, and that no secret
 * appears anywhere (the harness checks the latter for every run, the Grafana password included).
 */
import { describe, expect, it } from '@jest/globals';
import { idsWith, runScenario, type ScenarioRun } from '../helpers/e2e.js';

const rootCause = (run: ScenarioRun) => run.report?.rootCause as { checkId: string; cause: string; fix: string } | undefined;
const stackOf = (run: ScenarioRun) => run.report?.stack as { kind: string; summary: string; evidence: string[] } | undefined;

/**
 * The stack's shipped dashboards ran and none failed: the dashboards check's summary counts what
 * ran, and the JUnit file has a suite per dashboard with test cases and no failure.
 */
function shippedDashboardsHold(run: ScenarioRun): void {
  const check = ((run.report?.checks ?? []) as { id: string; status: string; summary: string; dashboards?: { status: string; panels: unknown[] }[] }[]).find((c) => c.id === 'dashboards');
  expect(check?.summary).toMatch(/^\d+ dashboards?, [1-9]\d* panels?, [1-9]\d* quer(y|ies): /);
  expect(['pass', 'warn']).toContain(check?.status);
  expect((check?.dashboards ?? []).filter((d) => d.status === 'fail')).toEqual([]);
  const xml = /<testsuites[\s\S]*?<\/testsuites>/.exec(run.diskText)?.[0] ?? '';
  expect(xml).toMatch(/<testsuite name="dashboards\/[^"]+" tests="[1-9]/);
  expect(xml).not.toContain('<failure');
}
const TASKFLOW_WORDS = /20-grafana-datasource\.yaml|16-prometheus-rbac\.yaml|-n taskflow|kubernetes-pods/;

describe('healthy stacks pass with zero configuration', () => {
  it('kube-prometheus-stack: Prometheus, Grafana, the sidecar and the admin password are all found', async () => {
    const run = await runScenario('kube-prometheus-stack-healthy', { zeroConfig: true, inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', failed: '0', warnings: '0', stack: 'kube-prometheus-stack' });
    expect(idsWith(run, 'pass')).toHaveLength(14);
    expect(run.summary).toContain(
      '**Found kube-prometheus-stack: Prometheus monitoring/kps-kube-prometheus-stack-prometheus:9090, 1 pod (Prometheus Operator: monitoring/kps-kube-prometheus-stack-prometheus); Grafana monitoring/kps-grafana:80, 1 pod, datasource sidecar grafana_datasource=1**',
    );
    expect(stackOf(run)?.evidence).toContain("Grafana's admin credentials read from Secret monitoring/kps-grafana (admin-user, admin-password)");
    expect(run.summary).toMatch(/\d+ of \d+ targets UP in \d+ scrape pools/);
    // The password came from the Secret: masked as soon as it was read, and never shown.
    expect(run.masked).toEqual(expect.arrayContaining([run.cluster.grafanaPassword]));
    shippedDashboardsHold(run);
  }, 120_000);

  it('kube-prometheus: both Prometheus replicas and the datasource Secret (password given: there is no admin Secret)', async () => {
    const run = await runScenario('kube-prometheus-healthy', { zeroConfig: true, inputs: { 'grafana-password': 'admin', 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', stack: 'kube-prometheus' });
    expect(run.summary).toContain('Prometheus monitoring/prometheus-k8s:9090, 2 pods (Prometheus Operator: monitoring/k8s); Grafana monitoring/grafana:3000, 1 pod, datasource from Secret grafana-datasources');
    expect(run.summary).toMatch(/2 of 2 pods Running and Ready/);
    shippedDashboardsHold(run);
  }, 120_000);

  it('the community prometheus and grafana charts: Services on port 80, the datasource file mounted with subPath', async () => {
    const run = await runScenario('prometheus-grafana-charts-healthy', { zeroConfig: true });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', stack: 'generic' });
    expect(run.summary).toContain('Found generic: Prometheus monitoring/prometheus-server:80, 1 pod; Grafana monitoring/grafana:80, 1 pod, datasource from ConfigMap grafana');
  }, 120_000);

  it('TaskFlow: the seed guide\'s defaults, and the password from the grafana-admin Secret', async () => {
    const run = await runScenario('healthy', { zeroConfig: true });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', stack: 'taskflow' });
    expect(run.summary).toMatch(/job kubernetes-pods: 3 of 3 targets UP/);
    expect(stackOf(run)?.evidence).toContain("Grafana's admin credentials read from Secret taskflow/grafana-admin (admin-password)");
  }, 120_000);

  it("a team's ServiceMonitor selected by kps: its job's targets are UP, named by the target label", async () => {
    const run = await runScenario('kube-prometheus-stack-monitor-selected', { zeroConfig: true });
    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatch(/job backend-api: 1 of 1 target UP \(backend-api\)/);
  }, 120_000);
});

describe('broken stacks fail naming the cause in their own words', () => {
  it('kube-prometheus: the datasource Secret points at the wrong port', async () => {
    const run = await runScenario('kube-prometheus-datasource-wrong-url', { zeroConfig: true, inputs: { 'grafana-password': 'admin' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource');
    expect(rootCause(run)).toMatchObject({ checkId: 'datasource-configmap' });
    expect(rootCause(run)?.cause).toContain('Secret monitoring/grafana-datasources');
    expect(rootCause(run)?.cause).toContain('http://prometheus-k8s.monitoring.svc:9091');
    expect(rootCause(run)?.fix).toContain('values.grafana.datasources');
    expect(`${rootCause(run)?.cause} ${rootCause(run)?.fix}`).not.toMatch(TASKFLOW_WORDS);
  }, 120_000);

  it('kube-prometheus-stack: the datasource ConfigMap lost the sidecar\'s label', async () => {
    const run = await runScenario('kube-prometheus-stack-datasource-unlabelled', { zeroConfig: true });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,datasource-mounted,grafana-datasource');
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource-health', 'grafana-query', 'dashboards']);
    expect(rootCause(run)).toMatchObject({
      checkId: 'datasource-configmap',
      cause: "ConfigMap monitoring/kps-kube-prometheus-stack-grafana-datasource provisions \"Prometheus\" but does not carry the sidecar's label grafana_datasource=1, so the sidecar grafana-sc-datasources does not copy it into Grafana",
    });
    expect(rootCause(run)?.fix).toContain('kubectl label configmap kps-kube-prometheus-stack-grafana-datasource -n monitoring grafana_datasource=1');
    expect(`${rootCause(run)?.cause} ${rootCause(run)?.fix}`).not.toMatch(TASKFLOW_WORDS);
  }, 120_000);

  it('kube-prometheus-stack: a ServiceMonitor without the release label is not selected', async () => {
    const run = await runScenario('kube-prometheus-stack-monitor-not-selected', { zeroConfig: true });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('prometheus-targets,prometheus-query,grafana-query');
    expect(rootCause(run)).toMatchObject({
      checkId: 'prometheus-targets',
      cause: 'ServiceMonitor taskflow/backend-api is not selected by Prometheus monitoring/kps-kube-prometheus-stack-prometheus: it lacks the label release: kps',
    });
    expect(rootCause(run)?.fix).toContain('kubectl label servicemonitor backend-api -n taskflow release=kps');
    expect(rootCause(run)?.fix).toContain('serviceMonitorSelectorNilUsesHelmValues=false');
  }, 120_000);

  it("kube-prometheus: Prometheus's service account has no Role in the monitored namespace", async () => {
    const run = await runScenario('kube-prometheus-prometheus-rbac-missing', { zeroConfig: true, inputs: { 'grafana-password': 'admin' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('prometheus-targets,prometheus-query,grafana-query');
    expect(rootCause(run)?.checkId).toBe('prometheus-targets');
    expect(rootCause(run)?.cause).toMatch(/^ServiceAccount monitoring\/prometheus-k8s may not list or watch endpointslices, services, pods in namespace taskflow/);
    expect(rootCause(run)?.fix).toContain('prometheus-roleSpecificNamespaces');
    expect(run.summary).toContain('Failed to watch');
  }, 120_000);

  it('two Grafanas: fails naming both and the input that pins one; pinned, it passes', async () => {
    const run = await runScenario('kube-prometheus-stack-two-grafanas', { zeroConfig: true });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('grafana-pod,grafana-api,datasource-configmap,datasource-mounted');
    expect(rootCause(run)).toMatchObject({ checkId: 'grafana-pod', cause: 'found 2 Grafanas: monitoring/grafana:80 and monitoring/kps-grafana:80' });
    expect(rootCause(run)?.fix).toContain('grafana-service input');
    const pinned = await runScenario('kube-prometheus-stack-two-grafanas', { zeroConfig: true, inputs: { 'grafana-service': 'monitoring/kps-grafana:80' } });
    expect(pinned.exitCode).toBe(0);
  }, 180_000);

  it('kube-prometheus-stack: a crash-looping Grafana is the root cause; the datasource mount warns from the pod spec, with no remount advice', async () => {
    const run = await runScenario('kube-prometheus-stack-grafana-crashloop', { zeroConfig: true });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('grafana-pod,grafana-api');
    expect(run.statuses['datasource-mounted']).toBe('warn');
    expect(rootCause(run)?.checkId).toBe('grafana-pod');
    expect(rootCause(run)?.cause).toMatch(/^container grafana of pod kps-grafana-\S+ keeps crashing \(CrashLoopBackOff, 6 restarts/);
    expect(run.summary).not.toMatch(/recreate the pod|mounts the volume again/i);
  }, 120_000);
});
