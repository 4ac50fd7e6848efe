/**
 * The ways the TaskFlow metrics flow breaks, each reproduced on the simulated cluster: the seed
 * guide's original bug, its troubleshooting cases, and what goes wrong in CI (rights, passwords).
 */
import type { startExporter } from './exporters/exporter.js';
import type { GrafanaPod } from './grafana/grafana-pod.js';
import type { GrafanaSim } from './grafana/server.js';
import type { KubeApiServer, KubeObject } from './kube/index.js';
import type { PrometheusServer } from './prometheus/launcher.js';
import { grafanaOperatorCrds } from './grafana/operator-crds.js';
import { exampleManifests, stackManifests, type StackName } from './stacks.js';

type Exporter = Awaited<ReturnType<typeof startExporter>>;

export interface Workloads {
  readonly api: KubeApiServer;
  readonly exporters: ReadonlyMap<string, Exporter>;
  readonly prometheus: PrometheusServer | undefined;
  readonly grafana: GrafanaSim | undefined;
  readonly grafanas: readonly GrafanaPod[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The stack it breaks (default TaskFlow). */
  readonly stack?: StackName;
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
  /** The Grafana release it needs (unless the cluster is started with another). */
  readonly grafanaVersion?: string;
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

/**
 * A dashboard ConfigMap `grafana-dashboard-<name>` (key `<name>.json`) mounted by the TaskFlow
 * Grafana Deployment under its dashboard provider's path, as 21-grafana-dashboards.yaml mounts its
 * own: Grafana provisions it at start like the shipped one.
 */
function taskflowDashboard(name: string, model: Record<string, unknown>, mountDir = '/etc/grafana/dashboards/taskflow') {
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `grafana-dashboard-${name}`, namespace: 'taskflow', labels: { app: 'grafana' } },
    data: { [`${name}.json`]: JSON.stringify(model, null, 2) },
  };
  return compose(
    (objects: KubeObject[]) => [...objects, configMap],
    editing('Deployment', 'grafana', (d) => {
      const spec = d.spec.template.spec;
      spec.volumes.push({ name: `grafana-dashboard-${name}`, configMap: { name: `grafana-dashboard-${name}` } });
      const grafana = spec.containers.find((c: { name: string }) => c.name === 'grafana');
      grafana.volumeMounts.push({ name: `grafana-dashboard-${name}`, mountPath: `${mountDir}/${name}`, readOnly: true });
    }),
  );
}

