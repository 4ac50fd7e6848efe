/**
 * End to end, the bundled action against broken TaskFlow stacks: for each, the step fails with
 * the right failed checks, an annotation per failure, and a summary that says what was seen.
 */
import { describe, expect, it } from '@jest/globals';
import { idsWith, runScenario } from '../helpers/e2e.js';

const failedAnnotations = (run: Awaited<ReturnType<typeof runScenario>>) =>
  run.annotations.filter((a) => a.level === 'error' && a.title).map((a) => a.title);

describe('broken Grafana side', () => {
  it("the seed guide's original bug: no ConfigMap, no mount, so Grafana has no datasource", async () => {
    const run = await runScenario('seed-bug');
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'datasource-configmap,datasource-mounted,grafana-datasource' });
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource-health', 'grafana-query']);
    expect(failedAnnotations(run)).toEqual(['datasource-configmap', 'datasource-mounted', 'grafana-datasource']);
    expect(run.summary).toMatch(/^## ❌ Metrics do not flow/);
    expect(run.summary).toContain('ConfigMap taskflow/grafana-datasources does not exist');
    expect(run.summary).toContain('Grafana lists no datasource at all');
    expect(run.summary).toContain('skipped: grafana-datasource failed');
  }, 90_000);

  it('the ConfigMap exists but Grafana does not mount it', async () => {
    const run = await runScenario('not-mounted');
    expect(run.outputs['failed-checks']).toBe('datasource-mounted,grafana-datasource');
    expect(run.summary).toContain('does not mount ConfigMap grafana-datasources');
    expect(run.summary).toContain('mountPath: /etc/grafana/provisioning/datasources');
  }, 90_000);

  it('the datasource URL has the wrong port', async () => {
    const run = await runScenario('wrong-datasource-url');
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource');
    expect(run.summary).toContain('has url http://prometheus.taskflow.svc.cluster.local:9091, expected http://prometheus.taskflow.svc.cluster.local:9090');
  }, 90_000);

  it('the URL is accepted on purpose (datasource-url set): Grafana itself cannot reach Prometheus there', async () => {
    const run = await runScenario('wrong-datasource-url', { inputs: { 'datasource-url': 'http://prometheus.taskflow.svc.cluster.local:9091' } });
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource-health,grafana-query');
    expect(run.summary).toContain('exposes 9090');
    expect(run.summary).toMatch(/Grafana's test of "Prometheus" failed \(HTTP 400, ERROR\)/);
  }, 90_000);

  it('Grafana crash-loops', async () => {
    const run = await runScenario('grafana-crashloop');
    expect(run.exitCode).toBe(1);
    const failed = run.outputs['failed-checks']?.split(',');
    expect(failed).toEqual(expect.arrayContaining(['grafana-pod', 'grafana-api', 'grafana-datasource']));
    expect(failed).not.toContain('prometheus-targets');
    expect(run.summary).toContain('CrashLoopBackOff (7 restarts)');
    expect(run.summary).toContain('no endpoints available for service');
  }, 90_000);

  it('the Grafana password is wrong: the user name is named, the password never', async () => {
    const run = await runScenario('wrong-grafana-password');
    expect(run.outputs['failed-checks']).toBe('grafana-datasource');
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource-health', 'grafana-query']);
    expect(run.summary).toContain('Grafana rejected user "admin"');
    expect(run.summary).toContain('Invalid username or password');
  }, 90_000);
});

describe('broken Prometheus side', () => {
  it("Prometheus's service account may not list pods: no targets, no data", async () => {
    const run = await runScenario('prometheus-rbac-missing', { settle: false });
    expect(run.outputs['failed-checks']).toBe('prometheus-targets,prometheus-query,grafana-query');
    expect(run.summary).toContain('job kubernetes-pods has no active targets');
    expect(run.summary).toContain('16-prometheus-rbac.yaml');
  }, 90_000);

  it('one target is DOWN: the summary lists it with its last error', async () => {
    const run = await runScenario('target-down');
    expect(run.outputs['failed-checks']).toBe('prometheus-targets');
    expect(run.summary).toMatch(/no UP target for redis/);
    expect(run.summary).toMatch(/\| redis \| 127\.[\d.]+:9121 \| down \| [^|]*500/);
    expect(run.annotations.find((a) => a.title === 'prometheus-targets')?.message).toContain('redis');
  }, 90_000);

  it('the Prometheus Service is missing', async () => {
    const run = await runScenario('prometheus-service-missing', { settle: false });
    expect(run.outputs['failed-checks']).toBe('prometheus-service,datasource-configmap,grafana-datasource-health,grafana-query');
    expect(idsWith(run, 'skip')).toEqual(['prometheus-api', 'prometheus-targets', 'prometheus-query']);
    expect(run.summary).toContain('Service taskflow/prometheus does not exist');
    expect(run.summary).toContain('no such host');
  }, 90_000);

  it('the Prometheus Service has no ready endpoints', async () => {
    const run = await runScenario('prometheus-no-endpoints', { settle: false });
    const failed = run.outputs['failed-checks']?.split(',');
    expect(failed).toEqual(['prometheus-pod', 'prometheus-service', 'grafana-datasource-health', 'grafana-query']);
    expect(run.summary).toContain('has no ready endpoints (1 not ready)');
    expect(run.summary).toContain('connection refused');
  }, 90_000);

  it("the action's token may not read ConfigMaps: cluster-access fails naming the rule, the rest is skipped", async () => {
    const run = await runScenario('token-no-configmaps', { settle: false });
    expect(run.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'cluster-access', skipped: '12' });
    expect(run.summary).toContain('may not get configmaps in namespace taskflow');
    expect(run.summary).toContain('resources: ["configmaps"]');
  }, 90_000);
});

describe('bad input', () => {
  it('an unreadable kubeconfig fails the step at once, naming the input', async () => {
    const run = await runScenario('healthy', { settle: false, inputs: { kubeconfig: 'bm90IGEga3ViZWNvbmZpZw==' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBeUndefined();
    expect(run.stdout).toMatch(/::error::Input 'kubeconfig' is invalid/);
    expect(run.ms).toBeLessThan(10_000);
  }, 90_000);
});
