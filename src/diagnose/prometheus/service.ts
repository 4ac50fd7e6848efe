/** `prometheus-service`: why the Service in front of Prometheus has no ready endpoint. */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { isReady } from '../../endpoint.js';
import type { ObjectRef } from '../types.js';
import { explainPod } from './pod-state.js';
import { evidence, labelText, plural, selectorText, type Labels, type Probe } from './probe.js';

/** The Service is missing, or one of its port, selector, targetPort or pods does not fit Prometheus. */
export async function serviceFindings(p: Probe): Promise<void> {
  const { settings, cluster, signal } = p.ctx;
  const ns = settings.namespace;
  const { name, port } = settings.prometheusService;
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
      fix: `Create it (TaskFlow defines it with the Prometheus Deployment: kubectl apply -f 15-prometheus-deployment.yaml), or set the prometheus-service input to the Service in front of Prometheus`,
      evidence: evidence(podSummary),
      target: { object: serviceRef, path: [] },
    });
    return;
  }
  await backendFindings(p, service, promPods, port);
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
  const promSelector = p.ctx.settings.prometheusSelector;
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
