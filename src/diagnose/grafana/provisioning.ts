/**
 * "Grafana lists no such datasource" (and the datasource-configmap / datasource-mounted failures):
 * the chain along the route discovery found. For a volume (ConfigMap, Secret, projected): the
 * objects → the controller's pod template mounts them → the running pod mounts them → the
 * container sees the files → Grafana's provisioning log → Grafana provisions only at start-up.
 * The sidecar route has its own chain (sidecar.ts), grafana-operator its objects' conditions,
 * and a Grafana with nothing mounted the objects that would provision it. The first broken link
 * is the finding. Also: Grafana lists the datasource with another URL or type.
 */
import { posix } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { objectText } from '../../checks/provisioning.js';
import { sameUrl } from '../../datasource.js';
import type { ReasonOf } from '../../reasons.js';
import { mountedFiles } from '../../stack/route.js';
import type { SourceObject } from '../../stack/types.js';
import { configUrlLink } from './connection.js';
import { LOG_LINES, provisioningErrorFinding, provisioningLog } from './logs.js';
import { mountState, templateFinding } from './mounts.js';
import { operatorProbe } from './operator.js';
import { notRunningFinding } from './pods.js';
import { isRunning, REFUSED, type Probe } from './probe.js';
import { sidecarChain } from './sidecar.js';
import { applyText, chooseEntry, entryTarget, judgeContents, parseContents, provisioningObjects, routeContent, shortText, type Content, type Entry, type Stray } from './sources.js';
import { clip, controllerRef, firstLine, objectRef, quote, refText, sameObject, withoutCredentials } from './text.js';

/** The check diagnosed: `configmap` stops after the objects (and checks the url), `mounted` after Grafana's log, `listed` goes to the end. */
export type ChainMode = 'configmap' | 'mounted' | 'listed';

/** Walks the route's chain and adds a finding for its first broken link. */
export async function provisioningChain(p: Probe, mode: ChainMode): Promise<void> {
  const route = p.route;
  if (!route) return;
  if (route.delivery === 'sidecar' && route.sidecar) return sidecarChain(p, route.sidecar, mode, configUrlLink);
  if (route.delivery === 'grafana-operator') {
    await operatorProbe(p, true);
    return;
  }
  if (route.delivery === 'none') return nothingMounted(p, mode);
  return volumeChain(p, mode);
}

/** A candidate that provisions the datasource, among objects the route does not deliver. */
function bestStray(p: Probe, strays: readonly Stray[]): Stray | undefined {
  return strays.find((x) => chooseEntry(x.entries, p.wanted)) ?? strays.find((x) => x.entries.length);
}

/** Nothing is mounted at the provisioning directory: a GrafanaDatasource object, or an object that would provision it. */
async function nothingMounted(p: Probe, mode: ChainMode): Promise<void> {
  const route = p.route;
  if (!route) return;
  if (mode === 'listed' && (await operatorProbe(p, false))) return;
  const stray = bestStray(p, await provisioningObjects(p, [p.ns], ['ConfigMap', 'Secret']));
  const pod = await p.grafanaPod();
  const podName = pod?.metadata?.name ?? '';
  const podText = pod ? `pod ${podName}` : 'the Grafana pod';
  if (!stray) {
    p.add({
      cause: `nothing provisions a datasource: ${podText} mounts no ConfigMap or Secret at ${route.dir} and has no datasource sidecar`,
      fix: p.profile.createDatasource(p.stack, route),
    });
    return;
  }
  const entry = chooseEntry(stray.entries, p.wanted);
  const dep = await p.grafanaDeployment();
  if (pod && dep) {
    const template = mountState(dep.spec?.template?.spec, p.ns, stray.object, route.dir, p.container);
    if (template.status === 'mounted') {
      p.add(predates(p, pod, stray.object));
      return;
    }
  }
  p.add({
    cause: `${objectText(stray.object)} holds a datasource provisioning file${entry ? ` ("${entry.ds.name}")` : ''}, but ${podText} mounts nothing at ${route.dir}`,
    fix: p.profile.mountDatasource(p.stack, stray.object),
    ...(pod ? { target: { object: controllerRef(p.site?.workload.owner, p.ns, podName), path: [...(p.site?.workload.owner ? ['spec', 'template', 'spec'] : ['spec']), 'volumes'] } } : {}),
  });
}

/** The running pod does not mount what its controller's template mounts: it predates the change. */
function predates(p: Probe, pod: V1Pod, object: SourceObject) {
  const owner = p.site?.workload.owner;
  const ref = controllerRef(owner, p.ns, pod.metadata?.name ?? '');
  return {
    cause: `pod ${pod.metadata?.name} does not mount ${shortText(object)} at ${p.dir}, although ${refText(ref)}'s pod template does`,
    fix: `The pod predates the change: ${p.restart}${owner ? ` (if no new pod comes up, kubectl rollout status ${owner.kind.toLowerCase()}/${owner.name} -n ${p.ns} says why)` : ''}.`,
    evidence: [`pod ${pod.metadata?.name} created ${pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : 'at an unknown time'}`],
  };
}

