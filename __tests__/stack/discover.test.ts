/**
 * Discovery from a kubeconfig alone: the stack, where Prometheus and Grafana are, how the
 * datasource reaches Grafana, and the defaults that follow — on the fake cluster shaped as
 * TaskFlow, kube-prometheus-stack and kube-prometheus really are.
 */
import { describe, expect, it } from '@jest/globals';
import { parseSettings } from '../../src/settings.js';
import { describeStack } from '../../src/stack/describe.js';
import { discoverStack } from '../../src/stack/discover.js';
import type { Stack } from '../../src/stack/types.js';
import { taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { KPS_PROMETHEUS, kpsCluster, kubePrometheusCluster, MONITORING } from '../fixtures/stacks.js';

const discover = (cluster: FakeCluster, inputs: Record<string, string> = {}): Promise<Stack> => discoverStack(parseSettings((n) => inputs[n]), cluster);

describe('discovery: TaskFlow', () => {
  it("recognises the seed guide's stack and takes its defaults", async () => {
    const stack = await discover(taskflowCluster());
    expect(stack.kind).toBe('taskflow');
    expect(describeStack(stack)).toBe('Found taskflow: Prometheus taskflow/prometheus:9090, 1 pod; Grafana taskflow/grafana:3000, 1 pod, datasource from ConfigMap grafana-datasources');
    expect(stack.expect).toMatchObject({
      scrapeJob: 'kubernetes-pods',
      expectedTargets: ['backend-api', 'postgres', 'redis'],
      datasourceName: 'Prometheus',
      datasourceUrl: 'http://prometheus.taskflow.svc.cluster.local:9090',
      query: 'up{job="kubernetes-pods"}',
    });
    expect(stack.prometheus.ok && stack.prometheus.value.workload).toMatchObject({ namespace: 'taskflow', selector: 'app=prometheus', owner: { kind: 'Deployment', name: 'prometheus' } });
  });

  it('looks for the ConfigMap grafana-datasources when Grafana mounts nothing (the seed bug)', async () => {
    const cluster = taskflowCluster();
    const grafana = cluster.pods.find((p) => p.metadata?.labels?.app === 'grafana')!;
    grafana.spec!.volumes = grafana.spec!.volumes!.filter((v) => v.name !== 'grafana-datasources');
    grafana.spec!.containers[0]!.volumeMounts = grafana.spec!.containers[0]!.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
    const stack = await discover(cluster);
    expect(stack.datasource.ok && stack.datasource.value).toMatchObject({ delivery: 'unmounted', objects: [{ kind: 'ConfigMap', namespace: 'taskflow', name: 'grafana-datasources' }] });
  });

  it('makes no cluster-scope request when the context namespace holds both', async () => {
    const cluster = taskflowCluster();
    await discover(cluster);
    expect(cluster.calls.filter((c) => c.includes('at the cluster scope'))).toEqual([]);
    expect(cluster.calls.filter((c) => c.startsWith('list pods'))).toHaveLength(2);
  });
});

describe('discovery: kube-prometheus-stack', () => {
  it('finds the operator Prometheus, Grafana behind kps-grafana:80 and the datasource sidecar, from the kubeconfig alone', async () => {
    const stack = await discover(kpsCluster());
    expect(stack.kind).toBe('kube-prometheus-stack');
    expect(describeStack(stack)).toBe(
      `Found kube-prometheus-stack: Prometheus monitoring/${KPS_PROMETHEUS}:9090, 1 pod (Prometheus Operator: monitoring/${KPS_PROMETHEUS}); Grafana monitoring/kps-grafana:80, 1 pod, datasource sidecar grafana_datasource=1`,
    );
    expect(stack.expect).toMatchObject({ scrapeJob: '', expectedTargets: [], query: 'up', datasourceUrl: `http://${KPS_PROMETHEUS}.monitoring.svc.cluster.local:9090` });
    expect(stack.expect.datasourceName).toBeUndefined();
    const g = stack.grafana.ok ? stack.grafana.value : undefined;
    expect(g?.sidecar).toMatchObject({ container: 'grafana-sc-datasources', label: 'grafana_datasource', labelValue: '1', namespaces: [MONITORING], resource: 'both' });
    expect(g?.credentials).toEqual({ secret: 'kps-grafana', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(g?.workload.release).toBe('kps');
    expect(stack.datasource.ok && stack.datasource.value.delivery).toBe('sidecar');
  });

  it('prefers the Service with a cluster IP over the headless prometheus-operated', async () => {
    const stack = await discover(kpsCluster());
    expect(stack.prometheus.ok && stack.prometheus.value.service.ok && stack.prometheus.value.service.value.name).toBe(KPS_PROMETHEUS);
  });

  it('notes a cluster-scope list it may not make, and still finds nothing elsewhere', async () => {
    const cluster = kpsCluster();
    cluster.deny('list', 'pods');
    const stack = await discover(cluster);
    expect(stack.prometheus.ok).toBe(false);
    expect(stack.notes.join('\n')).toContain('may not list pods at the cluster scope');
  });

  it('names both Grafanas and the input that pins one when there are two', async () => {
    const cluster = kpsCluster();
    const second = structuredClone(cluster.pods.find((p) => p.metadata?.name?.startsWith('kps-grafana'))!);
    second.metadata!.name = 'grafana-7f6d5c4b3-z9x8c';
    second.metadata!.uid = 'uid-second';
    second.metadata!.labels = { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'grafana', 'pod-template-hash': '7f6d5c4b3' };
    second.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'grafana-7f6d5c4b3', uid: 'rs', controller: true }];
    cluster.pods.push(second);
    cluster.services.push({ metadata: { name: 'grafana', namespace: MONITORING }, spec: { selector: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'grafana' }, ports: [{ name: 'service', port: 80, targetPort: 3000 }] } });
    const stack = await discover(cluster);
    expect(stack.grafana.ok).toBe(false);
    const problem = !stack.grafana.ok ? stack.grafana.problem : undefined;
    expect(problem).toMatchObject({ code: 'ambiguous', candidates: ['monitoring/grafana:80', 'monitoring/kps-grafana:80'] });
    expect(problem?.message).toBe('found 2 Grafanas: monitoring/grafana:80 and monitoring/kps-grafana:80');
    expect(problem?.hint).toContain('grafana-service input');
    const pinned = await discover(cluster, { 'grafana-service': 'monitoring/kps-grafana:80' });
    expect(pinned.grafana.ok && pinned.grafana.value.service.ok && pinned.grafana.value.service.value.name).toBe('kps-grafana');
  });

  it('lets every input win over what is found', async () => {
    const stack = await discover(kpsCluster(), { stack: 'generic', 'scrape-job': 'serviceMonitor/monitoring/kps-grafana/0', 'expected-targets': 'grafana', 'target-label': 'service', query: 'up{job="kps-grafana"}', 'datasource-name': 'Prometheus' });
    expect(stack.kind).toBe('generic');
    expect(stack.forced).toBe(true);
    expect(stack.expect).toMatchObject({ scrapeJob: 'serviceMonitor/monitoring/kps-grafana/0', expectedTargets: ['grafana'], targetLabel: 'service', query: 'up{job="kps-grafana"}', datasourceName: 'Prometheus' });
  });
});

