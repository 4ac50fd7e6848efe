/**
 * Diagnosis of prometheus-targets on a Prometheus run by the Prometheus Operator
 * (kube-prometheus-stack, release kps): monitors not selected, a port given by number, a
 * selector matching no Service, Prometheus's ServiceAccount refused in a namespace, and the reads
 * the credentials may not make.
 */
import { describe, expect, it } from '@jest/globals';
import { diagnosable, diagnose } from '../../src/diagnose/index.js';
import { PROMETHEUS_PROBERS } from '../../src/diagnose/prometheus.js';
import {
  forbiddenLog,
  KPS_NS,
  KPS_PROMETHEUS,
  KPS_SA,
  kpsCluster,
  kpsStack,
  monitor,
  MONITORING,
  monitorTarget,
  NODE_EXPORTER_TARGET,
  podMonitor,
  probe,
  prometheusSpec,
} from './prometheus-fixtures.js';

const PROMETHEUS = `Prometheus ${KPS_NS}/${KPS_PROMETHEUS}`;
const HELM = 'helm upgrade kps prometheus-community/kube-prometheus-stack -n monitoring --reuse-values';

describe('operator: a ServiceMonitor the Prometheus does not select', () => {
  it('says the monitor lacks release: kps, with the chart’s fix (label or Helm value)', async () => {
    const stack = await kpsStack({ 'scrape-job': 'shop' });
    const { findings, notes, result } = await probe(stack, 'prometheus-targets');
    expect(result.reason).toEqual({ code: 'targets.none', job: 'shop', pools: ['serviceMonitor/monitoring/kps-prometheus-node-exporter/0'] });
    expect(notes).toEqual([]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toEqual({
      cause: `ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks the label release: kps`,
      fix:
        'The release\'s Prometheus selects only monitors labelled release: kps: give ServiceMonitor apps/shop the label release: kps (kubectl label servicemonitor shop -n apps release=kps), ' +
        `or select every monitor: ${HELM} --set prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues=false.`,
      evidence: ['serviceMonitorSelector: release=kps', 'ServiceMonitor apps/shop labels: app=shop'],
      target: { object: { kind: 'ServiceMonitor', namespace: 'apps', name: 'shop' }, path: ['metadata', 'labels'] },
    });
  });

  it('finds the same monitor from its scrape pool', async () => {
    const stack = await kpsStack({ 'scrape-job': 'serviceMonitor/apps/shop/0' });
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([`ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks the label release: kps`]);
  });

  it('gives the same finding for a reworded summary with the same reason', async () => {
    const stack = await kpsStack({ 'scrape-job': 'shop' });
    const first = await probe(stack, 'prometheus-targets');
    const reworded = { ...first.result, summary: 'Prometheus hat keine Ziele für shop', hint: '' };
    const again = await probe(stack, 'prometheus-targets', undefined, reworded);
    expect(again.findings).toEqual(first.findings);
    expect(again.findings).toHaveLength(1);
    // The reason decides: without it, nothing is probed.
    const { reason: _reason, ...bare } = first.result;
    expect((await probe(stack, 'prometheus-targets', undefined, bare)).findings).toEqual([]);
  });

  it('says nothing of a selected monitor whose targets are UP', async () => {
    const stack = await kpsStack({ 'scrape-job': 'node-exporter' });
    const { findings, result } = await probe(stack, 'prometheus-targets');
    expect(result.status).toBe('pass');
    expect(findings).toEqual([]);
  });

  it('follows an expected job value to its monitor (target-label job)', async () => {
    const stack = await kpsStack({ 'expected-targets': 'node-exporter,shop', 'target-label': 'job' });
    const { findings, result } = await probe(stack, 'prometheus-targets');
    expect(result.reason).toEqual({ code: 'targets.expected-missing', job: '', missing: ['shop'], label: 'job' });
    expect(findings.map((f) => f.cause)).toEqual([`ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks the label release: kps`]);
  });

  it('says which matchExpressions requirement the monitor fails', async () => {
    const cluster = kpsCluster();
    prometheusSpec(cluster).serviceMonitorSelector = { matchExpressions: [{ key: 'team', operator: 'In', values: ['shop', 'cart'] }] };
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'shop' }, cluster), 'prometheus-targets');
    expect(findings[0]!.cause).toBe(`ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks a label team in (shop, cart)`);
    expect(findings[0]!.fix).toBe(
      `Give ServiceMonitor apps/shop the label team: shop (kubectl label servicemonitor shop -n apps team=shop), or change prometheus.prometheusSpec.serviceMonitorSelector in the release's values (${HELM} -f values.yaml).`,
    );
  });

  it('says a missing serviceMonitorSelector selects no ServiceMonitor', async () => {
    const cluster = kpsCluster();
    delete prometheusSpec(cluster).serviceMonitorSelector;
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'shop' }, cluster), 'prometheus-targets');
    expect(findings[0]).toMatchObject({
      cause: `ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: its serviceMonitorSelector is not set, and a missing selector selects no ServiceMonitor`,
      target: { object: { kind: 'Prometheus', namespace: KPS_NS, name: KPS_PROMETHEUS }, path: ['spec'] },
    });
  });

  it('says a nil serviceMonitorNamespaceSelector keeps the Prometheus to its own namespace', async () => {
    const cluster = kpsCluster();
    monitor(cluster, 'apps', 'shop').metadata.labels.release = 'kps';
    delete prometheusSpec(cluster).serviceMonitorNamespaceSelector;
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'shop' }, cluster), 'prometheus-targets');
    expect(findings[0]!.cause).toBe(
      `ServiceMonitor apps/shop is in namespace apps, but ${PROMETHEUS} selects ServiceMonitors only in its own namespace monitoring (its serviceMonitorNamespaceSelector is not set)`,
    );
  });

  it('reads the namespace’s labels for a namespace selector, and says which one is missing', async () => {
    const cluster = kpsCluster();
    monitor(cluster, 'apps', 'shop').metadata.labels.release = 'kps';
    prometheusSpec(cluster).serviceMonitorNamespaceSelector = { matchLabels: { monitoring: 'enabled' } };
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'shop' }, cluster), 'prometheus-targets');
    expect(findings[0]).toMatchObject({
      cause: `Namespace apps of ServiceMonitor apps/shop is not selected by the serviceMonitorNamespaceSelector of ${PROMETHEUS}: it lacks the label monitoring: enabled`,
      fix: `Label the namespace (kubectl label namespace apps monitoring=enabled), or widen spec.serviceMonitorNamespaceSelector of ${PROMETHEUS}`,
      evidence: ['serviceMonitorNamespaceSelector: monitoring=enabled', 'namespace apps labels: kubernetes.io/metadata.name=apps, team=shop'],
    });
  });

  it('notes a namespace it may not read, and keeps the verdict', async () => {
    const cluster = kpsCluster();
    monitor(cluster, 'apps', 'shop').metadata.labels.release = 'kps';
    prometheusSpec(cluster).serviceMonitorNamespaceSelector = { matchLabels: { monitoring: 'enabled' } };
    const stack = await kpsStack({ 'scrape-job': 'shop' }, cluster);
    cluster.deny('get', 'namespaces');
    const { notes, result } = await probe(stack, 'prometheus-targets');
    expect(result.status).toBe('fail');
    expect(notes).toContain('the labels of namespace apps not read: get namespaces is forbidden');
    expect(notes).toContain(`whether ${PROMETHEUS} selects namespace apps (its serviceMonitorNamespaceSelector monitoring=enabled) not checked`);
  });
});

