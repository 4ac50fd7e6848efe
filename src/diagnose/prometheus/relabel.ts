/**
 * Relabeling replayed against a pod: the label sets Prometheus's `role: pod` discovery gives it,
 * and the rule of a scrape job that drops them.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isReady } from '../../endpoint.js';
import type { JobConfig, RelabelRule } from './config.js';

/** Prometheus's label-name sanitizing of Kubernetes label and annotation keys. */
export function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

export const LABEL_PREFIX = '__meta_kubernetes_pod_label_';
export const ANNOTATION_PREFIX = '__meta_kubernetes_pod_annotation_';

/** The label sets Prometheus's `role: pod` discovery gives a pod: one per container port. */
export function podTargetLabels(pod: V1Pod, job: JobConfig): Map<string, string>[] {
  const ip = pod.status?.podIP;
  if (!ip) return [];
  const base = new Map<string, string>([
    ['job', job.name],
    ['__metrics_path__', job.metricsPath],
    ['__scheme__', job.scheme],
    ['__scrape_interval__', job.scrapeInterval],
    ['__scrape_timeout__', job.scrapeTimeout],
    ['__meta_kubernetes_namespace', pod.metadata?.namespace ?? ''],
    ['__meta_kubernetes_pod_name', pod.metadata?.name ?? ''],
    ['__meta_kubernetes_pod_ip', ip],
    ['__meta_kubernetes_pod_node_name', pod.spec?.nodeName ?? ''],
    ['__meta_kubernetes_pod_host_ip', pod.status?.hostIP ?? ''],
    ['__meta_kubernetes_pod_uid', pod.metadata?.uid ?? ''],
    ['__meta_kubernetes_pod_phase', pod.status?.phase ?? ''],
    ['__meta_kubernetes_pod_ready', isReady(pod) ? 'true' : pod.status?.conditions?.some((c) => c.type === 'Ready') ? 'false' : 'unknown'],
  ]);
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (controller) {
    base.set('__meta_kubernetes_pod_controller_kind', controller.kind);
    base.set('__meta_kubernetes_pod_controller_name', controller.name);
  }
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
    base.set(LABEL_PREFIX + sanitize(k), v);
    base.set(`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`, 'true');
  }
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    base.set(ANNOTATION_PREFIX + sanitize(k), v);
    base.set(`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`, 'true');
  }
  const out: Map<string, string>[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const container = new Map(base);
    container.set('__meta_kubernetes_pod_container_name', c.name);
    container.set('__meta_kubernetes_pod_container_image', c.image ?? '');
    container.set('__meta_kubernetes_pod_container_init', 'false');
    if (!c.ports?.length) {
      container.set('__address__', ip);
      out.push(container);
    }
    for (const p of c.ports ?? []) {
      const labels = new Map(container);
      labels.set('__address__', `${ip}:${p.containerPort}`);
      labels.set('__meta_kubernetes_pod_container_port_name', p.name ?? '');
      labels.set('__meta_kubernetes_pod_container_port_number', String(p.containerPort));
      labels.set('__meta_kubernetes_pod_container_port_protocol', p.protocol ?? 'TCP');
      out.push(labels);
    }
  }
  return out;
}

/** A label's value; undefined when it cannot be known (another discovery's meta label, a rule not replayed). */
function valueOf(labels: Map<string, string>, unknown: Set<string>, name: string): string | undefined {
  if (unknown.has(name)) return undefined;
  const v = labels.get(name);
  if (v !== undefined) return v;
  if (name.startsWith(LABEL_PREFIX) || name.startsWith(ANNOTATION_PREFIX) || name.startsWith('__meta_kubernetes_pod_container_port_')) return '';
  if (/^__meta_kubernetes_pod_(label|annotation)present_/.test(name)) return '';
  if (name.startsWith('__meta_')) return undefined;
  return '';
}

