/**
 * Pod status as the kubelet reports it, computed from a small simulated state that scenarios can
 * change: phase, pod IP, and per container readiness, restarts and a waiting reason
 * (`CrashLoopBackOff`, `ContainerCreating`, `ImagePullBackOff`, …).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from './view.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A change to a pod's simulated state; container fields apply to `container` or to all containers. */
export interface PodStatusPatch {
  phase?: PodPhase;
  /** Whether the pod has its IP in `status.podIP` (default: not when Pending). */
  hasIP?: boolean;
  /** Limits the container fields below to one container. */
  container?: string;
  ready?: boolean;
  restartCount?: number;
  /** The container waits instead of running; `null` makes it run again. */
  waiting?: { reason: string; message?: string } | null;
}

interface ContainerState {
  ready: boolean;
  restartCount: number;
  waiting?: { reason: string; message?: string };
}

/** The simulated state behind one pod's status. */
export interface PodState {
  phase: PodPhase;
  hasIP: boolean;
  startedAt: string;
  containers: Map<string, ContainerState>;
}

interface ContainerSpec {
  name: string;
  image?: string;
}

export function podContainers(pod: KubeObject): ContainerSpec[] {
  const spec = pod.spec as { containers?: ContainerSpec[] } | undefined;
  return spec?.containers ?? [];
}

/** A healthy pod: Running, every container running and ready. */
export function runningState(pod: KubeObject, now: Date): PodState {
  const containers = new Map<string, ContainerState>();
  for (const c of podContainers(pod)) containers.set(c.name, { ready: true, restartCount: 0 });
  return { phase: 'Running', hasIP: true, startedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'), containers };
}

/** Applies a scenario's patch to a pod's state. */
export function patchState(state: PodState, patch: PodStatusPatch): void {
  if (patch.phase !== undefined) {
    state.phase = patch.phase;
    if (patch.hasIP === undefined) state.hasIP = patch.phase !== 'Pending';
  }
  if (patch.hasIP !== undefined) state.hasIP = patch.hasIP;
  for (const [name, c] of state.containers) {
    if (patch.container !== undefined && patch.container !== name) continue;
    if (patch.restartCount !== undefined) c.restartCount = patch.restartCount;
    if (patch.waiting === null) delete c.waiting;
    else if (patch.waiting !== undefined) c.waiting = { ...patch.waiting };
    if (patch.ready !== undefined) c.ready = patch.ready;
    if (c.waiting) c.ready = false;
  }
  if (patch.phase === 'Pending') {
    for (const c of state.containers.values()) {
      c.ready = false;
      c.waiting ??= { reason: 'ContainerCreating' };
    }
  }
  if (patch.phase === 'Running') {
    for (const c of state.containers.values()) {
      if (c.waiting?.reason !== 'ContainerCreating') continue;
      delete c.waiting;
      c.ready = patch.ready ?? true;
    }
  }
}

/** A stable fake container runtime id. */
function containerId(pod: KubeObject, name: string): string {
  return 'containerd://' + createHash('sha256').update(`${pod.metadata.uid}/${name}`).digest('hex');
}

function containerStatus(pod: KubeObject, spec: ContainerSpec, c: ContainerState, startedAt: string) {
  const running = !c.waiting;
  const status: Record<string, unknown> = {
    name: spec.name,
    state: running ? { running: { startedAt } } : { waiting: { ...c.waiting } },
    lastState:
      c.restartCount > 0
        ? { terminated: { exitCode: 1, reason: 'Error', startedAt, finishedAt: startedAt, containerID: containerId(pod, spec.name) } }
        : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: spec.image ?? '',
    imageID: spec.image ? `${spec.image}@sha256:${createHash('sha256').update(spec.image).digest('hex')}` : '',
    started: running,
  };
  if (running || c.restartCount > 0) status.containerID = containerId(pod, spec.name);
  return status;
}

function condition(type: string, ok: boolean, time: string, reason?: string, message?: string) {
  const c: Record<string, unknown> = { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: time };
  if (!ok && reason) Object.assign(c, { reason, message });
  return c;
}

/** The `status` of a pod in a given simulated state, on the node at `hostIP`. */
export function podStatus(pod: KubeObject, state: PodState, podIP: string | undefined, hostIP: string) {
  const specs = podContainers(pod);
  const all = specs.map((s) => ({ spec: s, state: state.containers.get(s.name) ?? { ready: false, restartCount: 0 } }));
  const unready = all.filter((c) => !c.state.ready).map((c) => c.spec.name);
  const ready = state.phase === 'Running' && unready.length === 0;
  const why = `containers with unready status: [${unready.join(' ')}]`;
  const t = state.startedAt;
  const status: Record<string, unknown> = {
    phase: state.phase,
    conditions: [
      condition('PodReadyToStartContainers', state.hasIP, t),
      condition('Initialized', true, t),
      condition('Ready', ready, t, 'ContainersNotReady', why),
      condition('ContainersReady', ready, t, 'ContainersNotReady', why),
      condition('PodScheduled', true, t),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: t,
    containerStatuses: all.map((c) => containerStatus(pod, c.spec, c.state, t)),
    qosClass: 'BestEffort',
  };
  if (state.hasIP && podIP) Object.assign(status, { podIP, podIPs: [{ ip: podIP }] });
  return status;
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pod's IP, when it has one. */
export function podIP(pod: KubeObject): string | undefined {
  return (pod.status as { podIP?: string } | undefined)?.podIP;
}