describe('operator: a selected ServiceMonitor that discovers nothing', () => {
  it('says the endpoint’s port is a number where the Service port’s name is needed', async () => {
    const stack = await kpsStack({ 'scrape-job': 'cart' });
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(notes).toEqual([]);
    expect(findings).toEqual([
      {
        cause: 'endpoints[0] of ServiceMonitor apps/cart has port: "8080", a number: a ServiceMonitor names the Service port by its name, so no port of Service apps/cart matches',
        fix: 'Set endpoints[0].port of ServiceMonitor apps/cart to http (the name of port 8080)',
        evidence: ['Service apps/cart ports: http:8080'],
        target: { object: { kind: 'ServiceMonitor', namespace: 'apps', name: 'cart' }, path: ['spec', 'endpoints', 0, 'port'] },
      },
    ]);
  });

  it('says the endpoint names a port the Service does not have', async () => {
    const cluster = kpsCluster();
    monitor(cluster, 'apps', 'cart').spec.endpoints = [{ port: 'metrics' }];
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'cart' }, cluster), 'prometheus-targets');
    expect(findings.map((f) => [f.cause, f.fix])).toEqual([
      ['endpoints[0] of ServiceMonitor apps/cart names port metrics, which Service apps/cart does not have', 'Set endpoints[0].port of ServiceMonitor apps/cart to http'],
    ]);
  });

  it('says the monitor’s selector matches no Service, listing the Services there', async () => {
    const cluster = kpsCluster();
    monitor(cluster, 'billing', 'billing').spec.selector = { matchLabels: { app: 'billing-api' } };
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'serviceMonitor/billing/billing/0' }, cluster), 'prometheus-targets');
    expect(findings).toEqual([
      {
        cause: 'ServiceMonitor billing/billing selects no Service: none in namespace billing carries app=billing-api',
        fix: 'Make spec.selector of ServiceMonitor billing/billing match the labels of the Service in front of the exporter, or label that Service (kubectl get svc -n billing --show-labels)',
        evidence: ['selector: app=billing-api', 'Service billing/billing labels: app=billing'],
        target: { object: { kind: 'ServiceMonitor', namespace: 'billing', name: 'billing' }, path: ['spec', 'selector'] },
      },
    ]);
  });
});

