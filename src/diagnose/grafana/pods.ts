/**
 * The Grafana pod and its Service (grafana-pod, grafana-api): why no pod runs and is Ready — crash
 * loops and their previous log, image pulls, missing Secrets and ConfigMaps, scheduling, replicas,
 * readiness — and why the Service has no endpoints; Grafana's database errors.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describePod } from '../../checks/pod-check.js';
import { isReady } from '../../endpoint.js';
import { matchesSelector } from '../../selector.js';
import type { CheckResult } from '../../types.js';
import type { Finding, ObjectRef } from '../types.js';
import { findEntry } from './configmap.js';
import { ERROR_LEVEL, LOG_LINES, logfmtValue, provisioningErrorFinding, provisioningLog } from './logs.js';
import { MAX_EVIDENCE, REFUSED, type Probe } from './probe.js';
import { clip, configMapRef, deploymentNameOf, deploymentRef, portsText, refText, selectorText, TEMPLATE_CONTAINERS } from './text.js';

/** Lines of a crashed container's previous run read. */
const PREVIOUS_LOG_LINES = 20;

/** Why a pod is not Running and Ready: its containers' state, previous log, image, volumes. */
async function podFinding(p: Probe, pod: V1Pod, dep: V1Deployment | undefined): Promise<Finding | undefined> {
  const s = p.settings;
  const podName = pod.metadata?.name ?? '?';
  const depName = dep?.metadata?.name ?? deploymentNameOf(pod) ?? 'grafana';
  const depRef = deploymentRef(p.ns, depName);
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  const status = statuses.find((cs) => cs.name === 'grafana' && !cs.ready) ?? statuses.find((cs) => !cs.ready) ?? statuses[0];
  const ci = Math.max(0, containers.findIndex((c) => c.name === status?.name));
  const container = containers[ci];
  const cname = container?.name ?? status?.name ?? 'grafana';
  const path = [...TEMPLATE_CONTAINERS, ci];
  const described = describePod(pod);
  const waiting = status?.state?.waiting;
  const last = status?.lastState?.terminated;
  const restarts = status?.restartCount ?? 0;

  if (waiting?.reason === 'CrashLoopBackOff' || (last && restarts > 0 && !status?.ready)) {
    if (last?.reason === 'OOMKilled') {
      const limit = container?.resources?.limits?.memory;
      return {
        cause: `container ${cname} of pod ${podName} is killed for exceeding its memory limit (OOMKilled${limit ? `, limit ${limit}` : ''})`,
        fix: `Raise resources.limits.memory of container ${cname} in ${refText(depRef)}.`,
        evidence: [described],
        target: { object: depRef, path: [...path, 'resources', 'limits', 'memory'] },
      };
    }
    const log = await p.read("the Grafana container's previous log not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, PREVIOUS_LOG_LINES, true, p.signal));
    const exit = last?.exitCode !== undefined ? `, last exit code ${last.exitCode}` : '';
    if (log === REFUSED || !log.trim()) {
      return {
        cause: `container ${cname} of pod ${podName} keeps crashing (${waiting?.reason ?? 'restarting'}, ${restarts} restart${restarts === 1 ? '' : 's'}${exit})`,
        fix: `Read why with kubectl logs -n ${p.ns} ${podName} -c ${cname} --previous, fix the configuration, and let the Deployment roll out again.`,
        evidence: [described],
      };
    }
    const verdict = provisioningLog(log, s.datasourceName);
    if (verdict.errors.length) {
      const cm = await p.read(`${refText(configMapRef(s))} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
      const entry = cm && cm !== REFUSED ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
      const f = provisioningErrorFinding(p, verdict, entry, `pod ${podName} (previous run)`, depName);
      return { ...f, cause: `container ${cname} of pod ${podName} exits at start-up: ${f.cause}` };
    }
    const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
    const telling = [...lines].reverse().find((l) => ERROR_LEVEL.test(l) || /\b(error|panic|fatal|failed)\b/i.test(l)) ?? lines[lines.length - 1] ?? '';
    const reason = logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling;
    return {
      cause: `container ${cname} of pod ${podName} keeps crashing (${waiting?.reason ?? 'restarting'}, ${restarts} restart${restarts === 1 ? '' : 's'}${exit}); its last run ended with: ${clip(reason, 300)}`,
      fix: `Fix what its log says (kubectl logs -n ${p.ns} ${podName} -c ${cname} --previous), then let the Deployment roll out again.`,
      evidence: lines.slice(-MAX_EVIDENCE).map((l) => clip(l, 300)),
    };
  }
  if (waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull' || waiting?.reason === 'InvalidImageName') {
    return {
      cause: `pod ${podName} cannot pull image ${container?.image ?? status?.image ?? '?'} (${waiting.reason})`,
      fix: `Fix the image name or tag of container ${cname} in ${refText(depRef)}, or give the pod an imagePullSecret for its registry.`,
      evidence: [described, ...(waiting.message ? [clip(waiting.message, 300)] : [])],
      target: { object: depRef, path: [...path, 'image'] },
    };
  }
  if (waiting?.reason === 'CreateContainerConfigError' && waiting.message) {
    const secret = /secret "([^"]+)" not found/.exec(waiting.message)?.[1];
    const cmName = /configmap "([^"]+)" not found/i.exec(waiting.message)?.[1];
    const ei = (container?.env ?? []).findIndex((e) => (secret && e.valueFrom?.secretKeyRef?.name === secret) || (cmName && e.valueFrom?.configMapKeyRef?.name === cmName));
    return {
      cause: `pod ${podName} cannot start container ${cname}: ${clip(waiting.message, 300)}`,
      fix: secret
        ? `Create Secret ${p.ns}/${secret} (TaskFlow: kubectl apply -f 20-grafana-secret.yaml), or fix the reference in ${refText(depRef)}.`
        : `Create what the message names, or fix the reference in ${refText(depRef)}.`,
      evidence: [described],
      ...(ei >= 0 ? { target: { object: depRef, path: [...path, 'env', ei] } } : {}),
    };
  }
  if (!status || waiting?.reason === 'ContainerCreating' || pod.status?.phase === 'Pending') {
    // A configMap volume whose ConfigMap is missing keeps the pod in ContainerCreating.
    for (const volume of pod.spec?.volumes ?? []) {
      const name = volume.configMap?.name;
      if (!name || volume.configMap?.optional) continue;
      const cm = await p.read(`ConfigMap ${p.ns}/${name} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, name, p.signal));
      if (cm === undefined) {
        return {
          cause: `pod ${podName} cannot start: its volume ${volume.name} needs ConfigMap ${p.ns}/${name}, which does not exist`,
          fix: name === s.datasourceConfigmap ? 'Create it (TaskFlow: kubectl apply -f 20-grafana-datasource.yaml); the pod then starts by itself.' : 'Create it; the pod then starts by itself.',
          evidence: [described],
          target: { object: { kind: 'ConfigMap', namespace: p.ns, name }, path: [] },
        };
      }
    }
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled) {
      return {
        cause: `pod ${podName} is not scheduled: ${clip(unscheduled.message ?? unscheduled.reason ?? 'no node fits', 300)}`,
        fix: `Free or add node capacity, or lower the requests / fix the node selectors of ${refText(depRef)}.`,
        evidence: [described],
      };
    }
    if (waiting?.message) return { cause: `pod ${podName} is not started: ${clip(waiting.message, 300)}`, fix: `kubectl describe pod -n ${p.ns} ${podName} shows its events.`, evidence: [described] };
    return undefined;
  }
  if (status.state?.running && !status.ready) {
    const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, PREVIOUS_LOG_LINES, false, p.signal));
    const errors = log === REFUSED ? [] : log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l));
    return {
      cause: `container ${cname} of pod ${podName} runs but is not Ready: its readiness probe fails`,
      fix: `Check that the readiness probe targets Grafana's port and /api/health, and what Grafana logs (kubectl logs -n ${p.ns} ${podName} -c ${cname}).`,
      evidence: [described, ...errors.slice(-3).map((l) => clip(l, 300))],
      ...(container?.readinessProbe ? { target: { object: depRef, path: [...path, 'readinessProbe'] } } : {}),
    };
  }
  return undefined;
}

