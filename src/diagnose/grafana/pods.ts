/**
 * The Grafana pod and its Service (grafana-pod, grafana-api): why no pod runs and is Ready — crash
 * loops and their previous log (a provisioning error Grafana exits on, a datasource sidecar the
 * API server refuses), image pulls, missing Secrets and ConfigMaps, scheduling, replicas,
 * readiness — and why the Service has no endpoints; Grafana's database errors.
 */
import type { V1ContainerStatus, V1Deployment, V1Pod, V1Volume } from '@kubernetes/client-node';
import { describePod } from '../../checks/pod-check.js';
import { isReady } from '../../endpoint.js';
import { isReason } from '../../reasons.js';
import { controllerOf } from '../../stack/discover.js';
import { matchesSelector } from '../../selector.js';
import type { SourceObject } from '../../stack/types.js';
import type { CheckResult } from '../../types.js';
import type { Finding, ObjectRef } from '../types.js';
import { ERROR_LEVEL, LOG_LINES, logfmtValue, provisioningErrorFinding, provisioningLog } from './logs.js';
import { MAX_EVIDENCE, REFUSED, type Probe } from './probe.js';
import { sidecarCrashFinding } from './sidecar.js';
import { chooseEntry, parseContents, routeContent } from './sources.js';
import { clip, containersPath, controllerRef, plural, portsText, refText, selectorText } from './text.js';

/** Lines of a crashed container's previous run read. */
const PREVIOUS_LOG_LINES = 20;

/** The status of the container that explains the pod: grafana not ready, else any not ready, else the first. */
function tellingStatus(pod: V1Pod, grafana: string): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((cs) => cs.name === grafana && !cs.ready) ?? statuses.find((cs) => !cs.ready) ?? statuses[0];
}

/** The objects a pod's volumes need (non-optional ConfigMaps and Secrets). */
function neededObjects(volume: V1Volume, namespace: string): SourceObject[] {
  const out: SourceObject[] = [];
  if (volume.configMap?.name && !volume.configMap.optional) out.push({ kind: 'ConfigMap', namespace, name: volume.configMap.name });
  if (volume.secret?.secretName && !volume.secret.optional) out.push({ kind: 'Secret', namespace, name: volume.secret.secretName });
  for (const s of volume.projected?.sources ?? []) {
    if (s.configMap?.name && !s.configMap.optional) out.push({ kind: 'ConfigMap', namespace, name: s.configMap.name });
    if (s.secret?.name && !s.secret.optional) out.push({ kind: 'Secret', namespace, name: s.secret.name });
  }
  return out;
}

/** How to create an object a Grafana volume needs, in the stack's words. */
function createText(p: Probe, o: SourceObject): string {
  const route = p.route;
  const isRouteObject = route?.objects.some((x) => x.kind === o.kind && x.name === o.name && x.namespace === o.namespace);
  if (isRouteObject && route) return `${p.profile.createDatasource(p.stack, route)} The pod then starts by itself.`;
  return 'Create it; the pod then starts by itself.';
}

