/**
 * Prometheus run by the Prometheus Operator: why a ServiceMonitor's or PodMonitor's scrape pool
 * has no target. The links, upstream first (prometheus-operator Documentation/platform/
 * troubleshooting.md, "Troubleshooting ServiceMonitor changes"):
 *
 * 1. the Prometheus object selects the monitor — its serviceMonitorSelector (podMonitorSelector)
 *    matches the monitor's labels (nil selects none, `{}` all), and its
 *    serviceMonitorNamespaceSelector the monitor's namespace (nil: the Prometheus's own only);
 * 2. the operator put the monitor's jobs (`serviceMonitor/<ns>/<name>/<i>`) into the running
 *    configuration (it leaves out monitors it rejects as invalid);
 * 3. Prometheus's ServiceAccount may list and watch endpoints (or endpointslices), services and
 *    pods in the namespaces the monitor discovers in;
 * 4. the monitor's selector matches a Service (pods, for a PodMonitor) there, and its endpoint's
 *    `port` is the NAME of one of the Service's ports (a number there matches nothing);
 * 5. the Service has endpoints.
 *
 * Reading monitors, the Prometheus object and namespaces needs optional rights: a refusal becomes a
 * note naming the read, and what the running configuration shows is used instead.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { CustomObject } from '../../cluster.js';
import type { Target } from '../../prometheus.js';
import { PROMETHEUS_CR } from '../../stack/discover.js';
import type { OperatorPrometheus } from '../../stack/types.js';
import { byText } from '../../text.js';
import type { Finding } from '../types.js';
import { jobNamespaces, type JobConfig, type PromConfig } from './config.js';
import { keysOf, readSelector, selectorString, selectsEverything, unmet, type LabelSelector, type Labels } from '../../label-selector.js';
import {
  monitorName,
  monitorObject,
  monitorOf,
  POD_MONITOR,
  podJob,
  poolMonitor,
  poolPrefix,
  SERVICE_MONITOR,
  serviceJob,
  servicePortText,
  targetNamespaces,
  type Monitor,
  type MonitorKind,
} from './monitors.js';
import { evidence, labelText, plural, type Probe } from './probe.js';
import { jobsScope, rbacFindings, type DiscoveryScope } from './rbac.js';

/** Monitors explained one by one; the others are counted in a note. */
const MAX_MONITORS = 5;

/** Which monitors to look at. */
export interface MonitorScope {
  /** Scrape pools: the scrape-job input's, or the pools a warning names. */
  readonly pools?: readonly string[];
  /** Values of a target label no UP target has (`job` values such as `node-exporter`, or another label's). */
  readonly values?: { readonly label: string; readonly values: readonly string[] };
  /** Every monitor (no scrape-job: every pool). */
  readonly every?: boolean;
}

type Spec = Readonly<Record<string, unknown>>;

const TYPES: Record<MonitorKind, typeof SERVICE_MONITOR | typeof POD_MONITOR> = { ServiceMonitor: SERVICE_MONITOR, PodMonitor: POD_MONITOR };
const PLURAL: Record<MonitorKind, string> = { ServiceMonitor: 'ServiceMonitors', PodMonitor: 'PodMonitors' };
const FIELD: Record<MonitorKind, string> = { ServiceMonitor: 'serviceMonitor', PodMonitor: 'podMonitor' };

/** The state one diagnosis shares: the Prometheus object, its targets and running configuration. */
class Operator {
  constructor(
    readonly p: Probe,
    readonly prometheus: OperatorPrometheus,
    /** The Prometheus object's spec; undefined when it could not be read. */
    readonly spec: Spec | undefined,
    readonly targets: readonly Target[],
    readonly config: PromConfig | undefined,
  ) {}

  get name(): string {
    return `Prometheus ${this.prometheus.namespace}/${this.prometheus.name}`;
  }

