/**
 * The pods/log subresource: the lines appended to a container's log, with the `container`,
 * `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps` and `limitBytes` options. (`follow`
 * returns what is there and ends.)
 */
import type { ObjectStore } from './store.js';
import { badRequest, notFound } from './status.js';
import { podContainers } from './pod-status.js';

/** Container states in which the kubelet has no log to serve yet. */
const NOT_STARTED = new Set(['ContainerCreating', 'PodInitializing']);

/** The container a pods/log or pods/exec request addresses, validated as the API server does. */
export function resolveContainer(store: ObjectStore, namespace: string, podName: string, requested: string | null): string {
  const pod = store.get('Pod', namespace, podName);
  if (!pod) throw notFound('pods', '', podName);
  const names = podContainers(pod).map((c) => c.name);
  if (!requested) {
    if (names.length === 1) return names[0];
    throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
  }
  if (!names.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`);
  return requested;
}

function waitingReason(store: ObjectStore, namespace: string, podName: string, container: string): string | undefined {
  const pod = store.get('Pod', namespace, podName);
  const statuses = ((pod?.status as { containerStatuses?: Record<string, any>[] })?.containerStatuses ?? []);
  return statuses.find((s) => s.name === container)?.state?.waiting?.reason;
}

export function podLogText(store: ObjectStore, namespace: string, podName: string, query: URLSearchParams): string {
  const container = resolveContainer(store, namespace, podName, query.get('container'));
  const waiting = waitingReason(store, namespace, podName, container);
  if (waiting && NOT_STARTED.has(waiting)) {
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${waiting}`);
  }
  let entries = store.podLogs(namespace, podName, container);
  const sinceSeconds = query.get('sinceSeconds');
  const sinceTime = query.get('sinceTime');
  const since = sinceSeconds ? Date.now() - Number(sinceSeconds) * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
  if (since !== undefined) entries = entries.filter((e) => e.time.getTime() >= since);
  const tail = query.get('tailLines');
  if (tail !== null) entries = Number(tail) > 0 ? entries.slice(-Number(tail)) : [];
  const stamp = query.get('timestamps') === 'true';
  const text = entries.map((e) => `${stamp ? `${e.time.toISOString()} ` : ''}${e.line}\n`).join('');
  const limit = query.get('limitBytes');
  return limit ? Buffer.from(text).subarray(0, Number(limit)).toString('utf8') : text;
}
