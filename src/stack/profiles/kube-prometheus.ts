/**
 * kube-prometheus (prometheus-operator/kube-prometheus `manifests/`, namespace `monitoring`):
 * `Prometheus/k8s` run by the operator (StatefulSet prometheus-k8s, Service prometheus-k8s:9090,
 * every monitor selected), Grafana with its datasource in the Secret `grafana-datasources`
 * mounted at the provisioning directory, and Prometheus RBAC granted only in default,
 * kube-system and monitoring (prometheus-roleSpecificNamespaces.yaml). Changes go through the
 * jsonnet that generates the manifests, or the manifests themselves.
 */
import { grafanaRestart, labelCommand, labelMonitorCommand, labelsOf, objectName, type StackProfile } from './profile.js';

const PART_OF = 'app.kubernetes.io/part-of';

export const kubePrometheus: StackProfile = {
  kind: 'kube-prometheus',
  recognise(facts) {
    const carriers = [facts.prometheusService, ...facts.prometheusPods, ...facts.grafanaPods];
    const marked = carriers.find((o) => labelsOf(o)[PART_OF] === 'kube-prometheus');
    return marked ? `${marked.metadata?.namespace}/${marked.metadata?.name} is labelled ${PART_OF}=kube-prometheus` : undefined;
  },
  defaults: () => ({ scrapeJob: '', expectedTargets: [] }),
  createDatasource: (stack, route) =>
    `kube-prometheus provisions the datasource from the Secret grafana-datasources (manifests/grafana-dashboardDatasources.yaml): apply it in ${route.objects[0]?.namespace ?? 'monitoring'}, then restart Grafana (${grafanaRestart(stack)}).`,
  editDatasource: (stack, object, change) =>
    `${change} in ${object ? objectName(object) : 'the Secret grafana-datasources'} (in jsonnet: values.grafana.datasources; the generated manifests/grafana-dashboardDatasources.yaml), apply it, then restart Grafana (${grafanaRestart(stack)}): it reads a mounted Secret only at start-up.`,
  mountDatasource: (stack, object) =>
    `Mount ${objectName(object)} at the provisioning directory in the Grafana Deployment (manifests/grafana-deployment.yaml, volume grafana-datasources), apply it (${grafanaRestart(stack)}).`,
  labelForSidecar: (_stack, object, sidecar) => `Label it so the sidecar copies it: ${labelCommand(object, sidecar)}.`,
  selectMonitor: (stack, monitor, missing, labels) => {
    const p = stack.prometheus.ok ? stack.prometheus.value.operator : undefined;
    const command = labels && Object.keys(labels).length ? ` (${labelMonitorCommand(monitor, labels)})` : '';
    return `Prometheus ${p ? `${p.namespace}/${p.name}` : 'k8s'} does not select ${monitor.kind} ${monitor.namespace}/${monitor.name}: give it ${missing}${command}, or widen the Prometheus object's selectors (kube-prometheus selects every monitor by default).`;
  },
  prometheusRbac: (_stack, namespace, sa) =>
    `kube-prometheus grants ${sa} its Role only in default, kube-system and monitoring (manifests/prometheus-roleSpecificNamespaces.yaml): add a Role and RoleBinding prometheus-k8s in ${namespace} (jsonnet: values.prometheus.namespaces += ['${namespace}']), allowing get, list, watch on services, endpoints, pods (and endpointslices in discovery.k8s.io).`,
};