/** Why a pod is not Running and Ready: its containers' state, previous log, image, volumes. */
export async function podFinding(p: Probe, pod: V1Pod): Promise<Finding | undefined> {
  const podName = pod.metadata?.name ?? '?';
  const ns = pod.metadata?.namespace ?? p.ns;
  const owner = p.site?.workload.owner ?? controllerOf(pod);
  const ref = controllerRef(owner, ns, podName);
  const controller = owner ? `${owner.kind} ${owner.name}` : 'controller';
  const containers = pod.spec?.containers ?? [];
  const status = tellingStatus(pod, p.container);
  const ci = Math.max(0, containers.findIndex((c) => c.name === status?.name));
  const container = containers[ci];
  const cname = container?.name ?? status?.name ?? p.container;
  const path = [...containersPath(ref), ci];
  const described = describePod(pod);
  const waiting = status?.state?.waiting;
  const last = status?.lastState?.terminated;
  const restarts = status?.restartCount ?? 0;

  if (waiting?.reason === 'CrashLoopBackOff' || (last && restarts > 0 && !status?.ready)) {
    if (last?.reason === 'OOMKilled') {
      const limit = container?.resources?.limits?.memory;
      return {
        cause: `container ${cname} of pod ${podName} is killed for exceeding its memory limit (OOMKilled${limit ? `, limit ${limit}` : ''})`,
        fix: `Raise resources.limits.memory of container ${cname} in ${refText(ref)}.`,
        evidence: [described],
        target: { object: ref, path: [...path, 'resources', 'limits', 'memory'] },
      };
    }
    if (cname === (p.sidecar ?? p.site?.sidecar)?.container) return sidecarCrashFinding(p, pod, status as V1ContainerStatus);
    const log = await p.log(`the ${cname} container's previous log not read`, pod, cname, PREVIOUS_LOG_LINES, true);
    const exit = last?.exitCode !== undefined ? `, last exit code ${last.exitCode}` : '';
    const state = `${waiting?.reason ?? 'restarting'}, ${plural(restarts, 'restart')}${exit}`;
    if (log === REFUSED || !log.trim()) {
      return {
        cause: `container ${cname} of pod ${podName} keeps crashing (${state})`,
        fix: `Read why with kubectl logs -n ${ns} ${podName} -c ${cname} --previous, fix the configuration, and let the ${controller} roll out again.`,
        evidence: [described],
      };
    }
    const verdict = provisioningLog(log, p.wanted);
    if (cname === p.container && verdict.errors.length) {
      const { contents } = await routeContent(p);
      const parsed = parseContents(contents);
      const f = provisioningErrorFinding(p, verdict, parsed.entries, chooseEntry(parsed.entries, p.wanted), `pod ${podName} (previous run)`);
      return { ...f, cause: `container ${cname} of pod ${podName} exits at start-up: ${f.cause}` };
    }
    const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
    const telling = [...lines].reverse().find((l) => ERROR_LEVEL.test(l) || /\b(error|panic|fatal|failed)\b/i.test(l)) ?? lines[lines.length - 1] ?? '';
    const reason = logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling;
    return {
      cause: `container ${cname} of pod ${podName} keeps crashing (${state}); its last run ended with: ${clip(reason, 300)}`,
      fix: `Fix what its log says (kubectl logs -n ${ns} ${podName} -c ${cname} --previous), then let the ${controller} roll out again.`,
      evidence: lines.slice(-MAX_EVIDENCE).map((l) => clip(l, 300)),
    };
  }
  if (waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull' || waiting?.reason === 'InvalidImageName') {
    return {
      cause: `pod ${podName} cannot pull image ${container?.image ?? status?.image ?? '?'} (${waiting.reason})`,
      fix: `Fix the image name or tag of container ${cname} in ${refText(ref)}, or give the pod an imagePullSecret for its registry.`,
      evidence: [described, ...(waiting.message ? [clip(waiting.message, 300)] : [])],
      target: { object: ref, path: [...path, 'image'] },
    };
  }
  if (waiting?.reason === 'CreateContainerConfigError' && waiting.message) {
    const secret = /secret "([^"]+)" not found/.exec(waiting.message)?.[1];
    const cmName = /configmap "([^"]+)" not found/i.exec(waiting.message)?.[1];
    const ei = (container?.env ?? []).findIndex((e) => (secret && e.valueFrom?.secretKeyRef?.name === secret) || (cmName && e.valueFrom?.configMapKeyRef?.name === cmName));
    return {
      cause: `pod ${podName} cannot start container ${cname}: ${clip(waiting.message, 300)}`,
      fix: secret
        ? `Create Secret ${ns}/${secret}${p.stack.kind === 'taskflow' ? ' (kubectl apply -f 20-grafana-secret.yaml)' : ''}, or fix the reference in ${refText(ref)}.`
        : `Create what the message names, or fix the reference in ${refText(ref)}.`,
      evidence: [described],
      ...(ei >= 0 ? { target: { object: ref, path: [...path, 'env', ei] } } : {}),
    };
  }
  if (!status || waiting?.reason === 'ContainerCreating' || pod.status?.phase === 'Pending') {
    // A ConfigMap or Secret volume whose object is missing keeps the pod in ContainerCreating.
    for (const volume of pod.spec?.volumes ?? []) {
      for (const o of neededObjects(volume, ns)) {
        const found =
          o.kind === 'ConfigMap'
            ? await p.read(`ConfigMap ${ns}/${o.name} not read`, 'get configmaps', () => p.view.configMap(ns, o.name))
            : await p.read(`Secret ${ns}/${o.name} not read`, 'get secrets', () => p.view.secret(ns, o.name));
        if (found === undefined) {
          return {
            cause: `pod ${podName} cannot start: its volume ${volume.name} needs ${o.kind} ${ns}/${o.name}, which does not exist`,
            fix: createText(p, o),
            evidence: [described],
            target: { object: { kind: o.kind, namespace: ns, name: o.name }, path: [] },
          };
        }
      }
    }
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled) {
      return {
        cause: `pod ${podName} is not scheduled: ${clip(unscheduled.message ?? unscheduled.reason ?? 'no node fits', 300)}`,
        fix: `Free or add node capacity, or lower the requests / fix the node selectors of ${refText(ref)}.`,
        evidence: [described],
      };
    }
    if (waiting?.message) return { cause: `pod ${podName} is not started: ${clip(waiting.message, 300)}`, fix: `kubectl describe pod -n ${ns} ${podName} shows its events.`, evidence: [described] };
    return undefined;
  }
  if (status.state?.running && !status.ready) {
    const log = await p.log(`the ${cname} container's log not read`, pod, cname, PREVIOUS_LOG_LINES);
    const errors = log === REFUSED ? [] : log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l));
    return {
      cause: `container ${cname} of pod ${podName} runs but is not Ready: its readiness probe fails`,
      fix: `Check that the readiness probe targets ${cname === p.container ? "Grafana's port and /api/health" : 'the port the container serves'}, and what the container logs (kubectl logs -n ${ns} ${podName} -c ${cname}).`,
      evidence: [described, ...errors.slice(-3).map((l) => clip(l, 300))],
      ...(container?.readinessProbe ? { target: { object: ref, path: [...path, 'readinessProbe'] } } : {}),
    };
  }
  return undefined;
}

