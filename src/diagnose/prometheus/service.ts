/**
 * `prometheus-service`: why the Service in front of Prometheus is missing, lacks the port, or has
 * no ready endpoint — or why discovery found no Service selecting the Prometheus pods.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { isReady } from '../../endpoint.js';
import { isReason, type Reason } from '../../reasons.js';
import { value } from '../../stack/types.js';
import type { ObjectRef } from '../types.js';
import { explainPod } from './pod-state.js';
import { evidence, labelText, notDiscovered, plural, selectorText, type Labels, type Probe } from './probe.js';

/** Chosen by the reason: the Service vanished, has no such port or no endpoint, or none selects the pods. */
export async function serviceFindings(p: Probe, reason: Reason | undefined): Promise<void> {
  if (notDiscovered(reason, 'prometheus-service')) return unfrontedFindings(p);
  if (!isReason(reason, 'service.missing', 'service.no-port', 'service.no-endpoints')) return;
  const { cluster, signal } = p.ctx;
  const { namespace: ns, name } = reason;
  const serviceRef: ObjectRef = { kind: 'Service', namespace: ns, name };
  const [service, promPods] = await Promise.all([
    p.read(`Service ${ns}/${name}`, { verb: 'get', resource: 'services', namespace: ns }, () => cluster.readService(ns, name, signal).then((s) => s ?? null)),
    p.prometheusPods(),
  ]);
  const podSummary = (promPods ?? []).slice(0, 2).map((pod) => `pod ${pod.metadata?.name} labels: ${labelText(pod.metadata?.labels)}`);
  if (service === undefined) return;
  if (service === null) {
    p.findings.push({
      cause: `Service ${ns}/${name} does not exist`,
      fix:
        p.ctx.stack.kind === 'taskflow'
          ? 'Create it (TaskFlow defines it with the Prometheus Deployment: kubectl apply -f 15-prometheus-deployment.yaml), or set the prometheus-service input to the Service in front of Prometheus'
          : 'Create it again (it was there when the run began), or set the prometheus-service input to the Service in front of Prometheus',
      evidence: evidence(podSummary),
      target: { object: serviceRef, path: [] },
    });
    return;
  }
  const port = isReason(reason, 'service.no-port') ? reason.port : (p.site ? value(p.site.service)?.port : undefined) ?? '';
  await backendFindings(p, service, promPods, port);
}

/** No Service selects the Prometheus pods: one that almost does (its selector), or none at all. */
async function unfrontedFindings(p: Probe): Promise<void> {
  const site = p.site;
  if (!site) return;
  const ns = site.workload.namespace;
  const [services, promPods] = await Promise.all([p.services(ns), p.prometheusPods()]);
  if (!services || !promPods?.length) return;
  const pod = promPods.find(isReady) ?? promPods[0]!;
  const podLabels = pod.metadata?.labels ?? {};
  const podSummary = `pod ${pod.metadata?.name} labels: ${labelText(podLabels)}`;
  const selectsPods = (s: V1Service): boolean => {
    const sel = s.spec?.selector ?? {};
    return Object.keys(sel).length > 0 && promPods.every((x) => Object.entries(sel).every(([k, v]) => x.metadata?.labels?.[k] === v));
  };
  // A Service in front of the pods exists: the prometheus-service input named another one.
  const fronting = services.find(selectsPods);
  if (fronting) {
    const port = fronting.spec?.ports?.[0];
    p.findings.push({
      cause: `Service ${ns}/${fronting.metadata?.name} is the one in front of the Prometheus pods (it selects ${selectorText(fronting.spec?.selector)})`,
      fix: `Set the prometheus-service input to ${ns}/${fronting.metadata?.name}:${port?.name ?? port?.port ?? 9090}`,
      evidence: evidence([podSummary]),
    });
    return;
  }
  // A Service meant for Prometheus: named after it, or selecting on the pods' label keys.
  const meant = services.find((s) => /prometheus/.test(s.metadata?.name ?? '') && s.spec?.clusterIP !== 'None' && Object.keys(s.spec?.selector ?? {}).length > 0)
    ?? services.find((s) => Object.keys(s.spec?.selector ?? {}).some((k) => podLabels[k] !== undefined) && /prometheus/.test(JSON.stringify(s.spec?.selector)));
  if (meant) {
    const selector = meant.spec?.selector ?? {};
    const wanted = selectorText(selector);
    const shown = Object.keys(selector).some((k) => podLabels[k] !== undefined)
      ? selectorText(Object.fromEntries(Object.keys(selector).filter((k) => podLabels[k] !== undefined).map((k) => [k, podLabels[k]!])))
      : labelText(podLabels);
    p.findings.push({
      cause: `Service ${ns}/${meant.metadata?.name} selects ${wanted}, but the Prometheus pod ${pod.metadata?.name} has ${shown}`,
      fix: `Set the Service's selector to ${selectorFor(selector, pod, site.workload.selector)}`,
      evidence: evidence([`Service selector: ${wanted}`, podSummary]),
      target: { object: { kind: 'Service', namespace: ns, name: meant.metadata?.name ?? '' }, path: ['spec', 'selector'] },
    });
    return;
  }
  const owner = site.workload.owner;
  p.findings.push({
    cause: `No Service in namespace ${ns} selects the Prometheus ${promPods.length === 1 ? 'pod' : 'pods'} (${promPods.map((x) => x.metadata?.name).join(', ')})`,
    fix:
      p.ctx.stack.kind === 'taskflow'
        ? 'Create the Service prometheus (TaskFlow defines it with the Prometheus Deployment: kubectl apply -f 15-prometheus-deployment.yaml)'
        : `Create a Service in front of Prometheus (kubectl expose ${owner ? `${owner.kind.toLowerCase()}/${owner.name}` : `pod/${pod.metadata?.name}`} -n ${ns} --port 9090), or set the prometheus-service input to the one to use`,
    evidence: evidence([podSummary]),
  });
}

