/** The simulated Kubernetes cluster used by the tests: object store, API server, and helpers. */
export { KubeApiServer, IDLE_TIMEOUT_MS, type KubeApiServerOptions, type RequestLogEntry } from './apiserver.js';
export { DEFAULT_KUBE_VERSION, kubeVersion, type KubeVersion, type StreamFeatureGates, type VersionInfo } from './version.js';
export { ObjectStore, NODE_NAME, type StoreOptions, type StoreEvent, type LogEntry, type WatchEventType } from './store.js';
export type { PodStatusPatch, PodPhase } from './pod-status.js';
export type { Fault } from './faults.js';
export type { KeyPair } from './pki.js';
export type { KubeconfigOptions } from './kubeconfig.js';
export type { ClusterView, DialResult, KubeObject, ObjectMeta } from './view.js';
export { CLUSTER_DNS_IP } from './network.js';