/** The object the pod mounts does not exist: another in the namespace that provisions the datasource is likely the one meant. */
async function missingObject(p: Probe, missing: SourceObject): Promise<void> {
  const route = p.route;
  if (!route || missing.kind === 'GrafanaDatasource') return;
  const stray = bestStray(
    p,
    (await provisioningObjects(p, [missing.namespace], [missing.kind as 'ConfigMap' | 'Secret'])).filter((x) => !route.objects.some((o) => sameObject(o, x.object))),
  );
  const pod = await p.grafanaPod();
  if (stray && pod && route.delivery !== 'unmounted') {
    const dep = await p.grafanaDeployment();
    const ref = controllerRef(p.site?.workload.owner, p.ns, pod.metadata?.name ?? '');
    const spec = dep?.spec?.template?.spec ?? pod.spec;
    const state = mountState(spec, p.ns, stray.object, route.dir, p.container);
    const f = state.status === 'other-object' ? templateFinding(p, ref, spec, state, stray.object) : undefined;
    if (f) {
      p.add({ ...f, evidence: [`kubectl get ${missing.kind.toLowerCase()} ${missing.name} -n ${missing.namespace}: NotFound`, `${objectText(stray.object)} exists and provisions ${stray.entries.map((e) => `"${e.ds.name}"`).join(', ')}`] });
      return;
    }
  }
  p.add({
    cause: `${objectText(missing)} does not exist`,
    fix: p.profile.createDatasource(p.stack, route),
    evidence: [`kubectl get ${missing.kind.toLowerCase()} ${missing.name} -n ${missing.namespace}: NotFound`],
    target: { object: objectRef(missing), path: [] },
  });
}

/** The chain for a volume (or an object the input names that no volume carries). */
async function volumeChain(p: Probe, mode: ChainMode): Promise<void> {
  const route = p.route;
  if (!route) return;
  const dir = route.dir;

  // 1. The objects, and the datasource they provision.
  const { contents, missing } = await routeContent(p);
  if (missing.length && !contents.length) return missingObject(p, missing[0] as SourceObject);
  const link = contents.length ? judgeContents(p, contents) : { status: 'unknown' as const };
  if (link.status === 'broken') return;
  if (mode === 'configmap') {
    if (link.status === 'ok') await configUrlLink(p, link.entry);
    return;
  }
  const entry = link.status === 'ok' ? link.entry : undefined;
  const object = entry?.object ?? contents[0]?.object ?? route.objects[0];
  if (!object) return;

  // 2. The controller's pod template mounts it.
  const pod = await p.grafanaPod();
  const podName = pod?.metadata?.name ?? '?';
  const owner = p.site?.workload.owner;
  const ref = controllerRef(owner, p.ns, podName);
  const dep = await p.grafanaDeployment();
  const template = dep ? mountState(dep.spec?.template?.spec, p.ns, object, dir, p.container) : undefined;
  if (dep && template) {
    const f = templateFinding(p, ref, dep.spec?.template?.spec, template, object);
    if (f) {
      p.add(f);
      return;
    }
  }

  // 3. The running pod mounts it.
  if (!pod) return;
  const state = mountState(pod.spec, p.ns, object, dir, p.container);
  if (state.status !== 'mounted') {
    if (template?.status === 'mounted') p.add(predates(p, pod, object));
    else {
      const f = templateFinding(p, ref, pod.spec, state, object);
      if (f) p.add({ ...f, cause: `pod ${podName} does not mount ${shortText(object)} at ${dir}`, evidence: [`the pod's spec (${refText(ref)}'s template was not read)`] });
    }
    return;
  }

  // A Grafana that does not run is explained by its state, never by remounting the volume.
  if (!isRunning(pod, p.container)) {
    const f = await notRunningFinding(p, [pod]);
    if (f) p.add(f);
    else p.note(`the file inside the container not checked: the ${p.container} container of pod ${podName} does not run`);
    return;
  }

  // 4. The container sees the files, as in the objects.
  const readable = contents.filter((c) => !c.fromPod);
  if (readable.length) {
    const keysOf = (o: SourceObject) => readable.find((c) => sameObject(c.object, o))?.data ?? {};
    const files = mountedFiles(pod, p.container, (o) => Object.keys(keysOf(o))).filter(
      (f) => f.object && readable.some((c) => sameObject(c.object, f.object as SourceObject)) && posix.dirname(f.path) === dir && /\.ya?ml$/i.test(f.path) && f.key !== undefined,
    );
    for (const file of files) {
      const res = await p.exec('the file inside the container not checked', pod, p.container, ['cat', file.path]);
      if (!res) break;
      const source = file.object as SourceObject;
      if (res.exitCode !== 0) {
        p.add({
          cause: `${file.path} does not exist in pod ${podName}, although its spec mounts ${shortText(source)} there`,
          fix: `Recreate the pod so the kubelet mounts the volume again: ${p.restart}.`,
          evidence: [`cat ${file.path}: ${firstLine(res.stderr) || `exit code ${res.exitCode}`}`],
        });
        return;
      }
      const expected = keysOf(source)[file.key as string] ?? '';
      if (res.stdout.trim() !== expected.trim()) {
        p.add({
          cause: `${file.path} in pod ${podName} differs from key ${file.key} of ${objectText(source)}`,
          fix: `The pod sees an older version of the ${source.kind} (the kubelet syncs it within about a minute, never for subPath mounts) and Grafana provisions only at start-up: ${p.restart}.`,
          evidence: firstDifference(res.stdout, expected, source.kind),
        });
        return;
      }
    }
  } else if (!contents.length) {
    p.note(`the file inside the container not compared: ${route.objects.map(objectText).join(', ')} could not be read`);
  }

  // 5. Grafana's log: did provisioning fail?
  const log = await p.log("Grafana's logs not read", pod, p.container, LOG_LINES);
  const verdict = log === REFUSED ? undefined : provisioningLog(log, entry?.ds.name ?? p.wanted);
  if (verdict?.errors.length) {
    p.add(provisioningErrorFinding(p, verdict, parseContents(contents).entries, entry, `pod ${podName}`));
    return;
  }
  if (mode !== 'listed') return;

  // 6. Everything is in place but Grafana does not list it.
  const name = entry?.ds.name ?? p.wanted ?? 'the Prometheus datasource';
  const evidence = [
    `pod ${podName} mounts ${shortText(object)} at ${dir}`,
    ...(verdict ? [verdict.inserted.length ? `pod ${podName}: ${clip(verdict.inserted[verdict.inserted.length - 1] ?? '', 300)}` : `no provisioning error in the last ${LOG_LINES} lines of Grafana's log`] : []),
  ];
  if (verdict?.inserted.length) {
    p.add({
      cause: `Grafana provisioned "${name}" at start-up but does not list it to ${p.ctx.grafana.credential}`,
      fix: "Check the datasource's orgId in the provisioning file (the API lists only the current organization's datasources) and that this user or service account may read datasources (datasources:read).",
      evidence,
      ...(entry ? { target: entryTarget(entry) } : {}),
    });
    return;
  }
  p.add({
    cause: `Grafana does not list "${name}" although pod ${podName} sees the provisioning file that defines it`,
    fix: `Grafana reads provisioning files only at start-up: ${p.restart}.`,
    evidence,
  });
}

