/**
 * The Grafana probers on the other routes and on what no route explains: kube-prometheus's
 * datasource Secret (missing, unreadable, with a wrong url, not mounted by a pod older than its
 * template), grafana-operator's GrafanaDatasource conditions, a crash-looping Grafana (explained
 * by its crash, never by a remount), and the diagnosis chosen by the reason, whatever the summary.
 */
import { describe, expect, it } from '@jest/globals';
import { datasourceConfigmap } from '../../src/checks/datasource-configmap.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaPod } from '../../src/checks/grafana-pod.js';
import type { Finding } from '../../src/diagnose/types.js';
import type { CheckResult } from '../../src/types.js';
import { DATASOURCE_FILE, GRAFANA_POD, taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { taskflowStack, type Stack } from '../fixtures/context.js';
import { datasourcesAnswer, withSession } from '../fixtures/endpoints.js';
import { KP_DATASOURCES_YAML, KP_GRAFANA_POD, KPS_DATASOURCE, KPS_GRAFANA_POD, MONITORING } from '../fixtures/stacks.js';
import { DEFAULT_CONFLICT_LOG, diagnoseCheck, diagnoseResult, DIR, failedResult, kpsStack, kubePrometheusStack, podOf } from './grafana-fixtures.js';

const KP_RESTART = 'kubectl rollout restart deployment/grafana -n monitoring';
const SECRET = { kind: 'Secret', namespace: MONITORING, name: 'grafana-datasources' } as const;

function grafanaListsNothing(stack: Stack): Stack {
  stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([])));
  return stack;
}

/** Removes the datasources volume and its mount from a pod spec. */
function unmountSecret(spec: NonNullable<ReturnType<typeof podOf>['spec']>): void {
  spec.volumes = spec.volumes!.filter((v) => v.name !== 'grafana-datasources');
  spec.containers[0]!.volumeMounts = spec.containers[0]!.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
}

function expectStackWords(findings: readonly Finding[]): void {
  const text = JSON.stringify(findings);
  expect(text).not.toContain('20-grafana');
  expect(text).not.toContain('-n taskflow');
}

