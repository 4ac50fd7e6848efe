import { describe, expect, it } from '@jest/globals';
import { grafanaPod } from '../../src/checks/grafana-pod.js';
import { prometheusPod } from '../../src/checks/prometheus-pod.js';
import { GRAFANA_POD, PROMETHEUS_POD, taskflowCluster } from '../fixtures/cluster.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';

describe('prometheus-pod', () => {
  it('passes when the Prometheus pod is Running and Ready, naming it', async () => {
    const outcome = await attempt(prometheusPod, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`1 of 1 pod Running and Ready (${PROMETHEUS_POD})`);
  });

  it('fails when discovery found no Prometheus pod, saying what was searched and the inputs that point at one', async () => {
    const outcome = await attempt(prometheusPod, await taskflowStack({}, taskflowCluster().remove('pod', PROMETHEUS_POD)));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no Prometheus pod found: searched pods labelled app.kubernetes.io/name=prometheus or app=prometheus in namespace taskflow or any namespace the credentials may list');
    expect(outcome.hint).toContain('prometheus-service input');
    expect(outcome.hint).toContain('prometheus-selector');
    expect(outcome.reason).toEqual({ code: 'discovery.not-found', component: 'prometheus' });
  });

  it('fails when the pods found are gone by the time the check runs, pointing at the prometheus-selector input', async () => {
    const stack = await taskflowStack();
    stack.cluster.remove('pod', PROMETHEUS_POD);
    const outcome = await attempt(prometheusPod, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no pod in namespace taskflow matches app=prometheus');
    expect(outcome.hint).toContain('prometheus-selector');
    expect(outcome.hint).toContain('--show-labels');
  });

  it('looks for the pods with the prometheus-selector input', async () => {
    const outcome = await attempt(prometheusPod, await taskflowStack({ 'prometheus-selector': 'app.kubernetes.io/name=prometheus' }));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('searched pods labelled app.kubernetes.io/name=prometheus in namespace taskflow');
  });

  it('checks every replica: one Ready pod of two is not enough', async () => {
    const cluster = taskflowCluster();
    const second = structuredClone(cluster.pod(PROMETHEUS_POD));
    second.metadata!.name = 'prometheus-6d8f7c9b5-zz9zz';
    second.metadata!.uid = 'second-prometheus';
    cluster.pods.push(second);
    cluster.setPodStatus('prometheus-6d8f7c9b5-zz9zz', { ready: false });
    const outcome = await attempt(prometheusPod, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`1 of 2 Prometheus pods Running and Ready; not ready: prometheus-6d8f7c9b5-zz9zz: Running, not Ready`);
  });

  it('fails a Running pod whose readiness probe fails, with the describe command', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { ready: false });
    const outcome = await attempt(prometheusPod, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(`${PROMETHEUS_POD}: Running, not Ready`);
    expect(outcome.hint).toContain('kubectl describe pod -n taskflow -l app=prometheus');
    expect(outcome.hint).toContain('readiness probe');
  });

  it('passes once the pod becomes Ready while the runner waits', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { ready: false });
    const stack = await taskflowStack({}, cluster);
    let lists = 0;
    const listPods = cluster.listPods.bind(cluster);
    cluster.listPods = async (ns, selector) => {
      if (++lists === 2) cluster.setPodStatus(PROMETHEUS_POD, { ready: true });
      return listPods(ns, selector);
    };
    const result = await verdict(prometheusPod, stack, 1000);
    expect(result.status).toBe('pass');
    expect(result.attempts).toBe(2);
  });
});

describe('grafana-pod', () => {
  it('passes when the Grafana pod is Running and Ready', async () => {
    const outcome = await attempt(grafanaPod, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain(GRAFANA_POD);
  });

  it('fails a CrashLoopBackOff pod, showing its restarts and the logs command', async () => {
    const cluster = taskflowCluster().setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 7 });
    const outcome = await attempt(grafanaPod, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`no Grafana pod is Running and Ready: ${GRAFANA_POD}: CrashLoopBackOff (7 restarts), not Ready`);
    expect(outcome.hint).toContain(`kubectl logs -n taskflow ${GRAFANA_POD} -c grafana --previous`);
    expect(outcome.hint).toContain('keeps crashing');
  });

  it('fails a pod that cannot pull its image with the describe command', async () => {
    const cluster = taskflowCluster().setPodStatus(GRAFANA_POD, { phase: 'Pending', waiting: 'ImagePullBackOff' });
    const outcome = await attempt(grafanaPod, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(`${GRAFANA_POD}: ImagePullBackOff, not Ready`);
    expect(outcome.hint).toContain('kubectl describe pod -n taskflow -l app=grafana');
  });

  it('passes during a rollout when one of two pods is Ready', async () => {
    const cluster = taskflowCluster();
    const next = structuredClone(cluster.pod(GRAFANA_POD));
    next.metadata!.name = 'grafana-84c5d9b7f6-z9k1m';
    cluster.pods.push(next);
    cluster.setPodStatus('grafana-84c5d9b7f6-z9k1m', { waiting: 'CrashLoopBackOff', restartCount: 1 });
    const outcome = await attempt(grafanaPod, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`1 of 2 pods Running and Ready (${GRAFANA_POD})`);
  });

  it('fails a pod listing refused by RBAC with the rule to add, without retrying', async () => {
    const result = await verdict(grafanaPod, await taskflowStack({}, taskflowCluster().deny('list', 'pods')), 300);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('list pods in namespace taskflow: HTTP 403 Forbidden');
    expect(result.summary).toContain('User "system:serviceaccount:ci:metrics-flow-check" cannot list resource "pods"');
    expect(result.hint).toContain('resources: ["pods"]\n  verbs: ["list"]');
    expect(result.attempts).toBe(1);
  });
});
