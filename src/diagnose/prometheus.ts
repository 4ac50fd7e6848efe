/**
 * Prometheus-side probes: why the Prometheus pod, its Service, its targets or its query fail.
 * They automate the seed guide's troubleshooting ("Targets Prometheus en état Down", "Data source
 * is working mais pas de données"): Prometheus's running configuration (the scrape job's service
 * discovery and relabel rules) is replayed against the pods it should find, its ServiceAccount's
 * permissions are asked with SubjectAccessReviews, its log is quoted, and each DOWN target's last
 * error is read against the state of its pod.
 *
 * Everything is read-only. A refused read (HTTP 403) becomes a note saying what could not be
 * diagnosed and why; the other probes go on.
 */
import type { V1Container, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { KubeError, type Permission } from '../cluster.js';
import { appOf } from '../checks/prometheus-targets.js';
import { isReady } from '../endpoint.js';
import type { Series, Target } from '../prometheus.js';
import type { CheckId } from '../types.js';
import type { DiagnoseContext, Finding, ObjectPath, ObjectRef, Prober } from './types.js';

type Labels = Readonly<Record<string, string>>;
type Segment = string | number;

/** Evidence lines are cut to this length; a finding quotes at most MAX_EVIDENCE of them. */
const MAX_EVIDENCE_CHARS = 500;
const MAX_EVIDENCE = 5;
/** DOWN targets explained one by one; the rest are counted in a note. */
const MAX_DOWN_FINDINGS = 5;
/** Prometheus's default scrape_interval and scrape_timeout. */
const DEFAULT_INTERVAL = '1m';
const DEFAULT_TIMEOUT = '10s';
/** `lastScrape` before the first scrape. */
const NEVER = '0001-01-01T00:00:00Z';
/** The prom/prometheus image's default --config.file. */
const DEFAULT_CONFIG_FILE = '/etc/prometheus/prometheus.yml';
/** Prometheus's log lines about a failed Kubernetes discovery. */
const DISCOVERY_ERROR = /Failed to watch|failed to list|forbidden/i;

// ------------------------------------------------------------------------------------------------
// Reads: refused ones become notes

/** The findings and notes of one diagnosis, and its reads (each made once). */
class Probe {
  readonly findings: Finding[] = [];
  readonly notes: string[] = [];
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(readonly ctx: DiagnoseContext) {}

  get ns(): string {
    return this.ctx.settings.namespace;
  }

  /**
   * Runs a read. A refusal (403) becomes the note `<what> not read: <verb resource> is forbidden`;
   * another failure becomes `<what> not read: <message>`, unless the diagnosis ran out of time.
   */
  async read<T>(what: string, permission: Permission | undefined, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (this.ctx.signal.aborted) throw err;
      if (err instanceof KubeError && err.status === 403 && permission) this.note(`${what} not read: ${verbResource(permission)} is forbidden`);
      else this.note(`${what} not read: ${messageOf(err)}`);
      return undefined;
    }
  }

  /** `read`, memoized by key. */
  once<T>(key: string, what: string, permission: Permission | undefined, fn: () => Promise<T>): Promise<T | undefined> {
    let p = this.cache.get(key) as Promise<T | undefined> | undefined;
    if (!p) {
      p = this.read(what, permission, fn);
      this.cache.set(key, p);
    }
    return p;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  pods(namespace: string, selector = ''): Promise<V1Pod[] | undefined> {
    const what = selector ? `the pods matching ${selector} in namespace ${namespace}` : `the pods of namespace ${namespace}`;
    return this.once(`pods ${namespace} ${selector}`, what, { verb: 'list', resource: 'pods', namespace }, () =>
      this.ctx.cluster.listPods(namespace, selector, this.ctx.signal),
    );
  }

  deployments(namespace: string): Promise<V1Deployment[] | undefined> {
    return this.once(`deployments ${namespace}`, `the Deployments of namespace ${namespace}`, { verb: 'list', resource: 'deployments', group: 'apps', namespace }, () =>
      this.ctx.cluster.listDeployments(namespace, this.ctx.signal),
    );
  }

  prometheusPods(): Promise<V1Pod[] | undefined> {
    return this.pods(this.ns, this.ctx.settings.prometheusSelector);
  }

  /** The Prometheus pod to read: a Ready one, else the first. */
  async prometheusPod(): Promise<V1Pod | undefined> {
    const pods = await this.prometheusPods();
    return pods?.find(isReady) ?? pods?.[0];
  }

  targets(): Promise<Target[] | undefined> {
    return this.once('targets', "Prometheus's targets", undefined, () => this.ctx.prometheus.activeTargets(this.ctx.signal));
  }

  /** The running configuration, parsed; undefined (with a note) when unreadable. */
  config(): Promise<PromConfig | undefined> {
    return this.once('config', "Prometheus's running configuration", undefined, async () => {
      const yaml = await this.ctx.prometheus.configYaml(this.ctx.signal);
      if (!yaml.trim()) throw new Error('GET /api/v1/status/config returned no YAML');
      return parsePromConfig(yaml);
    });
  }

  /** A container's last log lines; undefined (with a note) when refused. */
  logs(pod: V1Pod, container: string, lines: number, previous: boolean, owner: string): Promise<string | undefined> {
    const namespace = pod.metadata?.namespace ?? this.ns;
    const name = pod.metadata?.name ?? '';
    return this.once(`logs ${namespace}/${name}/${container}/${previous}/${lines}`, owner, { verb: 'get', resource: 'pods', subresource: 'log', namespace }, () =>
      this.ctx.cluster.podLogs(namespace, name, container, lines, previous, this.ctx.signal),
    );
  }

  /** Where the Prometheus configuration lives, from the Prometheus pod's volumes. */
  async configSource(): Promise<ConfigSource | undefined> {
    const pod = await this.prometheusPod();
    return pod ? configSourceOf(pod) : undefined;
  }
}

function verbResource(p: Permission): string {
  return `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

function quote(line: string): string {
  const text = line.trim();
  return text.length > MAX_EVIDENCE_CHARS ? `${text.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : text;
}

function evidence(lines: readonly (string | undefined)[]): string[] {
  return [...new Set(lines.filter((l): l is string => Boolean(l?.trim())).map(quote))].slice(0, MAX_EVIDENCE);
}

/** The last `n` non-empty lines of a log. */
function lastLines(text: string | undefined, n: number): string[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n);
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : 'none';
}

function selectorText(selector: Labels | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Equality-based label selectors (`a=b,c!=d,e,!f`); undefined when the form is not understood. */
function matchesSelector(labels: Labels | undefined, selector: string): boolean | undefined {
  let understood = true;
  const ok = selector
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
    .every((req) => {
      const m = /^([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)$/.exec(req);
      if (m) return m[2] === '!=' ? labels?.[m[1]!] !== m[3] : labels?.[m[1]!] === m[3];
      if (/^[\w./-]+$/.test(req)) return labels?.[req] !== undefined;
      if (/^![\w./-]+$/.test(req)) return labels?.[req.slice(1)] === undefined;
      understood = false;
      return true;
    });
  return understood ? ok : undefined;
}

// ------------------------------------------------------------------------------------------------
// Prometheus's configuration

interface RelabelRule {
  /** Its index in the job's relabel_configs. */
  readonly index: number;
  readonly action: string;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** As written (Prometheus anchors it: `^(?:regex)$`). */
  readonly regexText: string;
  /** The anchored regex; undefined when JavaScript cannot evaluate it. */
  readonly regex: RegExp | undefined;
  readonly targetLabel: string | undefined;
  readonly replacement: string;
}

interface SdConfig {
  readonly index: number;
  readonly role: string;
  /** undefined: every namespace. */
  readonly namespaces: readonly string[] | undefined;
  /** `namespaces.own_namespace`: also Prometheus's own namespace. */
  readonly ownNamespace: boolean;
  /** A kubeconfig file or inline credentials: discovery does not use the pod's ServiceAccount. */
  readonly ownCredentials: string | undefined;
}

interface JobConfig {
  readonly index: number;
  readonly name: string;
  readonly sd: readonly SdConfig[];
  readonly relabel: readonly RelabelRule[];
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
  readonly metricsPath: string;
  readonly scheme: string;
}

interface PromConfig {
  readonly jobs: readonly JobConfig[];
}

/** The ConfigMap and key holding prometheus.yml. */
interface ConfigSource {
  readonly configMap: ObjectRef;
  readonly key: string;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function parsePromConfig(yamlText: string): PromConfig {
  const root = record(parseYaml(yamlText));
  const global = record(root.global);
  const globalInterval = text(global.scrape_interval) ?? DEFAULT_INTERVAL;
  const globalTimeout = text(global.scrape_timeout) ?? DEFAULT_TIMEOUT;
  const jobs = list(root.scrape_configs).map((raw, index): JobConfig => {
    const job = record(raw);
    return {
      index,
      name: text(job.job_name) ?? '',
      sd: list(job.kubernetes_sd_configs).map((s, i): SdConfig => {
        const sd = record(s);
        const ns = record(sd.namespaces);
        const names = list(ns.names).map(text).filter((n): n is string => Boolean(n));
        const own = ns.own_namespace === true;
        return {
          index: i,
          role: text(sd.role) ?? '',
          namespaces: names.length || own ? names : undefined,
          ownNamespace: own,
          ownCredentials: ownCredentials(sd),
        };
      }),
      relabel: list(job.relabel_configs).map((r, i) => relabelRule(record(r), i)),
      scrapeInterval: text(job.scrape_interval) ?? globalInterval,
      scrapeTimeout: text(job.scrape_timeout) ?? (text(job.scrape_interval) && durationMs(text(job.scrape_interval)!) < durationMs(globalTimeout) ? text(job.scrape_interval)! : globalTimeout),
      metricsPath: text(job.metrics_path) ?? '/metrics',
      scheme: text(job.scheme) ?? 'http',
    };
  });
  return { jobs };
}

/**
 * How a kubernetes_sd_configs entry authenticates when it is not with the pod's ServiceAccount: a
 * kubeconfig file or inline credentials. A token file (`credentials_file`, `bearer_token_file`) is
 * taken for the ServiceAccount's mounted token.
 */
function ownCredentials(sd: Record<string, unknown>): string | undefined {
  const kubeconfig = text(sd.kubeconfig_file);
  if (kubeconfig) return `kubeconfig_file ${kubeconfig}`;
  for (const key of ['bearer_token', 'basic_auth', 'oauth2']) if (sd[key] !== undefined && sd[key] !== null && sd[key] !== '') return key;
  const authorization = record(sd.authorization);
  if (text(authorization.credentials)) return 'authorization.credentials';
  return undefined;
}

function relabelRule(r: Record<string, unknown>, index: number): RelabelRule {
  const regexText = text(r.regex) ?? '(.*)';
  return {
    index,
    action: (text(r.action) ?? 'replace').toLowerCase(),
    sourceLabels: list(r.source_labels).map(text).filter((s): s is string => s !== undefined),
    separator: text(r.separator) ?? ';',
    regexText,
    regex: anchored(regexText),
    targetLabel: text(r.target_label),
    replacement: text(r.replacement) ?? '$1',
  };
}

/** A Prometheus (RE2) regex as JavaScript evaluates it, anchored the way Prometheus anchors it. */
function anchored(regex: string): RegExp | undefined {
  let flags = '';
  let body = regex;
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline) {
    flags = [...new Set(inline[1]!.replace('U', '').split(''))].filter((f) => f !== 'm').join('');
    body = body.slice(inline[0].length);
  }
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch {
    return undefined;
  }
}

/** Prometheus durations: `15s`, `1m30s`, `500ms`, `1h`, `1d`, `1w`, `1y`. */
export function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  return matched === value && value ? total : NaN;
}

/** `15s`, `1m`, `1m30s`: how `wait` and Prometheus write durations. */
function formatDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
}

/** Finds the ConfigMap and key behind Prometheus's `--config.file`. */
export function configSourceOf(pod: V1Pod): ConfigSource | undefined {
  const namespace = pod.metadata?.namespace;
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => /prometheus/.test(c.name) || /prometheus/.test(c.image ?? '')) ?? containers[0];
  const arg = [...(container?.command ?? []), ...(container?.args ?? [])].map((a) => /^--config\.file=(.+)$/.exec(a)?.[1]).find(Boolean);
  const file = arg ?? DEFAULT_CONFIG_FILE;
  for (const mount of container?.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    const cm = volume?.configMap;
    if (!cm?.name) continue;
    const dir = mount.mountPath.replace(/\/$/, '');
    let key: string | undefined;
    if (mount.subPath && mount.mountPath === file) key = mount.subPath;
    else if (!mount.subPath && file.startsWith(`${dir}/`)) key = file.slice(dir.length + 1);
    if (key === undefined) continue;
    const item = cm.items?.find((i) => i.path === key);
    return { configMap: { kind: 'ConfigMap', namespace, name: cm.name }, key: item?.key ?? key };
  }
  return undefined;
}