/** The finding for the first pod (Running ones first) whose state explains why Grafana does not run. */
export async function notRunningFinding(p: Probe, pods: readonly V1Pod[]): Promise<Finding | undefined> {
  const byRelevance = [...pods].sort((a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running'));
  for (const pod of byRelevance) {
    const f = await podFinding(p, pod);
    if (f) return f;
  }
  return undefined;
}

/** Labels the common stacks put on Grafana's pods. */
function looksLikeGrafana(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.['app.kubernetes.io/name'] === 'grafana' || labels?.app === 'grafana';
}

/** A Deployment with no pod: scaled to 0, or failing to create one. */
function noPodFinding(dep: V1Deployment): Finding {
  const ns = dep.metadata?.namespace ?? '';
  const ref: ObjectRef = { kind: 'Deployment', namespace: ns, name: dep.metadata?.name ?? 'grafana' };
  if (dep.spec?.replicas === 0) {
    return { cause: `${refText(ref)} is scaled to 0 replicas`, fix: `kubectl scale deployment/${ref.name} -n ${ns} --replicas=1 (and set replicas: 1 in its manifest).`, target: { object: ref, path: ['spec', 'replicas'] } };
  }
  const failure = dep.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True') ?? dep.status?.conditions?.find((c) => c.status === 'False');
  return {
    cause: `${refText(ref)} has no pod${failure?.message ? `: ${clip(failure.message, 300)}` : ''}`,
    fix: `kubectl describe deployment/${ref.name} -n ${ns} and its ReplicaSet's events say why the pod is not created (quota, service account, admission).`,
  };
}

/**
 * No Grafana pod: its Deployment (the controller discovery saw, else a Deployment whose pods
 * would carry Grafana's labels in the namespaces searched first) has none.
 */
async function noPodProbe(p: Probe): Promise<void> {
  const owner = p.site?.workload.owner;
  const namespaces = p.site ? [p.ns] : [...new Set([...(p.stack.prometheus.ok ? [p.stack.prometheus.value.workload.namespace] : []), p.ctx.cluster.defaultNamespace])];
  for (const ns of namespaces) {
    const deployments = await p.read('the Grafana Deployment not checked', 'list deployments', () => p.ctx.cluster.listDeployments(ns, p.signal));
    if (deployments === REFUSED) return;
    const dep =
      owner?.kind === 'Deployment'
        ? deployments.find((d) => d.metadata?.name === owner.name)
        : p.site
          ? deployments.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, p.site?.workload.selector ?? ''))
          : deployments.find((d) => looksLikeGrafana(d.spec?.template?.metadata?.labels));
    if (dep) {
      p.add(noPodFinding(dep));
      return;
    }
  }
}

/** `grafana-pod`: no pod, or none Running and Ready (with its datasource sidecar). */
export async function grafanaPodProbe(p: Probe, result: CheckResult): Promise<void> {
  const reason = result.reason;
  if (isReason(reason, 'discovery.not-found', 'pod.none')) {
    await noPodProbe(p);
    return;
  }
  const pods = await p.grafanaPods();
  if (pods === REFUSED) return;
  if (isReason(reason, 'pod.sidecar-not-ready')) {
    const pod = pods.find((x) => x.metadata?.name === reason.pod) ?? pods[0];
    const status = pod?.status?.containerStatuses?.find((s) => s.name === reason.container) ?? pod?.status?.initContainerStatuses?.find((s) => s.name === reason.container);
    if (pod && status) p.add(await sidecarCrashFinding(p, pod, status));
    return;
  }
  if (!isReason(reason, 'pod.not-ready') && pods.some(isReady)) return;
  const crashing = isReason(reason, 'pod.not-ready') && reason.crashLooping ? pods.filter((x) => x.metadata?.name === reason.crashLooping) : [];
  const f = await notRunningFinding(p, [...crashing, ...pods.filter((x) => !isReady(x) && !crashing.includes(x))]);
  if (f) p.add(f);
}

