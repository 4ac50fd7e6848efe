/**
 * `datasource-mounted`: the provisioning file reaches the running grafana container at the
 * provisioning directory, with the object's content. For a volume (ConfigMap, Secret, projected)
 * the pod spec must mount it there; for the datasource sidecar, the sidecar must run and the file
 * it copies must be in the grafana container. The file is read with `cat` through exec; when exec
 * is forbidden or the grafana container is not running (a crash loop), the pod spec decides,
 * with a warning — a crash-looping Grafana is not fixed by remounting anything.
 */
import { posix } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeError } from '../cluster.js';
import { parseProvisioning } from '../datasource.js';
import { grafanaRestart, profileOf } from '../stack/profiles/index.js';
import { mountedFiles, sidecarSelector, volumeObjects, type MountedFile } from '../stack/route.js';
import type { DatasourceRoute, GrafanaSite, Sidecar, SourceObject, Stack } from '../stack/types.js';
import type { CheckOutcome } from '../types.js';
import type { ClusterView } from '../view.js';
import { fail, need, pass, warn, type Check } from './check.js';
import { grafanaPodOf, objectText, readSources, type SourceRead } from './provisioning.js';

const YAML = /\.ya?ml$/i;

/** Why the grafana container cannot be read: not running (its state), or undefined when it runs. */
function notRunning(pod: V1Pod, container: string): string | undefined {
  if (pod.status?.phase !== 'Running') return `the pod is ${pod.status?.phase ?? 'not running'}`;
  const status = pod.status.containerStatuses?.find((s) => s.name === container);
  if (status && !status.state?.running) {
    const why = status.state?.waiting?.reason ?? status.state?.terminated?.reason ?? 'not running';
    return `the ${container} container is ${why}${status.restartCount ? ` (${status.restartCount} restarts)` : ''}`;
  }
  return undefined;
}

export const datasourceMounted: Check = {
  id: 'datasource-mounted',
  title: 'Datasource file mounted in Grafana',
  needs: ['cluster-access'],
  async run({ stack, view }) {
    const site = need(stack.grafana, 'grafana');
    if (!site.value) return site.outcome;
    const found = need(stack.datasource, 'datasource');
    if (!found.value) return found.outcome;
    const route = found.value;
    const grafana = site.value;
    const pod = await grafanaPodOf(view, stack);
    if (!pod) {
      return fail(`no Grafana pod matches ${grafana.workload.selector} in ${grafana.workload.namespace}`, 'Deploy Grafana, or set the grafana-selector input.', {
        code: 'pod.none',
        selector: grafana.workload.selector,
        namespace: grafana.workload.namespace,
      });
    }
    if (route.delivery === 'none') {
      return warn(
        `pod ${pod.metadata?.name} mounts nothing at ${route.dir}: no provisioning file reaches Grafana`,
        profileOf(stack.kind).createDatasource(stack, route),
        { code: 'mount.not-mounted', dir: route.dir },
      );
    }
    if (route.delivery === 'grafana-operator') {
      return pass(`no file to mount: ${route.description} deliver${route.objects.length === 1 ? 's' : ''} the datasource through Grafana's API`);
    }
    const sources = await readSources(view, route);
    if (route.delivery === 'sidecar' && route.sidecar) return viaSidecar(stack, view, grafana, route, route.sidecar, pod, sources.reads);
    return viaVolume(stack, view, grafana, route, pod, sources.reads);
  },
};

