/**
 * TaskFlow, the seed guide's stack: namespace `taskflow`, Deployments `prometheus` (pods
 * `app=prometheus`, job `kubernetes-pods` over annotated pods) and `grafana` (pods `app=grafana`,
 * datasource from ConfigMap `grafana-datasources`), applied from the numbered files of
 * examples/taskflow. Hints name those files.
 */
import { grafanaRestart, labelCommand, labelMonitorCommand, labelsOf, objectName, type StackProfile } from './profile.js';

export const taskflow: StackProfile = {
  kind: 'taskflow',
  recognise(facts) {
    const pod = facts.prometheusPods[0];
    const grafana = facts.grafanaPods[0];
    if (!pod || pod.metadata?.namespace !== 'taskflow' || labelsOf(pod).app !== 'prometheus') return undefined;
    if (grafana && labelsOf(grafana).app !== 'grafana') return undefined;
    return 'pods labelled app=prometheus and app=grafana in namespace taskflow (the seed guide\'s stack)';
  },
  defaults: () => ({ scrapeJob: 'kubernetes-pods', expectedTargets: ['backend-api', 'postgres', 'redis'], targetLabel: 'app', datasourceName: 'Prometheus' }),
  createDatasource: (stack, route) =>
    `Create it with a datasources.yaml that provisions the Prometheus datasource (kubectl apply -f 20-grafana-datasource.yaml), mount it at ${route.dir} in the Grafana Deployment, and restart Grafana (${grafanaRestart(stack)}).`,
  editDatasource: (stack, object, change) =>
    `${change} in ${object ? objectName(object) : 'the provisioning file'} (20-grafana-datasource.yaml), kubectl apply it, then restart Grafana (${grafanaRestart(stack)}).`,
  mountDatasource: (stack, object) =>
    `Mount ${objectName(object)} in the Grafana Deployment (20-grafana-deployment.yaml), kubectl apply it; Grafana reads provisioning files at start-up (${grafanaRestart(stack)}).`,
  labelForSidecar: (_stack, object, sidecar) => `Label it so the sidecar copies it: ${labelCommand(object, sidecar)}.`,
  selectMonitor: (_stack, monitor, missing, labels) =>
    `Give ${monitor.kind} ${monitor.namespace}/${monitor.name} ${missing}${labels && Object.keys(labels).length ? ` (${labelMonitorCommand(monitor, labels)})` : ''}.`,
  prometheusRbac: (_stack, namespace, sa, resources = ['pods']) =>
    `Let ${sa} list and watch ${resources.join(', ')} in ${namespace}: kubectl apply -f 16-prometheus-rbac.yaml (ClusterRole prometheus and its binding).`,
};