function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$)|\$\{(\w+)\}|\$(\w+)/g, (_all, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar) return '$';
    const name = braced ?? bare ?? '';
    return (/^\d+$/.test(name) ? m[Number(name)] : m.groups?.[name]) ?? '';
  });
}

/** The rule that drops a target, or undefined when the target is kept (or cannot be decided). */
function droppingRule(initial: Map<string, string>, rules: readonly RelabelRule[]): RelabelRule | undefined {
  const labels = new Map(initial);
  const unknown = new Set<string>();
  for (const rule of rules) {
    const values = rule.sourceLabels.map((s) => valueOf(labels, unknown, s));
    const known = values.every((v) => v !== undefined);
    const joined = values.join(rule.separator);
    const target = rule.targetLabel;
    switch (rule.action) {
      case 'keep':
      case 'drop': {
        if (!known || !rule.regex) continue;
        const matches = rule.regex.test(joined);
        if (matches !== (rule.action === 'keep')) return rule;
        continue;
      }
      case 'keepequal':
      case 'dropequal': {
        const other = target ? valueOf(labels, unknown, target) : undefined;
        if (!known || other === undefined) continue;
        if ((joined === other) !== (rule.action === 'keepequal')) return rule;
        continue;
      }
      case 'replace': {
        if (!target) continue;
        if (!known || !rule.regex || /\$/.test(target)) {
          unknown.add(target);
          continue;
        }
        const m = rule.regex.exec(joined);
        if (m) {
          unknown.delete(target);
          labels.set(target, expand(rule.replacement, m));
        }
        continue;
      }
      case 'lowercase':
      case 'uppercase':
        if (!target) continue;
        if (!known) unknown.add(target);
        else labels.set(target, rule.action === 'lowercase' ? joined.toLowerCase() : joined.toUpperCase());
        continue;
      case 'labelmap':
        if (!rule.regex) continue;
        for (const [name, value] of [...labels]) {
          const m = rule.regex.exec(name);
          if (m) labels.set(expand(rule.replacement, m), value);
        }
        continue;
      case 'labeldrop':
      case 'labelkeep':
        if (!rule.regex) continue;
        for (const name of [...labels.keys()]) if (rule.regex.test(name) === (rule.action === 'labeldrop')) labels.delete(name);
        continue;
      default:
        if (target) unknown.add(target);
    }
  }
  return undefined;
}

/** Why the job drops every target of a pod: the rule the furthest-going target stops at. */
export function whyDropped(pod: V1Pod, job: JobConfig): RelabelRule | undefined {
  const candidates = podTargetLabels(pod, job);
  let worst: RelabelRule | undefined;
  for (const labels of candidates) {
    const rule = droppingRule(labels, job.relabel);
    if (!rule) return undefined;
    if (!worst || rule.index > worst.index) worst = rule;
  }
  return worst;
}

/** The annotation key behind a `__meta_kubernetes_pod_annotation_*` name on a pod (or its usual spelling). */
export function annotationKey(pod: V1Pod, meta: string): string {
  const suffix = meta.slice(ANNOTATION_PREFIX.length);
  const found = Object.keys(pod.metadata?.annotations ?? {}).find((k) => sanitize(k) === suffix);
  return found ?? (suffix.startsWith('prometheus_io_') ? `prometheus.io/${suffix.slice('prometheus_io_'.length)}` : suffix);
}

export function labelKey(pod: V1Pod, meta: string): string {
  const suffix = meta.slice(LABEL_PREFIX.length);
  return Object.keys(pod.metadata?.labels ?? {}).find((k) => sanitize(k) === suffix) ?? suffix;
}

export function ruleText(rule: RelabelRule): string {
  return `${rule.action} rule: source_labels [${rule.sourceLabels.join(', ')}]${rule.action.endsWith('equal') ? `, target_label ${rule.targetLabel}` : `, regex ^(?:${rule.regexText})$`}`;
}