/** A TaskFlow dashboard of one time-series panel running `expr` (on `datasource`, else the default one). */
function onePanelDashboard(uid: string, title: string, panelTitle: string, expr: string, datasource?: { type: string; uid: string }) {
  return {
    uid,
    title,
    tags: ['taskflow'],
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [] },
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: panelTitle,
        gridPos: { h: 8, w: 24, x: 0, y: 0 },
        ...(datasource ? { datasource } : {}),
        targets: [{ refId: 'A', ...(datasource ? { datasource } : {}), expr }],
      },
    ],
  };
}

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
    name: 'stale-series',
    description:
      "backend-api relays its worker's taskflow_worker_tasks_processed_total stamped with the worker's clock, 2.5 minutes behind: Prometheus keeps the explicit timestamps (honor_timestamps is true by default), the target is UP, and the newest sample of the query is old",
    workloads: ({ exporters }) => {
      // Older than the default limit (3 × the scrape_interval: 45 s with TaskFlow's 15 s, 3 s with
      // the simulator's 1 s), within the 5 m lookback of an instant query (so the series is
      // returned), and well within the hour the head accepts (older samples are dropped: "Error
      // on ingesting samples that are too old or are too far into the future").
      for (const [pod, exporter] of exporters) {
        if (pod.startsWith('backend-api-')) exporter.relayStamped('taskflow_worker_tasks_processed_total', 'Tasks the worker processed, as it last reported them.', 150_000);
      }
    },
    inputs: { query: 'taskflow_worker_tasks_processed_total{job="kubernetes-pods"}' },
  },
  {
    name: 'just-deployed',
    description: 'a stack deployed seconds ago: the apps start a few seconds after the check',
    holdApps: true,
  },  {
    name: 'dashboard-missing-metric',
    description:
      'a TaskFlow dashboard (uid taskflow-containers) whose panel queries container_cpu_usage_seconds_total, the seed guide\'s cAdvisor query: no TaskFlow target exports it (it comes from the kubelet), so the panel has no data',
    manifests: taskflowDashboard(
      'containers',
      onePanelDashboard('taskflow-containers', 'TaskFlow / Containers', 'Container CPU', 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="taskflow"}[$__rate_interval]))'),
    ),
  },
  {
    name: 'dashboard-not-provisioned',
    description:
      'a TaskFlow dashboard ConfigMap (uid taskflow-capacity) mounted into Grafana at /var/lib/grafana/dashboards, a path no dashboards provider reads: Grafana never loads it',
    manifests: taskflowDashboard('capacity', onePanelDashboard('taskflow-capacity', 'TaskFlow / Capacity', 'Pods up', 'up{job="kubernetes-pods"}'), '/var/lib/grafana/dashboards'),
  },
  {
    name: 'dashboard-operator',
    description:
      "grafana-operator writes TaskFlow's dashboards into its Grafana (examples/grafana-operator): GrafanaDashboard taskflow-pods is applied; taskflow-requests names key request.json of its ConfigMap, which holds requests.json (the operator cannot resolve the model: InvalidSpec); taskflow-latency selects Grafana objects labelled dashboards=grafana, and the Grafana object is labelled dashboards=taskflow (NoMatchingInstance)",
    manifests: (objects) => [
      ...objects,
      ...grafanaOperatorCrds(),
      ...exampleManifests('grafana-operator').map((o) =>
        o.kind === 'GrafanaDashboard' && o.metadata.name === 'taskflow-requests' ? { ...o, spec: { ...(o.spec as object), configMapRef: { name: 'taskflow-operator-dashboards', key: 'request.json' } } } : o,
      ),
      {
        apiVersion: 'grafana.integreatly.org/v1beta1',
        kind: 'GrafanaDashboard',
        metadata: { name: 'taskflow-latency', namespace: 'taskflow' },
        spec: { instanceSelector: { matchLabels: { dashboards: 'grafana' } }, json: JSON.stringify(onePanelDashboard('taskflow-latency', 'TaskFlow / Latency', 'Requests', 'sum(rate(http_requests_total[5m]))')) },
      },
    ],
  },
  {
    name: 'dashboard-schema-v2',
    description:
      "Grafana 12.1 with the new dashboard editor: \"TaskFlow / Pods (v2)\" (uid taskflow-pods-v2) was saved in schema v2 (dashboard.grafana.app/v2beta1), which GET /api/dashboards/uid answers with 406; the provisioned TaskFlow dashboards are classic",
    grafanaVersion: '12.1.0',
    workloads: ({ grafana }) => {
      grafana?.dashboardDatabase.saveDashboard(onePanelDashboard('taskflow-pods-v2', 'TaskFlow / Pods (v2)', 'Pods up', 'up{job="kubernetes-pods"}'), { uid: 'taskflow-pods-v2', folderUid: '', storedVersion: 'v2beta1' });
    },
  },
  {
    name: 'dashboard-missing-datasource',
    description:
      'a TaskFlow dashboard (uid taskflow-imported) imported from another Grafana: its panel names datasource uid P1809F7CD0C75ACF3, which this Grafana does not have',
    manifests: taskflowDashboard(
      'imported',
      onePanelDashboard('taskflow-imported', 'TaskFlow / Imported', 'Pods up', 'up{job="kubernetes-pods"}', { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }),
    ),
  },
  {
    name: 'dashboard-zero-errors',
    description:
      'a TaskFlow dashboard (uid taskflow-errors) whose panel charts the backend\'s 5xx responses: the backend answers none (its http_requests_total has status 200, 201, 204, 400 and 404 only), so the panel is legitimately empty',
    manifests: taskflowDashboard(
      'errors',
      onePanelDashboard('taskflow-errors', 'TaskFlow / Errors', '5xx responses per second', 'sum by (endpoint) (rate(http_requests_total{job="kubernetes-pods", status=~"5.."}[$__rate_interval]))'),
    ),
  },
];

