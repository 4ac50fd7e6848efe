/**
 * One diagnosis's state: its findings and notes, and its reads of the cluster and of Prometheus,
 * each made once. A refused read (HTTP 403) becomes a note saying what could not be diagnosed and
 * why. Also the helpers every probe shares to word its findings.
 */
import type { V1Deployment, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { KubeError, type CustomObject, type CustomResource, type Permission } from '../../cluster.js';
import { isReady } from '../../endpoint.js';
import type { Target } from '../../prometheus.js';
import type { Reason } from '../../reasons.js';
import { profileOf, type StackProfile } from '../../stack/profiles/index.js';
import { value, type PrometheusSite } from '../../stack/types.js';
import type { DiagnoseContext, Finding } from '../types.js';
import { configSourceOf, parsePromConfig, type ConfigSource, type PromConfig } from './config.js';

export type Labels = Readonly<Record<string, string>>;

/** Evidence lines are cut to this length; a finding quotes at most MAX_EVIDENCE of them. */
const MAX_EVIDENCE_CHARS = 500;
export const MAX_EVIDENCE = 5;

/** The findings and notes of one diagnosis, and its reads (each made once). */
export class Probe {
  readonly findings: Finding[] = [];
  readonly notes: string[] = [];
  private readonly cache = new Map<string, Promise<unknown>>();
  /** Answers shared between the probes of one diagnosis (access reviews), by key. */
  readonly memo = new Map<string, Promise<unknown>>();

  constructor(readonly ctx: DiagnoseContext) {}

  /** Where discovery found Prometheus; undefined when it did not. */
  get site(): PrometheusSite | undefined {
    return value(this.ctx.stack.prometheus);
  }

  /** Prometheus's namespace (the kubeconfig context's when Prometheus was not found). */
  get ns(): string {
    return this.site?.workload.namespace ?? this.ctx.cluster.defaultNamespace;
  }

  /** How the stack found is fixed, in its own words. */
  get profile(): StackProfile {
    return profileOf(this.ctx.stack.kind);
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

  /** The Prometheus pods, found again by the selector discovery settled; none when Prometheus was not found. */
  prometheusPods(): Promise<V1Pod[] | undefined> {
    const site = this.site;
    return site ? this.pods(site.workload.namespace, site.workload.selector) : Promise.resolve([]);
  }

  services(namespace: string): Promise<V1Service[] | undefined> {
    return this.once(`services ${namespace}`, `the Services of namespace ${namespace}`, { verb: 'list', resource: 'services', namespace }, () =>
      this.ctx.cluster.listServices(namespace, this.ctx.signal),
    );
  }

  /** Custom objects of a type (`namespace` undefined: every namespace). */
  customs(type: CustomResource, what: string, namespace: string | undefined): Promise<CustomObject[] | undefined> {
    return this.once(`customs ${type.group}/${type.plural} ${namespace ?? '*'}`, what, { verb: 'list', resource: type.plural, group: type.group, ...(namespace ? { namespace } : {}) }, () =>
      this.ctx.cluster.listCustom(type, namespace, undefined, this.ctx.signal),
    );
  }

  /** One custom object; null when it does not exist, undefined (with a note) when unreadable. */
  custom(type: CustomResource, what: string, namespace: string, name: string): Promise<CustomObject | null | undefined> {
    return this.once(`custom ${type.group}/${type.plural} ${namespace}/${name}`, what, { verb: 'get', resource: type.plural, group: type.group, namespace }, async () =>
      (await this.ctx.cluster.readCustom(type, namespace, name, this.ctx.signal)) ?? null,
    );
  }

  /** A namespace; null when it does not exist, undefined (with a note) when unreadable or not readable by this cluster client. */
  namespace(name: string): Promise<V1Namespace | null | undefined> {
    const read = this.ctx.cluster.readNamespace?.bind(this.ctx.cluster);
    return this.once(`namespace ${name}`, `the labels of namespace ${name}`, { verb: 'get', resource: 'namespaces' }, async () => {
      if (!read) throw new Error('this client does not read namespaces');
      return (await read(name, this.ctx.signal)) ?? null;
    });
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

/** Whether the reason is discovery's "not found" for the component (the Prometheus pods, its Service). */
export function notDiscovered(reason: Reason | undefined, component: 'prometheus' | 'prometheus-service'): boolean {
  return reason?.code === 'discovery.not-found' && 'component' in reason && reason.component === component;
}

/** `list servicemonitors.monitoring.coreos.com`, `get pods/log`: as RBAC names the resource. */
function verbResource(p: Permission): string {
  return `${p.verb} ${p.resource}${p.group ? `.${p.group}` : ''}${p.subresource ? `/${p.subresource}` : ''}`;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

function quote(line: string): string {
  const text = line.trim();
  return text.length > MAX_EVIDENCE_CHARS ? `${text.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : text;
}

export function evidence(lines: readonly (string | undefined)[]): string[] {
  return [...new Set(lines.filter((l): l is string => Boolean(l?.trim())).map(quote))].slice(0, MAX_EVIDENCE);
}

/** The last `n` non-empty lines of a log. */
export function lastLines(text: string | undefined, n: number): string[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : 'none';
}

export function selectorText(selector: Labels | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