describe('operator: PodMonitors', () => {
  function withPodMonitor(labels: Record<string, string>, port: string) {
    const cluster = kpsCluster();
    cluster.customs.set(`${MONITORING}/podmonitors`, [podMonitor('apps', 'cart-pods', labels, { selector: { matchLabels: { app: 'cart' } }, podMetricsEndpoints: [{ port }] })]);
    return cluster;
  }

  it('says a PodMonitor lacks the label the podMonitorSelector requires', async () => {
    const stack = await kpsStack({ 'scrape-job': 'podMonitor/apps/cart-pods/0' }, withPodMonitor({ app: 'cart' }, 'http'));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([`PodMonitor apps/cart-pods is not selected by ${PROMETHEUS}: it lacks the label release: kps`]);
    expect(findings[0]!.fix).toContain('kubectl label podmonitor cart-pods -n apps release=kps');
    expect(findings[0]!.fix).toContain('podMonitorSelectorNilUsesHelmValues=false');
  });

  it('says its port names no container port of the pods it selects', async () => {
    const stack = await kpsStack({ 'scrape-job': 'apps/cart-pods' }, withPodMonitor({ app: 'cart', release: 'kps' }, 'metrics'));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toEqual([
      {
        cause: 'podMetricsEndpoints[0] of PodMonitor apps/cart-pods names port "metrics", which no container of the 1 pod it selects declares (they declare http:8080)',
        fix: 'Set podMetricsEndpoints[0].port of PodMonitor apps/cart-pods to the name of the container port the exporter listens on (one of http:8080)',
        target: { object: { kind: 'PodMonitor', namespace: 'apps', name: 'cart-pods' }, path: ['spec', 'podMetricsEndpoints', 0, 'port'] },
      },
    ]);
  });
});