/** `grafana-api`: the database, else the Service, its endpoints and the pods behind them. */
export async function grafanaApiProbe(p: Probe, result: CheckResult): Promise<void> {
  if (isReason(result.reason, 'grafana.database')) return databaseProbe(p);
  const site = p.site;
  if (!site) return;
  const ns = p.ns;
  const svcSite = site.service.ok ? site.service.value : undefined;
  if (!svcSite) {
    // No Service selects the pods: one that looks meant for them selects something else.
    const services = await p.read(`the Services of ${ns} not listed`, 'list services', () => p.ctx.cluster.listServices(ns, p.signal));
    if (services === REFUSED) return;
    const owner = site.workload.owner?.name;
    const candidate = services.find((s) => s.metadata?.name === owner) ?? services.find((s) => /grafana/.test(s.metadata?.name ?? ''));
    const selector = selectorText(candidate?.spec?.selector);
    if (!candidate) return;
    const svcRef: ObjectRef = { kind: 'Service', namespace: ns, name: candidate.metadata?.name ?? '' };
    const pods = selector ? await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.view.pods(ns, selector)) : [];
    if (pods === REFUSED || pods.length) return;
    p.add({
      cause: selector ? `${refText(svcRef)} selects ${selector}, which no pod in ${ns} matches` : `${refText(svcRef)} has no selector and no endpoints`,
      fix: `Make the Service's selector match the Grafana pod's labels (${site.workload.selector}; kubectl get pods -n ${ns} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const svcRef: ObjectRef = { kind: 'Service', namespace: svcSite.namespace, name: svcSite.name };
  const svc = await p.read(`${refText(svcRef)} not read`, 'get services', () => p.view.service(svcSite.namespace, svcSite.name));
  if (svc === REFUSED) return;
  if (!svc) {
    p.add({
      cause: `${refText(svcRef)} does not exist`,
      fix: `Create it${p.stack.kind === 'taskflow' ? ' (kubectl apply -f 20-grafana-deployment.yaml, which defines it)' : ''}, or set the grafana-service input to Grafana's Service.`,
      target: { object: svcRef, path: [] },
    });
    return;
  }
  const port = svcSite.port;
  if (!svc.spec?.ports?.some((sp) => String(sp.port) === port || sp.name === port)) {
    p.add({
      cause: `${refText(svcRef)} has no port ${port} (it exposes ${portsText(svc)})`,
      fix: `Set the grafana-service input to ${svcSite.namespace}/${svcSite.name}:${svc.spec?.ports?.[0]?.port ?? 3000}, or add the port to the Service.`,
      target: { object: svcRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const eps = await p.read(`the endpoints of ${refText(svcRef)} not read`, 'get endpoints', () => p.view.endpoints(svcSite.namespace, svcSite.name));
  if (eps === REFUSED) return;
  if ((eps?.subsets ?? []).some((sub) => sub.addresses?.length)) return;
  const selector = selectorText(svc.spec?.selector);
  const pods = selector ? await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.view.pods(svcSite.namespace, selector)) : [];
  if (pods === REFUSED) return;
  if (!pods.length) {
    p.add({
      cause: selector ? `${refText(svcRef)} selects ${selector}, which no pod in ${svcSite.namespace} matches` : `${refText(svcRef)} has no selector and no endpoints`,
      fix: `Make the Service's selector match the Grafana pod's labels (kubectl get pods -n ${svcSite.namespace} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const f = await notRunningFinding(p, pods);
  if (f) {
    p.add({ ...f, evidence: [`${refText(svcRef)} has no ready endpoints`, ...(f.evidence ?? [])] });
    return;
  }
  p.add({
    cause: `${refText(svcRef)} has no ready endpoints: no pod matching ${selector} is Ready`,
    fix: `kubectl describe pod -n ${svcSite.namespace} -l ${selector} shows why the Grafana pod is not Ready.`,
    evidence: pods.slice(0, 3).map((pod) => describePod(pod)),
  });
}

/** Grafana answers /api/health with its database failing: its log's database errors. */
async function databaseProbe(p: Probe): Promise<void> {
  const pod = await p.grafanaPod();
  if (!pod?.metadata?.name) return;
  const log = await p.log("Grafana's logs not read", pod, p.container, LOG_LINES);
  if (log === REFUSED) return;
  const errors = log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l) && /database|sqlite|sql|migrat|disk|read-only|locked/i.test(l));
  const last = errors[errors.length - 1];
  p.add({
    cause: `Grafana's database is failing${last ? `: ${clip(logfmtValue(last, 'error') ?? logfmtValue(last, 'msg') ?? last, 300)}` : ''}`,
    fix: `Check the storage behind /var/lib/grafana (a full, read-only or locked volume) or the GF_DATABASE_* settings of an external database; then ${p.restart}.`,
    evidence: errors.slice(-MAX_EVIDENCE).map((l) => `pod ${pod.metadata?.name}: ${clip(l, 300)}`),
  });
}
