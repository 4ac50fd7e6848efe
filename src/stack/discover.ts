/**
 * Discovery: from a kubeconfig alone, find the Prometheus and the Grafana, the Services in front
 * of them, the way the datasource reaches Grafana, and which stack this is — in a few list calls,
 * once per run. Every input still wins: a given Service, selector or namespace is used as is.
 *
 * The search looks in the `namespace` input, else in the kubeconfig context's namespace first and
 * then in every namespace (when the credentials may list pods at the cluster scope). Pods are
 * found by the labels the common stacks put on them (`app.kubernetes.io/name`, `app`; the
 * Prometheus Operator's pods carry `app.kubernetes.io/name=prometheus` too), grouped by their
 * controller, and matched with the Services whose selector takes them.
 */
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { KubeError, type Cluster, type CustomObject } from '../cluster.js';
import { isReady } from '../endpoint.js';
import { grafanaPathOf, prometheusPathOf, type FoundPath } from '../paths.js';
import { byText } from '../text.js';
import type { ObjectChoice, ServiceRef, Settings } from '../types.js';
import { PROFILES, profileOf, type Facts } from './profiles/index.js';
import { grafanaContainer, provisioningDir, routeOf, sidecarOf, sidecarSelector } from './route.js';
import { defaultQuery, GRAFANA_DATASOURCE_CR, type CredentialSource, type DatasourceRoute, type Found, type GrafanaSite, type Owner, type PrometheusSite, type Problem, type ServiceSite, type Stack, type Workload } from './types.js';

type Component = 'prometheus' | 'grafana';

/** The label selectors every search runs (one list call each): both components at once. */
const NAME_SELECTORS = ['app.kubernetes.io/name in (grafana,prometheus)', 'app in (grafana,prometheus)'];

export const PROMETHEUS_CR = { group: 'monitoring.coreos.com', version: 'v1', plural: 'prometheuses' } as const;

/** The TaskFlow stack's datasource ConfigMap, looked for when the Grafana pod mounts nothing. */
const TASKFLOW_DATASOURCE: ObjectChoice = { kind: 'ConfigMap', name: 'grafana-datasources' };

const WORDS: Record<Component, { title: string; serviceInput: string; selectorInput: string }> = {
  prometheus: { title: 'Prometheus', serviceInput: 'prometheus-service', selectorInput: 'prometheus-selector' },
  grafana: { title: 'Grafana', serviceInput: 'grafana-service', selectorInput: 'grafana-selector' },
};

/** Pods of one controller: one Prometheus (every replica) or one Grafana. */
interface Instance {
  readonly namespace: string;
  readonly owner?: Owner;
  readonly pods: V1Pod[];
  /** The Service chosen in front of it, with its port. */
  service?: { svc: V1Service; port: V1ServicePort };
  /** The label selector that finds the pods again. */
  selector: string;
}

interface Located {
  readonly instance?: Instance;
  readonly problem?: Problem;
  /** A Service input that does not exist, or has no pods: checks report it. */
  readonly serviceProblem?: Problem;
}

/**
 * What discovery read, for the first attempt of the checks to start from (its reads are as fresh
 * as theirs would be): each pod list by its namespace and selector, each namespace's Services.
 */
export interface DiscoveryReads {
  readonly pods: { readonly namespace: string; readonly selector: string; readonly pods: readonly V1Pod[] }[];
  readonly services: { readonly namespace: string; readonly services: readonly V1Service[] }[];
}

export async function discoverStack(settings: Settings, cluster: Cluster, signal?: AbortSignal, reads?: DiscoveryReads): Promise<Stack> {
  return new Discovery(settings, cluster, signal, reads).run();
}

class Discovery {
  private readonly notes: string[] = [];
  private readonly evidence: string[] = [];
  private readonly podSearches = new Map<string, Promise<V1Pod[] | KubeError>>();
  private readonly serviceLists = new Map<string, Promise<V1Service[] | KubeError>>();

  constructor(
    private readonly settings: Settings,
    private readonly cluster: Cluster,
    private readonly signal: AbortSignal | undefined,
    private readonly reads?: DiscoveryReads,
  ) {}