describe('discovery: kube-prometheus', () => {
  it('finds Prometheus/k8s with both replicas, and the datasource Secret mounted in Grafana', async () => {
    const stack = await discover(kubePrometheusCluster());
    expect(stack.kind).toBe('kube-prometheus');
    expect(describeStack(stack)).toBe(
      'Found kube-prometheus: Prometheus monitoring/prometheus-k8s:9090, 2 pods (Prometheus Operator: monitoring/k8s); Grafana monitoring/grafana:3000, 1 pod, datasource from Secret grafana-datasources',
    );
    expect(stack.datasource.ok && stack.datasource.value).toMatchObject({ delivery: 'secret', objects: [{ kind: 'Secret', namespace: MONITORING, name: 'grafana-datasources' }], dir: '/etc/grafana/provisioning/datasources' });
    expect(stack.grafana.ok && stack.grafana.value.credentials).toBeUndefined();
  });

  it('searches every namespace when the context namespace has nothing', async () => {
    const cluster = kubePrometheusCluster();
    await discover(cluster);
    expect(cluster.calls.filter((c) => c === 'list pods at the cluster scope')).toHaveLength(2);
  });

  it('searches only the namespace input when it is given', async () => {
    const cluster = kubePrometheusCluster();
    const stack = await discover(cluster, { namespace: 'observability' });
    expect(stack.prometheus.ok).toBe(false);
    expect(!stack.prometheus.ok && stack.prometheus.problem.message).toBe(
      'no Prometheus pod found: searched pods labelled app.kubernetes.io/name=prometheus or app=prometheus in namespace observability',
    );
    expect(cluster.calls.filter((c) => c.includes('cluster scope'))).toEqual([]);
  });
});