/** The path to `embedded` inside the configuration file. */
function inConfig(source: ConfigSource | undefined, embedded: readonly Segment[]): ObjectPath | undefined {
  if (!source) return undefined;
  return { object: source.configMap, path: ['data', source.key], ...(embedded.length ? { embedded } : {}) };
}

function configName(source: ConfigSource | undefined): string {
  return source ? `ConfigMap ${source.configMap.namespace}/${source.configMap.name}` : "Prometheus's configuration";
}

/** The namespaces a job discovers in; undefined: all of them. */
function jobNamespaces(job: JobConfig, promNamespace: string): string[] | undefined {
  const out = new Set<string>();
  for (const sd of job.sd) {
    if (!sd.namespaces) return undefined;
    for (const n of sd.namespaces) out.add(n);
    if (sd.ownNamespace) out.add(promNamespace);
  }
  return [...out];
}

/** What Prometheus's service account must list and watch for a role. */
function roleResources(role: string): { resource: string; group?: string }[] {
  switch (role) {
    case 'endpoints':
      return [{ resource: 'endpoints' }, { resource: 'services' }, { resource: 'pods' }];
    case 'endpointslice':
      return [{ resource: 'endpointslices', group: 'discovery.k8s.io' }, { resource: 'services' }, { resource: 'pods' }];
    case 'service':
      return [{ resource: 'services' }];
    case 'ingress':
      return [{ resource: 'ingresses', group: 'networking.k8s.io' }];
    case 'node':
      return [{ resource: 'nodes' }];
    default:
      return [{ resource: 'pods' }];
  }
}

// ------------------------------------------------------------------------------------------------
// Relabeling replayed against a pod

/** Prometheus's label-name sanitizing of Kubernetes label and annotation keys. */
function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

const LABEL_PREFIX = '__meta_kubernetes_pod_label_';
const ANNOTATION_PREFIX = '__meta_kubernetes_pod_annotation_';

/** The label sets Prometheus's `role: pod` discovery gives a pod: one per container port. */
function podTargetLabels(pod: V1Pod, job: JobConfig): Map<string, string>[] {
  const ip = pod.status?.podIP;
  if (!ip) return [];
  const base = new Map<string, string>([
    ['job', job.name],
    ['__metrics_path__', job.metricsPath],
    ['__scheme__', job.scheme],
    ['__scrape_interval__', job.scrapeInterval],
    ['__scrape_timeout__', job.scrapeTimeout],
    ['__meta_kubernetes_namespace', pod.metadata?.namespace ?? ''],
    ['__meta_kubernetes_pod_name', pod.metadata?.name ?? ''],
    ['__meta_kubernetes_pod_ip', ip],
    ['__meta_kubernetes_pod_node_name', pod.spec?.nodeName ?? ''],
    ['__meta_kubernetes_pod_host_ip', pod.status?.hostIP ?? ''],
    ['__meta_kubernetes_pod_uid', pod.metadata?.uid ?? ''],
    ['__meta_kubernetes_pod_phase', pod.status?.phase ?? ''],
    ['__meta_kubernetes_pod_ready', isReady(pod) ? 'true' : pod.status?.conditions?.some((c) => c.type === 'Ready') ? 'false' : 'unknown'],
  ]);
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (controller) {
    base.set('__meta_kubernetes_pod_controller_kind', controller.kind);
    base.set('__meta_kubernetes_pod_controller_name', controller.name);
  }
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
    base.set(LABEL_PREFIX + sanitize(k), v);
    base.set(`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`, 'true');
  }
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    base.set(ANNOTATION_PREFIX + sanitize(k), v);
    base.set(`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`, 'true');
  }
  const out: Map<string, string>[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const container = new Map(base);
    container.set('__meta_kubernetes_pod_container_name', c.name);
    container.set('__meta_kubernetes_pod_container_image', c.image ?? '');
    container.set('__meta_kubernetes_pod_container_init', 'false');
    if (!c.ports?.length) {
      container.set('__address__', ip);
      out.push(container);
    }
    for (const p of c.ports ?? []) {
      const labels = new Map(container);
      labels.set('__address__', `${ip}:${p.containerPort}`);
      labels.set('__meta_kubernetes_pod_container_port_name', p.name ?? '');
      labels.set('__meta_kubernetes_pod_container_port_number', String(p.containerPort));
      labels.set('__meta_kubernetes_pod_container_port_protocol', p.protocol ?? 'TCP');
      out.push(labels);
    }
  }
  return out;
}

/** A label's value; undefined when it cannot be known (another discovery's meta label, a rule not replayed). */
function valueOf(labels: Map<string, string>, unknown: Set<string>, name: string): string | undefined {
  if (unknown.has(name)) return undefined;
  const v = labels.get(name);
  if (v !== undefined) return v;
  if (name.startsWith(LABEL_PREFIX) || name.startsWith(ANNOTATION_PREFIX) || name.startsWith('__meta_kubernetes_pod_container_port_')) return '';
  if (/^__meta_kubernetes_pod_(label|annotation)present_/.test(name)) return '';
  if (name.startsWith('__meta_')) return undefined;
  return '';
}

function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$)|\$\{(\w+)\}|\$(\w+)/g, (_all, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar) return '$';
    const name = braced ?? bare ?? '';
    return (/^\d+$/.test(name) ? m[Number(name)] : m.groups?.[name]) ?? '';
  });
}