/** `grafana-pod`: no pod, or none Running and Ready. */
export async function grafanaPodProbe(p: Probe): Promise<void> {
  const s = p.settings;
  const pods = await p.grafanaPods();
  if (pods === REFUSED) return;
  if (!pods.length) {
    const deployments = await p.read('the Grafana Deployment not checked', 'list deployments', () => p.ctx.cluster.listDeployments(p.ns, p.signal));
    if (deployments === REFUSED) return;
    const dep = deployments.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, s.grafanaSelector));
    if (!dep) {
      const named = deployments.find((d) => d.metadata?.name === 'grafana');
      p.add(
        named
          ? {
              cause: `Deployment ${p.ns}/grafana's pods are labelled ${selectorText(named.spec?.template?.metadata?.labels)}, which grafana-selector ${s.grafanaSelector} does not match`,
              fix: `Set the grafana-selector input to the Grafana pods' labels (e.g. ${selectorText(named.spec?.selector?.matchLabels)}).`,
              target: { object: deploymentRef(p.ns, 'grafana'), path: ['spec', 'template', 'metadata', 'labels'] },
            }
          : {
              cause: `no Deployment in ${p.ns} has a pod template labelled ${s.grafanaSelector}`,
              fix: `Deploy Grafana in ${p.ns} (TaskFlow: kubectl apply -f 20-grafana-deployment.yaml), or set the grafana-selector input to its pods' labels.`,
            },
      );
      return;
    }
    const depRef = deploymentRef(p.ns, dep.metadata?.name ?? 'grafana');
    if (dep.spec?.replicas === 0) {
      p.add({ cause: `${refText(depRef)} is scaled to 0 replicas`, fix: `kubectl scale deployment/${depRef.name} -n ${p.ns} --replicas=1 (and set replicas: 1 in its manifest).`, target: { object: depRef, path: ['spec', 'replicas'] } });
      return;
    }
    const failure = dep.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True') ?? dep.status?.conditions?.find((c) => c.status === 'False');
    p.add({
      cause: `${refText(depRef)} has no pod${failure?.message ? `: ${clip(failure.message, 300)}` : ''}`,
      fix: `kubectl describe deployment/${depRef.name} -n ${p.ns} and its ReplicaSet's events say why the pod is not created (quota, service account, admission).`,
    });
    return;
  }
  if (pods.some(isReady)) return;
  const dep = await p.grafanaDeployment();
  const byRelevance = [...pods].sort((a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running'));
  for (const pod of byRelevance) {
    const f = await podFinding(p, pod, dep);
    if (f) {
      p.add(f);
      return;
    }
  }
}

/** `grafana-api`: the database, else the Service, its endpoints and the pods behind them. */
export async function grafanaApiProbe(p: Probe, result: CheckResult): Promise<void> {
  const s = p.settings;
  if (/its database is/.test(result.summary)) {
    const pod = await p.grafanaPod();
    if (!pod?.metadata?.name) return;
    const podName = pod.metadata.name;
    const containers = pod.spec?.containers ?? [];
    const cname = (containers.find((c) => c.name === 'grafana') ?? containers[0])?.name ?? 'grafana';
    const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, LOG_LINES, false, p.signal));
    if (log === REFUSED) return;
    const errors = log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l) && /database|sqlite|sql|migrat|disk|read-only|locked/i.test(l));
    const last = errors[errors.length - 1];
    p.add({
      cause: `Grafana's database is failing${last ? `: ${clip(logfmtValue(last, 'error') ?? logfmtValue(last, 'msg') ?? last, 300)}` : ''}`,
      fix: 'Check the storage behind /var/lib/grafana (a full, read-only or locked volume) or the GF_DATABASE_* settings of an external database.',
      evidence: errors.slice(-MAX_EVIDENCE).map((l) => `pod ${podName}: ${clip(l, 300)}`),
    });
    return;
  }
  const svcRef: ObjectRef = { kind: 'Service', namespace: p.ns, name: s.grafanaService.name };
  const svc = await p.read(`${refText(svcRef)} not read`, 'get services', () => p.ctx.cluster.readService(p.ns, s.grafanaService.name, p.signal));
  if (svc === REFUSED) return;
  if (!svc) {
    p.add({
      cause: `${refText(svcRef)} does not exist`,
      fix: `Create it (TaskFlow: kubectl apply -f 20-grafana-deployment.yaml, which defines it), or set the grafana-service input to Grafana's Service.`,
      target: { object: svcRef, path: [] },
    });
    return;
  }
  const port = s.grafanaService.port;
  if (!svc.spec?.ports?.some((sp) => String(sp.port) === port || sp.name === port)) {
    p.add({
      cause: `${refText(svcRef)} has no port ${port} (it exposes ${portsText(svc)})`,
      fix: `Set the grafana-service input to ${s.grafanaService.name}:${svc.spec?.ports?.[0]?.port ?? 3000}, or add the port to the Service.`,
      target: { object: svcRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const eps = await p.read(`the endpoints of ${refText(svcRef)} not read`, 'get endpoints', () => p.ctx.cluster.readEndpoints(p.ns, s.grafanaService.name, p.signal));
  if (eps === REFUSED) return;
  if ((eps?.subsets ?? []).some((sub) => sub.addresses?.length)) return;
  const selector = selectorText(svc.spec?.selector);
  const pods = selector ? await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.ctx.cluster.listPods(p.ns, selector, p.signal)) : [];
  if (pods === REFUSED) return;
  if (!pods.length) {
    p.add({
      cause: selector ? `${refText(svcRef)} selects ${selector}, which no pod in ${p.ns} matches` : `${refText(svcRef)} has no selector and no endpoints`,
      fix: `Make the Service's selector match the Grafana pod's labels (kubectl get pods -n ${p.ns} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const dep = await p.grafanaDeployment();
  for (const pod of pods) {
    const f = await podFinding(p, pod, dep);
    if (f) {
      p.add({ ...f, evidence: [`${refText(svcRef)} has no ready endpoints`, ...(f.evidence ?? [])] });
      return;
    }
  }
  p.add({
    cause: `${refText(svcRef)} has no ready endpoints: no pod matching ${selector} is Ready`,
    fix: `kubectl describe pod -n ${p.ns} -l ${selector} shows why the Grafana pod is not Ready.`,
    evidence: pods.slice(0, 3).map((pod) => describePod(pod)),
  });
}
