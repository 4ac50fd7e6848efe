/**
 * What a stack profile is: how the stack is recognised from what discovery saw, the defaults it
 * brings, and how its pieces are named and fixed in hints. One module per stack; adding a stack
 * is adding a profile to the catalog in index.ts.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { CustomObject } from '../../cluster.js';
import type { StackKind } from '../../types.js';
import type { DatasourceRoute, Sidecar, SourceObject, Stack, Workload } from '../types.js';

/** What discovery saw, for recognising the stack. */
export interface Facts {
  readonly prometheusPods: readonly V1Pod[];
  readonly prometheusService?: V1Service;
  readonly operator?: CustomObject;
  readonly grafanaPods: readonly V1Pod[];
  readonly grafanaService?: V1Service;
  readonly route?: DatasourceRoute;
}

export interface Defaults {
  readonly scrapeJob: string;
  readonly expectedTargets: readonly string[];
  readonly targetLabel?: string;
  readonly datasourceName?: string;
}

/** A monitor (ServiceMonitor/PodMonitor) as hints name it. */
export interface MonitorRef {
  readonly kind: 'ServiceMonitor' | 'PodMonitor';
  readonly namespace: string;
  readonly name: string;
}

export interface StackProfile {
  readonly kind: StackKind;
  /** Evidence that the cluster runs this stack, or undefined. */
  recognise(facts: Facts): string | undefined;
  defaults(facts: Facts): Defaults;
  /** The fix when the provisioning object does not exist. */
  createDatasource(stack: Stack, route: DatasourceRoute): string;
  /** How to change the provisioning object (`set url: … in …`). */
  editDatasource(stack: Stack, object: SourceObject | undefined, change: string): string;
  /** How to get the object mounted at the provisioning directory. */
  mountDatasource(stack: Stack, object: SourceObject): string;
  /** The sidecar only copies objects carrying its label. */
  labelForSidecar(stack: Stack, object: SourceObject, sidecar: Sidecar): string;
  /**
   * A monitor the Prometheus does not select: `missing` says what it lacks (`the label release:
   * kps`); `labels`, when known, are the labels that would get it selected.
   */
  selectMonitor(stack: Stack, monitor: MonitorRef, missing: string, labels?: Readonly<Record<string, string>>): string;
  /**
   * Prometheus's service account may not list endpoints/pods/services in `namespace` (`every
   * namespace` for a cluster-scope refusal); `resources`: the ones refused, when known.
   */
  prometheusRbac(stack: Stack, namespace: string, serviceAccount: string, resources?: readonly string[]): string;
  /**
   * Grafana started before the datasource sidecar copied the file and no reload followed: how to
   * have the sidecar deliver the files before Grafana starts. Absent: `sidecarRaceFix`'s words.
   */
  sidecarRace?(stack: Stack, sidecar: Sidecar): string;
  /**
   * The sidecar's service account (`system:serviceaccount:ns:name`) may not get/list/watch
   * `resources` in `where` (`every namespace`, or a namespace list). Absent: `sidecarRbacFix`'s words.
   */
  sidecarRbac?(stack: Stack, serviceAccount: string, resources: readonly string[], where: string): string;
}

/** The rule the datasource sidecar needs (the grafana chart's ClusterRole rule). */
export function sidecarRule(resources: readonly string[]): string {
  return `- apiGroups: [""]\n  resources: [${resources.map((r) => `"${r}"`).join(', ')}]\n  verbs: ["get", "watch", "list"]`;
}

/** The grafana chart's values that run the datasource sidecar before Grafana (`prefix`: `grafana.` under kube-prometheus-stack). */
export function initDatasourcesValues(prefix: string): string {
  return `--set ${prefix}sidecar.datasources.initDatasources=true --set ${prefix}sidecar.datasources.restartPolicy=Always`;
}

/** A Role (or ClusterRole) with the sidecar's rule, bound to its service account. */
export function sidecarBinding(serviceAccount: string, resources: readonly string[], where: string): string {
  const [, ns, name] = /^system:serviceaccount:([^:]+):(.+)$/.exec(serviceAccount) ?? [];
  const who = ns && name ? `ServiceAccount ${ns}/${name}` : serviceAccount;
  const scope = where === 'every namespace' ? 'a ClusterRole and ClusterRoleBinding' : `a Role and RoleBinding in ${where} (or a ClusterRole)`;
  return `Give ${who} ${scope} with:\n${sidecarRule(resources)}\nThe sidecar retries by itself once it may list them.`;
}

/** The profile's fix for the sidecar race (pitfall: Grafana provisions before the file arrives), else the grafana chart's. */
export function sidecarRaceFix(profile: StackProfile, stack: Stack, sidecar: Sidecar): string {
  return (
    profile.sidecarRace?.(stack, sidecar) ??
    `Have the sidecar copy the files before Grafana starts: with the grafana chart, ${initDatasourcesValues('')} (${sidecar.container} then runs as a native sidecar, Kubernetes 1.29+, that finishes its first sync before Grafana starts and keeps watching); otherwise run it as an init container with METHOD=LIST.`
  );
}

/** The profile's fix for a sidecar that may not list its objects, else a Role with the chart's rule. */
export function sidecarRbacFix(profile: StackProfile, stack: Stack, serviceAccount: string, resources: readonly string[], where: string): string {
  return profile.sidecarRbac?.(stack, serviceAccount, resources, where) ?? `${sidecarBinding(serviceAccount, resources, where)} (The grafana chart creates this rule with rbac.create: true.)`;
}

/** `kubectl rollout restart deployment/grafana -n taskflow`, from the pods' controller. */
export function restartCommand(w: Workload | undefined, fallback: string): string {
  if (!w?.owner) return `kubectl delete pod -n ${w?.namespace ?? '<namespace>'} -l ${w?.selector ?? fallback}`;
  return `kubectl rollout restart ${w.owner.kind.toLowerCase()}/${w.owner.name} -n ${w.namespace}`;
}

/** How Grafana picks up a changed provisioning file: a reload (sidecar) or a restart. */
export function grafanaRestart(stack: Stack): string {
  const g = stack.grafana.ok ? stack.grafana.value : undefined;
  return restartCommand(g?.workload, 'app.kubernetes.io/name=grafana');
}

/** `ConfigMap monitoring/x`. */
export function objectName(o: SourceObject): string {
  return `${o.kind} ${o.namespace}/${o.name}`;
}

/** `kubectl label configmap x -n ns grafana_datasource=1`. */
export function labelCommand(o: SourceObject, sidecar: Sidecar): string {
  return `kubectl label ${o.kind.toLowerCase()} ${o.name} -n ${o.namespace} ${sidecar.label}=${sidecar.labelValue ?? '1'}`;
}

/** `kubectl label servicemonitor x -n ns release=kps`. */
export function labelMonitorCommand(monitor: MonitorRef, labels: Readonly<Record<string, string>>): string {
  return `kubectl label ${monitor.kind.toLowerCase()} ${monitor.name} -n ${monitor.namespace} ${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

/** Labels of a pod or Service, never undefined. */
export function labelsOf(o: { metadata?: { labels?: Record<string, string> } } | undefined): Record<string, string> {
  return o?.metadata?.labels ?? {};
}