/** The rule that drops a target, or undefined when the target is kept (or cannot be decided). */
function droppingRule(initial: Map<string, string>, rules: readonly RelabelRule[]): RelabelRule | undefined {
  const labels = new Map(initial);
  const unknown = new Set<string>();
  for (const rule of rules) {
    const values = rule.sourceLabels.map((s) => valueOf(labels, unknown, s));
    const known = values.every((v) => v !== undefined);
    const joined = values.join(rule.separator);
    const target = rule.targetLabel;
    switch (rule.action) {
      case 'keep':
      case 'drop': {
        if (!known || !rule.regex) continue;
        const matches = rule.regex.test(joined);
        if (matches !== (rule.action === 'keep')) return rule;
        continue;
      }
      case 'keepequal':
      case 'dropequal': {
        const other = target ? valueOf(labels, unknown, target) : undefined;
        if (!known || other === undefined) continue;
        if ((joined === other) !== (rule.action === 'keepequal')) return rule;
        continue;
      }
      case 'replace': {
        if (!target) continue;
        if (!known || !rule.regex || /\$/.test(target)) {
          unknown.add(target);
          continue;
        }
        const m = rule.regex.exec(joined);
        if (m) {
          unknown.delete(target);
          labels.set(target, expand(rule.replacement, m));
        }
        continue;
      }
      case 'lowercase':
      case 'uppercase':
        if (!target) continue;
        if (!known) unknown.add(target);
        else labels.set(target, rule.action === 'lowercase' ? joined.toLowerCase() : joined.toUpperCase());
        continue;
      case 'labelmap':
        if (!rule.regex) continue;
        for (const [name, value] of [...labels]) {
          const m = rule.regex.exec(name);
          if (m) labels.set(expand(rule.replacement, m), value);
        }
        continue;
      case 'labeldrop':
      case 'labelkeep':
        if (!rule.regex) continue;
        for (const name of [...labels.keys()]) if (rule.regex.test(name) === (rule.action === 'labeldrop')) labels.delete(name);
        continue;
      default:
        if (target) unknown.add(target);
    }
  }
  return undefined;
}

/** Why the job drops every target of a pod: the rule the furthest-going target stops at. */
function whyDropped(pod: V1Pod, job: JobConfig): RelabelRule | undefined {
  const candidates = podTargetLabels(pod, job);
  let worst: RelabelRule | undefined;
  for (const labels of candidates) {
    const rule = droppingRule(labels, job.relabel);
    if (!rule) return undefined;
    if (!worst || rule.index > worst.index) worst = rule;
  }
  return worst;
}

// ------------------------------------------------------------------------------------------------
// Pods and the objects that make them

/** The object whose pod template makes a pod (a Deployment for a ReplicaSet's pod), or the pod itself. */
async function workloadOf(p: Probe, pod: V1Pod): Promise<ObjectRef> {
  const namespace = pod.metadata?.namespace ?? p.ns;
  const name = pod.metadata?.name ?? '';
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (owner?.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    const deployment = hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name.replace(/-[a-z0-9]+$/, '');
    return { kind: 'Deployment', namespace, name: deployment };
  }
  if (owner && owner.kind !== 'Node') return { kind: owner.kind, namespace, name: owner.name };
  const deployments = await p.deployments(namespace);
  const byLabels = deployments?.find((d) => {
    const sel = d.spec?.selector?.matchLabels;
    return sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => pod.metadata?.labels?.[k] === v);
  });
  if (byLabels?.metadata?.name) return { kind: 'Deployment', namespace, name: byLabels.metadata.name };
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(name);
  if (m) return { kind: 'Deployment', namespace, name: m[1]! };
  return { kind: 'Pod', namespace, name };
}

/** A path inside a pod's template (or inside the pod, for a bare pod). */
function templatePath(workload: ObjectRef, path: readonly Segment[]): ObjectPath {
  return { object: workload, path: workload.kind === 'Pod' ? path : ['spec', 'template', ...path] };
}

function describeWorkload(w: ObjectRef): string {
  return `${w.kind} ${w.namespace ? `${w.namespace}/` : ''}${w.name}`;
}

function podRef(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** `CrashLoopBackOff, 4 restarts` — the state that keeps a pod from being Running and Ready. */
function podState(pod: V1Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state?.terminated?.reason;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const state = waiting ?? terminated ?? pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  return `${state}${restarts ? `, ${plural(restarts, 'restart')}` : ''}`;
}

const IMAGE_PULL = /^(ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull)$/;

/**
 * Why a pod is not Running and Ready: an image that cannot be pulled, a container that keeps
 * crashing (its previous run's last log lines), a pod that cannot be scheduled or is still being
 * created (a missing ConfigMap), a failing readiness probe.
 */
interface ExplainOptions {
  /** Names the log in a note when it may not be read: `Prometheus's logs`. */
  readonly logOwner: string;
  /** Appended to the cause: `so Prometheus cannot scrape it`. */
  readonly consequence?: string;
  /** The pod runs Prometheus: a configuration error in its log points at its ConfigMap. */
  readonly prometheus?: boolean;
}

async function explainPod(p: Probe, pod: V1Pod, { logOwner, consequence = '', prometheus = false }: ExplainOptions): Promise<Finding> {
  const ref = podRef(pod);
  const ns = pod.metadata?.namespace ?? p.ns;
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  const indexOf = (c: string): number => Math.max(0, containers.findIndex((x) => x.name === c));
  const workload = await workloadOf(p, pod);
  const tail = consequence ? `, ${consequence}` : '';

  const pulling = statuses.find((s) => IMAGE_PULL.test(s.state?.waiting?.reason ?? ''));
  if (pulling) {
    const image = containers.find((c) => c.name === pulling.name)?.image ?? pulling.image;
    return {
      cause: `Pod ${ref} cannot pull image ${image} (${pulling.state?.waiting?.reason})${tail}`,
      fix: `Correct the image name or tag of container ${pulling.name} in ${describeWorkload(workload)}, or add an imagePullSecret if the registry is private`,
      evidence: evidence([pulling.state?.waiting?.message]),
      target: templatePath(workload, ['spec', 'containers', indexOf(pulling.name), 'image']),
    };
  }

  const crashing = statuses.find(
    (s) =>
      s.state?.waiting?.reason === 'CrashLoopBackOff' ||
      (s.state?.terminated && s.state.terminated.exitCode !== 0) ||
      (!s.ready && (s.restartCount ?? 0) > 0 && s.lastState?.terminated),
  );
  if (crashing) {
    const last = crashing.state?.terminated ?? crashing.lastState?.terminated;
    const exit = last ? `: container ${crashing.name} exited with code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''}` : '';
    const previous = await p.logs(pod, crashing.name, 20, true, logOwner);
    // Before its first restart a container has no previous log: its current one tells the same.
    let lines = lastLines(previous, MAX_EVIDENCE);
    if (!lines.length && previous !== undefined) lines = lastLines(await p.logs(pod, crashing.name, 20, false, logOwner), MAX_EVIDENCE);
    const configError = prometheus && /error loading config|couldn't load configuration|parsing YAML|yaml: |unmarshal/i.test(lines.join('\n'));
    const config = configError ? configSourceOf(pod) : undefined;
    const oom = last?.reason === 'OOMKilled';
    return {
      cause: `Pod ${ref} keeps crashing (${podState(pod)})${exit}${tail}`,
      fix: oom
        ? `Raise the memory limit of container ${crashing.name} in ${describeWorkload(workload)}`
        : config
          ? `Fix ${config.key} in ${configName(config)} (promtool check config shows the error), then restart the pod`
          : `Fix what its log reports (kubectl logs -n ${ns} ${name} -c ${crashing.name} --previous), then let it restart`,
      evidence: evidence(lines),
      ...(oom ? { target: templatePath(workload, ['spec', 'containers', indexOf(crashing.name), 'resources']) } : config ? { target: inConfig(config, []) } : {}),
    };
  }

  if (pod.status?.phase === 'Pending' || !pod.status?.phase) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') {
      const why = [scheduled.reason, scheduled.message].filter(Boolean).join(': ');
      const insufficient = /Insufficient/i.test(scheduled.message ?? '');
      return {
        cause: `Pod ${ref} is Pending: it cannot be scheduled${why ? ` (${why})` : ''}${tail}`,
        fix: insufficient
          ? `Lower the resource requests in ${describeWorkload(workload)}, or add node capacity`
          : `Make a node fit the pod: check the nodeSelector, affinity, tolerations and resource requests of ${describeWorkload(workload)}`,
        target: templatePath(workload, insufficient ? ['spec', 'containers', 0, 'resources'] : ['spec']),
      };
    }
    // A pod being created: a ConfigMap volume that does not exist keeps it there.
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.configMap?.name || v.configMap.optional) continue;
      const cmName = v.configMap.name;
      const cm = await p.read(`ConfigMap ${ns}/${cmName}`, { verb: 'get', resource: 'configmaps', namespace: ns }, () =>
        p.ctx.cluster.readConfigMap(ns, cmName, p.ctx.signal).then((c) => c ?? null),
      );
      if (cm === null) {
        return {
          cause: `ConfigMap ${ns}/${cmName}, which pod ${ref} mounts, does not exist, so the pod stays Pending${tail}`,
          fix: `Create ConfigMap ${ns}/${cmName} (kubectl apply -f the manifest that defines it)`,
          target: { object: { kind: 'ConfigMap', namespace: ns, name: cmName }, path: [] },
        };
      }
    }
    const waiting = statuses.find((s) => s.state?.waiting?.reason);
    return {
      cause: `Pod ${ref} is Pending${waiting ? ` (${waiting.state?.waiting?.reason})` : ''}${tail}`,
      fix: `Read its events: kubectl describe pod -n ${ns} ${name}`,
      evidence: evidence([waiting?.state?.waiting?.message, ...(pod.status?.conditions ?? []).filter((c) => c.status === 'False' && c.message).map((c) => `${c.type}: ${c.message}`)]),
    };
  }

  if (pod.status?.phase === 'Running') {
    const containerName = (statuses.find((s) => !s.ready) ?? statuses[0])?.name ?? containers[0]?.name ?? '';
    const container: V1Container | undefined = containers.find((c) => c.name === containerName);
    const log = containerName ? await p.logs(pod, containerName, 50, false, logOwner) : undefined;
    const lines = lastLines(log, 50)
      .filter((l) => /level=(warn|error)|\b(error|fail|fatal|panic)/i.test(l))
      .slice(-MAX_EVIDENCE);
    return {
      cause: `Pod ${ref} is Running but not Ready: container ${containerName} ${container?.readinessProbe ? 'fails its readiness probe' : 'is not ready'}${tail}`,
      fix: `Read why in its events and log: kubectl describe pod -n ${ns} ${name}; kubectl logs -n ${ns} ${name} -c ${containerName}`,
      evidence: evidence(lines),
      ...(container?.readinessProbe ? { target: templatePath(workload, ['spec', 'containers', indexOf(container.name), 'readinessProbe']) } : {}),
    };
  }

  return {
    cause: `Pod ${ref} is ${pod.status?.phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''}${tail}`,
    fix: `Read why: kubectl describe pod -n ${ns} ${name}`,
    evidence: evidence([pod.status?.message]),
  };
}