/** Why the Service's port leads to no ready Prometheus pod. */
async function backendFindings(p: Probe, service: V1Service, promPods: V1Pod[] | undefined, port: string): Promise<void> {
  const ns = p.ns;
  const name = service.metadata?.name ?? '';
  const serviceRef: ObjectRef = { kind: 'Service', namespace: ns, name };
  const ports = service.spec?.ports ?? [];
  const sp = ports.find((x) => String(x.port) === port || x.name === port);
  if (!sp) {
    const have = ports.map((x) => (x.name ? `${x.name}:${x.port}` : String(x.port))).join(', ') || 'none';
    p.findings.push({
      cause: `Service ${ns}/${name} has no port ${port} (it has: ${have})`,
      fix: `Add port ${port} to the Service, or set the prometheus-service input to one of its ports`,
      target: { object: serviceRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const selector = service.spec?.selector ?? {};
  const wanted = selectorText(selector);
  const promSelector = p.site?.workload.selector ?? '';
  if (!wanted) {
    const example = promPods?.[0] ? selectorFor(selector, promPods[0], promSelector) : promSelector;
    p.findings.push({
      cause: `Service ${ns}/${name} has no selector, so no pod backs it unless its Endpoints are written by hand`,
      fix: `Set the Service's selector to the Prometheus pods' labels (${example})`,
      target: { object: serviceRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const selected = await p.pods(ns, wanted);
  if (selected === undefined) return;
  if (!selected.length) {
    const pod = promPods?.[0];
    if (pod) {
      const shown = Object.keys(selector).some((k) => pod.metadata?.labels?.[k] !== undefined)
        ? selectorText(Object.fromEntries(Object.keys(selector).filter((k) => pod.metadata?.labels?.[k] !== undefined).map((k) => [k, pod.metadata!.labels![k]!])))
        : labelText(pod.metadata?.labels);
      p.findings.push({
        cause: `Service ${ns}/${name} selects ${wanted}, but the Prometheus pod ${pod.metadata?.name} has ${shown}`,
        fix: `Set the Service's selector to ${selectorFor(selector, pod, promSelector)}`,
        evidence: evidence([`Service selector: ${wanted}`, `pod ${pod.metadata?.name} labels: ${labelText(pod.metadata?.labels)}`]),
        target: { object: serviceRef, path: ['spec', 'selector'] },
      });
    } else if (promPods) {
      p.findings.push({
        cause: `No pod matches the selector ${wanted} of Service ${ns}/${name}, and no Prometheus pod runs (none matches ${promSelector})`,
        fix: `Deploy Prometheus (see the prometheus-pod diagnosis)`,
      });
    }
    return;
  }
  // The targetPort must name (or number) a port of the selected pods' containers.
  const targetPort = sp.targetPort ?? sp.port;
  const pod = selected.find(isReady) ?? selected[0]!;
  const declared = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const found = declared.some((x) => (typeof targetPort === 'number' || /^\d+$/.test(String(targetPort)) ? x.containerPort === Number(targetPort) : x.name === targetPort));
  if (!found && declared.length) {
    const have = declared.map((x) => (x.name ? `${x.name}:${x.containerPort}` : String(x.containerPort)));
    const suggestion = declared.length === 1 ? (declared[0]!.name ?? String(declared[0]!.containerPort)) : undefined;
    p.findings.push({
      cause: `Service ${ns}/${name} forwards port ${sp.port} to targetPort ${typeof targetPort === 'number' ? targetPort : `"${targetPort}"`}, which pod ${pod.metadata?.name} does not declare (it declares ${have.join(', ')})`,
      fix: suggestion ? `Set the Service port's targetPort to ${suggestion}` : `Set the Service port's targetPort to one of ${have.join(', ')}`,
      target: { object: serviceRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const ready = selected.filter(isReady);
  if (!ready.length) {
    for (const x of selected.slice(0, 2)) p.findings.push(await explainPod(p, x, { logOwner: "Prometheus's logs", consequence: `so Service ${ns}/${name} has no ready endpoint`, prometheus: true }));
    return;
  }
  p.note(`Service ${ns}/${name} selects ${plural(ready.length, 'Ready pod')} (${ready.map((x) => x.metadata?.name).join(', ')}) on a declared port, yet had no ready endpoint: the endpoints may have lagged behind; run again`);
}

/** The selector to give the Service: its keys with the pod's values, or the prometheus-selector. */
function selectorFor(selector: Labels, pod: V1Pod, fallback: string): string {
  const labels = pod.metadata?.labels ?? {};
  const keys = Object.keys(selector).filter((k) => labels[k] !== undefined);
  if (keys.length) return selectorText(Object.fromEntries(keys.map((k) => [k, labels[k]!])));
  return fallback;
}