  async run(): Promise<Stack> {
    const [prom, graf] = await Promise.all([this.locate('prometheus'), this.locate('grafana')]);
    const operator = prom.instance ? await this.operatorOf(prom.instance) : undefined;
    const grafanaPod = graf.instance ? pickPod(graf.instance.pods) : undefined;
    const container = grafanaPod ? grafanaContainer(grafanaPod) : undefined;
    const dir = provisioningDir(container, this.settings.datasourceMountPath);
    const sidecar = grafanaPod ? sidecarOf(grafanaPod, container, dir) : undefined;

    let route = grafanaPod ? routeOf(grafanaPod, container, dir, sidecar, this.settings.datasourceObject) : undefined;
    const facts: Facts = {
      prometheusPods: prom.instance?.pods ?? [],
      prometheusService: prom.instance?.service?.svc,
      operator: operator?.object,
      grafanaPods: graf.instance?.pods ?? [],
      grafanaService: graf.instance?.service?.svc,
      route,
    };
    const profile = this.settings.stack === 'auto' ? PROFILES.find((p) => p.recognise(facts) !== undefined) ?? profileOf('generic') : profileOf(this.settings.stack);
    const why = profile.recognise(facts);
    if (this.settings.stack !== 'auto') this.evidence.unshift(`stack ${profile.kind} (the stack input)`);
    else if (why) this.evidence.unshift(`${profile.kind}: ${why}`);
    if (grafanaPod && route?.delivery === 'none' && profile.kind === 'taskflow') route = routeOf(grafanaPod, container, dir, sidecar, TASKFLOW_DATASOURCE);
    if (route?.delivery === 'none' && graf.instance) route = (await this.operatorRoute(graf.instance.namespace, dir)) ?? route;

    const defaults = profile.defaults(facts);
    const prometheus = this.prometheusSite(prom, operator);
    const grafana = this.grafanaSite(graf, container?.name ?? 'grafana', sidecar, grafanaPod);
    const promService = prometheus.ok && prometheus.value.service.ok ? prometheus.value.service.value : undefined;
    const scrapeJob = this.settings.scrapeJob ?? defaults.scrapeJob;
    const byDefault = defaultQuery(scrapeJob);
    const datasource: Found<DatasourceRoute> = route
      ? { ok: true, value: route }
      : { ok: false, problem: graf.problem ?? notFound('grafana', 'no Grafana pod was found, so the datasource provisioning could not be read') };
    return freeze({
      kind: profile.kind,
      forced: this.settings.stack !== 'auto',
      evidence: this.evidence,
      prometheus,
      grafana,
      datasource,
      expect: {
        ...(this.settings.datasourceName ?? defaults.datasourceName ? { datasourceName: this.settings.datasourceName ?? defaults.datasourceName } : {}),
        ...(this.settings.datasourceUrl
          ? { datasourceUrl: this.settings.datasourceUrl }
          : promService?.portNumber
            ? { datasourceUrl: `${serviceUrl(promService)}${prometheus.ok ? prometheus.value.path ?? '' : ''}` }
            : {}),
        datasourceUrlGiven: this.settings.datasourceUrl !== undefined,
        scrapeJob,
        expectedTargets: this.settings.expectedTargets ?? defaults.expectedTargets,
        ...(this.settings.targetLabel ?? defaults.targetLabel ? { targetLabel: this.settings.targetLabel ?? defaults.targetLabel } : {}),
        minTargetsUp: this.settings.minTargetsUp,
        ...(this.settings.query !== undefined ? { query: this.settings.query } : { query: byDefault.query, querySelectors: byDefault.selectors }),
      },
      notes: this.notes,
    });
  }

  // ---- finding a component ---------------------------------------------------------------

  /** Where to look for a component, in order: the input's namespace, else the context's, then everywhere. */
  private scopes(component: Component): (string | undefined)[] {
    const service = this.serviceInput(component);
    const ns = service?.namespace ?? this.settings.namespace;
    if (ns) return [ns];
    return [this.cluster.defaultNamespace, undefined];
  }

