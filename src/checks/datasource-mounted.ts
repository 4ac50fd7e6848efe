/**
 * `datasource-mounted`: the Grafana pod mounts the ConfigMap at `datasource-mount-path`, and the
 * running container sees the file with the ConfigMap's content (read with `cat` through exec;
 * where exec is not allowed the pod spec decides, with a warning).
 */
import { posix } from 'node:path';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { KubeError, type Cluster } from '../cluster.js';
import { isReady } from '../endpoint.js';
import { fail, pass, warn, type Check } from './check.js';

interface MountedFile {
  readonly container: string;
  readonly path: string;
  readonly key: string;
}

/** The files a configMap volume puts into each container, per the pod spec. */
export function mountedFiles(pod: V1Pod, configMap: string, keys: readonly string[]): MountedFile[] {
  const volumes = (pod.spec?.volumes ?? []).filter((v) => v.configMap?.name === configMap);
  const files: MountedFile[] = [];
  for (const volume of volumes) {
    const items = volume.configMap?.items;
    const entries = items?.length ? items.map((i) => ({ key: i.key, path: i.path })) : keys.map((k) => ({ key: k, path: k }));
    for (const container of pod.spec?.containers ?? []) {
      for (const mount of container.volumeMounts ?? []) {
        if (mount.name !== volume.name) continue;
        if (mount.subPath) {
          const entry = entries.find((e) => e.path === mount.subPath);
          if (entry) files.push({ container: container.name, path: mount.mountPath, key: entry.key });
        } else {
          for (const e of entries) files.push({ container: container.name, path: posix.join(mount.mountPath, e.path), key: e.key });
        }
      }
    }
  }
  return files;
}

export const datasourceMounted: Check = {
  id: 'datasource-mounted',
  title: 'Datasource file mounted in Grafana',
  needs: ['cluster-access'],
  async run({ settings, cluster, signal }) {
    const ns = settings.namespace;
    const cmName = settings.datasourceConfigmap;
    const dir = posix.normalize(settings.datasourceMountPath).replace(/\/$/, '');
    const [pods, cm] = await Promise.all([cluster.listPods(ns, settings.grafanaSelector, signal), cluster.readConfigMap(ns, cmName, signal)]);
    if (!pods.length) return fail(`no Grafana pod matches ${settings.grafanaSelector} in ${ns}`, 'Deploy Grafana, or set the grafana-selector input.');
    const keys = Object.keys(cm?.data ?? {}).filter((k) => /\.ya?ml$/i.test(k));
    const pod = pods.find(isReady) ?? pods.find((p) => p.status?.phase === 'Running') ?? (pods[0] as V1Pod);
    const podName = pod.metadata?.name ?? '?';
    const all = mountedFiles(pod, cmName, keys);
    const files = all.filter((f) => posix.dirname(f.path) === dir && /\.ya?ml$/i.test(f.path));
    const hasVolume = (pod.spec?.volumes ?? []).some((v) => v.configMap?.name === cmName);
    if (!cm) {
      return fail(
        hasVolume
          ? `ConfigMap ${ns}/${cmName} does not exist, yet pod ${podName} has a volume from it: the pod cannot start with it, and Grafana gets no datasource file`
          : `ConfigMap ${ns}/${cmName} does not exist, and pod ${podName} does not mount it`,
        `Create the ConfigMap (TaskFlow: kubectl apply -f 20-grafana-datasource.yaml)${hasVolume ? '' : ` and mount it at ${dir} in the Grafana Deployment`}.`,
      );
    }
    if (!all.length) {
      return fail(
        hasVolume
          ? `pod ${podName} has a volume from ConfigMap ${cmName} but no container mounts it`
          : `pod ${podName} does not mount ConfigMap ${cmName}: Grafana cannot see the datasource file`,
        `In the Grafana Deployment add\n  volumeMounts: [{name: grafana-datasources, mountPath: ${dir}, readOnly: true}]\n  volumes: [{name: grafana-datasources, configMap: {name: ${cmName}}}]\nthen kubectl apply it; Grafana reads provisioning files at start-up.`,
        { retryable: false },
      );
    }
    if (!files.length) {
      const where = [...new Set(all.map((f) => posix.dirname(f.path)))].join(', ');
      return fail(
        `pod ${podName} mounts ConfigMap ${cmName} at ${where}, not at ${dir}${cm ? '' : ` (and the ConfigMap does not exist)`}`,
        `Set mountPath: ${dir} on the Grafana container's volumeMount: Grafana provisions datasources only from that directory.`,
        { retryable: false },
      );
    }
    const shown = files.map((f) => f.path).join(', ');
    if (pod.status?.phase !== 'Running') {
      return warn(`pod ${podName} mounts ${shown} per its spec; the file could not be read because the pod is ${pod.status?.phase ?? 'not running'}`, 'Once Grafana runs, the file is checked inside the container.');
    }
    return verifyInContainer(cluster, ns, podName, files, cm, signal);
  },
};

async function verifyInContainer(
  cluster: Cluster,
  ns: string,
  podName: string,
  files: readonly MountedFile[],
  cm: V1ConfigMap,
  signal: AbortSignal,
) {
  const shown = files.map((f) => f.path).join(', ');
  try {
    for (const file of files) {
      if (signal.aborted) break;
      const res = await cluster.exec(ns, podName, file.container, ['cat', file.path]);
      if (res.exitCode !== 0) {
        return fail(
          `pod ${podName} should see ${file.path} per its spec, but cat says: ${res.stderr.trim() || `exit code ${res.exitCode}`}`,
          'The running pod predates the mount: restart Grafana (kubectl rollout restart deployment/grafana) so it is recreated with the volume.',
        );
      }
      const expected = cm.data?.[file.key] ?? '';
      if (res.stdout.trim() !== expected.trim()) {
        return fail(
          `${file.path} in pod ${podName} differs from key ${file.key} of ConfigMap ${cmName(cm)}`,
          'The pod sees an older version of the ConfigMap, and Grafana provisions only at start-up: restart Grafana (kubectl rollout restart deployment/grafana).',
        );
      }
    }
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    const why = err.status === 403 ? 'exec into the pod is forbidden' : err.message;
    return warn(
      `pod ${podName} mounts ${shown} per its spec; the file's content was not verified: ${why}`,
      err.status === 403
        ? `To verify the file inside the container, allow exec for the action's credentials:\n- apiGroups: [""]\n  resources: ["pods/exec"]\n  verbs: ["get", "create"]`
        : 'The pod spec is right; exec into the pod failed, so the file itself was not read.',
    );
  }
  return pass(`pod ${podName} sees ${shown}, identical to ConfigMap ${cmName(cm)}`);
}

function cmName(cm: V1ConfigMap): string {
  return `${cm.metadata?.namespace ?? ''}/${cm.metadata?.name ?? ''}`;
}
