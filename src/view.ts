/**
 * The per-attempt view of the cluster every check reads: each Kubernetes object, Prometheus's
 * targets and Grafana's datasource list fetched at most once per attempt, however many checks ask
 * (concurrent asks share one request). A retry round gets a fresh view, so a check that waits for
 * the cluster to change sees the change.
 */
import type { V1ConfigMap, V1Endpoints, V1EndpointSlice, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { KubeError, type Cluster, type CustomObject, type CustomResource, type ExecResult } from './cluster.js';
import { parsePromConfig, type PromConfig } from './prometheus-config.js';
import type { DashboardHit, DashboardNotServed, DashboardRead, GrafanaClient, GrafanaDatasource } from './grafana.js';
import type { PrometheusClient, TargetsRead } from './prometheus.js';
import { matchesSelector, splitOutsideParens } from './selector.js';
import type { DiscoveryReads } from './stack/discover.js';

/** A set of a Service's addresses that share ports (an EndpointSlice, or a subset of its Endpoints). */
export interface AddressGroup {
  /** The Service ports these addresses serve, by the Service port's name (`''`/absent: unnamed). */
  readonly ports: readonly { readonly name?: string; readonly port?: number }[];
  readonly ready: readonly Address[];
  readonly notReady: readonly Address[];
}

export interface Address {
  readonly ip: string;
  /** What it is, to count an endpoint once across address families: `Pod/ns/name`, else the address. */
  readonly key: string;
}

/** A Service's endpoints, from its EndpointSlices, or from its Endpoints when the slices cannot be read. */
export interface ServiceEndpoints {
  readonly source: 'EndpointSlices' | 'Endpoints';
  /** Why the Endpoints were read instead: `list endpointslices … is forbidden` or `not served`. */
  readonly fallback?: string;
  readonly groups: readonly AddressGroup[];
}

export class ClusterView {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    readonly cluster: Cluster,
    readonly prometheus: PrometheusClient,
    readonly grafana: GrafanaClient,
    /** Aborts every read of the view (the run's hard deadline). */
    private readonly signal?: AbortSignal,
    /** What discovery read just before (the first attempt's view starts from it). */
    private readonly seed?: DiscoveryReads,
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

  /**
   * The pods `selector` selects in `namespace`. A list discovery made that holds every one of
   * them (its selector is `key in (…, v)` and this one requires `key=v`) answers, filtered here
   * as the API server filters.
   */
  pods(namespace: string, selector: string): Promise<V1Pod[]> {
    return this.once(`pods ${namespace} ${selector}`, () => {
      const covering = this.seed?.pods.find((read) => read.namespace === namespace && covers(read.selector, selector));
      if (covering) return Promise.resolve(covering.pods.filter((p) => matchesSelector(p.metadata?.labels, selector)));
      return this.cluster.listPods(namespace, selector, this.signal);
    });
  }

  /** A Service; from the namespace's Service list when discovery read it. */
  service(namespace: string, name: string): Promise<V1Service | undefined> {
    return this.once(`service ${namespace}/${name}`, () => {
      const listed = this.seed?.services.find((read) => read.namespace === namespace);
      if (listed) return Promise.resolve(listed.services.find((s) => s.metadata?.name === name));
      return this.cluster.readService(namespace, name, this.signal);
    });
  }

  endpoints(namespace: string, name: string): Promise<V1Endpoints | undefined> {
    return this.once(`endpoints ${namespace}/${name}`, () => this.cluster.readEndpoints(namespace, name, this.signal));
  }

  /**
   * The Service's ready and not-ready endpoints: its EndpointSlices (discovery.k8s.io/v1), or,
   * when the credentials may not list them (403) or the cluster does not serve them (404), its
   * v1 Endpoints.
   */
  serviceEndpoints(namespace: string, name: string): Promise<ServiceEndpoints> {
    return this.once(`service endpoints ${namespace}/${name}`, async () => {
      try {
        const slices = await this.cluster.listEndpointSlices(namespace, name, this.signal);
        return { source: 'EndpointSlices', groups: slices.map(groupOfSlice) } satisfies ServiceEndpoints;
      } catch (err) {
        if (!(err instanceof KubeError) || (err.status !== 403 && err.status !== 404)) throw err;
        const fallback = err.status === 403 ? 'listing EndpointSlices is forbidden' : 'the API server does not serve discovery.k8s.io/v1 EndpointSlices';
        const endpoints = await this.endpoints(namespace, name);
        return { source: 'Endpoints', fallback, groups: (endpoints?.subsets ?? []).map(groupOfSubset) } satisfies ServiceEndpoints;
      }
    });
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

  /**
   * Prometheus's active targets, read once per attempt: only `job`'s when it names a scrape pool
   * (filtered by Prometheus), else every one (see PrometheusClient.targetsOf). Every check of the
   * attempt asks for the same job, the stack's.
   */
  targets(job: string): Promise<TargetsRead> {
    return this.once(`prometheus targets ${job}`, () => this.prometheus.targetsOf(job, this.signal));
  }

  /** Prometheus's running configuration (GET /api/v1/status/config), parsed; read once per attempt, when a check needs it. */
  prometheusConfig(): Promise<PromConfig> {
    return this.once('prometheus config', async () => parsePromConfig(await this.prometheus.configYaml(this.signal)));
  }

  datasources(): Promise<GrafanaDatasource[]> {
    return this.once('grafana datasources', () => this.grafana.datasources(this.signal));
  }

  /** Every dashboard Grafana's search lists (every folder, every page). */
  dashboardHits(): Promise<DashboardHit[]> {
    return this.once('grafana dashboards', () => this.grafana.searchDashboards(this.signal));
  }

  /** A dashboard's JSON model; undefined when Grafana has none with that uid. */
  dashboard(uid: string, signal?: AbortSignal): Promise<DashboardRead | DashboardNotServed | undefined> {
    return this.once(`grafana dashboard ${uid}`, () => this.grafana.dashboard(uid, anyOf(this.signal, signal)));
  }

  /** A library panel's model; undefined when Grafana has none with that uid. */
  libraryElement(uid: string, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    return this.once(`grafana library element ${uid}`, () => this.grafana.libraryElement(uid, anyOf(this.signal, signal)));
  }

  /** Prometheus's values of `label` among the series `matches` select (over `range` in seconds, else all it holds). */
  labelValues(label: string, matches: readonly string[], range?: { startSec: number; endSec: number }, signal?: AbortSignal): Promise<string[]> {
    const key = `prometheus label values ${label} ${JSON.stringify(matches)} ${range ? `${range.startSec}-${range.endSec}` : ''}`;
    return this.once(key, () => this.prometheus.labelValues(label, matches, range, anyOf(this.signal, signal)));
  }
}

/** A signal aborted when either is (undefined when neither is given). */
function anyOf(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

/**
 * Whether every object `selector` selects is also selected by `wide`: the same selector, or `wide`
 * is one `key in (…)` requirement and `selector` requires `key` to be one of its values.
 */
export function covers(wide: string, selector: string): boolean {
  if (wide.trim() === selector.trim()) return true;
  const set = /^\s*(\S+)\s+in\s*\(([^()]*)\)\s*$/.exec(wide);
  if (!set) return false;
  const [, key, list] = set as unknown as [string, string, string];
  const values = new Set(list.split(',').map((v) => v.trim()));
  return splitOutsideParens(selector).some((req) => {
    const eq = /^\s*([^\s=!(),]+)\s*(==|=)\s*([^\s=!(),]*)\s*$/.exec(req);
    if (eq) return eq[1] === key && values.has(eq[3] as string);
    const inner = /^\s*(\S+)\s+in\s*\(([^()]*)\)\s*$/.exec(req);
    return !!inner && inner[1] === key && (inner[2] as string).split(',').every((v) => values.has(v.trim()));
  });
}

function groupOfSlice(slice: V1EndpointSlice): AddressGroup {
  const ready: Address[] = [];
  const notReady: Address[] = [];
  for (const e of slice.endpoints ?? []) {
    const ref = e.targetRef;
    // EndpointConditions.ready: nil is read as ready (discovery.k8s.io/v1 types.go).
    const into = e.conditions?.ready === false ? notReady : ready;
    for (const ip of e.addresses ?? []) into.push({ ip, key: ref?.name ? `${ref.kind ?? ''}/${ref.namespace ?? ''}/${ref.name}` : ip });
  }
  return { ports: (slice.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), ...(p.port !== undefined ? { port: p.port } : {}) })), ready, notReady };
}

function groupOfSubset(subset: NonNullable<V1Endpoints['subsets']>[number]): AddressGroup {
  const address = (a: { ip: string; targetRef?: { kind?: string; namespace?: string; name?: string } }): Address => ({
    ip: a.ip,
    key: a.targetRef?.name ? `${a.targetRef.kind ?? ''}/${a.targetRef.namespace ?? ''}/${a.targetRef.name}` : a.ip,
  });
  return {
    ports: (subset.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
    ready: (subset.addresses ?? []).map(address),
    notReady: (subset.notReadyAddresses ?? []).map(address),
  };
}