describe('operator: Prometheus may not discover in the monitor’s namespace', () => {
  const REFUSAL = 'Failed to watch *v1.Endpoints: failed to list *v1.Endpoints: endpoints is forbidden';

  function refused() {
    const cluster = kpsCluster().denyUserIn(KPS_SA, 'list', 'endpoints', 'billing');
    cluster.logs.set(`prometheus-${KPS_PROMETHEUS}-0/prometheus`, forbiddenLog('billing', KPS_SA, 'endpoints', 'Endpoints') + forbiddenLog('apps', KPS_SA, 'pods', 'Pod'));
    return cluster;
  }

  it('asks a SubjectAccessReview, quotes the "Failed to watch *v1.Endpoints" line, and words the chart’s fix', async () => {
    const { findings, notes } = await probe(await kpsStack({ 'scrape-job': 'billing' }, refused()), 'prometheus-targets');
    expect(notes).toEqual([]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.cause).toBe(`ServiceAccount monitoring/${KPS_PROMETHEUS} may not list endpoints in namespace billing, so Prometheus discovers no target of ServiceMonitor billing/billing`);
    expect(f!.fix).toContain(`Let ${KPS_PROMETHEUS} get, list and watch services, endpoints, endpointslices and pods in billing`);
    expect(f!.target).toEqual({ object: { kind: 'ClusterRole', name: KPS_PROMETHEUS }, path: ['rules'] });
    expect(f!.evidence!.filter((l) => l.includes(REFUSAL))).toHaveLength(1);
    // Only the refusals about billing are quoted.
    expect(f!.evidence!.some((l) => l.includes('"apps'))).toBe(false);
    expect(f!.evidence).toContain(`SubjectAccessReview: ${KPS_SA} may not list endpoints in namespace billing`);
  });

  it('words kube-prometheus’s fix: a Role in the namespace (prometheus-roleSpecificNamespaces)', async () => {
    const { findings } = await probe(await kpsStack({ 'scrape-job': 'billing', stack: 'kube-prometheus' }, refused()), 'prometheus-targets');
    expect(findings[0]!.fix).toContain('manifests/prometheus-roleSpecificNamespaces.yaml');
    expect(findings[0]!.fix).toContain("values.prometheus.namespaces += ['billing']");
    expect(findings[0]!.fix).not.toContain('16-prometheus-rbac.yaml');
    expect(findings[0]!.target).toBeUndefined();
  });

  it('reads the refusal from the log when access reviews are refused', async () => {
    const cluster = refused().deny('create', 'subjectaccessreviews');
    const { findings, notes } = await probe(await kpsStack({ 'scrape-job': 'billing' }, cluster), 'prometheus-targets');
    expect(notes).toEqual([
      `could not ask whether ServiceAccount monitoring/${KPS_PROMETHEUS} may list endpoints: subjectaccessreviews create is forbidden for the action's credentials`,
    ]);
    expect(findings.map((f) => f.cause)).toEqual([
      `ServiceAccount monitoring/${KPS_PROMETHEUS} may not list endpoints in namespace billing, so Prometheus discovers no target of ServiceMonitor billing/billing`,
    ]);
  });
});

describe('operator: reads the credentials may not make', () => {
  it('notes ServiceMonitors it may not list, and keeps the verdict', async () => {
    const stack = await kpsStack({ 'scrape-job': 'shop' });
    stack.cluster.deny('list', 'servicemonitors');
    const { findings, notes, result } = await probe(stack, 'prometheus-targets');
    expect(result.status).toBe('fail');
    expect(notes).toEqual(['ServiceMonitors not read: list servicemonitors.monitoring.coreos.com is forbidden']);
    expect(findings).toEqual([]);
  });

  it('falls back on the running configuration: a pool without target is a permissions matter', async () => {
    const cluster = kpsCluster().denyUserIn(KPS_SA, 'watch', 'endpoints', 'billing');
    const stack = await kpsStack({ 'scrape-job': 'serviceMonitor/billing/billing/0' }, cluster);
    cluster.deny('get', 'servicemonitors');
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(notes).toContain('ServiceMonitor billing/billing not read: get servicemonitors.monitoring.coreos.com is forbidden');
    expect(findings.map((f) => f.cause)).toEqual([
      `ServiceAccount monitoring/${KPS_PROMETHEUS} may not watch endpoints in namespace billing, so Prometheus discovers no target for serviceMonitor/billing/billing/0`,
    ]);
  });

  it('with the Prometheus object unread, says the monitor is absent from the running configuration', async () => {
    const cluster = kpsCluster().deny('get', 'prometheuses');
    const { findings, notes } = await probe(await kpsStack({ 'scrape-job': 'shop' }, cluster), 'prometheus-targets');
    expect(notes).toContain(`${PROMETHEUS} not read: get prometheuses.monitoring.coreos.com is forbidden`);
    expect(findings.map((f) => f.cause)).toEqual([
      `ServiceMonitor apps/shop has no job in Prometheus's running configuration (serviceMonitor/apps/shop/0): ${PROMETHEUS} does not select it, or the operator rejected it`,
    ]);
  });

  it('says a selected monitor missing from the running configuration was rejected or not loaded', async () => {
    const cluster = kpsCluster();
    const stack = await kpsStack({ 'scrape-job': 'shop' }, cluster);
    // Labelled after Prometheus's configuration was generated.
    monitor(cluster, 'apps', 'shop').metadata.labels.release = 'kps';
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([
      `ServiceMonitor apps/shop is selected by ${PROMETHEUS}, but Prometheus's running configuration has no job serviceMonitor/apps/shop/0: the operator rejected the monitor as invalid, or has not reloaded Prometheus yet`,
    ]);
  });
});

