/** Why a scrape job's relabel rule drops every target of a pod, as a finding. */
import type { V1Pod } from '@kubernetes/client-node';
import type { Finding } from '../types.js';
import { configName, inConfig, type ConfigSource, type JobConfig, type RelabelRule } from './config.js';
import { describeWorkload, podRef, templatePath, workloadOf } from './pod-state.js';
import { evidence, labelText, type Probe } from './probe.js';
import { ANNOTATION_PREFIX, annotationKey, LABEL_PREFIX, labelKey, podTargetLabels, ruleText } from './relabel.js';

/** A literal regex (no metacharacters): the one value it accepts. */
function literalOf(regex: string): string | undefined {
  return /^[\w.\-/]*$/.test(regex) ? regex : undefined;
}

/** Why the job's relabel rule drops every target of `pod`, as a finding. */
export async function droppedFinding(p: Probe, pod: V1Pod, job: JobConfig, rule: RelabelRule, intendedApp: string | undefined, source: ConfigSource | undefined): Promise<Finding> {
  const ref = podRef(pod);
  const workload = await workloadOf(p, pod);
  const ruleName = `the ${rule.action} rule of job ${job.name}`;
  const regexQuoted = `(regex "${rule.regexText}")`;
  const [only] = rule.sourceLabels;
  const single = rule.sourceLabels.length === 1 && only !== undefined;
  const ev = (extra: string[]): string[] => evidence([...extra, ruleText(rule)]);

  if (single && only.startsWith(LABEL_PREFIX) && (rule.action === 'keep' || rule.action === 'drop')) {
    const key = labelKey(pod, only);
    const value = pod.metadata?.labels?.[key];
    const want = intendedApp && rule.regex?.test(intendedApp) ? intendedApp : undefined;
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} label, so ${ruleName} ${regexQuoted} drops it`
          : `Pod ${ref} has label ${key}=${value}, which ${ruleName} ${regexQuoted} ${rule.action === 'keep' ? 'does not match' : 'matches'}`,
      fix: want
        ? `Set the label ${key}: ${want} in the pod template of ${describeWorkload(workload)}`
        : `Give the pod template of ${describeWorkload(workload)} a ${key} label ${rule.action === 'keep' ? 'that' : 'that does not'} match ^(?:${rule.regexText})$, or change that rule's regex in ${configName(source)}`,
      evidence: ev([`pod labels: ${labelText(pod.metadata?.labels)}`]),
      target: templatePath(workload, ['metadata', 'labels']),
    };
  }

  if (single && only.startsWith(ANNOTATION_PREFIX) && (rule.action === 'keep' || rule.action === 'drop')) {
    const key = annotationKey(pod, only);
    const value = pod.metadata?.annotations?.[key];
    const want = rule.action === 'keep' ? literalOf(rule.regexText) : undefined;
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} annotation, so ${ruleName} ${regexQuoted} drops it`
          : `Pod ${ref} has annotation ${key}: "${value}", which ${ruleName} ${regexQuoted} ${rule.action === 'keep' ? 'does not match' : 'matches'}`,
      fix: want !== undefined
        ? `Set the annotation ${key}: "${want}" in the pod template of ${describeWorkload(workload)}`
        : `Change the ${key} annotation in the pod template of ${describeWorkload(workload)} so that ${ruleName} keeps the pod`,
      evidence: ev([`pod annotations: ${labelText(pod.metadata?.annotations)}`]),
      target: templatePath(workload, ['metadata', 'annotations']),
    };
  }

  // keepequal on the container port and the prometheus.io/port annotation (TaskFlow's rule).
  const annotationSide = [...rule.sourceLabels, rule.targetLabel ?? ''].find((l) => l.startsWith(ANNOTATION_PREFIX));
  const portSide = [...rule.sourceLabels, rule.targetLabel ?? ''].some((l) => l === '__meta_kubernetes_pod_container_port_number');
  if (rule.action === 'keepequal' && annotationSide && portSide) {
    const key = annotationKey(pod, annotationSide);
    const value = pod.metadata?.annotations?.[key];
    const ports = (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => String(x.containerPort)));
    return {
      cause:
        value === undefined
          ? `Pod ${ref} has no ${key} annotation, so ${ruleName} keeps none of its container ports (${ports.join(', ') || 'none'})`
          : `Pod ${ref}'s annotation ${key}: "${value}" names none of its container ports (${ports.join(', ') || 'none'}), so ${ruleName} drops it`,
      fix: `Set ${key} in the pod template of ${describeWorkload(workload)} to the port its exporter listens on, and declare that port in the container's ports`,
      evidence: ev([`pod annotations: ${labelText(pod.metadata?.annotations)}`]),
      target: templatePath(workload, value === undefined ? ['metadata', 'annotations'] : ['metadata', 'annotations', key]),
    };
  }

  const values = rule.sourceLabels.map((s) => podTargetLabels(pod, job)[0]?.get(s) ?? '').join(rule.separator);
  return {
    cause: `Relabel rule ${rule.index} of job ${job.name} (${rule.action}, source_labels [${rule.sourceLabels.join(', ')}]) drops pod ${ref} (value "${values}")`,
    fix: `Change that rule in ${configName(source)}, or the pod's labels in ${describeWorkload(workload)}`,
    evidence: ev([]),
    target: inConfig(source, ['scrape_configs', job.index, 'relabel_configs', rule.index, rule.action.endsWith('equal') ? 'target_label' : 'regex']),
  };
}
