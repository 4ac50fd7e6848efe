/**
 * Why a pod is not Running and Ready, and the workload whose pod template makes it (where the fix
 * goes).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Finding, ObjectPath, ObjectRef } from '../types.js';
import { configName, configSourceOf, inConfig, type Segment } from './config.js';
import { evidence, lastLines, MAX_EVIDENCE, plural, type Probe } from './probe.js';

/** The object whose pod template makes a pod (a Deployment for a ReplicaSet's pod), or the pod itself. */
export async function workloadOf(p: Probe, pod: V1Pod): Promise<ObjectRef> {
  const namespace = pod.metadata?.namespace ?? p.ns;
  const name = pod.metadata?.name ?? '';
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (owner?.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    const deployment = hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name.replace(/-[a-z0-9]+$/, '');
    return { kind: 'Deployment', namespace, name: deployment };
  }
  if (owner && owner.kind !== 'Node') return { kind: owner.kind, namespace, name: owner.name };
  const deployments = await p.deployments(namespace);
  const byLabels = deployments?.find((d) => {
    const sel = d.spec?.selector?.matchLabels;
    return sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => pod.metadata?.labels?.[k] === v);
  });
  if (byLabels?.metadata?.name) return { kind: 'Deployment', namespace, name: byLabels.metadata.name };
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(name);
  if (m) return { kind: 'Deployment', namespace, name: m[1]! };
  return { kind: 'Pod', namespace, name };
}

/** A path inside a pod's template (or inside the pod, for a bare pod). */
export function templatePath(workload: ObjectRef, path: readonly Segment[]): ObjectPath {
  return { object: workload, path: workload.kind === 'Pod' ? path : ['spec', 'template', ...path] };
}

export function describeWorkload(w: ObjectRef): string {
  return `${w.kind} ${w.namespace ? `${w.namespace}/` : ''}${w.name}`;
}

