/**
 * The per-attempt view of the cluster every check reads: each Kubernetes object, Prometheus's
 * targets and Grafana's datasource list fetched at most once per attempt, however many checks ask
 * (concurrent asks share one request). A retry round gets a fresh view, so a check that waits for
 * the cluster to change sees the change.
 */
import type { V1ConfigMap, V1Endpoints, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cluster, CustomObject, CustomResource, ExecResult } from './cluster.js';
import type { GrafanaClient, GrafanaDatasource } from './grafana.js';
import type { PrometheusClient, Target } from './prometheus.js';

export class ClusterView {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    readonly cluster: Cluster,
    readonly prometheus: PrometheusClient,
    readonly grafana: GrafanaClient,
    /** Aborts every read of the view (the run's hard deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  /** One shared request per key; a failure is shared too (within the attempt). */
  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      // A rejection nobody awaited yet must not crash the process.
      p.catch(() => undefined);
      this.cache.set(key, p);
    }
    return p;
  }

  pods(namespace: string, selector: string): Promise<V1Pod[]> {
    return this.once(`pods ${namespace} ${selector}`, () => this.cluster.listPods(namespace, selector, this.signal));
  }

  service(namespace: string, name: string): Promise<V1Service | undefined> {
    return this.once(`service ${namespace}/${name}`, () => this.cluster.readService(namespace, name, this.signal));
  }

  endpoints(namespace: string, name: string): Promise<V1Endpoints | undefined> {
    return this.once(`endpoints ${namespace}/${name}`, () => this.cluster.readEndpoints(namespace, name, this.signal));
  }

  configMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return this.once(`configmap ${namespace}/${name}`, () => this.cluster.readConfigMap(namespace, name, this.signal));
  }

  secret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.once(`secret ${namespace}/${name}`, () => this.cluster.readSecret(namespace, name, this.signal));
  }

  /** `namespace` undefined: every namespace. */
  configMaps(namespace: string | undefined, selector: string): Promise<V1ConfigMap[]> {
    return this.once(`configmaps ${namespace ?? '*'} ${selector}`, () => this.cluster.listConfigMaps(namespace, selector, this.signal));
  }

  /** `namespace` undefined: every namespace. */
  secrets(namespace: string | undefined, selector: string): Promise<V1Secret[]> {
    return this.once(`secrets ${namespace ?? '*'} ${selector}`, () => this.cluster.listSecrets(namespace, selector, this.signal));
  }

  custom(type: CustomResource, namespace: string | undefined, selector = ''): Promise<CustomObject[]> {
    return this.once(`custom ${type.group}/${type.plural} ${namespace ?? '*'} ${selector}`, () => this.cluster.listCustom(type, namespace, selector || undefined, this.signal));
  }

  /** A read-only command in a container (a file read), once per attempt. */
  exec(namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult> {
    return this.once(`exec ${namespace}/${pod}/${container} ${JSON.stringify(command)}`, () => this.cluster.exec(namespace, pod, container, command));
  }

  targets(): Promise<Target[]> {
    return this.once('prometheus targets', () => this.prometheus.activeTargets(this.signal));
  }

  datasources(): Promise<GrafanaDatasource[]> {
    return this.once('grafana datasources', () => this.grafana.datasources(this.signal));
  }
}