/** The first line that differs between the file in the pod and the object's key. */
function firstDifference(inPod: string, inObject: string, kind: string): string[] {
  const a = inPod.split('\n');
  const b = inObject.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? '').trimEnd() !== (b[i] ?? '').trimEnd()) {
      return [`line ${i + 1} in the pod: ${quote(a[i] ?? '(end of file)')}`, `line ${i + 1} in the ${kind}: ${quote(b[i] ?? '(end of file)')}`];
    }
  }
  return [];
}

/** `grafana-datasource`: Grafana lists the datasource with another URL or type than expected (the reason's facts). */
export async function listedMismatch(p: Probe, reason: ReasonOf<'datasource.url-mismatch' | 'datasource.type-mismatch'>): Promise<void> {
  const { contents, unread } = await routeContent(p);
  if (unread) return;
  const entries = parseContents(contents).entries;
  const entry: Entry | undefined = entries.find((e) => e.ds.name === reason.name);
  const refs = contents.map((c: Content) => objectText(c.object)).join(', ') || 'the provisioning objects';
  if (!entry) {
    p.note(`"${reason.name}" is not provisioned by ${refs}: it was created in Grafana itself (UI or API), so fix it there`);
    return;
  }
  const apply = applyText(p);
  if (reason.code === 'datasource.type-mismatch') {
    if (entry.ds.type !== 'prometheus') {
      p.add({ cause: `datasource "${entry.ds.name}" in ${objectText(entry.object)} has type "${entry.ds.type}", not prometheus`, fix: p.profile.editDatasource(p.stack, entry.object, 'Set `type: prometheus`'), target: entryTarget(entry, 'type') });
    } else {
      p.add({ cause: `Grafana still has the old type of "${entry.ds.name}"; ${objectText(entry.object)} now gives prometheus`, fix: `Grafana reads provisioning files at start-up${p.sidecar ? ' or on a reload' : ' only'}: ${apply}.` });
    }
    return;
  }
  if (sameUrl(entry.ds.url, reason.expected, p.ns)) {
    p.add({
      cause: `Grafana still uses an old url for "${entry.ds.name}"; ${objectText(entry.object)} now gives ${withoutCredentials(entry.ds.url)}`,
      fix: `Grafana reads provisioning files ${p.sidecar ? 'at start-up or on a reload' : 'only at start-up'}: ${apply}.`,
      evidence: [`Grafana lists url ${withoutCredentials(reason.url) || '(none)'}`],
    });
    return;
  }
  const url = withoutCredentials(entry.ds.url);
  p.add({
    cause: `datasource "${entry.ds.name}" in ${objectText(entry.object)} has url ${url || '(none)'}, not ${reason.expected}`,
    fix: `${p.profile.editDatasource(p.stack, entry.object, `Set \`url: ${reason.expected}\``)}${p.stack.expect.datasourceUrlGiven ? '' : ` Or set the datasource-url input if ${url} is intended.`}`,
    target: entryTarget(entry, 'url'),
  });
}
