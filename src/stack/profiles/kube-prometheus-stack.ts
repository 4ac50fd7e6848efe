/**
 * kube-prometheus-stack (the prometheus-community Helm chart; release R, namespace N): the
 * Prometheus object `R-kube-prometheus-stack-prometheus` selects only monitors labelled
 * `release: R`, and Grafana's datasource ConfigMap (label grafana_datasource: "1") is copied into
 * Grafana by the `grafana-sc-datasources` sidecar. Fixes are Helm values of the release.
 */
import type { Stack } from '../types.js';
import { initDatasourcesValues, labelCommand, labelMonitorCommand, labelsOf, objectName, sidecarBinding, type StackProfile } from './profile.js';

/** The release the stack was installed as (the Grafana or Prometheus pods' Helm labels). */
function release(stack: Stack): string {
  const workload = stack.grafana.ok ? stack.grafana.value.workload : stack.prometheus.ok ? stack.prometheus.value.workload : undefined;
  return workload?.release ?? 'RELEASE';
}

function helm(stack: Stack, values: string): string {
  const ns = stack.grafana.ok ? stack.grafana.value.workload.namespace : stack.prometheus.ok ? stack.prometheus.value.workload.namespace : 'monitoring';
  return `helm upgrade ${release(stack)} prometheus-community/kube-prometheus-stack -n ${ns} --reuse-values ${values}`;
}

export const kubePrometheusStack: StackProfile = {
  kind: 'kube-prometheus-stack',
  recognise(facts) {
    const carriers = [facts.prometheusService, facts.operator];
    for (const o of carriers) {
      const labels = labelsOf(o as never);
      if (labels['app.kubernetes.io/part-of'] === 'kube-prometheus-stack' || labels.app === 'kube-prometheus-stack-prometheus') {
        return `${o?.metadata?.namespace}/${o?.metadata?.name} is labelled ${labels.app === 'kube-prometheus-stack-prometheus' ? 'app=kube-prometheus-stack-prometheus' : 'app.kubernetes.io/part-of=kube-prometheus-stack'}`;
      }
    }
    const name = facts.operator?.metadata?.name ?? '';
    return /kube-prometheus-stack-prometheus$/.test(name) ? `Prometheus ${facts.operator?.metadata?.namespace}/${name} is named as the chart names it` : undefined;
  },
  defaults: () => ({ scrapeJob: '', expectedTargets: [] }),
  createDatasource: (stack) =>
    `The chart creates the datasource ConfigMap when grafana.sidecar.datasources.enabled and grafana.sidecar.datasources.defaultDatasourceEnabled are true (the defaults): ${helm(stack, '--set grafana.sidecar.datasources.enabled=true --set grafana.sidecar.datasources.defaultDatasourceEnabled=true')}.`,
  editDatasource: (stack, object, change) =>
    `${change} through the chart's values (grafana.sidecar.datasources.url for the default datasource, grafana.additionalDataSources for others), not by editing ${object ? objectName(object) : 'the ConfigMap'}: Helm would revert it. ${helm(stack, '-f values.yaml')}; the sidecar reloads Grafana.`,
  mountDatasource: (stack, object) =>
    `The chart delivers datasources through the grafana-sc-datasources sidecar, not a volume: keep grafana.sidecar.datasources.enabled=true and label ${objectName(object)} grafana_datasource=1 (${helm(stack, '--set grafana.sidecar.datasources.enabled=true')}).`,
  labelForSidecar: (stack, object, sidecar) =>
    `The sidecar copies only objects labelled ${sidecar.label}=${sidecar.labelValue ?? '(any value)'} (Helm values grafana.sidecar.datasources.label/labelValue): ${labelCommand(object, sidecar)}, or add the label where the object is templated (release ${release(stack)}).`,
  selectMonitor: (stack, monitor, missing, labels) => {
    const field = `${monitor.kind === 'PodMonitor' ? 'podMonitor' : 'serviceMonitor'}Selector`;
    const add = labels ?? { release: release(stack) };
    const command = labelMonitorCommand(monitor, add);
    // The chart's default selector is `release: <release>` (*SelectorNilUsesHelmValues: true).
    return add.release !== undefined
      ? `The release's Prometheus selects only monitors labelled release: ${add.release}: give ${monitor.kind} ${monitor.namespace}/${monitor.name} ${missing} (${command}), or select every monitor: ${helm(stack, `--set prometheus.prometheusSpec.${field}NilUsesHelmValues=false`)}.`
      : `Give ${monitor.kind} ${monitor.namespace}/${monitor.name} ${missing} (${command}), or change prometheus.prometheusSpec.${field} in the release's values (${helm(stack, '-f values.yaml')}).`;
  },
  prometheusRbac: (stack, namespace, sa) =>
    `Let ${sa} get, list and watch services, endpoints, endpointslices and pods in ${namespace}: the chart's ClusterRole grants it cluster-wide unless prometheus.prometheusSpec.serviceAccount or RBAC values were changed (${helm(stack, '--set prometheusOperator.enabled=true')}); check the ClusterRole bound to ${sa}.`,
  sidecarRace: (stack, sidecar) =>
    `Have the sidecar copy the files before Grafana starts: ${helm(stack, initDatasourcesValues('grafana.'))} (${sidecar.container} then runs as a native sidecar, Kubernetes 1.29+, that finishes its first sync before Grafana starts and keeps watching).`,
  sidecarRbac: (stack, sa, resources, where) =>
    `The chart grants the sidecar this rule in ClusterRole ${release(stack)}-grafana-clusterrole unless grafana.rbac.create is false (grafana.rbac.namespaced=true limits it to the release's namespace): ${helm(stack, '--set grafana.rbac.create=true')}. Otherwise: ${sidecarBinding(sa, resources, where)}`,
};
