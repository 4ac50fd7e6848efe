/**
 * Why a target is DOWN: its last scrape error read against the state of its pod. The fix goes
 * where the scraped port and timeout are set: the pod's prometheus.io annotations and the scrape
 * job, or the ServiceMonitor/PodMonitor endpoint the operator made the job from.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { nameOf } from '../../checks/prometheus-targets.js';
import { isReady } from '../../endpoint.js';
import type { Target } from '../../prometheus.js';
import type { Finding } from '../types.js';
import { configName, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, inConfig, type ConfigSource, type JobConfig } from './config.js';
import { monitorName, monitorObject, poolMonitor } from './monitors.js';
import { explainPod, podRef, templatePath, workloadOf } from './pod-state.js';
import { evidence, lastLines, type Probe } from './probe.js';
import { targetPodName, targetPort } from './target.js';

export async function downFinding(p: Probe, t: Target, pod: V1Pod | undefined, job: JobConfig | undefined, source: ConfigSource | undefined, label: string): Promise<Finding> {
  const name = nameOf(t, label) || t.labels.instance || t.scrapeUrl;
  // A pool the operator made from a monitor's endpoint: the port and timeout are set there.
  const monitor = poolMonitor(t.scrapePool);
  const endpointField = monitor ? `${monitor.kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints'}[${monitor.endpoint}]` : '';
  const error = t.lastError;
  const ev = [error ? `lastError: ${error}` : undefined];
  if (pod && !isReady(pod)) {
    const f = await explainPod(p, pod, { logOwner: `the logs of pod ${podRef(pod)}`, consequence: `so its target ${name} is DOWN` });
    return { ...f, evidence: evidence([...ev, ...(f.evidence ?? [])]) };
  }
  const ref = pod ? podRef(pod) : (targetPodName(t) ?? t.labels.instance ?? '');
  const workload = pod ? await workloadOf(p, pod) : undefined;
  const port = targetPort(t);
  const annotations = pod?.metadata?.annotations ?? {};
  const declared = (pod?.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => `${c.name}:${x.containerPort}`));

  if (/connection refused/i.test(error) && monitor) {
    return {
      cause: `Nothing listens on port ${port ?? '?'} of pod ${ref}, the port ${endpointField} of ${monitorName(monitor)} leads to: target ${name} is DOWN (connection refused)`,
      fix: `Make ${endpointField}.port of ${monitorName(monitor)} name the port the exporter listens on${declared.length ? ` (the pod declares ${declared.join(', ')})` : ''}, or start the exporter on port ${port ?? '?'}`,
      evidence: evidence(ev),
      target: { object: monitorObject(monitor), path: ['spec', monitor.kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints', monitor.endpoint, 'port'] },
    };
  }
  if (/connection refused/i.test(error)) {
    const annotated = annotations['prometheus.io/port'] !== undefined;
    const containerIndex = (pod?.spec?.containers ?? []).findIndex((c) => c.ports?.some((x) => String(x.containerPort) === port));
    return {
      cause: `Nothing listens on port ${port ?? '?'} of pod ${ref}${annotated ? ', the port its prometheus.io/port annotation names' : ''}: target ${name} is DOWN (connection refused)`,
      fix: `Make ${annotated ? 'the prometheus.io/port annotation' : 'the scraped port'} name the port the exporter listens on${declared.length ? ` (the pod declares ${declared.join(', ')})` : ''}, or start the exporter on port ${port ?? '?'}`,
      evidence: evidence([...ev, annotated ? `prometheus.io/port: "${annotations['prometheus.io/port']}"` : undefined]),
      ...(workload
        ? {
            target: templatePath(
              workload,
              annotated ? ['metadata', 'annotations', 'prometheus.io/port'] : ['spec', 'containers', Math.max(0, containerIndex), 'ports'],
            ),
          }
        : {}),
    };
  }

  const status = /server returned HTTP status (\d{3})([^"]*)/i.exec(error);
  if (status && status[1]!.startsWith('5')) {
    const container = (pod?.spec?.containers ?? []).find((c) => c.ports?.some((x) => String(x.containerPort) === port));
    const lines = pod && container ? lastLines(await p.logs(pod, container.name, 50, false, `the logs of pod ${podRef(pod)}`), 50).filter((l) => /error|fail|panic|refused|denied/i.test(l)).slice(-3) : [];
    return {
      cause: `The exporter of pod ${ref} answers ${t.scrapeUrl} with an error: HTTP ${status[1]}${status[2]?.trim() ? ` ${status[2].trim()}` : ''}`,
      fix: `Fix what the exporter's log reports${pod && container ? ` (kubectl logs -n ${pod.metadata?.namespace} ${pod.metadata?.name} -c ${container.name})` : ''}: it often cannot reach or log in to the service it exports`,
      evidence: evidence([...ev, ...lines]),
    };
  }
  if (status && status[1] === '404') {
    const path = annotations['prometheus.io/path'];
    return {
      cause: `Pod ${ref} serves no metrics at ${t.scrapeUrl}: HTTP 404`,
      fix: `Set the prometheus.io/path annotation to the exporter's metrics path${path ? ` (now "${path}")` : ''}`,
      evidence: evidence(ev),
      ...(workload ? { target: templatePath(workload, path !== undefined ? ['metadata', 'annotations', 'prometheus.io/path'] : ['metadata', 'annotations']) } : {}),
    };
  }
  if (/deadline exceeded|timeout|timed out/i.test(error)) {
    const timeout = job?.scrapeTimeout ?? t.discoveredLabels.__scrape_timeout__ ?? DEFAULT_TIMEOUT;
    const interval = job?.scrapeInterval ?? t.scrapeInterval ?? DEFAULT_INTERVAL;
    if (monitor) {
      return {
        cause: `The scrape of target ${name} (pod ${ref}) does not finish within scrape_timeout (${timeout})`,
        fix: `Make the exporter answer faster, or raise ${endpointField}.scrapeTimeout of ${monitorName(monitor)} (at most its interval, ${interval})`,
        evidence: evidence(ev),
        target: { object: monitorObject(monitor), path: ['spec', monitor.kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints', monitor.endpoint] },
      };
    }
    return {
      cause: `The scrape of target ${name} (pod ${ref}) does not finish within scrape_timeout (${timeout})`,
      fix: `Make the exporter answer faster, or raise scrape_timeout of job ${t.scrapePool || t.job} in ${configName(source)} (at most its scrape_interval, ${interval})`,
      evidence: evidence(ev),
      ...(job ? { target: inConfig(source, ['scrape_configs', job.index, 'scrape_timeout']) } : {}),
    };
  }
  return {
    cause: `Target ${name} (pod ${ref}) is DOWN: ${error || 'no error reported'}`,
    fix: `Check that pod ${ref} serves ${t.scrapeUrl} (kubectl describe pod and kubectl logs)`,
    evidence: evidence(ev),
  };
}