// ------------------------------------------------------------------------------------------------
// prometheus-targets

/** The job's targets. */
function jobTargets(all: readonly Target[], job: string): Target[] {
  return all.filter((t) => t.scrapePool === job || t.job === job);
}

function targetPodName(t: Target): string | undefined {
  return t.labels.pod ?? t.discoveredLabels.__meta_kubernetes_pod_name;
}

function targetNamespace(t: Target, fallback: string): string {
  return t.labels.namespace ?? t.discoveredLabels.__meta_kubernetes_namespace ?? fallback;
}

function targetPort(t: Target): string | undefined {
  const address = /^[a-z]+:\/\/([^/]+)/.exec(t.scrapeUrl)?.[1] ?? t.discoveredLabels.__address__ ?? t.labels.instance ?? '';
  return /:(\d+)$/.exec(address)?.[1];
}

function scraped(t: Target): boolean {
  return t.health !== 'unknown' && Boolean(t.lastScrape) && t.lastScrape !== NEVER && !t.lastScrape.startsWith('0001-');
}

/** The annotation key behind a `__meta_kubernetes_pod_annotation_*` name on a pod (or its usual spelling). */
function annotationKey(pod: V1Pod, meta: string): string {
  const suffix = meta.slice(ANNOTATION_PREFIX.length);
  const found = Object.keys(pod.metadata?.annotations ?? {}).find((k) => sanitize(k) === suffix);
  return found ?? (suffix.startsWith('prometheus_io_') ? `prometheus.io/${suffix.slice('prometheus_io_'.length)}` : suffix);
}

function labelKey(pod: V1Pod, meta: string): string {
  const suffix = meta.slice(LABEL_PREFIX.length);
  return Object.keys(pod.metadata?.labels ?? {}).find((k) => sanitize(k) === suffix) ?? suffix;
}

function ruleText(rule: RelabelRule): string {
  return `${rule.action} rule: source_labels [${rule.sourceLabels.join(', ')}]${rule.action.endsWith('equal') ? `, target_label ${rule.targetLabel}` : `, regex ^(?:${rule.regexText})$`}`;
}

/** A literal regex (no metacharacters): the one value it accepts. */
function literalOf(regex: string): string | undefined {
  return /^[\w.\-/]*$/.test(regex) ? regex : undefined;
}

/** Why the job's relabel rule drops every target of `pod`, as a finding. */
async function droppedFinding(p: Probe, pod: V1Pod, job: JobConfig, rule: RelabelRule, intendedApp: string | undefined, source: ConfigSource | undefined): Promise<Finding> {
  const ref = podRef(pod);
  const workload = await workloadOf(p, pod);
  const ruleName = `the ${rule.action} rule of job ${job.name}`;
  const regexQuoted = `(regex "${rule.regexText}")`;
  const [only] = rule.sourceLabels;
  const single = rule.sourceLabels.length === 1 && only !== undefined;
  const ev = (extra: string[]): string[] => evidence([...extra, ruleText(rule)]);

  if (single && only.startsWith(LABEL_PREFIX) && (rule.action === 'keep' || rule.action === 'drop')) {
    const key = labelKey(pod, only);
    const value = pod.metadata?.labels?.[key];
    const want = intendedApp && rule.regex?.test(intendedApp) ? intendedApp : undefined;
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} label, so ${ruleName} ${regexQuoted} drops it`
          : `Pod ${ref} has label ${key}=${value}, which ${ruleName} ${regexQuoted} ${rule.action === 'keep' ? 'does not match' : 'matches'}`,
      fix: want
        ? `Set the label ${key}: ${want} in the pod template of ${describeWorkload(workload)}`
        : `Give the pod template of ${describeWorkload(workload)} a ${key} label ${rule.action === 'keep' ? 'that' : 'that does not'} match ^(?:${rule.regexText})$, or change that rule's regex in ${configName(source)}`,
      evidence: ev([`pod labels: ${labelText(pod.metadata?.labels)}`]),
      target: templatePath(workload, ['metadata', 'labels']),
    };
  }

  if (single && only.startsWith(ANNOTATION_PREFIX) && (rule.action === 'keep' || rule.action === 'drop')) {
    const key = annotationKey(pod, only);
    const value = pod.metadata?.annotations?.[key];
    const want = rule.action === 'keep' ? literalOf(rule.regexText) : undefined;
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} annotation, so ${ruleName} ${regexQuoted} drops it`
          : `Pod ${ref} has annotation ${key}: "${value}", which ${ruleName} ${regexQuoted} ${rule.action === 'keep' ? 'does not match' : 'matches'}`,
      fix: want !== undefined
        ? `Set the annotation ${key}: "${want}" in the pod template of ${describeWorkload(workload)}`
        : `Change the ${key} annotation in the pod template of ${describeWorkload(workload)} so that ${ruleName} keeps the pod`,
      evidence: ev([`pod annotations: ${labelText(pod.metadata?.annotations)}`]),
      target: templatePath(workload, ['metadata', 'annotations']),
    };
  }

  // keepequal on the container port and the prometheus.io/port annotation (TaskFlow's rule).
  const annotationSide = [...rule.sourceLabels, rule.targetLabel ?? ''].find((l) => l.startsWith(ANNOTATION_PREFIX));
  const portSide = [...rule.sourceLabels, rule.targetLabel ?? ''].some((l) => l === '__meta_kubernetes_pod_container_port_number');
  if (rule.action === 'keepequal' && annotationSide && portSide) {
    const key = annotationKey(pod, annotationSide);
    const value = pod.metadata?.annotations?.[key];
    const ports = (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => String(x.containerPort)));
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} annotation, so ${ruleName} keeps none of its container ports (${ports.join(', ') || 'none'})`
          : `Pod ${ref}'s annotation ${key}: "${value}" names none of its container ports (${ports.join(', ') || 'none'}), so ${ruleName} drops it`,
      fix: `Set ${key} in the pod template of ${describeWorkload(workload)} to the port its exporter listens on, and declare that port in the container's ports`,
      evidence: ev([`pod annotations: ${labelText(pod.metadata?.annotations)}`]),
      target: templatePath(workload, value === undefined ? ['metadata', 'annotations'] : ['metadata', 'annotations', key]),
    };
  }

  const values = rule.sourceLabels.map((s) => podTargetLabels(pod, job)[0]?.get(s) ?? '').join(rule.separator);
  return {
    cause: `Relabel rule ${rule.index} of job ${job.name} (${rule.action}, source_labels [${rule.sourceLabels.join(', ')}]) drops pod ${ref} (value "${values}")`,
    fix: `Change that rule in ${configName(source)}, or the pod's labels in ${describeWorkload(workload)}`,
    evidence: ev([]),
    target: inConfig(source, ['scrape_configs', job.index, 'relabel_configs', rule.index, rule.action.endsWith('equal') ? 'target_label' : 'regex']),
  };
}

/** The pods that look like app `app` though they do not carry app=<app>: named after it. */
function namedAfter(pods: readonly V1Pod[], app: string): V1Pod[] {
  return pods.filter((pod) => {
    const name = pod.metadata?.name ?? '';
    return pod.metadata?.labels?.app !== app && (name === app || name.startsWith(`${app}-`)) && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name.slice(app.length + 1) || 'x');
  });
}