  private serviceInput(component: Component): ServiceRef | undefined {
    return component === 'prometheus' ? this.settings.prometheusService : this.settings.grafanaService;
  }

  private selectorInput(component: Component): string | undefined {
    return component === 'prometheus' ? this.settings.prometheusSelector : this.settings.grafanaSelector;
  }

  private async locate(component: Component): Promise<Located> {
    const service = this.serviceInput(component);
    if (service) return this.locateByService(component, service);
    const selector = this.selectorInput(component);
    const scopes = this.scopes(component);
    // The Services of the namespace searched first are read with its pods, not after them: where
    // the pods are found there, the Service in front of them is looked for among these.
    if (scopes[0] !== undefined) this.services(scopes[0]).catch(() => undefined);
    let refused: KubeError | undefined;
    for (const scope of scopes) {
      const pods = await this.searchPods(scope, selector);
      if (pods instanceof KubeError) {
        if (scope === undefined && pods.status === 403) {
          this.note(`the credentials may not list pods at the cluster scope, so only namespace ${scopes[0]} was searched for ${WORDS[component].title}`);
        } else refused ??= pods;
        continue;
      }
      const mine = selector ? pods : pods.filter((p) => isComponent(p, component));
      if (!mine.length) continue;
      return this.choose(component, mine, scope);
    }
    if (refused) return { problem: unreadable(component, refused) };
    const where = scopes.length === 1 ? `namespace ${scopes[0]}` : `namespace ${scopes[0]} or any namespace the credentials may list`;
    const labels = selector ?? (component === 'prometheus' ? 'app.kubernetes.io/name=prometheus or app=prometheus' : 'app.kubernetes.io/name=grafana or app=grafana');
    return { problem: notFound(component, `no ${WORDS[component].title} pod found: searched pods labelled ${labels} in ${where}`) };
  }

  /** The `*-service` input names the Service: its pods are the component (the selector input wins). */
  private async locateByService(component: Component, ref: ServiceRef): Promise<Located> {
    const ns = ref.namespace ?? this.settings.namespace ?? this.cluster.defaultNamespace;
    const w = WORDS[component];
    let svc: V1Service | undefined;
    try {
      svc = await this.cluster.readService(ns, ref.name, this.signal);
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      return { problem: unreadable(component, err) };
    }
    const selector = this.selectorInput(component) ?? selectorText(svc?.spec?.selector);
    const serviceProblem: Problem | undefined = svc
      ? undefined
      : { code: 'not-found', message: `Service ${ns}/${ref.name} (the ${w.serviceInput} input) does not exist`, hint: `Create it, or set ${w.serviceInput} to the Service in front of ${w.title} (kubectl get svc -A).` };
    if (!selector) {
      return { problem: serviceProblem ?? notFound(component, `Service ${ns}/${ref.name} has no selector, so its pods cannot be found; set the ${w.selectorInput} input`), serviceProblem };
    }
    const pods = await this.searchPods(ns, selector);
    if (pods instanceof KubeError) return { problem: unreadable(component, pods), serviceProblem };
    const port = svc ? findPort(svc, ref.port) : undefined;
    const instance: Instance = { namespace: ns, pods, selector, ...(svc && port ? { service: { svc, port } } : {}), ...ownerOf(pods) };
    this.evidence.push(`${w.title}: Service ${ns}/${ref.name} from the ${w.serviceInput} input, ${pods.length} pod${pods.length === 1 ? '' : 's'}`);
    if (svc && !port) {
      return { instance, serviceProblem: { code: 'not-found', message: `Service ${ns}/${ref.name} does not expose port ${ref.port} (it has: ${portList(svc)})`, hint: `Add port ${ref.port} to the Service, or set the ${w.serviceInput} input to one of its ports.` } };
    }
    return { instance, serviceProblem };
  }

