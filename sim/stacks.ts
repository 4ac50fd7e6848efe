/**
 * The stacks the simulated cluster can hold, each loaded from its manifests in examples/: TaskFlow
 * (the seed guide's stack), kube-prometheus, kube-prometheus-stack (release kps) and the
 * community prometheus and grafana charts — with the action's read-only account of
 * examples/rbac for that stack, the namespace it lives in, and where Grafana's admin password is.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kube/index.js';

export const STACK_NAMES = ['taskflow', 'kube-prometheus', 'kube-prometheus-stack', 'prometheus-grafana-charts'] as const;
export type StackName = (typeof STACK_NAMES)[number];

export interface StackLayout {
  /** examples/<dir>: the stack's manifests, applied in file-name order. */
  readonly dir: string;
  /** examples/rbac/<file>: the action's ServiceAccount, Role and ClusterRole for this stack. */
  readonly rbac: string;
  /** Where the stack (and the action's account) lives. */
  readonly namespace: string;
  /** The Secret and key holding Grafana's admin password; absent: Grafana's built-in `admin`. */
  readonly adminSecret?: { readonly name: string; readonly key: string };
  /** What `stack` output the action gives for it. */
  readonly kind: 'taskflow' | 'kube-prometheus' | 'kube-prometheus-stack' | 'generic';
}

export const STACKS: Readonly<Record<StackName, StackLayout>> = {
  taskflow: { dir: 'taskflow', rbac: 'metrics-flow-check.yaml', namespace: 'taskflow', adminSecret: { name: 'grafana-admin', key: 'admin-password' }, kind: 'taskflow' },
  'kube-prometheus': { dir: 'kube-prometheus', rbac: 'kube-prometheus.yaml', namespace: 'monitoring', kind: 'kube-prometheus' },
  'kube-prometheus-stack': { dir: 'kube-prometheus-stack', rbac: 'kube-prometheus-stack.yaml', namespace: 'monitoring', adminSecret: { name: 'kps-grafana', key: 'admin-password' }, kind: 'kube-prometheus-stack' },
  'prometheus-grafana-charts': { dir: 'prometheus-grafana-charts', rbac: 'prometheus-grafana-charts.yaml', namespace: 'monitoring', adminSecret: { name: 'grafana', key: 'admin-password' }, kind: 'generic' },
};

/** The action's identity in every simulated cluster (examples/rbac). */
export const ACTION_ACCOUNT = 'metrics-flow-check';

/** The project's root (this file runs from sim/ in tests and from lib/sim/ once compiled). */
export const ROOT = projectRoot(import.meta.dirname);

function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function readObjects(files: readonly string[]): KubeObject[] {
  return files
    .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as KubeObject | null))
    .filter((o): o is KubeObject => Boolean(o?.kind));
}

/** The objects of files under examples/ (`grafana-operator`: every file of that directory, in order). */
export function exampleManifests(dir: string): KubeObject[] {
  const full = join(ROOT, 'examples', dir);
  return readObjects(readdirSync(full).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(full, f)));
}

/** A stack's manifests and the action's RBAC for it, as parsed objects, in apply order. */
export function stackManifests(stack: StackName): KubeObject[] {
  const layout = STACKS[stack];
  const dir = join(ROOT, 'examples', layout.dir);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
  return readObjects([...files, join(ROOT, 'examples/rbac', layout.rbac)]);
}
