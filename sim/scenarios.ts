/**
 * The ways the TaskFlow metrics flow breaks, each reproduced on the simulated cluster: the seed
 * guide's original bug, its troubleshooting cases, and what goes wrong in CI (rights, passwords).
 */
import type { startExporter } from './exporters/exporter.js';
import type { GrafanaSim } from './grafana/server.js';
import type { KubeApiServer, KubeObject } from './kube/index.js';
import type { PrometheusServer } from './prometheus/launcher.js';

type Exporter = Awaited<ReturnType<typeof startExporter>>;

export interface Workloads {
  readonly api: KubeApiServer;
  readonly exporters: ReadonlyMap<string, Exporter>;
  readonly prometheus: PrometheusServer | undefined;
  readonly grafana: GrafanaSim | undefined;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Edits the manifests before they are loaded. */
  readonly manifests?: (objects: KubeObject[]) => KubeObject[];
  /** Changes pod states once the pods exist, before the workloads start. */
  readonly pods?: (api: KubeApiServer) => void;
  /** Changes the running workloads. */
  readonly workloads?: (w: Workloads) => void | Promise<void>;
  /** The app exporters start only when the test says so (a stack deployed just now). */
  readonly holdApps?: boolean;
  /** Action inputs this scenario sets, besides the kubeconfig and the Grafana password. */
  readonly inputs?: Readonly<Record<string, string>>;
}

const without = (kind: string, name: string) => (objects: KubeObject[]) => objects.filter((o) => !(o.kind === kind && o.metadata.name === name));

/** Applies `edit` to the named object (a deep copy) and keeps the others. */
const editing =
  (kind: string, name: string, edit: (o: Record<string, any>) => void) =>
  (objects: KubeObject[]): KubeObject[] =>
    objects.map((o) => {
      if (o.kind !== kind || o.metadata.name !== name) return o;
      const copy = structuredClone(o) as Record<string, any>;
      edit(copy);
      return copy as KubeObject;
    });

const compose =
  (...edits: ((objects: KubeObject[]) => KubeObject[])[]) =>
  (objects: KubeObject[]) =>
    edits.reduce((acc, edit) => edit(acc), objects);

/** Removes the grafana-datasources volume and its mount from the Grafana Deployment. */
const unmountDatasources = editing('Deployment', 'grafana', (d) => {
  const spec = d.spec.template.spec;
  spec.volumes = spec.volumes.filter((v: { name: string }) => v.name !== 'grafana-datasources');
  for (const c of spec.containers) c.volumeMounts = c.volumeMounts.filter((m: { name: string }) => m.name !== 'grafana-datasources');
});

/** Removes the rules for `resource` from the action's Role. */
const revokeFromAction = (resource: string) =>
  editing('Role', 'metrics-flow-check', (role) => {
    role.rules = role.rules
      .map((r: { resources: string[] }) => ({ ...r, resources: r.resources.filter((x) => x !== resource) }))
      .filter((r: { resources: string[] }) => r.resources.length);
  });

export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', description: 'TaskFlow as the seed guide fixes it: metrics flow Prometheus → Grafana' },
  {
    name: 'seed-bug',
    description: "the seed guide's original bug: no grafana-datasources ConfigMap and no mount, so Grafana has no Prometheus datasource",
    manifests: compose(without('ConfigMap', 'grafana-datasources'), unmountDatasources),
  },
  {
    name: 'not-mounted',
    description: 'the ConfigMap exists but the Grafana Deployment does not mount it',
    manifests: unmountDatasources,
  },
  {
    name: 'wrong-datasource-url',
    description: 'the provisioned datasource points at port 9091, where Prometheus does not listen',
    manifests: editing('ConfigMap', 'grafana-datasources', (cm) => {
      cm.data['datasources.yaml'] = cm.data['datasources.yaml'].replace(':9090', ':9091');
    }),
  },
  {
    name: 'prometheus-rbac-missing',
    description: "Prometheus's ServiceAccount may not list pods (16-prometheus-rbac.yaml not applied): no targets",
    manifests: compose(without('ClusterRole', 'prometheus'), without('ClusterRoleBinding', 'prometheus')),
  },
  {
    name: 'target-down',
    description: 'the redis exporter answers HTTP 500: its target is DOWN',
    workloads: ({ exporters }) => {
      for (const [pod, exporter] of exporters) if (pod.startsWith('redis-')) exporter.setDown(true);
    },
  },
  {
    name: 'grafana-crashloop',
    description: 'the Grafana container crash-loops',
    pods: (api) => {
      api.store.setPodStatus('taskflow', 'app=grafana', { ready: false, restartCount: 7, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=grafana' } });
    },
  },
  {
    name: 'wrong-grafana-password',
    description: 'the workflow passes a Grafana password that Grafana rejects',
    inputs: { 'grafana-password': 'not-the-admin-password' },
  },
  {
    name: 'prometheus-service-missing',
    description: 'the prometheus Service does not exist',
    manifests: without('Service', 'prometheus'),
  },
  {
    name: 'prometheus-no-endpoints',
    description: 'the Prometheus pod is not Ready, so its Service has no ready endpoints',
    pods: (api) => {
      api.store.setPodStatus('taskflow', 'app=prometheus', { ready: false });
    },
  },
  {
    name: 'token-no-configmaps',
    description: "the action's ServiceAccount may not read ConfigMaps",
    manifests: revokeFromAction('configmaps'),
  },
  {
    name: 'token-no-exec',
    description: "the action's ServiceAccount may not exec into pods (the datasource file is checked from the pod spec)",
    manifests: revokeFromAction('pods/exec'),
  },
  {
    name: 'diagnosis-without-rights',
    description:
      "the action's account has only the rights the checks need (no pod logs, exec, Deployments or access reviews of others), while Prometheus's RBAC is missing and Grafana does not mount the ConfigMap",
    manifests: compose(
      revokeFromAction('pods/log'),
      revokeFromAction('pods/exec'),
      revokeFromAction('deployments'),
      editing('ClusterRole', 'metrics-flow-check', (role) => {
        role.rules = role.rules.filter((r: { resources: string[] }) => !r.resources.includes('subjectaccessreviews'));
      }),
      without('ClusterRole', 'prometheus'),
      without('ClusterRoleBinding', 'prometheus'),
      unmountDatasources,
    ),
  },
  {
    name: 'just-deployed',
    description: 'a stack deployed seconds ago: the apps start a few seconds after the check',
    holdApps: true,
  },
];

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}
