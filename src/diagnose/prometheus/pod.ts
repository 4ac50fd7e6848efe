/** `prometheus-pod`: why no Prometheus pod is Running and Ready. */
import { isReady } from '../../endpoint.js';
import { matchesSelector } from '../../selector.js';
import type { ObjectRef } from '../types.js';
import { explainPod } from './pod-state.js';
import { evidence, labelText, type Probe } from './probe.js';

/** No pod matches the prometheus-selector, or none of those that do is Ready. */
export async function podFindings(p: Probe): Promise<void> {
  const selector = p.ctx.settings.prometheusSelector;
  const pods = await p.prometheusPods();
  if (pods === undefined) return;
  if (!pods.length) {
    await noPodFindings(p, selector);
    return;
  }
  const broken = pods.filter((x) => !isReady(x));
  if (broken.length === pods.length) {
    for (const pod of broken.slice(0, 3)) p.findings.push(await explainPod(p, pod, { logOwner: "Prometheus's logs", prometheus: true }));
  }
}

async function noPodFindings(p: Probe, selector: string): Promise<void> {
  const ns = p.ns;
  const deployments = await p.deployments(ns);
  if (!deployments) return;
  const making = deployments.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, selector));
  if (making) {
    const ref: ObjectRef = { kind: 'Deployment', namespace: ns, name: making.metadata?.name ?? '' };
    if (making.spec?.replicas === 0) {
      p.findings.push({
        cause: `Deployment ${ns}/${ref.name} is scaled to 0 replicas`,
        fix: `Set replicas: 1 in the Deployment (kubectl scale deployment/${ref.name} -n ${ns} --replicas=1)`,
        target: { object: ref, path: ['spec', 'replicas'] },
      });
      return;
    }
    const failure = making.status?.conditions?.find((c) => (c.type === 'ReplicaFailure' && c.status === 'True') || (c.type === 'Available' && c.status === 'False'));
    p.findings.push({
      cause: `Deployment ${ns}/${ref.name} has no pod${failure?.message ? `: ${failure.message}` : ''}`,
      fix: `Read why in its events: kubectl describe deployment -n ${ns} ${ref.name} (and its ReplicaSet's)`,
      evidence: evidence([failure ? `${failure.type}: ${failure.reason ?? ''} ${failure.message ?? ''}` : undefined]),
      target: { object: ref, path: [] },
    });
    return;
  }
  const named = deployments.find((d) => /prometheus/.test(d.metadata?.name ?? ''));
  if (named) {
    const labels = named.spec?.template?.metadata?.labels;
    p.findings.push({
      cause: `Deployment ${ns}/${named.metadata?.name} labels its pods ${labelText(labels)}, which the prometheus-selector ${selector} does not match`,
      fix: `Set the prometheus-selector input to the pods' labels (e.g. ${Object.entries(labels ?? {}).filter(([k]) => k !== 'pod-template-hash').slice(0, 1).map(([k, v]) => `${k}=${v}`).join('') || '…'}), or label the pod template ${selector}`,
      target: { object: { kind: 'Deployment', namespace: ns, name: named.metadata?.name ?? '' }, path: ['spec', 'template', 'metadata', 'labels'] },
    });
    return;
  }
  p.findings.push({
    cause: `No Deployment in namespace ${ns} runs Prometheus (none labels its pods ${selector} or is named after it)`,
    fix: `Deploy Prometheus in ${ns} (TaskFlow: kubectl apply -f 15-prometheus-config.yaml -f 15-prometheus-deployment.yaml -f 16-prometheus-rbac.yaml)`,
  });
}