  /** Every monitor of a kind (cluster-wide); undefined (with a note) when refused. */
  async list(kind: MonitorKind): Promise<Monitor[] | undefined> {
    const objects = await this.p.customs(TYPES[kind], PLURAL[kind], undefined);
    return objects?.map((o: CustomObject) => monitorOf(kind, o)).sort((a, b) => byText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  }

  /** The Services of the namespaces a monitor discovers in (undefined namespaces: only the monitor's and Prometheus's, as a best guess). */
  async services(namespaces: readonly string[]): Promise<{ services: V1Service[]; complete: boolean }> {
    const lists = await Promise.all(namespaces.map((ns) => this.p.services(ns)));
    return { services: lists.flatMap((l) => l ?? []), complete: lists.every((l) => l !== undefined) };
  }

  async pods(namespaces: readonly string[], selector: LabelSelector): Promise<{ pods: V1Pod[]; complete: boolean }> {
    const text = selectorString(selector);
    const lists = await Promise.all(namespaces.map((ns) => this.p.pods(ns, text)));
    return { pods: lists.flatMap((l) => l ?? []), complete: lists.every((l) => l !== undefined) };
  }

  /** The monitor's jobs in the running configuration (undefined: not read). */
  jobsOf(m: Monitor, endpoint?: number): JobConfig[] | undefined {
    const prefix = poolPrefix(m);
    return this.config?.jobs.filter((j) => (endpoint === undefined ? j.name.startsWith(prefix) : j.name === `${prefix}${endpoint}`));
  }

  poolTargets(m: Monitor, endpoint?: number): Target[] {
    const prefix = poolPrefix(m);
    return this.targets.filter((t) => (endpoint === undefined ? t.scrapePool.startsWith(prefix) : t.scrapePool === `${prefix}${endpoint}`));
  }

  /** What discovery reads for a monitor: the role the operator generates (EndpointSlice when the Prometheus or the monitor asks for it). */
  roleOf(m: Monitor): string {
    if (m.kind === 'PodMonitor') return 'pod';
    const role = m.discoveryRole ?? (typeof this.spec?.serviceDiscoveryRole === 'string' ? this.spec.serviceDiscoveryRole : undefined);
    return role === 'EndpointSlice' ? 'endpointslice' : 'endpoints';
  }
}

/** Findings about the monitors in `scope`; DOWN targets are not explained here. */
export async function operatorFindings(p: Probe, scope: MonitorScope, targets: readonly Target[], config: PromConfig | undefined): Promise<Finding[]> {
  const prometheus = p.site?.operator;
  if (!prometheus) return [];
  let spec = prometheus.spec;
  if (!spec) {
    // Read it again for the exact refusal; discovery's note says it too.
    const object = await p.custom(PROMETHEUS_CR, `Prometheus ${prometheus.namespace}/${prometheus.name}`, prometheus.namespace, prometheus.name);
    spec = object?.spec;
    if (object === null) p.note(`Prometheus ${prometheus.namespace}/${prometheus.name} not read: it does not exist`);
  }
  const op = new Operator(p, prometheus, spec, targets, config);
  const candidates = await candidatesOf(op, scope);
  const findings: Finding[] = [...candidates.findings];
  let explained = 0;
  let more = 0;
  for (const c of candidates.monitors) {
    const found = await monitorFindings(op, c.monitor, c.endpoint);
    if (!found.length) continue;
    if (explained >= MAX_MONITORS) {
      more++;
      continue;
    }
    explained++;
    for (const f of found) if (!findings.some((x) => x.cause === f.cause)) findings.push(f);
  }
  if (more) p.note(`${plural(more, 'more monitor')} without targets not explained one by one`);
  if (candidates.unread) findings.push(...(await fromConfig(op, scope)));
  return findings;
}

interface Candidate {
  readonly monitor: Monitor;
  readonly endpoint?: number;
}

/** The monitors the scope names, and findings about those that cannot be found. */
async function candidatesOf(op: Operator, scope: MonitorScope): Promise<{ monitors: Candidate[]; findings: Finding[]; unread: boolean }> {
  const { p } = op;
  const monitors: Candidate[] = [];
  const findings: Finding[] = [];
  let unread = false;

  for (const pool of scope.pools ?? []) {
    const ref = poolMonitor(pool);
    if (!ref) continue;
    const object = await p.custom(TYPES[ref.kind], `${monitorName(ref)}`, ref.namespace, ref.name);
    if (object === undefined) {
      unread = true;
      continue;
    }
    if (object === null) {
      const pools = [...new Set(op.targets.map((t) => t.scrapePool))];
      findings.push({
        cause: `${monitorName(ref)}, whose scrape pool ${pool} is checked, does not exist`,
        fix: `Create it (kubectl get ${ref.kind.toLowerCase()}s -A lists the monitors), or set the scrape-job input to a pool Prometheus scrapes${pools.length ? ` (${pools.slice(0, 5).join(', ')})` : ''}`,
      });
      continue;
    }
    const monitor = monitorOf(ref.kind, object);
    if (!monitors.some((c) => c.monitor.kind === ref.kind && c.monitor.namespace === ref.namespace && c.monitor.name === ref.name)) monitors.push({ monitor, endpoint: ref.endpoint });
  }

  if (scope.values || scope.every) {
    const [sms, pms] = [await op.list('ServiceMonitor'), await op.list('PodMonitor')];
    if (sms === undefined || pms === undefined) unread = true;
    const all = [...(sms ?? []), ...(pms ?? [])];
    if (scope.every) {
      monitors.push(...all.map((monitor) => ({ monitor })));
    } else if (scope.values) {
      const { label, values } = scope.values;
      const makers = new Map<string, Monitor[]>(values.map((v) => [v, []]));
      for (const m of all) {
        const made = await valuesMade(op, m, label);
        for (const v of values) if (made.has(v)) makers.get(v)!.push(m);
      }
      for (const [v, ms] of makers) {
        // None makes it: a monitor named after the value, or selecting it, was probably meant to (and selects nothing).
        const meant = ms.length ? ms : all.filter((m) => m.name === v || Object.values(m.selector.matchLabels).includes(v));
        for (const monitor of meant) if (!monitors.some((c) => c.monitor === monitor)) monitors.push({ monitor });
        if (!meant.length && sms !== undefined) findings.push(await noMonitorFinding(op, label, v, sms));
      }
    }
  }
  return { monitors, findings, unread };
}

/** The values of `label` a monitor's targets would carry (from the Services or pods it selects). */
async function valuesMade(op: Operator, m: Monitor, label: string): Promise<Set<string>> {
  // A monitor of every namespace: the Services are looked for where the monitor and Prometheus are.
  const namespaces = targetNamespaces(m, op.spec) ?? [...new Set([m.namespace, op.p.ns])];
  const out = new Set<string>();
  if (m.kind === 'ServiceMonitor') {
    const { services } = await op.services(namespaces);
    for (const svc of services.filter((s) => unmet(m.selector, s.metadata?.labels).length === 0)) {
      if (label === 'job') out.add(serviceJob(m, svc));
      else if (label === 'service') out.add(svc.metadata?.name ?? '');
      else if (label === 'namespace') out.add(svc.metadata?.namespace ?? '');
      else {
        // Endpoints-role targets carry the Service's labels and, through their pods, the Service's selector labels.
        const v = svc.metadata?.labels?.[label] ?? svc.spec?.selector?.[label];
        if (v !== undefined) out.add(v);
      }
    }
  } else {
    const { pods } = await op.pods(namespaces, m.selector);
    for (const pod of pods) {
      if (label === 'job') out.add(podJob(m, pod));
      else if (label === 'pod') out.add(pod.metadata?.name ?? '');
      else if (label === 'namespace') out.add(pod.metadata?.namespace ?? '');
      else if (pod.metadata?.labels?.[label] !== undefined) out.add(pod.metadata.labels[label]!);
    }
  }
  return out;
}

/** No monitor makes targets with label=value: a Service that would need one, or nothing at all. */
async function noMonitorFinding(op: Operator, label: string, value: string, sms: readonly Monitor[]): Promise<Finding> {
  const selector = readSelector(op.spec?.serviceMonitorSelector);
  const labelling = selector && Object.keys(selector.matchLabels).length ? `, labelled ${labelText(selector.matchLabels)} so that ${op.name} selects it` : '';
  if (label === 'job' || label === 'service') {
    const namespaces = [...new Set([...sms.map((m) => m.namespace), op.p.ns])];
    const { services } = await op.services(namespaces);
    const svc = services.find((s) => s.metadata?.name === value);
    if (svc) {
      const ports = (svc.spec?.ports ?? []).map(servicePortText);
      return {
        cause: `No ServiceMonitor selects Service ${svc.metadata?.namespace}/${value}, so Prometheus has no target with ${label}=${value}`,
        fix: `Create a ServiceMonitor in ${svc.metadata?.namespace}${labelling}, with selector.matchLabels ${labelText(svc.metadata?.labels)} and an endpoint whose port is the name of one of the Service's ports (${ports.join(', ') || 'none'})`,
        evidence: evidence([`Service ${svc.metadata?.namespace}/${value} labels: ${labelText(svc.metadata?.labels)}`]),
      };
    }
  }
  return {
    cause: `No ServiceMonitor or PodMonitor makes targets with ${label}=${value}${sms.length ? ` (${plural(sms.length, 'ServiceMonitor')}: ${sms.slice(0, 5).map((m) => `${m.namespace}/${m.name}`).join(', ')})` : ''}`,
    fix: `Create a ServiceMonitor (or PodMonitor) for ${value}${labelling}, or remove ${value} from the expected-targets input`,
  };
}

/** Why one monitor (one endpoint of it) has no target; empty when it has some or nothing is wrong. */
async function monitorFindings(op: Operator, m: Monitor, endpoint?: number): Promise<Finding[]> {
  if (op.poolTargets(m, endpoint).length) return [];
  const selection = await selectionFindings(op, m);
  if (selection === undefined || selection.length) return selection ?? [];

  const name = monitorName(m);
  if (!m.endpoints.length) {
    return [
      {
        cause: `${name} has no ${m.kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints'}, so it makes no scrape job`,
        fix: `Add an endpoint naming the port to scrape to ${name}`,
        target: { object: monitorObject(m), path: ['spec'] },
      },
    ];
  }
  const jobs = op.jobsOf(m, endpoint);
  if (jobs && !jobs.length) {
    return [
      op.spec
        ? {
            cause: `${name} is selected by ${op.name}, but Prometheus's running configuration has no job ${poolPrefix(m)}${endpoint ?? 0}: the operator rejected the monitor as invalid, or has not reloaded Prometheus yet`,
            fix: `Read why in the operator's events: kubectl get events -n ${m.namespace} --field-selector involvedObject.name=${m.name} (reason InvalidConfiguration), and the operator's log; fix the monitor`,
            target: { object: monitorObject(m), path: ['spec'] },
          }
        : {
            cause: `${name} has no job in Prometheus's running configuration (${poolPrefix(m)}${endpoint ?? 0}): ${op.name} does not select it, or the operator rejected it`,
            fix: `Compare its labels (${labelText(m.labels)}) and namespace with the ${FIELD[m.kind]}Selector and ${FIELD[m.kind]}NamespaceSelector of ${op.name} (kubectl get prometheus ${op.prometheus.name} -n ${op.prometheus.namespace} -o yaml)`,
            target: { object: monitorObject(m), path: ['metadata', 'labels'] },
          },
    ];
  }

  // In the configuration (or the configuration unread): discovery found nothing.
  // A job without Kubernetes discovery in the running configuration says nothing of its namespaces: the monitor does.
  const job = jobs?.[0]?.sd.length ? jobs[0] : undefined;
  const namespaces = job ? jobNamespaces(job, op.prometheus.namespace) : targetNamespaces(m, op.spec);
  const scope: DiscoveryScope = job
    ? { ...jobsScope([job], op.prometheus.namespace), consequence: `Prometheus discovers no target of ${name}` }
    : { roles: [op.roleOf(m)], namespaces, consequence: `Prometheus discovers no target of ${name}` };
  const findings: Finding[] = [...(await rbacFindings(op.p, scope))];
  findings.push(...(await selectedFindings(op, m, namespaces, endpoint)));
  return findings;
}

/**
 * Whether the Prometheus selects the monitor: findings when it does not, [] when it does,
 * undefined when the Prometheus object could not be read (the configuration then tells).
 */
async function selectionFindings(op: Operator, m: Monitor): Promise<Finding[] | undefined> {
  if (!op.spec) return [];
  const { p } = op;
  const name = monitorName(m);
  const field = FIELD[m.kind];
  const promObject = { kind: 'Prometheus', namespace: op.prometheus.namespace, name: op.prometheus.name };
  const selector = readSelector(op.spec[`${field}Selector`]);
  if (!selector) {
    return [
      {
        cause: `${name} is not selected by ${op.name}: its ${field}Selector is not set, and a missing selector selects no ${m.kind}`,
        fix: `Set spec.${field}Selector of ${op.name} ({} selects every ${m.kind}, matchLabels only those labelled so)`,
        target: { object: promObject, path: ['spec'] },
      },
    ];
  }
  const failed = unmet(selector, m.labels);
  if (failed.length) {
    const adds = Object.fromEntries(failed.flatMap((u) => (u.add ? [u.add] : [])));
    const missing = failed.map((u) => (u.add ? `the label ${u.add[0]}: ${u.add[1]}` : u.remove ? `no label ${u.remove}` : u.phrase.replace(/^lacks /, ''))).join(' and ');
    return [
      {
        cause: `${name} is not selected by ${op.name}: it ${failed.map((u) => u.phrase).join(' and ')}`,
        fix: p.profile.selectMonitor(p.ctx.stack, m, missing, Object.keys(adds).length ? adds : undefined),
        evidence: evidence([`${field}Selector: ${selectorString(selector) || '{}'}`, `${name} labels: ${labelText(m.labels)}`]),
        target: { object: monitorObject(m), path: ['metadata', 'labels'] },
      },
    ];
  }
  const nsSelector = readSelector(op.spec[`${field}NamespaceSelector`]);
  if (!nsSelector) {
    if (m.namespace === op.prometheus.namespace) return [];
    return [
      {
        cause: `${name} is in namespace ${m.namespace}, but ${op.name} selects ${PLURAL[m.kind]} only in its own namespace ${op.prometheus.namespace} (its ${field}NamespaceSelector is not set)`,
        fix: `Set spec.${field}NamespaceSelector of ${op.name} to {} (every namespace) or to a selector of namespace ${m.namespace}, or create the monitor in ${op.prometheus.namespace}`,
        target: { object: promObject, path: ['spec'] },
      },
    ];
  }
  if (selectsEverything(nsSelector)) return [];
  // Every namespace carries kubernetes.io/metadata.name=<name> (Kubernetes 1.21+): no read needed for it alone.
  const NAME_LABEL = 'kubernetes.io/metadata.name';
  let labels: Labels | undefined;
  if (keysOf(nsSelector).every((k) => k === NAME_LABEL)) labels = { [NAME_LABEL]: m.namespace };
  else {
    const ns = await p.namespace(m.namespace);
    if (ns === undefined) {
      p.note(`whether ${op.name} selects namespace ${m.namespace} (its ${field}NamespaceSelector ${selectorString(nsSelector)}) not checked`);
      return [];
    }
    labels = { [NAME_LABEL]: m.namespace, ...(ns?.metadata?.labels ?? {}) };
  }
  const nsFailed = unmet(nsSelector, labels);
  if (!nsFailed.length) return [];
  const adds = nsFailed.flatMap((u) => (u.add ? [`${u.add[0]}=${u.add[1]}`] : []));
  return [
    {
      cause: `Namespace ${m.namespace} of ${name} is not selected by the ${field}NamespaceSelector of ${op.name}: it ${nsFailed.map((u) => u.phrase).join(' and ')}`,
      fix: adds.length
        ? `Label the namespace (kubectl label namespace ${m.namespace} ${adds.join(' ')}), or widen spec.${field}NamespaceSelector of ${op.name}`
        : `Change the labels of namespace ${m.namespace}, or widen spec.${field}NamespaceSelector of ${op.name}`,
      evidence: evidence([`${field}NamespaceSelector: ${selectorString(nsSelector)}`, `namespace ${m.namespace} labels: ${labelText(labels)}`]),
      target: { object: { kind: 'Namespace', name: m.namespace }, path: ['metadata', 'labels'] },
    },
  ];
}

/** A selected monitor whose discovery finds nothing: no Service (pod) matches, or its port names none of theirs. */
async function selectedFindings(op: Operator, m: Monitor, namespaces: readonly string[] | undefined, endpoint?: number): Promise<Finding[]> {
  const { p } = op;
  const name = monitorName(m);
  const what = m.kind === 'ServiceMonitor' ? 'Services' : 'pods';
  if (!namespaces) {
    p.note(`the ${what} ${name} selects not looked for: it discovers in every namespace`);
    return [];
  }
  const where = `${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${namespaces.join(', ')}`;
  const sel = selectorString(m.selector);
  const endpoints = m.endpoints.filter((e) => endpoint === undefined || e.index === endpoint);

  if (m.kind === 'PodMonitor') {
    const { pods, complete } = await op.pods(namespaces, m.selector);
    if (!pods.length) {
      return complete
        ? [{ cause: `${name} selects no pod: none in ${where} carries ${sel || '(any labels)'}`, fix: `Make spec.selector of ${name} match the pods' labels (kubectl get pods -n ${namespaces[0]} --show-labels)`, target: { object: monitorObject(m), path: ['spec', 'selector'] } }]
        : [];
    }
    const ports = pods.flatMap((pod) => (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []));
    const have = [...new Set(ports.map((x) => (x.name ? `${x.name}:${x.containerPort}` : String(x.containerPort))))];
    const out: Finding[] = [];
    for (const e of endpoints) {
      const ok = e.port !== undefined ? ports.some((x) => x.name === e.port) : e.portNumber !== undefined ? ports.some((x) => x.containerPort === e.portNumber) : true;
      if (ok) continue;
      const wanted = e.port !== undefined ? `port "${e.port}"` : `portNumber ${e.portNumber}`;
      out.push({
        cause: `podMetricsEndpoints[${e.index}] of ${name} names ${wanted}, which no container of the ${plural(pods.length, 'pod')} it selects declares (they declare ${have.join(', ') || 'no port'})`,
        fix: `Set podMetricsEndpoints[${e.index}].port of ${name} to the name of the container port the exporter listens on${have.length ? ` (one of ${have.join(', ')})` : ''}`,
        target: { object: monitorObject(m), path: ['spec', 'podMetricsEndpoints', e.index, e.port !== undefined ? 'port' : 'portNumber'] },
      });
    }
    return out;
  }

  const { services: all, complete } = await op.services(namespaces);
  const selected = all.filter((s) => unmet(m.selector, s.metadata?.labels).length === 0);
  if (!selected.length) {
    if (!complete) return [];
    return [
      {
        cause: `${name} selects no Service: none in ${where} carries ${sel || '(any labels)'}`,
        fix: `Make spec.selector of ${name} match the labels of the Service in front of the exporter, or label that Service (kubectl get svc -n ${namespaces[0]} --show-labels)`,
        evidence: evidence([`selector: ${sel}`, ...all.slice(0, 3).map((s) => `Service ${s.metadata?.namespace}/${s.metadata?.name} labels: ${labelText(s.metadata?.labels)}`)]),
        target: { object: monitorObject(m), path: ['spec', 'selector'] },
      },
    ];
  }
  const out: Finding[] = [];
  const portNames = new Set(selected.flatMap((s) => (s.spec?.ports ?? []).map((x) => x.name).filter((n): n is string => Boolean(n))));
  const portsText = selected
    .slice(0, 3)
    .map((s) => `Service ${s.metadata?.namespace}/${s.metadata?.name} ports: ${(s.spec?.ports ?? []).map(servicePortText).join(', ') || 'none'}`);
  for (const e of endpoints) {
    if (e.port === undefined || portNames.has(e.port)) continue;
    const numeric = /^\d+$/.test(e.port);
    const byNumber = numeric ? selected.flatMap((s) => s.spec?.ports ?? []).find((x) => String(x.port) === e.port || String(x.targetPort) === e.port) : undefined;
    const suggestion = byNumber?.name ?? (portNames.size === 1 ? [...portNames][0] : undefined);
    const svcs = selected.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).join(', ');
    out.push({
      cause: numeric
        ? `endpoints[${e.index}] of ${name} has port: "${e.port}", a number: a ServiceMonitor names the Service port by its name, so no port of Service ${svcs} matches`
        : `endpoints[${e.index}] of ${name} names port ${e.port}, which Service ${svcs} does not have`,
      fix: suggestion
        ? `Set endpoints[${e.index}].port of ${name} to ${suggestion}${byNumber && !numeric ? '' : byNumber ? ` (the name of port ${byNumber.port})` : ''}`
        : portNames.size
          ? `Set endpoints[${e.index}].port of ${name} to one of the Service's port names (${[...portNames].join(', ')})`
          : `Name the Service's port (spec.ports[].name) and set endpoints[${e.index}].port of ${name} to that name`,
      evidence: evidence(portsText),
      target: { object: monitorObject(m), path: ['spec', 'endpoints', e.index, 'port'] },
    });
  }
  if (out.length) return out;
  // The Services match on a named port: do they have endpoints at all?
  for (const svc of selected.slice(0, 3)) {
    const ns = svc.metadata?.namespace ?? '';
    const svcName = svc.metadata?.name ?? '';
    const eps = await p.read(`Endpoints ${ns}/${svcName}`, { verb: 'get', resource: 'endpoints', namespace: ns }, () => p.ctx.cluster.readEndpoints(ns, svcName, p.ctx.signal).then((x) => x ?? null));
    if (eps === undefined) continue;
    const addresses = (eps?.subsets ?? []).flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]);
    if (!addresses.length) {
      out.push({
        cause: `Service ${ns}/${svcName}, which ${name} selects, has no endpoints: no pod matches its selector ${labelText(svc.spec?.selector)}`,
        fix: `Start the pods behind it, or make the Service's selector match their labels (kubectl get pods -n ${ns} --show-labels)`,
        target: { object: { kind: 'Service', namespace: ns, name: svcName }, path: ['spec', 'selector'] },
      });
    }
  }
  return out;
}

