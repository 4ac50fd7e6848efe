/** The shared logic of `prometheus-pod` and `grafana-pod`: a pod matching the selector is Running and Ready. */
import type { V1Pod } from '@kubernetes/client-node';
import { isReady } from '../endpoint.js';
import type { CheckId } from '../types.js';
import { fail, pass, type Check } from './check.js';

/** `grafana-7d9f-x2k4p: CrashLoopBackOff (7 restarts), not Ready`. */
export function describePod(pod: V1Pod): string {
  const name = pod.metadata?.name ?? '?';
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state?.terminated?.reason;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const state = waiting ?? terminated ?? pod.status?.phase ?? 'Unknown';
  const restartText = restarts ? ` (${restarts} restart${restarts === 1 ? '' : 's'})` : '';
  return `${name}: ${state}${restartText}, ${isReady(pod) ? 'Ready' : 'not Ready'}`;
}

export function podCheck(id: CheckId, component: 'Prometheus' | 'Grafana', selectorOf: (s: { prometheusSelector: string; grafanaSelector: string }) => string): Check {
  return {
    id,
    title: `${component} pod Running and Ready`,
    needs: ['cluster-access'],
    async run({ settings, cluster, signal }) {
      const selector = selectorOf(settings);
      const ns = settings.namespace;
      const pods = await cluster.listPods(ns, selector, signal);
      if (!pods.length) {
        return fail(
          `no pod in namespace ${ns} matches ${selector}`,
          `Deploy ${component} in ${ns}, or set the ${id === 'prometheus-pod' ? 'prometheus-selector' : 'grafana-selector'} input to its pods' labels (kubectl get pods -n ${ns} --show-labels).`,
        );
      }
      const ready = pods.filter(isReady);
      if (ready.length) {
        const names = ready.map((p) => p.metadata?.name).join(', ');
        return pass(`${ready.length} of ${pods.length} pod${pods.length === 1 ? '' : 's'} Running and Ready (${names})`, { details: { pods: pods.map(describePod) } });
      }
      const seen = pods.map(describePod).join('; ');
      const crashing = pods.find((p) => p.status?.containerStatuses?.some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff'));
      const hint = crashing
        ? `The ${component} container keeps crashing: read why with kubectl logs -n ${ns} ${crashing.metadata?.name} --previous, fix the configuration, and let the Deployment roll out again.`
        : `Inspect the pod with kubectl describe pod -n ${ns} -l ${selector}: look at its events (image pull, scheduling, readiness probe).`;
      return fail(`no ${component} pod is Running and Ready: ${seen}`, hint, { details: { pods: pods.map(describePod) } });
    },
  };
}