  /** Groups the pods by controller and picks the one instance with a Service in front of it. */
  private async choose(component: Component, pods: V1Pod[], scope: string | undefined): Promise<Located> {
    const w = WORDS[component];
    const instances = groupByController(pods);
    await Promise.all(instances.map((i) => this.attachService(component, i)));
    const served = instances.filter((i) => i.service);
    const candidates = served.length ? served : instances;
    if (candidates.length > 1) {
      const names = candidates.map(instanceName);
      return {
        problem: {
          code: 'ambiguous',
          message: `found ${candidates.length} ${w.title}s: ${names.join(' and ')}`,
          hint: `Set the ${w.serviceInput} input to the one to check (namespace/name:port, e.g. ${names[0]}), or the namespace input.`,
          candidates: names,
        },
      };
    }
    const instance = candidates[0] as Instance;
    const others = instances.length - 1;
    this.evidence.push(
      `${w.title}: ${instanceName(instance)}, ${instance.pods.length} pod${instance.pods.length === 1 ? '' : 's'}${scope === undefined ? '' : ` in namespace ${scope}`}${others ? ` (${others} other pod group${others === 1 ? '' : 's'} without a Service ignored)` : ''}`,
    );
    return { instance };
  }

  /** The Service whose selector takes every pod of the instance; a headless one only when no other. */
  private async attachService(component: Component, instance: Instance): Promise<void> {
    const services = await this.services(instance.namespace);
    if (services instanceof KubeError) {
      this.note(`the Services of namespace ${instance.namespace} could not be listed (${services.status === 403 ? 'list services is forbidden' : services.message})`);
      return;
    }
    const fronting = services.filter((s) => {
      const sel = s.spec?.selector;
      return sel && Object.keys(sel).length && instance.pods.every((p) => Object.entries(sel).every(([k, v]) => p.metadata?.labels?.[k] === v));
    });
    const ranked = fronting
      .map((svc) => ({ svc, port: mainPort(component, svc, instance.pods[0]) }))
      .filter((x): x is { svc: V1Service; port: V1ServicePort } => x.port !== undefined)
      .sort((a, b) => rank(a.svc) - rank(b.svc));
    const best = ranked[0];
    if (best) {
      instance.service = best;
      if (!this.selectorInput(component)) instance.selector = selectorText(best.svc.spec?.selector);
    }
  }

  private searchPods(scope: string | undefined, selector: string | undefined): Promise<V1Pod[] | KubeError> {
    const key = `${scope ?? '*'} ${selector ?? ''}`;
    let p = this.podSearches.get(key);
    if (!p) {
      const selectors = selector ? [selector] : NAME_SELECTORS;
      p = Promise.all(
        selectors.map((s) =>
          this.cluster.listPods(scope, s, this.signal).then((pods) => {
            if (scope !== undefined) this.reads?.pods.push({ namespace: scope, selector: s, pods });
            return pods;
          }),
        ),
      ).then(
        (lists) => dedupe(lists.flat()),
        (err: unknown) => {
          if (err instanceof KubeError) return err;
          throw err;
        },
      );
      this.podSearches.set(key, p);
    }
    return p;
  }

  private services(namespace: string): Promise<V1Service[] | KubeError> {
    let p = this.serviceLists.get(namespace);
    if (!p) {
      p = this.cluster.listServices(namespace, this.signal).then((services) => {
        this.reads?.services.push({ namespace, services });
        return services;
      }, (err: unknown) => {
        if (err instanceof KubeError) return err;
        throw err;
      });
      this.serviceLists.set(namespace, p);
    }
    return p;
  }

  /** The Prometheus object of the operator that runs these pods, when readable. */
  private async operatorOf(instance: Instance): Promise<{ name: string; namespace: string; object?: CustomObject } | undefined> {
    const labels = instance.pods[0]?.metadata?.labels ?? {};
    const name = labels['operator.prometheus.io/name'] ?? (labels['app.kubernetes.io/managed-by'] === 'prometheus-operator' ? labels.prometheus : undefined);
    if (!name) return undefined;
    const ns = instance.namespace;
    try {
      const object = await this.cluster.readCustom(PROMETHEUS_CR, ns, name, this.signal);
      if (!object) this.note(`Prometheus ${ns}/${name} (monitoring.coreos.com/v1) could not be read: not found`);
      this.evidence.push(`Prometheus Operator: Prometheus ${ns}/${name}${object ? '' : ' (object not read)'}`);
      return { name, namespace: ns, ...(object ? { object } : {}) };
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      this.note(`Prometheus ${ns}/${name} (monitoring.coreos.com/v1) could not be read: ${err.status === 403 ? 'get prometheuses.monitoring.coreos.com is forbidden' : err.message}; monitor selection is not diagnosed`);
      this.evidence.push(`Prometheus Operator: Prometheus ${ns}/${name} (pods labelled operator.prometheus.io/name=${name})`);
      return { name, namespace: ns };
    }
  }

