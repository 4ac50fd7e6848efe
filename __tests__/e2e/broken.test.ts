/**
 * End to end, the bundled action against broken TaskFlow stacks: for each, the step fails with
 * the right failed checks, an annotation per failure, and a summary that says what was seen.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ACTION_ACCOUNT } from '../../sim/cluster.js';
import type { KubeObject } from '../../sim/kube/index.js';
import { scenario, type Scenario } from '../../sim/scenarios.js';
import { idsWith, lineOf, runScenario, type ScenarioRun } from '../helpers/e2e.js';

/** The report's root cause: the check it was found for, and the failing fact. */
const rootCause = (run: ScenarioRun) => run.report?.rootCause as { checkId: string; cause: string; fix: string; file?: string; line?: number; evidence?: string[] } | undefined;

/** The summary leads with the root cause: right after the verdict, the count line and the stack found. */
function expectSummaryLedBy(run: ScenarioRun, cause: string): void {
  const lines = run.summary.split('\n');
  expect(lines[0]).toMatch(/^## ❌ Metrics do not flow/);
  expect(lines[4]).toMatch(/^\*\*Found taskflow: /);
  expect(lines[6]).toContain('**Root cause**');
  expect(lines[6]).toContain(cause);
}

const failedAnnotations = (run: Awaited<ReturnType<typeof runScenario>>) =>
  run.annotations.filter((a) => a.level === 'error' && a.title).map((a) => a.title);

describe('broken Grafana side', () => {
  it("the seed guide's original bug: no ConfigMap, no mount, so Grafana has no datasource", async () => {
    const run = await runScenario('seed-bug');
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'datasource-configmap,datasource-mounted,grafana-datasource' });
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource-health', 'grafana-query', 'dashboards']);
    expect(failedAnnotations(run)).toEqual(['datasource-configmap', 'datasource-mounted', 'grafana-datasource']);
    expect(run.summary).toMatch(/^## ❌ Metrics do not flow/);
    expect(run.summary).toContain('ConfigMap taskflow/grafana-datasources does not exist');
    expect(run.summary).toContain('Grafana lists no datasource at all');
    expect(run.summary).toContain('skipped: grafana-datasource failed');
    expect(rootCause(run)).toMatchObject({ checkId: 'datasource-configmap', cause: 'ConfigMap taskflow/grafana-datasources does not exist' });
    expect(rootCause(run)?.fix).toContain('kubectl apply -f 20-grafana-datasource.yaml');
    expectSummaryLedBy(run, 'ConfigMap taskflow/grafana-datasources does not exist');
  }, 90_000);

  it('the ConfigMap exists but Grafana does not mount it: the annotation is on the Deployment\'s volumeMounts', async () => {
    const run = await runScenario('not-mounted', { manifests: true });
    expect(run.outputs['failed-checks']).toBe('datasource-mounted,grafana-datasource');
    expect(run.summary).toContain('does not mount ConfigMap grafana-datasources');
    const file = 'k8s/deployment-grafana.yaml';
    expect(rootCause(run)).toMatchObject({
      checkId: 'datasource-mounted',
      cause: 'Deployment taskflow/grafana does not mount ConfigMap grafana-datasources at /etc/grafana/provisioning/datasources',
      file,
      line: lineOf(run, file, /^\s*volumeMounts:/),
    });
    expect(rootCause(run)?.fix).toContain('mountPath: /etc/grafana/provisioning/datasources');
    expect(run.annotations.find((a) => a.title === 'datasource-mounted')).toMatchObject({ file, line: lineOf(run, file, /^\s*volumeMounts:/) });
    expectSummaryLedBy(run, 'does not mount ConfigMap grafana-datasources');
  }, 90_000);

  it("the datasource URL has the wrong port: the annotation is on the ConfigMap's url line", async () => {
    const run = await runScenario('wrong-datasource-url', { manifests: true });
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource');
    expect(run.summary).toContain('has url http://prometheus.taskflow.svc.cluster.local:9091, expected http://prometheus.taskflow.svc.cluster.local:9090');
    const file = 'k8s/configmap-grafana-datasources.yaml';
    const line = lineOf(run, file, /url: http:\/\/prometheus\.taskflow\.svc\.cluster\.local:9091/);
    expect(rootCause(run)).toMatchObject({
      checkId: 'datasource-configmap',
      cause: 'datasource "Prometheus" in ConfigMap taskflow/grafana-datasources has url http://prometheus.taskflow.svc.cluster.local:9091, not http://prometheus.taskflow.svc.cluster.local:9090',
      file,
      line,
    });
    expect(run.annotations.filter((a) => a.file === file && a.line === line).map((a) => a.title)).toEqual(['datasource-configmap', 'grafana-datasource']);
  }, 90_000);

  it('the URL is accepted on purpose (datasource-url set): Grafana itself cannot reach Prometheus there', async () => {
    const run = await runScenario('wrong-datasource-url', { inputs: { 'datasource-url': 'http://prometheus.taskflow.svc.cluster.local:9091' } });
    expect(run.outputs['failed-checks']).toBe('datasource-configmap,grafana-datasource-health,grafana-query,dashboards');
    expect(run.summary).toContain('exposes 9090');
    expect(run.summary).toMatch(/Grafana's test of "Prometheus" failed \(HTTP 400, ERROR\)/);
    expect(rootCause(run)?.cause).toMatch(/uses port 9091, but Service taskflow\/prometheus exposes only 9090/);
  }, 90_000);

  it('Grafana crash-loops', async () => {
    const run = await runScenario('grafana-crashloop');
    expect(run.exitCode).toBe(1);
    const failed = run.outputs['failed-checks']?.split(',');
    expect(failed).toEqual(['grafana-pod', 'grafana-api']);
    // The chain's first broken link decides: nothing is asked of a Grafana that does not run.
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource', 'grafana-datasource-health', 'grafana-query', 'dashboards']);
    expect(run.summary).toContain('CrashLoopBackOff (7 restarts)');
    expect(run.summary).toContain('no endpoints available for service');
    expect(rootCause(run)).toMatchObject({ checkId: 'grafana-pod' });
    expect(rootCause(run)?.cause).toMatch(/^container grafana of pod grafana-[a-z0-9]+-[a-z0-9]+ keeps crashing \(CrashLoopBackOff, 7 restarts/);
    expect(rootCause(run)?.fix).toContain('--previous');
  }, 90_000);

  it('the Grafana password is wrong: the user name is named, the password never; the fix points at the Secret', async () => {
    const run = await runScenario('wrong-grafana-password', { manifests: true });
    expect(run.outputs['failed-checks']).toBe('grafana-datasource');
    expect(idsWith(run, 'skip')).toEqual(['grafana-datasource-health', 'grafana-query', 'dashboards']);
    expect(run.summary).toContain('Grafana rejected user "admin"');
    expect(run.summary).toContain('Invalid username or password');
    const file = 'k8s/deployment-grafana.yaml';
    expect(rootCause(run)).toMatchObject({
      checkId: 'grafana-datasource',
      cause: 'Grafana rejected user "admin" with the grafana-password (login session) (HTTP 401: Invalid username or password)',
      file,
      line: lineOf(run, file, /name: GF_SECURITY_ADMIN_PASSWORD/),
    });
    expect(rootCause(run)?.fix).toContain('Secret taskflow/grafana-admin key admin-password');
  }, 90_000);
});

describe('broken Prometheus side', () => {
  it("Prometheus's service account may not list pods: no targets, no data", async () => {
    const run = await runScenario('prometheus-rbac-missing', { settle: false });
    expect(run.outputs['failed-checks']).toBe('prometheus-targets,prometheus-query,grafana-query');
    expect(run.summary).toContain('job kubernetes-pods has no active targets');
    expect(run.summary).toContain('16-prometheus-rbac.yaml');
    expect(rootCause(run)).toMatchObject({
      checkId: 'prometheus-targets',
      cause: 'ServiceAccount taskflow/prometheus may not list or watch pods in namespace taskflow, so Prometheus discovers no target',
      object: 'ClusterRoleBinding prometheus',
    });
    expect(rootCause(run)?.evidence?.join('\n')).toMatch(/Failed to watch \*v1\.Pod: failed to list \*v1\.Pod: pods is forbidden/);
  }, 90_000);

  it('one target is DOWN: the summary lists it with its last error', async () => {
    const run = await runScenario('target-down');
    expect(run.outputs['failed-checks']).toBe('prometheus-targets');
    expect(run.summary).toMatch(/no UP target for redis/);
    expect(run.summary).toMatch(/\| redis \| 127\.[\d.]+:9121 \| down \| [^|]*500/);
    expect(run.annotations.find((a) => a.title === 'prometheus-targets')?.message).toContain('redis');
    expect(rootCause(run)?.cause).toMatch(/^The exporter of pod taskflow\/redis-[a-z0-9-]+ answers http:\/\/127\.[\d.]+:9121\/metrics with an error: HTTP 500 Internal Server Error$/);
  }, 90_000);

  it('the Prometheus Service is missing', async () => {
    const run = await runScenario('prometheus-service-missing', { settle: false });
    expect(run.outputs['failed-checks']).toBe('prometheus-service,datasource-configmap,grafana-datasource-health,grafana-query,dashboards');
    expect(idsWith(run, 'skip')).toEqual(['prometheus-api', 'prometheus-targets', 'prometheus-query']);
    expect(run.summary).toMatch(/no Service in namespace taskflow selects the Prometheus pods \(prometheus-[a-z0-9]+-[a-z0-9]+\)/);
    expect(run.summary).toContain('no such host');
    expect(rootCause(run)?.checkId).toBe('prometheus-service');
    expect(rootCause(run)?.cause).toMatch(/^No Service in namespace taskflow selects the Prometheus pod \(prometheus-[a-z0-9]+-[a-z0-9]+\)/);
  }, 90_000);

  it('the Prometheus Service has no ready endpoints: the cause is the pod that is not Ready', async () => {
    const run = await runScenario('prometheus-no-endpoints', { settle: false, manifests: true });
    const failed = run.outputs['failed-checks']?.split(',');
    expect(failed).toEqual(['prometheus-pod', 'prometheus-service', 'grafana-datasource-health', 'grafana-query', 'dashboards']);
    expect(run.summary).toContain('has no ready endpoints (1 not ready)');
    expect(run.summary).toContain('connection refused');
    const file = 'k8s/deployment-prometheus.yaml';
    expect(rootCause(run)).toMatchObject({ checkId: 'prometheus-pod', file, line: lineOf(run, file, /^\s*readinessProbe:/) });
    expect(rootCause(run)?.cause).toMatch(/^Pod taskflow\/prometheus-[a-z0-9-]+ is Running but not Ready: container prometheus fails its readiness probe$/);
  }, 90_000);

  it("the action's token may not read ConfigMaps: cluster-access fails naming the rule, the rest is skipped", async () => {
    const run = await runScenario('token-no-configmaps', { settle: false });
    expect(run.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'cluster-access', skipped: '13' });
    expect(run.summary).toContain('may not get configmaps in namespace taskflow');
    expect(run.summary).toContain('resources: ["configmaps"]');
    expect(rootCause(run)).toMatchObject({ checkId: 'cluster-access' });
    expect(rootCause(run)?.cause).toMatch(/the credentials may not get configmaps in namespace taskflow$/);
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

describe('diagnosis with only the required rights', () => {
  const limited = scenario('diagnosis-without-rights');
  let withoutRights: ScenarioRun;
  let withAllRights: ScenarioRun;
  beforeAll(async () => {
    withoutRights = await runScenario(limited, { settle: false });
    withAllRights = await runScenario(withTheActionsFullRights(limited), { settle: false });
  }, 180_000);

  it('gives the same verdict as the same broken stack checked with every right', () => {
    // The stack is broken on both sides: the verdict names both, whatever the rights.
    expect(withAllRights.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'prometheus-targets,prometheus-query,datasource-mounted,grafana-datasource' });
    expect(verdictOf(withoutRights)).toEqual(verdictOf(withAllRights));
    expect(withoutRights.statuses['cluster-access']).toBe('pass');
  });

  it('says which diagnosis it could not make, and why', () => {
    const notDiagnosed = [
      /Not diagnosed: .*pods\/log is forbidden/,
      /Not diagnosed: could not ask whether ServiceAccount taskflow\/prometheus may list pods: subjectaccessreviews create is forbidden/,
      /Not diagnosed: .*(list deployments|exec) is forbidden/,
    ];
    for (const line of notDiagnosed) {
      expect(withoutRights.summary).toMatch(line);
      // Only the missing rights stop these probes: with every right, they are made.
      expect(withAllRights.summary).not.toMatch(line);
    }
  });
});

/**
 * The same scenario with the action's account given back every rule of its Role and ClusterRole
 * (examples/rbac as shipped): only the action's rights differ, the stack is broken the same way.
 */
function withTheActionsFullRights(base: Scenario): Scenario {
  const isActionRbac = (o: KubeObject) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.metadata.name === ACTION_ACCOUNT;
  return {
    ...base,
    name: `${base.name} (every right)`,
    manifests: (objects) => {
      const broken = base.manifests ? base.manifests(objects) : objects;
      return [...broken.filter((o) => !isActionRbac(o)), ...objects.filter(isActionRbac)];
    },
  };
}

/** What decides the step: its exit code, its outputs (but the report's temporary path) and each check's status. */
function verdictOf(run: ScenarioRun): { exitCode: number; outputs: Record<string, string>; statuses: Record<string, string> } {
  const { report: _path, ...outputs } = run.outputs;
  return { exitCode: run.exitCode, outputs, statuses: run.statuses };
}
