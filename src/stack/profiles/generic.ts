/**
 * Any other stack: Prometheus and Grafana found by their usual pod labels (the community
 * prometheus and grafana charts, hand-written manifests). Hints name the objects discovery found.
 */
import { grafanaRestart, labelCommand, labelMonitorCommand, objectName, type StackProfile } from './profile.js';

export const generic: StackProfile = {
  kind: 'generic',
  recognise: () => 'Prometheus and Grafana found by their pod labels',
  defaults: () => ({ scrapeJob: '', expectedTargets: [] }),
  createDatasource: (stack, route) =>
    `Create a ConfigMap (or Secret) with a datasources.yaml that provisions the Prometheus datasource${route.objects[0] ? ` (${objectName(route.objects[0])})` : ''}, mount it at ${route.dir} in the Grafana pod, and restart Grafana (${grafanaRestart(stack)}).`,
  editDatasource: (stack, object, change) => `${change} in ${object ? objectName(object) : 'the provisioning file'} (or the Helm values that render it), then restart Grafana (${grafanaRestart(stack)}).`,
  mountDatasource: (stack, object) => `Mount ${objectName(object)} at the provisioning directory in the Grafana pod template, then restart Grafana (${grafanaRestart(stack)}).`,
  labelForSidecar: (_stack, object, sidecar) => `Label it so the sidecar copies it: ${labelCommand(object, sidecar)}.`,
  selectMonitor: (_stack, monitor, missing, labels) =>
    `Give ${monitor.kind} ${monitor.namespace}/${monitor.name} ${missing}${labels && Object.keys(labels).length ? ` (${labelMonitorCommand(monitor, labels)})` : ''}, or widen the Prometheus object's selectors.`,
  prometheusRbac: (_stack, namespace, sa) => `Let ${sa} get, list and watch pods, services and endpoints in ${namespace} (a Role and RoleBinding there, or a ClusterRole).`,
};
