/**
 * The datasource sidecar route (kube-prometheus-stack, the grafana chart: kiwigrid/k8s-sidecar
 * copying labelled ConfigMaps and Secrets into a directory Grafana shares, then asking Grafana to
 * reload). Its chain, first broken link first:
 * 1. the labelled objects provision the datasource — else an object that holds it but lacks the
 *    sidecar's label (or has another value), or nothing at all; two defaults across the files;
 * 2. the sidecar container runs — else why not (its previous log);
 * 3. its service account may list and watch them (SubjectAccessReview, and the 403 it logs);
 * 4. Grafana runs (else the crash is the cause, never a remount), and the file is in its container;
 * 5. Grafana's log has no provisioning error, and the sidecar's reload calls were accepted;
 * 6. Grafana lists it — else Grafana started before the sidecar copied the file and no reload
 *    followed (the sidecar race).
 */
import { posix } from 'node:path';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { KubeError } from '../../cluster.js';
import { objectText } from '../../checks/provisioning.js';
import { matchesSelector } from '../../selector.js';
import { sidecarRaceFix, sidecarRbacFix } from '../../stack/profiles/index.js';
import { sidecarSelector } from '../../stack/route.js';
import type { Sidecar } from '../../stack/types.js';
import type { Finding } from '../types.js';
import { grafanaTime, lastStart, LOG_LINES, logfmtValue, provisioningErrorFinding, provisioningLog } from './logs.js';
import { notRunningFinding } from './pods.js';
import { containerOf, isRunning, MAX_EVIDENCE, REFUSED, type Probe } from './probe.js';
import { parseSidecarLog, recordText, refusals, reloadCalls, writes, type Refusal, type SidecarRecord } from './sidecar-log.js';
import { chooseEntry, judgeContents, parseContents, provisioningObjects, routeContent, type Content, type Entry } from './sources.js';
import { clip, objectRef, plural } from './text.js';

/** Lines of the sidecar's log read. */
const SIDECAR_LOG_LINES = 200;

type Mode = 'configmap' | 'mounted' | 'listed';

function kindsOf(s: Sidecar): ('ConfigMap' | 'Secret')[] {
  return s.resource === 'both' ? ['ConfigMap', 'Secret'] : s.resource === 'secret' ? ['Secret'] : ['ConfigMap'];
}

function kindsText(s: Sidecar): string {
  return s.resource === 'both' ? 'ConfigMaps and Secrets' : s.resource === 'secret' ? 'Secrets' : 'ConfigMaps';
}

function resourcesOf(s: Sidecar): string[] {
  return s.resource === 'both' ? ['configmaps', 'secrets'] : s.resource === 'secret' ? ['secrets'] : ['configmaps'];
}

function whereText(s: Sidecar): string {
  return s.namespaces === 'ALL' ? 'every namespace' : s.namespaces.join(', ');
}

/** The sidecar's records, from its current run and (after a restart) its previous one. */
async function sidecarRecords(p: Probe, pod: V1Pod, s: Sidecar, previous: boolean): Promise<SidecarRecord[] | undefined> {
  const log = await p.log(`the sidecar ${s.container}'s ${previous ? 'previous ' : ''}log not read`, pod, s.container, SIDECAR_LOG_LINES, previous);
  return log === REFUSED ? undefined : parseSidecarLog(log);
}

/** `pod x, container y (previous run): …`. */
function where(pod: V1Pod, container: string, previous: boolean): string {
  return `pod ${pod.metadata?.name}, container ${container}${previous ? ' (previous run)' : ''}`;
}

/** The service account the sidecar runs as. */
function serviceAccountOf(pod: V1Pod): string {
  return `system:serviceaccount:${pod.metadata?.namespace}:${pod.spec?.serviceAccountName || 'default'}`;
}

/** What a SubjectAccessReview says the sidecar's service account may not do, or undefined when reviews are refused. */
async function deniedToSidecar(p: Probe, pod: V1Pod, s: Sidecar): Promise<{ verb: string; resource: string; where: string }[] | undefined> {
  const user = serviceAccountOf(pod);
  const ns = pod.metadata?.namespace ?? p.ns;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'];
  const scopes = s.namespaces === 'ALL' ? [undefined] : [...s.namespaces];
  const denied: { verb: string; resource: string; where: string }[] = [];
  for (const scope of scopes) {
    for (const resource of resourcesOf(s)) {
      for (const verb of ['list', 'watch']) {
        try {
          const review = await p.ctx.cluster.canUser(user, groups, { verb, resource, ...(scope ? { namespace: scope } : {}) }, p.signal);
          if (!review.allowed) denied.push({ verb, resource, where: scope ? `namespace ${scope}` : 'every namespace' });
        } catch (err) {
          if (!(err instanceof KubeError)) throw err;
          p.note(
            `the datasource sidecar's permissions not reviewed: ${err.status === 403 ? "create subjectaccessreviews is forbidden for the action's credentials (add it to the Role)" : err.message}`,
          );
          return undefined;
        }
      }
    }
  }
  return denied;
}