/**
 * TaskFlow's backend-api (namespace taskflow) monitored by a ServiceMonitor on the port named
 * `http`, as a team adds its app to a kube-prometheus or kube-prometheus-stack cluster.
 */
function monitoredApp(monitorLabels: Record<string, string>): KubeObject[] {
  const app = stackManifests('taskflow').filter(
    (o) => (o.kind === 'Namespace' && o.metadata.name === 'taskflow') || ((o.kind === 'Deployment' || o.kind === 'Service') && o.metadata.name === 'backend-api'),
  );
  for (const d of app.filter((o) => o.kind === 'Deployment') as Record<string, any>[]) {
    // Its database settings do not matter to the simulated exporter.
    for (const c of d.spec.template.spec.containers) delete c.env;
  }
  const monitor: KubeObject = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'backend-api', namespace: 'taskflow', labels: { app: 'backend-api', ...monitorLabels } },
    spec: { selector: { matchLabels: { app: 'backend-api' } }, endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }] },
  };
  return [...app, monitor];
}

const adding =
  (extra: () => KubeObject[]) =>
  (objects: KubeObject[]): KubeObject[] => [...objects, ...extra()];

/** The community grafana chart's objects (release grafana), for a second Grafana beside another stack's. */
function chartGrafana(): KubeObject[] {
  return stackManifests('prometheus-grafana-charts').filter((o) => /grafana/.test(o.metadata.name) && o.kind !== 'Namespace');
}

/** The library panel of kube-prometheus-stack-dashboard-library-panel: node load, on the `datasource` variable. */
const NODE_LOAD_PANEL = {
  uid: 'kps-node-load',
  name: 'Node load',
  model: {
    type: 'timeseries',
    title: 'Node load',
    description: 'load1, load5, load15 of the node',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    targets: [
      { refId: 'A', datasource: { type: 'prometheus', uid: '${datasource}' }, expr: 'node_load1{job="node-exporter", instance="$instance"}', legendFormat: '1m' },
      { refId: 'B', datasource: { type: 'prometheus', uid: '${datasource}' }, expr: 'node_load15{job="node-exporter", instance="$instance"}', legendFormat: '15m' },
    ],
  },
};

/** A dashboard ConfigMap the kps dashboard sidecar picks up (label grafana_dashboard: "1"), linking NODE_LOAD_PANEL. */
function kpsLibraryPanelDashboard(): KubeObject[] {
  const model = {
    uid: 'kps-node-load',
    title: 'Node Exporter / Load',
    tags: ['node-exporter-mixin'],
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', current: { text: 'default', value: 'default' } },
        { name: 'instance', type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, query: 'label_values(node_uname_info{job="node-exporter"}, instance)', refresh: 2 },
      ],
    },
    panels: [{ id: 1, gridPos: { h: 8, w: 24, x: 0, y: 0 }, libraryPanel: { uid: NODE_LOAD_PANEL.uid, name: NODE_LOAD_PANEL.name } }],
  };
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kps-node-load-dashboard', namespace: 'monitoring', labels: { grafana_dashboard: '1' } },
      data: { 'node-load.json': JSON.stringify(model, null, 2) },
    },
  ];
}