describe('kube-prometheus: the datasource Secret', () => {
  it('a missing Secret: created the way kube-prometheus ships it, then Grafana restarted', async () => {
    const stack = await kubePrometheusStack((c) => c.remove('secret', 'grafana-datasources', MONITORING));
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.result.reason?.code).toBe('provisioning.object-missing');
    expect(d.first.cause).toBe('Secret monitoring/grafana-datasources does not exist');
    expect(d.first.fix).toBe(
      `kube-prometheus provisions the datasource from the Secret grafana-datasources (manifests/grafana-dashboardDatasources.yaml): apply it in monitoring, then restart Grafana (${KP_RESTART}).`,
    );
    expect(d.first.target).toEqual({ object: SECRET, path: [] });
    expectStackWords(d.findings);
  });

  it('a wrong url in the Secret: the edit in kube-prometheus terms, targeting the url line under stringData', async () => {
    const stack = await kubePrometheusStack((c) => {
      c.secrets.find((s) => s.metadata?.name === 'grafana-datasources')!.data = { 'datasources.yaml': Buffer.from(KP_DATASOURCES_YAML.replace('svc:9090', 'svc:9091')).toString('base64') };
    });
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.first.cause).toBe('datasource "prometheus" in Secret monitoring/grafana-datasources has url http://prometheus-k8s.monitoring.svc:9091, not http://prometheus-k8s.monitoring.svc.cluster.local:9090');
    expect(d.first.fix).toContain('in Secret monitoring/grafana-datasources (in jsonnet: values.grafana.datasources');
    expect(d.first.fix).toContain(KP_RESTART);
    expect(d.first.target).toEqual({ object: SECRET, path: ['stringData', 'datasources.yaml'], embedded: ['datasources', 0, 'url'] });
  });

  it('a Secret the credentials may not read is a note: the file in the container stands in for it', async () => {
    const stack = grafanaListsNothing(
      await kubePrometheusStack((c) => {
        c.deny('get', 'secrets');
        c.commands.set('ls', () => ({ exitCode: 0, stdout: 'datasources.yaml\n', stderr: '' }));
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.notes).toEqual([`Secret monitoring/grafana-datasources not read: get secrets is forbidden for the action's credentials; the provisioning file in pod ${KP_GRAFANA_POD} was read instead`]);
    expect(d.first.cause).toBe(`Grafana does not list "prometheus" although pod ${KP_GRAFANA_POD} sees the provisioning file that defines it`);
    expect(d.first.fix).toBe(`Grafana reads provisioning files only at start-up: ${KP_RESTART}.`);
    expect(d.first.evidence![0]).toBe(`pod ${KP_GRAFANA_POD} mounts Secret grafana-datasources at ${DIR}`);
    expect(stack.cluster.execs).toEqual([`${KP_GRAFANA_POD}/grafana: ls -1 ${DIR}`, `${KP_GRAFANA_POD}/grafana: cat ${DIR}/datasources.yaml`]);
  });

  it('a pod older than the template that mounts the Secret: found among the namespace objects, then restart', async () => {
    const stack = grafanaListsNothing(await kubePrometheusStack((c) => unmountSecret(podOf(c, KP_GRAFANA_POD).spec!)));
    expect(stack.found.datasource.ok && stack.found.datasource.value.delivery).toBe('none');
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`pod ${KP_GRAFANA_POD} does not mount Secret grafana-datasources at ${DIR}, although Deployment monitoring/grafana's pod template does`);
    expect(d.first.fix).toBe(`The pod predates the change: ${KP_RESTART} (if no new pod comes up, kubectl rollout status deployment/grafana -n monitoring says why).`);
  });

  it('neither the pod nor its template mounts it: mount it as kube-prometheus does', async () => {
    const stack = grafanaListsNothing(
      await kubePrometheusStack((c) => {
        unmountSecret(podOf(c, KP_GRAFANA_POD).spec!);
        unmountSecret(c.deployments.find((x) => x.metadata?.namespace === MONITORING)!.spec!.template.spec!);
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Secret monitoring/grafana-datasources holds a datasource provisioning file ("prometheus"), but pod ${KP_GRAFANA_POD} mounts nothing at ${DIR}`);
    expect(d.first.fix).toContain('manifests/grafana-deployment.yaml, volume grafana-datasources');
    expect(d.first.target).toEqual({ object: { kind: 'Deployment', namespace: MONITORING, name: 'grafana' }, path: ['spec', 'template', 'spec', 'volumes'] });
  });
});

describe('grafana-operator: the GrafanaDatasource conditions', () => {
  it('quotes the failing DatasourceSynchronized condition of the object that defines the datasource', async () => {
    const message = 'Datasource failed to be applied for 1 out of 1 instances. Errors:\n- monitoring/grafana: creating datasource: [POST /datasources][409] addDataSourceConflict {"message":"data source with the same name already exists"}';
    const stack = grafanaListsNothing(
      await kubePrometheusStack((c) => {
        unmountSecret(podOf(c, KP_GRAFANA_POD).spec!);
        unmountSecret(c.deployments.find((x) => x.metadata?.namespace === MONITORING)!.spec!.template.spec!);
        c.remove('secret', 'grafana-datasources', MONITORING);
        c.customs.set('grafana.integreatly.org/grafanadatasources', [
          {
            apiVersion: 'grafana.integreatly.org/v1beta1',
            kind: 'GrafanaDatasource',
            metadata: { name: 'prometheus', namespace: MONITORING },
            spec: { instanceSelector: { matchLabels: { dashboards: 'grafana' } }, datasource: { name: 'prom1', type: 'prometheus', access: 'proxy', url: 'http://prometheus-k8s.monitoring.svc:9090' } },
            status: { conditions: [{ type: 'DatasourceSynchronized', status: 'False', reason: 'ApplyFailed', message, observedGeneration: 1, lastTransitionTime: '2025-03-14T09:27:10Z' }] },
          },
        ]);
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`GrafanaDatasource monitoring/prometheus (datasource "prom1") is not applied to Grafana: condition DatasourceSynchronized=False (ApplyFailed): ${message}`);
    expect(d.first.target).toEqual({ object: { kind: 'GrafanaDatasource', namespace: MONITORING, name: 'prometheus' }, path: ['spec', 'datasource'] });
  });
});

/** The Grafana container of a pod crash-looping, as the kubelet reports it. */
function crashGrafana(cluster: FakeCluster, podName: string, restarts: number): void {
  const pod = podOf(cluster, podName);
  const status = pod.status!.containerStatuses!.find((c) => c.name === 'grafana')!;
  Object.assign(status, {
    ready: false,
    started: false,
    restartCount: restarts,
    state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=grafana pod=${podName}` } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: new Date('2025-03-14T09:26:55Z'), finishedAt: new Date('2025-03-14T09:26:56Z') } },
  });
  for (const c of pod.status!.conditions ?? []) if (c.type === 'Ready' || c.type === 'ContainersReady') c.status = 'False';
}

const REMOUNT = /kubelet mounts|Recreate the pod|volumeMount/;

