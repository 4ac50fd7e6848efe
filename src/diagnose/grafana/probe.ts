/**
 * The bookkeeping every Grafana-side probe shares: its findings and notes, Kubernetes reads and
 * execs that turn a refusal into a note, and the Grafana Deployment and pods, each read once.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { KubeError, type ExecResult } from '../../cluster.js';
import { isReady } from '../../endpoint.js';
import { matchesSelector } from '../../selector.js';
import type { CheckResult, Settings } from '../../types.js';
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
  private deploymentRead?: Promise<V1Deployment | undefined>;
  private podsRead?: Promise<Read<V1Pod[]>>;

  constructor(readonly ctx: DiagnoseContext) {}

  get settings(): Settings {
    return this.ctx.settings;
  }
  get ns(): string {
    return this.ctx.settings.namespace;
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

  /** Runs a command in a container; undefined (with a note) when exec is refused or fails. */
  async exec(what: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult | undefined> {
    if (this.signal.aborted) {
      this.note(`${what}: the diagnosis ran out of time`);
      return undefined;
    }
    try {
      return await this.ctx.cluster.exec(this.ns, pod, container, command);
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) {
        this.note(`${what}: exec is forbidden for the action's credentials (add get pods/exec to the Role)`);
      } else {
        this.note(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
      return undefined;
    }
  }

  /** The Deployment whose pod template matches `grafana-selector` (listed once). */
  grafanaDeployment(): Promise<V1Deployment | undefined> {
    this.deploymentRead ??= (async () => {
      const list = await this.read("the Grafana Deployment's pod template not checked", 'list deployments', () =>
        this.ctx.cluster.listDeployments(this.ns, this.signal),
      );
      if (list === REFUSED) return undefined;
      const found = list.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, this.settings.grafanaSelector));
      if (!found) this.note(`no Deployment in ${this.ns} has a pod template labelled ${this.settings.grafanaSelector}: the pod template was not checked`);
      return found;
    })();
    return this.deploymentRead;
  }

  /** The Grafana pods (listed once). */
  grafanaPods(): Promise<Read<V1Pod[]>> {
    this.podsRead ??= this.read('the Grafana pod not checked', 'list pods', () => this.ctx.cluster.listPods(this.ns, this.settings.grafanaSelector, this.signal));
    return this.podsRead;
  }

  /** The Grafana pod the checks look at: Ready, else Running, else the first; undefined with a note when there is none. */
  async grafanaPod(): Promise<V1Pod | undefined> {
    const pods = await this.grafanaPods();
    if (pods === REFUSED) return undefined;
    const pod = pods.find(isReady) ?? pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
    if (!pod) this.note(`no pod in ${this.ns} matches ${this.settings.grafanaSelector}: the running Grafana was not checked`);
    return pod;
  }

  result(): Outcome {
    return { findings: this.findings, notes: this.notes };
  }
}

/** A Prober from a probe function, with a fresh Probe per run. */
export function prober(fn: (p: Probe, result: CheckResult) => Promise<void>): Prober {
  return async (result, ctx) => {
    const p = new Probe(ctx);
    await fn(p, result);
    return p.result();
  };
}
