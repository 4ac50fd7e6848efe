/**
 * The stack in words and as data: the one line the summary and the CLI lead with ("Found
 * kube-prometheus-stack: Prometheus monitoring/…:9090, 1 pod; Grafana monitoring/kps-grafana:80,
 * datasource sidecar grafana_datasource=1") and the `stack` object of the JSON report.
 */
import { sidecarSelector } from './route.js';
import { describeService, type Found, type Stack } from './types.js';

function site<T extends { workload: { pods: readonly string[]; namespace: string; selector: string }; service: Found<{ namespace: string; name: string; port: string; portNumber?: number }> }>(
  title: string,
  found: Found<T>,
  extra: (v: T) => string,
): string {
  if (!found.ok) return `${title} not found`;
  const v = found.value;
  const n = v.workload.pods.length;
  const where = v.service.ok ? describeService(v.service.value) : `${v.workload.namespace} (pods ${v.workload.selector}, no Service)`;
  return `${title} ${where}, ${n} pod${n === 1 ? '' : 's'}${extra(v)}`;
}

/** `Found kube-prometheus-stack: Prometheus …, 1 pod; Grafana …, datasource sidecar grafana_datasource=1`. */
export function describeStack(stack: Stack): string {
  const prometheus = site('Prometheus', stack.prometheus, (v) => (v.operator ? ` (Prometheus Operator: ${v.operator.namespace}/${v.operator.name})` : ''));
  const grafana = site('Grafana', stack.grafana, () => {
    if (!stack.datasource.ok) return '';
    const r = stack.datasource.value;
    if (r.delivery === 'sidecar' && r.sidecar) return `, datasource sidecar ${sidecarSelector(r.sidecar)}`;
    if (r.delivery === 'none') return ', no datasource provisioning mounted';
    if (r.delivery === 'grafana-operator') return `, datasource from ${r.description}`;
    if (r.delivery === 'unmounted') return `, datasource ${r.description}`;
    return `, datasource from ${r.objects.map((o) => `${o.kind} ${o.name}`).join(' + ')}`;
  });
  return `Found ${stack.kind}${stack.forced ? ' (stack input)' : ''}: ${prometheus}; ${grafana}`;
}

/** The report's `stack` object: what was found, with the evidence. */
export function stackReport(stack: Stack): Record<string, unknown> {
  const part = <T>(f: Found<T>) => (f.ok ? f.value : { problem: f.problem });
  return {
    kind: stack.kind,
    forced: stack.forced,
    summary: describeStack(stack),
    evidence: stack.evidence,
    prometheus: part(stack.prometheus),
    grafana: part(stack.grafana),
    datasource: { ...(stack.datasource.ok ? stack.datasource.value : { problem: stack.datasource.problem }), ...stack.expect },
    ...(stack.notes.length ? { notes: stack.notes } : {}),
  };
}
