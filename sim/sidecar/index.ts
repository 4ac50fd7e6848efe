/**
 * The k8s-sidecar containers of simulated pods, run as the kubelet runs them: a container's
 * process (process.ts) is restarted when it exits (restartPolicy Always) after the kubelet's
 * back-off (10 s doubling to 5 min), the pod's status showing `CrashLoopBackOff` and the restart
 * count meanwhile; an init container (`METHOD=LIST`, e.g. the grafana chart's
 * `grafana-init-sc-datasources`) runs to completion before the pod's other containers, and is
 * re-run while it fails. Its log lines go to the container's log.
 *
 * The cluster assembly calls `startPodSidecars` for each Running pod (or `startSidecar` per
 * container) and `stop()` on the handles when tearing down.
 */
import type { ObjectStore } from '../kube/store.js';
import type { KubeObject } from '../kube/view.js';
import { SidecarProcess } from './process.js';

/** What the sidecars need of the simulated API server (a KubeApiServer satisfies it). */
export interface SidecarApi {
  readonly store: ObjectStore;
  readonly url: string;
  readonly caPem: string;
  serviceAccountToken(namespace: string, name: string): string;
}

export interface StartSidecarOptions {
  readonly api: SidecarApi;
  readonly namespace: string;
  readonly pod: string;
  /** The container (or init container) running the sidecar. */
  readonly container: string;
  /** The kubelet's restart back-off after the n-th exit (default 10 s · 2^(n-1), at most 300 s). */
  readonly restartBackoffMs?: (restarts: number) => number;
}

export interface SidecarHandle {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** An init container: it runs once to completion (re-run while it fails). */
  readonly init: boolean;
  /** Resolves once the first sync is done (what the sidecar's /healthz reports as ready). */
  readonly ready: Promise<void>;
  /** Resolves with 0 when an init container completed; for other containers, when stopped. */
  readonly exited: Promise<number>;
  /** Resolves with the exit code of the first run (a failing init container keeps being re-run). */
  readonly firstExit: Promise<number>;
  /** How often the container was restarted. */
  readonly restarts: number;
  /** The exit code of the last run that ended, if one did. */
  readonly lastExitCode: number | undefined;
  /** Stops the process and any pending restart. */
  stop(): Promise<void>;
}

interface ContainerLike {
  name: string;
  image?: string;
  env?: { name?: string }[];
}

function defaultBackoff(restarts: number): number {
  return Math.min(300_000, 10_000 * 2 ** Math.max(0, restarts - 1));
}

/** True for a container running the k8s-sidecar: its image, or LABEL and FOLDER in its env. */
export function isSidecarContainer(container: ContainerLike): boolean {
  const names = new Set((container.env ?? []).map((e) => e.name));
  return /k8s-sidecar/.test(container.image ?? '') || (names.has('LABEL') && names.has('FOLDER'));
}

/** The pod's sidecar containers, init containers first. */
export function sidecarContainers(pod: KubeObject): { name: string; init: boolean }[] {
  const spec = (pod.spec ?? {}) as { containers?: ContainerLike[]; initContainers?: ContainerLike[] };
  return [
    ...(spec.initContainers ?? []).filter(isSidecarContainer).map((c) => ({ name: c.name, init: true })),
    ...(spec.containers ?? []).filter(isSidecarContainer).map((c) => ({ name: c.name, init: false })),
  ];
}

/** Starts the sidecar process of one container of a pod. */
export function startSidecar(options: StartSidecarOptions): SidecarHandle {
  const { api, namespace, pod, container } = options;
  const podObject = api.store.get('Pod', namespace, pod);
  if (!podObject) throw new Error(`pod ${namespace}/${pod} does not exist`);
  const init = sidecarContainers(podObject).some((c) => c.name === container && c.init);
  const backoff = options.restartBackoffMs ?? defaultBackoff;
  let stopped = false;
  let current: SidecarProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;
  let restarts = 0;
  let lastExitCode: number | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let markFirstExit!: (code: number) => void;
  const firstExit = new Promise<number>((resolve) => (markFirstExit = resolve));

  const setStatus = (patch: Parameters<ObjectStore['setPodStatus']>[2]) => {
    if (init || !api.store.get('Pod', namespace, pod)) return;
    api.store.setPodStatus(namespace, pod, { container, ...patch });
  };

  const supervise = async (): Promise<number> => {
    for (;;) {
      const proc = new SidecarProcess({
        cluster: {
          view: api.store,
          apiServerUrl: api.url,
          caPem: api.caPem,
          serviceAccountToken: (ns, name) => api.serviceAccountToken(ns, name),
        },
        namespace,
        pod,
        container,
        log: (line) => api.store.appendLog(namespace, pod, container, line),
        onReady: markReady,
      });
      current = proc;
      const code = await proc.run();
      current = undefined;
      markFirstExit(code);
      if (stopped) return code;
      lastExitCode = code;
      if (init && code === 0) return 0;
      // The kubelet restarts the container after its back-off.
      restarts++;
      const delay = backoff(restarts);
      const uid = api.store.get('Pod', namespace, pod)?.metadata.uid ?? '';
      setStatus({
        restartCount: restarts,
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${container} pod=${pod}_${namespace}(${uid})`,
        },
      });
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, delay);
      });
      timer = undefined;
      if (stopped) return code;
      setStatus({ waiting: null, ready: true });
    }
  };

  const exited = supervise();
  return {
    namespace,
    pod,
    container,
    init,
    ready,
    exited,
    firstExit,
    get restarts() {
      return restarts;
    },
    get lastExitCode() {
      return lastExitCode;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wakeUp?.();
      current?.stop();
      await exited.catch(() => undefined);
    },
  };
}

export interface StartPodSidecarsOptions {
  readonly api: SidecarApi;
  readonly namespace: string;
  readonly pod: string;
  readonly restartBackoffMs?: (restarts: number) => number;
}

/**
 * Starts every sidecar container of a pod: init sidecars first, each awaited to completion (as
 * the kubelet runs init containers before the others), then the regular ones. Resolves with all
 * handles once the init containers completed; stop them all when done.
 */
export async function startPodSidecars(options: StartPodSidecarsOptions): Promise<SidecarHandle[]> {
  const podObject = options.api.store.get('Pod', options.namespace, options.pod);
  if (!podObject) return [];
  const handles: SidecarHandle[] = [];
  for (const { name, init } of sidecarContainers(podObject)) {
    const handle = startSidecar({ ...options, container: name });
    handles.push(handle);
    if (init) await handle.exited;
  }
  return handles;
}