export function podRef(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** `CrashLoopBackOff, 4 restarts` — the state that keeps a pod from being Running and Ready. */
function podState(pod: V1Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state?.terminated?.reason;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const state = waiting ?? terminated ?? pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  return `${state}${restarts ? `, ${plural(restarts, 'restart')}` : ''}`;
}

const IMAGE_PULL = /^(ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull)$/;

interface ExplainOptions {
  /** Names the log in a note when it may not be read: `Prometheus's logs`. */
  readonly logOwner: string;
  /** Appended to the cause: `so Prometheus cannot scrape it`. */
  readonly consequence?: string;
  /** The pod runs Prometheus: a configuration error in its log points at its ConfigMap. */
  readonly prometheus?: boolean;
}

/**
 * Why a pod is not Running and Ready: an image that cannot be pulled, a container that keeps
 * crashing (its previous run's last log lines), a pod that cannot be scheduled or is still being
 * created (a missing ConfigMap), a failing readiness probe.
 */
export async function explainPod(p: Probe, pod: V1Pod, { logOwner, consequence = '', prometheus = false }: ExplainOptions): Promise<Finding> {
  const ref = podRef(pod);
  const ns = pod.metadata?.namespace ?? p.ns;
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  const indexOf = (c: string): number => Math.max(0, containers.findIndex((x) => x.name === c));
  const workload = await workloadOf(p, pod);
  const tail = consequence ? `, ${consequence}` : '';

  const pulling = statuses.find((s) => IMAGE_PULL.test(s.state?.waiting?.reason ?? ''));
  if (pulling) {
    const image = containers.find((c) => c.name === pulling.name)?.image ?? pulling.image;
    return {
      cause: `Pod ${ref} cannot pull image ${image} (${pulling.state?.waiting?.reason})${tail}`,
      fix: `Correct the image name or tag of container ${pulling.name} in ${describeWorkload(workload)}, or add an imagePullSecret if the registry is private`,
      evidence: evidence([pulling.state?.waiting?.message]),
      target: templatePath(workload, ['spec', 'containers', indexOf(pulling.name), 'image']),
    };
  }

  const crashing = statuses.find(
    (s) =>
      s.state?.waiting?.reason === 'CrashLoopBackOff' ||
      (s.state?.terminated && s.state.terminated.exitCode !== 0) ||
      (!s.ready && (s.restartCount ?? 0) > 0 && s.lastState?.terminated),
  );
  if (crashing) {
    const last = crashing.state?.terminated ?? crashing.lastState?.terminated;
    const exit = last ? `: container ${crashing.name} exited with code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''}` : '';
    const previous = await p.logs(pod, crashing.name, 20, true, logOwner);
    // Before its first restart a container has no previous log: its current one tells the same.
    let lines = lastLines(previous, MAX_EVIDENCE);
    if (!lines.length && previous !== undefined) lines = lastLines(await p.logs(pod, crashing.name, 20, false, logOwner), MAX_EVIDENCE);
    const configError = prometheus && /error loading config|couldn't load configuration|parsing YAML|yaml: |unmarshal/i.test(lines.join('\n'));
    const config = configError ? configSourceOf(pod) : undefined;
    const oom = last?.reason === 'OOMKilled';
    return {
      cause: `Pod ${ref} keeps crashing (${podState(pod)})${exit}${tail}`,
      fix: oom
        ? `Raise the memory limit of container ${crashing.name} in ${describeWorkload(workload)}`
        : config
          ? `Fix ${config.key} in ${configName(config)} (promtool check config shows the error), then restart the pod`
          : `Fix what its log reports (kubectl logs -n ${ns} ${name} -c ${crashing.name} --previous), then let it restart`,
      evidence: evidence(lines),
      ...(oom ? { target: templatePath(workload, ['spec', 'containers', indexOf(crashing.name), 'resources']) } : config ? { target: inConfig(config, []) } : {}),
    };
  }

  if (pod.status?.phase === 'Pending' || !pod.status?.phase) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') {
      const why = [scheduled.reason, scheduled.message].filter(Boolean).join(': ');
      const insufficient = /Insufficient/i.test(scheduled.message ?? '');
      return {
        cause: `Pod ${ref} is Pending: it cannot be scheduled${why ? ` (${why})` : ''}${tail}`,
        fix: insufficient
          ? `Lower the resource requests in ${describeWorkload(workload)}, or add node capacity`
          : `Make a node fit the pod: check the nodeSelector, affinity, tolerations and resource requests of ${describeWorkload(workload)}`,
        target: templatePath(workload, insufficient ? ['spec', 'containers', 0, 'resources'] : ['spec']),
      };
    }
    // A pod being created: a ConfigMap volume that does not exist keeps it there.
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.configMap?.name || v.configMap.optional) continue;
      const cmName = v.configMap.name;
      const cm = await p.read(`ConfigMap ${ns}/${cmName}`, { verb: 'get', resource: 'configmaps', namespace: ns }, () =>
        p.ctx.cluster.readConfigMap(ns, cmName, p.ctx.signal).then((c) => c ?? null),
      );
      if (cm === null) {
        return {
          cause: `ConfigMap ${ns}/${cmName}, which pod ${ref} mounts, does not exist, so the pod stays Pending${tail}`,
          fix: `Create ConfigMap ${ns}/${cmName} (kubectl apply -f the manifest that defines it)`,
          target: { object: { kind: 'ConfigMap', namespace: ns, name: cmName }, path: [] },
        };
      }
    }
    const waiting = statuses.find((s) => s.state?.waiting?.reason);
    return {
      cause: `Pod ${ref} is Pending${waiting ? ` (${waiting.state?.waiting?.reason})` : ''}${tail}`,
      fix: `Read its events: kubectl describe pod -n ${ns} ${name}`,
      evidence: evidence([waiting?.state?.waiting?.message, ...(pod.status?.conditions ?? []).filter((c) => c.status === 'False' && c.message).map((c) => `${c.type}: ${c.message}`)]),
    };
  }

  if (pod.status?.phase === 'Running') {
    const containerName = (statuses.find((s) => !s.ready) ?? statuses[0])?.name ?? containers[0]?.name ?? '';
    const container: V1Container | undefined = containers.find((c) => c.name === containerName);
    const log = containerName ? await p.logs(pod, containerName, 50, false, logOwner) : undefined;
    const lines = lastLines(log, 50)
      .filter((l) => /level=(warn|error)|\b(error|fail|fatal|panic)/i.test(l))
      .slice(-MAX_EVIDENCE);
    return {
      cause: `Pod ${ref} is Running but not Ready: container ${containerName} ${container?.readinessProbe ? 'fails its readiness probe' : 'is not ready'}${tail}`,
      fix: `Read why in its events and log: kubectl describe pod -n ${ns} ${name}; kubectl logs -n ${ns} ${name} -c ${containerName}`,
      evidence: evidence(lines),
      ...(container?.readinessProbe ? { target: templatePath(workload, ['spec', 'containers', indexOf(container.name), 'readinessProbe']) } : {}),
    };
  }

  return {
    cause: `Pod ${ref} is ${pod.status?.phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''}${tail}`,
    fix: `Read why: kubectl describe pod -n ${ns} ${name}`,
    evidence: evidence([pod.status?.message]),
  };
}
