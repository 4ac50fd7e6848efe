/** `prometheus-pod`: why no Prometheus pod is Running and Ready, or none was found. */
import type { V1Deployment } from '@kubernetes/client-node';
import { matchesSelector } from '../../selector.js';
import { isReason, type Reason } from '../../reasons.js';
import { value } from '../../stack/types.js';
import type { ObjectRef } from '../types.js';
import { explainPod } from './pod-state.js';
import { evidence, labelText, notDiscovered, type Probe } from './probe.js';

/** The pod labels discovery looks for when no selector is given. */
const USUAL_SELECTORS = ['app.kubernetes.io/name=prometheus', 'app=prometheus'];

/** No pod matches the selector, discovery found none, or the pods are not Ready. */
export async function podFindings(p: Probe, reason: Reason | undefined): Promise<void> {
  if (isReason(reason, 'pod.none')) return noPodFindings(p, reason.namespace, [reason.selector]);
  if (notDiscovered(reason, 'prometheus')) {
    // Where discovery looked first: the kubeconfig context's namespace, and Grafana's (they usually run together).
    const grafana = value(p.ctx.stack.grafana)?.workload.namespace;
    for (const ns of [...new Set([p.ctx.cluster.defaultNamespace, ...(grafana ? [grafana] : [])])]) {
      await noPodFindings(p, ns, USUAL_SELECTORS);
      if (p.findings.length) return;
    }
    return;
  }
  if (!isReason(reason, 'pod.not-ready')) return;
  const pods = await p.prometheusPods();
  if (pods === undefined) return;
  const broken = pods.filter((x) => reason.pods.includes(x.metadata?.name ?? ''));
  for (const pod of broken.slice(0, 3)) p.findings.push(await explainPod(p, pod, { logOwner: "Prometheus's logs", prometheus: true }));
}

/** No pod in `ns` matches the selectors: a workload scaled to zero or failing, one labelling its pods otherwise, or none at all. */
async function noPodFindings(p: Probe, ns: string, selectors: readonly string[]): Promise<void> {
  const deployments = await p.deployments(ns);
  if (!deployments) return;
  const labels = (d: V1Deployment) => d.spec?.template?.metadata?.labels;
  const making = deployments.find((d) => selectors.some((s) => s && matchesSelector(labels(d), s)));
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
  const wanted = selectors.join(' or ');
  const named = deployments.find((d) => /prometheus/.test(d.metadata?.name ?? '') && !/operator|adapter|exporter/.test(d.metadata?.name ?? ''));
  if (named) {
    const have = labels(named);
    p.findings.push({
      cause: `Deployment ${ns}/${named.metadata?.name} labels its pods ${labelText(have)}, which ${selectors.length > 1 ? `neither ${selectors.join(' nor ')}` : `the selector ${wanted}`} matches`,
      fix: `Set the prometheus-selector input to the pods' labels (e.g. ${Object.entries(have ?? {}).filter(([k]) => k !== 'pod-template-hash').slice(0, 1).map(([k, v]) => `${k}=${v}`).join('') || '…'}), or label the pod template ${selectors[0]}`,
      target: { object: { kind: 'Deployment', namespace: ns, name: named.metadata?.name ?? '' }, path: ['spec', 'template', 'metadata', 'labels'] },
    });
    return;
  }
  p.findings.push({
    cause: `No Deployment in namespace ${ns} runs Prometheus (none labels its pods ${wanted} or is named after it)`,
    fix:
      p.ctx.stack.kind === 'taskflow'
        ? `Deploy Prometheus in ${ns} (kubectl apply -f 15-prometheus-config.yaml -f 15-prometheus-deployment.yaml -f 16-prometheus-rbac.yaml)`
        : `Deploy Prometheus in ${ns}, or set the prometheus-selector input to its pods' labels (kubectl get pods -A --show-labels)`,
  });
}
