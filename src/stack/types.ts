/**
 * The stack: what discovery found in the cluster, once per run, and every default that follows
 * from it — where Prometheus and Grafana are, how the datasource reaches Grafana, which scrape
 * job and query to check. The checks read it the way they read Settings: typed and frozen. What
 * discovery could not settle is a `Problem` the checks that need it report.
 */
import type { ObjectChoice, StackKind } from '../types.js';

/** Why a part of the stack is unknown: nothing found, or several equally good candidates. */
export interface Problem {
  readonly code: 'not-found' | 'ambiguous' | 'unreadable';
  /** What was searched and what came of it, one sentence. */
  readonly message: string;
  /** What to do: deploy it, or the input that pins it. */
  readonly hint: string;
  /** The candidates, for `ambiguous`: `monitoring/kps-grafana:80`. */
  readonly candidates?: readonly string[];
}

export type Found<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: Problem };

/** A Service in front of a component, with the port the action talks to. */
export interface ServiceSite {
  readonly namespace: string;
  readonly name: string;
  /** As given or found: a number or a port name (what the service proxy is asked for). */
  readonly port: string;
  /** The port's number, when the Service was read. */
  readonly portNumber?: number;
}

/** The controller of a component's pods, for hints (`kubectl rollout restart deployment/grafana`). */
export interface Owner {
  readonly kind: string;
  readonly name: string;
}

/** The pods of a component: where they are and the selector that finds them again. */
export interface Workload {
  readonly namespace: string;
  /** Label selector of the pods: the input, else the Service's selector, else the labels discovery matched. */
  readonly selector: string;
  /** The pods discovery saw (names), for the summary. */
  readonly pods: readonly string[];
  readonly owner?: Owner;
  /** The Helm release the pods belong to (`app.kubernetes.io/instance` / `release`), when labelled. */
  readonly release?: string;
}

/** A `Prometheus` object of the Prometheus Operator that runs the pods. */
export interface OperatorPrometheus {
  readonly namespace: string;
  readonly name: string;
  /** The object, when the credentials may read it. */
  readonly spec?: Readonly<Record<string, unknown>>;
}

export interface PrometheusSite {
  readonly workload: Workload;
  readonly service: Found<ServiceSite>;
  /** The main container (serving the HTTP API). */
  readonly container: string;
  readonly serviceAccount?: string;
  readonly operator?: OperatorPrometheus;
  /** The path prefix its HTTP API is served under (`/prometheus`): the input, else its `--web.route-prefix`; absent: the root. */
  readonly path?: string;
}

/** Grafana's datasource sidecar (kiwigrid/k8s-sidecar), as its container's environment configures it. */
export interface Sidecar {
  readonly container: string;
  readonly label: string;
  /** Absent: any value of the label. */
  readonly labelValue?: string;
  readonly folder: string;
  /** `ALL`, or the namespaces it watches (its own by default). */
  readonly namespaces: 'ALL' | readonly string[];
  readonly resource: 'configmap' | 'secret' | 'both';
  /** `LIST` runs once (init container); `WATCH` (default) follows changes. */
  readonly method: string;
  readonly init: boolean;
}

/** Where Grafana's admin credentials are in the cluster (the grafana container's env). */
export interface CredentialSource {
  readonly secret: string;
  readonly userKey?: string;
  readonly passwordKey: string;
  /** The user given literally in the env (`GF_SECURITY_ADMIN_USER: admin`). */
  readonly user?: string;
}

export interface GrafanaSite {
  readonly workload: Workload;
  readonly service: Found<ServiceSite>;
  readonly container: string;
  readonly sidecar?: Sidecar;
  readonly credentials?: CredentialSource;
  /** The sub-path it serves from (`/grafana`): the input, else its root_url's path with serve_from_sub_path; absent: the root. */
  readonly path?: string;
}

/** grafana-operator's datasource objects. */
export const GRAFANA_DATASOURCE_CR = { group: 'grafana.integreatly.org', version: 'v1beta1', plural: 'grafanadatasources' } as const;
/** grafana-operator's dashboard objects, and its Grafana instances (which dashboards go to which Grafana). */
export const GRAFANA_DASHBOARD_CR = { group: 'grafana.integreatly.org', version: 'v1beta1', plural: 'grafanadashboards' } as const;
export const GRAFANA_CR = { group: 'grafana.integreatly.org', version: 'v1beta1', plural: 'grafanas' } as const;