/** The sidecar's service account may not list or watch its objects: the finding, with the rule to add. */
function rbacFinding(p: Probe, pod: V1Pod, s: Sidecar, denied: readonly { verb: string; resource: string; where: string }[], refused: readonly Refusal[], previous: boolean): Finding {
  const sa = refused.find((r) => r.user)?.user ?? serviceAccountOf(pod);
  const resources = [...new Set([...denied.map((d) => d.resource), ...refused.map((r) => r.resource)])];
  const verbs = [...new Set([...denied.map((d) => d.verb), ...refused.map((r) => r.verb)])];
  const places = [...new Set([...denied.map((d) => d.where), ...refused.map((r) => (r.namespace ? `namespace ${r.namespace}` : 'every namespace'))])];
  const scope = places.includes('every namespace') ? 'every namespace' : places.map((x) => x.replace(/^namespace /, '')).join(', ');
  return {
    cause: `the datasource sidecar ${s.container} of pod ${pod.metadata?.name} may not ${verbs.join(' or ')} ${resources.join(' and ')} in ${places.join(', ')}: the API server refuses its service account ${sa}, so it copies no datasource file into Grafana`,
    fix: sidecarRbacFix(p.profile, p.stack, sa, resourcesOf(s), scope),
    evidence: [
      ...denied.slice(0, 2).map((d) => `SubjectAccessReview: ${sa} may not ${d.verb} ${d.resource} in ${d.where}`),
      ...refused.slice(-2).map((r) => `${where(pod, s.container, previous)}: ${recordText(r.record, r.sentence)}`),
    ],
  };
}

/** The sidecar container does not run (or keeps restarting): why, from its log and its permissions. */
export async function sidecarCrashFinding(p: Probe, pod: V1Pod, status: V1ContainerStatus): Promise<Finding> {
  const podName = pod.metadata?.name ?? '?';
  const s = p.sidecar ?? p.site?.sidecar;
  if (!s) {
    return {
      cause: `container ${status.name} of pod ${podName} does not run`,
      fix: `Read why with kubectl logs -n ${pod.metadata?.namespace} ${podName} -c ${status.name} --previous.`,
    };
  }
  const state = status.state?.waiting?.reason ?? status.state?.terminated?.reason ?? (status.state?.running ? 'running but not ready' : 'not running');
  const previous = (status.restartCount ?? 0) > 0;
  const records = (await sidecarRecords(p, pod, s, previous)) ?? [];
  const refused = refusals(records);
  const denied = refused.length || !records.length ? await deniedToSidecar(p, pod, s) : [];
  if (refused.length || denied?.length) return rbacFinding(p, pod, s, denied ?? [], refused, previous);
  const errors = records.filter((r) => /^(ERROR|CRITICAL)$/i.test(r.level ?? '') || /Traceback|Error|Exception/.test(r.msg));
  const last = errors[errors.length - 1] ?? records[records.length - 1];
  return {
    cause: `the datasource sidecar ${s.container} of pod ${podName} is ${state}${status.restartCount ? ` (${plural(status.restartCount, 'restart')})` : ''}${last ? `; its log ends with: ${clip(recordText(last), 300)}` : ''}: nothing copies the datasource into Grafana`,
    fix: `Fix what its log says (kubectl logs -n ${pod.metadata?.namespace} ${podName} -c ${s.container}${previous ? ' --previous' : ''}); the container restarts by itself.`,
    evidence: errors.slice(-MAX_EVIDENCE).map((r) => `${where(pod, s.container, previous)}: ${recordText(r)}`),
  };
}

/**
 * Objects in the sidecar's namespaces that provision the datasource but do not carry its label
 * (or carry another value): the sidecar never sees them.
 */