  /** grafana-operator's GrafanaDatasource objects in Grafana's namespace, when the cluster has them. */
  private async operatorRoute(namespace: string, dir: string): Promise<DatasourceRoute | undefined> {
    let objects: CustomObject[];
    try {
      objects = await this.cluster.listCustom(GRAFANA_DATASOURCE_CR, namespace, undefined, this.signal);
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      if (err.status === 403) this.note(`GrafanaDatasource objects (grafana.integreatly.org) in ${namespace} could not be listed: list grafanadatasources is forbidden`);
      return undefined;
    }
    if (!objects.length) return undefined;
    const names = objects.map((o) => o.metadata?.name ?? '');
    this.evidence.push(`grafana-operator: GrafanaDatasource ${names.map((n) => `${namespace}/${n}`).join(', ')}`);
    return {
      delivery: 'grafana-operator',
      dir,
      objects: names.map((name) => ({ kind: 'GrafanaDatasource', namespace, name })),
      description: `grafana-operator GrafanaDatasource ${names.join(', ')} in ${namespace}`,
    };
  }

  // ---- the sites -------------------------------------------------------------------------

  private prometheusSite(found: Located, operator: { name: string; namespace: string; object?: CustomObject } | undefined): Found<PrometheusSite> {
    if (!found.instance) return { ok: false, problem: found.problem as Problem };
    const i = found.instance;
    const pod = pickPod(i.pods);
    const container = pod?.spec?.containers?.find((c) => c.name === 'prometheus' || c.name === 'prometheus-server') ?? pod?.spec?.containers?.find((c) => /prometheus/.test(c.image ?? '') && !/reload|operator/.test(c.image ?? ''));
    const release = labelOf([found.instance.service?.svc, operator?.object], 'release');
    const path = this.pathOf('Prometheus', this.settings.prometheusPath, prometheusPathOf(container), 'prometheus-path');
    return {
      ok: true,
      value: {
        workload: workloadOf(i, release),
        service: this.serviceSite('prometheus', found),
        ...(path ? { path } : {}),
        container: container?.name ?? 'prometheus',
        ...(pod?.spec?.serviceAccountName ? { serviceAccount: pod.spec.serviceAccountName } : {}),
        ...(operator ? { operator: { namespace: operator.namespace, name: operator.name, ...(operator.object?.spec ? { spec: operator.object.spec } : {}) } } : {}),
      },
    };
  }

  private grafanaSite(found: Located, container: string, sidecar: GrafanaSite['sidecar'], pod: V1Pod | undefined): Found<GrafanaSite> {
    if (!found.instance) return { ok: false, problem: found.problem as Problem };
    const labels = pod?.metadata?.labels ?? {};
    const release = labels.release ?? labels['app.kubernetes.io/instance'];
    const credentials = credentialsOf(pod, container);
    const path = this.pathOf('Grafana', this.settings.grafanaPath, grafanaPathOf(pod?.spec?.containers?.find((c) => c.name === container)), 'grafana-path');
    if (sidecar) this.evidence.push(`Grafana datasource sidecar: container ${sidecar.container}, ${sidecarSelector(sidecar)}`);
    return {
      ok: true,
      value: {
        workload: workloadOf(found.instance, release),
        service: this.serviceSite('grafana', found),
        container,
        ...(sidecar ? { sidecar } : {}),
        ...(credentials ? { credentials } : {}),
        ...(path ? { path } : {}),
      },
    };
  }