/**
 * Monitors could not be read: the running configuration still tells which monitor pools exist.
 * A pool in the configuration without a target is a discovery matter (permissions); one absent
 * from it, a monitor the Prometheus does not select.
 */
async function fromConfig(op: Operator, scope: MonitorScope): Promise<Finding[]> {
  const { p, config } = op;
  if (!config) return [];
  const findings: Finding[] = [];
  const monitorJobs = config.jobs.filter((j) => poolMonitor(j.name));
  const named = (scope.pools ?? []).filter((pool) => poolMonitor(pool));
  for (const pool of named) {
    if (config.jobs.some((j) => j.name === pool)) continue;
    const ref = poolMonitor(pool)!;
    findings.push({
      cause: `Prometheus's running configuration has no job ${pool}: ${op.name} does not select ${monitorName(ref)}, or it does not exist`,
      fix: `Check that ${monitorName(ref)} exists and that its labels and namespace match the ${FIELD[ref.kind]}Selector and ${FIELD[ref.kind]}NamespaceSelector of ${op.name}`,
      target: { object: monitorObject(ref), path: ['metadata', 'labels'] },
    });
  }
  const empty = (named.length ? monitorJobs.filter((j) => named.includes(j.name)) : monitorJobs).filter((j) => !op.targets.some((t) => t.scrapePool === j.name));
  if (empty.length) findings.push(...(await rbacFindings(p, { ...jobsScope(empty, op.prometheus.namespace), consequence: `Prometheus discovers no target for ${empty.slice(0, 3).map((j) => j.name).join(', ')}` })));
  return findings;
}