async function unlabelledFinding(p: Probe, s: Sidecar): Promise<boolean> {
  const selector = sidecarSelector(s);
  const namespaces = s.namespaces === 'ALL' ? [undefined] : [...s.namespaces];
  const strays = (await provisioningObjects(p, namespaces, kindsOf(s))).filter((x) => !matchesSelector(x.labels, selector));
  const stray = strays.find((x) => chooseEntry(x.entries, p.wanted)) ?? strays.find((x) => x.entries.length);
  if (!stray) return false;
  const entry = chooseEntry(stray.entries, p.wanted) ?? stray.entries[0];
  const has = stray.labels[s.label];
  const labels = Object.entries(stray.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
  p.add({
    cause:
      has === undefined
        ? `${objectText(stray.object)} provisions "${entry?.ds.name}" but does not carry the sidecar's label ${selector}, so the sidecar ${s.container} does not copy it into Grafana`
        : `${objectText(stray.object)} provisions "${entry?.ds.name}" but is labelled ${s.label}=${has}, and the sidecar ${s.container} copies only ${selector}`,
    fix: `${p.profile.labelForSidecar(p.stack, stray.object, s)}${has === undefined ? '' : ` Add --overwrite to kubectl label: the label is there with the value "${has}".`}`,
    evidence: [`labels of ${objectText(stray.object)}: ${labels}`, `the sidecar ${s.container} copies ${kindsText(s)} labelled ${selector} in ${whereText(s)}`],
    target: { object: objectRef(stray.object), path: ['metadata', 'labels'] },
  });
  return true;
}

/** Where the sidecar writes an object's files: FOLDER, or the object's k8s-sidecar-target-directory annotation. */
function targetDir(s: Sidecar, c: Content): string {
  const annotation = c.annotations?.['k8s-sidecar-target-directory'];
  if (!annotation) return s.folder;
  return posix.isAbsolute(annotation) ? annotation : posix.join(s.folder, annotation);
}

/** Grafana's and the sidecar's lines about a failed reload (evidence for a refused provisioning). */
async function reloadEvidence(p: Probe, pod: V1Pod, s: Sidecar): Promise<string[]> {
  const records = (await sidecarRecords(p, pod, s, false)) ?? [];
  const failed = reloadCalls(records).filter((c) => c.outcome !== 'ok');
  const glog = await p.log("Grafana's logs not read", pod, p.container, LOG_LINES);
  const grafana = glog === REFUSED ? [] : glog.split('\n').filter((l) => /Failed to provision|provisioning\/datasources\/reload.*status=5\d\d|status=5\d\d.*provisioning\/datasources\/reload/.test(l));
  return [
    ...failed.slice(-2).map((c) => `${where(pod, s.container, false)}: ${recordText(c.record)}`),
    ...grafana.slice(-2).map((l) => `pod ${pod.metadata?.name}, container ${p.container}: ${clip(l.trim(), 300)}`),
  ];
}

/** The sidecar's REQ_USERNAME/REQ_PASSWORD, as the container's env gives them. */
function reloadCredentials(pod: V1Pod, s: Sidecar): string {
  const env = containerOf(pod, s.container)?.env ?? [];
  const ref = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
  const user = ref('REQ_USERNAME');
  const password = ref('REQ_PASSWORD');
  if (password?.name) return `REQ_USERNAME/REQ_PASSWORD from Secret ${pod.metadata?.namespace}/${password.name} (keys ${user?.key ?? '?'}, ${password.key})`;
  return env.some((e) => e.name === 'REQ_PASSWORD') ? 'REQ_USERNAME/REQ_PASSWORD' : 'no REQ_USERNAME/REQ_PASSWORD (an anonymous call)';
}

/** Walks the sidecar route's chain and adds a finding for its first broken link. */
export async function sidecarChain(p: Probe, s: Sidecar, mode: Mode, configUrlLink: (p: Probe, entry: Entry) => Promise<void>): Promise<void> {
  const route = p.route;
  if (!route) return;
  const { contents, unread } = await routeContent(p);
  const selector = sidecarSelector(s);

  // 1. The labelled objects provision the datasource.
  const chosen = chooseEntry(parseContents(contents).entries, p.wanted);
  if (!chosen && !unread && (await unlabelledFinding(p, s))) return;
  if (!contents.length) {
    if (unread) return;
    p.add({
      cause: `no ${s.resource === 'both' ? 'ConfigMap or Secret' : s.resource === 'secret' ? 'Secret' : 'ConfigMap'} labelled ${selector} in ${whereText(s)}: the datasource sidecar ${s.container} has nothing to copy into Grafana`,
      fix: p.profile.createDatasource(p.stack, route),
    });
    return;
  }
  const pod = await p.grafanaPod();
  const before = p.findings.length;
  const link = judgeContents(p, contents);
  if (link.status !== 'ok') {
    const f = p.findings[before];
    if (f && pod && /isDefault/.test(f.cause)) p.findings[before] = { ...f, evidence: [...(f.evidence ?? []), ...(await reloadEvidence(p, pod, s))].slice(0, MAX_EVIDENCE) };
    return;
  }
  if (mode === 'configmap') {
    await configUrlLink(p, link.entry);
    return;
  }
  if (!pod) return;
  const podName = pod.metadata?.name ?? '?';

  // 2. The sidecar runs.
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((x) => x.name === s.container);
  const finished = s.init && status?.state?.terminated?.exitCode === 0;
  if (status && !status.state?.running && !finished) {
    p.add(await sidecarCrashFinding(p, pod, status));
    return;
  }

  // 3. It may list and watch its objects.
  const records = (await sidecarRecords(p, pod, s, false)) ?? [];
  const refused = refusals(records);
  const denied = await deniedToSidecar(p, pod, s);
  if (refused.length || denied?.length) {
    p.add(rbacFinding(p, pod, s, denied ?? [], refused, false));
    return;
  }

  // 4. Grafana runs (a crash is explained by grafana-pod, never by remounting), and sees the files.
  if (!isRunning(pod, p.container)) {
    const f = await notRunningFinding(p, [pod]);
    if (f) p.add(f);
    else p.note(`the files inside the container not checked: the ${p.container} container of pod ${podName} does not run`);
    return;
  }
  const files = contents.flatMap((c) =>
    Object.keys(c.data)
      .filter((k) => /\.ya?ml$/i.test(k))
      .map((key) => ({ content: c, key, path: posix.join(targetDir(s, c), key) })),
  );
  for (const file of files) {
    const res = await p.exec('the files inside the container not checked', pod, p.container, ['cat', file.path]);
    if (!res) break;
    if (res.exitCode !== 0) {
      const last = records.filter((r) => /^(ERROR|WARNING|CRITICAL)$/i.test(r.level ?? '')).slice(-2);
      p.add({
        cause: `${file.path} is not in the ${p.container} container of pod ${podName}: the sidecar ${s.container} has not copied key ${file.key} of ${objectText(file.content.object)}`,
        fix: `Read the sidecar's log (kubectl logs -n ${pod.metadata?.namespace} ${podName} -c ${s.container}): it may watch other namespaces (NAMESPACE), or the object may have changed after its last sync; restarting the pod (${p.restart}) makes it list again.`,
        evidence: [`cat ${file.path}: ${(res.stderr || res.stdout).trim().split('\n')[0] || `exit code ${res.exitCode}`}`, ...last.map((r) => `${where(pod, s.container, false)}: ${recordText(r)}`)],
      });
      return;
    }
    if (res.stdout.trim() !== (file.content.data[file.key] ?? '').trim()) {
      p.add({
        cause: `${file.path} in pod ${podName} differs from key ${file.key} of ${objectText(file.content.object)}`,
        fix: `The sidecar ${s.container} has not copied the latest version (or stopped watching): read its log (kubectl logs -n ${pod.metadata?.namespace} ${podName} -c ${s.container}), or ${p.restart}.`,
      });
      return;
    }
  }

  // 5. Grafana provisioned without error, and accepted the sidecar's reload calls.
  const glog = await p.log("Grafana's logs not read", pod, p.container, LOG_LINES);
  const verdict = glog === REFUSED ? undefined : provisioningLog(glog, link.entry.ds.name);
  if (verdict?.errors.length) {
    const f = provisioningErrorFinding(p, verdict, link.parsed.entries, link.entry, `pod ${podName}, container ${p.container}`);
    p.add({ ...f, evidence: [...(f.evidence ?? []), ...(await reloadEvidence(p, pod, s))].slice(0, MAX_EVIDENCE) });
    return;
  }
  const written = writes(records).filter((w) => files.some((f) => f.path === w.path));
  const lastWrite = written[written.length - 1];
  const calls = reloadCalls(records).filter((c) => !lastWrite || lastWrite.record.time === undefined || c.record.time === undefined || c.record.time >= lastWrite.record.time);
  const refusedReload = calls.filter((c) => c.outcome === 'refused').pop();
  const okReload = calls.filter((c) => c.outcome === 'ok').pop();
  if (refusedReload && !okReload) {
    p.add({
      cause: `Grafana refused the sidecar ${s.container}'s reload call (HTTP ${refusedReload.status}): ${refusedReload.url} needs a Grafana server admin, so Grafana never loaded the copied datasource file`,
      fix: `The sidecar calls it with ${reloadCredentials(pod, s)}: they must be a Grafana server admin's, with basic auth enabled. Grafana applies GF_SECURITY_ADMIN_PASSWORD only when it creates its database: if the admin password was changed in Grafana since, put the current one in that Secret (or reset it: grafana cli admin reset-admin-password). Then ${p.restart}.`,
      evidence: [`${where(pod, s.container, false)}: ${recordText(refusedReload.record)}`],
    });
    return;
  }
  const failedReload = calls.filter((c) => c.outcome === 'failed' && c.status !== undefined).pop();
  if (failedReload && !okReload) {
    const grafanaError = glog === REFUSED ? undefined : glog.split('\n').filter((l) => /datasources\/reload/.test(l) && /status=5\d\d/.test(l)).map((l) => logfmtValue(l, 'error')).filter(Boolean).pop();
    p.add({
      cause: `Grafana answered the sidecar ${s.container}'s reload with HTTP ${failedReload.status}${grafanaError ? `: ${clip(grafanaError, 300)}` : ''}, so it does not have the datasources the sidecar copied`,
      fix: `Fix what Grafana's error says in the objects labelled ${selector}; the sidecar reloads again when they change (or ${p.restart}).`,
      evidence: [`${where(pod, s.container, false)}: ${recordText(failedReload.record)}`],
    });
    return;
  }
  if (mode !== 'listed') return;

  // 6. Everything is in place but Grafana does not list it.
  const name = link.entry.ds.name;
  if (verdict?.inserted.length || okReload) {
    p.add({
      cause: `Grafana ${okReload ? 'reloaded its datasources after the sidecar copied the file' : `provisioned "${name}" at start-up`} but does not list "${name}" to ${p.ctx.grafana.credential}`,
      fix: "Check the datasource's orgId in the provisioning file (the API lists only the current organization's datasources) and that this user or service account may read datasources (datasources:read).",
      evidence: [okReload ? `${where(pod, s.container, false)}: ${recordText(okReload.record)}` : `pod ${podName}: ${clip(verdict?.inserted[verdict.inserted.length - 1] ?? '', 300)}`],
      target: { object: objectRef(link.entry.object), path: ['data', link.entry.key] },
    });
    return;
  }
  const start = glog === REFUSED ? {} : lastStart(glog);
  const listening = start.listening ?? start.started;
  const listenAt = listening ? grafanaTime(listening) : undefined;
  const writeAt = lastWrite?.record.time;
  const late = listenAt !== undefined && writeAt !== undefined && writeAt > listenAt;
  const reloads = Boolean(containerOf(pod, s.container)?.env?.some((e) => e.name === 'REQ_URL'));
  const failedCalls = calls.filter((c) => c.outcome === 'failed');
  const file = lastWrite?.path ?? files[0]?.path ?? route.dir;
  p.add({
    cause: late
      ? `Grafana started before the sidecar ${s.container} copied ${file}, and no reload followed: Grafana provisions datasources only at start-up or on a reload, so it does not have "${name}"`
      : `Grafana does not list "${name}" although the sidecar ${s.container} copied ${file} into pod ${podName}, and no reload of Grafana's datasources followed`,
    fix: `${p.restart} now: Grafana provisions the file at start-up.${reloads ? '' : ` The sidecar has no REQ_URL (skipReload), so it never asks Grafana to reload.`} So that it does not happen again: ${sidecarRaceFix(p.profile, p.stack, s)}`,
    evidence: [
      ...(listening ? [`pod ${podName}, container ${p.container}: ${clip(listening.trim(), 300)}`] : []),
      ...(lastWrite ? [`${where(pod, s.container, false)}: ${recordText(lastWrite.record)}${lastWrite.record.time !== undefined ? ` at ${new Date(lastWrite.record.time).toISOString()}` : ''}`] : []),
      ...failedCalls.slice(-1).map((c) => `${where(pod, s.container, false)}: ${recordText(c.record)}`),
      records.length ? (reloads ? `no successful call to the reload URL in the sidecar's log after it wrote the file` : `container ${s.container} has no REQ_URL: it never calls Grafana's reload API`) : '',
    ],
  });
}