async function viaVolume(stack: Stack, view: ClusterView, grafana: GrafanaSite, route: DatasourceRoute, pod: V1Pod, reads: readonly SourceRead[]): Promise<CheckOutcome> {
  const profile = profileOf(stack.kind);
  const podName = pod.metadata?.name ?? '?';
  const dir = route.dir;
  const object = (reads.find((r) => r.state !== 'missing') ?? reads[0])?.object ?? route.objects[0];
  if (!object) return warn(`nothing to look for in pod ${podName}`, 'No provisioning object is known.', { code: 'mount.not-mounted', dir });
  const read = reads.find((r) => r.object === object);
  const same = (o: SourceObject) => o.kind === object.kind && o.name === object.name;
  const hasVolume = (pod.spec?.volumes ?? []).some((v) => volumeObjects(v, pod.metadata?.namespace ?? '').some(same));
  const keys = (o: SourceObject) => (same(o) && read ? Object.keys(read.data) : ['datasources.yaml']);
  const all = mountedFiles(pod, grafana.container, keys).filter((f) => f.object && same(f.object));
  if (read?.state === 'missing') {
    return fail(
      hasVolume
        ? `${objectText(object)} does not exist, yet pod ${podName} has a volume from it: the pod cannot start with it, and Grafana gets no datasource file`
        : `${objectText(object)} does not exist, and pod ${podName} does not mount it`,
      profile.createDatasource(stack, route),
      { code: 'mount.object-missing', object },
    );
  }
  if (!all.length) {
    return fail(
      hasVolume ? `pod ${podName} has a volume from ${objectText(object)} but the ${grafana.container} container does not mount it` : `pod ${podName} does not mount ${objectText(object)}: Grafana cannot see the datasource file`,
      `${profile.mountDatasource(stack, object)}\nIn the pod template:\n  volumeMounts: [{name: grafana-datasources, mountPath: ${dir}, readOnly: true}]\n  volumes: [{name: grafana-datasources, ${object.kind === 'Secret' ? `secret: {secretName: ${object.name}}` : `configMap: {name: ${object.name}}`}}]`,
      { code: 'mount.not-mounted', object, dir },
      { retryable: false },
    );
  }
  const files = all.filter((f) => posix.dirname(f.path) === dir && YAML.test(f.path));
  if (!files.length) {
    const seen = [...new Set(all.map((f) => posix.dirname(f.path)))];
    return fail(
      `pod ${podName} mounts ${objectText(object)} at ${seen.join(', ')}, not at ${dir}`,
      `Set mountPath: ${dir} on the ${grafana.container} container's volumeMount: Grafana provisions datasources only from that directory.`,
      { code: 'mount.wrong-dir', object, dir, seen },
      { retryable: false },
    );
  }
  const shown = files.map((f) => f.path).join(', ');
  const stopped = notRunning(pod, grafana.container);
  if (stopped) {
    return warn(
      `pod ${podName} mounts ${shown} per its spec; the file could not be read because ${stopped}`,
      'The mount is right in the pod spec; the file is checked inside the container once Grafana runs (see grafana-pod for why it does not).',
      { code: 'mount.spec-only', pod: podName, why: 'not-running' },
    );
  }
  return compareInContainer(view, pod, grafana.container, files.map((f) => ({ file: f, expected: f.key !== undefined ? read?.data[f.key] : undefined, object })), shown, grafanaRestart(stack), read?.state === 'forbidden' ? `${objectText(object)} could not be read` : undefined);
}

async function viaSidecar(stack: Stack, view: ClusterView, grafana: GrafanaSite, route: DatasourceRoute, sidecar: Sidecar, pod: V1Pod, reads: readonly SourceRead[]): Promise<CheckOutcome> {
  const podName = pod.metadata?.name ?? '?';
  const dir = route.dir;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === sidecar.container);
  const finished = sidecar.init && status?.state?.terminated?.exitCode === 0;
  if (status && !status.state?.running && !finished) {
    const why = status.state?.waiting?.reason ?? status.state?.terminated?.reason ?? 'not running';
    return fail(
      `the datasource sidecar ${sidecar.container} of pod ${podName} is ${why}${status.restartCount ? ` (${status.restartCount} restarts)` : ''}: nothing copies the datasource into Grafana`,
      `Read why: kubectl logs -n ${pod.metadata?.namespace} ${podName} -c ${sidecar.container}${status.restartCount ? ' --previous' : ''}.`,
      { code: 'mount.sidecar-down', pod: podName, container: sidecar.container },
    );
  }
  const ok = reads.filter((r) => r.state === 'ok');
  const expected = ok.flatMap((r) =>
    Object.keys(r.data)
      .filter((k) => YAML.test(k))
      .map((key) => ({ file: { container: grafana.container, path: posix.join(targetDir(sidecar, r), key), volume: '', object: r.object, key } as MountedFile, expected: r.data[key], object: r.object })),
  );
  const stopped = notRunning(pod, grafana.container);
  const what = expected.length ? expected.map((e) => e.file.path).join(', ') : `the files of the objects labelled ${sidecarSelector(sidecar)}`;
  if (stopped) {
    return warn(
      `pod ${podName} shares ${dir} with the datasource sidecar ${sidecar.container} per its spec; ${what} could not be read because ${stopped}`,
      'The sidecar route is right in the pod spec; the file is checked inside the container once Grafana runs (see grafana-pod for why it does not).',
      { code: 'mount.spec-only', pod: podName, why: 'not-running' },
    );
  }
  if (!expected.length) {
    return fail(
      `no object labelled ${sidecarSelector(sidecar)} is there to copy, so the sidecar ${sidecar.container} gives Grafana no datasource file in ${dir}`,
      'See datasource-configmap: create or label the datasource ConfigMap.',
      { code: 'mount.not-mounted', dir },
    );
  }
  return compareInContainer(view, pod, grafana.container, expected, what, grafanaRestart(stack), undefined, sidecar);
}