  private serviceSite(component: Component, found: Located): Found<ServiceSite> {
    const w = WORDS[component];
    if (found.serviceProblem) return { ok: false, problem: found.serviceProblem };
    const i = found.instance as Instance;
    if (!i.service) {
      return {
        ok: false,
        problem: {
          code: 'not-found',
          message: `no Service in namespace ${i.namespace} selects the ${w.title} pods (${i.pods.map((p) => p.metadata?.name).join(', ')})`,
          hint: `Create a Service in front of ${w.title} (kubectl expose ${i.owner ? `${i.owner.kind.toLowerCase()}/${i.owner.name}` : 'pod'} -n ${i.namespace} --port ${component === 'prometheus' ? 9090 : 3000}), or set the ${w.serviceInput} input.`,
        },
      };
    }
    const ref = this.serviceInput(component);
    const { svc, port } = i.service;
    return { ok: true, value: { namespace: i.namespace, name: svc.metadata?.name ?? '', port: ref?.port ?? String(port.port), portNumber: port.port } };
  }

  /** The path prefix of a component's HTTP API: the input, else what its container says (in the evidence). */
  private pathOf(title: string, given: string | undefined, found: FoundPath | { readonly unknown: string } | undefined, input: string): string {
    if (given !== undefined) return given;
    if (!found) return '';
    if ('unknown' in found) {
      this.note(`${title} serves from a sub-path (${found.unknown}): set the ${input} input to it`);
      return '';
    }
    if (found.path) this.evidence.push(`${title} serves its HTTP API under ${found.path} (${found.from})`);
    return found.path;
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function isComponent(pod: V1Pod, component: Component): boolean {
  const labels = pod.metadata?.labels ?? {};
  return labels['app.kubernetes.io/name'] === component || labels.app === component;
}

function dedupe(pods: V1Pod[]): V1Pod[] {
  const seen = new Map<string, V1Pod>();
  for (const p of pods) seen.set(p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`, p);
  // Plain code-unit order: names are DNS labels, and localeCompare would load ICU's collator on every run.
  return [...seen.values()].sort((a, b) => byText(`${a.metadata?.namespace}/${a.metadata?.name}`, `${b.metadata?.namespace}/${b.metadata?.name}`));
}

/** The controller a pod belongs to: its owner, a ReplicaSet standing for its Deployment. */
export function controllerOf(pod: V1Pod): Owner | undefined {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    const name = hash && ref.name.endsWith(`-${hash}`) ? ref.name.slice(0, -hash.length - 1) : ref.name.replace(/-[a-z0-9]{5,10}$/, '');
    return { kind: 'Deployment', name };
  }
  return { kind: ref.kind, name: ref.name };
}

function groupByController(pods: V1Pod[]): Instance[] {
  const groups = new Map<string, Instance>();
  for (const pod of pods) {
    const owner = controllerOf(pod);
    const ns = pod.metadata?.namespace ?? '';
    const key = `${ns}/${owner ? `${owner.kind}/${owner.name}` : `Pod/${pod.metadata?.name}`}`;
    let g = groups.get(key);
    if (!g) {
      g = { namespace: ns, pods: [], selector: '', ...(owner ? { owner } : {}) };
      groups.set(key, g);
    }
    g.pods.push(pod);
  }
  for (const g of groups.values()) g.selector = commonLabels(g.pods);
  return [...groups.values()];
}

function ownerOf(pods: V1Pod[]): { owner?: Owner } {
  const owner = pods[0] ? controllerOf(pods[0]) : undefined;
  return owner ? { owner } : {};
}

/** A selector for a group of pods without a Service: the component labels they share. */
function commonLabels(pods: V1Pod[]): string {
  const first = pods[0]?.metadata?.labels ?? {};
  const keys = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app', 'operator.prometheus.io/name', 'release'];
  return keys.filter((k) => first[k] !== undefined && pods.every((p) => p.metadata?.labels?.[k] === first[k])).map((k) => `${k}=${first[k]}`).join(',');
}

function instanceName(i: Instance): string {
  if (i.service) return `${i.namespace}/${i.service.svc.metadata?.name}:${i.service.port.port}`;
  return `${i.namespace}/${i.owner ? `${i.owner.kind.toLowerCase()}/${i.owner.name}` : i.pods[0]?.metadata?.name}`;
}

/** Headless Services (the operator's governing `prometheus-operated`) rank after ordinary ones. */
function rank(svc: V1Service): number {
  return svc.spec?.clusterIP === 'None' ? 1 : 0;
}

/** The container port a Service port leads to on a pod (named target ports resolved). */
function targetOf(port: V1ServicePort, pod: V1Pod | undefined): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === 'number' || /^\d+$/.test(String(t))) return Number(t);
  for (const c of pod?.spec?.containers ?? []) {
    const named = c.ports?.find((p) => p.name === t);
    if (named) return named.containerPort;
  }
  return undefined;
}

/** The Service port of the component's HTTP API: the one leading to its main container port. */
function mainPort(component: Component, svc: V1Service, pod: V1Pod | undefined): V1ServicePort | undefined {
  const ports = svc.spec?.ports ?? [];
  if (ports.length <= 1) return ports[0];
  const wanted = component === 'prometheus' ? 9090 : 3000;
  return (
    ports.find((p) => targetOf(p, pod) === wanted) ??
    ports.find((p) => ['web', 'http-web', 'http', 'service', component].includes(p.name ?? '')) ??
    ports.find((p) => !/reload|metrics|grpc/.test(p.name ?? '')) ??
    ports[0]
  );
}

function findPort(svc: V1Service, port: string): V1ServicePort | undefined {
  return svc.spec?.ports?.find((p) => String(p.port) === port || p.name === port);
}

function portList(svc: V1Service): string {
  return (svc.spec?.ports ?? []).map((p) => (p.name ? `${p.name}:${p.port}` : String(p.port))).join(', ') || 'none';
}

function selectorText(sel: Record<string, string> | undefined): string {
  return Object.entries(sel ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The pod the checks look at first: Ready, else Running, else the first. */
export function pickPod(pods: readonly V1Pod[]): V1Pod | undefined {
  return pods.find(isReady) ?? pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
}

function workloadOf(i: Instance, release: string | undefined): Workload {
  return {
    namespace: i.namespace,
    selector: i.selector,
    pods: i.pods.map((p) => p.metadata?.name ?? ''),
    ...(i.owner ? { owner: i.owner } : {}),
    ...(release ? { release } : {}),
  };
}

function labelOf(objects: readonly ({ metadata?: { labels?: Record<string, string> } } | undefined)[], key: string): string | undefined {
  for (const o of objects) {
    const v = o?.metadata?.labels?.[key];
    if (v) return v;
  }
  return undefined;
}

/** The Secret the grafana container's GF_SECURITY_ADMIN_PASSWORD env refers to (and the user's). */
function credentialsOf(pod: V1Pod | undefined, container: string): CredentialSource | undefined {
  const c = pod?.spec?.containers?.find((x) => x.name === container);
  const password = c?.env?.find((e) => e.name === 'GF_SECURITY_ADMIN_PASSWORD')?.valueFrom?.secretKeyRef;
  if (!password?.name) return undefined;
  const user = c?.env?.find((e) => e.name === 'GF_SECURITY_ADMIN_USER');
  const userRef = user?.valueFrom?.secretKeyRef;
  return {
    secret: password.name,
    passwordKey: password.key,
    ...(userRef?.name === password.name ? { userKey: userRef.key } : {}),
    ...(user?.value ? { user: user.value } : {}),
  };
}

/** `http://prometheus.taskflow.svc.cluster.local:9090`: the Service as Grafana's pod reaches it. */
export function serviceUrl(s: ServiceSite): string {
  return `http://${s.name}.${s.namespace}.svc.cluster.local:${s.portNumber ?? s.port}`;
}

function notFound(component: Component, message: string): Problem {
  const w = WORDS[component];
  return {
    code: 'not-found',
    message,
    hint: `Deploy ${w.title}, or point at it with the ${w.serviceInput} input (namespace/name:port) or the namespace and ${w.selectorInput} inputs.`,
  };
}

function unreadable(component: Component, err: KubeError): Problem {
  const w = WORDS[component];
  return {
    code: 'unreadable',
    message: `${w.title} could not be searched for: ${err.message}`,
    hint: err.hint ?? `Check the credentials, or set the ${w.serviceInput} input.`,
  };
}

function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}