describe('a crash-looping Grafana is explained by its crash, never by a remount', () => {
  it('TaskFlow: the file missing in a crash-looping container gives the provisioning error Grafana exits on', async () => {
    const cluster = taskflowCluster().setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 5 }).setFile(GRAFANA_POD, DATASOURCE_FILE, undefined);
    cluster.logs.set(`${GRAFANA_POD}/grafana/previous`, DEFAULT_CONFLICT_LOG);
    const stack = await taskflowStack({}, cluster);
    const expected = `container grafana of pod ${GRAFANA_POD} exits at start-up: Grafana failed to provision its datasources: Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default`;
    const pod = await diagnoseCheck(grafanaPod, stack);
    expect(pod.first.cause).toBe(expected);
    const mounted = await diagnoseResult(failedResult('datasource-mounted', 'any words', { code: 'mount.file-missing', path: DATASOURCE_FILE, pod: GRAFANA_POD }), stack);
    const listed = await diagnoseResult(failedResult('grafana-datasource', 'any words', { code: 'datasource.not-listed', wanted: 'Prometheus', listed: [] }), stack);
    expect(mounted.first.cause).toBe(expected);
    expect(listed.first.cause).toBe(expected);
    for (const d of [pod, mounted, listed]) expect(JSON.stringify(d.findings)).not.toMatch(REMOUNT);
    expect(stack.cluster.execs).toEqual([]);
  });

  it('kube-prometheus-stack: the sidecar route stops at the crash too', async () => {
    const stack = await kpsStack((c) => {
      crashGrafana(c, KPS_GRAFANA_POD, 3);
      c.setFile(KPS_GRAFANA_POD, '/etc/grafana/provisioning/datasources/datasource.yaml', undefined);
      c.logs.set(`${KPS_GRAFANA_POD}/grafana/previous`, 'logger=settings t=2025-03-14T09:26:55.101Z level=info msg="Starting Grafana" version=12.3.1\nError: ✗ failed to connect to database: open /var/lib/grafana/grafana.db: permission denied');
    });
    const d = await diagnoseResult(failedResult('datasource-mounted', 'any words', { code: 'mount.file-missing', path: '/etc/grafana/provisioning/datasources/datasource.yaml', pod: KPS_GRAFANA_POD }), stack);
    expect(d.first.cause).toBe(
      `container grafana of pod ${KPS_GRAFANA_POD} keeps crashing (CrashLoopBackOff, 3 restarts, last exit code 1); its last run ended with: Error: ✗ failed to connect to database: open /var/lib/grafana/grafana.db: permission denied`,
    );
    expect(d.first.fix).toContain('let the Deployment kps-grafana roll out again');
    expect(JSON.stringify(d.findings)).not.toMatch(REMOUNT);
  });
});

/** The same result with another summary (and hint). */
function reworded(result: CheckResult): CheckResult {
  return { ...result, summary: 'something else entirely: HTTP 401 — Grafana rejected user "admin" has url has type none named no longer lists', hint: 'reworded' };
}

describe('the diagnosis follows the reason, not the summary', () => {
  it('a reworded summary gives the same findings (TaskFlow: a missing ConfigMap)', async () => {
    const cluster = taskflowCluster().remove('configmap', 'grafana-datasources');
    const stack = grafanaListsNothing(await taskflowStack({}, cluster));
    const original = await diagnoseCheck(grafanaDatasource, stack);
    const again = await diagnoseResult(reworded(original.result), stack);
    expect(original.first.cause).toBe('ConfigMap taskflow/grafana-datasources does not exist');
    expect(again.findings).toEqual(original.findings);
  });

  it('a reworded summary gives the same findings (kube-prometheus-stack: the unlabelled ConfigMap)', async () => {
    const stack = await kpsStack((c) => {
      delete c.configMaps.find((m) => m.metadata?.name === KPS_DATASOURCE)!.metadata!.labels!.grafana_datasource;
    });
    const original = await diagnoseCheck(datasourceConfigmap, stack);
    const again = await diagnoseResult(reworded(original.result), stack);
    expect(again.findings).toEqual(original.findings);
    expect(again.first.fix).toContain(`kubectl label configmap ${KPS_DATASOURCE} -n monitoring grafana_datasource=1`);
  });

  it('the reason decides: an auth reason with any summary is a credentials finding, an auth-like summary without it is not', async () => {
    const stack = await taskflowStack();
    const auth = await diagnoseResult(failedResult('grafana-datasource-health', 'the test failed', { code: 'grafana.auth', status: 403, message: 'Permission denied' }), stack);
    expect(auth.first.cause).toBe('Grafana accepted user "admin" with the grafana-password (login session) but refused the request (HTTP 403: Permission denied)');
    const other = await diagnoseResult(failedResult('grafana-datasource-health', 'Grafana GET /api/datasources: HTTP 401 — Grafana rejected user "admin"', { code: 'datasource.vanished', name: 'Prometheus' }), stack);
    expect(other.findings).toEqual([]);
  });
});