describe('operator: every scrape pool (the warning)', () => {
  const down = monitorTarget({
    namespace: 'billing',
    monitor: 'billing',
    service: 'billing',
    pod: 'billing-6f9c8d7b5-q2w3e',
    ip: '10.244.3.10',
    port: 8080,
    portName: 'http',
    health: 'down',
    lastError: 'Get "http://10.244.3.10:8080/metrics": dial tcp 10.244.3.10:8080: connect: connection refused',
  });

  it('explains the DOWN pool, then the monitors that make no pool', async () => {
    const stack = await kpsStack({}, kpsCluster(), [NODE_EXPORTER_TARGET, down]);
    const { findings, result } = await probe(stack, 'prometheus-targets');
    expect(result.status).toBe('warn');
    expect(result.reason).toEqual({ code: 'targets.pools-down', pools: ['serviceMonitor/billing/billing/0'] });
    expect(diagnosable(result)).toBe(true);
    expect(findings.map((f) => f.cause)).toEqual([
      'Nothing listens on port 8080 of pod billing/billing-6f9c8d7b5-q2w3e, the port endpoints[0] of ServiceMonitor billing/billing leads to: target billing is DOWN (connection refused)',
      'endpoints[0] of ServiceMonitor apps/cart has port: "8080", a number: a ServiceMonitor names the Service port by its name, so no port of Service apps/cart matches',
      `ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks the label release: kps`,
    ]);
  });

  it('judges a monitor by its targets: one with targets is not reported', async () => {
    const cluster = kpsCluster();
    // Its port no longer names the Service's, but the targets Prometheus has are what count.
    monitor(cluster, KPS_NS, 'kps-prometheus-node-exporter').spec.endpoints = [{ port: 'metrics-old' }];
    const { findings } = await probe(await kpsStack({}, cluster, [NODE_EXPORTER_TARGET, down]), 'prometheus-targets');
    expect(findings.length).toBe(3);
    expect(JSON.stringify(findings)).not.toContain('node-exporter');
  });

  it('is diagnosed by the engine’s diagnose() although it only warns', async () => {
    const stack = await kpsStack({}, kpsCluster(), [NODE_EXPORTER_TARGET, down]);
    const { result } = await probe(stack, 'prometheus-targets');
    const { signal: _signal, view: _view, ...context } = stack.context;
    const diagnosed = await diagnose([result], context, { budgetMs: 5000 });
    expect(diagnosed.get('prometheus-targets')?.findings[2]?.cause).toBe(`ServiceMonitor apps/shop is not selected by ${PROMETHEUS}: it lacks the label release: kps`);
    expect(diagnosable({ ...result, reason: { code: 'targets.pools-degraded', pools: [] } })).toBe(true);
    expect(diagnosable({ ...result, status: 'pass' })).toBe(false);
  });

  it('uses no TaskFlow words in a kube-prometheus-stack diagnosis', async () => {
    const cluster = kpsCluster().denyUserIn(KPS_SA, 'list', 'endpoints', 'billing');
    const { findings } = await probe(await kpsStack({}, cluster, []), 'prometheus-targets', PROMETHEUS_PROBERS['prometheus-targets']);
    expect(findings.length).toBeGreaterThan(1);
    const text = JSON.stringify(findings);
    expect(text).not.toMatch(/16-prometheus-rbac|15-prometheus|kubernetes-pods|taskflow/);
  });
});
