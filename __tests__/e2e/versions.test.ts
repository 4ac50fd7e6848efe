/**
 * The version matrix: the healthy stack and the main broken ones on each Grafana release the
 * simulator plays (9.5, 10.4, 11.5, 12.0) and on Kubernetes before and from 1.35 (WebSocket streams
 * authorized as get and create), through the bundled action — same verdicts, same root causes,
 * and the process ends within 2 s of its verdict.
 */
import { describe, expect, it } from '@jest/globals';
import { runScenario, type ScenarioRun } from '../helpers/e2e.js';

const rootCause = (run: ScenarioRun) => run.report?.rootCause as { checkId: string; cause: string } | undefined;
const GRAFANAS = ['9.5.21', '10.4.14', '11.5.0', '12.0.2'];

describe.each(GRAFANAS)('Grafana %s', (grafanaVersion) => {
  it('healthy TaskFlow passes, with zero configuration', async () => {
    const run = await runScenario('healthy', { zeroConfig: true, grafanaVersion });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', passed: '14' });
    expect(run.summary).toContain(`Grafana ${grafanaVersion} answered /api/health`);
    if (grafanaVersion.startsWith('9.')) expect(run.summary).toContain('has no health check for Prometheus datasources; a 1+1 query through Grafana succeeded');
    else expect(run.summary).toContain('Grafana\'s test of "Prometheus" passed');
    expect(run.exitLagMs).toBeLessThan(2000);
  }, 120_000);

  it("the seed bug fails with the same root cause", async () => {
    const run = await runScenario('seed-bug', { zeroConfig: true, grafanaVersion });
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,datasource-mounted,grafana-datasource');
    expect(rootCause(run)).toMatchObject({ checkId: 'datasource-configmap', cause: 'ConfigMap taskflow/grafana-datasources does not exist' });
  }, 120_000);

  it('a wrong password is named, never printed', async () => {
    const run = await runScenario('wrong-grafana-password', { grafanaVersion });
    expect(run.outputs['failed-checks']).toBe('grafana-datasource');
    expect(rootCause(run)?.cause).toMatch(/^Grafana rejected user "admin" with the grafana-password \(login session\)/);
  }, 120_000);

  it('a datasource URL on the wrong port: Grafana itself cannot reach Prometheus there', async () => {
    const run = await runScenario('wrong-datasource-url', { grafanaVersion, inputs: { 'datasource-url': 'http://prometheus.taskflow.svc.cluster.local:9091' } });
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource-health,grafana-query,dashboards');
    expect(rootCause(run)?.cause).toMatch(/uses port 9091, but Service taskflow\/prometheus exposes only 9090/);
  }, 120_000);
});

describe.each(['1.29', '1.32', '1.35'])('Kubernetes %s', (kubeVersion) => {
  it('kube-prometheus-stack passes with only a kubeconfig', async () => {
    const run = await runScenario('kube-prometheus-stack-healthy', { zeroConfig: true, kubeVersion });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['failed-checks']).toBe('');
  }, 120_000);

  it('credentials without configmaps: the missing rule, with the Kubernetes version the API server reports', async () => {
    const run = await runScenario('token-no-configmaps', { kubeVersion });
    expect(run.outputs['failed-checks']).toContain('cluster-access');
    expect(run.summary).toContain(`(Kubernetes v${kubeVersion}.`);
  }, 120_000);

  it('Grafana reached with only a token, through a port-forward: passes and ends within 2 s of the verdict', async () => {
    const run = await runScenario('healthy', { grafanaToken: 'glsa_versionMatrixToken_0a1b2c3d', kubeVersion });
    expect(run.exitCode).toBe(0);
    expect(run.summary).toContain('through a port-forward');
    expect(run.exitLagMs).toBeLessThan(2000);
  }, 120_000);
});
