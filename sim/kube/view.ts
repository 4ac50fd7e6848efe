/**
 * The simulated cluster as the simulated workloads see it (Grafana, the exporters, Prometheus's
 * launcher, exec'd commands). Implemented by the simulated API server's object store.
 *
 * Pods get loopback addresses (127.X.Y.Z) as pod IPs, so a workload "running in a pod" simply
 * listens on its pod IP, and anything the cluster routes to it (service proxy, port-forward,
 * Services resolved from another pod, Prometheus's scrapes) really reaches it.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type DialResult = { address: string; port: number } | { error: string };

/**
 * The outcome of a container's file write or removal, with the errno a program in the container
 * would get (`EROFS` on a configMap/secret mount, `ENOENT` removing a missing file, `EISDIR`,
 * `ENOENT` when the pod or container does not exist).
 */
export type FileWriteResult = { ok: true } | { ok: false; errno: 'EROFS' | 'ENOENT' | 'EISDIR'; message: string };

export interface ClusterView {
  /** One object by kind (`Pod`, `Service`, `Endpoints`, `ConfigMap`, `Secret`, `Deployment`, …). */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Objects of a kind, optionally in one namespace and matching a label selector (`a=b,c!=d`). */
  list(kind: string, namespace?: string, labelSelector?: string): KubeObject[];
  /**
   * The files a container sees, computed from the pod spec: where a volumeMount of a
   * configMap/secret/projected volume puts them (items/subPath honoured), what the pod's
   * containers wrote into a mounted emptyDir, and what the container wrote into its own layer.
   * Path → content.
   */
  containerFiles(namespace: string, pod: string, container?: string): Map<string, string>;
  /**
   * A container writes a file: into the emptyDir volume it mounts there (every container of the
   * pod mounting that volume sees it at its own mountPath, until the pod is deleted), or into its
   * own layer; refused (`EROFS`) on configMap/secret/projected and `readOnly` mounts.
   */
  writeContainerFile(namespace: string, pod: string, container: string, path: string, content: string): FileWriteResult;
  /** A container removes a file it can write (see writeContainerFile); `ENOENT` when there is none. */
  removeContainerFile(namespace: string, pod: string, container: string, path: string): FileWriteResult;
  /**
   * Cluster DNS as seen from a pod in `fromNamespace`: `svc`, `svc.ns`, `svc.ns.svc`,
   * `svc.ns.svc.cluster.local` → the Service's clusterIP; an IP literal → itself.
   */
  lookupHost(host: string, fromNamespace: string): { name: string; address: string } | undefined;
  /**
   * A TCP connection from a pod in `fromNamespace` to `host:port`, routed as kube-proxy would:
   * Service name or clusterIP + service port → a ready endpoint's podIP:targetPort. Returns the
   * loopback address to dial, or the Go-style error a real client would get
   * (`dial tcp: lookup x on 10.96.0.10:53: no such host`, `… connect: connection refused`).
   */
  dial(host: string, port: number, fromNamespace: string): DialResult;
  /** Appends a line to a container's log (served by the pods/log API). */
  appendLog(namespace: string, pod: string, container: string, line: string): void;
}