async function rbacFindings(p: Probe, job: JobConfig | undefined, namespaces: string[] | undefined): Promise<Finding[]> {
  const { cluster, signal } = p.ctx;
  const own = job?.sd.find((s) => s.ownCredentials);
  if (own) {
    p.note(`Prometheus's permissions not checked: job ${job?.name} discovers through ${own.ownCredentials}, with its own credentials`);
    return [];
  }
  const pod = await p.prometheusPod();
  if (!pod) {
    if ((await p.prometheusPods()) !== undefined) p.note(`Prometheus's ServiceAccount not known: no pod matches ${p.ctx.settings.prometheusSelector} in namespace ${p.ns}`);
    return [];
  }
  const promNs = pod.metadata?.namespace ?? p.ns;
  const sa = pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default';
  const user = `system:serviceaccount:${promNs}:${sa}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${promNs}`, 'system:authenticated'];
  const roles = [...new Set((job?.sd.length ? job.sd.map((s) => s.role) : ['pod']).flatMap((r) => roleResources(r).map((x) => JSON.stringify(x))))].map(
    (x) => JSON.parse(x) as { resource: string; group?: string },
  );
  const scopes: (string | undefined)[] = namespaces ?? [undefined];

  const refused: { verb: string; resource: string; namespace: string | undefined }[] = [];
  let asked = true;
  outer: for (const { resource, group } of roles) {
    for (const namespace of scopes) {
      for (const verb of ['list', 'watch']) {
        try {
          const answer = await cluster.canUser(user, groups, { verb, resource, group, ...(namespace ? { namespace } : {}) }, signal);
          if (!answer.allowed) refused.push({ verb, resource, namespace });
        } catch (err) {
          if (signal.aborted) throw err;
          asked = false;
          p.note(
            err instanceof KubeError && err.status === 403
              ? `could not ask whether ServiceAccount ${promNs}/${sa} may ${verb} ${resource}: subjectaccessreviews create is forbidden for the action's credentials`
              : `could not ask whether ServiceAccount ${promNs}/${sa} may ${verb} ${resource}: ${messageOf(err)}`,
          );
          break outer;
        }
      }
    }
  }

  if (!refused.length && asked) return [];
  const container = (pod.spec?.containers ?? []).find((c) => /prometheus/.test(c.name))?.name ?? pod.spec?.containers?.[0]?.name ?? 'prometheus';
  const log = await p.logs(pod, container, 300, false, "Prometheus's logs");
  const seen = new Set<string>();
  const logLines = lastLines(log, 300)
    .filter((l) => DISCOVERY_ERROR.test(l))
    .filter((l) => {
      const key = l.replace(/^ts=\S+\s+/, '').replace(/^\S*\d{4}-\d\d-\d\dT\S+\s+/, '');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });

  if (!asked) {
    // Without access reviews, Prometheus's own refusals say it.
    for (const line of logLines) {
      const m = /User \\?"system:serviceaccount:[^:"\\]+:[^"\\]+\\?" cannot (\w+) resource \\?"([\w.]+)\\?"[^]*?(?:in the namespace \\?"([^"\\]+)\\?"|at the cluster scope)/.exec(line);
      if (m) refused.push({ verb: m[1]!, resource: m[2]!, namespace: m[3] });
    }
    if (!refused.length) return [];
  }

  const verbs = [...new Set(refused.map((r) => r.verb))];
  const resources = [...new Set(refused.map((r) => r.resource))];
  const nss = [...new Set(refused.map((r) => r.namespace))];
  const where = nss.includes(undefined)
    ? 'cluster-wide'
    : nss.length === 1
      ? `in namespace ${nss[0]}`
      : `in namespaces ${nss.join(', ')}`;
  const reviews = asked
    ? refused.slice(0, 2).map((r) => `SubjectAccessReview: ${user} may not ${r.verb} ${r.resource}${r.namespace ? ` in namespace ${r.namespace}` : ' cluster-wide'}`)
    : [];
  return [
    {
      cause: `ServiceAccount ${promNs}/${sa} may not ${verbs.join(' or ')} ${resources.join(', ')} ${where}, so Prometheus discovers no target`,
      fix: `Bind it to a ClusterRole with get/list/watch on ${resources.join(', ')} (kubectl apply -f 16-prometheus-rbac.yaml)`,
      evidence: evidence([...logLines.slice(-(MAX_EVIDENCE - reviews.length)), ...reviews]),
      target: { object: { kind: 'ClusterRoleBinding', name: sa }, path: ['subjects'] },
    },
  ];
}

