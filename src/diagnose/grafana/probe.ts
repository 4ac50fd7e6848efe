/**
 * The bookkeeping every Grafana-side probe shares: its findings and notes, Kubernetes reads and
 * execs that turn a refusal into a note, and what discovery found — the Grafana pods (from
 * `stack.grafana`), their controller's pod template (a Deployment, read with list deployments),
 * the datasource route and the objects it reads — each read once per probe.
 */
import type { V1Container, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { KubeError, type ExecResult } from '../../cluster.js';
import { readSources, type Sources } from '../../checks/provisioning.js';
import { pickPod } from '../../stack/discover.js';
import { grafanaRestart, profileOf, type StackProfile } from '../../stack/profiles/index.js';
import { DEFAULT_PROVISIONING_DIR } from '../../stack/route.js';
import type { DatasourceRoute, GrafanaSite, Sidecar, Stack } from '../../stack/types.js';
import type { CheckResult } from '../../types.js';
import { ClusterView } from '../../view.js';
import type { DiagnoseContext, Finding, Prober } from '../types.js';

type Outcome = { findings: Finding[]; notes: string[] };

/** A read the API server refused or failed (a note says so). */
export const REFUSED = Symbol('refused');
export type Read<T> = T | typeof REFUSED;

/** Evidence lines kept per finding. */
export const MAX_EVIDENCE = 5;

/** One prober's run: its findings and notes, and what it read. */
export class Probe {
  readonly findings: Finding[] = [];
  readonly notes: string[] = [];
  /** This probe's reads of the cluster (each object once). */
  readonly view: ClusterView;
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(readonly ctx: DiagnoseContext) {
    this.view = new ClusterView(ctx.cluster, ctx.prometheus, ctx.grafana, ctx.signal);
  }

  get stack(): Stack {
    return this.ctx.stack;
  }
  get profile(): StackProfile {
    return profileOf(this.stack.kind);
  }
  /** Grafana as discovery found it. */
  get site(): GrafanaSite | undefined {
    return this.stack.grafana.ok ? this.stack.grafana.value : undefined;
  }
  /** How the datasource reaches Grafana. */
  get route(): DatasourceRoute | undefined {
    return this.stack.datasource.ok ? this.stack.datasource.value : undefined;
  }
  get sidecar(): Sidecar | undefined {
    return this.route?.delivery === 'sidecar' ? this.route.sidecar : undefined;
  }
  /** Grafana's namespace (the context's when Grafana was not found). */
  get ns(): string {
    return this.site?.workload.namespace ?? this.ctx.cluster.defaultNamespace;
  }
  /** The provisioning directory Grafana reads. */
  get dir(): string {
    return this.route?.dir ?? DEFAULT_PROVISIONING_DIR;
  }
  /** The grafana container's name. */
  get container(): string {
    return this.site?.container ?? 'grafana';
  }
  /** The datasource the checks look for, by name, when the stack names one. */
  get wanted(): string | undefined {
    return this.stack.expect.datasourceName;
  }
  /** How Grafana is restarted in this stack. */
  get restart(): string {
    return grafanaRestart(this.stack);
  }
  get signal(): AbortSignal {
    return this.ctx.signal;
  }

  add(f: Finding): void {
    const evidence = (f.evidence ?? []).filter(Boolean).slice(0, MAX_EVIDENCE);
    const { evidence: _unused, ...rest } = f;
    this.findings.push(evidence.length ? { ...rest, evidence } : rest);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** One shared run of `fn` per key. */
  once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      this.memo.set(key, p);
    }
    return p;
  }

  /**
   * Runs a read of the Kubernetes API. A refusal (403) becomes a note naming what was not
   * diagnosed and the missing permission; other API failures become a note with their message.
   */
  async read<T>(what: string, permission: string, fn: () => Promise<T>): Promise<Read<T>> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      this.note(err.status === 403 ? `${what}: ${permission} is forbidden for the action's credentials (add it to the Role)` : `${what}: ${err.message}`);
      return REFUSED;
    }
  }

  /** Runs a command in a container of a pod; undefined (with a note) when exec is refused or fails. */
  async exec(what: string, pod: V1Pod, container: string, command: readonly string[]): Promise<ExecResult | undefined> {
    if (this.signal.aborted) {
      this.note(`${what}: the diagnosis ran out of time`);
      return undefined;
    }
    try {
      return await this.view.exec(pod.metadata?.namespace ?? this.ns, pod.metadata?.name ?? '', container, command);
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) {
        this.note(`${what}: exec is forbidden for the action's credentials (add get pods/exec to the Role)`);
      } else {
        this.note(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
      return undefined;
    }
  }

  /** A container's last log lines (`previous`: of its last terminated run). */
  log(what: string, pod: V1Pod, container: string, lines: number, previous = false): Promise<Read<string>> {
    const ns = pod.metadata?.namespace ?? this.ns;
    const name = pod.metadata?.name ?? '';
    return this.once(`log ${ns}/${name}/${container}/${lines}/${previous}`, () =>
      this.read(what, 'get pods/log', () => this.ctx.cluster.podLogs(ns, name, container, lines, previous, this.signal)),
    );
  }

  /**
   * The Deployment that runs Grafana (its pods' controller, when that is a Deployment), listed
   * once; undefined for another controller, a bare pod, or a refused list (with a note).
   */
  grafanaDeployment(): Promise<V1Deployment | undefined> {
    return this.once('deployment', async () => {
      const owner = this.site?.workload.owner;
      if (owner?.kind !== 'Deployment') return undefined;
      const list = await this.read("the Grafana Deployment's pod template not checked", 'list deployments', () => this.ctx.cluster.listDeployments(this.ns, this.signal));
      if (list === REFUSED) return undefined;
      const found = list.find((d) => d.metadata?.name === owner.name);
      if (!found) this.note(`Deployment ${this.ns}/${owner.name} was not found: its pod template was not checked`);
      return found;
    });
  }

  /** The Grafana pods (listed once). */
  grafanaPods(): Promise<Read<V1Pod[]>> {
    return this.once('pods', async () => {
      const w = this.site?.workload;
      if (!w) return [];
      return this.read('the Grafana pod not checked', 'list pods', () => this.view.pods(w.namespace, w.selector));
    });
  }

  /** The Grafana pod the checks look at: Ready, else Running, else the first; undefined with a note when there is none. */
  async grafanaPod(): Promise<V1Pod | undefined> {
    const pods = await this.grafanaPods();
    if (pods === REFUSED) return undefined;
    const pod = pickPod(pods);
    if (!pod && this.site) this.note(`no pod in ${this.ns} matches ${this.site.workload.selector}: the running Grafana was not checked`);
    return pod;
  }

  /** The objects the route provisions from (the sidecar's labelled objects, or the volume's), read once. */
  sources(): Promise<Read<Sources> | undefined> {
    return this.once('sources', async () => {
      const route = this.route;
      if (!route || route.delivery === 'none' || route.delivery === 'grafana-operator') return undefined;
      const sidecar = route.delivery === 'sidecar' && !route.chosen;
      const what = sidecar ? 'the objects labelled for the datasource sidecar not read' : `${route.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`).join(', ') || 'the provisioning object'} not read`;
      return this.read(what, sidecar ? 'list configmaps' : 'get configmaps', () => readSources(this.view, route));
    });
  }

  result(): Outcome {
    return { findings: this.findings, notes: this.notes };
  }
}

/** A container of the pod's spec, by name. */
export function containerOf(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/** Whether the named container runs (a crash-looping or waiting container does not). */
export function isRunning(pod: V1Pod, container: string): boolean {
  if (pod.status?.phase !== 'Running') return false;
  const status = pod.status.containerStatuses?.find((s) => s.name === container);
  return !status || Boolean(status.state?.running);
}

/** A Prober from a probe function, with a fresh Probe per run. */
export function prober(fn: (p: Probe, result: CheckResult) => Promise<void>): Prober {
  return async (result, ctx) => {
    const p = new Probe(ctx);
    await fn(p, result);
    return p.result();
  };
}