/** An object that carries provisioning files (or, for grafana-operator, a datasource), and which of its keys land where. */
export interface SourceObject {
  readonly kind: 'ConfigMap' | 'Secret' | 'GrafanaDatasource';
  readonly namespace: string;
  readonly name: string;
  /** A volume's `items` (key → relative path); absent: every key under its own name. */
  readonly items?: readonly { readonly key: string; readonly path: string }[];
  readonly optional?: boolean;
}

/**
 * How the datasource reaches Grafana:
 * - `configmap`, `secret`, `projected`: a volume of that kind, mounted in the grafana container
 *   at the provisioning directory (TaskFlow, kube-prometheus, hand-made stacks);
 * - `sidecar`: objects carrying the sidecar's label, copied into a volume shared with Grafana
 *   (kube-prometheus-stack, the grafana chart);
 * - `grafana-operator`: `GrafanaDatasource` objects the operator writes through Grafana's API;
 * - `unmounted`: an object named by the input, or found in the cluster, that the pod does not mount;
 * - `none`: nothing provisions a datasource.
 */
export type Delivery = 'configmap' | 'secret' | 'projected' | 'sidecar' | 'grafana-operator' | 'unmounted' | 'none';

export interface DatasourceRoute {
  readonly delivery: Delivery;
  /** The provisioning directory Grafana reads (GF_PATHS_PROVISIONING + /datasources, or the input). */
  readonly dir: string;
  /** For volumes and `unmounted`: the objects. */
  readonly objects: readonly SourceObject[];
  /** The volume that carries the files into the container. */
  readonly volume?: string;
  readonly sidecar?: Sidecar;
  /** The `datasource-configmap` input, when given. */
  readonly chosen?: ObjectChoice;
  /** `Secret monitoring/grafana-datasources mounted at /etc/grafana/provisioning/datasources`. */
  readonly description: string;
}

/** What the checks look for and require, from the inputs and the stack's defaults. */
export interface Expectations {
  /** The datasource's name in Grafana; absent: the Prometheus datasource the stack provisions. */
  readonly datasourceName?: string;
  /** Expected datasource URL; absent when the Prometheus Service is unknown. */
  readonly datasourceUrl?: string;
  /** True when `datasource-url` was given (a different Service is then not accepted). */
  readonly datasourceUrlGiven: boolean;
  /** A scrape pool or job label; `''`: every scrape pool. */
  readonly scrapeJob: string;
  readonly expectedTargets: readonly string[];
  /** Absent: the first of app, app.kubernetes.io/name, service, job that the targets carry. */
  readonly targetLabel?: string;
  readonly minTargetsUp: number;
  readonly query: string;
  /**
   * The query's vector selectors when the action wrote the query itself (the default
   * `up{job="…"}`, or `up`): known as written, so the PromQL grammar need not be loaded to find
   * them. Absent for the `query` input, which is parsed.
   */
  readonly querySelectors?: readonly QuerySelector[];
}

/** A vector selector of a query: as written, and its metric name. */
export interface QuerySelector {
  readonly text: string;
  readonly metric?: string;
}

/**
 * The query checked when the `query` input is not given: `up` of the scrape job when the job is a
 * `job` label value (a scrape pool, `serviceMonitor/…/0`, is not), else every target's `up`.
 * The job is written as a PromQL string (JSON's escapes are Go's, which PromQL's strings take).
 */
export function defaultQuery(scrapeJob: string): { readonly query: string; readonly selectors: readonly QuerySelector[] } {
  const query = scrapeJob && !scrapeJob.includes('/') ? `up{job=${JSON.stringify(scrapeJob)}}` : 'up';
  return { query, selectors: [{ text: query, metric: 'up' }] };
}

export interface Stack {
  readonly kind: StackKind;
  /** True when the `stack` input named it. */
  readonly forced: boolean;
  /** Why this stack was recognised, and what was found where. */
  readonly evidence: readonly string[];
  readonly prometheus: Found<PrometheusSite>;
  readonly grafana: Found<GrafanaSite>;
  readonly datasource: Found<DatasourceRoute>;
  readonly expect: Expectations;
  /** What discovery could not read (refused lists), said in the report. */
  readonly notes: readonly string[];
}

/** The value, or undefined when discovery did not settle it. */
export function value<T>(found: Found<T>): T | undefined {
  return found.ok ? found.value : undefined;
}

/** `monitoring/kps-grafana:80`. */
export function describeService(s: ServiceSite): string {
  return `${s.namespace}/${s.name}:${s.portNumber ?? s.port}`;
}
