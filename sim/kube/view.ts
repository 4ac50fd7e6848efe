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

export interface ClusterView {
  /** One object by kind (`Pod`, `Service`, `Endpoints`, `ConfigMap`, `Secret`, `Deployment`, …). */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Objects of a kind, optionally in one namespace and matching a label selector (`a=b,c!=d`). */
  list(kind: string, namespace?: string, labelSelector?: string): KubeObject[];
  /**
   * The files a container sees, computed from the pod spec: a file exists only where a
   * volumeMount of a configMap/secret volume puts it (items/subPath honoured). Path → content.
   */
  containerFiles(namespace: string, pod: string, container?: string): Map<string, string>;
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