/** Scenarios on the stacks teams run besides TaskFlow, each loaded from examples/<stack>. */
export const STACK_SCENARIOS: readonly Scenario[] = [
  { name: 'kube-prometheus-healthy', stack: 'kube-prometheus', description: 'kube-prometheus as its manifests deploy it (Grafana admin/admin, datasource in a Secret)' },
  { name: 'kube-prometheus-stack-healthy', stack: 'kube-prometheus-stack', description: 'kube-prometheus-stack, release kps, chart defaults (datasource sidecar, admin Secret kps-grafana)' },
  { name: 'prometheus-grafana-charts-healthy', stack: 'prometheus-grafana-charts', description: 'the community prometheus and grafana charts (releases prometheus and grafana)' },
  {
    name: 'kube-prometheus-datasource-wrong-url',
    stack: 'kube-prometheus',
    description: 'the datasource Secret grafana-datasources points at port 9091, where Prometheus does not listen',
    manifests: editing('Secret', 'grafana-datasources', (secret) => {
      secret.stringData['datasources.yaml'] = secret.stringData['datasources.yaml'].replace('prometheus-k8s.monitoring.svc:9090', 'prometheus-k8s.monitoring.svc:9091');
    }),
  },
  {
    name: 'kube-prometheus-stack-datasource-unlabelled',
    stack: 'kube-prometheus-stack',
    description: "the datasource ConfigMap lost its grafana_datasource label: the sidecar copies nothing and Grafana has no datasource",
    manifests: editing('ConfigMap', 'kps-kube-prometheus-stack-grafana-datasource', (cm) => {
      delete cm.metadata.labels.grafana_datasource;
    }),
  },
  {
    name: 'kube-prometheus-stack-monitor-not-selected',
    stack: 'kube-prometheus-stack',
    description: 'a team\'s ServiceMonitor (taskflow/backend-api) lacks the release: kps label, so the Prometheus does not select it',
    manifests: adding(() => monitoredApp({})),
    inputs: { 'scrape-job': 'backend-api' },
  },
  {
    name: 'kube-prometheus-stack-monitor-selected',
    stack: 'kube-prometheus-stack',
    description: "a team's ServiceMonitor with the release: kps label: its targets are scraped",
    manifests: adding(() => monitoredApp({ release: 'kps' })),
    inputs: { 'scrape-job': 'backend-api', 'expected-targets': 'backend-api' },
  },
  {
    name: 'kube-prometheus-prometheus-rbac-missing',
    stack: 'kube-prometheus',
    description: "a ServiceMonitor in namespace taskflow, where Prometheus's service account prometheus-k8s has no Role: no targets",
    manifests: adding(() => monitoredApp({})),
    inputs: { 'scrape-job': 'backend-api' },
  },
  {
    name: 'kube-prometheus-stack-two-grafanas',
    stack: 'kube-prometheus-stack',
    description: 'the community grafana chart installed beside kube-prometheus-stack in the same namespace: two Grafanas',
    manifests: adding(chartGrafana),
  },
  {
    name: 'kube-prometheus-stack-grafana-crashloop',
    stack: 'kube-prometheus-stack',
    description: 'the grafana container of kps-grafana crash-loops (its sidecars run)',
    pods: (api) => {
      api.store.setPodStatus('monitoring', 'app.kubernetes.io/name=grafana', {
        container: 'grafana',
        ready: false,
        restartCount: 6,
        waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=grafana' },
      });
    },
  },
  {
    name: 'kube-prometheus-stack-dashboard-library-panel',
    stack: 'kube-prometheus-stack',
    description:
      'a team\'s dashboard ConfigMap (label grafana_dashboard: "1", uid kps-node-load) whose panel links the library panel kps-node-load, which someone created in Grafana (file provisioning cannot create library panels)',
    manifests: adding(kpsLibraryPanelDashboard),
    workloads: ({ grafanas }) => {
      for (const pod of grafanas) pod.grafana.createLibraryPanel(NODE_LOAD_PANEL);
    },
  },
];

export const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, ...STACK_SCENARIOS];

export function scenario(name: string): Scenario {
  const found = ALL_SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown scenario "${name}"; known: ${ALL_SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}
