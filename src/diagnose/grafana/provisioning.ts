/**
 * "Grafana lists no such datasource" (and the datasource-configmap / datasource-mounted failures):
 * the chain ConfigMap → Deployment template mounts it → running pod mounts it → the container sees
 * the file → Grafana's provisioning log → Grafana provisions only at start-up. The first broken
 * link is the finding. Also: Grafana lists the datasource with another URL or type.
 */
import { sameUrl } from '../../datasource.js';
import { configMapLink, entryTarget, findEntry } from './configmap.js';
import { configMapUrlLink } from './connection.js';
import { LOG_LINES, provisioningErrorFinding, provisioningLog } from './logs.js';
import { filesInDir, mountState, templateFinding } from './mounts.js';
import { REFUSED, type Probe } from './probe.js';
import { clip, configMapRef, deploymentNameOf, deploymentRef, firstLine, mountDir, quote, refText, restartCommand, withoutCredentials } from './text.js';

/** The check diagnosed: `configmap` stops after the ConfigMap (and checks its url), `mounted` after Grafana's log, `listed` goes to the end. */
type ChainMode = 'configmap' | 'mounted' | 'listed';

/** Walks the chain and adds a finding for its first broken link. */
export async function provisioningChain(p: Probe, mode: ChainMode): Promise<void> {
  const s = p.settings;
  const dir = mountDir(s);
  const depName = async () => (await p.grafanaDeployment())?.metadata?.name ?? 'grafana';

  // 1. The ConfigMap, and the datasource it provisions.
  const cmLink = await configMapLink(p, mode === 'configmap' ? 'grafana' : await depName());
  if (cmLink.status === 'broken') return;
  if (mode === 'configmap') {
    if (cmLink.status === 'ok') await configMapUrlLink(p, cmLink.entry);
    return;
  }
  const entry = cmLink.status === 'ok' ? cmLink.entry : undefined;
  const data = cmLink.status === 'ok' ? cmLink.data : undefined;

  // 2. The Deployment's pod template mounts it.
  const dep = await p.grafanaDeployment();
  const template = dep ? mountState(dep.spec?.template?.spec, s.datasourceConfigmap, dir) : undefined;
  if (dep && template) {
    const f = templateFinding(p, dep, template);
    if (f) {
      p.add(f);
      return;
    }
  }

  // 3. The running pod mounts it.
  const pod = await p.grafanaPod();
  if (!pod) return;
  const podName = pod.metadata?.name ?? '?';
  const deployment = dep?.metadata?.name ?? deploymentNameOf(pod) ?? 'grafana';
  const depRef = deploymentRef(p.ns, deployment);
  const state = mountState(pod.spec, s.datasourceConfigmap, dir);
  if (state.status !== 'mounted') {
    if (template?.status === 'mounted') {
      p.add({
        cause: `pod ${podName} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}, although ${refText(depRef)}'s pod template does`,
        fix: `The pod predates the change: ${restartCommand(p.ns, deployment)} (if no new pod comes up, kubectl rollout status deployment/${deployment} -n ${p.ns} says why).`,
        evidence: [`pod ${podName} created ${pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : 'at an unknown time'}`],
      });
    } else {
      const f = templateFinding(p, { metadata: { name: deployment }, spec: { selector: {}, template: { spec: pod.spec } } }, state);
      if (f) p.add({ ...f, cause: `pod ${podName} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}`, evidence: [`the pod's spec (${refText(depRef)}'s template was not read)`] });
    }
    return;
  }
  const containerName = state.containerName;

  // 4. The container sees the file, as in the ConfigMap.
  if (pod.status?.phase !== 'Running') {
    p.note(`the file inside the container not checked: pod ${podName} is ${pod.status?.phase ?? 'not running'}`);
  } else if (data) {
    const files = filesInDir(pod.spec, s.datasourceConfigmap, dir, Object.keys(data).filter((k) => /\.ya?ml$/i.test(k)));
    for (const file of files) {
      const res = await p.exec('the file inside the container not checked', podName, file.container, ['cat', file.path]);
      if (!res) break;
      if (res.exitCode !== 0) {
        p.add({
          cause: `${file.path} does not exist in pod ${podName}, although its spec mounts ConfigMap ${s.datasourceConfigmap} there`,
          fix: `Recreate the pod so the kubelet mounts the volume again: ${restartCommand(p.ns, deployment)}.`,
          evidence: [`cat ${file.path}: ${firstLine(res.stderr) || `exit code ${res.exitCode}`}`],
        });
        return;
      }
      const expected = data[file.key] ?? '';
      if (res.stdout.trim() !== expected.trim()) {
        p.add({
          cause: `${file.path} in pod ${podName} differs from key ${file.key} of ${refText(configMapRef(s))}`,
          fix: `The pod sees an older version of the ConfigMap (the kubelet syncs it within about a minute, never for subPath mounts) and Grafana provisions only at start-up: ${restartCommand(p.ns, deployment)}.`,
          evidence: firstDifference(res.stdout, expected),
        });
        return;
      }
    }
  } else {
    p.note(`the file inside the container not compared: ${refText(configMapRef(s))} could not be read`);
  }

  // 5. Grafana's log: did provisioning fail?
  const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, containerName, LOG_LINES, false, p.signal));
  const verdict = log === REFUSED ? undefined : provisioningLog(log, s.datasourceName);
  if (verdict?.errors.length) {
    p.add(provisioningErrorFinding(p, verdict, entry, `pod ${podName}`, deployment));
    return;
  }
  if (mode !== 'listed') return;

  // 6. Everything is in place but Grafana does not list it.
  const evidence = [
    `pod ${podName} mounts ConfigMap ${s.datasourceConfigmap} at ${dir}`,
    ...(verdict ? [verdict.inserted.length ? `pod ${podName}: ${clip(verdict.inserted[verdict.inserted.length - 1] ?? '', 300)}` : `no provisioning error in the last ${LOG_LINES} lines of Grafana's log`] : []),
  ];
  if (verdict?.inserted.length) {
    p.add({
      cause: `Grafana provisioned "${s.datasourceName}" at start-up but does not list it to ${p.ctx.grafana.credential}`,
      fix: `Check the datasource's orgId in the provisioning file (the API lists only the current organization's datasources) and that this user or service account may read datasources (datasources:read).`,
      evidence,
      ...(entry ? { target: entryTarget(s, entry) } : {}),
    });
    return;
  }
  p.add({
    cause: `Grafana does not list "${s.datasourceName}" although pod ${podName} sees the provisioning file that defines it`,
    fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.`,
    evidence,
  });
}

/** The first line that differs between the file in the pod and the ConfigMap's key. */
function firstDifference(inPod: string, inConfigMap: string): string[] {
  const a = inPod.split('\n');
  const b = inConfigMap.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? '').trimEnd() !== (b[i] ?? '').trimEnd()) {
      return [`line ${i + 1} in the pod: ${quote(a[i] ?? '(end of file)')}`, `line ${i + 1} in the ConfigMap: ${quote(b[i] ?? '(end of file)')}`];
    }
  }
  return [];
}

/** `grafana-datasource`: Grafana lists the datasource with another URL or type than expected. */
export async function listedMismatch(p: Probe, kind: 'url' | 'type'): Promise<void> {
  const s = p.settings;
  const ref = configMapRef(s);
  const cm = await p.read(`${refText(ref)} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
  if (cm === REFUSED) return;
  const entry = cm ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
  if (!entry) {
    p.note(`"${s.datasourceName}" is not provisioned by ${refText(ref)}: it was created in Grafana itself (UI or API), so fix it there`);
    return;
  }
  const deployment = (await p.grafanaDeployment())?.metadata?.name ?? 'grafana';
  if (kind === 'type') {
    if (entry.ds.type !== 'prometheus') {
      p.add({ cause: `datasource "${entry.ds.name}" in ${refText(ref)} has type "${entry.ds.type}", not prometheus`, fix: `Set type: prometheus, then ${restartCommand(p.ns, deployment)}.`, target: entryTarget(s, entry, 'type') });
    } else {
      p.add({ cause: `Grafana still has the old type of "${entry.ds.name}"; ${refText(ref)} now gives prometheus`, fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.` });
    }
    return;
  }
  if (sameUrl(entry.ds.url, s.datasourceUrl, p.ns)) {
    p.add({
      cause: `Grafana still uses an old url for "${entry.ds.name}"; ${refText(ref)} now gives ${withoutCredentials(entry.ds.url)}`,
      fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.`,
    });
    return;
  }
  p.add({
    cause: `datasource "${entry.ds.name}" in ${refText(ref)} has url ${withoutCredentials(entry.ds.url) || '(none)'}, not ${s.datasourceUrl}`,
    fix: `Set url: ${s.datasourceUrl} (or set the datasource-url input if ${withoutCredentials(entry.ds.url)} is intended), then ${restartCommand(p.ns, deployment)}.`,
    target: entryTarget(s, entry, 'url'),
  });
}
