/**
 * End to end, the bundled action against the simulated TaskFlow cluster (real Prometheus behind a
 * simulated API server and Grafana): stacks where metrics flow, and the ways they come to flow.
 */
import type { SimulatedCluster } from '../../sim/cluster.js';
import { describe, expect, it } from '@jest/globals';
import { idsWith, junitCase, runScenario } from '../helpers/e2e.js';

describe('metrics flow', () => {
  it('passes on the healthy TaskFlow stack: every check, outputs, summary, banner-free annotations', async () => {
    const run = await runScenario('healthy');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', passed: '14', failed: '0', warnings: '0', skipped: '0', 'failed-checks': '' });
    expect(Object.keys(run.statuses)).toHaveLength(14);
    expect(idsWith(run, 'pass')).toEqual(Object.keys(run.statuses));
    expect(run.summary).toMatch(/^## ✅ Metrics flow Prometheus → Grafana/);
    expect(run.summary).toContain('Grafana\'s test of "Prometheus" passed');
    expect(run.summary).toMatch(/job kubernetes-pods: 3 of 3 targets UP/);
    expect(run.annotations).toEqual([]);
    // Asked once, and little: discovery's reads serve the first attempt, one rules review covers the
    // namespace. The dashboards check asks Grafana's search (one page), each dashboard once and one
    // query per panel; everything else takes 15 requests (one of them the list of grafana-operator's
    // GrafanaDashboard objects, a 404 where its CRD is not installed).
    const asked = run.cluster.api.requestLog.filter((r) => r.user === run.cluster.actionUser);
    const grafana = (path: string) => asked.filter((r) => r.path.includes(`/proxy${path}`));
    const dashboards = (run.report?.checks as { id: string; dashboards?: { panels: unknown[] }[] }[]).find((c) => c.id === 'dashboards')?.dashboards ?? [];
    const panels = dashboards.reduce((n, d) => n + d.panels.length, 0);
    expect(panels).toBeGreaterThan(0);
    expect(grafana('/api/search')).toHaveLength(1);
    expect(grafana('/api/dashboards/uid/')).toHaveLength(dashboards.length);
    // ds/query: one per panel, and grafana-query's own.
    expect(grafana('/api/ds/query')).toHaveLength(panels + 1);
    // And the list of the namespace's ConfigMaps, for the dashboards mounted into Grafana (those it should have).
    expect(asked.filter((r) => r.path === '/api/v1/namespaces/taskflow/configmaps' && r.verb === 'list')).toHaveLength(1);
    expect(asked.filter((r) => r.path.includes('/grafana.integreatly.org/'))).toHaveLength(1);
    expect(asked.length - 1 - dashboards.length - panels - 1).toBeLessThanOrEqual(15);
    const reads = asked.filter((r) => r.method === 'GET').map((r) => `${r.path}?${r.query}`);
    expect(reads.filter((r, i) => reads.indexOf(r) !== i)).toEqual([]);
    expect(asked.filter((r) => r.resource === 'selfsubjectaccessreviews')).toEqual([]);
  }, 90_000);

  it('passes without exec when Grafana lists the datasource it provisioned from the mounted file', async () => {
    const run = await runScenario('token-no-exec');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', warnings: '0', 'failed-checks': '' });
    expect(run.summary).toMatch(/Grafana in pod grafana-\S+ provisioned "Prometheus" from \/etc\/grafana\/provisioning\/datasources\/datasources\.yaml/);
    expect(run.summary).toContain('without get pods/exec in namespace taskflow and create pods/exec in namespace taskflow the datasource file cannot be read in the Grafana container');
    expect(run.annotations).toEqual([]);
  }, 90_000);

  /** The ConfigMap edited after Grafana started (editable no longer true): Grafana's list no longer shows the file's content. */
  const editedAfterStart = (cluster: SimulatedCluster): void => {
    const cm = cluster.api.store.get('ConfigMap', 'taskflow', 'grafana-datasources') as unknown as { data: Record<string, string> };
    cluster.api.store.apply({ ...cm, data: { ...cm.data, 'datasources.yaml': (cm.data['datasources.yaml'] ?? '').replace('editable: true', 'editable: false') } } as never);
  };

  it('warns but passes when the token may not exec and Grafana\'s list does not show the file: the file is checked from the pod spec', async () => {
    const run = await runScenario('token-no-exec', { during: editedAfterStart });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', warnings: '1', 'failed-checks': '' });
    expect(run.statuses['datasource-mounted']).toBe('warn');
    expect(run.annotations).toEqual([expect.objectContaining({ level: 'warning', title: 'datasource-mounted', message: expect.stringContaining('exec') })]);
  }, 90_000);

  it('fails on warnings too with fail-on-warning', async () => {
    const run = await runScenario('token-no-exec', { during: editedAfterStart, inputs: { 'fail-on-warning': 'true' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', passed: '13', failed: '0', warnings: '1', 'failed-checks': '' });
    expect(run.statuses['datasource-mounted']).toBe('warn');
    // The step fails because of the warning, and says so.
    expect(run.annotations.filter((a) => !a.title)).toEqual([expect.objectContaining({ level: 'error', message: 'Metrics do not flow Prometheus → Grafana: warnings (fail-on-warning)' })]);
  }, 90_000);

  it('passes with a DOWN target the workflow allows: listed as allowed, neither failing nor warning', async () => {
    const run = await runScenario('target-down', { inputs: { 'expected-targets': 'backend-api,postgres', 'allow-down-targets': '*:9121', 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', warnings: '0', 'failed-checks': '' });
    expect(run.summary).toContain('job kubernetes-pods: 2 of 2 targets UP (backend-api, postgres); allowed DOWN (allow-down-targets): redis');
    expect(run.summary).toMatch(/\| redis \| 127\.[\d.]+:9121 \| down \(allowed\) \|/);
    // Its dashboard panel is empty for that reason: allowed too, and said so.
    const panels = (run.report?.checks as { id: string; summary: string; dashboards?: { panels: { title: string; status: string; cause?: string }[] }[] }[]).find((c) => c.id === 'dashboards');
    expect(panels?.summary).toMatch(/1 without data as allow-down-targets allows$/);
    expect(panels?.dashboards?.flatMap((d) => d.panels).find((p) => p.title === 'Redis connected clients')).toMatchObject({
      status: 'pass',
      cause: expect.stringMatching(/^no data, as allowed: redis_connected_clients was never ingested: job kubernetes-pods has 1 DOWN target, most likely its exporter: 127\.[\d.]+:9121/),
    });
    // In the JUnit file: no failure and no warning.
    expect(run.diskText).toMatch(/<testsuites [^>]*failures="0"/);
    expect(run.diskText).not.toMatch(/<failure|WARNING:/);
    expect(junitCase(run.diskText, 'metrics-flow-check', 'prometheus-targets')).toMatch(/^<testcase classname="metrics-flow-check" name="prometheus-targets: /);
    expect(run.annotations).toEqual([]);
  }, 90_000);

  it('passes a stack deployed just now once Prometheus has scraped it, within wait', async () => {
    const run = await runScenario('just-deployed', {
      settle: false,
      inputs: { wait: '45s' },
      during: (cluster) => void setTimeout(() => void cluster.startApps(), 4000),
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe('passed');
    // It passed by retrying: the first attempts saw no target yet.
    const targets = (run.report?.checks as { id: string; status: string; attempts: number }[]).find((c) => c.id === 'prometheus-targets');
    expect(targets).toMatchObject({ status: 'pass', attempts: expect.any(Number) });
    expect(targets?.attempts).toBeGreaterThan(1);
  }, 90_000);

  it('fails the same just-deployed stack with wait 0, pointing at the wait input', async () => {
    const run = await runScenario('just-deployed', { settle: false, inputs: { wait: '0' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']?.split(',')).toContain('prometheus-targets');
    const rootCause = run.report?.rootCause as { checkId: string; cause: string; fix: string } | undefined;
    expect(rootCause?.checkId).toBe('prometheus-targets');
    // The summary gives the same cause and its fix, pointing at the wait input.
    expect(run.summary).toContain(`**Root cause** (\`prometheus-targets\`): ${rootCause?.cause}`);
    expect(run.summary).toContain(`**Fix:** ${rootCause?.fix}`);
    expect(rootCause?.cause).toMatch(/^Prometheus started \d+ s ago and has not discovered its targets yet: the first samples are expected within \d+ s/);
    expect(rootCause?.fix).toMatch(/^Raise the wait input/);
  }, 90_000);
});
