/**
 * A whole Grafana pod of the grafana Helm chart / kube-prometheus-stack, started as the kubelet
 * starts it: the k8s-sidecar init containers (`METHOD=LIST`) run to completion first, then the
 * `grafana` container — which provisions once from what it sees, e.g. the emptyDir the sidecars
 * fill — and the sidecar containers, whose reload requests make Grafana pick up their files.
 * Pods without sidecars (kube-prometheus, TaskFlow) just get Grafana.
 */
import { sidecarContainers, startSidecar, type SidecarApi, type SidecarHandle } from '../sidecar/index.js';
import { adminCredentialsFromPod, GrafanaSim, type GrafanaSimOptions } from './server.js';

export interface StartGrafanaPodOptions {
  readonly api: SidecarApi;
  readonly namespace: string;
  readonly pod: string;
  /** The Grafana container (default `grafana`). */
  readonly container?: string;
  /** Default 3000. */
  readonly port?: number;
  /** Passed to GrafanaSim (tokens, version, dashboards, …). */
  readonly grafana?: Partial<Omit<GrafanaSimOptions, 'view' | 'namespace' | 'pod' | 'container' | 'host' | 'port'>>;
  /** The kubelet's restart back-off for crashing sidecars. */
  readonly restartBackoffMs?: (restarts: number) => number;
}

export interface GrafanaPod {
  readonly grafana: GrafanaSim;
  readonly sidecars: readonly SidecarHandle[];
  stop(): Promise<void>;
}

/**
 * Starts Grafana and the sidecars of a Running pod; throws when the pod has no IP or an init
 * sidecar fails (the pod would stay in Init:CrashLoopBackOff, Grafana never starting).
 */
export async function startGrafanaPod(options: StartGrafanaPodOptions): Promise<GrafanaPod> {
  const { api, namespace, pod } = options;
  const container = options.container ?? 'grafana';
  const podIP = (api.store.get('Pod', namespace, pod)?.status as { podIP?: string } | undefined)?.podIP;
  if (!podIP) throw new Error(`pod ${namespace}/${pod} has no IP (not running)`);
  const handles: SidecarHandle[] = [];
  const stopAll = () => Promise.all(handles.map((h) => h.stop()));
  const containers = sidecarContainers(api.store.get('Pod', namespace, pod)!);
  for (const { name } of containers.filter((c) => c.init)) {
    const handle = startSidecar({ api, namespace, pod, container: name, restartBackoffMs: options.restartBackoffMs });
    handles.push(handle);
    const code = await handle.firstExit;
    if (code !== 0) {
      // The kubelet would re-run it with back-off and never start Grafana: Init:CrashLoopBackOff.
      await stopAll();
      throw new Error(`init container ${name} of pod ${namespace}/${pod} exited with code ${code}: the pod stays in Init:CrashLoopBackOff`);
    }
  }
  const admin = adminCredentialsFromPod(api.store, namespace, pod, container);
  const grafana = new GrafanaSim({
    view: api.store,
    namespace,
    pod,
    container,
    host: podIP,
    port: options.port ?? 3000,
    adminUser: admin.user,
    adminPassword: admin.password,
    ...options.grafana,
  });
  try {
    await grafana.start();
  } catch (error) {
    await stopAll();
    throw error;
  }
  // Grafana listens before the sidecars' first reload, as it does in most real pod starts.
  for (const { name } of containers.filter((c) => !c.init)) {
    handles.push(startSidecar({ api, namespace, pod, container: name, restartBackoffMs: options.restartBackoffMs }));
  }
  return {
    grafana,
    sidecars: handles,
    async stop() {
      await stopAll();
      await grafana.stop();
    },
  };
}