/** Where the sidecar writes an object's files: FOLDER, or the object's k8s-sidecar-target-directory annotation. */
function targetDir(sidecar: Sidecar, read: SourceRead): string {
  const annotation = read.annotations?.['k8s-sidecar-target-directory'];
  if (!annotation) return sidecar.folder;
  return posix.isAbsolute(annotation) ? annotation : posix.join(sidecar.folder, annotation);
}

/**
 * The datasources of the files, named, when Grafana lists every one of them as provisioned — with
 * the name and URL the object gives, read-only unless the file says `editable: true` (Grafana's
 * provisioning sets readOnly = !editable, pkg/services/provisioning/datasources/types.go) —
 * Grafana read these files at its last
 * provisioning, so they reached the container and its content is the object's — no need to read
 * them there. Undefined when that cannot be shown (content unknown, Grafana not answering, a
 * datasource missing or different): the files are then read in the container.
 */
async function listedAsProvisioned(view: ClusterView, files: readonly { file: MountedFile; expected: string | undefined }[]): Promise<string | undefined> {
  if (!files.length || files.some((f) => f.expected === undefined)) return undefined;
  const wanted = files.flatMap((f) => parseProvisioning({ [posix.basename(f.file.path)]: f.expected ?? '' }).flatMap((p) => (p.error ? [] : p.datasources)));
  if (!wanted.length) return undefined;
  const listed = await view.datasources().catch(() => undefined);
  if (!listed) return undefined;
  const all = wanted.every((w) => listed.some((d) => d.readOnly === !w.editable && d.name === w.name && d.url === w.url));
  return all ? wanted.map((w) => `"${w.name}"`).join(', ') : undefined;
}

/** Reads each file in the container and compares it with its object's key. */
async function compareInContainer(
  view: ClusterView,
  pod: V1Pod,
  container: string,
  files: readonly { file: MountedFile; expected: string | undefined; object: SourceObject }[],
  shown: string,
  restart: string,
  unread: string | undefined,
  sidecar?: Sidecar,
): Promise<CheckOutcome> {
  const podName = pod.metadata?.name ?? '?';
  const ns = pod.metadata?.namespace ?? '';
  const from = [...new Set(files.map((f) => objectText(f.object)))].join(', ');
  const listed = await listedAsProvisioned(view, files);
  if (listed) {
    return pass(`Grafana in pod ${podName} provisioned ${listed} from ${shown} (listed by its API with the name and URL of ${from})${sidecar ? `, copied by the sidecar ${sidecar.container}` : ''}`);
  }
  try {
    for (const { file, expected, object } of files) {
      const res = await view.exec(ns, podName, container, ['cat', file.path]);
      if (res.exitCode !== 0) {
        return fail(
          sidecar
            ? `${file.path} is not in the ${container} container of pod ${podName}: the sidecar ${sidecar.container} has not copied key ${file.key} of ${objectText(object)}`
            : `pod ${podName} should see ${file.path} per its spec, but cat says: ${res.stderr.trim() || `exit code ${res.exitCode}`}`,
          sidecar
            ? `Read the sidecar's log (kubectl logs -n ${ns} ${podName} -c ${sidecar.container}): it may lack RBAC to list ${objectText(object).split(' ')[0]}s, or watch another namespace or label.`
            : `The running pod predates the mount: recreate it with the volume (${restart}).`,
          { code: 'mount.file-missing', path: file.path, pod: podName },
        );
      }
      if (expected !== undefined && res.stdout.trim() !== expected.trim()) {
        return fail(
          `${file.path} in pod ${podName} differs from key ${file.key} of ${objectText(object)}`,
          sidecar ? 'The sidecar has not copied the latest version yet (or stopped watching): read its log.' : `The pod sees an older version of the object (the kubelet syncs a volume within about a minute, never a subPath mount), and Grafana provisions only at start-up: ${restart}.`,
          { code: 'mount.file-differs', path: file.path, pod: podName, object, key: file.key ?? '' },
        );
      }
    }
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    const why = err.status === 403 ? 'exec into the pod is forbidden' : err.message;
    return warn(
      `pod ${podName} ${sidecar ? `shares the provisioning directory with the sidecar ${sidecar.container}` : `mounts ${shown}`} per its spec; the file's content was not verified: ${why}`,
      err.status === 403
        ? `To verify the file inside the container, allow exec for the action's credentials:\n- apiGroups: [""]\n  resources: ["pods/exec"]\n  verbs: ["get", "create"]`
        : 'The pod spec is right; exec into the pod failed, so the file itself was not read.',
      { code: 'mount.spec-only', pod: podName, why: 'exec-forbidden' },
    );
  }
  return pass(`pod ${podName} sees ${shown}${unread ? ` (${unread}: content not compared)` : `, identical to ${from}`}${sidecar ? `, copied by the sidecar ${sidecar.container}` : ''}`);
}