/** The findings of `prometheus-targets`, most telling first. */
async function targetsFindings(p: Probe): Promise<void> {
  const { settings } = p.ctx;
  const jobName = settings.scrapeJob;
  const [config, allTargets, source] = await Promise.all([p.config(), p.targets(), p.configSource()]);
  const running = config?.jobs.find((j) => j.name === jobName);
  const targets = jobTargets(allTargets ?? [], jobName);
  const stored = running && source ? await storedJob(p, source, jobName) : undefined;
  // Discovery as the ConfigMap writes it when Prometheus runs the job through another mechanism.
  const job = running && !running.sd.length && stored?.job?.sd.length ? stored.job : running;

  const jobMissing: Finding[] = [];
  if (config && !job) {
    const names = config.jobs.map((j) => j.name);
    jobMissing.push({
      cause: `Prometheus's configuration has no scrape job ${jobName}${names.length ? ` (its jobs: ${names.join(', ')})` : ''}`,
      fix: `Add the job to ${source?.key ?? 'prometheus.yml'} in ${configName(source)} and restart Prometheus, or set the scrape-job input to one of its jobs`,
      target: inConfig(source, ['scrape_configs']),
    });
  }
  // The namespaces the job discovers pods in (undefined: all of them).
  const namespaces = job?.sd.length ? jobNamespaces(job, p.ns) : [settings.namespace];
  // Permissions matter for Kubernetes discovery; with the configuration unread, TaskFlow's is assumed.
  const rbac = job?.sd.length || !config ? await rbacFindings(p, job, namespaces) : [];

  // The ConfigMap edited since Prometheus loaded it.
  const stale = running && source && stored ? await staleConfigFinding(p, running, stored, source) : [];

  // The job's namespaces.
  const nsFindings: Finding[] = [];
  if (job && job.sd.length && namespaces && !namespaces.includes(settings.namespace)) {
    const sd = job.sd.find((s) => s.namespaces) ?? job.sd[0]!;
    nsFindings.push({
      cause: `Scrape job ${job.name} discovers pods only in ${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${namespaces.join(', ') || '(none)'}, not in ${settings.namespace}`,
      fix: `Add ${settings.namespace} to namespaces.names of the job's kubernetes_sd_configs in ${configName(source)}, then restart Prometheus`,
      evidence: evidence([`kubernetes_sd_configs[${sd.index}].namespaces.names: [${(sd.namespaces ?? []).join(', ')}]`]),
      target: inConfig(source, ['scrape_configs', job.index, 'kubernetes_sd_configs', sd.index, 'namespaces', 'names']),
    });
  }

  // The pods the job should find: labels, annotations, then their state.
  const podNamespaces = [...new Set([...(namespaces ?? []), settings.namespace])];
  const podLists = await Promise.all(podNamespaces.map((ns) => p.pods(ns)));
  const pods = podLists.flatMap((l) => l ?? []);
  const inJobNs = (pod: V1Pod): boolean => Boolean(job?.sd.length) && (!namespaces || namespaces.includes(pod.metadata?.namespace ?? ''));
  const upApps = new Set(targets.filter((t) => t.health === 'up').map(appOf));
  const missing = settings.expectedTargets.filter((app) => !upApps.has(app));
  const labelFindings: Finding[] = [];
  const stateFindings: Finding[] = [];
  const explained = new Set<string>();
  const checkPod = async (pod: V1Pod, app: string | undefined): Promise<void> => {
    const name = pod.metadata?.name ?? '';
    if (explained.has(name)) return;
    explained.add(name);
    const role = job?.sd[0]?.role ?? 'pod';
    const rule = job && role === 'pod' && inJobNs(pod) ? whyDropped(pod, job) : undefined;
    if (rule && job) {
      labelFindings.push(await droppedFinding(p, pod, job, rule, app, source));
      return;
    }
    const hasTarget = targets.some((t) => targetPodName(t) === name);
    if (!isReady(pod) && !hasTarget) {
      stateFindings.push(await explainPod(p, pod, { logOwner: `the logs of pod ${podRef(pod)}`, consequence: 'so Prometheus cannot scrape it' }));
    }
  };

  const appRule = job?.relabel.find((r) => r.action === 'keep' && r.sourceLabels.length === 1 && r.sourceLabels[0] === `${LABEL_PREFIX}app`);
  for (const app of missing) {
    if (job && appRule?.regex && !appRule.regex.test(app)) {
      labelFindings.push({
        cause: `The keep rule of job ${job.name} (regex "${appRule.regexText}") drops app=${app}, an expected target`,
        fix: `Add ${app} to that regex in ${configName(source)} (e.g. ${appRule.regexText}|${app}), then restart Prometheus`,
        evidence: evidence([ruleText(appRule)]),
        target: inConfig(source, ['scrape_configs', job.index, 'relabel_configs', appRule.index, 'regex']),
      });
      continue;
    }
    const labelled = pods.filter((pod) => pod.metadata?.labels?.app === app);
    const candidates = labelled.length ? labelled : namedAfter(pods, app);
    if (!candidates.length && podLists.every((l) => l !== undefined)) {
      labelFindings.push({
        cause: `No pod in ${podNamespaces.length === 1 ? 'namespace' : 'namespaces'} ${podNamespaces.join(', ')} carries app=${app}`,
        fix: `Deploy ${app} (kubectl get pods -n ${settings.namespace} --show-labels shows what runs), or remove it from the expected-targets input`,
      });
    }
    for (const pod of candidates) await checkPod(pod, app);
  }
  if (!settings.expectedTargets.length) {
    for (const pod of pods.filter((x) => x.metadata?.annotations?.['prometheus.io/scrape'] === 'true')) {
      if (!targets.some((t) => targetPodName(t) === pod.metadata?.name)) await checkPod(pod, undefined);
    }
  }

  // DOWN targets: each one's last error read against its pod.
  const downFindings: Finding[] = [];
  const down = targets.filter((t) => t.health === 'down');
  for (const t of down.slice(0, MAX_DOWN_FINDINGS)) {
    const podName = targetPodName(t);
    const ns = targetNamespace(t, settings.namespace);
    const pod = podName ? (pods.find((x) => x.metadata?.name === podName && x.metadata.namespace === ns) ?? (await p.pods(ns))?.find((x) => x.metadata?.name === podName)) : undefined;
    downFindings.push(await downFinding(p, t, pod, job, source));
  }
  if (down.length > MAX_DOWN_FINDINGS) p.note(`${down.length - MAX_DOWN_FINDINGS} more DOWN targets not explained one by one`);

  // Targets discovered but not scraped yet.
  const waitFindings: Finding[] = [];
  const unscraped = targets.filter((t) => !scraped(t));
  if (unscraped.length && !down.length) {
    const interval = job?.scrapeInterval ?? unscraped[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
    waitFindings.push(notScrapedYet(p, interval, unscraped.map(appOf)));
  }

  const found = [...jobMissing, ...rbac, ...stale, ...nsFindings, ...labelFindings, ...stateFindings, ...downFindings, ...waitFindings];
  // Nothing wrong was found and nothing is discovered yet: Prometheus may just have started.
  const pending = !found.length && !targets.length ? await discoveryPending(p, job?.scrapeInterval ?? DEFAULT_INTERVAL) : undefined;
  p.findings.push(...found, ...(pending ? [pending] : []));
}

/** The scrape job as the ConfigMap holds it, or why it could not be read. */
interface StoredJob {
  readonly job?: JobConfig;
  readonly parseError?: string;
}

async function storedJob(p: Probe, source: ConfigSource, jobName: string): Promise<StoredJob | undefined> {
  const ns = source.configMap.namespace ?? p.ns;
  const name = source.configMap.name;
  const cm = await p.read(`ConfigMap ${ns}/${name}`, { verb: 'get', resource: 'configmaps', namespace: ns }, () => p.ctx.cluster.readConfigMap(ns, name, p.ctx.signal));
  const file = cm?.data?.[source.key];
  if (file === undefined) return undefined;
  try {
    const job = parsePromConfig(file).jobs.find((j) => j.name === jobName);
    return job ? { job } : {};
  } catch (err) {
    return { parseError: messageOf(err) };
  }
}

/**
 * What decides which pods become targets, for comparing the running job with the ConfigMap's:
 * the relabel rules, and the namespaces when both discover through Kubernetes.
 */
function sameSelection(a: JobConfig, b: JobConfig): boolean {
  const rules = (j: JobConfig): string => JSON.stringify(j.relabel.map((r) => [r.action, r.sourceLabels, r.separator, r.regexText, r.targetLabel, r.replacement]));
  const discovery = (j: JobConfig): string => JSON.stringify(j.sd.map((d) => [d.role, d.namespaces, d.ownNamespace]));
  return rules(a) === rules(b) && (!a.sd.length || !b.sd.length || discovery(a) === discovery(b));
}

/** The job in the ConfigMap differs from the one Prometheus runs: it was edited and not reloaded. */
async function staleConfigFinding(p: Probe, running: JobConfig, stored: StoredJob, source: ConfigSource): Promise<Finding[]> {
  const ref = `${source.configMap.namespace ?? p.ns}/${source.configMap.name}`;
  if (stored.parseError !== undefined) {
    return [
      {
        cause: `${source.key} in ConfigMap ${ref} is not valid YAML, so Prometheus keeps running an older configuration`,
        fix: `Fix ${source.key} (promtool check config shows the error), then restart Prometheus`,
        evidence: evidence([stored.parseError]),
        target: inConfig(source, []),
      },
    ];
  }
  if (stored.job && sameSelection(stored.job, running)) return [];
  const pod = await p.prometheusPod();
  const deployment = pod ? await workloadOf(p, pod) : undefined;
  return [
    {
      cause: stored.job
        ? `Job ${running.name} in ConfigMap ${ref} differs from the configuration Prometheus runs: Prometheus has not reloaded the ConfigMap since it changed`
        : `ConfigMap ${ref} no longer has job ${running.name}, which Prometheus still runs: Prometheus has not reloaded the ConfigMap since it changed`,
      fix: deployment
        ? `Restart Prometheus to load it (kubectl rollout restart ${deployment.kind.toLowerCase()}/${deployment.name} -n ${deployment.namespace})`
        : 'Restart Prometheus to load it',
      target: inConfig(source, ['scrape_configs', stored.job?.index ?? running.index]),
    },
  ];
}

async function downFinding(p: Probe, t: Target, pod: V1Pod | undefined, job: JobConfig | undefined, source: ConfigSource | undefined): Promise<Finding> {
  const name = appOf(t) || t.labels.instance || t.scrapeUrl;
  const error = t.lastError;
  const ev = [error ? `lastError: ${error}` : undefined];
  if (pod && !isReady(pod)) {
    const f = await explainPod(p, pod, { logOwner: `the logs of pod ${podRef(pod)}`, consequence: `so its target ${name} is DOWN` });
    return { ...f, evidence: evidence([...ev, ...(f.evidence ?? [])]) };
  }
  const ref = pod ? podRef(pod) : (targetPodName(t) ?? t.labels.instance ?? '');
  const workload = pod ? await workloadOf(p, pod) : undefined;
  const port = targetPort(t);
  const annotations = pod?.metadata?.annotations ?? {};
  const declared = (pod?.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => `${c.name}:${x.containerPort}`));

  if (/connection refused/i.test(error)) {
    const annotated = annotations['prometheus.io/port'] !== undefined;
    const containerIndex = (pod?.spec?.containers ?? []).findIndex((c) => c.ports?.some((x) => String(x.containerPort) === port));
    return {
      cause: `Nothing listens on port ${port ?? '?'} of pod ${ref}${annotated ? ', the port its prometheus.io/port annotation names' : ''}: target ${name} is DOWN (connection refused)`,
      fix: `Make ${annotated ? 'the prometheus.io/port annotation' : 'the scraped port'} name the port the exporter listens on${declared.length ? ` (the pod declares ${declared.join(', ')})` : ''}, or start the exporter on port ${port ?? '?'}`,
      evidence: evidence([...ev, annotated ? `prometheus.io/port: "${annotations['prometheus.io/port']}"` : undefined]),
      ...(workload
        ? {
            target: templatePath(
              workload,
              annotated ? ['metadata', 'annotations', 'prometheus.io/port'] : ['spec', 'containers', Math.max(0, containerIndex), 'ports'],
            ),
          }
        : {}),
    };
  }

  const status = /server returned HTTP status (\d{3})([^"]*)/i.exec(error);
  if (status && status[1]!.startsWith('5')) {
    const container = (pod?.spec?.containers ?? []).find((c) => c.ports?.some((x) => String(x.containerPort) === port));
    const lines = pod && container ? lastLines(await p.logs(pod, container.name, 50, false, `the logs of pod ${podRef(pod)}`), 50).filter((l) => /error|fail|panic|refused|denied/i.test(l)).slice(-3) : [];
    return {
      cause: `The exporter of pod ${ref} answers ${t.scrapeUrl} with an error: HTTP ${status[1]}${status[2]?.trim() ? ` ${status[2].trim()}` : ''}`,
      fix: `Fix what the exporter's log reports${pod && container ? ` (kubectl logs -n ${pod.metadata?.namespace} ${pod.metadata?.name} -c ${container.name})` : ''}: it often cannot reach or log in to the service it exports`,
      evidence: evidence([...ev, ...lines]),
    };
  }
  if (status && status[1] === '404') {
    const path = annotations['prometheus.io/path'];
    return {
      cause: `Pod ${ref} serves no metrics at ${t.scrapeUrl}: HTTP 404`,
      fix: `Set the prometheus.io/path annotation to the exporter's metrics path${path ? ` (now "${path}")` : ''}`,
      evidence: evidence(ev),
      ...(workload ? { target: templatePath(workload, path !== undefined ? ['metadata', 'annotations', 'prometheus.io/path'] : ['metadata', 'annotations']) } : {}),
    };
  }
  if (/deadline exceeded|timeout|timed out/i.test(error)) {
    const timeout = job?.scrapeTimeout ?? t.discoveredLabels.__scrape_timeout__ ?? DEFAULT_TIMEOUT;
    const interval = job?.scrapeInterval ?? t.scrapeInterval ?? DEFAULT_INTERVAL;
    return {
      cause: `The scrape of target ${name} (pod ${ref}) does not finish within scrape_timeout (${timeout})`,
      fix: `Make the exporter answer faster, or raise scrape_timeout of job ${t.scrapePool || t.job} in ${configName(source)} (at most its scrape_interval, ${interval})`,
      evidence: evidence(ev),
      ...(job ? { target: inConfig(source, ['scrape_configs', job.index, 'scrape_timeout']) } : {}),
    };
  }
  return {
    cause: `Target ${name} (pod ${ref}) is DOWN: ${error || 'no error reported'}`,
    fix: `Check that pod ${ref} serves ${t.scrapeUrl} (kubectl describe pod and kubectl logs)`,
    evidence: evidence(ev),
  };
}

/** Time Prometheus's discovery takes to hand its first targets to the scrapers (its target manager updates every 5 s). */
const DISCOVERY_SETTLE_MS = 10_000;

/** Prometheus started so recently that its discovery and first scrapes may still be ahead. */
async function discoveryPending(p: Probe, interval: string): Promise<Finding | undefined> {
  const pod = await p.prometheusPod();
  const started = pod?.status?.containerStatuses?.map((c) => c.state?.running?.startedAt).find(Boolean);
  if (!started) return undefined;
  const age = Date.now() - new Date(started).getTime();
  const settle = DISCOVERY_SETTLE_MS + 2 * (durationMs(interval) || durationMs(DEFAULT_INTERVAL));
  if (age < 0 || age >= settle) return undefined;
  return {
    cause: `Prometheus started ${Math.floor(age / 1000)} s ago and has not discovered its targets yet: the first samples are expected within ${Math.ceil((settle - age) / 1000)} s (scrape_interval ${interval})`,
    fix: `Raise the wait input to cover Prometheus's start-up (e.g. wait: ${formatDuration(settle)}): a stack deployed just now needs its first discovery and one or two scrape intervals`,
  };
}

function notScrapedYet(p: Probe, interval: string, apps: readonly string[] = []): Finding {
  const ms = durationMs(interval) || durationMs(DEFAULT_INTERVAL);
  const twice = 2 * ms;
  const waitMs = p.ctx.settings.waitMs;
  const who = apps.length ? ` ${[...new Set(apps.filter(Boolean))].join(', ')}` : '';
  return {
    cause: `Prometheus has not scraped${who} yet: the first samples are expected in ${Math.ceil(ms / 1000)} s (scrape_interval ${interval})`,
    fix:
      waitMs < twice
        ? `Raise the wait input to at least 2 × scrape_interval (e.g. wait: ${formatDuration(twice)})`
        : `The wait input (${formatDuration(waitMs)}) already covers 2 × scrape_interval: the targets were discovered only recently; check that their pods are not restarting (kubectl get pods -n ${p.ns})`,
  };
}

// ------------------------------------------------------------------------------------------------
// prometheus-query, and Grafana's query returning no data

interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** The first vector selector of a PromQL expression: its metric name and label matchers. */
export function firstSelector(expr: string): { metric?: string; matchers: Matcher[] } | undefined {
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[{}]/g, ' '));
  const brace = /([a-zA-Z_:][\w:]*)?\s*\{/.exec(stripped);
  if (brace) {
    const start = brace.index + brace[0].length;
    const end = stripped.indexOf('}', start);
    if (end < 0) return undefined;
    const inside = expr.slice(start, end);
    const matchers: Matcher[] = [];
    for (const m of inside.matchAll(/([a-zA-Z_][\w]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.push({ name: m[1]!, op: m[2] as Matcher['op'], value: m[3]!.replace(/\\(.)/g, '$1') });
    }
    const metric = brace[1] && !/^(by|without|on|ignoring|group_left|group_right)$/.test(brace[1]) ? brace[1] : matchers.find((m) => m.name === '__name__' && m.op === '=')?.value;
    return { ...(metric ? { metric } : {}), matchers: matchers.filter((m) => m.name !== '__name__') };
  }
  const bare = /^\s*([a-zA-Z_:][\w:]*)\s*(\[[^\]]*\])?\s*$/.exec(expr);
  return bare ? { metric: bare[1]!, matchers: [] } : undefined;
}

function matches(m: Matcher, value: string | undefined): boolean {
  const v = value ?? '';
  if (m.op === '=') return v === m.value;
  if (m.op === '!=') return v !== m.value;
  const re = anchored(m.value);
  if (!re) return true;
  return re.test(v) === (m.op === '=~');
}

/** Series Prometheus makes for every target, whatever it exports. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

async function queryFindings(p: Probe): Promise<void> {
  const { settings, prometheus, signal } = p.ctx;
  const [config, allTargets, promPod] = await Promise.all([p.config(), p.targets(), p.prometheusPod()]);
  if (!allTargets) return;
  const job = config?.jobs.find((j) => j.name === settings.scrapeJob);
  const targets = jobTargets(allTargets, settings.scrapeJob);
  const interval = job?.scrapeInterval ?? targets[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
  const intervalMs = durationMs(interval) || durationMs(DEFAULT_INTERVAL);
  const query = settings.query;

  if (!allTargets.length) {
    const pending = await discoveryPending(p, interval);
    if (pending) {
      p.findings.push(pending);
      return;
    }
    p.findings.push({
      cause: `Prometheus has no active target, so ${query} has nothing to return`,
      fix: `Make Prometheus discover its targets first (see the prometheus-targets diagnosis)`,
    });
    return;
  }
  const scrapedTargets = allTargets.filter(scraped);
  if (!scrapedTargets.length) {
    p.findings.push(notScrapedYet(p, interval));
    return;
  }
  // Scraped, but only since Prometheus started moments ago.
  const started = promPod?.status?.containerStatuses?.map((s) => s.state?.running?.startedAt).find(Boolean);
  const age = started ? Date.now() - new Date(started).getTime() : Infinity;
  if (age >= 0 && age < 2 * intervalMs) {
    const left = Math.ceil((2 * intervalMs - age) / 1000);
    p.findings.push({
      cause: `Prometheus started ${Math.floor(age / 1000)} s ago and has scraped its targets at most twice: more samples are expected in ${left} s (scrape_interval ${interval})`,
      fix: `Raise the wait input to at least 2 × scrape_interval (e.g. wait: ${formatDuration(2 * intervalMs)})`,
    });
    return;
  }

  const jobs = [...new Set(allTargets.map((t) => t.scrapePool))];
  if (!targets.length && query.includes(settings.scrapeJob)) {
    p.findings.push({
      cause: `Scrape job ${settings.scrapeJob} has no active target (Prometheus scrapes: ${jobs.join(', ')}), so ${query} has no series to return`,
      fix: `Make Prometheus discover the job's pods first (see the prometheus-targets diagnosis)`,
    });
    return;
  }
  const selector = firstSelector(query);
  const labelsShown = scrapedTargets.slice(0, 3).map((t) => `target labels: {${Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`);
  if (selector) {
    // A matcher on a target label that no target satisfies.
    const targetKeys = new Set(allTargets.flatMap((t) => Object.keys(t.labels)));
    for (const m of selector.matchers) {
      if (m.op === '!=' || m.op === '!~') continue;
      if (!targetKeys.has(m.name) && m.name !== 'job' && m.name !== 'instance') continue;
      if (scrapedTargets.some((t) => matches(m, t.labels[m.name]))) continue;
      const have = [...new Set(scrapedTargets.map((t) => t.labels[m.name]).filter((v): v is string => v !== undefined))];
      p.findings.push({
        cause: `The query ${query} selects ${m.name}${m.op}"${m.value}", but ${have.length ? `the scraped targets have ${have.slice(0, 5).map((v) => `${m.name}="${v}"`).join(', ')}` : `no scraped target has a ${m.name} label`}`,
        fix: have.length
          ? `Change the query input to select the targets' labels (e.g. ${m.name}="${have.includes(settings.scrapeJob) && m.name === 'job' ? settings.scrapeJob : have[0]}")`
          : `Remove the ${m.name} matcher from the query input, or add that label in the job's relabel_configs`,
        evidence: evidence(labelsShown),
      });
      return;
    }
    // A metric that no target exposes.
    if (selector.metric && !SCRAPE_SERIES.has(selector.metric)) {
      const found: Series[] | undefined = await p.read(`the series named ${selector.metric}`, undefined, () => prometheus.query(`count by (job) ({__name__="${selector.metric}"})`, signal));
      if (found && !found.length) {
        p.findings.push({
          cause: `No series named ${selector.metric} exists in Prometheus: none of its ${plural(scrapedTargets.length, 'scraped target')} exports it`,
          fix: `Check the metric name against what the exporters serve (e.g. ${scrapedTargets[0]?.scrapeUrl}); a counter with labels appears only after its first increment`,
          evidence: evidence(labelsShown),
        });
        return;
      }
    }
  }
  if (targets.length && !targets.some(scraped)) {
    p.findings.push(notScrapedYet(p, interval, targets.map(appOf)));
    return;
  }
  p.findings.push({
    cause: `Prometheus has scraped ${plural(scrapedTargets.length, 'target')}, but ${query} matches none of their series`,
    fix: `Change the query input to select the targets' labels`,
    evidence: evidence(labelsShown),
  });
}

/** `prometheus-query`: the query returns nothing though Prometheus answers. */
const queryProber: Prober = async (_result, ctx) => {
  const p = new Probe(ctx);
  await queryFindings(p);
  return { findings: p.findings, notes: p.notes };
};

/**
 * `grafana-query` returned no data: when Prometheus itself has the series, Grafana's datasource
 * is not reaching it; otherwise the same diagnosis as `prometheus-query`.
 */
export const noDataProber: Prober = async (_result, ctx) => {
  const p = new Probe(ctx);
  const { settings, prometheus, signal } = ctx;
  const series = await p.read(`Prometheus's answer to ${settings.query}`, undefined, () => prometheus.query(settings.query, signal));
  if (series?.length) {
    p.findings.push({
      cause: `Prometheus itself returns ${plural(series.length, 'series', 'series')} for ${settings.query}, but Grafana's datasource ${settings.datasourceName} returns none`,
      fix: `Point the datasource at this Prometheus (${settings.datasourceUrl}), and query a time range that includes the last minutes`,
      evidence: evidence(series.slice(0, 3).map((s) => `{${Object.entries(s.metric).map(([k, v]) => `${k}="${v}"`).join(', ')}} ${s.value}`)),
    });
    return { findings: p.findings, notes: p.notes };
  }
  await queryFindings(p);
  return { findings: p.findings, notes: p.notes };
};

// ------------------------------------------------------------------------------------------------
// prometheus-service

const serviceProber: Prober = async (_result, ctx) => {
  const p = new Probe(ctx);
  const { settings, cluster, signal } = ctx;
  const ns = settings.namespace;
  const { name, port } = settings.prometheusService;
  const serviceRef: ObjectRef = { kind: 'Service', namespace: ns, name };
  const [service, promPods] = await Promise.all([
    p.read(`Service ${ns}/${name}`, { verb: 'get', resource: 'services', namespace: ns }, () => cluster.readService(ns, name, signal).then((s) => s ?? null)),
    p.prometheusPods(),
  ]);
  const podSummary = (promPods ?? []).slice(0, 2).map((pod) => `pod ${pod.metadata?.name} labels: ${labelText(pod.metadata?.labels)}`);
  if (service === undefined) return { findings: p.findings, notes: p.notes };
  if (service === null) {
    p.findings.push({
      cause: `Service ${ns}/${name} does not exist`,
      fix: `Create it (TaskFlow defines it with the Prometheus Deployment: kubectl apply -f 15-prometheus-deployment.yaml), or set the prometheus-service input to the Service in front of Prometheus`,
      evidence: evidence(podSummary),
      target: { object: serviceRef, path: [] },
    });
    return { findings: p.findings, notes: p.notes };
  }
  await serviceFindings(p, service, promPods, port);
  return { findings: p.findings, notes: p.notes };
};

async function serviceFindings(p: Probe, service: V1Service, promPods: V1Pod[] | undefined, port: string): Promise<void> {
  const ns = p.ns;
  const name = service.metadata?.name ?? '';
  const serviceRef: ObjectRef = { kind: 'Service', namespace: ns, name };
  const ports = service.spec?.ports ?? [];
  const sp = ports.find((x) => String(x.port) === port || x.name === port);
  if (!sp) {
    const have = ports.map((x) => (x.name ? `${x.name}:${x.port}` : String(x.port))).join(', ') || 'none';
    p.findings.push({
      cause: `Service ${ns}/${name} has no port ${port} (it has: ${have})`,
      fix: `Add port ${port} to the Service, or set the prometheus-service input to one of its ports`,
      target: { object: serviceRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const selector = service.spec?.selector ?? {};
  const wanted = selectorText(selector);
  const promSelector = p.ctx.settings.prometheusSelector;
  if (!wanted) {
    const example = promPods?.[0] ? selectorFor(selector, promPods[0], promSelector) : promSelector;
    p.findings.push({
      cause: `Service ${ns}/${name} has no selector, so no pod backs it unless its Endpoints are written by hand`,
      fix: `Set the Service's selector to the Prometheus pods' labels (${example})`,
      target: { object: serviceRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const selected = await p.pods(ns, wanted);
  if (selected === undefined) return;
  if (!selected.length) {
    const pod = promPods?.[0];
    if (pod) {
      const shown = Object.keys(selector).some((k) => pod.metadata?.labels?.[k] !== undefined)
        ? selectorText(Object.fromEntries(Object.keys(selector).filter((k) => pod.metadata?.labels?.[k] !== undefined).map((k) => [k, pod.metadata!.labels![k]!])))
        : labelText(pod.metadata?.labels);
      p.findings.push({
        cause: `Service ${ns}/${name} selects ${wanted}, but the Prometheus pod ${pod.metadata?.name} has ${shown}`,
        fix: `Set the Service's selector to ${selectorFor(selector, pod, promSelector)}`,
        evidence: evidence([`Service selector: ${wanted}`, `pod ${pod.metadata?.name} labels: ${labelText(pod.metadata?.labels)}`]),
        target: { object: serviceRef, path: ['spec', 'selector'] },
      });
    } else if (promPods) {
      p.findings.push({
        cause: `No pod matches the selector ${wanted} of Service ${ns}/${name}, and no Prometheus pod runs (none matches ${promSelector})`,
        fix: `Deploy Prometheus (see the prometheus-pod diagnosis)`,
      });
    }
    return;
  }
  // The targetPort must name (or number) a port of the selected pods' containers.
  const targetPort = sp.targetPort ?? sp.port;
  const pod = selected.find(isReady) ?? selected[0]!;
  const declared = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const found = declared.some((x) => (typeof targetPort === 'number' || /^\d+$/.test(String(targetPort)) ? x.containerPort === Number(targetPort) : x.name === targetPort));
  if (!found && declared.length) {
    const have = declared.map((x) => (x.name ? `${x.name}:${x.containerPort}` : String(x.containerPort)));
    const suggestion = declared.length === 1 ? (declared[0]!.name ?? String(declared[0]!.containerPort)) : undefined;
    p.findings.push({
      cause: `Service ${ns}/${name} forwards port ${sp.port} to targetPort ${typeof targetPort === 'number' ? targetPort : `"${targetPort}"`}, which pod ${pod.metadata?.name} does not declare (it declares ${have.join(', ')})`,
      fix: suggestion ? `Set the Service port's targetPort to ${suggestion}` : `Set the Service port's targetPort to one of ${have.join(', ')}`,
      target: { object: serviceRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const ready = selected.filter(isReady);
  if (!ready.length) {
    for (const x of selected.slice(0, 2)) p.findings.push(await explainPod(p, x, { logOwner: "Prometheus's logs", consequence: `so Service ${ns}/${name} has no ready endpoint`, prometheus: true }));
    return;
  }
  p.note(`Service ${ns}/${name} selects ${plural(ready.length, 'Ready pod')} (${ready.map((x) => x.metadata?.name).join(', ')}) on a declared port, yet had no ready endpoint: the endpoints may have lagged behind; run again`);
}

/** The selector to give the Service: its keys with the pod's values, or the prometheus-selector. */
function selectorFor(selector: Labels, pod: V1Pod, fallback: string): string {
  const labels = pod.metadata?.labels ?? {};
  const keys = Object.keys(selector).filter((k) => labels[k] !== undefined);
  if (keys.length) return selectorText(Object.fromEntries(keys.map((k) => [k, labels[k]!])));
  return fallback;
}

// ------------------------------------------------------------------------------------------------
// prometheus-pod

const podProber: Prober = async (_result, ctx) => {
  const p = new Probe(ctx);
  const selector = ctx.settings.prometheusSelector;
  const pods = await p.prometheusPods();
  if (pods === undefined) return { findings: p.findings, notes: p.notes };
  if (!pods.length) {
    await noPodFindings(p, selector);
    return { findings: p.findings, notes: p.notes };
  }
  const broken = pods.filter((x) => !isReady(x));
  if (broken.length === pods.length) {
    for (const pod of broken.slice(0, 3)) p.findings.push(await explainPod(p, pod, { logOwner: "Prometheus's logs", prometheus: true }));
  }
  return { findings: p.findings, notes: p.notes };
};

async function noPodFindings(p: Probe, selector: string): Promise<void> {
  const ns = p.ns;
  const deployments = await p.deployments(ns);
  if (!deployments) return;
  const making = deployments.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, selector) === true);
  if (making) {
    const ref: ObjectRef = { kind: 'Deployment', namespace: ns, name: making.metadata?.name ?? '' };
    if (making.spec?.replicas === 0) {
      p.findings.push({
        cause: `Deployment ${ns}/${ref.name} is scaled to 0 replicas`,
        fix: `Set replicas: 1 in the Deployment (kubectl scale deployment/${ref.name} -n ${ns} --replicas=1)`,
        target: { object: ref, path: ['spec', 'replicas'] },
      });
      return;
    }
    const failure = making.status?.conditions?.find((c) => (c.type === 'ReplicaFailure' && c.status === 'True') || (c.type === 'Available' && c.status === 'False'));
    p.findings.push({
      cause: `Deployment ${ns}/${ref.name} has no pod${failure?.message ? `: ${failure.message}` : ''}`,
      fix: `Read why in its events: kubectl describe deployment -n ${ns} ${ref.name} (and its ReplicaSet's)`,
      evidence: evidence([failure ? `${failure.type}: ${failure.reason ?? ''} ${failure.message ?? ''}` : undefined]),
      target: { object: ref, path: [] },
    });
    return;
  }
  const named = deployments.find((d) => /prometheus/.test(d.metadata?.name ?? ''));
  if (named) {
    const labels = named.spec?.template?.metadata?.labels;
    p.findings.push({
      cause: `Deployment ${ns}/${named.metadata?.name} labels its pods ${labelText(labels)}, which the prometheus-selector ${selector} does not match`,
      fix: `Set the prometheus-selector input to the pods' labels (e.g. ${Object.entries(labels ?? {}).filter(([k]) => k !== 'pod-template-hash').slice(0, 1).map(([k, v]) => `${k}=${v}`).join('') || '…'}), or label the pod template ${selector}`,
      target: { object: { kind: 'Deployment', namespace: ns, name: named.metadata?.name ?? '' }, path: ['spec', 'template', 'metadata', 'labels'] },
    });
    return;
  }
  p.findings.push({
    cause: `No Deployment in namespace ${ns} runs Prometheus (none labels its pods ${selector} or is named after it)`,
    fix: `Deploy Prometheus in ${ns} (TaskFlow: kubectl apply -f 15-prometheus-config.yaml -f 15-prometheus-deployment.yaml -f 16-prometheus-rbac.yaml)`,
  });
}

// ------------------------------------------------------------------------------------------------

const targetsProber: Prober = async (_result, ctx) => {
  const p = new Probe(ctx);
  await targetsFindings(p);
  return { findings: p.findings, notes: p.notes };
};

/** The probes of the Prometheus checks; `noDataProber` serves `grafana-query` when it returns no data. */
export const PROMETHEUS_PROBERS: Partial<Record<CheckId, Prober>> = {
  'prometheus-pod': podProber,
  'prometheus-service': serviceProber,
  'prometheus-targets': targetsProber,
  'prometheus-query': queryProber,
};
