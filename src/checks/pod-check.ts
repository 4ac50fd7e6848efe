/**
 * The shared logic of `prometheus-pod` and `grafana-pod`: the component's pods, found again by
 * the selector discovery settled, are Running and Ready — every replica for Prometheus (each one
 * answers queries behind the Service), at least one for Grafana, with its datasource sidecar
 * container ready where the stack has one.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isReady } from '../endpoint.js';
import type { Found, GrafanaSite, PrometheusSite } from '../stack/types.js';
import type { CheckId } from '../types.js';
import { fail, need, pass, type Check } from './check.js';

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

/** A container of the pod whose state is CrashLoopBackOff. */
export function crashLooping(pod: V1Pod): string | undefined {
  return pod.status?.containerStatuses?.find((s) => s.state?.waiting?.reason === 'CrashLoopBackOff')?.name;
}

function containerReady(pod: V1Pod, container: string): boolean {
  const status = pod.status?.containerStatuses?.find((s) => s.name === container) ?? pod.status?.initContainerStatuses?.find((s) => s.name === container);
  // A restartable init container (a native sidecar) reports `started`; a finished init container `terminated`.
  return Boolean(status?.ready || status?.state?.terminated?.exitCode === 0 || (status?.started && status.state?.running));
}

type Component = 'Prometheus' | 'Grafana';

export function podCheck(id: CheckId, component: Component, siteOf: (stack: Parameters<Check['run']>[0]['stack']) => Found<PrometheusSite | GrafanaSite>): Check {
  return {
    id,
    title: `${component} pod Running and Ready`,
    needs: ['cluster-access'],
    async run({ stack, view }) {
      const found = need(siteOf(stack), component === 'Prometheus' ? 'prometheus' : 'grafana');
      if (!found.value) return found.outcome;
      const { workload } = found.value;
      const ns = workload.namespace;
      const selector = workload.selector;
      const pods = await view.pods(ns, selector);
      const input = id === 'prometheus-pod' ? 'prometheus-selector' : 'grafana-selector';
      if (!pods.length) {
        return fail(
          `no pod in namespace ${ns} matches ${selector}`,
          `Deploy ${component} in ${ns}, or set the ${input} input to its pods' labels (kubectl get pods -n ${ns} --show-labels).`,
          { code: 'pod.none', selector, namespace: ns },
        );
      }
      const ready = pods.filter(isReady);
      const details = { pods: pods.map(describePod) };
      const enough = component === 'Prometheus' ? ready.length === pods.length : ready.length > 0;
      const sidecar = 'sidecar' in found.value ? found.value.sidecar : undefined;
      if (enough) {
        const names = ready.map((p) => p.metadata?.name).join(', ');
        const withSidecar = sidecar && !sidecar.init ? ready.filter((p) => containerReady(p, sidecar.container)) : ready;
        if (sidecar && !sidecar.init && !withSidecar.length) {
          const pod = ready[0] as V1Pod;
          return fail(
            `Grafana pod ${pod.metadata?.name} is Ready but its datasource sidecar ${sidecar.container} is not running: ${describePod(pod)}`,
            `The sidecar copies the datasource into Grafana: read why it stopped with kubectl logs -n ${ns} ${pod.metadata?.name} -c ${sidecar.container}.`,
            { code: 'pod.sidecar-not-ready', pod: pod.metadata?.name ?? '', container: sidecar.container },
            { details },
          );
        }
        return pass(`${ready.length} of ${pods.length} pod${pods.length === 1 ? '' : 's'} Running and Ready (${names})${sidecar && !sidecar.init ? `, sidecar ${sidecar.container} ready` : ''}`, { details });
      }
      const seen = pods.map(describePod).join('; ');
      const crashing = pods.find((p) => crashLooping(p));
      const hint = crashing
        ? `The ${crashLooping(crashing)} container keeps crashing: read why with kubectl logs -n ${ns} ${crashing.metadata?.name} -c ${crashLooping(crashing)} --previous, fix the configuration, and let the ${workload.owner ? `${workload.owner.kind} ${workload.owner.name}` : 'controller'} roll out again.`
        : `Inspect the pod with kubectl describe pod -n ${ns} -l ${selector}: look at its events (image pull, scheduling, readiness probe).`;
      const summary =
        component === 'Prometheus' && ready.length
          ? `${ready.length} of ${pods.length} Prometheus pods Running and Ready; not ready: ${pods.filter((p) => !isReady(p)).map(describePod).join('; ')}`
          : `no ${component} pod is Running and Ready: ${seen}`;
      return fail(summary, hint, { code: 'pod.not-ready', pods: pods.filter((p) => !isReady(p)).map((p) => p.metadata?.name ?? ''), ready: ready.length, total: pods.length, ...(crashing ? { crashLooping: crashing.metadata?.name ?? '' } : {}) }, { details });
    },
  };
}
